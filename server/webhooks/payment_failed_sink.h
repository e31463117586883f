// The seam between webhook application and notifications: where a failed payment is handed
// over, inside the webhook's transaction, so the notification is queued exactly when the event
// is stored and never twice.
#pragma once

#include <string>

#include "db/unit_of_work.h"
#include "server/webhooks/stripe_event.h"

namespace paybell::webhooks {

class PaymentFailedSink {
 public:
  virtual ~PaymentFailedSink() = default;
  // Called for an applied invoice.payment_failed event, inside its unit of work (the outbox row
  // it writes commits or rolls back with the event). An operator's
  // replay calls it again for the same event: implementations dedupe by event id (the outbox's
  // notification_log.dedupe_key is unique for this).
  virtual void OnPaymentFailed(db::UnitOfWork& unit, const std::string& tenant_id,
                               const StripeEvent& event) = 0;
};

// Until the notification outbox exists (notifications issue), failed payments are logged and
// visible as applied invoice.payment_failed events (ListEvents); nothing is queued.
class LogOnlyPaymentFailedSink final : public PaymentFailedSink {
 public:
  void OnPaymentFailed(db::UnitOfWork& unit, const std::string& tenant_id,
                       const StripeEvent& event) override;
};

}  // namespace paybell::webhooks
