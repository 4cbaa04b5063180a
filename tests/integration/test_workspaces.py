"""Persistent workspaces: workspace_id mounts STATE's workspace at /workspace; it outlives the sandbox,
a gateway SIGKILL + restart, and is mounted again by the next sandbox with that id; never by two at once
(409); GET/DELETE /api/v1/workspaces, namespaced like sandboxes; the workspace's own cap is a hard limit
(ENOSPC inside, nothing on the host). Every wait is a bounded poll."""
import os
import signal

import pytest

from conftest import Client, Gateway, create_key, wait_until

API = "/api/v1/sandboxes"
WS = "/api/v1/workspaces"


@pytest.fixture
def gw(workdir):
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    g = Gateway(state, config={"workspace_size": "32Mi"}).start()
    g.key = create_key(state)
    yield g
    try:
        c = Client(g.url, g.key)
        for sb in c.http.get(API).json().get("data", []):
            c.http.delete(f"{API}/{sb['id']}")
        for w in c.http.get(WS).json().get("data", []):
            c.http.delete(f"{WS}/{w['id']}", params={"namespace": w["namespace"]})
    except Exception:
        pass
    g.kill(signal.SIGTERM)


@pytest.fixture
def c(gw):
    return Client(gw.url, gw.key)


def mounts():
    with open("/proc/self/mountinfo") as f:
        return f.read()


def workspaces(c, **params):
    r = c.http.get(WS, params=params)
    assert r.status_code == 200, r.text
    return {w["id"]: w for w in r.json()["data"]}


def test_workspace_persists_across_sandboxes_and_a_restart(gw, c):
    a = c.create(workspace_id="proj-1")
    assert a["workspace_id"] == "proj-1"
    out = c.exec(a["id"], "echo one > /workspace/notes.txt && mkdir -p /workspace/src && echo x > /workspace/src/m.py"
                          " && stat -c %U /workspace")
    assert out["exit_code"] == 0 and out["stdout"] == "root\n", out
    # the second mount while the first holds it: 409, and nothing was created
    r = c.http.post(API, json={"workspace_id": "proj-1", "name": "second"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workspace_in_use", r.text
    assert [s["id"] for s in c.http.get(API).json()["data"]] == [a["id"]]
    listed = workspaces(c)["proj-1"]
    assert listed["in_use"] and listed["sandbox_id"] == a["id"] and listed["size_bytes"] == 32 << 20
    assert c.http.delete(f"{WS}/proj-1").status_code == 409  # in use
    c.delete(a["id"])
    assert not workspaces(c)["proj-1"]["in_use"]

    # the next sandbox (non-root this time) sees and owns the files
    b = c.create(workspace_id="proj-1", pod_non_root=True)
    out = c.exec(b["id"], "cat /workspace/notes.txt /workspace/src/m.py && echo two >> /workspace/notes.txt && id -un")
    assert out["exit_code"] == 0 and out["stdout"] == "one\nx\nuser\n", out

    # a gateway killed outright: the sandbox is adopted, its workspace still mounted and still its own
    gw.kill(signal.SIGKILL)
    gw.start()
    c2 = Client(gw.url, gw.key)
    wait_until(lambda: c2.http.get(f"{API}/{b['id']}").json()["data"]["status"] == "running", timeout=20,
               what="the adopted sandbox to reconnect")
    assert c2.http.post(API, json={"workspace_id": "proj-1"}).status_code == 409
    assert c2.exec(b["id"], "cat /workspace/notes.txt")["stdout"] == "one\ntwo\n"
    c2.delete(b["id"])
    c3 = c2.create(workspace_id="proj-1")
    assert c2.exec(c3["id"], "cat /workspace/notes.txt")["stdout"] == "one\ntwo\n"
    c2.delete(c3["id"])
    assert workspaces(c2)["proj-1"]["used_bytes"] > 0


def test_workspace_cap_is_enforced_inside(c):
    sb = c.create(workspace_id="small")
    out = c.exec(sb["id"], "dd if=/dev/zero of=/workspace/fill bs=1M count=64 2>&1; echo rc=$?", timeout_ms=60000)
    assert "No space left on device" in out["stdout"] and "rc=1" in out["stdout"], out
    # the sandbox still works, and freeing space frees it
    out = c.exec(sb["id"], "rm /workspace/fill && echo ok > /workspace/after && cat /workspace/after")
    assert out["stdout"] == "ok\n"


def test_workspace_delete_unmounts_and_removes(gw, c):
    sb = c.create(workspace_id="gone-soon")
    c.exec(sb["id"], "echo data > /workspace/f")
    mnt = [l for l in mounts().splitlines() if "sluice-workspaces/" in l and "ext4" in l]
    assert mnt, "the workspace is mounted on the host while in use"
    c.delete(sb["id"])
    assert not any(sb["id"] in l for l in mounts().splitlines())
    r = c.http.delete(f"{WS}/gone-soon")
    assert r.status_code == 200, r.text
    assert "gone-soon" not in workspaces(c)
    assert not os.path.exists(os.path.join(gw.state_dir, "workspaces", "default", "gone-soon"))
    assert c.http.delete(f"{WS}/gone-soon").status_code == 404
    # a new sandbox with that id starts from an empty workspace
    sb = c.create(workspace_id="gone-soon")
    assert c.exec(sb["id"], "ls -A /workspace")["stdout"] == ""


def test_workspace_ids_are_validated_and_namespaced(gw, c):
    for bad in ("../etc", "A", "a/b", "-x", "x" * 64, ""):
        r = c.http.post(API, json={"workspace_id": bad})
        assert r.status_code == 400, (bad, r.text)
    assert c.http.get(API).json()["data"] == []
    a = c.create(workspace_id="shared-name", namespace="team-a")
    b = c.create(workspace_id="shared-name", namespace="team-b")  # same id, other namespace: its own
    c.exec(a["id"], "echo A > /workspace/who")
    assert c.exec(b["id"], "ls -A /workspace")["stdout"] == ""
    scoped = Client(gw.url, create_key(gw.state_dir, name="a-only", namespaces=["team-a"]))
    seen = scoped.http.get(WS).json()["data"]
    assert [(w["id"], w["namespace"]) for w in seen] == [("shared-name", "team-a")]
    assert scoped.http.get(WS, params={"namespace": "team-b"}).status_code == 403
    assert scoped.http.delete(f"{WS}/shared-name", params={"namespace": "team-b"}).status_code == 403
    assert len(c.http.get(WS).json()["data"]) == 2  # the admin key sees both
