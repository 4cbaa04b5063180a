"""complete / inspect / is_complete / history answered by the kernel's IPython, and stdin (input(),
getpass) through the channels websocket's stdin channel."""
import asyncio
import time

import pytest

from kclient import KernelWS


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def kernel(gateway):
    r = gateway.http.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    return r.json()


async def ask(ws, msg_type, content):
    got = await ws.until_idle(ws.request(msg_type, content))
    reps = [m for m in got if m["msg_type"] == msg_type.replace("_request", "_reply")]
    assert len(reps) == 1 and reps[0]["channel"] == "shell", got
    return reps[0]["content"]


async def execute(ws, code, allow_stdin=False):
    msgs = await ws.until_idle(ws.request("execute_request", {"code": code, "silent": False, "store_history": True,
                                                              "user_expressions": {}, "allow_stdin": allow_stdin,
                                                              "stop_on_error": True}))
    return msgs, [m for m in msgs if m["msg_type"] == "execute_reply"][0]["content"]


def result_of(msgs):
    return [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]


@pytest.mark.parametrize("v1", [False, True])
def test_introspection_from_ipython(gateway, kernel, v1):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"], v1=v1).connect()
        _, rep = await execute(ws, "import os\nsluice_value = 42")
        assert rep["status"] == "ok"
        c = await ask(ws, "complete_request", {"code": "x = sluice_v", "cursor_pos": 12})
        assert c["status"] == "ok" and "sluice_value" in c["matches"], c
        assert (c["cursor_start"], c["cursor_end"]) == (4, 12) and isinstance(c["metadata"], dict)
        c = await ask(ws, "complete_request", {"code": "os.pa", "cursor_pos": 5})
        assert "os.path" in c["matches"] and len(c["matches"]) <= 500
        i = await ask(ws, "inspect_request", {"code": "sluice_value + 1", "cursor_pos": 3, "detail_level": 0})
        assert i["status"] == "ok" and i["found"] is True and "int" in i["data"]["text/plain"], i
        i = await ask(ws, "inspect_request", {"code": "no_such_name", "cursor_pos": 3, "detail_level": 0})
        assert i["status"] == "ok" and i["found"] is False and i["data"] == {}
        assert await ask(ws, "is_complete_request", {"code": "for i in x:"}) == {"status": "incomplete",
                                                                                 "indent": "    "}
        assert (await ask(ws, "is_complete_request", {"code": "x = 1"}))["status"] == "complete"
        assert (await ask(ws, "is_complete_request", {"code": "x = )"}))["status"] == "invalid"
        h = await ask(ws, "history_request", {"output": False, "raw": True, "hist_access_type": "tail", "n": 10})
        assert h["status"] == "ok" and any(e[2] == "import os\nsluice_value = 42" for e in h["history"]), h
        ws.close()
    run(go())


def test_introspection_while_a_cell_runs_is_answered_at_once(gateway, kernel):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"]).connect()
        mid = ws.request("execute_request", {"code": "import time\nprint('sleeping', flush=True)\ntime.sleep(30)"})
        while (await ws.recv())["msg_type"] != "stream":
            pass
        t0 = time.monotonic()
        c = await ask(ws, "complete_request", {"code": "pri", "cursor_pos": 3})
        assert c["status"] == "ok" and c["cursor_end"] == 3 and time.monotonic() - t0 < 3
        ws.request("interrupt_request", {}, channel="control")
        msgs = await ws.until_idle(mid)
        assert any(m["msg_type"] == "error" and m["content"]["ename"] == "KeyboardInterrupt" for m in msgs)
        ws.close()
    run(go())


@pytest.mark.parametrize("v1", [False, True])
def test_input_answered_by_the_client(gateway, kernel, v1):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"], v1=v1).connect()
        mid = ws.request("execute_request", {"code": "name = input('who? ')", "allow_stdin": True})
        while True:
            m = await ws.recv()
            if m["msg_type"] == "input_request":
                break
        assert m["channel"] == "stdin" and m["parent_header"]["msg_id"] == mid
        assert m["content"] == {"prompt": "who? ", "password": False}
        ws.request("input_reply", {"value": "ada lovelace"}, channel="stdin")
        msgs = await ws.until_idle(mid)
        assert [m for m in msgs if m["msg_type"] == "execute_reply"][0]["content"]["status"] == "ok"
        msgs, _ = await execute(ws, "name")
        assert result_of(msgs) == "'ada lovelace'"
        mid = ws.request("execute_request", {"code": "import getpass\npw = getpass.getpass('pw: ')", "allow_stdin": True})
        while (m := await ws.recv())["msg_type"] != "input_request":
            pass
        assert m["content"] == {"prompt": "pw: ", "password": True}
        ws.request("input_reply", {"value": "s3cret"}, channel="stdin")
        await ws.until_idle(mid)
        msgs, _ = await execute(ws, "len(pw)")
        assert result_of(msgs) == "6"
        ws.close()
    run(go())


def test_input_without_allow_stdin_or_client_is_eof(gateway, kernel):
    async def go():
        ws = await KernelWS(gateway.url, kernel["id"]).connect()
        msgs, rep = await execute(ws, "input('x? ')", allow_stdin=False)
        err = [m for m in msgs if m["msg_type"] == "error"][0]["content"]
        assert err["ename"] == "EOFError" and "allow_stdin" in err["evalue"], err
        assert rep["status"] == "error" and not any(m["msg_type"] == "input_request" for m in ws.received)
        # the asked client goes away: the cell ends with EOFError instead of waiting for nobody
        ws.request("execute_request", {"code": "try:\n    input('x? ')\nexcept EOFError as e:\n    gone = str(e)",
                                       "allow_stdin": True})
        while (await ws.recv())["msg_type"] != "input_request":
            pass
        ws.close()
        ws2 = await KernelWS(gateway.url, kernel["id"]).connect()
        msgs, _ = await execute(ws2, "gone")
        assert "disconnected" in result_of(msgs)
        ws2.close()
    run(go())
