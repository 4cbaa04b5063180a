"""One exception hierarchy for everything the gateway or the connection can say.

Every HTTP error envelope ``{"error": {"code", "message"}}`` becomes a :class:`SluiceError` subclass
chosen by status; the stream websocket's ``error`` events of failed requests become the class of their
``code``. Timeouts and lost connections have their own types.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "SluiceError", "APIError", "BadRequestError", "AuthenticationError", "PermissionDeniedError",
    "NotFoundError", "ConflictError", "PayloadTooLargeError", "UnprocessableError", "RateLimitError",
    "ServerError", "TimeoutError", "ConnectionLostError", "SandboxError", "CommandExitError",
]


class SluiceError(Exception):
    """Base of every error raised by this package.

    ``code`` is the gateway's machine-readable code (snake_case), ``message`` its human text and
    ``status`` the HTTP status (``None`` when the error did not come from an HTTP reply).
    """

    def __init__(self, message: str, *, code: Optional[str] = None, status: Optional[int] = None,
                 body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.body = body
        self.response: Any = None

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(str(self.status))
        if self.code:
            parts.append(self.code)
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class APIError(SluiceError):
    """The gateway answered with an error envelope."""


class BadRequestError(APIError):
    """400: the request was invalid (validation, unknown field, bad path...)."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown, revoked or expired."""


class PermissionDeniedError(APIError):
    """403: the key does not allow this namespace, or the path is forbidden."""


class NotFoundError(APIError):
    """404: no such sandbox, file, process or route."""


class ConflictError(APIError):
    """409: name taken, sandbox not running, workspace in use."""


class PayloadTooLargeError(APIError):
    """413: body or upload over the gateway's limit."""


class UnprocessableError(APIError):
    """422: semantically wrong (for example a bad limit string)."""


class RateLimitError(APIError):
    """429: over capacity or rate."""


class ServerError(APIError):
    """5xx: the gateway or the sandbox's runner failed, or the gateway is shutting down."""


class TimeoutError(SluiceError):  # noqa: A001 - deliberately shadows the builtin inside sluice
    """A request, execution or wait did not finish in time (client side or 504 from the gateway)."""


class ConnectionLostError(SluiceError):
    """The connection to the gateway (HTTP or the stream websocket) broke or could not be made."""


class SandboxError(SluiceError):
    """A sandbox-level failure reported on the stream (for example a request the runner refused)."""


class CommandExitError(SluiceError):
    """A command exited with a non-zero code where success was required (``check=True``)."""

    def __init__(self, message: str, *, exit_code: int, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message, code="command_failed")
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


_BY_STATUS: Dict[int, Type[APIError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    409: ConflictError, 413: PayloadTooLargeError, 415: BadRequestError, 422: UnprocessableError,
    429: RateLimitError,
}

_BY_CODE: Dict[str, Type[SluiceError]] = {
    "bad_request": BadRequestError, "invalid_request": BadRequestError, "unauthorized": AuthenticationError,
    "forbidden": PermissionDeniedError, "not_found": NotFoundError, "conflict": ConflictError,
    "payload_too_large": PayloadTooLargeError, "too_many": RateLimitError, "timeout": TimeoutError,
}


def error_from_status(status: int, code: Optional[str], message: str, body: Any = None) -> SluiceError:
    """The exception for an HTTP error reply."""
    if status == 504:
        return TimeoutError(message, code=code or "timeout", status=status, body=body)
    cls: Type[SluiceError] = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(message, code=code, status=status, body=body)


def error_from_code(code: Optional[str], message: str) -> SluiceError:
    """The exception for a stream ``error`` event of a failed request ({name: code, value: message})."""
    cls = _BY_CODE.get(code or "")
    if cls is None:
        cls = BadRequestError if (code or "").startswith(("invalid", "bad_")) else SandboxError
    return cls(message, code=code)
