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

-- The result line bench_ingest.py parses.
function M.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end

return M
