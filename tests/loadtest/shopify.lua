-- wrk script for `make loadtest`: each wrk thread posts the signed Shopify deliveries of its own
-- file (loadtest_gen output: WEBHOOK_ID \t HMAC \t BODY per line), each once, and counts the
-- answers by status. When its file is exhausted a thread asks /healthz instead (not a delivery).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  file = io.open(prefix .. "." .. index, "r")
  sent, ok, duplicate, rejected, other = 0, 0, 0, 0, 0
  exhausted = false
end

function request()
  local line = (not exhausted) and file:read("*l") or nil
  if line == nil then
    exhausted = true
    return wrk.format("GET", "/healthz")
  end
  local id, hmac, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  sent = sent + 1
  return wrk.format("POST", "/webhooks/shopify", {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Hmac-Sha256"] = hmac,
    ["X-Shopify-Shop-Domain"] = "harbor-goods-dev.myshopify.com",
    ["X-Shopify-API-Version"] = "2025-01",
    ["X-Shopify-Webhook-Id"] = id,
    ["X-Shopify-Triggered-At"] = "2025-03-14T14:22:33.412907871Z",
  }, body)
end

function response(status, headers, body)
  if status == 200 then
    -- /healthz answers "ok": only delivery answers carry a status.
    if body:find('"accepted"', 1, true) then ok = ok + 1
    elseif body:find('"duplicate"', 1, true) then duplicate = duplicate + 1 end
  elseif status >= 400 and status < 600 then
    rejected = rejected + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local s, o, d, r = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); o = o + t:get("ok"); d = d + t:get("duplicate"); r = r + t:get("rejected")
  end
  io.write(string.format("LOADTEST sent=%d accepted=%d duplicate=%d rejected=%d p50_us=%d p99_us=%d p999_us=%d\n",
                         s, o, d, r, latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
