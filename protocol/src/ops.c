/* ops.c — table-driven validation of the gateway ⇄ runner message catalog (ops.h). */
#include "sluice/ops.h"

#include "shape.h"

#include <stdio.h>
#include <string.h>

typedef int (*check_fn)(json_t *content, char *err, size_t errlen);

typedef struct {
  sl_shape_t shape; /* first: sl_shape_find relies on it */
  int is_reply;
  check_fn check;   /* extra semantic checks, may be NULL */
} op_row_t;

static int fail(char *err, size_t errlen, const char *msg) {
  snprintf(err, errlen, "%s", msg);
  return -1;
}

static int check_timeout(json_t *c, char *err, size_t errlen) {
  json_t *t = json_object_get(c, "timeout_ms");
  if (t && (json_integer_value(t) < 0 || (json_int_t)json_integer_value(t) > (json_int_t)SL_OP_MAX_TIMEOUT_MS))
    return fail(err, errlen, "timeout_ms out of range");
  json_t *env = json_object_get(c, "env");
  if (env && !json_is_null(env) && !sl_json_is_string_map(env)) return fail(err, errlen, "env must map strings to strings");
  return 0;
}

/* 1 when the string value of key is one of the NULL-terminated alternatives. */
static int one_of(json_t *c, const char *key, const char *const *alts) {
  const char *v = json_string_value(json_object_get(c, key));
  for (; v && *alts; alts++)
    if (strcmp(v, *alts) == 0) return 1;
  return 0;
}

/* Jupyter's MIME bundles: data and metadata are objects, transient (when present) too. */
static int check_bundle(json_t *c, char *err, size_t errlen) {
  json_t *t = json_object_get(c, "transient");
  if (!json_is_object(json_object_get(c, "data")) || !json_is_object(json_object_get(c, "metadata")) ||
      (t && !json_is_object(t)))
    return fail(err, errlen, "data, metadata and transient must be objects");
  return 0;
}

static int check_execute(json_t *c, char *err, size_t errlen) {
  if (json_string_length(json_object_get(c, "code")) > SL_OP_MAX_CODE_BYTES)
    return fail(err, errlen, "code over the size limit");
  return check_timeout(c, err, errlen);
}

static int check_exec(json_t *c, char *err, size_t errlen) {
  json_t *cmd = json_object_get(c, "command"), *argv = json_object_get(c, "argv");
  if (!!cmd == !!argv) return fail(err, errlen, "exactly one of command or argv is required");
  if (cmd && (!json_is_string(cmd) || json_string_length(cmd) > SL_OP_MAX_CODE_BYTES))
    return fail(err, errlen, "command must be a string within the size limit");
  if (argv && (!sl_json_is_string_array(argv, 4096) || json_array_size(argv) == 0))
    return fail(err, errlen, "argv must be a non-empty array of strings");
  json_t *in = json_object_get(c, "stdin");
  if (in && json_string_length(in) > SL_OP_MAX_CODE_BYTES) return fail(err, errlen, "stdin over the size limit");
  return check_timeout(c, err, errlen);
}

static int check_error(json_t *c, char *err, size_t errlen) {
  return sl_json_is_string_array(json_object_get(c, "traceback"), 100000) ? 0
                                                                : fail(err, errlen, "traceback must be strings");
}

static int check_stream(json_t *c, char *err, size_t errlen) {
  const char *name = json_string_value(json_object_get(c, "name"));
  return strcmp(name, "stdout") == 0 || strcmp(name, "stderr") == 0
             ? 0
             : fail(err, errlen, "stream name must be stdout or stderr");
}

static int check_update(json_t *c, char *err, size_t errlen) {
  if (check_bundle(c, err, errlen) < 0) return -1;
  return json_is_string(json_object_get(json_object_get(c, "transient"), "display_id"))
             ? 0
             : fail(err, errlen, "update_display_data needs transient.display_id");
}

static int check_status(json_t *c, char *err, size_t errlen) {
  /* beyond busy|idle, the states JupyterLab knows: a runner reports its own start, restart and death */
  static const char *const states[] = {"busy", "idle", "starting", "restarting", "dead", NULL};
  return one_of(c, "execution_state", states)
             ? 0
             : fail(err, errlen, "execution_state must be busy, idle, starting, restarting or dead");
}

static int check_execute_reply(json_t *c, char *err, size_t errlen) {
  static const char *const st[] = {"ok", "error", "aborted", NULL};
  if (!one_of(c, "status", st)) return fail(err, errlen, "status must be ok, error or aborted");
  json_t *tb = json_object_get(c, "traceback");
  if (tb && !sl_json_is_string_array(tb, 100000)) return fail(err, errlen, "traceback must be strings");
  return 0;
}

static int check_hello(json_t *c, char *err, size_t errlen) {
  static const char *const st[] = {"ready", "error", NULL};
  return one_of(c, "state", st) ? 0 : fail(err, errlen, "state must be ready or error");
}

static int check_error_reply(json_t *c, char *err, size_t errlen) {
  static const char *const st[] = {"error", NULL};
  return one_of(c, "status", st) ? 0 : fail(err, errlen, "status must be error");
}

static int check_fs(json_t *c, char *err, size_t errlen) {
  static const char *const ops[] = {"list", "stat", "mkdir", "rename", "remove", "df", "read", "read_chunk",
                                    "write", "write_chunk", "write_end", "close", NULL};
  if (!one_of(c, "op", ops)) return fail(err, errlen, "unknown fs op");
  if (json_string_length(json_object_get(c, "path")) > SL_OP_MAX_PATH ||
      json_string_length(json_object_get(c, "to")) > SL_OP_MAX_PATH)
    return fail(err, errlen, "path too long");
  return 0;
}

static int check_proc(json_t *c, char *err, size_t errlen) {
  static const char *const ops[] = {"start", "list", "get", "stdin", "signal", "kill", "resize", "attach", NULL};
  if (!one_of(c, "op", ops)) return fail(err, errlen, "unknown process op");
  if (json_string_length(json_object_get(c, "cmd")) > SL_OP_MAX_PROC_CMD) return fail(err, errlen, "cmd too long");
  json_t *env = json_object_get(c, "envs");
  if (env && !json_is_null(env) && !sl_json_is_string_map(env)) return fail(err, errlen, "envs must map strings to strings");
  json_t *pty = json_object_get(c, "pty");
  if (pty || !strcmp(json_string_value(json_object_get(c, "op")), "resize")) {
    json_t *r = json_object_get(pty, "rows"), *k = json_object_get(pty, "cols");
    if (!json_is_integer(r) || !json_is_integer(k) || json_integer_value(r) < 1 || json_integer_value(k) < 1 ||
        json_integer_value(r) > SL_OP_MAX_PTY_DIM || json_integer_value(k) > SL_OP_MAX_PTY_DIM)
      return fail(err, errlen, "pty must be {rows, cols}, each 1..1000");
  }
  return 0;
}

static int check_proc_output(json_t *c, char *err, size_t errlen) {
  static const char *const names[] = {"stdout", "stderr", "pty", NULL};
  return one_of(c, "name", names) ? 0 : fail(err, errlen, "name must be stdout, stderr or pty");
}

static int check_watch(json_t *c, char *err, size_t errlen) {
  static const char *const ops[] = {"start", "stop", NULL};
  if (!one_of(c, "op", ops)) return fail(err, errlen, "op must be start or stop");
  int start = !strcmp(json_string_value(json_object_get(c, "op")), "start");
  json_t *path = json_object_get(c, "path"), *id = json_object_get(c, "msg_id");
  if (start && (!path || !json_string_length(path) || json_string_length(path) > SL_OP_MAX_PATH))
    return fail(err, errlen, "start needs a path of 1..4096 bytes");
  if (!start && (!id || !json_string_length(id) || json_string_length(id) > 64))
    return fail(err, errlen, "stop needs the msg_id of the start");
  return 0;
}

static int check_fs_event(json_t *c, char *err, size_t errlen) {
  static const char *const evs[] = {"watching", "create", "write", "remove", "rename", "chmod", "overflow", NULL};
  if (!one_of(c, "event", evs)) return fail(err, errlen, "event must be watching, create, write, remove, rename, chmod or overflow");
  if (json_string_length(json_object_get(c, "path")) > 2 * SL_OP_MAX_PATH ||
      json_string_length(json_object_get(c, "from")) > 2 * SL_OP_MAX_PATH)
    return fail(err, errlen, "path too long");
  return 0;
}

static int check_op_reply(json_t *c, char *err, size_t errlen) {
  static const char *const st[] = {"ok", "error", NULL};
  return one_of(c, "status", st) ? 0 : fail(err, errlen, "status must be ok or error");
}

static int check_ctx(json_t *c, char *err, size_t errlen) {
  static const char *const ops[] = {"create", "list", "delete", NULL};
  static const char *const langs[] = {"python", "bash", "javascript", NULL};
  if (!one_of(c, "op", ops)) return fail(err, errlen, "unknown context op");
  if (json_object_get(c, "language") && !one_of(c, "language", langs))
    return fail(err, errlen, "language must be python, bash or javascript");
  if (json_string_length(json_object_get(c, "cwd")) > SL_OP_MAX_PATH) return fail(err, errlen, "cwd too long");
  if (json_string_length(json_object_get(c, "context_id")) > 64) return fail(err, errlen, "context_id too long");
  return 0;
}

static int check_introspect(json_t *c, char *err, size_t errlen) {
  static const char *const whats[] = {"complete", "inspect", "is_complete", "history", NULL};
  if (!one_of(c, "what", whats)) return fail(err, errlen, "what must be complete, inspect, is_complete or history");
  if (json_string_length(json_object_get(c, "code")) > SL_OP_MAX_CODE_BYTES) return fail(err, errlen, "code over the size limit");
  return 0;
}

static int check_introspect_reply(json_t *c, char *err, size_t errlen) {
  json_t *r = json_object_get(c, "reply");
  return !r || json_is_object(r) ? 0 : fail(err, errlen, "reply must be an object");
}

static int check_stdin(json_t *c, char *err, size_t errlen) {
  if (!json_object_get(c, "value") == !json_object_get(c, "error"))
    return fail(err, errlen, "exactly one of value or error");
  if (json_string_length(json_object_get(c, "value")) > SL_OP_MAX_CODE_BYTES) return fail(err, errlen, "value over the size limit");
  return 0;
}

/* Formats must not nest ({...} inside): sl_shape_check passes one key and one destination per pair. */
static const op_row_t ROWS[] = {
    {{SL_OP_EXECUTE_REQUEST, "{s:s, s?s, s?s, s?I, s?b, s?b, s?b, s?o, s?o, s?b}",
      {"code", "language", "context_id", "timeout_ms", "silent", "store_history", "allow_stdin",
       "user_expressions", "env", "stop_on_error"}, 0}, 0, check_execute},
    {{SL_OP_EXEC_REQUEST, "{s?o, s?o, s?s, s?o, s?I, s?s}",
      {"command", "argv", "cwd", "env", "timeout_ms", "stdin"}, 1}, 0, check_exec},
    {{SL_OP_INTERRUPT_REQUEST, "{s?s}", {"context_id"}, 0}, 0, NULL},
    {{SL_OP_SHUTDOWN_REQUEST, "{s?b}", {"restart"}, 0}, 0, NULL},
    {{SL_OP_RESTART_REQUEST, "{s?s}", {"context_id"}, 0}, 0, NULL},
    {{SL_OP_FLOW, "{s:s, s:b}", {"flow_id", "paused"}, 1}, 0, NULL},
    {{SL_OP_PING_REQUEST, "{}", {NULL}, 0}, 0, NULL},
    {{SL_OP_HELLO, "{s:s, s:s, s:I, s:I, s?s}", {"sandbox_id", "state", "init_pid", "runner_pid", "error"}, 1},
     0, check_hello},
    {{SL_OP_STATUS, "{s:s}", {"execution_state"}, 0}, 0, check_status},
    {{SL_OP_STREAM, "{s:s, s:s}", {"name", "text"}, 1}, 0, check_stream},
    {{SL_OP_EXECUTE_RESULT, "{s:I, s:o, s:o}", {"execution_count", "data", "metadata"}, 0}, 0, check_bundle},
    {{SL_OP_DISPLAY_DATA, "{s:o, s:o, s?o}", {"data", "metadata", "transient"}, 0}, 0, check_bundle},
    {{SL_OP_UPDATE_DISPLAY, "{s:o, s:o, s:o}", {"data", "metadata", "transient"}, 0}, 0, check_update},
    {{SL_OP_CLEAR_OUTPUT, "{s:b}", {"wait"}, 0}, 0, NULL},
    {{SL_OP_ERROR, "{s:s, s:s, s:o}", {"ename", "evalue", "traceback"}, 0}, 0, check_error},
    {{SL_OP_EXECUTE_REPLY, "{s:s, s:I}", {"status", "execution_count"}, 0}, 1, check_execute_reply},
    {{SL_OP_EXEC_REPLY, "{s:i, s:s, s:I, s:b, s?s}", {"exit_code", "cwd", "duration_ms", "timed_out", "error"}, 1},
     1, NULL},
    {{SL_OP_INTERRUPT_REPLY, "{s:s, s?b}", {"status", "interrupted"}, 0}, 1, NULL},
    {{SL_OP_RESTART_REPLY, "{s:s}", {"status"}, 0}, 1, NULL},
    {{SL_OP_SHUTDOWN_REPLY, "{s:s, s?b}", {"status", "restart"}, 0}, 1, NULL},
    {{SL_OP_PING_REPLY, "{s:s}", {"status"}, 0}, 1, NULL},
    {{SL_OP_FS_REQUEST, "{s:s, s?s, s?s, s?I, s?I, s?I}", {"op", "path", "to", "depth", "max_bytes", "handle"}, 1},
     0, check_fs},
    {{SL_OP_PROC_REQUEST, "{s:s, s?I, s?s, s?s, s?o, s?s, s?b, s?i, s?b, s?o, s?b}",
      {"op", "pid", "cmd", "cwd", "envs", "data", "eof", "signal", "wait", "pty", "hold"}, 1}, 0, check_proc},
    {{SL_OP_FS_REPLY, "{s:s, s?s, s?s}", {"status", "code", "message"}, 0}, 1, check_op_reply},
    {{SL_OP_PROC_REPLY, "{s:s, s?s, s?s}", {"status", "code", "message"}, 0}, 1, check_op_reply},
    {{SL_OP_CTX_REQUEST, "{s:s, s?s, s?s, s?s}", {"op", "context_id", "language", "cwd"}, 1}, 0, check_ctx},
    {{SL_OP_CTX_REPLY, "{s:s}", {"status"}, 0}, 1, NULL},
    {{SL_OP_INTROSPECT_REQUEST, "{s:s, s?s, s?I, s?I, s?s}", {"what", "code", "cursor_pos", "detail_level", "context_id"}, 0},
     0, check_introspect},
    {{SL_OP_INTROSPECT_REPLY, "{s:s}", {"status"}, 0}, 1, check_introspect_reply},
    {{SL_OP_STDIN_REQUEST, "{s:s, s?s, s?s}", {"msg_id", "value", "error"}, 1}, 0, check_stdin},
    {{SL_OP_STDIN_REPLY, "{s:s, s:b}", {"status", "delivered"}, 1}, 1, NULL},
    {{SL_OP_INPUT_REQUEST, "{s:s, s:b}", {"prompt", "password"}, 0}, 0, NULL},
    {{SL_OP_PROC_OUTPUT, "{s:s, s:s}", {"name", "data"}, 1}, 0, check_proc_output},
    {{SL_OP_EXEC_CANCEL, "{s:s}", {"msg_id"}, 1}, 0, NULL},
    {{SL_OP_WATCH_REQUEST, "{s:s, s?s, s?b, s?s}", {"op", "path", "recursive", "msg_id"}, 1}, 0, check_watch},
    {{SL_OP_FS_EVENT, "{s:s, s?s, s?s}", {"event", "path", "from"}, 1}, 0, check_fs_event},
    {{SL_OP_WATCH_REPLY, "{s:s, s?s, s?s}", {"status", "code", "message"}, 0}, 1, check_op_reply},
    {{SL_OP_ERROR_REPLY, "{s:s, s:s, s:s}", {"status", "code", "message"}, 1}, 1, check_error_reply},
};
#define N_ROWS (sizeof(ROWS) / sizeof(ROWS[0]))

static const op_row_t *row_of(const char *type) { return sl_shape_find(ROWS, N_ROWS, sizeof(ROWS[0]), type); }

int sl_op_is_reply(const char *msg_type) {
  const op_row_t *r = row_of(msg_type);
  return r && r->is_reply;
}

int sl_op_validate(const sl_msg_t *msg, char *err, size_t errlen) {
  if (errlen) err[0] = 0;
  const char *type = sl_msg_type(msg);
  const op_row_t *r = row_of(type);
  if (!r) {
    snprintf(err, errlen, "unknown msg_type '%.64s'", type);
    return -1;
  }
  if (sl_shape_check(msg->content, &r->shape, err, errlen) < 0) return -1;
  return r->check ? r->check(msg->content, err, errlen) : 0;
}
