"""AsyncSandbox: the core API (create/connect/list/kill, run_code, exec, contexts, notebook, stats).

Ownership: an AsyncSandbox owns its AsyncTransport (HTTP client) and its StreamConnection (opened on
first live use); :meth:`close` releases both, :meth:`kill` also deletes the sandbox.
"""
from __future__ import annotations

import asyncio
import builtins
import json
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

from . import errors
from ._async_fs import AsyncFiles
from ._async_proc import AsyncProcess, AsyncTerminal, OutputCallback
from ._config import ConnectionConfig
from ._http import AsyncTransport
from ._stream import StreamConnection, call_maybe_async
from .models import CommandResult, Context, Execution, ExecutionError, Logs, OutputMessage, Result, SandboxInfo, Stats

API = "/api/v1/sandboxes"


def create_body(image: Optional[str] = None, envs: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
                timeout: Optional[int] = None, metadata: Optional[Dict[str, str]] = None,
                limits: Optional[Dict[str, Any]] = None, name: Optional[str] = None,
                namespace: Optional[str] = None, ttl: Optional[int] = None, workspace_id: Optional[str] = None,
                **extra: Any) -> Dict[str, Any]:
    body: Dict[str, Any] = {"image": image, "env": envs, "cwd": cwd, "timeout": timeout, "metadata": metadata,
                            "limits": limits, "name": name, "namespace": namespace, "ttl_seconds": ttl,
                            "workspace_id": workspace_id}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


class AsyncNotebook:
    """Notebook-style use of the default Python context: rich results, packages, reset."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sb = sandbox

    async def execute(self, code: str, **kw: Any) -> Execution:
        """Same as :meth:`AsyncSandbox.run_code`."""
        return await self._sb.run_code(code, **kw)

    async def install_package(self, name: str, version: Optional[str] = None, language: Optional[str] = None,
                              timeout: Optional[float] = 300.0) -> Dict[str, Any]:
        """pip (python) / npm (javascript) install in the sandbox; importable at once. Returns {name, version, output}."""
        body: Dict[str, Any] = {"name": name}
        if version:
            body["version"] = version
        if language:
            body["language"] = language
        return await self._sb._t.request("POST", f"{API}/{self._sb.sandbox_id}/packages", json=body, timeout=timeout)

    async def get_installed_packages(self, language: Optional[str] = None) -> List[Dict[str, Any]]:
        """Packages installed in the sandbox (beyond the image's): [{name, version}]."""
        return await self._sb._t.request("GET", f"{API}/{self._sb.sandbox_id}/packages",
                                         params={"language": language}) or []

    async def reset(self) -> None:
        """Restarts the default Python interpreter: every variable is gone."""
        await self._sb._t.request("POST", f"{API}/{self._sb.sandbox_id}/reset", json={})


class AsyncSandbox:
    """A sandbox on a Sluice gateway (asyncio). Create with ``await AsyncSandbox.create(...)``."""

    def __init__(self, info: SandboxInfo, transport: AsyncTransport) -> None:
        self.info = info
        self._t = transport
        self._stream_conn: Optional[StreamConnection] = None
        self._stream_lock = asyncio.Lock()
        self.files = AsyncFiles(self)
        self.process = AsyncProcess(self)
        self.terminal = AsyncTerminal(self)
        self.notebook = AsyncNotebook(self)

    # aliases used by the seeds
    @property
    def filesystem(self) -> AsyncFiles:
        return self.files

    @property
    def commands(self) -> AsyncProcess:
        return self.process

    @property
    def sandbox_id(self) -> str:
        return self.info.id

    id = sandbox_id

    @property
    def name(self) -> str:
        return self.info.name

    # ---- lifecycle -------------------------------------------------------------------------------------
    @classmethod
    async def create(cls, image: Optional[str] = None, *, envs: Optional[Dict[str, str]] = None,
                     cwd: Optional[str] = None, timeout: Optional[int] = None,
                     metadata: Optional[Dict[str, str]] = None, limits: Optional[Dict[str, Any]] = None,
                     name: Optional[str] = None, namespace: Optional[str] = None, ttl: Optional[int] = None,
                     workspace_id: Optional[str] = None, url: Optional[str] = None, api_key: Optional[str] = None,
                     request_timeout: Optional[float] = None, **extra: Any) -> "AsyncSandbox":
        """Creates a sandbox and returns once it runs.

        ``image`` (default the gateway's, ``python``), ``envs`` (environment), ``cwd``, ``timeout``
        (inactivity seconds), ``metadata`` (strings), ``limits`` ({cpu, memory, ephemeral-storage, pids}),
        ``name``/``namespace``, ``ttl`` (hard lifetime, s), ``workspace_id``; other create fields of the
        API (``pod_non_root``, ``egress_whitelist``, ``before_script``...) pass through ``extra``.
        """
        cfg = ConnectionConfig.resolve(url, api_key, namespace, request_timeout)
        t = AsyncTransport(cfg)
        try:
            body = create_body(image, envs, cwd, timeout, metadata, limits, name, namespace, ttl, workspace_id,
                               **extra)
            data = await t.request("POST", API, json=body, timeout=max(cfg.request_timeout, 120.0))
        except BaseException:
            await t.aclose()
            raise
        return cls(SandboxInfo.from_json(data), t)

    @classmethod
    async def connect(cls, sandbox_id: str, *, url: Optional[str] = None, api_key: Optional[str] = None,
                      namespace: Optional[str] = None, request_timeout: Optional[float] = None) -> "AsyncSandbox":
        """An object for an existing sandbox (by id, or by name within ``namespace``)."""
        cfg = ConnectionConfig.resolve(url, api_key, namespace, request_timeout)
        t = AsyncTransport(cfg)
        try:
            data = await t.request("GET", f"{API}/{sandbox_id}", params={"namespace": namespace})
        except BaseException:
            await t.aclose()
            raise
        return cls(SandboxInfo.from_json(data), t)

    @staticmethod
    async def list(namespace: Optional[str] = None, *, url: Optional[str] = None, api_key: Optional[str] = None,
                   request_timeout: Optional[float] = None) -> List[SandboxInfo]:
        """Every sandbox the key can see (of ``namespace`` when given)."""
        t = AsyncTransport(ConnectionConfig.resolve(url, api_key, namespace, request_timeout))
        try:
            data = await t.request("GET", API, params={"namespace": namespace})
        finally:
            await t.aclose()
        return [SandboxInfo.from_json(d) for d in data or []]

    async def get_info(self) -> SandboxInfo:
        """Fresh information from the gateway (also stored in ``self.info``)."""
        self.info = SandboxInfo.from_json(await self._t.request("GET", f"{API}/{self.sandbox_id}"))
        return self.info

    async def is_running(self) -> bool:
        try:
            return (await self.get_info()).status == "running"
        except errors.NotFoundError:
            return False

    async def set_timeout(self, timeout: int) -> None:
        """Sets the inactivity timeout (seconds) from now."""
        self.info = SandboxInfo.from_json(
            await self._t.request("POST", f"{API}/{self.sandbox_id}/timeout", json={"timeout": int(timeout)}))

    async def stats(self) -> Stats:
        d = await self._t.request("GET", f"{API}/{self.sandbox_id}/stats")
        return Stats(**{k: d.get(k) for k in ("memory_bytes", "memory_limit", "cpu_usage_usec", "pids", "disk_bytes")})

    async def kill(self) -> bool:
        """Deletes the sandbox (False if it was already gone) and closes this object."""
        try:
            await self._t.request("DELETE", f"{API}/{self.sandbox_id}")
            gone = True
        except errors.NotFoundError:
            gone = False
        await self.close()
        return gone

    async def close(self) -> None:
        """Closes the connections (the sandbox keeps running; processes started here end with the stream)."""
        async with self._stream_lock:
            if self._stream_conn is not None:
                await self._stream_conn.aclose()
                self._stream_conn = None
        await self._t.aclose()

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.kill()

    async def _stream(self) -> StreamConnection:
        """The sandbox's stream websocket, (re)connected on demand."""
        async with self._stream_lock:
            if self._stream_conn is None or not self._stream_conn.open:
                if self._stream_conn is not None:
                    await self._stream_conn.aclose()
                conn = StreamConnection(self._t.config, self.sandbox_id)
                await conn.connect()
                self._stream_conn = conn
            return self._stream_conn

    # ---- code ------------------------------------------------------------------------------------------
    async def run_code(self, code: str, language: Optional[str] = None, context: Any = None, *,
                       on_stdout: Optional[OutputCallback] = None, on_stderr: Optional[OutputCallback] = None,
                       on_result: Optional[Callable[[Result], Any]] = None,
                       on_error: Optional[Callable[[ExecutionError], Any]] = None,
                       timeout: Optional[float] = None, envs: Optional[Dict[str, str]] = None,
                       request_timeout: Optional[float] = None) -> Execution:
        """Runs a cell in the sandbox's interpreter (state is kept between cells).

        ``language``: python (default), bash, javascript; ``context``: a :class:`Context` or its id.
        Callbacks fire live, as the cell prints (they come from the stream websocket). ``timeout``
        (seconds) interrupts the cell. Python errors are in ``execution.error``, not raised.
        """
        body: Dict[str, Any] = {"code": code}
        if language:
            body["language"] = language
        if context is not None:
            body["context_id"] = context.id if isinstance(context, Context) else str(context)
        if timeout is not None:
            body["timeout"] = timeout
        if envs:
            body["env"] = envs
        wait = request_timeout or ((timeout + 30) if timeout else None)
        if not (on_stdout or on_stderr or on_result or on_error):
            data = await self._t.request("POST", f"{API}/{self.sandbox_id}/code", json=body, timeout=wait)
            return Execution.from_json(data)
        return await self._run_code_live(body, on_stdout, on_stderr, on_result, on_error, wait)

    async def _run_code_live(self, body: Dict[str, Any], on_stdout: Any, on_stderr: Any, on_result: Any,
                             on_error: Any, wait: Optional[float]) -> Execution:
        ex = Execution(logs=Logs())
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

        async def on_ev(ev: Dict[str, Any]) -> None:
            t = ev.get("type")
            if t in ("stdout", "stderr"):
                text = ev.get("text", "")
                (ex.logs.stdout if t == "stdout" else ex.logs.stderr).append(text)
                await call_maybe_async(on_stdout if t == "stdout" else on_stderr,
                                       OutputMessage(line=text, error=t == "stderr", timestamp=ev.get("timestamp")))
            elif t == "result":
                r = Result(ev)
                ex.results.append(r)
                await call_maybe_async(on_result, r)
            elif t == "error" and "traceback" in ev:
                ex.error = ExecutionError.from_json(ev)
                await call_maybe_async(on_error, ex.error)
            elif t == "error":
                if not done.done():
                    done.set_exception(errors.error_from_code(ev.get("name"), ev.get("value", "code failed")))
            elif t == "_lost":
                if not done.done():
                    done.set_exception(errors.ConnectionLostError(ev.get("message", "lost")))
            elif t == "done":
                ex.execution_count = ev.get("execution_count")
                ex.truncated = bool(ev.get("truncated", False))
                if not done.done():
                    done.set_result(None)

        stream = await self._stream()
        rid = await stream.request(dict(body, type="code"), on_ev)
        try:
            await asyncio.wait_for(asyncio.shield(done), wait)
        except asyncio.TimeoutError:
            await self._interrupt_quietly(stream, body.get("context_id"))
            raise errors.TimeoutError(f"the cell did not finish within {wait}s (interrupted)") from None
        except asyncio.CancelledError:
            await self._interrupt_quietly(stream, body.get("context_id"))
            raise
        finally:
            stream.unregister(rid)
        return ex

    async def _interrupt_quietly(self, stream: StreamConnection, context_id: Optional[str]) -> None:
        try:
            frame: Dict[str, Any] = {"type": "interrupt"}
            if context_id:
                frame["context_id"] = context_id
            await asyncio.wait_for(stream.send(dict(frame, id=stream.new_id("i"))), 5)
        except Exception:
            pass

    async def run_code_stream(self, code: str, language: Optional[str] = None, context: Any = None,
                              timeout: Optional[float] = None) -> AsyncIterator[Dict[str, Any]]:
        """The cell's events as E2B's NDJSON objects ({"type": "stdout"|"stderr"|"result"|"error"|...})."""
        body: Dict[str, Any] = {"code": code}
        if language:
            body["language"] = language
        if context is not None:
            body["context_id"] = context.id if isinstance(context, Context) else str(context)
        if timeout is not None:
            body["timeout"] = timeout
        async for line in self._t.stream_lines("POST", f"{API}/{self.sandbox_id}/code", json=body,
                                               accept="application/x-ndjson", timeout=None):
            if line:
                yield json.loads(line)

    async def create_code_context(self, language: str = "python", cwd: Optional[str] = None) -> Context:
        """A new interpreter in the same sandbox (separate state)."""
        body: Dict[str, Any] = {"language": language}
        if cwd:
            body["cwd"] = cwd
        d = await self._t.request("POST", f"{API}/{self.sandbox_id}/contexts", json=body)
        return Context(id=d["id"], language=d.get("language", language), cwd=d.get("cwd"))

    async def list_code_contexts(self) -> List[Context]:
        data = await self._t.request("GET", f"{API}/{self.sandbox_id}/contexts")
        return [Context(id=d["id"], language=d.get("language", ""), cwd=d.get("cwd")) for d in data or []]

    async def remove_code_context(self, context: Any) -> None:
        cid = context.id if isinstance(context, Context) else str(context)
        await self._t.request("DELETE", f"{API}/{self.sandbox_id}/contexts/{cid}")

    async def restart_code_context(self, context: Any = "default") -> None:
        cid = context.id if isinstance(context, Context) else str(context)
        await self._t.request("POST", f"{API}/{self.sandbox_id}/contexts/{cid}/restart", json={})

    async def interrupt(self, context: Any = "default") -> None:
        """Interrupts the running cell of a context (KeyboardInterrupt in Python)."""
        cid = context.id if isinstance(context, Context) else str(context)
        await self._t.request("POST", f"{API}/{self.sandbox_id}/contexts/{cid}/interrupt", json={})

    async def install_package(self, name: str, version: Optional[str] = None,
                              language: Optional[str] = None) -> Dict[str, Any]:
        return await self.notebook.install_package(name, version, language)

    # ---- shell -----------------------------------------------------------------------------------------
    async def exec(self, command: Any, *, cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
                   timeout: Optional[float] = None, stdin: Optional[str] = None,
                   on_stdout: Optional[OutputCallback] = None, on_stderr: Optional[OutputCallback] = None,
                   check: bool = False) -> CommandResult:
        """Runs a command in the sandbox's one stateful shell (``cd``, exports, functions persist).

        ``command`` is a shell string, or an argv list (run directly). ``timeout`` in seconds (default 30
        on the gateway); a timed-out command reports exit code 124. With ``check`` a non-zero exit raises
        :class:`CommandExitError`. Callbacks fire live as output arrives.
        """
        body = _command_body(command)
        if cwd:
            body["cwd"] = cwd
        if envs:
            body["env"] = envs
        if timeout is not None:
            body["timeout_ms"] = int(timeout * 1000)
        if stdin is not None:
            body["stdin"] = stdin
        wait = (timeout or 30.0) + 30.0
        if on_stdout or on_stderr:
            res = await self._exec_live(body, on_stdout, on_stderr, wait)
        else:
            res = CommandResult.from_json(
                await self._t.request("POST", f"{API}/{self.sandbox_id}/exec", json=body, timeout=wait))
        if check and res.exit_code != 0:
            raise errors.CommandExitError(f"command exited with {res.exit_code}: {res.stderr.strip()[-500:]}",
                                          exit_code=res.exit_code, stdout=res.stdout, stderr=res.stderr)
        return res

    async def _exec_live(self, body: Dict[str, Any], on_stdout: Any, on_stderr: Any, wait: float) -> CommandResult:
        out: List[str] = []
        err: List[str] = []
        both: List[str] = []
        done: "asyncio.Future[Dict[str, Any]]" = asyncio.get_running_loop().create_future()

        async def on_ev(ev: Dict[str, Any]) -> None:
            t = ev.get("type")
            if t in ("stdout", "stderr"):
                data = ev.get("data", "")
                (out if t == "stdout" else err).append(data)
                both.append(data)
                await call_maybe_async(on_stdout if t == "stdout" else on_stderr,
                                       OutputMessage(line=data, error=t == "stderr"))
            elif t == "done" and not done.done():
                done.set_result(ev)
            elif t == "error" and not done.done():
                done.set_exception(errors.error_from_code(ev.get("name"), ev.get("value", "exec failed")))
            elif t == "_lost" and not done.done():
                done.set_exception(errors.ConnectionLostError(ev.get("message", "lost")))

        stream = await self._stream()
        rid = await stream.request(dict(body, type="exec"), on_ev)
        try:
            d = await asyncio.wait_for(asyncio.shield(done), wait)
        except asyncio.TimeoutError:
            raise errors.TimeoutError(f"exec did not finish within {wait}s") from None
        finally:
            stream.unregister(rid)
        return CommandResult(exit_code=d.get("exit_code", -1), stdout="".join(out), stderr="".join(err),
                             output="".join(both), cwd=d.get("cwd"), truncated=bool(d.get("truncated")),
                             duration_ms=d.get("duration_ms"), error=d.get("error"))

    def __repr__(self) -> str:
        return f"AsyncSandbox(id={self.sandbox_id!r}, name={self.name!r}, image={self.info.image!r})"


def _command_body(command: Any) -> Dict[str, Any]:
    """An argv list runs directly; a string runs in the shell."""
    if isinstance(command, (builtins.list, tuple)):
        return {"argv": builtins.list(command)}
    return {"command": command}


def _run_body(command: Any, image: Optional[str], limits: Optional[Dict[str, Any]],
              timeout: Optional[float]) -> Dict[str, Any]:
    """The body of ``POST /api/v1/run``: argv for a list, a shell string otherwise."""
    body = _command_body(command)
    if image:
        body["image"] = image
    if limits:
        body["limits"] = limits
    if timeout is not None:
        body["timeout_ms"] = int(timeout * 1000)
    return body


async def run_once(command: Any, *, image: Optional[str] = None, limits: Optional[Dict[str, Any]] = None,
                   timeout: Optional[float] = None, namespace: Optional[str] = None, url: Optional[str] = None,
                   api_key: Optional[str] = None) -> CommandResult:
    """``POST /api/v1/run``: the command in a fresh sandbox destroyed afterwards."""
    t = AsyncTransport(ConnectionConfig.resolve(url, api_key, namespace))
    body = _run_body(command, image, limits, timeout)
    try:
        d = await t.request("POST", "/api/v1/run", json=body, params={"namespace": namespace},
                            timeout=(timeout or 30.0) + 120.0)
    finally:
        await t.aclose()
    return CommandResult.from_json(d)


async def run_once_stream(command: Any, *, image: Optional[str] = None, limits: Optional[Dict[str, Any]] = None,
                          timeout: Optional[float] = None, namespace: Optional[str] = None,
                          url: Optional[str] = None, api_key: Optional[str] = None) -> AsyncIterator[Dict[str, Any]]:
    """``POST /api/v1/run`` as server-sent events: {"event": stdout|stderr|done|error, "data": {...}}."""
    t = AsyncTransport(ConnectionConfig.resolve(url, api_key, namespace))
    body = _run_body(command, image, limits, timeout)
    try:
        name = "message"
        async for line in t.stream_lines("POST", "/api/v1/run", json=body, params={"namespace": namespace},
                                         accept="text/event-stream", timeout=(timeout or 30.0) + 120.0):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                yield {"event": name, "data": json.loads(line[5:].strip())}
                name = "message"
    finally:
        await t.aclose()
