/* procs_pty.h — starting a background process on a pseudo-terminal (procs.h, pty.h).
 *
 * Ownership: argv and env are borrowed; on success *ptm, *in_w and *out_r are three new fds (the
 * master and two dups of it, non-blocking) the caller closes. On failure they stay -1 and err says why.
 */
#ifndef SLUICE_RUNNER_PROCS_PTY_H
#define SLUICE_RUNNER_PROCS_PTY_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "target.h"

/* pty: {rows, cols} (validated by the ops catalog; checked again here). Returns 0 or -errno. */
int sl_procs_start_pty(const sl_target_env_t *env, json_t *argv, json_t *envp, const char *cwd, json_t *pty, int *ptm,
                       int *in_w, int *out_r, pid_t *ns_pid, pid_t *host_pid, char *err, size_t errlen);

#endif
