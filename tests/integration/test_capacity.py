"""Capacity and metrics: max_sandboxes and max_sandboxes_per_namespace answer 429 with a clear message and
leave nothing behind; max_executions bounds code/exec/run in flight (429 while full, fine after);
GET /api/v1/status shows the effective limits; /metrics parses with prometheus_client's text parser
(Debian python3-prometheus-client) and its counters move as the test acts."""
import os
import signal
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Client, Gateway, create_key, wait_until

API = "/api/v1/sandboxes"


@pytest.fixture
def gw(workdir):
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    g = Gateway(state, config={"max_sandboxes": 3, "max_sandboxes_per_namespace": 2, "max_executions": 1}).start()
    g.key = create_key(state)
    yield g
    try:
        c = Client(g.url, g.key)
        for sb in c.http.get(API).json().get("data", []):
            c.http.delete(f"{API}/{sb['id']}")
    except Exception:
        pass
    g.kill(signal.SIGTERM)


@pytest.fixture
def c(gw):
    return Client(gw.url, gw.key)


def metrics(c):
    r = c.http.get("/metrics")
    assert r.status_code == 200
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def m(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def sandbox_dirs(gw):
    return sorted(os.listdir(os.path.join(gw.state_dir, "sandboxes")))


def test_sandbox_caps_answer_429_and_leave_nothing(gw, c):
    before = metrics(c)
    a1 = c.create(namespace="a")
    c.create(namespace="a")
    r = c.http.post(API, json={"namespace": "a"})
    assert r.status_code == 429, r.text
    err = r.json()["error"]
    assert err["code"] == "capacity" and "namespace 'a'" in err["message"] and "max_sandboxes_per_namespace" in err["message"]
    c.create(namespace="b")
    r = c.http.post(API, json={"namespace": "c"})
    assert r.status_code == 429 and "max_sandboxes" in r.json()["error"]["message"], r.text
    r = c.http.post("/api/v1/run", params={"namespace": "c"}, json={"command": "true"})
    assert r.status_code == 429, r.text
    # no half-created sandbox: three listed, three dirs, and a freed slot is usable again
    assert len(c.http.get(API).json()["data"]) == 3 and len(sandbox_dirs(gw)) == 3
    st = c.http.get("/api/v1/status").json()["data"]
    assert st["capacity"]["max_sandboxes"] == 3 and st["capacity"]["available"] == 0
    assert st["capacity"]["max_sandboxes_per_namespace"] == 2 and st["capacity"]["max_executions"] == 1
    assert st["config"]["max_sandboxes_per_namespace"] == 2
    c.delete(a1["id"])
    c.create(namespace="c")
    after = metrics(c)
    assert m(after, "sluice_http_errors_total", code="capacity") - m(before, "sluice_http_errors_total", code="capacity") == 3
    assert m(after, "sluice_sandbox_creates_total") - m(before, "sluice_sandbox_creates_total") == 4
    assert m(after, "sluice_sandbox_deletes_total") - m(before, "sluice_sandbox_deletes_total") == 1
    assert m(after, "sluice_sandboxes", status="running") == 3


def test_max_executions_bounds_work_in_flight(gw, c):
    sb = c.create()
    before = metrics(c)
    result = {}

    def slow():
        result["r"] = c.http.post(f"{API}/{sb['id']}/exec", json={"command": "sleep 2; echo done"})

    t = threading.Thread(target=slow)
    t.start()
    wait_until(lambda: c.http.get("/api/v1/status").json()["data"]["capacity"]["executions_in_flight"] == 1,
               timeout=10, what="the slow exec to be in flight")
    r = c.http.post(f"{API}/{sb['id']}/code", json={"code": "1"})
    assert r.status_code == 429 and "max_executions" in r.json()["error"]["message"], r.text
    assert m(metrics(c), "sluice_executions_in_flight") == 1
    t.join(timeout=30)
    assert result["r"].status_code == 200 and result["r"].json()["data"]["stdout"] == "done\n"
    assert c.exec(sb["id"], "echo again")["stdout"] == "again\n"
    after = metrics(c)
    assert m(after, "sluice_executions_total", kind="exec") - m(before, "sluice_executions_total", kind="exec") == 2
    # the latency histogram of the exec class counted both, and the slow one landed above 1 s
    cnt = m(after, "sluice_http_request_duration_seconds_count", **{"class": "exec"})
    assert cnt - m(before, "sluice_http_request_duration_seconds_count", **{"class": "exec"}) == 2
    assert m(after, "sluice_http_request_duration_seconds_bucket", **{"class": "exec", "le": "1.0"}) < cnt
    assert m(after, "sluice_http_request_duration_seconds_bucket", **{"class": "exec", "le": "+Inf"}) == cnt
    assert m(after, "sluice_http_response_bytes_total") > m(before, "sluice_http_response_bytes_total")
    assert m(after, "sluice_http_errors_total", code="capacity") >= 1


def test_metrics_parse_and_cover_the_families(c):
    c.http.get(f"{API}/nope")
    names = {fam.name: fam.type for fam in text_string_to_metric_families(c.http.get("/metrics").text)}
    for name, typ in (("sluice_sandboxes", "gauge"), ("sluice_sandbox_creates", "counter"),
                      ("sluice_sandbox_deletes", "counter"), ("sluice_executions", "counter"),
                      ("sluice_sandbox_create_seconds", "histogram"),
                      ("sluice_http_request_duration_seconds", "histogram"), ("sluice_http_errors", "counter"),
                      ("sluice_http_response_bytes", "counter"), ("sluice_sandbox_culled", "counter")):
        assert names.get(name) == typ, (name, names.get(name))
    assert m(metrics(c), "sluice_http_errors_total", code="sandbox_not_found") >= 1
