/* jupyter_rest.c — the Kernel Gateway "jupyter-websocket" REST routes (jupyter.h): /api,
 * /api/kernelspecs[/{name}], /kernelspecs/{name}/{file}, /api/kernels[/{id}[/interrupt|/restart]].
 * A kernel is a sandbox of the python image with one context; its id is the sandbox id. Errors are
 * {"reason", "message"} (GW_RF_JUPYTER routes). */
#include "handlers.h"

#include "jupyter.h"
#include "lifecycle.h"
#include "sluice/api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

#define JP_API_VERSION "3.0.1"

void h_jp_api(gw_session_t *s, json_t *body) {
  session_reply_json(s, 200, json_pack("{s:s}", "version", JP_API_VERSION));
}

void h_jp_specs(gw_session_t *s, json_t *body) { session_reply_json(s, 200, sl_jk_specs("")); }

void h_jp_spec(gw_session_t *s, json_t *body) {
  json_t *spec = sl_jk_spec(s->match.params[0], "");
  if (spec)
    session_reply_json(s, 200, spec);
  else
    session_reply_error(s, 404, "Not Found", "Kernel spec %.64s not found", s->match.params[0]);
}

static int file_name_ok(const char *f) {
  if (!*f || f[0] == '.') return 0;
  for (; *f; f++)
    if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') || (*f >= '0' && *f <= '9') || *f == '-' ||
          *f == '_' || *f == '.'))
      return 0;
  return 1;
}

/* <exe dir>/../share/sluice/kernelspecs when installed, else the source tree's gateway/kernelspecs. */
static int spec_file_path(const char *name, const char *file, char *out, size_t len) {
  char exe[PATH_MAX];
  struct stat st;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    if (snprintf(out, len, "%s/../share/sluice/kernelspecs/%s/%s", exe, name, file) < (int)len && stat(out, &st) == 0 &&
        S_ISREG(st.st_mode))
      return 0;
  }
  if (snprintf(out, len, "%s/gateway/kernelspecs/%s/%s", SLUICE_SOURCE_DIR, name, file) >= (int)len) return -1;
  return stat(out, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

void h_jp_spec_file(gw_session_t *s, json_t *body) {
  const char *name = s->match.params[0], *file = s->match.params[1];
  char path[PATH_MAX];
  if (!sl_jk_spec_language(name) || !file_name_ok(file) || spec_file_path(name, file, path, sizeof(path)) < 0) {
    session_reply_error(s, 404, "Not Found", "no resource %.64s for kernel spec %.64s", file, name);
    return;
  }
  const char *dot = strrchr(file, '.');
  const char *type = !dot ? "application/octet-stream"
                     : strcmp(dot, ".png") == 0 ? "image/png"
                     : strcmp(dot, ".svg") == 0 ? "image/svg+xml"
                     : strcmp(dot, ".js") == 0 ? "application/javascript"
                     : strcmp(dot, ".json") == 0 ? "application/json"
                                                 : "application/octet-stream";
  /* lws sends the file (and its headers) from the loop; the session has no reply of its own */
  s->dispatched = 1;
  int rc = lws_serve_http_file(s->wsi, path, type, NULL, 0);
  if (rc < 0) lws_callback_on_writable(s->wsi);
}

/* ---- kernels ---- */

static int is_kernel(const gw_sandbox_t *sb) { return json_is_object(json_object_get(sb->rec, "jupyter")); }

static json_t *model_of(gw_sandbox_t *sb) {
  jk_kernel_t *k = jk_find(sb->id);
  const char *state = k ? k->state : sb->connected ? "idle" : "starting";
  if (strcmp(reg_status(sb), "error") == 0 || sb->runner_dead) state = "dead";
  int64_t t = k ? k->last_activity_us
                : (int64_t)json_integer_value(json_object_get(sb->rec, "created_at")) * 1000000;
  return sl_jk_kernel_model(sb->id, jk_kernel_name(sb), t, state, k ? k->n_conns : 0);
}

/* The kernel named by {id} (ids only), or NULL after a 404/403. */
static gw_sandbox_t *kernel_sandbox(gw_session_t *s) {
  gw_sandbox_t *sb = reg_find_id(s->match.params[0]);
  if (!sb || sb->hidden || sb->deleting) {
    session_reply_error(s, 404, "Not Found", "Kernel does not exist: %.64s", s->match.params[0]);
    return NULL;
  }
  return session_check_ns(s, reg_str(sb, "namespace")) ? sb : NULL;
}

void h_jp_kernels(gw_session_t *s, json_t *body) {
  json_t *arr = json_array();
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    if (sb->hidden || sb->deleting || !is_kernel(sb)) continue;
    if (s->key && !gw_key_allows_ns(s->key, reg_str(sb, "namespace"))) continue;
    json_array_append_new(arr, model_of(sb));
  }
  session_reply_json(s, 200, arr);
}

void h_jp_kernel_get(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = kernel_sandbox(s);
  if (sb) session_reply_json(s, 200, model_of(sb));
}

static void create_done(void *ctx, gw_sandbox_t *sb, const char *err) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  if (s) {
    if (sb) {
      jk_get(sb);
      snprintf(s->location, sizeof(s->location), "/api/kernels/%s", sb->id);
      session_reply_json(s, 201, model_of(sb));
    } else {
      session_reply_error(s, 500, "Internal Server Error", "%s", err ? err : "the kernel failed to start");
    }
  }
  gw_call_finish(call);
}

void h_jp_kernel_create(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  const char *kname = NULL;
  json_t *env = NULL, *rec = NULL, *req = NULL;
  if (s->body_len) {
    req = sl_api_parse_body(s->body, s->body_len, &err);
    if (!req) {
      session_reply_error(s, 400, "Bad Request", "%s", err.message);
      return;
    }
  }
  if (sl_jk_parse_create(req, &kname, &env, &err) < 0) {
    session_reply_error(s, err.status, err.status == 404 ? "Not Found" : "Bad Request", "%s", err.message);
    goto out;
  }
  json_t *create = json_pack("{s:s, s:s, s:o}", "image", "python", "namespace", session_ns(s), "env", env);
  env = NULL;
  int rc = sl_api_parse_create(create, &rec, &err);
  json_decref(create);
  if (rc < 0) {
    session_reply_error(s, err.status, "Bad Request", "%s", err.message);
    goto out;
  }
  if (!session_check_ns(s, session_ns(s))) goto out;
  if (reg_count() >= g_gw.cfg.max_sandboxes) {
    session_reply_error(s, 403, "Forbidden", "the gateway runs its maximum of %u kernels", g_gw.cfg.max_sandboxes);
    goto out;
  }
  /* created here by an authenticated caller: its channels may be opened with the id alone (jupyter_ws.c) */
  json_object_set_new(rec, "jupyter", json_pack("{s:s, s:b}", "kernel_name", kname, "open_channels", 1));
  gw_call_t *call = gw_call_new(s, NULL, NULL);
  if (!call) {
    session_reply_error(s, 500, "Internal Server Error", "out of memory");
    goto out;
  }
  rc = lc_create(rec, create_done, call);
  rec = NULL;
  if (rc < 0) {
    gw_call_finish(call);
    session_reply_error(s, rc == -ENOSPC ? 403 : 500, rc == -ENOSPC ? "Forbidden" : "Internal Server Error",
                        "cannot start the kernel: %s", strerror(-rc));
  }
out:
  json_decref(req);
  json_decref(env);
  json_decref(rec);
}

static void delete_done(void *ctx, const char *name, const char *err) {
  gw_call_t *call = ctx;
  if (call->s) {
    if (err)
      session_reply_error(call->s, 500, "Internal Server Error", "%s", err);
    else
      session_reply_json(call->s, 204, json_object());
  }
  gw_call_finish(call);
}

void h_jp_kernel_delete(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = kernel_sandbox(s);
  if (!sb) return;
  jk_forget(sb->id, 1);
  gw_call_t *call = gw_call_new(s, NULL, NULL);
  if (!call) {
    session_reply_error(s, 500, "Internal Server Error", "out of memory");
    return;
  }
  if (lc_delete(sb, delete_done, call) < 0) {
    gw_call_finish(call);
    session_reply_json(s, 204, json_object()); /* already being deleted: DELETE is idempotent */
  }
}

static void control_done(void *ctx, int ok) {
  gw_call_t *call = ctx;
  gw_session_t *s = call->s;
  if (s) {
    gw_sandbox_t *sb = reg_find_id(s->match.params[0]);
    if (!ok)
      session_reply_error(s, 500, "Internal Server Error", "the kernel did not answer");
    else if (s->match.route->id == GW_R_JP_KERNEL_RESTART && sb)
      session_reply_json(s, 200, model_of(sb));
    else
      session_reply_json(s, 204, json_object());
  }
  gw_call_finish(call);
}

static void control(gw_session_t *s, int restart) {
  gw_sandbox_t *sb = kernel_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  jk_kernel_t *k = jk_get(sb);
  gw_call_t *call = k ? gw_call_new(s, NULL, NULL) : NULL;
  if (!call) {
    session_reply_error(s, 500, "Internal Server Error", "out of memory");
    return;
  }
  if ((restart ? jr_restart(k, NULL, NULL, control_done, call) : jr_interrupt(k, control_done, call)) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 500, "Internal Server Error", "out of memory");
  }
}

void h_jp_kernel_interrupt(gw_session_t *s, json_t *body) { control(s, 0); }
void h_jp_kernel_restart(gw_session_t *s, json_t *body) { control(s, 1); }

void h_jp_channels(gw_session_t *s, json_t *body) {
  session_reply_error(s, 400, "Bad Request", "this route takes a websocket upgrade");
}
