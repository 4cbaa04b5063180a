"""The package as shipped: type hints check (mypy, the package is marked py.typed), the public names
import, and `python3 -m sluice` is the CLI."""
import os
import subprocess
import tempfile

from conftest import SDK


def test_mypy_clean():
    with tempfile.TemporaryDirectory() as cache:
        r = subprocess.run(["/usr/bin/python3", "-m", "mypy", "--ignore-missing-imports", "--cache-dir", cache,
                            os.path.join(SDK, "sluice")], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.exists(os.path.join(SDK, "sluice", "py.typed"))


def test_public_names_and_docstrings():
    import sluice
    import sluice.compat.agentkernel
    import sluice.compat.k2
    import sluice.compat.katakate
    import sluice.compat.sandkasten
    for name in sluice.__all__:
        assert hasattr(sluice, name), name
    for cls in (sluice.Sandbox, sluice.AsyncSandbox, sluice.compat.katakate.Client, sluice.compat.katakate.AsyncClient,
                sluice.compat.sandkasten.SandboxClient, sluice.compat.k2.Sandbox,
                sluice.compat.agentkernel.AgentKernel, sluice.compat.agentkernel.AsyncAgentKernel):
        assert cls.__doc__, cls
    # the twins have the same public methods
    sync = {n for n in dir(sluice.Sandbox) if not n.startswith("_")}
    asyn = {n for n in dir(sluice.AsyncSandbox) if not n.startswith("_")}
    assert asyn - sync == set()


def test_python_m_sluice_help():
    r = subprocess.run(["/usr/bin/python3", "-m", "sluice", "--help"], env=dict(os.environ, PYTHONPATH=SDK),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for cmd in ("create", "ls", "rm", "exec", "run", "code", "cp", "shell"):
        assert cmd in r.stdout


def test_wheel_installs_the_sluice_command(tmp_path):
    """pip builds the package (setuptools, offline) and installs a `sluice` console script that works."""
    import shutil
    src = tmp_path / "src"
    shutil.copytree(SDK, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    r = subprocess.run(["/usr/bin/python3", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        str(src), "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    wheel = next((tmp_path / "dist").glob("sluice-*.whl"))
    prefix = tmp_path / "prefix"
    r = subprocess.run(["/usr/bin/python3", "-m", "pip", "install", "--no-deps", "--no-index", "--prefix", str(prefix),
                        str(wheel)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    site = next(prefix.rglob("sluice/py.typed")).parent.parent  # Debian's pip: PREFIX/local/lib/.../dist-packages
    script = next(prefix.rglob("bin/sluice"))
    r = subprocess.run([str(script), "--help"], env=dict(os.environ, PYTHONPATH=str(site)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "shell" in r.stdout
