"""Test hygiene: runners outlive their gateway by design (a SIGTERM or SIGKILL leaves sandboxes running to
be adopted by the next gateway), so a suite that stops its gateways would leave every sandbox it made
behind. Each Gateway registers its state dir here; at the end of the session the runners still serving
one of those dirs are stopped — SIGTERM first (the runner removes its sandbox's cgroups, veth and nft
table), SIGKILL after a bounded wait. Runners of other state dirs (another suite running at the same
time) are never touched."""
import os
import signal
import time

STATE_DIRS = set()


def register(state_dir):
    STATE_DIRS.add(os.path.abspath(state_dir))


def _runners(state_dirs):
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if not argv or not argv[0].endswith(b"sluice-runner"):
            continue
        for i, a in enumerate(argv[:-1]):
            if a == b"--state-dir" and os.path.abspath(argv[i + 1].decode(errors="replace")) in state_dirs:
                pids.append(int(name))
    return pids


def reap(state_dirs=None, grace=10.0):
    """Stops the runners of state_dirs (default: every registered one); returns how many were left."""
    dirs = set(state_dirs) if state_dirs is not None else set(STATE_DIRS)
    pids = _runners(dirs) if dirs else []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if os.path.exists(f"/proc/{p}") and _state(p) != "Z"]
            time.sleep(0.05)  # polling interval of a bounded wait for exits
    return len(_runners(dirs)) if dirs else 0


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
