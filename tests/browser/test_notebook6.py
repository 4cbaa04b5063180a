"""Classic Notebook 6 (Debian's python3-notebook) started with --gateway-url against the real sluice-gateway,
driven in Debian's headless Chromium by playwright-core (notebook6.js): open notebooks/plots.ipynb, Cell > Run All,
the plots appear as PNG images; the screenshot is kept in tests/artifacts/."""
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "jupyter"))
from gw import Gateway  # noqa: E402  (the same gateway runner as tests/jupyter)

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
CHROMIUM = "/usr/bin/chromium"
# ipykernel and notebook are Debian's (ctest may run with another python3 first on PATH)
os.environ["PATH"] = "/usr/bin:" + os.environ.get("PATH", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def node_modules():
    """`npm ci` from the committed package-lock.json (node_modules is not committed); serialized across runs."""
    lock = os.path.join(tempfile.gettempdir(), "sluice-browser-npm-%s.lock" % hashlib.sha1(HERE.encode()).hexdigest()[:12])
    with open(lock, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        t0 = time.monotonic()
        for attempt in range(3):  # a registry hiccup (seen: EHOSTUNREACH) gets two more tries
            try:
                r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=HERE,
                                   capture_output=True, text=True, timeout=150)
            except subprocess.TimeoutExpired as e:
                r = subprocess.CompletedProcess(e.cmd, 124, str(e.stdout or ""), f"timed out after {e.timeout}s")
            if r.returncode == 0:
                break
            print(f"npm ci attempt {attempt + 1} failed:\n{r.stdout}{r.stderr}")
        assert r.returncode == 0, r.stdout + r.stderr
        print(f"npm ci: {time.monotonic() - t0:.1f}s")
        yield os.path.join(HERE, "node_modules")
        # the lock is held until the module's tests are done, so a second run's `npm ci` can't pull it away


@pytest.fixture(scope="module")
def gateway():
    d = tempfile.mkdtemp(prefix="sluice-bt-")
    gw = Gateway(os.path.join(d, "state")).start()
    gw.http = httpx.Client(base_url=gw.url, headers={"Authorization": f"token {gw.key}"}, timeout=60)
    yield gw
    try:
        for k in gw.http.get("/api/kernels").json():
            gw.http.delete(f"/api/kernels/{k['id']}")
    except Exception:
        pass
    gw.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def notebook6(gateway):
    port, token = free_port(), uuid.uuid4().hex
    root = tempfile.mkdtemp(prefix="sluice-nb6-")
    nbdir = os.path.join(root, "notebooks")
    os.makedirs(nbdir)
    shutil.copy(os.path.join(ROOT, "notebooks", "plots.ipynb"), nbdir)
    log_path = os.path.join(root, "notebook.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--NotebookApp.token={token}", f"--notebook-dir={nbdir}",
         f"--gateway-url={gateway.url}", f"--GatewayClient.auth_token={gateway.key}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": root, "JUPYTER_CONFIG_DIR": root, "JUPYTER_DATA_DIR": root,
             "IPYTHONDIR": root})
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, headers={"Authorization": f"token {token}"}, timeout=30)
    deadline = time.monotonic() + 60
    try:
        while True:  # readiness: the server answers /api, and lists the gateway's kernelspecs
            try:
                r = http.get("/api/kernelspecs")
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, open(log_path).read()
            assert time.monotonic() < deadline, "notebook server did not start:\n" + open(log_path).read()
            time.sleep(0.1)  # polling interval of a bounded readiness check
        assert "python3" in r.json()["kernelspecs"], r.text
        yield url, token, http, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def test_classic_notebook_plots_in_chromium(node_modules, gateway, notebook6):
    assert os.path.exists(CHROMIUM), "Debian's chromium is not installed (scripts/setup.sh installs it)"
    url, token, http, log_path = notebook6
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "notebook6-plots.png")
    if os.path.exists(shot):
        os.unlink(shot)
    t0 = time.monotonic()
    r = subprocess.run(["node", os.path.join(HERE, "notebook6.js"), url, token, "plots.ipynb", shot],
                       cwd=HERE, env={**os.environ, "CHROMIUM": CHROMIUM}, capture_output=True, text=True, timeout=240)
    print(r.stdout)
    print(f"node notebook6.js: {time.monotonic() - t0:.1f}s, screenshot: {shot}")
    if r.returncode != 0:
        print(r.stderr)
        print(open(log_path).read()[-8000:])
        print("\n".join(gateway.lines[-50:]))
    assert r.returncode == 0, r.stderr[-4000:]
    assert os.path.getsize(shot) > 10000
    # the notebook's kernel ran in Sluice: the server's session names a kernel the gateway has
    sessions = http.get("/api/sessions").json()
    assert len(sessions) == 1 and sessions[0]["path"] == "plots.ipynb", sessions
    kid = sessions[0]["kernel"]["id"]
    assert gateway.http.get(f"/api/kernels/{kid}").status_code == 200
    # shutting the session down through the notebook server deletes the kernel in Sluice
    assert http.delete(f"/api/sessions/{sessions[0]['id']}").status_code == 204
    assert gateway.http.get(f"/api/kernels/{kid}").status_code == 404
