"""A minimal kernel websocket client (legacy JSON frames or the v1 binary subprotocol) over tornado, with
JupyterLab's validation applied to every message received."""
import asyncio
import json
import struct
import time
import uuid

from tornado import httpclient, websocket

import jlab_rules

V1 = "v1.kernel.websocket.jupyter.org"


def v1_decode(frame):
    n = struct.unpack_from("<Q", frame, 0)[0]
    offs = list(struct.unpack_from(f"<{n}Q", frame, 8)) + [len(frame)]
    assert offs[0] == 8 * (n + 1)
    parts = [frame[offs[i]:offs[i + 1]] for i in range(n)]
    msg = {"channel": parts[0].decode(), "header": json.loads(parts[1]), "parent_header": json.loads(parts[2]),
           "metadata": json.loads(parts[3]), "content": json.loads(parts[4]), "buffers": parts[5:]}
    msg["msg_type"] = msg["header"]["msg_type"]
    return msg


def v1_encode(msg):
    parts = [msg["channel"].encode()] + [json.dumps(msg[k]).encode()
                                         for k in ("header", "parent_header", "metadata", "content")]
    n = len(parts)
    offs, off = [], 8 * (n + 1)
    for p in parts:
        offs.append(off)
        off += len(p)
    return struct.pack("<Q", n) + b"".join(struct.pack("<Q", o) for o in offs) + b"".join(parts)


class KernelWS:
    def __init__(self, url, kernel_id, session_id=None, token=None, v1=False):
        self.url = url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        self.session_id = session_id or uuid.uuid4().hex
        self.url += f"?session_id={self.session_id}"
        self.headers = {"Authorization": f"token {token}"} if token else {}
        self.v1 = v1
        self.ws = None
        self.received = []
        self.subprotocol = None

    async def connect(self):
        req = httpclient.HTTPRequest(self.url, headers=self.headers)
        self.ws = await websocket.websocket_connect(req, subprotocols=[V1] if self.v1 else None)
        self.subprotocol = self.ws.selected_subprotocol
        return self

    def request(self, msg_type, content, channel="shell", with_channel=True):
        hdr = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": self.session_id, "username": "test",
               "date": time.time(), "version": "5.3"}  # a float date, as GatewayKernelClient sends
        msg = {"header": hdr, "parent_header": {}, "metadata": {}, "content": content, "channel": channel}
        if self.v1:
            self.ws.write_message(v1_encode(msg), binary=True)
        else:
            if not with_channel:
                del msg["channel"]
            self.ws.write_message(json.dumps(msg))
        return hdr["msg_id"]

    async def recv(self, timeout=60):
        frame = await asyncio.wait_for(self.ws.read_message(), timeout)
        if frame is None:
            return None
        if self.v1:
            assert isinstance(frame, bytes), "v1 frames are binary"
            msg = v1_decode(frame)
        else:
            assert isinstance(frame, str), "legacy frames are text"
            msg = json.loads(frame)
            assert msg["msg_id"] == msg["header"]["msg_id"] and msg["msg_type"] == msg["header"]["msg_type"]
        jlab_rules.validate(msg)
        self.received.append(msg)
        return msg

    async def until_idle(self, parent_id, timeout=60):
        """Messages for parent_id up to and including its reply and its iopub idle."""
        got, reply, idle = [], False, False
        while not (reply and idle):
            m = await self.recv(timeout)
            assert m is not None, "the websocket closed"
            if m["parent_header"].get("msg_id") != parent_id:
                continue
            got.append(m)
            if m["channel"] in ("shell", "control") and m["msg_type"].endswith("_reply"):
                reply = True
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle = True
        return got

    def close(self):
        self.ws.close()
