"""The bash language driver (protocol/include/sluice/driver.h §1) for bash contexts.

It keeps one bash (context.sh) alive, so cd, variables and functions persist between executions.
Requests arrive on fd 3 as JSON lines; events leave on fd 4. bash writes straight to our stdout and
stderr (the runner's pipes), so output precedes the `done` that follows its result record.

An interrupt (SIGINT from the runner, to this process only) is forwarded to the process group (bash and
its foreground job); we ignore our own copy. A command that exits non-zero is an error (ExitError), an
interrupted one a KeyboardInterrupt.
"""
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LINE = 32 << 20

state = {"running": False, "interrupted": False}


def send(obj):
    data = (json.dumps(obj, allow_nan=False) + "\n").encode()
    while data:
        n = os.write(4, data)
        data = data[n:]


def on_sigint(signum, frame):
    if not state["running"]:
        return
    state["interrupted"] = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.killpg(0, signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, on_sigint)


def start_bash():
    cmd_r, cmd_w = os.pipe()
    res_r, res_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)
            for fd in (cmd_r, cmd_w, res_r, res_w):
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execv("/bin/bash", ["bash", "--noprofile", "--norc", os.path.join(HERE, "context.sh")])
        finally:
            os._exit(127)
    os.close(cmd_r)
    os.close(res_w)
    return pid, cmd_w, os.fdopen(res_r, "rb", buffering=0)


def read_record(f, n):
    """n NUL-terminated fields from bash, or None when bash is gone."""
    fields, cur = [], bytearray()
    while len(fields) < n:
        b = f.read(1)
        if not b:
            return None
        if b == b"\0":
            fields.append(cur.decode("utf-8", "replace"))
            cur = bytearray()
        else:
            cur += b
    return fields


def main():
    signal.signal(signal.SIGINT, on_sigint)
    pid, cmd_w, results = start_bash()
    count = 0
    send({"type": "ready", "language": "bash"})
    requests = os.fdopen(3, "rb", buffering=0)
    buf = b""
    while True:
        chunk = requests.read(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_LINE:
            break
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            if req.get("type") != "execute":
                continue
            count += 1
            code = req["code"].replace("\0", "")
            state["interrupted"] = False
            state["running"] = True
            os.write(cmd_w, code.encode("utf-8", "surrogateescape") + b"\n\0")
            rec = read_record(results, 2)
            state["running"] = False
            sys.stdout.flush()
            if rec is None:
                sys.exit("bash exited")
            rc = int(rec[0]) if rec[0].isdigit() else 1
            if state["interrupted"]:
                send({"type": "error", "id": req["id"], "ename": "KeyboardInterrupt",
                      "evalue": "interrupted", "traceback": ["KeyboardInterrupt: the command was interrupted"]})
            elif rc != 0:
                send({"type": "error", "id": req["id"], "ename": "ExitError",
                      "evalue": f"exit status {rc}", "traceback": [f"the command exited with status {rc}"]})
            send({"type": "done", "id": req["id"], "status": "ok" if rc == 0 and not state["interrupted"] else "error",
                  "execution_count": count})
    os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
