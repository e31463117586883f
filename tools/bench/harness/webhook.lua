-- wrk script of the webhook-ingest benchmark (tools/bench/run): posts the events
-- paybell-bench-events wrote to POST /stripe/webhook, each exactly once.
--
--   wrk -t2 -c16 -d<duration+grace>s --timeout 30s -s webhook.lua http://127.0.0.1:PORT \
--       -- <events prefix> <duration s> <threads>
--
-- Thread n posts the lines of <prefix>.<n> ("<Stripe-Signature>\t<payload>") in file order; a
-- tenant's events are all in one file, one round apart. A thread stops issuing when its events
-- run out or <duration> has passed (measured from its first request), waits for the answers of
-- the requests in flight, and stops; nothing is ever sent twice (a connection with nothing to
-- send idles in delay()). When every thread has stopped, the script interrupts wrk's own timer
-- (SIGINT), so wrk's -d is only an upper bound.
--
-- Each thread writes the event ids its 2xx answers acknowledged to <prefix>.acked.<n>;
-- done() prints one line, "BENCH_JSON {…}": requests, 2xx, non-2xx (by status), outcomes,
-- the measured window, events/s and latency percentiles (ms) from wrk's latency histogram.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *ts);
int getpid(void);
int kill(int pid, int sig);
]]
local CLOCK_MONOTONIC = 1
local SIGINT = 2
local IDLE_MS = 3600 * 1000

local function now_s()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

-- Main state: one entry per thread, for done().
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Thread state (globals, so done() can read them with thread:get).
events = 0         -- lines in this thread's file
issued = 0         -- requests written
answered = 0       -- answers read
ok = 0             -- 2xx answers
non2xx = 0
statuses = {}      -- non-2xx status → count
outcomes = {}      -- "applied", "duplicate", … (from 2xx bodies) → count
first_error = ""   -- the body of the first non-2xx answer, for the report
started = 0        -- monotonic seconds: first request
finished = 0       -- monotonic seconds: last answer
ran_out = false    -- stopped because the events ran out (not because the time was up)

local lines = {}
local prefix, duration, nthreads
local deadline
local next_line = 1
local queue, queue_head, queue_tail = {}, 1, 0
local issuing = true
local acked = {}
local stopped = false

function init(args)
  prefix = args[1]
  duration = tonumber(args[2])
  nthreads = tonumber(args[3])
  if not (prefix and duration and nthreads) then
    error("usage: wrk … -s webhook.lua URL -- <events prefix> <duration s> <threads>")
  end
  local file = assert(io.open(prefix .. "." .. id, "rb"))
  for line in file:lines() do
    local tab = line:find("\t", 1, true)
    lines[#lines + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  file:close()
  events = #lines
end

local function all_threads_done()
  for n = 0, nthreads - 1 do
    local marker = io.open(prefix .. ".done." .. n, "rb")
    if not marker then return false end
    marker:close()
  end
  return true
end

local function finish_if_drained()
  -- Drained: nothing more will be issued, nothing reserved waits for its connection, and every
  -- request written has its answer.
  if stopped or issuing or queue_head <= queue_tail or answered < issued then return end
  stopped = true
  local out = assert(io.open(prefix .. ".acked." .. id, "wb"))
  out:write(table.concat(acked, "\n"))
  if #acked > 0 then out:write("\n") end
  out:close()
  assert(io.open(prefix .. ".done." .. id, "wb")):close()
  wrk.thread:stop()
  -- The last thread to finish ends wrk's -d wait (two finishing at once both may: harmless).
  if all_threads_done() then ffi.C.kill(ffi.C.getpid(), SIGINT) end
end

-- Called before each request: reserves the next event, or parks the connection for good.
function delay()
  local now = now_s()
  if deadline == nil then deadline = now + duration end
  if issuing and next_line <= events and now < deadline then
    queue_tail = queue_tail + 1
    queue[queue_tail] = next_line
    next_line = next_line + 1
    return 0
  end
  if issuing then
    issuing = false
    ran_out = next_line > events
  end
  finish_if_drained()
  return IDLE_MS
end

function request()
  local n = queue[queue_head]
  -- wrk calls request() once in the main state to see how many requests it returns.
  if n == nil then return wrk.format("POST", "/stripe/webhook") end
  queue[queue_head] = nil
  queue_head = queue_head + 1
  issued = issued + 1
  if started == 0 then started = now_s() end
  local event = lines[n]
  lines[n] = nil  -- sent once; let the memory go
  return wrk.format("POST", "/stripe/webhook",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = event[1] }, event[2])
end

function response(status, headers, body)
  answered = answered + 1
  finished = now_s()
  if status >= 200 and status < 300 then
    ok = ok + 1
    acked[#acked + 1] = body:match('"event_id"%s*:%s*"([^"]*)"') or "?"
    local outcome = body:match('"outcome"%s*:%s*"([^"]*)"') or "?"
    outcomes[outcome] = (outcomes[outcome] or 0) + 1
  else
    non2xx = non2xx + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    if first_error == "" then first_error = status .. " " .. body:sub(1, 300) end
  end
  finish_if_drained()
end

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function json_counts(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = json_string(k) .. ":" .. v end
  table.sort(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local total = { events = 0, issued = 0, answered = 0, ok = 0, non2xx = 0 }
  local all_statuses, all_outcomes = {}, {}
  local first, last = math.huge, 0
  local error_sample = ""
  local ran_out_all = true
  for _, t in ipairs(threads) do
    for k in pairs(total) do total[k] = total[k] + t:get(k) end
    for k, v in pairs(t:get("statuses")) do all_statuses[k] = (all_statuses[k] or 0) + v end
    for k, v in pairs(t:get("outcomes")) do all_outcomes[k] = (all_outcomes[k] or 0) + v end
    local s, f = t:get("started"), t:get("finished")
    if s > 0 and s < first then first = s end
    if f > last then last = f end
    if error_sample == "" then error_sample = t:get("first_error") end
    ran_out_all = ran_out_all and t:get("ran_out")
  end
  local window = (last > first) and (last - first) or 0
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write("BENCH_JSON {",
    '"events_available":', total.events, ",",
    '"requests":', total.issued, ",",
    '"answered":', total.answered, ",",
    '"2xx":', total.ok, ",",
    '"non_2xx":', total.non2xx, ",",
    '"non_2xx_by_status":', json_counts(all_statuses), ",",
    '"outcomes":', json_counts(all_outcomes), ",",
    '"socket_errors":', socket_errors, ",",
    '"timeouts":', e.timeout, ",",
    '"first_error":', json_string(error_sample), ",",
    '"ran_out_of_events":', tostring(ran_out_all), ",",
    '"window_s":', string.format("%.4f", window), ",",
    '"events_per_s":', string.format("%.1f", window > 0 and total.ok / window or 0), ",",
    '"p50_ms":', string.format("%.3f", latency:percentile(50) / 1000), ",",
    '"p90_ms":', string.format("%.3f", latency:percentile(90) / 1000), ",",
    '"p99_ms":', string.format("%.3f", latency:percentile(99) / 1000), ",",
    '"max_ms":', string.format("%.3f", latency.max / 1000), ",",
    '"mean_ms":', string.format("%.3f", latency.mean / 1000),
    "}\n")
end
