"""Katakate (k7) SDK on Sluice: ``from sluice.compat.katakate import Client, AsyncClient``.

Same classes, methods, arguments and return shapes as ``katakate``: dicts unwrapped from ``{"data": ...}``,
sandboxes addressed by name within a namespace, Kubernetes-style status (``"Running"``), errors as
:class:`sluice.SluiceError` subclasses (``code``, ``message``, ``status``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .. import _loop
from .._async_sandbox import API
from .._config import ConnectionConfig
from .._http import AsyncTransport
from ..errors import SluiceError
from ._images import resolve_image

__all__ = ["Client", "AsyncClient", "SandboxProxy", "AsyncSandboxProxy", "K7Error"]

K7Error = SluiceError
_STATUS = {"running": "Running", "starting": "Pending", "error": "Failed", "stopped": "Terminated"}
_FIELDS = ("name", "namespace", "status", "ready", "restarts", "age", "image", "error_message")


def _k7_info(d: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: d.get(k) for k in _FIELDS}
    out["status"] = _STATUS.get(d.get("status", ""), d.get("status"))
    out["error_message"] = d.get("error_message") or ""
    out["id"] = d.get("id")
    return out


class AsyncSandboxProxy(dict):
    """The created sandbox: its dict ({name, namespace, image}) plus ``exec`` and ``delete``."""

    def __init__(self, client: "AsyncClient", data: Dict[str, Any]) -> None:
        super().__init__(data)
        self._client = client

    async def exec(self, command: str) -> Dict[str, Any]:
        return await self._client.exec(self["name"], command, namespace=self["namespace"])

    async def delete(self) -> Dict[str, Any]:
        return await self._client.delete(self["name"], namespace=self["namespace"])


class AsyncClient:
    """``katakate.AsyncClient``: ``await k7.create(cfg)``, ``list``, ``get``, ``exec``, ``delete``, ``delete_all``."""

    def __init__(self, endpoint: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 120.0) -> None:
        self._t = AsyncTransport(ConnectionConfig.resolve(endpoint, api_key, request_timeout=timeout))

    async def create(self, config: Dict[str, Any]) -> AsyncSandboxProxy:
        body = dict(config)
        image = await resolve_image(self._t, body.get("image"))
        if image is None:
            body.pop("image", None)
        else:
            body["image"] = image
        d = await self._t.request("POST", API, json=body)
        return AsyncSandboxProxy(self, {"name": d["name"], "namespace": d["namespace"],
                                        "image": config.get("image", d["image"])})

    async def list(self, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        return [_k7_info(d) for d in await self._t.request("GET", API, params={"namespace": namespace}) or []]

    async def get(self, name: str, namespace: str = "default") -> Dict[str, Any]:
        return _k7_info(await self._t.request("GET", f"{API}/{name}", params={"namespace": namespace}))

    async def exec(self, name: str, command: str, namespace: str = "default") -> Dict[str, Any]:
        d = await self._t.request("POST", f"{API}/{name}/exec", params={"namespace": namespace},
                                  json={"command": command}, timeout=90)
        return {"exit_code": d["exit_code"], "stdout": d["stdout"], "stderr": d["stderr"]}

    async def delete(self, name: str, namespace: str = "default") -> Dict[str, Any]:
        return await self._t.request("DELETE", f"{API}/{name}", params={"namespace": namespace})

    async def delete_all(self, namespace: str = "default") -> Dict[str, Any]:
        return await self._t.request("DELETE", API, params={"namespace": namespace})

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class SandboxProxy(dict):
    """The created sandbox (sync): its dict plus ``exec`` and ``delete``."""

    def __init__(self, client: "Client", data: Dict[str, Any]) -> None:
        super().__init__(data)
        self._client = client

    def exec(self, command: str) -> Dict[str, Any]:
        return self._client.exec(self["name"], command, namespace=self["namespace"])

    def delete(self) -> Dict[str, Any]:
        return self._client.delete(self["name"], namespace=self["namespace"])


class Client:
    """``katakate.Client`` (blocking)."""

    def __init__(self, endpoint: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 120.0) -> None:
        self._a = _loop.run(_loop.call(_make_async, endpoint, api_key, timeout))

    def create(self, config: Dict[str, Any]) -> SandboxProxy:
        return SandboxProxy(self, dict(_loop.run(self._a.create(config))))

    def list(self, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        return _loop.run(self._a.list(namespace))

    def get(self, name: str, namespace: str = "default") -> Dict[str, Any]:
        return _loop.run(self._a.get(name, namespace))

    def exec(self, name: str, command: str, namespace: str = "default") -> Dict[str, Any]:
        return _loop.run(self._a.exec(name, command, namespace))

    def delete(self, name: str, namespace: str = "default") -> Dict[str, Any]:
        return _loop.run(self._a.delete(name, namespace))

    def delete_all(self, namespace: str = "default") -> Dict[str, Any]:
        return _loop.run(self._a.delete_all(namespace))

    def close(self) -> None:
        _loop.run(self._a.aclose())

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


async def _make_async(endpoint: Optional[str], api_key: Optional[str], timeout: float) -> AsyncClient:
    return AsyncClient(endpoint, api_key, timeout)
