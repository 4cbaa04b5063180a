"""bash and javascript kernels through a real jupyter_client (jupyter_server's GatewayKernelManager and its
GatewayKernelClient, an AsyncKernelClient over the gateway's websocket); comms as ipykernel answers them with
no target registered; stop_on_error aborting the execute_requests queued behind a failed one."""
import asyncio
import uuid

import pytest

import jlab_rules
from kclient import KernelWS
from nbrun import use_gateway


def run(coro):
    return asyncio.run(coro)


class Remote:
    """A kernel started and driven by jupyter_client classes, as nbclient drives one."""

    def __init__(self, gateway, name):
        from jupyter_server.gateway.managers import GatewayKernelManager
        use_gateway(gateway.url, gateway.key)
        self.km = GatewayKernelManager()
        self.name = name

    async def __aenter__(self):
        await self.km.start_kernel(kernel_name=self.name)
        self.kc = self.km.client()
        await self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=60)
        return self

    async def __aexit__(self, *exc):
        self.kc.stop_channels()
        await self.km.shutdown_kernel(now=True)

    async def shell(self, msg_id):
        while True:
            m = await self.kc.get_shell_msg(timeout=60)
            jlab_rules.validate({"channel": "shell", **m})
            if m["parent_header"].get("msg_id") == msg_id:
                return m

    async def iopub_until_idle(self, msg_id):
        got = []
        while True:
            m = await self.kc.get_iopub_msg(timeout=60)
            jlab_rules.validate({"channel": "iopub", **m})
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            got.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                return got

    async def execute(self, code):
        mid = self.kc.execute(code)
        reply = await self.shell(mid)
        out = await self.iopub_until_idle(mid)
        return reply["content"], out

    async def ask(self, msg_id):
        reply = await self.shell(msg_id)
        await self.iopub_until_idle(msg_id)
        return reply["content"]


def text(out, name="stdout"):
    return "".join(m["content"]["text"] for m in out if m["msg_type"] == "stream" and m["content"]["name"] == name)


def results(out):
    return [m["content"]["data"]["text/plain"] for m in out if m["msg_type"] == "execute_result"]


def test_specs_and_logos_for_every_language(gateway):
    specs = gateway.http.get("/api/kernelspecs").json()["kernelspecs"]
    assert set(specs) >= {"python3", "bash", "javascript"}
    assert specs["bash"]["spec"]["language"] == "bash" and specs["javascript"]["spec"]["language"] == "javascript"
    for name, spec in specs.items():
        assert spec["name"] == name and isinstance(spec["spec"]["argv"], list) and spec["spec"]["display_name"]
        for res in ("logo-32x32", "logo-64x64", "logo-svg"):
            r = gateway.http.get(spec["resources"][res])
            assert r.status_code == 200 and r.content, (name, res, r.status_code)
        assert gateway.http.get(f"/kernelspecs/{name}/logo-64x64.png").content[:8] == b"\x89PNG\r\n\x1a\n"


def test_bash_kernel_keeps_cwd(gateway):
    async def go():
        async with Remote(gateway, "bash") as k:
            info = await k.ask(k.kc.kernel_info())
            li = info["language_info"]
            assert li["name"] == "bash" and li["file_extension"] == ".sh" and li["mimetype"] == "text/x-sh", li
            assert li["version"].count(".") == 2, li
            rep, out = await k.execute("mkdir -p /tmp/jk-bash && cd /tmp/jk-bash && export SLUICE_JK=kept")
            assert rep["status"] == "ok", (rep, out)
            rep, out = await k.execute("pwd; echo $SLUICE_JK; python3 -c 'import sys; print(sys.version_info[0])'")
            assert rep["status"] == "ok" and text(out) == "/tmp/jk-bash\nkept\n3\n", out
            # the bash context, not Python: no execute_result, shell errors are errors
            rep, out = await k.execute("false")
            assert rep["status"] == "error" and rep["execution_count"] >= 3, rep
            # introspection: valid, empty replies (no completer in the bash driver)
            c = await k.ask(k.kc.complete("ech", 3))
            assert c["status"] == "ok" and c["matches"] == [] and c["cursor_end"] == 3, c
            assert (await k.ask(k.kc.is_complete("echo hi")))["status"] == "unknown"
            # restart (REST) starts the context afresh; cwd is the workdir again
            await k.km.restart_kernel()
            await k.kc.wait_for_ready(timeout=60)
            rep, out = await k.execute("pwd")
            assert rep["status"] == "ok" and text(out).strip() != "/tmp/jk-bash", out
    run(go())


def test_javascript_kernel_keeps_variables(gateway):
    async def go():
        async with Remote(gateway, "javascript") as k:
            # a restart before the first cell: nothing to restart, still answered
            await k.km.restart_kernel()
            await k.kc.wait_for_ready(timeout=60)
            info = await k.ask(k.kc.kernel_info())
            li = info["language_info"]
            assert li["name"] == "javascript" and li["file_extension"] == ".js", li
            assert li["version"] and li["version"][0].isdigit(), li
            rep, out = await k.execute("let answer = 41; console.log('set', typeof answer)")
            assert rep["status"] == "ok" and text(out) == "set number\n", (rep, out)
            rep, out = await k.execute("answer + 1")
            assert rep["status"] == "ok" and results(out) == ["42"], out
            rep, out = await k.execute("throw new Error('js boom')")
            assert rep["status"] == "error", rep
            assert [m["content"]["evalue"] for m in out if m["msg_type"] == "error"] == ["js boom"], out
    run(go())


@pytest.fixture(scope="module")
def pykernel(gateway):
    r = gateway.http.post("/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    return r.json()


def test_comms_as_ipykernel_with_no_targets(gateway, pykernel):
    async def go():
        ws = await KernelWS(gateway.url, pykernel["id"]).connect()
        got = await ws.until_idle(ws.request("comm_info_request", {}))
        rep = [m for m in got if m["msg_type"] == "comm_info_reply"][0]
        assert rep["content"] == {"status": "ok", "comms": {}}, rep
        cid = uuid.uuid4().hex
        mid = ws.request("comm_open", {"comm_id": cid, "target_name": "jupyter.widget", "data": {"x": 1}})
        got = []
        while not (got and got[-1]["msg_type"] == "status" and got[-1]["content"]["execution_state"] == "idle"):
            m = await ws.recv()
            if m["parent_header"].get("msg_id") == mid:
                got.append(m)
        assert [m["msg_type"] for m in got] == ["status", "comm_close", "status"], got
        assert got[1]["channel"] == "iopub" and got[1]["content"] == {"comm_id": cid, "data": {}}, got[1]
        for t, content in (("comm_msg", {"comm_id": cid, "data": {"y": 2}}), ("comm_close", {"comm_id": cid, "data": {}})):
            mid = ws.request(t, content)
            got = []
            while not (got and got[-1]["msg_type"] == "status" and got[-1]["content"]["execution_state"] == "idle"):
                m = await ws.recv()
                if m["parent_header"].get("msg_id") == mid:
                    got.append(m)
            assert [m["msg_type"] for m in got] == ["status", "status"], got
        # the kernel still runs cells
        got = await ws.until_idle(ws.request("execute_request", {"code": "print('after comms')"}))
        assert "".join(m["content"]["text"] for m in got if m["msg_type"] == "stream") == "after comms\n", got
        ws.close()
    run(go())


async def three(ws, first, stop_on_error=True):
    """Three execute_requests sent back to back; per request: its messages up to its idle."""
    codes = [first, "print('second ran')", "print('third ran')"]
    ids = [ws.request("execute_request", {"code": c, "silent": False, "store_history": True,
                                          "user_expressions": {}, "allow_stdin": False,
                                          "stop_on_error": stop_on_error if i == 0 else True})
           for i, c in enumerate(codes)]
    per = {i: [] for i in ids}
    done = set()
    while len(done) < 3:
        m = await ws.recv()
        p = m["parent_header"].get("msg_id")
        if p in per:
            per[p].append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                done.add(p)
    return [per[i] for i in ids]


def reply_of(msgs):
    return [m for m in msgs if m["msg_type"] == "execute_reply"][0]


@pytest.mark.parametrize("v1", [False, True])
def test_stop_on_error_aborts_the_queued_cells(gateway, pykernel, v1):
    async def go():
        ws = await KernelWS(gateway.url, pykernel["id"], v1=v1).connect()
        first, second, third = await three(ws, "import time\ntime.sleep(0.3)\nraise ValueError('boom')")
        assert reply_of(first)["content"]["status"] == "error" and reply_of(first)["content"]["ename"] == "ValueError"
        for msgs in (second, third):
            assert [m["msg_type"] for m in msgs] == ["status", "execute_reply", "status"], msgs
            assert [m["content"]["execution_state"] for m in msgs if m["msg_type"] == "status"] == ["busy", "idle"]
            rep = reply_of(msgs)
            assert rep["channel"] == "shell" and rep["content"] == {"status": "aborted"}, rep
        # the queue was aborted, not the kernel: the next request runs
        got = await ws.until_idle(ws.request("execute_request", {"code": "print('fourth ran')"}))
        assert reply_of(got)["content"]["status"] == "ok"

        # the failing cell said stop_on_error: false → the cells behind it run
        first, second, third = await three(ws, "raise KeyError('tolerated')", stop_on_error=False)
        assert reply_of(first)["content"]["status"] == "error"
        for msgs, want in ((second, "second ran\n"), (third, "third ran\n")):
            assert reply_of(msgs)["content"]["status"] == "ok", msgs
            assert "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream") == want
        ws.close()
    run(go())
