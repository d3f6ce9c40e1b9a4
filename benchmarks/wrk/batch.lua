-- JSON batches of 1,000 predictions (25 features); ids unique per request. The template holds
-- records with prediction_id "@@@@@@@@@@-<i>".
local common = require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local body = common.filler(common.template(), "@@@@@@@@@@")
local n = 0
local prefix = tostring(math.random(100000, 999999))
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/predictions/batch", nil, body(prefix .. string.format("%08d", n)))
end
setup = common.setup
done = common.done
