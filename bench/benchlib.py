#!/usr/bin/env python3
"""Helpers for scripts/bench.sh: free ports, readiness and status probes,
process CPU time, and the final summary (medians, ratios, goal check).

usage:
  benchlib.py free-ports N              print N free 127.0.0.1 TCP ports
  benchlib.py wait-http URL [SECONDS]   wait until URL answers any HTTP status
  benchlib.py status URL [HEADER]       print the HTTP status URL answers
  benchlib.py cpu-ticks PID...          print utime+stime of the PIDs, in ticks
  benchlib.py summarize RESULTS.tsv     print the summary table and the goal check
"""
import http.client
import os
import socket
import statistics
import sys
import time
import urllib.parse

# Acceptance 5 of issue 3, for a valid API key at 64 connections.
GOAL_VS_NGINX = 0.38
GOAL_VS_NODE = 2.5
GOAL_P99_MS = 2.0
GOAL_CPU_US = 25.0

TARGETS = ("plugauth", "nginx", "node-jose")
CASES = ("valid", "invalid", "none")
COLUMNS = ("round", "conns", "case", "target", "requests", "duration_us", "p50_us", "p99_us",
           "connect", "read", "write", "status", "timeout", "cpu_ticks")


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


def status_of(url, header=None, timeout=2.0):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    headers = {}
    if header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    try:
        conn.request("GET", u.path or "/", headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def wait_http(url, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status_of(url, timeout=0.5)
            return 0
        except OSError:
            if time.monotonic() > deadline:
                print(f"benchlib: {url} did not answer within {seconds:g} s", file=sys.stderr)
                return 1
            time.sleep(0.05)


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may contain spaces: fields resume after its ')'.
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # stat(5) fields 14 utime, 15 stime
    print(total)


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            row = dict(zip(COLUMNS, parts))
            for k in COLUMNS:
                if k not in ("case", "target"):
                    row[k] = int(row[k])
            row["rps"] = row["requests"] / (row["duration_us"] / 1e6)
            row["cpu_us"] = row["cpu_ticks"] / os.sysconf("SC_CLK_TCK") * 1e6 / max(row["requests"], 1)
            row["sock"] = row["connect"] + row["read"] + row["write"]
            rows.append(row)
    return rows


def summarize(path):
    rows = load(path)

    def pick(conns, case, target):
        return [r for r in rows if r["conns"] == conns and r["case"] == case and r["target"] == target]

    def med(rs, key):
        return statistics.median(r[key] for r in rs) if rs else float("nan")

    print()
    print("Summary: median of %d rounds per row; errors are totals over the rounds" %
          len({r["round"] for r in rows}))
    print("(non-2xx = wrk's \"Non-2xx or 3xx responses\", sock = connect+read+write errors).")
    print()
    head = f"{'case':<8} {'target':<10} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} " \
           f"{'CPU us/req':>10} {'non-2xx':>9} {'sock':>5} {'timeout':>7}  note"
    print(head)
    print("-" * len(head))
    failed_valid = False
    for conns in (64, 1):
        for case in CASES:
            for target in TARGETS:
                rs = pick(conns, case, target)
                if not rs:
                    continue
                non2xx = sum(r["status"] for r in rs)
                sock = sum(r["sock"] for r in rs)
                timeout = sum(r["timeout"] for r in rs)
                note = ""
                if case == "valid" and (non2xx or sock or timeout):
                    note = "FAILED (valid key must give only 2xx, no errors)"
                    if target == "plugauth":
                        failed_valid = True
                elif case != "valid" and target == "nginx":
                    note = "nginx checks nothing: 200"
                elif case != "valid":
                    note = "401 expected"
                print(f"{case:<8} {target:<10} {conns:>5} {med(rs, 'rps'):>10.0f} "
                      f"{med(rs, 'p50_us') / 1000:>8.3f} {med(rs, 'p99_us') / 1000:>8.3f} "
                      f"{med(rs, 'cpu_us'):>10.1f} {non2xx:>9} {sock:>5} {timeout:>7}  {note}")
        print()

    print("Throughput ratios at 64 connections (median req/s over median req/s;")
    print("in brackets the lowest and highest per-round ratio):")
    ratios = {}
    for case in CASES:
        p = pick(64, case, "plugauth")
        line = f"  {case:<8}"
        for other in ("nginx", "node-jose"):
            o = pick(64, case, other)
            if not p or not o:
                continue
            r = med(p, "rps") / med(o, "rps")
            ratios[(case, other)] = r
            per_round = []
            for rnd in sorted({x["round"] for x in p}):
                a = [x for x in p if x["round"] == rnd]
                b = [x for x in o if x["round"] == rnd]
                if a and b:
                    per_round.append(a[0]["rps"] / b[0]["rps"])
            rng = f"[{min(per_round):.2f}-{max(per_round):.2f}]" if per_round else ""
            line += f"  plugauth/{other} = {r:5.2f}x {rng:<12}"
        print(line)
    print()

    valid = pick(64, "valid", "plugauth")
    valid_c1 = pick(1, "valid", "plugauth")
    p99 = med(valid, "p99_us") / 1000
    cpu = med(valid, "cpu_us")
    errors = sum(r["status"] + r["sock"] + r["timeout"] for r in valid + valid_c1)
    goals = [
        (f"throughput >= {GOAL_VS_NGINX}x nginx (64 conns)", ratios.get(("valid", "nginx"), 0) >= GOAL_VS_NGINX,
         f"{ratios.get(('valid', 'nginx'), float('nan')):.2f}x"),
        (f"throughput >= {GOAL_VS_NODE}x node-jose (64 conns)", ratios.get(("valid", "node-jose"), 0) >= GOAL_VS_NODE,
         f"{ratios.get(('valid', 'node-jose'), float('nan')):.2f}x"),
        (f"p99 <= {GOAL_P99_MS:g} ms (64 conns)", p99 <= GOAL_P99_MS,
         f"{p99:.3f} ms (at 1 conn: {med(valid_c1, 'p99_us') / 1000:.3f} ms)"),
        (f"server CPU <= {GOAL_CPU_US:g} us/request", cpu <= GOAL_CPU_US, f"{cpu:.1f} us"),
        ("zero errors, timeouts, non-2xx", errors == 0 and not failed_valid, f"{errors}"),
    ]
    print("Goal check (issue 3, acceptance 5), plugauth /verify with a valid API key:")
    for name, ok, value in goals:
        print(f"  {'PASS' if ok else 'MISS'}  {name:<42} measured {value}")
    return 0 if all(ok for _, ok, _ in goals) else 3


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "free-ports":
        free_ports(int(args[0]))
    elif cmd == "wait-http":
        return wait_http(args[0], float(args[1]) if len(args) > 1 else 10.0)
    elif cmd == "status":
        print(status_of(args[0], args[1] if len(args) > 1 else None))
    elif cmd == "cpu-ticks":
        cpu_ticks(args)
    elif cmd == "summarize":
        return summarize(args[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
