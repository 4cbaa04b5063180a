"""Plain data objects returned by the SDK (sync and async alike)."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

__all__ = [
    "SandboxInfo", "Result", "Logs", "ExecutionError", "Execution", "OutputMessage", "CommandResult",
    "EntryInfo", "WriteInfo", "ProcessInfo", "ProcessResult", "FilesystemEvent", "Stats", "Context",
]

# MIME type of each Result field, richest first (the order of Result.formats() and Result.mime_type).
MIME_FIELDS = [
    ("png", "image/png"), ("jpeg", "image/jpeg"), ("svg", "image/svg+xml"), ("pdf", "application/pdf"),
    ("html", "text/html"), ("markdown", "text/markdown"), ("latex", "text/latex"),
    ("json", "application/json"), ("javascript", "application/javascript"), ("chart", "chart"),
    ("data", "data"), ("text", "text/plain"),
]


class _DictAccess:
    """Lets seeds that treat events as dicts (``data['line']``) read attributes by key."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class SandboxInfo(_DictAccess):
    """A sandbox as the gateway describes it (``GET /api/v1/sandboxes/{id}``)."""

    id: str
    name: str
    namespace: str
    image: str
    status: str
    ready: str = "False"
    restarts: int = 0
    age: str = ""
    created_at: Optional[str] = None
    expires_at: Optional[str] = None
    timeout: Optional[int] = None
    limits: Dict[str, Any] = field(default_factory=dict)
    metadata: Dict[str, str] = field(default_factory=dict)
    workspace_id: Optional[str] = None
    error_message: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def sandbox_id(self) -> str:
        return self.id

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxInfo":
        return cls(id=d.get("id", ""), name=d.get("name", ""), namespace=d.get("namespace", "default"),
                   image=d.get("image", ""), status=d.get("status", ""), ready=d.get("ready", "False"),
                   restarts=d.get("restarts", 0), age=d.get("age", ""), created_at=d.get("created_at"),
                   expires_at=d.get("expires_at"), timeout=d.get("timeout"), limits=d.get("limits") or {},
                   metadata=d.get("metadata") or {}, workspace_id=d.get("workspace_id"),
                   error_message=d.get("error_message"), raw=dict(d))


class Result(_DictAccess):
    """One rich output of a cell: ``execute_result`` (``is_main_result``) or ``display_data``.

    Each MIME field is an attribute (``text``, ``html``, ``markdown``, ``svg``, ``png``, ``jpeg`` (base64),
    ``pdf``, ``latex``, ``json``, ``javascript``, ``data``, ``chart``; other MIME types in ``extra``).
    The ``_repr_*_`` methods let Jupyter display it as the sandbox produced it.
    """

    def __init__(self, d: Optional[Dict[str, Any]] = None, **kw: Any) -> None:
        d = dict(d or {}, **kw)
        d.pop("type", None)
        self.raw = d
        self.is_main_result: bool = bool(d.get("is_main_result", False))
        self.text: Optional[str] = d.get("text")
        self.html: Optional[str] = d.get("html")
        self.markdown: Optional[str] = d.get("markdown")
        self.svg: Optional[str] = d.get("svg")
        self.png: Optional[str] = d.get("png")
        self.jpeg: Optional[str] = d.get("jpeg")
        self.pdf: Optional[str] = d.get("pdf")
        self.latex: Optional[str] = d.get("latex")
        self.json: Any = d.get("json")
        self.javascript: Optional[str] = d.get("javascript")
        self.data: Any = d.get("data")
        self.chart: Any = d.get("chart")
        self.extra: Dict[str, Any] = d.get("extra") or {}

    def formats(self) -> List[str]:
        """The names of the fields present, richest first (``extra`` keys last)."""
        out = [name for name, _ in MIME_FIELDS if getattr(self, name) is not None]
        return out + list(self.extra)

    @property
    def mime_type(self) -> Optional[str]:
        """The MIME type of the richest representation."""
        for name, mime in MIME_FIELDS:
            if getattr(self, name) is not None:
                return mime
        return next(iter(self.extra), None)

    @property
    def mime_types(self) -> List[str]:
        return [mime for name, mime in MIME_FIELDS if getattr(self, name) is not None] + list(self.extra)

    def image_bytes(self) -> Optional[bytes]:
        """The decoded PNG (else JPEG) image, or None."""
        b64 = self.png or self.jpeg
        return base64.b64decode(b64) if b64 else None

    image_data = property(image_bytes)

    # Jupyter display protocol
    def _repr_png_(self) -> Optional[str]:
        return self.png

    def _repr_jpeg_(self) -> Optional[str]:
        return self.jpeg

    def _repr_svg_(self) -> Optional[str]:
        return self.svg

    def _repr_html_(self) -> Optional[str]:
        return self.html

    def _repr_markdown_(self) -> Optional[str]:
        return self.markdown

    def _repr_latex_(self) -> Optional[str]:
        return self.latex

    def _repr_json_(self) -> Any:
        return self.json

    def _repr_javascript_(self) -> Optional[str]:
        return self.javascript

    def _repr_pdf_(self) -> Optional[str]:
        return self.pdf

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Dict[str, Any]:
        bundle = {mime: getattr(self, name) for name, mime in MIME_FIELDS
                  if getattr(self, name) is not None and "/" in mime}
        bundle.update({k: v for k, v in self.extra.items()})
        return bundle

    def __str__(self) -> str:
        return self.text if self.text is not None else repr(self)

    def __repr__(self) -> str:
        return f"Result({', '.join(self.formats())}{', main' if self.is_main_result else ''})"

    def to_json(self) -> Dict[str, Any]:
        return dict(self.raw)


@dataclass
class Logs(_DictAccess):
    """What a cell printed, as the chunks arrived."""

    stdout: List[str] = field(default_factory=list)
    stderr: List[str] = field(default_factory=list)


@dataclass
class ExecutionError(_DictAccess):
    """The exception a cell raised: ``name`` (e.g. ``ZeroDivisionError``), ``value``, ``traceback``."""

    name: str
    value: str
    traceback: str = ""

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ExecutionError":
        tb = d.get("traceback") or ""
        if isinstance(tb, list):
            tb = "\n".join(tb)
        return cls(name=d.get("name", ""), value=d.get("value", ""), traceback=tb)


@dataclass
class Execution(_DictAccess):
    """The outcome of :meth:`Sandbox.run_code`."""

    results: List[Result] = field(default_factory=list)
    logs: Logs = field(default_factory=Logs)
    error: Optional[ExecutionError] = None
    execution_count: Optional[int] = None
    truncated: bool = False

    @property
    def text(self) -> Optional[str]:
        """The text of the main result (the value of the cell's last expression), if any."""
        for r in self.results:
            if r.is_main_result:
                return r.text
        return None

    @property
    def stdout(self) -> str:
        return "".join(self.logs.stdout)

    @property
    def stderr(self) -> str:
        return "".join(self.logs.stderr)

    @property
    def is_error(self) -> bool:
        return self.error is not None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Execution":
        logs = d.get("logs") or {}
        return cls(results=[Result(r) for r in d.get("results") or []],
                   logs=Logs(list(logs.get("stdout") or []), list(logs.get("stderr") or [])),
                   error=ExecutionError.from_json(d["error"]) if d.get("error") else None,
                   execution_count=d.get("execution_count"), truncated=bool(d.get("truncated", False)))

    def to_json(self) -> Dict[str, Any]:
        return {"results": [r.to_json() for r in self.results],
                "logs": {"stdout": self.logs.stdout, "stderr": self.logs.stderr},
                "error": None if not self.error else {"name": self.error.name, "value": self.error.value,
                                                      "traceback": self.error.traceback},
                "execution_count": self.execution_count, "text": self.text}


@dataclass
class OutputMessage(_DictAccess):
    """A chunk of output given to ``on_stdout`` / ``on_stderr`` (``line`` is the text as it arrived)."""

    line: str
    error: bool = False
    timestamp: Optional[int] = None

    @property
    def text(self) -> str:
        return self.line

    @property
    def data(self) -> str:
        return self.line

    def __str__(self) -> str:
        return self.line


@dataclass
class CommandResult(_DictAccess):
    """The outcome of a shell command (``exec`` and one-shot ``run``)."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""
    output: str = ""
    cwd: Optional[str] = None
    truncated: bool = False
    duration_ms: Optional[int] = None
    error: Optional[str] = None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "CommandResult":
        return cls(exit_code=d.get("exit_code", -1), stdout=d.get("stdout", ""), stderr=d.get("stderr", ""),
                   output=d.get("output", (d.get("stdout", "") + d.get("stderr", ""))), cwd=d.get("cwd"),
                   truncated=bool(d.get("truncated", False)), duration_ms=d.get("duration_ms"),
                   error=d.get("error"))


@dataclass
class EntryInfo(_DictAccess):
    """A file, directory or symlink in a sandbox."""

    name: str
    path: str
    type: str
    size: int = 0
    mode: int = 0
    mtime: Optional[str] = None

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "EntryInfo":
        return cls(name=d.get("name", ""), path=d.get("path", ""), type=d.get("type", "file"),
                   size=d.get("size", 0), mode=d.get("mode", 0), mtime=d.get("mtime"))


@dataclass
class WriteInfo(_DictAccess):
    path: str
    size: int


@dataclass
class ProcessInfo(_DictAccess):
    """A process started in a sandbox (``process.list()``)."""

    pid: int
    cmd: str
    running: bool
    exit_code: Optional[int] = None


@dataclass
class ProcessResult(_DictAccess):
    """A finished process: its exit code and output."""

    pid: int
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False


@dataclass
class FilesystemEvent(_DictAccess):
    """A change under a watched directory: ``type`` create|write|remove|rename|chmod|overflow."""

    type: str
    path: str
    from_path: Optional[str] = None

    @property
    def event_type(self) -> str:
        return self.type

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class Stats(_DictAccess):
    """Resource usage of a sandbox."""

    memory_bytes: Optional[int] = None
    memory_limit: Optional[int] = None
    cpu_usage_usec: Optional[int] = None
    pids: Optional[int] = None
    disk_bytes: Optional[int] = None


@dataclass
class Context(_DictAccess):
    """An interpreter (kernel) inside a sandbox; ``default`` is the Python one."""

    id: str
    language: str
    cwd: Optional[str] = None


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def iter_results_text(results: List[Result]) -> Iterator[str]:
    for r in results:
        if r.text is not None:
            yield r.text
