/* test_cgroup.c — cgroup path planning (v1 from mountinfo/proc-self-cgroup text, v2 against a fake
 * cgroup2 tree in a temp dir). No root needed; nothing outside the temp dir is touched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "rutil.h"

static int failures;
#define CHECK(c)                                                    \
  do {                                                              \
    if (!(c)) {                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
      failures++;                                                   \
    }                                                               \
  } while (0)

static const char *MOUNTINFO =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 /outer /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *SELF =
    "9:name=systemd:/\n8:pids:/outer/inner\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n";

static void test_v1(void) {
  sl_cgroup_t cg;
  CHECK(sl_cgv1_plan(&cg, MOUNTINFO, SELF, "ID") == 0);
  CHECK(cg.version == 1 && cg.n == 3);
  CHECK(!strcmp(cg.dirs[0], "/sys/fs/cgroup/memory/process_api/abc/sluice-ID"));
  /* a hierarchy mounted from a sub-root: the own path is relative to it */
  CHECK(!strcmp(cg.dirs[1], "/sys/fs/cgroup/pids/inner/sluice-ID"));
  CHECK(!strcmp(cg.dirs[2], "/sys/fs/cgroup/cpu,cpuacct/sluice-ID"));
  char buf[4096];
  CHECK(sl_cgroup_format(&cg, buf, sizeof buf) > 0 && strstr(buf, "memory/process_api/abc/sluice-ID\n"));
  CHECK(sl_cgv1_plan(&cg, "41 31 0:38 / /x rw - cgroup2 cgroup2 rw\n", "0::/\n", "ID") == -ENOENT);
}

static void test_v2(void) {
  char root[] = "/tmp/sluice-cg2-XXXXXX", path[512];
  CHECK(mkdtemp(root) != NULL);
  snprintf(path, sizeof path, "%s/gw.slice", root);
  CHECK(mkdir(path, 0755) == 0);
  snprintf(path, sizeof path, "%s/gw.slice/cgroup.controllers", root);
  FILE *f = fopen(path, "w");
  fputs("cpuset cpu io memory pids\n", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/gw.slice/cgroup.subtree_control", root);
  fclose(fopen(path, "w"));
  sl_cgroup_t cg;
  CHECK(sl_cgv2_plan(&cg, root, "/gw.slice", "ID") == 0);
  CHECK(cg.version == 2 && cg.n == 2 && cg.v2_leaf == 1);
  snprintf(path, sizeof path, "%s/gw.slice/sluice-ID", root);
  CHECK(!strcmp(cg.dirs[0], path));
  CHECK(sl_cgv2_create(&cg, getpid()) == 0);
  struct stat st;
  CHECK(stat(cg.dirs[0], &st) == 0 && S_ISDIR(st.st_mode));
  snprintf(path, sizeof path, "%s/gw.slice/cgroup.subtree_control", root);
  char *ctl = sl_read_file(path, 4096, NULL);
  CHECK(ctl && !strcmp(ctl, "+memory +pids +cpu"));
  free(ctl);
  /* a plain directory is not a cgroup: there are no tasks to kill and rmdir works */
  CHECK(sl_cgroup_destroy(&cg, 100) == 0);
  CHECK(stat(cg.dirs[0], &st) < 0);
  snprintf(path, sizeof path, "rm -rf '%s'", root);
  CHECK(system(path) == 0);
}

int main(void) {
  test_v1();
  test_v2();
  if (failures) fprintf(stderr, "%d failures\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
