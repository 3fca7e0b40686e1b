-- wrk: POST one order (WRK_BODY) per request, the customers' tokens (WRK_TOKENS, comma-separated)
-- taken in turn, and a one-line JSON summary at the end (as ../shared/limits/wrk.lua prints).
local body = os.getenv("WRK_BODY")
local tokens = {}
for t in string.gmatch(os.getenv("WRK_TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = t end
local n = 0

function request()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"req_s": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d}\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
