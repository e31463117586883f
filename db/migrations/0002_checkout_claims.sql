-- Paybell schema, version 2: one checkout at a time per tenant.
--
-- A request starting a checkout takes the tenant's claim (a short lease) before it lists the
-- open sessions, asks Stripe for a new one and records it, and gives it back after. A claim
-- whose holder died expires at claimed_until, so nothing stays blocked.
CREATE TABLE checkout_claims (
  tenant_id              TEXT PRIMARY KEY,
  claim_id               TEXT NOT NULL,      -- random, per request
  claimed_until          BIGINT NOT NULL     -- Unix seconds
);
