/* cgroup_v1.c — cgroup v1: one directory per controller, each beneath the runner's own path in that
 * controller's hierarchy (hierarchies differ per controller under v1). */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rutil.h"

static const char *const CONTROLLERS[] = {"memory", "pids", "cpu"};

/* The path of this process in ctrl's hierarchy, from /proc/self/cgroup ("N:ctrl1,ctrl2:/path"). */
static int own_path(const char *self, const char *ctrl, char *out, size_t outlen) {
  size_t clen = strlen(ctrl);
  for (const char *line = self; line && *line;) {
    const char *c1 = strchr(line, ':'), *end = strchr(line, '\n');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && (!end || c2 < end)) {
      for (const char *p = c1 + 1; p < c2;) {
        size_t m = strcspn(p, ",:");
        if (m == clen && !strncmp(p, ctrl, clen)) {
          size_t n = end ? (size_t)(end - c2 - 1) : strlen(c2 + 1);
          if (n >= outlen) return -ENAMETOOLONG;
          memcpy(out, c2 + 1, n);
          out[n] = 0;
          return 0;
        }
        p += m + (p[m] == ',');
        if (p[-1] == ':') break;
      }
    }
    line = end ? end + 1 : NULL;
  }
  return -ENOENT;
}

int sl_cgv1_plan(sl_cgroup_t *cg, const char *mountinfo, const char *self_cgroup, const char *id) {
  memset(cg, 0, sizeof *cg);
  cg->version = 1;
  cg->v2_leaf = -1;
  for (size_t i = 0; i < sizeof CONTROLLERS / sizeof CONTROLLERS[0]; i++) {
    char mnt[PATH_MAX], root[PATH_MAX], own[PATH_MAX];
    if (sl_cg_find_mount(mountinfo, "cgroup", CONTROLLERS[i], mnt, sizeof mnt, root, sizeof root) < 0) continue;
    if (own_path(self_cgroup, CONTROLLERS[i], own, sizeof own) < 0) continue;
    /* a hierarchy mounted from a sub-root (a container's view): make the path relative to that root */
    const char *rel = own;
    size_t rl = strlen(root);
    if (strcmp(root, "/") && !strncmp(own, root, rl) && (own[rl] == '/' || !own[rl])) rel = own + rl;
    while (*rel == '/') rel++;
    int w = snprintf(cg->dirs[cg->n], PATH_MAX, "%s%s%s/sluice-%s", mnt, *rel ? "/" : "", rel, id);
    if (w < 0 || w >= PATH_MAX) return -ENAMETOOLONG;
    snprintf(cg->ctrl[cg->n], sizeof cg->ctrl[0], "%s", CONTROLLERS[i]);
    cg->n++;
  }
  return cg->n ? 0 : -ENOENT;
}

int sl_cgv1_create(sl_cgroup_t *cg) {
  char path[PATH_MAX + 32];
  for (size_t i = 0; i < cg->n; i++) {
    if (mkdir(cg->dirs[i], 0755) < 0 && errno != EEXIST) return -errno;
    cg->created[i] = 1;
    if (!strcmp(cg->ctrl[i], "pids")) {
      snprintf(path, sizeof path, "%s/pids.max", cg->dirs[i]);
      int rc = sl_write_str(path, SL_CG_DEFAULT_PIDS_MAX);
      if (rc < 0) return rc;
    }
    /* limits (memory.limit_in_bytes, memsw, cpu.cfs_quota_us) come with the limits issue */
  }
  return 0;
}
