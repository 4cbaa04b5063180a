#!/usr/bin/python3
"""What an operator of a shared gateway relies on, in numbers: how late past `expires_at` an idle sandbox is
deleted, how long a SIGTERM takes with a request in flight, and how long a restarted gateway takes until
every sandbox it adopted answers again. Not part of the pass/fail suite.

Usage: tests/bench/lifecycle_timing.py [--build-dir build] [--n 10]
Prints a markdown table.
"""
import argparse
import datetime
import os
import signal
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--n", type=int, default=10)
    a = ap.parse_args()
    os.environ["SLUICE_BUILD_DIR"] = os.path.abspath(a.build_dir)
    import conftest
    state = os.path.join(tempfile.mkdtemp(prefix="sluice-lt-"), "state")
    gw = conftest.Gateway(state).start()
    key = conftest.create_key(state)
    c = conftest.Client(gw.url, key)
    rows = []
    try:
        # 1. expiry lag: n sandboxes with timeout 1 s; when does each disappear after its expires_at?
        sbs = [c.create(timeout=1) for _ in range(a.n)]
        due = {s["id"]: ts(s["expires_at"]) for s in sbs}
        gone_at = {}
        deadline = time.monotonic() + 60
        while len(gone_at) < len(due) and time.monotonic() < deadline:
            for sid in due:
                if sid not in gone_at and c.http.get(f"/api/v1/sandboxes/{sid}").status_code == 404:
                    gone_at[sid] = time.time()
            time.sleep(0.02)  # sampling interval of the measurement
        lag = [(gone_at[s] - due[s]) * 1000 for s in gone_at]
        rows.append((f"idle sandbox deleted after its expires_at (n={len(lag)}, 1 s resolution of expires_at)",
                     f"p50 {statistics.median(lag):.0f} ms, max {max(lag):.0f} ms"))

        # 2. SIGTERM with a 2 s request in flight: the request is answered, then the gateway exits
        keep = [c.create()["id"] for _ in range(a.n)]
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", c.exec(keep[0], "sleep 2; echo done")))
        t.start()
        time.sleep(0.5)  # let the request reach the runner (this is a measurement, not a test)
        t0 = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        gw.proc.wait(30)
        t_exit = time.monotonic() - t0
        t.join(10)
        answered = out.get("r", {}).get("stdout") == "done\n"
        rows.append(("SIGTERM with a 2 s exec in flight → gateway exit",
                     f"{t_exit * 1000:.0f} ms; the exec was answered: {answered}"))

        # 3. restart: start → every adopted sandbox answers an exec
        t0 = time.monotonic()
        gw.lines.clear()
        gw.start()
        t_listen = time.monotonic() - t0
        c = conftest.Client(gw.url, key)
        for sid in keep:
            conftest.wait_until(lambda: c.http.get(f"/api/v1/sandboxes/{sid}").json()["data"]["status"] == "running",
                                timeout=30, what="adoption")
            assert c.exec(sid, "echo ok")["stdout"] == "ok\n"
        t_all = time.monotonic() - t0
        rows.append((f"restart on the same state dir with {len(keep)} sandboxes: listening / all answer an exec",
                     f"{t_listen * 1000:.0f} ms / {t_all * 1000:.0f} ms"))
    finally:
        try:
            for s in c.http.get("/api/v1/sandboxes").json().get("data", []):
                c.http.delete(f"/api/v1/sandboxes/{s['id']}")
        finally:
            gw.kill(signal.SIGTERM)
            conftest.reap.reap([state])
    print("| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
