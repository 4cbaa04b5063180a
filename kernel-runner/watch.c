/* watch.c — watches relayed from helpers inside the sandbox (watch.h). */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rutil.h"
#include "sluice/ops.h"
#include "watchhelper.h"

struct sl_watcher {
  int used;
  sl_msg_t *req;     /* the start request (owned): events and the final reply name it */
  pid_t ns_pid, host_pid;
  int exited;
  int out_r;         /* the helper's fd 1 (records) */
  char *buf;         /* bytes of a record not complete yet (≤ SL_WATCHES_MAX_LINE) */
  size_t len;
  json_t *error;     /* the helper's {"ok": false, code, message} */
};

int sl_watches_init(sl_watches_t *ws, const sl_target_env_t *env) {
  memset(ws, 0, sizeof *ws);
  ws->env = env;
  ws->w = calloc(SL_WATCHES_MAX, sizeof *ws->w);
  return ws->w ? 0 : -ENOMEM;
}

static void reply(sl_watches_t *ws, sl_msg_t **req, const char *code, const char *message) {
  json_t *c = code ? json_pack("{s:s, s:s, s:s}", "status", "error", "code", code, "message", message)
                   : json_pack("{s:s}", "status", "ok");
  sl_link_emit(ws->env->link, SL_OP_WATCH_REPLY, *req, c);
  sl_msg_free(req);
}

/* Ends a watch: the helper killed, its start answered (error: the helper's, or code/message). */
static void end(sl_watches_t *ws, sl_watcher_t *w, const char *code, const char *message) {
  if (!w->exited && w->host_pid > 0) kill(-w->host_pid, SIGKILL); /* its own session: the group is it */
  if (w->out_r >= 0) close(w->out_r);
  if (w->req) {
    if (!code && w->error)
      reply(ws, &w->req, json_string_value(json_object_get(w->error, "code")) ?: "internal",
            json_string_value(json_object_get(w->error, "message")) ?: "the watch failed");
    else
      reply(ws, &w->req, code, message);
  }
  json_decref(w->error);
  free(w->buf);
  memset(w, 0, sizeof *w);
  w->out_r = -1;
}

static int spawn(sl_watches_t *ws, sl_watcher_t *w, json_t *c, char *err, size_t errlen) {
  int out[2] = {-1, -1}, rc = -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  json_t *arg = json_pack("{s:O, s:b}", "path", json_object_get(c, "path"), "recursive",
                          json_is_true(json_object_get(c, "recursive")));
  char *text = arg ? json_dumps(arg, JSON_COMPACT) : NULL;
  json_decref(arg);
  json_t *argv = text ? json_pack("[s, s]", SL_WATCH_ARGV0, text) : NULL, *env = json_array();
  free(text);
  memset(w, 0, sizeof *w);
  w->out_r = -1;
  if (devnull < 0 || !argv || !env || pipe2(out, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "pipes: %s", strerror(errno));
    goto out;
  }
  /* a bigger pipe absorbs a burst (about 10k records) before the helper blocks (best effort) */
  fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
  int fds[3] = {devnull, out[1], devnull};
  const char *cwd = ws->env->cfg->workdir ? ws->env->cfg->workdir : "/";
  if (sl_sandbox_spawn(ws->env->sb, argv, env, cwd, fds, 3, &w->ns_pid, &w->host_pid, ws->env->on_exited, ws->env->ud,
                       err, errlen) < 0)
    goto out;
  w->used = 1;
  w->out_r = out[0];
  out[0] = -1;
  fcntl(w->out_r, F_SETFL, O_NONBLOCK);
  rc = 0;
out:
  if (out[0] >= 0) close(out[0]);
  if (out[1] >= 0) close(out[1]);
  if (devnull >= 0) close(devnull);
  json_decref(argv);
  json_decref(env);
  return rc;
}

static sl_watcher_t *by_msg_id(sl_watches_t *ws, const char *id) {
  for (int i = 0; ws->w && i < SL_WATCHES_MAX; i++)
    if (ws->w[i].used && ws->w[i].req && !strcmp(sl_msg_id(ws->w[i].req), id)) return &ws->w[i];
  return NULL;
}

void sl_watches_request(sl_watches_t *ws, sl_msg_t **msg) {
  json_t *c = (*msg)->content;
  char err[256] = "";
  if (!ws->w) return reply(ws, msg, "sandbox_gone", "the sandbox is shutting down");
  if (!strcmp(json_string_value(json_object_get(c, "op")), "stop")) {
    sl_watcher_t *w = by_msg_id(ws, json_string_value(json_object_get(c, "msg_id")));
    if (!w) return reply(ws, msg, "not_found", "no such watch");
    end(ws, w, NULL, NULL);
    return reply(ws, msg, NULL, NULL);
  }
  sl_watcher_t *w = NULL;
  for (int i = 0; i < SL_WATCHES_MAX && !w; i++)
    if (!ws->w[i].used) w = &ws->w[i];
  if (!w) return reply(ws, msg, "too_many", "at most 32 watches per sandbox");
  if (spawn(ws, w, c, err, sizeof err) < 0) return reply(ws, msg, "internal", err);
  w->req = *msg;
  *msg = NULL;
}

/* One complete record from the helper. */
static void on_record(sl_watches_t *ws, sl_watcher_t *w, const char *line, size_t n) {
  json_t *rec = json_loadb(line, n, 0, NULL);
  if (!json_is_object(rec)) {
    json_decref(rec);
    return;
  }
  if (json_object_get(rec, "ok")) { /* an error: the helper exits after it, the reply carries it */
    json_decref(w->error);
    w->error = rec;
    return;
  }
  sl_link_emit(ws->env->link, SL_OP_FS_EVENT, w->req, rec);
}

static void progress(sl_watches_t *ws, sl_watcher_t *w) {
  size_t budget = SL_WATCHES_READ_BUDGET;
  while (w->out_r >= 0 && budget) {
    /* the link's own queue is bounded (it drops past it): stop while ZeroMQ pushes back; one read adds at
     * most SL_WATCHES_MAX_LINE bytes of records */
    if (sl_link_congested(ws->env->link)) return;
    if (!w->buf && !(w->buf = malloc(SL_WATCHES_MAX_LINE))) return;
    ssize_t n = read(w->out_r, w->buf + w->len, SL_WATCHES_MAX_LINE - w->len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* the helper is gone: the watch ends */
      end(ws, w, NULL, NULL);
      return;
    }
    budget -= (size_t)n < budget ? (size_t)n : budget;
    w->len += (size_t)n;
    char *start = w->buf, *nl;
    while ((nl = memchr(start, '\n', w->len - (size_t)(start - w->buf)))) {
      on_record(ws, w, start, (size_t)(nl - start));
      start = nl + 1;
    }
    w->len -= (size_t)(start - w->buf);
    memmove(w->buf, start, w->len);
    if (w->len == SL_WATCHES_MAX_LINE) {
      RLOG("watch helper %d wrote an over-long record", (int)w->ns_pid);
      end(ws, w, "internal", "the watch helper misbehaved");
      return;
    }
  }
}

int sl_watches_pollfds(sl_watches_t *ws, struct pollfd *pfd, int congested) {
  int n = 0;
  for (int i = 0; !congested && ws->w && i < SL_WATCHES_MAX; i++)
    if (ws->w[i].used && ws->w[i].out_r >= 0) pfd[n++] = (struct pollfd){ws->w[i].out_r, POLLIN, 0};
  return n;
}

void sl_watches_handle(sl_watches_t *ws, const struct pollfd *pfd, int n) {
  for (int k = 0; ws->w && k < n; k++) {
    if (!pfd[k].revents) continue;
    for (int i = 0; i < SL_WATCHES_MAX; i++)
      if (ws->w[i].used && pfd[k].fd == ws->w[i].out_r) {
        progress(ws, &ws->w[i]);
        break;
      }
  }
}

void sl_watches_on_exited(sl_watches_t *ws, pid_t ns_pid, int status) {
  (void)status;
  for (int i = 0; ws->w && i < SL_WATCHES_MAX; i++)
    if (ws->w[i].used && ws->w[i].ns_pid == ns_pid) ws->w[i].exited = 1;
}

void sl_watches_shutdown(sl_watches_t *ws, const char *reason) {
  for (int i = 0; ws->w && i < SL_WATCHES_MAX; i++)
    if (ws->w[i].used) end(ws, &ws->w[i], "sandbox_gone", reason);
  free(ws->w);
  ws->w = NULL;
}
