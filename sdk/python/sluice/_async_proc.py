"""``sandbox.process`` and ``sandbox.terminal`` (async): processes started over the stream websocket with
live output (``stdout``/``stderr``, or ``pty`` bytes on a terminal), stdin, signals, resize, wait."""
from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

from . import errors
from ._stream import call_maybe_async
from .models import OutputMessage, ProcessInfo, ProcessResult

if TYPE_CHECKING:
    from ._async_sandbox import AsyncSandbox

OutputCallback = Callable[[OutputMessage], Any]
MAX_KEPT_OUTPUT = 16 << 20  # what a handle keeps for wait() (each stream); callbacks see everything


async def ws_call(sb: "AsyncSandbox", frame: Dict[str, Any], timeout: float = 30.0) -> Dict[str, Any]:
    """Sends a request whose answer is one ``done`` (or ``error``) event; returns that event."""
    stream = await sb._stream()
    fut: "asyncio.Future[Dict[str, Any]]" = asyncio.get_running_loop().create_future()

    def on_ev(ev: Dict[str, Any]) -> None:
        if fut.done():
            return
        if ev.get("type") == "error":
            fut.set_exception(errors.error_from_code(ev.get("name"), ev.get("value", "request failed")))
        elif ev.get("type") == "_lost":
            fut.set_exception(errors.ConnectionLostError(ev.get("message", "lost")))
        elif ev.get("type") == "done":
            fut.set_result(ev)
    rid = await stream.request(frame, on_ev)
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        raise errors.TimeoutError(f"{frame.get('type')}: no answer within {timeout}s") from None
    finally:
        stream.unregister(rid)


class AsyncProcessHandle:
    """A running process. Output is delivered live to the callbacks and kept (bounded) for :meth:`wait`."""

    def __init__(self, sb: "AsyncSandbox", cmd: str, on_stdout: Optional[OutputCallback] = None,
                 on_stderr: Optional[OutputCallback] = None, on_data: Optional[Callable[[bytes], Any]] = None,
                 on_exit: Optional[Callable[[ProcessResult], Any]] = None) -> None:
        self._sb = sb
        self.cmd = cmd
        self.pid: int = 0
        self._rid: Optional[str] = None
        self._on_stdout, self._on_stderr, self._on_data, self._on_exit = on_stdout, on_stderr, on_data, on_exit
        self._stdout: List[str] = []
        self._stderr: List[str] = []
        self._pty = bytearray()
        self._kept = 0
        loop = asyncio.get_running_loop()
        self._started: "asyncio.Future[int]" = loop.create_future()
        self._exited: "asyncio.Future[ProcessResult]" = loop.create_future()

    async def _handle(self, ev: Dict[str, Any]) -> None:
        t = ev.get("type")
        if t == "started":
            self.pid = int(ev.get("pid", 0))
            if not self._started.done():
                self._started.set_result(self.pid)
        elif t in ("stdout", "stderr"):
            data = ev.get("data", ev.get("text", ""))
            if self._kept < MAX_KEPT_OUTPUT:
                (self._stdout if t == "stdout" else self._stderr).append(data)
                self._kept += len(data)
            await call_maybe_async(self._on_stdout if t == "stdout" else self._on_stderr,
                                   OutputMessage(line=data, error=(t == "stderr")))
        elif t == "pty":
            raw = base64.b64decode(ev.get("data", ""))
            if self._kept < MAX_KEPT_OUTPUT:
                self._pty += raw
                self._kept += len(raw)
            await call_maybe_async(self._on_data, raw)
        elif t == "exit":
            res = ProcessResult(pid=self.pid, exit_code=int(ev.get("exit_code", -1)), stdout=self.stdout,
                                stderr=self.stderr, truncated=bool(ev.get("truncated", False)))
            self._finish(result=res)
            await call_maybe_async(self._on_exit, res)
        elif t == "error":
            self._finish(error=errors.error_from_code(ev.get("name"), ev.get("value", "process failed")))
        elif t == "_lost":
            self._finish(error=errors.ConnectionLostError(ev.get("message", "lost")))

    def _finish(self, result: Optional[ProcessResult] = None, error: Optional[Exception] = None) -> None:
        futs: List["asyncio.Future[Any]"] = [self._started, self._exited]
        for fut in futs:
            if not fut.done():
                if error is not None:
                    fut.set_exception(error)
                elif fut is self._exited:
                    fut.set_result(result)
                else:
                    fut.set_result(self.pid)
        if self._rid and self._sb._stream_conn is not None:
            self._sb._stream_conn.unregister(self._rid)
        for fut in futs:  # nobody may await them: no "never retrieved" warning
            if fut.done() and not fut.cancelled():
                fut.exception()

    @property
    def stdout(self) -> str:
        return "".join(self._stdout) if not self._pty else self._pty.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    @property
    def exit_code(self) -> Optional[int]:
        if self._exited.done() and not self._exited.exception():
            return self._exited.result().exit_code
        return None

    @property
    def running(self) -> bool:
        return not self._exited.done()

    async def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        """Waits for the exit (at most ``timeout`` seconds; :class:`sluice.TimeoutError` after)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except asyncio.TimeoutError:
            raise errors.TimeoutError(f"process {self.pid} still running after {timeout}s") from None

    async def send_stdin(self, data: Union[str, bytes] = "", eof: bool = False) -> None:
        """Writes to the process's stdin (its terminal's input for a PTY); ``eof`` closes it."""
        if isinstance(data, bytes):
            data = data.decode("utf-8", "surrogateescape")
        frame: Dict[str, Any] = {"type": "stdin", "pid": self.pid}
        if data:
            frame["data"] = data
        if eof:
            frame["eof"] = True
        await ws_call(self._sb, frame)

    async def signal(self, sig: Union[str, int]) -> None:
        await ws_call(self._sb, {"type": "signal", "pid": self.pid, "signal": sig})

    async def kill(self) -> bool:
        """Kills the process (SIGKILL); False when it had already exited."""
        if not self.running:
            return False
        try:
            await self.signal("KILL")
            return True
        except errors.NotFoundError:
            return False

    async def __aenter__(self) -> "AsyncProcessHandle":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.kill()


class AsyncTerminalHandle(AsyncProcessHandle):
    """A process on a pseudo-terminal: raw bytes out (``on_data``), keystrokes in, resizable."""

    async def send_data(self, data: Union[str, bytes]) -> None:
        await self.send_stdin(data)

    async def resize(self, rows: Union[int, Tuple[int, int]], cols: Optional[int] = None) -> None:
        if isinstance(rows, tuple):
            rows, cols = rows
        await ws_call(self._sb, {"type": "resize", "pid": self.pid, "rows": int(rows), "cols": int(cols or 80)})

    @property
    def output(self) -> bytes:
        return bytes(self._pty)


async def _start(sb: "AsyncSandbox", h: AsyncProcessHandle, frame: Dict[str, Any], timeout: float) -> None:
    stream = await sb._stream()
    h._rid = await stream.request(frame, h._handle)
    try:
        await asyncio.wait_for(asyncio.shield(h._started), timeout)
    except asyncio.TimeoutError:
        stream.unregister(h._rid)
        raise errors.TimeoutError(f"process did not start within {timeout}s") from None


class AsyncProcess:
    """Processes of one sandbox. Processes started here live while the sandbox object's stream is open."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sb = sandbox

    async def start(self, cmd: str, *, on_stdout: Optional[OutputCallback] = None,
                    on_stderr: Optional[OutputCallback] = None, on_exit: Optional[Callable[[ProcessResult], Any]] = None,
                    cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
                    timeout: float = 30.0) -> AsyncProcessHandle:
        """Starts ``cmd`` (a shell string) in the background; returns once it has a pid."""
        h = AsyncProcessHandle(self._sb, cmd, on_stdout=on_stdout, on_stderr=on_stderr, on_exit=on_exit)
        frame: Dict[str, Any] = {"type": "process_start", "cmd": cmd}
        if cwd:
            frame["cwd"] = cwd
        if envs:
            frame["envs"] = envs
        await _start(self._sb, h, frame, timeout)
        return h

    async def run(self, cmd: str, *, on_stdout: Optional[OutputCallback] = None,
                  on_stderr: Optional[OutputCallback] = None, cwd: Optional[str] = None,
                  envs: Optional[Dict[str, str]] = None, timeout: Optional[float] = 60.0) -> ProcessResult:
        """Starts ``cmd`` and waits for it (killing it after ``timeout`` seconds)."""
        h = await self.start(cmd, on_stdout=on_stdout, on_stderr=on_stderr, cwd=cwd, envs=envs)
        try:
            return await h.wait(timeout)
        except errors.TimeoutError:
            await h.kill()
            raise

    async def list(self) -> List[ProcessInfo]:
        data = await self._sb._t.request("GET", f"/api/v1/sandboxes/{self._sb.sandbox_id}/processes")
        return [ProcessInfo(pid=p["pid"], cmd=p.get("cmd", ""), running=bool(p.get("running")),
                            exit_code=p.get("exit_code")) for p in data or []]

    async def kill(self, pid: int) -> bool:
        """Kills a process by pid; False when there is no such process."""
        try:
            await self._sb._t.request("DELETE", f"/api/v1/sandboxes/{self._sb.sandbox_id}/processes/{int(pid)}")
            return True
        except errors.NotFoundError:
            return False

    async def send_stdin(self, pid: int, data: Union[str, bytes], eof: bool = False) -> None:
        if isinstance(data, bytes):
            data = data.decode("utf-8", "surrogateescape")
        await self._sb._t.request("POST", f"/api/v1/sandboxes/{self._sb.sandbox_id}/processes/{int(pid)}/stdin",
                                  json={"data": data, "eof": eof} if eof else {"data": data})


class AsyncTerminal:
    """Interactive terminals (PTY) in one sandbox."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sb = sandbox
        self._handles: Dict[int, AsyncTerminalHandle] = {}

    async def start(self, on_data: Optional[Callable[[bytes], Any]] = None, size: Tuple[int, int] = (24, 80), *,
                    cmd: Optional[str] = None, cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
                    on_exit: Optional[Callable[[ProcessResult], Any]] = None,
                    timeout: float = 30.0) -> AsyncTerminalHandle:
        """Starts ``cmd`` (default: an interactive bash) on a ``size=(rows, cols)`` terminal."""
        command = cmd or "exec bash -i"
        h = AsyncTerminalHandle(self._sb, command, on_data=on_data, on_exit=on_exit)
        frame: Dict[str, Any] = {"type": "process_start", "cmd": command,
                                 "pty": {"rows": int(size[0]), "cols": int(size[1])}}
        if cwd:
            frame["cwd"] = cwd
        env = {"TERM": "xterm-256color"}
        env.update(envs or {})
        frame["envs"] = env
        await _start(self._sb, h, frame, timeout)
        self._handles[h.pid] = h
        return h

    def _get(self, pid: int) -> AsyncTerminalHandle:
        h = self._handles.get(pid)
        if h is None:
            raise errors.NotFoundError(f"no terminal with pid {pid} started by this sandbox object",
                                       code="not_found")
        return h

    async def send_data(self, pid: int, data: Union[str, bytes]) -> None:
        await self._get(pid).send_data(data)

    async def resize(self, pid: int, size: Tuple[int, int]) -> None:
        await self._get(pid).resize(size)

    async def kill(self, pid: int) -> bool:
        h = self._handles.pop(pid, None)
        if h is not None:
            return await h.kill()
        return await AsyncProcess(self._sb).kill(pid)
