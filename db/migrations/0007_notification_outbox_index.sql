-- The dispatcher finds due rows through an index on the ids of the rows still to send
-- (issue 11), instead of version 1's notification_log_due (status, next_attempt_at).
--
-- Every claim and result moves a row to another status, so on PostgreSQL each one left an
-- entry under the old status in (status, next_attempt_at) until autovacuum (at most once a
-- minute). The claim's bitmap scans read every such entry and its heap page, and the planner
-- also chose that index to mark a claim's rows sent: after 10,000 messages a claim of 30 rows
-- read ~500 pages. In this index a row's key (its id) never changes; the results look their
-- rows up by id in it, which lets PostgreSQL drop the dead entries as it goes, so it stays a
-- couple of pages. pgbench, 700 rounds of 30 messages (insert, claim, mark sent) on one
-- connection, PostgreSQL 15: claim 5.0–6.4 → 1.9–2.1 ms, mark sent 1.7–2.3 → 1.6–1.8 ms,
-- the index 16 KiB at the end.
--
-- Rows waiting for a retry are in it too; the claim skips those not yet due (a backlog of
-- failing rows costs a read each per claim, which a Slack outage can afford).
-- The claim repeats the predicate word for word, as SQLite needs to use a partial index.
DROP INDEX notification_log_due;
CREATE INDEX notification_log_pending ON notification_log (id)
  WHERE status IN ('queued', 'failed', 'sending');
