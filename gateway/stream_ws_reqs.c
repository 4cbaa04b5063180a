/* stream_ws_reqs.c — the requests of the native streaming websocket (stream_ws.h): each becomes one
 * runner op through the ZMQ bridge, whose events come back as this socket's events for that id.
 *   code          execute_request → stdout/stderr {text}, result, error {name, value, traceback},
 *                 input_request {prompt, password} (with allow_stdin), done {execution_count, truncated}
 *   input_reply   → sluice_stdin_request for the waiting code request of that id (no event of its own)
 *   exec          sluice_exec_request → stdout/stderr {data}, done {exit_code, cwd, duration_ms, ...}
 *   interrupt     interrupt_request → done {interrupted}
 *   process_start sluice_proc_request start → started {pid}; then attach → stdout/stderr {data} (or
 *                 pty {data: base64}) as the process writes, and exit {pid, exit_code, truncated}
 *   stdin, signal, resize  sluice_proc_request → done {}
 *   watch, unwatch  stream_ws_watch.c
 * A failure is an error event {name: code, value: message} with the request's id.
 *
 * Ownership: an sws_req_t is freed by the bridge's final callback (req_end); the socket only links or
 * orphans it.
 */
#include "stream_ws.h"

#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWS_CONNECT_GRACE_MS 30000
#define SWS_PROC_TIMEOUT_MS 30000
#define SWS_PROC_WAIT_MS SWS_WATCH_TIMEOUT_MS /* an attached process lives as long as its socket */

static void noop_reply(void *ctx, const sl_msg_t *m) { (void)ctx, (void)m; }
static void noop_fail(void *ctx, int status, const char *code, const char *message) {
  (void)ctx, (void)status, (void)code, (void)message;
}
static const zb_handlers_t NOOP_H = {NULL, noop_reply, noop_fail};

static void unlink_req(sws_req_t *r) {
  sws_conn_t *c = r->c;
  if (!c) return;
  for (sws_req_t **p = &c->reqs; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      c->n_reqs--;
      break;
    }
  r->c = NULL;
}

/* The bridge is done with r. */
void sws_req_end(sws_req_t *r) {
  if (r->c && r->flow_id[0] && r->c->runner_paused) zb_flow(r->c->sb_id, r->flow_id, 0);
  unlink_req(r);
  free(r);
}

void sws_send_fail(sws_req_t *r, const char *code, const char *message) {
  sws_send(r->c, "error", r->id, json_pack("{s:s, s:s}", "name", code ? code : "internal", "value",
                                           message ? message : "the request failed"), 0);
}

static void req_fail(void *ctx, int status, const char *code, const char *message) {
  (void)status;
  sws_req_t *r = ctx;
  if (r->c) sws_send_fail(r, code, message);
  sws_req_end(r);
}

/* ---- code */

/* Answers the input() that r's cell waits in: content {value} or {error} (EOFError), stolen. */
static void stdin_answer(sws_req_t *r, json_t *content) {
  r->input_pending = 0;
  if (content) json_object_set_new(content, "msg_id", json_string(r->flow_id));
  zb_request(r->sb_id, SL_OP_STDIN_REQUEST, content, &NOOP_H, NULL, SWS_PROC_TIMEOUT_MS);
}

static void code_event(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  const char *type = sl_msg_type(m);
  if (!strcmp(type, SL_OP_INPUT_REQUEST)) { /* only sent for allow_stdin */
    if (!r->c) return stdin_answer(r, json_pack("{s:s}", "error", "input(): the client that was asked disconnected"));
    r->input_pending = 1;
    sws_send(r->c, "input_request", r->id,
             json_pack("{s:O?, s:b}", "prompt", json_object_get(m->content, "prompt"), "password",
                       json_is_true(json_object_get(m->content, "password"))),
             0);
    return;
  }
  if (!r->c) return;
  json_t *e = sl_sf_code_event(type, m->content);
  if (!e) return;
  if (!strcmp(type, SL_OP_ERROR)) r->saw_error = 1;
  char t[16];
  snprintf(t, sizeof(t), "%s", json_string_value(json_object_get(e, "type")));
  if (sws_send(r->c, t, r->id, e, !strcmp(type, SL_OP_STREAM)) == 1) r->cut = 1;
}

static void code_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (r->c) {
    json_t *err = sl_api_code_stream_reply(m->content, r->saw_error);
    if (err) sws_send(r->c, "error", r->id, err, 0);
    sws_send(r->c, "done", r->id,
             json_pack("{s:O?, s:b}", "execution_count", json_object_get(m->content, "execution_count"), "truncated",
                       r->cut),
             0);
  }
  sws_req_end(r);
}

static const zb_handlers_t CODE_H = {code_event, code_reply, req_fail};

/* ---- exec */

static void exec_event(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (!r->c || strcmp(sl_msg_type(m), SL_OP_STREAM) != 0) return;
  const char *name = json_string_value(json_object_get(m->content, "name"));
  if (sws_send(r->c, name && !strcmp(name, "stderr") ? "stderr" : "stdout", r->id,
               json_pack("{s:O}", "data", json_object_get(m->content, "text")), 1) == 1)
    r->cut = 1;
}

static void exec_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (r->c) {
    const json_t *c = m->content;
    json_t *done = json_pack("{s:O?, s:O?, s:O?, s:b}", "exit_code", json_object_get(c, "exit_code"), "cwd",
                             json_object_get(c, "cwd"), "duration_ms", json_object_get(c, "duration_ms"), "truncated",
                             r->cut);
    if (done && json_is_string(json_object_get(c, "error"))) json_object_set(done, "error", json_object_get(c, "error"));
    if (done && json_is_true(json_object_get(c, "timed_out"))) json_object_set_new(done, "timed_out", json_true());
    sws_send(r->c, "done", r->id, done, 0);
  }
  sws_req_end(r);
}

static const zb_handlers_t EXEC_H = {exec_event, exec_reply, req_fail};

/* ---- interrupt */

static void interrupt_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (r->c)
    sws_send(r->c, "done", r->id, json_pack("{s:b}", "interrupted", json_is_true(json_object_get(m->content, "interrupted"))),
             0);
  sws_req_end(r);
}

static const zb_handlers_t INTERRUPT_H = {NULL, interrupt_reply, req_fail};

/* ---- processes */

static int proc_ok(sws_req_t *r, const json_t *c) {
  if (!strcmp(json_string_value(json_object_get(c, "status")) ?: "", "ok")) return 1;
  if (r->c) sws_send_fail(r, json_string_value(json_object_get(c, "code")), json_string_value(json_object_get(c, "message")));
  return 0;
}

static void proc_ack_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (proc_ok(r, m->content) && r->c) sws_send(r->c, "done", r->id, NULL, 0);
  sws_req_end(r);
}

static const zb_handlers_t PROC_ACK_H = {NULL, proc_ack_reply, req_fail};

/* sluice_proc_output {name: stdout|stderr|pty, data}: the event of that name. */
static void proc_output(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (!r->c || strcmp(sl_msg_type(m), SL_OP_PROC_OUTPUT) != 0) return;
  const char *name = json_string_value(json_object_get(m->content, "name"));
  if (sws_send(r->c, name, r->id, json_pack("{s:O}", "data", json_object_get(m->content, "data")), 1) == 1) r->cut = 1;
}

static void proc_exit_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (proc_ok(r, m->content) && r->c)
    sws_send(r->c, "exit", r->id,
             json_pack("{s:I, s:O?, s:b}", "pid", (json_int_t)r->pid, "exit_code", json_object_get(m->content, "exit_code"),
                       "truncated", r->cut || json_is_true(json_object_get(m->content, "truncated"))),
             0);
  sws_req_end(r);
}

static const zb_handlers_t PROC_ATTACH_H = {proc_output, proc_exit_reply, req_fail};

static void proc_start_reply(void *ctx, const sl_msg_t *m) {
  sws_req_t *r = ctx;
  if (!proc_ok(r, m->content)) return sws_req_end(r);
  r->pid = json_integer_value(json_object_get(m->content, "pid"));
  sws_conn_t *c = r->c;
  if (!c) { /* the socket closed while the process started: it does not outlive its socket */
    zb_request(r->sb_id, SL_OP_PROC_REQUEST, json_pack("{s:s, s:I}", "op", "kill", "pid", (json_int_t)r->pid), &NOOP_H,
               NULL, SWS_PROC_TIMEOUT_MS);
    return sws_req_end(r);
  }
  sws_send(c, "started", r->id, json_pack("{s:I}", "pid", (json_int_t)r->pid), 0);
  r->proc_waiting = 1;
  /* its output from the start (what was captured before the attach is replayed), paused with the socket */
  if (zb_request_id(c->sb_id, SL_OP_PROC_REQUEST, json_pack("{s:s, s:I}", "op", "attach", "pid", (json_int_t)r->pid),
                    &PROC_ATTACH_H, r, SWS_PROC_WAIT_MS, r->flow_id) < 0) {
    sws_send_fail(r, "busy", "too many requests in flight");
    sws_req_end(r);
    return;
  }
  if (c->runner_paused) zb_flow(c->sb_id, r->flow_id, 1);
}

static const zb_handlers_t PROC_START_H = {NULL, proc_start_reply, req_fail};

/* ---- start / cancel */

/* input_reply: to the code request of the same id whose input() waits. */
static void input_reply(sws_conn_t *c, sl_sf_req_t *q) {
  sws_req_t *r = c->reqs;
  while (r && !(r->type == SL_SF_CODE && r->input_pending && !strcmp(r->id, q->id))) r = r->next;
  if (!r) {
    sws_send(c, "error", q->id,
             json_pack("{s:s, s:s}", "name", "not_waiting", "value", "no input() of this request waits for an answer"), 0);
    return;
  }
  stdin_answer(r, q->content);
  q->content = NULL;
}

void sws_req_link(sws_conn_t *c, sws_req_t *r) {
  r->c = c;
  r->next = c->reqs;
  c->reqs = r;
  c->n_reqs++;
}

sws_req_t *sws_req_new(sws_conn_t *c, const sl_sf_req_t *q) {
  if (c->n_reqs >= SWS_MAX_REQS) {
    sws_send(c, "error", q->id, json_pack("{s:s, s:s}", "name", "too_many", "value", "too many requests in flight on this socket"), 0);
    return NULL;
  }
  sws_req_t *r = calloc(1, sizeof(*r));
  if (!r) {
    sws_send(c, "error", q->id, json_pack("{s:s, s:s}", "name", "internal", "value", "out of memory"), 0);
    return NULL;
  }
  r->type = q->type;
  snprintf(r->sb_id, sizeof(r->sb_id), "%s", c->sb_id);
  memcpy(r->id, q->id, sizeof(r->id));
  return r;
}

void sws_req_start(sws_conn_t *c, sl_sf_req_t *q) {
  if (q->type == SL_SF_INPUT_REPLY) return input_reply(c, q);
  if (q->type == SL_SF_UNWATCH) return sws_unwatch(c, q);
  sws_req_t *r = sws_req_new(c, q);
  if (!r) return;
  const zb_handlers_t *h = &PROC_ACK_H;
  const char *op = SL_OP_PROC_REQUEST;
  unsigned timeout = SWS_PROC_TIMEOUT_MS;
  int flow = 0;
  switch (q->type) {
    case SL_SF_CODE:
      h = &CODE_H, op = SL_OP_EXECUTE_REQUEST, timeout = q->timeout_ms + SWS_CONNECT_GRACE_MS, flow = 1;
      snprintf(r->context_id, sizeof(r->context_id), "%s",
               json_string_value(json_object_get(q->content, "context_id")) ?: "");
      break;
    case SL_SF_EXEC: h = &EXEC_H, op = SL_OP_EXEC_REQUEST, timeout = q->timeout_ms + SWS_CONNECT_GRACE_MS, flow = 1; break;
    case SL_SF_INTERRUPT: h = &INTERRUPT_H, op = SL_OP_INTERRUPT_REQUEST; break;
    case SL_SF_PROC_START: h = &PROC_START_H; break;
    case SL_SF_WATCH: h = &SWS_WATCH_H, op = SL_OP_WATCH_REQUEST, timeout = SWS_WATCH_TIMEOUT_MS, flow = 1; break;
    case SL_SF_STDIN:
    case SL_SF_SIGNAL:
    case SL_SF_INPUT_REPLY:
    case SL_SF_RESIZE:
    case SL_SF_UNWATCH: break;
  }
  json_t *content = q->content;
  q->content = NULL;
  int rc = flow ? zb_request_id(c->sb_id, op, content, h, r, timeout, r->flow_id) : zb_request(c->sb_id, op, content, h, r, timeout);
  if (rc < 0) {
    free(r);
    sws_send(c, "error", q->id, json_pack("{s:s, s:s}", "name", "busy", "value", "too many requests in flight"), 0);
    return;
  }
  sws_req_link(c, r);
  if (flow && c->runner_paused) zb_flow(c->sb_id, r->flow_id, 1);
}


void sws_reqs_flow(sws_conn_t *c, int paused) {
  c->runner_paused = paused;
  for (sws_req_t *r = c->reqs; r; r = r->next)
    if (r->flow_id[0]) zb_flow(c->sb_id, r->flow_id, paused);
}

void sws_reqs_cancel(sws_conn_t *c) {
  int interrupted = 0;
  while (c->reqs) {
    sws_req_t *r = c->reqs;
    if (r->flow_id[0] && c->runner_paused) zb_flow(c->sb_id, r->flow_id, 0);
    /* A cell waiting in input() is the context's running cell, and the EOF ends its wait. No interrupt
     * as well: the EOF may end the cell first, and the interrupt would then hit the next queued cell —
     * possibly another client's (seen: a REST cell sent right after the close got KeyboardInterrupt). */
    int waiting = r->input_pending;
    if (waiting) stdin_answer(r, json_pack("{s:s}", "error", "input(): the client that was asked disconnected"));
    if (r->type == SL_SF_CODE && !interrupted && !waiting) {
      /* the cell would otherwise run on for no one (an interrupt stops the running one) */
      zb_request(c->sb_id, SL_OP_INTERRUPT_REQUEST,
                 json_pack("{s:s}", "context_id", r->context_id[0] ? r->context_id : "default"), &NOOP_H, NULL,
                 SWS_PROC_TIMEOUT_MS);
      interrupted = !r->context_id[0];
    }
    if (r->type == SL_SF_PROC_START && r->proc_waiting && r->pid > 0)
      zb_request(c->sb_id, SL_OP_PROC_REQUEST, json_pack("{s:s, s:I}", "op", "kill", "pid", (json_int_t)r->pid), &NOOP_H,
                 NULL, SWS_PROC_TIMEOUT_MS);
    if (r->type == SL_SF_EXEC && r->flow_id[0]) /* the command would otherwise run on to its timeout */
      zb_notify(c->sb_id, SL_OP_EXEC_CANCEL, json_pack("{s:s}", "msg_id", r->flow_id));
    if (r->type == SL_SF_WATCH && r->flow_id[0]) sws_watch_stop(c->sb_id, r->flow_id, &NOOP_H, NULL);
    c->reqs = r->next;
    c->n_reqs--;
    r->c = NULL;
    r->next = NULL;
  }
  c->runner_paused = 0;
}
