"""IPython-backed execution for the Sluice Python driver.

Builds on IPython's InteractiveShell (no ipykernel, no ZeroMQ in the sandbox) so that magics, display
formatters, display(..., display_id=True).update(), clear_output, matplotlib inline figures and tracebacks
behave as they do in Jupyter. The driver's main loop owns the fds; this module only turns one execution
into driver events through the `emit` callable it is given (see protocol/include/sluice/driver.h §1).
"""
import importlib
import itertools
import json
import os
import shlex
import subprocess
import sys

# Figures go through matplotlib-inline (Agg underneath): every figure open at the end of a cell is sent
# as a PNG display and closed, exactly as ipykernel does. Must be set before matplotlib is imported (it is
# not imported here: startup stays cheap). The image's plain "Agg" (meant for the stdlib backend, where
# nothing could show a figure) is replaced; any other explicit choice is the user's and is kept.
_INLINE = "module://matplotlib_inline.backend_inline"


def inline_backend_env():
    if os.environ.get("MPLBACKEND", "").lower() in ("", "agg"):
        os.environ["MPLBACKEND"] = _INLINE


inline_backend_env()

from IPython.core.displayhook import DisplayHook  # noqa: E402
from IPython.core.displaypub import DisplayPublisher  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402


class _Current:
    """The request id of the execution in progress; display calls from the cell are attributed to it."""
    req_id = 0


class SluiceDisplayPublisher(DisplayPublisher):
    emit = None

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        sys.stdout.flush()
        sys.stderr.flush()
        self.emit({"type": "display", "id": _Current.req_id, "data": data, "metadata": metadata or {},
                   "transient": transient or {}, "update": bool(update)})

    def clear_output(self, wait=False):
        sys.stdout.flush()
        sys.stderr.flush()
        self.emit({"type": "clear_output", "id": _Current.req_id, "wait": bool(wait)})


class SluiceDisplayHook(DisplayHook):
    """The value of a trailing expression becomes the execution's main result."""
    emit = None

    def start_displayhook(self):
        self._bundle = {"data": {}, "metadata": {}}

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self._bundle["data"] = format_dict
        self._bundle["metadata"] = md_dict or {}

    def finish_displayhook(self):
        sys.stdout.flush()
        sys.stderr.flush()
        if self._bundle["data"]:
            self.emit({"type": "result", "id": _Current.req_id, "data": self._bundle["data"],
                       "metadata": self._bundle["metadata"], "is_main_result": True,
                       "execution_count": self.prompt_count})


class SluiceShell(InteractiveShell):
    """InteractiveShell as a kernel uses it: no terminal, no GUI event loop."""

    def enable_gui(self, gui=None):
        if gui not in (None, "inline", "agg"):
            raise NotImplementedError(f"GUI event loop '{gui}' is not available in a sandbox; use inline")


# POST .../packages and %pip install run the same command: the gateway builds it once
# (sl_api_package_pip_argv) and the runner hands it to the driver in this variable (SL_PIP_INSTALL_ENV)
_PIP_INSTALL_ENV = "SLUICE_PIP_INSTALL_ARGV"
_PACKAGES_DIR = "/home/user/.local/sluice/python"  # SL_PKG_PYTHON_TARGET, on sys.path from the start


def pip_argv(args):
    """The command of `%pip ARGS`: install into the sandbox's package dir from the gateway's index, as the
    packages route does; any other subcommand (list, show, uninstall, freeze...) as `python3 -m pip` with
    that dir on its path, so it sees what the kernel imports. (argv, extra environment)"""
    env = {"PYTHONPATH": os.pathsep.join(p for p in (_PACKAGES_DIR, os.environ.get("PYTHONPATH")) if p),
           # uninstall from the package dir: Debian's PEP 668 marker is about the system's packages, which
           # the sandbox's own copy of /usr keeps either way
           "PIP_BREAK_SYSTEM_PACKAGES": "1"}
    if args and args[0] == "install":
        try:
            base = json.loads(os.environ.get(_PIP_INSTALL_ENV) or "null")
        except ValueError:
            base = None
        if not (isinstance(base, list) and base and all(isinstance(a, str) for a in base)):
            base = ["/usr/bin/python3", "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
                    "--upgrade", "--target", _PACKAGES_DIR]
        return base + args[1:], {}
    argv = ["/usr/bin/python3", "-m", "pip"] + args[:1] + ["--disable-pip-version-check"] + args[1:]
    if args and args[0] == "uninstall" and not {"-y", "--yes"} & set(args):
        argv.insert(5, "--yes")  # nobody can answer pip's prompt
    return argv, env


class Backend:
    """One interpreter's state. execute() runs a cell and returns (status, execution_count)."""

    def __init__(self, emit, channel, read_input, history_file=None):
        SluiceDisplayPublisher.emit = staticmethod(emit)
        SluiceDisplayHook.emit = staticmethod(emit)
        self.emit = emit
        # figures keep the size the user asked for (figsize x dpi) instead of ipykernel's tight crop
        config = Config()
        config.InlineBackend.print_figure_kwargs = {"bbox_inches": None}
        if history_file:  # the zygote's (":memory:"): no history thread, so it can fork
            config.HistoryManager.hist_file = history_file
        self.shell = SluiceShell.instance(config=config, displayhook_class=SluiceDisplayHook,
                                          display_pub_class=SluiceDisplayPublisher,
                                          colors="Linux")
        self.shell._showtraceback = self._showtraceback
        # !cmd writes straight to the driver's stdout/stderr pipes (live, "\n" endings, stderr kept
        # apart) rather than through pexpect's pty, which merges the streams and ends lines with "\r\n"
        self.shell.system = self.shell.system_raw
        # completion without jedi: its type inference may evaluate user code and is slow to import;
        # IPython's own matchers answer in milliseconds
        self.shell.Completer.use_jedi = False
        self.shell.register_magic_function(self._pip, "line", "pip")
        self._error = None

        # input() and getpass() ask the runner, as ipykernel's raw_input does; with no client that can
        # answer the cell gets EOFError with the runner's reason instead of reading a pipe that never answers
        def _input(prompt=""):
            return read_input(channel, emit, _Current.req_id, prompt)

        def _getpass(prompt="Password: ", stream=None):
            return read_input(channel, emit, _Current.req_id, prompt, password=True)

        import builtins
        import getpass
        builtins.input = _input
        getpass.getpass = _getpass

    def _pip(self, line):
        """Run pip in this kernel's sandbox: `%pip install pkg==1.0` installs into the sandbox's package dir
        (from the gateway's package index) and the package imports in the next line, no restart; pip's
        output streams as the cell's stdout/stderr. Like IPython's %pip, a failure is pip's output and
        `_exit_code`, not an exception."""
        try:
            args = shlex.split(line)
        except ValueError as e:
            print(f"%pip: {e}", file=sys.stderr)
            return
        if not args:
            print("Usage: %pip install|uninstall|list|show|freeze [options] ...", file=sys.stderr)
            return
        argv, extra = pip_argv(args)
        sys.stdout.flush()
        sys.stderr.flush()
        # the tool writes straight to the driver's stdout/stderr pipes: its output is live, as with !cmd
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env={**os.environ, **extra})
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        finally:
            importlib.invalidate_caches()
        self.shell.user_ns["_exit_code"] = rc

    @property
    def count(self):
        return self.shell.execution_count - 1

    def _showtraceback(self, etype, evalue, stb):
        sys.stdout.flush()
        sys.stderr.flush()
        self._error = {"type": "error", "id": _Current.req_id, "ename": etype.__name__ if etype else "Error",
                       "evalue": str(evalue), "traceback": list(stb)}
        self.emit(self._error)

    MAX_MATCHES = 500
    MAX_HISTORY = 1000

    def introspect(self, what, args):
        """The content of a Jupyter complete/inspect/is_complete/history reply, as ipykernel builds it."""
        code = args.get("code") or ""
        pos = args.get("cursor_pos")
        if not isinstance(pos, int) or not 0 <= pos <= len(code):
            pos = len(code)
        if what == "complete":
            from IPython.core.completer import provisionalcompleter, rectify_completions
            with provisionalcompleter():
                raw = itertools.islice(self.shell.Completer.completions(code, pos), self.MAX_MATCHES)
                comps = list(rectify_completions(code, raw))
            meta = [{"start": c.start, "end": c.end, "text": c.text, "type": c.type, "signature": c.signature}
                    for c in comps]
            start, end = (comps[0].start, comps[0].end) if comps else (pos, pos)
            return {"status": "ok", "matches": [c.text for c in comps], "cursor_start": start, "cursor_end": end,
                    "metadata": {"_jupyter_types_experimental": meta}}
        if what == "inspect":
            from IPython.utils.tokenutil import token_at_cursor
            name = token_at_cursor(code, pos)
            reply = {"status": "ok", "found": False, "data": {}, "metadata": {}}
            try:
                bundle = self.shell.object_inspect_mime(name, detail_level=int(args.get("detail_level") or 0))
            except KeyError:
                return reply
            bundle.pop("text/html", None)
            reply.update(found=True, data=bundle)
            return reply
        if what == "is_complete":
            status, indent = self.shell.input_transformer_manager.check_complete(code)
            reply = {"status": status}
            if status == "incomplete":
                reply["indent"] = " " * (indent or 0)
            return reply
        if what == "history":
            hm = self.shell.history_manager
            kind, raw, output = args.get("hist_access_type"), bool(args.get("raw", True)), bool(args.get("output"))
            n = min(int(args.get("n") or 10), self.MAX_HISTORY)
            if hm is None:
                hist = []
            elif kind == "tail":
                hist = hm.get_tail(n, raw=raw, output=output, include_latest=True)
            elif kind == "range":
                hist = hm.get_range(int(args.get("session") or 0), int(args.get("start") or 1),
                                    args.get("stop"), raw=raw, output=output)
            elif kind == "search":
                hist = hm.search(str(args.get("pattern") or "*"), raw=raw, output=output, n=n,
                                 unique=bool(args.get("unique")))
            else:
                hist = []
            return {"status": "ok", "history": [list(h) for h in itertools.islice(hist, self.MAX_HISTORY)]}
        return {"status": "error", "ename": "ValueError", "evalue": f"unknown request {what!r}", "traceback": []}

    def execute(self, req_id, code, silent=False, store_history=True):
        _Current.req_id = req_id
        self._error = None
        result = self.shell.run_cell(code, store_history=store_history, silent=silent)
        sys.stdout.flush()
        sys.stderr.flush()
        count = self.shell.execution_count - 1 if store_history else self.shell.execution_count
        ok = result.success and self._error is None
        return ("ok" if ok else "error"), count
