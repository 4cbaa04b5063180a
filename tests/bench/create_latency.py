#!/usr/bin/python3
"""Measures create → first `print(1)` result over N sandboxes against a gateway it starts itself.

Usage: tests/bench/create_latency.py [--build-dir build] [-n 20]
Prints p50/p95/min/max in milliseconds and a JSON line. Not part of the pass/fail suite.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    os.environ["SLUICE_BUILD_DIR"] = os.path.abspath(args.build_dir)
    import conftest  # noqa: E402  (reads SLUICE_BUILD_DIR at import)

    work = tempfile.mkdtemp(prefix="sluice-bench-")
    state = os.path.join(work, "state")
    gw = conftest.Gateway(state).start()
    try:
        c = conftest.Client(gw.url, conftest.create_key(state))
        samples, total = [], []
        for _ in range(args.n):
            t0 = time.perf_counter()
            sb = c.create()["id"]
            t1 = time.perf_counter()
            ex = c.code(sb, "print(1)")
            t2 = time.perf_counter()
            assert "".join(ex["logs"]["stdout"]) == "1\n", ex
            samples.append((t1 - t0) * 1000)
            total.append((t2 - t0) * 1000)
            c.delete(sb)
        def pct(xs, p):
            xs = sorted(xs)
            return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
        res = {"n": args.n,
               "create_ms": {"p50": statistics.median(samples), "p95": pct(samples, 95)},
               "create_to_first_result_ms": {"p50": statistics.median(total), "p95": pct(total, 95),
                                             "min": min(total), "max": max(total)}}
        print(f"create → first print(1) result over {args.n} sandboxes: "
              f"p50 {res['create_to_first_result_ms']['p50']:.1f} ms, p95 {res['create_to_first_result_ms']['p95']:.1f} ms "
              f"(create alone p50 {res['create_ms']['p50']:.1f} ms)")
        print(json.dumps(res))
    finally:
        gw.kill(signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
