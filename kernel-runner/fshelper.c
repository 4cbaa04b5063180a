/* fshelper.c — file operations inside the sandbox (fshelper.h). Runs in a forked child of init, after
 * the uid switch, the capability drop and seccomp; a failure here only ever fails one request. */
#include "fshelper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FS_STATUS_FD 2
#define FS_COPY_BUF (256u << 10)
#define FS_MAX_REMOVE_DEPTH 256

static int g_root = -1;
static size_t g_entries;
static int g_list_truncated;

/* One status record on fd 2 (obj stolen). */
static void status(json_t *obj) {
  char *t = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (!t) return;
  size_t len = strlen(t), off = 0;
  t[len++] = '\n'; /* json_dumps leaves room: we overwrite its NUL, the length is known */
  while (off < len) {
    ssize_t n = write(FS_STATUS_FD, t + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  free(t);
}

static const char *code_of(int err) {
  switch (err) {
    case ENOENT: case ENOTDIR: return "not_found";
    case EACCES: case EPERM: case EROFS: return "forbidden";
    case EEXIST: case ENOTEMPTY: case EBUSY: return "conflict";
    case ENOSPC: case EDQUOT: case EFBIG: return "no_space";
    case EINVAL: case ELOOP: case ENAMETOOLONG: case EXDEV: case EISDIR: return "bad_request";
    default: return "internal";
  }
}

static int fail_errno(const char *what, const char *path, int err) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s %.300s: %s", what, path, strerror(err));
  status(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code_of(err), "message", msg));
  return 1;
}

static int fail_code(const char *code, const char *message) {
  status(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "message", message));
  return 1;
}

/* Absolute, normalised form of path (relative paths are relative to the cwd init gave us). Only
 * slashes are collapsed: ".." stays and is resolved by the kernel within the sandbox root. */
static int absolute(const char *path, char *out, size_t len) {
  char cwd[PATH_MAX] = "/";
  if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "/");
  char tmp[PATH_MAX * 2];
  int n = path[0] == '/' ? snprintf(tmp, sizeof tmp, "%s", path) : snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
  if (n < 0 || (size_t)n >= sizeof tmp) return -ENAMETOOLONG;
  size_t w = 0;
  for (const char *p = tmp; *p; p++) {
    if (*p == '/' && w && out[w - 1] == '/') continue;
    if (w + 1 >= len) return -ENAMETOOLONG;
    out[w++] = *p;
  }
  while (w > 1 && out[w - 1] == '/') w--;
  out[w] = 0;
  return 0;
}

/* openat2 beneath the sandbox root; magic links (/proc/self/fd/N, /proc/self/root) refused. */
static int open_in_root(const char *abs, int flags, mode_t mode) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .mode = mode,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, g_root, abs, &how, sizeof how);
  return fd < 0 ? -errno : (int)fd;
}

/* Splits abs into an O_PATH fd of its parent and the last component (a pointer into abs). */
static int open_parent(const char *abs, const char **base) {
  const char *slash = strrchr(abs, '/');
  *base = slash + 1;
  if (!**base || !strcmp(*base, ".") || !strcmp(*base, "..")) return -EINVAL;
  char parent[PATH_MAX];
  size_t plen = (size_t)(slash - abs);
  memcpy(parent, abs, plen ? plen : 1);
  parent[plen ? plen : 1] = 0;
  return open_in_root(parent, O_PATH | O_DIRECTORY, 0);
}

static json_t *entry_json(const char *name, const char *path, const struct stat *st) {
  char when[40];
  struct tm tm;
  gmtime_r(&st->st_mtim.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const char *type = S_ISDIR(st->st_mode) ? "dir" : S_ISLNK(st->st_mode) ? "symlink" : "file";
  return json_pack("{s:s, s:s, s:s, s:I, s:i, s:s}", "name", name, "path", path, "type", type, "size",
                   (json_int_t)st->st_size, "mode", (int)(st->st_mode & 07777), "mtime", when);
}

static int do_stat(const char *abs) {
  struct stat st;
  const char *base;
  if (!strcmp(abs, "/")) {
    if (fstat(g_root, &st) < 0) return fail_errno("stat", abs, errno);
    status(json_pack("{s:b, s:o}", "ok", 1, "entry", entry_json("/", "/", &st)));
    return 0;
  }
  int pfd = open_parent(abs, &base);
  if (pfd < 0) return fail_errno("stat", abs, -pfd);
  int rc = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW);
  close(pfd);
  if (rc < 0) return fail_errno("stat", abs, errno);
  status(json_pack("{s:b, s:o}", "ok", 1, "entry", entry_json(base, abs, &st)));
  return 0;
}

static void list_dir(int dfd, const char *path, int depth, json_t *out) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (g_entries >= SL_FSHELPER_MAX_ENTRIES) {
      g_list_truncated = 1;
      break;
    }
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    char child[PATH_MAX];
    if (snprintf(child, sizeof child, "%s%s%s", path, strcmp(path, "/") ? "/" : "", de->d_name) >= (int)sizeof child)
      continue;
    json_array_append_new(out, entry_json(de->d_name, child, &st));
    g_entries++;
    if (S_ISDIR(st.st_mode) && depth > 1) {
      int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd >= 0) list_dir(cfd, child, depth - 1, out);
    }
  }
  closedir(d);
}

static int do_list(const char *abs, int depth) {
  if (depth < 1 || depth > SL_FSHELPER_MAX_DEPTH) return fail_code("bad_request", "depth must be 1..32");
  int fd = open_in_root(abs, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return fail_errno("list", abs, -fd);
  json_t *entries = json_array();
  list_dir(fd, abs, depth, entries);
  status(json_pack("{s:b, s:o, s:b}", "ok", 1, "entries", entries, "truncated", g_list_truncated));
  return 0;
}

/* mkdir -p; *created tells whether the last component was made now. */
static int mkdir_p(const char *abs, int *created) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", abs);
  *created = 0;
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p) continue;
    char keep = *p;
    *p = 0;
    const char *base;
    int pfd = open_parent(buf, &base);
    if (pfd == -EINVAL) { /* "." or "..": nothing to create */
      *p = keep;
      if (!keep) break;
      continue;
    }
    if (pfd < 0) return pfd;
    int rc = mkdirat(pfd, base, 0755);
    int err = errno;
    close(pfd);
    if (rc < 0 && err != EEXIST) return -err;
    if (!keep) {
      *created = rc == 0;
      if (rc < 0) { /* exists: it must be a directory */
        int fd = open_in_root(buf, O_PATH | O_DIRECTORY, 0);
        if (fd < 0) return fd == -ENOTDIR ? -EEXIST : fd;
        close(fd);
      }
      break;
    }
    *p = keep;
  }
  return 0;
}

static int do_mkdir(const char *abs) {
  int created;
  if (!strcmp(abs, "/")) return status(json_pack("{s:b, s:b}", "ok", 1, "created", 0)), 0;
  int rc = mkdir_p(abs, &created);
  if (rc < 0) return fail_errno("mkdir", abs, -rc);
  status(json_pack("{s:b, s:b}", "ok", 1, "created", created));
  return 0;
}

static int do_rename(const char *from, const char *to) {
  const char *fb, *tb;
  int ff = open_parent(from, &fb);
  if (ff < 0) return fail_errno("rename", from, -ff);
  int tf = open_parent(to, &tb);
  if (tf < 0) {
    close(ff);
    return fail_errno("rename to", to, -tf);
  }
  int rc = renameat(ff, fb, tf, tb);
  int err = errno;
  close(ff);
  close(tf);
  if (rc < 0) return fail_errno("rename", from, err);
  status(json_pack("{s:b}", "ok", 1));
  return 0;
}

/* Removes name in dfd, recursively; never follows symlinks (they are removed, not their targets). */
static int remove_at(int dfd, const char *name, int depth) {
  if (unlinkat(dfd, name, 0) == 0) return 0;
  if (errno != EISDIR && errno != EPERM) return -errno;
  if (depth > FS_MAX_REMOVE_DEPTH) return -ELOOP;
  int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return -errno;
  DIR *d = fdopendir(cfd);
  if (!d) {
    close(cfd);
    return -ENOMEM;
  }
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d)) && !rc)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) rc = remove_at(dirfd(d), de->d_name, depth + 1);
  closedir(d);
  if (rc) return rc;
  return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int do_remove(const char *abs) {
  const char *base;
  int pfd = open_parent(abs, &base);
  if (pfd < 0) return fail_errno("remove", abs, -pfd);
  struct stat st;
  int rc = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : remove_at(pfd, base, 0);
  close(pfd);
  if (rc < 0) return fail_errno("remove", abs, -rc);
  status(json_pack("{s:b}", "ok", 1));
  return 0;
}

/* Bytes used on the sandbox's own writable filesystems: every read-write tmpfs mounted in it (the root,
 * /tmp, ...), each counted once. Bind mounts of host directories are not the sandbox's disk. */
static int do_df(void) {
  FILE *f = fopen("/proc/self/mounts", "re");
  if (!f) return fail_errno("read", "/proc/self/mounts", errno);
  char line[4096], dev[256], dir[2048], type[64], opts[1024];
  fsid_t seen[64];
  size_t nseen = 0;
  uint64_t used = 0;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%255s %2047s %63s %1023s", dev, dir, type, opts) != 4) continue;
    if (strcmp(type, "tmpfs") || (!strncmp(opts, "ro", 2) && (opts[2] == ',' || !opts[2]))) continue;
    struct statfs sf;
    if (statfs(dir, &sf) < 0) continue;
    int dup = 0;
    for (size_t i = 0; i < nseen && !dup; i++) dup = !memcmp(&seen[i], &sf.f_fsid, sizeof sf.f_fsid);
    if (dup) continue;
    if (nseen < sizeof seen / sizeof seen[0]) seen[nseen++] = sf.f_fsid;
    used += (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
  }
  fclose(f);
  status(json_pack("{s:b, s:I}", "ok", 1, "used_bytes", (json_int_t)used));
  return 0;
}

static int write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int do_read(const char *abs, json_int_t max) {
  /* O_NONBLOCK: a FIFO must not hang the open; anything but a regular file is refused below */
  int fd = open_in_root(abs, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0) return fail_errno("read", abs, -fd);
  struct stat st;
  if (fstat(fd, &st) < 0) return fail_errno("read", abs, errno);
  if (S_ISDIR(st.st_mode)) return fail_code("bad_request", "the path is a directory");
  if (!S_ISREG(st.st_mode)) return fail_code("bad_request", "the path is not a regular file");
  fcntl(fd, F_SETFL, 0);
  uint64_t size = (uint64_t)st.st_size, n = max >= 0 && (uint64_t)max < size ? (uint64_t)max : size;
  status(json_pack("{s:b, s:I, s:b}", "ok", 1, "size", (json_int_t)n, "truncated", n < size));
  char *buf = malloc(FS_COPY_BUF);
  if (!buf) return 1;
  while (n) {
    ssize_t r = read(fd, buf, n < FS_COPY_BUF ? (size_t)n : FS_COPY_BUF);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || write_all(1, buf, (size_t)r) < 0) break; /* short: the runner sees EOF early */
    n -= (uint64_t)r;
  }
  free(buf);
  return n ? 1 : 0;
}

static int do_write(const char *abs) {
  const char *base;
  char parent[PATH_MAX];
  int created;
  snprintf(parent, sizeof parent, "%s", abs);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = 0;
    int rc = mkdir_p(parent, &created);
    if (rc < 0) return fail_errno("create parents of", abs, -rc);
  }
  int pfd = open_parent(abs, &base);
  if (pfd < 0) return fail_errno("write", abs, -pfd);
  struct stat st;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
    return fail_code("bad_request", "the path is a directory");
  /* the data goes to a temporary file renamed over the target at the end: readers see the old or the
   * new content, never a mix; an abandoned upload (the runner kills us) leaves nothing behind */
  char tmp[NAME_MAX + 1];
  snprintf(tmp, sizeof tmp, ".sluice-upload-%d", (int)getpid());
  int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = dfd < 0 ? -1 : openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  int anon = fd >= 0;
  if (!anon) fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("write", abs, errno);
  status(json_pack("{s:b}", "ok", 1));
  char *buf = malloc(FS_COPY_BUF);
  uint64_t total = 0;
  int err = buf ? 0 : ENOMEM;
  while (!err) {
    ssize_t r = read(0, buf, FS_COPY_BUF);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) err = errno;
    if (r <= 0) break;
    if (write_all(fd, buf, (size_t)r) < 0) err = errno;
    total += (uint64_t)r;
  }
  free(buf);
  if (!err && anon) {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, self, pfd, tmp, AT_SYMLINK_FOLLOW) < 0) err = errno;
  }
  if (!err && renameat(pfd, tmp, pfd, base) < 0) {
    err = errno;
    unlinkat(pfd, tmp, 0);
  }
  if (err && !anon) unlinkat(pfd, tmp, 0);
  if (err) return fail_errno("write", abs, err);
  status(json_pack("{s:b, s:I}", "ok", 1, "size", (json_int_t)total));
  return 0;
}

int sl_fshelper_main(const char *argv1) {
  /* init's other fds (its control socket, other sessions' pipes) were only marked close-on-exec, and
   * there is no exec here: close them for real */
  syscall(SYS_close_range, 3, ~0U, 0);
  json_error_t je;
  json_t *req = json_loads(argv1, JSON_REJECT_DUPLICATES, &je);
  const char *op = json_string_value(json_object_get(req, "op"));
  const char *path = json_string_value(json_object_get(req, "path"));
  if (!op) return fail_code("bad_request", "no op");
  if ((g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return fail_errno("open", "/", errno);
  if (!strcmp(op, "df")) return do_df();
  char abs[PATH_MAX], to[PATH_MAX];
  if (!path || !*path) return fail_code("bad_request", "path is required");
  if (absolute(path, abs, sizeof abs) < 0) return fail_code("bad_request", "path too long");
  json_t *depth = json_object_get(req, "depth"), *max = json_object_get(req, "max_bytes");
  if (!strcmp(op, "stat")) return do_stat(abs);
  if (!strcmp(op, "list")) return do_list(abs, depth ? (int)json_integer_value(depth) : 1);
  if (!strcmp(op, "mkdir")) return do_mkdir(abs);
  if (!strcmp(op, "remove")) return do_remove(abs);
  if (!strcmp(op, "read")) return do_read(abs, max ? json_integer_value(max) : -1);
  if (!strcmp(op, "write")) return do_write(abs);
  if (!strcmp(op, "rename")) {
    const char *t = json_string_value(json_object_get(req, "to"));
    if (!t || !*t || absolute(t, to, sizeof to) < 0) return fail_code("bad_request", "to is required");
    return do_rename(abs, to);
  }
  return fail_code("bad_request", "unknown op");
}
