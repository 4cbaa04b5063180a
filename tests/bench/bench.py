#!/usr/bin/python3
"""Sluice side by side with jupyter_server + ipykernel and the physical floor (bubblewrap), in one run.

Usage: tests/bench/bench.py [--build-dir build] [--quick] [--full] [--out tests/bench/results]
  --quick  fewer samples (a smoke run, ~1 min)
  --full   also measure 500 idle sandboxes (needs memory; off by default)

Prints a markdown table with ratios to the peer and the floor, writes JSON and a PNG chart. Not part of the
pass/fail suite: the numbers depend on the machine. A measurement whose route Sluice does not serve yet is
reported as n/a, never guessed.
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from peers import JupyterPeer, JupyterKernelClient, bwrap_print1  # noqa: E402
from procmem import gateway_rss_mb, sandbox_pss_mb  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(xs):
    return {"p50": pct(xs, 50), "p95": pct(xs, 95), "p99": pct(xs, 99), "n": len(xs)} if xs else None


class Sluice:
    def __init__(self, build_dir, work, pool=0):
        os.environ["SLUICE_BUILD_DIR"] = os.path.abspath(build_dir)
        import conftest
        self.conftest = conftest
        self.state = state = os.path.join(work, "state")
        os.makedirs(state, exist_ok=True)
        self.config = {"max_sandboxes": 1000, "create_timeout_s": 120}
        if pool:
            self.config["pool"] = {"python": pool}
        self.gw = conftest.Gateway(state, config=self.config).start()
        self.key = conftest.create_key(state)
        self.build_dir = build_dir
        self.url = self.gw.url
        self.http = httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=300)

    def client(self):
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=300)

    def create(self, http=None):
        r = (http or self.http).post("/api/v1/sandboxes", json={})
        r.raise_for_status()
        return r.json()["data"]["id"]

    def code(self, sb, code, http=None):
        r = (http or self.http).post(f"/api/v1/sandboxes/{sb}/code", json={"code": code})
        r.raise_for_status()
        return r.json()["data"]

    def delete(self, sb, http=None):
        (http or self.http).delete(f"/api/v1/sandboxes/{sb}")

    def delete_all(self):
        for sb in self.http.get("/api/v1/sandboxes").json()["data"]:
            self.delete(sb["id"])

    def has_jupyter(self):
        return self.http.get("/api/kernelspecs").status_code == 200

    def pool_ready(self):
        return self.http.get("/api/v1/status").json()["data"].get("pool", {}).get("python", {}).get("ready", 0)

    def close(self):
        try:
            self.delete_all()
        finally:
            self.gw.kill(signal.SIGTERM)
        if "pool" in self.config:  # hidden members: a restart with pool size 0 drops them
            self.gw = self.conftest.Gateway(self.state, config={**self.config, "pool": {"python": 0}}).start()
            self.conftest.wait_until(lambda: not os.listdir(os.path.join(self.state, "sandboxes")), 60, "pool drained")
            self.gw.kill(signal.SIGTERM)


def bench_pool(build_dir, n):
    """create → first print(1) claimed from a warm pool of 1 (a second gateway), refilled between samples."""
    work = tempfile.mkdtemp(prefix="sluice-bench-pool-")
    sp = Sluice(build_dir, work, pool=1)
    try:
        t = []
        for _ in range(n):
            sp.conftest.wait_until(lambda: sp.pool_ready() == 1, 120, "a warm pool member")
            t0 = time.perf_counter()
            r = sp.http.post("/api/v1/sandboxes", json={})
            r.raise_for_status()
            sb = r.json()["data"]
            ex = sp.code(sb["id"], "print(1)")
            t.append((time.perf_counter() - t0) * 1000)
            assert sb.get("pooled") and "".join(ex["logs"]["stdout"]) == "1\n", (sb, ex)
            sp.delete(sb["id"])
        return summary(t)
    finally:
        sp.close()
        shutil.rmtree(work, ignore_errors=True)


def bench_create(sl, peer, n):
    out = {}
    cold = []
    for _ in range(n):
        t0 = time.perf_counter()
        sb = sl.create()
        ex = sl.code(sb, "print(1)")
        cold.append((time.perf_counter() - t0) * 1000)
        assert "".join(ex["logs"]["stdout"]) == "1\n", ex
        sl.delete(sb)
    out["sluice_cold"] = summary(cold)
    out["sluice_pool"] = bench_pool(sl.build_dir, max(n, 20))
    jt = []
    for _ in range(n):
        t0 = time.perf_counter()
        kid = peer.start_kernel()
        with JupyterKernelClient(peer.ws_url(kid)) as kc:
            outs = kc.execute("print(1)")
        jt.append((time.perf_counter() - t0) * 1000)
        assert outs["stdout"] == "1\n", outs
        peer.delete_kernel(kid)
    out["jupyter"] = summary(jt)
    out["floor"] = summary([bwrap_print1() for _ in range(n)])
    return out


def stream_ws_roundtrip(sl, sb, n):
    """x=1 over GET /api/v1/sandboxes/{sb}/stream: one code request → its done event."""
    async def run():
        url = sl.url.replace("http", "ws") + f"/api/v1/sandboxes/{sb}/stream?token={sl.key}"
        async with websockets.connect(url, subprotocols=["sluice.stream.v1"], max_size=None) as ws:
            t = []
            for i in range(n + 1):
                t0 = time.perf_counter()
                await ws.send(json.dumps({"type": "code", "id": i, "code": "x=1"}))
                while json.loads(await ws.recv())["type"] != "done":
                    pass
                t.append((time.perf_counter() - t0) * 1000)
            return t[1:]
    return summary(asyncio.run(run()))


def bench_roundtrip(sl, peer, n):
    out = {}
    sb = sl.create()
    sl.code(sb, "x = 0")
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        sl.code(sb, "x=1")
        t.append((time.perf_counter() - t0) * 1000)
    out["sluice_rest"] = summary(t)
    out["sluice_stream_ws"] = stream_ws_roundtrip(sl, sb, n)
    out["sluice_jupyter_ws"] = None
    if sl.has_jupyter():
        r = sl.http.post("/api/kernels", json={"name": "python3"})
        if r.status_code == 201:
            kid = r.json()["id"]
            ws = sl.url.replace("http", "ws") + f"/api/kernels/{kid}/channels?token={sl.key}"
            with JupyterKernelClient(ws) as kc:
                kc.execute("x=0")
                t = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    kc.execute("x=1")
                    t.append((time.perf_counter() - t0) * 1000)
            out["sluice_jupyter_ws"] = summary(t)
            sl.http.delete(f"/api/kernels/{kid}")
    sl.delete(sb)
    kid = peer.start_kernel()
    with JupyterKernelClient(peer.ws_url(kid)) as kc:
        kc.execute("x=0")
        t = []
        for _ in range(n):
            t0 = time.perf_counter()
            kc.execute("x=1")
            t.append((time.perf_counter() - t0) * 1000)
    peer.delete_kernel(kid)
    out["jupyter_ws"] = summary(t)
    return out


def bench_throughput(sl, counts, seconds):
    out = {}
    for k in counts:
        sbs = [sl.create() for _ in range(k)]
        for sb in sbs:  # busy means ready: the interpreter's first start is measured by bench_create
            sl.code(sb, "x=0")
        done = [0] * k
        stop = time.perf_counter() + seconds

        def worker(i):
            with sl.client() as h:
                while time.perf_counter() < stop:
                    sl.code(sbs[i], "x=1", http=h)
                    done[i] += 1

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=k) as ex:
            list(ex.map(worker, range(k)))
        out[str(k)] = sum(done) / (time.perf_counter() - t0)
        for sb in sbs:
            sl.delete(sb)
    return out


def bench_memory(sl, counts):
    out = {"pss_mb_per_sandbox": {}, "gateway_rss_mb": {}}
    created = []
    for k in counts:
        while len(created) < k:
            created.append(sl.create())
        for sb in created:  # make every interpreter real, not just forked
            sl.code(sb, "1")
        total = sandbox_pss_mb(sl.gw.state_dir, created)
        out["pss_mb_per_sandbox"][str(k)] = total / k
        out["gateway_rss_mb"][str(k)] = gateway_rss_mb(sl.gw.proc.pid)
    for sb in created:
        sl.delete(sb)
    return out


def bench_concurrent_creates(sl, n):
    """n creates at once; failures are counted and their first message kept, never fatal to the run."""
    def one(_):
        with sl.client() as h:
            t0 = time.perf_counter()
            r = h.post("/api/v1/sandboxes", json={})
            dt = (time.perf_counter() - t0) * 1000
            return (dt, r.json()["data"]["id"], None) if r.status_code == 201 else (dt, None, r.text[:300])

    with ThreadPoolExecutor(max_workers=n) as ex:
        res = list(ex.map(one, range(n)))
    for _, sb, _ in res:
        if sb:
            sl.delete(sb)
    out = summary([t for t, sb, _ in res if sb]) or {}
    errors = [e for _, sb, e in res if not sb]
    out["failed"] = len(errors)
    if errors:
        out["first_error"] = errors[0]
    return out


STREAM_CODE = "import sys\nchunk = 'x' * 65535 + '\\n'\nfor _ in range({n}):\n    sys.stdout.write(chunk)\n"


class PeakRss:
    """Samples the gateway's RSS every 50 ms while the with-block runs."""
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def __enter__(self):
        def sample():
            while not self.stop.is_set():
                self.peak = max(self.peak, gateway_rss_mb(self.pid))
                self.stop.wait(0.05)
        threading.Thread(target=sample, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()


def ws_raw_connect(sl, sb):
    """A websocket on GET /api/v1/sandboxes/{sb}/stream over a plain socket: the reader is a recv loop
    with a minimal frame parser, so the client is not what limits the measurement (the websockets
    package tops out well below the gateway)."""
    import socket
    host, port = sl.url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall((f"GET /api/v1/sandboxes/{sb}/stream?token={sl.key} HTTP/1.1\r\nHost: x\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sluice.stream.v1\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    return s, bytearray(rest)


def ws_raw_send(s, obj):
    p = json.dumps(obj).encode()
    n = len(p)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    s.sendall(hdr + b"\0\0\0\0" + p)  # zero mask key: payload unchanged


def ws_raw_events(s, buf):
    """Yields (payload length, payload or None) per server frame; small payloads are returned for
    parsing, large ones only counted."""
    while True:
        while len(buf) < 10:
            d = s.recv(1 << 20)
            if not d:
                return
            buf += d
        n, off = buf[1] & 0x7F, 2
        if n == 126:
            n, off = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            n, off = int.from_bytes(buf[2:10], "big"), 10
        while len(buf) < off + n:
            d = s.recv(1 << 20)
            if not d:
                return
            buf += d
        yield n, (bytes(buf[off:off + n]) if n < 4096 else None)
        del buf[:off + n]


def bench_stream_ws(sl, mb):
    """stdout throughput through the native stream websocket: a cell writing 64 KiB chunks."""
    sb = sl.create()
    got = 0
    with PeakRss(sl.gw.proc.pid) as rss:
        s, buf = ws_raw_connect(sl, sb)
        t0 = time.perf_counter()
        ws_raw_send(s, {"type": "code", "id": "t", "code": STREAM_CODE.format(n=mb * 16)})
        for n, small in ws_raw_events(s, buf):
            got += n
            if small and json.loads(small).get("type") == "done":
                break
        dt = time.perf_counter() - t0
        s.close()
    sl.delete(sb)
    return {"mb_per_s": got / dt / 1e6, "gateway_peak_rss_mb": rss.peak}


def bench_stream(sl, mb):
    """stdout throughput through the NDJSON streaming code route (the same cell)."""
    sb = sl.create()
    got = 0
    with PeakRss(sl.gw.proc.pid) as rss:
        t0 = time.perf_counter()
        with sl.client() as h:
            with h.stream("POST", f"/api/v1/sandboxes/{sb}/code", json={"code": STREAM_CODE.format(n=mb * 16)},
                          headers={"Accept": "application/x-ndjson"}) as r:
                for chunk in r.iter_raw(1 << 20):
                    got += len(chunk)
        dt = time.perf_counter() - t0
    sl.delete(sb)
    return {"mb_per_s": got / dt / 1e6, "gateway_peak_rss_mb": rss.peak}


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    return f"{v:.2f}{unit}" if v < 10 else f"{v:.0f}{unit}" if v >= 100 else f"{v:.1f}{unit}"


def ratio(a, b):
    return "n/a" if a is None or b is None or a == 0 else f"{b / a:.1f}×"


def table(r):
    c, rt = r["create"], r["roundtrip"]
    g = lambda s, k="p50": s.get(k) if s else None  # noqa: E731
    rows = [
        ("create → first result, cold p50 (ms)", g(c["sluice_cold"]), g(c["jupyter"]), g(c["floor"])),
        ("create → first result, cold p95 (ms)", g(c["sluice_cold"], "p95"), g(c["jupyter"], "p95"),
         g(c["floor"], "p95")),
        ("create → first result, pool p50 (ms)", g(c["sluice_pool"]), None, None),
        ("x=1 REST p50 (ms)", g(rt["sluice_rest"]), None, None),
        ("x=1 REST p99 (ms)", g(rt["sluice_rest"], "p99"), None, None),
        ("x=1 native websocket p50 (ms)", g(rt["sluice_stream_ws"]), None, None),
        ("x=1 Jupyter websocket p50 (ms)", g(rt["sluice_jupyter_ws"]), g(rt["jupyter_ws"]), None),
        ("x=1 Jupyter websocket p99 (ms)", g(rt["sluice_jupyter_ws"], "p99"), g(rt["jupyter_ws"], "p99"), None),
    ]
    for k, v in r["throughput"].items():
        rows.append((f"executions/s, {k} sandboxes busy", v, None, None))
    for k, v in r["memory"]["pss_mb_per_sandbox"].items():
        rows.append((f"PSS per idle sandbox at {k} (MB)", v, None, None))
    for k, v in r["memory"]["gateway_rss_mb"].items():
        rows.append((f"gateway RSS at {k} sandboxes (MB)", v, None, None))
    rows.append(("stdout throughput, native websocket (MB/s)", r["stream_ws"]["mb_per_s"], None, None))
    rows.append(("stdout throughput, NDJSON code route (MB/s)", r["stream"]["mb_per_s"], None, None))
    rows.append(("gateway peak RSS while streaming (MB)",
                 max(r["stream"]["gateway_peak_rss_mb"], r["stream_ws"]["gateway_peak_rss_mb"]), None, None))
    rows.append(("100 concurrent creates p50 (ms)", g(r["concurrent"]), None, None))
    rows.append(("100 concurrent creates p99 (ms)", g(r["concurrent"], "p99"), None, None))
    rows.append(("100 concurrent creates that failed", r["concurrent"].get("failed"), None, None))
    lines = ["| measure | Sluice | jupyter_server + ipykernel | floor (bwrap) | peer / Sluice | floor / Sluice |",
             "|---|---|---|---|---|---|"]
    for name, s, j, f in rows:
        lines.append(f"| {name} | {fmt(s)} | {fmt(j)} | {fmt(f)} | {ratio(s, j)} | {ratio(s, f)} |")
    return "\n".join(lines), rows


def chart(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    picked = [r for r in rows if "(ms)" in r[0] and r[1] is not None and (r[2] is not None or r[3] is not None)]
    if not picked:
        return
    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    xs = range(len(picked))
    w = 0.27
    for off, idx, label in ((-w, 1, "Sluice"), (0, 2, "jupyter_server + ipykernel"), (w, 3, "floor (bwrap)")):
        ax.bar([x + off for x in xs], [r[idx] or 0 for r in picked], w, label=label)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0].replace(" (ms)", "") for r in picked], rotation=15, ha="right", fontsize=7)
    ax.set_ylabel("ms (lower is better)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true")
    a = ap.parse_args()
    n_create, n_rt, secs = (5, 100, 2) if a.quick else (20, 1000, 5)
    mem_counts = [1, 10] if a.quick else ([1, 100, 500] if a.full else [1, 100])
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    sl = Sluice(a.build_dir, work)
    peer = JupyterPeer(work)
    res = {"machine": os.uname().nodename, "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                           time.gmtime())}
    try:
        res["create"] = bench_create(sl, peer, n_create)
        res["roundtrip"] = bench_roundtrip(sl, peer, n_rt)
        res["throughput"] = bench_throughput(sl, [1, 8] if a.quick else [1, 8, 64], secs)
        res["memory"] = bench_memory(sl, mem_counts)
        res["stream_ws"] = bench_stream_ws(sl, 100 if a.quick else 500)
        res["stream"] = bench_stream(sl, 100 if a.quick else 500)
        res["concurrent"] = bench_concurrent_creates(sl, 20 if a.quick else 100)
    finally:
        sl.close()
        peer.close()
        shutil.rmtree(work, ignore_errors=True)
    md, rows = table(res)
    os.makedirs(a.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(a.out, f"bench-{stamp}.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, f"bench-{stamp}.md"), "w") as f:
        f.write(md + "\n")
    chart(rows, os.path.join(a.out, f"bench-{stamp}.png"))
    print(md)
    print(f"\nwritten: {a.out}/bench-{stamp}.{{json,md,png}}")


if __name__ == "__main__":
    main()
