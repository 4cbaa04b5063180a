/* handlers_ops.c — operations routes: GET /api/v1/status, GET /api/v1/images, GET /metrics (Prometheus
 * text, behind an API key like every route but /health), POST /api/v1/sandboxes/{sb}/timeout.
 *
 * Ownership: replies are built here and handed to the session (stolen); nothing outlives a call.
 */
#include "handlers.h"

#include "culler.h"
#include "metrics.h"
#include "pool.h"
#include "zygote.h"
#include "sluice/api.h"
#include "stream_resp.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif
#define OPS_MAX_IMAGES 256
#define OPS_MAX_IMAGE_JSON (1u << 20)

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The images under images_dir (dirs with an image.json), sorted by name: a new array of objects,
 * or of names when names_only. */
static json_t *images_list(int names_only) {
  json_t *out = json_array();
  char *names[OPS_MAX_IMAGES];
  size_t n = 0;
  DIR *d = opendir(g_gw.cfg.images_dir);
  if (!d || !out) {
    if (d) closedir(d);
    return out;
  }
  struct dirent *e;
  while ((e = readdir(d)) && n < OPS_MAX_IMAGES) {
    if (!sl_api_image_name_valid(e->d_name)) continue;
    names[n] = strdup(e->d_name);
    if (names[n]) n++;
  }
  closedir(d);
  qsort(names, n, sizeof(names[0]), cmp_str);
  for (size_t i = 0; i < n; i++) {
    char p[PATH_MAX];
    struct stat st;
    json_error_t je;
    if (snprintf(p, sizeof(p), "%s/%s/image.json", g_gw.cfg.images_dir, names[i]) < (int)sizeof(p) &&
        stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t)OPS_MAX_IMAGE_JSON) {
      json_t *img = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
      if (json_is_object(img))
        json_array_append_new(out, names_only ? json_string(names[i]) : sl_api_image_view(names[i], img));
      json_decref(img);
    }
    free(names[i]);
  }
  return out;
}

void h_images(gw_session_t *s, json_t *body) { session_reply_data(s, 200, images_list(0)); }

void h_status(gw_session_t *s, json_t *body) {
  static const char *const NAMES[] = {"starting", "running", "error", "stopped"};
  size_t counts[4] = {0}, total = 0;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    if (sb->hidden || sb->deleting) continue;
    total++;
    for (size_t i = 0; i < 4; i++)
      if (strcmp(reg_status(sb), NAMES[i]) == 0) counts[i]++;
  }
  json_t *images = images_list(1);
  sl_api_status_t st = {SLUICE_VERSION, total, g_gw.cfg.max_sandboxes, NAMES, counts, 4, images,
                        metrics_started_at(), metrics_uptime_s()};
  json_t *view = sl_api_status_view(&st), *pool = pool_status();
  if (view && pool) json_object_set_new(view, "pool", pool); /* {"IMAGE": {size, ready, building}} (pool.h) */
  else json_decref(pool);
  json_t *zy = zygote_status(); /* {"IMAGE": {state, pid, starts}} (zygote.h) */
  if (view && zy) json_object_set_new(view, "zygote", zy);
  else json_decref(zy);
  /* the effective settings (config file < environment < flags; protocol/docs/config.md) and what is in use */
  json_t *cap = json_object_get(view, "capacity");
  if (cap) {
    json_object_set_new(cap, "max_sandboxes_per_namespace", json_integer(g_gw.cfg.max_sandboxes_per_namespace));
    json_object_set_new(cap, "max_executions", json_integer(g_gw.cfg.max_executions));
    json_object_set_new(cap, "executions_in_flight", json_integer(handlers_exec_inflight()));
  }
  if (view) json_object_set_new(view, "config", gw_config_view(&g_gw.cfg));
  session_reply_data(s, 200, view);
  json_decref(images);
}

void h_metrics(gw_session_t *s, json_t *body) {
  size_t len = 0;
  char *text = metrics_render(&len);
  if (!text) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  if (gw_stream_begin(s, "text/plain; version=0.0.4; charset=utf-8", NULL, NULL) < 0) {
    free(text);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  gw_stream_push_owned(s, text, len, 0);
  gw_stream_end(s);
}

void h_sb_timeout(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  uint32_t timeout_s = 0;
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb) return;
  if (sl_api_parse_timeout(body, g_gw.cfg.max_timeout_s, &timeout_s, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  if (culler_set_timeout(sb, timeout_s) < 0) {
    session_reply_error(s, 500, "internal", "cannot save the sandbox's record");
    return;
  }
  session_reply_data(s, 200, sl_api_sandbox_view(sb->rec, time(NULL)));
}
