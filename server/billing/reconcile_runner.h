// Reconcile as BillingService's handlers call it. Implemented in server/catchup (which builds on
// the webhook ingestion, so billing cannot depend on it); absent in stub mode.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "paybell/v1/billing.pb.h"

namespace paybell::billing {

struct ReconcileCaller {
  std::string name;  // token "sub"
  std::string role;
  std::string request_id;
};

class ReconcileRunner {
 public:
  virtual ~ReconcileRunner() = default;
  // The counts so far and the stage ("paging", "comparing", "retrying events"). May throw to
  // abandon the run (the caller went away).
  using Progress =
      std::function<void(const v1::ReconcileSubscriptionsResponse&, std::string_view stage)>;
  // Throws common::Error (see catchup::Reconciler::Run).
  virtual v1::ReconcileSubscriptionsResponse Reconcile(const std::string& tenant_id, bool dry_run,
                                                       const ReconcileCaller& caller,
                                                       const Progress& progress) = 0;
};

}  // namespace paybell::billing
