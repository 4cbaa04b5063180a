"""Rich results as a notebook user sees them: every `_repr_*_` method and `_repr_mimebundle_` maps to its
Result field (unknown MIME types under `extra`), and output written below Python (subprocess, os.system,
C's stdio through ctypes) arrives in the logs in order."""
import base64

PNG_1x1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
JPEG_MAGIC = b"\xff\xd8\xff"

REPRS = r'''
import base64
class Rich:
    def _repr_html_(self): return "<b>html</b>"
    def _repr_markdown_(self): return "**md**"
    def _repr_svg_(self): return '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    def _repr_png_(self): return base64.b64decode("%s")
    def _repr_jpeg_(self): return b"\xff\xd8\xff\xe0" + b"\0" * 12
    def _repr_pdf_(self): return b"%%PDF-1.4 tiny"
    def _repr_latex_(self): return r"$\alpha$"
    def _repr_json_(self): return {"k": [1, 2]}
    def _repr_javascript_(self): return "console.log(1)"
    def __repr__(self): return "Rich()"
Rich()
''' % PNG_1x1


def test_every_repr_method_maps_to_its_field(client):
    sb = client.create()["id"]
    ex = client.code(sb, REPRS)
    assert ex["error"] is None, ex["error"]
    assert len(ex["results"]) == 1
    r = ex["results"][0]
    assert r["is_main_result"] is True
    assert r["text"] == "Rich()" and ex["text"] == "Rich()"
    assert r["html"] == "<b>html</b>"
    assert r["markdown"] == "**md**"
    assert r["svg"].startswith("<svg")
    assert base64.b64decode(r["png"]) == base64.b64decode(PNG_1x1)
    assert base64.b64decode(r["jpeg"]).startswith(JPEG_MAGIC)
    assert base64.b64decode(r["pdf"]).startswith(b"%PDF-1.4")
    assert r["latex"] == r"$\alpha$"
    assert r["json"] == {"k": [1, 2]}
    assert r["javascript"] == "console.log(1)"


def test_mimebundle_and_unknown_types_go_to_extra(client):
    sb = client.create()["id"]
    code = ("class B:\n"
            "    def _repr_mimebundle_(self, include=None, exclude=None):\n"
            "        return {'text/plain': 'B!', 'text/html': '<p>B</p>',\n"
            "                'application/vnd.custom+json': {'x': 1}}\n"
            "from IPython.display import display\n"
            "display(B())\n"
            "B()")
    ex = client.code(sb, code)
    assert ex["error"] is None, ex["error"]
    shown, main = ex["results"]
    assert shown["is_main_result"] is False and main["is_main_result"] is True
    for r in (shown, main):
        assert r["text"] == "B!" and r["html"] == "<p>B</p>"
        assert r["extra"] == {"application/vnd.custom+json": {"x": 1}}


def test_output_below_python_is_captured_in_order(client):
    sb = client.create()["id"]
    code = ("import ctypes, os, subprocess, sys\n"
            "print('py-1', flush=True)\n"
            "subprocess.run(['echo', 'from-subprocess'], check=True)\n"
            "os.system('echo from-os-system; echo err-from-os-system >&2')\n"
            "libc = ctypes.CDLL(None)\n"
            "libc.printf(b'from-c-printf\\n'); libc.fflush(None)\n"
            "libc.write(2, b'from-c-write2\\n', 14)\n"
            "print('py-2')")
    ex = client.code(sb, code)
    assert ex["error"] is None, ex["error"]
    out = "".join(ex["logs"]["stdout"])
    err = "".join(ex["logs"]["stderr"])
    assert out.splitlines() == ["py-1", "from-subprocess", "from-os-system", "from-c-printf", "py-2"], out
    assert "err-from-os-system\n" in err and "from-c-write2\n" in err, err
