"""Operations: inactivity timeout and ttl_seconds (culled through the DELETE path, persisted across a
gateway restart), POST .../timeout, the one-shot POST /api/v1/run (JSON and SSE, sandbox gone afterwards
and when the client leaves), GET /api/v1/status, /api/v1/images and /metrics.

Short timeouts (1-2 s); every wait is a bounded poll (conftest.wait_until), never a sleep."""
import json
import os
import signal
import time
from datetime import datetime, timezone

import httpx
import pytest

from conftest import Client, Gateway, create_key, wait_until

MAX_TIMEOUT = 3600


@pytest.fixture
def gw(workdir):
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)  # conftest writes the config next to it
    g = Gateway(state, config={"max_timeout_s": MAX_TIMEOUT}).start()
    g.key = create_key(state)
    yield g
    try:
        c = Client(g.url, g.key)
        for sb in c.http.get("/api/v1/sandboxes").json().get("data", []):
            c.http.delete(f"/api/v1/sandboxes/{sb['id']}")
    except Exception:
        pass
    g.kill(signal.SIGTERM)


@pytest.fixture
def c(gw):
    return Client(gw.url, gw.key)


def gone(c, sb_id):
    return c.http.get(f"/api/v1/sandboxes/{sb_id}").status_code == 404


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def no_sandboxes(c):
    return c.http.get("/api/v1/sandboxes").json()["data"] == []


def test_idle_sandbox_is_deleted_and_expires_at_says_when(c, gw):
    sb = c.create(timeout=1)
    assert sb["timeout"] == 1
    assert ts(sb["expires_at"]) - ts(sb["created_at"]) <= 2
    keep = c.create(timeout=MAX_TIMEOUT)
    assert ts(keep["expires_at"]) - ts(keep["created_at"]) >= MAX_TIMEOUT - 1
    wait_until(lambda: gone(c, sb["id"]), timeout=15, what="the idle sandbox to be culled")
    assert not gone(c, keep["id"])
    # the runner's state dir goes the way of DELETE: the API forgets the sandbox at once, the runner's
    # shutdown and cleanup finish a moment later
    sb_dir = os.path.join(gw.state_dir, "sandboxes", sb["id"])
    wait_until(lambda: not os.path.exists(sb_dir), timeout=15, what="the culled sandbox's state dir to go")


def test_activity_and_running_commands_keep_a_sandbox_alive(c):
    sb = c.create(timeout=2)
    # a command longer than the timeout: a sandbox with a request in flight is not idle
    r = c.exec(sb["id"], "sleep 3; echo done")
    assert r["exit_code"] == 0 and r["stdout"] == "done\n"
    # requests of any kind refresh the activity time: keep touching for longer than the timeout
    t_end = time.monotonic() + 3
    while time.monotonic() < t_end:
        assert c.http.get(f"/api/v1/sandboxes/{sb['id']}/files", params={"path": "/tmp"}).status_code == 200
        time.sleep(0.2)  # pacing of the activity, not synchronisation
    before = c.http.get(f"/api/v1/sandboxes/{sb['id']}").json()["data"]
    assert before["status"] == "running"
    wait_until(lambda: gone(c, sb["id"]), timeout=15, what="the sandbox to be culled once idle")


def test_set_timeout(c):
    sb = c.create(timeout=1)
    url = f"/api/v1/sandboxes/{sb['id']}/timeout"
    r = c.http.post(url, json={"timeout": 600})
    assert r.status_code == 200, r.text
    view = r.json()["data"]
    assert view["timeout"] == 600
    assert ts(view["expires_at"]) >= time.time() + 590
    assert c.http.get(f"/api/v1/sandboxes/{sb['id']}").json()["data"]["timeout"] == 600
    for bad in ({"timeout": 0}, {"timeout": -5}, {"timeout": "60"}, {"timeout": 1.5}, {"timeout": None},
                {"timeout": MAX_TIMEOUT + 1}, {}, {"timeout": 60, "other": 1}):
        r = c.http.post(url, json=bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] in ("invalid_timeout", "invalid_request"), r.text
    r = c.http.post(url, content=b"[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = c.http.post("/api/v1/sandboxes/no-such-sandbox/timeout", json={"timeout": 60})
    assert r.status_code == 404
    # shortening it takes effect: the sandbox goes within the new timeout
    assert c.http.post(url, json={"timeout": 1}).status_code == 200
    wait_until(lambda: gone(c, sb["id"]), timeout=15, what="the sandbox to go after a shorter timeout")


def test_create_bounds_and_ttl(c):
    for bad in ({"timeout": MAX_TIMEOUT + 1}, {"timeout": 0}, {"ttl_seconds": 0},
                {"ttl_seconds": MAX_TIMEOUT + 1}):
        r = c.http.post("/api/v1/sandboxes", json=bad)
        assert r.status_code == 400, (bad, r.text)
    assert no_sandboxes(c)
    sb = c.create(timeout=MAX_TIMEOUT, ttl_seconds=2)
    assert ts(sb["expires_at"]) - ts(sb["created_at"]) == 2
    # ttl is a hard lifetime: activity does not extend it
    deadline = time.monotonic() + 20

    def culled_despite_activity():
        assert time.monotonic() < deadline
        r = c.http.get(f"/api/v1/sandboxes/{sb['id']}")
        return r.status_code == 404

    wait_until(culled_despite_activity, timeout=20, what="the ttl to end the sandbox")


def test_timeouts_survive_a_restart(gw, c):
    short = c.create(timeout=2)
    long_ = c.create(timeout=60)
    assert c.http.post(f"/api/v1/sandboxes/{long_['id']}/timeout", json={"timeout": 900}).status_code == 200
    gw.kill(signal.SIGKILL)  # no chance to say goodbye: what counts is what was persisted
    due = ts(short["expires_at"]) + 1.5
    wait_until(lambda: time.time() > due, timeout=10, what="the short sandbox's deadline to pass")
    gw.lines.clear()
    gw.start()
    c2 = Client(gw.url, gw.key)
    wait_until(lambda: gone(c2, short["id"]), timeout=20, what="the overdue sandbox to be culled on restart")
    view = c2.http.get(f"/api/v1/sandboxes/{long_['id']}").json()["data"]
    assert view["timeout"] == 900
    wait_until(lambda: c2.http.get(f"/api/v1/sandboxes/{long_['id']}").json()["data"]["status"] == "running",
               timeout=20, what="the adopted sandbox to reconnect")
    assert c2.exec(long_["id"], "echo alive")["stdout"] == "alive\n"


def sse_events(resp):
    events, name = [], None
    for line in resp.iter_lines():
        line = line.rstrip("\r\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


def test_run_one_shot(c):
    r = c.http.post("/api/v1/run", json={"command": "echo hi; echo err >&2; sh -c 'exit 3'"})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["exit_code"] == 3 and d["stdout"] == "hi\n" and d["stderr"] == "err\n"
    assert set(d) >= {"exit_code", "stdout", "stderr", "output", "cwd", "truncated", "duration_ms"}
    r = c.http.post("/api/v1/run", json={"argv": ["python3", "-c", "print(6*7)"], "image": "python",
                                         "limits": {"memory": "256Mi"}, "timeout_ms": 20000})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["stdout"] == "42\n"
    wait_until(lambda: no_sandboxes(c), timeout=15, what="the run sandboxes to be deleted")
    with c.http.stream("POST", "/api/v1/run", json={"command": "echo a; echo b >&2"},
                       headers={"Accept": "text/event-stream"}) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = sse_events(resp)
    assert events[-1][0] == "done" and events[-1][1]["exit_code"] == 0, events
    assert "".join(e[1]["data"] for e in events if e[0] == "stdout") == "a\n"
    assert "".join(e[1]["data"] for e in events if e[0] == "stderr") == "b\n"
    wait_until(lambda: no_sandboxes(c), timeout=15, what="the streamed run's sandbox to be deleted")
    # a timeout kills the command: 124 with an error
    d = c.http.post("/api/v1/run", json={"command": "sleep 20", "timeout_ms": 300}).json()["data"]
    assert d["exit_code"] == 124 and d.get("error"), d


def test_run_errors(c):
    cases = [({}, 400), ({"command": "x", "argv": ["x"]}, 400), ({"command": ""}, 400),
             ({"command": "x", "image": "no-such-image"}, 400), ({"command": "x", "image": "../etc"}, 400),
             ({"command": "x", "limits": {"memory": "lots"}}, 422), ({"command": "x", "nope": 1}, 400),
             ({"command": "x", "timeout_ms": -1}, 400)]
    for body, status in cases:
        r = c.http.post("/api/v1/run", json=body)
        assert r.status_code == status, (body, r.text)
        assert "code" in r.json()["error"]
    r = c.http.post("/api/v1/run", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert no_sandboxes(c)


def test_run_client_disconnect_deletes_the_sandbox(c):
    with c.http.stream("POST", "/api/v1/run", json={"command": "echo started; sleep 60"},
                       headers={"Accept": "text/event-stream"}) as resp:
        for line in resp.iter_lines():
            if "started" in line:
                assert len(c.http.get("/api/v1/sandboxes").json()["data"]) == 1
                break  # leaving the generator closes the connection mid-command
    wait_until(lambda: no_sandboxes(c), timeout=20, what="the abandoned run's sandbox to be deleted")


def test_status_images_metrics(c, gw):
    sb = c.create()
    st = c.http.get("/api/v1/status")
    assert st.status_code == 200
    d = st.json()["data"]
    assert d["version"] and d["sandboxes"]["total"] == 1 and d["sandboxes"]["by_status"]["running"] == 1
    assert d["capacity"]["max_sandboxes"] >= 1 and d["capacity"]["available"] == d["capacity"]["max_sandboxes"] - 1
    assert "python" in d["images"] and d["uptime_s"] >= 0
    imgs = c.http.get("/api/v1/images").json()["data"]
    py = [i for i in imgs if i["name"] == "python"]
    assert py and py[0]["description"] and "python" in py[0]["languages"]
    c.exec(sb["id"], "true")
    c.http.get("/api/v1/sandboxes/no-such-sandbox")
    m = c.http.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples['sluice_sandboxes{status="running"}'] == 1
    assert samples["sluice_sandbox_creates_total"] >= 1
    assert samples["sluice_sandbox_create_seconds_count"] >= 1
    assert samples['sluice_sandbox_create_seconds_bucket{le="+Inf"}'] == samples["sluice_sandbox_create_seconds_count"]
    assert samples['sluice_executions_total{kind="exec"}'] == 1
    assert samples['sluice_http_requests_total{class="exec",status="200"}'] == 1
    assert samples['sluice_http_requests_total{class="sandboxes",status="404"}'] >= 1
    assert samples["process_resident_memory_bytes"] > 0
    assert "sluice_uptime_seconds" in samples and "sluice_sandbox_deletes_total" in samples
    assert 'sluice_sandbox_errors_total{kind="create_failed"}' in samples
    # every operations route wants a key; /health does not
    anon = httpx.Client(base_url=gw.url, timeout=30)
    for path in ("/metrics", "/api/v1/status", "/api/v1/images"):
        assert anon.get(path).status_code == 401, path
    assert anon.post("/api/v1/run", json={"command": "true"}).status_code == 401
    assert anon.post(f"/api/v1/sandboxes/{sb['id']}/timeout", json={"timeout": 5}).status_code == 401
    assert anon.get("/health").status_code == 200
