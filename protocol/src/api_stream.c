/* api_stream.c — the streamed forms of the exec and code routes (docs/API.md): server-sent events for
 * exec and E2B's NDJSON lines for code. Builds the bytes of one event; the gateway only queues them. */
#include "sluice/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "event: NAME\ndata: JSON\n\n". JSON has no raw newline (compact dump escapes them), so one data line. */
char *sl_api_sse_frame(const char *event, json_t *data, size_t *len) {
  size_t dlen = 0;
  char *d = data ? sl_api_dump(data, &dlen) : NULL;
  json_decref(data);
  if (!d) return NULL;
  size_t n = strlen(event) + dlen + 32;
  char *out = malloc(n);
  if (out) *len = (size_t)snprintf(out, n, "event: %s\ndata: %s\n\n", event, d);
  free(d);
  return out;
}

/* One NDJSON line: compact JSON + "\n". obj stolen. */
char *sl_api_ndjson_line(json_t *obj, size_t *len) {
  size_t n = 0;
  char *d = obj ? sl_api_dump(obj, &n) : NULL;
  json_decref(obj);
  if (!d) return NULL;
  char *out = realloc(d, n + 2);
  if (!out) {
    free(d);
    return NULL;
  }
  out[n] = '\n';
  out[n + 1] = 0;
  *len = n + 1;
  return out;
}

static json_t *error_obj(const json_t *c) {
  const json_t *tb = json_object_get(c, "traceback");
  json_t *joined;
  if (json_is_array(tb)) {
    size_t i, total = 0;
    json_t *line;
    json_array_foreach((json_t *)tb, i, line) total += json_string_length(line) + 1;
    char *s = malloc(total + 1), *p = s;
    if (!s) return NULL;
    json_array_foreach((json_t *)tb, i, line) {
      if (i) *p++ = '\n';
      memcpy(p, json_string_value(line) ? json_string_value(line) : "", json_string_length(line));
      p += json_string_length(line);
    }
    joined = json_stringn(s, (size_t)(p - s));
    free(s);
  } else {
    joined = json_string(json_string_value(tb) ? json_string_value(tb) : "");
  }
  return json_pack("{s:s, s:s, s:s, s:o}", "type", "error", "name",
                   json_string_value(json_object_get(c, "ename")) ?: "Error", "value",
                   json_string_value(json_object_get(c, "evalue")) ?: "", "traceback", joined ? joined : json_string(""));
}

json_t *sl_api_code_stream_event(const char *msg_type, const json_t *c, int64_t ts_ns) {
  if (strcmp(msg_type, "stream") == 0) {
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *text = json_object_get(c, "text");
    if (!name || !json_is_string(text)) return NULL;
    return json_pack("{s:s, s:O, s:I}", "type", strcmp(name, "stderr") == 0 ? "stderr" : "stdout", "text", text,
                     "timestamp", (json_int_t)ts_ns);
  }
  if (strcmp(msg_type, "execute_result") == 0 || strcmp(msg_type, "display_data") == 0 ||
      strcmp(msg_type, "update_display_data") == 0) {
    const json_t *data = json_object_get(c, "data");
    if (!json_is_object(data)) return NULL;
    json_t *r = sl_api_result_from_bundle(data, strcmp(msg_type, "execute_result") == 0);
    if (r) json_object_set_new(r, "type", json_string("result"));
    return r;
  }
  if (strcmp(msg_type, "error") == 0) return error_obj(c);
  return NULL; /* status, clear_output: nothing a streaming client acts on */
}

json_t *sl_api_code_stream_reply(const json_t *reply, int saw_error) {
  const char *status = json_string_value(json_object_get(reply, "status"));
  if (saw_error || !status || strcmp(status, "ok") == 0) return NULL;
  /* an error reply without an error event (e.g. aborted): still report it */
  json_t *c = json_deep_copy(reply);
  if (!c) return NULL;
  if (!json_object_get(c, "evalue")) json_object_set_new(c, "evalue", json_string(status));
  json_t *e = error_obj(c);
  json_decref(c);
  return e;
}
