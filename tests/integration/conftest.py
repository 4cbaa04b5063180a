"""Fixtures that start the real sluice-gateway (and through it real runners) on an ephemeral port.

Readiness is the gateway's own "listening on" line, never a sleep. Every wait is bounded.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import httpx
import pytest

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reap  # noqa: E402  (tests/reap.py: runners left by stopped gateways are stopped at session end)

BUILD_DIR = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
GATEWAY = os.path.abspath(os.path.join(BUILD_DIR, "bin", "sluice-gateway"))
READY_TIMEOUT = 30


def wait_until(pred, timeout=10.0, what="condition"):
    """Polls pred() until it returns a truthy value; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)  # polling interval of a bounded readiness check, not a fixed wait
        delay = min(delay * 2, 0.1)


def create_key(state_dir, name="test", namespaces=()):
    args = [GATEWAY, "keys", "create", name, "--state-dir", state_dir]
    for ns in namespaces:
        args += ["--namespace", ns]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout
    return out.strip().splitlines()[-1].strip()


class Gateway:
    """One real sluice-gateway process on 127.0.0.1:<ephemeral>."""

    def __init__(self, state_dir, config=None, args=(), env=None, config_path=None):
        self.state_dir = state_dir
        reap.register(state_dir)
        self.config = config
        self.args = list(args)          # more serve flags (--setting value)
        self.env = env                  # extra environment (SLUICE_<SETTING>)
        self.config_path = config_path  # an existing config file (e.g. TOML) instead of config
        self.proc = None
        self.url = None
        self.lines = []
        self.zygote_wait = True         # start() waits for the zygotes (False: a test of their failure)

    def start(self):
        args = [GATEWAY, "serve", "--listen", "127.0.0.1:0", "--state-dir", self.state_dir]
        if self.config is not None:
            path = os.path.join(os.path.dirname(os.path.abspath(self.state_dir)), "config.json")
            with open(path, "w") as f:
                json.dump(self.config, f)
            args += ["--config", os.path.abspath(path)]
        elif self.config_path:
            args += ["--config", self.config_path]
        args += self.args
        env = dict(os.environ, **(self.env or {}))
        # under ASan, freed memory waits in a quarantine (256 MiB by default): the tests' RSS bounds
        # measure the gateway's queues, not that
        env.setdefault("ASAN_OPTIONS", "quarantine_size_mb=16")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=None, text=True,
                                     start_new_session=True, env=env)
        found = threading.Event()

        def reader():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on (http://\S+)", line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=reader, daemon=True).start()
        if not found.wait(READY_TIMEOUT) or self.url is None:
            self.kill()
            raise AssertionError(f"gateway did not become ready: {self.lines}")
        if self.zygote_wait:
            self.wait_zygotes()
        return self

    def wait_zygotes(self, timeout=60):
        """Every zygote the gateway started (STATE/run/zygote-IMAGE.log) has its socket: sandboxes made from
        here on get zygote-born Python drivers, the default the tests are meant to exercise."""
        run = os.path.join(self.state_dir, "run")
        logs = [f for f in os.listdir(run) if f.startswith("zygote-") and f.endswith(".log")] if os.path.isdir(run) else []
        for log in logs:
            sock = os.path.join(run, log[:-4] + ".sock")
            wait_until(lambda: os.path.exists(sock), timeout, f"{sock} (see {os.path.join(run, log)})")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class Client:
    def __init__(self, url, key):
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60)

    def create(self, **body):
        r = self.http.post("/api/v1/sandboxes", json=body)
        assert r.status_code == 201, r.text
        return r.json()["data"]

    def code(self, sb, code, **kw):
        r = self.http.post(f"/api/v1/sandboxes/{sb}/code", json={"code": code, **kw})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def exec(self, sb, command, **kw):
        r = self.http.post(f"/api/v1/sandboxes/{sb}/exec", json={"command": command, **kw})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def delete(self, sb):
        r = self.http.delete(f"/api/v1/sandboxes/{sb}")
        assert r.status_code == 200, r.text
        return r.json()["data"]


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="sluice-it-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def gateway(workdir):
    """A running gateway with its own state dir; all sandboxes are deleted at the end."""
    state = os.path.join(workdir, "state")
    gw = Gateway(state).start()
    gw.key = create_key(state)
    yield gw
    try:
        c = Client(gw.url, gw.key)
        for sb in c.http.get("/api/v1/sandboxes").json().get("data", []):
            c.http.delete(f"/api/v1/sandboxes/{sb['id']}")
    except Exception:
        pass
    gw.kill(signal.SIGTERM)


@pytest.fixture
def client(gateway):
    return Client(gateway.url, gateway.key)


def pytest_sessionfinish(session, exitstatus):
    reap.reap()
