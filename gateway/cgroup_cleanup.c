/* cgroup_cleanup.c — kill and rmdir a sandbox's cgroups. */
#include "cgroup_cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup/"
#define CG_MAX_DEPTH 8

static void kill_tasks(const char *dir) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
  FILE *f = fopen(p, "re");
  if (!f) return;
  long pid;
  int n = 0;
  while (n++ < 100000 && fscanf(f, "%ld", &pid) == 1)
    if (pid > 1) kill((pid_t)pid, SIGKILL);
  fclose(f);
}

static int cleanup_tree(const char *dir, int depth) {
  int busy = 0;
  if (depth > CG_MAX_DEPTH) return -ELOOP;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : -errno;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub)) continue;
    if (cleanup_tree(sub, depth + 1) < 0) busy = 1;
  }
  closedir(d);
  kill_tasks(dir);
  if (rmdir(dir) < 0 && errno != ENOENT) busy = 1;
  return busy ? -EBUSY : 0;
}

int cg_cleanup_dir(const char *dir) {
  if (strncmp(dir, CG_ROOT, strlen(CG_ROOT)) != 0 || strstr(dir, "..") || strlen(dir) <= strlen(CG_ROOT))
    return -EPERM;
  return cleanup_tree(dir, 0);
}

int cg_cleanup_pass(const char *list_path) {
  FILE *f = fopen(list_path, "re");
  if (!f) return errno == ENOENT ? 0 : -errno;
  char line[PATH_MAX];
  int rc = 0, n = 0;
  while (n++ < 64 && fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    int r = cg_cleanup_dir(line);
    if (r == -EBUSY) rc = -EBUSY;
    else if (r < 0 && r != -EPERM && rc == 0) rc = r;
  }
  fclose(f);
  return rc;
}
