-- Stripe catch-up cursor (issue 12).
-- How far a completed catch-up has covered Stripe's event list: the time (Paybell's clock) its
-- paging began, so the next run starts there less a margin, however long the server was down
-- and whatever webhooks arrived since. One row; it only moves forward.
CREATE TABLE stripe_sync_state (
  id                     INTEGER PRIMARY KEY CHECK (id = 1),
  covered_until          BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL
);
