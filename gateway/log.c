/* log.c — JSON log lines (log.h). */
#include "log.h"

#include "gateway.h"
#include "sluice/api.h"
#include "sluice/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_LINE 8192

static int g_fd = 2;

int log_open(const char *path) {
  if (!path) return 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  g_fd = fd;
  return 0;
}

void log_close(void) {
  if (g_fd > 2) close(g_fd);
  g_fd = 2;
}

static void emit(json_t *line) {
  struct timespec ts;
  struct tm tm;
  char t[40];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(t + n, sizeof(t) - n, ".%03ldZ", ts.tv_nsec / 1000000);
  json_object_set_new(line, "ts", json_string(t));
  char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
  if (!s) return;
  size_t len = strlen(s);
  if (len >= LOG_MAX_LINE) len = 0; /* never a torn line */
  if (len) {
    s[len] = '\n';
    ssize_t w = write(g_fd, s, len + 1);
    (void)w;
  }
  free(s);
}

void log_event(const char *event, const char *sandbox_id, const char *fmt, ...) {
  json_t *line = json_object(), *fields = NULL;
  if (!line) return;
  json_object_set_new(line, "ts", json_null()); /* first in the line */
  json_object_set_new(line, "event", json_string(event));
  if (sandbox_id) json_object_set_new(line, "sandbox_id", json_string(sandbox_id));
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    json_error_t je;
    fields = json_vpack_ex(&je, 0, fmt, ap);
    va_end(ap);
  }
  if (json_is_object(fields)) json_object_update(line, fields);
  json_decref(fields);
  emit(line);
  json_decref(line);
}

static const char *method_name(gw_method_t m) {
  switch (m) {
    case GW_M_GET: return "GET";
    case GW_M_POST: return "POST";
    case GW_M_PUT: return "PUT";
    case GW_M_DELETE: return "DELETE";
    case GW_M_HEAD: return "HEAD";
    default: return "OTHER";
  }
}

void log_request(const gw_session_t *s, double duration_ms, const char *route_class) {
  if (!g_gw.cfg.log_requests) return;
  size_t plen;
  char *path = sl_utf8_sanitize(s->path, strlen(s->path), &plen); /* a URI may hold any bytes */
  json_t *line = json_pack("{s:n, s:s, s:s, s:s, s:s?, s:i, s:f}", "ts", "event", "request", "method",
                           method_name(s->method), "route", route_class, "path", path, "status",
                           s->status ? s->status : (s->writer && !s->replied ? 200 : 0),
                           "duration_ms", (double)(long long)(duration_ms * 1000) / 1000.0);
  free(path);
  if (!line) return;
  if (s->sandbox_id[0]) json_object_set_new(line, "sandbox_id", json_string(s->sandbox_id));
  const char *kn = json_string_value(json_object_get(s->key, "name"));
  if (kn) json_object_set_new(line, "key", json_string(kn));
  if (s->err_code[0]) json_object_set_new(line, "error", json_string(s->err_code));
  emit(line);
  json_decref(line);
}
