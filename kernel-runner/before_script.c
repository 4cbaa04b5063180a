/* before_script.c — sandbox.json "before_script", run once inside the sandbox before it is ready
 * (before_script.h). */
#include "before_script.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rutil.h"

#define KEEP 400 /* bytes of output kept for the error message (the hello's error is 512) */

typedef struct {
  pid_t pid;
  int done, status;
} waiter_t;

static void on_exited(void *ud, pid_t ns_pid, int status) {
  waiter_t *w = ud;
  if (ns_pid == w->pid) {
    w->done = 1;
    w->status = status;
  }
}

/* Keeps the last KEEP bytes, printable ASCII only: the text goes into JSON and a one-line message. */
static void keep_tail(char *tail, size_t *n, const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = buf[i] == '\n' || buf[i] == '\t' ? ' ' : (buf[i] >= 32 && buf[i] < 127 ? buf[i] : '?');
    if (*n == KEEP) {
      memmove(tail, tail + 1, KEEP - 1);
      (*n)--;
    }
    tail[(*n)++] = c;
  }
  tail[*n] = 0;
}

static void drain(int fd, char *tail, size_t *n) {
  char buf[4096];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) keep_tail(tail, n, buf, (size_t)r);
}

int sl_before_script_run(sl_sandbox_t *sb, const sl_config_t *cfg, char *err, size_t errlen) {
  const char *script = json_string_value(json_object_get(cfg->sandbox, "before_script"));
  if (!script || !*script) return 0;
  int rc, p[2] = {-1, -1}, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char tail[KEEP + 1] = "";
  size_t tn = 0;
  json_t *argv = json_pack("[s, s, s]", "/bin/sh", "-c", script), *envp = sl_config_envp(cfg, NULL);
  if (devnull < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || !argv || !envp) {
    rc = errno ? -errno : -ENOMEM;
    snprintf(err, errlen, "before_script: setup: %s", strerror(-rc));
    goto out;
  }
  waiter_t w = {0, 0, 0};
  pid_t host_pid;
  char serr[256];
  int fds[3] = {devnull, p[1], p[1]};
  if ((rc = sl_sandbox_spawn(sb, argv, envp, cfg->workdir, fds, 3, &w.pid, &host_pid, on_exited, &w, serr, sizeof serr)) < 0) {
    snprintf(err, errlen, "before_script: %s", serr);
    goto out;
  }
  close(p[1]);
  p[1] = -1;
  RLOG("before_script started (ns pid %d)", (int)w.pid);
  int64_t t0 = sl_now_ms(), deadline = t0 + SL_BEFORE_SCRIPT_TIMEOUT_MS;
  int pipe_open = 1;
  /* done = the exit status came from init; the pipe may stay open after that (a background job holds
   * it), so EOF is not waited for */
  while (!w.done) {
    int64_t left = deadline - sl_now_ms();
    if (left <= 0) {
      sl_sandbox_signal(sb, w.pid, SIGKILL, 1);
      rc = -ETIMEDOUT;
      snprintf(err, errlen, "before_script timed out after %d s: %s", SL_BEFORE_SCRIPT_TIMEOUT_MS / 1000, tail);
      goto out;
    }
    struct pollfd pfd[2] = {{sb->ctl, POLLIN, 0}, {pipe_open ? p[0] : -1, POLLIN, 0}};
    if (poll(pfd, 2, (int)left) < 0 && errno != EINTR) {
      rc = -errno;
      snprintf(err, errlen, "before_script: poll: %s", strerror(errno));
      goto out;
    }
    if (pfd[1].revents) {
      char buf[4096];
      ssize_t r = read(p[0], buf, sizeof buf);
      if (r > 0) keep_tail(tail, &tn, buf, (size_t)r);
      else if (r == 0 || errno != EAGAIN) pipe_open = 0;
    }
    if (pfd[0].revents && !sl_sandbox_ctl_read(sb, on_exited, &w)) {
      rc = -ESRCH;
      snprintf(err, errlen, "before_script: the sandbox's init went away: %s", tail);
      goto out;
    }
  }
  drain(p[0], tail, &tn);
  RLOG("before_script exited with wait status %d after %lld ms", w.status, (long long)(sl_now_ms() - t0));
  if (WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0) {
    rc = 0;
  } else {
    rc = -ECANCELED;
    if (WIFSIGNALED(w.status))
      snprintf(err, errlen, "before_script failed (signal %d): %s", WTERMSIG(w.status), tail);
    else
      snprintf(err, errlen, "before_script failed (exit %d): %s", WEXITSTATUS(w.status), tail);
  }
out:
  for (int *fd = (int[]){devnull, p[0], p[1]}, i = 0; i < 3; i++)
    if (fd[i] >= 0) close(fd[i]);
  json_decref(argv);
  json_decref(envp);
  return rc;
}
