"""The synchronous twins of the async API: each sync object wraps its async one and runs its coroutines
on the SDK's loop thread (``_loop``). Same methods, same arguments, same return types."""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from . import _loop
from ._async_fs import AsyncFiles, AsyncWatchHandle, WriteData
from ._async_proc import AsyncProcess, AsyncProcessHandle, AsyncTerminal, AsyncTerminalHandle, OutputCallback
from ._async_sandbox import AsyncNotebook, AsyncSandbox, run_once, run_once_stream
from .models import (CommandResult, Context, EntryInfo, Execution, ExecutionError, FilesystemEvent, ProcessInfo,
                     ProcessResult, Result, SandboxInfo, Stats, WriteInfo)

run = _loop.run


class WatchHandle:
    """A live directory watch (see :meth:`Files.watch`)."""

    def __init__(self, a: AsyncWatchHandle) -> None:
        self._a = a

    @property
    def path(self) -> str:
        return self._a.path

    def get_new_events(self) -> List[FilesystemEvent]:
        return run(_loop.call(_async_value, self._a.get_new_events))

    def stop(self) -> None:
        run(self._a.stop())

    def __enter__(self) -> "WatchHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


async def _async_value(fn: Callable[[], Any]) -> Any:
    return fn()


class Files:
    """The filesystem of one sandbox (sync). See :class:`sluice.AsyncSandbox` ``.files``."""

    def __init__(self, a: AsyncFiles) -> None:
        self._a = a

    def list(self, path: str = ".", depth: int = 1) -> List[EntryInfo]:
        return run(self._a.list(path, depth))

    def stat(self, path: str) -> EntryInfo:
        return run(self._a.stat(path))

    get_info = stat

    def exists(self, path: str) -> bool:
        return run(self._a.exists(path))

    def read(self, path: str, format: str = "text", *, max_bytes: Optional[int] = None,
             encoding: str = "utf-8") -> Any:
        """``format="text"`` (str), ``"bytes"`` or ``"stream"`` (an iterator of bytes chunks)."""
        if format == "stream":
            return self.read_stream(path)
        return run(self._a.read(path, format, max_bytes=max_bytes, encoding=encoding))

    def read_bytes(self, path: str, *, max_bytes: Optional[int] = None) -> bytes:
        return run(self._a.read_bytes(path, max_bytes=max_bytes))

    def read_text(self, path: str, *, max_bytes: Optional[int] = None, encoding: str = "utf-8") -> str:
        return run(self._a.read_text(path, max_bytes=max_bytes, encoding=encoding))

    def read_with_info(self, path: str, *, max_bytes: Optional[int] = None) -> Tuple[bytes, bool]:
        return run(self._a.read_with_info(path, max_bytes=max_bytes))

    def read_stream(self, path: str, chunk_size: int = 256 << 10) -> Iterator[bytes]:
        return _loop.iterate(self._a.read_stream(path, chunk_size))

    def write(self, path: str, data: WriteData) -> WriteInfo:
        if not isinstance(data, (str, bytes, bytearray)) and not hasattr(data, "read") \
                and not hasattr(data, "__aiter__"):
            data = b"".join(data)  # type: ignore[arg-type]  # a sync iterator cannot cross threads lazily
        return run(self._a.write(path, data))

    def upload(self, files: Union[str, "os.PathLike[str]", List[Union[str, "os.PathLike[str]"]]],
               dest: str = ".") -> List[str]:
        return run(self._a.upload(files, dest))

    def download(self, path: str, local_path: Union[str, "os.PathLike[str]"]) -> int:
        return run(self._a.download(path, local_path))

    def remove(self, path: str) -> None:
        run(self._a.remove(path))

    def rename(self, old_path: str, new_path: str) -> EntryInfo:
        return run(self._a.rename(old_path, new_path))

    def make_dir(self, path: str) -> bool:
        return run(self._a.make_dir(path))

    def watch(self, path: str, on_event: Optional[Callable[[FilesystemEvent], Any]] = None, *,
              recursive: bool = False, timeout: float = 30.0) -> WatchHandle:
        """Watches ``path``; ``on_event`` is called (on the SDK's thread) for each change."""
        return WatchHandle(run(self._a.watch(path, on_event, recursive=recursive, timeout=timeout)))

    watch_dir = watch


class ProcessHandle:
    """A background process (sync)."""

    def __init__(self, a: AsyncProcessHandle) -> None:
        self._a = a

    @property
    def pid(self) -> int:
        return self._a.pid

    @property
    def cmd(self) -> str:
        return self._a.cmd

    @property
    def stdout(self) -> str:
        return self._a.stdout

    @property
    def stderr(self) -> str:
        return self._a.stderr

    @property
    def exit_code(self) -> Optional[int]:
        return self._a.exit_code

    @property
    def running(self) -> bool:
        return self._a.running

    def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        return run(self._a.wait(timeout))

    def send_stdin(self, data: Union[str, bytes] = "", eof: bool = False) -> None:
        run(self._a.send_stdin(data, eof))

    def signal(self, sig: Union[str, int]) -> None:
        run(self._a.signal(sig))

    def kill(self) -> bool:
        return run(self._a.kill())

    def __enter__(self) -> "ProcessHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()


class TerminalHandle(ProcessHandle):
    """A terminal session (sync)."""

    _a: AsyncTerminalHandle

    def send_data(self, data: Union[str, bytes]) -> None:
        run(self._a.send_data(data))

    def resize(self, rows: Union[int, Tuple[int, int]], cols: Optional[int] = None) -> None:
        run(self._a.resize(rows, cols))

    @property
    def output(self) -> bytes:
        return self._a.output


class Process:
    """Processes of one sandbox (sync)."""

    def __init__(self, a: AsyncProcess) -> None:
        self._a = a

    def start(self, cmd: str, *, on_stdout: Optional[OutputCallback] = None,
              on_stderr: Optional[OutputCallback] = None, on_exit: Optional[Callable[[ProcessResult], Any]] = None,
              cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None, timeout: float = 30.0) -> ProcessHandle:
        return ProcessHandle(run(self._a.start(cmd, on_stdout=on_stdout, on_stderr=on_stderr, on_exit=on_exit,
                                               cwd=cwd, envs=envs, timeout=timeout)))

    def run(self, cmd: str, *, on_stdout: Optional[OutputCallback] = None,
            on_stderr: Optional[OutputCallback] = None, cwd: Optional[str] = None,
            envs: Optional[Dict[str, str]] = None, timeout: Optional[float] = 60.0) -> ProcessResult:
        return run(self._a.run(cmd, on_stdout=on_stdout, on_stderr=on_stderr, cwd=cwd, envs=envs, timeout=timeout))

    def list(self) -> List[ProcessInfo]:
        return run(self._a.list())

    def kill(self, pid: int) -> bool:
        return run(self._a.kill(pid))

    def send_stdin(self, pid: int, data: Union[str, bytes], eof: bool = False) -> None:
        run(self._a.send_stdin(pid, data, eof))


class Terminal:
    """Interactive terminals (sync)."""

    def __init__(self, a: AsyncTerminal) -> None:
        self._a = a

    def start(self, on_data: Optional[Callable[[bytes], Any]] = None, size: Tuple[int, int] = (24, 80), *,
              cmd: Optional[str] = None, cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
              on_exit: Optional[Callable[[ProcessResult], Any]] = None, timeout: float = 30.0) -> TerminalHandle:
        return TerminalHandle(run(self._a.start(on_data, size, cmd=cmd, cwd=cwd, envs=envs, on_exit=on_exit,
                                                timeout=timeout)))

    def send_data(self, pid: int, data: Union[str, bytes]) -> None:
        run(self._a.send_data(pid, data))

    def resize(self, pid: int, size: Tuple[int, int]) -> None:
        run(self._a.resize(pid, size))

    def kill(self, pid: int) -> bool:
        return run(self._a.kill(pid))


class Notebook:
    """Notebook-style execution, packages and reset (sync)."""

    def __init__(self, a: AsyncNotebook) -> None:
        self._a = a

    def execute(self, code: str, **kw: Any) -> Execution:
        return run(self._a.execute(code, **kw))

    def install_package(self, name: str, version: Optional[str] = None, language: Optional[str] = None,
                        timeout: Optional[float] = 300.0) -> Dict[str, Any]:
        return run(self._a.install_package(name, version, language, timeout))

    def get_installed_packages(self, language: Optional[str] = None) -> List[Dict[str, Any]]:
        return run(self._a.get_installed_packages(language))

    def reset(self) -> None:
        run(self._a.reset())


class Sandbox:
    """A sandbox on a Sluice gateway (blocking API). Create with ``Sandbox.create(...)``.

    ``with Sandbox.create() as sb:`` kills the sandbox when the block exits.
    """

    def __init__(self, a: AsyncSandbox) -> None:
        self._a = a
        self.files = Files(a.files)
        self.process = Process(a.process)
        self.terminal = Terminal(a.terminal)
        self.notebook = Notebook(a.notebook)

    @property
    def filesystem(self) -> Files:
        return self.files

    @property
    def commands(self) -> Process:
        return self.process

    @property
    def info(self) -> SandboxInfo:
        return self._a.info

    @property
    def sandbox_id(self) -> str:
        return self._a.sandbox_id

    id = sandbox_id

    @property
    def name(self) -> str:
        return self._a.name

    @classmethod
    def create(cls, image: Optional[str] = None, *, envs: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
               timeout: Optional[int] = None, metadata: Optional[Dict[str, str]] = None,
               limits: Optional[Dict[str, Any]] = None, name: Optional[str] = None, namespace: Optional[str] = None,
               ttl: Optional[int] = None, workspace_id: Optional[str] = None, url: Optional[str] = None,
               api_key: Optional[str] = None, request_timeout: Optional[float] = None, **extra: Any) -> "Sandbox":
        """Creates a sandbox; see :meth:`AsyncSandbox.create` for the arguments."""
        return cls(run(AsyncSandbox.create(image, envs=envs, cwd=cwd, timeout=timeout, metadata=metadata, limits=limits,
                                           name=name, namespace=namespace, ttl=ttl, workspace_id=workspace_id, url=url,
                                           api_key=api_key, request_timeout=request_timeout, **extra)))

    @classmethod
    def connect(cls, sandbox_id: str, *, url: Optional[str] = None, api_key: Optional[str] = None,
                namespace: Optional[str] = None, request_timeout: Optional[float] = None) -> "Sandbox":
        return cls(run(AsyncSandbox.connect(sandbox_id, url=url, api_key=api_key, namespace=namespace,
                                            request_timeout=request_timeout)))

    @staticmethod
    def list(namespace: Optional[str] = None, *, url: Optional[str] = None, api_key: Optional[str] = None,
             request_timeout: Optional[float] = None) -> List[SandboxInfo]:
        return run(AsyncSandbox.list(namespace, url=url, api_key=api_key, request_timeout=request_timeout))

    def get_info(self) -> SandboxInfo:
        return run(self._a.get_info())

    def is_running(self) -> bool:
        return run(self._a.is_running())

    def set_timeout(self, timeout: int) -> None:
        run(self._a.set_timeout(timeout))

    def stats(self) -> Stats:
        return run(self._a.stats())

    def kill(self) -> bool:
        return run(self._a.kill())

    def close(self) -> None:
        run(self._a.close())

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()

    def run_code(self, code: str, language: Optional[str] = None, context: Any = None, *,
                 on_stdout: Optional[OutputCallback] = None, on_stderr: Optional[OutputCallback] = None,
                 on_result: Optional[Callable[[Result], Any]] = None,
                 on_error: Optional[Callable[[ExecutionError], Any]] = None, timeout: Optional[float] = None,
                 envs: Optional[Dict[str, str]] = None, request_timeout: Optional[float] = None) -> Execution:
        """Runs a cell; see :meth:`AsyncSandbox.run_code`. Callbacks run on the SDK's thread, live."""
        return run(self._a.run_code(code, language, context, on_stdout=on_stdout, on_stderr=on_stderr,
                                    on_result=on_result, on_error=on_error, timeout=timeout, envs=envs,
                                    request_timeout=request_timeout))

    def run_code_stream(self, code: str, language: Optional[str] = None, context: Any = None,
                        timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        return _loop.iterate(self._a.run_code_stream(code, language, context, timeout))

    def create_code_context(self, language: str = "python", cwd: Optional[str] = None) -> Context:
        return run(self._a.create_code_context(language, cwd))

    def list_code_contexts(self) -> List[Context]:
        return run(self._a.list_code_contexts())

    def remove_code_context(self, context: Any) -> None:
        run(self._a.remove_code_context(context))

    def restart_code_context(self, context: Any = "default") -> None:
        run(self._a.restart_code_context(context))

    def interrupt(self, context: Any = "default") -> None:
        run(self._a.interrupt(context))

    def install_package(self, name: str, version: Optional[str] = None, language: Optional[str] = None) -> Dict[str, Any]:
        return run(self._a.install_package(name, version, language))

    def exec(self, command: Any, *, cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
             timeout: Optional[float] = None, stdin: Optional[str] = None, on_stdout: Optional[OutputCallback] = None,
             on_stderr: Optional[OutputCallback] = None, check: bool = False) -> CommandResult:
        """Runs a command in the stateful shell; see :meth:`AsyncSandbox.exec`."""
        return run(self._a.exec(command, cwd=cwd, envs=envs, timeout=timeout, stdin=stdin, on_stdout=on_stdout,
                                on_stderr=on_stderr, check=check))

    def __repr__(self) -> str:
        return f"Sandbox(id={self.sandbox_id!r}, name={self.name!r}, image={self.info.image!r})"


def run_command(command: Any, *, image: Optional[str] = None, limits: Optional[Dict[str, Any]] = None,
                timeout: Optional[float] = None, namespace: Optional[str] = None, url: Optional[str] = None,
                api_key: Optional[str] = None) -> CommandResult:
    """One-shot: ``command`` in a fresh sandbox that is destroyed afterwards."""
    return run(run_once(command, image=image, limits=limits, timeout=timeout, namespace=namespace, url=url,
                        api_key=api_key))


def run_command_stream(command: Any, **kw: Any) -> Iterator[Dict[str, Any]]:
    """One-shot, streamed: dicts {"event": stdout|stderr|done|error, "data": {...}} as they happen."""
    return _loop.iterate(run_once_stream(command, **kw))


