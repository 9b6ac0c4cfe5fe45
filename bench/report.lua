-- wrk reporter for scripts/bench.sh: one machine-readable line after the
-- human-readable --latency output. Latencies are in microseconds; "status"
-- is wrk's "Non-2xx or 3xx responses" (responses with a status above 399).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
