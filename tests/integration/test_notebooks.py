"""The example notebooks in notebooks/ run cell by cell through the code route and give what a Jupyter
user would see: figures as PNGs of the right size, DataFrames as HTML tables, errors with tracebacks."""
import base64
import json
import os
import re
import struct

import pytest

NOTEBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "notebooks")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cells(name):
    with open(os.path.join(NOTEBOOKS, name)) as f:
        nb = json.load(f)
    return [("".join(c["source"]) if isinstance(c["source"], list) else c["source"], c["metadata"])
            for c in nb["cells"] if c["cell_type"] == "code"]


def png_size(b64):
    raw = base64.b64decode(b64)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def run_notebook(client, name):
    sb = client.create()["id"]
    outs = []
    for src, meta in cells(name):
        ex = client.code(sb, src, timeout=120)
        if "raises-exception" not in meta.get("tags", []):
            assert ex["error"] is None, (src, ex["error"])
        outs.append(ex)
    return outs


def test_plots_notebook(client):
    outs = run_notebook(client, "plots.ipynb")
    pngs = [r["png"] for r in outs[1]["results"] if r.get("png")]
    assert len(pngs) == 1
    assert png_size(pngs[0]) == (600, 400)  # figsize (6, 4) at dpi 100
    pngs = [r["png"] for r in outs[2]["results"] if r.get("png")]
    assert len(pngs) == 1 and png_size(pngs[0]) == (800, 300)
    assert "".join(outs[3]["logs"]["stdout"]) == "done plotting\n"
    # figures are closed after being sent: the next cell has none
    assert not any(r.get("png") for r in outs[3]["results"])


def test_dataframes_notebook(client):
    outs = run_notebook(client, "dataframes.ipynb")
    main = outs[1]["results"][0]
    assert main["is_main_result"] is True
    assert "<table" in main["html"] and "Oslo" in main["html"]
    assert "Oslo" in main["text"]
    assert "<table" in outs[2]["results"][0]["html"]
    assert "'city': 'Pune'" in outs[3]["text"]
    assert "Lima" in "".join(outs[4]["logs"]["stdout"])


def test_errors_and_display_notebook(client):
    outs = run_notebook(client, "errors_and_display.ipynb")
    assert "".join(outs[0]["logs"]["stdout"]) == "to stdout\n"
    assert "".join(outs[0]["logs"]["stderr"]) == "to stderr\n"
    md = [r.get("markdown") for r in outs[1]["results"] if r.get("markdown")]
    assert md[-1] == "**step 2**"  # the update replaced step 1
    assert any(r.get("html") == "<b>bold</b>" for r in outs[1]["results"])
    err = outs[2]["error"]
    assert err["name"] == "ZeroDivisionError"
    tb = ANSI.sub("", "\n".join(err["traceback"]) if isinstance(err["traceback"], list) else err["traceback"])
    assert "fails(0)" in tb and "10 / n" in tb
    assert outs[3]["text"] == "42"
