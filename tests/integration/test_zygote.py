"""The image's zygote (protocol/docs/zygote.md) and every way of not having one: the setting off, a zygote
that dies (the next sandbox starts its driver cold, the gateway starts a new zygote), an image whose zygote
cannot import its modules. In each case Python still works; where the driver came from shows in its PPid
(0: forked by the zygote outside the pid namespace; 1: spawned by the sandbox's init)."""
import json
import os
import shutil
import signal

from conftest import Client, Gateway, create_key, wait_until

SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

PPID = "print('PPID', open('/proc/self/status').read().split('PPid:')[1].split()[0])"


def ppid(c, sb):
    out = "".join(c.code(sb, PPID)["logs"]["stdout"])
    return int(out.split("PPID")[1])


def status(c):
    return c.http.get("/api/v1/status").json()["data"]


def start(workdir, **kw):
    gw = Gateway(os.path.join(workdir, "state"), **kw)
    return gw


def test_the_default_driver_comes_from_the_zygote(client):
    st = status(client)
    assert st["zygote"]["python"]["state"] == "ready", st.get("zygote")
    assert st["config"]["zygote"] is True
    sb = client.create()["id"]
    assert ppid(client, sb) == 0
    # a second context of the same sandbox and a restarted default one come from it too
    r = client.http.post(f"/api/v1/sandboxes/{sb}/contexts/default/restart", json={})
    assert r.status_code == 200, r.text
    assert ppid(client, sb) == 0
    out = client.code(sb, "import numpy, pandas, matplotlib, sys\nprint(sys.modules['numpy'].__name__, 6*7)")
    assert "".join(out["logs"]["stdout"]) == "numpy 42\n" and out["error"] is None


def test_setting_off_means_cold_drivers(workdir):
    gw = start(workdir, config={"zygote": False}).start()
    try:
        c = Client(gw.url, create_key(gw.state_dir))
        st = status(c)
        assert "zygote" not in st and st["config"]["zygote"] is False
        assert not os.path.exists(os.path.join(gw.state_dir, "run", "zygote-python.sock"))
        sb = c.create()["id"]
        assert ppid(c, sb) == 1
    finally:
        gw.kill(signal.SIGTERM)


def test_a_dead_zygote_means_cold_drivers_until_it_is_back(gateway, client):
    pid = status(client)["zygote"]["python"]["pid"]
    os.kill(pid, signal.SIGKILL)
    sock = os.path.join(gateway.state_dir, "run", "zygote-python.sock")
    # the socket stays until the gateway notices (at most a tick): the runner's connect is refused meanwhile
    sb = client.create()["id"]
    assert ppid(client, sb) == 1
    out = client.code(sb, "print(2 + 2)")
    assert "".join(out["logs"]["stdout"]) == "4\n"
    wait_until(lambda: status(client)["zygote"]["python"]["starts"] == 2 and os.path.exists(sock), 60,
               "a new zygote")
    wait_until(lambda: status(client)["zygote"]["python"]["state"] == "ready", 60, "the new zygote ready")
    sb2 = client.create()["id"]
    assert ppid(client, sb2) == 0


def test_an_image_whose_zygote_cannot_start_runs_drivers_cold(workdir):
    images = os.path.join(workdir, "images")
    shutil.copytree(os.path.join(SOURCE_DIR, "images"), images)
    path = os.path.join(images, "python", "image.json")
    with open(path) as f:
        image = json.load(f)
    image["zygote"]["preload"] = ["sluice_no_such_module"]  # like an image without IPython or numpy
    with open(path, "w") as f:
        json.dump(image, f)
    gw = start(workdir, config={"images_dir": images})
    gw.zygote_wait = False
    gw.start()
    try:
        c = Client(gw.url, create_key(gw.state_dir))
        log = os.path.join(gw.state_dir, "run", "zygote-python.log")
        wait_until(lambda: os.path.exists(log) and "sluice_no_such_module" in open(log).read(), 60, "the failed import")
        wait_until(lambda: status(c)["zygote"]["python"]["state"] == "down", 30, "the zygote seen down")
        sb = c.create()["id"]
        assert ppid(c, sb) == 1
        out = c.code(sb, "import IPython; print(1)")
        assert "".join(out["logs"]["stdout"]) == "1\n"
    finally:
        gw.kill(signal.SIGTERM)
