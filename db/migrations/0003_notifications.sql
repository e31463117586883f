-- Paybell schema, version 3: what notifications need beyond version 1's tables.
--
-- Columns are added, never changed: SQLite cannot alter a CHECK constraint in place.

-- Slack answered 400/403/404/410 for the stored URL; cleared when settings are saved with
-- another URL (settings rows are always written whole).
ALTER TABLE tenant_notifications ADD COLUMN slack_broken INTEGER NOT NULL DEFAULT 0;

-- What a row is: a trigger's own message, the digest of a debounce window, or a SendTest.
-- trigger_kind holds the trigger word for 'trigger' rows and the summarised trigger for
-- 'digest' rows, and is '' for 'test' rows (which belong to no trigger).
ALTER TABLE notification_log ADD COLUMN kind TEXT NOT NULL DEFAULT 'trigger'
  CHECK (kind IN ('trigger', 'digest', 'test'));
-- What Emit decided for the channel; every decision but 'queued' is logged with status
-- 'suppressed' (only 'queued' rows are sent).
ALTER TABLE notification_log ADD COLUMN decision TEXT NOT NULL DEFAULT 'queued'
  CHECK (decision IN ('queued', 'suppressed', 'disabled', 'below_threshold', 'unconfigured'));
-- One line for people ("PSI 0.31 on model-a (invoices)"): shown by ListLog and digests.
ALTER TABLE notification_log ADD COLUMN summary TEXT NOT NULL DEFAULT '';

-- The claim query needs no new index: version 1's notification_log_due (status,
-- next_attempt_at) finds due queued/failed rows, and its status prefix the 'sending' rows whose
-- lease may have expired (as many as dispatchers hold at once; an index on claimed_until would
-- only cost every claim and result an index update).

-- ListLog: one tenant's rows newest first, paged by id.
CREATE INDEX notification_log_tenant_id ON notification_log (tenant_id, id);
-- Digests: the suppressed rows of one tenant, trigger and channel in a window.
CREATE INDEX notification_log_key ON notification_log (tenant_id, trigger_kind, channel,
  created_at);

-- The window a row's last change closed, written by the same conditional write that closes
-- it (opening the next window, or a digest taking it) so that RETURNING, which answers the
-- new values on both engines, can also answer the closed window's start and count.
ALTER TABLE notification_debounce ADD COLUMN closed_window_started_at BIGINT;
ALTER TABLE notification_debounce ADD COLUMN closed_suppressed_count INTEGER NOT NULL DEFAULT 0;
-- Digests look for ended windows with suppressed events.
CREATE INDEX notification_debounce_closed ON notification_debounce (window_started_at)
  WHERE suppressed_count > 0;
