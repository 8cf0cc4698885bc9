#!/usr/bin/env python3
"""Loopback load test of `hyperlab serve`: aggregate generation throughput of 16 concurrent clients
against one client, with latency percentiles and failures. Bounded in requests and time, talks only to
127.0.0.1, and stops the server it started (SIGTERM: graceful shutdown).

usage:
  python3 bench/serve.py                      # starts `.build/release/hyperlab serve` on a free port
  python3 bench/serve.py --server "CMD ..."   # another server command (gets --port N appended)
  python3 bench/serve.py --url http://127.0.0.1:8080/v1 --model NAME   # an already running server

The one-client and 16-client phases alternate for --rounds rounds (default 3); the ratio compares each side's
best round, and every round's own ratio is printed too. Prints one summary line for bench/RESULTS.md (and JSON
with --json).
Standard library only.
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain why the sky is blue.",
    "List some uses of copper.",
    "Describe a busy market in the morning.",
    "What makes a good friend?",
    "Tell me about the ocean.",
    "How do birds navigate?",
    "Give advice to a new gardener.",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, timeout):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def one_request(base, model, i, max_tokens, timeout):
    body = {"model": model, "messages": [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
            "max_tokens": max_tokens, "temperature": 0.8, "seed": i}
    t0 = time.monotonic()
    out = post(base + "/chat/completions", body, timeout)
    return time.monotonic() - t0, out["usage"]["completion_tokens"]


def run_clients(base, model, clients, per_client, max_tokens, deadline, timeout):
    """`clients` threads, each sending `per_client` requests back to back (stops early at `deadline`)."""
    lat, toks, failures = [], [], []
    lock = threading.Lock()

    def worker(c):
        for k in range(per_client):
            if time.monotonic() > deadline:
                return
            try:
                dt, n = one_request(base, model, c * 1000 + k, max_tokens, timeout)
                with lock:
                    lat.append(dt)
                    toks.append(n)
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    failures.append(repr(e)[:200])

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    return {"clients": clients, "requests": len(lat), "failed": len(failures), "failures": failures[:3],
            "tokens": sum(toks), "seconds": wall, "tokens_per_second": sum(toks) / wall if wall > 0 else 0,
            "p50": pct(lat, 50), "p99": pct(lat, 99), "latencies": lat}


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=".build/release/hyperlab serve", help="server command (gets --port appended)")
    ap.add_argument("--model-arg", default="smollm2-135m-instruct", help="--model passed to the server command")
    ap.add_argument("--url", help="base URL (…/v1) of a running server; no server is started")
    ap.add_argument("--model", help="model name for requests (default: the first of /v1/models)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--per-client", type=int, default=3, help="requests per concurrent client")
    ap.add_argument("--single", type=int, default=6, help="requests for the one-client baseline")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of the one-client and concurrent phases; each side's best round is "
                         "compared (as bench/inference.py takes the best of 3 on both sides), so a slow spell of a "
                         "shared host during one phase does not decide the ratio")
    ap.add_argument("--time-limit", type=float, default=600, help="seconds; the test stops itself after this")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    proc = None
    base = args.url
    if base is None:
        port = free_port()
        cmd = shlex.split(args.server) + ["--model", args.model_arg, "--port", str(port), "--max-batch", str(args.clients),
                                          "--log-level", "warning"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}/v1"
        for _ in range(600):
            try:
                get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None:
                    sys.exit("server exited: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        else:
            proc.terminate()
            sys.exit("server did not come up within 120 s")
    root = base.rsplit("/v1", 1)[0]
    try:
        model = args.model or json.loads(get(base + "/models"))["data"][0]["id"]
        deadline = time.monotonic() + args.time_limit
        timeout = max(30.0, args.time_limit)
        one_request(base, model, 0, 4, timeout)  # warm up
        singles, manys = [], []
        passes = rows = 0.0
        for _ in range(max(1, args.rounds)):
            singles.append(run_clients(base, model, 1, args.single, args.max_tokens, deadline, timeout))
            before = get(root + "/metrics")
            manys.append(run_clients(base, model, args.clients, args.per_client, args.max_tokens, deadline, timeout))
            after = get(root + "/metrics")
            passes += metric_sum(after, "hyperlab_batch_rows_count") - metric_sum(before, "hyperlab_batch_rows_count")
            rows += metric_sum(after, "hyperlab_batch_rows_sum") - metric_sum(before, "hyperlab_batch_rows_sum")
        single = max(singles, key=lambda r: r["tokens_per_second"])
        many = max(manys, key=lambda r: r["tokens_per_second"])
        lat = [x for r in manys for x in r["latencies"]]
        failed = sum(r["failed"] for r in singles + manys)
        requests = sum(r["requests"] + r["failed"] for r in singles + manys)
        speedup = many["tokens_per_second"] / single["tokens_per_second"] if single["tokens_per_second"] else float("nan")
        rounds = [m["tokens_per_second"] / s1["tokens_per_second"] if s1["tokens_per_second"] else float("nan")
                  for s1, m in zip(singles, manys)]
        for r in singles + manys:
            del r["latencies"]
        result = {"model": model, "max_tokens": args.max_tokens, "single": single, "concurrent": many,
                  "speedup": speedup, "round_speedups": rounds, "singles": singles, "concurrents": manys,
                  "p50": pct(lat, 50), "p99": pct(lat, 99), "failed": failed, "requests": requests,
                  "mean_batch_rows": rows / passes if passes else float("nan"), "cores": os.cpu_count()}
        line = (f"serve ({model}, chat max_tokens={args.max_tokens}, {os.cpu_count()} cores, best of {len(singles)} "
                f"alternating rounds): 1 client {single['tokens_per_second']:.1f} tok/s; {many['clients']} clients "
                f"{many['tokens_per_second']:.1f} tok/s aggregate ({speedup:.2f}x; rounds "
                f"{', '.join(f'{x:.2f}x' for x in rounds)}), mean batch {result['mean_batch_rows']:.1f} rows; "
                f"latency p50 {result['p50']:.2f} s, p99 {result['p99']:.2f} s; failed {failed}/{requests}")
        if args.json:
            print(json.dumps(result, indent=2))
        print(line)
        if failed:
            print("failures:", [f for r in singles + manys for f in r["failures"]][:5], file=sys.stderr)
            return 1
        return 0
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
