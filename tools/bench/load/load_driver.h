// The async gRPC load engine shared by the bench scenarios: several channels, a fixed number of
// calls in flight per channel (each re-issued as it completes), one completion queue polled by
// one or two threads, and what every completed call cost.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace paybell::bench {

using SteadyClock = std::chrono::steady_clock;

// One call in flight. A scenario derives from it, starts the RPC in Begin() with `this` as the
// completion tag, and reads its answer in Completed() (called once, on a polling thread).
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  virtual void Begin(grpc::CompletionQueue* cq) = 0;
  virtual void Completed() {}

  grpc::ClientContext context;
  grpc::Status status;
  SteadyClock::time_point started;
  size_t channel_index = 0;
};

// A unary call through one generated Async* stub method, e.g.
// `UnaryCall<HealthCheckResponse>(... [&](auto* ctx, auto* cq) { return stub->AsyncCheck(...); })`.
template <class Response>
class UnaryCall : public PendingCall {
 public:
  using Reader = grpc::ClientAsyncResponseReader<Response>;
  using StartFn =
      std::function<std::unique_ptr<Reader>(grpc::ClientContext*, grpc::CompletionQueue*)>;
  explicit UnaryCall(StartFn start) : start_(std::move(start)) {}
  void Begin(grpc::CompletionQueue* cq) override {
    reader_ = start_(&context, cq);
    reader_->Finish(&response, &status, this);
  }
  Response response;

 private:
  StartFn start_;
  std::unique_ptr<Reader> reader_;
};

// What a run measured; merged over the polling threads.
struct LoadStats {
  int64_t calls = 0;  // completed inside the measured window
  int64_t ok = 0;
  std::map<std::string, int64_t> errors_by_code;  // gRPC code name → count
  std::vector<float> latencies_ms;                // of every call counted above
  double duration_s = 0;                          // the measured window
  SteadyClock::time_point last_completion{};

  int64_t errors() const { return calls - ok; }
  // The q-quantile (0..1) of latencies_ms, nearest rank; 0 with no calls. Reorders the vector.
  double Percentile(double q);
};

struct LoadOptions {
  int streams_per_channel = 32;
  std::chrono::milliseconds warmup{0};
  std::chrono::milliseconds duration{10'000};
  std::chrono::milliseconds call_timeout{10'000};
  int polling_threads = 2;
  // Count the calls still in flight when the duration ends too (the window then closes at the
  // last completion): a scenario that must account for every call it made sets this.
  bool count_drain = false;
};

// Makes the next call for a channel (not yet begun); the driver sets its deadline and begins it.
using CallFactory = std::function<std::unique_ptr<PendingCall>(size_t channel_index)>;

// Runs calls until warm-up plus duration have passed, then waits for the calls in flight.
// Calls completing inside the measured window (after warm-up) are counted; Completed() runs for
// every call.
LoadStats RunLoad(size_t channels, const LoadOptions& options, const CallFactory& next_call);

// `count` channels to `target` that share no connection (a distinct channel argument each, and
// a local subchannel pool), each connected before this returns; throws std::runtime_error
// naming the target when one cannot connect within `connect_timeout`.
std::vector<std::shared_ptr<grpc::Channel>> ConnectChannels(
    const std::string& target, int count,
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));

// "UNAVAILABLE", "NOT_FOUND", …
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace paybell::bench
