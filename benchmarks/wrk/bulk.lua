-- Arrow IPC uploads of 1,000 rows. The template holds ids "@@@@@@@@@@-<i>"; the replacement has
-- the placeholder's width, which keeps every Arrow offset valid.
local common = require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.apache.arrow.stream"
local body = common.filler(common.template(), "@@@@@@@@@@")
local n = 0
local prefix = tostring(math.random(100, 999))
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/models/bench/predictions/bulk", nil,
                    body(prefix .. string.format("%07d", n)))
end
setup = common.setup
done = common.done
