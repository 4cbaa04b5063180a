/* driver.c — codecs for runner ⇄ driver events and supervisor ⇄ init control packets (driver.h). */
#include "sluice/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"
#include "sluice/util.h"

typedef int (*check_fn)(json_t *j, char *err, size_t errlen);

typedef struct {
  sl_shape_t shape; /* first: sl_shape_find relies on it */
  check_fn check;   /* semantic checks beyond the shape, may be NULL */
} row_t;

static int fail(char *err, size_t errlen, const char *msg) {
  snprintf(err, errlen, "%s", msg);
  return -1;
}

static int check_bundle(json_t *j, char *err, size_t errlen) {
  json_t *md = json_object_get(j, "metadata"), *t = json_object_get(j, "transient");
  if (!json_is_object(json_object_get(j, "data")) || (md && !json_is_object(md)) || (t && !json_is_object(t)))
    return fail(err, errlen, "data, metadata and transient must be objects");
  return 0;
}

static int check_error(json_t *j, char *err, size_t errlen) {
  return sl_json_is_string_array(json_object_get(j, "traceback"), 100000)
             ? 0
             : fail(err, errlen, "error: traceback must be an array of strings");
}

static int check_done(json_t *j, char *err, size_t errlen) {
  const char *st = json_string_value(json_object_get(j, "status"));
  return strcmp(st, "ok") == 0 || strcmp(st, "error") == 0 ? 0 : fail(err, errlen, "done: status must be ok or error");
}

static int check_input_reply(json_t *j, char *err, size_t errlen) {
  return !json_object_get(j, "value") != !json_object_get(j, "error")
             ? 0
             : fail(err, errlen, "input_reply: exactly one of value or error");
}

static int check_introspect_reply(json_t *j, char *err, size_t errlen) {
  return json_is_object(json_object_get(j, "reply")) ? 0 : fail(err, errlen, "introspect_reply: reply must be an object");
}

static int check_spawn(json_t *j, char *err, size_t errlen) {
  json_int_t fds = json_integer_value(json_object_get(j, "fds"));
  json_t *argv = json_object_get(j, "argv");
  if (!sl_json_is_string_array(argv, 4096) || !json_array_size(argv) ||
      !sl_json_is_string_array(json_object_get(j, "env"), 4096) || fds < 0 || fds > SL_CTL_MAX_FDS) {
    snprintf(err, errlen, "spawn: argv/env must be string arrays, fds within 0..%d", SL_CTL_MAX_FDS);
    return -1;
  }
  json_t *pty = json_object_get(j, "pty");
  if (pty) {
    json_int_t r = json_integer_value(json_object_get(pty, "rows")), c = json_integer_value(json_object_get(pty, "cols"));
    if (fds != 0 || r < 1 || r > 1000 || c < 1 || c > 1000) return fail(err, errlen, "spawn: pty needs fds 0 and rows, cols 1..1000");
  }
  return 0;
}

static int check_zygote_spawn(json_t *j, char *err, size_t errlen) {
  json_t *cg = json_object_get(j, "cgroups");
  json_int_t uid = json_integer_value(json_object_get(j, "uid")), gid = json_integer_value(json_object_get(j, "gid"));
  size_t i;
  json_t *v;
  if (!sl_json_is_string_array(json_object_get(j, "env"), 4096) || !sl_json_is_string_array(cg, SL_ZYGOTE_MAX_CGROUPS) ||
      !json_array_size(cg) || uid < 0 || uid > 65535 || gid < 0 || gid > 65535 ||
      json_integer_value(json_object_get(j, "caps")) < 0)
    return fail(err, errlen, "zygote_spawn: env/cgroups must be string arrays, uid/gid within 0..65535, caps >= 0");
  json_array_foreach(cg, i, v) {
    const char *p = json_string_value(v);
    if (p[0] != '/' || strstr(p, "/..") || strlen(p) >= 4000) return fail(err, errlen, "zygote_spawn: cgroups must be absolute paths without ..");
  }
  return 0;
}

/* Driver events (driver → runner), plus the runner's requests so a driver-side harness can use the
 * same parser. Open shapes: drivers may add fields later. */
static const row_t DRIVER_EVENTS[] = {
    {{"ready", "{s:s, s?s}", {"language", "version"}, 0}, NULL},
    {{"result", "{s:I, s:o, s?o, s?b, s?I}", {"id", "data", "metadata", "is_main_result", "execution_count"}, 0},
     check_bundle},
    {{"display", "{s:I, s:o, s?o, s?o, s?b}", {"id", "data", "metadata", "transient", "update"}, 0}, check_bundle},
    {{"clear_output", "{s:I, s?b}", {"id", "wait"}, 0}, NULL},
    {{"input_request", "{s:I, s:s, s?b}", {"id", "prompt", "password"}, 0}, NULL},
    {{"input_reply", "{s:I, s?s, s?s}", {"id", "value", "error"}, 0}, check_input_reply},
    {{"error", "{s:I, s:s, s:s, s:o}", {"id", "ename", "evalue", "traceback"}, 0}, check_error},
    {{"done", "{s:I, s:s, s?I}", {"id", "status", "execution_count"}, 0}, check_done},
    {{"execute", "{s:I, s:s, s?b, s?b}", {"id", "code", "silent", "store_history"}, 0}, NULL},
    {{"introspect", "{s:I, s:s, s:o}", {"id", "what", "args"}, 0}, NULL},
    {{"introspect_reply", "{s:I, s:o}", {"id", "reply"}, 0}, check_introspect_reply},
};

/* Control packets (both directions). Closed shapes: both ends are ours. */
static const row_t CTL[] = {
    {{"spawn", "{s:I, s:o, s:o, s:s, s:I, s?o}", {"tag", "argv", "env", "cwd", "fds", "pty"}, 1}, check_spawn},
    {{"signal", "{s:I, s:i, s?b}", {"pid", "signal", "group"}, 1}, NULL},
    {{"spawned", "{s:I, s:I, s?s}", {"tag", "pid", "error"}, 1}, NULL},
    {{"exited", "{s:I, s:i}", {"pid", "status"}, 1}, NULL},
    {{"zygote_spawn", "{s:I, s:I, s:I, s:s, s:o, s:o}", {"uid", "gid", "caps", "cwd", "env", "cgroups"}, 1},
     check_zygote_spawn},
    {{"zygote_spawned", "{s:I, s:I, s?s}", {"pid", "ns_pid", "error"}, 1}, NULL},
};

/* Replaces NUL in every string value by U+FFFD, the policy sl_utf8_sanitize applies to stream text.
 * A driver's JSON encoder writes "\u0000" for a NUL a user's code put into, say, an exception message;
 * refusing the line would restart the driver and lose the user's state, and keeping the NUL would let
 * it reach C strings and NUL-delimited records downstream. Recursion is bounded by jansson's parser
 * depth limit. Returns 0 or -1 (out of memory). */
static int scrub_nul(json_t *j) {
  size_t i;
  const char *k;
  json_t *v;
  if (json_is_string(j)) {
    const char *s = json_string_value(j);
    size_t len = json_string_length(j), olen;
    if (!memchr(s, 0, len)) return 0;
    char *clean = sl_utf8_sanitize(s, len, &olen);
    int rc = clean && json_string_setn_nocheck(j, clean, olen) == 0 ? 0 : -1;
    free(clean);
    return rc;
  }
  if (json_is_array(j)) {
    json_array_foreach(j, i, v) if (scrub_nul(v) < 0) return -1;
  } else if (json_is_object(j)) {
    json_object_foreach(j, k, v) if (scrub_nul(v) < 0) return -1;
  }
  return 0;
}

static json_t *parse(const char *buf, size_t len, const row_t *rows, size_t n, int allow_nul, char *err,
                     size_t errlen) {
  json_error_t e;
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | (allow_nul ? JSON_ALLOW_NUL : 0), &e);
  if (!j) {
    snprintf(err, errlen, "not JSON: %s", e.text);
    return NULL;
  }
  if (allow_nul && scrub_nul(j) < 0) {
    snprintf(err, errlen, "out of memory");
    goto bad;
  }
  const char *type = json_string_value(json_object_get(j, "type"));
  const row_t *r = type ? sl_shape_find(rows, n, sizeof(rows[0]), type) : NULL;
  if (!r) {
    snprintf(err, errlen, "missing or unknown \"type\"");
    goto bad;
  }
  /* the "type" key itself is not in the format: check a copy without it so strict shapes work */
  json_t *body = json_copy(j);
  if (!body) {
    snprintf(err, errlen, "out of memory");
    goto bad;
  }
  json_object_del(body, "type");
  int rc = sl_shape_check(body, &r->shape, err, errlen);
  json_decref(body);
  if (rc < 0 || (r->check && r->check(j, err, errlen) < 0)) goto bad;
  return j;
bad:
  json_decref(j);
  return NULL;
}

json_t *sl_driver_event_parse(const char *line, size_t len, char *err, size_t errlen) {
  if (len > SL_DRIVER_MAX_LINE) {
    snprintf(err, errlen, "line over %u bytes", SL_DRIVER_MAX_LINE);
    return NULL;
  }
  return parse(line, len, DRIVER_EVENTS, sizeof(DRIVER_EVENTS) / sizeof(DRIVER_EVENTS[0]), 1, err, errlen);
}

json_t *sl_ctl_parse(const char *pkt, size_t len, char *err, size_t errlen) {
  if (len > SL_CTL_MAX_PACKET) {
    snprintf(err, errlen, "packet over %u bytes", SL_CTL_MAX_PACKET);
    return NULL;
  }
  /* both ends are ours and argv/env/cwd become C strings: a NUL is a protocol error here */
  return parse(pkt, len, CTL, sizeof(CTL) / sizeof(CTL[0]), 0, err, errlen);
}
