-- Arrow IPC uploads of 1,000 rows. The template (written by bench_ingest.py) holds ids
-- "@@@@@@@@@@-<i>"; replacing the fixed-width placeholder keeps every Arrow offset valid.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.apache.arrow.stream"
local f = assert(io.open(os.getenv("MODELMON_WRK_BODY"), "rb"))
local template = f:read("*a")
f:close()
local n = 0
local prefix = tostring(math.random(100000, 999999))
request = function()
  n = n + 1
  local body = string.gsub(template, "@@@@@@@@@@", prefix .. string.format("%04d", n % 10000), nil)
  return wrk.format(nil, "/v1/models/bench/predictions/bulk", nil, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
