-- Paybell schema, version 1: every table of DESIGN.md's Data section.
--
-- Conventions (the same SQL runs on SQLite and PostgreSQL):
-- * Times are BIGINT Unix seconds, UTC. In psql: to_timestamp(col); in sqlite3:
--   datetime(col, 'unixepoch'). NULL means "not known / not happened".
-- * Statuses, plans, outcomes, triggers and channels are lowercase words ('active', 'pro').
-- * Booleans are INTEGER 0/1. JSON documents are TEXT.
-- * {{identity_pk}} is the one dialect difference: an auto-numbered primary key.

-- One row per tenant: what Stripe last told us about its subscription.
CREATE TABLE billing_subscriptions (
  tenant_id              TEXT PRIMARY KEY,
  stripe_customer_id     TEXT NOT NULL DEFAULT '',
  stripe_subscription_id TEXT NOT NULL DEFAULT '',
  plan                   TEXT NOT NULL DEFAULT '' CHECK (plan IN ('', 'starter', 'pro', 'firm')),
  status                 TEXT NOT NULL CHECK (status IN ('active', 'trialing', 'past_due',
                           'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused')),
  current_period_start   BIGINT,
  current_period_end     BIGINT,
  cancel_at_period_end   INTEGER NOT NULL DEFAULT 0,
  cancel_at              BIGINT,
  canceled_at            BIGINT,
  trial_end              BIGINT,
  last_event_created     BIGINT,             -- Stripe "created" of the last applied event
  last_event_id          TEXT NOT NULL DEFAULT '',
  created_at             BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL
);
CREATE INDEX billing_subscriptions_customer ON billing_subscriptions (stripe_customer_id);
CREATE INDEX billing_subscriptions_subscription ON billing_subscriptions (stripe_subscription_id);
CREATE INDEX billing_subscriptions_status ON billing_subscriptions (status, tenant_id);

-- Every Stripe event, once (event_id is Stripe's "evt_…").
CREATE TABLE billing_events (
  event_id               TEXT PRIMARY KEY,
  type                   TEXT NOT NULL,
  created                BIGINT NOT NULL,    -- Stripe's "created"
  livemode               INTEGER NOT NULL DEFAULT 0,
  tenant_id              TEXT NOT NULL DEFAULT '',
  stripe_customer_id     TEXT NOT NULL DEFAULT '',
  stripe_subscription_id TEXT NOT NULL DEFAULT '',
  payload                TEXT NOT NULL,      -- the raw body exactly as received
  outcome                TEXT NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'stale',
                           'ignored', 'unmatched', 'failed')),
  error                  TEXT NOT NULL DEFAULT '',
  duplicate_deliveries   INTEGER NOT NULL DEFAULT 0,
  replay_count           INTEGER NOT NULL DEFAULT 0,
  received_at            BIGINT NOT NULL,
  processed_at           BIGINT
);
CREATE INDEX billing_events_received ON billing_events (received_at, event_id);
CREATE INDEX billing_events_tenant ON billing_events (tenant_id, received_at);
CREATE INDEX billing_events_subscription ON billing_events (stripe_subscription_id, created);
CREATE INDEX billing_events_outcome ON billing_events (outcome, received_at);

-- Checkout sessions Paybell created (or stubbed) for tenants.
CREATE TABLE checkout_sessions (
  session_id             TEXT PRIMARY KEY,   -- Stripe's "cs_…", or a local id in stub mode
  tenant_id              TEXT NOT NULL,
  plan                   TEXT NOT NULL CHECK (plan IN ('starter', 'pro', 'firm')),
  url                    TEXT NOT NULL,
  stub                   INTEGER NOT NULL DEFAULT 0,
  coupon_code            TEXT NOT NULL DEFAULT '',
  promotion_code_id      TEXT NOT NULL DEFAULT '',
  idempotency_key        TEXT NOT NULL DEFAULT '',
  created_by             TEXT NOT NULL,      -- the caller's "sub"
  status                 TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete',
                           'expired')),
  created_at             BIGINT NOT NULL,
  completed_at           BIGINT
);
CREATE INDEX checkout_sessions_tenant ON checkout_sessions (tenant_id, created_at);

-- Who did what: every billing action, applied event, settings change, replay and test send.
CREATE TABLE audit_log (
  id                     {{identity_pk}},
  at                     BIGINT NOT NULL,
  actor                  TEXT NOT NULL,      -- token "sub", "stripe" for webhooks, "system"
  actor_role             TEXT NOT NULL DEFAULT '',
  tenant_id              TEXT NOT NULL DEFAULT '',
  action                 TEXT NOT NULL,      -- e.g. "billing.checkout_session.created"
  target                 TEXT NOT NULL DEFAULT '',
  detail                 TEXT NOT NULL DEFAULT '{}',  -- JSON, never secrets
  request_id             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- Per-tenant notification settings; a tenant without a row has the defaults.
CREATE TABLE tenant_notifications (
  tenant_id              TEXT PRIMARY KEY,
  email_enabled          INTEGER NOT NULL DEFAULT 0,
  email_recipients       TEXT NOT NULL DEFAULT '[]',  -- JSON array of addresses
  slack_enabled          INTEGER NOT NULL DEFAULT 0,
  slack_webhook_url      TEXT NOT NULL DEFAULT '',
  psi_threshold          DOUBLE PRECISION NOT NULL DEFAULT 0.2,
  disabled_triggers      TEXT NOT NULL DEFAULT '[]',  -- JSON array of trigger words
  updated_at             BIGINT NOT NULL,
  updated_by             TEXT NOT NULL DEFAULT ''
);

-- One row per channel per trigger: the outbox the dispatcher works through.
CREATE TABLE notification_log (
  id                     {{identity_pk}},
  tenant_id              TEXT NOT NULL,
  trigger_kind           TEXT NOT NULL,      -- 'psi_drift', 'payment_failed', …, 'digest', 'test'
  channel                TEXT NOT NULL CHECK (channel IN ('email', 'slack')),
  status                 TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent',
                           'suppressed', 'failed', 'dead')),
  attempts               INTEGER NOT NULL DEFAULT 0,
  next_attempt_at        BIGINT,
  claimed_by             TEXT NOT NULL DEFAULT '',
  claimed_until          BIGINT,
  last_error             TEXT NOT NULL DEFAULT '',
  payload                TEXT NOT NULL,      -- JSON: the trigger's fields
  dedupe_key             TEXT,               -- unique when set: one row per source event
  created_at             BIGINT NOT NULL,
  sent_at                BIGINT
);
CREATE INDEX notification_log_due ON notification_log (status, next_attempt_at);
CREATE INDEX notification_log_tenant ON notification_log (tenant_id, created_at);
CREATE UNIQUE INDEX notification_log_dedupe ON notification_log (dedupe_key);

-- Debounce state: when a tenant's trigger last fired on a channel.
CREATE TABLE notification_debounce (
  tenant_id              TEXT NOT NULL,
  trigger_kind           TEXT NOT NULL,
  channel                TEXT NOT NULL,
  window_started_at      BIGINT NOT NULL,
  suppressed_count       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, trigger_kind, channel)
);
