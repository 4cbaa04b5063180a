"""Packages (POST/GET /api/v1/sandboxes/{sb}/packages) against a package index on a fake "internet" host.

The hosts and their network namespaces are test_egress's (its `internet` fixture, cleaned even on failure);
host A also serves, on another port, a PEP 503 simple index of a pure-Python wheel this test builds by hand
(sluicetiny 1.0 and 2.0) and, on a third port, a minimal npm registry (a packument per name, a tarball this
test builds: sluicetinyjs 1.0.0). The gateway's config points package_index.{python,javascript} at them; no
real internet."""
import base64
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile

import pytest

from conftest import API, Gateway, Sec, _it, create_key
from test_egress import HOSTS, internet  # noqa: F401  (the fixture, reused)

wait_until = _it.wait_until
INDEX_PORT = 8081
NPM_PORT = 8082
PKG = "sluicetiny"
JSPKG = "sluicetinyjs"


def wheel(dirpath, version):
    """A minimal pure-Python wheel: the package, METADATA, WHEEL and RECORD (with hashes)."""
    name = f"{PKG}-{version}-py3-none-any.whl"
    info = f"{PKG}-{version}.dist-info"
    files = {
        f"{PKG}/__init__.py": f"VALUE = 42\n__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {PKG}\nVersion: {version}\nSummary: sluice test\n\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: sluice-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(os.path.join(dirpath, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
    with open(os.path.join(dirpath, name), "rb") as f:
        return name, hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def index(internet):  # noqa: F811
    """http://A:8081/simple/ — a PEP 503 index of sluicetiny 1.0 and 2.0, served from host A's namespace."""
    root = tempfile.mkdtemp(prefix="sluice-pkgindex-")
    proc = None
    try:
        os.makedirs(os.path.join(root, "packages"))
        os.makedirs(os.path.join(root, "simple", PKG))
        links = []
        for v in ("1.0", "2.0"):
            name, sha = wheel(os.path.join(root, "packages"), v)
            links.append(f'<a href="../../packages/{name}#sha256={sha}">{name}</a><br/>')
        with open(os.path.join(root, "simple", PKG, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
        with open(os.path.join(root, "simple", "index.html"), "w") as f:
            f.write(f'<!DOCTYPE html><html><body><a href="{PKG}/">{PKG}</a></body></html>\n')
        proc = subprocess.Popen(
            ["ip", "netns", "exec", HOSTS["A"][1], "/usr/bin/python3", "-m", "http.server", str(INDEX_PORT),
             "--bind", "0.0.0.0"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        url = f"http://{internet['A']}:{INDEX_PORT}/simple/"

        def up():
            try:
                with urllib.request.urlopen(url + PKG + "/", timeout=2) as r:
                    return PKG in r.read().decode()
            except OSError:
                return False
        wait_until(up, timeout=15, what="package index")
        yield url
    finally:
        if proc:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def npm_tarball(version):
    """A minimal npm package tarball (.tgz): package/package.json and package/index.js."""
    files = {
        "package/package.json": json.dumps({"name": JSPKG, "version": version, "main": "index.js"}),
        "package/index.js": f"exports.hello = () => 'hello from {JSPKG} {version}';\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# GET /<name> → the packument (application/json), GET /-/<file>.tgz → the tarball, anything else 404
NPM_SERVER = r"""
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        p = self.path.split("?")[0].lstrip("/")
        f = os.path.join(sys.argv[2], "tarballs", p[2:]) if p.startswith("-/") else os.path.join(sys.argv[2], "packuments", p)
        if "/" in p[2:] or not p or not os.path.isfile(f):
            self.send_response(404); self.send_header("Content-Type", "application/json"); self.end_headers()
            self.wfile.write(b'{"error":"Not found"}'); return
        data = open(f, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream" if p.startswith("-/") else "application/json")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
"""


@pytest.fixture(scope="module")
def npm_registry(internet):  # noqa: F811
    """http://A:8082/ — an npm registry of sluicetinyjs 1.0.0 (packument + tarball, sha1 and sha512 by the test)."""
    root = tempfile.mkdtemp(prefix="sluice-npmreg-")
    proc = None
    try:
        os.makedirs(os.path.join(root, "packuments"))
        os.makedirs(os.path.join(root, "tarballs"))
        base = f"http://{internet['A']}:{NPM_PORT}/"
        tgz = npm_tarball("1.0.0")
        fname = f"{JSPKG}-1.0.0.tgz"
        with open(os.path.join(root, "tarballs", fname), "wb") as f:
            f.write(tgz)
        packument = {"name": JSPKG, "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {
            "name": JSPKG, "version": "1.0.0", "main": "index.js",
            "dist": {"tarball": f"{base}-/{fname}", "shasum": hashlib.sha1(tgz).hexdigest(),
                     "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()}}}}
        with open(os.path.join(root, "packuments", JSPKG), "w") as f:
            json.dump(packument, f)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", HOSTS["A"][1], "/usr/bin/python3", "-c", NPM_SERVER, str(NPM_PORT), root],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def up():
            try:
                with urllib.request.urlopen(base + JSPKG, timeout=2) as r:
                    return json.loads(r.read())["name"] == JSPKG
            except (OSError, ValueError):
                return False
        wait_until(up, timeout=15, what="npm registry")
        yield base
    finally:
        if proc:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def pk(index, npm_registry):
    """A gateway whose package_index is the test's index (python) and registry (javascript)."""
    workdir = tempfile.mkdtemp(prefix="sluice-pkg-")
    state = os.path.join(workdir, "state")
    gw = Gateway(state, config={"package_index": {"python": index, "javascript": npm_registry},
                                "package_timeout_s": 90}).start()
    try:
        gw.key = create_key(state)
        yield Sec(gw, workdir)
    finally:
        gw.kill(signal.SIGTERM)
        shutil.rmtree(workdir, ignore_errors=True)


def stdout(d):
    return "".join(d["logs"]["stdout"])


def test_install_pinned_imports_without_restart_and_lists(pk):
    sb = pk.create(name="pkg-py", pod_non_root=True, container_non_root=True)  # code runs as `user`
    before = pk.c.code(sb, "import sys\nprint('/home/user/.local/sluice/python' in sys.path)\n"
                           "try:\n    import sluicetiny\nexcept ImportError as e:\n    print('MISSING', type(e).__name__)\n")
    assert "True" in stdout(before) and "MISSING ModuleNotFoundError" in stdout(before), before
    assert pk.c.http.get(f"{API}/{sb}/packages").json()["data"] == []

    r = pk.c.http.post(f"{API}/{sb}/packages", json={"name": PKG, "version": "1.0"}, timeout=120)
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["name"] == PKG and d["version"] == "1.0" and "Successfully installed" in d["output"], d

    after = pk.c.code(sb, "import sluicetiny\nprint(sluicetiny.VALUE, sluicetiny.__version__)\n")
    assert stdout(after).strip() == "42 1.0", after
    assert pk.c.http.get(f"{API}/{sb}/packages?language=python").json()["data"] == [{"name": PKG, "version": "1.0"}]
    # installed as the sandbox's user (the one running its code)
    owner = pk.out(sb, "stat -c %U /home/user/.local/sluice/python/sluicetiny/__init__.py")
    assert owner.strip() == "user", owner

    # unpinned: the newest, found from pip's own report
    r = pk.c.http.post(f"{API}/{sb}/packages", json={"name": "SluiceTiny"}, timeout=120)
    assert r.status_code == 200 and r.json()["data"]["version"] == "2.0", r.text
    assert pk.c.http.get(f"{API}/{sb}/packages").json()["data"] == [{"name": PKG, "version": "2.0"}]


def test_pip_magic_installs_where_the_packages_route_does(pk):
    """%pip in a cell: the packages route's command (its dir, the gateway's index, the sandbox's user), pip's
    output as the cell's output, importable in the next cell without a restart; list / uninstall too."""
    sb = pk.create(name="pkg-magic", pod_non_root=True, container_non_root=True)  # code runs as `user`
    r = pk.c.code(sb, f"%pip install {PKG}==1.0")
    assert r["error"] is None and f"Successfully installed {PKG}-1.0" in stdout(r), r
    after = pk.c.code(sb, "import sluicetiny\nprint(sluicetiny.VALUE, sluicetiny.__version__)\n")
    assert stdout(after).strip() == "42 1.0", after
    assert pk.c.http.get(f"{API}/{sb}/packages").json()["data"] == [{"name": PKG, "version": "1.0"}]
    owner = pk.out(sb, "stat -c %U /home/user/.local/sluice/python/sluicetiny/__init__.py")
    assert owner.strip() == "user", owner
    listed = stdout(pk.c.code(sb, "%pip list"))
    assert any(line.split() == [PKG, "1.0"] for line in listed.splitlines()), listed

    bad = pk.c.code(sb, "%pip install nosuchpackage==1.0\nprint('exit', _exit_code)")
    assert "No matching distribution found for nosuchpackage==1.0" in "".join(bad["logs"]["stderr"]), bad
    assert "exit 1" in stdout(bad), bad

    gone = pk.c.code(sb, f"%pip uninstall {PKG}")
    assert f"Successfully uninstalled {PKG}-1.0" in stdout(gone), gone
    assert pk.c.http.get(f"{API}/{sb}/packages").json()["data"] == []


def test_npm_install_requires_without_restart_and_lists(pk):
    sb = pk.create(name="pkg-js", pod_non_root=True, container_non_root=True)  # code runs as `user`
    r = pk.c.http.post(f"{API}/{sb}/exec", json={"argv": ["/usr/bin/npm", "--version"], "timeout_ms": 30000})
    assert r.status_code == 200 and r.json()["data"]["exit_code"] == 0 and r.json()["data"]["stdout"].strip(), r.text
    r = pk.c.http.post(f"{API}/{sb}/contexts", json={"language": "javascript"})
    assert r.status_code == 201, r.text
    cid = r.json()["data"]["id"]
    before = pk.c.code(sb, f"try {{ require('{JSPKG}'); 'found' }} catch (e) {{ e.code }}", context_id=cid)
    assert before["text"] == "'MODULE_NOT_FOUND'", before
    assert pk.c.http.get(f"{API}/{sb}/packages?language=javascript").json()["data"] == []

    r = pk.c.http.post(f"{API}/{sb}/packages", json={"name": JSPKG, "version": "1.0.0", "language": "javascript"},
                       timeout=120)
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["name"] == JSPKG and d["version"] == "1.0.0" and "added 1 package" in d["output"], d

    # the same context (whose earlier require failed) and a fresh one both see it
    after = pk.c.code(sb, f"require('{JSPKG}').hello()", context_id=cid)
    assert after["error"] is None and after["text"] == f"'hello from {JSPKG} 1.0.0'", after
    assert pk.c.code(sb, f"require('{JSPKG}').hello()", language="javascript")["text"] == f"'hello from {JSPKG} 1.0.0'"
    assert pk.c.http.get(f"{API}/{sb}/packages?language=javascript").json()["data"] == \
        [{"name": JSPKG, "version": "1.0.0"}]
    owner = pk.out(sb, f"stat -c %U /home/user/.local/sluice/node/node_modules/{JSPKG}/index.js")
    assert owner.strip() == "user", owner
    assert pk.c.http.get(f"{API}/{sb}/packages?language=python").json()["data"] == []


def test_unknown_npm_package_is_an_error_with_npms_output(pk):
    sb = pk.create(name="pkg-js-missing")
    r = pk.c.http.post(f"{API}/{sb}/packages", json={"name": "nosuchjspackage", "language": "javascript"},
                       timeout=120)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "install_failed", err
    assert "npm install nosuchjspackage failed" in err["message"] and "E404" in err["message"], err
    assert "404 Not Found - GET http://" in err["message"] and "/nosuchjspackage" in err["message"], err
    assert "A complete log of this run can be found in" in err["message"], err  # the whole tail, not 512 bytes
    assert pk.c.http.get(f"{API}/{sb}/packages?language=javascript").json()["data"] == []


def test_unknown_package_is_an_error_with_pips_output(pk):
    sb = pk.create(name="pkg-missing")
    r = pk.c.http.post(f"{API}/{sb}/packages", json={"name": "nosuchpackage", "version": "1.0"}, timeout=120)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "install_failed", err
    assert "nosuchpackage" in err["message"] and "No matching distribution" in err["message"], err
    assert pk.c.http.get(f"{API}/{sb}/packages").json()["data"] == []


@pytest.mark.parametrize("body", [
    {"name": "x; rm -rf /"}, {"name": "--index-url=http://evil/"}, {"name": "-e"}, {"name": "../x"}, {"name": ""},
    {"name": "a" * 201}, {"name": 5}, {}, {"name": "ok", "version": "1.0 && id"}, {"name": "ok", "version": "$(id)"},
    {"name": "ok", "version": ">=1"}, {"name": "ok", "language": "ruby"}, {"name": "ok", "extra": 1},
])
def test_bad_requests_are_400(pk, body):
    sb = pk.create(name="pkg-bad") if not hasattr(test_bad_requests_are_400, "sb") else test_bad_requests_are_400.sb
    test_bad_requests_are_400.sb = sb
    r = pk.c.http.post(f"{API}/{sb}/packages", json=body)
    assert r.status_code == 400, (body, r.text)
    assert pk.c.http.get(f"{API}/{sb}/packages?language=cobol").status_code == 400
