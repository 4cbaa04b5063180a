#!/usr/bin/python3
"""Cross-check protocol/'s wire signing against jupyter_client.session.Session.

Run with /usr/bin/python3 (python3-jupyter-client comes from Debian; a pyenv python3 cannot see it):
    /usr/bin/python3 tests/unit/test_jupyter_crosscheck.py build/bin/wire_tool

(a) messages serialized by jupyter_client verify with ours, (b) messages we sign are accepted by
Session.deserialize, (c) tampered messages are refused by both, plus replay, empty key and key mismatch.
wire_tool's framing: one line per frame, "x" + lowercase hex; a blank line ends a message (see wire_tool.c).
"""
import datetime
import hmac
import hashlib
import json
import random
import subprocess
import sys
import traceback

from jupyter_client.session import Session

WIRE_TOOL = None
KEY = b"sluice-crosscheck-key-5d1c8a"
TIMEOUT = 60  # seconds per wire_tool run; the whole test is also bounded by ctest's TIMEOUT


def run_tool(mode, key, stdin_text):
    p = subprocess.run([WIRE_TOOL, mode, key.decode()], input=stdin_text.encode(), capture_output=True,
                       timeout=TIMEOUT)
    if p.returncode == 2:
        raise RuntimeError("wire_tool %s failed: %s" % (mode, p.stderr.decode()))
    return p.returncode, p.stdout.decode()


def frames_text(messages):
    """messages: list of frame lists (bytes) -> wire_tool input."""
    return "".join("".join("x" + f.hex() + "\n" for f in frames) + "\n" for frames in messages)


def parse_frames(text):
    msgs, cur = [], []
    for line in text.split("\n"):
        if line == "":
            if cur:
                msgs.append(cur)
            cur = []
        else:
            assert line[0] == "x", line
            cur.append(bytes.fromhex(line[1:]))
    if cur:
        msgs.append(cur)
    return msgs


def ours_verify(key, messages):
    rc, out = run_tool("verify", key, frames_text(messages))
    # split on "\n" only: str.splitlines() would also split inside strings holding U+2028
    results = [json.loads(line) for line in out.split("\n") if line]
    assert len(results) == len(messages), (len(results), len(messages))
    return results


def ours_sign(key, specs):
    rc, out = run_tool("sign", key, "".join(json.dumps(s) + "\n" for s in specs))
    assert rc == 0, rc
    msgs = parse_frames(out)
    assert len(msgs) == len(specs)
    return msgs


def jupyter_serialize(session, msg_type, content, ident=None, buffers=()):
    msg = session.msg(msg_type, content=content)
    frames = session.serialize(msg, ident=ident)
    return msg, frames + list(buffers)


def jupyter_deserialize(session, frames):
    idents, rest = session.feed_identities(frames)
    return idents, session.deserialize(rest)


def sign_with_buffers(key, frames):
    """Sluice's signed-buffers extension (protocol/docs/messages.md): jupyter_client's HMAC over the
    four dicts, continued over each buffer as an 8-byte big-endian length and its bytes."""
    d = frames.index(b"<IDS|MSG>")
    m = hmac.new(key, digestmod=hashlib.sha256)
    for f in frames[d + 2:d + 6]:
        m.update(f)
    for b in frames[d + 6:]:
        m.update(len(b).to_bytes(8, "big"))
        m.update(b)
    return m.hexdigest().encode()


def random_text(rng):
    alphabet = "abc xyz\n\t\"\\/{}[]:,é€😀\u2028\u00a0\u0001日本"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))


def random_value(rng, depth=0):
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return random_text(rng)
    if kind == 1:
        return rng.randrange(-2**53, 2**53)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.random() * 1e6
    if kind == 4:
        return ""
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_text(rng) + str(i): random_value(rng, depth + 1) for i in range(rng.randrange(4))}


# ---------------------------------------------------------------------------------------------------

def test_golden_vector_matches_jupyter():
    """The literal in test_wire.c is what jupyter_client's Session.sign computes too."""
    s = Session(key=b"sluice-test-key-0123456789abcdef", signature_scheme="hmac-sha256")
    header = (b'{"msg_id":"a1","session":"s1","username":"sluice","date":"2026-01-01T00:00:00.000000Z",'
              b'"msg_type":"execute_request","version":"5.3"}')
    sig = s.sign([header, b"{}", b"{}", b'{"code":"print(1)"}'])
    assert sig == b"b0428794ec30303d4b674a8aad09e628f41e879d9b5254a10586aea65200a206", sig


def test_jupyter_to_ours():
    """(a) jupyter_client serializes, ours verifies and sees the same dicts, idents and buffers."""
    s = Session(key=KEY, signature_scheme="hmac-sha256", username="jovyan")
    sent = []
    msgs = []
    content = {"code": "print('héllo €')\n", "silent": False, "store_history": True,
               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
    msg, frames = jupyter_serialize(s, "execute_request", content, ident=[b"router-\x00\xff", b"second"],
                                    buffers=[b"\x00\x01\x02", b""])
    # jupyter_client leaves buffers unsigned; Sluice signs them (the extension), so that message is
    # refused as it is and accepted once signed the Sluice way; without buffers the two agree
    unsigned_buffers = frames
    d = frames.index(b"<IDS|MSG>")
    frames = frames[:d + 1] + [sign_with_buffers(KEY, frames)] + frames[d + 2:]
    sent.append(msg)
    msgs.append(frames)
    rng = random.Random(1234)
    for i in range(200):
        c = {"k%d" % j: random_value(rng) for j in range(rng.randrange(5))}
        msg, frames = jupyter_serialize(s, rng.choice(["stream", "display_data", "x_custom"]), c)
        sent.append(msg)
        msgs.append(frames)
    results = ours_verify(KEY, msgs + [unsigned_buffers, unsigned_buffers[:-2]])
    assert results[-2] == {"ok": False, "error": "bad signature"}, results[-2]
    assert results[-1]["ok"] and results[-1]["buffers"] == [], results[-1]
    results = results[:-2]
    for msg, res in zip(sent, results):
        assert res["ok"], res
        assert res["header"]["msg_id"] == msg["header"]["msg_id"]
        assert res["header"]["msg_type"] == msg["header"]["msg_type"]
        assert res["header"]["session"] == s.session
        assert res["content"] == msg["content"], (res["content"], msg["content"])
        assert res["metadata"] == msg["metadata"]
    assert results[0]["idents"] == [b"router-\x00\xff".hex(), b"second".hex()]
    assert results[0]["buffers"] == ["000102", ""]


def test_ours_to_jupyter():
    """(b) ours signs, Session.deserialize accepts and parses the same message (dates included)."""
    s = Session(key=KEY, signature_scheme="hmac-sha256")
    rng = random.Random(99)
    specs = [{"msg_type": "execute_reply", "session": "runner-1",
              "content": {"status": "ok", "execution_count": 3, "text": "é€😀\u2028\u0001 ctl"},
              "metadata": {"started": "x"},
              "parent_header": {"msg_id": "parent-1", "msg_type": "execute_request", "session": "c"},
              "idents": [b"sandbox-id".hex()], "buffers": [b"\x00binary\xff".hex()]}]
    for i in range(200):
        specs.append({"msg_type": "stream", "session": random_text(rng),
                      "content": {"k%d" % j: random_value(rng) for j in range(rng.randrange(5))}})
    msgs = ours_sign(KEY, specs)
    for spec, frames in zip(specs, msgs):
        d = frames.index(b"<IDS|MSG>")
        if len(frames) > d + 6:
            # signed buffers (Sluice's extension): check the signature with the reference, then let
            # jupyter_client parse the message without checking it
            assert frames[d + 1] == sign_with_buffers(KEY, frames)
            idents, msg = jupyter_deserialize(Session(key=b"", signature_scheme="hmac-sha256"),
                                              frames[:d + 1] + [b""] + frames[d + 2:])
        else:
            idents, msg = jupyter_deserialize(s, frames)
        assert msg["content"] == spec["content"], (msg["content"], spec["content"])
        assert msg["header"]["msg_type"] == spec["msg_type"]
        assert msg["header"]["session"] == spec["session"]
        assert msg["header"]["username"] == "sluice"
        assert msg["header"]["version"] == "5.3"
        # jupyter_client recognised our RFC 3339 timestamp as a date
        assert isinstance(msg["header"]["date"], datetime.datetime), msg["header"]["date"]
        assert msg["header"]["date"].tzinfo is not None
        assert idents == [bytes.fromhex(i) for i in spec.get("idents", [])]
        assert [bytes(b) for b in msg["buffers"]] == [bytes.fromhex(b) for b in spec.get("buffers", [])]
        if "parent_header" in spec:
            assert msg["parent_header"]["msg_id"] == "parent-1"
            assert msg["metadata"] == spec["metadata"]


def tampered_variants(frames):
    """Copies of frames with one signed byte changed, the signature changed, or the signature dropped."""
    d = frames.index(b"<IDS|MSG>")
    out = []
    for k in range(d + 2, d + 6):  # header, parent, metadata, content
        f = list(frames)
        b = bytearray(f[k])
        b[-1:] = b" }" if b.endswith(b"}") else b"x"  # still JSON for the object frames
        f[k] = bytes(b)
        out.append(f)
    f = list(frames)
    sig = bytearray(f[d + 1])
    sig[0] = ord("0") if sig[0] != ord("0") else ord("1")
    f[d + 1] = bytes(sig)
    out.append(f)
    f = list(frames)
    f[d + 1] = b""
    out.append(f)
    return out


def test_tampered_refused_by_both():
    """(c) a tampered message is refused by ours and by jupyter_client, in both directions."""
    s = Session(key=KEY, signature_scheme="hmac-sha256")
    _, jframes = jupyter_serialize(s, "execute_request", {"code": "1"})
    variants = tampered_variants(jframes)
    for res in ours_verify(KEY, variants):
        assert not res["ok"] and res["error"] == "bad signature", res
    for v in variants:
        try:
            jupyter_deserialize(Session(key=KEY, signature_scheme="hmac-sha256"), v)
        except ValueError as e:
            assert "Signature" in str(e) or "Unsigned" in str(e), e
        else:
            raise AssertionError("jupyter_client accepted a tampered message")

    oframes = ours_sign(KEY, [{"msg_type": "execute_reply", "session": "r", "content": {"status": "ok"}}])[0]
    variants = tampered_variants(oframes)
    for v in variants:
        try:
            jupyter_deserialize(Session(key=KEY, signature_scheme="hmac-sha256"), v)
        except ValueError as e:
            assert "Signature" in str(e) or "Unsigned" in str(e), e
        else:
            raise AssertionError("jupyter_client accepted a tampered message")
    for res in ours_verify(KEY, variants):
        assert not res["ok"] and res["error"] == "bad signature", res


def test_wrong_key_refused_by_both():
    s = Session(key=b"another key", signature_scheme="hmac-sha256")
    _, frames = jupyter_serialize(s, "status", {"execution_state": "idle"})
    assert ours_verify(KEY, [frames])[0] == {"ok": False, "error": "bad signature"}
    oframes = ours_sign(b"another key", [{"msg_type": "status", "session": "r", "content": {}}])[0]
    try:
        jupyter_deserialize(Session(key=KEY, signature_scheme="hmac-sha256"), oframes)
    except ValueError:
        pass
    else:
        raise AssertionError("jupyter_client accepted a message signed with another key")


def test_replay_refused_by_both():
    s = Session(key=KEY, signature_scheme="hmac-sha256")
    _, frames = jupyter_serialize(s, "status", {"execution_state": "busy"})
    res = ours_verify(KEY, [frames, frames, [b"other-ident"] + frames])
    assert res[0]["ok"] and res[1] == {"ok": False, "error": "replayed signature"} and not res[2]["ok"], res

    oframes = ours_sign(KEY, [{"msg_type": "status", "session": "r", "content": {}}])[0]
    rx = Session(key=KEY, signature_scheme="hmac-sha256")
    jupyter_deserialize(rx, oframes)
    try:
        jupyter_deserialize(rx, oframes)
    except ValueError as e:
        assert "Duplicate" in str(e), e
    else:
        raise AssertionError("jupyter_client accepted a replay")


def test_empty_key_both_ways():
    """Empty key: both sides send an empty signature and accept without checking (and without replay
    refusal on ours, where it would be meaningless)."""
    s = Session(key=b"")
    assert s.auth is None
    _, frames = jupyter_serialize(s, "stream", {"name": "stdout", "text": "x"})
    assert frames[frames.index(b"<IDS|MSG>") + 1] == b""
    res = ours_verify(b"", [frames, frames])
    assert res[0]["ok"] and res[1]["ok"], res
    oframes = ours_sign(b"", [{"msg_type": "stream", "session": "r", "content": {"name": "stdout", "text": "y"}}])[0]
    assert oframes[oframes.index(b"<IDS|MSG>") + 1] == b""
    _, msg = jupyter_deserialize(Session(key=b""), oframes)
    assert msg["content"]["text"] == "y"
    # a keyed receiver refuses unsigned messages, on both sides
    assert ours_verify(KEY, [frames])[0] == {"ok": False, "error": "bad signature"}
    try:
        jupyter_deserialize(Session(key=KEY, signature_scheme="hmac-sha256"), oframes)
    except ValueError:
        pass
    else:
        raise AssertionError("jupyter_client accepted an unsigned message with a key set")


def test_nul_in_json_is_refused_by_ours():
    """Documented divergence: jupyter_client writes a NUL in a string as \\u0000; our decoder refuses the
    frame (jansson without JSON_ALLOW_NUL), because NUL never travels in sluice's JSON (drivers' NULs
    become U+FFFD at sl_driver_event_parse, stream text goes through sl_utf8_sanitize)."""
    s = Session(key=KEY, signature_scheme="hmac-sha256")
    _, frames = jupyter_serialize(s, "stream", {"name": "stdout", "text": "a\x00b"})
    assert b"\\u0000" in frames[-1]
    assert ours_verify(KEY, [frames])[0] == {"ok": False, "error": "a dict frame is not a JSON object"}


def test_signature_is_hmac_over_frames_as_sent():
    """Our signature frame equals a plain hmac over the four JSON frames we emitted."""
    oframes = ours_sign(KEY, [{"msg_type": "x", "session": "s", "content": {"a": "é"}}])[0]
    d = oframes.index(b"<IDS|MSG>")
    h = hmac.new(KEY, digestmod=hashlib.sha256)
    for f in oframes[d + 2:d + 6]:
        h.update(f)
    assert oframes[d + 1] == h.hexdigest().encode()


def main():
    global WIRE_TOOL
    if len(sys.argv) != 2:
        print("usage: test_jupyter_crosscheck.py PATH/TO/wire_tool", file=sys.stderr)
        return 2
    WIRE_TOOL = sys.argv[1]
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print("ok", name)
        except Exception:
            failed += 1
            print("not ok", name)
            traceback.print_exc()
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
