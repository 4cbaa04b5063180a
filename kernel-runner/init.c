/* init.c — the sandbox's PID 1 (init.h). */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "ctl.h"
#include "fshelper.h"
#include "watchhelper.h"
#include "pty.h"
#include "seccomp_filter.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static char **str_array(json_t *a) {
  size_t n = json_array_size(a);
  char **v = calloc(n + 1, sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < n; i++) v[i] = (char *)json_string_value(json_array_get(a, i));
  return v;
}

/* In the forked child: becomes the requested process or writes errno to errfd and exits. */
static void __attribute__((noreturn)) child_exec(json_t *req, int *fds, size_t nfds, int errfd, uid_t uid, gid_t gid,
                                                   uint64_t caps) {
  int err = 0;
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  /* its own session and process group: signals to the group reach the process tree it starts */
  setsid();
  if (json_object_get(req, "pty") && sl_pty_make_ctty(fds[0]) < 0) goto fail;
  errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 64);
  int hi[SL_CTL_MAX_FDS];
  for (size_t i = 0; i < nfds; i++)
    if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) < 0) goto fail;
  for (size_t i = 0; i < nfds; i++)
    if (dup2(hi[i], (int)i) < 0) goto fail;
  const char *cwd = json_string_value(json_object_get(req, "cwd"));
  if (!cwd || chdir(cwd) < 0) {
    if (chdir("/") < 0) goto fail;
  }
  char **argv = str_array(json_object_get(req, "argv")), **envp = str_array(json_object_get(req, "env"));
  if (!argv || !envp) { errno = ENOMEM; goto fail; }
  if ((err = sl_caps_drop_to(uid, gid, caps)) < 0) { errno = -err; goto fail; }
  /* nothing of init's (control socket, other sessions' pipes) may leak into user code (runc
   * CVE-2024-21626 class) */
  if (syscall(SYS_close_range, nfds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) goto fail;
  sl_seccomp_opts_t so = {0};
  if ((err = sl_seccomp_apply(&so)) < 0) { errno = -err; goto fail; }
  /* the file helper is code of ours, not a program: it runs here, confined exactly like one */
  if (!strcmp(argv[0], SL_FSHELPER_ARGV0)) _exit(sl_fshelper_main(argv[1] ? argv[1] : ""));
  if (!strcmp(argv[0], SL_WATCH_ARGV0)) _exit(sl_watchhelper_main(argv[1] ? argv[1] : ""));
  environ = envp; /* execvp searches the PATH of the requested environment */
  execvp(argv[0], argv);
fail:
  err = errno;
  if (write(errfd, &err, sizeof err) < 0) { /* nothing left to report to */ }
  _exit(127);
}

static void on_spawn(int ctl, json_t *req, int *fds, size_t nfds, uid_t uid, gid_t gid, uint64_t caps) {
  json_int_t tag = json_integer_value(json_object_get(req, "tag"));
  int p[2] = {-1, -1}, err = 0;
  pid_t pid = -1;
  json_t *pty = json_object_get(req, "pty");
  int ptm = -1, pts = -1, tfd[3];
  if ((size_t)json_integer_value(json_object_get(req, "fds")) != nfds || (pty && nfds)) err = EBADF;
  else if (pty && (err = -sl_pty_open((int)json_integer_value(json_object_get(pty, "rows")),
                                      (int)json_integer_value(json_object_get(pty, "cols")), &ptm, &pts)) == 0) {
    tfd[0] = tfd[1] = tfd[2] = pts; /* the slave is the child's stdin, stdout and stderr */
    fds = tfd;
    nfds = 3;
  }
  if (err) {
  } else if (pipe2(p, O_CLOEXEC) < 0) err = errno;
  else if ((pid = fork()) < 0) err = errno;
  else if (pid == 0) child_exec(req, fds, nfds, p[1], uid, gid, caps);
  if (p[1] >= 0) close(p[1]);
  if (pid > 0) {
    ssize_t n;
    do n = read(p[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof err) err = 0; /* EOF: execve succeeded and closed the pipe */
  }
  if (p[0] >= 0) close(p[0]);
  if (pts >= 0) nfds = 0, close(pts); /* fds[] is three copies of it */
  for (size_t i = 0; i < nfds; i++) close(fds[i]);
  json_t *r = json_pack("{s:s, s:I, s:I}", "type", "spawned", "tag", tag, "pid", (json_int_t)(err ? 0 : pid));
  if (err) json_object_set_new(r, "error", json_string(strerror(err)));
  /* a PTY process: the master goes back with the answer */
  sl_ctl_send(ctl, r, ptm >= 0 && !err ? &ptm : NULL, ptm >= 0 && !err ? 1 : 0);
  if (ptm >= 0) close(ptm);
  json_decref(r);
}

static void on_signal(json_t *req) {
  pid_t pid = (pid_t)json_integer_value(json_object_get(req, "pid"));
  int sig = (int)json_integer_value(json_object_get(req, "signal"));
  if (pid <= 1) return; /* never ourselves, never "everyone" */
  kill(json_is_true(json_object_get(req, "group")) ? -pid : pid, sig);
}

static void reap(int ctl) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    json_t *r = json_pack("{s:s, s:I, s:i}", "type", "exited", "pid", (json_int_t)pid, "status", st);
    sl_ctl_send(ctl, r, NULL, 0);
    json_decref(r);
  }
}

int sl_init_main(int ctl, uid_t uid, gid_t gid, uint64_t caps) {
  prctl(PR_SET_NAME, "sluice-init", 0, 0, 0);
  /* execve may clear the parent-death signal; the supervisor's death must still end the sandbox */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  for (;;) {
    struct pollfd pfd[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (pfd[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      reap(ctl);
    }
    if (pfd[0].revents & POLLIN) {
      json_t *req;
      int fds[SL_CTL_MAX_FDS];
      size_t nfds;
      int rc = sl_ctl_recv(ctl, &req, fds, &nfds);
      if (rc == 0) break;
      if (rc == -EAGAIN || rc == -EBADMSG) continue;
      if (rc < 0) break;
      const char *type = json_string_value(json_object_get(req, "type"));
      if (!strcmp(type, "spawn")) on_spawn(ctl, req, fds, nfds, uid, gid, caps);
      else {
        for (size_t i = 0; i < nfds; i++) close(fds[i]);
        if (!strcmp(type, "signal")) on_signal(req);
      }
      json_decref(req);
    } else if (pfd[0].revents & (POLLHUP | POLLERR)) {
      break;
    }
  }
  kill(-1, SIGKILL); /* the supervisor is gone: nothing in this sandbox may outlive it */
  return 0;
}
