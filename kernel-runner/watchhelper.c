/* watchhelper.c — inotify inside the sandbox (watchhelper.h). Runs in a forked child of init, after the
 * uid switch, the capability drop and seccomp; a failure here only ever ends one watch. */
#include "watchhelper.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define OUT_FD 1
#define WATCH_MASK \
  (IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | \
   IN_EXCL_UNLINK | IN_ONLYDIR | IN_DONT_FOLLOW)

typedef struct {
  int wd;
  char *path;
} wdent_t;

typedef struct {
  const char *event; /* static */
  char *path, *from;
} rec_t;

static int g_ifd = -1, g_recursive, g_root_wd = -1, g_limit_reported;
static wdent_t g_wd[SL_WATCH_MAX_WATCHES];
static size_t g_nwd;
static rec_t g_q[SL_WATCH_MAX_PENDING];
static size_t g_nq;
static int64_t g_first_at;
/* a MOVED_FROM whose MOVED_TO may come next (same cookie) */
static struct {
  uint32_t cookie;
  int isdir;
  char *path;
} g_from;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One record on fd 1 (obj stolen); the reader gone ends the helper. */
static void put(json_t *obj) {
  char *t = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (!t) return;
  size_t len = strlen(t), off = 0;
  t[len++] = '\n'; /* json_dumps's NUL is overwritten: the length is known */
  while (off < len) {
    ssize_t n = write(OUT_FD, t + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    off += (size_t)n;
  }
  free(t);
}

static int fail(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *code, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  put(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "message", msg));
  return 1;
}

static void flush(void) {
  for (size_t i = 0; i < g_nq; i++) {
    json_t *o = json_pack("{s:s}", "event", g_q[i].event);
    if (o && g_q[i].path) json_object_set_new(o, "path", json_string(g_q[i].path));
    if (o && g_q[i].from) json_object_set_new(o, "from", json_string(g_q[i].from));
    put(o);
    free(g_q[i].path);
    free(g_q[i].from);
  }
  g_nq = 0;
}

/* Queues a record (path and from copied). A write right after a write to the same path is dropped. */
static void push(const char *event, const char *path, const char *from) {
  if (!strcmp(event, "write"))
    for (size_t i = g_nq; i-- > 0;) {
      if (!g_q[i].path || strcmp(g_q[i].path, path) != 0) continue;
      if (!strcmp(g_q[i].event, "write")) return;
      break;
    }
  if (g_nq == SL_WATCH_MAX_PENDING) flush();
  if (!g_nq) g_first_at = now_ms();
  rec_t *r = &g_q[g_nq];
  r->event = event;
  r->path = path ? strdup(path) : NULL;
  r->from = from ? strdup(from) : NULL;
  if ((path && !r->path) || (from && !r->from)) {
    free(r->path);
    free(r->from);
    return;
  }
  g_nq++;
}

static wdent_t *by_wd(int wd) {
  for (size_t i = 0; i < g_nwd; i++)
    if (g_wd[i].wd == wd) return &g_wd[i];
  return NULL;
}

static void drop_entry(wdent_t *e) {
  free(e->path);
  *e = g_wd[--g_nwd];
}

/* Watches one directory. 0, -ENOSPC at the limit, or -errno. */
static int add_watch(const char *path) {
  if (g_nwd == SL_WATCH_MAX_WATCHES) return -ENOSPC;
  int wd = inotify_add_watch(g_ifd, path, WATCH_MASK);
  if (wd < 0) return errno == ENOSPC ? -EMFILE : -errno; /* the kernel's per-user watch limit */
  wdent_t *e = by_wd(wd);
  char *p = strdup(path);
  if (!p) return -ENOMEM;
  if (e) { /* the same directory under another name (moved while we scanned) */
    free(e->path);
    e->path = p;
    return 0;
  }
  g_wd[g_nwd++] = (wdent_t){wd, p};
  if (g_root_wd < 0) g_root_wd = wd;
  return 0;
}

static int is_dir_entry(const char *path, const struct dirent *de) {
  if (de->d_type == DT_DIR) return 1;
  if (de->d_type != DT_UNKNOWN) return 0;
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Watches path and (recursive) the directories under it; synth: report what it holds as create.
 * 0, or the first hard error (-ENOSPC: the watch limit). Vanished entries are skipped. */
static int add_tree(const char *path, int synth, int depth) {
  int rc = add_watch(path);
  if (rc < 0) return rc == -ENOENT || rc == -ENOTDIR ? 0 : rc;
  if (!g_recursive && !synth) return 0;
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *de;
  size_t plen = strlen(path);
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *child = malloc(plen + strlen(de->d_name) + 2);
    if (!child) continue;
    sprintf(child, "%s%s%s", path, plen > 1 ? "/" : "", de->d_name);
    int dir = is_dir_entry(child, de);
    if (synth) push("create", child, NULL);
    if (dir && g_recursive && depth < SL_WATCH_MAX_DEPTH) rc = add_tree(child, synth, depth + 1);
    free(child);
    if (rc < 0) break;
  }
  closedir(d);
  return rc;
}

/* A new directory in a recursive watch: watched (with what it holds) before its records go out. */
static void watch_new_dir(const char *path) {
  if (add_tree(path, 1, 1) == -ENOSPC && !g_limit_reported) {
    g_limit_reported = 1; /* events under directories past the limit are missed */
    push("overflow", NULL, NULL);
  }
}

/* Entries for old (and below it) now live under new. */
static void rename_prefix(const char *old, const char *new) {
  size_t ol = strlen(old), nl = strlen(new);
  for (size_t i = 0; i < g_nwd; i++) {
    char *p = g_wd[i].path;
    if (strncmp(p, old, ol) != 0 || (p[ol] && p[ol] != '/')) continue;
    char *np = malloc(nl + strlen(p + ol) + 1);
    if (!np) continue;
    sprintf(np, "%s%s", new, p + ol);
    free(p);
    g_wd[i].path = np;
  }
}

/* old and what is below it left the watched tree. */
static void forget_prefix(const char *old) {
  size_t ol = strlen(old);
  for (size_t i = 0; i < g_nwd;) {
    char *p = g_wd[i].path;
    if (g_wd[i].wd != g_root_wd && !strncmp(p, old, ol) && (!p[ol] || p[ol] == '/')) {
      inotify_rm_watch(g_ifd, g_wd[i].wd);
      drop_entry(&g_wd[i]);
    } else {
      i++;
    }
  }
}

static void flush_from(void) {
  if (!g_from.path) return;
  push("rename", g_from.path, NULL);
  if (g_from.isdir && g_recursive) forget_prefix(g_from.path);
  free(g_from.path);
  g_from.path = NULL;
}

static void on_event(const struct inotify_event *e) {
  if (e->mask & IN_Q_OVERFLOW) {
    flush_from();
    push("overflow", NULL, NULL);
    return;
  }
  wdent_t *w = by_wd(e->wd);
  if (!w) return;
  if (e->mask & IN_IGNORED) { /* the watch is gone (its directory removed or unmounted) */
    int root = e->wd == g_root_wd;
    drop_entry(w);
    if (root) {
      flush_from();
      flush();
      _exit(0);
    }
    return;
  }
  int isdir = !!(e->mask & IN_ISDIR);
  if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
    if (e->wd != g_root_wd) return; /* its parent reports it by name */
    flush_from();
    push(e->mask & IN_DELETE_SELF ? "remove" : "rename", w->path, NULL);
    flush();
    _exit(0); /* the watched directory is gone from where it was: the watch ends */
  }
  size_t plen = strlen(w->path);
  char *path = malloc(plen + e->len + 2);
  if (!path) return;
  if (e->len)
    sprintf(path, "%s%s%s", w->path, plen > 1 ? "/" : "", e->name);
  else
    strcpy(path, w->path);
  if (g_from.path && !((e->mask & IN_MOVED_TO) && e->cookie == g_from.cookie)) flush_from();
  if (e->mask & IN_CREATE) {
    push("create", path, NULL);
    if (isdir && g_recursive) watch_new_dir(path);
  } else if (e->mask & IN_MODIFY) {
    push("write", path, NULL);
  } else if (e->mask & IN_ATTRIB) {
    push("chmod", path, NULL);
  } else if (e->mask & IN_DELETE) {
    push("remove", path, NULL);
  } else if (e->mask & IN_MOVED_FROM) {
    g_from.cookie = e->cookie;
    g_from.isdir = isdir;
    g_from.path = path;
    path = NULL;
  } else if (e->mask & IN_MOVED_TO) {
    if (g_from.path) {
      push("rename", path, g_from.path);
      if (isdir && g_recursive) rename_prefix(g_from.path, path);
      free(g_from.path);
      g_from.path = NULL;
    } else { /* moved in from outside the watched tree */
      push("create", path, NULL);
      if (isdir && g_recursive) watch_new_dir(path);
    }
  }
  free(path);
}

/* Absolute form of path (relative: from the cwd init gave us, the workdir), symlinks resolved. */
static int resolve(const char *path, char *out) {
  char tmp[PATH_MAX * 2], cwd[PATH_MAX] = "/";
  if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "/");
  int n = path[0] == '/' ? snprintf(tmp, sizeof tmp, "%s", path) : snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
  if (n < 0 || (size_t)n >= sizeof tmp) return -ENAMETOOLONG;
  return realpath(tmp, out) ? 0 : -errno;
}

int sl_watchhelper_main(const char *argv1) {
  /* init's other fds (its control socket, the spawn's error pipe init waits on) were only marked
   * close-on-exec, and there is no exec here: close them for real */
  syscall(SYS_close_range, 3, ~0U, 0);
  prctl(PR_SET_NAME, "sluice-watch", 0, 0, 0);
  json_t *req = json_loads(argv1, 0, NULL);
  const char *path = json_string_value(json_object_get(req, "path"));
  if (!path || !*path) return fail("internal", "bad watch request");
  g_recursive = json_is_true(json_object_get(req, "recursive"));
  char root[PATH_MAX];
  struct stat st;
  int rc = resolve(path, root);
  if (rc == -ENOENT || rc == -ENOTDIR) return fail("not_found", "no such directory: %.300s", path);
  if (rc == -EACCES) return fail("forbidden", "cannot watch %.300s: %s", path, strerror(-rc));
  if (rc < 0) return fail("invalid_path", "cannot watch %.300s: %s", path, strerror(-rc));
  if (stat(root, &st) < 0) return fail("not_found", "cannot watch %.300s: %s", root, strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fail("invalid_path", "not a directory: %.300s", root);
  json_decref(req);
  g_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (g_ifd < 0)
    return fail(errno == EMFILE ? "too_many" : "internal", "inotify for %.300s: %s", root, strerror(errno));
  rc = add_tree(root, 0, 1);
  if (rc == -ENOSPC)
    return fail("too_many", "more than %d directories under %.300s: watch a smaller tree", SL_WATCH_MAX_WATCHES, root);
  if (rc == -EMFILE) return fail("too_many", "the sandbox user's inotify watch limit is reached (%.300s)", root);
  if (rc == -EACCES) return fail("forbidden", "cannot watch %.300s: %s", root, strerror(-rc));
  if (rc < 0 || g_root_wd < 0) return fail("internal", "cannot watch %.300s: %s", root, strerror(rc < 0 ? -rc : ENOENT));
  put(json_pack("{s:s, s:s}", "event", "watching", "path", root));
  static char buf[64 << 10] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    int timeout = -1;
    if (g_nq || g_from.path) {
      int64_t left = g_first_at + SL_WATCH_COALESCE_MS - now_ms();
      timeout = !g_nq ? SL_WATCH_COALESCE_MS : left > 0 ? (int)left : 0;
    }
    struct pollfd pfd[2] = {{g_ifd, POLLIN, 0}, {OUT_FD, 0, 0}};
    int n = poll(pfd, 2, timeout);
    if (n < 0 && errno != EINTR) return 1;
    if (pfd[1].revents & (POLLERR | POLLHUP)) return 0; /* nobody reads us any more */
    if (pfd[0].revents & POLLIN) {
      for (;;) {
        ssize_t len = read(g_ifd, buf, sizeof buf);
        if (len < 0 && errno == EINTR) continue;
        if (len <= 0) break;
        for (char *p = buf; p < buf + len;) {
          const struct inotify_event *e = (const struct inotify_event *)p;
          on_event(e);
          p += sizeof *e + e->len;
        }
      }
    }
    if (n == 0) flush_from(); /* quiet: a MOVED_TO is not coming */
    if (g_nq && now_ms() >= g_first_at + SL_WATCH_COALESCE_MS) flush();
  }
}
