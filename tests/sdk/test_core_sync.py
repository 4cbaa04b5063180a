"""The core API end to end, blocking flavour, against the real gateway: lifecycle, run_code (results,
errors, live callbacks), the stateful shell, files, processes with stdin, terminals, watches, errors."""
import base64
import os
import re
import time

import pytest

import sluice
from sluice import Sandbox


def test_lifecycle(env):
    sb = Sandbox.create(envs={"GREETING": "hi"}, cwd="/tmp", timeout=120, metadata={"owner": "sdk-test"},
                        limits={"memory": "512Mi"}, name="life")
    try:
        assert sb.info.status == "running" and sb.info.metadata == {"owner": "sdk-test"}
        assert sb.exec("echo $GREETING; pwd").stdout == "hi\n/tmp\n"
        again = Sandbox.connect("life")
        assert again.sandbox_id == sb.sandbox_id
        again.close()
        assert [s.id for s in Sandbox.list()] == [sb.sandbox_id]
        assert sb.is_running() is True
        sb.set_timeout(600)
        assert sb.info.timeout == 600
        st = sb.stats()
        assert st.memory_bytes > 0 and st.pids >= 1
    finally:
        assert sb.kill() is True
    assert Sandbox.list() == []
    with pytest.raises(sluice.NotFoundError):
        Sandbox.connect(sb.sandbox_id)


def test_context_manager_kills(env):
    with Sandbox.create() as sb:
        sid = sb.sandbox_id
        assert sb.run_code("1 + 1").text == "2"
    assert sid not in [s.id for s in Sandbox.list()]


def test_run_code_results_errors_state(env):
    with Sandbox.create() as sb:
        ex = sb.run_code("x = 6 * 7\nprint('side')\nx")
        assert ex.text == "42" and "".join(ex.logs.stdout) == "side\n" and ex.error is None
        assert ex.results[0].is_main_result and ex.execution_count >= 1
        assert sb.run_code("x + 1").text == "43"  # state kept
        ex = sb.run_code("1/0")
        assert ex.error.name == "ZeroDivisionError" and "division by zero" in ex.error.value
        assert "1/0" in re.sub(r"\x1b\[[0-9;]*m", "", ex.error.traceback)
        ex = sb.run_code("import pandas as pd\npd.DataFrame({'a': [1, 2]})")
        r = ex.results[0]
        assert "<table" in r.html and r._repr_html_() == r.html and "a" in r.text
        ex = sb.run_code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
        img = [r for r in ex.results if r.png]
        assert img and base64.b64decode(img[0].png)[:8] == b"\x89PNG\r\n\x1a\n"
        assert img[0].mime_type == "image/png" and img[0]._repr_png_() == img[0].png
        assert sb.run_code("echo $((2 + 3))", language="bash").stdout == "5\n"
        ctx = sb.create_code_context("python", cwd="/tmp")
        assert sb.run_code("import os; os.getcwd()", context=ctx).text == "'/tmp'"
        assert sb.run_code("x", context=ctx).error.name == "NameError"  # separate state
        sb.notebook.reset()
        assert sb.run_code("x").error.name == "NameError"


def test_live_callbacks(env):
    with Sandbox.create() as sb:
        seen = []
        t0 = time.monotonic()
        ex = sb.run_code("import time, sys\nprint('first', flush=True)\ntime.sleep(2)\n"
                         "print('oops', file=sys.stderr)\n{'a': 1}",
                         on_stdout=lambda m: seen.append(("out", m.line, time.monotonic())),
                         on_stderr=lambda m: seen.append(("err", m.line, time.monotonic())),
                         on_result=lambda r: seen.append(("res", r.text, time.monotonic())))
        end = time.monotonic()
        first = [s for s in seen if s[0] == "out"][0]
        assert first[1].startswith("first")
        assert end - first[2] >= 1.5  # the first stdout callback fired while the cell still ran
        assert "".join(s[1] for s in seen if s[0] == "err") == "oops\n"
        assert ("res", "{'a': 1}") == seen[-1][:2] and ex.text == "{'a': 1}"
        errs = []
        ex = sb.run_code("raise ValueError('bad')", on_error=errs.append)
        assert errs and errs[0].name == "ValueError" and ex.error.name == "ValueError"
        out = []
        res = sb.exec("echo a; sleep 1; echo b >&2; cd /tmp", on_stdout=out.append, on_stderr=out.append)
        assert [m.line for m in out] == ["a\n", "b\n"] and res.cwd == "/tmp" and res.output == "a\nb\n"
    assert t0 < end


def test_exec_stateful_and_timeout(env):
    with Sandbox.create() as sb:
        sb.exec("cd /tmp && export K=v && f() { echo fn-$1; }")
        r = sb.exec("pwd; echo $K; f x")
        assert r.stdout == "/tmp\nv\nfn-x\n" and r.cwd == "/tmp" and r.exit_code == 0
        r = sb.exec("echo err >&2; (exit 3)")
        assert r.exit_code == 3 and r.stderr == "err\n"
        with pytest.raises(sluice.CommandExitError) as e:
            sb.exec("(exit 4)", check=True)
        assert e.value.exit_code == 4
        assert sb.exec(["python3", "-c", "print(6 * 7)"]).stdout == "42\n"
        assert sb.exec("cat", stdin="piped").stdout == "piped"
        assert sb.exec("sleep 20", timeout=0.3).exit_code == 124
        assert sb.exec("echo $K").stdout == "v\n"


def test_files_round_trip(env, tmp_path):
    with Sandbox.create() as sb:
        f = sb.files
        data = os.urandom(300000)
        assert f.write("/tmp/d/bin.dat", data).size == len(data)
        assert f.read("/tmp/d/bin.dat", format="bytes") == data
        assert b"".join(f.read("/tmp/d/bin.dat", format="stream")) == data
        f.write("/tmp/d/t.txt", "héllo")
        assert f.read("/tmp/d/t.txt") == "héllo"
        assert sb.exec("cat /tmp/d/t.txt").stdout == "héllo"
        assert sorted((e.name, e.type) for e in f.list("/tmp/d")) == [("bin.dat", "file"), ("t.txt", "file")]
        assert f.exists("/tmp/d/t.txt") and not f.exists("/tmp/nope")
        assert f.make_dir("/tmp/d/sub/deeper") is True and f.make_dir("/tmp/d/sub/deeper") is False
        assert f.rename("/tmp/d/t.txt", "/tmp/d/sub/u.txt").path == "/tmp/d/sub/u.txt"
        assert not f.exists("/tmp/d/t.txt")
        local = tmp_path / "up.txt"
        local.write_bytes(b"uploaded")
        assert f.upload([str(local)], "/tmp/up") == ["/tmp/up/up.txt"]
        with open(local, "rb") as fh:  # a file object is streamed with its length
            f.write("/tmp/up/again.txt", fh)
        assert f.read("/tmp/up/again.txt") == "uploaded"
        assert f.download("/tmp/d/bin.dat", tmp_path / "back.dat") == len(data)
        assert (tmp_path / "back.dat").read_bytes() == data
        f.remove("/tmp/d")
        assert not f.exists("/tmp/d/sub/u.txt")
        with pytest.raises(sluice.NotFoundError) as e:
            f.read("/tmp/d/sub/u.txt")
        assert e.value.status == 404 and e.value.code == "not_found"


def test_background_process_with_stdin(env):
    with Sandbox.create() as sb:
        h = sb.process.start("read a; read b; echo got $a $b; echo bye >&2; exit 5")
        assert h.pid > 0 and h.running
        assert any(p.pid == h.pid and p.running for p in sb.process.list())
        h.send_stdin("one\n")
        h.send_stdin("two\n", eof=True)
        res = h.wait(30)
        assert res.exit_code == 5 and res.stdout == "got one two\n" and res.stderr == "bye\n"
        k = sb.process.start("sleep 600")
        assert k.kill() is True
        assert k.wait(30).exit_code != 0
        assert sb.process.kill(999999) is False
        r = sb.process.run("echo $X", envs={"X": "from-env"}, cwd="/tmp")
        assert r.stdout == "from-env\n"


def test_errors_map_the_envelope(env, gw):
    with pytest.raises(sluice.AuthenticationError) as e:
        Sandbox.list(api_key="wrong")
    assert e.value.status == 401 and e.value.code and e.value.message
    with pytest.raises(sluice.NotFoundError):
        Sandbox.connect("no-such-sandbox")
    with pytest.raises(sluice.UnprocessableError) as e:
        Sandbox.create(limits={"memory": "lots"})
    assert e.value.status == 422
    with pytest.raises(sluice.BadRequestError):
        Sandbox.create(image="no-such-image")
    with Sandbox.create(name="dup"):
        with pytest.raises(sluice.ConflictError) as e:
            Sandbox.create(name="dup")
        assert e.value.status == 409 and isinstance(e.value, sluice.SluiceError)
    with pytest.raises(sluice.ConnectionLostError):
        Sandbox.list(url="http://127.0.0.1:9")  # nothing listens there


def test_errors_403_413_429_and_the_status_map(env, gw, tmp_path):
    from conftest import Gateway, create_key
    scoped = create_key(gw.state_dir, name="team-a", namespaces=["team-a"])
    with pytest.raises(sluice.PermissionDeniedError) as e:
        Sandbox.create(namespace="other", api_key=scoped)
    assert e.value.status == 403 and e.value.code
    with pytest.raises(sluice.PayloadTooLargeError) as e:
        Sandbox.create(metadata={"big": "a" * (17 << 20)})
    assert e.value.status == 413
    small = Gateway(str(tmp_path / "state"), config={"max_sandboxes": 1}).start()
    try:
        key = create_key(small.state_dir)
        with Sandbox.create(url=small.url, api_key=key):
            with pytest.raises(sluice.RateLimitError) as e:
                Sandbox.create(url=small.url, api_key=key)
            assert e.value.status == 429 and e.value.code
    finally:
        small.kill()
    from sluice.errors import error_from_status
    assert isinstance(error_from_status(500, "internal", "x"), sluice.ServerError)
    assert isinstance(error_from_status(503, "shutting_down", "x"), sluice.ServerError)
    assert isinstance(error_from_status(504, None, "x"), sluice.TimeoutError)


def test_sync_callback_calling_the_sync_api_is_refused(env):
    with Sandbox.create() as sb:
        seen = []

        def on_out(msg):
            try:
                sb.exec("true")
            except RuntimeError as e:
                seen.append(str(e))
        sb.run_code("print('x')", on_stdout=on_out)
        assert seen and "callback" in seen[0]  # a clear error instead of a deadlock
