/* handlers_run.c — POST /api/v1/run (agentkernel's one-shot run): a fresh sandbox, one command through
 * the exec route's own code (h_sb_exec: the same result, and with Accept: text/event-stream the same
 * server-sent events through stream_resp.c), then the sandbox is deleted — also when the client goes away
 * while it starts or while the command runs (then at once, which ends the command).
 *
 * The sandbox carries metadata {"sluice_run": "true"} and an inactivity timeout just over the command's
 * own, so one left behind by a gateway crash is culled soon after (culler.c).
 *
 * Ownership: run_t is the create call's data while the sandbox starts, then the exec call's finish_ctx
 * (freed by run_exec_done when that call ends). The session is never kept.
 */
#include "handlers.h"

#include "lifecycle.h"
#include "sluice/api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUN_TIMEOUT_SLACK_S 60

typedef struct {
  char sb_id[40];
  json_t *exec; /* the exec request content until it is started */
} run_t;

static void run_free(void *p) {
  run_t *r = p;
  if (!r) return;
  json_decref(r->exec);
  free(r);
}

static void run_delete_sandbox(const char *id) {
  gw_sandbox_t *sb = id[0] ? reg_find_id(id) : NULL;
  if (sb && !sb->deleting && lc_delete(sb, NULL, NULL) < 0)
    fprintf(stderr, "sluice-gateway: run: cannot delete sandbox %s\n", id);
}

/* The exec's call ended (reply sent, client gone, or failure): the sandbox goes. */
static void run_exec_done(void *ctx) {
  run_t *r = ctx;
  run_delete_sandbox(r->sb_id);
  run_free(r);
}

/* The client left while the command runs: end it now rather than at its timeout. */
static void run_detached(gw_call_t *call) {
  if (call->on_finish == run_exec_done) run_delete_sandbox(((run_t *)call->finish_ctx)->sb_id);
}

static void run_created(void *ctx, gw_sandbox_t *sb, const char *err) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  run_t *r = call->data;
  if (!sb) {
    if (s) session_reply_error(s, 500, "sandbox_failed", "%s", err ? err : "the sandbox failed to start");
    gw_call_finish(call);
    return;
  }
  snprintf(r->sb_id, sizeof(r->sb_id), "%s", sb->id);
  if (!s) { /* the client is gone */
    run_delete_sandbox(r->sb_id);
    gw_call_finish(call);
    return;
  }
  call->data = NULL; /* r moves on to the exec's call */
  gw_call_finish(call);
  json_t *exec = r->exec;
  r->exec = NULL;
  /* the exec handler addresses the sandbox through the route's {sb} */
  snprintf(s->match.params[0], sizeof(s->match.params[0]), "%s", r->sb_id);
  s->match.n_params = 1;
  h_sb_exec(s, exec);
  json_decref(exec);
  if (s->call) {
    s->call->on_finish = run_exec_done;
    s->call->finish_ctx = r;
    s->on_detach = run_detached;
  } else {
    run_exec_done(r); /* answered at once (an error): nothing runs */
  }
}

static int image_known(const char *image) {
  char p[PATH_MAX];
  struct stat st;
  if (snprintf(p, sizeof(p), "%s/%s/image.json", g_gw.cfg.images_dir, image) >= (int)sizeof(p)) return 0;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void h_run(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  json_t *rec = NULL, *exec = NULL;
  if (sl_api_parse_run(body, &rec, &exec, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  const char *ns = session_ns(s);
  const char *image = json_string_value(json_object_get(rec, "image"));
  if (!session_check_ns(s, ns)) goto out;
  if (!image_known(image)) {
    session_reply_error(s, 400, "unknown_image", "no image '%s'", image);
    goto out;
  }
  if (!handlers_check_capacity(s, ns, 1)) goto out;
  json_int_t timeout_s = json_integer_value(json_object_get(exec, "timeout_ms")) / 1000 + RUN_TIMEOUT_SLACK_S;
  if (timeout_s > (json_int_t)g_gw.cfg.max_timeout_s) timeout_s = g_gw.cfg.max_timeout_s;
  json_object_set_new(rec, "namespace", json_string(ns));
  json_object_set_new(rec, "timeout", json_integer(timeout_s));
  json_object_set_new(json_object_get(rec, "metadata"), "sluice_run", json_string("true"));
  run_t *r = calloc(1, sizeof(*r));
  gw_call_t *call = r ? gw_call_new(s, r, run_free) : NULL;
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    goto out;
  }
  r->exec = exec;
  exec = NULL;
  int rc = lc_create(rec, run_created, call);
  rec = NULL;
  if (rc < 0) {
    gw_call_finish(call);
    h_reply_create_failed(s, rc);
  }
out:
  json_decref(rec);
  json_decref(exec);
}
