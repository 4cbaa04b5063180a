/* pydriver.c — the Python driver target (pydriver.h). */
#include "pydriver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rutil.h"
#include "sluice/driver.h"
#include "sluice/ops.h"
#include "zygote.h"

void sl_py_init(sl_py_t *p, const sl_target_env_t *env) {
  memset(p, 0, sizeof *p);
  p->env = env;
  p->language = "python";
  sl_child_init(&p->ch);
}

static void emit(sl_py_t *p, const sl_msg_t *parent, const char *type, json_t *content) {
  sl_link_emit(p->env->link, type, parent, content);
}

static void emit_stream(void *ud, const char *name, const char *text, size_t len) {
  sl_py_t *p = ud;
  if (!p->cur) return; /* output from a thread after its cell ended: nobody to give it to */
  if (p->cut) return;
  if (p->output_limit && p->cell_output + len > p->output_limit) {
    p->cut = 1;
    emit(p, p->cur, SL_OP_STREAM, json_pack("{s:s, s:s}", "name", "stderr", "text",
                                            "\n[sluice: output truncated: the cell printed more than its output limit]\n"));
    return;
  }
  p->cell_output += len;
  sl_link_emit_stream(p->env->link, p->cur, name, text, len);
}

static void drain(sl_py_t *p) {
  sl_stream_read(&p->ch.out, 1, emit_stream, p);
  sl_stream_read(&p->ch.err, 1, emit_stream, p);
}

static void status(sl_py_t *p, const sl_msg_t *parent, const char *state) {
  emit(p, parent, SL_OP_STATUS, json_pack("{s:s}", "execution_state", state));
}

/* Error event + execute_reply(error) + idle for parent, without touching the driver. */
static void fail_request(sl_py_t *p, const sl_msg_t *parent, const char *ename, const char *evalue) {
  json_t *tb = json_pack("[s]", evalue);
  emit(p, parent, SL_OP_ERROR, json_pack("{s:s, s:s, s:O}", "ename", ename, "evalue", evalue, "traceback", tb));
  emit(p, parent, SL_OP_EXECUTE_REPLY,
       json_pack("{s:s, s:I, s:s, s:s, s:o}", "status", "error", "execution_count", p->execution_count, "ename", ename,
                 "evalue", evalue, "traceback", tb));
  status(p, parent, "idle");
}

static void finish(sl_py_t *p, const char *st) {
  json_t *c;
  if (!strcmp(st, "ok")) {
    c = json_pack("{s:s, s:I, s:{}, s:[]}", "status", "ok", "execution_count", p->execution_count,
                  "user_expressions", "payload");
  } else if (!p->error) {
    c = json_pack("{s:s, s:I, s:s, s:s, s:[]}", "status", "error", "execution_count", p->execution_count, "ename",
                  "Error", "evalue", "", "traceback");
  } else {
    c = json_deep_copy(p->error);
    json_object_set_new(c, "status", json_string("error"));
    json_object_set_new(c, "execution_count", json_integer(p->execution_count));
  }
  if (p->cut) json_object_set_new(c, "truncated", json_true());
  emit(p, p->cur, SL_OP_EXECUTE_REPLY, c);
  status(p, p->cur, "idle");
  sl_msg_free(&p->cur);
  json_decref(p->error);
  p->error = NULL;
  p->deadline = p->hard_at = 0;
  p->timed_out = 0;
  p->cell_output = 0;
  p->cut = 0;
  p->awaiting_input = 0;
}

/* The pending introspection ends without the driver's answer. */
static void intro_end(sl_py_t *p, const char *status) {
  if (!p->intro) return;
  emit(p, p->intro, SL_OP_INTROSPECT_REPLY, json_pack("{s:s}", "status", status));
  sl_msg_free(&p->intro);
}

static void stop_driver(sl_py_t *p) { sl_child_stop(&p->ch); }
static void sl_py_shutdown_as(sl_py_t *p, const char *ename, const char *reason);

static int ensure_driver(sl_py_t *p, char *err, size_t errlen) {
  if (p->ch.running) return 0;
  stop_driver(p);
  json_t *argv = sl_config_language_argv(p->env->cfg, p->language), *envp =
      sl_config_envp(p->env->cfg, json_object_get(p->env->cfg->sandbox, "driver_env")); /* the gateway's, e.g. %pip's argv */
  int rc = -EINVAL;
  if (!argv) snprintf(err, errlen, "the image has no %s driver", p->language);
  else if (!envp) snprintf(err, errlen, "bad environment");
  else {
    const char *cwd = p->cwd ? p->cwd : p->env->cfg->workdir;
    rc = -ENOENT;
    if (sl_zygote_usable(p->env->cfg, p->language)) {
      rc = sl_child_start_zygote(&p->ch, p->env->sb, p->env->cfg, envp, cwd, SL_DRIVER_MAX_LINE, err, errlen);
      if (rc < 0) RLOG("python driver: %s; starting it cold", err); /* e.g. no zygote (yet) */
      err[0] = 0;
    }
    if (rc < 0)
      rc = sl_child_start(&p->ch, p->env->sb, argv, envp, cwd, SL_DRIVER_MAX_LINE, p->env->on_exited, p->env->ud, err,
                          errlen);
  }
  json_decref(envp);
  if (rc == 0) p->execution_count = 0;
  return rc;
}

int sl_py_start(sl_py_t *p, char *err, size_t errlen) { return ensure_driver(p, err, errlen); }

int sl_py_prestart(sl_py_t *p) {
  char err[256] = "";
  if (p->ch.running || !sl_zygote_usable(p->env->cfg, p->language)) return -ENOENT;
  json_t *envp = sl_config_envp(p->env->cfg, json_object_get(p->env->cfg->sandbox, "driver_env"));
  int rc = envp ? sl_child_start_zygote(&p->ch, p->env->sb, p->env->cfg, envp, p->cwd ? p->cwd : p->env->cfg->workdir,
                                        SL_DRIVER_MAX_LINE, err, sizeof err)
                : -ENOMEM;
  json_decref(envp);
  if (rc == 0) p->execution_count = 0;
  else RLOG("python driver not prestarted: %s", err);
  return rc;
}

static void start_next(sl_py_t *p) {
  char err[256] = "";
  while (!p->cur && (p->cur = sl_reqq_pop(&p->q))) {
    json_t *c = p->cur->content;
    p->started = sl_now_ms();
    p->cell_output = 0;
    p->cut = 0;
    status(p, p->cur, "busy");
    if (ensure_driver(p, err, sizeof err) < 0) {
      fail_request(p, p->cur, "KernelStartError", err);
      sl_msg_free(&p->cur);
      continue;
    }
    p->cur_id = ++p->next_id;
    json_t *req = json_pack("{s:s, s:I, s:O, s:b, s:b}", "type", "execute", "id", p->cur_id, "code",
                            json_object_get(c, "code"), "silent", json_is_true(json_object_get(c, "silent")),
                            "store_history", !json_is_false(json_object_get(c, "store_history")));
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    int rc = line ? sl_child_write(&p->ch, line, strlen(line)) : -ENOMEM;
    if (!rc) rc = sl_child_write(&p->ch, "\n", 1);
    free(line);
    if (rc < 0) {
      stop_driver(p);
      fail_request(p, p->cur, "KernelDied", "the Python process is not accepting requests; it was restarted");
      sl_msg_free(&p->cur);
      continue;
    }
    json_t *lim = json_object_get(c, "output_limit");
    p->output_limit = json_is_integer(lim) && json_integer_value(lim) > 0 ? (size_t)json_integer_value(lim) : 0;
    json_t *t = json_object_get(c, "timeout_ms");
    p->timeout_ms = json_is_integer(t) && json_integer_value(t) > 0 ? json_integer_value(t) : 0;
    p->deadline = p->timeout_ms ? p->started + p->timeout_ms : 0;
  }
}

void sl_py_request(sl_py_t *p, sl_msg_t **msg) {
  const char *lang = json_string_value(json_object_get((*msg)->content, "language"));
  if (lang && strcmp(lang, p->language)) {
    char why[128];
    snprintf(why, sizeof why, "language '%.32s' is not available in this sandbox", lang);
    status(p, *msg, "busy");
    fail_request(p, *msg, "UnsupportedLanguage", why);
    return;
  }
  if (sl_reqq_push(&p->q, msg) < 0) {
    emit(p, *msg, SL_OP_ERROR_REPLY,
         json_pack("{s:s, s:s, s:s}", "status", "error", "code", "busy", "message", "too many queued executions"));
    return;
  }
  start_next(p);
}

static int write_line(sl_py_t *p, json_t *req) {
  char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  int rc = line ? sl_child_write(&p->ch, line, strlen(line)) : -ENOMEM;
  if (!rc) rc = sl_child_write(&p->ch, "\n", 1);
  free(line);
  return rc;
}

void sl_py_introspect(sl_py_t *p, sl_msg_t **msg) {
  char err[256];
  if (p->cur || p->intro || strcmp(p->language, "python") || ensure_driver(p, err, sizeof err) < 0) {
    emit(p, *msg, SL_OP_INTROSPECT_REPLY, json_pack("{s:s}", "status", p->cur || p->intro ? "busy" : "error"));
    return;
  }
  p->intro_id = ++p->next_id;
  json_t *req = json_pack("{s:s, s:I, s:O, s:O}", "type", "introspect", "id", p->intro_id, "what",
                          json_object_get((*msg)->content, "what"), "args", (*msg)->content);
  p->intro = *msg;
  *msg = NULL;
  if (write_line(p, req) < 0) {
    stop_driver(p);
    intro_end(p, "error");
  }
}

int sl_py_stdin(sl_py_t *p, const sl_msg_t *msg) {
  const char *want = json_string_value(json_object_get(msg->content, "msg_id"));
  const char *cur = p->cur ? json_string_value(json_object_get(p->cur->header, "msg_id")) : NULL;
  if (!p->awaiting_input || !cur || !want || strcmp(cur, want)) return 0;
  p->awaiting_input = 0;
  json_t *v = json_object_get(msg->content, "value");
  json_t *req = json_pack("{s:s, s:I, s:O}", "type", "input_reply", "id", p->cur_id, v ? "value" : "error",
                          v ? v : json_object_get(msg->content, "error"));
  if (write_line(p, req) < 0) RLOG("python driver: could not pass an input_reply");
  return 1;
}

int sl_py_interrupt(sl_py_t *p) {
  if (!p->cur || !p->ch.running || p->ch.host_pid <= 0) return 0;
  kill(p->ch.host_pid, SIGINT);
  return 1;
}

int sl_py_pollfds(sl_py_t *p, struct pollfd *pfd, int congested) {
  int n = 0;
  if (p->ch.ev_r >= 0 && !congested) pfd[n++] = (struct pollfd){p->ch.ev_r, POLLIN, 0};
  if (p->ch.out.fd >= 0 && !congested) pfd[n++] = (struct pollfd){p->ch.out.fd, POLLIN, 0};
  if (p->ch.err.fd >= 0 && !congested) pfd[n++] = (struct pollfd){p->ch.err.fd, POLLIN, 0};
  if (sl_child_has_pending_write(&p->ch)) pfd[n++] = (struct pollfd){p->ch.req_w, POLLOUT, 0};
  if (p->ch.pidfd >= 0) pfd[n++] = (struct pollfd){p->ch.pidfd, POLLIN, 0};
  return n;
}

/* The driver died or broke the protocol: the running cell (if any) fails with why. */
static void on_gone(sl_py_t *p, const char *ename, const char *why) {
  if (p->cur) drain(p);
  stop_driver(p);
  intro_end(p, "error");
  /* the kernel's OOM killer in the sandbox cgroup (limits.memory) is the usual reason a driver dies */
  if (sl_sandbox_oom_check(p->env->sb) && p->cur && !p->timed_out) {
    ename = "OutOfMemoryError";
    why = "the Python process was killed by the kernel's OOM killer (out of memory: the sandbox's memory limit was "
          "reached); its state was lost and it was restarted";
  }
  if (p->cur) {
    char msg[256];
    if (p->timed_out) {
      snprintf(msg, sizeof msg, "Execution timed out after %lld ms; the Python process was restarted",
               (long long)p->timeout_ms);
      ename = "TimeoutError";
      why = msg;
    }
    json_decref(p->error);
    p->error = NULL;
    json_t *tb = json_pack("[s]", why);
    p->error = json_pack("{s:s, s:s, s:O}", "ename", ename, "evalue", why, "traceback", tb);
    emit(p, p->cur, SL_OP_ERROR, json_pack("{s:s, s:s, s:o}", "ename", ename, "evalue", why, "traceback", tb));
    finish(p, "error");
  }
  start_next(p);
}

static void on_event(sl_py_t *p, json_t *ev) {
  const char *type = json_string_value(json_object_get(ev, "type"));
  json_t *id = json_object_get(ev, "id");
  if (!strcmp(type, "ready")) return;
  if (!strcmp(type, "introspect_reply")) {
    if (p->intro && id && json_integer_value(id) == p->intro_id) {
      emit(p, p->intro, SL_OP_INTROSPECT_REPLY, json_pack("{s:s, s:O}", "status", "ok", "reply", json_object_get(ev, "reply")));
      sl_msg_free(&p->intro);
    }
    return;
  }
  if (!p->cur || !id || json_integer_value(id) != p->cur_id) return; /* late event of an abandoned cell */
  if (!strcmp(type, "result")) {
    json_int_t n = json_integer_value(json_object_get(ev, "execution_count"));
    if (n) p->execution_count = n;
    json_t *md = json_object_get(ev, "metadata");
    emit(p, p->cur, SL_OP_EXECUTE_RESULT,
         json_pack("{s:I, s:O, s:o}", "execution_count", p->execution_count, "data", json_object_get(ev, "data"),
                   "metadata", md ? json_incref(md) : json_object()));
  } else if (!strcmp(type, "display")) {
    json_t *md = json_object_get(ev, "metadata"), *tr = json_object_get(ev, "transient");
    json_t *c = json_pack("{s:O, s:o, s:o}", "data", json_object_get(ev, "data"), "metadata",
                          md ? json_incref(md) : json_object(), "transient", tr ? json_incref(tr) : json_object());
    emit(p, p->cur, json_is_true(json_object_get(ev, "update")) ? "update_display_data" : SL_OP_DISPLAY_DATA, c);
  } else if (!strcmp(type, "clear_output")) {
    emit(p, p->cur, "clear_output", json_pack("{s:b}", "wait", json_is_true(json_object_get(ev, "wait"))));
  } else if (!strcmp(type, "input_request")) {
    /* allow_stdin: the gateway passes it to a connected client and answers with sluice_stdin_request
     * (an error when nobody can answer); otherwise the cell gets EOFError at once */
    if (json_is_true(json_object_get(p->cur->content, "allow_stdin"))) {
      p->awaiting_input = 1;
      emit(p, p->cur, SL_OP_INPUT_REQUEST, json_pack("{s:O, s:b}", "prompt", json_object_get(ev, "prompt"), "password",
                                                     json_is_true(json_object_get(ev, "password"))));
    } else {
      write_line(p, json_pack("{s:s, s:I, s:s}", "type", "input_reply", "id", p->cur_id, "error",
                              "stdin is not available: the request did not allow stdin (allow_stdin) or no client "
                              "can answer input()"));
    }
  } else if (!strcmp(type, "error")) {
    json_t *c = json_pack("{s:O, s:O, s:O}", "ename", json_object_get(ev, "ename"), "evalue",
                          json_object_get(ev, "evalue"), "traceback", json_object_get(ev, "traceback"));
    if (p->timed_out) {
      char msg[128];
      snprintf(msg, sizeof msg, "Execution timed out after %lld ms", (long long)p->timeout_ms);
      json_object_set_new(c, "ename", json_string("TimeoutError"));
      json_object_set_new(c, "evalue", json_string(msg));
    }
    json_decref(p->error);
    p->error = c;
    emit(p, p->cur, SL_OP_ERROR, json_deep_copy(c));
  } else if (!strcmp(type, "done")) {
    json_int_t n = json_integer_value(json_object_get(ev, "execution_count"));
    if (n) p->execution_count = n;
    const char *st = json_string_value(json_object_get(ev, "status"));
    finish(p, st && !strcmp(st, "ok") && !p->timed_out ? "ok" : "error");
    start_next(p);
  }
}

void sl_py_handle(sl_py_t *p, const struct pollfd *pfd, int n) {
  for (int i = 0; i < n; i++) {
    if (!pfd[i].revents) continue;
    int fd = pfd[i].fd;
    if (fd == p->ch.pidfd) { /* a zygote-born driver exited: what init's "exited" says of the others */
      close(p->ch.pidfd);
      p->ch.pidfd = -1;
      p->ch.running = 0;
      continue;
    }
    if (fd == p->ch.req_w && sl_child_flush(&p->ch) < 0) {
      on_gone(p, "KernelDied", "the Python process exited");
      return;
    }
    if (fd == p->ch.out.fd) sl_stream_read(&p->ch.out, 0, emit_stream, p);
    if (fd == p->ch.err.fd) sl_stream_read(&p->ch.err, 0, emit_stream, p);
    if (fd == p->ch.ev_r) {
      int rc = sl_child_read(&p->ch);
      char *line, err[160];
      size_t len;
      while (p->ch.ev_r >= 0 && sl_child_take(&p->ch, '\n', &line, &len)) {
        /* output written before the event precedes it: the driver flushed it before emitting */
        drain(p);
        json_t *ev = sl_driver_event_parse(line, len, err, sizeof err);
        free(line);
        if (!ev) {
          RLOG("python driver protocol error: %s", err);
          on_gone(p, "KernelDied", "the Python driver broke its protocol; it was restarted");
          return;
        }
        on_event(p, ev);
        json_decref(ev);
      }
      if (rc == -EMSGSIZE) {
        on_gone(p, "KernelDied", "the Python driver sent an oversized event; it was restarted");
        return;
      }
      if (rc <= 0) {
        on_gone(p, "KernelDied", "the Python process exited; its state was lost");
        return;
      }
    }
  }
}

int64_t sl_py_deadline(const sl_py_t *p) {
  if (!p->cur) return 0;
  return p->timed_out ? p->hard_at : p->deadline;
}

void sl_py_tick(sl_py_t *p, int64_t now) {
  if (!p->cur || !p->deadline) return;
  if (!p->timed_out && now >= p->deadline) {
    p->timed_out = 1;
    sl_py_interrupt(p);
    p->hard_at = now + SL_PY_HARD_KILL_MS;
  } else if (p->timed_out && now >= p->hard_at) {
    on_gone(p, "TimeoutError", "timed out");
  }
}

void sl_py_on_exited(sl_py_t *p, pid_t ns_pid, int status) {
  if (p->ch.running && ns_pid == p->ch.ns_pid) p->ch.running = 0;
}

void sl_py_restart(sl_py_t *p, const char *reason) { sl_py_shutdown_as(p, "KernelRestarted", reason); }

void sl_py_shutdown(sl_py_t *p, const char *reason) { sl_py_shutdown_as(p, "Shutdown", reason); }

static void sl_py_shutdown_as(sl_py_t *p, const char *ename, const char *reason) {
  if (p->cur) {
    drain(p);
    fail_request(p, p->cur, ename, reason);
    sl_msg_free(&p->cur);
  }
  sl_msg_t *m;
  while ((m = sl_reqq_pop(&p->q))) {
    status(p, m, "busy");
    fail_request(p, m, ename, reason);
    sl_msg_free(&m);
  }
  stop_driver(p);
  intro_end(p, "error");
  json_decref(p->error);
  p->error = NULL;
}
