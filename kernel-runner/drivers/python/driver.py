"""Sluice Python driver: runs cells for the runner over inherited fds (protocol/include/sluice/driver.h §1).

fd 3 carries requests (JSON lines) from the runner, fd 4 carries events (JSON lines) back; fds 1 and 2 are
the real stdout/stderr pipes (run with -u), flushed before every event so the runner can order output
before results. The execution backend is IPython's InteractiveShell (ipython_backend.Backend) when IPython
is importable; otherwise, or with SLUICE_PY_BACKEND=stdlib, the standard-library StdlibBackend below. Both
have the same interface: Backend(emit, channel).execute(id, code, silent, store_history) ->
(status, execution_count). SIGINT raises KeyboardInterrupt only while a cell runs (interrupt, timeout).
"""
import ast
import base64
import builtins
import importlib
import json
import linecache
import os
import signal
import sys
import traceback

_REQ_FD, _EV_FD = 3, 4
_THIS_DIR = os.path.dirname(os.path.abspath(__file__))


def _json_default(obj):
    """Binary display data (_repr_png_/_jpeg_/_pdf_ return bytes) travels as base64, as jupyter_client's
    json_default sends it; anything else JSON cannot carry becomes its repr."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(obj).decode("ascii")
    return repr(obj)


class Channel:
    """The two protocol fds. Output is flushed before each event so stdout/stderr precede it."""

    def __init__(self):
        self.reqs = os.fdopen(_REQ_FD, "rb", buffering=0)
        self.events = os.fdopen(_EV_FD, "wb", buffering=0)
        self._rbuf = b""

    def emit(self, event):
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:
                pass
        # lone surrogates cannot travel as JSON: replace them rather than break the protocol
        line = json.dumps(event, ensure_ascii=False, default=_json_default).encode("utf-8", "replace") + b"\n"
        view = memoryview(line)
        while view:
            n = os.write(self.events.fileno(), view)
            view = view[n:]

    def read(self):
        """The next request, or None at EOF."""
        while b"\n" not in self._rbuf:
            chunk = os.read(self.reqs.fileno(), 1 << 16)
            if not chunk:
                return None
            self._rbuf += chunk
        line, self._rbuf = self._rbuf.split(b"\n", 1)
        return json.loads(line)


def read_input(channel, emit, req_id, prompt="", password=False):
    """input() for a cell: asks the runner (input_request) and waits for its input_reply. A runner with no
    client that can answer replies with an error, raised here as EOFError(error) so the cell never hangs."""
    sys.stdout.flush()
    sys.stderr.flush()
    emit({"type": "input_request", "id": req_id, "prompt": str(prompt), "password": bool(password)})
    while True:
        req = channel.read()
        if req is None:
            raise EOFError("input(): the runner went away")
        if req.get("type") == "input_reply" and req.get("id") == req_id:
            if "error" in req:
                raise EOFError(req["error"])
            return req.get("value", "")


class _Interruptible:
    """SIGINT raises KeyboardInterrupt only while a cell runs; between cells it is ignored, so an
    interrupt that arrives late cannot kill the driver."""
    running = False

    @classmethod
    def handler(cls, signum, frame):
        if cls.running:
            raise KeyboardInterrupt


class StdlibBackend:
    """exec/eval of cells in one persistent namespace; the trailing expression is the main result."""

    def __init__(self, emit, channel):
        self.emit = emit
        self.channel = channel
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.count = 0
        self.req_id = 0
        builtins.input = self._input

    def _input(self, prompt=""):
        return read_input(self.channel, self.emit, self.req_id, prompt)

    def _error(self, etype, evalue, tb, filename):
        # only the cell's frames: drop everything above the first frame of a cell (the driver, ast.parse);
        # a SyntaxError has none
        frames = traceback.extract_tb(tb)
        first = next((i for i, f in enumerate(frames) if f.filename.startswith("<cell-")), len(frames))
        frames = frames[first:]
        lines = []
        if frames:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(frames))
        lines.extend(traceback.format_exception_only(etype, evalue))
        self.emit({"type": "error", "id": self.req_id, "ename": etype.__name__, "evalue": str(evalue),
                   "traceback": [line.rstrip("\n") for line in lines]})

    def execute(self, req_id, code, silent=False, store_history=True):
        self.req_id = req_id
        if store_history:
            self.count += 1
        filename = f"<cell-{self.count}>"
        # tracebacks show the cell's source lines through linecache
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        status = "ok"
        try:
            tree = ast.parse(code, filename, "exec")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and not silent:
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, filename, "exec"), self.ns)
            if last is not None:
                value = eval(compile(last, filename, "eval"), self.ns)
                if value is not None:
                    self.ns["_"] = value
                    self.emit({"type": "result", "id": req_id, "data": {"text/plain": repr(value)},
                               "metadata": {}, "is_main_result": True, "execution_count": self.count})
        except BaseException as e:  # SystemExit and KeyboardInterrupt end the cell, not the driver
            status = "error"
            self._error(type(e), e, e.__traceback__, filename)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return status, self.count


def introspect(backend, req):
    """complete / inspect / is_complete / history between cells: the Jupyter reply content, or a reply
    with status "error" (the gateway then answers with an empty one). An interrupt ends it too."""
    fn = getattr(backend, "introspect", None)
    if fn is None:
        return {"status": "error", "ename": "NotImplementedError", "evalue": "needs IPython", "traceback": []}
    _Interruptible.running = True
    try:
        return fn(req.get("what"), req.get("args") or {})
    except BaseException as e:  # noqa: B036 — nothing may end the driver from here
        return {"status": "error", "ename": type(e).__name__, "evalue": str(e), "traceback": []}
    finally:
        _Interruptible.running = False


def make_backend(emit, channel):
    if os.environ.get("SLUICE_PY_BACKEND", "ipython") != "stdlib":
        sys.path.insert(0, _THIS_DIR)
        try:
            import ipython_backend
        except ImportError as e:  # no IPython in this image: plain Python still works
            sys.path.remove(_THIS_DIR)
            print(f"sluice: IPython unavailable ({e}); using the standard-library backend", file=sys.stderr)
        else:
            sys.path.remove(_THIS_DIR)
            return ipython_backend.Backend(emit, channel, read_input)
    return StdlibBackend(emit, channel)


PACKAGES_DIR = "/home/user/.local/sluice/python"  # POST .../packages installs here (protocol/include/sluice/api_packages.h)


def packages_path():
    """The per-sandbox package dir on sys.path from the start (after the script dir, before the system's)."""
    try:
        os.makedirs(PACKAGES_DIR, exist_ok=True)
    except OSError:
        pass
    if PACKAGES_DIR not in sys.path:
        sys.path.insert(1 if sys.path and sys.path[0] in ("", _THIS_DIR) else 0, PACKAGES_DIR)


def main(backend=None, late_channel=None):
    """backend/late_channel: the zygote's prebuilt backend (sluice_zygote.py) and the channel object it
    was built with, which gets the real one here; otherwise the backend is made now."""
    packages_path()
    channel = Channel()
    signal.signal(signal.SIGINT, _Interruptible.handler)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    if backend is None:
        backend = make_backend(channel.emit, channel)
    else:
        late_channel.real = channel
    channel.emit({"type": "ready", "language": "python", "version": sys.version.split()[0]})
    while True:
        req = channel.read()
        if req is None:
            return 0
        if req.get("type") == "introspect":
            channel.emit({"type": "introspect_reply", "id": req["id"], "reply": introspect(backend, req)})
            continue
        if req.get("type") != "execute":
            continue
        rid = req["id"]
        importlib.invalidate_caches()  # packages installed since the last cell import without a restart
        _Interruptible.running = True
        try:
            status, count = backend.execute(rid, req.get("code", ""), bool(req.get("silent")),
                                            req.get("store_history", True))
        except KeyboardInterrupt:  # an interrupt that landed outside the cell's own try
            status, count = "error", getattr(backend, "count", 0)
            channel.emit({"type": "error", "id": rid, "ename": "KeyboardInterrupt", "evalue": "",
                          "traceback": ["KeyboardInterrupt"]})
        finally:
            _Interruptible.running = False
        channel.emit({"type": "done", "id": rid, "status": status, "execution_count": count})


if __name__ == "__main__":
    sys.exit(main())
