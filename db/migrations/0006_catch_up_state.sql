-- The background catch-up jobs' state (issue 12), shared by every replica.
-- job 'sync': covered_until, how far completed catch-ups have covered Stripe's event list (every
-- handled event created up to it is stored; the next run starts there less a margin, however
-- long the server was down and whatever webhooks arrived since); it only moves forward.
-- Each job: finished_at, when its last scheduled run completed, so the schedule holds across
-- restarts and replicas (a daily reconcile still runs daily when replicas restart hourly).
CREATE TABLE stripe_catch_up (
  job            TEXT PRIMARY KEY CHECK (job IN ('sync', 'reconcile')),
  covered_until  BIGINT,
  finished_at    BIGINT
);
