/* shell.h — the sandbox's one stateful shell (drivers/bash/shell.sh, driver.h §2) serving
 * sluice_exec_request one at a time from a bounded queue: output streamed live, then sluice_exec_reply.
 *
 * A timeout kills the command's process tree (the shell's children that were not there when the
 * command started, with all their descendants), not the shell; if the shell itself does not come back
 * (a builtin loop), it is restarted and the reply says so.
 *
 * Ownership: sl_shell_t is the runner's value; it owns its child, queue and current request. Requests
 * passed to sl_shell_request are stolen when queued (*msg NULLed).
 */
#ifndef SLUICE_RUNNER_SHELL_H
#define SLUICE_RUNNER_SHELL_H

#include <poll.h>
#include <stdint.h>

#include "child.h"
#include "reqq.h"
#include "target.h"

#define SL_SHELL_GRACE_MS 2000      /* after killing a timed-out command, how long the shell may take */
#define SL_SHELL_MAX_KEEP 256

typedef struct {
  const sl_target_env_t *env;
  sl_child_t ch;
  sl_reqq_t q;
  sl_msg_t *cur;
  int64_t started, deadline, give_up_at;
  json_int_t timeout_ms;
  int timed_out;
  int cancelled;                    /* with timed_out: killed by sluice_exec_cancel, not the clock */
  int exit_known, exit_status;      /* the shell's wait status, from init's exited notice */
  int64_t await_exit_until;         /* the shell died mid-command: waiting for its exit status */
  char *rc_field;                   /* first field of a result record whose second has not arrived */
  pid_t keep[SL_SHELL_MAX_KEEP];    /* shell children (background jobs) before the command started */
  size_t nkeep;
} sl_shell_t;

void sl_shell_init(sl_shell_t *s, const sl_target_env_t *env);
void sl_shell_request(sl_shell_t *s, sl_msg_t **msg);
int sl_shell_pollfds(sl_shell_t *s, struct pollfd *pfd, int congested);
void sl_shell_handle(sl_shell_t *s, const struct pollfd *pfd, int n);
int64_t sl_shell_deadline(const sl_shell_t *s);
void sl_shell_tick(sl_shell_t *s, int64_t now);
void sl_shell_on_exited(sl_shell_t *s, pid_t ns_pid, int status);
/* sluice_exec_cancel: the request msg_id is killed like a timeout when it runs (its reply says
 * "cancelled"), answered at once when it is queued; unknown ids are ignored. */
void sl_shell_cancel(sl_shell_t *s, const char *msg_id);
/* Answers everything pending with an error (reason) and stops the shell. */
void sl_shell_shutdown(sl_shell_t *s, const char *reason);

#endif
