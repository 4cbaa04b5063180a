/* handlers_exec.c — POST /api/v1/sandboxes/{sb}/exec (blocking): sluice_exec_request → stream events →
 * sluice_exec_reply, collected into the exec result. */
#include "handlers.h"

#include "sluice/api.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <string.h>

/* how long a request may wait for a runner that has not said hello yet, on top of its own timeout */
#define EXEC_CONNECT_GRACE_MS 30000

static void acc_free(void *p) {
  sl_api_exec_acc_t *a = p;
  sl_api_exec_acc_free(&a);
}

static void exec_event(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  if (strcmp(sl_msg_type(m), SL_OP_STREAM) != 0) return;
  json_t *text = json_object_get(m->content, "text");
  sl_api_exec_acc_stream(call->data, json_string_value(json_object_get(m->content, "name")), json_string_value(text),
                         json_string_length(text));
}

static void exec_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_data(call->s, 200, sl_api_exec_acc_finish(call->data, m->content));
  gw_call_finish(call);
}

static void exec_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t EXEC_H = {exec_event, exec_reply, exec_fail};

void h_sb_exec(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  json_t *content = NULL;
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  if (sl_api_parse_exec(body, &content, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  unsigned timeout_ms = (unsigned)json_integer_value(json_object_get(content, "timeout_ms"));
  sl_api_exec_acc_t *acc = sl_api_exec_acc_new();
  gw_call_t *call = acc ? gw_call_new(s, acc, acc_free) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  int rc = zb_request(sb->id, SL_OP_EXEC_REQUEST, content, &EXEC_H, call, timeout_ms + EXEC_CONNECT_GRACE_MS);
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}
