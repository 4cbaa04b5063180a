/* files.c — file operations relayed to helpers inside the sandbox (files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fshelper.h"
#include "rutil.h"
#include "sluice/ops.h"

typedef enum { K_OP, K_READ, K_WRITE } kind_t;
typedef enum { W_NONE, W_RESULT, W_OPEN, W_CHUNK, W_WRITTEN, W_END } wait_t;

struct sl_fs_job {
  int used;
  int64_t handle;
  kind_t kind;
  pid_t ns_pid, host_pid;
  int exited;
  int in_w, out_r, st_r;   /* ours: helper's fd 0 (write end), fd 1 (read end), fd 2 (read end) */
  char *st;                /* status bytes not consumed yet */
  size_t stlen, stcap;
  int st_eof, out_eof;
  sl_msg_t *req;           /* the request being answered (owned) */
  wait_t wait;
  char *buf;               /* read: the chunk being gathered */
  size_t blen;
  size_t woff;             /* write: bytes of req's buffer already in the pipe */
  int64_t idle_at;
};

int sl_files_init(sl_files_t *f, const sl_target_env_t *env) {
  memset(f, 0, sizeof *f);
  f->env = env;
  f->jobs = calloc(SL_FILES_MAX_JOBS, sizeof *f->jobs);
  return f->jobs ? 0 : -ENOMEM;
}

static void reply_err(sl_files_t *f, sl_msg_t **req, const char *code, const char *message) {
  sl_link_emit(f->env->link, SL_OP_FS_REPLY, *req,
               json_pack("{s:s, s:s, s:s}", "status", "error", "code", code, "message", message));
  sl_msg_free(req);
}

/* content stolen; buf (may be NULL) is copied into the message's one buffer */
static void reply_ok(sl_files_t *f, sl_msg_t **req, json_t *content, const void *buf, size_t len) {
  json_object_set_new(content, "status", json_string("ok"));
  sl_msg_t *m = sl_msg_new(SL_OP_FS_REPLY, sl_link_session(f->env->link), *req, content);
  sl_msg_free(req);
  if (!m) return;
  if (buf) {
    m->buffers = calloc(1, sizeof *m->buffers);
    void *copy = malloc(len ? len : 1);
    if (!m->buffers || !copy) {
      free(copy);
      sl_msg_free(&m);
      return;
    }
    memcpy(copy, buf, len);
    m->buffers[0] = (sl_blob_t){copy, len};
    m->n_buffers = 1;
  }
  sl_link_send(f->env->link, &m);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void job_end(sl_files_t *f, sl_fs_job_t *j, const char *why) {
  if (j->req) reply_err(f, &j->req, "internal", why);
  if (!j->exited && j->host_pid > 0) kill(-j->host_pid, SIGKILL); /* its own session: the group is it */
  close_fd(&j->in_w);
  close_fd(&j->out_r);
  close_fd(&j->st_r);
  free(j->st);
  free(j->buf);
  memset(j, 0, sizeof *j);
  j->in_w = j->out_r = j->st_r = -1;
}

static sl_fs_job_t *job_by_handle(sl_files_t *f, int64_t h) {
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++)
    if (f->jobs[i].used && f->jobs[i].handle == h) return &f->jobs[i];
  return NULL;
}

static int start_job(sl_files_t *f, sl_fs_job_t *j, kind_t kind, json_t *content, char *err, size_t errlen) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, st[2] = {-1, -1}, rc = -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  char *text = json_dumps(content, JSON_COMPACT);
  json_t *argv = text ? json_pack("[s, s]", SL_FSHELPER_ARGV0, text) : NULL, *env = json_array();
  free(text);
  memset(j, 0, sizeof *j);
  j->in_w = j->out_r = j->st_r = -1;
  if (devnull < 0 || !argv || !env || pipe2(st, O_CLOEXEC) < 0 ||
      (kind == K_WRITE && pipe2(in, O_CLOEXEC) < 0) || (kind == K_READ && pipe2(out, O_CLOEXEC) < 0)) {
    snprintf(err, errlen, "pipes: %s", strerror(errno));
    goto out;
  }
  /* bigger pipes: fewer wake-ups per 1 MiB chunk (best effort) */
  if (in[1] >= 0) fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
  if (out[0] >= 0) fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
  int fds[3] = {in[0] >= 0 ? in[0] : devnull, out[1] >= 0 ? out[1] : devnull, st[1]};
  const char *cwd = f->env->cfg->workdir ? f->env->cfg->workdir : "/";
  if (sl_sandbox_spawn(f->env->sb, argv, env, cwd, fds, 3, &j->ns_pid, &j->host_pid, f->env->on_exited,
                       f->env->ud, err, errlen) < 0)
    goto out;
  j->used = 1;
  j->kind = kind;
  j->handle = ++f->next_handle;
  j->in_w = in[1];
  j->out_r = out[0];
  j->st_r = st[0];
  in[1] = out[0] = st[0] = -1;
  int mine[3] = {j->in_w, j->out_r, j->st_r};
  for (int i = 0; i < 3; i++)
    if (mine[i] >= 0) fcntl(mine[i], F_SETFL, O_NONBLOCK);
  j->idle_at = sl_now_ms() + SL_FILES_IDLE_MS;
  rc = 0;
out:
  for (int i = 0; i < 2; i++) {
    close_fd(&in[i]);
    close_fd(&out[i]);
    close_fd(&st[i]);
  }
  close_fd(&devnull);
  json_decref(argv);
  json_decref(env);
  return rc;
}

/* Takes the next complete status record, or NULL. */
static json_t *take_record(sl_fs_job_t *j) {
  char *nl = j->stlen ? memchr(j->st, '\n', j->stlen) : NULL;
  if (!nl) return NULL;
  size_t n = (size_t)(nl - j->st);
  json_t *rec = json_loadb(j->st, n, 0, NULL);
  memmove(j->st, nl + 1, j->stlen - n - 1);
  j->stlen -= n + 1;
  return rec ? rec : json_pack("{s:b, s:s, s:s}", "ok", 0, "code", "internal", "message", "bad helper record");
}

static void read_status(sl_fs_job_t *j) {
  for (;;) {
    if (j->stcap - j->stlen < 4096) {
      size_t cap = j->stcap ? j->stcap * 2 : 8192;
      if (cap > SL_FILES_MAX_STATUS) {
        j->st_eof = 1; /* a runaway helper: treat as gone */
        return;
      }
      char *nb = realloc(j->st, cap);
      if (!nb) return;
      j->st = nb;
      j->stcap = cap;
    }
    ssize_t n = read(j->st_r, j->st + j->stlen, j->stcap - j->stlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      j->st_eof = 1;
      close_fd(&j->st_r);
      return;
    }
    j->stlen += (size_t)n;
  }
}

/* A record for the waiting request: ok records become replies (without "ok"), others errors. */
static void answer_record(sl_files_t *f, sl_fs_job_t *j, json_t *rec, int with_handle) {
  if (!json_is_true(json_object_get(rec, "ok"))) {
    const char *code = json_string_value(json_object_get(rec, "code"));
    const char *msg = json_string_value(json_object_get(rec, "message"));
    reply_err(f, &j->req, code ? code : "internal", msg ? msg : "the file operation failed");
    json_decref(rec);
    job_end(f, j, "");
    return;
  }
  json_object_del(rec, "ok");
  if (with_handle) json_object_set_new(rec, "handle", json_integer(j->handle));
  reply_ok(f, &j->req, rec, NULL, 0);
}

static void fill_chunk(sl_files_t *f, sl_fs_job_t *j) {
  while (!j->out_eof && j->blen < SL_OP_FS_CHUNK_BYTES) {
    ssize_t n = read(j->out_r, j->buf + j->blen, SL_OP_FS_CHUNK_BYTES - j->blen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) j->out_eof = 1;
    else j->blen += (size_t)n;
  }
  if (j->blen < SL_OP_FS_CHUNK_BYTES && !j->out_eof) return;
  reply_ok(f, &j->req, json_pack("{s:b}", "eof", j->out_eof), j->buf, j->blen);
  j->blen = 0;
  j->wait = W_NONE;
  if (j->out_eof) job_end(f, j, "");
}

static void flush_chunk(sl_files_t *f, sl_fs_job_t *j) {
  const sl_blob_t *b = &j->req->buffers[0];
  while (j->woff < b->len) {
    ssize_t n = write(j->in_w, (char *)b->data + j->woff, b->len - j->woff);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) { /* the helper gave up: its status record says why */
      close_fd(&j->in_w);
      j->wait = W_END;
      return;
    }
    j->woff += (size_t)n;
  }
  reply_ok(f, &j->req, json_object(), NULL, 0);
  j->wait = W_NONE;
}

/* Moves a job on after any event. */
static void progress(sl_files_t *f, sl_fs_job_t *j) {
  if (!j->used) return;
  if (j->st_r >= 0) read_status(j);
  if (j->wait == W_RESULT || j->wait == W_OPEN || j->wait == W_END || (j->wait == W_WRITTEN && j->stlen)) {
    json_t *rec = take_record(j);
    if (rec) {
      wait_t w = j->wait;
      j->wait = W_NONE;
      if (w == W_WRITTEN) { /* a record while data still flows can only be an error */
        answer_record(f, j, rec, 0);
        if (j->used) job_end(f, j, "");
        return;
      }
      answer_record(f, j, rec, w == W_OPEN);
      if (j->used && (w == W_RESULT || w == W_END)) job_end(f, j, "");
      return;
    }
    if (j->st_eof) {
      job_end(f, j, "the file helper ended without an answer");
      return;
    }
  }
  if (j->wait == W_CHUNK) fill_chunk(f, j);
  else if (j->wait == W_WRITTEN && j->in_w >= 0) flush_chunk(f, j);
}

static void on_transfer(sl_files_t *f, sl_msg_t **msg, const char *op, int64_t handle) {
  sl_fs_job_t *j = job_by_handle(f, handle);
  if (!strcmp(op, "close")) {
    if (j) job_end(f, j, "closed");
    reply_ok(f, msg, json_object(), NULL, 0);
    return;
  }
  int ok_kind = j && (!strcmp(op, "read_chunk") ? j->kind == K_READ : j->kind == K_WRITE);
  if (!ok_kind) return reply_err(f, msg, "not_found", "no such transfer");
  if (j->req) return reply_err(f, msg, "conflict", "one chunk at a time per transfer");
  j->idle_at = sl_now_ms() + SL_FILES_IDLE_MS;
  j->req = *msg;
  *msg = NULL;
  if (!strcmp(op, "read_chunk")) {
    if (!j->buf && !(j->buf = malloc(SL_OP_FS_CHUNK_BYTES))) return job_end(f, j, "out of memory");
    j->wait = W_CHUNK;
  } else if (!strcmp(op, "write_chunk")) {
    if (j->req->n_buffers != 1 || j->req->buffers[0].len > SL_OP_FS_CHUNK_BYTES) {
      reply_err(f, &j->req, "bad_request", "write_chunk carries one buffer of at most 1 MiB");
      return;
    }
    j->woff = 0;
    j->wait = j->in_w >= 0 ? W_WRITTEN : W_END;
  } else { /* write_end: EOF tells the helper to rename the file into place */
    close_fd(&j->in_w);
    j->wait = W_END;
  }
  progress(f, j);
}

void sl_files_request(sl_files_t *f, sl_msg_t **msg) {
  json_t *c = (*msg)->content;
  const char *op = json_string_value(json_object_get(c, "op"));
  char err[256] = "";
  if (!strcmp(op, "read_chunk") || !strcmp(op, "write_chunk") || !strcmp(op, "write_end") || !strcmp(op, "close")) {
    on_transfer(f, msg, op, (int64_t)json_integer_value(json_object_get(c, "handle")));
    return;
  }
  sl_fs_job_t *j = NULL;
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS && !j; i++)
    if (!f->jobs[i].used) j = &f->jobs[i];
  if (!j) return reply_err(f, msg, "too_many", "too many file operations in progress");
  kind_t kind = !strcmp(op, "read") ? K_READ : !strcmp(op, "write") ? K_WRITE : K_OP;
  if (start_job(f, j, kind, c, err, sizeof err) < 0) return reply_err(f, msg, "internal", err);
  j->req = *msg;
  *msg = NULL;
  j->wait = kind == K_OP ? W_RESULT : W_OPEN;
  progress(f, j);
}

int sl_files_pollfds(sl_files_t *f, struct pollfd *pfd, int congested) {
  int n = 0;
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++) {
    sl_fs_job_t *j = &f->jobs[i];
    if (!j->used) continue;
    if (j->st_r >= 0) pfd[n++] = (struct pollfd){j->st_r, POLLIN, 0};
    if (j->wait == W_CHUNK && !congested && j->out_r >= 0) pfd[n++] = (struct pollfd){j->out_r, POLLIN, 0};
    else if (j->wait == W_WRITTEN && j->in_w >= 0) pfd[n++] = (struct pollfd){j->in_w, POLLOUT, 0};
  }
  return n;
}

void sl_files_handle(sl_files_t *f, const struct pollfd *pfd, int n) {
  for (int k = 0; f->jobs && k < n; k++) {
    if (!pfd[k].revents) continue;
    for (int i = 0; i < SL_FILES_MAX_JOBS; i++) {
      sl_fs_job_t *j = &f->jobs[i];
      if (j->used && (pfd[k].fd == j->st_r || pfd[k].fd == j->out_r || pfd[k].fd == j->in_w)) {
        progress(f, j);
        break;
      }
    }
  }
}

int64_t sl_files_deadline(const sl_files_t *f) {
  int64_t d = 0;
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++)
    if (f->jobs[i].used && (!d || f->jobs[i].idle_at < d)) d = f->jobs[i].idle_at;
  return d;
}

void sl_files_tick(sl_files_t *f, int64_t now) {
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++) {
    sl_fs_job_t *j = &f->jobs[i];
    if (j->used && now >= j->idle_at) {
      RLOG("file operation %lld abandoned (idle or stuck)", (long long)j->handle);
      job_end(f, j, "the file operation took too long");
    }
  }
}

void sl_files_on_exited(sl_files_t *f, pid_t ns_pid, int status) {
  (void)status;
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++)
    if (f->jobs[i].used && f->jobs[i].ns_pid == ns_pid) f->jobs[i].exited = 1;
}

void sl_files_shutdown(sl_files_t *f, const char *reason) {
  for (int i = 0; f->jobs && i < SL_FILES_MAX_JOBS; i++)
    if (f->jobs[i].used) job_end(f, &f->jobs[i], reason);
  free(f->jobs);
  f->jobs = NULL;
}
