#include "server/app/server_app.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "db/migrations.h"
#include "server/auth/secret_file.h"
#include "server/common/error.h"
#include "server/common/limits.h"
#include "server/notifications/slack_transport.h"
#include "server/notifications/smtp_transport.h"

namespace paybell::app {
namespace {

constexpr size_t kSqlitePoolSize = 4;
// PostgreSQL: the GetSubscription readers (4), the Emit (4) and webhook (2) group-commit
// writers, the dispatcher's claimers (2), and the synchronous handlers (checkout, sessions,
// operators, the health check's ping) each want one at times; 16 lets none starve another.
constexpr size_t kPostgresPoolSize = 16;

// Threads that run GetSubscription's reads (billing_service.h), each holding one pooled
// connection while it reads.
//
// Why a queue and a few readers rather than the synchronous server: there each call holds a
// thread while it waits for a connection, so the 128 reads a few busy clients keep in flight
// need 128 threads. Past kMaxGrpcServerThreads gRPC refuses the rest (RESOURCE_EXHAUSTED to
// callers doing nothing wrong); raising the cap to fit them buys threads that only wait on the
// pool's lock and cost a context switch per call on two cores, and the cap would still have to
// sit somewhere. A bigger pool does not read faster either: the database and Paybell share the
// same two cores. With the callback API a waiting call costs a queue entry; the queue is bounded
// (kMaxQueuedSubscriptionReads) so overload is still refused at once, and the thread count is
// fixed. Readers: SQLite reads run in this process and are CPU-bound, so one per core;
// PostgreSQL reads mostly wait for a round trip, so more, still a quarter of the pool, so a read
// flood cannot starve the writers (webhooks, Emit, checkout).
constexpr size_t kSqliteReaders = 2;
constexpr size_t kPostgresReaders = 4;

void EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    // Created now: it will hold the database and the generated secret, so others keep out.
    chmod(dir.c_str(), 0700);
  }
  if (ec) throw std::runtime_error("PAYBELL_DATA_DIR: cannot create " + dir + ": " + ec.message());
}

}  // namespace

ServerApp::ServerApp(common::Config config, const common::Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  EnsureDataDir(config_.data_dir);
  if (config_.jwt_secret) {
    jwt_secret_ = *config_.jwt_secret;
  } else {
    const std::string path = config_.data_dir + "/jwt-secret";
    jwt_secret_ = auth::LoadOrCreateSecretFile(path);
    spdlog::info("PAYBELL_JWT_SECRET is unset; using the secret in {}", path);
  }

  const bool sqlite = config_.database.kind == common::DatabaseKind::kSqlite;
  database_ = std::make_unique<db::SociDatabase>(config_.database,
                                                 sqlite ? kSqlitePoolSize : kPostgresPoolSize);
  const auto report =
      db::ApplyMigrations(database_->pool(), db::BuiltinMigrations(), clock_.NowUnix());
  spdlog::info("database schema at version {} ({} migration(s) applied now)",
               report.current_version, report.applied.size());

  verifier_ = std::make_unique<auth::JwtVerifier>(jwt_secret_, clock_);
  session_checker_ = std::make_unique<sessions::DatabaseSessionChecker>(*database_);
  authenticator_ = std::make_unique<auth::Authenticator>(*verifier_, *session_checker_, clock_);
  login_tokens_ = std::make_unique<sessions::LoginTokenVerifier>(*verifier_, clock_);
  browser_sessions_ =
      std::make_unique<sessions::BrowserSessions>(*database_, *login_tokens_, jwt_secret_, clock_);
  sessions_ = std::make_unique<sessions::SessionServiceImpl>(*authenticator_, *browser_sessions_);
  if (!config_.stripe_stub_mode()) {
    stripe::StripeClientOptions options;
    options.api_base = config_.stripe_api_base;
    options.secret_key = *config_.stripe_secret_key;
    options.extra_ca_file = config_.ca_file;
    stripe_ = std::make_unique<stripe::CurlStripeClient>(options);
  }
  checkout_ =
      std::make_unique<billing::CheckoutService>(*database_, config_, clock_, stripe_.get());
  if (config_.smtp) {
    notifications::SmtpTransportOptions smtp;
    smtp.smtp = *config_.smtp;
    smtp.ca_file = config_.ca_file;
    email_ = std::make_unique<notifications::SmtpTransport>(smtp);
  }
  notifications::SlackTransportOptions slack;
  slack.allowed_hosts = config_.slack_allowed_hosts;
  slack.ca_file = config_.ca_file;
  slack_ = std::make_unique<notifications::SlackWebhookTransport>(slack);
  emitter_ = std::make_unique<notifications::Emitter>(config_, email_ != nullptr);
  dispatcher_ = std::make_unique<notifications::Dispatcher>(*database_, config_, clock_, *emitter_,
                                                            email_.get(), *slack_);
  billing_notifications_ =
      std::make_unique<notifications::OutboxBillingNotifications>(*emitter_, clock_);
  ingestor_ = std::make_unique<webhooks::EventIngestor>(*database_, config_, clock_,
                                                        *billing_notifications_);
  if (stripe_) {
    event_sync_ = std::make_unique<catchup::EventSync>(*stripe_, *ingestor_, *database_, clock_);
    reconciler_ = std::make_unique<catchup::Reconciler>(
        *stripe_, *ingestor_, *database_,
        webhooks::PlanPrices{config_.stripe_price_starter, config_.stripe_price_pro,
                             config_.stripe_price_firm},
        clock_);
    catch_up_runners_ = std::make_unique<catchup::CatchUpRunners>(*event_sync_, *reconciler_);
    job_lock_ = std::make_unique<db::JobLock>(config_.database);
    catchup::Schedule schedule;
    schedule.sync_interval = std::chrono::seconds(config_.sync_interval_s);
    schedule.reconcile_interval = std::chrono::seconds(config_.reconcile_interval_s);
    catch_up_jobs_ = std::make_unique<catchup::CatchUpJobs>(*event_sync_, *reconciler_, *job_lock_,
                                                            *database_, clock_, schedule);
  }
  billing_ = std::make_unique<billing::BillingServiceImpl>(
      *authenticator_, *database_, *checkout_, config_, sqlite ? kSqliteReaders : kPostgresReaders,
      catch_up_runners_.get());
  webhooks_ = std::make_unique<webhooks::WebhookServiceImpl>(*authenticator_, *ingestor_,
                                                             *database_, catch_up_runners_.get());
  notifications_ = std::make_unique<notifications::NotificationServiceImpl>(
      *authenticator_, *database_, config_, clock_, *emitter_, *dispatcher_);
}

ServerApp::~ServerApp() {
  if (server_) Shutdown(std::chrono::milliseconds(0));
}

void ServerApp::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.grpc_listen, grpc::InsecureServerCredentials(), &grpc_port_);
  builder.SetMaxReceiveMessageSize(common::kMaxGrpcRequestBytes);
  // gRPC's synchronous server runs each call on a thread of its own and starts another whenever
  // none is left waiting for work, without limit unless a resource quota caps them. At the cap,
  // the thread left waiting answers further calls RESOURCE_EXHAUSTED at once ("Server Threadpool
  // Exhausted") instead of starting one more. MAX_POLLERS (2 by default) does not cap anything: it
  // is how many idle threads stay waiting; the others end once their call is done.
  grpc::ResourceQuota quota("paybell-grpc-server");
  quota.SetMaxThreads(common::kMaxGrpcServerThreads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(billing_.get());
  builder.RegisterService(webhooks_.get());
  builder.RegisterService(notifications_.get());
  builder.RegisterService(sessions_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || grpc_port_ == 0) {
    server_.reset();
    throw std::runtime_error("PAYBELL_GRPC_LISTEN: cannot listen on " + config_.grpc_listen +
                             " (address in use or not local?)");
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  health_watcher_ = std::thread([this] { WatchDatabase(); });
  dispatcher_->Start();
  if (catch_up_jobs_) catch_up_jobs_->Start();
}

void ServerApp::SetAppUrl(std::string app_url) {
  if (server_) throw std::logic_error("SetAppUrl after Start");
  config_.app_url = std::move(app_url);
}

bool ServerApp::DatabaseReachable() { return database_->Ping(); }

void ServerApp::WatchDatabase() {
  // Short enough that health follows a database restart within a few seconds.
  constexpr auto kInterval = std::chrono::seconds(1);
  bool serving = true;
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, kInterval, [this] { return stopping_; })) {
    lock.unlock();
    const bool reachable = database_->Ping();
    if (reachable != serving) {
      serving = reachable;
      server_->GetHealthCheckService()->SetServingStatus(serving);
      if (serving) {
        spdlog::info("database reachable again: health SERVING");
      } else {
        spdlog::error("database unreachable: health NOT_SERVING");
      }
    }
    lock.lock();
  }
}

std::string ServerApp::grpc_address() const {
  const std::string& listen = config_.grpc_listen;
  return listen.substr(0, listen.rfind(':')) + ":" + std::to_string(grpc_port_);
}

std::shared_ptr<grpc::Channel> ServerApp::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void ServerApp::Shutdown(std::chrono::milliseconds drain) {
  if (!server_) return;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (health_watcher_.joinable()) health_watcher_.join();
  // Catch-up and reconcile runs (scheduled or an operator's) stop at their next step.
  if (catch_up_runners_) catch_up_runners_->Stop();
  if (catch_up_jobs_) catch_up_jobs_->Stop();
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + drain);
  server_->Wait();
  // No call can queue more now; sends in flight finish, unsent claims return when their lease
  // expires (another replica, or this one after a restart, sends them).
  dispatcher_->Stop();
  server_.reset();
}

}  // namespace paybell::app
