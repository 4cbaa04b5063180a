/* jupyter_relay.c — client messages from the channels websocket → runner ops, runner messages →
 * Jupyter messages with the client's parent_header on the right channel (jupyter.h).
 *
 * Every client request gets iopub status busy → side effects → reply → status idle, as a kernel does.
 * execute_requests run one at a time: while one is in the runner the next wait here, in arrival order
 * (≤ JR_EXEC_QUEUE_MAX a kernel), so that when a cell fails with stop_on_error (not silent) the ones
 * waiting are answered execute_reply {status: aborted} between their own busy and idle, as ipykernel
 * does. Kernels of the bash and javascript specs run in their sandbox's default-bash / default-javascript
 * context (execute by language, interrupt/restart by that context's id); their complete/inspect/
 * is_complete/history get valid empty replies here. comm_open gets comm_close (no comm targets).
 * execute_request goes to the runner (which emits busy, outputs and execute_reply; its idle comes after
 * the reply, when the bridge has already forgotten the request, so the idle is sent here); execute_input
 * is sent here right after the runner's busy. kernel_info and comm_info are answered here; complete,
 * inspect, is_complete and history go to the runner as sluice_introspect_request (its Python context's
 * IPython answers between cells) and are answered here, empty but valid, when it cannot (a cell runs,
 * JR_INTROSPECT_WAIT_MS passed, an error). stdin: the runner's input_request (execute_request with
 * allow_stdin) goes to the connection that sent the cell; its input_reply goes back as
 * sluice_stdin_request — an error instead when that connection is gone, so input() never waits for nobody.
 *
 * Ownership: a jr_req_t lives from its zb_request until its on_reply/on_fail (the bridge's contract); it
 * holds a copy of the client's header and a borrowed connection pointer that jr_conn_gone clears.
 */
#include "jupyter.h"

#include "lifecycle.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SL_OP_RESTART_REQUEST
#define SL_OP_RESTART_REQUEST "sluice_restart_request"
#endif

#define JR_EXECUTE_WAIT_MS SL_OP_MAX_TIMEOUT_MS
#define JR_CONTROL_WAIT_MS 30000
#define JR_INTROSPECT_WAIT_MS 5000
#define JR_STDIN_WAIT_MS 10000
#define JR_EXEC_QUEUE_MAX 1024 /* execute_requests waiting per kernel */

enum { JR_MISSING_INTERRUPT = 1, JR_MISSING_RESTART };

typedef struct jr_req {
  struct jr_req *next;
  char kernel_id[37];
  jws_conn_t *conn;       /* NULL once the connection went away */
  char session_id[JWS_SESSION_ID_MAX]; /* its client session: a reconnect of it gets the replies */
  json_t *parent;         /* the client's header (own copy) */
  char channel[SL_JF_CHANNEL_MAX];
  char reply_type[64];    /* what a failure is answered with */
  json_t *code;           /* execute_request: the code (execute_input) */
  int silent, store_history, stop_on_error;
  int idle_sent;
  int queued;             /* execute_request waiting behind the kernel's running one (not yet sent) */
  uint64_t seq;           /* queued: arrival order */
  json_t *op;             /* queued: the runner request to send */
  int missing_ok;
  int running;            /* execute_request sent to the runner: the kernel's one running cell */         /* interrupt/restart of a default context that was never started: nothing to do */
  json_t *introspect;     /* complete/inspect/is_complete/history: the client's request content */
  char op_id[40];         /* execute_request: the msg_id of the runner request (sluice_stdin_request) */
  int input_pending;      /* its input_request went to the client, no input_reply yet */
  void (*done)(void *ctx, int ok); /* REST restart / interrupt */
  void *done_ctx;
} jr_req_t;

static jr_req_t *g_reqs;
static uint64_t g_seq;

/* The kernel's language in Sluice terms: python3 runs in the sandbox's default (Python) context, bash and
 * javascript in its default-bash / default-javascript context (created by the runner at the first cell). */
static const char *lang_of(const jk_kernel_t *k) {
  const char *l = sl_jk_spec_language(k->name);
  return l ? l : "python";
}
static int is_python(const jk_kernel_t *k) { return strcmp(lang_of(k), "python") == 0; }

/* op (a runner request) names the kernel's context; returns op */
static json_t *for_context(const jk_kernel_t *k, json_t *op) {
  if (op && !is_python(k)) {
    char id[48];
    snprintf(id, sizeof id, "default-%s", lang_of(k));
    json_object_set_new(op, "context_id", json_string(id));
  }
  return op;
}

static jr_req_t *req_new(jk_kernel_t *k, jws_conn_t *c, const json_t *parent, const char *channel,
                         const char *reply_type) {
  jr_req_t *r = calloc(1, sizeof(*r));
  if (!r) return NULL;
  snprintf(r->kernel_id, sizeof(r->kernel_id), "%s", k->id);
  r->conn = c;
  if (c) snprintf(r->session_id, sizeof(r->session_id), "%s", c->session_id);
  r->parent = parent ? json_deep_copy(parent) : json_object();
  snprintf(r->channel, sizeof(r->channel), "%s", channel);
  snprintf(r->reply_type, sizeof(r->reply_type), "%s", reply_type);
  r->next = g_reqs;
  g_reqs = r;
  return r;
}

static void req_free(jr_req_t *r) {
  for (jr_req_t **pp = &g_reqs; *pp; pp = &(*pp)->next) {
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  }
  json_decref(r->parent);
  json_decref(r->code);
  json_decref(r->introspect);
  json_decref(r->op);
  free(r);
}

/* Where r's replies go: its connection, else a newer one of the same client session (else NULL: the
 * kernel's replay buffer when nobody is connected). */
static jws_conn_t *target(jk_kernel_t *k, jr_req_t *r) {
  if (r->conn || !r->session_id[0]) return r->conn;
  for (jws_conn_t *c = k->conns; c; c = c->next)
    if (!c->closing && strcmp(c->session_id, r->session_id) == 0) return c;
  return NULL;
}

static void stdin_reply(void *ctx, const sl_msg_t *m) { (void)ctx, (void)m; }
static void stdin_fail(void *ctx, int status, const char *code, const char *message) {
  (void)ctx, (void)status, (void)code, (void)message;
}
static const zb_handlers_t STDIN_H = {NULL, stdin_reply, stdin_fail};

/* Answers r's pending input() in the runner: value, or EOFError(error) when value is NULL. */
static void stdin_answer(jr_req_t *r, json_t *value, const char *error) {
  r->input_pending = 0;
  json_t *c = value ? json_pack("{s:s, s:O}", "msg_id", r->op_id, "value", value)
                    : json_pack("{s:s, s:s}", "msg_id", r->op_id, "error", error);
  zb_request(r->kernel_id, SL_OP_STDIN_REQUEST, c, &STDIN_H, NULL, JR_STDIN_WAIT_MS);
}

void jr_conn_gone(jws_conn_t *c) {
  for (jr_req_t *r = g_reqs; r; r = r->next) {
    if (r->conn != c) continue;
    r->conn = NULL;
    if (r->input_pending) stdin_answer(r, NULL, "input(): the client that was asked disconnected");
  }
}

static void idle_if_quiet(jk_kernel_t *k, const json_t *parent) {
  if (k->inflight == 0 && strcmp(k->state, "dead") != 0 && strcmp(k->state, "restarting") != 0)
    jk_set_state(k, "idle", parent);
  else
    jk_emit(k, NULL, "iopub", "status", parent, json_pack("{s:s}", "execution_state", "idle"));
}

/* A valid, empty reply_type for a request the runner could not answer (in: the client's content). */
static json_t *empty_reply(const char *reply_type, const json_t *in) {
  if (strcmp(reply_type, "complete_reply") == 0) {
    json_t *pos = json_object_get(in, "cursor_pos");
    json_int_t p = json_is_integer(pos) ? json_integer_value(pos) : (json_int_t)json_string_length(json_object_get(in, "code"));
    return json_pack("{s:[], s:I, s:I, s:{}, s:s}", "matches", "cursor_start", p, "cursor_end", p, "metadata", "status", "ok");
  }
  if (strcmp(reply_type, "inspect_reply") == 0)
    return json_pack("{s:s, s:b, s:{}, s:{}}", "status", "ok", "found", 0, "data", "metadata");
  if (strcmp(reply_type, "is_complete_reply") == 0) return json_pack("{s:s}", "status", "unknown");
  return json_pack("{s:s, s:[]}", "status", "ok", "history");
}

/* ---- runner → client ---- */

static void on_event(void *ctx, const sl_msg_t *m) {
  jr_req_t *r = ctx;
  jk_kernel_t *k = jk_find(r->kernel_id);
  if (!k) return;
  jk_touch(k);
  const char *type = sl_msg_type(m);
  if (strcmp(type, "status") == 0) {
    const char *st = json_string_value(json_object_get(m->content, "execution_state"));
    if (strcmp(st, "idle") == 0) {
      if (r->idle_sent) return;
      r->idle_sent = 1;
    }
    jk_set_state(k, strcmp(st, "busy") == 0 ? "busy" : strcmp(st, "idle") == 0 ? "idle" : k->state, r->parent);
    if (strcmp(st, "busy") == 0 && r->code && !r->silent) {
      json_int_t n = (json_int_t)k->exec_count + (r->store_history ? 1 : 0);
      jk_emit(k, NULL, "iopub", "execute_input", r->parent,
              json_pack("{s:O, s:I}", "code", r->code, "execution_count", n ? n : 1));
    }
    return;
  }
  if (strcmp(type, SL_OP_INPUT_REQUEST) == 0) {
    jws_conn_t *to = target(k, r);
    if (!to || !r->op_id[0]) {
      stdin_answer(r, NULL, "input(): no client is connected to answer it");
      return;
    }
    r->input_pending = 1;
    jk_emit(k, to, "stdin", type, r->parent, json_deep_copy(m->content));
    return;
  }
  const char *channel = strcmp(type, "input_request") == 0 ? "stdin" : "iopub";
  if (r->silent && strcmp(channel, "iopub") == 0 && strcmp(type, "stream") != 0 && strcmp(type, "error") != 0 &&
      strcmp(type, "display_data") != 0 && strcmp(type, "update_display_data") != 0 && strcmp(type, "clear_output") != 0)
    return; /* silent executions publish no execute_result */
  jk_emit(k, strcmp(channel, "stdin") == 0 ? target(k, r) : NULL, channel, type, r->parent, json_deep_copy(m->content));
}

/* ---- the execute queue: one cell at a time in the runner, so stop_on_error can abort the rest ---- */

static jr_req_t *first_queued(const jk_kernel_t *k, size_t *n) {
  jr_req_t *first = NULL;
  if (n) *n = 0;
  for (jr_req_t *r = g_reqs; r; r = r->next) {
    if (!r->queued || strcmp(r->kernel_id, k->id) != 0) continue;
    if (n) (*n)++;
    if (!first || r->seq < first->seq) first = r;
  }
  return first;
}

/* As ipykernel after a cell that failed with stop_on_error: every execute_request already waiting gets
 * busy, execute_reply {status: aborted}, idle — without running. */
static void abort_queued(jk_kernel_t *k) {
  jr_req_t *r;
  while ((r = first_queued(k, NULL))) {
    if (!k->inflight) k->state = "busy";
    jk_emit(k, NULL, "iopub", "status", r->parent, json_pack("{s:s}", "execution_state", "busy"));
    jk_emit(k, target(k, r), r->channel, "execute_reply", r->parent, json_pack("{s:s}", "status", "aborted"));
    idle_if_quiet(k, r->parent);
    req_free(r);
  }
}

static void send_execute(jk_kernel_t *k, jr_req_t *r, json_t *op);

static void pump(jk_kernel_t *k) {
  jr_req_t *r = k->exec_running ? NULL : first_queued(k, NULL);
  if (!r) return;
  json_t *op = r->op;
  r->op = NULL;
  r->queued = 0;
  send_execute(k, r, op);
}

/* r's cell ended (reply or failure): abort the queue when it failed with stop_on_error, else run the next. */
static void exec_finished(jk_kernel_t *k, const jr_req_t *r, int failed) {
  if (!r->running) return;
  k->exec_running = 0;
  if (failed && r->stop_on_error && !r->silent) abort_queued(k);
  pump(k);
}

void jr_kernel_gone(const char *kernel_id) {
  for (jr_req_t *r = g_reqs, *next; r; r = next) {
    next = r->next;
    if (r->queued && strcmp(r->kernel_id, kernel_id) == 0) req_free(r);
  }
}

static void finish(jr_req_t *r, int ok) {
  if (r->done) r->done(r->done_ctx, ok);
  req_free(r);
}

static void on_reply(void *ctx, const sl_msg_t *m) {
  jr_req_t *r = ctx;
  jk_kernel_t *k = jk_find(r->kernel_id);
  int failed = 0;
  if (k) {
    k->inflight--;
    jk_touch(k);
    const char *type = sl_msg_type(m);
    json_t *content = json_deep_copy(m->content);
    if (strcmp(type, SL_OP_EXECUTE_REPLY) == 0) {
      json_t *n = json_object_get(content, "execution_count");
      if (json_is_integer(n) && !r->silent) k->exec_count = json_integer_value(n);
      if (!json_object_get(content, "user_expressions")) json_object_set_new(content, "user_expressions", json_object());
      if (!json_object_get(content, "payload")) json_object_set_new(content, "payload", json_array());
      failed = strcmp(json_string_value(json_object_get(content, "status")) ?: "", "ok") != 0;
      jk_emit(k, target(k, r), r->channel, "execute_reply", r->parent, content);
    } else if (strcmp(type, SL_OP_INTERRUPT_REPLY) == 0) {
      if (target(k, r) || !r->done)
        jk_emit(k, target(k, r), r->channel, "interrupt_reply", r->parent, json_pack("{s:s}", "status", "ok"));
      json_decref(content);
    } else if (r->introspect) {
      json_t *rep = json_object_get(content, "reply");
      const char *st = json_string_value(json_object_get(rep, "status"));
      jk_emit(k, target(k, r), r->channel, r->reply_type, r->parent,
              strcmp(type, SL_OP_INTROSPECT_REPLY) == 0 && st && strcmp(st, "error") != 0
                  ? json_incref(rep)
                  : empty_reply(r->reply_type, r->introspect));
      json_decref(content);
    } else if (strcmp(type, SL_OP_RESTART_REPLY) == 0) {
      if (r->reply_type[0] && strcmp(r->reply_type, "shutdown_reply") == 0)
        jk_emit(k, target(k, r), r->channel, "shutdown_reply", r->parent, json_pack("{s:s, s:b}", "status", "ok", "restart", 1));
      json_decref(content);
      k->exec_count = 0;
      sl_uuid_str(k->session); /* JupyterLab notices a restart by the header's session changing */
      jk_set_state(k, "starting", NULL);
    } else {
      json_decref(content);
    }
    if (!r->idle_sent) {
      r->idle_sent = 1;
      idle_if_quiet(k, r->parent);
    }
    exec_finished(k, r, failed);
  }
  finish(r, 1);
}

static void on_fail(void *ctx, int status, const char *code, const char *message) {
  jr_req_t *r = ctx;
  if (r->missing_ok && strcmp(code, "not_found") == 0) {
    /* interrupt/restart of the language's default context before its first cell: there is nothing to
       interrupt, and it starts fresh anyway */
    sl_msg_t *m = sl_msg_new(r->missing_ok == JR_MISSING_INTERRUPT ? SL_OP_INTERRUPT_REPLY : SL_OP_RESTART_REPLY, "",
                             NULL, json_pack("{s:s}", "status", "ok"));
    if (m) {
      on_reply(ctx, m);
      sl_msg_free(&m);
      return;
    }
  }
  jk_kernel_t *k = jk_find(r->kernel_id);
  if (k) {
    k->inflight--;
    if (strcmp(r->reply_type, "execute_reply") == 0) {
      json_t *tb = json_pack("[s]", message);
      jk_emit(k, NULL, "iopub", "error", r->parent,
              json_pack("{s:s, s:s, s:O}", "ename", "SandboxError", "evalue", message, "traceback", tb));
      jk_emit(k, target(k, r), r->channel, "execute_reply", r->parent,
              json_pack("{s:s, s:I, s:s, s:s, s:o, s:{}, s:[]}", "status", "error", "execution_count",
                        (json_int_t)k->exec_count, "ename", "SandboxError", "evalue", message, "traceback", tb,
                        "user_expressions", "payload"));
    } else if (r->introspect) {
      jk_emit(k, target(k, r), r->channel, r->reply_type, r->parent, empty_reply(r->reply_type, r->introspect));
    } else if (r->reply_type[0]) {
      jk_emit(k, target(k, r), r->channel, r->reply_type, r->parent,
              json_pack("{s:s, s:s, s:s, s:[]}", "status", "error", "ename", code, "evalue", message, "traceback"));
    }
    if (strcmp(code, "sandbox_gone") == 0) {
      jk_set_state(k, "dead", r->parent);
    } else if (!r->idle_sent) {
      r->idle_sent = 1;
      idle_if_quiet(k, r->parent);
    }
    exec_finished(k, r, 1);
  }
  (void)status;
  finish(r, 0);
}

static const zb_handlers_t RELAY_H = {on_event, on_reply, on_fail};

/* Sends op to the runner for r; on a refusal answers like a failure. */
static int forward(jk_kernel_t *k, jr_req_t *r, const char *op, json_t *content, unsigned wait_ms) {
  k->inflight++;
  int rc = zb_request(k->id, op, content, &RELAY_H, r, wait_ms);
  if (rc < 0) on_fail(r, 429, "busy", "too many requests in flight");
  return rc;
}

/* ---- client → runner ---- */

static void local_reply(jk_kernel_t *k, jws_conn_t *c, const sl_msg_t *msg, const char *channel,
                        const char *reply_type, json_t *content) {
  if (!k->inflight) k->state = "busy";
  jk_emit(k, NULL, "iopub", "status", msg->header, json_pack("{s:s}", "execution_state", "busy"));
  jk_emit(k, c, channel, reply_type, msg->header, content);
  idle_if_quiet(k, msg->header);
}

static void execute(jk_kernel_t *k, jws_conn_t *c, const sl_msg_t *msg, const char *channel) {
  json_t *in = msg->content;
  json_t *code = json_object_get(in, "code");
  jr_req_t *r = req_new(k, c, msg->header, channel, "execute_reply");
  if (!r) return;
  if (!json_is_string(code) || json_string_length(code) > SL_OP_MAX_CODE_BYTES) {
    jk_emit(k, NULL, "iopub", "status", msg->header, json_pack("{s:s}", "execution_state", "busy"));
    k->inflight++;
    on_fail(r, 400, "bad_request", json_is_string(code) ? "code over the size limit" : "code must be a string");
    return;
  }
  r->code = json_incref(code);
  r->silent = json_is_true(json_object_get(in, "silent"));
  r->store_history = !r->silent && !json_is_false(json_object_get(in, "store_history"));
  r->stop_on_error = !json_is_false(json_object_get(in, "stop_on_error"));
  json_t *op = json_pack("{s:O, s:b, s:b, s:b}", "code", code, "silent", r->silent, "store_history",
                         r->store_history, "allow_stdin", json_is_true(json_object_get(in, "allow_stdin")));
  if (op && !is_python(k)) json_object_set_new(op, "language", json_string(lang_of(k)));
  size_t waiting = 0;
  if (k->exec_running || first_queued(k, &waiting)) {
    if (waiting >= JR_EXEC_QUEUE_MAX) {
      json_decref(op);
      jk_emit(k, NULL, "iopub", "status", msg->header, json_pack("{s:s}", "execution_state", "busy"));
      k->inflight++;
      on_fail(r, 429, "busy", "too many cells waiting to run in this kernel");
      return;
    }
    r->queued = 1; /* sent when the cells before it have ended (pump) */
    r->seq = ++g_seq;
    r->op = op;
    return;
  }
  send_execute(k, r, op);
}

static void send_execute(jk_kernel_t *k, jr_req_t *r, json_t *op) {
  r->running = 1;
  k->exec_running = 1;
  k->inflight++;
  if (zb_request_id(k->id, SL_OP_EXECUTE_REQUEST, op, &RELAY_H, r, JR_EXECUTE_WAIT_MS, r->op_id) < 0)
    on_fail(r, 429, "busy", "too many requests in flight");
}

/* complete/inspect/is_complete/history_request → sluice_introspect_request (what = the type's stem). */
static void introspect(jk_kernel_t *k, jws_conn_t *c, const sl_msg_t *msg, const char *channel, const char *type) {
  char what[32], reply_type[64];
  size_t n = strlen(type) - strlen("_request");
  snprintf(what, sizeof what, "%.*s", (int)n, type);
  snprintf(reply_type, sizeof reply_type, "%s_reply", what);
  if (!is_python(k)) { /* the bash and javascript drivers have no introspection: valid, empty replies */
    local_reply(k, c, msg, channel, reply_type, empty_reply(reply_type, msg->content));
    return;
  }
  jr_req_t *r = req_new(k, c, msg->header, channel, reply_type);
  if (!r) return;
  r->introspect = json_deep_copy(msg->content);
  if (!k->inflight) k->state = "busy";
  jk_emit(k, NULL, "iopub", "status", msg->header, json_pack("{s:s}", "execution_state", "busy"));
  json_t *op = json_copy(msg->content);
  json_t *code = json_object_get(op, "code");
  if (code && (!json_is_string(code) || json_string_length(code) > SL_OP_MAX_CODE_BYTES)) json_object_del(op, "code");
  static const char *const ints[] = {"cursor_pos", "detail_level"};
  for (size_t i = 0; i < 2; i++)
    if (json_object_get(op, ints[i]) && !json_is_integer(json_object_get(op, ints[i]))) json_object_del(op, ints[i]);
  json_object_del(op, "context_id");
  json_object_set_new(op, "what", json_string(what));
  forward(k, r, SL_OP_INTROSPECT_REQUEST, op, JR_INTROSPECT_WAIT_MS);
}

int jr_interrupt(jk_kernel_t *k, void (*done)(void *ctx, int ok), void *ctx) {
  jr_req_t *r = req_new(k, NULL, NULL, "control", "");
  if (!r) return -1;
  r->done = done;
  r->done_ctx = ctx;
  r->idle_sent = 1;
  r->missing_ok = JR_MISSING_INTERRUPT;
  forward(k, r, SL_OP_INTERRUPT_REQUEST, for_context(k, json_object()), JR_CONTROL_WAIT_MS);
  return 0; /* from here on done() runs exactly once */
}

int jr_restart(jk_kernel_t *k, jws_conn_t *c, const json_t *parent_header, void (*done)(void *ctx, int ok),
               void *ctx) {
  jr_req_t *r = req_new(k, c, parent_header, "control", c ? "shutdown_reply" : "");
  if (!r) return -1;
  r->done = done;
  r->done_ctx = ctx;
  r->missing_ok = JR_MISSING_RESTART;
  jk_set_state(k, "restarting", parent_header);
  forward(k, r, SL_OP_RESTART_REQUEST, for_context(k, json_object()), JR_CONTROL_WAIT_MS);
  return 0; /* from here on done() runs exactly once */
}

/* The client's answer to input(): to the kernel's cell waiting for it (this connection's first). */
static void input_reply(jk_kernel_t *k, jws_conn_t *c, const sl_msg_t *msg) {
  jr_req_t *to = NULL;
  for (jr_req_t *r = g_reqs; r; r = r->next)
    if (r->input_pending && strcmp(r->kernel_id, k->id) == 0 && (!to || r->conn == c)) to = r;
  if (!to) return;
  json_t *v = json_object_get(msg->content, "value");
  if (json_is_string(v) && json_string_length(v) <= SL_OP_MAX_CODE_BYTES)
    stdin_answer(to, v, NULL);
  else
    stdin_answer(to, NULL, json_is_string(v) ? "input(): the answer is over the size limit" : "input(): no value");
}

static void shutdown_done(void *ctx, const char *name, const char *err) { (void)ctx, (void)name, (void)err; }

/* Comms from the client. No comm target is registered in these kernels, so as ipykernel does for an
 * unknown target: comm_open is answered with comm_close {comm_id, data: {}} on iopub; comm_msg and
 * comm_close of a comm the kernel does not know are accepted and ignored. Each between busy and idle. */
static void comm(jk_kernel_t *k, const sl_msg_t *msg) {
  json_t *id = json_object_get(msg->content, "comm_id");
  if (!k->inflight) k->state = "busy";
  jk_emit(k, NULL, "iopub", "status", msg->header, json_pack("{s:s}", "execution_state", "busy"));
  if (strcmp(sl_msg_type(msg), "comm_open") == 0 && json_is_string(id) && json_string_length(id) <= 256)
    jk_emit(k, NULL, "iopub", "comm_close", msg->header, json_pack("{s:O, s:{}}", "comm_id", id, "data"));
  idle_if_quiet(k, msg->header);
}

void jr_handle(jws_conn_t *c, jk_kernel_t *k, const sl_msg_t *msg, const char *channel) {
  const char *type = sl_msg_type(msg);
  json_t *in = msg->content;
  jk_touch(k);
  if (strcmp(type, "execute_request") == 0) {
    execute(k, c, msg, channel);
  } else if (strcmp(type, "kernel_info_request") == 0) {
    local_reply(k, c, msg, channel, "kernel_info_reply", sl_jk_kernel_info(k->name, jk_language_version(k->name)));
  } else if (strcmp(type, "complete_request") == 0 || strcmp(type, "inspect_request") == 0 ||
             strcmp(type, "is_complete_request") == 0 || strcmp(type, "history_request") == 0) {
    introspect(k, c, msg, channel, type);
  } else if (strcmp(type, "input_reply") == 0) {
    input_reply(k, c, msg);
  } else if (strcmp(type, "comm_info_request") == 0) {
    local_reply(k, c, msg, channel, "comm_info_reply", json_pack("{s:s, s:{}}", "status", "ok", "comms"));
  } else if (strcmp(type, "interrupt_request") == 0) {
    jr_req_t *r = req_new(k, c, msg->header, channel, "interrupt_reply");
    if (r) {
      r->idle_sent = 1; /* control requests do not change the execution state */
      r->missing_ok = JR_MISSING_INTERRUPT;
      forward(k, r, SL_OP_INTERRUPT_REQUEST, for_context(k, json_object()), JR_CONTROL_WAIT_MS);
    }
  } else if (strcmp(type, "shutdown_request") == 0) {
    if (json_is_true(json_object_get(in, "restart"))) {
      jr_restart(k, c, msg->header, NULL, NULL);
      return;
    }
    jk_emit(k, c, channel, "shutdown_reply", msg->header, json_pack("{s:s, s:b}", "status", "ok", "restart", 0));
    gw_sandbox_t *sb = reg_find_id(k->id);
    char id[37];
    snprintf(id, sizeof(id), "%s", k->id);
    jk_forget(id, 1);
    if (sb && !sb->deleting) lc_delete(sb, shutdown_done, NULL);
  } else if (strcmp(type, "comm_open") == 0 || strcmp(type, "comm_msg") == 0 || strcmp(type, "comm_close") == 0) {
    comm(k, msg);
  } else {
    fprintf(stderr, "sluice-gateway: kernel %s: ignoring %.64s on %s\n", k->id, type, channel);
  }
}
