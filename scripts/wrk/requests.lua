-- wrk script for scripts/bench: send exactly the requests listed in a file, each once.
--
--   wrk -t T -c C -d 120s -s scripts/wrk/requests.lua http://127.0.0.1:PORT -- FILE T [PACE_MS]
--
-- FILE has one request per line: METHOD <tab> PATH <tab> BEARER-TOKEN <tab> JSON-BODY (the
-- token and the body may be empty). Thread k of T sends lines k, k+T, k+2T, ... so every
-- line is sent exactly once (distinct emails, distinct ticket codes). A connection that would
-- go past its thread's share waits (delay()) instead, and the thread stops once every
-- answer of its share is in and says so on stderr ("WRK-THREAD-DONE"). wrk itself always
-- runs for -d, so scripts/bench interrupts it (SIGINT) when every thread is done, and the
-- duration is measured here: first request sent to last answer received, over all threads.
-- PACE_MS > 0 paces each connection like a door device: it waits a random 0.5-1.5 x PACE_MS
-- before each request (wrk's latency counts from the send, not the wait).
-- done() prints one JSON line: requests, duration, latency percentiles, status counts.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  pace_ms = tonumber(args[3] or "0")
  math.randomseed(os.time() + tid)
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then
      local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if token ~= "" then headers["Authorization"] = "Bearer " .. token end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      table.insert(reqs, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
  total = #reqs
  sent = 0
  reserved = 0
  received = 0
  statuses = {}
  -- wrk calls request() once on thread 0 right after init() to check the request parses
  verifying = (tid == 0)
end

function request()
  if verifying then
    verifying = false
    return reqs[1]
  end
  sent = sent + 1
  if sent == 1 then first_us = now_us() end
  if reserved > 0 then reserved = reserved - 1 end
  if sent > total then return reqs[total] end -- cannot happen while connections <= requests
  return reqs[sent]
end

function delay()
  if sent + reserved < total then
    reserved = reserved + 1
    if pace_ms > 0 then return math.floor(pace_ms * (0.5 + math.random())) end
    return 0
  end
  return 3600000 -- this connection's thread has sent its share: wait until stopped
end

function response(status, headers, body)
  received = received + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if received >= total then
    last_us = now_us()
    io.stderr:write("WRK-THREAD-DONE\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local counts = {}
  local sent_total = 0
  local first, last, unfinished = nil, 0, false
  for _, t in ipairs(threads) do
    sent_total = sent_total + (t:get("sent") or 0)
    local f, l = t:get("first_us"), t:get("last_us")
    if f and (first == nil or f < first) then first = f end
    if l == nil then unfinished = true end
    if l and l > last then last = l end
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local errors = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "sent": %d, "duration_us": %d, "statuses": {%s},' ..
    ' "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d},' ..
    ' "latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, sent_total, (first and last > first and not unfinished) and (last - first) or summary.duration, table.concat(parts, ", "),
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
