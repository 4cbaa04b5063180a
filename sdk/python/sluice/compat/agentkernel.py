"""agentkernel SDK on Sluice: ``from sluice.compat.agentkernel import AgentKernel, AsyncAgentKernel, AgentKernelError``.

``run`` is a one-shot sandbox (``POST /api/v1/run``); named sandboxes are Sluice sandboxes of that name.
The gateway is ``base_url`` or ``AGENTKERNEL_BASE_URL`` (else ``SLUICE_URL``); the key ``api_key`` or
``AGENTKERNEL_API_KEY`` (else ``SLUICE_API_KEY``). ``profile`` and ``fast`` are accepted and ignored
(Sluice has one isolation profile). Errors raise :class:`AgentKernelError` (``status``, ``message``),
which is also a :class:`sluice.SluiceError`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence

from .. import _loop, errors
from .._config import ConnectionConfig
from .._http import AsyncTransport
from ._images import resolve_image

__all__ = ["AgentKernel", "AsyncAgentKernel", "AgentKernelError", "RunOutput", "StreamEvent", "SandboxInfo",
           "SandboxSession", "AsyncSandboxSession"]

DEFAULT_URL = "http://localhost:18888"


class AgentKernelError(errors.SluiceError):
    """An error reply: ``status`` (HTTP status) and ``message`` (the server's text)."""


def _wrap(e: errors.SluiceError) -> AgentKernelError:
    err = AgentKernelError(e.message, code=e.code, status=e.status if e.status is not None else 0)
    err.response = e.response
    return err


@dataclass
class RunOutput:
    output: str
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class StreamEvent:
    """``type``: ``output`` ({data, stream}), ``done`` ({exit_code}) or ``error`` ({message})."""

    type: str
    data: Dict[str, Any] = field(default_factory=dict)


@dataclass
class SandboxInfo:
    name: str
    status: str
    image: str
    id: Optional[str] = None
    created_at: Optional[str] = None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxInfo":
        return cls(name=d.get("name", ""), status=d.get("status", ""), image=d.get("image", ""), id=d.get("id"),
                   created_at=d.get("created_at"))


def _out(d: Dict[str, Any]) -> RunOutput:
    return RunOutput(output=d.get("output", ""), exit_code=d.get("exit_code", 0), stdout=d.get("stdout", ""),
                     stderr=d.get("stderr", ""))


def _argv(command: Any) -> Dict[str, Any]:
    if isinstance(command, str):
        return {"command": command}
    return {"argv": list(command)}


class AsyncSandboxSession:
    """A named sandbox removed when the ``async with`` block exits."""

    def __init__(self, client: "AsyncAgentKernel", name: str, options: Dict[str, Any]) -> None:
        self._c, self.name, self._options = client, name, options
        self.info: Optional[SandboxInfo] = None

    async def __aenter__(self) -> "AsyncSandboxSession":
        self.info = await self._c.create_sandbox(self.name, **self._options)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._c.remove_sandbox(self.name)

    async def run(self, command: Sequence[str]) -> RunOutput:
        return await self._c.exec_in_sandbox(self.name, command)


class AsyncAgentKernel:
    """``agentkernel.AsyncAgentKernel``."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 30.0) -> None:
        url = base_url or os.environ.get("AGENTKERNEL_BASE_URL") or os.environ.get("SLUICE_URL") or DEFAULT_URL
        key = api_key or os.environ.get("AGENTKERNEL_API_KEY") or os.environ.get("SLUICE_API_KEY")
        self._cfg = ConnectionConfig.resolve(url, key, request_timeout=timeout)
        self._t: Optional[AsyncTransport] = None

    def _tr(self) -> AsyncTransport:
        if self._t is None:
            self._t = AsyncTransport(self._cfg)
        return self._t

    async def _req(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return await self._tr().request(method, path, **kw)
        except errors.SluiceError as e:
            raise _wrap(e) from e

    async def _run_body(self, command: Any, image: Optional[str], options: Dict[str, Any]) -> Dict[str, Any]:
        body = _argv(command)
        img = await resolve_image(self._tr(), image) if image else None
        if img:
            body["image"] = img
        if options.get("timeout_ms"):
            body["timeout_ms"] = options["timeout_ms"]
        return body

    async def health(self) -> str:
        try:
            r = await self._tr().send("GET", "/health")
        except errors.SluiceError as e:
            raise _wrap(e) from e
        return str(r.json().get("status", "ok"))

    async def run(self, command: Sequence[str], *, image: Optional[str] = None, profile: Optional[str] = None,
                  fast: Optional[bool] = None, **options: Any) -> RunOutput:
        body = await self._run_body(command, image, options)
        return _out(await self._req("POST", "/api/v1/run", json=body, timeout=max(self._cfg.request_timeout, 150)))

    async def run_stream(self, command: Sequence[str], *, image: Optional[str] = None, profile: Optional[str] = None,
                         fast: Optional[bool] = None, **options: Any) -> AsyncIterator[StreamEvent]:
        body = await self._run_body(command, image, options)
        name = "message"
        try:
            async for line in self._tr().stream_lines("POST", "/api/v1/run", json=body, accept="text/event-stream",
                                                      timeout=max(self._cfg.request_timeout, 150)):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    if name in ("stdout", "stderr"):
                        yield StreamEvent("output", {"data": data.get("data", ""), "stream": name})
                    elif name == "done":
                        yield StreamEvent("done", data)
                    elif name == "error":
                        yield StreamEvent("error", {"message": data.get("message", str(data))})
        except errors.SluiceError as e:
            raise _wrap(e) from e

    async def list_sandboxes(self) -> List[SandboxInfo]:
        return [SandboxInfo.from_json(d) for d in await self._req("GET", "/api/v1/sandboxes") or []]

    async def create_sandbox(self, name: str, *, image: Optional[str] = None, **options: Any) -> SandboxInfo:
        body: Dict[str, Any] = {"name": name}
        img = await resolve_image(self._tr(), image) if image else None
        if img:
            body["image"] = img
        return SandboxInfo.from_json(await self._req("POST", "/api/v1/sandboxes", json=body,
                                                     timeout=max(self._cfg.request_timeout, 120)))

    async def get_sandbox(self, name: str) -> SandboxInfo:
        return SandboxInfo.from_json(await self._req("GET", f"/api/v1/sandboxes/{name}"))

    async def remove_sandbox(self, name: str) -> None:
        await self._req("DELETE", f"/api/v1/sandboxes/{name}")

    async def exec_in_sandbox(self, name: str, command: Sequence[str]) -> RunOutput:
        return _out(await self._req("POST", f"/api/v1/sandboxes/{name}/exec", json=_argv(command),
                                    timeout=max(self._cfg.request_timeout, 60)))

    def sandbox(self, name: str, **options: Any) -> AsyncSandboxSession:
        return AsyncSandboxSession(self, name, options)

    async def close(self) -> None:
        if self._t is not None:
            await self._t.aclose()
            self._t = None

    async def __aenter__(self) -> "AsyncAgentKernel":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class SandboxSession:
    """A named sandbox removed when the ``with`` block exits."""

    def __init__(self, client: "AgentKernel", name: str, options: Dict[str, Any]) -> None:
        self._c, self.name, self._options = client, name, options
        self.info: Optional[SandboxInfo] = None

    def __enter__(self) -> "SandboxSession":
        self.info = self._c.create_sandbox(self.name, **self._options)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._c.remove_sandbox(self.name)

    def run(self, command: Sequence[str]) -> RunOutput:
        return self._c.exec_in_sandbox(self.name, command)


async def _make(base_url: Optional[str], api_key: Optional[str], timeout: float) -> AsyncAgentKernel:
    return AsyncAgentKernel(base_url, api_key, timeout)


class AgentKernel:
    """``agentkernel.AgentKernel`` (blocking)."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 30.0) -> None:
        self._a: AsyncAgentKernel = _loop.run(_make(base_url, api_key, timeout))

    def health(self) -> str:
        return _loop.run(self._a.health())

    def run(self, command: Sequence[str], **options: Any) -> RunOutput:
        return _loop.run(self._a.run(command, **options))

    def run_stream(self, command: Sequence[str], **options: Any) -> Iterator[StreamEvent]:
        return _loop.iterate(self._a.run_stream(command, **options))

    def list_sandboxes(self) -> List[SandboxInfo]:
        return _loop.run(self._a.list_sandboxes())

    def create_sandbox(self, name: str, **options: Any) -> SandboxInfo:
        return _loop.run(self._a.create_sandbox(name, **options))

    def get_sandbox(self, name: str) -> SandboxInfo:
        return _loop.run(self._a.get_sandbox(name))

    def remove_sandbox(self, name: str) -> None:
        _loop.run(self._a.remove_sandbox(name))

    def exec_in_sandbox(self, name: str, command: Sequence[str]) -> RunOutput:
        return _loop.run(self._a.exec_in_sandbox(name, command))

    def sandbox(self, name: str, **options: Any) -> SandboxSession:
        return SandboxSession(self, name, options)

    def close(self) -> None:
        _loop.run(self._a.close())

    def __enter__(self) -> "AgentKernel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
