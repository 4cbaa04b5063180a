/* pydriver.h — the Python context: one driver process (drivers/python/driver.py, driver.h §1) serving
 * execute_request one at a time from a bounded queue. Replies follow Jupyter: status busy, stream...,
 * execute_result / display_data / error, execute_reply, status idle (parent_header = the request).
 *
 * timeout_ms: SIGINT (KeyboardInterrupt in the cell); if the driver is not done SL_PY_HARD_KILL_MS
 * later it is restarted and the reply is a TimeoutError. A driver that dies is restarted on the next
 * request (its state is gone; the reply of the running cell says so).
 *
 * Ownership: sl_py_t is the runner's value and owns its child, queue and current request. Requests
 * passed to sl_py_request are stolen when queued (*msg NULLed).
 */
#ifndef SLUICE_RUNNER_PYDRIVER_H
#define SLUICE_RUNNER_PYDRIVER_H

#include <poll.h>
#include <stdint.h>

#include "child.h"
#include "reqq.h"
#include "target.h"

#define SL_PY_HARD_KILL_MS 2000

typedef struct {
  const sl_target_env_t *env;
  const char *language;       /* "python" (default), or the context's language (borrowed, static or owner's) */
  const char *cwd;            /* where the driver starts; NULL: the image's workdir (borrowed) */
  size_t cell_output;         /* stream bytes of the running cell */
  size_t output_limit;        /* its execute_request.output_limit (0: none): past it output is read and dropped */
  int cut;                    /* the running cell passed output_limit (the reply says truncated) */
  sl_child_t ch;
  sl_reqq_t q;
  sl_msg_t *cur;
  json_int_t next_id, cur_id;
  json_int_t execution_count;
  int64_t started, deadline, hard_at;
  json_int_t timeout_ms;
  int timed_out;
  json_t *error;              /* the cell's error event content, for the reply */
  int awaiting_input;         /* the running cell waits in input() for a sluice_stdin_request */
  sl_msg_t *intro;            /* the sluice_introspect_request the driver is answering (owned) */
  json_int_t intro_id;
} sl_py_t;

void sl_py_init(sl_py_t *p, const sl_target_env_t *env);
void sl_py_request(sl_py_t *p, sl_msg_t **msg);
/* Starts the driver now if it is not running (a context is created). 0 or -errno (reason in err). */
int sl_py_start(sl_py_t *p, char *err, size_t errlen);
/* Starts the driver now from the image's zygote, if there is one (a fork: cheap); nothing otherwise (a
 * cold driver starts on the first request). 0 or -errno. */
int sl_py_prestart(sl_py_t *p);
/* SIGINT to the running cell. Returns 1 when there was one. */
int sl_py_interrupt(sl_py_t *p);
int sl_py_pollfds(sl_py_t *p, struct pollfd *pfd, int congested);
void sl_py_handle(sl_py_t *p, const struct pollfd *pfd, int n);
int64_t sl_py_deadline(const sl_py_t *p);
void sl_py_tick(sl_py_t *p, int64_t now);
void sl_py_on_exited(sl_py_t *p, pid_t ns_pid, int status);
void sl_py_shutdown(sl_py_t *p, const char *reason);
/* A fresh interpreter: the running and queued cells fail (KernelRestarted: reason), the driver is
 * stopped and started again by the next request. */
void sl_py_restart(sl_py_t *p, const char *reason);
/* sluice_introspect_request: asked of the driver between cells (*msg stolen until it answers); while a
 * cell runs or another one is pending the reply is {status: busy} at once. */
void sl_py_introspect(sl_py_t *p, sl_msg_t **msg);
/* sluice_stdin_request: returns 1 when it answered this context's running cell's input(). */
int sl_py_stdin(sl_py_t *p, const sl_msg_t *msg);

#endif
