-- wrk script for scripts/bench.sh: the client_credentials grant at /token,
-- the design's load case of 1,000 concurrent token requests (issue 13).
-- Every connection asks for a new access token with the bench client's
-- secret (the Authorization: Basic header bench.sh passes with -H) and the
-- scope the client was given.
--
-- Prints the BENCH_RESULT line of report.lua plus ok= (tokens: the 200s
-- whose body carries an access_token).

local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

tokens = 0
others = 0

wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=bench"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

response = function(status, headers, body)
  if status == 200 and string.find(body, '"access_token"', 1, true) then
    tokens = tokens + 1
  else
    others = others + 1
  end
end

done = function(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("tokens")
    bad = bad + thread:get("others")
  end
  local e = summary.errors
  io.write(string.format("client_credentials: %d tokens, %d other responses\n", ok, bad))
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d ok=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, ok))
end
