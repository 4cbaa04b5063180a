"""Abuse under load: five sandboxes attack their limits at once while a sixth keeps answering.

Six sandboxes with tight limits; in five of them, in parallel: a fork bomb (pids), a memory bomb (memory),
a disk filler (ephemeral-storage), four CPU spinners (cpu) and an output flood (ended by the request's own
timeout). Meanwhile GET /health and `x=1` in the sixth sandbox are sampled back to back: every sample must
answer within BOUND seconds (a bound, not a benchmark; p50/max are printed). The host and the gateway must be
unharmed (gateway alive with bounded RSS, host memory not collapsed, no OOM kill outside a sandbox's own
memory cgroup), and deleting the five must leave nothing (processes, cgroups, mounts, netns, veth, own nft table).

Everything is bounded: every HTTP call has a timeout, every attack a few seconds, every wait a deadline, and
an alarm fails the test (its fixtures still clean up) if the whole of it passes DEADLINE seconds."""
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conftest import API, _it

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from sandbox_probe import Snapshot  # noqa: E402

wait_until = _it.wait_until
LIMITS = {"cpu": "250m", "memory": "128Mi", "pids": 32, "ephemeral-storage": "32Mi"}
ATTACK_S = 4          # each attack's own timeout
BOUND = 2.0           # every sample of /health and of x=1 answers within this
HTTP_TIMEOUT = 15     # no HTTP call waits longer
DEADLINE = 80         # the whole test body
GATEWAY_RSS_MAX = 200 << 20
MiB = 1 << 20


class Deadline(Exception):
    pass


@pytest.fixture
def deadline():
    def fire(signum, frame):
        raise Deadline(f"test_abuse passed its {DEADLINE} s deadline")
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(DEADLINE)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def client(sec, **kw):
    return httpx.Client(base_url=sec.gw.url, headers={"X-API-Key": sec.gw.key}, timeout=HTTP_TIMEOUT, **kw)


def cgroup_file(cgroups, name):
    """The first of a sandbox's cgroup directories holding file name (cgroup v1: one per controller)."""
    for d in cgroups:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_kv(path):
    try:
        with open(path) as f:
            return {k: int(v) for k, v in (line.split() for line in f if len(line.split()) == 2)}
    except (OSError, ValueError):
        return {}


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemAvailable")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def kernel_log():
    """(timestamp, line) of the kernel log, [] when it cannot be read."""
    r = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10)
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"\[\s*(\d+\.\d+)\]", line)
        if m:
            out.append((float(m.group(1)), line))
    return out


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


# ---- the attacks: each returns what it saw, each bounded by its request's own timeout -------------------

def fork_bomb(c, sb):
    r = c.post(f"{API}/{sb}/exec", json={"command": "bomb() { bomb | bomb & }; bomb; sleep 60",
                                          "timeout_ms": ATTACK_S * 1000})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def again(attack):
    """Repeats a short attack until ATTACK_S has passed: one result per round, all of them returned."""
    def repeated(c, sb):
        rounds, t0 = [], time.monotonic()
        while time.monotonic() - t0 < ATTACK_S:
            rounds.append(attack(c, sb))
        return {"rounds": rounds}
    return repeated


@again
def memory_bomb(c, sb):
    """Allocates until the memory cgroup kills the kernel; again, once it is back."""
    code = "chunks = []\nwhile True:\n    b = bytearray(8 << 20)\n    b[::4096] = b'\\x01' * ((8 << 20) // 4096)\n" \
           "    chunks.append(b)"
    r = c.post(f"{API}/{sb}/code", json={"code": code, "timeout": ATTACK_S})
    assert r.status_code == 200, r.text
    return r.json()["data"]


@again
def disk_filler(c, sb):
    """Fills the sandbox's writable tmpfs to ENOSPC, then frees it; again."""
    r = c.post(f"{API}/{sb}/exec", json={
        "command": "cat /dev/zero > /tmp/fill; echo rc=$?; stat -c 'size=%s' /tmp/fill; "
                   "echo more > /home/user/more; rm -f /tmp/fill /home/user/more",
        "timeout_ms": ATTACK_S * 1000})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def cpu_spinners(c, sb):
    r = c.post(f"{API}/{sb}/exec", json={
        "command": "for i in 1 2 3 4; do sh -c 'while :; do :; done' & done; sleep %d; "
                   "cat $(for p in $(jobs -p); do echo /proc/$p/stat; done) | awk '{t += $14 + $15} END "
                   "{print \"ticks=\" t}'; wait" % (ATTACK_S - 1),
        "timeout_ms": ATTACK_S * 1000})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def output_flood(c, sb):
    r = c.post(f"{API}/{sb}/code", json={"code": "while True:\n    print('flood' * 200)", "timeout": ATTACK_S})
    assert r.status_code == 200, r.text
    return r.json()["data"]


ATTACKS = {"fork": fork_bomb, "memory": memory_bomb, "disk": disk_filler, "cpu": cpu_spinners,
           "flood": output_flood}


def test_abuse_under_load(sec, deadline):
    state = sec.gw.state_dir
    gw_pid = sec.gw.proc.pid
    c = client(sec)
    t_start = time.monotonic()

    # ---- six sandboxes, tight limits ----
    ids = {}
    for name in list(ATTACKS) + ["probe"]:
        r = c.post(API, json={"name": f"ab-{name}", "limits": LIMITS})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["data"]["id"]
    probe = ids["probe"]
    snaps = {name: Snapshot(state, ids[name]) for name in ATTACKS}
    probe_snap = Snapshot(state, probe)
    assert c.post(f"{API}/{probe}/code", json={"code": "x = 1", "timeout": 10}).status_code == 200  # warm
    for name, snap in snaps.items():  # warm the python kernels of the code attacks
        if name in ("memory", "flood"):
            r = c.post(f"{API}/{ids[name]}/code", json={"code": "1", "timeout": 10})
            assert r.status_code == 200, r.text
    create_s = time.monotonic() - t_start
    log_before = kernel_log()
    log_ts = log_before[-1][0] if log_before else 0.0
    mem_before = mem_available()
    rss_before = rss(gw_pid)
    cpu_cg = snaps["cpu"].cgroups

    # ---- samplers: /health, x=1 in the sixth sandbox, gateway RSS / host memory / bomb pids ----
    stop = threading.Event()
    health, code, failures = [], [], []
    watch = {"rss": rss_before, "mem_min": mem_before, "pids_max": 0}
    pids_file = cgroup_file(snaps["fork"].cgroups, "pids.current")

    def sample_health():
        with httpx.Client(base_url=sec.gw.url, timeout=BOUND * 2) as h:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    r = h.get("/health")
                    ok = r.status_code == 200 and r.json().get("status") == "ok"
                except Exception as e:  # noqa: BLE001 — a failed sample is recorded, not raised in a thread
                    ok, r = False, e
                health.append(time.monotonic() - t0)
                if not ok:
                    failures.append(("health", repr(r)))

    def sample_code():
        with client(sec) as h:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    r = h.post(f"{API}/{probe}/code", json={"code": "x = 1", "timeout": BOUND * 2},
                               timeout=BOUND * 2)
                    ok = r.status_code == 200 and r.json()["data"]["error"] is None
                except Exception as e:  # noqa: BLE001
                    ok, r = False, e
                code.append(time.monotonic() - t0)
                if not ok:
                    failures.append(("code", repr(r)))

    def sample_host():
        while not stop.wait(0.05):
            try:
                watch["rss"] = max(watch["rss"], rss(gw_pid))
            except OSError:
                failures.append(("gateway", "gone"))
            watch["mem_min"] = min(watch["mem_min"], mem_available())
            watch["pids_max"] = max(watch["pids_max"], read_int(pids_file) or 0)

    samplers = [threading.Thread(target=f, daemon=True) for f in (sample_health, sample_code, sample_host)]
    for t in samplers:
        t.start()

    # ---- the five attacks at once ----
    results, errors = {}, {}

    def run(name):
        try:
            with client(sec) as ac:
                t0 = time.monotonic()
                results[name] = ATTACKS[name](ac, ids[name])
                results[name]["_s"] = time.monotonic() - t0
        except Exception as e:  # noqa: BLE001
            errors[name] = repr(e)

    t_attack = time.monotonic()
    attackers = [threading.Thread(target=run, args=(n,), daemon=True) for n in ATTACKS]
    for t in attackers:
        t.start()
    end = t_attack + ATTACK_S + HTTP_TIMEOUT + 5  # one deadline for all of them
    for t in attackers:
        t.join(timeout=max(0.0, end - time.monotonic()))
    attack_s = time.monotonic() - t_attack
    stop.set()
    for t in samplers:
        t.join(timeout=BOUND * 2 + 5)
    assert not any(t.is_alive() for t in attackers + samplers), "an attack or a sampler did not end"

    # ---- the numbers ----
    print(f"\ncreate+warm of 6 sandboxes: {create_s:.2f} s; attacks ran {attack_s:.2f} s")
    for what, lat in (("GET /health", health), ("x=1 in the sixth sandbox", code)):
        if lat:
            print(f"{what}: n={len(lat)} p50={statistics.median(lat) * 1000:.1f} ms "
                  f"p99={pct(lat, 0.99) * 1000:.1f} ms max={max(lat) * 1000:.1f} ms")
    print(f"gateway RSS {rss_before / MiB:.1f} -> max {watch['rss'] / MiB:.1f} MiB; host MemAvailable "
          f"{mem_before / MiB:.0f} -> min {watch['mem_min'] / MiB:.0f} MiB; fork bomb max pids {watch['pids_max']}")
    for name in ATTACKS:
        r = results.get(name) or {}
        err = errors.get(name) or r.get("error")
        err = err.get("name") if isinstance(err, dict) else err
        print(f"attack {name}: {r.get('_s', 0):.2f} s, error={err} exit={r.get('exit_code')} "
              f"truncated={r.get('truncated')}")

    # ---- the service kept answering ----
    assert not errors, errors
    assert not failures, failures[:5]
    assert len(health) >= 10 and len(code) >= 5, (len(health), len(code))
    assert max(health) < BOUND, f"/health took {max(health):.2f} s"
    assert max(code) < BOUND, f"x=1 took {max(code):.2f} s"
    assert attack_s < ATTACK_S + 10, f"attacks ran {attack_s:.1f} s past their own {ATTACK_S} s timeouts"

    # ---- each attack met its limit ----
    assert 0 < watch["pids_max"] <= LIMITS["pids"], watch["pids_max"]
    assert results["fork"]["exit_code"] == 124, results["fork"]
    assert (read_kv(cgroup_file(snaps["fork"].cgroups, "pids.events") or "").get("max", 1)) > 0

    rounds = results["memory"]["rounds"]
    for mem in rounds:
        assert mem["error"] is not None, mem
        assert any(k in mem["error"]["name"] + mem["error"]["value"] for k in ("OOM", "MemoryError")), mem["error"]
    peak = read_int(cgroup_file(snaps["memory"].cgroups, "memory.max_usage_in_bytes") or "") \
        or read_int(cgroup_file(snaps["memory"].cgroups, "memory.peak") or "")
    print(f"memory bomb: {len(rounds)} OOM kills, cgroup peak {(peak or 0) / MiB:.1f} MiB (limit 128)")
    assert peak is None or peak <= 128 * MiB, peak

    rounds = results["disk"]["rounds"]
    sizes = []
    for d in rounds:
        out = d["stdout"] + d["stderr"]
        assert "No space left on device" in out, out
        sizes.append(int(re.search(r"size=(\d+)", out).group(1)))
    print(f"disk filler: {len(rounds)} fills to ENOSPC, largest file {max(sizes) / MiB:.1f} MiB (limit 32)")
    assert 0 < max(sizes) <= 32 * MiB, sizes

    cpu = results["cpu"]
    assert cpu["exit_code"] == 124, cpu
    cores = int(re.search(r"ticks=(\d+)", cpu["stdout"]).group(1)) / os.sysconf("SC_CLK_TCK") / (ATTACK_S - 1)
    throttled = read_kv(cgroup_file(cpu_cg, "cpu.stat") or "")
    print(f"cpu spinners: {cores:.2f} cores over {ATTACK_S - 1} s (limit 0.25), cpu.stat {throttled}")
    assert cores < 0.5, cores
    assert throttled.get("nr_throttled", 1) > 0, throttled

    flood = results["flood"]
    assert flood["_s"] < ATTACK_S + 5, flood["_s"]
    assert flood["error"] is not None, {k: v for k, v in flood.items() if k != "logs"}
    assert sum(map(len, flood["logs"]["stdout"])) <= 9 * MiB

    # ---- the host and the gateway are unharmed ----
    assert sec.gw.proc.poll() is None, "gateway died"
    assert c.get("/health", timeout=BOUND).status_code == 200
    assert watch["rss"] < GATEWAY_RSS_MAX, f"gateway RSS {watch['rss'] / MiB:.0f} MiB"
    assert watch["mem_min"] > min(mem_before // 2, mem_before - 2048 * MiB), (mem_before, watch["mem_min"])
    for name, snap in list(snaps.items()) + [("probe", probe_snap)]:
        assert os.path.exists(f"/proc/{snap.runner}"), f"runner of {name} died"
    # every OOM kill since the start stayed inside one sandbox's own memory cgroup: none of the host's
    for ts, line in kernel_log():
        if ts > log_ts and "oom-kill:" in line:
            m = re.search(r"constraint=(\w+).*oom_memcg=(\S*?),task_memcg=(\S*?),", line)
            assert m and m.group(1) == "CONSTRAINT_MEMCG" and os.path.basename(m.group(2)).startswith("sluice-") \
                and m.group(2) == m.group(3), f"OOM kill outside a sandbox: {line}"
    assert c.post(f"{API}/{probe}/code", json={"code": "x + 1", "timeout": 10}).json()["data"]["text"] == "2"

    # ---- delete the five: nothing left behind ----
    for name, snap in snaps.items():  # the probe sees what a live sandbox holds (so "none left" means something)
        live = " | ".join(snap.leftovers())
        # open egress: no nft table of its own (the host-wide "inet sluice" is shared and stays)
        for what in ("runner", "pid ns", "net ns", "cgroup", "veth") + (("nft table",) if snap.nft else ()):
            assert what in live, (name, what, live)
    for name in ATTACKS:
        r = c.delete(f"{API}/{ids[name]}")
        assert r.status_code == 200, r.text
    left = {}

    def clean():
        left.clear()
        left.update({n: s.leftovers() for n, s in snaps.items() if s.leftovers()})
        return not left
    t_del = time.monotonic()
    while not clean():
        assert time.monotonic() - t_del < 15, f"left behind 15 s after delete: {left}"
        time.sleep(0.1)  # polling a bounded cleanup check
    print(f"delete of the five, everything gone: {time.monotonic() - t_del:.2f} s")
    for name in ATTACKS:
        assert not os.path.exists(os.path.join(state, "sandboxes", ids[name]))
        assert c.get(f"{API}/{ids[name]}").status_code == 404
    assert c.delete(f"{API}/{probe}").status_code == 200
    wait_until(lambda: not probe_snap.leftovers(), timeout=15, what="cleanup of the probe sandbox")
    assert sec.gw.proc.poll() is None and rss(gw_pid) < GATEWAY_RSS_MAX
    c.close()
    print(f"whole test body: {time.monotonic() - t_start:.1f} s")
