"""A real sluice-gateway on 127.0.0.1:<ephemeral> for these tests; readiness is its "listening on" line."""
import json
import os
import re
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reap  # noqa: E402  (tests/reap.py)

BUILD_DIR = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
GATEWAY = os.path.abspath(os.path.join(BUILD_DIR, "bin", "sluice-gateway"))


class Gateway:
    def __init__(self, state_dir, config=None):
        self.state_dir, self.config, self.proc, self.url, self.lines = state_dir, config, None, None, []
        reap.register(state_dir)

    def start(self):
        args = [GATEWAY, "serve", "--listen", "127.0.0.1:0", "--state-dir", self.state_dir]
        if self.config is not None:
            path = self.state_dir.rstrip("/") + ".config.json"
            with open(path, "w") as f:
                json.dump(self.config, f)
            args += ["--config", path]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, start_new_session=True)
        found = threading.Event()

        def reader():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on (http://\S+)", line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=reader, daemon=True).start()
        if not found.wait(30) or not self.url:
            self.stop()
            raise AssertionError(f"gateway did not start: {self.lines}")
        out = subprocess.run([GATEWAY, "keys", "create", "jt", "--state-dir", self.state_dir], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        self.key = out.strip().splitlines()[-1].strip()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
