// One complete Paybell server: database, migrations, secrets, services, gRPC server. Used by
// main.cc and by in-process tests, so both run exactly the same wiring.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "db/job_lock.h"
#include "db/soci_database.h"
#include "server/auth/grpc_auth.h"
#include "server/auth/jwt.h"
#include "server/billing/billing_service.h"
#include "server/catchup/catch_up_jobs.h"
#include "server/catchup/runners.h"
#include "server/common/clock.h"
#include "server/common/config.h"
#include "server/notifications/delivery.h"
#include "server/notifications/dispatcher.h"
#include "server/notifications/emitter.h"
#include "server/notifications/notification_service.h"
#include "server/notifications/outbox_notifications.h"
#include "server/sessions/browser_sessions.h"
#include "server/sessions/login_token.h"
#include "server/sessions/session_checker.h"
#include "server/sessions/session_service.h"
#include "server/stripe/stripe_client.h"
#include "server/webhooks/event_ingestor.h"
#include "server/webhooks/webhook_service.h"

namespace paybell::app {

class ServerApp {
 public:
  // Prepares everything that can fail before serving: data directory, JWT secret, database
  // connections and migrations. Throws common::Error / std::runtime_error with a message fit
  // for the operator (never a secret).
  ServerApp(common::Config config, const common::Clock& clock);
  ~ServerApp();

  // Starts serving gRPC; throws when the address cannot be bound. The HTTP adapter is wired
  // beside it where the binary is assembled (app/embedded_server.h).
  void Start();
  // Sets the base of the links the server makes (config().app_url). Only before Start(): the
  // services read the configuration without locks once they run.
  void SetAppUrl(std::string app_url);
  // Whether the database answers now (/readyz).
  bool DatabaseReachable();
  // The bound gRPC port (the OS's choice when the configured port is 0).
  int grpc_port() const { return grpc_port_; }
  std::string grpc_address() const;
  // A channel to this server without the network (the embedded adapter, tests).
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Marks health NOT_SERVING, stops accepting gRPC calls, and waits up
  // to `drain` for in-flight calls to finish before cancelling them.
  void Shutdown(std::chrono::milliseconds drain);

  const common::Config& config() const { return config_; }
  db::Database& database() { return *database_; }

 private:
  common::Config config_;
  const common::Clock& clock_;
  std::string jwt_secret_;
  std::unique_ptr<db::SociDatabase> database_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
  std::unique_ptr<sessions::DatabaseSessionChecker> session_checker_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<sessions::LoginTokenVerifier> login_tokens_;
  std::unique_ptr<sessions::BrowserSessions> browser_sessions_;
  std::unique_ptr<notifications::EmailTransport> email_;  // null without SMTP_URL
  std::unique_ptr<notifications::SlackTransport> slack_;
  std::unique_ptr<notifications::Emitter> emitter_;
  std::unique_ptr<notifications::Dispatcher> dispatcher_;
  std::unique_ptr<notifications::OutboxBillingNotifications> billing_notifications_;
  std::unique_ptr<webhooks::EventIngestor> ingestor_;
  std::unique_ptr<stripe::CurlStripeClient> stripe_;  // null in stub mode
  // Catch-up and reconcile: all null in stub mode.
  std::unique_ptr<catchup::EventSync> event_sync_;
  std::unique_ptr<catchup::Reconciler> reconciler_;
  std::unique_ptr<catchup::CatchUpRunners> catch_up_runners_;
  std::unique_ptr<db::JobLock> job_lock_;
  std::unique_ptr<catchup::CatchUpJobs> catch_up_jobs_;
  std::unique_ptr<billing::CheckoutService> checkout_;
  std::unique_ptr<billing::BillingServiceImpl> billing_;
  std::unique_ptr<webhooks::WebhookServiceImpl> webhooks_;
  std::unique_ptr<notifications::NotificationServiceImpl> notifications_;
  std::unique_ptr<sessions::SessionServiceImpl> sessions_;
  std::unique_ptr<grpc::Server> server_;
  // Keeps grpc.health.v1 in step with the database: NOT_SERVING while it is unreachable.
  void WatchDatabase();
  std::thread health_watcher_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  int grpc_port_ = 0;
};

}  // namespace paybell::app
