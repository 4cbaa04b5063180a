#!/usr/bin/python3
"""What a notebook user feels of the kernel, in numbers: how soon an interrupt stops `while True: pass`, how
early the first line of a streaming cell arrives, and how the gateway's memory and the cell's time behave
when a cell prints far more than is kept. Not part of the pass/fail suite (the numbers depend on the machine).

Usage: tests/bench/kernel_behaviour.py [--build-dir build] [--n 10] [--flood-mb 1024]
Prints a markdown table.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from procmem import gateway_rss_mb  # noqa: E402


def interrupt_latency(client, sb, n):
    """Seconds from the interrupt request to the cell's reply, n times; the state survives each."""
    client.code(sb, "survivor = 41")
    out = []
    for i in range(n):
        marker = f"/tmp/spin-{i}"
        res = {}
        t = threading.Thread(target=lambda: res.setdefault("ex", client.code(
            sb, f"open('{marker}', 'w').close()\nwhile True: pass", timeout=60)))
        t.start()
        deadline = time.monotonic() + 30
        while client.http.get(f"/api/v1/sandboxes/{sb}/files/stat", params={"path": marker}).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit("the spinning cell never started")
            time.sleep(0.01)
        t0 = time.monotonic()
        client.http.post(f"/api/v1/sandboxes/{sb}/contexts/default/interrupt")
        t.join(30)
        out.append(time.monotonic() - t0)
        assert res["ex"]["error"]["name"] == "KeyboardInterrupt", res
    assert client.code(sb, "survivor + 1")["text"] == "42"
    return out


def first_line_lead(client, sb):
    """NDJSON: seconds between the first stdout line and end_of_execution for print; sleep 2; print."""
    t_first = t_end = None
    t0 = time.monotonic()
    with client.http.stream("POST", f"/api/v1/sandboxes/{sb}/code", headers={"Accept": "application/x-ndjson"},
                            json={"code": "import time\nprint('first')\ntime.sleep(2)\nprint('second')"}) as r:
        for line in r.iter_lines():
            if not line:
                continue
            ev = json.loads(line)
            if ev["type"] == "stdout" and t_first is None:
                t_first = time.monotonic() - t0
            if ev["type"] == "end_of_execution":
                t_end = time.monotonic() - t0
    return t_first, t_end


def flood(client, sb, gw_pid, mb):
    base = gateway_rss_mb(gw_pid)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.02):
            peak[0] = max(peak[0], gateway_rss_mb(gw_pid))

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.monotonic()
    ex = client.code(sb, f"import sys\nb = 'x' * (1 << 20)\nfor _ in range({mb}):\n    sys.stdout.write(b)", timeout=600)
    dt = time.monotonic() - t0
    stop.set()
    th.join(5)
    kept = sum(len(s) for s in ex["logs"]["stdout"])
    return dt, base, peak[0], kept, ex.get("truncated")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--flood-mb", type=int, default=1024)
    a = ap.parse_args()
    os.environ["SLUICE_BUILD_DIR"] = os.path.abspath(a.build_dir)
    import conftest
    work = tempfile.mkdtemp(prefix="sluice-kb-")
    state = os.path.join(work, "state")
    gw = conftest.Gateway(state).start()
    try:
        client = conftest.Client(gw.url, conftest.create_key(state))
        sb = client.create()["id"]
        lat = interrupt_latency(client, sb, a.n)
        first, end = first_line_lead(client, sb)
        dt, base, peak, kept, cut = flood(client, sb, gw.proc.pid, a.flood_mb)
        ms = [x * 1000 for x in lat]
        print("| measure | value |\n|---|---|")
        print(f"| interrupt → reply of `while True: pass` (n={a.n}) | p50 {statistics.median(ms):.1f} ms, "
              f"max {max(ms):.1f} ms; state kept |")
        print(f"| NDJSON `print; sleep 2; print`: first line / end | {first * 1000:.0f} ms / {end * 1000:.0f} ms |")
        print(f"| cell printing {a.flood_mb} MiB | {dt:.1f} s ({a.flood_mb / dt:.0f} MiB/s), kept {kept >> 20} MiB, "
              f"truncated={cut}; gateway RSS {base:.1f} → peak {peak:.1f} MB |")
    finally:
        gw.kill()
        conftest.reap.reap([state])  # the sandbox outlives its gateway by design


if __name__ == "__main__":
    main()
