"""Sandbox lifecycle a user can trust (with test_operations.py, which covers set_timeout, ttl and expiry
across a restart): expiry is logged as a JSON event and goes the DELETE way; the configured default
timeout gives every sandbox a real expires_at; SIGTERM finishes in-flight requests, refuses new ones and
leaves runners running (adopted by the next gateway), or with --stop-sandboxes deletes them; the config
file (TOML or JSON), SLUICE_<SETTING> and --<setting> flags layer in that order and show in
GET /api/v1/status; bad settings stop the gateway with a clear message. Every wait is a bounded poll."""
import json
import os
import signal
import subprocess
import threading
from datetime import datetime

import pytest

from conftest import GATEWAY, Client, Gateway, create_key, wait_until

API = "/api/v1/sandboxes"


def log_lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def events(path, name, sandbox_id=None):
    return [e for e in log_lines(path) if e["event"] == name and (sandbox_id is None or e.get("sandbox_id") == sandbox_id)]


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()


def runner_pid(state, sb_id):
    with open(os.path.join(state, "sandboxes", sb_id, "runner.pid")) as f:
        return int(f.read().split()[0])


def alive(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"sluice-runner" in f.read()
    except FileNotFoundError:
        return False


@pytest.fixture
def logged(workdir):
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    log = os.path.join(workdir, "gateway.log")
    g = Gateway(state, config={"default_timeout_s": 120, "log_file": log}).start()
    g.key = create_key(state)
    g.log = log
    yield g
    try:
        c = Client(g.url, g.key)
        for sb in c.http.get(API).json().get("data", []):
            c.http.delete(f"{API}/{sb['id']}")
    except Exception:
        pass
    g.kill(signal.SIGTERM)


def test_expiry_is_a_logged_delete_and_default_timeout_applies(logged):
    c = Client(logged.url, logged.key)
    plain = c.create()
    assert plain["timeout"] == 120 and plain["expires_at"]
    assert 119 <= ts(plain["expires_at"]) - ts(plain["created_at"]) <= 121
    idle = c.create(timeout=1)
    ttl = c.create(timeout=600, ttl_seconds=2)
    wait_until(lambda: c.http.get(f"{API}/{idle['id']}").status_code == 404, timeout=15, what="idle expiry")
    wait_until(lambda: c.http.get(f"{API}/{ttl['id']}").status_code == 404, timeout=15, what="ttl expiry")
    wait_until(lambda: events(logged.log, "sandbox_deleted", ttl["id"]), timeout=10, what="the delete logged")
    (e,) = events(logged.log, "sandbox_expired", idle["id"])
    assert e["reason"] == "idle" and e["timeout"] == 1
    assert events(logged.log, "sandbox_expired", ttl["id"])[0]["reason"] == "ttl"
    assert events(logged.log, "sandbox_deleted", idle["id"])
    # request lines: method, route class, status, duration, sandbox and key NAME, never the key
    reqs = [r for r in events(logged.log, "request") if r.get("sandbox_id") == plain["id"]]
    assert reqs and reqs[0]["method"] == "POST" and reqs[0]["route"] == "sandboxes" and reqs[0]["status"] == 201
    assert reqs[0]["key"] == "test" and reqs[0]["duration_ms"] >= 0
    with open(logged.log) as f:
        assert logged.key not in f.read()
    miss = c.http.get(f"{API}/nope")
    assert [r for r in events(logged.log, "request") if r["path"] == f"{API}/nope"][0]["error"] == "sandbox_not_found"
    assert miss.status_code == 404
    assert events(logged.log, "sandbox_created", plain["id"])[0]["timeout"] == 120


def test_sigterm_finishes_requests_and_leaves_runners(logged):
    c = Client(logged.url, logged.key)
    sb = c.create()
    pid = runner_pid(logged.state_dir, sb["id"])
    done = {}

    def slow():
        done["r"] = c.http.post(f"{API}/{sb['id']}/exec", json={"command": "sleep 1.5; echo finished"})

    t = threading.Thread(target=slow)
    t.start()
    wait_until(lambda: c.http.get("/api/v1/status").json()["data"]["capacity"]["executions_in_flight"] == 1,
               timeout=10, what="the exec to be in flight")
    logged.proc.send_signal(signal.SIGTERM)
    r = wait_until(lambda: (lambda x: x if x.status_code == 503 else None)(c.http.get("/health")), timeout=10,
                   what="new requests to be refused")
    assert r.json()["error"]["code"] == "shutting_down"
    t.join(timeout=30)
    assert done["r"].status_code == 200 and done["r"].json()["data"]["stdout"] == "finished\n"
    assert logged.proc.wait(timeout=20) == 0
    assert alive(pid), "the runner keeps running across a graceful stop"
    (e,) = events(logged.log, "shutdown")
    assert e["stop_sandboxes"] is False and e["sandboxes"] == 1
    logged.start()
    c = Client(logged.url, logged.key)
    wait_until(lambda: c.http.get(f"{API}/{sb['id']}").json()["data"]["status"] == "running", timeout=20,
               what="the runner to be re-attached")
    assert runner_pid(logged.state_dir, sb["id"]) == pid
    assert c.exec(sb["id"], "echo back")["stdout"] == "back\n"
    assert events(logged.log, "sandbox_adopted", sb["id"])


def test_sigterm_with_stop_sandboxes_deletes_them(workdir):
    state = os.path.join(workdir, "state")
    g = Gateway(state, args=["--stop-sandboxes"]).start()
    key = create_key(state)
    try:
        c = Client(g.url, key)
        ids = [c.create()["id"], c.create(namespace="other")["id"]]
        pids = [runner_pid(state, i) for i in ids]
        g.proc.send_signal(signal.SIGTERM)
        assert g.proc.wait(timeout=30) == 0
        assert os.listdir(os.path.join(state, "sandboxes")) == []
        wait_until(lambda: not any(alive(p) for p in pids), timeout=10, what="the runners to be gone")
    finally:
        g.kill()


def test_config_layers_toml_env_flags(workdir):
    state = os.path.join(workdir, "state")
    toml = os.path.join(workdir, "sluice.toml")
    with open(toml, "w") as f:
        f.write('# a TOML config\nmax_sandboxes = 7\nmax_executions = 9  # overridden by env\n'
                'workspace_size = "64Mi"\ndefault_timeout_s = 100\n\n[pool]\n\n[package_index]\n'
                'python = "http://127.0.0.1:1/simple"\n')
    g = Gateway(state, config_path=toml, env={"SLUICE_MAX_EXECUTIONS": "11", "SLUICE_DEFAULT_TIMEOUT_S": "200"},
                args=["--default-timeout-s", "300", "--max-sandboxes-per-namespace=4"]).start()
    try:
        c = Client(g.url, create_key(state))
        cfg = c.http.get("/api/v1/status").json()["data"]["config"]
        assert cfg["max_sandboxes"] == 7 and cfg["max_executions"] == 11 and cfg["default_timeout_s"] == 300
        assert cfg["max_sandboxes_per_namespace"] == 4 and cfg["workspace_size"] == 64 << 20
        assert cfg["package_index"]["python"] == "http://127.0.0.1:1/simple" and cfg["state_dir"] == state
    finally:
        g.kill(signal.SIGTERM)

    def refused(args, env=None, text=None):
        path = os.path.join(workdir, "bad.toml")
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
            args = args + ["--config", path]
        r = subprocess.run([GATEWAY, "serve", "--listen", "127.0.0.1:0", "--state-dir", state, *args],
                           capture_output=True, text=True, timeout=30, env=dict(os.environ, **(env or {})))
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        return r.stderr

    assert "line 2" in refused([], text="max_sandboxes = 3\nmax_executions = 1.5\n")
    assert "unknown setting" in refused([], text="no_such_thing = 1\n")
    assert "max_sandboxes" in refused(["--max-sandboxes", "lots"])
    assert "SLUICE_MAX_TIMEOUT_S" in refused([], env={"SLUICE_MAX_TIMEOUT_S": "0"})
    helped = subprocess.run([GATEWAY, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "--max-sandboxes-per-namespace" in helped.stdout
