#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz corpora (tests/fuzz/corpus/<target>/seed-*).

Run from anywhere with /usr/bin/python3 tests/fuzz/gen_seeds.py; it only (re)writes seed-* files, so
inputs found by libFuzzer (named by their SHA-1) stay. Input formats are those of the fuzz_*.c targets.
"""
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ_KEY = b"fuzz-key-0123"  # fuzz_wire_decode.c's KEY
DELIM = b"<IDS|MSG>"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def wire_input(flags, frames):
    out = bytes([flags])
    for f in frames:
        out += struct.pack(">H", len(f)) + f
    return out


def signed(dicts, key=FUZZ_KEY, buffers=()):
    """The wire signature: HMAC over the dicts, then each buffer as an 8-byte big-endian length + bytes."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for d in dicts:
        h.update(d)
    for b in buffers:
        h.update(struct.pack(">Q", len(b)))
        h.update(b)
    return h.hexdigest().encode()


def wire_seeds():
    header = json.dumps({"msg_id": "5b1f0c64-8f0e-4b8e-9f38-3d1c2b0a9e11", "session": "s-1", "username": "sluice",
                         "date": "2026-01-01T00:00:00.000000Z", "msg_type": "execute_request",
                         "version": "5.3"}, separators=(",", ":")).encode()
    content = b'{"code":"print(1)","silent":false}'
    dicts = [header, b"{}", b"{}", content]
    write("wire_decode", "valid-signed", wire_input(1, [DELIM, signed(dicts)] + dicts))
    write("wire_decode", "valid-resign", wire_input(3, [DELIM, b"0" * 64] + dicts))
    write("wire_decode", "valid-unsigned", wire_input(0, [DELIM, b""] + dicts))
    write("wire_decode", "idents-buffers",
          wire_input(3, [b"0b7e6a3c-2f4d-4c1e-9a8b-7c6d5e4f3a2b", b"\x00\xff", DELIM, b""] + dicts + [b"\x00buf", b""]))
    # a runner's stream message: the text in buffer 0 (signed), content names it
    sheader = header.replace(b"execute_request", b"stream")
    sdicts = [sheader, header, b"{}", b'{"name":"stdout","text_buffer":0}']
    text = "hello \u00e9\n".encode() * 20
    write("wire_decode", "stream-buffer-signed",
          wire_input(1, [b"0b7e6a3c-2f4d-4c1e-9a8b-7c6d5e4f3a2b", DELIM, signed(sdicts, buffers=[text])] + sdicts + [text]))
    write("wire_decode", "stream-buffer-unsigned-by-jupyter",
          wire_input(1, [DELIM, signed(sdicts)] + sdicts + [text]))
    write("wire_decode", "buffers-recut",
          wire_input(1, [DELIM, signed(dicts, buffers=[b"ab", b"c"])] + dicts + [b"a", b"bc"]))
    reply = json.dumps({"msg_id": "r", "session": "s", "msg_type": "execute_reply"}).encode()
    parent = header
    write("wire_decode", "reply-with-parent",
          wire_input(3, [b"peer", DELIM, b""] + [reply, parent, b'{"m":1}', b'{"status":"ok","execution_count":1}']))
    write("wire_decode", "unicode",
          wire_input(3, [DELIM, b""] + [header, b"{}", b'{"a":"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00"}', b"{}"]))
    write("wire_decode", "no-delim", wire_input(1, [b"x", signed(dicts)] + dicts))
    write("wire_decode", "too-few-frames", wire_input(3, [DELIM, b""] + dicts[:3]))
    write("wire_decode", "bad-signature", wire_input(1, [DELIM, b"f" * 64] + dicts))
    write("wire_decode", "bad-json", wire_input(3, [DELIM, b""] + [b'{"msg_id":', b"{}", b"{}", b"{}"]))
    write("wire_decode", "not-object", wire_input(3, [DELIM, b""] + [header, b"[]", b"{}", b"{}"]))
    write("wire_decode", "dup-keys", wire_input(3, [DELIM, b""] + [header, b"{}", b"{}", b'{"a":1,"a":2}']))
    write("wire_decode", "header-missing-type",
          wire_input(3, [DELIM, b""] + [b'{"msg_id":"m","session":"s"}', b"{}", b"{}", b"{}"]))
    write("wire_decode", "nul-escape", wire_input(3, [DELIM, b""] + [header, b"{}", b"{}", b'{"t":"a\\u0000"}']))
    write("wire_decode", "many-idents", wire_input(3, [b"i"] * 17 + [DELIM, b""] + dicts))
    write("wire_decode", "deep-nesting", wire_input(3, [DELIM, b""] + [header, b"{}", b"{}",
                                                                       b'{"a":' + b"[" * 300 + b"]" * 300 + b"}"]))
    write("wire_decode", "empty", b"")


def driver_seeds():
    ev = {
        "ready": {"type": "ready", "language": "python", "version": "3.11.2"},
        "result": {"type": "result", "id": 1, "data": {"text/plain": "2"}, "metadata": {}, "is_main_result": True,
                   "execution_count": 1},
        "display": {"type": "display", "id": 1, "data": {"image/png": "iVBORw0KGgo="}, "metadata": {},
                    "transient": {"display_id": "d1"}, "update": False},
        "display-update": {"type": "display", "id": 1, "data": {"text/plain": "x"}, "metadata": {},
                           "transient": {"display_id": "d1"}, "update": True},
        "clear-output": {"type": "clear_output", "id": 1, "wait": True},
        "input-request": {"type": "input_request", "id": 1, "prompt": "name? ", "password": False},
        "error": {"type": "error", "id": 1, "ename": "ZeroDivisionError", "evalue": "division by zero",
                  "traceback": ["Traceback (most recent call last):", "ZeroDivisionError: division by zero"]},
        "error-nul": {"type": "error", "id": 1, "ename": "ValueError", "evalue": "a\x00b", "traceback": []},
        "done": {"type": "done", "id": 1, "status": "ok", "execution_count": 1},
        "done-error": {"type": "done", "id": 2, "status": "error", "execution_count": 2},
        "execute": {"type": "execute", "id": 3, "code": "print(1)", "silent": False, "store_history": True},
        "input-reply": {"type": "input_reply", "id": 3, "value": "Ada"},
        "input-reply-error": {"type": "input_reply", "id": 3, "error": "no client can answer"},
    }
    for name, obj in ev.items():
        write("driver_event", name, json.dumps(obj, ensure_ascii=False))
    write("driver_event", "bad-unknown-type", '{"type":"nope","id":1}')
    write("driver_event", "bad-truncated", '{"type":"done","id":1,"status":"o')
    write("driver_event", "bad-array", '[{"type":"done"}]')
    write("driver_event", "bad-status", '{"type":"done","id":1,"status":"maybe"}')
    write("driver_event", "bad-nan", '{"type":"result","id":1,"data":{"x":NaN}}')
    write("driver_event", "bad-dup", '{"type":"done","type":"ready","id":1,"status":"ok"}')


def ctl_seeds():
    pk = {
        "spawn": {"type": "spawn", "tag": 1, "argv": ["/bin/sh", "-c", "echo hi"], "env": ["PATH=/usr/bin:/bin"],
                  "cwd": "/home/user", "fds": 3},
        "signal": {"type": "signal", "pid": 42, "signal": 9, "group": True},
        "spawned": {"type": "spawned", "tag": 1, "pid": 42},
        "spawned-error": {"type": "spawned", "tag": 1, "pid": 0, "error": "ENOENT"},
        "exited": {"type": "exited", "pid": 42, "status": 256},
        "zygote-spawn": {"type": "zygote_spawn", "uid": 0, "gid": 0, "caps": 0, "cwd": "/home/user",
                         "env": ["PATH=/usr/bin"], "cgroups": ["/sys/fs/cgroup/memory/sluice/x"]},
        "zygote-spawned": {"type": "zygote_spawned", "pid": 4242, "ns_pid": 7},
        "zygote-spawned-error": {"type": "zygote_spawned", "pid": 0, "ns_pid": 0, "error": "setns: EPERM"},
    }
    for name, obj in pk.items():
        write("ctl", name, json.dumps(obj))
    write("ctl", "bad-fds", '{"type":"spawn","tag":1,"argv":["x"],"env":[],"cwd":"/","fds":99}')
    write("ctl", "bad-extra-key", '{"type":"exited","pid":1,"status":0,"x":1}')
    write("ctl", "bad-nul", '{"type":"spawn","tag":1,"argv":["a\\u0000b"],"env":[],"cwd":"/","fds":0}')
    write("ctl", "bad-empty", "")
    write("ctl", "bad-zygote-dotdot", '{"type":"zygote_spawn","uid":0,"gid":0,"caps":0,"cwd":"/","env":[],'
                                      '"cgroups":["/sys/fs/cgroup/../../etc"]}')
    write("ctl", "bad-zygote-uid", '{"type":"zygote_spawn","uid":70000,"gid":0,"caps":0,"cwd":"/","env":[],'
                                   '"cgroups":["/a"]}')


def ops_seeds():
    seeds = {
        "execute_request": {"code": "print(1)", "silent": False, "store_history": True, "timeout_ms": 1000,
                            "env": {"A": "1"}, "context_id": "c"},
        "sluice_exec_request": {"command": "ls -la", "cwd": "/tmp", "env": {"K": "v"}, "timeout_ms": 5, "stdin": ""},
        "interrupt_request": {"context_id": "c"},
        "shutdown_request": {"restart": False},
        "sluice_ping_request": {},
        "sluice_hello": {"sandbox_id": "0b7e6a3c-2f4d-4c1e-9a8b-7c6d5e4f3a2b", "state": "ready", "init_pid": 10,
                         "runner_pid": 9},
        "status": {"execution_state": "busy"},
        "stream": {"name": "stdout", "text": "hello\n"},
        "execute_result": {"execution_count": 1, "data": {"text/plain": "2"}, "metadata": {}},
        "display_data": {"data": {"image/png": "x"}, "metadata": {}, "transient": {"display_id": "d"}},
        "update_display_data": {"data": {}, "metadata": {}, "transient": {"display_id": "d"}},
        "clear_output": {"wait": False},
        "error": {"ename": "E", "evalue": "v", "traceback": ["t"]},
        "execute_reply": {"status": "error", "execution_count": 1, "ename": "E", "evalue": "v", "traceback": []},
        "sluice_exec_reply": {"exit_code": 0, "cwd": "/", "duration_ms": 3, "timed_out": False},
        "interrupt_reply": {"status": "ok"},
        "shutdown_reply": {"status": "ok", "restart": False},
        "sluice_ping_reply": {"status": "ok"},
        "sluice_error_reply": {"status": "error", "code": "bad_request", "message": "m"},
    }
    for t, c in seeds.items():
        write("ops_validate", t, t + "\n" + json.dumps(c))
    write("ops_validate", "exec-argv", 'sluice_exec_request\n{"argv":["ls","-l"]}')
    write("ops_validate", "bad-exec-both", 'sluice_exec_request\n{"argv":["ls"],"command":"ls"}')
    write("ops_validate", "bad-timeout", 'execute_request\n{"code":"1","timeout_ms":-1}')
    write("ops_validate", "bad-unknown", 'kernel_info_request\n{}')
    write("ops_validate", "bad-array", 'sluice_ping_request\n[]')


def utf8_seeds():
    write("utf8", "ascii", b"hello, world\n")
    write("utf8", "multibyte", "café € 😀 日本 \U0010ffff".encode())
    write("utf8", "overlong", b"\xc0\x80\xe0\x80\xaf\xf0\x80\x80\xaf")
    write("utf8", "surrogates", b"\xed\xa0\x80\xed\xbf\xbf")
    write("utf8", "too-big", b"\xf4\x90\x80\x80\xf5\x80\x80\x80\xff\xfe")
    write("utf8", "truncated", b"abc\xe2\x82")
    write("utf8", "nul", b"a\x00b")
    write("utf8", "lone-continuation", b"\x80\xbf\x80")


def json_escape_seeds():
    write("json_escape", "ascii", b"hello, world\n")
    write("json_escape", "specials", b'"\\/\b\f\n\r\t\x00\x01\x1f\x7f')
    write("json_escape", "multibyte", "café € 😀 日本 \u2028\u2029 \U0010ffff".encode())
    write("json_escape", "lane-edges", b"0123456789abcde\"0123456789abcde\\" + b"x" * 31 + b"\n")
    write("json_escape", "long-lines", (b"x" * 1500 + b"\n") * 3)
    write("json_escape", "invalid", b"ok\xc0\x80\xed\xa0\x80\xff tail\xe2\x82")


def multipart_seeds():
    def mp(name, ct, body, split=128, maxd=255):
        write("multipart", name, bytes([split, maxd]) + ct.encode() + b"\n" + body)

    ct = "multipart/form-data; boundary=XyZ"
    part = b'Content-Disposition: form-data; name="files"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n'
    mp("two-files", ct, b"--XyZ\r\n" + part + b"hello\r\n--XyZ\r\n" + part.replace(b"a.txt", b"b.bin")
       + bytes(range(256)) + b"\r\n--XyZ--\r\n", 40, 7)
    mp("field", 'Multipart/Form-Data; charset=utf-8; boundary="a b"',
       b"pre\r\n--a b \r\ncontent-disposition: form-data;name=x\r\n\r\n\r\n--a\r\r\n--a b--epi")
    mp("escape", ct, b"--XyZ\r\n" + part.replace(b"a.txt", b"../x") + b"x\r\n--XyZ--", 3, 0)
    mp("truncated", ct, b"--XyZ\r\n" + part + b"\r\n--Xy", 200, 1)
    mp("no-disposition", ct, b"--XyZ\r\nX: y\r\n\r\nz\r\n--XyZ--")
    mp("bare-lf", ct, b"--XyZ\nContent-Disposition: form-data; name=a\n\n")
    mp("bad-ct", "text/plain", b"--b0undary\r\nContent-Disposition: form-data; name=q\r\n\r\n\r\n--b0undary--")


def nlmsg(type_, seq, payload, flags=0):
    return struct.pack("<IHHII", 16 + len(payload), type_, flags, seq, 0) + payload + b"\0" * (-len(payload) % 4)


def nla(type_, data):
    return struct.pack("<HH", 4 + len(data), type_) + data + b"\0" * (-len(data) % 4)


def netlink_seeds():
    """fuzz_netlink.c: 4 bytes of sequence number (little endian), then one datagram of replies."""
    seq = 77
    pre = struct.pack("<I", seq)
    ack = lambda err, s=seq: nlmsg(2, s, struct.pack("<i", err) + struct.pack("<IHHII", 36, 0xA01, 5, s, 0))  # noqa
    newtable = bytes.fromhex(  # captured from the kernel: NFT_MSG_NEWTABLE for "inet sluice" with its comment
        "58000000000a00004d0000001e650000010015a40b000100736c75696365000008000300000000030c000400000000000000"
        "132908000200000000001c0006000016736c75696365206f70656e2065677265737320763100")
    write("netlink", "kernel-newtable", pre + newtable)
    write("netlink", "kernel-ack", pre + bytes.fromhex("24000000020000014d0000001e6500000000000020000000010a05004d00000000000000"))
    write("netlink", "newtable-then-ack", pre + newtable + ack(0))
    write("netlink", "enoent", pre + ack(-2))
    write("netlink", "eexist", pre + ack(-17))
    write("netlink", "stale-seq-then-ack", pre + ack(-1, 5) + ack(0))
    write("netlink", "done", pre + nlmsg(3, seq, struct.pack("<i", 0)))
    nfgen = struct.pack("<BBH", 1, 0, 0)
    write("netlink", "table-no-comment", pre + nlmsg(0xA00, seq, nfgen + nla(1, b"sluice\0")))
    write("netlink", "table-other-udata", pre + nlmsg(0xA00, seq, nfgen + nla(6, b"\x01\x02ab\x00\x03abc")))
    write("netlink", "table-udata-overrun", pre + nlmsg(0xA00, seq, nfgen + nla(6, b"\x00\x40abc")))
    write("netlink", "table-long-comment", pre + nlmsg(0xA00, seq, nfgen + nla(6, b"\x00\xc8" + b"c" * 200)))
    write("netlink", "attr-overrun", pre + nlmsg(0xA00, seq, nfgen + struct.pack("<HH", 200, 6) + b"abcd"))
    write("netlink", "msg-overrun", pre + struct.pack("<IHHII", 4096, 2, 0, seq, 0) + b"\0" * 8)
    write("netlink", "msg-too-short", pre + struct.pack("<IHHII", 8, 2, 0, seq, 0))
    write("netlink", "error-short", pre + nlmsg(2, seq, b"\0\0"))
    write("netlink", "error-positive", pre + nlmsg(2, seq, struct.pack("<i", 5)))
    write("netlink", "noop-then-ack", pre + nlmsg(1, seq, b"") + ack(0))
    write("netlink", "trailing-bytes", pre + ack(0)[:-4] + b"\1\2\3")
    write("netlink", "empty", pre)


if __name__ == "__main__":
    wire_seeds()
    driver_seeds()
    ctl_seeds()
    ops_seeds()
    utf8_seeds()
    json_escape_seeds()
    multipart_seeds()
    netlink_seeds()
