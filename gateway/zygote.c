/* zygote.c — starting and watching the images' zygotes (zygote.h). */
#include "zygote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "lifecycle.h"
#include "log.h"

typedef struct {
  char image[64];
  char image_json[PATH_MAX];
  char sock[PATH_MAX];
  pid_t pid;          /* 0 when not running */
  int64_t started_ms;
  unsigned starts;
} zy_t;

static zy_t g_zy[ZYGOTE_MAX_IMAGES];
static unsigned g_n;
static int g_running;
static lws_sorted_usec_list_t g_sul;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int safe_name(const char *s) {
  if (!*s || *s == '.' || strlen(s) >= sizeof(g_zy[0].image)) return 0;
  for (; *s; s++)
    if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9')))
      return 0;
  return 1;
}

/* "K=V" strings of the image's env overlaid with its zygote.env (a new NULL-terminated array). */
static char **zygote_env(json_t *image) {
  json_t *env = json_copy(json_object_get(image, "env"));
  if (!json_is_object(env)) json_decref(env), env = json_object();
  json_object_update(env, json_object_get(json_object_get(image, "zygote"), "env"));
  char **out = calloc(json_object_size(env) + 1, sizeof(*out));
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(env, k, v) {
    if (out && json_is_string(v) && asprintf(&out[n], "%s=%s", k, json_string_value(v)) > 0) n++;
  }
  json_decref(env);
  return out;
}

static void free_strv(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

/* A sealed memfd holding a copy of the file at path (-1 on failure). Runs in the forked child. */
static int memfd_copy(const char *path) {
  int in = open(path, O_RDONLY | O_CLOEXEC), out = memfd_create("sluice-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  char buf[65536];
  ssize_t n = 0;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n) n = -1;
  if (in >= 0) close(in);
  if (n != 0 || out < 0 || fcntl(out, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    if (out >= 0) close(out);
    return -1;
  }
  return out;
}

static int spawn(zy_t *z) {
  char exe[PATH_MAX], dir[PATH_MAX], logp[PATH_MAX], drivers[PATH_MAX];
  if (lc_runner_path(exe, sizeof(exe)) < 0) return -ENOENT;
  snprintf(dir, sizeof(dir), "%s", exe);
  *strrchr(dir, '/') = 0;
  if (snprintf(exe, sizeof(exe), "%s/sluice-zygote", dir) >= (int)sizeof(exe)) return -ENAMETOOLONG;
  if (access(exe, X_OK) < 0) return -errno;
  if (!realpath(g_gw.cfg.drivers_dir, drivers)) return -errno;
  json_t *image = json_load_file(z->image_json, 0, NULL);
  json_t *argv_j = json_object_get(json_object_get(json_object_get(image, "languages"), "python"), "argv");
  size_t argc = json_array_size(argv_j);
  char **argv = calloc(argc + 1, sizeof(*argv)), **envp = image ? zygote_env(image) : NULL;
  json_t *conf = json_pack("{s:s, s:s, s:s}", "image_json", z->image_json, "drivers_dir", drivers, "socket", z->sock);
  char *conf_s = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
  int p[2] = {-1, -1}, logfd = -1, nullfd = -1, rc = 0;
  for (size_t i = 0; argv && i < argc; i++) argv[i] = (char *)json_string_value(json_array_get(argv_j, i));
  snprintf(logp, sizeof(logp), "%s/run/zygote-%s.log", g_gw.cfg.state_dir, z->image);
  if (!argc || !argv || !envp || !conf_s) { rc = -EINVAL; goto out; }
  if ((logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0 ||
      (nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(p, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  unlink(z->sock); /* a stale one would look ready */
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    setsid(); /* no terminal signals from the gateway's session */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0 || dup2(p[0], 3) < 0) _exit(126);
    syscall(SYS_close_range, 4, ~0u, 0);
    /* from a sealed in-memory copy (runc's CVE-2019-5736 fix): the children's /proc/self/exe is that
     * copy, never the host file nor its path */
    int mfd = memfd_copy(exe);
    if (mfd >= 0) syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
    _exit(127);
    _exit(127);
  }
  if (pid < 0) { rc = -errno; goto out; }
  close(p[0]);
  p[0] = -1;
  size_t len = strlen(conf_s), off = 0;
  while (off < len) {
    ssize_t n = write(p[1], conf_s + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  z->pid = pid;
  z->started_ms = now_ms();
  z->starts++;
  log_event("zygote_started", NULL, "{s:s, s:i}", "image", z->image, "pid", (int)pid);
out:
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0) close(p[i]);
  if (logfd >= 0) close(logfd);
  if (nullfd >= 0) close(nullfd);
  free(conf_s);
  json_decref(conf);
  free(argv);
  free_strv(envp);
  json_decref(image);
  return rc;
}

static void tick_cb(lws_sorted_usec_list_t *sul) {
  (void)sul;
  for (unsigned i = 0; i < g_n; i++) {
    zy_t *z = &g_zy[i];
    int st;
    if (z->pid > 0 && waitpid(z->pid, &st, WNOHANG) == z->pid) {
      log_event("zygote_exited", NULL, "{s:s, s:i, s:i}", "image", z->image, "status",
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, "signal", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      z->pid = 0;
      unlink(z->sock); /* runners go cold until the next one is ready */
    }
    if (z->pid == 0 && now_ms() - z->started_ms >= ZYGOTE_RESTART_MS) {
      int rc = spawn(z);
      if (rc < 0) {
        z->started_ms = now_ms();
        log_event("zygote_failed", NULL, "{s:s, s:s}", "image", z->image, "error", strerror(-rc));
      }
    }
  }
  if (g_running) lws_sul_schedule(g_gw.ctx, 0, &g_sul, tick_cb, (lws_usec_t)ZYGOTE_TICK_MS * 1000);
}

void zygote_start(void) {
  if (!g_gw.cfg.zygote || !g_gw.cfg.images_dir) return;
  DIR *d = opendir(g_gw.cfg.images_dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d)) && g_n < ZYGOTE_MAX_IMAGES;) {
    zy_t *z = &g_zy[g_n];
    if (!safe_name(e->d_name)) continue;
    if (snprintf(z->image_json, sizeof(z->image_json), "%s/%s/image.json", g_gw.cfg.images_dir, e->d_name) >=
        (int)sizeof(z->image_json))
      continue;
    json_t *image = json_load_file(z->image_json, 0, NULL);
    int has = json_is_object(json_object_get(image, "zygote"));
    json_decref(image);
    if (!has) continue;
    if (snprintf(z->image, sizeof(z->image), "%s", e->d_name) >= (int)sizeof(z->image)) continue;
    if ((size_t)snprintf(z->sock, sizeof(z->sock), "%s/run/zygote-%s.sock", g_gw.cfg.state_dir, e->d_name) >= 108)
      continue; /* longer than a unix socket address: runners could not connect */
    z->pid = 0;
    z->started_ms = now_ms() - ZYGOTE_RESTART_MS;
    g_n++;
  }
  closedir(d);
  if (!g_n) return;
  g_running = 1;
  tick_cb(&g_sul);
}

void zygote_stop(void) {
  g_running = 0;
  if (g_gw.ctx) lws_sul_cancel(&g_sul);
  for (unsigned i = 0; i < g_n; i++) {
    zy_t *z = &g_zy[i];
    if (z->pid <= 0) continue;
    kill(z->pid, SIGKILL);
    while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR) {}
    z->pid = 0;
    unlink(z->sock);
  }
}

json_t *zygote_status(void) {
  if (!g_n) return NULL;
  json_t *o = json_object();
  for (unsigned i = 0; i < g_n; i++) {
    struct stat st;
    const zy_t *z = &g_zy[i];
    const char *state = z->pid <= 0 ? "down" : stat(z->sock, &st) == 0 ? "ready" : "starting";
    json_object_set_new(o, z->image, json_pack("{s:s, s:i, s:i}", "state", state, "pid", (int)z->pid, "starts", (int)z->starts));
  }
  return o;
}
