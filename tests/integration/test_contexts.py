"""Contexts as a notebook user sees them: interrupt, restart, reset, timeouts, several interpreter
contexts per sandbox, and bash / JavaScript through the code route."""
import threading
import time


def post(client, sb, path, **body):
    return client.http.post(f"/api/v1/sandboxes/{sb}{path}", json=body if body else None)


def wait_for_file(client, sb, path, timeout=20):
    """Readiness: the cell has started once it created path."""
    deadline = time.monotonic() + timeout
    while client.http.get(f"/api/v1/sandboxes/{sb}/files/stat", params={"path": path}).status_code != 200:
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)  # polling interval of a bounded readiness check


def test_interrupt_stops_a_loop_and_keeps_state(client):
    sb = client.create()["id"]
    assert client.code(sb, "kept = 41")["error"] is None
    out = {}
    code = "open('/tmp/running', 'w').close()\nwhile True: pass"
    t = threading.Thread(target=lambda: out.setdefault("ex", client.code(sb, code)))
    t.start()
    wait_for_file(client, sb, "/tmp/running")
    r = post(client, sb, "/contexts/default/interrupt")
    assert r.status_code == 200 and r.json()["data"]["interrupted"] is True
    sent = time.monotonic()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - sent < 1.5
    assert out["ex"]["error"]["name"] == "KeyboardInterrupt"
    assert client.code(sb, "kept + 1")["text"] == "42"


def test_restart_and_reset_clear_state_but_keep_files(client):
    sb = client.create()["id"]
    client.code(sb, "x = 1\nopen('/tmp/kept.txt', 'w').write('still here')")
    r = post(client, sb, "/contexts/default/restart")
    assert r.status_code == 200 and r.json()["data"]["restarted"] is True
    ex = client.code(sb, "x")
    assert ex["error"]["name"] == "NameError"
    assert client.code(sb, "open('/tmp/kept.txt').read()")["text"] == "'still here'"
    client.code(sb, "y = 2")
    assert post(client, sb, "/reset").status_code == 200
    assert client.code(sb, "y")["error"]["name"] == "NameError"


def test_timeout_is_a_timeout_error_and_the_context_lives_on(client):
    sb = client.create()["id"]
    client.code(sb, "z = 5")
    t0 = time.monotonic()
    ex = client.code(sb, "import time\nwhile True: time.sleep(0.01)", timeout=2)
    assert ex["error"]["name"] == "TimeoutError" and time.monotonic() - t0 < 10
    assert client.code(sb, "z")["text"] == "5"  # interrupted, not restarted


def test_contexts_are_separate_interpreters(client):
    sb = client.create()["id"]
    r = client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"language": "python", "cwd": "/tmp"})
    assert r.status_code == 201, r.text
    ctx = r.json()["data"]
    assert ctx["language"] == "python" and ctx["cwd"] == "/tmp" and ctx["id"] != "default"
    client.code(sb, "v = 'default'")
    client.code(sb, "v = 'other'", context_id=ctx["id"])
    assert client.code(sb, "v")["text"] == "'default'"
    ex = client.code(sb, "import os\n(v, os.getcwd())", context_id=ctx["id"])
    assert ex["text"] == "('other', '/tmp')" and ex["execution_count"] == 2
    ids = {c["id"] for c in client.http.get(f"/api/v1/sandboxes/{sb}/contexts").json()["data"]}
    assert {"default", ctx["id"]} <= ids
    assert client.http.delete(f"/api/v1/sandboxes/{sb}/contexts/{ctx['id']}").status_code == 200
    r = client.http.post(f"/api/v1/sandboxes/{sb}/code", json={"code": "1", "context_id": ctx["id"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert post(client, sb, "/contexts/nope/interrupt").status_code == 404
    assert client.http.delete(f"/api/v1/sandboxes/{sb}/contexts/default").status_code == 400
    bad = client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"language": "cobol"})
    assert bad.status_code == 400
    bad = client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"cwd": "/no/such/dir"})
    assert bad.status_code == 400


def test_contexts_are_bounded(client):
    sb = client.create()["id"]
    codes = [client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"language": "bash"}).status_code
             for _ in range(8)]
    assert codes == [201] * 7 + [409]
