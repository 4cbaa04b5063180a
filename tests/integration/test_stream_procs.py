"""Processes on the stream websocket: output live as it is written, PTY processes (raw bytes as
base64, stdin, resize → SIGWINCH), interactive bash and top on a terminal; an exec started from a
socket is cancelled when the socket closes."""
import asyncio
import base64
import json

from conftest import wait_until
from test_stream_ws import connect, run


async def recv(ws, timeout=30):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


class Proc:
    """One process_start on a socket: its events, and the decoded terminal/stdout text so far."""

    def __init__(self, ws, rid):
        self.ws, self.rid, self.events, self.others = ws, rid, [], []

    @property
    def out(self):
        raw = b"".join(base64.b64decode(e["data"]) for e in self.events if e["type"] == "pty")
        return raw.decode("utf-8", "replace") + "".join(e["data"] for e in self.events if e["type"] == "stdout")

    def kinds(self):
        return [e["type"] for e in self.events]

    async def until(self, pred, what, timeout=30):
        async def loop():
            while not pred():
                ev = await recv(self.ws)
                (self.events if ev.get("id") == self.rid else self.others).append(ev)
        try:
            await asyncio.wait_for(loop(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; output so far {self.out!r}; events {self.kinds()}")

    async def start(self, **req):
        await self.ws.send(json.dumps({"type": "process_start", "id": self.rid, **req}))
        await self.until(lambda: self.events, "started")
        assert self.events[0]["type"] == "started", self.events
        self.pid = self.events[0]["pid"]
        return self

    async def ask(self, rid, **req):
        """Sends a request about this process and waits for its answer (done or error)."""
        await self.ws.send(json.dumps({"id": rid, "pid": self.pid, **req}))
        await self.until(lambda: any(e.get("id") == rid for e in self.others), rid)
        return [e for e in self.others if e.get("id") == rid][-1]

    async def exited(self):
        await self.until(lambda: self.events[-1]["type"] in ("exit", "error"), "exit")
        return self.events[-1]


def test_output_arrives_while_the_process_runs(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            p = await Proc(ws, "p").start(cmd="echo a; echo e1 >&2; read x; echo b$x; exit 3")
            # the process is blocked in `read` until we answer: what it printed so far must be here
            await p.until(lambda: "a\n" in p.out and any(e["type"] == "stderr" for e in p.events), "the first line")
            assert "exit" not in p.kinds()
            assert [e["data"] for e in p.events if e["type"] == "stderr"] == ["e1\n"]
            assert (await p.ask("in", type="stdin", data="!\n"))["type"] == "done"
            ex = await p.exited()
            assert ex == {"type": "exit", "id": "p", "pid": p.pid, "exit_code": 3, "truncated": False}
            assert p.out == "a\nb!\n"
            kinds = p.kinds()
            assert kinds.index("stdout") < kinds.index("exit") and kinds.count("exit") == 1

            # a process that writes a lot: every byte in order, then exit
            q = await Proc(ws, "q").start(cmd="seq 1 200000")
            ex = await q.exited()
            assert ex["exit_code"] == 0 and not ex["truncated"]
            assert q.out == "".join(f"{i}\n" for i in range(1, 200001))
            # resize of a process without a terminal is refused
            r = await q.ask("rz", type="resize", rows=10, cols=10)
            assert r["type"] == "error", r
    run(main())


def test_pty_bash_interactive_and_resize(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            p = await Proc(ws, "t").start(cmd="exec bash --norc -i", pty={"rows": 24, "cols": 80},
                                          envs={"PS1": "prompt$ "})
            await p.until(lambda: p.out.rstrip().endswith("prompt$"), "a prompt")
            assert "no job control" not in p.out
            await p.ask("i1", type="stdin", data="echo hi-$((6*7))\n")
            await p.until(lambda: "hi-42\r\n" in p.out, "the command's output")  # the terminal's CRLF
            await p.ask("i2", type="stdin", data="stty size; trap 'echo got-winch' WINCH\n")
            await p.until(lambda: "24 80\r\n" in p.out, "stty size")
            assert await p.ask("r", type="resize", rows=33, cols=101) == {"type": "done", "id": "r"}
            await p.ask("i3", type="stdin", data="stty size\n")
            await p.until(lambda: "33 101\r\n" in p.out, "the new size")
            await p.ask("i4", type="stdin", data="exit 7\n")
            ex = await p.exited()
            assert ex["exit_code"] == 7
            for bad in ({"rows": 0, "cols": 10}, {"rows": 10, "cols": 1001}, {"rows": 10}):
                await ws.send(json.dumps({"type": "resize", "id": "bad", "pid": p.pid, **bad}))
                e = await recv(ws)
                assert e["type"] == "error" and e["name"] in ("invalid_pty", "invalid_request"), e
            await ws.send(json.dumps({"type": "process_start", "id": "bp", "cmd": "true", "pty": {"rows": 0, "cols": 1}}))
            e = await recv(ws)
            assert e["type"] == "error" and e["id"] == "bp" and e["name"] == "invalid_pty", e
    run(main())


def test_pty_raw_bytes_and_top(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            # bytes that are not UTF-8 come through unchanged (base64)
            b = await Proc(ws, "b").start(cmd="printf '\\377\\001x'", pty={"rows": 5, "cols": 20})
            await b.exited()
            raw = b"".join(base64.b64decode(e["data"]) for e in b.events if e["type"] == "pty")
            assert raw == b"\xff\x01x", raw
            # interactive top draws its screen on the terminal and quits on q
            t = await Proc(ws, "top").start(cmd="top -d 0.5", pty={"rows": 30, "cols": 100}, envs={"TERM": "xterm"})
            await t.until(lambda: "load average" in t.out and "PID" in t.out, "top's screen")
            assert "\x1b[" in t.out  # it draws with escape sequences
            await t.ask("q", type="stdin", data="q")
            ex = await t.exited()
            assert ex["exit_code"] == 0, (ex, t.out[-500:])
    run(main())


def test_closing_the_socket_cancels_its_exec(gateway, client):
    sb = client.create()["id"]

    def running(pattern):
        out = client.exec(sb, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; true")["stdout"]
        return pattern in out

    async def main():
        async with connect(gateway, sb) as ws:
            await ws.send(json.dumps({"type": "exec", "id": "long", "timeout_ms": 600000,
                                      "command": "echo go; sleep 3171; echo never"}))
            ev = await recv(ws)
            assert ev == {"type": "stdout", "id": "long", "data": "go\n"}
            # one queued behind it (the shell runs one command at a time) is dropped too
            await ws.send(json.dumps({"type": "exec", "id": "queued", "timeout_ms": 600000, "command": "sleep 3173"}))
            # a process started on the socket goes the same way
            await ws.send(json.dumps({"type": "process_start", "id": "bg", "cmd": "sleep 3172"}))
            ev = await recv(ws)
            assert ev["type"] == "started"
    run(main())
    # the shell runs one command at a time: this answer means the cancelled one is gone (its timeout
    # was 10 minutes away)
    out = client.exec(sb, "echo after")
    assert out["stdout"] == "after\n"
    assert not running("sleep 3173")
    wait_until(lambda: not running("sleep 3171") and not running("sleep 3172"), timeout=15,
               what="the socket's command and process to be killed")
    # the shell itself lived on
    assert client.exec(sb, "echo $((1+1))")["stdout"] == "2\n"


def test_a_slow_reader_back_pressures_the_process(gateway, client):
    from test_stream_ws import rss_kb
    sb = client.create()["id"]
    gw_pid = gateway.proc.pid

    async def main():
        ws = await connect(gateway, sb, max_queue=1, read_limit=2 ** 16, ping_interval=None)
        rss0 = rss_kb(gw_pid)
        ws.transport.pause_reading()
        # ~300 MiB of output while the client reads nothing for 3 s
        await ws.send(json.dumps({"type": "process_start", "id": "flood",
                                  "cmd": "head -c 300000000 /dev/zero | tr '\\0' x; echo; echo END"}))
        peak = rss0
        for _ in range(30):
            await asyncio.sleep(0.1)  # sampling the gateway's memory while nobody reads, not a readiness wait
            peak = max(peak, rss_kb(gw_pid))
        assert peak - rss0 < 96 * 1024, (rss0, peak)  # the flood waits in the sandbox, not in the gateway
        procs = client.http.get(f"/api/v1/sandboxes/{sb}/processes").json()["data"]
        assert [p["running"] for p in procs] == [True]  # blocked on its pipe, not finished
        ws.transport.resume_reading()
        got, started = 0, None
        while got < (8 << 20):
            ev = await recv(ws)
            if ev["type"] == "started":
                started = ev["pid"]
            got += len(ev.get("data", ""))
        assert started
        # the client goes away (a close handshake would wait behind the frames it does not read)
        ws.transport.abort()
        # closing the socket kills it (waited for in a thread: the loop must run to close the transport)
        await asyncio.to_thread(
            wait_until, lambda: not client.http.get(f"/api/v1/sandboxes/{sb}/processes/{started}").json()["data"]["running"],
            15, "the flood to be killed")
        assert rss_kb(gw_pid) - rss0 < 96 * 1024
    run(main())
