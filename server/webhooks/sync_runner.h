// Catch-up as WebhookService's handlers call it. Implemented in server/catchup; absent in stub
// mode.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "paybell/v1/webhook.pb.h"
#include "server/webhooks/event_ingestor.h"

namespace paybell::webhooks {

class SyncRunner {
 public:
  virtual ~SyncRunner() = default;
  // The counts so far and the stage ("paging", "ingesting"). May throw to abandon the run.
  using Progress = std::function<void(const v1::SyncEventsResponse&, std::string_view stage)>;
  // Throws common::Error (see catchup::EventSync::Run).
  virtual v1::SyncEventsResponse Sync(std::optional<int64_t> since, bool dry_run,
                                      const Actor& actor, const Progress& progress) = 0;
};

}  // namespace paybell::webhooks
