"""Memory of Sluice's processes as the host sees it: PSS of each sandbox's process tree, RSS of the gateway."""
import os


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for tid in os.listdir(f"/proc/{p}/task") if os.path.isdir(f"/proc/{p}/task") else []:
            todo += [int(c) for c in _read(f"/proc/{p}/task/{tid}/children").split()]
    return out


def _pss_kb(pid):
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _cgroup_pids(state_dir, sb):
    """Processes in the sandbox's cgroups: its Python driver forked by the zygote is not the runner's
    descendant (the zygote is its parent) but is in the sandbox's cgroup."""
    pids = set()
    for d in _read(os.path.join(state_dir, "sandboxes", sb, "cgroups")).split():
        pids.update(int(p) for p in _read(os.path.join(d, "cgroup.procs")).split())
    return pids


def sandbox_pss_mb(state_dir, ids):
    """Sum of PSS over every sandbox's runner and all its descendants, and every process in its cgroups,
    in MB (pages shared with the zygote count by their share, as PSS does)."""
    total = 0
    for sb in ids:
        pids = set()
        pid = _read(os.path.join(state_dir, "sandboxes", sb, "runner.pid")).strip()
        if pid.isdigit():
            pids.update(_descendants(int(pid)))
        for p in _cgroup_pids(state_dir, sb):
            pids.update(_descendants(p))
        total += sum(_pss_kb(p) for p in pids)
    return total / 1024


def gateway_rss_mb(pid):
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
