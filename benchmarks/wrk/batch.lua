-- JSON batches of 1,000 predictions (25 features); ids unique per request. The template file is
-- written by bench_ingest.py (records with prediction_id "@@@@@@@@@@-<i>"). The template is split
-- at the placeholders once, so each request costs one table.concat, not a 1,000-match gsub: the
-- load generator shares the server's two cores and must stay cheap.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("MODELMON_WRK_BODY"), "r"))
local template = f:read("*a")
f:close()
local parts = {}
local pos = 1
while true do
  local s, e = string.find(template, "@@@@@@@@@@", pos, true)
  if not s then break end
  parts[#parts + 1] = string.sub(template, pos, s - 1)
  parts[#parts + 1] = ""  -- the request's id prefix goes here
  pos = e + 1
end
parts[#parts + 1] = string.sub(template, pos)
local n = 0
local prefix = tostring(math.random(100000, 999999))
request = function()
  n = n + 1
  local id = prefix .. string.format("%08d", n)
  for i = 2, #parts, 2 do parts[i] = id end
  return wrk.format(nil, "/v1/predictions/batch", nil, table.concat(parts))
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
