-- wrk script of the webhook-ingest benchmark (tools/bench/run): posts the events
-- paybell-bench-events wrote to POST /stripe/webhook, each exactly once.
--
--   wrk -t2 -c16 -d<duration+grace>s --timeout 30s -s webhook.lua http://127.0.0.1:PORT \
--       -- <events prefix> <duration s> <threads>
--
-- Thread n posts the lines of <prefix>.<n> ("<event id>\t<tenant>\t<Stripe-Signature>\t<payload>")
-- in file order; a tenant's events are all in one file, and one of them is sent only once the
-- previous one is answered. A thread stops issuing when its events run out or <duration> has
-- passed (from its first request), waits for the answers of the requests in flight, and stops;
-- nothing is ever sent twice (a connection with nothing to send idles in delay()). When every
-- thread has stopped, the script interrupts wrk's own timer (SIGINT), so wrk's -d is only an
-- upper bound.
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

local lines = {}            -- n → { event id, tenant, Stripe-Signature, payload }
local prefix, duration, nthreads
local deadline
local next_line = 1         -- the next line not yet taken from the file's order
local queue, queue_head, queue_tail = {}, 1, 0   -- reserved by delay(), sent by request()
local in_flight = {}        -- tenant → true while one of its events awaits its answer
local waiting = {}          -- tenant → FIFO of its line numbers held back behind that answer
local waiting_count = 0
local ready, ready_head, ready_tail = {}, 1, 0   -- tenants whose held-back events may go now
local tenant_of = {}        -- event id → tenant, for the events in flight
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
    local event_id, tenant, signature, payload = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    lines[#lines + 1] = { event_id, tenant, signature, payload }
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

local function reserve(n)
  local tenant = lines[n][2]
  in_flight[tenant] = true
  tenant_of[lines[n][1]] = tenant
  queue_tail = queue_tail + 1
  queue[queue_tail] = n
end

-- The next event that may go now, in file order per tenant: a tenant's event is never sent
-- while its previous one awaits an answer (the server would rightly call the older one stale
-- if it arrived second). Events held back go as soon as that answer arrives.
local function take_next()
  while ready_head <= ready_tail do
    local tenant = ready[ready_head]
    ready[ready_head] = nil
    ready_head = ready_head + 1
    local fifo = waiting[tenant]
    if fifo and #fifo > 0 and not in_flight[tenant] then
      local n = table.remove(fifo, 1)
      waiting_count = waiting_count - 1
      if #fifo == 0 then waiting[tenant] = nil end
      return n
    end
  end
  while next_line <= events do
    local n = next_line
    next_line = next_line + 1
    local tenant = lines[n][2]
    if in_flight[tenant] or waiting[tenant] then
      waiting[tenant] = waiting[tenant] or {}
      table.insert(waiting[tenant], n)
      waiting_count = waiting_count + 1
    else
      return n
    end
  end
  return nil
end

-- Called before each request: reserves the next event (0: send it now), or parks the
-- connection (nothing may go now; another connection's answer will release what is held back).
function delay()
  local now = now_s()
  if deadline == nil then deadline = now + duration end
  if issuing and now < deadline then
    local n = take_next()
    if n then
      reserve(n)
      return 0
    end
    if waiting_count > 0 then return IDLE_MS end
  end
  if issuing then
    issuing = false
    ran_out = next_line > events and waiting_count == 0
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
  -- X-Request-Id (echoed on every answer, errors too) tells response() which event it answers.
  return wrk.format("POST", "/stripe/webhook",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = event[3],
      ["X-Request-Id"] = event[1] }, event[4])
end

function response(status, headers, body)
  answered = answered + 1
  finished = now_s()
  local event_id = headers["X-Request-Id"] or headers["x-request-id"] or "?"
  local tenant = tenant_of[event_id]
  if tenant then
    tenant_of[event_id] = nil
    in_flight[tenant] = nil
    if waiting[tenant] then
      ready_tail = ready_tail + 1
      ready[ready_tail] = tenant
    end
  end
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
