/* contexts.h — the sandbox's interpreter contexts: at most SL_OP_MAX_CONTEXTS driver processes
 * (pydriver.h targets), each with its own language, working directory, state and execution_count.
 *
 * "default" is the Python context every sandbox has (it cannot be deleted, only restarted). An
 * execute_request without context_id goes to the default context of its language: "default" for
 * Python, "default-bash" / "default-javascript" created on first use. sluice_context_request
 * {op: create|list|delete} manages the others; interrupt_request / sluice_restart_request name a
 * context by context_id (default: "default"). Unknown ids are answered with sluice_error_reply
 * code "not_found", a full table with "too_many".
 *
 * Ownership: sl_ctxs_t is the runner's value and owns every context (and through it each driver
 * process, queue and request). Messages passed in are borrowed, except by sl_ctxs_execute, which
 * steals *msg when a context queues it.
 */
#ifndef SLUICE_RUNNER_CONTEXTS_H
#define SLUICE_RUNNER_CONTEXTS_H

#include <poll.h>
#include <stdint.h>

#include "pydriver.h"
#include "sluice/ops.h"
#include "target.h"

#define SL_CTX_ID_MAX 48
#define SL_CTX_MAX_POLLFDS (SL_OP_MAX_CONTEXTS * SL_TARGET_MAX_POLLFDS)

typedef struct {
  int used;
  char id[SL_CTX_ID_MAX];
  char language[16];
  char cwd[SL_OP_MAX_PATH + 1];
  sl_py_t t;
  int pfd_at, pfd_n;  /* this context's slice of the last sl_ctxs_pollfds */
} sl_ctx_t;

typedef struct {
  const sl_target_env_t *env;
  sl_ctx_t c[SL_OP_MAX_CONTEXTS];
} sl_ctxs_t;

void sl_ctxs_init(sl_ctxs_t *x, const sl_target_env_t *env);
/* The default Python context's driver from the image's zygote, before any request (pydriver.h). */
void sl_ctxs_prestart(sl_ctxs_t *x);
/* execute_request: routed by context_id / language. */
void sl_ctxs_execute(sl_ctxs_t *x, sl_msg_t **msg);
/* interrupt_request, sluice_restart_request, sluice_context_request: answered here. */
void sl_ctxs_interrupt(sl_ctxs_t *x, const sl_msg_t *msg);
void sl_ctxs_restart(sl_ctxs_t *x, const sl_msg_t *msg);
void sl_ctxs_request(sl_ctxs_t *x, const sl_msg_t *msg);
/* sluice_introspect_request (steals *msg while the driver answers) and sluice_stdin_request (the
 * answer to the input_request of the execute_request content.msg_id, whichever context runs it). */
void sl_ctxs_introspect(sl_ctxs_t *x, sl_msg_t **msg);
void sl_ctxs_stdin(sl_ctxs_t *x, const sl_msg_t *msg);
int sl_ctxs_pollfds(sl_ctxs_t *x, struct pollfd *pfd, int congested);
void sl_ctxs_handle(sl_ctxs_t *x, const struct pollfd *pfd, int n);
int64_t sl_ctxs_deadline(const sl_ctxs_t *x);
void sl_ctxs_tick(sl_ctxs_t *x, int64_t now);
void sl_ctxs_on_exited(sl_ctxs_t *x, pid_t ns_pid, int status);
void sl_ctxs_shutdown(sl_ctxs_t *x, const char *reason);

#endif
