"""Streamed replies: the code route as E2B's NDJSON and exec as server-sent events, delivered while the
cell or command is still running; a client that does not read holds the cell back instead of making
the gateway buffer without bound."""
import json
import time

import httpx


def ndjson(client, sb, code, **kw):
    """(seconds since the request, parsed line) for every line of a streamed code execution."""
    t0 = time.monotonic()
    out = []
    with client.http.stream("POST", f"/api/v1/sandboxes/{sb}/code", json={"code": code, **kw},
                            headers={"Accept": "application/x-ndjson"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        for line in r.iter_lines():
            if line:
                out.append((time.monotonic() - t0, json.loads(line)))
    return out


def sse(client, sb, command, **kw):
    t0 = time.monotonic()
    events, name = [], None
    with client.http.stream("POST", f"/api/v1/sandboxes/{sb}/exec", json={"command": command, **kw},
                            headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            line = line.rstrip("\r\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((time.monotonic() - t0, name, json.loads(line[6:])))
    return events


def test_code_streams_as_it_happens(client):
    sb = client.create()["id"]
    lines = ndjson(client, sb, "import time\nprint('first', flush=True)\ntime.sleep(2)\nprint('second')\n40 + 2")
    kinds = [obj["type"] for _, obj in lines]
    n_out = kinds.count("stdout")
    assert kinds == ["stdout"] * n_out + ["result", "number_of_executions", "end_of_execution"], kinds
    assert "".join(obj["text"] for _, obj in lines[:n_out]) == "first\nsecond\n"
    first_at, first = lines[0]
    assert first["text"].startswith("first") and isinstance(first["timestamp"], int)
    assert lines[-1][0] - first_at >= 1.0  # the first line came while the cell was still sleeping
    result = lines[n_out][1]
    assert result["text"] == "42" and result["is_main_result"] is True
    assert lines[n_out + 1][1]["execution_count"] >= 1


def test_code_stream_error_and_reuse(client):
    sb = client.create()["id"]
    lines = [obj for _, obj in ndjson(client, sb, "x = 5\n1/0")]
    err = [o for o in lines if o["type"] == "error"]
    assert len(err) == 1 and err[0]["name"] == "ZeroDivisionError" and isinstance(err[0]["traceback"], str)
    assert lines[-1] == {"type": "end_of_execution"}
    # the same keep-alive connection serves the next request, blocking or streamed
    assert client.code(sb, "x")["text"] == "5"
    assert [o["type"] for _, o in ndjson(client, sb, "x")][-1] == "end_of_execution"


def test_exec_sse(client):
    sb = client.create()["id"]
    ev = sse(client, sb, "echo one; sleep 2; echo two >&2; cd /tmp; (exit 3)")
    names = [n for _, n, _ in ev]
    assert names[-1] == "done" and set(names[:-1]) == {"stdout", "stderr"}, names
    assert "".join(d["data"] for _, n, d in ev if n == "stdout") == "one\n"
    assert "".join(d["data"] for _, n, d in ev if n == "stderr") == "two\n"
    assert ev[-1][0] - ev[0][0] >= 1.0  # "one" arrived while the command still slept
    done = ev[-1][2]
    assert done["exit_code"] == 3 and done["cwd"] == "/tmp" and done["duration_ms"] >= 1000


def test_exec_sse_error_event(client):
    sb = client.create()["id"]
    client.delete(sb)
    r = client.http.post(f"/api/v1/sandboxes/{sb}/exec", json={"command": "true"},
                         headers={"Accept": "text/event-stream"})
    assert r.status_code == 404 and r.json()["error"]["code"]  # before the stream starts: a plain envelope


def test_slow_reader_holds_the_cell_back(client, gateway):
    sb = client.create()["id"]
    code = ("import sys, time\nt0 = time.time()\nfor i in range(400):\n"
            "    sys.stdout.write('x' * 65536 + '\\n')\nprint('elapsed', round(time.time() - t0, 1))")
    got = 0
    with httpx.Client(base_url=gateway.url, headers={"X-API-Key": gateway.key}, timeout=60) as c:
        with c.stream("POST", f"/api/v1/sandboxes/{sb}/code", json={"code": code},
                      headers={"Accept": "application/x-ndjson"}) as r:
            it = r.iter_raw(65536)
            got += len(next(it))
            time.sleep(1.5)  # a slow client: reads nothing for a while (the behaviour under test)
            lines = b""
            for chunk in it:
                got += len(chunk)
                lines = (lines + chunk)[-4096:]
    assert got > 400 * 65536  # everything arrived: paused, not dropped
    assert b"end_of_execution" in lines
