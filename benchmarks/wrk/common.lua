-- Shared by the wrk scripts (bench_ingest.py puts this folder on LUA_PATH).
local M = {}

-- Read the request body template named by MODELMON_WRK_BODY (written by bench_ingest.py).
function M.template()
  local f = assert(io.open(os.getenv("MODELMON_WRK_BODY"), "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- A function id -> body that puts id in place of every fixed-width marker of the template. The
-- template is split once, so a request costs one table.concat, not a gsub over the whole body:
-- the load generator shares the server's two cores and must stay cheap.
function M.filler(template, marker)
  local parts = {}
  local pos = 1
  while true do
    local s, e = string.find(template, marker, pos, true)
    if not s then break end
    parts[#parts + 1] = string.sub(template, pos, s - 1)
    parts[#parts + 1] = ""  -- the id goes here
    pos = e + 1
  end
  parts[#parts + 1] = string.sub(template, pos)
  return function(id)
    for i = 2, #parts, 2 do parts[i] = id end
    return table.concat(parts)
  end
end

-- Open-loop pacing: when MODELMON_WRK_RATE is set, requests leave on a fixed schedule of that many
-- per second over all connections (wrk asks delay() before each request). A request whose slot
-- has passed (every connection was waiting for an answer) leaves at once and is counted as late,
-- with how far behind the schedule it was: wrk times a request from when it is sent, so the late
-- count and the largest lag show whether its latencies hide a stall.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } mm_timespec;
int clock_gettime(int clk_id, mm_timespec *tp);
]]
local ts = ffi.new("mm_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

function M.pace()
  local rate = tonumber(os.getenv("MODELMON_WRK_RATE") or "")
  if not rate then return nil end
  local interval = 1e6 / rate
  local start, slot = nil, 0
  late, max_lag_us = 0, 0  -- globals of the thread's Lua state, read by done() through thread:get
  return function()
    local now = now_us()
    if start == nil then start = now end
    slot = slot + 1
    local wait = start + slot * interval - now
    if wait < 0 then
      late = late + 1
      if -wait > max_lag_us then max_lag_us = -wait end
      return 0
    end
    return math.floor(wait / 1000)  -- wrk takes whole milliseconds
  end
end

local threads = {}
function M.setup(thread)
  threads[#threads + 1] = thread
end

-- The result line bench_ingest.py parses.
function M.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  local late, lag = 0, 0
  for _, t in ipairs(threads) do
    late = late + (t:get("late") or 0)
    lag = math.max(lag, t:get("max_lag_us") or 0)
  end
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "late": %d, "max_lag_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    late, lag / 1000))
end

return M
