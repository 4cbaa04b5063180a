"""``sandbox.files`` (async): list, read (text, bytes, stream), write, upload, remove, rename, make_dir,
exists, stat and watch (live ``fs_event`` from the stream websocket)."""
from __future__ import annotations

import asyncio
import builtins
import collections
import io
import os
from typing import IO, TYPE_CHECKING, Any, AsyncIterator, Callable, Deque, Dict, Iterable, List, Optional, Protocol, Union

from . import errors
from ._stream import call_maybe_async
from .models import EntryInfo, FilesystemEvent, WriteInfo

if TYPE_CHECKING:
    from ._async_sandbox import AsyncSandbox

class Readable(Protocol):
    """Anything with ``read(n)`` (a binary file object, or a wrapper of one)."""

    def read(self, n: int = ...) -> Any: ...


WriteData = Union[str, bytes, bytearray, IO[bytes], IO[str], Readable, AsyncIterator[bytes], Iterable[bytes]]
CHUNK = 256 << 10
MAX_QUEUED_EVENTS = 10000


async def _file_chunks(f: Any) -> AsyncIterator[bytes]:
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return
        yield chunk.encode() if isinstance(chunk, str) else chunk


def _remaining_size(f: Any) -> Optional[int]:
    """Bytes left in a binary file object (None for text files and unseekable streams)."""
    if "b" not in getattr(f, "mode", "b"):
        return None
    try:
        pos = f.tell()
        end = os.fstat(f.fileno()).st_size if hasattr(f, "fileno") else f.seek(0, 2)
        if not hasattr(f, "fileno"):
            f.seek(pos)
        return max(0, end - pos)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        try:
            end = f.seek(0, 2)
            f.seek(pos)
            return max(0, end - pos)
        except Exception:
            return None


class AsyncWatchHandle:
    """A live watch of a directory. Events go to ``on_event`` and (bounded) to :meth:`get_new_events`."""

    def __init__(self, files: "AsyncFiles", path: str, on_event: Optional[Callable[[FilesystemEvent], Any]]) -> None:
        self._files = files
        self.path = path
        self.watch_id: Optional[str] = None
        self._on_event = on_event
        self._queue: Deque[FilesystemEvent] = collections.deque(maxlen=MAX_QUEUED_EVENTS)
        self._active: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self.stopped = False
        self.error: Optional[errors.SluiceError] = None

    async def _handle(self, ev: Dict[str, Any]) -> None:
        t = ev.get("type")
        if t == "watching":
            if not self._active.done():
                self._active.set_result(None)
        elif t == "fs_event":
            fe = FilesystemEvent(type=ev.get("event", ""), path=ev.get("path", ""), from_path=ev.get("from"))
            self._queue.append(fe)
            await call_maybe_async(self._on_event, fe)
        elif t in ("error", "_lost"):
            err = (errors.error_from_code(ev.get("name"), ev.get("value", "watch failed")) if t == "error"
                   else errors.ConnectionLostError(ev.get("message", "lost")))
            self.error = err
            self.stopped = True
            if not self._active.done():
                self._active.set_exception(err)
        elif t == "done":  # the unwatch finished this watch
            self.stopped = True

    def get_new_events(self) -> List[FilesystemEvent]:
        """The events received since the last call."""
        out = builtins.list(self._queue)
        self._queue.clear()
        return out

    async def stop(self) -> None:
        """Stops watching (``unwatch``); idempotent."""
        if self.stopped or self.watch_id is None:
            self.stopped = True
            return
        self.stopped = True
        stream = await self._files._sb._stream()
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

        def on_ev(ev: Dict[str, Any]) -> None:
            if not done.done():
                if ev.get("type") == "error":
                    done.set_exception(errors.error_from_code(ev.get("name"), ev.get("value", "")))
                else:
                    done.set_result(None)
        rid = await stream.request({"type": "unwatch", "watch_id": self.watch_id}, on_ev)
        try:
            await asyncio.wait_for(done, 30)
        except errors.NotFoundError:
            pass
        finally:
            stream.unregister(rid)
            stream.unregister(self.watch_id)

    async def __aenter__(self) -> "AsyncWatchHandle":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


class AsyncFiles:
    """The filesystem of one sandbox. Paths are absolute or relative to the sandbox's cwd."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sb = sandbox

    @property
    def _base(self) -> str:
        return f"/api/v1/sandboxes/{self._sb.sandbox_id}/files"

    async def list(self, path: str = ".", depth: int = 1) -> List[EntryInfo]:
        """Entries under ``path`` (``depth`` levels deep)."""
        data = await self._sb._t.request("GET", self._base, params={"path": path, "depth": depth})
        return [EntryInfo.from_json(e) for e in data or []]

    async def stat(self, path: str) -> EntryInfo:
        """Information on one path; :class:`NotFoundError` when absent."""
        return EntryInfo.from_json(await self._sb._t.request("GET", self._base + "/stat", params={"path": path}))

    get_info = stat

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
            return True
        except errors.NotFoundError:
            return False

    async def read(self, path: str, format: str = "text", *, max_bytes: Optional[int] = None,
                   encoding: str = "utf-8") -> Any:
        """The file's content: ``format="text"`` (str), ``"bytes"``, or ``"stream"`` (async iterator of bytes)."""
        if format == "stream":
            return self.read_stream(path)
        r = await self._sb._t.send("GET", self._base + "/content", params={"path": path, "max_bytes": max_bytes})
        data = r.content
        return data if format == "bytes" else data.decode(encoding, errors="replace")

    async def read_bytes(self, path: str, *, max_bytes: Optional[int] = None) -> bytes:
        return await self.read(path, "bytes", max_bytes=max_bytes)

    async def read_text(self, path: str, *, max_bytes: Optional[int] = None, encoding: str = "utf-8") -> str:
        return await self.read(path, "text", max_bytes=max_bytes, encoding=encoding)

    async def read_with_info(self, path: str, *, max_bytes: Optional[int] = None) -> "tuple[bytes, bool]":
        """(content, truncated): truncated is True when ``max_bytes`` cut the file."""
        r = await self._sb._t.send("GET", self._base + "/content", params={"path": path, "max_bytes": max_bytes})
        return r.content, r.headers.get("x-truncated") == "true"

    def read_stream(self, path: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        """The file's bytes in bounded chunks as they arrive."""
        return self._sb._t.stream_bytes("GET", self._base + "/content", params={"path": path}, chunk_size=chunk_size)

    async def write(self, path: str, data: WriteData) -> WriteInfo:
        """Writes ``data`` (str, bytes, a file object or an iterator of bytes) to ``path`` atomically,
        creating parent directories. Large inputs are streamed in chunks."""
        content: Any
        headers = {"Content-Type": "application/octet-stream"}
        if isinstance(data, str):
            content = data.encode()
        elif isinstance(data, (bytes, bytearray)):
            content = bytes(data)
        elif hasattr(data, "read"):
            size = _remaining_size(data)
            if size is None:  # the gateway needs a Content-Length: an unsized stream is read first
                raw = data.read()
                content = raw.encode() if isinstance(raw, str) else raw
            else:
                content = _file_chunks(data)
                headers["Content-Length"] = str(size)
        elif hasattr(data, "__aiter__"):
            content = b"".join([c async for c in data])  # type: ignore[union-attr]
        else:
            content = b"".join(data)  # type: ignore[arg-type]
        d = await self._sb._t.request("PUT", self._base + "/content", params={"path": path}, content=content,
                                      headers=headers)
        return WriteInfo(path=d.get("path", path), size=d.get("size", 0))

    async def upload(self, files: Union[str, "os.PathLike[str]", List[Union[str, "os.PathLike[str]"]]],
                     dest: str = ".") -> List[str]:
        """Uploads local files (multipart) into the directory ``dest``; returns the paths written."""
        paths = [files] if isinstance(files, (str, os.PathLike)) else builtins.list(files)
        handles = [open(p, "rb") for p in paths]
        try:
            parts = [("files", (os.path.basename(os.fspath(p)), h, "application/octet-stream"))
                     for p, h in zip(paths, handles)]
            d = await self._sb._t.request("POST", self._base + "/upload", params={"path": dest}, files=parts)
        finally:
            for h in handles:
                h.close()
        return builtins.list(d.get("paths", []))

    async def download(self, path: str, local_path: Union[str, "os.PathLike[str]"]) -> int:
        """Streams a sandbox file to a local path; returns the number of bytes."""
        n = 0
        tmp = os.fspath(local_path) + ".part"
        try:
            with open(tmp, "wb") as f:
                async for chunk in self.read_stream(path):
                    f.write(chunk)
                    n += len(chunk)
            os.replace(tmp, local_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return n

    async def remove(self, path: str) -> None:
        """Removes a file or a directory (recursively)."""
        await self._sb._t.request("DELETE", self._base, params={"path": path})

    async def rename(self, old_path: str, new_path: str) -> EntryInfo:
        await self._sb._t.request("POST", self._base + "/rename", json={"from": old_path, "to": new_path})
        return await self.stat(new_path)

    async def make_dir(self, path: str) -> bool:
        """Creates a directory and its parents; False when it already existed."""
        d = await self._sb._t.request("POST", self._base + "/mkdir", json={"path": path})
        return bool((d or {}).get("created", True))

    async def watch(self, path: str, on_event: Optional[Callable[[FilesystemEvent], Any]] = None, *,
                    recursive: bool = False, timeout: float = 30.0) -> AsyncWatchHandle:
        """Watches ``path``; returns once the watch is active. Stop it with ``handle.stop()``."""
        h = AsyncWatchHandle(self, path, on_event)
        stream = await self._sb._stream()
        h.watch_id = await stream.request({"type": "watch", "path": path, "recursive": recursive}, h._handle)
        try:
            await asyncio.wait_for(asyncio.shield(h._active), timeout)
        except asyncio.TimeoutError:
            stream.unregister(h.watch_id)
            raise errors.TimeoutError(f"watch {path}: not active after {timeout}s") from None
        except BaseException:
            stream.unregister(h.watch_id)
            raise
        return h

    watch_dir = watch
