"""Sluice: a client for the self-hosted Sluice code-execution gateway.

    from sluice import Sandbox
    with Sandbox.create() as sb:
        print(sb.run_code("6 * 7").text)          # 42
        print(sb.exec("echo hi").stdout)          # hi

``AsyncSandbox`` is the asyncio twin. The gateway is ``SLUICE_URL`` (default http://127.0.0.1:7700) and
the key ``SLUICE_API_KEY`` unless given as ``url=`` / ``api_key=``.
"""
from ._async_fs import AsyncFiles, AsyncWatchHandle
from ._async_proc import AsyncProcess, AsyncProcessHandle, AsyncTerminal, AsyncTerminalHandle
from ._async_sandbox import AsyncNotebook, AsyncSandbox, run_once as async_run, run_once_stream as async_run_stream
from ._sync import (Files, Notebook, Process, ProcessHandle, Sandbox, Terminal, TerminalHandle, WatchHandle,
                    run_command as run, run_command_stream as run_stream)
from .errors import (APIError, AuthenticationError, BadRequestError, CommandExitError, ConflictError,
                     ConnectionLostError, NotFoundError, PayloadTooLargeError, PermissionDeniedError,
                     RateLimitError, SandboxError, ServerError, SluiceError, TimeoutError, UnprocessableError)
from .models import (CommandResult, Context, EntryInfo, Execution, ExecutionError, FilesystemEvent, Logs,
                     OutputMessage, ProcessInfo, ProcessResult, Result, SandboxInfo, Stats, WriteInfo)

__version__ = "0.1.0"

__all__ = [
    "Sandbox", "AsyncSandbox", "Files", "AsyncFiles", "Process", "AsyncProcess", "ProcessHandle",
    "AsyncProcessHandle", "Terminal", "AsyncTerminal", "TerminalHandle", "AsyncTerminalHandle", "Notebook",
    "AsyncNotebook", "WatchHandle", "AsyncWatchHandle", "run", "run_stream", "async_run", "async_run_stream",
    "SluiceError", "APIError", "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "PayloadTooLargeError", "UnprocessableError", "RateLimitError", "ServerError", "TimeoutError",
    "ConnectionLostError", "SandboxError", "CommandExitError", "Execution", "Result", "Logs", "ExecutionError",
    "OutputMessage", "CommandResult", "EntryInfo", "WriteInfo", "ProcessInfo", "ProcessResult", "FilesystemEvent",
    "Stats", "Context", "SandboxInfo", "__version__",
]
