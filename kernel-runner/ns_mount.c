/* ns_mount.c — building the root filesystem (ns_mount.h). */
#include "ns_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "rutil.h"

#define BASE "/tmp"           /* in our own mount namespace only; pivot_root moves it away again */
#define NEW "/newroot"
#define OLD "/oldroot"
#define SL_WORKSPACE_MOUNT "/workspace"
#define RW "/rw"              /* the shared writable tmpfs (ephemeral-storage), outside the new root */

/* Paths masked in /proc (runc CVE-2025-52881 / CVE-2025-31133 class; isolation.md). */
static const char *const PROC_MASK_FILES[] = {"kcore", "keys", "latency_stats", "timer_list", "timer_stats",
                                              "sched_debug"};
static const char *const PROC_MASK_DIRS[] = {"asound", "acpi", "scsi"};
static const char *const PROC_RO[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
static const char *const DEV_NODES[] = {"null", "zero", "full", "random", "urandom", "tty"};

typedef struct {
  const sl_mount_spec_t *spec;
  char *err;
  size_t errlen;
} ctx_t;

static int failf(ctx_t *c, int rc, const char *what, const char *path) {
  snprintf(c->err, c->errlen, "%s %s: %s", what, path ? path : "", strerror(-rc));
  return rc;
}

/* A remount in a user namespace must repeat the flags the kernel locked on the source mount
 * (MNT_LOCK_NOSUID/NODEV/NOEXEC/ATIME) or it fails with EPERM; statvfs reports them. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount_ro(const char *path) {
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path), NULL) < 0) return -errno;
  return 0;
}

static int make_target(const char *path, int dir) {
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = 0;
    int rc = sl_mkdir_p(parent, 0755);
    if (rc < 0) return rc;
  }
  if (dir) return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  close(fd);
  return 0;
}

/* Binds host src (seen under /oldroot) read-only at dst inside the new root. */
static int bind_ro(ctx_t *c, const char *src, const char *dst, int optional) {
  char from[PATH_MAX], to[PATH_MAX];
  struct stat st;
  snprintf(from, sizeof from, OLD "%s", src);
  snprintf(to, sizeof to, NEW "%s", dst);
  if (stat(from, &st) < 0) return optional ? 0 : failf(c, -errno, "bind source", src);
  int rc = make_target(to, S_ISDIR(st.st_mode));
  if (rc < 0) return failf(c, rc, "bind target", dst);
  if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0) return failf(c, -errno, "bind", src);
  if ((rc = remount_ro(to)) < 0) return failf(c, rc, "remount ro", dst);
  return 0;
}

static int tmpfs_at(const char *path, const char *opts, unsigned long flags) {
  int rc = sl_mkdir_p(path, 0755);
  if (rc < 0) return rc;
  return mount("tmpfs", path, "tmpfs", flags, opts) < 0 ? -errno : 0;
}

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int rc = n == (ssize_t)strlen(text) ? 0 : -EIO;
  close(fd);
  return rc;
}

static int step_base(ctx_t *c) {
  /* nothing we mount may propagate back to the host (and host mounts keep arriving read-only) */
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) return failf(c, -errno, "make / rslave", NULL);
  if (mount("tmpfs", BASE, "tmpfs", MS_NODEV | MS_NOSUID, "size=1m,mode=0755") < 0)
    return failf(c, -errno, "mount base tmpfs", BASE);
  if (chdir(BASE) < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
    return failf(c, -errno, "prepare base", BASE);
  if (syscall(SYS_pivot_root, ".", "oldroot") < 0) return failf(c, -errno, "pivot_root to base", NULL);
  if (chdir("/") < 0) return failf(c, -errno, "chdir", "/");
  const char *size = json_string_value(json_object_get(c->spec->rootfs, "size"));
  char opts[64];
  snprintf(opts, sizeof opts, "size=%s,mode=0755", size ? size : "16m");
  if (mount("tmpfs", NEW, "tmpfs", MS_NODEV | MS_NOSUID, opts) < 0) return failf(c, -errno, "mount root tmpfs", NULL);
  return 0;
}

static int step_binds(ctx_t *c) {
  json_t *binds = json_object_get(c->spec->rootfs, "binds"), *b;
  size_t i;
  json_array_foreach(binds, i, b) {
    const char *src = json_string_value(json_object_get(b, "src"));
    const char *dst = json_string_value(json_object_get(b, "dst"));
    if (!src || src[0] != '/' || strstr(src, "..")) return failf(c, -EINVAL, "image bind", src);
    if (!dst) dst = src;
    if (dst[0] != '/' || strstr(dst, "..")) return failf(c, -EINVAL, "image bind dst", dst);
    int rc = bind_ro(c, src, dst, json_is_true(json_object_get(b, "optional")));
    if (rc < 0) return rc;
  }
  return bind_ro(c, c->spec->drivers_dir, SL_DRIVERS_MOUNT, 0);
}

static int step_symlinks(ctx_t *c) {
  json_t *links = json_object_get(c->spec->rootfs, "symlinks"), *t;
  const char *path;
  json_object_foreach(links, path, t) {
    char to[PATH_MAX];
    if (path[0] != '/' || !json_is_string(t)) return failf(c, -EINVAL, "image symlink", path);
    snprintf(to, sizeof to, NEW "%s", path);
    int rc = make_target(to, 1);
    if (rc == 0) rmdir(to);
    if (symlink(json_string_value(t), to) < 0) return failf(c, -errno, "symlink", path);
  }
  return 0;
}

/* A writable directory at path inside the new root. With limits.ephemeral-storage every writable place
 * is a directory of ONE tmpfs of that size, bound into place, so the limit is a total: filling it is
 * ENOSPC inside and nothing lands on the host (tmpfs pages are also charged to the memory cgroup).
 * Without it each place is its own tmpfs of the image's size. */
static int writable_at(ctx_t *c, const char *path, const char *size, const char *mode, int owned, unsigned long flags) {
  static unsigned seq;
  char to[PATH_MAX], opts[128];
  const sl_mount_spec_t *sp = c->spec;
  snprintf(to, sizeof to, NEW "%s", path);
  if (!sp->storage) {
    int n = snprintf(opts, sizeof opts, "size=%s,mode=%s", size ? size : "64m", mode ? mode : "0755");
    if (owned) snprintf(opts + n, sizeof opts - n, ",uid=%u,gid=%u", (unsigned)sp->uid, (unsigned)sp->gid);
    int rc = tmpfs_at(to, opts, flags);
    return rc < 0 ? failf(c, rc, "tmpfs", path) : 0;
  }
  char dir[64];
  int rc;
  if (seq == 0) {
    snprintf(opts, sizeof opts, "size=%" PRIu64 ",mode=0755", sp->storage);
    if ((rc = tmpfs_at(RW, opts, MS_NOSUID | MS_NODEV)) < 0) return failf(c, rc, "storage tmpfs", NULL);
  }
  snprintf(dir, sizeof dir, RW "/%u", seq++);
  if (mkdir(dir, 0755) < 0 || chmod(dir, (mode_t)strtol(mode ? mode : "0755", NULL, 8)) < 0 ||
      (owned && chown(dir, sp->uid, sp->gid) < 0))
    return failf(c, -errno, "storage dir", path);
  if ((rc = sl_mkdir_p(to, 0755)) < 0) return failf(c, rc, "mkdir", path);
  if (mount(dir, to, NULL, MS_BIND, NULL) < 0) return failf(c, -errno, "bind storage", path);
  if (mount(NULL, to, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0) return failf(c, -errno, "remount storage", path);
  return 0;
}

static int step_tmpfs(ctx_t *c) {
  json_t *list = json_object_get(c->spec->rootfs, "tmpfs"), *t;
  size_t i;
  json_array_foreach(list, i, t) {
    const char *path = json_string_value(json_object_get(t, "path"));
    if (!path || path[0] != '/' || strstr(path, "..")) return failf(c, -EINVAL, "image tmpfs", path);
    int rc = writable_at(c, path, json_string_value(json_object_get(t, "size")),
                         json_string_value(json_object_get(t, "mode")), json_is_true(json_object_get(t, "owned")),
                         MS_NOSUID | MS_NODEV);
    if (rc < 0) return rc;
  }
  return 0;
}

/* The persistent workspace (mounted on the host by the gateway, gateway/workspaces.c) at /workspace,
 * read-write, owned by the user running code (the gateway gave its root to this sandbox's uid 0). */
static int step_workspace(ctx_t *c) {
  char from[PATH_MAX], to[PATH_MAX];
  const char *ws = c->spec->workspace;
  if (!ws) return 0;
  snprintf(from, sizeof from, OLD "%s", ws);
  snprintf(to, sizeof to, NEW "%s", SL_WORKSPACE_MOUNT);
  int rc = sl_mkdir_p(to, 0755);
  if (rc < 0) return failf(c, rc, "mkdir", SL_WORKSPACE_MOUNT);
  if (mount(from, to, NULL, MS_BIND, NULL) < 0) return failf(c, -errno, "bind workspace", ws);
  if (mount(NULL, to, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | locked_flags(to), NULL) < 0)
    return failf(c, -errno, "remount workspace", SL_WORKSPACE_MOUNT);
  if (chown(to, c->spec->uid, c->spec->gid) < 0) return failf(c, -errno, "chown", SL_WORKSPACE_MOUNT);
  return 0;
}

static int step_dev(ctx_t *c) {
  char to[PATH_MAX], from[PATH_MAX];
  int rc = tmpfs_at(NEW "/dev", "size=1m,mode=0755", MS_NOSUID | MS_NOEXEC);
  if (rc < 0) return failf(c, rc, "tmpfs", "/dev");
  for (size_t i = 0; i < sizeof DEV_NODES / sizeof DEV_NODES[0]; i++) {
    snprintf(from, sizeof from, OLD "/dev/%s", DEV_NODES[i]);
    snprintf(to, sizeof to, NEW "/dev/%s", DEV_NODES[i]);
    if ((rc = make_target(to, 0)) < 0) return failf(c, rc, "dev node", to);
    if (mount(from, to, NULL, MS_BIND, NULL) < 0) return failf(c, -errno, "bind", from);
  }
  if ((rc = sl_mkdir_p(NEW "/dev/pts", 0755)) < 0) return failf(c, rc, "mkdir", "/dev/pts");
  /* a private devpts instance: the host's ptys stay invisible */
  if (mount("devpts", NEW "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
    return failf(c, -errno, "mount", "devpts");
  if ((rc = writable_at(c, "/dev/shm", "64m", "1777", 0, MS_NOSUID | MS_NODEV)) < 0) return rc;
  static const char *const links[][2] = {{"pts/ptmx", "ptmx"},        {"/proc/self/fd", "fd"},
                                         {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                                         {"/proc/self/fd/2", "stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(to, sizeof to, NEW "/dev/%s", links[i][1]);
    if (symlink(links[i][0], to) < 0) return failf(c, -errno, "symlink", to);
  }
  return 0;
}

static int step_proc(ctx_t *c) {
  char to[PATH_MAX];
  int rc = sl_mkdir_p(NEW "/proc", 0555);
  if (rc < 0) return failf(c, rc, "mkdir", "/proc");
  /* a fresh procfs for our pid namespace (we are its pid 1 already) */
  if (mount("proc", NEW "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return failf(c, -errno, "mount", "/proc");
  for (size_t i = 0; i < sizeof PROC_RO / sizeof PROC_RO[0]; i++) {
    snprintf(to, sizeof to, NEW "/proc/%s", PROC_RO[i]);
    if (access(to, F_OK) < 0) continue;
    if (mount(to, to, NULL, MS_BIND | MS_REC, NULL) < 0 || (rc = remount_ro(to)) < 0)
      return failf(c, rc < 0 ? rc : -errno, "read-only", to);
  }
  for (size_t i = 0; i < sizeof PROC_MASK_FILES / sizeof PROC_MASK_FILES[0]; i++) {
    snprintf(to, sizeof to, NEW "/proc/%s", PROC_MASK_FILES[i]);
    if (access(to, F_OK) < 0) continue;
    if (mount(OLD "/dev/null", to, NULL, MS_BIND, NULL) < 0) return failf(c, -errno, "mask", to);
  }
  for (size_t i = 0; i < sizeof PROC_MASK_DIRS / sizeof PROC_MASK_DIRS[0]; i++) {
    snprintf(to, sizeof to, NEW "/proc/%s", PROC_MASK_DIRS[i]);
    if (access(to, F_OK) < 0) continue;
    if (mount("tmpfs", to, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
      return failf(c, -errno, "mask", to);
  }
  return 0;
}

static int step_etc(ctx_t *c) {
  char text[1024];
  const sl_mount_spec_t *s = c->spec;
  int rc = sl_mkdir_p(NEW "/etc", 0755);
  if (rc < 0) return failf(c, rc, "mkdir", "/etc");
  snprintf(text, sizeof text,
           "root:x:0:0:root:/root:/bin/bash\nuser:x:65532:65532:user:/home/user:/bin/bash\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  if ((rc = write_text(NEW "/etc/passwd", text)) < 0) return failf(c, rc, "write", "/etc/passwd");
  snprintf(text, sizeof text, "root:x:0:\nuser:x:65532:\nnogroup:x:65534:\n");
  if ((rc = write_text(NEW "/etc/group", text)) < 0) return failf(c, rc, "write", "/etc/group");
  snprintf(text, sizeof text, "%s\n", s->hostname);
  if ((rc = write_text(NEW "/etc/hostname", text)) < 0) return failf(c, rc, "write", "/etc/hostname");
  snprintf(text, sizeof text, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", s->hostname);
  if ((rc = write_text(NEW "/etc/hosts", text)) < 0) return failf(c, rc, "write", "/etc/hosts");
  if ((rc = sl_mkdir_p(NEW "/root", 0700)) < 0) return failf(c, rc, "mkdir", "/root");
  return 0;
}

static int step_pivot(ctx_t *c) {
  /* the root tmpfs itself is read-only once built; writable places are the image's tmpfs entries */
  if (mount(NULL, NEW, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
    return failf(c, -errno, "remount root ro", NULL);
  if (chdir(NEW) < 0) return failf(c, -errno, "chdir", NEW);
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then drops it
   * (pivot_root(2) NOTES) — no directory for the old root is left behind in the sandbox */
  if (syscall(SYS_pivot_root, ".", ".") < 0) return failf(c, -errno, "pivot_root", NULL);
  if (umount2(".", MNT_DETACH) < 0) return failf(c, -errno, "detach old root", NULL);
  if (chdir("/") < 0) return failf(c, -errno, "chdir", "/");
  return 0;
}

int sl_ns_mount_init_child(const sl_mount_spec_t *spec, char *err, size_t errlen) {
  ctx_t c = {spec, err, errlen};
  /* order matters: /dev before /proc (masks bind /dev/null), /etc files before the root goes read-only */
  int (*const steps[])(ctx_t *) = {step_base, step_binds, step_symlinks, step_tmpfs, step_workspace,
                                   step_dev,  step_proc,  step_etc,      step_pivot};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    int rc = steps[i](&c);
    if (rc < 0) return rc;
  }
  return 0;
}
