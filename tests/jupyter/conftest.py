import os
import shutil
import tempfile

import httpx
import pytest

from gw import Gateway


@pytest.fixture(scope="module")
def gateway():
    d = tempfile.mkdtemp(prefix="sluice-jt-")
    gw = Gateway(os.path.join(d, "state")).start()
    gw.http = httpx.Client(base_url=gw.url, headers={"Authorization": f"token {gw.key}"}, timeout=60)
    yield gw
    try:
        for k in gw.http.get("/api/kernels").json():
            gw.http.delete(f"/api/kernels/{k['id']}")
        for sb in gw.http.get("/api/v1/sandboxes").json().get("data", []):
            gw.http.delete(f"/api/v1/sandboxes/{sb['id']}")
    except Exception:
        pass
    gw.stop()
    shutil.rmtree(d, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    import reap
    reap.reap()  # runners left by the gateways this session stopped
