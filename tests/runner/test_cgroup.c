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

static void touch(const char *dir, const char *file) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  if (f) fclose(f);
}

static char *knob(const char *dir, const char *file) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return sl_read_file(path, 4096, NULL);
}

#define KNOB_IS(dir, file, want)              \
  do {                                        \
    char *v_ = knob(dir, file);               \
    CHECK(v_ && !strcmp(v_, want));           \
    free(v_);                                 \
  } while (0)

/* limits against a directory laid out as cgroup2: memory.max, memory.swap.max=0, cpu.max, pids.max,
 * and the OOM-kill counter from memory.events */
static void test_v2_limits(void) {
  char root[] = "/tmp/sluice-cg2l-XXXXXX", cmd[PATH_MAX + 128];
  CHECK(mkdtemp(root) != NULL);
  sl_cgroup_t cg;
  CHECK(sl_cgv2_plan(&cg, root, "/", "L") == 0);
  touch(root, "cgroup.controllers");
  touch(root, "cgroup.subtree_control");
  CHECK(sl_cgv2_create(&cg, getpid()) == 0);
  const char *d = cg.dirs[0];
  touch(d, "memory.max");
  touch(d, "memory.swap.max");
  touch(d, "cpu.max");
  touch(d, "pids.max");
  sl_limits_t lim = {.memory = 256u << 20, .cpu_milli = 500, .pids = 64};
  CHECK(sl_cgroup_apply_limits(&cg, &lim) == 0);
  KNOB_IS(d, "memory.max", "268435456");
  KNOB_IS(d, "memory.swap.max", "0");
  KNOB_IS(d, "cpu.max", "50000 100000");
  KNOB_IS(d, "pids.max", "64");
  touch(d, "cpu.max"); /* a real cgroupfs replaces the value; the fake file is emptied first */
  lim = (sl_limits_t){.cpu_milli = 1}; /* below the kernel's 1 ms minimum quota: rounded up */
  CHECK(sl_cgroup_apply_limits(&cg, &lim) == 0);
  KNOB_IS(d, "cpu.max", "1000 100000");
  uint64_t n = 99;
  CHECK(sl_cgroup_oom_kills(&cg, &n) < 0); /* no memory.events yet */
  snprintf(cmd, sizeof cmd, "printf 'low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n' > %s/memory.events", d);
  CHECK(system(cmd) == 0);
  CHECK(sl_cgroup_oom_kills(&cg, &n) == 0 && n == 2);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
}

/* v1: one dir per controller; memsw written only when swap accounting exists */
static void test_v1_limits(void) {
  char root[] = "/tmp/sluice-cg1l-XXXXXX", cmd[PATH_MAX + 128];
  CHECK(mkdtemp(root) != NULL);
  sl_cgroup_t cg = {.version = 1, .n = 3, .v2_leaf = -1};
  const char *ctrl[3] = {"memory", "cpu", "pids"};
  for (int i = 0; i < 3; i++) {
    snprintf(cg.dirs[i], sizeof cg.dirs[i], "%s/%s", root, ctrl[i]);
    snprintf(cg.ctrl[i], sizeof cg.ctrl[i], "%s", ctrl[i]);
    CHECK(mkdir(cg.dirs[i], 0755) == 0);
  }
  touch(cg.dirs[0], "memory.limit_in_bytes");
  touch(cg.dirs[1], "cpu.cfs_period_us");
  touch(cg.dirs[1], "cpu.cfs_quota_us");
  touch(cg.dirs[2], "pids.max");
  sl_limits_t lim = {.memory = 1u << 30, .cpu_milli = 1500, .pids = 100};
  CHECK(sl_cgroup_apply_limits(&cg, &lim) == 0);
  KNOB_IS(cg.dirs[0], "memory.limit_in_bytes", "1073741824");
  struct stat st;
  snprintf(cmd, sizeof cmd, "%s/memory.memsw.limit_in_bytes", cg.dirs[0]);
  CHECK(stat(cmd, &st) < 0); /* not created when absent */
  touch(cg.dirs[0], "memory.memsw.limit_in_bytes");
  CHECK(sl_cgroup_apply_limits(&cg, &lim) == 0);
  KNOB_IS(cg.dirs[0], "memory.memsw.limit_in_bytes", "1073741824");
  KNOB_IS(cg.dirs[1], "cpu.cfs_quota_us", "150000");
  KNOB_IS(cg.dirs[1], "cpu.cfs_period_us", "100000");
  KNOB_IS(cg.dirs[2], "pids.max", "100");
  snprintf(cmd, sizeof cmd, "printf 'oom_kill_disable 0\nunder_oom 0\noom_kill 5\n' > %s/memory.oom_control", cg.dirs[0]);
  CHECK(system(cmd) == 0);
  uint64_t n = 0;
  CHECK(sl_cgroup_oom_kills(&cg, &n) == 0 && n == 5);
  CHECK(sl_cg_keyed_value("oom_kill_disable 1\noom_kill 9", "oom_kill", &n) == 0 && n == 9);
  CHECK(sl_cg_keyed_value("oom_killx 1\n", "oom_kill", &n) == -ENOENT);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
}

int main(void) {
  test_v1();
  test_v2();
  test_v2_limits();
  test_v1_limits();
  if (failures) fprintf(stderr, "%d failures\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
