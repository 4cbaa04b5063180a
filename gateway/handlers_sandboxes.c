/* handlers_sandboxes.c — create, list, get, delete, delete-all. */
#include "handlers.h"

#include "envfile.h"
#include "lifecycle.h"
#include "pool.h"
#include "workspaces.h"
#include "sluice/api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static json_t *view_of(gw_sandbox_t *sb) { return sl_api_sandbox_view(sb->rec, time(NULL)); }

void h_sb_list(gw_session_t *s, json_t *body) {
  json_t *arr = json_array();
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    const char *ns = reg_str(sb, "namespace");
    if (sb->hidden || sb->deleting) continue;
    if (s->has_ns_query && strcmp(ns, s->ns_query) != 0) continue;
    if (s->key && !gw_key_allows_ns(s->key, ns)) continue;
    json_array_append_new(arr, view_of(sb));
  }
  session_reply_data(s, 200, arr);
}

void h_sb_get(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (sb) session_reply_data(s, 200, view_of(sb));
}

static void create_done(void *ctx, gw_sandbox_t *sb, const char *err) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  if (s) {
    if (sb) {
      snprintf(s->location, sizeof(s->location), "/api/v1/sandboxes/%s", sb->id);
      snprintf(s->sandbox_id, sizeof(s->sandbox_id), "%s", sb->id);
      session_reply_data(s, 201, view_of(sb));
    } else {
      session_reply_error(s, 500, "sandbox_failed", "%s", err ? err : "the sandbox failed to start");
    }
  }
  gw_call_finish(call);
}

static int image_known(const char *image) {
  char p[PATH_MAX];
  struct stat st;
  if (snprintf(p, sizeof(p), "%s/%s/image.json", g_gw.cfg.images_dir, image) >= (int)sizeof(p)) return 0;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void h_sb_create(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  json_t *rec = NULL;
  if (sl_api_parse_create(body, &rec, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  if (!json_object_get(body, "timeout")) json_object_set_new(rec, "timeout", json_integer(g_gw.cfg.default_timeout_s));
  if (sl_api_check_lifetimes(body, rec, g_gw.cfg.max_timeout_s, &err) < 0 || gw_envfile_apply(rec, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
    json_decref(rec);
    return;
  }
  const char *ns = json_string_value(json_object_get(rec, "namespace"));
  const char *name = json_string_value(json_object_get(rec, "name"));
  const char *image = json_string_value(json_object_get(rec, "image"));
  if (!session_check_ns(s, ns)) goto out;
  if (!image_known(image)) {
    session_reply_error(s, 400, "unknown_image", "no image '%s'", image);
    goto out;
  }
  if (name && reg_find_name(name, ns)) {
    session_reply_error(s, 409, "name_taken", "a sandbox named '%s' exists in namespace '%s'", name, ns);
    goto out;
  }
  if (!handlers_check_capacity(s, ns, 0)) goto out;
  gw_sandbox_t *warm = pool_claim(rec); /* a warm-pool member when the request fits one (pool.h) */
  if (warm) {
    snprintf(s->location, sizeof(s->location), "/api/v1/sandboxes/%s", warm->id);
    snprintf(s->sandbox_id, sizeof(s->sandbox_id), "%s", warm->id);
    session_reply_data(s, 201, view_of(warm));
    goto out;
  }
  if (!handlers_check_capacity(s, ns, 1)) goto out;
  if (ws_attach(rec, &err) < 0) { /* last: it writes the workspace's record */
    session_reply_error(s, err.status, err.code, "%s", err.message);
    goto out;
  }
  gw_call_t *call = gw_call_new(s, NULL, NULL);
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    goto out;
  }
  int rc = lc_create(rec, create_done, call);
  rec = NULL;
  if (rc < 0) {
    gw_call_finish(call);
    h_reply_create_failed(s, rc);
  }
out:
  json_decref(rec);
}

void h_reply_create_failed(gw_session_t *s, int rc) {
  if (rc == -ENOSPC)
    session_reply_error(s, 429, "capacity", "no free uid range for another sandbox");
  else
    session_reply_error(s, 500, "sandbox_failed", "cannot start the sandbox: %s", strerror(-rc));
}

static void delete_done(void *ctx, const char *name, const char *err) {
  gw_call_t *call = ctx;
  if (call->s) {
    if (err)
      session_reply_error(call->s, 500, "delete_failed", "%s", err);
    else
      session_reply_data(call->s, 200, json_pack("{s:s+}", "message", "deleted sandbox ", name));
  }
  gw_call_finish(call);
}

void h_sb_delete(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb) return;
  gw_call_t *call = gw_call_new(s, NULL, NULL);
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  int rc = lc_delete(sb, delete_done, call);
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, 409, "busy", "the sandbox is being deleted");
  }
}

static void delete_all_done(void *ctx, const char *name, const char *err) {
  gw_call_t *call = ctx;
  json_t *results = call->data;
  json_array_append_new(results, json_pack("{s:s, s:b, s:s?}", "name", name, "success", err == NULL, "error", err));
  if (call->refs == 1 && call->s) {
    char msg[128];
    snprintf(msg, sizeof(msg), "deleted %zu sandboxes", json_array_size(results));
    session_reply_data(call->s, 200, json_pack("{s:s, s:O}", "message", msg, "results", results));
  }
  gw_call_finish(call);
}

static void decref_data(void *d) { json_decref(d); }

void h_sb_delete_all(gw_session_t *s, json_t *body) {
  const char *ns = session_ns(s);
  if (!session_check_ns(s, ns)) return;
  json_t *results = json_array();
  gw_call_t *call = gw_call_new(s, results, decref_data);
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  /* collect first: a delete may finish (and unlink its sandbox) before the loop moves on */
  gw_sandbox_t *victims[GW_MAX_SLOTS > 4096 ? 4096 : GW_MAX_SLOTS];
  size_t n = 0;
  for (gw_sandbox_t *sb = reg_first(); sb && n < sizeof(victims) / sizeof(victims[0]); sb = sb->next)
    if (!sb->hidden && !sb->deleting && strcmp(reg_str(sb, "namespace"), ns) == 0) victims[n++] = sb;
  call->refs += (int)n;
  for (size_t i = 0; i < n; i++) {
    if (lc_delete(victims[i], delete_all_done, call) < 0)
      delete_all_done(call, reg_str(victims[i], "name"), "the sandbox is busy being deleted");
  }
  if (call->s) {
    /* the extra reference held across the loop: drop it through the same path so the reply goes out
     * when every delete finished (or at once when there was nothing to delete) */
    if (call->refs == 1) {
      char msg[64];
      snprintf(msg, sizeof(msg), "deleted %zu sandboxes", json_array_size(results));
      session_reply_data(s, 200, json_pack("{s:s, s:O}", "message", msg, "results", results));
    }
  }
  gw_call_finish(call);
}
