/* handlers_procs.c — background and PTY processes (docs/API.md "Processes and terminals"): each route is one
 * sluice_proc_request to the sandbox's runner (kernel-runner/procs.h), whose reply becomes the JSON.
 *
 * Ownership: a request's state is its gw_call_t (no data); the bridge finishes it exactly once.
 */
#include "handlers.h"

#include "sluice/ops.h"
#include "zmq_bridge.h"
#include "http_util.h"

#include "sluice/stream_frames.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROC_TIMEOUT_MS 30000
#define PROC_WAIT_TIMEOUT_MS (600u * 1000u)   /* ?wait=1 blocks at most this long (then 504) */

typedef enum { V_START, V_LIST, V_GET, V_OK } view_t;

static int status_of(const char *code) {
  if (!code) return 500;
  if (!strcmp(code, "not_found")) return 404;
  if (!strcmp(code, "bad_request")) return 400;
  if (!strcmp(code, "conflict")) return 409;
  if (!strcmp(code, "too_many")) return 429;
  if (!strcmp(code, "sandbox_gone")) return 502;
  return 500;
}

static void proc_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  view_t v = (view_t)(intptr_t)call->data;
  json_t *c = m->content;
  if (!s) {
  } else if (strcmp(json_string_value(json_object_get(c, "status")), "ok") != 0) {
    const char *code = json_string_value(json_object_get(c, "code"));
    const char *msg = json_string_value(json_object_get(c, "message"));
    session_reply_error(s, status_of(code), code ? code : "internal", "%s", msg ? msg : "the request failed");
  } else if (v == V_START) {
    session_reply_data(s, 201, json_pack("{s:O}", "pid", json_object_get(c, "pid")));
  } else if (v == V_LIST) {
    session_reply_data(s, 200, json_incref(json_object_get(c, "processes")));
  } else {
    json_t *d = json_deep_copy(c);
    json_object_del(d, "status");
    session_reply_data(s, 200, d);
  }
  gw_call_finish(call);
}

static void proc_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t PROC_H = {NULL, proc_reply, proc_fail};

static void send_req(gw_session_t *s, gw_sandbox_t *sb, view_t v, json_t *content, unsigned timeout_ms) {
  gw_call_t *call = gw_call_new(s, (void *)(intptr_t)v, NULL);
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  if (zb_request(sb->id, SL_OP_PROC_REQUEST, content, &PROC_H, call, timeout_ms) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}

static gw_sandbox_t *usable(gw_session_t *s) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  return sb && handlers_sandbox_usable(s, sb) ? sb : NULL;
}

/* The {pid} route parameter; 404 when it is not a positive number (no such process can exist). */
static int route_pid(gw_session_t *s, json_int_t *pid) {
  const char *p = s->match.params[1];
  char *end;
  long long v = strtoll(p, &end, 10);
  if (!*p || *end || v <= 0 || v > 4194304) {
    session_reply_error(s, 404, "process_not_found", "no process '%.40s'", p);
    return 0;
  }
  *pid = v;
  return 1;
}

/* {rows, cols}, each 1..SL_OP_MAX_PTY_DIM; else a 400 is sent. */
static int pty_size_ok(gw_session_t *s, json_t *pty) {
  json_t *r = json_object_get(pty, "rows"), *c = json_object_get(pty, "cols");
  if (json_is_object(pty) && json_is_integer(r) && json_is_integer(c) && json_integer_value(r) >= 1 &&
      json_integer_value(c) >= 1 && json_integer_value(r) <= SL_OP_MAX_PTY_DIM && json_integer_value(c) <= SL_OP_MAX_PTY_DIM)
    return 1;
  session_reply_error(s, 400, "invalid_pty", "rows and cols must be integers 1..%u", (unsigned)SL_OP_MAX_PTY_DIM);
  return 0;
}

void h_proc_start(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = usable(s);
  if (!sb) return;
  json_t *cmd = json_object_get(body, "cmd"), *cwd = json_object_get(body, "cwd"), *envs = json_object_get(body, "envs");
  const char *k;
  json_t *v;
  if (!json_is_string(cmd) || !json_string_length(cmd) || json_string_length(cmd) > SL_OP_MAX_PROC_CMD ||
      strlen(json_string_value(cmd)) != json_string_length(cmd))
    return session_reply_error(s, 400, "invalid_cmd", "cmd must be a non-empty string");
  if (cwd && !json_is_null(cwd) && (!json_is_string(cwd) || json_string_length(cwd) > SL_OP_MAX_PATH))
    return session_reply_error(s, 400, "invalid_cwd", "cwd must be a path string");
  if (envs && !json_is_null(envs)) {
    if (!json_is_object(envs)) return session_reply_error(s, 400, "invalid_envs", "envs must be an object of strings");
    json_object_foreach(envs, k, v) if (!json_is_string(v) || !*k || strchr(k, '='))
        return session_reply_error(s, 400, "invalid_envs", "envs must map names to strings");
  }
  json_t *pty = json_object_get(body, "pty");
  if (pty && !json_is_null(pty) && !pty_size_ok(s, pty)) return;
  json_t *c = json_pack("{s:s, s:O}", "op", "start", "cmd", cmd);
  if (pty && !json_is_null(pty))
    json_object_set_new(c, "pty", json_pack("{s:O, s:O}", "rows", json_object_get(pty, "rows"), "cols",
                                            json_object_get(pty, "cols")));
  if (json_is_string(cwd)) json_object_set(c, "cwd", cwd);
  if (json_is_object(envs)) json_object_set(c, "envs", envs);
  send_req(s, sb, V_START, c, PROC_TIMEOUT_MS);
}

void h_proc_list(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = usable(s);
  if (sb) send_req(s, sb, V_LIST, json_pack("{s:s}", "op", "list"), PROC_TIMEOUT_MS);
}

void h_proc_get(gw_session_t *s, json_t *body) {
  json_int_t pid;
  char w[8];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !route_pid(s, &pid)) return;
  int wait = http_query_arg(s->wsi, "wait", w, sizeof(w)) > 0 && (!strcmp(w, "1") || !strcasecmp(w, "true"));
  send_req(s, sb, V_GET, json_pack("{s:s, s:I, s:b}", "op", "get", "pid", pid, "wait", wait),
           wait ? PROC_WAIT_TIMEOUT_MS : PROC_TIMEOUT_MS);
}

void h_proc_stdin(gw_session_t *s, json_t *body) {
  json_int_t pid;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !route_pid(s, &pid)) return;
  json_t *data = json_object_get(body, "data"), *eof = json_object_get(body, "eof");
  if ((data && !json_is_string(data)) || (!data && !json_is_true(eof)) || (eof && !json_is_boolean(eof)) ||
      json_string_length(data) > (1u << 20))
    return session_reply_error(s, 400, "invalid_stdin", "data must be a string (at most 1 MiB); eof a boolean");
  send_req(s, sb, V_OK,
           json_pack("{s:s, s:I, s:s%, s:b}", "op", "stdin", "pid", pid, "data", data ? json_string_value(data) : "",
                     data ? json_string_length(data) : 0, "eof", json_is_true(eof)),
           PROC_TIMEOUT_MS);
}

void h_proc_signal(gw_session_t *s, json_t *body) {
  json_int_t pid;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !route_pid(s, &pid)) return;
  int sig = sl_sf_signal_number(json_object_get(body, "signal")); /* one table, shared with the stream websocket */
  if (sig < 0) return session_reply_error(s, 400, "invalid_signal", "signal must be a name (SIGTERM, TERM) or 1..64");
  send_req(s, sb, V_OK, json_pack("{s:s, s:I, s:i}", "op", "signal", "pid", pid, "signal", sig), PROC_TIMEOUT_MS);
}

void h_proc_kill(gw_session_t *s, json_t *body) {
  json_int_t pid;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !route_pid(s, &pid)) return;
  send_req(s, sb, V_OK, json_pack("{s:s, s:I}", "op", "kill", "pid", pid), PROC_TIMEOUT_MS);
}

void h_proc_resize(gw_session_t *s, json_t *body) {
  json_int_t pid;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !route_pid(s, &pid) || !pty_size_ok(s, body)) return;
  send_req(s, sb, V_OK,
           json_pack("{s:s, s:I, s:{s:O, s:O}}", "op", "resize", "pid", pid, "pty", "rows", json_object_get(body, "rows"),
                     "cols", json_object_get(body, "cols")),
           PROC_TIMEOUT_MS);
}
