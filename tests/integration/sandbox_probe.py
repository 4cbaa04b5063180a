"""Host-side view of one sandbox: its runner, its processes (by pid namespace), its cgroups and mounts.

Used to assert that nothing of a sandbox remains after delete or after its runner is killed.
"""
import os


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def sandbox_dir(state_dir, sb_id):
    return os.path.join(state_dir, "sandboxes", sb_id)


def runner_pid(state_dir, sb_id):
    text = read(os.path.join(sandbox_dir(state_dir, sb_id), "runner.pid"))
    return int(text.strip()) if text and text.strip().isdigit() else None


def children(pid):
    pids = []
    base = f"/proc/{pid}/task"
    try:
        for tid in os.listdir(base):
            text = read(f"{base}/{tid}/children") or ""
            pids += [int(p) for p in text.split()]
    except OSError:
        pass
    return pids


def ns_inode(pid, kind):
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def processes_in_ns(kind, inode):
    """Host pids whose namespace of the given kind is inode."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and ns_inode(entry, kind) == inode:
            found.append(int(entry))
    return found


class Snapshot:
    """What a live sandbox holds on the host, captured so it can be checked for leftovers later."""

    def __init__(self, state_dir, sb_id):
        self.sb_id = sb_id
        self.runner = runner_pid(state_dir, sb_id)
        assert self.runner, "runner.pid missing"
        kids = children(self.runner)
        assert kids, "runner has no sandbox init child"
        self.init = kids[0]
        self.ns = {k: ns_inode(self.init, k) for k in ("pid", "net", "mnt", "user", "uts", "ipc")}
        host = {k: ns_inode(1, k) for k in self.ns}
        for k, v in self.ns.items():
            assert v and v != host[k], f"sandbox {k} namespace is the host's"
        text = read(os.path.join(sandbox_dir(state_dir, sb_id), "cgroups")) or ""
        self.cgroups = [l for l in text.splitlines() if l.strip()]

    def leftovers(self):
        left = []
        if self.runner and os.path.exists(f"/proc/{self.runner}"):
            cmd = read(f"/proc/{self.runner}/cmdline") or ""
            if self.sb_id in cmd:
                left.append(f"runner {self.runner}")
        for kind in ("pid", "net", "mnt", "user"):
            pids = processes_in_ns(kind, self.ns[kind])
            if pids:
                left.append(f"{kind} ns {self.ns[kind]} held by {pids}")
        for cg in self.cgroups:
            if os.path.exists(cg):
                left.append(f"cgroup {cg}")
        mounts = read("/proc/self/mountinfo") or ""
        if self.sb_id in mounts:
            left.append("host mount mentioning the sandbox id")
        return left
