/* zygote.h — the runner's side of its image's zygote (driver.h §4, protocol/docs/zygote.md).
 *
 * The gateway runs one sluice-zygote per image whose image.json has a "zygote" object: a Python
 * interpreter with the image's modules imported that forks each sandbox's default Python driver and
 * moves the child into the sandbox (cgroups, namespaces via a pidfd of init, uid, capabilities, seccomp)
 * before any Python code runs in it. The runner asks over STATE/run/zygote-IMAGE.sock; any failure
 * (no zygote, a dead one, a refused request) returns an error and the caller starts the driver the cold
 * way through init.
 *
 * Ownership: every argument is borrowed; fds stay open in the caller (the zygote's child gets copies).
 */
#ifndef SLUICE_RUNNER_ZYGOTE_H
#define SLUICE_RUNNER_ZYGOTE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "sandbox.h"
#include "seccomp_filter.h"
#include "sluice/driver.h"

#define SL_ZYGOTE_TIMEOUT_MS 5000

/* 1 when the driver of language may come from the zygote: Python, the image has a zygote, and the
 * sandbox's own env sets nothing read when an interpreter starts (PYTHON*, LD_*, MPL*, OPENBLAS_*, OMP_*,
 * NUMEXPR_*, SLUICE_PY_*): those need a fresh interpreter. */
int sl_zygote_usable(const sl_config_t *cfg, const char *language);
/* A driver with fds[0..4] as its fds 0..4 (child.h), env (array of "K=V") and cwd, forked by the zygote
 * inside sb. Returns 0 with its pids, or -errno with a reason in err. */
int sl_zygote_spawn(const sl_config_t *cfg, const sl_sandbox_t *sb, json_t *env, const char *cwd, const int fds[5],
                    pid_t *ns_pid, pid_t *host_pid, char *err, size_t errlen);

/* What the zygote prepared once for all its children (borrowed by sl_zygote_enter). */
typedef struct {
  int hostroot;                   /* O_PATH fd of the host's / (cgroup paths are host paths) */
  const sl_seccomp_prog_t *bpf;   /* the sandbox's seccomp filter, compiled */
} sl_zygote_ctx_t;

/* The zygote's child, right after fork (already in the sandbox's pid namespace): fds are the
 * SL_ZYGOTE_NFDS received with req, status_fd the pipe to the zygote, zc the zygote's preparations (its
 * fds are closed with the rest). Joins the cgroups (v1: "tasks" with 0, one thread, which spares the
 * kernel the process-wide migration lock and its RCU grace period; v2: cgroup.procs), enters init's
 * user/mount/net/uts/ipc/cgroup namespaces, makes fds 0..4 the driver's and closes every other fd but
 * status_fd (moved; its new number is stored back), becomes its own session, changes to cwd, drops to
 * uid/gid with caps and applies the seccomp filter. Returns 0, or -errno with a reason in err (the
 * process must then _exit). */
int sl_zygote_enter(json_t *req, const int fds[SL_ZYGOTE_NFDS], const sl_zygote_ctx_t *zc, int *status_fd, char *err,
                    size_t errlen);

#endif
