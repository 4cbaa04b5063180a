"""Background processes and stats end to end."""
import pytest

API = "/api/v1/sandboxes"


@pytest.fixture
def sb(client):
    return client.create()["id"]


def start(client, sb, cmd, **kw):
    r = client.http.post(f"{API}/{sb}/processes", json={"cmd": cmd, **kw})
    assert r.status_code == 201, r.text
    return r.json()["data"]["pid"]


def wait(client, sb, pid):
    r = client.http.get(f"{API}/{sb}/processes/{pid}", params={"wait": "1"})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_start_wait_list(client, sb):
    pid = start(client, sb, "echo out; echo err >&2; echo $FOO; pwd; exit 3", cwd="/tmp", envs={"FOO": "bar"})
    res = wait(client, sb, pid)
    assert res["exit_code"] == 3 and res["running"] is False
    assert res["stdout"] == "out\nbar\n/tmp\n" and res["stderr"] == "err\n"
    listed = client.http.get(f"{API}/{sb}/processes").json()["data"]
    assert {"pid": pid, "cmd": res["cmd"], "running": False, "exit_code": 3} in listed


def test_stdin_signal_kill(client, sb):
    pid = start(client, sb, "read a; read b; echo got $a $b")
    r = client.http.post(f"{API}/{sb}/processes/{pid}/stdin", json={"data": "one\n"})
    assert r.status_code == 200, r.text
    st = client.http.get(f"{API}/{sb}/processes/{pid}").json()["data"]
    assert st["running"] is True and st["exit_code"] is None
    client.http.post(f"{API}/{sb}/processes/{pid}/stdin", json={"data": "two\n", "eof": True})
    assert wait(client, sb, pid)["stdout"] == "got one two\n"

    cat = start(client, sb, "cat")
    client.http.post(f"{API}/{sb}/processes/{cat}/stdin", json={"data": "abc", "eof": True})
    assert wait(client, sb, cat) == {**wait(client, sb, cat), "stdout": "abc", "exit_code": 0}

    sleeper = start(client, sb, "sleep 600")
    r = client.http.post(f"{API}/{sb}/processes/{sleeper}/signal", json={"signal": "SIGTERM"})
    assert r.status_code == 200, r.text
    assert wait(client, sb, sleeper)["exit_code"] == 128 + 15

    sleeper = start(client, sb, "sleep 600")
    assert client.http.delete(f"{API}/{sb}/processes/{sleeper}").status_code == 200
    assert wait(client, sb, sleeper)["exit_code"] == 128 + 9


def test_errors(client, sb):
    pid = start(client, sb, "sleep 600")
    assert client.http.post(f"{API}/{sb}/processes/{pid}/signal", json={"signal": "SIGNOPE"}).status_code == 400
    assert client.http.post(f"{API}/{sb}/processes/{pid}/signal", json={"signal": 0}).status_code == 400
    assert client.http.post(f"{API}/{sb}/processes", json={"cmd": ""}).status_code == 400
    assert client.http.post(f"{API}/{sb}/processes", json={}).status_code == 400
    for bad in ["99999", "abc"]:
        assert client.http.get(f"{API}/{sb}/processes/{bad}").status_code == 404
        assert client.http.delete(f"{API}/{sb}/processes/{bad}").status_code == 404
        r = client.http.post(f"{API}/{sb}/processes/{bad}/stdin", json={"data": "x"})
        assert r.status_code == 404


def test_processes_end_with_their_sandbox(client):
    sb = client.create()["id"]
    start(client, sb, "sleep 600")
    client.delete(sb)
    assert client.http.get(f"{API}/{sb}/processes").status_code == 404


def test_stats(client, sb):
    client.exec(sb, "head -c 3000000 /dev/zero > /tmp/fill")
    st = client.http.get(f"{API}/{sb}/stats").json()["data"]
    assert set(st) == {"memory_bytes", "memory_limit", "cpu_usage_usec", "pids", "disk_bytes"}
    assert st["memory_bytes"] > 0 and st["pids"] >= 1
    assert st["disk_bytes"] >= 3000000
    assert st["memory_limit"] is None or st["memory_limit"] > 0
    assert st["cpu_usage_usec"] is None or st["cpu_usage_usec"] >= 0
