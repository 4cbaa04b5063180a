"""Fixtures for the runner tests: a fake gateway (fakegw.py) and one running sandbox."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fakegw import FakeGateway  # noqa: E402


@pytest.fixture
def gw():
    g = FakeGateway()
    yield g
    g.close()


@pytest.fixture
def sandbox(gw):
    sb, proc, t0 = gw.start_runner()
    try:
        hello = gw.wait_hello(sb)
    except AssertionError:
        raise AssertionError("no hello; runner.log:\n" + gw.log(sb))
    print(f"runner start -> hello: {(time.monotonic() - t0) * 1000:.1f} ms")
    assert hello["content"]["state"] == "ready", hello["content"]
    yield sb
    if proc.poll() is None:
        gw.request(sb, "shutdown_request", {"restart": False}, timeout=20)
        proc.wait(timeout=20)
