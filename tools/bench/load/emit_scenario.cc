#include "tools/bench/load/emit_scenario.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "paybell/v1/notification.grpc.pb.h"
#include "tools/bench/load/load_driver.h"
#include "tools/bench/load/slack_sink.h"
#include "tools/bench/load/tenants.h"
#include "tools/bench/load/throwaway_pki.h"

namespace paybell::bench {
namespace {

constexpr int kTriggerKinds = 5;
constexpr int kSettingsThreads = 8;

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("cannot find a free loopback port");
  return ntohs(address.sin_port);
}

// The Slack URL of one tenant: its own path, so the stand-in can count POSTs per tenant.
std::string SlackUrl(int port, const std::string& tenant) {
  return "https://127.0.0.1:" + std::to_string(port) + "/services/T" + tenant + "/Bbench/secret";
}

// Slack on (at the stand-in), email off, every trigger on: each Emit decides on Slack alone.
void ConfigureTenants(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                      const EmitOptions& options) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::string failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < kSettingsThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub =
          v1::NotificationService::NewStub(channels[static_cast<size_t>(t) % channels.size()]);
      for (int i = next.fetch_add(1); i < options.tenants; i = next.fetch_add(1)) {
        v1::UpdateSettingsRequest request;
        v1::NotificationSettings* settings = request.mutable_settings();
        settings->set_tenant_id(TenantId(options.tenant_prefix, i));
        settings->set_email_enabled(false);
        settings->set_slack_enabled(true);
        settings->set_slack_webhook_url(SlackUrl(options.sink_port, settings->tenant_id()));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        context.AddMetadata("authorization", "Bearer " + options.token);
        v1::NotificationSettings response;
        const grpc::Status status = stub->UpdateSettings(&context, request, &response);
        if (!status.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          failure = "UpdateSettings for " + settings->tenant_id() + ": " +
                    StatusCodeName(status.error_code()) + ": " + status.error_message();
          next = options.tenants;  // stop the others
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (!failure.empty()) throw std::runtime_error(failure);
}

// Emit number `sequence`: tenants round robin, the trigger kind turning once per lap, so one
// (tenant, trigger) pair comes back every 5 × tenants emits; every trigger fires (PSI above the
// default threshold) and carries the sequence's marker in a field its Slack message shows.
v1::EmitRequest EmitRequestFor(uint64_t sequence, const EmitOptions& options) {
  const uint64_t tenants = static_cast<uint64_t>(options.tenants);
  v1::EmitRequest request;
  request.set_tenant_id(TenantId(options.tenant_prefix, static_cast<int>(sequence % tenants)));
  const std::string marker = MessageMarker(sequence);
  switch ((sequence / tenants) % kTriggerKinds) {
    case 0: {
      v1::PsiDrift* e = request.mutable_psi_drift();
      e->set_model("model-" + marker);
      e->set_feature_set("invoices");
      e->set_psi(0.42);
      break;
    }
    case 1: {
      v1::LlmBudgetFallback* e = request.mutable_llm_budget_fallback();
      e->set_provider("openai");
      e->set_fallback_model("fallback-" + marker);
      e->set_budget_minor(10'000);
      e->set_spent_minor(10'250);
      e->set_currency("USD");
      break;
    }
    case 2: {
      v1::JournalImbalance* e = request.mutable_journal_imbalance();
      e->set_journal_entry_id("je-" + marker);
      e->set_imbalance_minor(125);
      e->set_currency("USD");
      break;
    }
    case 3: {
      v1::ExportCompleted* e = request.mutable_export_completed();
      e->set_export_id("exp-" + marker);
      e->set_kind("ledger_csv");
      e->set_download_url("https://exports.example.com/" + marker + ".csv");
      break;
    }
    default: {
      v1::ColdStartGraduated* e = request.mutable_cold_start_graduated();
      e->set_model("model-" + marker);
      e->set_samples(5'000);
      break;
    }
  }
  return request;
}

// What the Emit answers said, over every call.
struct Decisions {
  std::mutex mu;
  std::vector<uint64_t> queued;  // sequences whose Slack decision was QUEUED
  int64_t suppressed = 0;
  int64_t other = 0;  // disabled, unconfigured, below threshold: a misconfigured run
};

class EmitCall : public UnaryCall<v1::EmitResponse> {
 public:
  EmitCall(StartFn start, uint64_t sequence, Decisions& decisions)
      : UnaryCall(std::move(start)), sequence_(sequence), decisions_(decisions) {}
  void Completed() override {
    if (!status.ok()) return;
    for (const v1::ChannelDecision& decision : response.decisions()) {
      if (decision.channel() != v1::CHANNEL_SLACK) continue;
      std::lock_guard<std::mutex> lock(decisions_.mu);
      if (decision.decision() == v1::DECISION_QUEUED) {
        decisions_.queued.push_back(sequence_);
      } else if (decision.decision() == v1::DECISION_SUPPRESSED) {
        ++decisions_.suppressed;
      } else {
        ++decisions_.other;
      }
    }
  }

 private:
  uint64_t sequence_;
  Decisions& decisions_;
};

}  // namespace

nlohmann::json PrepareEmit(const std::string& tls_dir, int sink_port) {
  const PkiFiles pki = MakeThrowawayPki(tls_dir);
  const int port = sink_port != 0 ? sink_port : FreeLoopbackPort();
  return {{"sink_port", port},
          {"tls_dir", tls_dir},
          {"server_env",
           {{"SLACK_ALLOWED_HOSTS", "127.0.0.1:" + std::to_string(port)},
            {"PAYBELL_CA_FILE", pki.ca_file},
            {"PAYBELL_DEBOUNCE_S", "1"}}}};
}

nlohmann::json RunEmitScenario(const EmitOptions& options) {
  if (options.sink_port <= 0) throw std::runtime_error("--sink-port is required");
  SlackSink sink(PkiIn(options.tls_dir), options.sink_port);
  const auto channels = ConnectChannels(options.target, options.connections);
  ConfigureTenants(channels, options);

  std::vector<std::unique_ptr<v1::NotificationService::Stub>> stubs;
  for (const auto& channel : channels) stubs.push_back(v1::NotificationService::NewStub(channel));
  const std::string authorization = "Bearer " + options.token;
  std::atomic<uint64_t> next_sequence{0};
  Decisions decisions;
  CallFactory next_call = [&](size_t c) -> std::unique_ptr<PendingCall> {
    const uint64_t sequence = next_sequence.fetch_add(1);
    v1::NotificationService::Stub* stub = stubs[c].get();
    auto call = std::make_unique<EmitCall>(
        [stub, request = EmitRequestFor(sequence, options)](grpc::ClientContext* context,
                                                            grpc::CompletionQueue* cq) {
          return stub->AsyncEmit(context, request, cq);
        },
        sequence, decisions);
    call->context.AddMetadata("authorization", authorization);
    return call;
  };
  LoadOptions load;
  // --streams is the total in flight, spread over the channels.
  load.streams_per_channel = std::max(1, options.streams / options.connections);
  load.duration = options.duration;
  load.count_drain = true;  // every queued message is awaited at the sink
  LoadStats stats = RunLoad(channels.size(), load, next_call);

  // Every queued message must reach the stand-in; poll until it has or the deadline passes.
  const auto deadline = SteadyClock::now() + options.delivery_timeout;
  SlackSink::Deliveries deliveries = sink.Count(decisions.queued);
  while (deliveries.delivered < static_cast<int64_t>(decisions.queued.size()) &&
         SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    deliveries = sink.Count(decisions.queued);
  }
  const double delivery_span_s =
      std::chrono::duration<double>(deliveries.last - deliveries.first).count();

  nlohmann::json errors_by_code = nlohmann::json::object();
  for (const auto& [code, count] : stats.errors_by_code) errors_by_code[code] = count;
  return {
      {"scenario", "emit"},
      {"decisions", stats.ok},
      {"queued", decisions.queued.size()},
      {"suppressed", decisions.suppressed},
      {"not_queued_other", decisions.other},
      {"decisions_per_s", static_cast<double>(stats.ok) / stats.duration_s},
      {"p50_ms", stats.Percentile(0.50)},
      {"p99_ms", stats.Percentile(0.99)},
      {"delivered", deliveries.delivered},
      {"deliveries_per_s",
       delivery_span_s > 0 ? static_cast<double>(deliveries.delivered - 1) / delivery_span_s : 0.0},
      {"errors", stats.errors()},
      {"errors_by_code", errors_by_code},
      {"sink_posts", sink.posts()},
      {"sink_tenants", sink.paths()},
      {"duration_s", stats.duration_s}};
}

}  // namespace paybell::bench
