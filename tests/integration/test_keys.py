"""API keys on a live gateway: a key scoped to namespaces sees and touches only them (403 elsewhere,
lists filtered), an admin key sees all; --expires ends a key (401 key_expired) without a restart;
revocation takes effect at once; last_used is recorded and shown by `keys list`."""
import os
import subprocess
import time

from conftest import GATEWAY, Client, create_key, wait_until

API = "/api/v1/sandboxes"


def keys_cli(state, *args):
    return subprocess.run([GATEWAY, "keys", *args, "--state-dir", state], capture_output=True, text=True, timeout=30)


def test_scoped_key_sees_and_touches_only_its_namespaces(gateway, client):
    admin = client
    a1 = admin.create(namespace="ns-a", name="one")
    b1 = admin.create(namespace="ns-b", name="one")
    admin.create(namespace="ns-c")
    scoped = Client(gateway.url, create_key(gateway.state_dir, name="ab", namespaces=["ns-a", "ns-b"]))
    only_c = Client(gateway.url, create_key(gateway.state_dir, name="c", namespaces=["ns-c"]))

    listed = scoped.http.get(API).json()["data"]
    assert sorted(s["namespace"] for s in listed) == ["ns-a", "ns-b"]
    assert len(admin.http.get(API).json()["data"]) == 3
    assert scoped.http.get(API, params={"namespace": "ns-c"}).status_code == 403

    # by id and by name, every verb: allowed in its namespaces, 403 elsewhere
    assert scoped.exec(a1["id"], "echo hi")["stdout"] == "hi\n"
    assert scoped.http.get(f"{API}/one", params={"namespace": "ns-b"}).status_code == 200
    for r in (only_c.http.get(f"{API}/{a1['id']}"),
              only_c.http.post(f"{API}/{a1['id']}/exec", json={"command": "true"}),
              only_c.http.post(f"{API}/{b1['id']}/timeout", json={"timeout": 60}),
              only_c.http.delete(f"{API}/{b1['id']}"),
              only_c.http.post(API, json={"namespace": "ns-a"}),
              only_c.http.delete(API, params={"namespace": "ns-a"}),
              only_c.http.post("/api/v1/run", params={"namespace": "ns-a"}, json={"command": "true"})):
        assert r.status_code == 403, (r.request.method, r.request.url, r.text)
        assert r.json()["error"]["code"] == "forbidden"
    # nothing was touched by the refused calls
    assert len(admin.http.get(API).json()["data"]) == 3
    assert scoped.http.delete(f"{API}/{b1['id']}").status_code == 200


def test_key_expiry_and_revocation_on_a_live_gateway(gateway):
    state = gateway.state_dir
    r = keys_cli(state, "create", "short", "--namespace", "default", "--expires", "2s")
    assert r.returncode == 0, r.stderr
    short = Client(gateway.url, r.stdout.strip().splitlines()[-1])
    assert short.http.get(API).status_code == 200
    expired = wait_until(lambda: (lambda x: x if x.status_code == 401 else None)(short.http.get(API)),
                         timeout=10, what="the key to expire")
    assert expired.json()["error"]["code"] == "key_expired"

    doomed = Client(gateway.url, create_key(state, name="doomed"))
    assert doomed.http.get(API).status_code == 200
    assert keys_cli(state, "revoke", "doomed").returncode == 0
    r = doomed.http.get(API)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"

    assert keys_cli(state, "create", "both", "--admin", "--namespace", "x").returncode == 2
    assert keys_cli(state, "create", "bad", "--expires", "yesterday").returncode == 2


def test_last_used_is_recorded(gateway):
    state = gateway.state_dir
    used = Client(gateway.url, create_key(state, name="used-one"))
    create_key(state, name="never-used")
    before = int(time.time())
    assert used.http.get(API).status_code == 200
    rows = {line.split()[0]: line for line in keys_cli(state, "list").stdout.splitlines()[1:]}
    assert rows["never-used"].rstrip().endswith("never")
    assert not rows["used-one"].rstrip().endswith("never"), rows["used-one"]
    with open(os.path.join(state, "keys.used.json")) as f:
        import json
        assert json.load(f)["used-one"] >= before
    assert "* (admin)" in rows["used-one"]
