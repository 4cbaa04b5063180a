/* pool.c — the warm pool (pool.h). */
#include "pool.h"

#include "culler.h"
#include "envfile.h"
#include "lifecycle.h"
#include "sluice/api.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static lws_sorted_usec_list_t g_sul;
static int g_running;
static char g_build_id[37];  /* the member being built or warmed; "" when none */
static int g_build_pending;  /* lc_create answered not yet */
static int64_t g_retry_at_ms;
static json_t *g_templates;  /* image → the validated record of a bare {"image": IMAGE} */

/* Fields a claim may set; any other difference from the template means the cold path. */
static const char *const CLAIMABLE[] = {"name", "namespace", "metadata", "timeout", "ttl_seconds", NULL};

static void tick_cb(lws_sorted_usec_list_t *sul);

static void schedule(unsigned ms) {
  if (g_running && g_gw.ctx) lws_sul_schedule(g_gw.ctx, 0, &g_sul, tick_cb, (lws_usec_t)ms * 1000);
}

static int is_member(const gw_sandbox_t *sb) { return sb->hidden && json_is_true(json_object_get(sb->rec, "pool_idle")); }
static int is_warm(const gw_sandbox_t *sb) {
  return json_is_true(json_object_get(sb->rec, "pool_warm")) && sb->connected && !sb->runner_dead && !sb->deleting &&
         strcmp(reg_status(sb), "running") == 0;
}

static unsigned pool_size(const char *image) {
  for (unsigned i = 0; i < g_gw.cfg.n_pool; i++)
    if (strcmp(g_gw.cfg.pool[i].image, image) == 0) return g_gw.cfg.pool[i].size;
  return 0;
}

/* The record a create of a bare {"image": image} produces, through the handler's own steps. */
static json_t *template_for(const char *image) {
  sl_api_err_t err;
  json_t *rec = NULL, *body = json_pack("{s:s}", "image", image);
  if (!body || sl_api_parse_create(body, &rec, &err) < 0 ||
      sl_api_check_lifetimes(body, rec, g_gw.cfg.max_timeout_s, &err) < 0 || gw_envfile_apply(rec, &err) < 0) {
    json_decref(rec);
    rec = NULL;
  }
  json_decref(body);
  return rec;
}

static json_t *strip(const json_t *rec) {
  json_t *c = json_deep_copy(rec);
  for (size_t i = 0; c && CLAIMABLE[i]; i++) json_object_del(c, CLAIMABLE[i]);
  return c;
}

static void build_over(int failed) {
  g_build_id[0] = 0;
  g_build_pending = 0;
  if (failed) g_retry_at_ms = culler_now_ms() + POOL_RETRY_MS;
  schedule(failed ? POOL_RETRY_MS : 1);
}

/* ---- warming: one trivial cell in the default context ---- */

static void warm_reply(void *ctx, const sl_msg_t *m) {
  gw_sandbox_t *sb = g_build_id[0] ? reg_find_id(g_build_id) : NULL;
  const char *st = json_string_value(json_object_get(m->content, "status"));
  if (!sb || sb->deleting || !is_member(sb)) {
    build_over(0);
    return;
  }
  if (!st || strcmp(st, "ok") != 0) {
    fprintf(stderr, "sluice-gateway: pool: warming %s failed (%s); deleting it\n", sb->id, st ? st : "?");
    lc_delete(sb, NULL, NULL);
    build_over(1);
    return;
  }
  json_object_set_new(sb->rec, "pool_warm", json_true());
  reg_persist(sb);
  build_over(0);
}

static void warm_fail(void *ctx, int status, const char *code, const char *message) {
  gw_sandbox_t *sb = g_build_id[0] ? reg_find_id(g_build_id) : NULL;
  fprintf(stderr, "sluice-gateway: pool: warming failed: %s\n", message ? message : "?");
  if (sb && !sb->deleting) lc_delete(sb, NULL, NULL);
  build_over(1);
}

static const zb_handlers_t WARM_H = {NULL, warm_reply, warm_fail};

static void built(void *ctx, gw_sandbox_t *sb, const char *err) {
  g_build_pending = 0;
  if (!sb) {
    fprintf(stderr, "sluice-gateway: pool: a build failed: %s\n", err ? err : "?");
    build_over(1);
    return;
  }
  if (!g_running) { /* shutting down: the member stays, warm or not, and is sorted out at the next start */
    g_build_id[0] = 0;
    return;
  }
  if (zb_request(sb->id, SL_OP_EXECUTE_REQUEST, json_pack("{s:s, s:b, s:b}", "code", "print(end='')", "silent", 0, "store_history", 0),
                 &WARM_H, NULL, POOL_WARM_TIMEOUT_MS) < 0) {
    lc_delete(sb, NULL, NULL);
    build_over(1);
  }
}

static int start_build(const char *image) {
  json_t *t = json_object_get(g_templates, image);
  json_t *rec = t ? json_deep_copy(t) : NULL;
  if (!rec) return -1;
  json_object_set_new(rec, "pool_idle", json_true());
  json_object_set_new(rec, "timeout", json_integer(0)); /* never idle-culled; the claim sets the timeout */
  json_t *keep = rec; /* lc_create steals rec; the registry keeps it as the member's record */
  g_build_pending = 1;
  int rc = lc_create(rec, built, &g_build_pending);
  if (rc < 0) {
    g_build_pending = 0;
    fprintf(stderr, "sluice-gateway: pool: cannot start a %s member: %s\n", image, strerror(-rc));
    return rc;
  }
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next)
    if (sb->rec == keep) snprintf(g_build_id, sizeof(g_build_id), "%s", sb->id);
  return 0;
}

/* ---- housekeeping ---- */

static void tick_cb(lws_sorted_usec_list_t *sul) {
  unsigned ready[GW_MAX_POOL_IMAGES] = {0}, building[GW_MAX_POOL_IMAGES] = {0};
  gw_sandbox_t *drop[64];
  size_t n = 0;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    if (!is_member(sb) || sb->deleting) continue;
    const char *image = reg_str(sb, "image");
    unsigned i;
    for (i = 0; i < g_gw.cfg.n_pool && strcmp(g_gw.cfg.pool[i].image, image) != 0; i++) {
    }
    int mine = strcmp(sb->id, g_build_id) == 0;
    int dead = sb->runner_dead || strcmp(reg_status(sb), "error") == 0;
    int warm = is_warm(sb);
    /* adopted after a restart before it was warmed, dead, or beyond the configured size: out */
    int unwarmed_orphan = !mine && !json_is_true(json_object_get(sb->rec, "pool_warm"));
    int excess = i == g_gw.cfg.n_pool || ready[i] + building[i] >= g_gw.cfg.pool[i].size;
    if ((dead || unwarmed_orphan || excess) && n < sizeof(drop) / sizeof(drop[0])) {
      drop[n++] = sb;
      continue;
    }
    if (warm)
      ready[i]++;
    else
      building[i]++;
  }
  for (size_t k = 0; k < n; k++) {
    fprintf(stderr, "sluice-gateway: pool: dropping member %s\n", drop[k]->id);
    if (strcmp(drop[k]->id, g_build_id) == 0) g_build_id[0] = 0;
    lc_delete(drop[k], NULL, NULL);
  }
  if (!g_build_id[0] && !g_build_pending && culler_now_ms() >= g_retry_at_ms && reg_count() < g_gw.cfg.max_sandboxes)
    for (unsigned i = 0; i < g_gw.cfg.n_pool; i++)
      if (ready[i] + building[i] < g_gw.cfg.pool[i].size) {
        if (start_build(g_gw.cfg.pool[i].image) < 0) g_retry_at_ms = culler_now_ms() + POOL_RETRY_MS;
        break;
      }
  schedule(POOL_TICK_MS);
}

void pool_start(void) {
  unsigned total = 0;
  for (unsigned i = 0; i < g_gw.cfg.n_pool; i++) total += g_gw.cfg.pool[i].size;
  int members = 0;
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) members |= is_member(sb);
  if (!total && !members) return;
  g_templates = json_object();
  for (unsigned i = 0; i < g_gw.cfg.n_pool; i++) {
    json_t *t = g_gw.cfg.pool[i].size ? template_for(g_gw.cfg.pool[i].image) : NULL;
    if (t) json_object_set_new(g_templates, g_gw.cfg.pool[i].image, t);
  }
  g_running = 1;
  schedule(1);
}

void pool_stop(void) {
  if (g_running && g_gw.ctx) lws_sul_cancel(&g_sul);
  g_running = 0;
  json_decref(g_templates);
  g_templates = NULL;
}

gw_sandbox_t *pool_claim(const json_t *req) {
  const char *image = json_string_value(json_object_get(req, "image"));
  json_t *t = image && g_running ? json_object_get(g_templates, image) : NULL;
  if (!t || !pool_size(image)) return NULL;
  json_t *a = strip(req), *b = strip(t);
  int fits = a && b && json_equal(a, b);
  json_decref(a);
  json_decref(b);
  if (!fits) return NULL;
  gw_sandbox_t *sb;
  for (sb = reg_first(); sb; sb = sb->next)
    if (is_member(sb) && is_warm(sb) && strcmp(reg_str(sb, "image"), image) == 0) break;
  if (!sb) return NULL;
  json_t *rec = json_deep_copy(sb->rec);
  if (!rec) return NULL;
  for (size_t i = 0; CLAIMABLE[i]; i++) {
    json_t *v = json_object_get(req, CLAIMABLE[i]);
    if (v)
      json_object_set(rec, CLAIMABLE[i], v);
    else if (strcmp(CLAIMABLE[i], "name") != 0) /* unnamed: the member's own sb-<id> name stays */
      json_object_del(rec, CLAIMABLE[i]);
  }
  char created[32];
  time_t now = time(NULL);
  sl_api_time_str(now, created);
  json_object_set_new(rec, "created_at", json_integer((json_int_t)now));
  json_object_set_new(rec, "created_at_rfc3339", json_string(created));
  json_object_set_new(rec, "last_active_ms", json_integer((json_int_t)culler_now_ms()));
  json_object_set_new(rec, "pooled", json_true());
  json_object_del(rec, "pool_idle");
  json_object_del(rec, "pool_warm");
  json_t *old = sb->rec;
  sb->rec = rec;
  if (reg_persist(sb) < 0) {
    sb->rec = old;
    json_decref(rec);
    return NULL;
  }
  json_decref(old);
  sb->hidden = 0;
  sb->active_saved_ms = 0;
  culler_touch(sb);
  schedule(POOL_REFILL_DELAY_MS); /* refill, after the claimed sandbox's first requests */
  return sb;
}

json_t *pool_status(void) {
  if (!g_running) return NULL;
  json_t *out = json_object();
  for (unsigned i = 0; i < g_gw.cfg.n_pool; i++) {
    unsigned ready = 0, building = 0;
    for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
      if (!is_member(sb) || sb->deleting || strcmp(reg_str(sb, "image"), g_gw.cfg.pool[i].image) != 0) continue;
      if (is_warm(sb))
        ready++;
      else
        building++;
    }
    json_object_set_new(out, g_gw.cfg.pool[i].image,
                        json_pack("{s:I, s:I, s:I}", "size", (json_int_t)g_gw.cfg.pool[i].size, "ready",
                                  (json_int_t)ready, "building", (json_int_t)building));
  }
  return out;
}
