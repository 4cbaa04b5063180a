"""Real, unmodified Jupyter clients against Sluice: (a) jupyter_server started with --gateway-url and a client
of that server; (b) nbclient through jupyter_server's GatewayKernelManager, compared output by output with the
same notebooks run locally by ipykernel."""
import asyncio
import copy
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import nbformat
import pytest

from kclient import KernelWS
from nbrun import NOTEBOOKS, make_ipythondir, run_local, run_sluice, summary


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_server(gateway):
    port, token = free_port(), uuid.uuid4().hex
    root = tempfile.mkdtemp(prefix="sluice-js-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--gateway-url={gateway.url}",
         f"--GatewayClient.auth_token={gateway.key}", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.token={token}", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True",
         "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "server.log"), "w"), start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": root, "JUPYTER_CONFIG_DIR": root, "JUPYTER_DATA_DIR": root})
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, headers={"Authorization": f"token {token}"}, timeout=60)
    deadline = time.monotonic() + 60
    while True:  # readiness: the server answers /api
        try:
            if http.get("/api").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None, open(os.path.join(root, "server.log")).read()
        assert time.monotonic() < deadline, "jupyter_server did not start"
        time.sleep(0.1)  # polling interval of a bounded readiness check
    http.log = os.path.join(root, "server.log")  # the server's log (a file: a pipe nobody reads could fill)
    yield url, token, http
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_jupyter_server_gateway_mode(gateway, jupyter_server):
    url, token, http = jupyter_server
    specs = http.get("/api/kernelspecs").json()
    assert {"python3", "bash", "javascript"} <= set(specs["kernelspecs"]), specs
    # the server fetches the logos from Sluice
    logo = http.get("/kernelspecs/bash/logo-64x64.png")
    assert logo.status_code == 200 and logo.content[:4] == b"\x89PNG", logo
    r = http.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    kid = r.json()["id"]
    # the kernel lives in Sluice, under the same id
    assert gateway.http.get(f"/api/kernels/{kid}").status_code == 200
    assert kid in [k["id"] for k in http.get("/api/kernels").json()]

    async def go():
        ws = await KernelWS(url, kid, token=token).connect()  # the server's websocket, not Sluice's
        # readiness: the kernel's first status has come through the server, so its upstream websocket to
        # Sluice is open (jupyter_server 1.23 can drop a message sent while that connection is starting)
        first = await ws.recv()
        assert first["msg_type"] == "status"
        mid = ws.request("execute_request", {"code": "import sys\nprint('via server', sys.version_info[0])\n2**10",
                                             "silent": False, "store_history": True})
        msgs = await ws.until_idle(mid)
        ws.close()
        return msgs
    try:
        msgs = asyncio.run(go())
    except BaseException:
        print(open(http.log).read()[-6000:])
        raise
    text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert text == "via server 3\n"
    assert [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "1024"
    assert [m for m in msgs if m["msg_type"] == "execute_reply"][0]["content"]["status"] == "ok"
    assert http.delete(f"/api/kernels/{kid}").status_code == 204
    assert gateway.http.get(f"/api/kernels/{kid}").status_code == 404


@pytest.fixture(scope="module")
def ipythondir():
    return make_ipythondir()


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb")))
def test_nbclient_notebooks_match_ipykernel(gateway, ipythondir, name):
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    before = {k["id"] for k in gateway.http.get("/api/kernels").json()}
    sluice = summary(run_sluice(copy.deepcopy(nb), gateway))
    # nbclient's GatewayKernelManager deleted the kernel it created
    assert {k["id"] for k in gateway.http.get("/api/kernels").json()} <= before
    local = summary(run_local(copy.deepcopy(nb), ipythondir))
    assert sluice == local


def test_side_by_side_table(gateway):
    """tests/jupyter/side_by_side.py on errors_and_display.ipynb: every cell matches; the table is kept in
    tests/artifacts/side_by_side.md."""
    import side_by_side
    text, ok = side_by_side.side_by_side(os.path.join(NOTEBOOKS, "errors_and_display.ipynb"), gateway.url,
                                         gateway.key)
    side_by_side.write(text, side_by_side.ARTIFACT)
    assert ok, text
    assert text.count("| yes |") == 4, text
