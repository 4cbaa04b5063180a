/* procs_pty.c — a background process on a pseudo-terminal (procs_pty.h). */
#include "procs_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pty.h"
#include "sandbox.h"

int sl_procs_start_pty(const sl_target_env_t *env, json_t *argv, json_t *envp, const char *cwd, json_t *pty, int *ptm,
                       int *in_w, int *out_r, pid_t *ns_pid, pid_t *host_pid, char *err, size_t errlen) {
  *ptm = *in_w = *out_r = -1;
  json_int_t rows = json_integer_value(json_object_get(pty, "rows")), cols = json_integer_value(json_object_get(pty, "cols"));
  if (rows < SL_PTY_MIN_DIM || rows > SL_PTY_MAX_DIM || cols < SL_PTY_MIN_DIM || cols > SL_PTY_MAX_DIM)
    return snprintf(err, errlen, "pty rows and cols must be %d..%d", SL_PTY_MIN_DIM, SL_PTY_MAX_DIM), -EINVAL;
  int m = -1;
  int rc = sl_sandbox_spawn_pty(env->sb, argv, envp, cwd, NULL, 0, (int)rows, (int)cols, &m, ns_pid, host_pid,
                                env->on_exited, env->ud, err, errlen);
  if (rc < 0) return rc;
  int a = fcntl(m, F_DUPFD_CLOEXEC, 3), b = fcntl(m, F_DUPFD_CLOEXEC, 3);
  if (a < 0 || b < 0 || fcntl(m, F_SETFL, O_NONBLOCK) < 0) { /* O_NONBLOCK is shared by the dups */
    rc = -errno;
    snprintf(err, errlen, "pty master: %s", strerror(errno));
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    close(m);
    sl_sandbox_signal(env->sb, *ns_pid, 9, 1);
    return rc;
  }
  *ptm = m;
  *in_w = a;
  *out_r = b;
  return 0;
}
