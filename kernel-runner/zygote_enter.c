/* zygote_enter.c — the zygote's child entering a sandbox (zygote.h). Runs between fork and the first
 * Python code in the child: nothing here may allocate through Python or touch its state. */
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "seccomp_filter.h"

#define HIGH_FD 256 /* above anything the zygote holds */
#define ENTER_NS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP)

static int failf(char *err, size_t errlen, int rc, const char *what) {
  snprintf(err, errlen, "%s: %s", what, strerror(-rc));
  return rc;
}

/* The calling (single-threaded) process into each directory: "0" to v1's tasks moves the caller alone
 * without the threadgroup lock (no RCU grace period per hierarchy, which costs milliseconds each);
 * v2 has no tasks file, cgroup.procs it is. */
static int join_cgroups(json_t *dirs, int hostroot, char *err, size_t errlen) {
  size_t i;
  json_t *v;
  json_array_foreach(dirs, i, v) {
    char path[4096 + 16];
    const char *rel = json_string_value(v) + 1; /* relative to the host's / */
    snprintf(path, sizeof path, "%s/tasks", rel);
    int fd = openat(hostroot, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      snprintf(path, sizeof path, "%s/cgroup.procs", rel);
      fd = openat(hostroot, path, O_WRONLY | O_CLOEXEC);
    }
    if (fd < 0) return failf(err, errlen, -errno, "join cgroup");
    ssize_t n = write(fd, "0", 1); /* 0: the writer itself */
    int e = errno;
    close(fd);
    if (n != 1) return failf(err, errlen, -e, "join cgroup");
  }
  return 0;
}

int sl_zygote_enter(json_t *req, const int fds[SL_ZYGOTE_NFDS], const sl_zygote_ctx_t *zc, int *status_fd, char *err,
                    size_t errlen) {
  int hi[SL_ZYGOTE_NFDS], rc;
  /* the received fds may sit on 0..4: lift everything first, then place the driver's */
  for (int i = 0; i < SL_ZYGOTE_NFDS; i++)
    if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, HIGH_FD)) < 0) return failf(err, errlen, -errno, "dup");
  int st = fcntl(*status_fd, F_DUPFD_CLOEXEC, HIGH_FD);
  if (st < 0) return failf(err, errlen, -errno, "dup");
  *status_fd = st;
  for (int i = 0; i < 5; i++)
    if (dup2(hi[i], i) < 0) return failf(err, errlen, -errno, "dup2");
  /* cgroups first, by host path (through the zygote's fd of the host's root), before anything else */
  if ((rc = join_cgroups(json_object_get(req, "cgroups"), zc->hostroot, err, errlen)) < 0) return rc;
  /* all of init's namespaces at once (pidfd setns): the user namespace first in the kernel's order, so
   * this process's capabilities are those of the sandbox's user namespace from here on, none in ours */
  if (setns(hi[5], ENTER_NS) < 0) return failf(err, errlen, -errno, "setns");
  /* nothing of the zygote's (its listening socket, the request's connection, files Python opened) and
   * none of the received originals survive: fds 0..4 and the status pipe only */
  if (syscall(SYS_close_range, 5, (unsigned)st - 1, 0) < 0 || syscall(SYS_close_range, (unsigned)st + 1, ~0U, 0) < 0)
    return failf(err, errlen, -errno, "close_range");
  if (setsid() < 0) return failf(err, errlen, -errno, "setsid");
  const char *cwd = json_string_value(json_object_get(req, "cwd"));
  if (!cwd || chdir(cwd) < 0) {
    if (chdir("/") < 0) return failf(err, errlen, -errno, "chdir");
  }
  uid_t uid = (uid_t)json_integer_value(json_object_get(req, "uid"));
  gid_t gid = (gid_t)json_integer_value(json_object_get(req, "gid"));
  uint64_t caps = (uint64_t)json_integer_value(json_object_get(req, "caps"));
  if ((rc = sl_caps_drop_to(uid, gid, caps)) < 0) return failf(err, errlen, rc, "drop privileges");
  /* the filter init applies (sl_seccomp_apply with default options), compiled once by the zygote */
  if ((rc = sl_seccomp_load(zc->bpf)) < 0) return failf(err, errlen, rc, "seccomp");
  /* the uid change made us non-dumpable (root-owned /proc/self, no ptrace by the sandbox's own tools);
   * a cold driver is dumpable after its execve: the same here, now that nothing privileged is left */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) return failf(err, errlen, -errno, "dumpable");
  return 0;
}
