"""The Kernel Gateway REST routes and the channels websocket, as a Jupyter client sees them."""
import asyncio
import re
import struct

import httpx
import pytest

from kclient import V1, KernelWS

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def kernel(gateway):
    r = gateway.http.post("/api/kernels", json={"name": "python3", "env": {"KERNEL_USERNAME": "ada", "PATH": "/evil"}})
    assert r.status_code == 201, r.text
    k = r.json()
    assert r.headers["location"] == f"/api/kernels/{k['id']}"
    return k


def test_api_and_specs(gateway):
    assert "version" in gateway.http.get("/api").json()
    specs = gateway.http.get("/api/kernelspecs").json()
    assert specs["default"] == "python3"
    spec = specs["kernelspecs"]["python3"]
    assert spec["name"] == "python3" and isinstance(spec["resources"], dict)
    assert spec["spec"]["language"] == "python" and spec["spec"]["display_name"]
    assert isinstance(spec["spec"]["argv"], list)
    assert gateway.http.get("/api/kernelspecs/python3").json() == spec
    r = gateway.http.get("/api/kernelspecs/cobol")
    assert r.status_code == 404 and set(r.json()) == {"reason", "message"}
    logo = gateway.http.get(spec["resources"]["logo-64x64"])
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png"
    assert struct.unpack(">II", logo.content[16:24]) == (64, 64)
    assert gateway.http.get("/kernelspecs/python3/nope.png").status_code == 404


def test_auth(gateway):
    r = httpx.get(gateway.url + "/api/kernels")
    assert r.status_code == 401 and set(r.json()) == {"reason", "message"}
    assert httpx.get(gateway.url + f"/api/kernels?token={gateway.key}").status_code == 200


def test_kernel_model_and_env(gateway, kernel):
    assert TIME.match(kernel["last_activity"]) and kernel["name"] == "python3"
    assert kernel["execution_state"] in ("idle", "starting") and kernel["connections"] == 0
    ids = [k["id"] for k in gateway.http.get("/api/kernels").json()]
    assert kernel["id"] in ids
    assert gateway.http.get(f"/api/kernels/{kernel['id']}").json()["id"] == kernel["id"]
    assert gateway.http.get("/api/kernels/00000000-0000-0000-0000-000000000000").status_code == 404
    assert gateway.http.post("/api/kernels", json={"env": []}).status_code == 400
    assert gateway.http.post("/api/kernels", json={"env": {"KERNEL_X": "a$b"}}).status_code == 400
    assert gateway.http.post("/api/kernels", json={"name": "cobol"}).status_code == 404

    async def go():
        ws = await KernelWS(gateway.url, kernel["id"], token=gateway.key).connect()
        mid = ws.request("execute_request", {"code": "import os; print(os.environ.get('KERNEL_USERNAME'), "
                                                     "os.environ['PATH'] != '/evil')", "silent": False})
        msgs = await ws.until_idle(mid)
        ws.close()
        return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert run(go()) == "ada True\n"


@pytest.mark.parametrize("v1", [False, True])
def test_execute_sequence(gateway, kernel, v1):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"], v1=v1).connect()  # no credentials: GatewayKernelClient
        assert ws.subprotocol == (V1 if v1 else None)
        info = await ws.until_idle(ws.request("kernel_info_request", {}))
        reply = [m for m in info if m["msg_type"] == "kernel_info_reply"][0]
        assert reply["channel"] == "shell"
        li = reply["content"]["language_info"]
        assert li["name"] == "python" and li["file_extension"] == ".py" and li["mimetype"]
        mid = ws.request("execute_request", {"code": "print('out')\n6*7", "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
                         with_channel=False)
        msgs = await ws.until_idle(mid)
        iopub = [m["msg_type"] for m in msgs if m["channel"] == "iopub"]
        assert iopub[0] == "status" and msgs[0]["content"]["execution_state"] == "busy"
        assert iopub[1] == "execute_input" and iopub[-1] == "status"
        assert "stream" in iopub and "execute_result" in iopub
        res = [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]
        assert res["data"]["text/plain"] == "42"
        rep = [m for m in msgs if m["msg_type"] == "execute_reply"][0]
        assert rep["channel"] == "shell" and rep["content"]["status"] == "ok"
        assert rep["content"]["execution_count"] == res["execution_count"]
        err = await ws.until_idle(ws.request("execute_request", {"code": "1/0"}))
        e = [m for m in err if m["msg_type"] == "error"][0]["content"]
        assert e["ename"] == "ZeroDivisionError"
        assert [m for m in err if m["msg_type"] == "execute_reply"][0]["content"]["status"] == "error"
        for t, c in (("complete_request", {"code": "pri", "cursor_pos": 3}),
                     ("inspect_request", {"code": "print", "cursor_pos": 5, "detail_level": 0}),
                     ("is_complete_request", {"code": "for i in x:"}),
                     ("history_request", {"output": False, "raw": True, "hist_access_type": "tail", "n": 10}),
                     ("comm_info_request", {})):
            got = await ws.until_idle(ws.request(t, c))
            rep = [m for m in got if m["msg_type"] == t.replace("_request", "_reply")][0]
            assert rep["content"]["status"] in ("ok", "unknown", "incomplete", "complete"), rep
        ws.close()
    run(go())


def test_interrupt_over_control(gateway, kernel):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"]).connect()
        mid = ws.request("execute_request", {"code": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)"})
        while True:
            m = await ws.recv()
            if m["msg_type"] == "stream":
                break
        ws.request("interrupt_request", {}, channel="control")
        msgs = await ws.until_idle(mid)
        assert any(m["msg_type"] == "error" and m["content"]["ename"] == "KeyboardInterrupt" for m in msgs)
        assert any(m["msg_type"] == "interrupt_reply" and m["channel"] == "control" for m in ws.received)
        ws.close()
    run(go())


def test_reconnect_replays_buffered_output(gateway, kernel):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"], session_id="replay-1").connect()
        mid = ws.request("execute_request", {"code": "import time\ntime.sleep(0.5)\nprint('while away')"})
        ws.close()  # gone before the output exists
        # REST polls are the readiness check: the kernel turns busy, then idle once the cell finished
        seen = []
        for _ in range(400):
            st = gateway.http.get(f"/api/kernels/{kernel['id']}").json()["execution_state"]
            if st == "busy" or (seen and st == "idle"):
                seen.append(st)
            if st == "idle" and "busy" in seen:
                break
            await asyncio.sleep(0.025)  # polling interval, not a synchronisation
        ws2 = await KernelWS(gateway.url, kernel["id"], session_id="replay-1").connect()
        msgs = await ws2.until_idle(mid)
        assert "while away\n" in "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
        assert any(m["msg_type"] == "execute_reply" for m in msgs)
        ws2.close()
    run(go())


def test_unauthenticated_channels_only_for_api_kernels(gateway):
    sb = gateway.http.post("/api/v1/sandboxes", json={}).json()["data"]["id"]

    async def go():
        with pytest.raises(Exception):
            await KernelWS(gateway.url, sb).connect()
        ws = await KernelWS(gateway.url, sb, token=gateway.key).connect()
        got = await ws.until_idle(ws.request("kernel_info_request", {}))
        assert any(m["msg_type"] == "kernel_info_reply" for m in got)
        ws.close()
    run(go())
    gateway.http.delete(f"/api/v1/sandboxes/{sb}")


def test_restart_and_delete(gateway):
    k = gateway.http.post("/api/kernels", json={}).json()

    async def go():
        ws = await KernelWS(gateway.url, k["id"]).connect()
        await ws.until_idle(ws.request("execute_request", {"code": "x = 1"}))
        r = gateway.http.post(f"/api/kernels/{k['id']}/restart")
        if r.status_code == 500:
            ws.close()
            gateway.http.delete(f"/api/kernels/{k['id']}")
            pytest.skip("this runner has no sluice_restart_request yet")
        assert r.status_code == 200 and r.json()["id"] == k["id"]
        states = []
        while "idle" not in states:
            m = await ws.recv()
            if m["msg_type"] == "status":
                states.append(m["content"]["execution_state"])
        assert "restarting" in states
        got = await ws.until_idle(ws.request("execute_request", {"code": "x"}))
        assert any(m["msg_type"] == "error" and m["content"]["ename"] == "NameError" for m in got)
        assert gateway.http.post(f"/api/kernels/{k['id']}/interrupt").status_code == 204
        r = gateway.http.delete(f"/api/kernels/{k['id']}")
        assert r.status_code == 204 and r.content == b""
        while True:  # the gateway says dead, then closes
            m = await ws.recv()
            if m is None or (m["msg_type"] == "status" and m["content"]["execution_state"] == "dead"):
                break
    run(go())
    assert gateway.http.get(f"/api/kernels/{k['id']}").status_code == 404


def test_connected_kernel_is_not_culled_while_idle(gateway):
    """A notebook left open is in use even when quiet: only kernels nobody is attached to time out."""
    kept = gateway.http.post("/api/kernels", json={"name": "python3"}).json()["id"]
    culled = gateway.http.post("/api/kernels", json={"name": "python3"}).json()["id"]
    for kid in (kept, culled):
        r = gateway.http.post(f"/api/v1/sandboxes/{kid}/timeout", json={"timeout": 1})
        assert r.status_code == 200, r.text

    async def go():
        ws = await KernelWS(gateway.url, kept).connect()
        await ws.until_idle(ws.request("kernel_info_request", {}))
        # the unattached kernel being culled is the readiness check that its deadline (and kept's) has passed
        for _ in range(400):
            if gateway.http.get(f"/api/kernels/{culled}").status_code == 404:
                break
            await asyncio.sleep(0.025)  # polling interval, not a synchronisation
        assert gateway.http.get(f"/api/kernels/{culled}").status_code == 404
        assert gateway.http.get(f"/api/kernels/{kept}").status_code == 200
        got = await ws.until_idle(ws.request("execute_request", {"code": "1 + 1"}))
        assert any(m["msg_type"] == "execute_result" for m in got)
        ws.close()
    run(go())
    gateway.http.delete(f"/api/kernels/{kept}")
