/* handlers_contexts.c — interpreter contexts (docs/API.md "Code"): create / list / delete a context,
 * interrupt or restart one, and reset (restart the default Python context). Each route is one request
 * to the sandbox's runner (kernel-runner/contexts.h); its reply becomes the JSON.
 *
 * Ownership: a request's state is its gw_call_t (data = the view, no allocation); the bridge finishes
 * it exactly once.
 */
#include "handlers.h"

#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdint.h>
#include <string.h>

#define CTX_TIMEOUT_MS 30000

typedef enum { V_CREATED, V_LIST, V_DELETED, V_INTERRUPTED, V_RESTARTED } view_t;

static int status_of(const char *code) {
  if (!code) return 500;
  if (!strcmp(code, "not_found")) return 404;
  if (!strcmp(code, "bad_request") || !strcmp(code, "invalid_request")) return 400;
  if (!strcmp(code, "too_many")) return 409;
  return 500;
}

static void ctx_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  json_t *c = m->content;
  if (!s) {
  } else if (strcmp(json_string_value(json_object_get(c, "status")), "ok") != 0) {
    session_reply_error(s, 500, "internal", "the runner refused the request");
  } else {
    switch ((view_t)(intptr_t)call->data) {
    case V_CREATED: session_reply_data(s, 201, json_incref(json_object_get(c, "context"))); break;
    case V_LIST: session_reply_data(s, 200, json_incref(json_object_get(c, "contexts"))); break;
    case V_DELETED: session_reply_data(s, 200, json_pack("{s:s, s:b}", "id", s->match.params[1], "deleted", 1)); break;
    case V_INTERRUPTED:
      session_reply_data(s, 200, json_pack("{s:b}", "interrupted", json_is_true(json_object_get(c, "interrupted"))));
      break;
    case V_RESTARTED:
      session_reply_data(s, 200, json_pack("{s:s, s:b}", "id", s->match.n_params > 1 ? s->match.params[1] : "default",
                                           "restarted", 1));
      break;
    }
  }
  gw_call_finish(call);
}

static void ctx_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status == 500 ? status_of(code) : status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t CTX_H = {NULL, ctx_reply, ctx_fail};

static void send_req(gw_session_t *s, view_t v, const char *msg_type, json_t *content) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) {
    json_decref(content);
    return;
  }
  gw_call_t *call = content ? gw_call_new(s, (void *)(intptr_t)v, NULL) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  if (zb_request(sb->id, msg_type, content, &CTX_H, call, CTX_TIMEOUT_MS) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}

/* The {cid} route parameter (the router caps its length). */
static const char *route_cid(gw_session_t *s) { return s->match.params[1]; }

void h_ctx_create(gw_session_t *s, json_t *body) {
  json_t *lang = json_object_get(body, "language"), *cwd = json_object_get(body, "cwd");
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) if (strcmp(k, "language") && strcmp(k, "cwd"))
      return session_reply_error(s, 400, "invalid_request", "unknown field '%.64s'", k);
  const char *l = json_is_null(lang) || !lang ? "python" : json_string_value(lang);
  if (!l || (strcmp(l, "python") && strcmp(l, "bash") && strcmp(l, "javascript")))
    return session_reply_error(s, 400, "invalid_request", "'language' must be one of python, bash, javascript");
  if (cwd && !json_is_null(cwd) &&
      (!json_is_string(cwd) || json_string_value(cwd)[0] != '/' || json_string_length(cwd) > SL_OP_MAX_PATH ||
       strlen(json_string_value(cwd)) != json_string_length(cwd)))
    return session_reply_error(s, 400, "invalid_request", "'cwd' must be an absolute path");
  json_t *c = json_pack("{s:s, s:s}", "op", "create", "language", l);
  if (c && json_is_string(cwd)) json_object_set(c, "cwd", cwd);
  send_req(s, V_CREATED, SL_OP_CTX_REQUEST, c);
}

void h_ctx_list(gw_session_t *s, json_t *body) {
  (void)body;
  send_req(s, V_LIST, SL_OP_CTX_REQUEST, json_pack("{s:s}", "op", "list"));
}

void h_ctx_delete(gw_session_t *s, json_t *body) {
  (void)body;
  send_req(s, V_DELETED, SL_OP_CTX_REQUEST, json_pack("{s:s, s:s}", "op", "delete", "context_id", route_cid(s)));
}

void h_ctx_interrupt(gw_session_t *s, json_t *body) {
  (void)body;
  send_req(s, V_INTERRUPTED, SL_OP_INTERRUPT_REQUEST, json_pack("{s:s}", "context_id", route_cid(s)));
}

void h_ctx_restart(gw_session_t *s, json_t *body) {
  (void)body;
  send_req(s, V_RESTARTED, SL_OP_RESTART_REQUEST, json_pack("{s:s}", "context_id", route_cid(s)));
}

void h_sb_reset(gw_session_t *s, json_t *body) {
  (void)body;
  send_req(s, V_RESTARTED, SL_OP_RESTART_REQUEST, json_pack("{s:s}", "context_id", "default"));
}
