/* handlers.h — the route handlers. Each gets the session and the parsed JSON body (borrowed; NULL for
 * routes without a body) and replies now or later through session_reply_*.
 * Ownership: handlers never keep the session; asynchronous work keeps a gw_call_t. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

#include <jansson.h>

#include "registry.h"
#include "session.h"

void handlers_dispatch(gw_session_t *s, json_t *body);

/* The sandbox named by the route's {sb} (id, or name in ?namespace=); replies 404/403 and returns NULL
 * when it cannot be used. */
gw_sandbox_t *handlers_sandbox(gw_session_t *s);
/* Replies 409/503 and returns 0 when sb cannot take requests (error, deleting). */
int handlers_sandbox_usable(gw_session_t *s, gw_sandbox_t *sb);

/* Replies 429 and returns 0 when another sandbox in ns would pass max_sandboxes_per_namespace, or
 * (gateway_wide) max_sandboxes (warm-pool members count gateway-wide only). */
int handlers_check_capacity(gw_session_t *s, const char *ns, int gateway_wide);
/* code/exec/run requests in flight (bounded by max_executions at dispatch); one ended. */
unsigned handlers_exec_inflight(void);
void handlers_exec_done(void);

void h_health(gw_session_t *s, json_t *body);
void h_sb_list(gw_session_t *s, json_t *body);
void h_sb_create(gw_session_t *s, json_t *body);
/* The reply to a create that lc_create refused with rc (429 when out of uid ranges, else 500). */
void h_reply_create_failed(gw_session_t *s, int rc);
void h_sb_get(gw_session_t *s, json_t *body);
void h_sb_delete(gw_session_t *s, json_t *body);
void h_sb_delete_all(gw_session_t *s, json_t *body);
void h_sb_exec(gw_session_t *s, json_t *body);
void h_sb_code(gw_session_t *s, json_t *body);
/* handlers_contexts.c */
void h_ctx_create(gw_session_t *s, json_t *body);
void h_ctx_list(gw_session_t *s, json_t *body);
void h_ctx_delete(gw_session_t *s, json_t *body);
void h_ctx_interrupt(gw_session_t *s, json_t *body);
void h_ctx_restart(gw_session_t *s, json_t *body);
void h_sb_reset(gw_session_t *s, json_t *body);
/* handlers_files.c */
void h_files_list(gw_session_t *s, json_t *body);
void h_files_remove(gw_session_t *s, json_t *body);
void h_files_read(gw_session_t *s, json_t *body);
void h_files_write(gw_session_t *s, json_t *body);
void h_files_upload(gw_session_t *s, json_t *body); /* handlers_upload.c */
void h_files_stat(gw_session_t *s, json_t *body);
void h_files_mkdir(gw_session_t *s, json_t *body);
void h_files_rename(gw_session_t *s, json_t *body);
/* handlers_procs.c */
void h_proc_start(gw_session_t *s, json_t *body);
void h_proc_list(gw_session_t *s, json_t *body);
void h_proc_get(gw_session_t *s, json_t *body);
void h_proc_stdin(gw_session_t *s, json_t *body);
void h_proc_signal(gw_session_t *s, json_t *body);
void h_proc_kill(gw_session_t *s, json_t *body);
void h_proc_resize(gw_session_t *s, json_t *body);
/* handlers_stats.c */
void h_sb_stats(gw_session_t *s, json_t *body);
/* handlers_ops.c, handlers_run.c */
void h_sb_timeout(gw_session_t *s, json_t *body);
void h_status(gw_session_t *s, json_t *body);
void h_images(gw_session_t *s, json_t *body);
void h_metrics(gw_session_t *s, json_t *body);
void h_run(gw_session_t *s, json_t *body);
/* handlers_packages.c */
void h_pkg_install(gw_session_t *s, json_t *body);
void h_pkg_list(gw_session_t *s, json_t *body);
/* handlers_workspaces.c */
void h_ws_list(gw_session_t *s, json_t *body);
void h_ws_delete(gw_session_t *s, json_t *body);
/* jupyter_rest.c */
void h_jp_api(gw_session_t *s, json_t *body);
void h_jp_specs(gw_session_t *s, json_t *body);
void h_jp_spec(gw_session_t *s, json_t *body);
void h_jp_spec_file(gw_session_t *s, json_t *body);
void h_jp_kernels(gw_session_t *s, json_t *body);
void h_jp_kernel_create(gw_session_t *s, json_t *body);
void h_jp_kernel_get(gw_session_t *s, json_t *body);
void h_jp_kernel_delete(gw_session_t *s, json_t *body);
void h_jp_kernel_interrupt(gw_session_t *s, json_t *body);
void h_jp_kernel_restart(gw_session_t *s, json_t *body);
void h_jp_channels(gw_session_t *s, json_t *body);

#endif
