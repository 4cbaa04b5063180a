"""The native streaming websocket GET /api/v1/sandboxes/{sb}/stream: code/exec/process requests
multiplexed on one socket, events tagged with their request's id, bad frames answered with an error
event, and a client that stops reading back-pressured without growing the gateway or slowing others."""
import asyncio
import json
import socket
import time

import pytest
import websockets

PROTO = "sluice.stream.v1"


def ws_url(gateway, sb, key=None):
    url = gateway.url.replace("http://", "ws://") + f"/api/v1/sandboxes/{sb}/stream"
    return url + (f"?token={key}" if key else "")


def connect(gateway, sb, subprotocol=True, **kw):
    # called inside the running loop (websockets 10 binds to it); await it or use `async with`
    return websockets.connect(ws_url(gateway, sb, gateway.key), max_size=None,
                                    subprotocols=[PROTO] if subprotocol else None, **kw)


async def collect(ws, rid, until=("done", "exit"), timeout=60):
    """(seconds, event) for every event of request rid up to its final one (or an error)."""
    t0, out = time.monotonic(), []
    while True:
        ev = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if ev.get("id") != rid:
            continue
        out.append((time.monotonic() - t0, ev))
        if ev["type"] in until or (ev["type"] == "error" and "traceback" not in ev):
            return out


def run(coro):
    return asyncio.run(coro)


def test_code_streams_live_and_exec(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            assert ws.subprotocol == PROTO
            await ws.send(json.dumps({"type": "code", "id": "c1",
                                      "code": "import time\nprint('first', flush=True)\ntime.sleep(2)\nprint('second')\n40 + 2"}))
            evs = await collect(ws, "c1")
            kinds = [e["type"] for _, e in evs]
            assert kinds[-1] == "done" and "result" in kinds, kinds
            assert "".join(e["text"] for _, e in evs if e["type"] == "stdout") == "first\nsecond\n"
            assert evs[-1][0] - evs[0][0] >= 1.0  # the first line came while the cell slept
            assert [e for _, e in evs if e["type"] == "result"][0]["text"] == "42"
            assert evs[-1][1]["execution_count"] >= 1

            await ws.send(json.dumps({"type": "code", "id": 7, "code": "1/0"}))
            evs = await collect(ws, "7")
            err = [e for _, e in evs if e["type"] == "error"]
            assert err and err[0]["name"] == "ZeroDivisionError" and evs[-1][1]["type"] == "done"

            await ws.send(json.dumps({"type": "exec", "id": "e1", "command": "echo one; echo two >&2; cd /tmp; (exit 3)"}))
            evs = await collect(ws, "e1")
            assert "".join(e["data"] for _, e in evs if e["type"] == "stdout") == "one\n"
            assert "".join(e["data"] for _, e in evs if e["type"] == "stderr") == "two\n"
            done = evs[-1][1]
            assert done["type"] == "done" and done["exit_code"] == 3 and done["cwd"] == "/tmp"
            assert isinstance(done["duration_ms"], int)
    run(main())


def test_no_subprotocol_is_handed_over_by_path(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb, subprotocol=False) as ws:
            assert ws.subprotocol is None
            await ws.send(json.dumps({"type": "exec", "id": "x", "command": "echo hi"}))
            evs = await collect(ws, "x")
            assert evs[0][1] == {"type": "stdout", "id": "x", "data": "hi\n"} and evs[-1][1]["exit_code"] == 0
    run(main())


def test_interleaved_requests_and_interrupt(gateway, client):
    sb = client.create()["id"]
    ctx = client.http.post(f"/api/v1/sandboxes/{sb}/contexts", json={"language": "python"}).json()["data"]["id"]
    client.code(sb, "1")  # the default interpreter is up: the cell below is quick

    async def main():
        async with connect(gateway, sb) as ws:
            # a slow exec and a cell in another context run at once on one socket
            await ws.send(json.dumps({"type": "exec", "id": "slow", "command": "for i in 1 2 3; do echo s$i; sleep 1; done"}))
            await ws.send(json.dumps({"type": "code", "id": "fast", "code": "print('f')"}))
            got, t0 = {}, time.monotonic()
            while len([k for k, v in got.items() if v[-1]["type"] == "done"]) < 2:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 30))
                got.setdefault(ev["id"], []).append(ev)
                if ev["id"] == "fast" and ev["type"] == "done":
                    assert "slow" not in got or got["slow"][-1]["type"] != "done"  # finished first
            assert "".join(e.get("data", "") for e in got["slow"]) == "s1\ns2\ns3\n"
            assert "".join(e["text"] for e in got["fast"] if e["type"] == "stdout") == "f\n"

            await ws.send(json.dumps({"type": "code", "id": "loop", "context_id": ctx,
                                      "code": "import time\nprint('go', flush=True)\nwhile True: time.sleep(0.1)"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("type") != "stdout":
                pass
            await ws.send(json.dumps({"type": "interrupt", "id": "i", "context_id": ctx}))
            evs = {}
            while "loop" not in evs or evs["loop"][-1]["type"] != "done" or "i" not in evs:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 30))
                evs.setdefault(ev["id"], []).append(ev)
            assert evs["i"][-1] == {"type": "done", "id": "i", "interrupted": True}
            assert any(e["type"] == "error" and e["name"] == "KeyboardInterrupt" for e in evs["loop"])
    run(main())


def test_process_start_stdin_signal(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            await ws.send(json.dumps({"type": "process_start", "id": "p", "cmd": "read a; echo got $a; exit 4"}))
            started = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert started["type"] == "started" and started["id"] == "p" and started["pid"] > 0
            await ws.send(json.dumps({"type": "stdin", "id": "in", "pid": started["pid"], "data": "hello\n"}))
            evs = {}
            while "p" not in evs or evs["p"][-1]["type"] != "exit":
                ev = json.loads(await asyncio.wait_for(ws.recv(), 30))
                evs.setdefault(ev["id"], []).append(ev)
            assert {"type": "done", "id": "in"} in evs["in"]
            assert [e["data"] for e in evs["p"] if e["type"] == "stdout"] == ["got hello\n"]
            assert evs["p"][-1]["exit_code"] == 4

            await ws.send(json.dumps({"type": "process_start", "id": "q", "cmd": "sleep 60"}))
            pid = json.loads(await asyncio.wait_for(ws.recv(), 30))["pid"]
            await ws.send(json.dumps({"type": "signal", "id": "sg", "pid": pid, "signal": "TERM"}))
            evs = await collect(ws, "q", until=("exit",))
            assert evs[-1][1]["type"] == "exit" and evs[-1][1]["exit_code"] != 0
            await ws.send(json.dumps({"type": "signal", "id": "bad", "pid": 999999, "signal": "TERM"}))
            err = (await collect(ws, "bad"))[-1][1]
            assert err["type"] == "error" and err["name"] == "not_found"
    run(main())


def test_bad_frames_get_error_events(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            async def ask(frame):
                await ws.send(frame)
                return json.loads(await asyncio.wait_for(ws.recv(), 10))
            e = await ask("not json")
            assert e["type"] == "error" and e["name"] == "invalid_frame" and "id" not in e
            e = await ask(json.dumps([1, 2]))
            assert e["name"] == "invalid_frame"
            e = await ask(json.dumps({"type": "code", "code": "1"}))
            assert e["name"] == "invalid_id"
            e = await ask(json.dumps({"type": "nope", "id": "a"}))
            assert e == {"type": "error", "id": "a", "name": "invalid_type", "value": e["value"]} and "code" in e["value"]
            e = await ask(json.dumps({"type": "code", "id": "b"}))
            assert e["id"] == "b" and e["name"] == "invalid_request" and "'code'" in e["value"]
            e = await ask(json.dumps({"type": "exec", "id": "c", "command": "x", "bogus": 1}))
            assert e["id"] == "c" and "bogus" in e["value"]
            e = await ask(json.dumps({"type": "stdin", "id": "d", "pid": -1, "data": "x"}))
            assert e["name"] == "invalid_pid"
            e = await ask(b"\x00\x01binary")
            assert e["name"] == "invalid_frame"
            e = await ask(json.dumps({"type": "exec", "id": "ok", "command": "echo alive"}))
            assert e == {"type": "stdout", "id": "ok", "data": "alive\n"}
    run(main())


def upgrade_status(gateway, path, headers=()):
    """The status line's code of a raw websocket upgrade (lws answers refusals in HTTP/1.0, which the
    websockets client will not parse)."""
    host, port = gateway.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        req = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", *headers, "", ""]
        s.sendall("\r\n".join(req).encode())
        return int(s.recv(4096).split(b"\r\n")[0].split()[1])


def test_auth(gateway, client):
    sb = client.create()["id"]
    path = f"/api/v1/sandboxes/{sb}/stream"
    assert upgrade_status(gateway, path) == 401
    assert upgrade_status(gateway, path + "?token=wrong") == 401
    assert upgrade_status(gateway, path, [f"Sec-WebSocket-Protocol: {PROTO}"]) == 401
    assert upgrade_status(gateway, "/api/v1/sandboxes/nope/stream?token=" + gateway.key) == 404
    assert upgrade_status(gateway, path, [f"X-API-Key: {gateway.key}"]) == 101
    assert upgrade_status(gateway, path, [f"Authorization: Bearer {gateway.key}"]) == 101

    async def main():
        async with websockets.connect(gateway.url.replace("http://", "ws://") + path, subprotocols=[PROTO],
                                      extra_headers={"X-API-Key": gateway.key}) as ws:
            await ws.send(json.dumps({"type": "exec", "id": 1, "command": "true"}))
            assert (await collect(ws, "1"))[-1][1]["exit_code"] == 0
    run(main())


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_slow_reader_is_back_pressured(gateway, client):
    sb = client.create()["id"]
    other = client.create()["id"]
    pid = gateway.proc.pid

    async def main():
        fast = await connect(gateway, other)
        await fast.send(json.dumps({"type": "exec", "id": "w", "command": "true"}))
        await collect(fast, "w")
        rss0 = rss_kb(pid)
        # the slow client asks for ~200 MiB of output and then does not read for 5 s
        slow = await connect(gateway, sb, max_queue=1, read_limit=2 ** 16)
        slow.transport.set_write_buffer_limits(0)
        slow.transport.pause_reading()
        await slow.send(json.dumps({"type": "exec", "id": "flood", "timeout_ms": 120000,
                                    "command": "head -c 200000000 /dev/zero | tr '\\0' x"}))
        worst, peak, t_end = 0.0, rss0, time.monotonic() + 5
        n = 0
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            await fast.send(json.dumps({"type": "exec", "id": f"p{n}", "command": "echo pong"}))
            evs = await collect(fast, f"p{n}")
            assert evs[-1][1]["exit_code"] == 0
            worst = max(worst, time.monotonic() - t0)
            peak = max(peak, rss_kb(pid))
            n += 1
            await asyncio.sleep(0.05)
        assert n >= 10 and worst < 2.0, (n, worst)
        assert peak - rss0 < 96 * 1024, (rss0, peak)  # the flood waits in the sandbox, not the gateway
        slow.transport.resume_reading()
        # the flood goes on once the reader reads again; closing cancels it
        got = 0
        while got < (4 << 20):
            ev = json.loads(await asyncio.wait_for(slow.recv(), 30))
            got += len(ev.get("data", ""))
        await slow.close()
        await fast.close()
        # the gateway is fine afterwards and the sandbox is still usable
        assert client.exec(sb, "echo after")["stdout"] == "after\n"
        assert rss_kb(pid) - rss0 < 96 * 1024
    run(main())
