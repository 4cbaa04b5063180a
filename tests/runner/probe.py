"""Host-side view of one sandbox (its runner, init, namespaces, cgroups, mounts) to find leftovers."""
import os


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            out += [int(p) for p in (read(f"/proc/{pid}/task/{tid}/children") or "").split()]
    except OSError:
        pass
    return out


def ns_inode(pid, kind):
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def pids_in_ns(kind, inode):
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and ns_inode(e, kind) == inode]


class Snapshot:
    def __init__(self, gw, sb):
        self.sb = sb
        d = gw.sandbox_dir(sb)
        self.runner = int(read(os.path.join(d, "runner.pid")).strip())
        kids = children(self.runner)
        assert kids, "the runner has no init child"
        self.init = kids[0]
        self.ns = {k: ns_inode(self.init, k) for k in ("pid", "net", "mnt", "user", "uts", "ipc")}
        for k, v in self.ns.items():
            assert v and v != ns_inode(1, k), f"{k} namespace is the host's"
        self.cgroups = [l for l in (read(os.path.join(d, "cgroups")) or "").splitlines() if l.strip()]
        assert self.cgroups, "no cgroups recorded"

    def processes(self):
        return sorted(set(p for k in ("pid", "mnt", "net", "user") for p in pids_in_ns(k, self.ns[k])))

    def leftovers(self):
        left = []
        cmd = read(f"/proc/{self.runner}/cmdline") or ""
        if self.sb in cmd:
            left.append(f"runner {self.runner}")
        procs = self.processes()
        if procs:
            left.append(f"processes {procs}")
        left += [f"cgroup {cg}" for cg in self.cgroups if os.path.exists(cg)]
        if self.sb in (read("/proc/self/mountinfo") or ""):
            left.append("a host mount mentions the sandbox")
        return left
