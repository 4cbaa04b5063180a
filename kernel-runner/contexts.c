/* contexts.c — the interpreter contexts of one sandbox (contexts.h). */
#include "contexts.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rutil.h"

#define DEFAULT_ID "default"
#define STR_(v) #v
#define STR(v) STR_(v)
#define MAX_STR STR(SL_OP_MAX_CONTEXTS)

static void error_reply(sl_ctxs_t *x, const sl_msg_t *req, const char *code, const char *fmt, const char *arg) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, arg);
  sl_link_emit(x->env->link, SL_OP_ERROR_REPLY, req,
               json_pack("{s:s, s:s, s:s}", "status", "error", "code", code, "message", msg));
}

static sl_ctx_t *find(sl_ctxs_t *x, const char *id) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++)
    if (x->c[i].used && !strcmp(x->c[i].id, id)) return &x->c[i];
  return NULL;
}

static sl_ctx_t *add(sl_ctxs_t *x, const char *id, const char *language, const char *cwd) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++) {
    sl_ctx_t *c = &x->c[i];
    if (c->used) continue;
    memset(c, 0, sizeof *c);
    c->used = 1;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->language, sizeof c->language, "%s", language);
    snprintf(c->cwd, sizeof c->cwd, "%s", cwd ? cwd : x->env->cfg->workdir);
    sl_py_init(&c->t, x->env);
    c->t.language = c->language;
    c->t.cwd = c->cwd;
    return c;
  }
  return NULL;
}

static json_t *describe(const sl_ctx_t *c) {
  return json_pack("{s:s, s:s, s:s}", "id", c->id, "language", c->language, "cwd", c->cwd);
}

void sl_ctxs_init(sl_ctxs_t *x, const sl_target_env_t *env) {
  memset(x, 0, sizeof *x);
  x->env = env;
  add(x, DEFAULT_ID, "python", NULL);
}

void sl_ctxs_prestart(sl_ctxs_t *x) {
  sl_ctx_t *c = find(x, DEFAULT_ID);
  if (c) sl_py_prestart(&c->t);
}

/* The context an execute/interrupt/restart names; replies and returns NULL when there is none. */
static sl_ctx_t *named(sl_ctxs_t *x, const sl_msg_t *msg) {
  const char *id = json_string_value(json_object_get(msg->content, "context_id"));
  sl_ctx_t *c = find(x, id ? id : DEFAULT_ID);
  if (!c) error_reply(x, msg, "not_found", "no context '%.64s' in this sandbox", id ? id : DEFAULT_ID);
  return c;
}

void sl_ctxs_execute(sl_ctxs_t *x, sl_msg_t **msg) {
  const char *id = json_string_value(json_object_get((*msg)->content, "context_id"));
  const char *lang = json_string_value(json_object_get((*msg)->content, "language"));
  sl_ctx_t *c;
  if (id) {
    if (!(c = named(x, *msg))) return;
    if (lang && strcmp(lang, c->language)) {
      error_reply(x, *msg, "bad_request", "the context's language is %s", c->language);
      return;
    }
  } else if (!lang || !strcmp(lang, "python") || !sl_config_language_argv(x->env->cfg, lang)) {
    c = find(x, DEFAULT_ID); /* a language the image lacks: the Python context answers UnsupportedLanguage */
  } else {
    char did[SL_CTX_ID_MAX];
    snprintf(did, sizeof did, "default-%.32s", lang);
    if (!(c = find(x, did)) && !(c = add(x, did, lang, NULL))) {
      error_reply(x, *msg, "too_many", "a sandbox has at most %s contexts (the defaults included); delete one", MAX_STR);
      return;
    }
  }
  sl_py_request(&c->t, msg);
}

void sl_ctxs_introspect(sl_ctxs_t *x, sl_msg_t **msg) {
  sl_ctx_t *c = named(x, *msg);
  if (c) sl_py_introspect(&c->t, msg);
}

void sl_ctxs_stdin(sl_ctxs_t *x, const sl_msg_t *msg) {
  int delivered = 0;
  for (int i = 0; i < SL_OP_MAX_CONTEXTS && !delivered; i++)
    if (x->c[i].used) delivered = sl_py_stdin(&x->c[i].t, msg);
  sl_link_emit(x->env->link, SL_OP_STDIN_REPLY, msg, json_pack("{s:s, s:b}", "status", "ok", "delivered", delivered));
}

void sl_ctxs_interrupt(sl_ctxs_t *x, const sl_msg_t *msg) {
  sl_ctx_t *c = named(x, msg);
  if (!c) return;
  int running = sl_py_interrupt(&c->t);
  sl_link_emit(x->env->link, SL_OP_INTERRUPT_REPLY, msg, json_pack("{s:s, s:b}", "status", "ok", "interrupted", running));
}

void sl_ctxs_restart(sl_ctxs_t *x, const sl_msg_t *msg) {
  sl_ctx_t *c = named(x, msg);
  if (!c) return;
  sl_py_restart(&c->t, "the context was restarted");
  sl_link_emit(x->env->link, SL_OP_RESTART_REPLY, msg, json_pack("{s:s}", "status", "ok"));
}

/* cwd must be an existing directory as the sandbox sees it (init's root). */
static int cwd_ok(sl_ctxs_t *x, const char *cwd) {
  char path[SL_OP_MAX_PATH + 64];
  struct stat st;
  if (cwd[0] != '/') return 0;
  snprintf(path, sizeof path, "/proc/%d/root%s", (int)x->env->sb->init_pid, cwd);
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void create(sl_ctxs_t *x, const sl_msg_t *msg) {
  const char *lang = json_string_value(json_object_get(msg->content, "language"));
  const char *cwd = json_string_value(json_object_get(msg->content, "cwd"));
  char id[37], err[256] = "";
  if (!lang) lang = "python";
  if (!sl_config_language_argv(x->env->cfg, lang)) {
    error_reply(x, msg, "bad_request", "language '%.32s' is not available in this sandbox's image", lang);
    return;
  }
  if (cwd && !cwd_ok(x, cwd)) {
    error_reply(x, msg, "bad_request", "cwd '%.200s' is not a directory in the sandbox", cwd);
    return;
  }
  sl_uuid_str(id);
  sl_ctx_t *c = add(x, id, lang, cwd);
  if (!c) {
    error_reply(x, msg, "too_many", "a sandbox has at most %s contexts (the defaults included); delete one", MAX_STR);
    return;
  }
  if (sl_py_start(&c->t, err, sizeof err) < 0) {
    sl_py_shutdown(&c->t, err);
    c->used = 0;
    error_reply(x, msg, "internal", "the context could not start: %s", err);
    return;
  }
  sl_link_emit(x->env->link, SL_OP_CTX_REPLY, msg, json_pack("{s:s, s:o}", "status", "ok", "context", describe(c)));
}

void sl_ctxs_request(sl_ctxs_t *x, const sl_msg_t *msg) {
  const char *op = json_string_value(json_object_get(msg->content, "op"));
  if (!strcmp(op, "create")) {
    create(x, msg);
  } else if (!strcmp(op, "list")) {
    json_t *a = json_array();
    for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++)
      if (x->c[i].used) json_array_append_new(a, describe(&x->c[i]));
    sl_link_emit(x->env->link, SL_OP_CTX_REPLY, msg, json_pack("{s:s, s:o}", "status", "ok", "contexts", a));
  } else { /* delete */
    sl_ctx_t *c = named(x, msg);
    if (!c) return;
    if (!strcmp(c->id, DEFAULT_ID)) {
      error_reply(x, msg, "bad_request", "the %s context cannot be deleted; restart it instead", DEFAULT_ID);
      return;
    }
    sl_py_shutdown(&c->t, "the context was deleted");
    c->used = 0;
    sl_link_emit(x->env->link, SL_OP_CTX_REPLY, msg, json_pack("{s:s}", "status", "ok"));
  }
}

int sl_ctxs_pollfds(sl_ctxs_t *x, struct pollfd *pfd, int congested) {
  int n = 0;
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++) {
    sl_ctx_t *c = &x->c[i];
    c->pfd_at = n;
    c->pfd_n = c->used ? sl_py_pollfds(&c->t, pfd + n, congested) : 0;
    n += c->pfd_n;
  }
  return n;
}

void sl_ctxs_handle(sl_ctxs_t *x, const struct pollfd *pfd, int n) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++) {
    sl_ctx_t *c = &x->c[i];
    if (c->used && c->pfd_n && c->pfd_at + c->pfd_n <= n) sl_py_handle(&c->t, pfd + c->pfd_at, c->pfd_n);
    c->pfd_n = 0;
  }
}

int64_t sl_ctxs_deadline(const sl_ctxs_t *x) {
  int64_t t = 0;
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++) {
    int64_t d = x->c[i].used ? sl_py_deadline(&x->c[i].t) : 0;
    if (d && (!t || d < t)) t = d;
  }
  return t;
}

void sl_ctxs_tick(sl_ctxs_t *x, int64_t now) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++)
    if (x->c[i].used) sl_py_tick(&x->c[i].t, now);
}

void sl_ctxs_on_exited(sl_ctxs_t *x, pid_t ns_pid, int status) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++)
    if (x->c[i].used) sl_py_on_exited(&x->c[i].t, ns_pid, status);
}

void sl_ctxs_shutdown(sl_ctxs_t *x, const char *reason) {
  for (int i = 0; i < SL_OP_MAX_CONTEXTS; i++)
    if (x->c[i].used) sl_py_shutdown(&x->c[i].t, reason);
}
