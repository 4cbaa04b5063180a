/* sandbox.h — one sandbox: its cgroups, its namespaces and its init, seen from the supervisor.
 *
 * Create runs the setup as an ordered list of steps: parent side (cgroups recorded then created, their
 * join files opened, clone, uid/gid maps, release) and child side (parent-death signal, joining the
 * cgroups through those files (cgroup.h sl_cgroup_join_self), root of the user
 * namespace, cgroup/uts/net/mount namespaces, then re-exec as init). Processes inside are started by
 * init on request (driver.h §3); spawn waits for init's answer.
 *
 * Ownership: sl_sandbox_t is the caller's value; it owns ctl (closed by destroy). argv/env/fds passed
 * to spawn are borrowed (the fds stay open in the caller; init receives copies).
 */
#ifndef SLUICE_RUNNER_SANDBOX_H
#define SLUICE_RUNNER_SANDBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"
#include "net.h"

#define SL_SPAWN_TIMEOUT_MS 10000
#define SL_BUILD_TIMEOUT_MS 20000

typedef struct {
  pid_t init_pid;   /* host pid of the sandbox's PID 1; 0 once reaped */
  int ctl;          /* supervisor end of the control socket (non-blocking), -1 when closed */
  sl_cgroup_t cg;
  unsigned tag;
  uint64_t oom_seen;  /* OOM kills in the sandbox cgroup already reported */
  sl_net_t net;       /* egress: veth, nft table, slot (net.h) */
} sl_sandbox_t;

/* Called for every process init reaped (ns pid, wait status). */
typedef void (*sl_exited_cb)(void *ud, pid_t ns_pid, int status);

/* Builds the sandbox, runs the before_script (open egress) and then applies the egress policy. On failure returns -errno with a reason in err; sb is then safe to destroy. */
int sl_sandbox_create(sl_sandbox_t *sb, const sl_config_t *cfg, char *err, size_t errlen);
/* Starts argv inside with fds as its 0..nfds-1. On success stores its ns pid and host pid. */
int sl_sandbox_spawn(sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, const int *fds, size_t nfds,
                     pid_t *ns_pid, pid_t *host_pid, sl_exited_cb cb, void *ud, char *err, size_t errlen);
/* Like sl_sandbox_spawn with no fds (nfds 0), but init runs the process on a new pseudo-terminal
 * (rows x cols) of the sandbox's own devpts as its controlling terminal and fds 0-2; *master gets
 * the master (a new fd the caller closes; -1 on failure). */
int sl_sandbox_spawn_pty(sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, const int *fds, size_t nfds,
                         int rows, int cols, int *master, pid_t *ns_pid, pid_t *host_pid, sl_exited_cb cb, void *ud,
                         char *err, size_t errlen);
/* Asks init to signal ns_pid (or its process group). */
int sl_sandbox_signal(sl_sandbox_t *sb, pid_t ns_pid, int sig, int group);
/* Reads what init sent. Returns 1, or 0 when init is gone (socket closed). */
int sl_sandbox_ctl_read(sl_sandbox_t *sb, sl_exited_cb cb, void *ud);
/* 1 when the kernel OOM-killed something in the sandbox since the last call (or create), else 0. */
int sl_sandbox_oom_check(sl_sandbox_t *sb);
/* Kills init (and with it the pid namespace), reaps it and removes the cgroups. */
int sl_sandbox_destroy(sl_sandbox_t *sb);

/* The runner's main calls this when started as "sluice-init --init CTL UID GID CAPS". */
int sl_sandbox_init_entry(int argc, char **argv);

#endif
