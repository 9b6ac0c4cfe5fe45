-- wrk script for scripts/bench.sh: the refresh grant at /token, each
-- connection rotating its own chain. Run with as many threads as
-- connections (-t16 -c16): wrk keeps Lua state per thread, not per
-- connection, so one connection per thread gives each chain its own state.
--
-- BENCH_REFRESH_TOKENS names a file with one refresh token per line, one per
-- thread. Each thread POSTs grant_type=refresh_token with its current token
-- and takes the successor from every 200 response for its next request; wrk
-- builds the next request only after the previous response was handled. The
-- client authenticates with the Authorization header bench.sh passes to wrk
-- with -H. A non-200 keeps the current token: within the grace window a
-- retry gets the same successor back (SPEC §8.3).
--
-- Prints the BENCH_RESULT line of report.lua plus ok= (rotations: the 200s).

local tokens = {}
local threads = {}

setup = function(thread)
  if #tokens == 0 then
    local path = os.getenv("BENCH_REFRESH_TOKENS")
    local f = assert(io.open(path, "r"), "BENCH_REFRESH_TOKENS: cannot open " .. tostring(path))
    for line in f:lines() do
      if #line > 0 then table.insert(tokens, line) end
    end
    f:close()
  end
  local i = #threads + 1
  assert(tokens[i], "fewer refresh tokens than wrk threads")
  thread:set("token", tokens[i])
  table.insert(threads, thread)
end

-- Per-thread state (set by setup above for `token`).
rotations = 0
others = 0

-- wrk.headers holds the -H headers; wrk.format adds Host and Content-Length.
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

request = function()
  return wrk.format("POST", "/token", nil, "grant_type=refresh_token&refresh_token=" .. token)
end

response = function(status, headers, body)
  if status == 200 then
    -- Refresh tokens are URL-safe, so they need no escaping here or above.
    local successor = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
    if successor then
      token = successor
      rotations = rotations + 1
      return
    end
  end
  others = others + 1
end

done = function(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("rotations")
    bad = bad + thread:get("others")
  end
  local e = summary.errors
  io.write(string.format("refresh: %d rotations, %d other responses\n", ok, bad))
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d ok=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, ok))
end
