"""Running a notebook through Sluice (nbclient + jupyter_server's GatewayKernelManager) and locally (ipykernel),
and reducing each to comparable per-cell outputs. Shared by test_real_clients.py and side_by_side.py."""
import base64
import json
import os
import re
import tempfile

from nbclient import NotebookClient

NOTEBOOKS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "notebooks"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ADDR = re.compile(r" at 0x[0-9a-f]+")
# ipykernel's launcher is Debian's python3 (ctest may run with another python3 first on PATH)
os.environ["PATH"] = "/usr/bin:" + os.environ.get("PATH", "")


def png_size(b64):
    raw = base64.b64decode(b64)
    return tuple(int.from_bytes(raw[i:i + 4], "big") for i in (16, 20))


def summary(nb):
    """Per code cell: outputs as (type, details) with timing- and process-dependent content removed."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.outputs:
            t = o.output_type
            if t == "stream":
                if outs and outs[-1][0] == "stream" and outs[-1][1] == o.name:
                    outs[-1] = ("stream", o.name, outs[-1][2] + o.text)
                else:
                    outs.append(("stream", o.name, o.text))
            elif t == "error":
                outs.append(("error", o.ename, o.evalue))
            else:
                data = {}
                for mime, v in o.data.items():
                    if mime.startswith("image/png"):
                        data[mime] = png_size(v)
                    elif isinstance(v, str):
                        data[mime] = ADDR.sub(" at 0x…", ANSI.sub("", v))
                    else:
                        data[mime] = v
                outs.append((t, json.dumps(data, sort_keys=True), o.get("execution_count")))
        cells.append((cell.execution_count, outs))
    return cells


def run_local(nb, ipythondir):
    env_before = os.environ.get("IPYTHONDIR")
    os.environ["IPYTHONDIR"] = ipythondir
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        if env_before is None:
            os.environ.pop("IPYTHONDIR", None)
        else:
            os.environ["IPYTHONDIR"] = env_before
    return nb


def use_gateway(url, token):
    """Points jupyter_server's GatewayClient (a process-wide singleton that caches its request arguments,
    the token among them, at first use) at this gateway."""
    from jupyter_server.gateway.managers import GatewayClient
    GatewayClient.clear_instance()
    gc = GatewayClient.instance()
    gc.url = url
    gc.auth_token = token
    return gc


def run_sluice(nb, gateway, kernel_name="python3"):
    from jupyter_server.gateway.managers import GatewayKernelManager
    use_gateway(gateway.url, gateway.key)
    NotebookClient(nb, timeout=120, kernel_manager_class=GatewayKernelManager).execute(kernel_name=kernel_name)
    return nb



def make_ipythondir():
    """An IPYTHONDIR for the local kernel: Sluice keeps figures at the size asked for (figsize x dpi); the
    local kernel is told to do the same."""
    d = tempfile.mkdtemp(prefix="sluice-ipy-")
    os.makedirs(os.path.join(d, "profile_default"))
    with open(os.path.join(d, "profile_default", "ipython_kernel_config.py"), "w") as f:
        f.write("c.InlineBackend.print_figure_kwargs = {'bbox_inches': None}\n")
    return d
