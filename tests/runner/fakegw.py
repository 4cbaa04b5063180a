"""A stand-in for sluice-gateway: binds the ROUTER, writes sandbox.json and the secret, starts the real
sluice-runner and speaks the signed Jupyter wire format to it (protocol/include/sluice/wire.h, ops.h).

Only the standard library and Debian's python3-zmq; run with /usr/bin/python3. Every wait is bounded.
"""
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import zmq

DELIM = b"<IDS|MSG>"
FINAL = {"execute_reply", "sluice_exec_reply", "interrupt_reply", "shutdown_reply", "sluice_ping_reply",
         "sluice_error_reply"}


def source_dir():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def runner_binary():
    build = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(source_dir(), "build")
    return os.path.join(build, "bin", "sluice-runner")


class Timeout(AssertionError):
    pass


class FakeGateway:
    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="sluice-rt-")
        self.state = os.path.join(self.root, "state")
        os.makedirs(os.path.join(self.state, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.state, "sandboxes"), exist_ok=True)
        self.key = secrets.token_hex(32).encode()
        with open(os.path.join(self.state, "secret"), "w") as f:
            f.write(self.key.decode() + "\n")
        self.session = str(uuid.uuid4())
        self.ctx = zmq.Context()
        self.sock = None
        self.bind()
        self.runners = {}
        self.inbox = []  # messages received but not yet consumed

    def bind(self):
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(f"ipc://{self.state}/run/gateway.zmq")

    def unbind(self):
        self.sock.close(0)
        self.sock = None

    def sign(self, parts, buffers=()):
        """jupyter_client's HMAC over the four dicts, continued over each buffer as uint64_be(len) || bytes
        (Sluice's signed buffers, protocol/docs/messages.md)."""
        h = hmac.new(self.key, digestmod=hashlib.sha256)
        for p in parts:
            h.update(p)
        for b in buffers:
            h.update(len(b).to_bytes(8, "big"))
            h.update(b)
        return h.hexdigest().encode()

    def sandbox_dir(self, sb_id):
        return os.path.join(self.state, "sandboxes", sb_id)

    def start_runner(self, name="t", image="python", env=None, uid_base=None):
        sb_id = str(uuid.uuid4())
        d = self.sandbox_dir(sb_id)
        os.makedirs(d)
        cfg = {"id": sb_id, "name": name, "image": image, "env": env or {},
               "uid_base": uid_base or (1 << 20) + secrets.randbelow(1000) * 65536}
        with open(os.path.join(d, "sandbox.json"), "w") as f:
            json.dump(cfg, f)
        log = open(os.path.join(d, "runner.log"), "ab")
        args = [runner_binary(), "--state-dir", self.state, "--id", sb_id,
                "--images-dir", os.path.join(source_dir(), "images"),
                "--drivers-dir", os.path.join(source_dir(), "kernel-runner", "drivers")]
        t0 = time.monotonic()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.runners[sb_id] = proc
        return sb_id, proc, t0

    def log(self, sb_id):
        try:
            with open(os.path.join(self.sandbox_dir(sb_id), "runner.log")) as f:
                return f.read()
        except OSError:
            return ""

    def send(self, sb_id, msg_type, content, idents=()):
        header = {"msg_id": str(uuid.uuid4()), "session": self.session, "username": "test",
                  "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
                  "msg_type": msg_type, "version": "5.3"}
        parts = [json.dumps(x).encode() for x in (header, {}, {}, content)]
        self.sock.send_multipart([sb_id.encode(), *idents, DELIM, self.sign(parts), *parts])
        return header["msg_id"]

    def _recv_one(self, timeout):
        if not self.sock.poll(int(timeout * 1000)):
            return None
        frames = self.sock.recv_multipart()
        i = frames.index(DELIM)
        sig, parts, buffers = frames[i + 1], frames[i + 2:i + 6], frames[i + 6:]
        assert hmac.compare_digest(sig, self.sign(parts, buffers)), "bad signature from runner"
        header, parent, meta, content = (json.loads(p) for p in parts)
        if header["msg_type"] == "stream" and "text_buffer" in content:  # as the gateway inlines it
            content["text"] = buffers[content.pop("text_buffer")].decode("utf-8", "replace")
        return {"ident": frames[0].decode(), "idents": frames[1:i], "header": header, "parent": parent,
                "type": header["msg_type"], "content": content}

    def recv(self, pred, timeout=10.0, what="message"):
        """The first message (queued or new) for which pred is true; others stay queued."""
        for m in self.inbox:
            if pred(m):
                self.inbox.remove(m)
                return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"timed out after {timeout}s waiting for {what}")
            m = self._recv_one(left)
            if m is None:
                continue
            if pred(m):
                return m
            self.inbox.append(m)

    def wait_hello(self, sb_id, timeout=20.0):
        return self.recv(lambda m: m["ident"] == sb_id and m["type"] == "sluice_hello", timeout,
                         f"hello from {sb_id}")

    def request(self, sb_id, msg_type, content, timeout=30.0):
        """Sends a request; returns (events, reply) of that request."""
        mid = self.send(sb_id, msg_type, content)
        events = []
        while True:
            m = self.recv(lambda m: m["parent"].get("msg_id") == mid, timeout, f"reply to {msg_type}")
            if m["type"] in FINAL:
                if m["type"] == "execute_reply":
                    # status idle follows the reply
                    events.append(self.recv(lambda x: x["parent"].get("msg_id") == mid and x["type"] == "status",
                                            timeout, "status idle"))
                return events, m
            events.append(m)

    def exec(self, sb_id, command, timeout=30.0, **kw):
        events, reply = self.request(sb_id, "sluice_exec_request", {"command": command, **kw}, timeout)
        out = "".join(e["content"]["text"] for e in events if e["type"] == "stream" and e["content"]["name"] == "stdout")
        err = "".join(e["content"]["text"] for e in events if e["type"] == "stream" and e["content"]["name"] == "stderr")
        return out, err, reply["content"]

    def code(self, sb_id, code, timeout=30.0, **kw):
        events, reply = self.request(sb_id, "execute_request", {"code": code, **kw}, timeout)
        return events, reply["content"]

    def close(self):
        for proc in self.runners.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        if self.sock is not None:
            self.sock.close(0)
        self.ctx.term()
        shutil.rmtree(self.root, ignore_errors=True)
