// The seam between webhook application and notifications: where a billing trigger (a failed
// payment, a payment the bank wants confirmed, a trial about to end) is handed over, inside the
// webhook's transaction, so its outbox rows commit exactly when the event's effects do.
#pragma once

#include <string>

#include "db/unit_of_work.h"
#include "server/domain/notification.h"

namespace paybell::webhooks {

class BillingNotifications {
 public:
  virtual ~BillingNotifications() = default;
  // Called for an applied event that raises `trigger`, inside its unit of work. An operator's
  // replay calls it again for the same event: implementations notify once per
  // `stripe_event_id` (notification_log.dedupe_key is unique for this).
  virtual void Raise(db::UnitOfWork& unit, const std::string& tenant_id,
                     const domain::TriggerEvent& trigger, const std::string& stripe_event_id) = 0;
};

}  // namespace paybell::webhooks
