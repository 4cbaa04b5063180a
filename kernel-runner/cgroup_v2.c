/* cgroup_v2.c — cgroup v2: one directory beneath the runner's own cgroup with controllers enabled in
 * the parent's cgroup.subtree_control. The "no internal processes" rule makes that write fail with
 * EBUSY while the runner itself sits in its own cgroup; then (as nsjail's cgroup2.cc does) the runner
 * moves itself into a leaf "sluice-ID-runner" first. */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rutil.h"

int sl_cgv2_plan(sl_cgroup_t *cg, const char *root, const char *own, const char *id) {
  memset(cg, 0, sizeof *cg);
  cg->version = 2;
  cg->v2_leaf = -1;
  while (*own == '/') own++;
  int w = snprintf(cg->dirs[0], PATH_MAX, "%s%s%s/sluice-%s", root, *own ? "/" : "", own, id);
  if (w < 0 || w + 8 >= PATH_MAX) return -ENAMETOOLONG;
  /* listed up front so the gateway can remove it too if the runner dies after moving itself */
  memcpy(cg->dirs[1], cg->dirs[0], (size_t)w);
  memcpy(cg->dirs[1] + w, "-runner", 8);
  cg->v2_leaf = 1;
  cg->n = 2;
  return 0;
}

static int enable_controllers(const char *parent) {
  char path[PATH_MAX + 32], *avail;
  snprintf(path, sizeof path, "%s/cgroup.controllers", parent);
  if (!(avail = sl_read_file(path, 4096, NULL))) return -errno;
  char req[64] = "";
  for (const char *c = "memory\0pids\0cpu\0"; *c; c += strlen(c) + 1) {
    size_t n = strlen(c);
    for (const char *p = avail; *p;) {
      size_t m = strcspn(p, " \n");
      if (m == n && !strncmp(p, c, n)) {
        snprintf(req + strlen(req), sizeof req - strlen(req), "%s+%s", *req ? " " : "", c);
        break;
      }
      p += m;
      p += strspn(p, " \n");
    }
  }
  free(avail);
  if (!*req) return 0;
  snprintf(path, sizeof path, "%s/cgroup.subtree_control", parent);
  return sl_write_str(path, req);
}

int sl_cgv2_create(sl_cgroup_t *cg, pid_t self) {
  char parent[PATH_MAX], path[PATH_MAX + 32];
  snprintf(parent, sizeof parent, "%s", cg->dirs[0]);
  *strrchr(parent, '/') = 0;
  int rc = enable_controllers(parent);
  if (rc == -EBUSY) {
    if (mkdir(cg->dirs[1], 0755) < 0 && errno != EEXIST) return -errno;
    cg->created[1] = 1;
    snprintf(path, sizeof path, "%s/cgroup.procs", cg->dirs[1]);
    char num[32];
    snprintf(num, sizeof num, "%d", (int)self);
    if ((rc = sl_write_str(path, num)) < 0) return rc;
    rc = enable_controllers(parent);
  }
  if (rc < 0) return rc;
  if (mkdir(cg->dirs[0], 0755) < 0 && errno != EEXIST) return -errno;
  cg->created[0] = 1;
  snprintf(path, sizeof path, "%s/pids.max", cg->dirs[0]);
  if (access(path, F_OK) == 0 && (rc = sl_write_str(path, SL_CG_DEFAULT_PIDS_MAX)) < 0) return rc;
  return 0;
}
