/* cgroup_cleanup.h — removes a sandbox's cgroups (listed by its runner in STATE/sandboxes/ID/cgroups):
 * kills what is left in them and rmdirs them, children first. The kernel tears a pid namespace down
 * asynchronously, so a single pass may find busy cgroups; callers retry from a timer (bounded).
 * Ownership: no allocations escape. */
#ifndef GW_CGROUP_CLEANUP_H
#define GW_CGROUP_CLEANUP_H

/* One pass over the cgroups listed in list_path. 0 when none remains (or no list), -EBUSY when some
 * still exist, other negative errno on error. */
int cg_cleanup_pass(const char *list_path);

/* One cgroup directory tree: kill its tasks, rmdir depth-first. Same returns. Refuses paths outside
 * /sys/fs/cgroup/ or containing "..". */
int cg_cleanup_dir(const char *dir);

#endif
