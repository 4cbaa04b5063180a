"""Walking skeleton, end to end: the real gateway, real runners, over HTTP on an ephemeral port."""
import os
import re
import signal

import httpx
import pytest

from conftest import Client, Gateway, create_key, wait_until
from sandbox_probe import Snapshot, runner_pid

API = "/api/v1/sandboxes"


def test_health_needs_no_key(gateway):
    r = httpx.get(gateway.url + "/health", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_create_code_exec_delete(client):
    r = client.http.post(API, json={"name": "first"})
    assert r.status_code == 201, r.text
    sb = r.json()["data"]
    assert r.headers["location"] == f"{API}/{sb['id']}"
    assert sb["name"] == "first" and sb["namespace"] == "default" and sb["image"] == "python"
    assert sb["status"] == "running" and sb["ready"] == "True"

    ex = client.code(sb["id"], "print(1)")
    assert ex["logs"]["stdout"] == ["1\n"] or "".join(ex["logs"]["stdout"]) == "1\n"
    assert ex["error"] is None

    ex = client.code(sb["id"], "x = 6 * 7\nx")
    assert ex["text"] == "42"
    assert ex["results"][0]["is_main_result"] is True and ex["results"][0]["text"] == "42"
    ex = client.code(sb["id"], "x + 1")  # state kept between executions
    assert ex["text"] == "43"
    assert ex["execution_count"] >= 3

    out = client.exec("first", "echo hello; echo oops >&2; exit 3")  # addressed by name
    assert out["exit_code"] == 3
    assert out["stdout"] == "hello\n" and out["stderr"] == "oops\n"
    assert sorted(out["output"].splitlines()) == ["hello", "oops"]
    assert out["truncated"] is False

    listed = client.http.get(API).json()["data"]
    assert [s["id"] for s in listed] == [sb["id"]]
    got = client.http.get(f"{API}/{sb['id']}").json()["data"]
    assert got["name"] == "first"

    msg = client.delete(sb["id"])
    assert "message" in msg
    r = client.http.get(f"{API}/{sb['id']}")
    assert r.status_code == 404
    assert r.json()["error"]["code"]


def test_python_errors_have_cell_traceback(client):
    sb = client.create()
    ex = client.code(sb["id"], "a = 1\n1/0")
    assert ex["error"]["name"] == "ZeroDivisionError"
    assert "division by zero" in ex["error"]["value"]
    tb = ex["error"]["traceback"]
    text = "\n".join(tb) if isinstance(tb, list) else tb
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "1/0" in text and "driver" not in text
    ex = client.code(sb["id"], "def f(:\n  pass")
    assert ex["error"]["name"] == "SyntaxError"
    assert client.code(sb["id"], "a")["text"] == "1"  # context still usable


def test_exec_state_persists(client):
    sb = client.create()["id"]
    client.exec(sb, "cd /tmp && export GREETING=hi && f() { echo fn-$1; }")
    out = client.exec(sb, 'pwd; echo $GREETING; f x')
    assert out["stdout"] == "/tmp\nhi\nfn-x\n"
    assert out["cwd"] == "/tmp"


def test_exec_timeout_kills_command_not_shell(client):
    sb = client.create()["id"]
    client.exec(sb, "export KEEP=yes")
    out = client.exec(sb, "sleep 30", timeout_ms=300)
    assert out["exit_code"] == 124
    assert client.exec(sb, "echo $KEEP")["stdout"] == "yes\n"


def test_auth(gateway):
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer nope"}):
        r = httpx.get(gateway.url + API, headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json()["error"]["code"]
        assert r.json()["error"]["message"]
    key = gateway.key
    for headers, params in (({"X-API-Key": key}, {}), ({"Authorization": f"Bearer {key}"}, {}),
                            ({"Authorization": f"token {key}"}, {}), ({}, {"token": key})):
        r = httpx.get(gateway.url + API, headers=headers, params=params, timeout=10)
        assert r.status_code == 200, (headers, params, r.text)


def test_keys_revoke_and_scope_apply_at_once(gateway):
    scoped = create_key(gateway.state_dir, name="team-a", namespaces=["team-a"])
    c = Client(gateway.url, scoped)
    assert c.http.get(API, params={"namespace": "team-a"}).status_code == 200
    r = c.http.post(API, json={"namespace": "other"})
    assert r.status_code == 403 and r.json()["error"]["code"]
    import subprocess
    from conftest import GATEWAY
    subprocess.run([GATEWAY, "keys", "revoke", "team-a", "--state-dir", gateway.state_dir],
                   check=True, timeout=30, capture_output=True)
    assert c.http.get(API, params={"namespace": "team-a"}).status_code == 401
    listed = subprocess.run([GATEWAY, "keys", "list", "--state-dir", gateway.state_dir],
                            check=True, timeout=30, capture_output=True, text=True).stdout
    assert gateway.key not in listed and scoped not in listed


def expect_error(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


def test_bad_input_gets_error_envelope(client):
    h = client.http
    expect_error(h.post(API, content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    expect_error(h.post(API, json={"image": "no-such-image"}), 400)
    expect_error(h.post(API, json={"name": 42}), 400)
    expect_error(h.post(API, json={"name": "Bad Name!"}), 400)
    expect_error(h.post(API, content=b"name=x", headers={"Content-Type": "text/plain"}), 415)
    expect_error(h.post(API, json={"limits": {"memory": "lots"}}), 422)
    expect_error(h.get(f"{API}/no-such-sandbox"), 404)
    expect_error(h.delete(f"{API}/00000000-0000-4000-8000-000000000000"), 404)
    expect_error(h.post(f"{API}/nope/exec", json={"command": "true"}), 404)
    expect_error(h.get("/api/v1/no-such-route"), 404)
    big = b'{"name": "' + b"a" * (17 << 20) + b'"}'
    expect_error(h.post(API, content=big, headers={"Content-Type": "application/json"}), 413)
    client.create(name="dup")
    expect_error(h.post(API, json={"name": "dup"}), 409)
    sb = "dup"
    expect_error(h.post(f"{API}/{sb}/exec", json={}), 400)
    expect_error(h.post(f"{API}/{sb}/exec", json={"command": 5}), 400)
    expect_error(h.post(f"{API}/{sb}/code", json={"code": ["x"]}), 400)
    # the gateway is still fine
    assert client.exec(sb, "echo ok")["stdout"] == "ok\n"


def test_isolation_basics(client, gateway):
    planted = os.path.join(gateway.state_dir, "planted-secret.txt")
    with open(planted, "w") as f:
        f.write("host secret")
    sb = client.create(name="iso")
    out = client.exec("iso", "ps -e -o pid=,comm=")
    pids = [line.split()[0] for line in out["stdout"].splitlines()]
    assert "1" in pids
    assert len(pids) < 10, out["stdout"]  # the host has hundreds
    out = client.exec("iso", f"cat {planted}; ls {gateway.state_dir}; cat /proc/1/cmdline | tr '\\0' ' '")
    assert "host secret" not in out["output"]
    assert "sluice-gateway" not in out["output"] and "systemd" not in out["output"]
    host = os.uname().nodename
    name = client.exec("iso", "hostname")["stdout"].strip()
    assert name and name != host
    code = client.code("iso", "import os; open('/proc/1/status').read().split()[1]")
    assert code["text"] not in ("'systemd'", "'init'", "'sluice-gateway'")
    assert client.exec("iso", "id -u")["stdout"].strip() in ("0", "65532")


def test_nothing_remains_after_delete(client, gateway):
    sb = client.create()["id"]
    snap = Snapshot(gateway.state_dir, sb)
    client.exec(sb, "sleep 1000 & sleep 1000 &")
    client.delete(sb)
    wait_until(lambda: not snap.leftovers(), timeout=15, what=f"sandbox cleanup: {snap.leftovers()}")
    assert not os.path.exists(os.path.join(gateway.state_dir, "sandboxes", sb))


def test_nothing_remains_after_runner_kill(client, gateway):
    sb = client.create()["id"]
    snap = Snapshot(gateway.state_dir, sb)
    client.exec(sb, "sleep 1000 &")
    os.kill(snap.runner, signal.SIGKILL)
    wait_until(lambda: not snap.leftovers(), timeout=15, what=f"sandbox cleanup: {snap.leftovers()}")

    def reported():
        s = client.http.get(f"{API}/{sb}").json()["data"]
        return s if s["status"] == "error" else None
    s = wait_until(reported, timeout=15, what="status error after runner death")
    assert s["error_message"]
    client.delete(sb)
    assert client.http.get(f"{API}/{sb}").status_code == 404


def test_gateway_kill9_restart_keeps_sandbox_and_state(workdir):
    state = os.path.join(workdir, "state")
    gw = Gateway(state).start()
    key = create_key(state)
    try:
        c = Client(gw.url, key)
        sb = c.create(name="survivor")["id"]
        c.code(sb, "kept = 'still here'")
        c.exec(sb, "cd /tmp && export AFTER=restart")
        pid_before = runner_pid(state, sb)
        gw.kill(signal.SIGKILL)

        gw = Gateway(state).start()
        c = Client(gw.url, key)
        listed = c.http.get(API).json()["data"]
        assert [s["name"] for s in listed] == ["survivor"]

        def ready():
            s = c.http.get(f"{API}/{sb}").json()["data"]
            return s["ready"] == "True"
        wait_until(ready, timeout=15, what="sandbox ready after gateway restart")
        assert runner_pid(state, sb) == pid_before
        assert c.code(sb, "kept")["text"] == "'still here'"
        out = c.exec(sb, "pwd; echo $AFTER")
        assert out["stdout"] == "/tmp\nrestart\n"
        c.delete(sb)
    finally:
        gw.kill(signal.SIGKILL)


def test_delete_all_in_namespace(client):
    for n in ("a1", "a2"):
        client.create(name=n, namespace="batch")
    keep = client.create(name="a1")  # same name, other namespace
    r = client.http.delete(API, params={"namespace": "batch"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert sorted(x["name"] for x in data["results"]) == ["a1", "a2"]
    assert all(x["success"] for x in data["results"])
    left = client.http.get(API).json()["data"]
    assert [s["id"] for s in left] == [keep["id"]]


def test_chunked_request_body_is_refused_not_hung(gateway):
    """A body without Content-Length (Transfer-Encoding: chunked) gets a clear 411 at once, never a hang."""
    def chunks():
        yield b'{"name": '
        yield b'"chunky"}'
    # the reply races the client's body writes; the gateway's lingering close must win every time
    for _ in range(10):
        r = httpx.post(gateway.url + API, content=chunks(), timeout=20,
                       headers={"X-API-Key": gateway.key, "Content-Type": "application/json"})
        assert r.status_code == 411, r.text
        assert r.json()["error"]["code"] == "length_required"
    assert httpx.get(gateway.url + "/health", timeout=10).status_code == 200
