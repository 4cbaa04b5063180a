"""Egress control (egress_whitelist, before_script) against two fake "internet" hosts.

Each host is a network namespace of its own behind a veth pair routed from the host (198.51.100.0/24 and
203.0.113.0/24, TEST-NET-2/3), serving its name over HTTP with /usr/bin/python3 -m http.server. Host A
also answers as 169.254.169.254 (the cloud metadata address), and the test listens on the host itself, so
"unreachable" is checked against things that really answer. Every wait is bounded; the namespaces go
even when a test fails."""
import os
import signal
import socket
import subprocess
import tempfile
import urllib.request

import pytest

from conftest import API, _it

wait_until = _it.wait_until
TAG = str(os.getpid() % 100000)
HOSTS = {"A": ("198.51.100", "sleg-a" + TAG), "B": ("203.0.113", "sleg-b" + TAG)}
PORT = 8080
METADATA = "169.254.169.254"


def sh(*args, check=True, timeout=10):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def internet():
    servers, made, routed = [], [], False
    docroot = tempfile.mkdtemp(prefix="sluice-egress-")
    try:
        for name, (net, ns) in HOSTS.items():
            d = os.path.join(docroot, name)
            os.mkdir(d)
            with open(os.path.join(d, "id"), "w") as f:
                f.write(name)
            hif, nif = f"sleh{name.lower()}{TAG}", f"slen{name.lower()}{TAG}"
            sh("ip", "netns", "add", ns)
            made.append((ns, hif))
            sh("ip", "link", "add", hif, "type", "veth", "peer", "name", nif, "netns", ns)
            sh("ip", "addr", "add", f"{net}.1/24", "dev", hif)
            sh("ip", "link", "set", hif, "up")
            sh("ip", "-n", ns, "addr", "add", f"{net}.2/24", "dev", nif)
            sh("ip", "-n", ns, "link", "set", nif, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", f"{net}.1")
            if name == "A":  # A also plays the metadata service; the host routes it there
                sh("ip", "-n", ns, "addr", "add", f"{METADATA}/32", "dev", "lo")
                routed = sh("ip", "route", "add", f"{METADATA}/32", "via", f"{net}.2", check=False).returncode == 0
            servers.append(subprocess.Popen(
                ["ip", "netns", "exec", ns, "/usr/bin/python3", "-m", "http.server", str(PORT), "--bind", "0.0.0.0"],
                cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for name, (net, _) in HOSTS.items():
            wait_until(lambda: fetch_host(f"{net}.2") == name, timeout=15, what=f"http server {name}")
        if routed:  # the host itself reaches "metadata": a real target (unless the host routes it elsewhere)
            assert fetch_host(METADATA) == "A"
        yield {name: f"{net}.2" for name, (net, _) in HOSTS.items()}
    finally:
        for p in servers:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)
        if routed:
            sh("ip", "route", "del", f"{METADATA}/32", check=False)
        for ns, hif in made:
            sh("ip", "link", "del", hif, check=False)
            sh("ip", "netns", "del", ns, check=False)
        subprocess.run(["rm", "-rf", docroot], timeout=10)


def fetch_host(addr):
    try:
        with urllib.request.urlopen(f"http://{addr}:{PORT}/id", timeout=2) as r:
            return r.read().decode()
    except OSError:
        return None


@pytest.fixture(scope="module")
def listener():
    """A TCP port listening on every host address: what a sandbox must never reach on the host."""
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


FETCH = ("import sys, urllib.request\n"
         "for a in sys.argv[1:]:\n"
         "    try:\n"
         "        print(a, urllib.request.urlopen('http://%s:8080/id' % a, timeout=3).read().decode())\n"
         "    except Exception as e:\n"
         "        print(a, 'FAILED', type(e).__name__)\n")


def fetch(sec, sb, *addrs):
    r = sec.c.http.post(f"{API}/{sb}/exec", json={"argv": ["python3", "-c", FETCH, *addrs], "timeout_ms": 20000})
    assert r.status_code == 200, r.text
    out = r.json()["data"]["stdout"]
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


CONNECT = ("import sys, socket, threading\n"
           "res = {}\n"
           "def one(t):\n"
           "    h, p = t.rsplit(':', 1); s = socket.socket(); s.settimeout(2)\n"
           "    try:\n        s.connect((h, int(p))); res[t] = 'CONNECTED'\n"
           "    except OSError as e: res[t] = 'FAILED ' + type(e).__name__\n"
           "ts = [threading.Thread(target=one, args=(t,)) for t in sys.argv[1:]]\n"
           "[t.start() for t in ts]; [t.join() for t in ts]\n"
           "for t in sys.argv[1:]: print(t, res[t])\n")


def connects(sec, sb, targets):
    """{"host:port": True when a TCP connect succeeded}, all tried at once with a 2 s bound each."""
    r = sec.c.http.post(f"{API}/{sb}/exec", json={"argv": ["python3", "-c", CONNECT, *targets], "timeout_ms": 20000})
    assert r.status_code == 200, r.text
    out = dict(line.split(" ", 1) for line in r.json()["data"]["stdout"].splitlines() if " " in line)
    assert set(out) == set(targets), r.text
    return {t: v == "CONNECTED" for t, v in out.items()}


def record(sec, sb):
    with open(os.path.join(sec.workdir, "state", "sandboxes", sb, "net")) as f:
        return dict(line.split(" ", 1) for line in f.read().splitlines())


def interfaces(sec, sb):
    return sec.out(sb, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '").split()


def veth_exists(name):
    return os.path.exists(f"/sys/class/net/{name}")


def table_exists(name):
    return sh("nft", "list", "table", "inet", name, check=False).returncode == 0


def netns_inode(sec, sb):
    with open(os.path.join(sec.workdir, "state", "sandboxes", sb, "runner.pid")) as f:
        runner = int(f.read())
    with open(f"/proc/{runner}/task/{runner}/children") as f:
        init = int(f.read().split()[0])
    return os.stat(f"/proc/{init}/ns/net").st_ino


def netns_alive(ino):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}/ns/net").st_ino == ino:
                    return True
            except OSError:
                pass
    return False


def test_open_egress_reaches_both(sec, internet):
    sb = sec.create(name="eg-open")
    assert sorted(interfaces(sec, sb)) == ["eth0", "lo"]
    got = fetch(sec, sb, internet["A"], internet["B"])
    assert got == {internet["A"]: "A", internet["B"]: "B"}, got


def test_whitelist_of_one_host(sec, internet):
    sb = sec.create(name="eg-one", egress_whitelist=[internet["A"] + "/32"])
    got = fetch(sec, sb, internet["A"], internet["B"])
    assert got[internet["A"]] == "A" and got[internet["B"]].startswith("FAILED"), got


def test_whitelist_of_a_network(sec, internet):
    sb = sec.create(name="eg-net", egress_whitelist=["203.0.113.0/24", "203.0.113.128/25"])
    got = fetch(sec, sb, internet["A"], internet["B"])
    assert got[internet["A"]].startswith("FAILED") and got[internet["B"]] == "B", got


def test_empty_whitelist_is_loopback_only_without_dns(sec, internet):
    sb = sec.create(name="eg-none", egress_whitelist=[])
    assert interfaces(sec, sb) == ["lo"]
    got = fetch(sec, sb, internet["A"], internet["B"])
    assert all(v.startswith("FAILED") for v in got.values()) and len(got) == 2, got
    out = sec.py(sb, "import socket\n"
                 "try:\n    socket.getaddrinfo('example.com', 80); print('RESOLVED')\n"
                 "except OSError as e: print('NODNS', type(e).__name__)\n"
                 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                 "try:\n    s.sendto(b'x', ('198.51.100.2', 53)); print('SENT')\n"
                 "except OSError as e: print('NOROUTE', e.errno)\n")
    assert "NODNS" in out and "NOROUTE" in out, out
    assert "net" not in os.listdir(os.path.join(sec.workdir, "state", "sandboxes", sb))


def test_metadata_and_host_never_reachable(sec, internet, listener):
    # whitelisting everything still leaves out the host and the metadata address
    for body in ({}, {"egress_whitelist": ["0.0.0.0/0"]}):
        sb = sec.create(**body)
        rec = record(sec, sb)
        host_end = "10.200.%d.%d" % divmod(4 * int(rec["slot"]) + 1, 256)
        got = fetch(sec, sb, METADATA, internet["A"])
        assert got[METADATA].startswith("FAILED") and got[internet["A"]] == "A", (body, got)
        targets = [f"{h}:{p}" for h in (host_end, "198.51.100.1", "203.0.113.1") for p in (listener, sec.port)]
        got = connects(sec, sb, targets + [f"{internet['A']}:8080"])
        assert got == {**{t: False for t in targets}, f"{internet['A']}:8080": True}, (body, got)
        sec.c.delete(sb)


def test_sandboxes_cannot_reach_each_other(sec, internet):
    a = sec.create(name="eg-peer-a")
    b = sec.create(name="eg-peer-b")
    rb = record(sec, b)
    b_addr = "10.200.%d.%d" % divmod(4 * int(rb["slot"]) + 2, 256)
    sec.c.http.post(f"{API}/{b}/exec", json={"command": "nohup python3 -m http.server 8080 >/dev/null 2>&1 &",
                                              "timeout_ms": 5000})
    wait_until(lambda: "8080" in sec.out(b, "python3 -c \"import socket; s=socket.socket(); "
                                            "s.connect(('127.0.0.1', 8080)); print(8080)\" 2>/dev/null"),
               timeout=15, what="a server inside sandbox b")
    assert connects(sec, a, [f"{b_addr}:8080", f"{internet['A']}:8080"]) == {f"{b_addr}:8080": False,
                                                                            f"{internet['A']}:8080": True}


def test_before_script_has_open_egress_then_policy_applies(sec, internet):
    script = ("python3 -c \"import urllib.request; open('/tmp/bs', 'w').write("
              f"urllib.request.urlopen('http://{internet['A']}:8080/id', timeout=5).read().decode())\"")
    sb = sec.create(name="eg-bs", egress_whitelist=[], before_script=script)
    assert sec.out(sb, "cat /tmp/bs") == "A"
    assert interfaces(sec, sb) == ["lo"]
    got = fetch(sec, sb, internet["A"])
    assert got[internet["A"]].startswith("FAILED"), got
    rec = record(sec, sb)
    assert not veth_exists(rec["veth"]) and "nft" not in rec  # open egress used the shared table


def test_before_script_leaves_no_open_connection(sec, internet):
    """A connection opened during before_script does not outlive it: the filter is stateless, so once the
    policy narrows, the sandbox's packets on that connection are dropped."""
    bg = ("import socket, os, time\n"
          f"s = socket.create_connection(('{internet['B']}', 8080), timeout=5)\n"
          "open('/tmp/connected', 'w').close()\n"
          "t = time.monotonic()\n"
          "while not os.path.exists('/tmp/go') and time.monotonic() - t < 60: time.sleep(0.05)\n"
          "s.settimeout(3)\n"
          "try:\n"
          "    s.sendall(b'GET /id HTTP/1.0\\r\\n\\r\\n'); d = s.recv(4096)\n"
          "    r = 'GOT ' + d.decode(errors='replace').split()[-1] if d else 'EOF'\n"
          "except OSError as e: r = 'FAILED ' + type(e).__name__\n"
          "open('/tmp/res.tmp', 'w').write(r); os.rename('/tmp/res.tmp', '/tmp/res')\n")
    script = (f"nohup python3 -c \"{bg}\" >/dev/null 2>&1 &\n"
              "for i in $(seq 100); do [ -e /tmp/connected ] && exit 0; sleep 0.1; done; exit 1\n")
    sb = sec.create(name="eg-bs-conn", egress_whitelist=[internet["A"] + "/32"], before_script=script)
    sec.sh(sb, "touch /tmp/go")
    res = wait_until(lambda: sec.out(sb, "cat /tmp/res 2>/dev/null"), timeout=20, what="the background connection")
    assert res.startswith("FAILED"), res


def test_before_script_failure_fails_create(sec, internet):
    r = sec.create_raw(name="eg-bs-fail", before_script="echo about-to-fail; echo on-stderr >&2; exit 7")
    assert r.status_code >= 400, r.text
    msg = r.json()["error"]["message"]
    assert "before_script" in msg and "exit 7" in msg and "about-to-fail" in msg and "on-stderr" in msg, msg


@pytest.mark.parametrize("bad", [["10.0.0.1/33"], ["10.0.0/8"], ["example.com"], ["::1/128"], [""], ["1.2.3.4/"],
                                 ["1.2.3.4/-1"], [7], "10.0.0.0/8"])
def test_bad_whitelist_is_400(sec, bad):
    r = sec.create_raw(name="eg-bad", egress_whitelist=bad)
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("body", [{}, {"egress_whitelist": ["203.0.113.0/24"]}], ids=["open", "whitelist"])
def test_delete_leaves_nothing(sec, internet, body):
    sb = sec.create(name="eg-del", **body)
    rec, ino = record(sec, sb), netns_inode(sec, sb)
    own = rec.get("nft")
    assert veth_exists(rec["veth"]) and netns_alive(ino) and (own is None) == (not body)
    assert table_exists(own or "sluice")
    sec.c.delete(sb)
    wait_until(lambda: not veth_exists(rec["veth"]) and not (own and table_exists(own)) and not netns_alive(ino),
               timeout=15, what="veth, own nft table and netns gone after delete")


@pytest.mark.parametrize("whitelist", [False, True], ids=["open", "whitelist"])
def test_kill9_of_the_runner_leaves_nothing(sec, internet, whitelist):
    body = {"egress_whitelist": [internet["A"] + "/32"]} if whitelist else {}
    sb = sec.create(name="eg-kill-" + ("list" if whitelist else "open"), **body)
    rec, ino = record(sec, sb), netns_inode(sec, sb)
    own = rec.get("nft")
    assert veth_exists(rec["veth"]) and (own is not None) == whitelist and table_exists(own or "sluice")
    with open(os.path.join(sec.workdir, "state", "sandboxes", sb, "runner.pid")) as f:
        os.kill(int(f.read()), signal.SIGKILL)
    wait_until(lambda: not veth_exists(rec["veth"]) and not (own and table_exists(own)) and not netns_alive(ino),
               timeout=20, what="veth, own nft table and netns gone after kill -9 of the runner")
    assert table_exists("sluice")  # the shared table stays for the other sandboxes
    sec.c.http.delete(f"{API}/{sb}")


def nft_comment(table):
    out = sh("nft", "list", "table", "inet", table, check=False).stdout
    for line in out.splitlines():
        if line.strip().startswith("comment "):
            return line.strip()[len("comment "):].strip('"')
    return None


def test_open_egress_uses_the_shared_table_whitelists_their_own(sec, internet):
    sb = sec.create(name="eg-kinds-open")
    rec = record(sec, sb)
    assert rec["veth"] == "slo" + rec["slot"] and "nft" not in rec, rec
    assert nft_comment("sluice") == "sluice open egress v1"
    wl = sec.create(name="eg-kinds-list", egress_whitelist=[internet["A"] + "/32"])
    rec = record(sec, wl)
    assert rec["veth"] == "slv" + rec["slot"] and rec["nft"] == "sluice_" + rec["slot"] and table_exists(rec["nft"])
    # the shared table's drop rules never see the whitelisted sandbox's packets, nor its table the open one's
    assert fetch(sec, wl, internet["A"]) == {internet["A"]: "A"}
    assert fetch(sec, sb, internet["A"], internet["B"]) == {internet["A"]: "A", internet["B"]: "B"}
    sec.c.delete(sb)
    sec.c.delete(wl)


def runner_logs(sec, ids):
    out = {}
    for sb in ids:
        with open(os.path.join(sec.workdir, "state", "sandboxes", sb, "runner.log"), errors="replace") as f:
            out[sb] = f.read()
    return out


@pytest.mark.parametrize("how", ["outdated", "missing"])
def test_shared_table_is_reinstalled(sec, internet, listener, how):
    """A host whose shared table is gone (reboot, a flushed ruleset) or from an older version: the next open
    creates (several at once) put the current one back, exactly one of them, and their egress is judged."""
    sec.c.delete(sec.create(name=f"eg-reinstall-warm-{how}"))  # the table exists before it is replaced
    if how == "outdated":  # an older ruleset that lets everything through: must be replaced, not trusted
        subprocess.run(["nft", "-f", "-"], input="table inet sluice {}\ndelete table inet sluice\n"
                       "table inet sluice { comment \"sluice open egress v0\"; }\n", text=True, check=True, timeout=10)
    else:
        sh("nft", "delete", "table", "inet", "sluice")
    assert nft_comment("sluice") in (None, "sluice open egress v0")
    ids = [None] * 4

    def one(i):
        ids[i] = sec.create(name=f"eg-reinstall-{how}-{i}")

    import threading
    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(ids))]
    [t.start() for t in ts]
    [t.join(timeout=60) for t in ts]
    assert all(ids), ids
    assert nft_comment("sluice") == "sluice open egress v1"
    logs = runner_logs(sec, ids)
    assert sum("installed the shared egress table" in t for t in logs.values()) == 1, logs
    rec = record(sec, ids[0])
    host_end = "10.200.%d.%d" % divmod(4 * int(rec["slot"]) + 1, 256)
    got = connects(sec, ids[0], [f"{host_end}:{listener}", f"{METADATA}:8080", f"{internet['A']}:8080"])
    assert got == {f"{host_end}:{listener}": False, f"{METADATA}:8080": False, f"{internet['A']}:8080": True}, got
    for sb in ids:
        sec.c.delete(sb)


SPOOF = ("import socket, struct, sys\n"
         "dst, port = sys.argv[1], int(sys.argv[2])\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)\n"
         "for src in sys.argv[3:]:\n"
         "    data = src.encode()\n"
         "    udp = struct.pack('!HHHH', 40000, port, 8 + len(data), 0) + data\n"
         "    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,\n"
         "                     socket.inet_aton(src), socket.inet_aton(dst))\n"
         "    for _ in range(3): s.sendto(ip + udp, (dst, 0))\n"
         "print('SENT')\n")

RECV = ("import socket, sys\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', int(sys.argv[1])))\n"
        "out = open(sys.argv[2], 'a')\n"
        "while True:\n"
        "    d, a = s.recvfrom(2048); out.write(d.decode(errors='replace') + '\\n'); out.flush()\n")


@pytest.mark.parametrize("body", [{}, {"egress_whitelist": ["198.51.100.0/24"]}], ids=["open", "whitelist"])
def test_spoofed_sources_are_dropped(sec, internet, body):
    """Root with CAP_NET_RAW in the sandbox writes its own IP headers: only packets from its own address
    leave the host (a UDP receiver on host A counts what arrives, by payload)."""
    port = 9000 + os.getpid() % 1000
    got_path = tempfile.mktemp(prefix="sluice-spoof-")
    recv = subprocess.Popen(["ip", "netns", "exec", HOSTS["A"][1], "/usr/bin/python3", "-c", RECV, str(port), got_path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        sb = sec.create(name="eg-spoof-" + ("list" if body else "open"), cap_add=["NET_RAW"], **body)
        rec = record(sec, sb)
        slot = int(rec["slot"])
        own = "10.200.%d.%d" % divmod(4 * slot + 2, 256)
        other = "10.200.%d.%d" % divmod(4 * ((slot + 1) % 16384) + 2, 256)
        spoofed = ["10.200.%d.%d" % divmod(4 * slot + 1, 256), "10.200.%d.%d" % divmod(4 * slot + 3, 256),
                   "10.200.%d.%d" % divmod(4 * slot, 256), other, "198.51.100.77", "8.8.8.8"]

        def arrived():
            try:
                with open(got_path) as f:
                    return f.read().split()
            except FileNotFoundError:
                return []

        def send(srcs):
            r = sec.c.http.post(f"{API}/{sb}/exec", json={"argv": ["python3", "-c", SPOOF, internet["A"], str(port),
                                                                    *srcs], "timeout_ms": 10000})
            assert r.status_code == 200 and "SENT" in r.json()["data"]["stdout"], r.text

        send(spoofed + [own])  # the own address last: once it is there, the others had their chance first
        wait_until(lambda: own in arrived() or send([own]), timeout=15, what="the packet from the own address")
        assert set(arrived()) == {own}, arrived()
        sec.c.delete(sb)
    finally:
        os.killpg(recv.pid, signal.SIGKILL)
        recv.wait(timeout=10)
        if os.path.exists(got_path):
            os.unlink(got_path)
