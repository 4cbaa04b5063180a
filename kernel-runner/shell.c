/* shell.c — the stateful shell target (shell.h). */
#include "shell.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proctree.h"
#include "rutil.h"
#include "sluice/ops.h"

static void start_next(sl_shell_t *s);

void sl_shell_init(sl_shell_t *s, const sl_target_env_t *env) {
  memset(s, 0, sizeof *s);
  s->env = env;
  sl_child_init(&s->ch);
}

static void emit_stream(void *ud, const char *name, const char *text, size_t len) {
  sl_shell_t *s = ud;
  if (!s->cur) return; /* output of a background job between commands: nobody to give it to */
  sl_link_emit_stream(s->env->link, s->cur, name, text, len);
}

static void drain(sl_shell_t *s) {
  sl_stream_read(&s->ch.out, 1, emit_stream, s);
  sl_stream_read(&s->ch.err, 1, emit_stream, s);
  sl_stream_flush(&s->ch.out, emit_stream, s);
  sl_stream_flush(&s->ch.err, emit_stream, s);
}

static void reply(sl_shell_t *s, int exit_code, const char *cwd, const char *error) {
  json_t *c = json_pack("{s:i, s:s, s:I, s:b}", "exit_code", exit_code, "cwd", cwd ? cwd : "",
                        "duration_ms", (json_int_t)(sl_now_ms() - s->started), "timed_out",
                        s->timed_out && !s->cancelled);
  if (error) json_object_set_new(c, "error", json_string(error));
  sl_link_emit(s->env->link, SL_OP_EXEC_REPLY, s->cur, c);
  sl_msg_free(&s->cur);
  s->timed_out = s->cancelled = 0;
  s->deadline = s->give_up_at = s->await_exit_until = 0;
}

static void stop_shell(sl_shell_t *s) {
  sl_child_stop(&s->ch);
  free(s->rc_field);
  s->rc_field = NULL;
}

/* Appends s single-quoted for bash to out (' becomes '\''). */
static int append_quoted(char **out, size_t *len, const char *str) {
  size_t extra = 2;
  for (const char *p = str; *p; p++) extra += *p == '\'' ? 4 : 1;
  char *nb = realloc(*out, *len + extra + 2);
  if (!nb) return -ENOMEM;
  *out = nb;
  char *w = nb + *len;
  *w++ = '\'';
  for (const char *p = str; *p; p++) {
    if (*p == '\'') { memcpy(w, "'\\''", 4); w += 4; }
    else *w++ = *p;
  }
  *w++ = '\'';
  *w++ = ' ';
  *w = 0;
  *len = (size_t)(w - nb);
  return 0;
}

static int append_raw(char **out, size_t *len, const char *str) {
  size_t n = strlen(str);
  char *nb = realloc(*out, *len + n + 1);
  if (!nb) return -ENOMEM;
  memcpy(nb + *len, str, n + 1);
  *out = nb;
  *len += n;
  return 0;
}

static int valid_name(const char *k) {
  if (!*k || (*k >= '0' && *k <= '9')) return 0;
  for (; *k; k++)
    if (!(*k == '_' || (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9'))) return 0;
  return 1;
}

/* The command line for the shell. Per-request cwd/env apply to that command only (a subshell);
 * otherwise the command runs in the shell itself so cd/export/functions persist. */
static char *build_command(json_t *c) {
  char *out = NULL;
  size_t len = 0;
  json_t *argv = json_object_get(c, "argv"), *env = json_object_get(c, "env"), *v;
  const char *cwd = json_string_value(json_object_get(c, "cwd")), *k;
  int sub = cwd || (json_is_object(env) && json_object_size(env));
  int rc = append_raw(&out, &len, sub ? "( " : "");
  if (cwd && !rc) rc = append_raw(&out, &len, "cd -- ") || append_quoted(&out, &len, cwd) || append_raw(&out, &len, "&& ");
  json_object_foreach(env, k, v) {
    if (rc) break;
    if (!valid_name(k)) continue;
    rc = append_raw(&out, &len, "export ") || append_raw(&out, &len, k) || append_raw(&out, &len, "=") ||
         append_quoted(&out, &len, json_string_value(v)) || append_raw(&out, &len, "&& ");
  }
  if (!rc && sub) rc = append_raw(&out, &len, "eval -- ");
  if (!rc && argv) {
    size_t i;
    if (sub) {
      /* eval of a quoted word list re-parses it once: quote twice so arguments stay literal */
      char *inner = NULL;
      size_t ilen = 0;
      json_array_foreach(argv, i, v) if (!rc) rc = append_quoted(&inner, &ilen, json_string_value(v));
      if (!rc) rc = append_quoted(&out, &len, inner);
      free(inner);
    } else {
      json_array_foreach(argv, i, v) if (!rc) rc = append_quoted(&out, &len, json_string_value(v));
    }
  } else if (!rc) {
    const char *cmd = json_string_value(json_object_get(c, "command"));
    rc = sub ? append_quoted(&out, &len, cmd) : append_raw(&out, &len, cmd);
  }
  if (!rc && sub) rc = append_raw(&out, &len, "\n)");
  if (rc) {
    free(out);
    return NULL;
  }
  return out;
}

static int ensure_shell(sl_shell_t *s, char *err, size_t errlen) {
  if (s->ch.running) return 0;
  stop_shell(s);
  json_t *argv = sl_config_shell_argv(s->env->cfg), *envp = sl_config_envp(s->env->cfg, NULL);
  int rc = -EINVAL;
  if (!argv) snprintf(err, errlen, "the image has no shell");
  else if (!envp) snprintf(err, errlen, "bad environment");
  else rc = sl_child_start(&s->ch, s->env->sb, argv, envp, s->env->cfg->workdir, 8192, s->env->on_exited,
                           s->env->ud, err, errlen);
  json_decref(envp);
  s->exit_known = 0;
  return rc;
}

static void start_next(sl_shell_t *s) {
  char err[256] = "";
  while (!s->cur && (s->cur = sl_reqq_pop(&s->q))) {
    json_t *c = s->cur->content;
    s->started = sl_now_ms();
    s->timed_out = 0;
    json_t *t = json_object_get(c, "timeout_ms");
    s->timeout_ms = json_is_integer(t) && json_integer_value(t) > 0 ? json_integer_value(t) : SL_OP_DEFAULT_EXEC_TIMEOUT_MS;
    if (ensure_shell(s, err, sizeof err) < 0) {
      reply(s, 127, "", err);
      continue;
    }
    char *cmd = build_command(c);
    const char *in = json_string_value(json_object_get(c, "stdin"));
    if (!in) in = "";
    if (!cmd) {
      free(cmd);
      reply(s, 2, "", "cannot build the command");
      continue;
    }
    /* the command's tree is what appears under the shell from now on */
    s->nkeep = s->ch.host_pid > 0 ? sl_proc_children(s->ch.host_pid, s->keep, SL_SHELL_MAX_KEEP) : 0;
    int rc = sl_child_write(&s->ch, cmd, strlen(cmd) + 1);
    if (!rc) rc = sl_child_write(&s->ch, in, strlen(in) + 1);
    free(cmd);
    if (rc < 0) {
      stop_shell(s);
      reply(s, 127, "", "the shell is not accepting commands; it was restarted");
      continue;
    }
    s->deadline = s->started + s->timeout_ms;
  }
}

void sl_shell_request(sl_shell_t *s, sl_msg_t **msg) {
  if (sl_reqq_push(&s->q, msg) < 0) {
    sl_link_emit(s->env->link, SL_OP_ERROR_REPLY, *msg,
                 json_pack("{s:s, s:s, s:s}", "status", "error", "code", "busy", "message", "too many queued commands"));
    return;
  }
  start_next(s);
}

int sl_shell_pollfds(sl_shell_t *s, struct pollfd *pfd, int congested) {
  int n = 0;
  if (!s->ch.running && s->ch.ev_r < 0) return 0;
  if (s->ch.ev_r >= 0 && !congested) pfd[n++] = (struct pollfd){s->ch.ev_r, POLLIN, 0};
  if (s->ch.out.fd >= 0 && !congested) pfd[n++] = (struct pollfd){s->ch.out.fd, POLLIN, 0};
  if (s->ch.err.fd >= 0 && !congested) pfd[n++] = (struct pollfd){s->ch.err.fd, POLLIN, 0};
  if (sl_child_has_pending_write(&s->ch)) pfd[n++] = (struct pollfd){s->ch.req_w, POLLOUT, 0};
  return n;
}

static void on_result(sl_shell_t *s, const char *rc_text, const char *cwd) {
  drain(s);
  if (!s->cur) return;
  char msg[128];
  if (s->cancelled) {
    reply(s, atoi(rc_text), cwd, "cancelled");
  } else if (s->timed_out) {
    snprintf(msg, sizeof msg, "timeout after %lld ms", (long long)s->timeout_ms);
    reply(s, 124, cwd, msg);
  } else {
    reply(s, atoi(rc_text), cwd, NULL);
  }
  start_next(s);
}

static void finish_dead(sl_shell_t *s) {
  int st = s->exit_status, code = !s->exit_known ? 255 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  reply(s, code, "", "the shell exited; it was restarted and its state was lost");
  start_next(s);
}

static void on_gone(sl_shell_t *s, const char *why) {
  int died = s->ch.ev_r >= 0 && !s->timed_out && !s->give_up_at; /* EOF, not our own restart */
  if (s->cur) drain(s);
  stop_shell(s);
  if (s->cur && died) {
    /* `exit 7` ends the shell: its exit status comes with init's exited notice, maybe after EOF */
    if (s->exit_known) finish_dead(s);
    else s->await_exit_until = sl_now_ms() + 1000;
    return;
  }
  if (s->cur) {
    char msg[160];
    if (s->cancelled)
      snprintf(msg, sizeof msg, "cancelled; %s", why);
    else if (s->timed_out)
      snprintf(msg, sizeof msg, "timeout after %lld ms; %s", (long long)s->timeout_ms, why);
    else
      snprintf(msg, sizeof msg, "%s", why);
    reply(s, s->cancelled ? 130 : s->timed_out ? 124 : 255, "", msg);
  }
  start_next(s);
}

void sl_shell_handle(sl_shell_t *s, const struct pollfd *pfd, int n) {
  for (int i = 0; i < n; i++) {
    if (!pfd[i].revents) continue;
    int fd = pfd[i].fd;
    if (fd == s->ch.req_w && sl_child_flush(&s->ch) < 0) {
      on_gone(s, "the shell exited; it was restarted and its state was lost");
      return;
    }
    if (fd == s->ch.out.fd) sl_stream_read(&s->ch.out, 0, emit_stream, s);
    if (fd == s->ch.err.fd) sl_stream_read(&s->ch.err, 0, emit_stream, s);
    if (fd == s->ch.ev_r) {
      int rc = sl_child_read(&s->ch);
      char *rec;
      size_t len;
      while (s->ch.ev_r >= 0 && sl_child_take(&s->ch, 0, &rec, &len)) {
        if (!s->rc_field) {
          s->rc_field = rec;
          continue;
        }
        char *code = s->rc_field;
        s->rc_field = NULL;
        on_result(s, code, rec);
        free(code);
        free(rec);
      }
      if (rc <= 0) {
        on_gone(s, "the shell exited; it was restarted and its state was lost");
        return;
      }
    }
  }
}

/* Kills the running command's process tree; the shell has SL_SHELL_GRACE_MS to report back. */
static void abort_command(sl_shell_t *s, int64_t now) {
  s->timed_out = 1;
  /* first the abort flag (shell.sh skips the rest of the command once its child is gone) ... */
  if (s->ch.host_pid > 0) kill(s->ch.host_pid, SIGUSR1);
  /* ... then the command's process tree: children that were not there before it started */
  int killed = s->ch.host_pid > 0 ? sl_proc_kill_tree_except(s->ch.host_pid, s->keep, s->nkeep) : 0;
  if (killed) RLOG("exec aborted: killed %d processes", killed);
  s->give_up_at = now + SL_SHELL_GRACE_MS;
}

void sl_shell_cancel(sl_shell_t *s, const char *msg_id) {
  if (s->cur && !strcmp(sl_msg_id(s->cur), msg_id)) {
    if (s->timed_out || s->await_exit_until) return; /* already on its way out */
    s->cancelled = 1;
    abort_command(s, sl_now_ms());
    return;
  }
  /* a queued one: answered now, the others keep their order */
  sl_reqq_t keep = {0};
  sl_msg_t *m;
  while ((m = sl_reqq_pop(&s->q))) {
    if (strcmp(sl_msg_id(m), msg_id) != 0) {
      sl_reqq_push(&keep, &m);
      continue;
    }
    sl_link_emit(s->env->link, SL_OP_EXEC_REPLY, m,
                 json_pack("{s:i, s:s, s:I, s:b, s:s}", "exit_code", 130, "cwd", "", "duration_ms", (json_int_t)0,
                           "timed_out", 0, "error", "cancelled"));
    sl_msg_free(&m);
  }
  s->q = keep;
}

int64_t sl_shell_deadline(const sl_shell_t *s) {
  if (!s->cur) return 0;
  if (s->await_exit_until) return s->await_exit_until;
  return s->timed_out ? s->give_up_at : s->deadline;
}

void sl_shell_tick(sl_shell_t *s, int64_t now) {
  if (s->cur && s->await_exit_until && now >= s->await_exit_until) {
    finish_dead(s);
    return;
  }
  if (!s->cur || !s->deadline || s->await_exit_until) return;
  if (!s->timed_out && now >= s->deadline) {
    abort_command(s, now);
    RLOG("exec timed out after %lld ms", (long long)s->timeout_ms);
  } else if (s->timed_out && now >= s->give_up_at) {
    /* the shell itself is stuck (a builtin loop): only a new shell helps */
    on_gone(s, "the shell did not return; it was restarted and its state was lost");
  }
}

void sl_shell_on_exited(sl_shell_t *s, pid_t ns_pid, int status) {
  if (ns_pid != s->ch.ns_pid || s->exit_known) return;
  s->ch.running = 0;
  s->exit_known = 1;
  s->exit_status = status;
  /* normally the event pipe's EOF (sl_shell_handle) finishes the command, after its output */
  if (s->cur && s->await_exit_until) {
    s->await_exit_until = 0;
    finish_dead(s);
  }
}

void sl_shell_shutdown(sl_shell_t *s, const char *reason) {
  if (s->cur) reply(s, 255, "", reason);
  sl_msg_t *m;
  while ((m = sl_reqq_pop(&s->q))) {
    s->cur = m;
    s->started = sl_now_ms();
    reply(s, 255, "", reason);
  }
  stop_shell(s);
}
