"""Fixtures of the escape suite: one real sluice-gateway for the whole module, a few sandboxes shared
by the attacks that cannot damage them, and bounded helpers (every call has a timeout)."""
import importlib.util
import os
import shutil
import signal
import tempfile

import pytest

# the integration suite's Gateway/Client, loaded under another module name (both files are "conftest")
_spec = importlib.util.spec_from_file_location(
    "sluice_integration_conftest", os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py"))
_it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_it)
Client, Gateway, create_key = _it.Client, _it.Gateway, _it.create_key


def pytest_sessionfinish(session, exitstatus):
    _it.reap.reap()  # runners left by the gateways this session stopped

API = "/api/v1/sandboxes"


class Sec:
    """A client bound to a gateway, with shell and python helpers that never wait without bound."""

    def __init__(self, gw, workdir):
        self.gw = gw
        self.workdir = workdir
        self.c = Client(gw.url, gw.key)
        self.port = int(gw.url.rsplit(":", 1)[1].split("/")[0])

    def create(self, **body):
        return self.c.create(**body)["id"]

    def create_raw(self, **body):
        return self.c.http.post(API, json=body)

    def sh(self, sb, command, timeout_ms=20000):
        return self.c.exec(sb, command, timeout_ms=timeout_ms)

    def out(self, sb, command, timeout_ms=20000):
        r = self.sh(sb, command, timeout_ms)
        return r["stdout"] + r["stderr"]

    def py(self, sb, code, timeout_ms=20000):
        """Runs code with python3 in the sandbox (through the shell); returns stdout+stderr."""
        r = self.c.http.post(f"{API}/{sb}/exec", json={"argv": ["python3", "-c", code], "timeout_ms": timeout_ms})
        assert r.status_code == 200, r.text
        d = r.json()["data"]
        return d["stdout"] + d["stderr"]


@pytest.fixture(scope="session")
def sec():
    workdir = tempfile.mkdtemp(prefix="sluice-sec-")
    state = os.path.join(workdir, "state")
    gw = Gateway(state).start()
    gw.key = create_key(state)
    s = Sec(gw, workdir)
    yield s
    try:
        for sb in s.c.http.get(API).json().get("data", []):
            s.c.http.delete(f"{API}/{sb['id']}")
    except Exception:
        pass
    gw.kill(signal.SIGTERM)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def sb(sec):
    """The default sandbox: root inside its user namespace, no capabilities."""
    return sec.create(name="attacker")


@pytest.fixture(scope="session")
def peer(sec):
    """Another sandbox on the same gateway: the victim of cross-sandbox attacks."""
    return sec.create(name="victim")
