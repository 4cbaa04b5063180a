"""The core API end to end, asyncio flavour: the same behaviour as the blocking twin, with async callbacks."""
import asyncio
import time

import pytest

import sluice
from sluice import AsyncSandbox


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_async_lifecycle_code_exec_files(env):
    async def main():
        sb = await AsyncSandbox.create(envs={"A": "1"}, metadata={"k": "v"}, name="async-one")
        try:
            assert [s.name for s in await AsyncSandbox.list()] == ["async-one"]
            other = await AsyncSandbox.connect("async-one")
            assert other.sandbox_id == sb.sandbox_id and await other.is_running()
            await other.close()
            assert (await sb.run_code("import os; os.environ['A']")).text == "'1'"
            assert (await sb.exec("echo $A")).stdout == "1\n"
            await sb.files.write("/tmp/x/y.txt", b"bytes\x00here")
            assert await sb.files.read("/tmp/x/y.txt", format="bytes") == b"bytes\x00here"
            assert [e.name for e in await sb.files.list("/tmp/x")] == ["y.txt"]
            await sb.set_timeout(900)
            assert (await sb.get_info()).timeout == 900
            assert (await sb.stats()).pids >= 1
        finally:
            assert await sb.kill() is True
        assert await AsyncSandbox.list() == []
    run(main())


def test_async_live_callbacks(env):
    async def main():
        async with await AsyncSandbox.create() as sb:
            seen = []

            async def on_out(m):  # an async callback is awaited in order
                seen.append((m.line, time.monotonic()))
            ex = await sb.run_code("import time\nprint('first', flush=True)\ntime.sleep(2)\nprint('second')\n7",
                                   on_stdout=on_out, on_result=lambda r: seen.append(("result", r.text)))
            end = time.monotonic()
            assert seen[0][0].startswith("first") and end - seen[0][1] >= 1.5
            assert ("result", "7") in seen and ex.text == "7"
            assert "".join(ex.logs.stdout) == "first\nsecond\n"

            # two cells at once on one socket, in two contexts
            ctx = await sb.create_code_context()
            a, b = await asyncio.gather(
                sb.run_code("import time; time.sleep(1); 'a'", on_stdout=print),
                sb.run_code("'b'", context=ctx, on_stdout=print))
            assert (a.text, b.text) == ("'a'", "'b'")
    run(main())


def test_async_process_stdin_and_timeout(env):
    async def main():
        async with await AsyncSandbox.create() as sb:
            h = await sb.process.start("cat; echo done")
            await h.send_stdin("abc")
            await h.send_stdin(eof=True)
            res = await h.wait(30)
            assert res.stdout == "abcdone\n" and res.exit_code == 0
            slow = await sb.process.start("sleep 600")
            with pytest.raises(sluice.TimeoutError):
                await slow.wait(0.2)
            assert await slow.kill()
            ex = await sb.run_code("import time\nwhile True: time.sleep(0.1)", timeout=1)
            assert ex.error is not None  # the cell was stopped at its timeout
            assert (await sb.run_code("1 + 1")).text == "2"  # and the interpreter lives on
    run(main())


def test_async_errors(env):
    async def main():
        with pytest.raises(sluice.NotFoundError) as e:
            await AsyncSandbox.connect("nope")
        assert e.value.status == 404 and e.value.code
        with pytest.raises(sluice.AuthenticationError):
            await AsyncSandbox.list(api_key="bad")
    run(main())


def test_async_long_silent_cell_outlives_the_request_timeout(env):
    """A cell quiet for longer than the HTTP request timeout still returns (the code route waits unbounded)."""
    async def main():
        async with await AsyncSandbox.create(request_timeout=1) as sb:
            ex = await sb.run_code("import time; time.sleep(2.5); 'slept'")
            assert ex.text == "'slept'"
    run(main())


def test_cancelling_a_live_cell_interrupts_it(env):
    """A caller that gives up (asyncio cancellation, Ctrl-C in the blocking API) interrupts the cell."""
    async def main():
        async with await AsyncSandbox.create() as sb:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(sb.run_code("import time\nwhile True: time.sleep(0.1)", on_stdout=print), 1.5)
            t0 = time.monotonic()
            assert (await sb.run_code("'free'")).text == "'free'"  # the interpreter is not stuck in the loop
            assert time.monotonic() - t0 < 10
    run(main())
