"""The REST side: one httpx.AsyncClient per connection, the envelope unwrapped, errors mapped.

Ownership: an AsyncTransport owns its httpx.AsyncClient and closes it in :meth:`aclose`.
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Optional

import httpx

from . import errors
from ._config import ConnectionConfig

USER_AGENT = "sluice-python/0.1.0"


class _Default:
    """Marks "no per-request timeout given" (None means: no timeout at all)."""


DEFAULT = _Default()


def _timeout_kw(timeout: Any) -> Dict[str, Any]:
    if isinstance(timeout, _Default):
        return {}
    if timeout is None:
        return {"timeout": httpx.Timeout(None, connect=10.0)}
    return {"timeout": httpx.Timeout(timeout, connect=10.0)}


def raise_for_response(r: httpx.Response) -> None:
    """Raises the mapped SluiceError for an error reply (the body must have been read)."""
    if r.status_code < 400:
        return
    code, message, body = None, r.reason_phrase or f"HTTP {r.status_code}", None
    try:
        body = r.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message") or message
        elif isinstance(body, dict) and "message" in body:  # Jupyter-style {"reason", "message"}
            code, message = body.get("reason"), body["message"]
    except ValueError:
        if r.text:
            message = r.text[:500]
    err = errors.error_from_status(r.status_code, code, message, body)
    err.response = r  # the httpx.Response, for compat layers that promise httpx errors
    raise err


class AsyncTransport:
    """Sends REST requests to the gateway and returns the unwrapped ``data``."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self._http = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        headers = {"User-Agent": USER_AGENT}
        if self.config.api_key:
            headers["X-API-Key"] = self.config.api_key
        return httpx.AsyncClient(base_url=self.config.url, headers=headers,
                                 timeout=httpx.Timeout(self.config.request_timeout, connect=10.0))

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client; a closed transport reopens on its next request."""
        if self._http.is_closed:
            self._http = self._new_client()
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    def _params(self, params: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        out = {k: v for k, v in (params or {}).items() if v is not None}
        return out

    async def send(self, method: str, path: str, *, json: Any = None, params: Optional[Dict[str, Any]] = None,
                   content: Any = None, files: Any = None, headers: Optional[Dict[str, str]] = None,
                   timeout: Any = DEFAULT) -> httpx.Response:
        """Sends a request; ``timeout`` in seconds, None for none, default the connection's."""
        kw = _timeout_kw(timeout)
        try:
            r = await self.http.request(method, path, json=json, params=self._params(params), content=content,
                                        files=files, headers=headers, **kw)
        except httpx.TimeoutException as e:
            raise errors.TimeoutError(f"{method} {path}: timed out ({e.__class__.__name__})") from e
        except httpx.TransportError as e:
            raise errors.ConnectionLostError(f"{method} {path}: {e.__class__.__name__}: {e}") from e
        raise_for_response(r)
        return r

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        """The ``data`` of the reply's envelope."""
        r = await self.send(method, path, **kw)
        if not r.content:
            return None
        try:
            body = r.json()
        except ValueError as e:
            raise errors.APIError(f"{method} {path}: the gateway's reply is not JSON", status=r.status_code) from e
        return body.get("data", body) if isinstance(body, dict) else body

    async def stream_bytes(self, method: str, path: str, *, params: Optional[Dict[str, Any]] = None,
                           chunk_size: int = 65536, timeout: Any = DEFAULT) -> AsyncIterator[bytes]:
        """The body of a reply as it arrives (the response is closed when the iterator is)."""
        kw = _timeout_kw(timeout)
        try:
            async with self.http.stream(method, path, params=self._params(params), **kw) as r:
                if r.status_code >= 400:
                    await r.aread()
                    raise_for_response(r)
                async for chunk in r.aiter_bytes(chunk_size):
                    yield chunk
        except httpx.TimeoutException as e:
            raise errors.TimeoutError(f"{method} {path}: timed out") from e
        except httpx.TransportError as e:
            raise errors.ConnectionLostError(f"{method} {path}: {e}") from e

    async def stream_lines(self, method: str, path: str, *, json: Any = None, params: Optional[Dict[str, Any]] = None,
                           accept: str, timeout: Any = DEFAULT) -> AsyncIterator[str]:
        """Lines of a streamed reply (NDJSON or server-sent events)."""
        kw = _timeout_kw(timeout)
        try:
            async with self.http.stream(method, path, json=json, params=self._params(params),
                                        headers={"Accept": accept}, **kw) as r:
                if r.status_code >= 400:
                    await r.aread()
                    raise_for_response(r)
                async for line in r.aiter_lines():
                    yield line.rstrip("\r\n")
        except httpx.TimeoutException as e:
            raise errors.TimeoutError(f"{method} {path}: timed out") from e
        except httpx.TransportError as e:
            raise errors.ConnectionLostError(f"{method} {path}: {e}") from e
