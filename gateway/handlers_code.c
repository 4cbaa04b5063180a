/* handlers_code.c — POST /api/v1/sandboxes/{sb}/code (blocking): execute_request → iopub events →
 * execute_reply, collected into an Execution. */
#include "handlers.h"

#include "sluice/api.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <string.h>

#define CODE_CONNECT_GRACE_MS 30000

static void acc_free(void *p) {
  sl_api_code_acc_t *a = p;
  sl_api_code_acc_free(&a);
}

static void code_event(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  sl_api_code_acc_event(call->data, sl_msg_type(m), m->content);
}

static void code_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_data(call->s, 200, sl_api_code_acc_finish(call->data, m->content));
  gw_call_finish(call);
}

static void code_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t CODE_H = {code_event, code_reply, code_fail};

void h_sb_code(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  json_t *content = NULL;
  uint32_t wait_ms = 0;
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  if (sl_api_parse_code(body, &content, &wait_ms, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  sl_api_code_acc_t *acc = sl_api_code_acc_new();
  gw_call_t *call = acc ? gw_call_new(s, acc, acc_free) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  int rc = zb_request(sb->id, SL_OP_EXECUTE_REQUEST, content, &CODE_H, call, wait_ms + CODE_CONNECT_GRACE_MS);
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}
