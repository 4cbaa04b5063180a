"""The warm pool (gateway/pool.h): config {"pool": {"python": N}} keeps N sandboxes built and warmed, hidden;
a create that asks only for what a member is claims one; anything else goes cold. Members survive a gateway
restart; a pool size of 0 drops them.

Observables, not timing: a claimed sandbox says "pooled": true and its id is one that existed (hidden) in the
state dir before the create; GET /api/v1/status reports {"pool": {"python": {size, ready, building}}}."""
import glob
import json
import os
import signal

from conftest import Client, Gateway, create_key, wait_until

API = "/api/v1/sandboxes"
WARM_TIMEOUT = 60


def members(state):
    """Ids of unclaimed pool members (hidden), from their records; {id: warm}."""
    out = {}
    for p in glob.glob(os.path.join(state, "sandboxes", "*", "sandbox.json")):
        try:
            rec = json.load(open(p))
        except (OSError, ValueError):
            continue  # being written or removed
        if rec.get("pool_idle"):
            out[rec["id"]] = bool(rec.get("pool_warm"))
    return out


def pool_ready(c, image="python"):
    st = c.http.get("/api/v1/status").json()["data"]
    return st.get("pool", {}).get(image, {}).get("ready", 0)


def start(state, size):
    gw = Gateway(state, config={"pool": {"python": size}}).start()
    keyfile = os.path.join(os.path.dirname(state), "key")
    if not os.path.exists(keyfile):
        with open(keyfile, "w") as f:
            f.write(create_key(state))
    with open(keyfile) as f:
        gw.key = f.read()
    return gw, Client(gw.url, gw.key)


def test_pool_claim_refill_cold_hidden_restart(workdir):
    state = os.path.join(workdir, "state")
    gw, c = start(state, 1)
    try:
        wait_until(lambda: pool_ready(c) == 1, WARM_TIMEOUT, "a warm pool member")
        pooled = set(members(state))
        assert len(pooled) == 1

        # hidden: not listed, not addressable, not in delete-all, not counted in status
        assert c.http.get(API).json()["data"] == []
        member = next(iter(pooled))
        assert c.http.get(f"{API}/{member}").status_code == 404
        r = c.http.delete(API)
        assert r.status_code == 200 and r.json()["data"]["results"] == []
        assert c.http.get("/api/v1/status").json()["data"]["pool"]["python"] == {"size": 1, "ready": 1, "building": 0}

        # a plain create (name, namespace, metadata, timeout are applied) is the pool member
        sb = c.create(name="warm1", metadata={"k": "v"}, timeout=120, ttl_seconds=600)
        assert sb["id"] == member and sb["pooled"] is True
        assert sb["name"] == "warm1" and sb["metadata"] == {"k": "v"} and sb["timeout"] == 120
        assert sb["status"] == "running" and sb["expires_at"]
        rec = json.load(open(os.path.join(state, "sandboxes", member, "sandbox.json")))
        assert rec["name"] == "warm1" and rec["pooled"] and "pool_idle" not in rec and rec["ttl_seconds"] == 600
        # the interpreter is up already: IPython was imported by the warming cell
        out = c.code(member, "import sys\nprint(1, 'IPython' in sys.modules)")
        assert "".join(out["logs"]["stdout"]) == "1 True\n", out
        assert [s["id"] for s in c.http.get(API).json()["data"]] == [member]
        assert c.http.get(f"{API}/warm1").json()["data"]["pooled"] is True

        # the pool refills in the background with a new member
        wait_until(lambda: pool_ready(c) == 1, WARM_TIMEOUT, "the pool to refill")
        refill = set(members(state))
        assert len(refill) == 1 and member not in refill

        # anything beyond the pool's defaults goes cold (and is not marked pooled)
        for body in ({"limits": {"memory": "256Mi"}}, {"env": {"A": "1"}}):
            r = c.http.post(API, json=body)
            assert r.status_code == 201, r.text
            cold = r.json()["data"]
            assert "pooled" not in cold and cold["id"] not in refill, body
            c.delete(cold["id"])
        assert set(members(state)) == refill

        # delete of a claimed sandbox works; delete-all leaves the member alone
        c.delete(member)
        assert c.http.get(f"{API}/{member}").status_code == 404
        c.create(name="other", env={"B": "2"})  # cold: the member must stay
        r = c.http.delete(API)
        assert [x["name"] for x in r.json()["data"]["results"]] == ["other"]
        assert set(members(state)) == refill

        # gateway restart: the warm member survives and is claimed after it
        gw.kill(signal.SIGTERM)
        gw, c = start(state, 1)
        wait_until(lambda: pool_ready(c) == 1, WARM_TIMEOUT, "the adopted member to reconnect")
        assert set(members(state)) == refill
        sb = c.create()
        assert sb["id"] in refill and sb["pooled"] is True
        assert "".join(c.code(sb["id"], "print(2)")["logs"]["stdout"]) == "2\n"
        c.delete(sb["id"])
        wait_until(lambda: pool_ready(c) == 1, WARM_TIMEOUT, "the pool to refill after the restart")
    finally:
        # pool size 0: the members are dropped; nothing is left behind
        gw.kill(signal.SIGTERM)
        gw, c = start(state, 0)
        try:
            for s in c.http.get(API).json().get("data", []):
                c.http.delete(f"{API}/{s['id']}")
            wait_until(lambda: not glob.glob(os.path.join(state, "sandboxes", "*")), 30, "no sandbox left")
        finally:
            gw.kill(signal.SIGTERM)


def test_no_pool_by_default(client):
    st = client.http.get("/api/v1/status").json()["data"]
    assert "pool" not in st
    assert "pooled" not in client.create()
