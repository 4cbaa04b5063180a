import os  # --- glue: endpoint/key
from sluice.compat.katakate import Client

k7 = Client(endpoint=os.environ["SLUICE_URL"], api_key=os.environ["SLUICE_API_KEY"])  # --- glue
# --- glue: the "secure-sb" of the previous example, without its alpine-only before_script
sb = k7.create({"name": "secure-sb", "image": "alpine:latest", "namespace": "default", "pod_non_root": True,
                "container_non_root": True, "cap_add": ["CHOWN"], "cap_drop": ["NET_RAW"],
                "egress_whitelist": ["10.0.0.5/32", "203.0.113.0/24"],
                "limits": {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "2Gi"}})

import time

def wait_until_ready(name: str, namespace: str = "default", timeout_seconds: int = 120) -> None:
    deadline = time.time() + timeout_seconds
    while time.time() < deadline:
        for info in k7.list(namespace=namespace):
            if info.get("name") == name and info.get("status") == "Running" and info.get("ready") == "True":
                return
        time.sleep(2)
    raise TimeoutError("Sandbox did not become Ready in time")

wait_until_ready("secure-sb")

res = sb.exec("echo hello && uname -a")
print(res["stdout"])          # command output
print(res["stderr"])          # error stream (if any)
print(res["exit_code"])       # 0 on success

# Example of a failing command
bad = sb.exec("sh -lc 'exit 2'")
if bad["exit_code"] != 0:
    print("Command failed:")
    print("stderr:", bad.get("stderr", ""))

print(k7.list())                 # all namespaces
print(k7.list(namespace="dev")) # only dev

k7.delete("secure-sb")
k7.delete_all(namespace="default")
