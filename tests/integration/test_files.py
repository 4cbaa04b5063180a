"""Files routes end to end: every operation runs inside the sandbox, content streams both ways."""
import os
import threading

import httpx
import pytest

API = "/api/v1/sandboxes"


def files(client, sb, path, **params):
    return client.http.get(f"{API}/{sb}/files", params={"path": path, **params})


def put(client, sb, path, data):
    return client.http.put(f"{API}/{sb}/files/content", params={"path": path}, content=data)


def get(client, sb, path, **params):
    return client.http.get(f"{API}/{sb}/files/content", params={"path": path, **params})


@pytest.fixture
def sb(client):
    return client.create()["id"]


def test_write_read_stat_list_binary_round_trip(client, sb):
    data = bytes(range(256)) * 3
    r = put(client, sb, "/tmp/a/b/bin.dat", data)  # parents created
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"path": "/tmp/a/b/bin.dat", "size": len(data)}
    r = get(client, sb, "/tmp/a/b/bin.dat")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/octet-stream"
    assert "x-truncated" not in r.headers

    r = get(client, sb, "/tmp/a/b/bin.dat", max_bytes=10)
    assert r.content == data[:10] and r.headers["x-truncated"] == "true"

    st = client.http.get(f"{API}/{sb}/files/stat", params={"path": "/tmp/a/b/bin.dat"}).json()["data"]
    assert st["name"] == "bin.dat" and st["type"] == "file" and st["size"] == len(data)
    assert st["path"] == "/tmp/a/b/bin.dat" and st["mode"] == 0o644 and st["mtime"].endswith("Z")

    r = put(client, sb, "/tmp/a/b/bin.dat", b"new")  # replaced atomically
    assert get(client, sb, "/tmp/a/b/bin.dat").content == b"new"

    client.exec(sb, "ln -s /etc/passwd /tmp/a/link && mkdir -p /tmp/a/d/e && touch /tmp/a/d/e/deep")
    top = files(client, sb, "/tmp/a").json()["data"]
    assert sorted((e["name"], e["type"]) for e in top) == [("b", "dir"), ("d", "dir"), ("link", "symlink")]
    deep = files(client, sb, "/tmp/a", depth=3).json()["data"]
    assert "/tmp/a/d/e/deep" in [e["path"] for e in deep] and "/tmp/a/b/bin.dat" in [e["path"] for e in deep]

    # the shell sees what the API wrote and the other way round
    assert client.exec(sb, "cat /tmp/a/b/bin.dat")["stdout"] == "new"


def test_mkdir_rename_remove(client, sb):
    r = client.http.post(f"{API}/{sb}/files/mkdir", json={"path": "/tmp/x/y/z"})
    assert r.status_code == 200 and r.json()["data"]["created"] is True
    assert client.http.post(f"{API}/{sb}/files/mkdir", json={"path": "/tmp/x/y/z"}).json()["data"]["created"] is False
    put(client, sb, "/tmp/x/y/z/f.txt", b"hello")
    r = client.http.post(f"{API}/{sb}/files/rename", json={"from": "/tmp/x/y", "to": "/tmp/x/w"})
    assert r.status_code == 200, r.text
    assert get(client, sb, "/tmp/x/w/z/f.txt").content == b"hello"
    assert get(client, sb, "/tmp/x/y/z/f.txt").status_code == 404
    r = client.http.delete(f"{API}/{sb}/files", params={"path": "/tmp/x"})  # recursive
    assert r.status_code == 200, r.text
    assert client.http.get(f"{API}/{sb}/files/stat", params={"path": "/tmp/x"}).status_code == 404
    assert client.http.delete(f"{API}/{sb}/files", params={"path": "/tmp/x"}).status_code == 404


def test_errors(client, sb):
    assert get(client, sb, "/nope").status_code == 404
    assert get(client, sb, "/nope").json()["error"]["code"] == "not_found"
    assert files(client, sb, "/nope").status_code == 404
    assert client.http.get(f"{API}/{sb}/files/stat", params={"path": "/nope"}).status_code == 404
    assert get(client, sb, "").status_code == 400
    assert client.http.get(f"{API}/{sb}/files/content").status_code == 400
    assert get(client, sb, "/tmp").status_code == 400  # a directory
    assert files(client, sb, "/tmp", depth=0).status_code == 400
    assert client.http.post(f"{API}/{sb}/files/rename", json={"from": "/tmp"}).status_code == 400
    # the sandbox's user may not write outside its own places
    r = put(client, sb, "/etc/owned", b"x")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"
    assert get(client, sb, "/root/.bashrc").status_code in (403, 404)


def test_paths_never_leave_the_sandbox(client, sb, workdir):
    secret = os.path.join(workdir, "host-secret.txt")
    with open(secret, "w") as f:
        f.write("HOST-SECRET")
    client.exec(sb, f"mkdir -p /tmp/esc && ln -s {secret} /tmp/esc/abs && ln -s / /tmp/esc/root")
    attempts = [
        secret,
        "/tmp/esc/abs",
        "/tmp/esc/root" + secret,
        "/tmp/../../../../.." + secret,
        "../../../../../.." + secret,
        "/proc/self/root" + secret,
        "/proc/1/root" + secret,
        "/proc/self/cwd/../../../../.." + secret,
    ]
    for p in attempts:
        r = get(client, sb, p)
        assert r.status_code in (400, 403, 404), (p, r.status_code)
        assert b"HOST-SECRET" not in r.content
        r = files(client, sb, os.path.dirname(p) or "/")
        assert "host-secret.txt" not in r.text, p
    # writes through the same tricks land inside the sandbox (or fail), never on the host
    before = sorted(os.listdir(workdir))
    for p in ["/tmp/esc/root" + workdir + "/planted", "/proc/self/root" + workdir + "/planted2"]:
        r = put(client, sb, p, b"x")
        assert r.status_code in (200, 400, 403, 404), r.text
    assert sorted(os.listdir(workdir)) == before


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_100mb_both_ways_with_bounded_gateway_memory(client, sb, gateway):
    size = 100 << 20
    block = bytes(range(256)) * 4096  # 1 MiB
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kb(gateway.proc.pid))
            done.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    base = _rss_kb(gateway.proc.pid)
    t.start()
    try:
        def body():
            for _ in range(size // len(block)):
                yield block
        r = client.http.put(f"{API}/{sb}/files/content", params={"path": "/tmp/big.bin"}, content=body(),
                            headers={"content-length": str(size)}, timeout=120)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["size"] == size
        got = 0
        with client.http.stream("GET", f"{API}/{sb}/files/content", params={"path": "/tmp/big.bin"},
                                timeout=120) as resp:
            assert resp.status_code == 200
            assert int(resp.headers["content-length"]) == size
            pos = 0
            for chunk in resp.iter_bytes():
                # content check without holding it: compare with the repeating pattern
                off = pos % len(block)
                expect = (block * 2)[off:off + len(chunk)] if len(chunk) <= len(block) else None
                if expect is not None:
                    assert chunk == expect
                pos += len(chunk)
                got += len(chunk)
        assert got == size
    finally:
        done.set()
        t.join(5)
    print(f"gateway RSS: base {base} kB, peak {peak[0]} kB during 100 MiB up + down")
    assert peak[0] - base < 40 * 1024, (base, peak[0])
