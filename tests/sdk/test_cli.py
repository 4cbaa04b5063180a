"""The `sluice` command driven as a user would: python3 -m sluice in a subprocess (PYTHONPATH=sdk/python),
against the real gateway; exit codes follow the remote command's."""
import json
import os
import subprocess
import sys

PY = "/usr/bin/python3"


def sluice(env, *args, input=None, timeout=90):
    return subprocess.run([PY, "-m", "sluice", *args], env=env, input=input, capture_output=True, text=True,
                          timeout=timeout)


def test_create_ls_exec_rm(env):
    r = sluice(env, "create", "--name", "cli-a", "-e", "GREETING=hello", "--metadata", "team=sdk")
    assert r.returncode == 0, r.stderr
    sid = r.stdout.strip()
    assert len(sid) == 36
    ls = sluice(env, "ls")
    assert ls.returncode == 0 and "cli-a" in ls.stdout and sid in ls.stdout and "NAME" in ls.stdout
    listed = json.loads(sluice(env, "ls", "--json").stdout)
    assert [s["id"] for s in listed] == [sid] and listed[0]["metadata"] == {"team": "sdk"}

    r = sluice(env, "exec", "cli-a", "--", "echo $GREETING; echo to-err >&2; exit 7")
    assert r.returncode == 7 and r.stdout == "hello\n" and r.stderr == "to-err\n"
    r = sluice(env, "exec", "cli-a", "--timeout", "5", "--", "ls", "-d", "/tmp")  # argv joined for the shell
    assert r.returncode == 0 and r.stdout == "/tmp\n"
    r = sluice(env, "exec", "cli-a", "--json", "--", "cd /tmp; pwd")
    assert r.returncode == 0 and json.loads(r.stdout)["cwd"] == "/tmp"
    assert sluice(env, "exec", "cli-a", "--", "pwd").stdout == "/tmp\n"  # the shell is stateful

    r = sluice(env, "rm", "cli-a", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [{"sandbox": "cli-a", "success": True, "error": None}]
    r = sluice(env, "rm", "cli-a")
    assert r.returncode == 3 and "not_found" in r.stderr
    assert json.loads(sluice(env, "ls", "--json").stdout) == []


def test_run_one_shot(env):
    r = sluice(env, "run", "--", "echo one; echo two >&2; sh -c 'exit 5'")
    assert r.returncode == 5 and r.stdout == "one\n" and "two\n" in r.stderr
    r = sluice(env, "run", "--", "python3", "-c", "print(6 * 7)")
    assert r.returncode == 0 and r.stdout == "42\n"
    assert json.loads(sluice(env, "ls", "--json").stdout) == []  # nothing left behind


def test_code_prints_rich_results(env, tmp_path):
    assert sluice(env, "create", "--name", "cli-code").returncode == 0
    src = tmp_path / "cell.py"
    src.write_text("print('printed')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"
                   "import pandas as pd\ndisplay(pd.DataFrame({'col': [7]}))\n6 * 7\n")
    r = sluice(env, "code", "cli-code", str(src), "--save-images", str(tmp_path / "img"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "printed"
    assert any("png saved to" in line for line in lines)
    assert any("col" in line for line in lines)  # the DataFrame's text form, not its HTML
    assert lines[-1] == "42"
    png = (tmp_path / "img" / "result-1.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    r = sluice(env, "code", "cli-code", "-", input="1/0\n")
    assert r.returncode == 1 and "ZeroDivisionError" in r.stderr and "\x1b[" not in r.stderr
    r = sluice(env, "code", "cli-code", "-", "--json", input="print('x')\n'y'\n")
    ex = json.loads(r.stdout)
    assert ex["text"] == "'y'" and "".join(ex["logs"]["stdout"]) == "x\n" and ex["error"] is None
    r = sluice(env, "code", "cli-code", "-", "-l", "bash", input="echo from-bash\n")
    assert r.stdout == "from-bash\n"


def test_cp_both_ways(env, tmp_path):
    assert sluice(env, "create", "--name", "cli-cp").returncode == 0
    data = os.urandom(1 << 20)
    local = tmp_path / "blob.bin"
    local.write_bytes(data)
    r = sluice(env, "cp", str(local), "cli-cp:/tmp/in/")
    assert r.returncode == 0, r.stderr
    assert sluice(env, "exec", "cli-cp", "--", "stat -c %s /tmp/in/blob.bin").stdout == f"{len(data)}\n"
    r = sluice(env, "cp", "cli-cp:/tmp/in/blob.bin", str(tmp_path / "back.bin"))
    assert r.returncode == 0 and (tmp_path / "back.bin").read_bytes() == data
    r = sluice(env, "cp", "cli-cp:/tmp/nope", str(tmp_path / "x"))
    assert r.returncode == 3 and "not_found" in r.stderr and not (tmp_path / "x").exists()


def test_usage_and_gateway_errors(env):
    bad = dict(env, SLUICE_API_KEY="wrong")
    r = sluice(bad, "ls")
    assert r.returncode == 3 and "401" in r.stderr
    r = sluice(env, "exec", "no-such", "--", "true")
    assert r.returncode == 3 and "404" in r.stderr
    r = sluice(env, "frobnicate")
    assert r.returncode == 2
    assert sluice(env, "--help").returncode == 0 and "shell" in sluice(env, "--help").stdout
    assert sys.executable


def test_cp_recursive(env, tmp_path):
    assert sluice(env, "create", "--name", "cli-cpr").returncode == 0
    tree = tmp_path / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "a.txt").write_text("A")
    (tree / "sub" / "b.bin").write_bytes(os.urandom(70000))
    (tree / "sub" / "deeper" / "c.txt").write_text("C")
    r = sluice(env, "cp", str(tree), "cli-cpr:/tmp/")
    assert r.returncode == 2 and "-r" in r.stderr
    r = sluice(env, "cp", "-r", str(tree), "cli-cpr:/tmp/")
    assert r.returncode == 0 and "3 files" in r.stderr, r.stderr
    listing = sluice(env, "exec", "cli-cpr", "--", "cd /tmp/tree && find . -type f | sort").stdout
    assert listing == "./a.txt\n./sub/b.bin\n./sub/deeper/c.txt\n"
    back = tmp_path / "back"
    r = sluice(env, "cp", "-r", "cli-cpr:/tmp/tree", str(back))
    assert r.returncode == 0, r.stderr
    assert (back / "sub" / "b.bin").read_bytes() == (tree / "sub" / "b.bin").read_bytes()
    assert (back / "sub" / "deeper" / "c.txt").read_text() == "C" and (back / "a.txt").read_text() == "A"


def test_progress_indicator_on_a_terminal(env):
    """Long work shows a spinner on stderr when it is a terminal (and nothing when it is not)."""
    import pty
    import select
    e = {k: v for k, v in env.items() if k != "SLUICE_NO_PROGRESS"}
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([PY, "-m", "sluice", "run", "--", "sleep 1.5; echo out"], env=e, stdout=subprocess.PIPE,
                             stderr=slave, text=True)
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0 and out == "out\n"
        seen = b""
        while select.select([master], [], [], 0.5)[0]:
            seen += os.read(master, 65536)
        assert b"starting a sandbox" in seen and b"\x1b[K" in seen  # drawn, then erased
    finally:
        os.close(master)
        os.close(slave)
    r = sluice(e, "run", "--", "sleep 0.5; echo out")
    assert r.stdout == "out\n" and r.stderr == ""  # not a terminal: no spinner
