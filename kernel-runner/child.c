/* child.c — pipes to a driver or shell process inside the sandbox (child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zygote.h"

void sl_child_init(sl_child_t *c) {
  memset(c, 0, sizeof *c);
  c->req_w = c->ev_r = c->pidfd = -1;
  sl_stream_init(&c->out, -1, "stdout");
  sl_stream_init(&c->err, -1, "stderr");
}

/* zcfg non-NULL: the image's zygote forks the process (argv unused), else init spawns argv. */
static int start(sl_child_t *c, sl_sandbox_t *sb, const sl_config_t *zcfg, json_t *argv, json_t *env, const char *cwd,
                 size_t rmax, sl_exited_cb cb, void *ud, char *err, size_t errlen) {
  int p[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}}, devnull = -1, rc = 0;
  sl_child_init(c);
  c->rmax = rmax;
  /* the supervisor's ends are non-blocking; the child's ends stay blocking */
  if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) { rc = -errno; goto out; }
  for (int i = 0; i < 4; i++)
    if (pipe2(p[i], O_CLOEXEC) < 0) { rc = -errno; goto out; }
  /* child fds: 0 /dev/null, 1 stdout, 2 stderr, 3 requests (read end), 4 events (write end) */
  int fds[5] = {devnull, p[0][1], p[1][1], p[2][0], p[3][1]};
  if (zcfg) {
    rc = sl_zygote_spawn(zcfg, sb, env, cwd, fds, &c->ns_pid, &c->host_pid, err, errlen);
    /* init does not see its exit (the zygote is its parent): the pidfd does */
    if (rc == 0 && (c->pidfd = (int)syscall(SYS_pidfd_open, c->host_pid, 0)) < 0) {
      rc = -errno;
      snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
      kill(c->host_pid, SIGKILL);
    }
  } else {
    rc = sl_sandbox_spawn(sb, argv, env, cwd, fds, 5, &c->ns_pid, &c->host_pid, cb, ud, err, errlen);
  }
  if (rc < 0) goto out;
  c->running = 1;
  sl_stream_init(&c->out, p[0][0], "stdout");
  sl_stream_init(&c->err, p[1][0], "stderr");
  c->req_w = p[2][1];
  c->ev_r = p[3][0];
  p[0][0] = p[1][0] = p[2][1] = p[3][0] = -1;
  int mine[4] = {c->out.fd, c->err.fd, c->req_w, c->ev_r};
  for (int i = 0; i < 4; i++) fcntl(mine[i], F_SETFL, O_NONBLOCK);
out:
  if (rc < 0 && !*err) snprintf(err, errlen, "pipes: %s", strerror(-rc));
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      if (p[i][j] >= 0) close(p[i][j]);
  if (devnull >= 0) close(devnull);
  return rc;
}

int sl_child_start(sl_child_t *c, sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, size_t rmax,
                   sl_exited_cb cb, void *ud, char *err, size_t errlen) {
  return start(c, sb, NULL, argv, env, cwd, rmax, cb, ud, err, errlen);
}

int sl_child_start_zygote(sl_child_t *c, sl_sandbox_t *sb, const sl_config_t *cfg, json_t *env, const char *cwd,
                          size_t rmax, char *err, size_t errlen) {
  return start(c, sb, cfg, NULL, env, cwd, rmax, NULL, NULL, err, errlen);
}

int sl_child_has_pending_write(const sl_child_t *c) { return c->wlen > c->woff; }

int sl_child_flush(sl_child_t *c) {
  while (c->woff < c->wlen) {
    ssize_t n = write(c->req_w, c->wbuf + c->woff, c->wlen - c->woff);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN ? 0 : -errno;
    c->woff += (size_t)n;
  }
  c->wlen = c->woff = 0;
  return 0;
}

int sl_child_write(sl_child_t *c, const void *data, size_t len) {
  if (c->req_w < 0) return -EPIPE;
  if (c->woff) {
    memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
    c->wlen -= c->woff;
    c->woff = 0;
  }
  if (c->wlen + len > SL_CHILD_MAX_PENDING_WRITE) return -ENOBUFS;
  char *nb = realloc(c->wbuf, c->wlen + len);
  if (!nb) return -ENOMEM;
  c->wbuf = nb;
  memcpy(c->wbuf + c->wlen, data, len);
  c->wlen += len;
  return sl_child_flush(c);
}

int sl_child_read(sl_child_t *c) {
  if (c->ev_r < 0) return 0;
  for (;;) {
    if (c->rcap - c->rlen < 65536) {
      size_t ncap = c->rcap ? c->rcap * 2 : 65536;
      if (ncap > c->rmax + 65536) ncap = c->rmax + 65536;
      if (ncap <= c->rcap) return -EMSGSIZE;
      char *nb = realloc(c->rbuf, ncap);
      if (!nb) return -ENOMEM;
      c->rbuf = nb;
      c->rcap = ncap;
    }
    ssize_t n = read(c->ev_r, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN ? 1 : -errno;
    if (n == 0) return 0;
    c->rlen += (size_t)n;
    /* a record longer than the cap with no delimiter yet is a protocol error */
    if (c->rlen > c->rmax + 1 && !memchr(c->rbuf, '\n', c->rlen) && !memchr(c->rbuf, 0, c->rlen)) return -EMSGSIZE;
    return 1; /* one read per call: the caller takes complete records before the next */
  }
}

int sl_child_take(sl_child_t *c, char delim, char **rec, size_t *len) {
  char *end = c->rlen ? memchr(c->rbuf, delim, c->rlen) : NULL;
  if (!end) return 0;
  size_t n = (size_t)(end - c->rbuf);
  char *r = malloc(n + 1);
  if (!r) return 0;
  memcpy(r, c->rbuf, n);
  r[n] = 0;
  memmove(c->rbuf, end + 1, c->rlen - n - 1);
  c->rlen -= n + 1;
  *rec = r;
  *len = n;
  return 1;
}

void sl_child_stop(sl_child_t *c) {
  /* init made it a session (and group) leader: the group is the tree it started */
  if (c->running && c->host_pid > 0) kill(-c->host_pid, SIGKILL);
  c->running = 0;
  sl_stream_close(&c->out);
  sl_stream_close(&c->err);
  if (c->req_w >= 0) close(c->req_w);
  if (c->ev_r >= 0) close(c->ev_r);
  if (c->pidfd >= 0) close(c->pidfd);
  c->req_w = c->ev_r = c->pidfd = -1;
  free(c->wbuf);
  free(c->rbuf);
  c->wbuf = c->rbuf = NULL;
  c->wlen = c->woff = c->rlen = c->rcap = 0;
}
