/* procs.h — background processes of a sandbox (sluice_proc_request, ops.h): `sh -c cmd` started by
 * init in its own session with three pipes held by the runner. stdout and stderr are captured into
 * bounded buffers (SL_PROCS_MAX_CAPTURE each, the rest counted and dropped); stdin takes queued writes
 * (bounded) and an EOF. attach requests get the output live (sluice_proc_output events: what was
 * captured so far, then each read) and their reply when it ends. A finished process stays listed until its slot is needed. Everything ends with
 * the sandbox (init's pid namespace).
 *
 * Ownership: sl_procs_t is the runner's value and owns its table, pipes, buffers and the parked
 * wait requests. sl_procs_request STEALS *msg (NULLs it).
 */
#ifndef SLUICE_RUNNER_PROCS_H
#define SLUICE_RUNNER_PROCS_H

#include <poll.h>
#include <stdint.h>

#include "target.h"

#define SL_PROCS_MAX 64
#define SL_PROCS_MAX_POLLFDS (3 * SL_PROCS_MAX)
#define SL_PROCS_MAX_CAPTURE (1u << 20)
#define SL_PROCS_MAX_STDIN_PENDING (1u << 20)
#define SL_PROCS_MAX_WAITERS 16
#define SL_PROCS_READ_BUDGET (256u << 10) /* bytes read from one pipe per loop turn */
#define SL_PROCS_DRAIN_BYTES (4u << 20)   /* what a finished process's pipes may still give its answer */
#define SL_PROCS_PIPE_GRACE_MS 200   /* after exit, output a background grandchild keeps open is not awaited */

typedef struct sl_proc sl_proc_t;

typedef struct {
  const sl_target_env_t *env;
  sl_proc_t *t;               /* SL_PROCS_MAX slots */
  int64_t seq;
} sl_procs_t;

int sl_procs_init(sl_procs_t *p, const sl_target_env_t *env);
void sl_procs_request(sl_procs_t *p, sl_msg_t **msg);
/* congested: the gateway is backed up; attached processes' output pipes are not read meanwhile. */
int sl_procs_pollfds(sl_procs_t *p, struct pollfd *pfd, int congested);
void sl_procs_handle(sl_procs_t *p, const struct pollfd *pfd, int n);
int64_t sl_procs_deadline(const sl_procs_t *p);
void sl_procs_tick(sl_procs_t *p, int64_t now);
void sl_procs_on_exited(sl_procs_t *p, pid_t ns_pid, int status);
void sl_procs_shutdown(sl_procs_t *p, const char *reason);

#endif
