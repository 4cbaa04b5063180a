"""The zygote-born Python driver (protocol/docs/zygote.md) against a cold one: same isolation, nothing of
the zygote's left in it (fds, threads, random state, host paths), no way back to the zygote. A sandbox whose
env sets SLUICE_PY_* gets a cold driver (spawned by init): the reference every comparison uses."""
import json
import os

import pytest

API = "/api/v1/sandboxes"
COLD = {"SLUICE_PY_COLD": "1"}  # a SLUICE_PY_* variable in the sandbox's env: the driver starts cold

NS = ("user", "mnt", "net", "uts", "ipc", "pid", "cgroup")
PROBE = "NS = %r\n" % (NS,) + r'''
import json, os, socket
def rl(p):
    try:
        return os.readlink(p)
    except OSError as e:
        return "ERR " + e.strerror
st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
st = {k: v.strip() for k, v in st.items()}
ns = {n: rl(f"/proc/self/ns/{n}") for n in NS}
print("PROBE" + json.dumps({
    "status": {k: st.get(k) for k in ("PPid", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
                                     "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", "Threads")},
    "ns": ns, "cgroup": open("/proc/self/cgroup").read(), "hostname": socket.gethostname(),
    "root": sorted(os.listdir("/")), "cwd": os.getcwd(), "uid": os.getuid(), "euid": os.geteuid(),
    "cmdline": open("/proc/self/cmdline").read(), "exe": rl("/proc/self/exe"),
    "environ": open("/proc/self/environ").read(), "maps": open("/proc/self/maps").read(),
    "fds": {f: rl(f"/proc/self/fd/{f}") for f in os.listdir("/proc/self/fd")}}))
'''


def probe(sec, sb):
    d = sec.c.code(sb, PROBE)
    out = "".join(d["logs"]["stdout"])
    assert d["error"] is None and "PROBE" in out, d
    p = json.loads(out.split("PROBE", 1)[1])
    # the namespaces of a process init spawned in the same sandbox (a shell command)
    links = sec.out(sb, " ; ".join(f"readlink /proc/self/ns/{n}" for n in NS)).split()
    p["sandbox_ns"] = dict(zip(NS, links))
    return p


@pytest.fixture(scope="module")
def pair(sec):
    """(zygote-born, cold) drivers' probes, root in the user namespace."""
    z, c = sec.create(name="zy"), sec.create(name="cold", env=COLD)
    out = probe(sec, z), probe(sec, c)
    sec.c.delete(z)
    sec.c.delete(c)
    return out


def test_the_default_driver_is_zygote_born_and_the_reference_is_cold(pair):
    z, c = pair
    assert z["status"]["PPid"] == "0", z["status"]  # its parent, the zygote, is outside the pid namespace
    assert c["status"]["PPid"] == "1", c["status"]  # init spawned it


@pytest.mark.parametrize("non_root", [False, True])
def test_isolation_equals_a_cold_driver(sec, pair, non_root):
    if non_root:
        body = {"pod_non_root": True}
        z, c = sec.create(**body), sec.create(env=COLD, **body)
        zp, cp = probe(sec, z), probe(sec, c)
        sec.c.delete(z)
        sec.c.delete(c)
        assert zp["uid"] == zp["euid"] == 65532
    else:
        zp, cp = pair
        assert zp["uid"] == zp["euid"] == 0
    for k in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
              "Seccomp_filters"):
        assert zp["status"][k] == cp["status"][k], (k, zp["status"], cp["status"])
    assert zp["status"]["CapEff"] == "0000000000000000" and zp["status"]["NoNewPrivs"] == "1"
    assert zp["status"]["Seccomp"] == "2"
    # every namespace is the sandbox's (init's), as for the cold driver
    for name in NS:
        assert zp["ns"][name] == zp["sandbox_ns"][name], (name, zp["ns"], zp["sandbox_ns"])
        assert cp["ns"][name] == cp["sandbox_ns"][name], (name, cp["ns"], cp["sandbox_ns"])
    for k in ("cgroup", "root", "cwd", "uid", "euid", "cmdline"):
        assert zp[k] == cp[k], (k, zp[k], cp[k])
    assert zp["hostname"] != "sluice-zygote" and zp["hostname"] in ("zy",) + tuple(
        h for h in [zp["hostname"]] if h.startswith("sb-"))


def test_cgroup_membership_seen_from_the_host(sec):
    sb = sec.create(name="cg")
    sec.c.code(sb, "x = 1")
    dirs = open(os.path.join(sec.gw.state_dir, "sandboxes", sb, "cgroups")).read().split()
    for d in dirs:
        procs = [p for p in open(os.path.join(d, "cgroup.procs")).read().split()]
        cmds = []
        for p in procs:
            try:
                cmds.append(open(f"/proc/{p}/cmdline").read())
            except OSError:
                pass
        assert any("driver.py" in c for c in cmds), (d, cmds)
    sec.c.delete(sb)


def test_nothing_of_the_zygote_is_left_in_the_driver(pair):
    z, _ = pair
    # fds: 0 /dev/null, 1-4 the runner's pipes; the listing's own fd is gone by the time it is read
    fds = {int(k): v for k, v in z["fds"].items() if not v.startswith("ERR")}
    assert set(fds) == {0, 1, 2, 3, 4}, z["fds"]
    assert fds[0] == "/dev/null" and all(fds[i].startswith("pipe:") for i in (1, 2, 3, 4)), fds
    # single-threaded: the zygote forked with one thread and the driver starts none before user code
    assert z["status"]["Threads"] == "1"
    # the executable is a sealed in-memory copy, not a host file; no host path anywhere it can read
    assert z["exe"].startswith("/memfd:sluice-zygote"), z["exe"]
    for field in ("environ", "cmdline", "maps"):
        assert "/work/" not in z[field] and "sluice-it-" not in z[field] and "sluice-sec-" not in z[field], field
    paths = {" ".join(line.split()[5:]) for line in z["maps"].splitlines() if len(line.split()) >= 6}
    assert all(p.startswith(("/usr/", "[", "/memfd:", "/dev/zero", "/tmp/", "/home/user/")) for p in paths), paths


def test_the_zygote_is_unreachable_from_the_sandbox(sec):
    sb = sec.create(name="zyreach")
    sock = os.path.join(sec.gw.state_dir, "run", "zygote-python.sock")
    assert os.path.exists(sock)
    code = f"""
import os, socket
print("path", os.path.exists({sock!r}))
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect({sock!r})
    print("connect ok")
except OSError as e:
    print("connect", e.errno)
try:
    open("/proc/self/exe", "r+b")
    print("exe writable")
except OSError as e:
    print("exe", e.errno)
"""
    out = "".join(sec.c.code(sb, code)["logs"]["stdout"])
    assert "path False" in out and "connect ok" not in out and "exe writable" not in out, out
    sec.c.delete(sb)


def test_random_state_differs_between_sandboxes(sec):
    code = ("import random, os, uuid, json, numpy\n"
            "print('R' + json.dumps([random.random(), float(numpy.random.rand()), os.urandom(8).hex(), "
            "str(uuid.uuid4()), random.getrandbits(64)]))")
    seen = []
    sbs = [sec.create(name=f"rnd{i}") for i in range(3)]
    for sb in sbs:
        out = "".join(sec.c.code(sb, code)["logs"]["stdout"])
        seen.append(json.loads(out.split("R", 1)[1]))
        sec.c.delete(sb)
    for i in range(5):
        values = [s[i] for s in seen]
        assert len(set(values)) == len(values), (i, seen)
