"""K2 Sandbox SDK (E2B-like) on Sluice: ``from sluice.compat.k2 import Sandbox``.

The gateway is ``K2_API_URL`` or ``SLUICE_URL``; the key ``api_key=`` or ``K2_API_KEY`` (else
``SLUICE_API_KEY``). ``Sandbox(...)`` creates a sandbox, ``with Sandbox() as sb:`` deletes it on exit.
``kill`` and ``set_timeout`` work on the class (by id) and on an instance. Output callbacks receive
``{"line": ...}``-style messages, ``on_results`` results with ``mime_type``; ``cwd=`` of ``run_code`` runs
the cell in an interpreter context started in that directory.
"""
from __future__ import annotations

import functools
import os
from typing import IO, Any, Callable, Dict, List, Optional, Tuple, Union

from .. import _loop, errors
from .._async_sandbox import AsyncSandbox
from .._sync import Files, Process, ProcessHandle, Sandbox as _CoreSandbox, Terminal, TerminalHandle
from ..models import OutputMessage, EntryInfo, Execution, FilesystemEvent, ProcessInfo, ProcessResult, Result
from ._images import resolve_image

__all__ = ["Sandbox", "Filesystem", "ProcessManager", "TerminalManager", "NotebookManager", "Execution", "Result",
           "EntryInfo", "FilesystemEvent", "ProcessInfo", "ProcessResult"]


def _url() -> Optional[str]:
    return os.environ.get("K2_API_URL") or os.environ.get("SLUICE_URL")


def _key(api_key: Optional[str]) -> Optional[str]:
    return api_key or os.environ.get("K2_API_KEY") or os.environ.get("SLUICE_API_KEY")


class _Lines:
    """K2's output callbacks get whole lines (``data['line']`` without its newline); chunks are joined."""

    def __init__(self, cb: Optional[Callable[[Any], Any]], error: bool) -> None:
        self.cb, self.error, self.buf = cb, error, ""

    def __call__(self, msg: OutputMessage) -> None:
        self.buf += msg.line
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self.cb(OutputMessage(line=line, error=self.error, timestamp=msg.timestamp))  # type: ignore[misc]

    def flush(self, *_: Any) -> None:
        if self.buf and self.cb:
            line, self.buf = self.buf, ""
            self.cb(OutputMessage(line=line, error=self.error))


def _lines(cb: Optional[Callable[[Any], Any]], error: bool) -> Optional[_Lines]:
    return _Lines(cb, error) if cb else None


class _hybrid:
    """A method callable on the class (``Sandbox.kill(sandbox_id=...)``) and on an instance (``sb.kill()``)."""

    def __init__(self, cls_fn: Callable[..., Any], inst_fn: Callable[..., Any]) -> None:
        self.cls_fn, self.inst_fn = cls_fn, inst_fn

    def __get__(self, obj: Any, owner: Any) -> Callable[..., Any]:
        if obj is None:
            return functools.partial(self.cls_fn, owner)
        return functools.partial(self.inst_fn, obj)


class Filesystem:
    """``sandbox.filesystem``."""

    def __init__(self, files: Files) -> None:
        self._f = files

    def list(self, path: str = ".") -> List[EntryInfo]:
        return self._f.list(path)

    def read(self, path: str, format: str = "text") -> Any:
        return self._f.read(path, format)

    def write(self, path: str, data: Union[str, bytes, IO[Any]]) -> EntryInfo:
        self._f.write(path, data)
        return self._f.stat(path)

    def remove(self, path: str) -> None:
        self._f.remove(path)

    def rename(self, old_path: str, new_path: str) -> EntryInfo:
        return self._f.rename(old_path, new_path)

    def make_dir(self, path: str) -> bool:
        return self._f.make_dir(path)

    def exists(self, path: str) -> bool:
        return self._f.exists(path)

    def watch_dir(self, path: str, on_event: Optional[Callable[[FilesystemEvent], Any]] = None,
                  recursive: bool = False) -> Any:
        return self._f.watch(path, on_event, recursive=recursive)


class K2ProcessHandle:
    """A background process: ``pid``, ``wait()``, ``send_stdin()``, ``kill()``."""

    def __init__(self, h: ProcessHandle) -> None:
        self._h = h

    @property
    def pid(self) -> int:
        return self._h.pid

    def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        return self._h.wait(timeout)

    def send_stdin(self, data: Union[str, bytes]) -> None:
        """Writes to stdin; a no-op once the process has exited (as K2's handle)."""
        if not self._h.running:
            return
        try:
            self._h.send_stdin(data)
        except errors.NotFoundError:
            pass

    def kill(self) -> bool:
        return self._h.kill()

    @property
    def stdout(self) -> str:
        return self._h.stdout

    @property
    def stderr(self) -> str:
        return self._h.stderr


class K2TerminalHandle:
    """A terminal: ``pid``, ``send_data``, ``resize``, ``kill`` (no-ops once it has ended, as K2's)."""

    def __init__(self, h: TerminalHandle) -> None:
        self._h = h
        self._killed = False

    @property
    def pid(self) -> int:
        return self._h.pid

    @property
    def output(self) -> bytes:
        return self._h.output

    def _alive(self) -> bool:
        return not self._killed and self._h.running

    def send_data(self, data: Union[str, bytes]) -> None:
        if self._alive():
            try:
                self._h.send_data(data)
            except errors.NotFoundError:
                pass

    def resize(self, rows: Union[int, Tuple[int, int]], cols: Optional[int] = None) -> None:
        if self._alive():
            try:
                self._h.resize(rows, cols)
            except errors.NotFoundError:
                pass

    def kill(self) -> bool:
        if not self._alive():
            return False
        self._killed = True
        return self._h.kill()

    def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        return self._h.wait(timeout)


class ProcessManager:
    """``sandbox.process``."""

    def __init__(self, p: Process) -> None:
        self._p = p

    def start(self, cmd: str, on_stdout: Optional[Callable[[Any], Any]] = None,
              on_stderr: Optional[Callable[[Any], Any]] = None, timeout: Optional[float] = 60,
              cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
              background: bool = False) -> Union[ProcessResult, K2ProcessHandle]:
        out, err = _lines(on_stdout, False), _lines(on_stderr, True)

        def on_exit(_: Any) -> None:
            for b in (out, err):
                if b:
                    b.flush()
        h = self._p.start(cmd, on_stdout=out, on_stderr=err, on_exit=on_exit, cwd=cwd, envs=envs)
        if background:
            return K2ProcessHandle(h)
        try:
            return h.wait(timeout)
        except errors.TimeoutError:
            h.kill()
            raise

    def list(self) -> List[ProcessInfo]:
        return [p for p in self._p.list() if p.running]

    def kill(self, pid: int) -> bool:
        return self._p.kill(pid)


class TerminalManager:
    """``sandbox.terminal``."""

    def __init__(self, t: Terminal) -> None:
        self._t = t
        self._handles: Dict[int, K2TerminalHandle] = {}

    def start(self, on_data: Optional[Callable[[bytes], Any]] = None, size: Tuple[int, int] = (24, 80),
              cmd: Optional[str] = None, cwd: Optional[str] = None,
              envs: Optional[Dict[str, str]] = None) -> K2TerminalHandle:
        h = K2TerminalHandle(self._t.start(on_data, size, cmd=cmd, cwd=cwd, envs=envs))
        self._handles[h.pid] = h
        return h

    def _get(self, pid: int) -> K2TerminalHandle:
        h = self._handles.get(pid)
        if h is None:
            raise errors.NotFoundError(f"no terminal with pid {pid}", code="not_found")
        return h

    def send_data(self, pid: int, data: Union[str, bytes]) -> None:
        self._get(pid).send_data(data)

    def resize(self, pid: int, size: Tuple[int, int]) -> None:
        self._get(pid).resize(size)

    def kill(self, pid: int) -> bool:
        h = self._handles.get(pid)
        return h.kill() if h is not None else self._t.kill(pid)


class NotebookManager:
    """``sandbox.notebook``: rich results, packages, reset."""

    def __init__(self, sb: "Sandbox") -> None:
        self._sb = sb

    def execute(self, code: str, on_stdout: Optional[Callable[[Any], Any]] = None,
                on_stderr: Optional[Callable[[Any], Any]] = None, on_results: Optional[Callable[[Any], Any]] = None,
                timeout: Optional[float] = None, cwd: Optional[str] = None,
                metadata: Optional[Dict[str, Any]] = None) -> Execution:
        return self._sb.run_code(code, on_stdout=on_stdout, on_stderr=on_stderr, on_results=on_results,
                                 timeout=timeout, cwd=cwd)

    def install_package(self, name: str, version: Optional[str] = None) -> Dict[str, Any]:
        return self._sb._core.notebook.install_package(name, version)

    def get_installed_packages(self) -> List[Dict[str, Any]]:
        return self._sb._core.notebook.get_installed_packages()

    def reset(self) -> None:
        self._sb._core.notebook.reset()


def _kill_by_id(cls: Any, sandbox_id: str, api_key: Optional[str] = None) -> bool:
    try:
        sb = _CoreSandbox.connect(sandbox_id, url=_url(), api_key=_key(api_key))
    except errors.NotFoundError:
        return False
    return sb.kill()


def _set_timeout_by_id(cls: Any, sandbox_id: str, timeout: int, api_key: Optional[str] = None) -> None:
    sb = _CoreSandbox.connect(sandbox_id, url=_url(), api_key=_key(api_key))
    try:
        sb.set_timeout(timeout)
    finally:
        sb.close()


async def _create(template: Optional[str], api_key: Optional[str], cwd: Optional[str], envs: Optional[Dict[str, str]],
                  timeout: Optional[int], metadata: Optional[Dict[str, str]], request_timeout: Optional[float]) -> AsyncSandbox:
    from .._config import ConnectionConfig
    from .._http import AsyncTransport
    t = AsyncTransport(ConnectionConfig.resolve(_url(), _key(api_key)))
    try:
        image = await resolve_image(t, template)
    finally:
        await t.aclose()
    if cwd == "/home/user":
        cwd = None  # the image's own home (the default)
    return await AsyncSandbox.create(image, envs=envs or None, cwd=cwd, timeout=timeout, metadata=metadata or None,
                                     url=_url(), api_key=_key(api_key), request_timeout=request_timeout)


class Sandbox:
    """``k2sandbox.Sandbox``: constructing one creates a sandbox."""

    def __init__(self, template: Optional[str] = None, api_key: Optional[str] = None, cwd: Optional[str] = "/home/user",
                 envs: Optional[Dict[str, str]] = None, timeout: Optional[int] = 300,
                 metadata: Optional[Dict[str, str]] = None, request_timeout: Optional[float] = None,
                 _core: Optional[_CoreSandbox] = None) -> None:
        self._core = _core or _CoreSandbox(_loop.run(_create(template, api_key, cwd, envs, timeout, metadata,
                                                             request_timeout)))
        self.filesystem = Filesystem(self._core.files)
        self.process = ProcessManager(self._core.process)
        self.terminal = TerminalManager(self._core.terminal)
        self.notebook = NotebookManager(self)
        self._contexts: Dict[str, Any] = {}

    @property
    def id(self) -> str:
        return self._core.sandbox_id

    sandbox_id = id

    @classmethod
    def create(cls, template: Optional[str] = None, **kw: Any) -> "Sandbox":
        return cls(template, **kw)

    @classmethod
    def connect(cls, sandbox_id: str, api_key: Optional[str] = None, **_: Any) -> "Sandbox":
        return cls(_core=_CoreSandbox.connect(sandbox_id, url=_url(), api_key=_key(api_key)))

    @classmethod
    def list(cls, api_key: Optional[str] = None) -> List[Any]:
        return _CoreSandbox.list(url=_url(), api_key=_key(api_key))

    def run_code(self, code: str, on_stdout: Optional[Callable[[Any], Any]] = None,
                 on_stderr: Optional[Callable[[Any], Any]] = None, on_results: Optional[Callable[[Any], Any]] = None,
                 timeout: Optional[float] = None, cwd: Optional[str] = None,
                 envs: Optional[Dict[str, str]] = None) -> Execution:
        ctx = None
        if cwd:
            ctx = self._contexts.get(cwd)
            if ctx is None:
                ctx = self._contexts[cwd] = self._core.create_code_context("python", cwd)
        out, err = _lines(on_stdout, False), _lines(on_stderr, True)
        try:
            return self._core.run_code(code, context=ctx, on_stdout=out, on_stderr=err, on_result=on_results,
                                       timeout=timeout, envs=envs)
        finally:
            for b in (out, err):
                if b:
                    b.flush()

    def is_running(self) -> bool:
        return self._core.is_running()

    def _kill(self) -> bool:
        return self._core.kill()

    def _set_timeout(self, timeout: int) -> None:
        self._core.set_timeout(timeout)

    kill = _hybrid(_kill_by_id, _kill)
    set_timeout = _hybrid(_set_timeout_by_id, _set_timeout)

    def close(self) -> None:
        """Ends the sandbox (as K2's close)."""
        try:
            self._core.kill()
        except errors.SluiceError:
            pass

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sandbox(id={self.id!r})"


