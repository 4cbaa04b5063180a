"""Fixtures of the SDK suite: one real sluice-gateway per test module (the integration suite's Gateway,
loaded under another module name), the SDK importable from sdk/python, and an environment for
subprocesses (seed examples, the CLI) that points them at the gateway. Every wait is bounded."""
import importlib.util
import os
import shutil
import signal
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SDK = os.path.join(ROOT, "sdk", "python")
if SDK not in sys.path:
    sys.path.insert(0, SDK)

_spec = importlib.util.spec_from_file_location("sluice_integration_conftest",
                                               os.path.join(ROOT, "tests", "integration", "conftest.py"))
_it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_it)
Gateway, create_key, wait_until, ItClient = _it.Gateway, _it.create_key, _it.wait_until, _it.Client


def pytest_sessionfinish(session, exitstatus):
    _it.reap.reap()  # runners left by the gateways this session stopped


@pytest.fixture(scope="module")
def gw(request):
    """A gateway for the whole module (configured by the module's GATEWAY_CONFIG, if any); every sandbox
    is deleted after each test (see `clean`)."""
    d = tempfile.mkdtemp(prefix="sluice-sdk-")
    state = os.path.join(d, "state")
    g = Gateway(state, config=getattr(request.module, "GATEWAY_CONFIG", None)).start()
    g.key = create_key(state)
    g.workdir = d
    yield g
    g.kill(signal.SIGTERM)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean(request):
    yield
    if "gw" in request.fixturenames:
        g = request.getfixturevalue("gw")
        c = ItClient(g.url, g.key)
        try:
            for sb in c.http.get("/api/v1/sandboxes").json().get("data", []):
                c.http.delete(f"/api/v1/sandboxes/{sb['id']}")
        finally:
            c.http.close()


@pytest.fixture
def env(gw, monkeypatch):
    """SLUICE_URL / SLUICE_API_KEY set for the SDK in this process; returns the environment for subprocesses."""
    monkeypatch.setenv("SLUICE_URL", gw.url)
    monkeypatch.setenv("SLUICE_API_KEY", gw.key)
    e = dict(os.environ, SLUICE_URL=gw.url, SLUICE_API_KEY=gw.key, PYTHONPATH=SDK, SLUICE_NO_PROGRESS="1",
             PYTHONUNBUFFERED="1")
    return e
