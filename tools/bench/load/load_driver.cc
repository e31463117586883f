#include "tools/bench/load/load_driver.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace paybell::bench {

double LoadStats::Percentile(double q) {
  if (latencies_ms.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(latencies_ms.size())));
  const size_t index = std::min(latencies_ms.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(latencies_ms.begin(), latencies_ms.begin() + static_cast<ptrdiff_t>(index),
                   latencies_ms.end());
  return latencies_ms[index];
}

LoadStats RunLoad(size_t channels, const LoadOptions& options, const CallFactory& next_call) {
  grpc::CompletionQueue cq;
  const SteadyClock::time_point measure_from = SteadyClock::now() + options.warmup;
  const SteadyClock::time_point stop_at = measure_from + options.duration;
  // Calls begun and not yet handled. A completion re-issues before it counts itself out, so
  // this reaches zero only once nothing will be issued again.
  std::atomic<int64_t> in_flight{0};

  auto begin = [&](size_t channel_index) {
    std::unique_ptr<PendingCall> call = next_call(channel_index);
    call->channel_index = channel_index;
    call->context.set_deadline(std::chrono::system_clock::now() + options.call_timeout);
    call->started = SteadyClock::now();
    in_flight.fetch_add(1);
    call.release()->Begin(&cq);  // owned by the completion queue until its tag comes back
  };
  for (size_t c = 0; c < channels; ++c) {
    for (int s = 0; s < options.streams_per_channel; ++s) begin(c);
  }

  const int thread_count = std::max(1, options.polling_threads);
  std::vector<LoadStats> per_thread(static_cast<size_t>(thread_count));
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      LoadStats& stats = per_thread[static_cast<size_t>(t)];
      void* tag = nullptr;
      bool ok = false;
      while (cq.Next(&tag, &ok)) {
        std::unique_ptr<PendingCall> call(static_cast<PendingCall*>(tag));
        const SteadyClock::time_point now = SteadyClock::now();
        call->Completed();
        if (now >= measure_from && (now < stop_at || options.count_drain)) {
          stats.last_completion = std::max(stats.last_completion, now);
          ++stats.calls;
          if (call->status.ok()) {
            ++stats.ok;
          } else {
            ++stats.errors_by_code[StatusCodeName(call->status.error_code())];
          }
          stats.latencies_ms.push_back(
              std::chrono::duration<float, std::milli>(now - call->started).count());
        }
        if (now < stop_at) begin(call->channel_index);
        if (in_flight.fetch_sub(1) == 1) cq.Shutdown();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  LoadStats total;
  for (LoadStats& stats : per_thread) {
    total.last_completion = std::max(total.last_completion, stats.last_completion);
    total.calls += stats.calls;
    total.ok += stats.ok;
    for (const auto& [code, count] : stats.errors_by_code) total.errors_by_code[code] += count;
    total.latencies_ms.insert(total.latencies_ms.end(), stats.latencies_ms.begin(),
                              stats.latencies_ms.end());
  }
  total.duration_s = std::chrono::duration<double>(options.duration).count();
  if (options.count_drain && total.last_completion > stop_at) {
    total.duration_s = std::chrono::duration<double>(total.last_completion - measure_from).count();
  }
  return total;
}

std::vector<std::shared_ptr<grpc::Channel>> ConnectChannels(
    const std::string& target, int count, std::chrono::milliseconds connect_timeout) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  const auto deadline = std::chrono::system_clock::now() + connect_timeout;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    // gRPC shares a subchannel (one connection) between channels with equal arguments; a
    // distinct value per channel and a local pool give each channel its own connection.
    args.SetInt("paybell.bench.channel", i);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(deadline)) {
      throw std::runtime_error("cannot connect to " + target + " (channel " + std::to_string(i) +
                               ")");
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

}  // namespace paybell::bench
