/* workspaces.c — persistent workspaces (workspaces.h). */
#include "workspaces.h"

#include "config.h"
#include "gateway.h"
#include "keys.h"
#include "sluice/api.h"
#include "sluice/msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WS_IMG "disk.img"
#define WS_REC "workspace.json"

static int ws_path(const char *ns, const char *id, const char *leaf, char *out, size_t len) {
  int n = leaf ? snprintf(out, len, "%s/workspaces/%s/%s/%s", g_gw.cfg.state_dir, ns, id, leaf)
               : snprintf(out, len, "%s/workspaces/%s/%s", g_gw.cfg.state_dir, ns, id);
  return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void unmount_stale(const char *ns, const char *id);
static void unmount(const char *mnt);

static const char *rec_s(const json_t *rec, const char *k) { return json_string_value(json_object_get(rec, k)); }

/* The registered sandbox holding ns/id, or NULL. */
static gw_sandbox_t *holder(const char *ns, const char *id) {
  for (gw_sandbox_t *sb = reg_first(); sb; sb = sb->next) {
    const char *w = rec_s(sb->rec, "workspace_id");
    if (w && strcmp(w, id) == 0 && strcmp(reg_str(sb, "namespace"), ns) == 0) return sb;
  }
  return NULL;
}

static int is_mounted(const char *mnt) {
  char parent[PATH_MAX];
  struct stat a, b;
  snprintf(parent, sizeof(parent), "%s/..", mnt);
  return stat(mnt, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static json_t *load_rec(const char *ns, const char *id) {
  char p[PATH_MAX];
  json_error_t je;
  if (ws_path(ns, id, WS_REC, p, sizeof(p)) < 0) return NULL;
  json_t *r = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
  if (r && !json_is_object(r)) {
    json_decref(r);
    r = NULL;
  }
  return r;
}

static int save_rec(const char *ns, const char *id, json_t *r) {
  char p[PATH_MAX];
  if (ws_path(ns, id, WS_REC, p, sizeof(p)) < 0) return -ENAMETOOLONG;
  char *s = json_dumps(r, JSON_COMPACT);
  if (!s) return -ENOMEM;
  int rc = gw_write_atomic(p, s, strlen(s), 0600);
  free(s);
  return rc;
}

static void now_str(char out[32]) { sl_api_time_str(time(NULL), out); }

/* The uid (inside) running a sandbox's code, as the runner picks it (kernel-runner/config.c): root, or
 * with pod_non_root / container_non_root the image's user (65532 when it names none). */
static json_int_t sandbox_user(const json_t *rec) {
  char p[PATH_MAX];
  json_error_t je;
  if (!json_is_true(json_object_get(rec, "pod_non_root")) && !json_is_true(json_object_get(rec, "container_non_root")))
    return 0;
  if (snprintf(p, sizeof(p), "%s/%s/image.json", g_gw.cfg.images_dir, rec_s(rec, "image") ?: "python") >= (int)sizeof(p))
    return 65532;
  json_t *img = json_load_file(p, 0, &je);
  json_int_t uid = json_integer_value(json_object_get(json_object_get(img, "user"), "uid"));
  json_decref(img);
  return uid > 0 && uid < GW_UID_RANGE ? uid : 65532;
}

int ws_attach(json_t *rec, sl_api_err_t *err) {
  const char *id = rec_s(rec, "workspace_id"), *ns = rec_s(rec, "namespace");
  char dir[PATH_MAX], mnt[PATH_MAX], img[PATH_MAX], ts[32], uuid[37];
  if (!id) return 0;
  if (!sl_api_name_valid(id))
    return sl_api_fail(err, 400, "invalid_workspace_id",
                       "workspace_id must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");
  gw_sandbox_t *h = holder(ns, id);
  if (h)
    return sl_api_fail(err, 409, "workspace_in_use", "workspace '%s' is mounted by sandbox %s", id, h->id);
  sl_uuid_str(uuid);
  if (ws_path(ns, id, NULL, dir, sizeof(dir)) < 0 || ws_path(ns, id, WS_IMG, img, sizeof(img)) < 0 ||
      snprintf(mnt, sizeof(mnt), "%s/%s", g_gw.cfg.workspace_mount_dir, uuid) >= (int)sizeof(mnt))
    return sl_api_fail(err, 400, "invalid_workspace_id", "workspace path too long");
  unmount_stale(ns, id);
  int rc = gw_mkdir_p(dir, 0700);
  if (rc < 0) return sl_api_fail(err, 500, "workspace_failed", "cannot create workspace dir: %s", strerror(-rc));
  json_t *w = load_rec(ns, id);
  now_str(ts);
  if (!w) {
    w = json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "namespace", ns, "created_at", ts, "size_bytes",
                  (json_int_t)g_gw.cfg.workspace_size, "used_bytes", (json_int_t)0);
    if (!w) return sl_api_fail(err, 500, "internal", "out of memory");
  }
  json_object_set_new(w, "last_used_at", json_string(ts));
  json_object_set_new(w, "mount", json_string(mnt));
  rc = save_rec(ns, id, w);
  json_int_t size = json_integer_value(json_object_get(w, "size_bytes"));
  json_decref(w);
  if (rc < 0) return sl_api_fail(err, 500, "workspace_failed", "cannot save the workspace record: %s", strerror(-rc));
  json_object_set_new(rec, "workspace_path", json_string(mnt));
  json_object_set_new(rec, "workspace_image", json_string(img));
  json_object_set_new(rec, "workspace_uid", json_integer(sandbox_user(rec)));
  json_object_set_new(rec, "workspace_size", json_integer(size > 0 ? size : (json_int_t)g_gw.cfg.workspace_size));
  return 0;
}

/* A workspace nobody holds but whose record names a mount (its holder went while no gateway ran):
 * unmount it and forget the mount. */
static void unmount_stale(const char *ns, const char *id) {
  json_t *w = load_rec(ns, id);
  const char *m = rec_s(w, "mount");
  if (m) {
    if (is_mounted(m)) fprintf(stderr, "sluice-gateway: workspace %s/%s: no sandbox holds it, unmounting\n", ns, id);
    unmount(m);
    json_object_del(w, "mount");
    save_rec(ns, id, w);
  }
  json_decref(w);
}

/* ---- child side (spawn_runner's grandchild: host root, may block) ---- */

static int run_tool(char *const argv[]) {
  pid_t p = fork();
  if (p < 0) return -errno;
  if (p == 0) {
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    execve(argv[0], argv, envp);
    _exit(127);
  }
  int st;
  while (waitpid(p, &st, 0) < 0)
    if (errno != EINTR) return -errno;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "sluice-gateway: workspace: %s failed (status %d)\n", argv[0], st);
    return -EIO;
  }
  return 0;
}

static const char *tool(const char *a, const char *b) { return access(a, X_OK) == 0 ? a : b; }

static int make_image(const char *img, uint64_t size, unsigned long base) {
  char tmp[PATH_MAX], owner[64];
  if (snprintf(tmp, sizeof(tmp), "%s.new", img) >= (int)sizeof(tmp)) return -ENAMETOOLONG;
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  int rc = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
  close(fd);
  snprintf(owner, sizeof(owner), "root_owner=%lu:%lu", base, base);
  char *argv[] = {(char *)tool("/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"), "-q", "-F", "-m", "0", "-E", owner, tmp, NULL};
  if (rc == 0) rc = run_tool(argv);
  if (rc == 0 && rename(tmp, img) < 0) rc = -errno;
  if (rc < 0) unlink(tmp);
  return rc;
}

static uid_t g_owner; /* host uid of the user running the sandbox's code */

/* Everything in a workspace belongs to the user running the sandbox that mounts it. */
static int shift_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
  uid_t u = g_owner;
  gid_t g = (gid_t)g_owner;
  if ((u != st->st_uid || g != st->st_gid) && lchown(path, u, g) < 0) {
    fprintf(stderr, "sluice-gateway: workspace: chown %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int ws_prepare_child(const json_t *rec) {
  const char *mnt = rec_s(rec, "workspace_path"), *img = rec_s(rec, "workspace_image");
  json_int_t size = json_integer_value(json_object_get(rec, "workspace_size"));
  json_int_t base = json_integer_value(json_object_get(rec, "uid_base"));
  char lf[PATH_MAX], parent[PATH_MAX];
  if (!mnt || !img || base < GW_UID_BASE_START || size < (json_int_t)WS_MIN_SIZE) return -EINVAL;
  /* the mount point's parents must be traversable by the sandbox's uid (its runner binds it from inside
   * its user namespace), but not listable: 0711; the mounted root itself is 0700, the sandbox's */
  snprintf(parent, sizeof(parent), "%s", mnt);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent) return -EINVAL;
  *slash = 0;
  int rc = gw_mkdir_p(parent, 0711);
  if (rc < 0 || chmod(parent, 0711) < 0) {
    fprintf(stderr, "sluice-gateway: workspace: cannot make %s: %s\n", parent, strerror(rc < 0 ? -rc : errno));
    return rc < 0 ? rc : -errno;
  }
  if (access(img, F_OK) < 0 && (rc = make_image(img, (uint64_t)size, (unsigned long)base)) < 0) {
    fprintf(stderr, "sluice-gateway: workspace: cannot make its disk image: %s\n", strerror(-rc));
    return rc;
  }
  if (mkdir(mnt, 0700) < 0 && errno != EEXIST) return -errno;
  if (!is_mounted(mnt)) {
    char *argv[] = {(char *)tool("/usr/bin/mount", "/bin/mount"), "-t", "ext4", "-o", "loop,nosuid,nodev", (char *)img,
                    (char *)mnt, NULL};
    if ((rc = run_tool(argv)) < 0) {
      fprintf(stderr, "sluice-gateway: workspace: cannot mount its disk image\n");
      return rc;
    }
  }
  snprintf(lf, sizeof(lf), "%s/lost+found", mnt);
  rmdir(lf); /* mkfs's, owned by host root: not the sandbox's (fails harmlessly once used) */
  g_owner = (uid_t)(base + json_integer_value(json_object_get(rec, "workspace_uid")));
  if (nftw(mnt, shift_one, 16, FTW_PHYS | FTW_MOUNT) != 0 || chmod(mnt, 0700) < 0) {
    fprintf(stderr, "sluice-gateway: workspace: cannot hand its files to the sandbox\n");
    return -EIO;
  }
  return 0;
}

/* ---- release, reconcile, list, delete ---- */

static uint64_t used_bytes(const char *mnt) {
  struct statvfs sv;
  if (statvfs(mnt, &sv) < 0) return 0;
  return (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

/* Unmounts the workspace at mnt (a mount point under workspace_mount_dir) and removes the mount point. */
static void unmount(const char *mnt) {
  if (is_mounted(mnt) && umount2(mnt, 0) < 0 && umount2(mnt, MNT_DETACH) < 0)
    fprintf(stderr, "sluice-gateway: workspace: umount %s: %s\n", mnt, strerror(errno));
  rmdir(mnt);
}

void ws_release(const json_t *rec) {
  const char *id = rec_s(rec, "workspace_id"), *ns = rec_s(rec, "namespace"), *mnt = rec_s(rec, "workspace_path");
  if (!id || !ns || !mnt) return;
  json_t *w = load_rec(ns, id);
  if (w) {
    char ts[32];
    now_str(ts);
    if (is_mounted(mnt)) json_object_set_new(w, "used_bytes", json_integer((json_int_t)used_bytes(mnt)));
    json_object_set_new(w, "last_used_at", json_string(ts));
    json_object_del(w, "mount");
    save_rec(ns, id, w);
  }
  json_decref(w);
  unmount(mnt);
}

/* Calls fn(ns, id) for every workspace dir (bounded); stops when fn returns nonzero. */
static void each_workspace(int (*fn)(const char *ns, const char *id, void *ctx), void *ctx) {
  char root[PATH_MAX], nsdir[PATH_MAX];
  size_t seen = 0;
  snprintf(root, sizeof(root), "%s/workspaces", g_gw.cfg.state_dir);
  DIR *d = opendir(root);
  if (!d) return;
  struct dirent *e, *f;
  while ((e = readdir(d)) && seen < WS_MAX_LIST) {
    if (!sl_api_name_valid(e->d_name)) continue;
    if (snprintf(nsdir, sizeof(nsdir), "%s/%s", root, e->d_name) >= (int)sizeof(nsdir)) continue;
    DIR *nd = opendir(nsdir);
    if (!nd) continue;
    while ((f = readdir(nd)) && seen < WS_MAX_LIST) {
      if (!sl_api_name_valid(f->d_name)) continue;
      seen++;
      if (fn(e->d_name, f->d_name, ctx)) break;
    }
    closedir(nd);
  }
  closedir(d);
}

static int reconcile_one(const char *ns, const char *id, void *ctx) {
  if (!holder(ns, id)) unmount_stale(ns, id);
  return 0;
}

void ws_reconcile(void) { each_workspace(reconcile_one, NULL); }

typedef struct {
  const json_t *key;
  const char *ns;
  json_t *out;
} list_ctx_t;

static int list_one(const char *ns, const char *id, void *vctx) {
  list_ctx_t *c = vctx;
  if ((c->ns && strcmp(c->ns, ns) != 0) || (c->key && !gw_key_allows_ns(c->key, ns))) return 0;
  json_t *w = load_rec(ns, id);
  if (!w) return 0;
  gw_sandbox_t *h = holder(ns, id);
  const char *m = rec_s(w, "mount");
  if (h && m && is_mounted(m)) json_object_set_new(w, "used_bytes", json_integer((json_int_t)used_bytes(m)));
  json_object_del(w, "mount");
  json_object_set_new(w, "in_use", json_boolean(h != NULL));
  json_object_set_new(w, "sandbox_id", h ? json_string(h->id) : json_null());
  json_array_append_new(c->out, w);
  return 0;
}

json_t *ws_list(const json_t *key, const char *ns_filter) {
  list_ctx_t c = {key, ns_filter, json_array()};
  if (c.out) each_workspace(list_one, &c);
  return c.out;
}

int ws_delete(const char *ns, const char *id) {
  char dir[PATH_MAX], p[PATH_MAX];
  if (!sl_api_name_valid(ns) || !sl_api_name_valid(id) || ws_path(ns, id, NULL, dir, sizeof(dir)) < 0)
    return -ENOENT;
  struct stat st;
  if (stat(dir, &st) < 0) return -ENOENT;
  if (holder(ns, id)) return -EBUSY;
  unmount_stale(ns, id);
  static const char *const leaves[] = {WS_IMG, WS_IMG ".new", WS_REC};
  for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
    ws_path(ns, id, leaves[i], p, sizeof(p));
    if (unlink(p) < 0 && errno != ENOENT) return -errno;
  }
  return rmdir(dir) < 0 ? -errno : 0;
}
