/* handlers_packages.c — POST/GET /api/v1/sandboxes/{sb}/packages: pip (python) or npm (javascript) run
 * inside the sandbox as its user through sluice_exec_request with an argv (never a shell), into
 * SL_PKG_PYTHON_TARGET / SL_PKG_NODE_PREFIX, which the language contexts search from their start (the Python
 * driver invalidates the import caches before every cell; the JavaScript driver has the prefix's node_modules
 * on NODE_PATH and Node caches only successful lookups: a fresh install imports / requires without a restart).
 * The index comes from the gateway's config (package_index); installs are bounded by package_timeout_s.
 * A failed install answers 422 install_failed (504 install_timeout) with the tool's output (its tail). */
#include "gateway.h"
#include "handlers.h"
#include "http_util.h"

#include "sluice/api.h"
#include "sluice/api_packages.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKG_CONNECT_GRACE_MS 30000
#define PKG_LIST_TIMEOUT_MS 30000

typedef struct {
  sl_api_exec_acc_t *acc;
  sl_api_package_t pkg;
  int list;
} pkg_call_t;

static void pkg_free(void *p) {
  pkg_call_t *c = p;
  sl_api_exec_acc_free(&c->acc);
  free(c);
}

static const char *tool(const pkg_call_t *c) { return c->pkg.lang == SL_PKG_PYTHON ? "pip" : "npm"; }

static void pkg_event(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  pkg_call_t *c = call->data;
  if (strcmp(sl_msg_type(m), SL_OP_STREAM) != 0) return;
  json_t *text = json_object_get(m->content, "text");
  sl_api_exec_acc_stream(c->acc, json_string_value(json_object_get(m->content, "name")), json_string_value(text),
                         json_string_length(text));
}

/* session_reply_error bounds its message to 512 bytes; these carry the tool's output tail (≤ 16 KiB) */
static void __attribute__((format(printf, 4, 5))) reply_output_error(gw_session_t *s, int status, const char *code,
                                                                      const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (n < 0) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  session_reply_json(s, status, sl_api_envelope_error(code, msg));
  free(msg);
}

static void reply_install(gw_session_t *s, pkg_call_t *c, json_t *r) {
  const char *output = json_string_value(json_object_get(r, "output"));
  char *tail = sl_api_package_tail(output ? output : "");
  json_int_t code = json_integer_value(json_object_get(r, "exit_code"));
  const char *err = json_string_value(json_object_get(r, "error"));
  if (!tail) {
    session_reply_error(s, 500, "internal", "out of memory");
  } else if (json_is_true(json_object_get(r, "timed_out"))) {
    reply_output_error(s, 504, "install_timeout", "%s install %s timed out after %u s; output:\n%s", tool(c), c->pkg.name,
                        g_gw.cfg.package_timeout_s, tail);
  } else if (err || code != 0) {
    reply_output_error(s, 422, "install_failed", "%s install %s failed (exit %lld%s%s); output:\n%s", tool(c),
                        c->pkg.name, (long long)code, err ? ": " : "", err ? err : "", tail);
  } else {
    char *ver = c->pkg.version[0] ? strdup(c->pkg.version)
                : c->pkg.lang == SL_PKG_PYTHON ? sl_api_package_pip_version(tail, c->pkg.name) : NULL;
    session_reply_data(s, 200, json_pack("{s:s, s:s?, s:s}", "name", c->pkg.name, "version", ver, "output", tail));
    free(ver);
  }
  free(tail);
}

static void pkg_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  pkg_call_t *c = call->data;
  json_t *r = sl_api_exec_acc_finish(c->acc, m->content);
  if (call->s && !r) {
    session_reply_error(call->s, 500, "internal", "out of memory");
  } else if (call->s && c->list) {
    json_t *list = json_integer_value(json_object_get(r, "exit_code")) == 0
                       ? sl_api_package_list_parse(json_string_value(json_object_get(r, "stdout")))
                       : NULL;
    if (list) {
      session_reply_data(call->s, 200, list);
    } else {
      char *tail = sl_api_package_tail(json_string_value(json_object_get(r, "output")) ?: "");
      reply_output_error(call->s, 500, "list_failed", "listing the installed packages failed; output:\n%s",
                          tail ? tail : "");
      free(tail);
    }
  } else if (call->s) {
    reply_install(call->s, c, r);
  }
  json_decref(r);
  gw_call_finish(call);
}

static void pkg_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t PKG_H = {pkg_event, pkg_reply, pkg_fail};

/* runs argv (stolen) in sb as its user, answering through PKG_H */
static void run(gw_session_t *s, gw_sandbox_t *sb, pkg_call_t *c, json_t *argv, unsigned timeout_ms) {
  sl_api_err_t err;
  json_t *content = NULL;
  json_t *body = argv ? json_pack("{s:o, s:s, s:I}", "argv", argv, "cwd", "/home/user", "timeout_ms",
                                  (json_int_t)timeout_ms)
                      : NULL;
  c->acc = sl_api_exec_acc_new();
  if (!body || !c->acc || sl_api_parse_exec(body, &content, &err) < 0) {
    json_decref(body);
    pkg_free(c);
    session_reply_error(s, 500, "internal", "could not build the command");
    return;
  }
  json_decref(body);
  gw_call_t *call = gw_call_new(s, c, pkg_free);
  if (!call) {
    json_decref(content);
    pkg_free(c);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  if (zb_request(sb->id, SL_OP_EXEC_REQUEST, content, &PKG_H, call, timeout_ms + PKG_CONNECT_GRACE_MS) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}

void h_pkg_install(gw_session_t *s, json_t *body) {
  sl_api_err_t err;
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  pkg_call_t *c = calloc(1, sizeof(*c));
  if (!c) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  if (sl_api_parse_package(body, &c->pkg, &err) < 0) {
    free(c);
    session_reply_error(s, err.status, err.code, "%s", err.message);
    return;
  }
  const char *index = c->pkg.lang == SL_PKG_PYTHON ? g_gw.cfg.package_index_python : g_gw.cfg.package_index_javascript;
  run(s, sb, c, sl_api_package_install_argv(&c->pkg, index), g_gw.cfg.package_timeout_s * 1000u);
}

void h_pkg_list(gw_session_t *s, json_t *body) {
  (void)body;
  char lang[32] = "";
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  pkg_call_t *c = calloc(1, sizeof(*c));
  if (!c) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  c->list = 1;
  if (sl_api_package_lang(http_query_arg(s->wsi, "language", lang, sizeof(lang)) > 0 ? lang : NULL, &c->pkg.lang) <
      0) {
    free(c);
    session_reply_error(s, 400, "invalid_request", "'language' must be \"python\" or \"javascript\"");
    return;
  }
  run(s, sb, c, sl_api_package_list_argv(c->pkg.lang), PKG_LIST_TIMEOUT_MS);
}
