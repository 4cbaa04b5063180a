"""Features that need the stream websocket's new frames (live process_start output, PTY `pty`/`resize`,
`watch`/`fs_event`): they land with the stream branch and fail before it is merged."""
import asyncio
import threading
import time

from sluice import AsyncSandbox, Sandbox
from test_seeds import lines_in, run_seed


def test_process_output_is_live(env):
    """Needs the live process_start output of the stream websocket (stream branch)."""
    with Sandbox.create() as sb:
        seen = []
        h = sb.process.start("echo first; sleep 2; echo second",
                             on_stdout=lambda m: seen.append((m.line, time.monotonic())))
        res = h.wait(30)
        end = time.monotonic()
        assert res.stdout == "first\nsecond\n"
        assert seen[0][0].startswith("first") and end - seen[0][1] >= 1.5


def test_terminal_session(env):
    """A PTY over the stream websocket: typed input, output, resize (stream branch)."""
    with Sandbox.create() as sb:
        got = bytearray()
        lock = threading.Lock()

        def on_data(b):
            with lock:
                got.extend(b)

        term = sb.terminal.start(on_data, size=(24, 80))
        _wait_bytes(got, lock, b"# ")  # the prompt: bash drops what is typed before its line editor is set up
        term.send_data(b"stty size; tty; echo mark-$((6*7))\n")
        _wait_bytes(got, lock, b"mark-42")
        assert b"24 80" in bytes(got) and b"/dev/pts/" in bytes(got)
        term.resize(30, 100)
        term.send_data("stty size\n")
        _wait_bytes(got, lock, b"30 100")
        term.send_data("exit 3\n")
        assert term.wait(30).exit_code == 3


def _wait_bytes(buf, lock, needle, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        with lock:
            if needle in buf:
                return
        assert time.monotonic() < deadline, f"no {needle!r} in {bytes(buf)!r}"
        time.sleep(0.02)  # polling a bounded condition


def test_watch(env):
    """fs_event over the stream websocket (stream branch)."""
    with Sandbox.create() as sb:
        events = []
        sb.files.make_dir("/tmp/w")
        h = sb.files.watch("/tmp/w", events.append)
        sb.files.write("/tmp/w/a.txt", "x")
        deadline = time.monotonic() + 20
        while not any(e.path.endswith("/tmp/w/a.txt") for e in events):
            assert time.monotonic() < deadline, events
            time.sleep(0.02)
        assert {e.type for e in events} <= {"create", "write", "chmod", "rename"}
        h.stop()


def test_async_terminal_and_live_process(env):
    async def main():
        async with await AsyncSandbox.create() as sb:
            got = bytearray()
            term = await sb.terminal.start(got.extend, size=(20, 60))
            deadline = time.monotonic() + 20
            while b"# " not in got:  # the prompt
                assert time.monotonic() < deadline, bytes(got)
                await asyncio.sleep(0.02)
            await term.send_data("echo $((7*6))-ok\n")
            deadline = time.monotonic() + 20
            while b"42-ok" not in got:
                assert time.monotonic() < deadline, bytes(got)
                await asyncio.sleep(0.02)
            await term.kill()
            seen = []
            h = await sb.process.start("echo a; sleep 2; echo b", on_stdout=lambda m: seen.append(time.monotonic()))
            await h.wait(30)
            assert len(seen) >= 1 and time.monotonic() - seen[0] >= 1.5
    asyncio.run(main())


def test_cli_shell_under_a_pty(env):
    """`sluice shell SB` under a real pseudo-terminal: type a command, read its output, exit restores the tty."""
    import os
    import pty
    import select
    import signal
    import subprocess
    import termios
    sb = Sandbox.create(name="cli-shell")
    sb.close()
    import fcntl
    import struct
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "sluice", "shell", "cli-shell"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    out = bytearray()

    def read_until(needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in out:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} in {bytes(out)!r}"
            r, _, _ = select.select([master], [], [], left)
            if r:
                try:
                    out.extend(os.read(master, 65536))
                except OSError:
                    break
    try:
        read_until(b"# ")  # the prompt: bash discards what is typed before it sets up its line editor
        os.write(master, b"echo shell-$((6*7)); stty size\r")
        read_until(b"shell-42")
        read_until(b"30 100")  # the remote terminal has the local one's size
        assert termios.tcgetattr(slave)[3] & termios.ECHO == 0  # raw mode while the shell runs
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.killpg(proc.pid, signal.SIGWINCH)  # what the terminal emulator does on a resize
        os.write(master, b"stty size\r")
        read_until(b"40 120")
        os.write(master, b"exit 4\r")
        assert proc.wait(30) == 4
        assert termios.tcgetattr(slave) == before  # the terminal is restored
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
        os.close(slave)


# seed examples of the K2 document that need these frames
def test_k2_watch(env, tmp_path):  # needs watch/fs_event: STREAM
    out = run_seed(env, "k2_watch.py", tmp_path)
    import re
    assert re.search(r"^Event: (create|write|rename) on /home/user/watched.txt$", out, re.M), out  # atomic write


def test_k2_terminal(env, tmp_path):  # needs process_start pty + resize: STREAM
    out = run_seed(env, "k2_terminal.py", tmp_path)
    lines_in(out, "Terminal output: ", "30 100", "END-2")
