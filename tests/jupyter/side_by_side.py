#!/usr/bin/python3
"""Side by side: one notebook executed through Sluice (nbclient + jupyter_server's GatewayKernelManager) and
with a local ipykernel, printed as a cell-by-cell Markdown table (output types and short text from each side,
match yes/no; "match" compares the outputs as test_real_clients.py does: memory addresses, ANSI colours and
PNG bytes — not their sizes — aside).

    /usr/bin/python3 tests/jupyter/side_by_side.py [NOTEBOOK] [--gateway-url URL --token KEY] [--out FILE]

Without --gateway-url it starts a sluice-gateway of $SLUICE_BUILD_DIR (default: build/) on an ephemeral port,
with its own state dir and key. NOTEBOOK defaults to notebooks/errors_and_display.ipynb; the table is also
written to --out (default tests/artifacts/side_by_side.md). Exit status 0 when every cell matches."""
import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nbformat  # noqa: E402

from nbrun import NOTEBOOKS, make_ipythondir, run_local, run_sluice, summary  # noqa: E402

ARTIFACT = os.path.join(HERE, "..", "artifacts", "side_by_side.md")
SHORT = 48


def short(text):
    text = text.replace("\n", "⏎").replace("|", "\\|")
    return text if len(text) <= SHORT else text[:SHORT - 1] + "…"


def describe(out):
    """One output of summary() as `type: short text`."""
    kind = out[0]
    if kind == "stream":
        return f"stream/{out[1]}: {short(out[2])}"
    if kind == "error":
        return f"error: {short(out[1] + ': ' + out[2])}"
    data = json.loads(out[1])
    mimes = sorted(data)
    if "image/png" in data:
        text = "PNG %dx%d" % tuple(data["image/png"])
    else:
        texts = [data.get(m) for m in ("text/markdown", "text/plain", "text/html")]
        # the repr of a rich display object says less than its markdown or html
        texts = [t for t in texts if isinstance(t, str) and not (t.startswith("<") and t.endswith(" object>"))]
        text = texts[0] if texts else ""
    return f"{kind} [{', '.join(mimes)}]: {short(text)}"


def cell_text(outs):
    return "<br>".join(describe(o) for o in outs) or "(none)"


def table(name, sluice, local):
    rows = [f"Side by side: `{name}` through Sluice (nbclient + GatewayKernelManager) and local ipykernel", "",
            "| cell | Sluice | ipykernel | match |", "|---|---|---|---|"]
    all_match = len(sluice) == len(local)
    for i in range(max(len(sluice), len(local))):
        s = sluice[i] if i < len(sluice) else (None, [])
        loc = local[i] if i < len(local) else (None, [])
        same = s == loc
        all_match = all_match and same
        rows.append(f"| {i + 1} (In [{s[0]}] / In [{loc[0]}]) | {cell_text(s[1])} | {cell_text(loc[1])} | "
                    f"{'yes' if same else 'no'} |")
    rows += ["", f"All cells match: {'yes' if all_match else 'no'}", ""]
    return "\n".join(rows), all_match


def side_by_side(path, gateway_url, token):
    """(Markdown table, every cell matches) for the notebook at path."""
    nb = nbformat.read(path, as_version=4)
    gw = types.SimpleNamespace(url=gateway_url, key=token)
    ipydir = make_ipythondir()
    try:
        sluice = summary(run_sluice(copy.deepcopy(nb), gw))
        local = summary(run_local(copy.deepcopy(nb), ipydir))
    finally:
        shutil.rmtree(ipydir, ignore_errors=True)
    return table(os.path.basename(path), sluice, local)


def write(text, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook", nargs="?", default=os.path.join(NOTEBOOKS, "errors_and_display.ipynb"))
    ap.add_argument("--gateway-url")
    ap.add_argument("--token", default="")
    ap.add_argument("--out", default=ARTIFACT)
    a = ap.parse_args()
    gw = state = None
    if not a.gateway_url:
        from gw import Gateway
        state = tempfile.mkdtemp(prefix="sluice-sbs-")
        gw = Gateway(os.path.join(state, "state")).start()
        a.gateway_url, a.token = gw.url, gw.key
    try:
        text, ok = side_by_side(a.notebook, a.gateway_url, a.token)
    finally:
        if gw:
            gw.stop()
            shutil.rmtree(state, ignore_errors=True)
    print(text)
    write(text, a.out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
