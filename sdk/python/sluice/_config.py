"""Where the gateway is and which key to use: arguments first, then SLUICE_URL / SLUICE_API_KEY."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

DEFAULT_URL = "http://127.0.0.1:7700"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ConnectionConfig:
    """How to reach the gateway. ``request_timeout`` bounds each HTTP request (seconds)."""

    url: str
    api_key: Optional[str]
    namespace: Optional[str] = None
    request_timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def resolve(cls, url: Optional[str] = None, api_key: Optional[str] = None, namespace: Optional[str] = None,
                request_timeout: Optional[float] = None) -> "ConnectionConfig":
        url = url or os.environ.get("SLUICE_URL") or DEFAULT_URL
        if "://" not in url:
            url = "http://" + url
        key = api_key if api_key is not None else os.environ.get("SLUICE_API_KEY")
        return cls(url=url.rstrip("/"), api_key=key or None, namespace=namespace,
                   request_timeout=float(request_timeout) if request_timeout else DEFAULT_TIMEOUT)

    @property
    def ws_url(self) -> str:
        if self.url.startswith("https://"):
            return "wss://" + self.url[len("https://"):]
        return "ws://" + self.url[len("http://"):] if self.url.startswith("http://") else self.url
