/* cgroup.c — version detection and the verbs common to v1 and v2 (cgroup.h). */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rutil.h"

static int field(const char *line, int idx, char *out, size_t outlen) {
  const char *p = line;
  for (int i = 0; i < idx; i++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  size_t n = strcspn(p, " \n");
  if (n >= outlen) return -1;
  memcpy(out, p, n);
  out[n] = 0;
  return 0;
}

static int has_token(const char *list, const char *tok) {
  size_t n = strlen(tok);
  for (const char *p = list; p && *p;) {
    size_t m = strcspn(p, ",");
    if (m == n && !strncmp(p, tok, n)) return 1;
    p += m;
    if (*p == ',') p++;
  }
  return 0;
}

int sl_cg_find_mount(const char *mountinfo, const char *fstype, const char *ctrl, char *mnt, size_t mntlen,
                     char *mountroot, size_t rootlen) {
  for (const char *line = mountinfo; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[4096], fs[64], opts[1024];
    if (len < sizeof buf) {
      memcpy(buf, line, len);
      buf[len] = 0;
      const char *sep = strstr(buf, " - ");
      if (sep && field(sep + 3, 0, fs, sizeof fs) == 0 && field(sep + 3, 2, opts, sizeof opts) == 0 &&
          !strcmp(fs, fstype) && (!ctrl || has_token(opts, ctrl)) && field(buf, 4, mnt, mntlen) == 0 &&
          field(buf, 3, mountroot, rootlen) == 0)
        return 0;
    }
    line = end ? end + 1 : NULL;
  }
  return -ENOENT;
}

int sl_cgroup_plan(sl_cgroup_t *cg, const char *id) {
  int rc;
  char *mi = sl_read_file("/proc/self/mountinfo", 1u << 20, NULL);
  char *self = sl_read_file("/proc/self/cgroup", 64u << 10, NULL);
  if (!mi || !self) { rc = -errno; goto out; }
  rc = sl_cgv1_plan(cg, mi, self, id);
  if (rc == -ENOENT) {
    /* no v1 controllers mounted: a pure v2 host */
    char mnt[PATH_MAX], root[PATH_MAX];
    const char *own = strstr(self, "0::");
    if (own != self && own && own[-1] != '\n') own = NULL;
    if (!own || sl_cg_find_mount(mi, "cgroup2", NULL, mnt, sizeof mnt, root, sizeof root) < 0) { rc = -ENOENT; goto out; }
    char ownpath[PATH_MAX];
    snprintf(ownpath, sizeof ownpath, "%.*s", (int)strcspn(own + 3, "\n"), own + 3);
    rc = sl_cgv2_plan(cg, mnt, ownpath, id);
  }
out:
  free(mi);
  free(self);
  return rc;
}

int sl_cgroup_create(sl_cgroup_t *cg) {
  return cg->version == 2 ? sl_cgv2_create(cg, getpid()) : sl_cgv1_create(cg);
}

int sl_cgroup_attach(sl_cgroup_t *cg, pid_t pid) {
  char path[PATH_MAX + 32], num[32];
  snprintf(num, sizeof num, "%d", (int)pid);
  for (size_t i = 0; i < cg->n; i++) {
    if ((int)i == cg->v2_leaf) continue;
    snprintf(path, sizeof path, "%s/cgroup.procs", cg->dirs[i]);
    int rc = sl_write_str(path, num);
    if (rc < 0) return rc;
  }
  return 0;
}

int sl_cgroup_open_join(const sl_cgroup_t *cg, int fds[SL_CG_MAX_DIRS]) {
  char path[PATH_MAX + 32];
  for (size_t i = 0; i < SL_CG_MAX_DIRS; i++) fds[i] = -1;
  for (size_t i = 0; i < cg->n; i++) {
    if ((int)i == cg->v2_leaf) continue;
    snprintf(path, sizeof path, "%s/%s", cg->dirs[i], cg->version == 2 ? "cgroup.procs" : "tasks");
    if ((fds[i] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
      int rc = -errno;
      sl_cgroup_close_join(fds);
      return rc;
    }
  }
  return 0;
}

int sl_cgroup_join_self(int fds[SL_CG_MAX_DIRS]) {
  int rc = 0;
  for (size_t i = 0; i < SL_CG_MAX_DIRS; i++) {
    if (fds[i] < 0) continue;
    if (!rc && write(fds[i], "0", 1) != 1) rc = -errno;
    close(fds[i]);
    fds[i] = -1;
  }
  return rc;
}

void sl_cgroup_close_join(int fds[SL_CG_MAX_DIRS]) {
  for (size_t i = 0; i < SL_CG_MAX_DIRS; i++)
    if (fds[i] >= 0) close(fds[i]), fds[i] = -1;
}

/* Kills every pid listed in dir/cgroup.procs; returns how many were listed. */
static int kill_tasks(const char *dir) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  char *text = sl_read_file(path, 1u << 20, NULL);
  if (!text) return 0;
  int n = 0;
  for (char *p = text, *e; *p; p = e) {
    long pid = strtol(p, &e, 10);
    if (e == p) break;
    if (pid > 1) {
      kill((pid_t)pid, SIGKILL);
      n++;
    }
    while (*e == '\n') e++;
  }
  free(text);
  return n;
}

int sl_cgroup_destroy(sl_cgroup_t *cg, int timeout_ms) {
  int64_t deadline = sl_now_ms() + timeout_ms;
  int left;
  for (;;) {
    left = 0;
    /* reverse order: the v2 sandbox dir before the runner's leaf, children before parents */
    for (size_t k = cg->n; k-- > 0;) {
      if (!cg->created[k] || (int)k == cg->v2_leaf) continue;
      kill_tasks(cg->dirs[k]);
      if (rmdir(cg->dirs[k]) == 0 || errno == ENOENT) cg->created[k] = 0;
      else left++;
    }
    if (!left || sl_now_ms() > deadline) break;
    usleep(2000); /* tasks die asynchronously after SIGKILL; rmdir is EBUSY until they are reaped */
  }
  return left ? -EBUSY : 0;
}

int sl_cgroup_format(const sl_cgroup_t *cg, char *buf, size_t len) {
  size_t off = 0;
  for (size_t i = 0; i < cg->n; i++) {
    int w = snprintf(buf + off, len - off, "%s\n", cg->dirs[i]);
    if (w < 0 || (size_t)w >= len - off) return -ENOSPC;
    off += (size_t)w;
  }
  return (int)off;
}
