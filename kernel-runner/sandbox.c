/* sandbox.c — building the sandbox and talking to its init (sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "before_script.h"
#include "ctl.h"
#include "init.h"
#include "ns_mount.h"
#include "ns_net.h"
#include "ns_user.h"
#include "proctree.h"
#include "rutil.h"

#define CLONE_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)

/* Child side: everything between clone and becoming init. Reports a failure as text on status_fd
 * (close-on-exec: a successful exec closes it with nothing written). */
static void __attribute__((noreturn)) child_main(const sl_config_t *cfg, const sl_net_t *net, int release_fd,
                                                  int status_fd, int ctl, int exe_fd, int *cgfds) {
  char err[512] = "";
  int rc;
  char c;
  /* the runner's death (even SIGKILL) must take the whole pid namespace with it; set before the
   * release read so a parent that died earlier shows up as EOF below */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) { snprintf(err, sizeof err, "prctl: %s", strerror(errno)); goto fail; }
  if (read(release_fd, &c, 1) != 1) _exit(1);
  close(release_fd);
  /* into the sandbox cgroups before anything else (we are the only thread: cheap on v1) */
  if ((rc = sl_cgroup_join_self(cgfds)) < 0) { snprintf(err, sizeof err, "join cgroups: %s", strerror(-rc)); goto fail; }
  if ((rc = sl_ns_user_init_child()) < 0) { snprintf(err, sizeof err, "become root: %s", strerror(-rc)); goto fail; }
  /* the cgroup namespace after the parent moved us: its root is then the sandbox's own cgroup */
  if (unshare(CLONE_NEWCGROUP) < 0) { snprintf(err, sizeof err, "cgroup ns: %s", strerror(errno)); goto fail; }
  if ((rc = sl_ns_uts_init_child(cfg->hostname)) < 0) { snprintf(err, sizeof err, "hostname: %s", strerror(-rc)); goto fail; }
  if ((rc = sl_ns_net_init_child()) < 0) { snprintf(err, sizeof err, "loopback: %s", strerror(-rc)); goto fail; }
  if ((rc = sl_net_init_child(net)) < 0) { snprintf(err, sizeof err, "eth0: %s", strerror(-rc)); goto fail; }
  sl_mount_spec_t ms = {sl_config_rootfs(cfg), cfg->drivers_dir, cfg->hostname, cfg->uid, cfg->gid, cfg->limits.storage,
                        cfg->workspace};
  if (sl_ns_mount_init_child(&ms, err, sizeof err) < 0) goto fail;
  /* a fresh image for init: no runner heap, no argv with host paths visible as /proc/1/cmdline */
  char ctlnum[16], uid[16], gid[16], caps[24];
  snprintf(ctlnum, sizeof ctlnum, "%d", ctl);
  snprintf(uid, sizeof uid, "%u", (unsigned)cfg->uid);
  snprintf(gid, sizeof gid, "%u", (unsigned)cfg->gid);
  snprintf(caps, sizeof caps, "%llu", (unsigned long long)cfg->caps);
  if (fcntl(ctl, F_SETFD, 0) < 0) { snprintf(err, sizeof err, "ctl: %s", strerror(errno)); goto fail; }
  char *const argv[] = {"sluice-init", "--init", ctlnum, uid, gid, caps, NULL};
  char *const envp[] = {NULL};
  syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
  snprintf(err, sizeof err, "exec init: %s", strerror(errno));
fail:
  if (write(status_fd, err, strlen(err)) < 0) { /* parent gone */ }
  _exit(1);
}

int sl_sandbox_init_entry(int argc, char **argv) {
  if (argc != 6) return 2;
  return sl_init_main(atoi(argv[2]), (uid_t)atoi(argv[3]), (gid_t)atoi(argv[4]), strtoull(argv[5], NULL, 10));
}

static int write_cgroups_file(const sl_config_t *cfg, const sl_cgroup_t *cg) {
  char buf[SL_CG_MAX_DIRS * (PATH_MAX + 1)], path[PATH_MAX + 16];
  int len = sl_cgroup_format(cg, buf, sizeof buf);
  if (len < 0) return len;
  snprintf(path, sizeof path, "%s/cgroups", cfg->sbx_dir);
  return sl_write_file_atomic(path, buf, (size_t)len, 0644);
}

int sl_sandbox_create(sl_sandbox_t *sb, const sl_config_t *cfg, char *err, size_t errlen) {
  int rc, sv[2] = {-1, -1}, rel[2] = {-1, -1}, st[2] = {-1, -1}, exe = -1, cgfds[SL_CG_MAX_DIRS];
  for (size_t i = 0; i < SL_CG_MAX_DIRS; i++) cgfds[i] = -1;
  memset(sb, 0, sizeof *sb);
  sb->ctl = -1;
  sl_net_init(&sb->net);
  if ((rc = sl_cgroup_plan(&sb->cg, cfg->id)) < 0) { snprintf(err, errlen, "cgroups: no usable hierarchy"); goto out; }
  /* recorded BEFORE anything exists, so the gateway can clean up after a runner killed with SIGKILL */
  if ((rc = write_cgroups_file(cfg, &sb->cg)) < 0) { snprintf(err, errlen, "write cgroups file: %s", strerror(-rc)); goto out; }
  if ((rc = sl_cgroup_create(&sb->cg)) < 0) { snprintf(err, errlen, "create cgroups: %s", strerror(-rc)); goto out; }
  if ((rc = sl_cgroup_apply_limits(&sb->cg, &cfg->limits)) < 0) { snprintf(err, errlen, "cgroup limits: %s", strerror(-rc)); goto out; }
  sl_cgroup_oom_kills(&sb->cg, &sb->oom_seen);
  if ((rc = sl_net_plan(&sb->net, cfg, err, errlen)) < 0) goto out;
  if ((rc = sl_cgroup_open_join(&sb->cg, cgfds)) < 0) { snprintf(err, errlen, "open cgroups: %s", strerror(-rc)); goto out; }
  if ((exe = open("/proc/self/exe", O_PATH | O_CLOEXEC)) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(rel, O_CLOEXEC) < 0 ||
      pipe2(st, O_CLOEXEC) < 0) {
    rc = -errno;
    snprintf(err, errlen, "setup: %s", strerror(errno));
    goto out;
  }
  /* fork-like clone: the runner is still single-threaded here (ZeroMQ's threads start later) */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) { rc = -errno; snprintf(err, errlen, "clone: %s", strerror(errno)); goto out; }
  if (pid == 0) {
    close(sv[0]);
    close(rel[1]);
    close(st[0]);
    child_main(cfg, &sb->net, rel[0], st[1], sv[1], exe, cgfds);
  }
  sb->init_pid = pid;
  close(sv[1]);
  sv[1] = -1;
  close(rel[0]);
  rel[0] = -1;
  close(st[1]);
  st[1] = -1;
  if ((rc = sl_ns_user_init_parent(pid, cfg->uid_base, SL_UID_RANGE)) < 0) { snprintf(err, errlen, "uid/gid map: %s", strerror(-rc)); goto out; }
  sl_cgroup_close_join(cgfds); /* the child joins through its copies */
  /* the peer goes into the child's netns while the child still waits: it finds eth0 when released */
  if ((rc = sl_net_setup_parent(&sb->net, cfg, pid, err, errlen)) < 0) goto out;
  if (write(rel[1], "1", 1) != 1) { rc = -errno; snprintf(err, errlen, "release: %s", strerror(errno)); goto out; }
  struct pollfd pfd = {st[0], POLLIN, 0};
  if (poll(&pfd, 1, SL_BUILD_TIMEOUT_MS) <= 0) { rc = -ETIMEDOUT; snprintf(err, errlen, "sandbox setup timed out"); goto out; }
  char msg[512];
  ssize_t n = read(st[0], msg, sizeof msg - 1);
  if (n > 0) {
    msg[n] = 0;
    rc = -EIO;
    snprintf(err, errlen, "sandbox setup: %s", msg);
    goto out;
  }
  sb->ctl = sv[0];
  sv[0] = -1;
  fcntl(sb->ctl, F_SETFL, O_NONBLOCK);
  /* before_script with open egress, then the policy: the sandbox is not ready (no request is served)
   * until both are done */
  if ((rc = sl_before_script_run(sb, cfg, err, errlen)) < 0) goto out;
  if ((rc = sl_net_apply_policy(&sb->net, cfg, err, errlen)) < 0) goto out;
  rc = 0;
out:
  sl_cgroup_close_join(cgfds);
  for (int *fd = (int[]){sv[0], sv[1], rel[0], rel[1], st[0], st[1], exe}, i = 0; i < 7; i++)
    if (fd[i] >= 0) close(fd[i]);
  return rc;
}

static void handle_packet(sl_sandbox_t *sb, json_t *pkt, sl_exited_cb cb, void *ud) {
  const char *type = json_string_value(json_object_get(pkt, "type"));
  if (!strcmp(type, "exited") && cb)
    cb(ud, (pid_t)json_integer_value(json_object_get(pkt, "pid")), (int)json_integer_value(json_object_get(pkt, "status")));
}

int sl_sandbox_ctl_read(sl_sandbox_t *sb, sl_exited_cb cb, void *ud) {
  for (int i = 0; i < 64; i++) {
    json_t *pkt;
    int fds[SL_CTL_MAX_FDS];
    size_t nfds;
    int rc = sl_ctl_recv(sb->ctl, &pkt, fds, &nfds);
    if (rc == -EAGAIN || rc == -EBADMSG) return 1;
    if (rc <= 0) return 0;
    for (size_t k = 0; k < nfds; k++) close(fds[k]);
    handle_packet(sb, pkt, cb, ud);
    json_decref(pkt);
  }
  return 1;
}

int sl_sandbox_spawn(sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, const int *fds, size_t nfds,
                     pid_t *ns_pid, pid_t *host_pid, sl_exited_cb cb, void *ud, char *err, size_t errlen) {
  return sl_sandbox_spawn_pty(sb, argv, env, cwd, fds, nfds, 0, 0, NULL, ns_pid, host_pid, cb, ud, err, errlen);
}

int sl_sandbox_spawn_pty(sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, const int *fds, size_t nfds,
                         int rows, int cols, int *master, pid_t *ns_pid, pid_t *host_pid, sl_exited_cb cb, void *ud,
                         char *err, size_t errlen) {
  if (master) *master = -1;
  if (sb->ctl < 0) return snprintf(err, errlen, "sandbox is not running"), -ESRCH;
  unsigned tag = ++sb->tag;
  json_t *req = json_pack("{s:s, s:I, s:O, s:O, s:s, s:I}", "type", "spawn", "tag", (json_int_t)tag, "argv", argv,
                          "env", env, "cwd", cwd, "fds", (json_int_t)nfds);
  if (req && master) json_object_set_new(req, "pty", json_pack("{s:i, s:i}", "rows", rows, "cols", cols));
  if (!req) return snprintf(err, errlen, "bad spawn request"), -EINVAL;
  int rc = sl_ctl_send(sb->ctl, req, fds, nfds);
  json_decref(req);
  if (rc < 0) return snprintf(err, errlen, "send to init: %s", strerror(-rc)), rc;
  int64_t deadline = sl_now_ms() + SL_SPAWN_TIMEOUT_MS;
  for (;;) {
    int64_t left = deadline - sl_now_ms();
    struct pollfd pfd = {sb->ctl, POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, (int)left) == 0) return snprintf(err, errlen, "init did not answer"), -ETIMEDOUT;
    json_t *pkt;
    int rfds[SL_CTL_MAX_FDS];
    size_t rn;
    rc = sl_ctl_recv(sb->ctl, &pkt, rfds, &rn);
    if (rc == -EAGAIN || rc == -EINTR || rc == -EBADMSG) continue;
    if (rc <= 0) return snprintf(err, errlen, "init is gone"), -ESRCH;
    const char *type = json_string_value(json_object_get(pkt, "type"));
    int mine = !strcmp(type, "spawned") && json_integer_value(json_object_get(pkt, "tag")) == tag;
    /* a PTY spawn's answer carries the master (allocated by init inside the sandbox) */
    for (size_t k = 0; k < rn; k++)
      if (mine && master && k == 0 && *master < 0) *master = rfds[k];
      else close(rfds[k]);
    if (mine) {
      const char *e = json_string_value(json_object_get(pkt, "error"));
      *ns_pid = (pid_t)json_integer_value(json_object_get(pkt, "pid"));
      rc = e ? -ENOEXEC : master && *master < 0 ? -EPROTO : 0;
      if (!e && rc) snprintf(err, errlen, "init sent no pty master");
      if (e) snprintf(err, errlen, "spawn %s: %s", json_string_value(json_array_get(argv, 0)), e);
      json_decref(pkt);
      if (rc && master && *master >= 0) close(*master), *master = -1;
      if (rc == 0) *host_pid = sl_proc_host_pid(sb->init_pid, *ns_pid);
      return rc;
    }
    handle_packet(sb, pkt, cb, ud);
    json_decref(pkt);
  }
}

int sl_sandbox_signal(sl_sandbox_t *sb, pid_t ns_pid, int sig, int group) {
  if (sb->ctl < 0) return -ESRCH;
  json_t *req = json_pack("{s:s, s:I, s:i, s:b}", "type", "signal", "pid", (json_int_t)ns_pid, "signal", sig, "group", group);
  int rc = sl_ctl_send(sb->ctl, req, NULL, 0);
  json_decref(req);
  return rc;
}

int sl_sandbox_oom_check(sl_sandbox_t *sb) {
  uint64_t n;
  if (sl_cgroup_oom_kills(&sb->cg, &n) < 0 || n <= sb->oom_seen) return 0;
  sb->oom_seen = n;
  return 1;
}

int sl_sandbox_destroy(sl_sandbox_t *sb) {
  if (sb->ctl >= 0) close(sb->ctl);
  sb->ctl = -1;
  if (sb->init_pid > 0) {
    /* SIGKILL of a pid namespace's init kills every process in it */
    kill(sb->init_pid, SIGKILL);
    while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR) {}
    sb->init_pid = 0;
  }
  sl_net_destroy(&sb->net);
  return sl_cgroup_destroy(&sb->cg, 5000);
}
