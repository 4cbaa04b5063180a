/* handlers_exec.c — POST /api/v1/sandboxes/{sb}/exec: sluice_exec_request → stream events →
 * sluice_exec_reply, collected into the exec result (blocking), or with Accept: text/event-stream sent
 * as server-sent events as they happen: stdout/stderr {data}, then done {exit_code, cwd, duration_ms}
 * or error {message} (stream_resp.h). */
#include "handlers.h"

#include "sluice/api.h"
#include "sluice/ops.h"
#include "stream_resp.h"
#include "zmq_bridge.h"

#include <stdlib.h>
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

/* ---- streamed: server-sent events */

static int push_event(gw_call_t *call, const char *event, json_t *data, int droppable) {
  size_t len = 0;
  char *frame = sl_api_sse_frame(event, data, &len);
  return frame ? gw_stream_push_owned(call->s, frame, len, droppable) : -1;
}

static void sse_event(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  if (!call->s || strcmp(sl_msg_type(m), SL_OP_STREAM) != 0) return;
  const char *name = json_string_value(json_object_get(m->content, "name"));
  if (push_event(call, name && !strcmp(name, "stderr") ? "stderr" : "stdout",
                 json_pack("{s:O}", "data", json_object_get(m->content, "text")), 1) == 1)
    *(int *)call->data = 1; /* the client fell behind and output was dropped */
}

static void sse_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  if (call->s) {
    const json_t *c = m->content;
    json_t *done = json_pack("{s:O, s:O, s:O, s:b}", "exit_code", json_object_get(c, "exit_code"), "cwd",
                             json_object_get(c, "cwd"), "duration_ms", json_object_get(c, "duration_ms"), "truncated",
                             *(int *)call->data);
    if (done && json_is_string(json_object_get(c, "error"))) json_object_set(done, "error", json_object_get(c, "error"));
    if (done && json_is_true(json_object_get(c, "timed_out"))) json_object_set_new(done, "timed_out", json_true());
    push_event(call, "done", done, 0);
    gw_stream_end(call->s);
  }
  gw_call_finish(call);
}

static void sse_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) {
    push_event(call, "error", json_pack("{s:s, s:s}", "message", message, "code", code), 0);
    gw_stream_end(call->s);
  }
  gw_call_finish(call);
}

static const zb_handlers_t SSE_H = {sse_event, sse_reply, sse_fail};

static void exec_streamed(gw_session_t *s, gw_sandbox_t *sb, json_t *content, unsigned timeout_ms) {
  int *cut = calloc(1, sizeof(int));
  gw_call_t *call = cut ? gw_call_new(s, cut, free) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  char flow_id[40];
  int rc = zb_request_id(sb->id, SL_OP_EXEC_REQUEST, content, &SSE_H, call, timeout_ms + EXEC_CONNECT_GRACE_MS,
                         flow_id);
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  } else if (gw_stream_begin(s, "text/event-stream", sb->id, flow_id) < 0) {
    session_reply_error(s, 500, "internal", "out of memory"); /* the call ends with the runner's reply */
  }
}

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
  if (strstr(s->accept, "text/event-stream")) {
    exec_streamed(s, sb, content, timeout_ms);
    return;
  }
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
