-- One prediction per request (25 features), a unique id per request; paced when
-- MODELMON_WRK_RATE is set (see common.pace).
local common = require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = '{"model":"bench","prediction_id":"ID","features":{"num_00":0.1,"num_01":0.2,"num_02":0.3,"num_03":0.4,"num_04":0.5,"num_05":0.6,"num_06":0.7,"num_07":0.8,"num_08":0.9,"num_09":1.0,"num_10":1.1,"num_11":1.2,"num_12":1.3,"num_13":1.4,"num_14":1.5,"num_15":1.6,"num_16":1.7,"num_17":1.8,"num_18":1.9,"num_19":2.0,"cat_0":"red","cat_1":"blue","cat_2":"red","cat_3":"green","cat_4":"amber"},"score":0.4,"latency_seconds":0.012}'
local n = 0
local prefix = tostring(math.random(1, 1000000000))
request = function()
  n = n + 1
  local body = string.gsub(template, "ID", prefix .. "-" .. n, 1)
  return wrk.format(nil, "/v1/predictions", nil, body)
end

delay = common.pace()
setup = common.setup
done = common.done
