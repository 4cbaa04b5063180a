/* stream_frames.c — requests and events of the native streaming websocket (sluice/stream_frames.h).
 * code and exec requests are validated by the same parsers as their HTTP routes (api.c). */
#include "sluice/stream_frames.h"

#include "sluice/ops.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  sl_sf_type_t type;
} TYPES[] = {{"code", SL_SF_CODE},       {"exec", SL_SF_EXEC},   {"interrupt", SL_SF_INTERRUPT},
             {"process_start", SL_SF_PROC_START}, {"stdin", SL_SF_STDIN}, {"signal", SL_SF_SIGNAL},
             {"input_reply", SL_SF_INPUT_REPLY},
             {"resize", SL_SF_RESIZE}, {"watch", SL_SF_WATCH}, {"unwatch", SL_SF_UNWATCH}};

void sl_sf_req_clear(sl_sf_req_t *r) {
  if (!r) return;
  json_decref(r->content);
  r->content = NULL;
}

int sl_sf_signal_number(const json_t *v) {
  static const struct {
    const char *name;
    int sig;
  } SIGS[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},   {"USR1", SIGUSR1},
              {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
              {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}, {"PIPE", SIGPIPE}};
  if (json_is_integer(v)) return json_integer_value(v) >= 1 && json_integer_value(v) <= 64 ? (int)json_integer_value(v) : -1;
  const char *n = json_string_value(v);
  if (!n) return -1;
  if (!strncasecmp(n, "SIG", 3)) n += 3;
  for (size_t i = 0; i < sizeof(SIGS) / sizeof(SIGS[0]); i++)
    if (!strcasecmp(n, SIGS[i].name)) return SIGS[i].sig;
  return -1;
}

/* The id: a string of 1..SL_SF_ID_MAX bytes without NUL, or an integer (kept as its decimal text). */
static int take_id(const json_t *v, char id[SL_SF_ID_MAX + 1]) {
  if (json_is_integer(v)) {
    snprintf(id, SL_SF_ID_MAX + 1, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return 0;
  }
  size_t n = json_string_length(v);
  if (!json_is_string(v) || !n || n > SL_SF_ID_MAX || strlen(json_string_value(v)) != n) return -1;
  memcpy(id, json_string_value(v), n + 1);
  return 0;
}

static int check_only(const json_t *body, const char *const *known, sl_api_err_t *err) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)body, k, v) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], k)) i++;
    if (!known[i]) return sl_api_fail(err, 400, "invalid_request", "unknown field '%.64s'", k);
  }
  return 0;
}

static int valid_pid(const json_t *v, int64_t *pid) {
  if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 4194304) return -1;
  *pid = json_integer_value(v);
  return 0;
}

/* rows and cols: integers 1..SL_OP_MAX_PTY_DIM */
static int valid_dims(const json_t *rows, const json_t *cols) {
  return json_is_integer(rows) && json_is_integer(cols) && json_integer_value(rows) >= 1 &&
         json_integer_value(cols) >= 1 && json_integer_value(rows) <= SL_OP_MAX_PTY_DIM &&
         json_integer_value(cols) <= SL_OP_MAX_PTY_DIM;
}

static int parse_proc_start(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"cmd", "cwd", "envs", "pty", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *cmd = json_object_get(b, "cmd"), *cwd = json_object_get(b, "cwd"), *envs = json_object_get(b, "envs");
  json_t *pty = json_object_get(b, "pty");
  if (pty && !json_is_null(pty) &&
      (!json_is_object(pty) || json_object_size(pty) != 2 ||
       !valid_dims(json_object_get(pty, "rows"), json_object_get(pty, "cols"))))
    return sl_api_fail(err, 400, "invalid_pty", "pty must be {rows, cols}, each 1..%d", SL_OP_MAX_PTY_DIM);
  const char *k;
  json_t *v;
  if (!json_is_string(cmd) || !json_string_length(cmd) || json_string_length(cmd) > SL_OP_MAX_PROC_CMD ||
      strlen(json_string_value(cmd)) != json_string_length(cmd))
    return sl_api_fail(err, 400, "invalid_cmd", "cmd must be a non-empty string");
  if (cwd && !json_is_null(cwd) && (!json_is_string(cwd) || json_string_length(cwd) > SL_OP_MAX_PATH))
    return sl_api_fail(err, 400, "invalid_cwd", "cwd must be a path string");
  if (envs && !json_is_null(envs)) {
    if (!json_is_object(envs)) return sl_api_fail(err, 400, "invalid_envs", "envs must be an object of strings");
    json_object_foreach(envs, k, v) if (!json_is_string(v) || !*k || strchr(k, '='))
        return sl_api_fail(err, 400, "invalid_envs", "envs must map names to strings");
  }
  /* hold: the output waits in its pipes for the attach that follows the start (nothing is missed) */
  r->content = json_pack("{s:s, s:O, s:b}", "op", "start", "cmd", cmd, "hold", 1);
  if (r->content && json_is_string(cwd)) json_object_set(r->content, "cwd", cwd);
  if (r->content && json_is_object(envs)) json_object_set(r->content, "envs", envs);
  if (r->content && json_is_object(pty)) {
    json_object_set_new(r->content, "pty", json_pack("{s:O, s:O}", "rows", json_object_get(pty, "rows"), "cols",
                                                     json_object_get(pty, "cols")));
    r->pty = 1;
  }
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_resize(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"pid", "rows", "cols", NULL};
  if (check_only(b, known, err) < 0) return -1;
  if (valid_pid(json_object_get(b, "pid"), &r->pid) < 0)
    return sl_api_fail(err, 400, "invalid_pid", "pid must be a positive integer");
  json_t *rows = json_object_get(b, "rows"), *cols = json_object_get(b, "cols");
  if (!valid_dims(rows, cols))
    return sl_api_fail(err, 400, "invalid_pty", "rows and cols must be integers 1..%d", SL_OP_MAX_PTY_DIM);
  r->content = json_pack("{s:s, s:I, s:{s:O, s:O}}", "op", "resize", "pid", (json_int_t)r->pid, "pty", "rows", rows,
                         "cols", cols);
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_watch(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"path", "recursive", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *path = json_object_get(b, "path"), *rec = json_object_get(b, "recursive");
  if (!json_is_string(path) || !json_string_length(path) || json_string_length(path) > SL_OP_MAX_PATH ||
      strlen(json_string_value(path)) != json_string_length(path))
    return sl_api_fail(err, 400, "invalid_path", "path must be a non-empty path string (at most %d bytes)",
                       SL_OP_MAX_PATH);
  if (rec && !json_is_boolean(rec) && !json_is_null(rec))
    return sl_api_fail(err, 400, "invalid_request", "recursive must be a boolean");
  r->content = json_pack("{s:s, s:O, s:b}", "op", "start", "path", path, "recursive", json_is_true(rec));
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_unwatch(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"watch_id", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *w = json_object_get(b, "watch_id");
  if (!w || take_id(w, r->target) < 0) {
    r->target[0] = 0;
    return sl_api_fail(err, 400, "invalid_request", "watch_id must be the id of a watch request");
  }
  r->content = json_object();
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_stdin(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"pid", "data", "eof", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *data = json_object_get(b, "data"), *eof = json_object_get(b, "eof");
  if (valid_pid(json_object_get(b, "pid"), &r->pid) < 0)
    return sl_api_fail(err, 400, "invalid_pid", "pid must be a positive integer");
  if ((data && !json_is_string(data)) || (!data && !json_is_true(eof)) || (eof && !json_is_boolean(eof)) ||
      json_string_length(data) > (1u << 20))
    return sl_api_fail(err, 400, "invalid_stdin", "data must be a string (at most 1 MiB); eof a boolean");
  r->content = json_pack("{s:s, s:I, s:s%, s:b}", "op", "stdin", "pid", (json_int_t)r->pid, "data",
                         data ? json_string_value(data) : "", data ? json_string_length(data) : 0, "eof",
                         json_is_true(eof));
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_signal(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"pid", "signal", NULL};
  if (check_only(b, known, err) < 0) return -1;
  if (valid_pid(json_object_get(b, "pid"), &r->pid) < 0)
    return sl_api_fail(err, 400, "invalid_pid", "pid must be a positive integer");
  int sig = sl_sf_signal_number(json_object_get(b, "signal"));
  if (sig < 0) return sl_api_fail(err, 400, "invalid_signal", "signal must be a name (SIGTERM, TERM) or 1..64");
  r->content = json_pack("{s:s, s:I, s:i}", "op", "signal", "pid", (json_int_t)r->pid, "signal", sig);
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

static int parse_interrupt(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"context_id", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *cid = json_object_get(b, "context_id");
  if (cid && !json_is_null(cid) && (!json_is_string(cid) || !json_string_length(cid) || json_string_length(cid) > 64))
    return sl_api_fail(err, 400, "invalid_request", "'context_id' must be a context id string");
  r->content = json_pack("{s:s}", "context_id", json_is_string(cid) ? json_string_value(cid) : "default");
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

/* The answer to an input_request: {value} (a string of at most SL_SF_MAX_INPUT bytes) or {eof: true}
 * (EOFError in the cell); content {value} or {error}. */
static int parse_input_reply(const json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  static const char *const known[] = {"value", "eof", NULL};
  if (check_only(b, known, err) < 0) return -1;
  json_t *value = json_object_get(b, "value"), *eof = json_object_get(b, "eof");
  if (value && json_is_true(eof)) return sl_api_fail(err, 400, "invalid_input", "give 'value' or 'eof', not both");
  if (json_is_true(eof)) {
    r->content = json_pack("{s:s}", "error", "input(): the client sent end of file");
  } else {
    if (!json_is_string(value) || json_string_length(value) > SL_SF_MAX_INPUT)
      return sl_api_fail(err, 400, "invalid_input", "'value' must be a string of at most %u bytes (or eof: true)",
                         SL_SF_MAX_INPUT);
    r->content = json_pack("{s:O}", "value", value);
  }
  return r->content ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}

/* A code request: the code route's fields, plus allow_stdin for this socket. */
static int parse_code(json_t *b, sl_sf_req_t *r, sl_api_err_t *err) {
  json_t *allow = json_incref(json_object_get(b, "allow_stdin"));
  json_object_del(b, "allow_stdin");
  int rc = -1;
  if (allow && !json_is_boolean(allow)) {
    sl_api_fail(err, 400, "invalid_request", "'allow_stdin' must be a boolean");
    goto out;
  }
  rc = sl_api_parse_code(b, &r->content, &r->timeout_ms, err);
  if (rc == 0 && json_is_true(allow)) json_object_set_new(r->content, "allow_stdin", json_true());
out:
  json_decref(allow);
  return rc;
}

int sl_sf_parse(const char *buf, size_t len, sl_sf_req_t *out, sl_api_err_t *err) {
  memset(out, 0, sizeof(*out));
  if (len > SL_SF_MAX_FRAME) return sl_api_fail(err, 400, "invalid_frame", "frame over %u bytes", SL_SF_MAX_FRAME);
  json_error_t je;
  json_t *b = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(b)) {
    json_decref(b);
    return sl_api_fail(err, 400, "invalid_frame", "a request is one JSON object: %.100s", b ? "not an object" : je.text);
  }
  int rc = -1;
  const char *type = json_string_value(json_object_get(b, "type"));
  json_t *idv = json_object_get(b, "id");
  if (!idv || take_id(idv, out->id) < 0) {
    out->id[0] = 0;
    sl_api_fail(err, 400, "invalid_id", "every request needs an 'id': a string of 1..%d bytes or an integer",
                SL_SF_ID_MAX);
    goto out;
  }
  size_t i = 0, n = sizeof(TYPES) / sizeof(TYPES[0]);
  while (type && i < n && strcmp(TYPES[i].name, type)) i++;
  if (!type || i == n) {
    sl_api_fail(err, 400, "invalid_type",
                "'type' must be one of code, exec, interrupt, process_start, stdin, signal, resize, watch, unwatch, "
                "input_reply");
    goto out;
  }
  out->type = TYPES[i].type;
  json_object_del(b, "type");
  json_object_del(b, "id");
  switch (out->type) {
    case SL_SF_CODE: rc = parse_code(b, out, err); break;
    case SL_SF_EXEC:
      rc = sl_api_parse_exec(b, &out->content, err);
      if (rc == 0) out->timeout_ms = (uint32_t)json_integer_value(json_object_get(out->content, "timeout_ms"));
      break;
    case SL_SF_INTERRUPT: rc = parse_interrupt(b, out, err); break;
    case SL_SF_PROC_START: rc = parse_proc_start(b, out, err); break;
    case SL_SF_STDIN: rc = parse_stdin(b, out, err); break;
    case SL_SF_SIGNAL: rc = parse_signal(b, out, err); break;
    case SL_SF_INPUT_REPLY: rc = parse_input_reply(b, out, err); break;
    case SL_SF_RESIZE: rc = parse_resize(b, out, err); break;
    case SL_SF_WATCH: rc = parse_watch(b, out, err); break;
    case SL_SF_UNWATCH: rc = parse_unwatch(b, out, err); break;
  }
  if (rc < 0) sl_sf_req_clear(out);
out:
  json_decref(b);
  return rc;
}

unsigned char *sl_sf_event(const char *type, const char *id, json_t *fields, size_t pre, size_t *len) {
  json_t *o = fields ? fields : json_object();
  if (!json_is_object(o)) {
    json_decref(o);
    return NULL;
  }
  json_object_set_new(o, "type", json_string(type));
  if (id && *id) json_object_set_new(o, "id", json_string(id));
  size_t n = 0;
  char *d = sl_api_dump(o, &n);
  json_decref(o);
  if (!d) return NULL;
  unsigned char *buf = malloc(pre + n + 1);
  if (buf) {
    memcpy(buf + pre, d, n + 1);
    *len = n;
  }
  free(d);
  return buf;
}

json_t *sl_sf_code_event(const char *msg_type, const json_t *content) {
  json_t *e = sl_api_code_stream_event(msg_type, content, 0);
  if (e) json_object_del(e, "timestamp");
  return e;
}
