"""JupyterLab's checks on every kernel message (shared/reference/jupyter-compat.md, from
@jupyterlab/services validate.ts), written out so the tests apply them to everything the gateway sends."""

STATES = {"starting", "idle", "busy", "restarting", "dead"}


def validate(msg):
    """Raises AssertionError naming the broken rule."""
    for key in ("header", "parent_header", "metadata", "content"):
        assert isinstance(msg.get(key), dict), f"{key} must be an object: {msg}"
    assert isinstance(msg.get("channel"), str), "channel must be a string"
    h = msg["header"]
    for key in ("username", "version", "session", "msg_id", "msg_type"):
        assert isinstance(h.get(key), str), f"header.{key} must be a string: {h}"
    assert isinstance(msg.get("buffers", []), list)
    t, c = h["msg_type"], msg["content"]
    if msg["channel"] != "iopub":
        return
    if t == "status":
        assert c.get("execution_state") in STATES, c
    elif t == "stream":
        assert isinstance(c.get("name"), str) and isinstance(c.get("text"), str), c
    elif t == "error":
        assert isinstance(c.get("ename"), str) and isinstance(c.get("evalue"), str), c
        assert isinstance(c.get("traceback"), list) and all(isinstance(x, str) for x in c["traceback"]), c
    elif t == "execute_result":
        assert isinstance(c.get("execution_count"), int), c
        assert isinstance(c.get("data"), dict) and isinstance(c.get("metadata"), dict), c
    elif t in ("display_data", "update_display_data"):
        assert isinstance(c.get("data"), dict) and isinstance(c.get("metadata"), dict), c
    elif t == "clear_output":
        assert isinstance(c.get("wait"), bool), c
    elif t == "execute_input":
        assert isinstance(c.get("code"), str) and isinstance(c.get("execution_count"), int), c
    elif t in ("comm_open", "comm_msg", "comm_close"):
        assert isinstance(c.get("comm_id"), str), c
