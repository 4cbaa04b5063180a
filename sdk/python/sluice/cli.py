"""The ``sluice`` command: create, ls, rm, exec, run, code, cp, shell (``sluice --help``).

The gateway and key come from ``--url`` / ``--api-key`` or ``SLUICE_URL`` / ``SLUICE_API_KEY``.
Exit codes follow the remote command's (exec, run, shell); 1 for a cell that raised; 2 for usage errors;
3 for gateway errors (the message on stderr).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shlex
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, TextIO

from . import errors
from ._async_sandbox import AsyncSandbox
from ._sync import Sandbox, run_command_stream
from .models import Result, SandboxInfo

EXIT_GATEWAY = 3


class Progress:
    """A spinner with a label on stderr while long work runs (only when stderr is a terminal)."""

    FRAMES = "|/-\\"

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty() and not os.environ.get("SLUICE_NO_PROGRESS")
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.detail = ""

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def _spin(self) -> None:
        i, t0 = 0, time.monotonic()
        while not self._stop.wait(0.1):
            self.stream.write(f"\r{self.FRAMES[i % 4]} {self.label} {self.detail} ({time.monotonic() - t0:.0f}s)\x1b[K")
            self.stream.flush()
            i += 1

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1)
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _kv(items: Optional[List[str]], what: str) -> Optional[Dict[str, str]]:
    if not items:
        return None
    out = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"sluice: {what} must be KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def _conn(args: argparse.Namespace) -> Dict[str, Any]:
    return {"url": args.url, "api_key": args.api_key}


def _table(rows: List[List[str]], header: List[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def _connect(args: argparse.Namespace, sb: str) -> Sandbox:
    return Sandbox.connect(sb, namespace=args.namespace, **_conn(args))


# ---- commands -----------------------------------------------------------------------------------------
def cmd_create(args: argparse.Namespace) -> int:
    extra: Dict[str, Any] = {}
    if args.limit:
        extra["limits"] = _kv(args.limit, "--limit")
    with Progress("creating sandbox"):
        sb = Sandbox.create(args.image, name=args.name, namespace=args.namespace, timeout=args.timeout,
                            envs=_kv(args.env, "--env"), metadata=_kv(args.metadata, "--metadata"), cwd=args.cwd,
                            **extra, **_conn(args))
    info = sb.info
    sb.close()
    if args.json:
        _print_json(info.raw)
    else:
        print(info.id)
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    sbs: List[SandboxInfo] = Sandbox.list(args.namespace, **_conn(args))
    if args.json:
        _print_json([s.raw for s in sbs])
        return 0
    if not sbs:
        print("no sandboxes", file=sys.stderr)
        return 0
    print(_table([[s.id, s.name, s.namespace, s.image, s.status, s.age] for s in sbs],
                 ["ID", "NAME", "NAMESPACE", "IMAGE", "STATUS", "AGE"]))
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    rc = 0
    targets = list(args.sandboxes)
    if args.all:
        targets += [s.id for s in Sandbox.list(args.namespace, **_conn(args))]
    if not targets:
        print("sluice rm: name a sandbox (or --all)", file=sys.stderr)
        return 2
    results = []
    for t in targets:
        try:
            _connect(args, t).kill()
            results.append({"sandbox": t, "success": True, "error": None})
            if not args.json:
                print(f"removed {t}")
        except errors.SluiceError as e:
            rc = EXIT_GATEWAY
            results.append({"sandbox": t, "success": False, "error": str(e)})
            if not args.json:
                print(f"sluice rm {t}: {e}", file=sys.stderr)
    if args.json:
        _print_json(results)
    return rc


def _command_string(cmd: Sequence[str]) -> str:
    if not cmd:
        raise SystemExit("sluice: a command is required after --")
    return cmd[0] if len(cmd) == 1 else shlex.join(cmd)


def _out(stream: TextIO):
    def write(msg: Any) -> None:
        stream.write(msg.line)
        stream.flush()
    return write


def cmd_exec(args: argparse.Namespace) -> int:
    sb = _connect(args, args.sandbox)
    try:
        res = sb.exec(_command_string(args.cmd), cwd=args.cwd, envs=_kv(args.env, "--env"), timeout=args.timeout,
                      on_stdout=None if args.json else _out(sys.stdout),
                      on_stderr=None if args.json else _out(sys.stderr))
    finally:
        sb.close()
    if args.json:
        _print_json(res.__dict__)
    elif res.error and res.exit_code == 124:
        print(f"sluice exec: {res.error}", file=sys.stderr)
    return res.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    rc = 1
    cmd = _command_string(args.cmd)
    kw: Dict[str, Any] = {"image": args.image, "timeout": args.timeout, "namespace": args.namespace, **_conn(args)}
    with Progress("starting a sandbox") as prog:
        started = False
        for ev in run_command_stream(cmd, **kw):
            name, data = ev["event"], ev["data"]
            if not started and prog.enabled:
                prog.__exit__(None, None, None)
                started = True
            if name in ("stdout", "stderr"):
                (sys.stdout if name == "stdout" else sys.stderr).write(data.get("data", ""))
                (sys.stdout if name == "stdout" else sys.stderr).flush()
            elif name == "done":
                rc = int(data.get("exit_code", 1))
                if data.get("error"):
                    print(f"sluice run: {data['error']}", file=sys.stderr)
            elif name == "error":
                print(f"sluice run: {data.get('message', data)}", file=sys.stderr)
                rc = EXIT_GATEWAY
    return rc


def _describe_result(r: Result, n: int, save_dir: Optional[str]) -> str:
    """How a rich result shows in a terminal: text when there is some, images saved or summarised."""
    parts = []
    for fmt, ext in (("png", "png"), ("jpeg", "jpg"), ("svg", "svg"), ("pdf", "pdf")):
        val = getattr(r, fmt)
        if val is None:
            continue
        if save_dir:
            os.makedirs(save_dir, exist_ok=True)
            path = os.path.join(save_dir, f"result-{n}.{ext}")
            data = val.encode() if fmt == "svg" else base64.b64decode(val)
            with open(path, "wb") as f:
                f.write(data)
            parts.append(f"[{fmt} saved to {path}]")
        else:
            parts.append(f"[{fmt} image, {len(val) * 3 // 4} bytes; --save-images DIR to keep it]")
    if r.markdown is not None and r.text is None:
        parts.append(r.markdown)
    elif r.text is not None and not (parts and r.text.startswith("<Figure")):
        parts.append(r.text)
    elif r.html is not None and not parts:
        parts.append(r.html)
    elif r.json is not None and not parts:
        parts.append(json.dumps(r.json, indent=2))
    return "\n".join(parts)


def cmd_code(args: argparse.Namespace) -> int:
    code = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    sb = _connect(args, args.sandbox)
    n = [0]

    def on_result(r: Result) -> None:
        n[0] += 1
        if not args.json:
            text = _describe_result(r, n[0], args.save_images)
            if text:
                print(text, flush=True)
    try:
        ex = sb.run_code(code, language=args.language, timeout=args.timeout,
                         on_stdout=None if args.json else _out(sys.stdout),
                         on_stderr=None if args.json else _out(sys.stderr), on_result=on_result)
    finally:
        sb.close()
    if args.json:
        _print_json(ex.to_json())
    elif ex.error:
        tb = ex.error.traceback or f"{ex.error.name}: {ex.error.value}"
        print(tb if sys.stderr.isatty() else _strip_ansi(tb), file=sys.stderr)
    return 1 if ex.error else 0


def _strip_ansi(s: str) -> str:
    import re
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)


def _split_remote(spec: str) -> "tuple[Optional[str], str]":
    if ":" in spec and not spec.startswith(("/", ".")) and not os.path.exists(spec):
        sb, path = spec.split(":", 1)
        return sb, path
    return None, spec


class _Counting:
    """A binary file whose reads add to a Progress's byte count."""

    def __init__(self, f: Any, prog: Progress, total: int) -> None:
        self.f, self.prog, self.total, self.done = f, prog, total, 0
        self.mode = "rb"

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.done += len(data)
        self.prog.detail = f"{self.done >> 10}/{self.total >> 10} KiB"
        return data

    def tell(self) -> int:
        return self.f.tell()

    def seek(self, *a: Any) -> int:
        return self.f.seek(*a)

    def fileno(self) -> int:
        return self.f.fileno()


def _upload_file(sb: Sandbox, local: str, remote: str, prog: Progress) -> int:
    size = os.path.getsize(local)
    with open(local, "rb") as f:
        return sb.files.write(remote, _Counting(f, prog, size)).size


def _download_file(sb: Sandbox, remote: str, local: str, prog: Progress) -> int:
    os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
    n = 0
    tmp = local + ".part"
    try:
        with open(tmp, "wb") as f:
            for chunk in sb.files.read_stream(remote):
                f.write(chunk)
                n += len(chunk)
                prog.detail = f"{n >> 10} KiB"
        os.replace(tmp, local)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return n


def cmd_cp(args: argparse.Namespace) -> int:
    src_sb, src = _split_remote(args.src)
    dst_sb, dst = _split_remote(args.dst)
    if (src_sb is None) == (dst_sb is None):
        print("sluice cp: exactly one side must be SANDBOX:PATH", file=sys.stderr)
        return 2
    sb = _connect(args, src_sb or dst_sb or "")
    files = total = 0
    try:
        with Progress(f"copying {args.src}") as prog:
            if src_sb is not None:  # download
                st = sb.files.stat(src)
                if os.path.isdir(dst) or dst.endswith("/"):
                    dst = os.path.join(dst, st.name)
                if st.is_dir:
                    if not args.recursive:
                        print(f"sluice cp: {args.src} is a directory (use -r)", file=sys.stderr)
                        return 2
                    base = st.path.rstrip("/")
                    os.makedirs(dst, exist_ok=True)
                    for e in sb.files.list(src, depth=32):  # the gateway's deepest listing
                        target = os.path.join(dst, e.path[len(base):].lstrip("/"))
                        if e.is_dir:
                            os.makedirs(target, exist_ok=True)
                        elif e.type == "file":
                            total += _download_file(sb, e.path, target, prog)
                            files += 1
                else:
                    total, files = _download_file(sb, src, dst, prog), 1
            else:  # upload
                if not dst or dst.endswith("/") or (sb.files.exists(dst) and sb.files.stat(dst).is_dir):
                    dst = (dst.rstrip("/") or ".") + "/" + os.path.basename(src.rstrip("/"))
                if os.path.isdir(src):
                    if not args.recursive:
                        print(f"sluice cp: {src} is a directory (use -r)", file=sys.stderr)
                        return 2
                    sb.files.make_dir(dst)
                    for root, dirs, names in os.walk(src):
                        rel = os.path.relpath(root, src)
                        rdir = dst if rel == "." else f"{dst}/{rel}"
                        for d in dirs:
                            sb.files.make_dir(f"{rdir}/{d}")
                        for n in names:
                            total += _upload_file(sb, os.path.join(root, n), f"{rdir}/{n}", prog)
                            files += 1
                else:
                    total, files = _upload_file(sb, src, dst, prog), 1
    finally:
        sb.close()
    if not args.quiet:
        where = f"{dst_sb}:{dst}" if dst_sb else dst
        print(f"{args.src} -> {where} ({files} file{'s' if files != 1 else ''}, {total} bytes)", file=sys.stderr)
    return 0


def _term_size(fd: int) -> os.terminal_size:
    """The local terminal's size; 80x24 when unknown (not a tty, or a pty nobody sized)."""
    try:
        sz = os.get_terminal_size(fd)
    except OSError:
        return os.terminal_size((80, 24))
    return sz if sz.lines > 0 and sz.columns > 0 else os.terminal_size((80, 24))


async def _shell(args: argparse.Namespace) -> int:
    import termios
    import tty
    sb = await AsyncSandbox.connect(args.sandbox, namespace=args.namespace, **_conn(args))
    loop = asyncio.get_running_loop()
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    interactive = os.isatty(fd_in)
    size = _term_size(fd_out)
    saved = termios.tcgetattr(fd_in) if interactive else None

    def on_data(data: bytes) -> None:
        os.write(fd_out, data)
    try:
        term = await sb.terminal.start(on_data, (size.lines, size.columns), cmd=args.cmd)
        if saved is not None:
            tty.setraw(fd_in)
        # One sender keeps the terminal's frames in order, and the size is checked before every input
        # chunk: a SIGWINCH and the keys typed after it can arrive in one loop turn in either order, and
        # the program must see the new size before those keys.
        queue: "asyncio.Queue[Optional[tuple]]" = asyncio.Queue()
        last = [(size.lines, size.columns)]

        async def sender() -> None:
            while True:
                item = await queue.get()
                if item is None:
                    return
                kind, value = item
                if kind == "resize":
                    await term.resize(*value)
                elif kind == "data":
                    await term.send_data(value)
                else:
                    await term.send_stdin("", eof=True)

        def sync_size() -> None:
            sz = _term_size(fd_out)
            if (sz.lines, sz.columns) != last[0]:
                last[0] = (sz.lines, sz.columns)
                queue.put_nowait(("resize", last[0]))

        def on_input() -> None:
            try:
                data = os.read(fd_in, 65536)
            except OSError:
                data = b""
            if os.isatty(fd_out):
                sync_size()
            if not data:
                loop.remove_reader(fd_in)
                queue.put_nowait(("eof", None))
                return
            queue.put_nowait(("data", data))

        send_task = loop.create_task(sender())
        loop.add_reader(fd_in, on_input)
        if os.isatty(fd_out):
            loop.add_signal_handler(signal.SIGWINCH, sync_size)
        try:
            res = await term.wait()
        finally:
            loop.remove_reader(fd_in)
            if os.isatty(fd_out):
                loop.remove_signal_handler(signal.SIGWINCH)
            queue.put_nowait(None)
            try:
                await asyncio.wait_for(send_task, 5)
            except Exception:
                send_task.cancel()
        return res.exit_code
    finally:
        if saved is not None:
            termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
        await sb.close()


def cmd_shell(args: argparse.Namespace) -> int:
    return asyncio.run(_shell(args))


# ---- parser -------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sluice", description="Client for a Sluice gateway (SLUICE_URL, SLUICE_API_KEY).")
    p.add_argument("--url", default=None, help="gateway URL (default $SLUICE_URL or http://127.0.0.1:7700)")
    p.add_argument("--api-key", default=None, help="API key (default $SLUICE_API_KEY)")
    p.add_argument("-n", "--namespace", default=None, help="namespace of names / listings")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("create", help="create a sandbox and print its id")
    c.add_argument("--image", default=None)
    c.add_argument("--name", default=None)
    c.add_argument("--timeout", type=int, default=None, help="inactivity timeout, seconds")
    c.add_argument("--cwd", default=None)
    c.add_argument("-e", "--env", action="append", metavar="KEY=VALUE")
    c.add_argument("--metadata", action="append", metavar="KEY=VALUE")
    c.add_argument("--limit", action="append", metavar="KEY=VALUE", help="cpu=1, memory=512Mi, pids=100...")
    c.add_argument("--json", action="store_true", help="print the sandbox as JSON")
    c.set_defaults(func=cmd_create)

    c = sub.add_parser("ls", help="list sandboxes")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_ls)

    c = sub.add_parser("rm", help="delete sandboxes")
    c.add_argument("sandboxes", nargs="*", metavar="SANDBOX")
    c.add_argument("--all", action="store_true", help="every sandbox listed (of --namespace)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_rm)

    c = sub.add_parser("exec", help="run a command in a sandbox's stateful shell: exec SB -- CMD")
    c.add_argument("sandbox")
    c.add_argument("cmd", nargs="*", help="after --")
    c.add_argument("--cwd", default=None)
    c.add_argument("-e", "--env", action="append", metavar="KEY=VALUE")
    c.add_argument("--timeout", type=float, default=None, help="seconds (gateway default 30)")
    c.add_argument("--json", action="store_true", help="print the result as JSON instead of streaming")
    c.set_defaults(func=cmd_exec)

    c = sub.add_parser("run", help="one-shot: run -- CMD in a fresh sandbox removed afterwards")
    c.add_argument("--image", default=None)
    c.add_argument("--timeout", type=float, default=None)
    c.add_argument("cmd", nargs="*", help="after --")
    c.set_defaults(func=cmd_run)

    c = sub.add_parser("code", help="run a code file (or - for stdin) in a sandbox's interpreter")
    c.add_argument("sandbox")
    c.add_argument("file", help="a file, or - for stdin")
    c.add_argument("-l", "--language", default=None, help="python (default), bash, javascript")
    c.add_argument("--timeout", type=float, default=None)
    c.add_argument("--save-images", metavar="DIR", default=None, help="write image results to DIR")
    c.add_argument("--json", action="store_true", help="print the Execution as JSON")
    c.set_defaults(func=cmd_code)

    c = sub.add_parser("cp", help="copy a file to or from a sandbox: cp LOCAL SB:PATH | cp SB:PATH LOCAL")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("-r", "--recursive", action="store_true", help="copy directories")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=cmd_cp)

    c = sub.add_parser("shell", help="an interactive terminal in a sandbox")
    c.add_argument("sandbox")
    c.add_argument("--cmd", default=None, help="command instead of bash")
    c.set_defaults(func=cmd_shell)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    tail: Optional[List[str]] = None
    if "--" in argv:  # everything after the first -- is the remote command, verbatim
        i = argv.index("--")
        argv, tail = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    if tail is not None and hasattr(args, "cmd"):
        args.cmd = list(args.cmd or []) + tail
    try:
        return int(args.func(args) or 0)
    except errors.SluiceError as e:
        print(f"sluice {args.command}: {e}", file=sys.stderr)
        return EXIT_GATEWAY
    except FileNotFoundError as e:
        print(f"sluice {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
