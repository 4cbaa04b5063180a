"""The event loop behind the synchronous API: one daemon thread per process runs every coroutine of the
sync classes (their HTTP clients and websockets live there). Sync callbacks (on_stdout, ...) are called
on that thread; they must not call back into the sync API (that would wait on itself) and say so.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncIterator, Awaitable, Iterator, Optional, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: Optional[asyncio.AbstractEventLoop] = None
_thread: Optional[threading.Thread] = None


def loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            ready = threading.Event()

            def main(lp: asyncio.AbstractEventLoop) -> None:
                asyncio.set_event_loop(lp)
                lp.call_soon(ready.set)
                lp.run_forever()
            _thread = threading.Thread(target=main, args=(_loop,), name="sluice-loop", daemon=True)
            _thread.start()
            ready.wait(10)
        return _loop


def run(coro: Awaitable[T], timeout: Optional[float] = None) -> T:
    """Runs a coroutine on the SDK's loop and waits for it (Ctrl-C cancels it)."""
    if _thread is not None and threading.current_thread() is _thread:
        close = getattr(coro, "close", None)
        if close:
            close()
        raise RuntimeError("a sync sluice method was called from a sluice callback; use the async API "
                           "(AsyncSandbox) or hand the work to another thread")
    fut = asyncio.run_coroutine_threadsafe(coro, loop())  # type: ignore[arg-type]
    try:
        return fut.result(timeout)
    except BaseException:
        fut.cancel()
        raise


def iterate(agen: AsyncIterator[T]) -> Iterator[T]:
    """A blocking iterator over an async iterator run on the SDK's loop."""
    try:
        while True:
            try:
                yield run(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            try:
                run(aclose(), 10)
            except Exception:
                pass


async def call(fn: Any, *args: Any, **kw: Any) -> Any:
    """Awaits fn(*args, **kw) on the loop (for sync wrappers that must build async objects there)."""
    return await fn(*args, **kw)
