"""The systems Sluice is measured against: jupyter_server + ipykernel on loopback, and bubblewrap (the floor)."""
import asyncio
import json
import os
import socket
import subprocess
import time
import uuid

import httpx
import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterPeer:
    """jupyter_server with ipykernel, started on loopback the way a user would run it."""

    def __init__(self, work):
        self.token = uuid.uuid4().hex
        self.port = free_port()
        root = os.path.join(work, "jupyter-root")
        os.makedirs(root, exist_ok=True)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "jupyter_server", f"--ServerApp.token={self.token}",
             f"--ServerApp.port={self.port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.open_browser=False",
             f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0", "--allow-root"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=120)
        deadline = time.monotonic() + 60
        while True:  # readiness: the REST API answers
            try:
                if self.http.get("/api").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("jupyter_server did not start")
            time.sleep(0.05)

    def start_kernel(self):
        r = self.http.post("/api/kernels", json={"name": "python3"})
        r.raise_for_status()
        return r.json()["id"]

    def ws_url(self, kid):
        return f"ws://127.0.0.1:{self.port}/api/kernels/{kid}/channels?token={self.token}"

    def delete_kernel(self, kid):
        self.http.delete(f"/api/kernels/{kid}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class JupyterKernelClient:
    """A minimal synchronous client of the kernel websocket (legacy JSON frames), as jupyter_server's own is."""

    def __init__(self, url):
        self.url = url
        self.session = uuid.uuid4().hex
        self.loop = asyncio.new_event_loop()

    def __enter__(self):
        async def connect():  # created inside the loop: websockets binds to the running loop
            return await websockets.connect(self.url, max_size=None)
        self.ws = self.loop.run_until_complete(connect())
        return self

    def __exit__(self, *exc):
        self.loop.run_until_complete(self.ws.close())
        self.loop.close()

    def execute(self, code, timeout=120):
        return self.loop.run_until_complete(asyncio.wait_for(self._execute(code), timeout))

    async def _execute(self, code):
        msg_id = uuid.uuid4().hex
        msg = {"header": {"msg_id": msg_id, "username": "bench", "session": self.session,
                          "msg_type": "execute_request", "version": "5.3",
                          "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())},
               "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
               "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                           "allow_stdin": False, "stop_on_error": True}}
        await self.ws.send(json.dumps(msg))
        out = {"stdout": "", "reply": None, "idle": False}
        while out["reply"] is None or not out["idle"]:
            m = json.loads(await self.ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            t = m["msg_type"] if "msg_type" in m else m["header"]["msg_type"]
            if t == "stream" and m["content"]["name"] == "stdout":
                out["stdout"] += m["content"]["text"]
            elif t == "execute_reply":
                out["reply"] = m["content"]
            elif t == "status" and m["content"]["execution_state"] == "idle":
                out["idle"] = True
        return out


def bwrap_print1():
    """The physical floor: a fresh set of namespaces and a bare interpreter printing 1, in ms."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "/usr/bin/python3", "-c", "print(1)"]
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    dt = (time.perf_counter() - t0) * 1000
    assert out.stdout == "1\n", out.stderr
    return dt
