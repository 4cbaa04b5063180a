"""input() in a cell run over the stream websocket: with allow_stdin the socket gets an input_request and
its input_reply (or eof) answers it; without allow_stdin, or when the asked socket goes away, the cell gets
EOFError at once and the context lives on."""
import asyncio
import json

from test_stream_ws import collect, connect, run


def test_input_is_asked_and_answered_over_the_socket(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            await ws.send(json.dumps({"type": "code", "id": "c", "allow_stdin": True,
                                      "code": "name = input('name? ')\nimport getpass\n"
                                              "pw = getpass.getpass('pw: ')\nprint('hi', name, len(pw))\nname"}))
            ask = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert ask == {"type": "input_request", "id": "c", "prompt": "name? ", "password": False}
            await ws.send(json.dumps({"type": "input_reply", "id": "c", "value": "ada"}))
            ask = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert ask["type"] == "input_request" and ask["password"] is True and ask["prompt"] == "pw: "
            await ws.send(json.dumps({"type": "input_reply", "id": "c", "value": "secret"}))
            evs = [e for _, e in await collect(ws, "c")]
            assert "".join(e["text"] for e in evs if e["type"] == "stdout") == "hi ada 6\n"
            assert [e["text"] for e in evs if e["type"] == "result"] == ["'ada'"]

            # eof: EOFError in the cell, which the client sees as the cell's error
            await ws.send(json.dumps({"type": "code", "id": "d", "allow_stdin": True, "code": "input()"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "input_request"
            await ws.send(json.dumps({"type": "input_reply", "id": "d", "eof": True}))
            evs = [e for _, e in await collect(ws, "d")]
            assert [e["name"] for e in evs if e["type"] == "error"] == ["EOFError"]

            # without allow_stdin nobody is asked
            await ws.send(json.dumps({"type": "code", "id": "e", "code": "input('x')"}))
            evs = [e for _, e in await collect(ws, "e")]
            assert "input_request" not in [e["type"] for e in evs]
            assert [e["name"] for e in evs if e["type"] == "error"] == ["EOFError"]

            # an answer nobody waits for, and bad answers, are errors of that id
            await ws.send(json.dumps({"type": "input_reply", "id": "zz", "value": "x"}))
            e = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert e["type"] == "error" and e["id"] == "zz" and e["name"] == "not_waiting"
            await ws.send(json.dumps({"type": "input_reply", "id": "zz", "value": 5}))
            e = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert e["name"] == "invalid_input"
            await ws.send(json.dumps({"type": "code", "id": "f", "allow_stdin": "yes", "code": "1"}))
            e = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert e["name"] == "invalid_request" and "allow_stdin" in e["value"]
    run(main())


def test_closing_the_asked_socket_ends_the_wait(gateway, client):
    sb = client.create()["id"]

    async def main():
        async with connect(gateway, sb) as ws:
            await ws.send(json.dumps({"type": "code", "id": "c", "allow_stdin": True, "code": "x = 5\ninput('?')"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "input_request"
    run(main())
    # the context is not stuck in input(): the next cell runs, and the state is intact
    assert client.code(sb, "x * 2", timeout=20)["text"] == "10"
