/* api_output.c — collects runner events into the exec result and the code Execution (docs/API.md),
 * keeping at most the documented caps; the rest is counted and dropped. */
#include "sluice/api.h"
#include "sluice/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *data;
  size_t len, cap, max;
  int cut;
} capbuf_t;

/* Appends as much of text as fits under max, never splitting a UTF-8 sequence. */
static int capbuf_add(capbuf_t *b, const char *text, size_t len) {
  size_t room = b->max - b->len;
  size_t take = len;
  if (take > room) {
    take = sl_utf8_complete_prefix(text, room);
    b->cut = 1;
  }
  if (!take) return 0;
  if (b->len + take + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + take + 1) ncap *= 2;
    char *n = realloc(b->data, ncap);
    if (!n) return -ENOMEM;
    b->data = n;
    b->cap = ncap;
  }
  memcpy(b->data + b->len, text, take);
  b->len += take;
  b->data[b->len] = 0;
  return 0;
}

static json_t *capbuf_json(const capbuf_t *b) { return json_stringn(b->data ? b->data : "", b->len); }

struct sl_api_exec_acc {
  capbuf_t out, err, all;
};

sl_api_exec_acc_t *sl_api_exec_acc_new(void) {
  sl_api_exec_acc_t *a = calloc(1, sizeof(*a));
  if (!a) return NULL;
  a->out.max = a->err.max = SL_API_MAX_STREAM_BYTES;
  a->all.max = SL_API_MAX_OUTPUT_BYTES;
  return a;
}

void sl_api_exec_acc_free(sl_api_exec_acc_t **ap) {
  if (!ap || !*ap) return;
  free((*ap)->out.data);
  free((*ap)->err.data);
  free((*ap)->all.data);
  free(*ap);
  *ap = NULL;
}

int sl_api_exec_acc_stream(sl_api_exec_acc_t *a, const char *name, const char *text, size_t len) {
  capbuf_t *b = strcmp(name, "stderr") == 0 ? &a->err : &a->out;
  int rc = capbuf_add(b, text, len);
  if (rc == 0) rc = capbuf_add(&a->all, text, len);
  return rc;
}

json_t *sl_api_exec_acc_finish(sl_api_exec_acc_t *a, const json_t *reply) {
  json_t *exit_code = json_object_get(reply, "exit_code");
  json_t *cwd = json_object_get(reply, "cwd");
  json_t *dur = json_object_get(reply, "duration_ms");
  json_t *r = json_pack("{s:I, s:o, s:o, s:o, s:O, s:b, s:I}", "exit_code",
                        json_is_integer(exit_code) ? json_integer_value(exit_code) : (json_int_t)-1, "stdout",
                        capbuf_json(&a->out), "stderr", capbuf_json(&a->err), "output", capbuf_json(&a->all), "cwd",
                        json_is_string(cwd) ? cwd : json_null(), "truncated", a->out.cut || a->err.cut || a->all.cut,
                        "duration_ms", json_integer_value(dur));
  json_t *e = json_object_get(reply, "error");
  if (r && json_is_string(e)) json_object_set(r, "error", e);
  json_t *to = json_object_get(reply, "timed_out");
  if (r && json_is_true(to)) json_object_set_new(r, "timed_out", json_true());
  return r;
}

/* ---- code ---- */

struct sl_api_code_acc {
  json_t *results;         /* array */
  json_t *stdout_chunks;   /* array of strings */
  json_t *stderr_chunks;
  size_t stdout_bytes, stderr_bytes, result_bytes;
  json_t *display_ids;     /* parallel to results: transient.display_id or null */
  int clear_pending;       /* clear_output(wait=true): clear when the next output arrives */
  json_t *error;           /* {name, value, traceback} or NULL */
  char *main_text;
  int truncated;
};

sl_api_code_acc_t *sl_api_code_acc_new(void) {
  sl_api_code_acc_t *a = calloc(1, sizeof(*a));
  if (!a) return NULL;
  a->results = json_array();
  a->stdout_chunks = json_array();
  a->stderr_chunks = json_array();
  a->display_ids = json_array();
  if (!a->results || !a->stdout_chunks || !a->stderr_chunks || !a->display_ids) sl_api_code_acc_free(&a);
  return a;
}

void sl_api_code_acc_free(sl_api_code_acc_t **ap) {
  if (!ap || !*ap) return;
  sl_api_code_acc_t *a = *ap;
  json_decref(a->results);
  json_decref(a->stdout_chunks);
  json_decref(a->stderr_chunks);
  json_decref(a->display_ids);
  json_decref(a->error);
  free(a->main_text);
  free(a);
  *ap = NULL;
}

static const struct {
  const char *mime, *field;
} MIME_FIELDS[] = {
    {"text/plain", "text"},         {"text/html", "html"},           {"text/markdown", "markdown"},
    {"image/svg+xml", "svg"},       {"image/png", "png"},            {"image/jpeg", "jpeg"},
    {"application/pdf", "pdf"},     {"text/latex", "latex"},         {"application/json", "json"},
    {"application/javascript", "javascript"},
};

json_t *sl_api_result_from_bundle(const json_t *data, int is_main_result) {
  json_t *r = json_object();
  json_t *extra = json_object();
  if (!r || !extra) goto fail;
  const char *mime;
  json_t *v;
  json_object_foreach((json_t *)data, mime, v) {
    const char *field = NULL;
    for (size_t i = 0; i < sizeof(MIME_FIELDS) / sizeof(MIME_FIELDS[0]); i++)
      if (strcmp(MIME_FIELDS[i].mime, mime) == 0) field = MIME_FIELDS[i].field;
    /* Jupyter allows multi-line strings as arrays of lines; the API gives one string */
    json_t *val = NULL;
    if (json_is_array(v) && strcmp(mime, "application/json") != 0) {
      size_t i;
      json_t *line;
      size_t total = 0;
      json_array_foreach(v, i, line) total += json_string_length(line);
      char *joined = malloc(total + 1);
      if (!joined) goto fail;
      size_t off = 0;
      json_array_foreach(v, i, line) {
        memcpy(joined + off, json_string_value(line) ? json_string_value(line) : "", json_string_length(line));
        off += json_string_length(line);
      }
      val = json_stringn(joined, off);
      free(joined);
    } else {
      val = json_deep_copy(v);
    }
    if (!val) goto fail;
    if (field)
      json_object_set_new(r, field, val);
    else
      json_object_set_new(extra, mime, val);
  }
  json_object_set_new(r, "is_main_result", json_boolean(is_main_result));
  if (json_object_size(extra))
    json_object_set_new(r, "extra", extra);
  else
    json_decref(extra);
  return r;
fail:
  json_decref(r);
  json_decref(extra);
  return NULL;
}

static size_t bundle_bytes(const json_t *data) {
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)data, k, v) n += strlen(k) + (json_is_string(v) ? json_string_length(v) : 64);
  return n;
}

static char *join_traceback(const json_t *tb) {
  if (json_is_string(tb)) return strdup(json_string_value(tb));
  size_t total = 1, i;
  json_t *line;
  json_array_foreach((json_t *)tb, i, line) total += json_string_length(line) + 1;
  char *s = malloc(total);
  if (!s) return NULL;
  size_t off = 0;
  json_array_foreach((json_t *)tb, i, line) {
    if (i) s[off++] = '\n';
    memcpy(s + off, json_string_value(line) ? json_string_value(line) : "", json_string_length(line));
    off += json_string_length(line);
  }
  s[off] = 0;
  return s;
}

/* Jupyter's clear_output: what the cell showed so far goes (the main result and logs stay, as the
 * Execution reports the whole run's output streams). */
static void clear_outputs(sl_api_code_acc_t *a) {
  for (size_t i = json_array_size(a->results); i-- > 0;) {
    if (json_is_true(json_object_get(json_array_get(a->results, i), "is_main_result"))) continue;
    json_array_remove(a->results, i);
    json_array_remove(a->display_ids, i);
  }
  a->clear_pending = 0;
}

static const char *display_id_of(const json_t *c) {
  return json_string_value(json_object_get(json_object_get(c, "transient"), "display_id"));
}

int sl_api_code_acc_event(sl_api_code_acc_t *a, const char *type, const json_t *c) {
  if (strcmp(type, "clear_output") == 0) {
    if (json_is_true(json_object_get(c, "wait")))
      a->clear_pending = 1;
    else
      clear_outputs(a);
    return 0;
  }
  if (a->clear_pending && (strcmp(type, "stream") == 0 || strcmp(type, "display_data") == 0 ||
                           strcmp(type, "execute_result") == 0))
    clear_outputs(a);
  if (strcmp(type, "update_display_data") == 0) {
    const char *id = display_id_of(c);
    const json_t *data = json_object_get(c, "data");
    if (!id || !json_is_object(data)) return 0;
    for (size_t i = 0; i < json_array_size(a->display_ids); i++) {
      const char *have = json_string_value(json_array_get(a->display_ids, i));
      if (!have || strcmp(have, id) != 0) continue;
      json_t *r = sl_api_result_from_bundle(data, 0);
      if (!r) return -ENOMEM;
      json_array_set_new(a->results, i, r);
    }
    return 0;
  }
  if (strcmp(type, "stream") == 0) {
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *text = json_object_get(c, "text");
    if (!name || !json_is_string(text)) return -EINVAL;
    int err = strcmp(name, "stderr") == 0;
    size_t *bytes = err ? &a->stderr_bytes : &a->stdout_bytes;
    json_t *chunks = err ? a->stderr_chunks : a->stdout_chunks;
    size_t len = json_string_length(text);
    if (*bytes + len > SL_API_MAX_STREAM_BYTES || json_array_size(chunks) >= SL_API_MAX_LOG_CHUNKS) {
      a->truncated = 1;
      size_t room = SL_API_MAX_STREAM_BYTES > *bytes ? SL_API_MAX_STREAM_BYTES - *bytes : 0;
      room = sl_utf8_complete_prefix(json_string_value(text), room < len ? room : len);
      if (!room || json_array_size(chunks) >= SL_API_MAX_LOG_CHUNKS) return 0;
      *bytes += room;
      return json_array_append_new(chunks, json_stringn(json_string_value(text), room)) ? -ENOMEM : 0;
    }
    *bytes += len;
    return json_array_append(chunks, text) ? -ENOMEM : 0;
  }
  if (strcmp(type, "execute_result") == 0 || strcmp(type, "display_data") == 0) {
    const json_t *data = json_object_get(c, "data");
    if (!json_is_object(data)) return -EINVAL;
    size_t n = bundle_bytes(data);
    if (a->result_bytes + n > SL_API_MAX_RESULT_BYTES || json_array_size(a->results) >= SL_API_MAX_RESULTS) {
      a->truncated = 1;
      return 0;
    }
    int main_result = strcmp(type, "execute_result") == 0;
    json_t *r = sl_api_result_from_bundle(data, main_result);
    if (!r) return -ENOMEM;
    a->result_bytes += n;
    const char *did = display_id_of(c);
    json_array_append_new(a->display_ids, did ? json_string(did) : json_null());
    if (main_result) {
      const char *text = json_string_value(json_object_get(r, "text"));
      free(a->main_text);
      a->main_text = text ? strdup(text) : NULL;
    }
    return json_array_append_new(a->results, r) ? -ENOMEM : 0;
  }
  if (strcmp(type, "error") == 0) {
    char *tb = join_traceback(json_object_get(c, "traceback"));
    json_decref(a->error);
    a->error = json_pack("{s:s, s:s, s:s}", "name", json_string_value(json_object_get(c, "ename")) ?: "Error",
                         "value", json_string_value(json_object_get(c, "evalue")) ?: "", "traceback", tb ? tb : "");
    free(tb);
    return a->error ? 0 : -ENOMEM;
  }
  return 0; /* status and anything else: not part of the Execution */
}

json_t *sl_api_code_acc_finish(sl_api_code_acc_t *a, const json_t *reply) {
  const char *status = json_string_value(json_object_get(reply, "status"));
  if (!a->error && status && strcmp(status, "ok") != 0) {
    /* an error reply without an error event (e.g. aborted): still report it */
    char *tb = join_traceback(json_object_get(reply, "traceback"));
    a->error = json_pack("{s:s, s:s, s:s}", "name", json_string_value(json_object_get(reply, "ename")) ?: "Error",
                         "value", json_string_value(json_object_get(reply, "evalue")) ?: status, "traceback",
                         tb ? tb : "");
    free(tb);
  }
  json_t *e = json_pack("{s:O, s:{s:O, s:O}, s:O, s:I, s:o}", "results", a->results, "logs", "stdout",
                        a->stdout_chunks, "stderr", a->stderr_chunks, "error", a->error ? a->error : json_null(),
                        "execution_count", json_integer_value(json_object_get(reply, "execution_count")), "text",
                        a->main_text ? json_string(a->main_text) : json_null());
  if (json_is_true(json_object_get(reply, "truncated"))) a->truncated = 1; /* the runner cut the cell's output */
  if (e && a->truncated) {
    /* visible where a reader looks, whatever the caps kept (the chunk cap may be reached: one over it) */
    json_array_append_new(json_object_get(json_object_get(e, "logs"), "stderr"),
                          json_string("\n[sluice: output truncated: the execution printed more than this response "
                                      "keeps]\n"));
    json_object_set_new(e, "truncated", json_true());
  }
  return e;
}

int sl_api_fs_status(const char *code) {
  static const struct {
    const char *code;
    int status;
  } MAP[] = {{"not_found", 404}, {"forbidden", 403}, {"bad_request", 400}, {"conflict", 409},
             {"no_space", 507},  {"too_many", 429},  {"sandbox_gone", 502}};
  for (size_t i = 0; code && i < sizeof(MAP) / sizeof(MAP[0]); i++)
    if (!strcmp(code, MAP[i].code)) return MAP[i].status;
  return 500;
}
