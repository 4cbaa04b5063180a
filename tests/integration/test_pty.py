"""PTY processes: a terminal from the sandbox's own devpts, sized, resized, interactive."""
import time

import pytest

API = "/api/v1/sandboxes"


@pytest.fixture
def sb(client):
    return client.create()["id"]


def start(client, sb, cmd, rows=24, cols=80):
    r = client.http.post(f"{API}/{sb}/processes", json={"cmd": cmd, "pty": {"rows": rows, "cols": cols}})
    assert r.status_code == 201, r.text
    return r.json()["data"]["pid"]


def write(client, sb, pid, data):
    r = client.http.post(f"{API}/{sb}/processes/{pid}/stdin", json={"data": data})
    assert r.status_code == 200, r.text


def until(client, sb, pid, pred, timeout=15):
    deadline = time.time() + timeout
    while True:
        st = client.http.get(f"{API}/{sb}/processes/{pid}").json()["data"]
        if pred(st["stdout"]):
            return st
        assert time.time() < deadline, f"timed out; output so far: {st['stdout']!r}"
        time.sleep(0.05)


def test_size_and_own_devpts(client, sb):
    pid = start(client, sb, "stty size; tty; ls /dev/pts; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys", 31, 97)
    res = client.http.get(f"{API}/{sb}/processes/{pid}", params={"wait": "1"}).json()["data"]
    assert res["exit_code"] == 0, repr(res)
    lines = res["stdout"].replace("\r", "").split("\n")
    assert lines[0] == "31 97"
    # the sandbox's private devpts instance: its first pty, and nothing of the host's
    assert lines[1] == "/dev/pts/0"
    assert lines[2].split() == ["0", "ptmx"]
    assert "all-ttys" in res["stdout"] and res["stderr"] == ""


def test_resize_and_sigwinch(client, sb):
    pid = start(client, sb, "trap 'echo winch' WINCH; while :; do if read x; then stty size; fi; done", 10, 40)
    write(client, sb, pid, "a\n")
    until(client, sb, pid, lambda out: "10 40" in out)
    r = client.http.post(f"{API}/{sb}/processes/{pid}/resize", json={"rows": 33, "cols": 77})
    assert r.status_code == 200, r.text
    until(client, sb, pid, lambda out: "winch" in out)
    write(client, sb, pid, "b\n")
    until(client, sb, pid, lambda out: "33 77" in out)
    assert client.http.delete(f"{API}/{sb}/processes/{pid}").status_code == 200


def test_interactive_bash(client, sb):
    pid = start(client, sb, "exec bash --norc -i")
    # a prompt first (a controlling terminal, or bash -i would complain about job control)
    until(client, sb, pid, lambda out: out.rstrip().endswith(("$", "#")))
    write(client, sb, pid, "echo hi-$((6*7))\n")
    st = until(client, sb, pid, lambda out: "hi-42\r\n" in out)
    assert "no job control" not in st["stdout"]
    write(client, sb, pid, "exit 5\n")
    res = client.http.get(f"{API}/{sb}/processes/{pid}", params={"wait": "1"}).json()["data"]
    assert res["exit_code"] == 5


def test_errors(client, sb):
    P = f"{API}/{sb}/processes"
    for bad in ({"rows": 0, "cols": 80}, {"rows": 24, "cols": 1001}, {"rows": "24", "cols": 80}, [24, 80], {"rows": 24}):
        r = client.http.post(P, json={"cmd": "true", "pty": bad})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_pty", r.text
    plain = client.http.post(P, json={"cmd": "sleep 600"}).json()["data"]["pid"]
    r = client.http.post(f"{P}/{plain}/resize", json={"rows": 10, "cols": 10})
    assert r.status_code == 400, r.text
    pid = start(client, sb, "sleep 600")
    for bad in ({"rows": 0, "cols": 10}, {"rows": 10, "cols": 1001}, {"rows": 10}, {}):
        assert client.http.post(f"{P}/{pid}/resize", json=bad).status_code == 400
    assert client.http.post(f"{P}/{pid}/resize", json={"rows": 1000, "cols": 1}).status_code == 200
    assert client.http.post(f"{P}/999999/resize", json={"rows": 10, "cols": 10}).status_code == 404
    client.http.delete(f"{P}/{plain}")
    client.http.delete(f"{P}/{pid}")
