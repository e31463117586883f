-- Paybell schema, version 4: browser sessions and invoices.

-- Browser sessions, each started by one sign-in link (SessionService.StartSession). The link's
-- token is single use: its jti is login_jti, and a second start with it hits the unique key.
-- A session is valid until expires_at unless ended_at is set (sign-out). Rows are deleted a
-- while after they expire, long after the (at most 15-minute) login token they hold expired.
CREATE TABLE web_sessions (
  session_id             TEXT PRIMARY KEY,   -- random; the session token's "sid"
  login_jti              TEXT NOT NULL UNIQUE,
  tenant_id              TEXT NOT NULL,
  subject                TEXT NOT NULL,
  role                   TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at             BIGINT NOT NULL,
  expires_at             BIGINT NOT NULL,
  ended_at               BIGINT
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- One row per Stripe invoice Paybell heard about (invoice.* events), newest event wins.
CREATE TABLE billing_invoices (
  invoice_id             TEXT PRIMARY KEY,   -- Stripe's "in_…"
  tenant_id              TEXT NOT NULL,
  stripe_customer_id     TEXT NOT NULL DEFAULT '',
  stripe_subscription_id TEXT NOT NULL DEFAULT '',
  number                 TEXT NOT NULL DEFAULT '',
  status                 TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid',
                           'uncollectible', 'void')),
  amount_due             BIGINT NOT NULL DEFAULT 0,   -- minor units
  amount_paid            BIGINT NOT NULL DEFAULT 0,
  currency               TEXT NOT NULL DEFAULT '',
  period_start           BIGINT,
  period_end             BIGINT,
  created                BIGINT NOT NULL,             -- Stripe's "created" of the invoice
  hosted_invoice_url     TEXT NOT NULL DEFAULT '',
  invoice_pdf            TEXT NOT NULL DEFAULT '',
  last_event_created     BIGINT NOT NULL,             -- Stripe "created" of the event applied
  last_event_id          TEXT NOT NULL,
  updated_at             BIGINT NOT NULL
);
-- ListInvoices: one tenant's invoices newest first, paged by (created, invoice_id).
CREATE INDEX billing_invoices_tenant ON billing_invoices (tenant_id, created, invoice_id);
