"""The stream websocket (``GET /api/v1/sandboxes/{sb}/stream``, subprotocol ``sluice.stream.v1``).

One :class:`StreamConnection` per sandbox object carries every live request (code with callbacks, exec
with callbacks, processes, terminals, watches); events are routed by their request ``id`` to the
handler registered for it. Handlers run on the event loop in arrival order; a slow handler slows the
reading, so the gateway back-pressures instead of anything buffering without bound. When the socket
breaks every registered handler receives ``{"type": "_lost", "message": ...}``.

Ownership: the connection owns its websocket and reader task; handlers are borrowed until unregistered.
"""
from __future__ import annotations

import asyncio
import inspect
import itertools
import json
from typing import Any, Awaitable, Callable, Dict, Optional, Union

import websockets
import websockets.exceptions

from . import errors
from ._config import ConnectionConfig

SUBPROTOCOL = "sluice.stream.v1"
MAX_FRAME = 16 << 20

Handler = Callable[[Dict[str, Any]], Union[None, Awaitable[None]]]
_WS_MAJOR = int(str(getattr(websockets, "__version__", "10")).split(".")[0])


async def call_maybe_async(fn: Optional[Callable[..., Any]], *args: Any) -> None:
    """Calls a user callback that may be a plain function or a coroutine function."""
    if fn is None:
        return
    res = fn(*args)
    if inspect.isawaitable(res):
        await res


def _handshake_error(e: Exception) -> errors.SluiceError:
    status = getattr(e, "status_code", None)
    if status is None:
        resp = getattr(e, "response", None)
        status = getattr(resp, "status_code", None)
    if status:
        return errors.error_from_status(int(status), None, f"stream websocket refused: HTTP {status}")
    return errors.ConnectionLostError(f"stream websocket: {e}")


class StreamConnection:
    """A multiplexed stream websocket to one sandbox."""

    def __init__(self, config: ConnectionConfig, sandbox_id: str) -> None:
        self.config = config
        self.sandbox_id = sandbox_id
        self._ws: Any = None
        self._reader: Optional[asyncio.Task] = None
        self._handlers: Dict[str, Handler] = {}
        self._ids = itertools.count(1)
        self._lost: Optional[str] = None
        self._send_lock = asyncio.Lock()

    @property
    def open(self) -> bool:
        return self._ws is not None and self._lost is None

    async def connect(self, timeout: float = 30.0) -> None:
        url = f"{self.config.ws_url}/api/v1/sandboxes/{self.sandbox_id}/stream"
        if self.config.namespace:
            url += f"?namespace={self.config.namespace}"
        headers = {"X-API-Key": self.config.api_key} if self.config.api_key else {}
        kw: Dict[str, Any] = {"subprotocols": [SUBPROTOCOL], "max_size": MAX_FRAME, "open_timeout": timeout,
                              "ping_interval": 20, "ping_timeout": 60, "close_timeout": 5}
        kw["additional_headers" if _WS_MAJOR >= 14 else "extra_headers"] = headers
        try:
            self._ws = await websockets.connect(url, **kw)  # type: ignore[attr-defined]
        except asyncio.TimeoutError as e:
            raise errors.TimeoutError(f"stream websocket: no handshake within {timeout}s") from e
        except OSError as e:
            raise errors.ConnectionLostError(f"stream websocket: {e}") from e
        except Exception as e:  # websockets' handshake exceptions differ between versions
            if e.__class__.__module__.startswith("websockets"):
                raise _handshake_error(e) from e
            raise
        self._lost = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    def new_id(self, prefix: str = "r") -> str:
        return f"{prefix}{next(self._ids)}"

    def register(self, rid: str, handler: Handler) -> None:
        self._handlers[rid] = handler

    def unregister(self, rid: str) -> None:
        self._handlers.pop(rid, None)

    async def send(self, frame: Dict[str, Any]) -> None:
        if not self.open:
            raise errors.ConnectionLostError(f"stream websocket closed: {self._lost or 'not connected'}")
        try:
            async with self._send_lock:
                await self._ws.send(json.dumps(frame, separators=(",", ":")))
        except websockets.exceptions.ConnectionClosed as e:
            raise errors.ConnectionLostError(f"stream websocket closed: {e}") from e

    async def request(self, frame: Dict[str, Any], handler: Handler) -> str:
        """Registers handler for a new id, sends the frame with that id, returns the id."""
        rid = self.new_id(frame.get("type", "r")[:1])
        self.register(rid, handler)
        try:
            await self.send(dict(frame, id=rid))
        except BaseException:
            self.unregister(rid)
            raise
        return rid

    async def _read(self) -> None:
        reason = "closed"
        try:
            async for msg in self._ws:
                if isinstance(msg, bytes):
                    continue
                try:
                    ev = json.loads(msg)
                except ValueError:
                    continue
                h = self._handlers.get(str(ev.get("id")))
                if h is not None:
                    try:
                        await call_maybe_async(h, ev)
                    except Exception:  # a failing user callback must not kill the socket
                        import traceback
                        traceback.print_exc()
        except websockets.exceptions.ConnectionClosed as e:
            reason = f"closed ({e.code})"
        except asyncio.CancelledError:
            reason = "closed by the client"
        except Exception as e:  # pragma: no cover - defensive
            reason = f"{e.__class__.__name__}: {e}"
        self._lost = reason
        for h in list(self._handlers.values()):
            try:
                await call_maybe_async(h, {"type": "_lost", "message": f"stream websocket {reason}"})
            except Exception:
                pass
        self._handlers.clear()

    async def aclose(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 5)
            except Exception:
                pass
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (Exception, asyncio.CancelledError):
                self._reader.cancel()
            self._reader = None
        self._lost = self._lost or "closed by the client"
