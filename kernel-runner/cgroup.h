/* cgroup.h — this sandbox's cgroups, v1 or v2 detected at run time. Same verbs for both versions
 * (plan → create → attach → destroy); cgroup_v1.c and cgroup_v2.c hold the version-specific parts.
 *
 * Sandbox cgroups live beneath the runner's OWN cgroup (read from /proc/self/cgroup), never at a
 * hierarchy's root and never elsewhere (isolation.md). plan has no side effects, so the caller can
 * record every path (STATE/sandboxes/ID/cgroups) before anything is created.
 *
 * Ownership: sl_cgroup_t is a plain value owned by the caller; no heap memory.
 */
#ifndef SLUICE_RUNNER_CGROUP_H
#define SLUICE_RUNNER_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SL_CG_MAX_DIRS 4
#define SL_CG_DEFAULT_PIDS_MAX "4096"

/* The create body's "limits", parsed (0 = not given). */
typedef struct {
  uint64_t memory;      /* bytes: hard limit, no swap */
  uint64_t cpu_milli;   /* millicores: CFS quota per 100 ms period */
  uint64_t pids;        /* tasks; 0 = SL_CG_DEFAULT_PIDS_MAX */
  uint64_t storage;     /* bytes: size of the writable tmpfs (ns_mount.c), not a cgroup knob */
} sl_limits_t;

#define SL_CG_CPU_PERIOD_US 100000

typedef struct {
  int version;                           /* 1 or 2 */
  size_t n;
  char dirs[SL_CG_MAX_DIRS][PATH_MAX];   /* v1: one per controller; v2: the sandbox dir (+ runner leaf) */
  char ctrl[SL_CG_MAX_DIRS][16];         /* v1: controller name of dirs[i] */
  int created[SL_CG_MAX_DIRS];
  int v2_leaf;                           /* v2: index of the runner's own leaf in dirs, or -1 */
} sl_cgroup_t;

/* Detects the version from /proc/self/mountinfo and computes the paths for sandbox id. */
int sl_cgroup_plan(sl_cgroup_t *cg, const char *id);
/* Creates the directories with default limits. Returns 0 or -errno. */
int sl_cgroup_create(sl_cgroup_t *cg);
/* Writes the limits into the created directories (cgroup_limits.c). Returns 0 or -errno. */
int sl_cgroup_apply_limits(const sl_cgroup_t *cg, const sl_limits_t *lim);
/* Total OOM kills so far in the sandbox cgroup (v1 memory.oom_control, v2 memory.events "oom_kill").
 * Returns 0 and *n, or -errno (no memory controller, old kernel without the counter). */
int sl_cgroup_oom_kills(const sl_cgroup_t *cg, uint64_t *n);
/* "key value" lines (memory.events, memory.oom_control, cpu.stat): the value of key. 0 or -ENOENT. */
int sl_cg_keyed_value(const char *text, const char *key, uint64_t *out);
/* Joining from the inside: the supervisor opens, before clone, each sandbox directory's "tasks" (v1) or
 * cgroup.procs (v2) (fds[i] for dirs[i], -1 for v2's runner leaf); the new, single-threaded child
 * writes "0" to them (sl_cgroup_join_self: it moves itself, and on v1 one thread through "tasks" skips
 * the kernel's process-wide migration lock and its RCU grace period, milliseconds per hierarchy). The
 * opener's credentials are what the kernel checks. join_self closes the fds; close_join drops them. */
int sl_cgroup_open_join(const sl_cgroup_t *cg, int fds[SL_CG_MAX_DIRS]);
int sl_cgroup_join_self(int fds[SL_CG_MAX_DIRS]);
void sl_cgroup_close_join(int fds[SL_CG_MAX_DIRS]);
/* Moves pid (host pid) into the sandbox cgroup(s). */
int sl_cgroup_attach(sl_cgroup_t *cg, pid_t pid);
/* Kills every task left in the sandbox cgroups and removes the directories, waiting at most
 * timeout_ms for the tasks to go. Returns 0 when everything is gone, else -EBUSY. */
int sl_cgroup_destroy(sl_cgroup_t *cg, int timeout_ms);
/* One line per directory, for STATE/sandboxes/ID/cgroups. Returns length or -ENOSPC. */
int sl_cgroup_format(const sl_cgroup_t *cg, char *buf, size_t len);

/* Version-specific parts, exposed for unit tests (text in, paths out; no I/O in the plan functions). */
int sl_cgv1_plan(sl_cgroup_t *cg, const char *mountinfo, const char *self_cgroup, const char *id);
int sl_cgv1_create(sl_cgroup_t *cg);
/* root: the cgroup2 mount point (tests pass a fake dir); own: the runner's path ("0::" line). */
int sl_cgv2_plan(sl_cgroup_t *cg, const char *root, const char *own, const char *id);
int sl_cgv2_create(sl_cgroup_t *cg, pid_t self);
/* Finds the mount point of the first mountinfo line with fstype and (for v1) controller in its super
 * options. mountroot receives the mount's root within the hierarchy. Returns 0 or -ENOENT. */
int sl_cg_find_mount(const char *mountinfo, const char *fstype, const char *ctrl, char *mnt, size_t mntlen,
                     char *mountroot, size_t rootlen);

#endif
