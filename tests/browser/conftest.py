"""Runners left by the gateways this session stopped are stopped at its end (tests/reap.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reap  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    reap.reap()
