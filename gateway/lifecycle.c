/* lifecycle.c — spawn, watch, shut down, clean up and adopt sandbox runners. */
#include "lifecycle.h"

#include "cgroup_cleanup.h"
#include "culler.h"
#include "log.h"
#include "metrics.h"
#include "net_cleanup.h"
#include "workspaces.h"
#include "sluice/api.h"
#include "sluice/api_packages.h"
#include "sluice/msg.h"
#include "sluice/ops.h"
#include "sluice/util.h"
#include "zmq_bridge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct gw_lc {
  gw_sandbox_t *sb;
  lc_create_cb create_cb; /* pending create answer */
  void *create_ctx;
  lws_sorted_usec_list_t create_sul;
  struct {
    lc_delete_cb cb;
    void *ctx;
  } waiters[LC_MAX_DELETE_WAITERS];
  int n_waiters;
  lws_sorted_usec_list_t del_sul; /* shutdown / kill deadlines */
  int kill_sent;
  lws_sorted_usec_list_t cg_sul;  /* cgroup removal retries */
  int cg_tries;
  int cleaning;
  int64_t create_t0_ms; /* for the create latency metric */
} gw_lc_t;

static void cleanup_step(gw_sandbox_t *sb);

static gw_lc_t *lc_of(gw_sandbox_t *sb) {
  if (!sb->lc) {
    sb->lc = calloc(1, sizeof(gw_lc_t));
    if (sb->lc) sb->lc->sb = sb;
  }
  return sb->lc;
}

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_kill(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int lc_runner_path(char *out, size_t len) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return -errno;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  return snprintf(out, len, "%s/sluice-runner", exe) >= (int)len ? -ENAMETOOLONG : 0;
}

/* The last non-empty line of runner.log (sanitised), for error messages. */
static void log_tail(const char *id, char *out, size_t len) {
  char path[PATH_MAX], buf[1024];
  out[0] = 0;
  reg_path(id, "runner.log", path, sizeof(path));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  off_t end = lseek(fd, 0, SEEK_END);
  off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, start);
  close(fd);
  if (n <= 0) return;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  buf[n] = 0;
  char *line = strrchr(buf, '\n');
  line = line ? line + 1 : buf;
  size_t sl;
  char *clean = sl_utf8_sanitize(line, strlen(line), &sl);
  if (clean) snprintf(out, len, "%s", clean);
  free(clean);
}

static void set_error(gw_sandbox_t *sb, const char *what) {
  char tail[512], msg[800];
  log_tail(sb->id, tail, sizeof(tail));
  if (tail[0])
    snprintf(msg, sizeof(msg), "%s: %s", what, tail);
  else
    snprintf(msg, sizeof(msg), "%s", what);
  reg_set_status(sb, "error", msg);
}

/* ---- the end of a sandbox ---- */

static void finish_delete(gw_sandbox_t *sb) {
  gw_lc_t *lc = sb->lc;
  char dir[PATH_MAX], cmd_name[80];
  reg_path(sb->id, NULL, dir, sizeof(dir));
  snprintf(cmd_name, sizeof(cmd_name), "%s", reg_str(sb, "name"));
  /* remove the sandbox dir: only our own files live there (the runner's rootfs is elsewhere or gone) */
  char p[PATH_MAX];
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
      if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p)) continue;
      if (unlink(p) < 0 && errno == EISDIR) rmdir(p);
    }
    closedir(d);
  }
  if (rmdir(dir) < 0 && errno != ENOENT) fprintf(stderr, "sluice-gateway: rmdir %s: %s\n", dir, strerror(errno));
  zb_sandbox_gone(sb->id, "the sandbox was deleted");
  ws_release(sb->rec); /* the runner is gone: its workspace can be unmounted */
  log_event("sandbox_deleted", sb->id, "{s:s, s:s, s:s?}", "name", cmd_name, "namespace", reg_str(sb, "namespace"),
              "workspace_id", json_string_value(json_object_get(sb->rec, "workspace_id")));
  if (sb->pidw) gw_fdwatch_close(sb->pidw);
  sb->pidw = NULL;
  int n = lc ? lc->n_waiters : 0;
  typeof(lc->waiters[0]) w[LC_MAX_DELETE_WAITERS];
  if (n) memcpy(w, lc->waiters, sizeof(w[0]) * (size_t)n);
  if (lc) {
    lws_sul_cancel(&lc->create_sul);
    lws_sul_cancel(&lc->del_sul);
    lws_sul_cancel(&lc->cg_sul);
    free(lc);
    sb->lc = NULL;
  }
  reg_remove(sb);
  metrics_deleted();
  for (int i = 0; i < n; i++) w[i].cb(w[i].ctx, cmd_name, NULL);
}

static void cg_retry_cb(lws_sorted_usec_list_t *sul) {
  gw_lc_t *lc = lws_container_of(sul, gw_lc_t, cg_sul);
  cleanup_step(lc->sb);
}

/* Removes cgroups (retrying while the kernel tears the pid namespace down), then finishes a delete. */
static void cleanup_step(gw_sandbox_t *sb) {
  gw_lc_t *lc = lc_of(sb);
  char list[PATH_MAX];
  if (!lc) return;
  lc->cleaning = 1;
  reg_path(sb->id, "cgroups", list, sizeof(list));
  int rc = cg_cleanup_pass(list);
  if (rc == -EBUSY && ++lc->cg_tries < LC_CGROUP_TRIES) {
    lws_sul_schedule(g_gw.ctx, 0, &lc->cg_sul, cg_retry_cb, LC_CGROUP_RETRY_MS * 1000);
    return;
  }
  if (rc < 0) fprintf(stderr, "sluice-gateway: sandbox %s: cgroups not fully removed: %s\n", sb->id, strerror(-rc));
  /* egress leftovers of a runner that could not clean up (SIGKILL): its nft table, maybe its veth */
  reg_path(sb->id, "net", list, sizeof(list));
  if ((rc = net_cleanup(list)) < 0) fprintf(stderr, "sluice-gateway: sandbox %s: egress not fully removed: %s\n", sb->id, strerror(-rc));
  lc->cleaning = 0;
  lc->cg_tries = 0;
  if (sb->deleting) finish_delete(sb);
}

static void fail_create(gw_sandbox_t *sb, const char *err) {
  gw_lc_t *lc = sb->lc;
  if (!lc || !lc->create_cb) return;
  log_event("sandbox_create_failed", sb->id, "{s:s?}", "error", err);
  lc_create_cb cb = lc->create_cb;
  void *ctx = lc->create_ctx;
  lc->create_cb = NULL;
  lws_sul_cancel(&lc->create_sul);
  sb->hidden = 1;
  metrics_create_failed();
  cb(ctx, NULL, err);
  lc_delete(sb, NULL, NULL);
}

static void runner_exited(void *ctx) {
  gw_sandbox_t *sb = ctx;
  gw_fdwatch_close(sb->pidw);
  sb->pidw = NULL;
  sb->runner_dead = 1;
  sb->connected = 0;
  sb->runner_pid = 0;
  if (sb->lc) lws_sul_cancel(&sb->lc->del_sul);
  if (!sb->deleting) {
    log_event("sandbox_runner_died", sb->id, NULL);
    metrics_runner_died();
    set_error(sb, "the sandbox's runner exited unexpectedly");
    zb_sandbox_gone(sb->id, "the sandbox's runner exited");
    if (sb->lc && sb->lc->create_cb) {
      fail_create(sb, json_string_value(json_object_get(sb->rec, "error_message")));
      return; /* fail_create started the delete, which is now waiting for this very exit: go on below */
    }
  }
  cleanup_step(sb);
}

static int watch_runner(gw_sandbox_t *sb, pid_t pid) {
  int fd = pidfd_open_(pid);
  if (fd < 0) return -errno;
  sb->runner_pid = pid;
  sb->pidw = gw_fdwatch_new(fd, 1, runner_exited, sb);
  return sb->pidw ? 0 : -ENOMEM;
}

/* ---- delete ---- */

static void kill_deadline_cb(lws_sorted_usec_list_t *sul) {
  gw_lc_t *lc = lws_container_of(sul, gw_lc_t, del_sul);
  gw_sandbox_t *sb = lc->sb;
  if (sb->runner_dead || !sb->pidw) return;
  if (!lc->kill_sent) {
    lc->kill_sent = 1;
    pidfd_kill(sb->pidw->fd, SIGKILL);
    lws_sul_schedule(g_gw.ctx, 0, &lc->del_sul, kill_deadline_cb, LC_KILL_WAIT_MS * 1000);
    return;
  }
  fprintf(stderr, "sluice-gateway: runner of %s survived SIGKILL; cleaning up anyway\n", sb->id);
  runner_exited(sb);
}

static void shutdown_reply(void *ctx, const sl_msg_t *m) { /* the pidfd reports the exit */ }
static void shutdown_fail(void *ctx, int status, const char *code, const char *msg) {}
static const zb_handlers_t SHUTDOWN_H = {NULL, shutdown_reply, shutdown_fail};

int lc_delete(gw_sandbox_t *sb, lc_delete_cb cb, void *ctx) {
  gw_lc_t *lc = lc_of(sb);
  if (!lc) return -ENOMEM;
  if (cb) {
    if (lc->n_waiters == LC_MAX_DELETE_WAITERS) return -EBUSY;
    lc->waiters[lc->n_waiters].cb = cb;
    lc->waiters[lc->n_waiters].ctx = ctx;
    lc->n_waiters++;
  }
  if (sb->deleting) return 0;
  sb->deleting = 1;
  if (lc->create_cb) { /* deleted while starting: the create answers now */
    lc_create_cb ccb = lc->create_cb;
    lc->create_cb = NULL;
    lws_sul_cancel(&lc->create_sul);
    ccb(lc->create_ctx, NULL, "the sandbox was deleted while starting");
  }
  if (sb->runner_dead || !sb->pidw) {
    if (!lc->cleaning) lws_sul_schedule(g_gw.ctx, 0, &lc->cg_sul, cg_retry_cb, 1);
    return 0;
  }
  if (sb->connected)
    zb_request(sb->id, SL_OP_SHUTDOWN_REQUEST, json_pack("{s:b}", "restart", 0), &SHUTDOWN_H, NULL,
               LC_SHUTDOWN_WAIT_MS);
  /* a runner that is not connected cannot be asked; one that does not exit in time is killed */
  lws_sul_schedule(g_gw.ctx, 0, &lc->del_sul, kill_deadline_cb,
                   (lws_usec_t)(sb->connected ? LC_SHUTDOWN_WAIT_MS : 1) * 1000);
  return 0;
}

/* ---- create ---- */

static void create_timeout_cb(lws_sorted_usec_list_t *sul) {
  gw_lc_t *lc = lws_container_of(sul, gw_lc_t, create_sul);
  char msg[128];
  snprintf(msg, sizeof(msg), "the sandbox did not become ready within %u s", g_gw.cfg.create_timeout_s);
  set_error(lc->sb, msg);
  fail_create(lc->sb, json_string_value(json_object_get(lc->sb->rec, "error_message")));
}

/* fork → setsid → fork → exec, so the runner is nobody's child and outlives the gateway. */
static int spawn_runner(gw_sandbox_t *sb, pid_t *out) {
  char runner[PATH_MAX], logp[PATH_MAX];
  int rc = lc_runner_path(runner, sizeof(runner));
  if (rc < 0) return rc;
  reg_path(sb->id, "runner.log", logp, sizeof(logp));
  char *argv[] = {runner, "--state-dir", g_gw.cfg.state_dir, "--id", sb->id, "--images-dir", g_gw.cfg.images_dir,
                  "--drivers-dir", g_gw.cfg.drivers_dir, NULL};
  int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (logfd < 0) return -errno;
  int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pfd[2];
  if (nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
    rc = -errno;
    close(logfd);
    if (nullfd >= 0) close(nullfd);
    return rc;
  }
  pid_t mid = fork();
  if (mid == 0) {
    setsid();
    pid_t g = fork();
    if (g == 0) {
      sigset_t all;
      sigemptyset(&all);
      sigprocmask(SIG_SETMASK, &all, NULL);
      for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
      if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) _exit(126);
      /* a workspace is mounted here, before exec: host root, and blocking nobody but this sandbox */
      if (json_object_get(sb->rec, "workspace_path") && ws_prepare_child(sb->rec) < 0) _exit(125);
      syscall(SYS_close_range, 3, ~0u, 0);
      execv(runner, argv);
      static const char msg[] = "sluice-gateway: cannot execute the runner (sluice-runner next to sluice-gateway)\n";
      if (write(2, msg, sizeof(msg) - 1) < 0) _exit(127);
      _exit(127);
    }
    ssize_t w = write(pfd[1], &g, sizeof(g));
    _exit(w == (ssize_t)sizeof(g) && g > 0 ? 0 : 1);
  }
  close(pfd[1]);
  close(logfd);
  close(nullfd);
  if (mid < 0) {
    close(pfd[0]);
    return -errno;
  }
  pid_t g = -1;
  ssize_t r;
  do r = read(pfd[0], &g, sizeof(g));
  while (r < 0 && errno == EINTR);
  close(pfd[0]);
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (r != (ssize_t)sizeof(g) || g <= 0) return -ECHILD;
  *out = g;
  return 0;
}

/* What the runner adds to its language drivers' environment: the Python driver's %pip runs the same pip
 * command as POST .../packages (sluice/api_packages.h). */
static void set_driver_env(json_t *rec) {
  json_t *pip = sl_api_package_pip_argv(g_gw.cfg.package_index_python);
  char *s = pip ? json_dumps(pip, JSON_COMPACT) : NULL;
  json_object_set_new(rec, "driver_env", json_pack("{s:s?}", SL_PIP_INSTALL_ENV, s));
  free(s);
  json_decref(pip);
}

int lc_create(json_t *rec, lc_create_cb cb, void *ctx) {
  char id[37], dir[PATH_MAX], created[32];
  int rc;
  sl_uuid_str(id);
  int slot = reg_alloc_slot();
  if (slot < 0) {
    json_decref(rec);
    return slot;
  }
  if (!json_object_get(rec, "name")) {
    char name[16];
    snprintf(name, sizeof(name), "sb-%.8s", id);
    json_object_set_new(rec, "name", json_string(name));
  }
  time_t now = time(NULL);
  sl_api_time_str(now, created);
  json_object_set_new(rec, "id", json_string(id));
  json_object_set_new(rec, "created_at", json_integer((json_int_t)now));
  json_object_set_new(rec, "created_at_rfc3339", json_string(created));
  json_object_set_new(rec, "uid_base", json_integer((json_int_t)GW_UID_BASE_START + (json_int_t)slot * GW_UID_RANGE));
  json_object_set_new(rec, "uid_count", json_integer(GW_UID_RANGE));
  json_object_set(rec, "hostname", json_object_get(rec, "name"));
  json_object_set_new(rec, "status", json_string("starting"));
  json_object_set_new(rec, "restarts", json_integer(0));
  set_driver_env(rec);
  gw_sandbox_t *sb = reg_add(id, rec, (unsigned)slot);
  if (!sb) return -ENOMEM;
  sb->hidden = json_is_true(json_object_get(rec, "pool_idle")); /* a warm-pool member (pool.c) */
  reg_path(id, NULL, dir, sizeof(dir));
  if (mkdir(dir, 0700) < 0 || (rc = reg_persist(sb)) < 0) {
    rc = -errno;
    rmdir(dir);
    reg_remove(sb);
    return rc ? rc : -EIO;
  }
  gw_lc_t *lc = lc_of(sb);
  pid_t pid = -1;
  rc = lc ? spawn_runner(sb, &pid) : -ENOMEM;
  if (rc == 0) rc = watch_runner(sb, pid);
  if (rc < 0) {
    sb->deleting = 1;
    finish_delete(sb);
    return rc;
  }
  lc->create_cb = cb;
  lc->create_ctx = ctx;
  lc->create_t0_ms = culler_now_ms();
  lws_sul_schedule(g_gw.ctx, 0, &lc->create_sul, create_timeout_cb, (lws_usec_t)g_gw.cfg.create_timeout_s * 1000000);
  return 0;
}

void lc_on_hello(const char *id, const json_t *c) {
  gw_sandbox_t *sb = reg_find_id(id);
  const char *state = json_string_value(json_object_get(c, "state"));
  const char *claimed = json_string_value(json_object_get(c, "sandbox_id"));
  if (!sb || !state || !claimed || strcmp(claimed, id) != 0) {
    fprintf(stderr, "sluice-gateway: hello from unknown runner %s ignored\n", id);
    return;
  }
  if (!sb->pidw && !sb->runner_dead) {
    json_int_t pid = json_integer_value(json_object_get(c, "runner_pid"));
    if (pid > 1) watch_runner(sb, (pid_t)pid);
  }
  if (sb->deleting) return;
  if (strcmp(state, "ready") == 0) {
    sb->connected = 1;
    if (strcmp(reg_status(sb), "running") != 0) reg_set_status(sb, "running", NULL);
    zb_sandbox_connected(id);
    gw_lc_t *lc = sb->lc;
    if (lc && lc->create_cb) {
      lc_create_cb cb = lc->create_cb;
      lc->create_cb = NULL;
      lws_sul_cancel(&lc->create_sul);
      metrics_create_done(culler_now_ms() - lc->create_t0_ms);
      if (!sb->hidden)
        log_event("sandbox_created", sb->id, "{s:s, s:s, s:s, s:I, s:O?, s:s?}", "name", reg_str(sb, "name"),
                  "namespace", reg_str(sb, "namespace"), "image", reg_str(sb, "image"), "timeout",
                  json_integer_value(json_object_get(sb->rec, "timeout")), "ttl_seconds",
                  json_object_get(sb->rec, "ttl_seconds"), "workspace_id",
                  json_string_value(json_object_get(sb->rec, "workspace_id")));
      culler_touch(sb); /* idle time counts from ready, not from the create */
      cb(lc->create_ctx, sb, NULL);
    }
    return;
  }
  const char *err = json_string_value(json_object_get(c, "error"));
  char msg[600];
  snprintf(msg, sizeof(msg), "the sandbox failed to start: %s", err ? err : "unknown error");
  sb->connected = 1;
  reg_set_status(sb, "error", msg);
  if (sb->lc && sb->lc->create_cb) fail_create(sb, msg);
}

/* ---- gateway restart ---- */

static int runner_alive(const char *id, pid_t pid) {
  char p[64], cmd[4096];
  snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
  close(fd);
  if (n <= 0) return 0;
  cmd[n] = 0;
  const char *base = strrchr(cmd, '/');
  base = base ? base + 1 : cmd;
  if (strcmp(base, "sluice-runner") != 0) return 0;
  for (ssize_t i = 0; i < n;) { /* argv is NUL-separated: look for the id as one argument */
    if (strcmp(cmd + i, id) == 0) return 1;
    i += (ssize_t)strlen(cmd + i) + 1;
  }
  return 0;
}

static void adopt_one(const char *id) {
  char p[PATH_MAX];
  json_error_t je;
  reg_path(id, "sandbox.json", p, sizeof(p));
  json_t *rec = json_load_file(p, 0, &je);
  json_int_t uid_base = json_integer_value(json_object_get(rec, "uid_base"));
  if (!json_is_object(rec) || strcmp(json_string_value(json_object_get(rec, "id")) ?: "", id) != 0 ||
      uid_base < GW_UID_BASE_START || reg_find_id(id)) {
    fprintf(stderr, "sluice-gateway: ignoring %s: not a valid sandbox record\n", p);
    json_decref(rec);
    return;
  }
  unsigned slot = (unsigned)((uid_base - GW_UID_BASE_START) / GW_UID_RANGE);
  gw_sandbox_t *sb = reg_add(id, rec, slot);
  if (!sb) return;
  sb->hidden = json_is_true(json_object_get(rec, "pool_idle")); /* pool members stay pooled (pool.c) */
  reg_path(id, "runner.pid", p, sizeof(p));
  FILE *f = fopen(p, "re");
  long pid = 0;
  if (f) {
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
  }
  if (pid > 1 && runner_alive(id, (pid_t)pid) && watch_runner(sb, (pid_t)pid) == 0) {
    if (strcmp(reg_status(sb), "error") != 0) reg_set_status(sb, "starting", NULL);
    log_event("sandbox_adopted", id, "{s:I}", "runner_pid", (json_int_t)pid);
    return;
  }
  sb->runner_dead = 1;
  if (strcmp(reg_status(sb), "error") != 0) set_error(sb, "the sandbox's runner was gone when the gateway started");
  cleanup_step(sb);
}

int lc_adopt_all(void) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/sandboxes", g_gw.cfg.state_dir);
  DIR *d = opendir(dir);
  if (!d) return -errno;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strlen(e->d_name) != 36) continue;
    adopt_one(e->d_name);
  }
  closedir(d);
  return 0;
}
