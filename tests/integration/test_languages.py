"""bash and JavaScript through the code route: state that persists, output, errors, interrupts."""
import threading
import time


def interrupt_when_running(client, sb, cid, marker):
    """Readiness: the cell has started once it created marker; then one interrupt."""
    deadline = time.monotonic() + 20
    while client.http.get(f"/api/v1/sandboxes/{sb}/files/stat", params={"path": marker}).status_code != 200:
        assert time.monotonic() < deadline, "the cell never started"
        time.sleep(0.05)  # polling interval of a bounded readiness check
    r = client.http.post(f"/api/v1/sandboxes/{sb}/contexts/{cid}/interrupt")
    assert r.status_code == 200 and r.json()["data"]["interrupted"] is True, r.text
    return time.monotonic()


def test_bash_is_a_stateful_shell(client):
    sb = client.create()["id"]
    ex = client.code(sb, "cd /tmp && X=7 && f() { echo \"f:$1\"; }", language="bash")
    assert ex["error"] is None
    ex = client.code(sb, "pwd; echo $X; f hi; echo oops >&2", language="bash")
    assert ex["logs"]["stdout"] and "".join(ex["logs"]["stdout"]) == "/tmp\n7\nf:hi\n"
    assert "".join(ex["logs"]["stderr"]) == "oops\n" and ex["error"] is None
    ex = client.code(sb, "false", language="bash")
    assert ex["error"]["name"] == "ExitError" and "1" in ex["error"]["value"]
    ctxs = client.http.get(f"/api/v1/sandboxes/{sb}/contexts").json()["data"]
    bash_id = next(c["id"] for c in ctxs if c["language"] == "bash")
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("ex", client.code(sb, "touch /tmp/b-run; sleep 30; echo after",
                                                                           context_id=bash_id)))
    t.start()
    sent = interrupt_when_running(client, sb, bash_id, "/tmp/b-run")
    t.join(10)
    assert not t.is_alive() and time.monotonic() - sent < 2
    assert out["ex"]["error"]["name"] == "KeyboardInterrupt" and "after" not in "".join(out["ex"]["logs"]["stdout"])
    assert "".join(client.code(sb, "echo $X", language="bash")["logs"]["stdout"]) == "7\n"


def test_javascript_keeps_variables(client):
    sb = client.create()["id"]
    r = client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"language": "javascript"})
    assert r.status_code == 201, r.text
    cid = r.json()["data"]["id"]
    ex = client.code(sb, "let n = 40; const f = (x) => x + 1; console.log('hello', n)", context_id=cid)
    assert ex["error"] is None and "".join(ex["logs"]["stdout"]) == "hello 40\n"
    ex = client.code(sb, "f(n + 1)", context_id=cid)
    assert ex["text"] == "42" and ex["execution_count"] == 2
    assert client.code(sb, "({a: [1, 2]})", context_id=cid)["text"] == "{ a: [ 1, 2 ] }"
    assert client.code(sb, "Promise.resolve(5)", language="javascript")["text"] == "5"
    ex = client.code(sb, "null.x", context_id=cid)
    assert ex["error"]["name"] == "TypeError" and "null" in ex["error"]["value"]
    assert "TypeError" in ex["error"]["traceback"]
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("ex", client.code(sb, "require('fs').writeFileSync('/tmp/js-run', ''); while (true) {}",
                                                                     context_id=cid)))
    t.start()
    sent = interrupt_when_running(client, sb, cid, "/tmp/js-run")
    t.join(10)
    assert not t.is_alive() and time.monotonic() - sent < 1.5
    assert out["ex"]["error"]["name"] == "KeyboardInterrupt"
    assert client.code(sb, "n", context_id=cid)["text"] == "40"


def test_language_mismatch_is_a_400(client):
    sb = client.create()["id"]
    r = client.http.post(f"/api/v1/sandboxes/{sb}/code", json={"code": "1", "language": "bash",
                                                                 "context_id": "default"})
    assert r.status_code == 400
