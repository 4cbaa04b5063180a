/* procs.c — background processes (procs.h). */
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs_pty.h"
#include "pty.h"
#include "rutil.h"
#include "sluice/ops.h"
#include "sluice/util.h"

typedef struct {
  char *data;
  size_t len;
  int truncated;
} capture_t;

/* One attach request: its output events, then its reply when the process ends. */
typedef struct {
  sl_msg_t *req;
  char carry[2][4];         /* stdout/stderr: a UTF-8 character split across reads */
  size_t ncarry[2];
  int gap;                  /* output was dropped before it attached (the capture was full) */
} attach_t;

struct sl_proc {
  int used;
  int64_t seq;
  pid_t ns_pid, host_pid;
  char *cmd;
  int running, exit_code;
  int64_t exited_at;
  int in_w, out_r, err_r;
  int ptm;                  /* a PTY process's master (in_w and out_r are dups of it), else -1 */
  capture_t out, err;
  char *in;                 /* stdin bytes not taken by the pipe yet */
  size_t inlen;
  int in_eof;               /* close stdin once in is flushed */
  sl_msg_t *waiters[SL_PROCS_MAX_WAITERS];
  size_t nwait;
  attach_t att[SL_OP_MAX_ATTACH];
  size_t natt;
  int64_t hold_until;       /* start {hold}: its pipes are not read before an attach (or this time) */
};

static int waited(const sl_proc_t *x) { return x->nwait || x->natt; }

int sl_procs_init(sl_procs_t *p, const sl_target_env_t *env) {
  memset(p, 0, sizeof *p);
  p->env = env;
  p->t = calloc(SL_PROCS_MAX, sizeof *p->t);
  return p->t ? 0 : -ENOMEM;
}

static void reply_err(sl_procs_t *p, sl_msg_t **req, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_err(sl_procs_t *p, sl_msg_t **req, const char *code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_link_emit(p->env->link, SL_OP_PROC_REPLY, *req, json_pack("{s:s, s:s, s:s}", "status", "error", "code", code,
                                                               "message", msg));
  sl_msg_free(req);
}

static void reply_ok(sl_procs_t *p, sl_msg_t **req, json_t *content) {
  json_object_set_new(content, "status", json_string("ok"));
  sl_link_emit(p->env->link, SL_OP_PROC_REPLY, *req, content);
  sl_msg_free(req);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static json_t *text_of(const capture_t *c) {
  size_t n;
  char *t = sl_utf8_sanitize(c->data ? c->data : "", c->len, &n);
  json_t *s = t ? json_stringn(t, n) : json_string("");
  free(t);
  return s;
}

static json_t *view(const sl_proc_t *x, int full) {
  json_t *v = json_pack("{s:I, s:s, s:b, s:o}", "pid", (json_int_t)x->ns_pid, "cmd", x->cmd, "running", x->running,
                        "exit_code", x->running ? json_null() : json_integer(x->exit_code));
  if (full) {
    json_object_set_new(v, "stdout", text_of(&x->out));
    json_object_set_new(v, "stderr", text_of(&x->err));
    json_object_set_new(v, "truncated", json_boolean(x->out.truncated || x->err.truncated));
  }
  return v;
}

/* Exited, and its output complete (pipes at EOF, or the grace after exit is over). */
static int finished(const sl_proc_t *x, int64_t now) {
  return !x->running && ((x->out_r < 0 && x->err_r < 0) || now >= x->exited_at + SL_PROCS_PIPE_GRACE_MS);
}

static void emit_output(sl_procs_t *p, attach_t *a, const char *name, const char *data, size_t len) {
  if (len) sl_link_emit(p->env->link, SL_OP_PROC_OUTPUT, a->req, json_pack("{s:s, s:s%}", "name", name, "data", data, len));
}

/* Output bytes of stream which (0 stdout, 1 stderr) to one attach: pty bytes as base64, text as UTF-8
 * (an incomplete trailing character waits for the next read; flush: it is sent repaired). */
static void forward_one(sl_procs_t *p, const sl_proc_t *x, attach_t *a, int which, const char *data, size_t len,
                        int flush) {
  enum { PIECE = SL_OP_MAX_STREAM_CHUNK };
  if (x->ptm >= 0) {
    char *b64 = malloc(SL_BASE64_LEN(PIECE) + 1);
    for (size_t off = 0; b64 && off < len; off += PIECE) {
      size_t n = len - off < PIECE ? len - off : PIECE;
      emit_output(p, a, "pty", b64, sl_base64_encode(data + off, n, b64));
    }
    free(b64);
    return;
  }
  const char *name = which ? "stderr" : "stdout";
  char *buf = malloc(PIECE + 4);
  for (size_t off = 0; buf && (off < len || (flush && a->ncarry[which]));) {
    size_t n = len - off < PIECE ? len - off : PIECE, have = a->ncarry[which];
    memcpy(buf, a->carry[which], have);
    memcpy(buf + have, data + off, n);
    off += n;
    have += n;
    size_t k = flush && off >= len ? have : sl_utf8_complete_prefix(buf, have);
    a->ncarry[which] = have - k;
    memcpy(a->carry[which], buf + k, have - k);
    size_t tn = 0;
    char *t = k ? sl_utf8_sanitize(buf, k, &tn) : NULL;
    if (t) emit_output(p, a, name, t, tn);
    free(t);
  }
  free(buf);
}

static void forward(sl_procs_t *p, sl_proc_t *x, int which, const char *data, size_t len) {
  for (size_t i = 0; i < x->natt; i++) forward_one(p, x, &x->att[i], which, data, len, 0);
}

static void answer_waiters(sl_procs_t *p, sl_proc_t *x) {
  for (size_t i = 0; i < x->nwait; i++) reply_ok(p, &x->waiters[i], view(x, 1));
  x->nwait = 0;
  for (size_t i = 0; i < x->natt; i++) {
    attach_t *a = &x->att[i];
    forward_one(p, x, a, 0, "", 0, 1);
    forward_one(p, x, a, 1, "", 0, 1);
    json_t *v = view(x, 0);
    json_object_set_new(v, "truncated", json_boolean(a->gap));
    reply_ok(p, &a->req, v);
  }
  x->natt = 0;
}

static void slot_free(sl_proc_t *x) {
  if (x->running && x->host_pid > 0) kill(-x->host_pid, SIGKILL);
  close_fd(&x->in_w);
  close_fd(&x->out_r);
  close_fd(&x->err_r);
  close_fd(&x->ptm);
  free(x->cmd);
  free(x->out.data);
  free(x->err.data);
  free(x->in);
  memset(x, 0, sizeof *x);
  x->in_w = x->out_r = x->err_r = x->ptm = -1;
}

static sl_proc_t *find(sl_procs_t *p, json_t *c) {
  /* pids are reused inside the sandbox: the newest process with that pid is the one meant */
  pid_t pid = (pid_t)json_integer_value(json_object_get(c, "pid"));
  sl_proc_t *best = NULL;
  for (int i = 0; i < SL_PROCS_MAX; i++)
    if (p->t[i].used && p->t[i].ns_pid == pid && (!best || p->t[i].seq > best->seq)) best = &p->t[i];
  return best;
}

/* A free slot, else the oldest finished one nobody waits for. */
static sl_proc_t *slot(sl_procs_t *p) {
  sl_proc_t *old = NULL;
  for (int i = 0; i < SL_PROCS_MAX; i++) {
    sl_proc_t *x = &p->t[i];
    if (!x->used) return x;
    if (!x->running && !waited(x) && (!old || x->seq < old->seq)) old = x;
  }
  if (old) slot_free(old);
  return old;
}

static void start(sl_procs_t *p, sl_msg_t **msg) {
  json_t *c = (*msg)->content;
  const char *cmd = json_string_value(json_object_get(c, "cmd")), *cwd = json_string_value(json_object_get(c, "cwd"));
  if (!cmd || !*cmd) return reply_err(p, msg, "bad_request", "cmd is required");
  sl_proc_t *x = slot(p);
  if (!x) return reply_err(p, msg, "too_many", "at most %d processes per sandbox", SL_PROCS_MAX);
  int pi[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  char err[256] = "";
  json_t *argv = json_pack("[s, s, s]", "/bin/sh", "-c", cmd);
  json_t *envs = json_object_get(c, "envs");
  json_t *env = sl_config_envp(p->env->cfg, json_is_object(envs) ? envs : NULL);
  int ok = argv && env;
  for (int i = 0; i < 3 && ok; i++) ok = pipe2(pi[i], O_CLOEXEC) == 0;
  int fds[3] = {pi[0][0], pi[1][1], pi[2][1]};
  memset(x, 0, sizeof *x);
  x->in_w = x->out_r = x->err_r = x->ptm = -1;
  json_t *pty = json_object_get(c, "pty");
  const char *wd = cwd && *cwd ? cwd : p->env->cfg->workdir ? p->env->cfg->workdir : "/";
  if (!ok) snprintf(err, sizeof err, "pipes: %s", strerror(errno));
  else if (pty) /* on a terminal: the pipes go unused */
    ok = sl_procs_start_pty(p->env, argv, env, wd, pty, &x->ptm, &x->in_w, &x->out_r, &x->ns_pid, &x->host_pid, err,
                            sizeof err) == 0;
  else if (sl_sandbox_spawn(p->env->sb, argv, env, wd, fds, 3, &x->ns_pid, &x->host_pid, p->env->on_exited, p->env->ud, err, sizeof err) < 0)
    ok = 0;
  json_decref(argv);
  json_decref(env);
  if (ok && !(x->cmd = strdup(cmd))) ok = 0;
  if (ok) {
    x->used = x->running = 1;
    x->seq = ++p->seq;
    if (json_is_true(json_object_get(c, "hold"))) x->hold_until = sl_now_ms() + SL_OP_PROC_HOLD_MS;
  }
  if (ok && x->ptm < 0) {
    x->in_w = pi[0][1];
    x->out_r = pi[1][0];
    x->err_r = pi[2][0];
    pi[0][1] = pi[1][0] = pi[2][0] = -1;
    fcntl(x->in_w, F_SETFL, O_NONBLOCK);
    fcntl(x->out_r, F_SETFL, O_NONBLOCK);
    fcntl(x->err_r, F_SETFL, O_NONBLOCK);
  }
  for (int i = 0; i < 3; i++) {
    close_fd(&pi[i][0]);
    close_fd(&pi[i][1]);
  }
  if (!ok) {
    slot_free(x);
    return reply_err(p, msg, "internal", "cannot start the process: %s", err[0] ? err : "out of memory");
  }
  reply_ok(p, msg, json_pack("{s:I}", "pid", (json_int_t)x->ns_pid));
}

static void flush_stdin(sl_proc_t *x) {
  while (x->inlen && x->in_w >= 0) {
    ssize_t n = write(x->in_w, x->in, x->inlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) { /* the reader is gone */
      close_fd(&x->in_w);
      x->inlen = 0;
      return;
    }
    memmove(x->in, x->in + n, x->inlen - (size_t)n);
    x->inlen -= (size_t)n;
  }
  if (!x->inlen && x->in_eof) close_fd(&x->in_w);
}

static void on_stdin(sl_procs_t *p, sl_proc_t *x, sl_msg_t **msg) {
  json_t *c = (*msg)->content;
  json_t *d = json_object_get(c, "data");
  size_t len = json_string_length(d);
  if (x->in_w < 0 || x->in_eof) return reply_err(p, msg, "conflict", "the process's stdin is closed");
  if (x->inlen + len > SL_PROCS_MAX_STDIN_PENDING)
    return reply_err(p, msg, "too_many", "the process is not reading its stdin fast enough");
  if (len) {
    char *nb = realloc(x->in, x->inlen + len);
    if (!nb) return reply_err(p, msg, "internal", "out of memory");
    memcpy(nb + x->inlen, json_string_value(d), len);
    x->in = nb;
    x->inlen += len;
  }
  x->in_eof = json_is_true(json_object_get(c, "eof"));
  flush_stdin(x);
  reply_ok(p, msg, json_object());
}

static void capture(sl_procs_t *p, sl_proc_t *x, int which, int live);

/* Replays what was captured so far, then forwards live output until the process ends. */
static void on_attach(sl_procs_t *p, sl_proc_t *x, sl_msg_t **msg) {
  if (x->natt == SL_OP_MAX_ATTACH) return reply_err(p, msg, "too_many", "too many attached to process %d", (int)x->ns_pid);
  x->hold_until = 0;
  attach_t *a = &x->att[x->natt++];
  memset(a, 0, sizeof *a);
  a->req = *msg;
  *msg = NULL;
  a->gap = x->out.truncated || x->err.truncated;
  forward_one(p, x, a, 0, x->out.data ? x->out.data : "", x->out.len, 0);
  forward_one(p, x, a, 1, x->err.data ? x->err.data : "", x->err.len, 0);
  if (!x->running) { /* what its pipes still hold (it may have ended while held) */
    if (x->out_r >= 0) capture(p, x, 0, 0);
    if (x->err_r >= 0) capture(p, x, 1, 0);
  }
  if (finished(x, sl_now_ms())) answer_waiters(p, x);
}

void sl_procs_request(sl_procs_t *p, sl_msg_t **msg) {
  json_t *c = (*msg)->content;
  const char *op = json_string_value(json_object_get(c, "op"));
  if (!p->t) return reply_err(p, msg, "sandbox_gone", "the sandbox is shutting down");
  if (!strcmp(op, "start")) return start(p, msg);
  if (!strcmp(op, "list")) {
    json_t *a = json_array();
    for (int i = 0; i < SL_PROCS_MAX; i++)
      if (p->t[i].used) json_array_append_new(a, view(&p->t[i], 0));
    return reply_ok(p, msg, json_pack("{s:o}", "processes", a));
  }
  sl_proc_t *x = find(p, c);
  if (!x) return reply_err(p, msg, "not_found", "no process %lld", (long long)json_integer_value(json_object_get(c, "pid")));
  if (!strcmp(op, "get")) {
    if (!json_is_true(json_object_get(c, "wait")) || finished(x, sl_now_ms())) return reply_ok(p, msg, view(x, 1));
    if (x->nwait == SL_PROCS_MAX_WAITERS) return reply_err(p, msg, "too_many", "too many waiters for this process");
    x->waiters[x->nwait++] = *msg;
    *msg = NULL;
  } else if (!strcmp(op, "attach")) {
    on_attach(p, x, msg);
  } else if (!strcmp(op, "stdin")) {
    on_stdin(p, x, msg);
  } else if (!strcmp(op, "resize")) {
    json_t *pty = json_object_get(c, "pty");
    if (x->ptm < 0) return reply_err(p, msg, "bad_request", "process %d has no terminal", (int)x->ns_pid);
    int rc = sl_pty_resize(x->ptm, (int)json_integer_value(json_object_get(pty, "rows")),
                           (int)json_integer_value(json_object_get(pty, "cols")));
    if (rc == -EINVAL) return reply_err(p, msg, "bad_request", "rows and cols must be %d..%d", SL_PTY_MIN_DIM, SL_PTY_MAX_DIM);
    if (rc < 0) return reply_err(p, msg, "conflict", "cannot resize the terminal: %s", strerror(-rc));
    reply_ok(p, msg, json_object());
  } else { /* signal / kill: to its process group (init made it a session leader) */
    int sig = !strcmp(op, "kill") ? SIGKILL : (int)json_integer_value(json_object_get(c, "signal"));
    if (sig < 1 || sig > 64) return reply_err(p, msg, "bad_request", "signal must be 1..64");
    if (x->running) sl_sandbox_signal(p->env->sb, x->ns_pid, sig, 1);
    reply_ok(p, msg, json_pack("{s:b}", "running", x->running));
  }
}

int sl_procs_pollfds(sl_procs_t *p, struct pollfd *pfd, int congested) {
  int n = 0;
  for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
    sl_proc_t *x = &p->t[i];
    if (!x->used) continue;
    /* an attached process waits on its full pipe while the gateway is backed up, nothing is lost; a
     * held one until its attach comes */
    int hold = (congested && x->natt) || x->hold_until;
    if (x->out_r >= 0 && !hold) pfd[n++] = (struct pollfd){x->out_r, POLLIN, 0};
    if (x->err_r >= 0 && !hold) pfd[n++] = (struct pollfd){x->err_r, POLLIN, 0};
    if (x->in_w >= 0 && x->inlen) pfd[n++] = (struct pollfd){x->in_w, POLLOUT, 0};
  }
  return n;
}

/* Reads what is there and forwards it to the attached; keeps up to the cap, drops the rest. live (the
 * poll loop): at most SL_PROCS_READ_BUDGET, and nothing while the link is backed up, so a writer faster
 * than the link does not hold the loop; otherwise (a finished process's answer) SL_PROCS_DRAIN_BYTES. */
static void capture(sl_procs_t *p, sl_proc_t *x, int which, int live) {
  size_t budget = live ? SL_PROCS_READ_BUDGET : SL_PROCS_DRAIN_BYTES;
  int *fd = which ? &x->err_r : &x->out_r;
  capture_t *c = which ? &x->err : &x->out;
  char tmp[65536];
  for (size_t got = 0; got < budget;) {
    if (live && x->natt && sl_link_congested(p->env->link)) return; /* polled again once it drains */
    ssize_t n = read(*fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_fd(fd);
      return;
    }
    got += (size_t)n;
    forward(p, x, which, tmp, (size_t)n);
    size_t keep = c->len >= SL_PROCS_MAX_CAPTURE ? 0 : SL_PROCS_MAX_CAPTURE - c->len;
    if (keep > (size_t)n) keep = (size_t)n;
    if (keep < (size_t)n) c->truncated = 1;
    if (keep) {
      char *nb = realloc(c->data, c->len + keep);
      if (!nb) return;
      memcpy(nb + c->len, tmp, keep);
      c->data = nb;
      c->len += keep;
    }
  }
}

void sl_procs_handle(sl_procs_t *p, const struct pollfd *pfd, int n) {
  int64_t now = sl_now_ms();
  for (int k = 0; k < n; k++) {
    if (!pfd[k].revents) continue;
    for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
      sl_proc_t *x = &p->t[i];
      if (!x->used) continue;
      if (pfd[k].fd == x->out_r) capture(p, x, 0, 1);
      else if (pfd[k].fd == x->err_r) capture(p, x, 1, 1);
      else if (pfd[k].fd == x->in_w) flush_stdin(x);
      else continue;
      if (waited(x) && finished(x, now)) answer_waiters(p, x);
      break;
    }
  }
}

int64_t sl_procs_deadline(const sl_procs_t *p) {
  int64_t d = 0;
  for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
    const sl_proc_t *x = &p->t[i];
    if (x->used && x->hold_until && (!d || x->hold_until < d)) d = x->hold_until;
    if (x->used && waited(x) && !x->running) {
      int64_t t = x->exited_at + SL_PROCS_PIPE_GRACE_MS;
      if (!d || t < d) d = t;
    }
  }
  return d;
}

void sl_procs_tick(sl_procs_t *p, int64_t now) {
  for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
    sl_proc_t *x = &p->t[i];
    if (x->used && x->hold_until && now >= x->hold_until) x->hold_until = 0; /* nobody attached: capture */
    if (x->used && waited(x) && finished(x, now)) {
      /* what the pipes still hold is part of the answer */
      if (x->out_r >= 0) capture(p, x, 0, 0);
      if (x->err_r >= 0) capture(p, x, 1, 0);
      answer_waiters(p, x);
    }
  }
}

void sl_procs_on_exited(sl_procs_t *p, pid_t ns_pid, int status) {
  for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
    sl_proc_t *x = &p->t[i];
    if (!x->used || !x->running || x->ns_pid != ns_pid) continue;
    x->running = 0;
    x->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    x->exited_at = sl_now_ms();
    close_fd(&x->in_w);
    if (waited(x) && finished(x, x->exited_at)) answer_waiters(p, x);
  }
}

void sl_procs_shutdown(sl_procs_t *p, const char *reason) {
  for (int i = 0; p->t && i < SL_PROCS_MAX; i++) {
    sl_proc_t *x = &p->t[i];
    for (size_t k = 0; k < x->nwait; k++) reply_err(p, &x->waiters[k], "sandbox_gone", "%s", reason);
    for (size_t k = 0; k < x->natt; k++) reply_err(p, &x->att[k].req, "sandbox_gone", "%s", reason);
    x->nwait = x->natt = 0;
    if (x->used) slot_free(x);
  }
  free(p->t);
  p->t = NULL;
}
