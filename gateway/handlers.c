/* handlers.c — route id → handler, and what several handlers share. */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

typedef void (*handler_fn)(gw_session_t *s, json_t *body);

static const handler_fn HANDLERS[GW_R__COUNT] = {
    [GW_R_HEALTH] = h_health,         [GW_R_SB_LIST] = h_sb_list,     [GW_R_SB_CREATE] = h_sb_create,
    [GW_R_SB_DELETE_ALL] = h_sb_delete_all, [GW_R_SB_GET] = h_sb_get, [GW_R_SB_DELETE] = h_sb_delete,
    [GW_R_SB_EXEC] = h_sb_exec,       [GW_R_SB_CODE] = h_sb_code,
    [GW_R_CTX_CREATE] = h_ctx_create, [GW_R_CTX_LIST] = h_ctx_list, [GW_R_CTX_DELETE] = h_ctx_delete,
    [GW_R_CTX_INTERRUPT] = h_ctx_interrupt, [GW_R_CTX_RESTART] = h_ctx_restart, [GW_R_SB_RESET] = h_sb_reset,
    [GW_R_JP_API] = h_jp_api, [GW_R_JP_SPECS] = h_jp_specs, [GW_R_JP_SPEC] = h_jp_spec,
    [GW_R_JP_SPEC_FILE] = h_jp_spec_file, [GW_R_JP_KERNELS] = h_jp_kernels,
    [GW_R_JP_KERNEL_CREATE] = h_jp_kernel_create, [GW_R_JP_KERNEL_GET] = h_jp_kernel_get,
    [GW_R_JP_KERNEL_DELETE] = h_jp_kernel_delete, [GW_R_JP_KERNEL_INTERRUPT] = h_jp_kernel_interrupt,
    [GW_R_JP_KERNEL_RESTART] = h_jp_kernel_restart, [GW_R_JP_CHANNELS] = h_jp_channels,
    [GW_R_FILES_LIST] = h_files_list, [GW_R_FILES_REMOVE] = h_files_remove, [GW_R_FILES_READ] = h_files_read,
    [GW_R_FILES_WRITE] = h_files_write, [GW_R_FILES_STAT] = h_files_stat, [GW_R_FILES_MKDIR] = h_files_mkdir,
    [GW_R_FILES_UPLOAD] = h_files_upload,
    [GW_R_FILES_RENAME] = h_files_rename, [GW_R_PROC_START] = h_proc_start, [GW_R_PROC_LIST] = h_proc_list,
    [GW_R_PROC_GET] = h_proc_get, [GW_R_PROC_STDIN] = h_proc_stdin, [GW_R_PROC_SIGNAL] = h_proc_signal,
    [GW_R_PROC_KILL] = h_proc_kill, [GW_R_PROC_RESIZE] = h_proc_resize, [GW_R_SB_STATS] = h_sb_stats,
    [GW_R_SB_TIMEOUT] = h_sb_timeout, [GW_R_RUN] = h_run, [GW_R_STATUS] = h_status, [GW_R_IMAGES] = h_images,
    [GW_R_METRICS] = h_metrics, [GW_R_PKG_INSTALL] = h_pkg_install, [GW_R_PKG_LIST] = h_pkg_list,
    [GW_R_WS_LIST] = h_ws_list, [GW_R_WS_DELETE] = h_ws_delete,
};

static unsigned g_exec_inflight;

unsigned handlers_exec_inflight(void) { return g_exec_inflight; }
void handlers_exec_done(void) {
  if (g_exec_inflight) g_exec_inflight--;
}

void handlers_dispatch(gw_session_t *s, json_t *body) {
  gw_route_id_t id = s->match.route->id;
  handler_fn h = HANDLERS[id];
  if (!h) {
    session_reply_error(s, 404, "not_found", "no such route");
    return;
  }
  if (id == GW_R_SB_EXEC || id == GW_R_SB_CODE || id == GW_R_RUN) {
    unsigned max = g_gw.cfg.max_executions;
    if (max && g_exec_inflight >= max) {
      session_reply_error(s, 429, "capacity",
                          "the gateway runs its maximum of %u executions at once (max_executions); retry later", max);
      return;
    }
    g_exec_inflight++;
    s->exec_counted = 1;
  }
  h(s, body);
}

int handlers_check_capacity(gw_session_t *s, const char *ns, int gateway_wide) {
  size_t in_ns = 0, total = 0;
  unsigned per_ns = g_gw.cfg.max_sandboxes_per_namespace;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    total++;
    if (!sb->hidden && strcmp(reg_str(sb, "namespace"), ns) == 0) in_ns++;
  }
  if (gateway_wide && total >= g_gw.cfg.max_sandboxes) {
    session_reply_error(s, 429, "capacity", "the gateway runs its maximum of %u sandboxes (max_sandboxes)",
                        g_gw.cfg.max_sandboxes);
    return 0;
  }
  if (per_ns && in_ns >= per_ns) {
    session_reply_error(s, 429, "capacity",
                        "namespace '%s' has its maximum of %u sandboxes (max_sandboxes_per_namespace)", ns, per_ns);
    return 0;
  }
  return 1;
}

gw_sandbox_t *handlers_sandbox(gw_session_t *s) {
  const char *ref = s->match.params[0];
  gw_sandbox_t *sb = reg_lookup(ref, session_ns(s));
  if (!sb || sb->deleting) {
    session_reply_error(s, 404, "sandbox_not_found", "no sandbox '%.80s'", ref);
    return NULL;
  }
  if (!session_check_ns(s, reg_str(sb, "namespace"))) return NULL;
  snprintf(s->sandbox_id, sizeof(s->sandbox_id), "%s", sb->id);
  return sb;
}

int handlers_sandbox_usable(gw_session_t *s, gw_sandbox_t *sb) {
  if (strcmp(reg_status(sb), "error") == 0 || sb->runner_dead) {
    session_reply_error(s, 409, "sandbox_not_running", "the sandbox is in error: %s",
                        reg_str(sb, "error_message"));
    return 0;
  }
  return 1;
}

void h_health(gw_session_t *s, json_t *body) {
  session_reply_json(s, 200, json_pack("{s:s}", "status", "ok"));
}
