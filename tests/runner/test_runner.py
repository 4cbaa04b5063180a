"""sluice-runner against a fake gateway: exec, Python, isolation, cleanup, gateway restarts.

Run: SLUICE_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/runner  (as root; ctest does this).
"""
import os
import re
import signal
import time

from probe import Snapshot


def wait_until(pred, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)  # bounded readiness polling, not a fixed wait
        delay = min(delay * 2, 0.1)


# ---- exec: the stateful shell -------------------------------------------------------------------

def test_exec_echo_and_state(gw, sandbox):
    out, err, r = gw.exec(sandbox, "echo hello; echo oops >&2; exit_code_probe() { return 3; }")
    assert out == "hello\n" and err == "oops\n" and r["exit_code"] == 0 and r["timed_out"] is False
    _, _, r = gw.exec(sandbox, "cd /tmp")
    assert r["cwd"] == "/tmp"
    out, _, r = gw.exec(sandbox, "pwd")
    assert out == "/tmp\n" and r["cwd"] == "/tmp"
    gw.exec(sandbox, "export SLUICE_T=kept")
    assert gw.exec(sandbox, "echo $SLUICE_T")[0] == "kept\n"
    assert gw.exec(sandbox, "exit_code_probe")[2]["exit_code"] == 3
    assert gw.exec(sandbox, "false")[2]["exit_code"] == 1
    # background jobs persist across commands
    gw.exec(sandbox, "sleep 300 &")
    assert "sleep" in gw.exec(sandbox, "jobs")[0]
    # stdin, argv, per-command cwd/env (not persisted)
    assert gw.exec(sandbox, "tr a-z A-Z", stdin="abc\n")[0] == "ABC\n"
    events, r = gw.request(sandbox, "sluice_exec_request", {"argv": ["printf", "%s|", "a b", "it's"]})
    assert r["content"]["exit_code"] == 0 and streams(events) == "a b|it's|"
    out, _, r = gw.exec(sandbox, "echo $PWD $X", cwd="/home/user", env={"X": "y z"})
    assert out == "/home/user y z\n"
    assert gw.exec(sandbox, "echo $PWD ${X:-unset}")[0] == "/tmp unset\n"


def test_exec_output_is_streamed_live(gw, sandbox):
    mid = gw.send(sandbox, "sluice_exec_request", {"command": "echo first; sleep 1; echo second"})
    first = gw.recv(lambda m: m["parent"].get("msg_id") == mid, 10, "first stream")
    assert first["type"] == "stream" and first["content"]["text"] == "first\n"
    reply = gw.recv(lambda m: m["parent"].get("msg_id") == mid and m["type"] == "sluice_exec_reply", 10, "reply")
    assert reply["content"]["duration_ms"] >= 900


def test_exec_large_and_invalid_utf8_output(gw, sandbox):
    events, reply = gw.request(sandbox, "sluice_exec_request",
                               {"command": "head -c 300000 /dev/zero | tr '\\0' x; printf '\\xff\\xc3'; printf '\\xa9'"})
    text = "".join(e["content"]["text"] for e in events if e["type"] == "stream")
    assert all(len(e["content"]["text"].encode()) <= 65536 for e in events if e["type"] == "stream")
    assert text.startswith("x" * 300000) and text.endswith("\ufffd\u00e9")


def test_exec_timeout_kills_command_not_shell(gw, sandbox):
    gw.exec(sandbox, "cd /tmp; export KEEP=1; sleep 600 &")
    out, _, r = gw.exec(sandbox, "echo start; sleep 30; echo never", timeout_ms=500)
    assert r["exit_code"] == 124 and r["timed_out"] is True and "timeout after 500 ms" in r["error"]
    assert out == "start\n"
    out, _, r = gw.exec(sandbox, "echo $KEEP; pwd; jobs | grep -c sleep")
    assert out == "1\n/tmp\n1\n", out  # state and the older background job survived
    # a pipeline with children of its own
    _, _, r = gw.exec(sandbox, "bash -c 'sleep 50 | sleep 50' ", timeout_ms=300)
    assert r["exit_code"] == 124
    assert gw.exec(sandbox, "ps -e -o comm= | grep -c '^sleep$'")[0] == "1\n"


def test_exec_builtin_loop_times_out_and_shell_survives(gw, sandbox):
    gw.exec(sandbox, "export KEPT=1")
    _, _, r = gw.exec(sandbox, "while :; do :; done; echo never", timeout_ms=300)
    assert r["exit_code"] == 124 and r["timed_out"]
    out, _, r = gw.exec(sandbox, "f() { sleep 30; echo never; }; f; echo never2", timeout_ms=300)
    assert r["exit_code"] == 124 and out == ""
    assert gw.exec(sandbox, "echo $KEPT")[0] == "1\n"


def test_exec_stuck_shell_is_restarted(gw, sandbox):
    gw.exec(sandbox, "export GONE=1")
    _, _, r = gw.exec(sandbox, "trap '' USR1; while :; do :; done", timeout_ms=300)
    assert r["exit_code"] == 124 and r["timed_out"] and "restarted" in r["error"]
    out, _, r = gw.exec(sandbox, "echo ok ${GONE:-fresh}")
    assert out == "ok fresh\n" and r["exit_code"] == 0


def test_exec_exit_restarts_shell(gw, sandbox):
    assert gw.exec(sandbox, "exit 7")[2]["exit_code"] == 7
    assert gw.exec(sandbox, "echo back")[0] == "back\n"


# ---- code: the Python driver --------------------------------------------------------------------

def streams(events):
    return "".join(e["content"]["text"] for e in events if e["type"] == "stream")


def test_python_state_result_and_streams(gw, sandbox):
    events, r = gw.code(sandbox, "x = 20\nprint('hi')")
    assert r["status"] == "ok" and streams(events) == "hi\n"
    assert [e["type"] for e in events][0] == "status" and events[-1]["content"]["execution_state"] == "idle"
    events, r = gw.code(sandbox, "x * 2 + 2")
    res = [e for e in events if e["type"] == "execute_result"]
    assert res and res[0]["content"]["data"]["text/plain"] == "42"
    assert res[0]["content"]["execution_count"] == r["execution_count"] == 2
    events, r = gw.code(sandbox, "None")
    assert not [e for e in events if e["type"] == "execute_result"]
    events, _ = gw.code(sandbox, "import sys, os; print('e', file=sys.stderr); os.system('echo from-child')")
    assert "e\n" in streams(events) and "from-child\n" in streams(events)


def test_python_errors_have_cell_traceback(gw, sandbox):
    events, r = gw.code(sandbox, "def f():\n    return 1 / 0\n\nf()")
    assert r["status"] == "error" and r["ename"] == "ZeroDivisionError"
    err = [e for e in events if e["type"] == "error"][0]["content"]
    tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(err["traceback"]))  # IPython colours its tracebacks
    assert "return 1 / 0" in tb and "----> 2" in tb and "----> 4" in tb
    assert "driver.py" not in tb
    events, r = gw.code(sandbox, "def broken(:\n  pass")
    assert r["ename"] == "SyntaxError" and "ast.py" not in "".join(r["traceback"])
    # the driver survives both
    assert gw.code(sandbox, "1 + 1")[1]["status"] == "ok"


def test_python_timeout_and_interrupt(gw, sandbox):
    gw.code(sandbox, "kept = 'yes'")
    events, r = gw.code(sandbox, "import time\nwhile True: time.sleep(0.01)", timeout_ms=400)
    assert r["status"] == "error" and r["ename"] == "TimeoutError"
    # SIGINT was enough: the interpreter (and its state) survived
    events, r = gw.code(sandbox, "kept")
    assert [e for e in events if e["type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "'yes'"
    # a cell that ignores KeyboardInterrupt gets its driver restarted
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: time.sleep(0.01)"
    events, r = gw.code(sandbox, code, timeout_ms=300, timeout=15)
    assert r["ename"] == "TimeoutError"
    events, r = gw.code(sandbox, "'kept' in globals()")
    assert [e for e in events if e["type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "False"


def test_python_interrupt_request(gw, sandbox):
    mid = gw.send(sandbox, "execute_request", {"code": "import time\nprint('go', flush=True)\ntime.sleep(60)"})
    gw.recv(lambda m: m["parent"].get("msg_id") == mid and m["type"] == "stream", 10, "cell started")
    _, ir = gw.request(sandbox, "interrupt_request", {})
    assert ir["content"]["status"] == "ok"
    reply = gw.recv(lambda m: m["parent"].get("msg_id") == mid and m["type"] == "execute_reply", 10, "reply")
    assert reply["content"]["ename"] == "KeyboardInterrupt"


def test_exec_and_code_run_concurrently(gw, sandbox):
    a = gw.send(sandbox, "sluice_exec_request", {"command": "sleep 1; echo shell"})
    b = gw.send(sandbox, "execute_request", {"code": "print('py')"})
    first = gw.recv(lambda m: m["type"] in ("execute_reply", "sluice_exec_reply"), 10, "a reply")
    assert first["parent"]["msg_id"] == b
    gw.recv(lambda m: m["parent"].get("msg_id") == a and m["type"] == "sluice_exec_reply", 10, "exec reply")


def test_unsupported_language_and_bad_requests(gw, sandbox):
    events, r = gw.code(sandbox, "puts 1", language="ruby")
    assert r["status"] == "error" and r["ename"] == "UnsupportedLanguage"
    _, r = gw.request(sandbox, "sluice_exec_request", {"command": 5})
    assert r["type"] == "sluice_error_reply" and r["content"]["status"] == "error"
    _, r = gw.request(sandbox, "no_such_request", {})
    assert r["type"] == "sluice_error_reply"
    _, r = gw.request(sandbox, "sluice_ping_request", {})
    assert r["type"] == "sluice_ping_reply" and r["content"]["status"] == "ok"


def test_queue_is_bounded(gw, sandbox):
    mids = [gw.send(sandbox, "sluice_exec_request", {"command": "sleep 0.05"}) for _ in range(80)]
    busy = 0
    for mid in mids:
        m = gw.recv(lambda m: m["parent"].get("msg_id") == mid and m["type"] in ("sluice_exec_reply", "sluice_error_reply"),
                    30, "reply")
        busy += m["type"] == "sluice_error_reply" and m["content"]["code"] == "busy"
    assert busy >= 80 - 65


# ---- isolation -----------------------------------------------------------------------------------

def test_isolation_basics(gw, sandbox):
    planted = os.path.join(gw.state, "planted-secret.txt")
    with open(planted, "w") as f:
        f.write("host secret")
    out, _, _ = gw.exec(sandbox, "ps -e -o pid=,comm=")
    rows = [line.split() for line in out.splitlines()]
    assert ["1", "sluice-init"] in rows and len(rows) < 8, out
    out, err, _ = gw.exec(sandbox, f"cat {planted}; ls {gw.state}; cat /proc/1/cmdline | tr '\\0' ' '")
    assert "host secret" not in out + err and gw.state not in out
    assert gw.exec(sandbox, "hostname")[0].strip() == "sbx-" + sandbox[:8]
    out, _, _ = gw.exec(sandbox, "id -u; cat /proc/self/status | grep -E '^Cap(Eff|Bnd)'; ls /; touch /x 2>&1; "
                                 "cat /proc/kcore | head -c 10 | wc -c; echo w > /proc/sys/kernel/hostname 2>&1 | wc -l")
    lines = out.splitlines()
    assert lines[0] == "0"  # root of its user namespace by default (pod_non_root asks for 65532)
    assert "CapBnd:\t0000000000000000" in out and "CapEff:\t0000000000000000" in out
    assert "Read-only file system" in out
    # the sandbox's uid 0 is uid_base on the host
    snap = Snapshot(gw, sandbox)
    gw.exec(sandbox, "sleep 100 &")
    procs = snap.processes()
    uids = {int(open(f"/proc/{p}/status").read().split("Uid:")[1].split()[0]) for p in procs if p != snap.init}
    assert all(u >= 1 << 20 for u in uids), uids


# ---- cleanup -------------------------------------------------------------------------------------

def test_nothing_remains_after_shutdown(gw):
    sb, proc, _ = gw.start_runner()
    assert gw.wait_hello(sb)["content"]["state"] == "ready"
    snap = Snapshot(gw, sb)
    gw.exec(sb, "sleep 1000 & sleep 1000 &")
    gw.code(sb, "import subprocess; p = subprocess.Popen(['sleep', '1000'])")
    _, r = gw.request(sb, "shutdown_request", {"restart": False}, timeout=20)
    assert r["type"] == "shutdown_reply" and r["content"]["status"] == "ok"
    assert proc.wait(timeout=20) == 0
    wait_until(lambda: not snap.leftovers(), 15, f"cleanup: {snap.leftovers()}")


def test_nothing_remains_after_runner_kill9(gw):
    sb, proc, _ = gw.start_runner()
    assert gw.wait_hello(sb)["content"]["state"] == "ready"
    snap = Snapshot(gw, sb)
    gw.exec(sb, "sleep 1000 &")
    gw.code(sb, "x = 1")
    os.kill(snap.runner, signal.SIGKILL)
    proc.wait(timeout=10)
    # the kernel takes the pid namespace down with init (PR_SET_PDEATHSIG)
    wait_until(lambda: not snap.processes(), 15, f"sandbox processes to die: {snap.processes()}")
    # what the gateway does after a runner died: remove the cgroups it recorded
    for cg in reversed(snap.cgroups):
        wait_until(lambda: not os.path.exists(cg) or _rmdir(cg), 10, f"rmdir {cg}")
    assert not snap.leftovers(), snap.leftovers()


def _rmdir(path):
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def test_init_death_reports_error_and_exits(gw):
    sb, proc, _ = gw.start_runner()
    hello = gw.wait_hello(sb)["content"]
    snap = Snapshot(gw, sb)
    os.kill(hello["init_pid"], signal.SIGKILL)
    err = gw.recv(lambda m: m["type"] == "sluice_hello" and m["content"]["state"] == "error", 20, "error hello")["content"]
    assert err["state"] == "error" and "init" in err["error"]
    assert proc.wait(timeout=20) == 1
    wait_until(lambda: not snap.leftovers(), 15, f"cleanup: {snap.leftovers()}")


# ---- the gateway going away ----------------------------------------------------------------------

def test_gateway_restart_gets_hello_and_queued_output(gw, sandbox):
    mid = gw.send(sandbox, "sluice_exec_request", {"command": "sleep 0.5; echo produced-while-away"})
    gw.unbind()
    time.sleep(1.0)  # the scenario itself: the gateway stays away while output is produced
    gw.bind()
    hello = gw.wait_hello(sandbox)
    assert hello["content"]["state"] == "ready"
    m = gw.recv(lambda m: m["parent"].get("msg_id") == mid and m["type"] == "sluice_exec_reply", 10, "queued reply")
    assert m["content"]["exit_code"] == 0
    assert gw.exec(sandbox, "echo still")[0] == "still\n"
