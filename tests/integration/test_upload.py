"""Multipart upload: POST /api/v1/sandboxes/{sb}/files/upload?path=DIR (`file` / `files` parts), each
part streamed into the sandbox through the runner's chunked write path."""
import os
import signal

import pytest

from conftest import Client, Gateway, create_key

API = "/api/v1/sandboxes"


def start(workdir, name, config):
    state = os.path.join(workdir, name, "state")
    os.makedirs(os.path.dirname(state))
    gw = Gateway(state, config=config).start()
    gw.key = create_key(state)
    return gw


@pytest.fixture
def gw_pair(workdir):
    big = start(workdir, "big", {"max_body_bytes": 64 << 20})
    small = start(workdir, "small", {"max_body_bytes": 64 << 10})
    yield Client(big.url, big.key), Client(small.url, small.key)
    for gw in (big, small):
        try:
            c = Client(gw.url, gw.key)
            for sb in c.http.get(API).json().get("data", []):
                c.http.delete(f"{API}/{sb['id']}")
        except Exception:
            pass
        gw.kill(signal.SIGTERM)


def upload(client, sb, path, files, **kw):
    return client.http.post(f"{API}/{sb}/files/upload", params={"path": path} if path else {}, files=files, **kw)


def test_upload_many_files_and_read_back(gw_pair):
    client, _ = gw_pair
    sb = client.create()["id"]
    binary = bytes(range(256)) * 17
    big = os.urandom(1 << 16) * 320  # 20 MiB (random blocks, so chunk mix-ups show)
    big = big + b"\r\n--tail"  # ends with something that looks like the start of a delimiter
    text = b"hello\r\n--not a boundary\r\n"
    r = upload(client, sb, "/tmp/up/new/dir", [
        ("files", ("bin.dat", binary, "application/octet-stream")),
        ("note", (None, b"an ignored form field")),
        ("files", ("big.bin", big, "application/octet-stream")),
        ("file", ("t e x t.txt", text, "text/plain")),
        ("files", ("empty", b"", "application/octet-stream")),
    ])
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"paths": ["/tmp/up/new/dir/bin.dat", "/tmp/up/new/dir/big.bin",
                                          "/tmp/up/new/dir/t e x t.txt", "/tmp/up/new/dir/empty"]}
    for name, data in (("bin.dat", binary), ("big.bin", big), ("t e x t.txt", text), ("empty", b"")):
        g = client.http.get(f"{API}/{sb}/files/content", params={"path": f"/tmp/up/new/dir/{name}"})
        assert g.status_code == 200 and g.content == data, name
    # the keep-alive connection still works after the streamed request
    assert client.exec(sb, "ls /tmp/up/new/dir | wc -l")["stdout"].strip() == "4"


def test_upload_refusals(gw_pair):
    client, small = gw_pair
    sb = client.create()["id"]
    for bad in ("../escape.txt", "..", "a/b", "..\\evil"):
        r = upload(client, sb, "/tmp/u", [("file", (bad, b"x"))])
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] in ("invalid_filename", "invalid_multipart"), r.text
    assert client.exec(sb, "ls /tmp/escape.txt /evil 2>&1; true")["stdout"].count("No such file") == 2

    r = upload(client, sb, None, [("file", ("a.txt", b"x"))])  # no ?path=
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_path"

    headers = {"content-type": "multipart/form-data; boundary=XYZ"}
    for body in (b"garbage without any boundary",
                 b"--XYZ\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--XYZ--",
                 b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t\"\r\n\r\ntruncated"):
        r = client.http.post(f"{API}/{sb}/files/upload", params={"path": "/tmp/m"}, content=body, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_multipart", r.text
    r = client.http.post(f"{API}/{sb}/files/upload", params={"path": "/tmp/m"}, content=b"x",
                         headers={"content-type": "text/plain"})
    assert r.status_code == 400
    assert client.http.get(f"{API}/{sb}/files/stat", params={"path": "/tmp/m/t"}).status_code == 404

    # over the configured max_body_bytes (64 KiB on this gateway)
    sb2 = small.create()["id"]
    r = upload(small, sb2, "/tmp/s", [("file", ("ok.txt", b"small"))])
    assert r.status_code == 200 and r.json()["data"]["paths"] == ["/tmp/s/ok.txt"]
    r = upload(small, sb2, "/tmp/s", [("file", ("big.txt", b"y" * (200 << 10)))])
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large"
    assert small.http.get(f"{API}/{sb2}/files/stat", params={"path": "/tmp/s/big.txt"}).status_code == 404

