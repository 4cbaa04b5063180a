/* metrics.c — counters and the Prometheus text exposition (metrics.h). */
#include "metrics.h"

#include "config.h"
#include "gateway.h"
#include "handlers.h"
#include "registry.h"
#include "zmq_bridge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLASS_LEN METRICS_CLASS_LEN

typedef struct {
  char cls[CLASS_LEN];
  int status;
  uint64_t n;
} series_t;

static const double BUCKETS[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_BUCKETS (sizeof(BUCKETS) / sizeof(BUCKETS[0]))
static const double REQ_BUCKETS[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_REQ_BUCKETS (sizeof(REQ_BUCKETS) / sizeof(REQ_BUCKETS[0]))

typedef struct {
  char cls[CLASS_LEN];
  uint64_t b[N_REQ_BUCKETS]; /* per bucket; cumulated at render time */
  uint64_t count;
  double sum;
} lat_t;

typedef struct {
  char code[40];
  uint64_t n;
} code_t;

static struct {
  time_t started;
  struct timespec mono0;
  series_t series[METRICS_MAX_SERIES];
  size_t n_series;
  uint64_t creates, create_failures, deletes, runner_deaths, culled_idle, culled_ttl;
  uint64_t exec_exec, exec_code, exec_run;
  uint64_t hist[N_BUCKETS]; /* cumulative at render time, per bucket here */
  uint64_t hist_count;
  double hist_sum;
  lat_t lat[METRICS_MAX_CLASSES];
  size_t n_lat;
  code_t codes[METRICS_MAX_CODES];
  size_t n_codes;
  uint64_t bytes_out;
} M;

void metrics_start(void) {
  M.started = time(NULL);
  clock_gettime(CLOCK_MONOTONIC, &M.mono0);
}

time_t metrics_started_at(void) { return M.started; }

int64_t metrics_uptime_s(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - M.mono0.tv_sec);
}

void metrics_route_class(const char *pattern, char *out, size_t len) {
  const char *cls = "unmatched";
  char seg[CLASS_LEN];
  if (pattern) {
    const char *p = pattern;
    if (strncmp(p, "/api/v1/sandboxes/{sb}/", 23) == 0) {
      p += 23;
      size_t n = strcspn(p, "/");
      if (n >= sizeof(seg)) n = sizeof(seg) - 1;
      memcpy(seg, p, n);
      seg[n] = 0;
      cls = seg;
    } else if (strncmp(p, "/api/v1/sandboxes", 17) == 0) {
      cls = "sandboxes";
    } else if (strncmp(p, "/api/v1/", 8) == 0) {
      p += 8;
      size_t n = strcspn(p, "/");
      if (n >= sizeof(seg)) n = sizeof(seg) - 1;
      memcpy(seg, p, n);
      seg[n] = 0;
      cls = seg;
    } else if (strncmp(p, "/api", 4) == 0 || strncmp(p, "/kernelspecs", 12) == 0) {
      cls = "jupyter";
    } else {
      cls = p[0] == '/' && p[1] ? p + 1 : "other";
    }
  }
  snprintf(out, len, "%s", cls);
}

static series_t *series_get(const char *cls, int status, int may_add) {
  for (size_t i = 0; i < M.n_series; i++)
    if (M.series[i].status == status && strcmp(M.series[i].cls, cls) == 0) return &M.series[i];
  if (!may_add || M.n_series == METRICS_MAX_SERIES) return NULL;
  series_t *x = &M.series[M.n_series++];
  snprintf(x->cls, sizeof(x->cls), "%s", cls);
  x->status = status;
  return x;
}

static lat_t *lat_get(const char *cls) {
  for (size_t i = 0; i < M.n_lat; i++)
    if (strcmp(M.lat[i].cls, cls) == 0) return &M.lat[i];
  if (M.n_lat == METRICS_MAX_CLASSES) return lat_get("other");
  lat_t *l = &M.lat[M.n_lat++];
  /* the last slot is kept for the catch-all */
  snprintf(l->cls, sizeof(l->cls), "%s", M.n_lat == METRICS_MAX_CLASSES ? "other" : cls);
  return l;
}

static void count_code(const char *code) {
  size_t i;
  for (i = 0; i < M.n_codes; i++)
    if (strcmp(M.codes[i].code, code) == 0) break;
  if (i == M.n_codes) {
    if (M.n_codes == METRICS_MAX_CODES) {
      if (strcmp(code, "other") != 0) count_code("other");
      return;
    }
    snprintf(M.codes[M.n_codes].code, sizeof(M.codes[0].code), "%s", M.n_codes == METRICS_MAX_CODES - 1 ? "other" : code);
    i = M.n_codes++;
  }
  M.codes[i].n++;
}

void metrics_bytes_out(size_t n) { M.bytes_out += n; }

void metrics_request(const gw_session_t *s, const char *cls, double ms) {
  lat_t *l = lat_get(cls);
  double sec = ms / 1000.0;
  l->count++;
  l->sum += sec;
  for (size_t i = 0; i < N_REQ_BUCKETS; i++)
    if (sec <= REQ_BUCKETS[i]) {
      l->b[i]++;
      break;
    }
  if (s->err_code[0]) count_code(s->err_code);
  int status = s->status ? s->status : (s->writer && !s->replied ? 200 : 0);
  if (strcmp(cls, "exec") == 0) M.exec_exec++;
  else if (strcmp(cls, "code") == 0) M.exec_code++;
  else if (strcmp(cls, "run") == 0) M.exec_run++;
  /* the last slot is kept for the catch-all series */
  series_t *x = series_get(cls, status, M.n_series < METRICS_MAX_SERIES - 1);
  if (!x) x = series_get("other", 0, 1);
  if (x) x->n++;
}

void metrics_create_done(int64_t elapsed_ms) {
  double s = (double)elapsed_ms / 1000.0;
  M.creates++;
  M.hist_count++;
  M.hist_sum += s;
  for (size_t i = 0; i < N_BUCKETS; i++)
    if (s <= BUCKETS[i]) {
      M.hist[i]++;
      break;
    }
}

void metrics_create_failed(void) { M.create_failures++; }
void metrics_deleted(void) { M.deletes++; }
void metrics_runner_died(void) { M.runner_deaths++; }
void metrics_culled(const char *why) {
  if (why && strcmp(why, "ttl") == 0)
    M.culled_ttl++;
  else
    M.culled_idle++;
}

uint64_t metrics_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "re");
  unsigned long long size = 0, rss = 0;
  if (!f) return 0;
  int ok = fscanf(f, "%llu %llu", &size, &rss) == 2;
  fclose(f);
  long page = sysconf(_SC_PAGESIZE);
  return ok && page > 0 ? (uint64_t)rss * (uint64_t)page : 0;
}

/* ---- exposition ---- */

typedef struct {
  char *buf;
  size_t len, cap;
  int failed;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...) {
  if (o->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->failed = 1;
      return;
    }
    if ((size_t)n < o->cap - o->len) {
      o->len += (size_t)n;
      return;
    }
    size_t cap = o->cap * 2;
    if (cap > METRICS_MAX_TEXT) cap = METRICS_MAX_TEXT;
    if (cap <= o->cap) {
      o->failed = 1;
      return;
    }
    char *nb = realloc(o->buf, cap);
    if (!nb) {
      o->failed = 1;
      return;
    }
    o->buf = nb;
    o->cap = cap;
  }
}

static void counter(out_t *o, const char *name, const char *help, uint64_t v) {
  put(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(out_t *o, const char *name, const char *help, double v) {
  put(o, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

char *metrics_render(size_t *len) {
  static const char *const STATUSES[] = {"starting", "running", "error", "stopped"};
  size_t by[5] = {0};
  out_t o = {malloc(16384), 0, 16384, 0};
  if (!o.buf) return NULL;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    if (sb->hidden) continue;
    if (sb->deleting) {
      by[4]++;
      continue;
    }
    for (size_t i = 0; i < 4; i++)
      if (strcmp(reg_status(sb), STATUSES[i]) == 0) by[i]++;
  }
  put(&o, "# HELP sluice_sandboxes Sandboxes known to the gateway, by status.\n# TYPE sluice_sandboxes gauge\n");
  for (size_t i = 0; i < 4; i++) put(&o, "sluice_sandboxes{status=\"%s\"} %zu\n", STATUSES[i], by[i]);
  put(&o, "sluice_sandboxes{status=\"deleting\"} %zu\n", by[4]);
  gauge(&o, "sluice_sandboxes_max", "The configured maximum number of sandboxes.", g_gw.cfg.max_sandboxes);
  counter(&o, "sluice_sandbox_creates_total", "Sandboxes that became ready.", M.creates);
  counter(&o, "sluice_sandbox_deletes_total", "Sandboxes deleted (by request, timeout or failure cleanup).", M.deletes);
  put(&o, "# HELP sluice_sandbox_errors_total Sandbox failures.\n# TYPE sluice_sandbox_errors_total counter\n"
          "sluice_sandbox_errors_total{kind=\"create_failed\"} %llu\n"
          "sluice_sandbox_errors_total{kind=\"runner_died\"} %llu\n",
      (unsigned long long)M.create_failures, (unsigned long long)M.runner_deaths);
  put(&o, "# HELP sluice_sandbox_culled_total Sandboxes deleted by the gateway for inactivity or lifetime.\n"
          "# TYPE sluice_sandbox_culled_total counter\n"
          "sluice_sandbox_culled_total{reason=\"idle\"} %llu\nsluice_sandbox_culled_total{reason=\"ttl\"} %llu\n",
      (unsigned long long)M.culled_idle, (unsigned long long)M.culled_ttl);
  put(&o, "# HELP sluice_sandbox_create_seconds Time from a create to the sandbox being ready.\n"
          "# TYPE sluice_sandbox_create_seconds histogram\n");
  uint64_t cum = 0;
  for (size_t i = 0; i < N_BUCKETS; i++) {
    cum += M.hist[i];
    put(&o, "sluice_sandbox_create_seconds_bucket{le=\"%g\"} %llu\n", BUCKETS[i], (unsigned long long)cum);
  }
  put(&o, "sluice_sandbox_create_seconds_bucket{le=\"+Inf\"} %llu\nsluice_sandbox_create_seconds_sum %.6f\n"
          "sluice_sandbox_create_seconds_count %llu\n",
      (unsigned long long)M.hist_count, M.hist_sum, (unsigned long long)M.hist_count);
  put(&o, "# HELP sluice_executions_total Executions requested over REST, by kind.\n"
          "# TYPE sluice_executions_total counter\n"
          "sluice_executions_total{kind=\"exec\"} %llu\nsluice_executions_total{kind=\"code\"} %llu\n"
          "sluice_executions_total{kind=\"run\"} %llu\n",
      (unsigned long long)M.exec_exec, (unsigned long long)M.exec_code, (unsigned long long)M.exec_run);
  put(&o, "# HELP sluice_http_requests_total HTTP requests answered, by route class and status (0: the client "
          "left first).\n# TYPE sluice_http_requests_total counter\n");
  for (size_t i = 0; i < M.n_series; i++)
    put(&o, "sluice_http_requests_total{class=\"%s\",status=\"%d\"} %llu\n", M.series[i].cls, M.series[i].status,
        (unsigned long long)M.series[i].n);
  put(&o, "# HELP sluice_http_request_duration_seconds Time from a request's headers to its end, by route class.\n"
          "# TYPE sluice_http_request_duration_seconds histogram\n");
  for (size_t k = 0; k < M.n_lat; k++) {
    const lat_t *l = &M.lat[k];
    uint64_t c = 0;
    for (size_t i = 0; i < N_REQ_BUCKETS; i++) {
      c += l->b[i];
      put(&o, "sluice_http_request_duration_seconds_bucket{class=\"%s\",le=\"%g\"} %llu\n", l->cls, REQ_BUCKETS[i],
          (unsigned long long)c);
    }
    put(&o, "sluice_http_request_duration_seconds_bucket{class=\"%s\",le=\"+Inf\"} %llu\n"
            "sluice_http_request_duration_seconds_sum{class=\"%s\"} %.6f\n"
            "sluice_http_request_duration_seconds_count{class=\"%s\"} %llu\n",
        l->cls, (unsigned long long)l->count, l->cls, l->sum, l->cls, (unsigned long long)l->count);
  }
  put(&o, "# HELP sluice_http_errors_total Error replies, by error code.\n# TYPE sluice_http_errors_total counter\n");
  for (size_t i = 0; i < M.n_codes; i++)
    put(&o, "sluice_http_errors_total{code=\"%s\"} %llu\n", M.codes[i].code, (unsigned long long)M.codes[i].n);
  counter(&o, "sluice_http_response_bytes_total", "Bytes of replies written to HTTP clients (buffered and streamed).",
          M.bytes_out);
  gauge(&o, "sluice_executions_in_flight", "code/exec/run requests being served.", (double)handlers_exec_inflight());
  gauge(&o, "sluice_executions_max", "The configured max_executions (0: unbounded).", (double)g_gw.cfg.max_executions);
  gauge(&o, "sluice_runner_requests_pending", "Requests to runners awaiting their reply.", (double)zb_pending_count());
  gauge(&o, "process_resident_memory_bytes", "Resident memory of the gateway process.", (double)metrics_rss_bytes());
  gauge(&o, "process_start_time_seconds", "Start time of the gateway (Unix seconds).", (double)M.started);
  gauge(&o, "sluice_uptime_seconds", "Seconds since the gateway started.", (double)metrics_uptime_s());
  if (o.failed) {
    free(o.buf);
    return NULL;
  }
  *len = o.len;
  return o.buf;
}
