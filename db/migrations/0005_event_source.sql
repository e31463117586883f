-- Paybell schema, version 5: where a stored Stripe event came from (issue 12).

-- 'webhook': Stripe delivered it to the endpoint; 'sync': catch-up fetched it from Stripe's
-- GET /v1/events because the delivery never came (or has not come yet). Either way it is stored
-- once (the event_id key) and applied by the same rules.
ALTER TABLE billing_events ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook'
  CHECK (source IN ('webhook', 'sync'));
