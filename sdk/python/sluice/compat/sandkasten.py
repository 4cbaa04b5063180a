"""Sandkasten SDK on Sluice: ``from sluice.compat.sandkasten import SandboxClient, SandkastenStreamError``.

Sessions are sandboxes; ``exec`` runs in the sandbox's stateful shell (``cd``/exports persist) from
``/workspace`` when the session has a workspace, else the image's home directory; relative paths of
``read``/``write`` resolve from there too. As in sandkasten, HTTP failures raise ``httpx.HTTPStatusError``
(also a :class:`sluice.SluiceError` is available as ``__cause__``); stream failures raise
:class:`SandkastenStreamError`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, AsyncIterator, Dict, List, Optional, Union

import httpx

from .. import errors
from .._async_sandbox import AsyncSandbox
from .._config import ConnectionConfig
from .._http import AsyncTransport
from ..models import SandboxInfo
from ._images import resolve_image

__all__ = ["SandboxClient", "Session", "ExecResult", "ReadResult", "SessionInfo", "SessionStats",
           "ExecChunk", "SandkastenStreamError"]

_IMAGES = {"base": None, "python": "python", "node": "node"}


class SandkastenStreamError(Exception):
    """A streamed exec failed."""


def _httpx_error(e: errors.SluiceError) -> Exception:
    r = e.response
    if isinstance(r, httpx.Response):
        return httpx.HTTPStatusError(f"HTTP {r.status_code}: {e.message}", request=r.request, response=r)
    return httpx.TransportError(str(e))


@dataclass
class ExecResult:
    exit_code: int
    cwd: str
    output: str
    truncated: bool
    duration_ms: int


@dataclass
class ReadResult:
    content: bytes
    path: str
    truncated: bool


@dataclass
class SessionStats:
    memory_bytes: Optional[int]
    memory_limit: Optional[int]
    cpu_usage_usec: Optional[int]


@dataclass
class SessionInfo:
    id: str
    image: str
    status: str
    cwd: Optional[str]
    workspace_id: Optional[str]
    created_at: Optional[str]
    expires_at: Optional[str]

    @classmethod
    def from_sluice(cls, i: SandboxInfo) -> "SessionInfo":
        return cls(id=i.id, image=i.image, status=i.status, cwd=i.raw.get("cwd"), workspace_id=i.workspace_id,
                   created_at=i.created_at, expires_at=i.expires_at)


@dataclass
class ExecChunk:
    """One piece of a streamed exec: ``output`` text, or the final ``done`` chunk with ``exit_code``."""

    output: str = ""
    done: bool = False
    exit_code: Optional[int] = None
    cwd: Optional[str] = None


class Session:
    """A stateful sandbox session (shell + filesystem). ``async with`` destroys it on exit."""

    def __init__(self, sb: AsyncSandbox) -> None:
        self._sb = sb

    @property
    def id(self) -> str:
        return self._sb.sandbox_id

    async def exec(self, cmd: str, *, timeout_ms: int = 30000) -> ExecResult:
        try:
            r = await self._sb.exec(cmd, timeout=timeout_ms / 1000.0)
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return ExecResult(exit_code=r.exit_code, cwd=r.cwd or "", output=r.output, truncated=r.truncated,
                          duration_ms=r.duration_ms or 0)

    async def exec_stream(self, cmd: str, *, timeout_ms: int = 30000) -> AsyncIterator[ExecChunk]:
        """Output as it happens, then a ``done`` chunk."""
        name = "message"
        try:
            async for ev in self._sb._t.stream_lines("POST", f"/api/v1/sandboxes/{self.id}/exec",
                                                     json={"command": cmd, "timeout_ms": timeout_ms},
                                                     accept="text/event-stream", timeout=timeout_ms / 1000 + 30):
                if ev.startswith("event:"):
                    name = ev[6:].strip()
                elif ev.startswith("data:"):
                    data = json.loads(ev[5:])
                    if name in ("stdout", "stderr"):
                        yield ExecChunk(output=data.get("data", ""))
                    elif name == "done":
                        yield ExecChunk(done=True, exit_code=data.get("exit_code"), cwd=data.get("cwd"))
                    elif name == "error":
                        raise SandkastenStreamError(data.get("message", "stream failed"))
        except errors.SluiceError as e:
            raise SandkastenStreamError(str(e)) from e

    async def write(self, path: str, content: Union[str, bytes]) -> None:
        try:
            await self._sb.files.write(path, content)
        except errors.APIError as e:
            raise _httpx_error(e) from e

    async def read(self, path: str, *, max_bytes: Optional[int] = None) -> ReadResult:
        try:
            data, truncated = await self._sb.files.read_with_info(path, max_bytes=max_bytes)
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return ReadResult(content=data, path=path, truncated=truncated)

    async def upload(self, file: Union[str, Path, IO[bytes]], *, dest_path: str = "/workspace",
                     filename: Optional[str] = None) -> List[str]:
        if dest_path == "/workspace" and not self._sb.info.workspace_id:
            dest_path = "."  # no persistent workspace: the session's working directory
        try:
            if isinstance(file, (str, Path)):
                name = filename or os.path.basename(str(file))
                with open(file, "rb") as f:
                    info = await self._sb.files.write(f"{dest_path.rstrip('/')}/{name}", f)
            else:
                name = filename or os.path.basename(getattr(file, "name", "") or "upload.bin")
                info = await self._sb.files.write(f"{dest_path.rstrip('/')}/{name}", file)
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return [info.path]

    async def stats(self) -> SessionStats:
        s = await self._sb.stats()
        return SessionStats(memory_bytes=s.memory_bytes, memory_limit=s.memory_limit, cpu_usage_usec=s.cpu_usage_usec)

    async def info(self) -> SessionInfo:
        return SessionInfo.from_sluice(await self._sb.get_info())

    async def destroy(self) -> None:
        try:
            await self._sb.kill()
        except errors.APIError as e:
            raise _httpx_error(e) from e

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.destroy()


class SandboxClient:
    """``sandkasten.SandboxClient``: sessions on a Sluice gateway."""

    def __init__(self, *, base_url: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 120.0) -> None:
        self._cfg = ConnectionConfig.resolve(base_url, api_key, request_timeout=timeout)
        self._t: Optional[AsyncTransport] = None

    def _transport(self) -> AsyncTransport:
        if self._t is None:  # made on first use, inside the caller's event loop
            self._t = AsyncTransport(self._cfg)
        return self._t

    async def _session(self, data: Dict[str, Any]) -> Session:
        return Session(AsyncSandbox(SandboxInfo.from_json(data), AsyncTransport(self._cfg)))

    async def create_session(self, *, image: str = "python", ttl_seconds: Optional[int] = None,
                             workspace_id: Optional[str] = None) -> Session:
        t = self._transport()
        gw_image = await resolve_image(t, _IMAGES.get(image, image)) if _IMAGES.get(image, image) else None
        body: Dict[str, Any] = {}
        if gw_image:
            body["image"] = gw_image
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        if workspace_id:
            body["workspace_id"] = workspace_id
            body["cwd"] = "/workspace"
        try:
            data = await t.request("POST", "/api/v1/sandboxes", json=body, timeout=max(self._cfg.request_timeout, 120))
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return await self._session(data)

    async def get_session(self, session_id: str) -> Session:
        try:
            data = await self._transport().request("GET", f"/api/v1/sandboxes/{session_id}")
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return await self._session(data)

    async def list_sessions(self) -> List[SessionInfo]:
        try:
            data = await self._transport().request("GET", "/api/v1/sandboxes")
        except errors.APIError as e:
            raise _httpx_error(e) from e
        return [SessionInfo.from_sluice(SandboxInfo.from_json(d)) for d in data or []]

    async def close(self) -> None:
        if self._t is not None:
            await self._t.aclose()
            self._t = None

    async def __aenter__(self) -> "SandboxClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
