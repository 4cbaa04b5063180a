/* handlers_code.c — POST /api/v1/sandboxes/{sb}/code: execute_request → iopub events → execute_reply,
 * collected into an Execution (blocking), or with Accept: application/x-ndjson written as E2B's NDJSON
 * lines as they happen (stream_resp.h). */
#include "handlers.h"

#include "sluice/api.h"
#include "sluice/ops.h"
#include "stream_resp.h"
#include "zmq_bridge.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  if (status == 500 && code) /* the runner's refusals (contexts.h) */
    status = !strcmp(code, "not_found") ? 404 : !strcmp(code, "bad_request") ? 400 : !strcmp(code, "too_many") ? 409 : 500;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t CODE_H = {code_event, code_reply, code_fail};

/* ---- streamed: one NDJSON line per event */

typedef struct {
  int saw_error, cut;
} ndjson_state_t;

static void push_line(gw_call_t *call, json_t *obj, int droppable) {
  ndjson_state_t *st = call->data;
  size_t len = 0;
  char *line = sl_api_ndjson_line(obj, &len);
  if (line && gw_stream_push_owned(call->s, line, len, droppable) == 1) st->cut = 1;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nd_event(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  ndjson_state_t *st = call->data;
  if (!call->s) return;
  const char *type = sl_msg_type(m);
  if (!strcmp(type, SL_OP_ERROR)) st->saw_error = 1;
  json_t *line = sl_api_code_stream_event(type, m->content, now_ns());
  if (line) push_line(call, line, !strcmp(type, SL_OP_STREAM));
}

static void nd_end(gw_call_t *call, json_t *error_line, json_int_t count) {
  ndjson_state_t *st = call->data;
  if (st->cut)
    push_line(call, json_pack("{s:s, s:s, s:I}", "type", "stderr", "text",
                              "\n[sluice: output dropped: the client did not read it fast enough]\n", "timestamp",
                              (json_int_t)now_ns()), 0);
  if (error_line) push_line(call, error_line, 0);
  if (count >= 0) push_line(call, json_pack("{s:s, s:I}", "type", "number_of_executions", "execution_count", count), 0);
  push_line(call, json_pack("{s:s}", "type", "end_of_execution"), 0);
  gw_stream_end(call->s);
}

static void nd_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  ndjson_state_t *st = call->data;
  if (call->s)
    nd_end(call, sl_api_code_stream_reply(m->content, st->saw_error),
           json_integer_value(json_object_get(m->content, "execution_count")));
  gw_call_finish(call);
}

static void nd_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) nd_end(call, json_pack("{s:s, s:s, s:s, s:s}", "type", "error", "name", code, "value", message,
                                      "traceback", message), -1);
  gw_call_finish(call);
}

static const zb_handlers_t NDJSON_H = {nd_event, nd_reply, nd_fail};

static void code_streamed(gw_session_t *s, gw_sandbox_t *sb, json_t *content, uint32_t wait_ms) {
  ndjson_state_t *st = calloc(1, sizeof(*st));
  gw_call_t *call = st ? gw_call_new(s, st, free) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  char flow_id[40];
  int rc = zb_request_id(sb->id, SL_OP_EXECUTE_REQUEST, content, &NDJSON_H, call, wait_ms + CODE_CONNECT_GRACE_MS,
                         flow_id);
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  } else if (gw_stream_begin(s, "application/x-ndjson", sb->id, flow_id) < 0) {
    session_reply_error(s, 500, "internal", "out of memory"); /* the call ends with the runner's reply */
  }
}

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
  if (strstr(s->accept, "application/x-ndjson")) {
    code_streamed(s, sb, content, wait_ms);
    return;
  }
  /* a blocking Execution keeps little of the output anyway: the runner stops streaming it past this */
  json_object_set_new(content, "output_limit", json_integer(SL_OP_CODE_OUTPUT_LIMIT));
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
