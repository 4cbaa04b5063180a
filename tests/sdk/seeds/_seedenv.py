"""Test environment for the seed examples (not part of any example): a PEP 503 package index served from
inside a sandbox on its own loopback, so that `notebook.install_package(...)` works on a machine without
network. The test gateway's `package_index.python` is http://127.0.0.1:8765/simple/ (tests/sdk/test_seeds.py);
pip runs in the sandbox's network namespace, where this server listens. The wheels are minimal pure-Python
stand-ins named like the packages the example installs."""
import base64
import hashlib
import io
import time
import zipfile

PORT = 8765
PACKAGES = [("pandas", "2.0.3"), ("numpy", "1.20.0"), ("numpy", "1.26.4")]


def _wheel(name, version):
    fname = f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: sluice seed test\n\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: sluice-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
    return fname, buf.getvalue()


def serve_index(sandbox, timeout=30):
    """Writes the index into /tmp/index of the (K2 compat) sandbox and serves it on 127.0.0.1:PORT there."""
    fs = sandbox.filesystem
    links = {}
    for name, version in PACKAGES:
        fname, data = _wheel(name, version)
        fs.write(f"/tmp/index/packages/{fname}", data)
        sha = hashlib.sha256(data).hexdigest()
        links.setdefault(name, []).append(f'<a href="../../packages/{fname}#sha256={sha}">{fname}</a><br/>')
    for name, items in links.items():
        fs.write(f"/tmp/index/simple/{name}/index.html", "<html><body>\n" + "\n".join(items) + "\n</body></html>\n")
    fs.write("/tmp/index/simple/index.html",
             "<html><body>" + "".join(f'<a href="{n}/">{n}</a>' for n in links) + "</body></html>\n")
    sandbox.process.start(f"exec python3 -m http.server {PORT} --bind 127.0.0.1 --directory /tmp/index",
                          background=True)
    probe = ("import urllib.request; urllib.request.urlopen('http://127.0.0.1:%d/simple/', timeout=2)" % PORT)
    deadline = time.time() + timeout
    while sandbox.process.start(f'python3 -c "{probe}"', timeout=10).exit_code != 0:
        assert time.time() < deadline, "the sandbox's package index did not come up"
        time.sleep(0.1)  # polling a bounded readiness check
