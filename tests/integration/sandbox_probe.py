"""Host-side view of one sandbox: its runner, its processes (by pid namespace), its cgroups and mounts.

Used to assert that nothing of a sandbox remains after delete or after its runner is killed.
"""
import os
import re
import subprocess


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


def describe(pids):
    """State, parent, wchan and command of each pid, for a failure message."""
    out = []
    for pid in pids[:8]:
        status = read(f"/proc/{pid}/status") or ""
        fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
        cmd = (read(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()[:80]
        wchan = read(f"/proc/{pid}/wchan") or ""
        out.append(f"{pid}: {fields.get('State', '?').strip()} ppid={fields.get('PPid', '?').strip()} "
                   f"nspid={fields.get('NSpid', '?').strip()} wchan={wchan} cmd={cmd!r}")
    return "; ".join(out)


def net_record(state_dir, sb_id):
    """The runner's record of its network (kernel-runner/net_veth.c): {"slot", "veth"} and, for a whitelist,
    its own table {"nft"}; {} without one."""
    text = read(os.path.join(sandbox_dir(state_dir, sb_id), "net")) or ""
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def veth_index(name):
    """The ifindex of host interface name (from `ip -o link`), None when there is none."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=10).stdout
    for line in out.splitlines():
        m = re.match(r"(\d+): ([^:@\s]+)[@:]", line)
        if m and m.group(2) == name:
            return int(m.group(1))
    return None


def nft_handle(table):
    """The handle of nftables table "inet <table>" (from `nft list tables` + `nft -a list table`), None if absent."""
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=10).stdout
    if f"table inet {table}" not in tables.splitlines():
        return None
    out = subprocess.run(["nft", "-a", "list", "table", "inet", table], capture_output=True, text=True,
                         timeout=10).stdout
    m = re.search(r"table inet \S+ \{ # handle (\d+)", out)
    return int(m.group(1)) if m else -1


def ns_holders(ns_link):
    """Who else keeps a namespace alive without being in it: open fds on it, nsfs bind mounts of it."""
    held = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") == ns_link:
                    held.append(f"fd {fd} of {entry}")
            except OSError:
                pass
    if ns_link in (read("/proc/self/mountinfo") or ""):
        held.append("bind mount")
    return held


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
        # the host end of its network: veth and (whitelist) its own nft table, identified by ifindex / handle
        # (names are reused); open egress is judged by the host-wide table "inet sluice", which must be there
        # and stays
        self.net = net_record(state_dir, sb_id)
        self.veth = self.net.get("veth")
        self.veth_index = veth_index(self.veth) if self.veth else None
        self.nft = self.net.get("nft")
        self.nft_handle = nft_handle(self.nft or "sluice") if self.net else None
        if self.net:
            assert self.veth_index and self.nft_handle, f"net record {self.net} without its veth or table"

    def leftovers(self):
        left = []
        if self.runner and os.path.exists(f"/proc/{self.runner}"):
            cmd = read(f"/proc/{self.runner}/cmdline") or ""
            if self.sb_id in cmd:
                left.append(f"runner {self.runner}")
        for kind in ("pid", "net", "mnt", "user"):
            pids = processes_in_ns(kind, self.ns[kind])
            if pids:
                left.append(f"{kind} ns {self.ns[kind]} held by {pids} ({describe(pids)})")
        for cg in self.cgroups:
            if os.path.exists(cg):
                left.append(f"cgroup {cg}")
        mounts = read("/proc/self/mountinfo") or ""
        if self.sb_id in mounts:
            left.append("host mount mentioning the sandbox id")
        if self.net:
            held = ns_holders(self.ns["net"])
            if held:
                left.append(f"net ns {self.ns['net']} held by {held}")
            if self.veth and veth_index(self.veth) == self.veth_index:
                left.append(f"veth {self.veth}")
            if self.nft and nft_handle(self.nft) == self.nft_handle:
                left.append(f"nft table inet {self.nft}")
        return left
