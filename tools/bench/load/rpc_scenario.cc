#include "tools/bench/load/rpc_scenario.h"

#include <atomic>

#include "grpc/health/v1/health.grpc.pb.h"
#include "paybell/v1/billing.grpc.pb.h"
#include "tools/bench/load/load_driver.h"
#include "tools/bench/load/tenants.h"

namespace paybell::bench {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

nlohmann::json RunRpcScenario(const RpcOptions& options) {
  const auto channels = ConnectChannels(options.target, options.connections);
  std::vector<std::unique_ptr<v1::BillingService::Stub>> billing;
  std::vector<std::unique_ptr<Health::Stub>> health;
  for (const auto& channel : channels) {
    billing.push_back(v1::BillingService::NewStub(channel));
    health.push_back(Health::NewStub(channel));
  }
  const std::string authorization = "Bearer " + options.token;
  const bool check_health = options.method == "health";
  std::atomic<uint64_t> next_tenant{0};

  CallFactory next_call = [&](size_t c) -> std::unique_ptr<PendingCall> {
    if (check_health) {
      Health::Stub* stub = health[c].get();
      return std::make_unique<UnaryCall<HealthCheckResponse>>(
          [stub](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
            return stub->AsyncCheck(context, HealthCheckRequest(), cq);
          });
    }
    v1::GetSubscriptionRequest request;
    request.set_tenant_id(TenantId(
        options.tenant_prefix,
        static_cast<int>(next_tenant.fetch_add(1) % static_cast<uint64_t>(options.tenants))));
    v1::BillingService::Stub* stub = billing[c].get();
    auto call = std::make_unique<UnaryCall<v1::Subscription>>(
        [stub, request](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
          return stub->AsyncGetSubscription(context, request, cq);
        });
    call->context.AddMetadata("authorization", authorization);
    return call;
  };

  LoadOptions load;
  load.streams_per_channel = options.streams;
  load.warmup = options.warmup;
  load.duration = options.duration;
  LoadStats stats = RunLoad(channels.size(), load, next_call);

  nlohmann::json errors_by_code = nlohmann::json::object();
  for (const auto& [code, count] : stats.errors_by_code) errors_by_code[code] = count;
  return {{"scenario", options.method},
          {"calls", stats.calls},
          {"ok", stats.ok},
          {"errors", stats.errors()},
          {"errors_by_code", errors_by_code},
          {"rps", static_cast<double>(stats.ok) / stats.duration_s},
          {"p50_ms", stats.Percentile(0.50)},
          {"p99_ms", stats.Percentile(0.99)},
          {"duration_s", stats.duration_s}};
}

}  // namespace paybell::bench
