// Billing triggers raised by applied Stripe events go into the notification outbox, in the
// event's own transaction (webhooks::BillingNotifications backed by the Emitter).
#pragma once

#include "server/common/clock.h"
#include "server/notifications/emitter.h"
#include "server/webhooks/billing_notifications.h"

namespace paybell::notifications {

class OutboxBillingNotifications final : public webhooks::BillingNotifications {
 public:
  OutboxBillingNotifications(Emitter& emitter, const common::Clock& clock)
      : emitter_(emitter), clock_(clock) {}

  // Once per Stripe event and channel (the Emitter's dedupe key), so a replay sends nothing new.
  void Raise(db::UnitOfWork& unit, const std::string& tenant_id,
             const domain::TriggerEvent& trigger, const std::string& stripe_event_id) override {
    emitter_.Emit(unit, tenant_id, trigger, clock_.NowUnix(), stripe_event_id);
  }

 private:
  Emitter& emitter_;
  const common::Clock& clock_;
};

}  // namespace paybell::notifications
