/* cgroup_limits.c — the create body's limits written into the sandbox's cgroup, and the OOM-kill
 * counter read back (cgroup.h). v1: memory.limit_in_bytes then memory.memsw.limit_in_bytes (memsw must
 * stay >= the memory limit, so order matters, and memsw is absent when swap accounting is off);
 * cpu.cfs_period_us/cfs_quota_us; pids.max. v2 (as nsjail's cgroup2.cc): memory.max, memory.swap.max=0,
 * cpu.max "QUOTA PERIOD", pids.max.
 *
 * No pointers are kept; no heap memory outlives a call.
 */
#include "cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rutil.h"

static int write_knob(const char *dir, const char *file, const char *value, int optional) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (optional && access(path, F_OK) < 0) return 0;
  return sl_write_str(path, value);
}

static int write_u64(const char *dir, const char *file, uint64_t v, int optional) {
  char num[32];
  snprintf(num, sizeof num, "%" PRIu64, v);
  return write_knob(dir, file, num, optional);
}

static int apply_v1(const sl_cgroup_t *cg, const sl_limits_t *lim) {
  int rc = 0;
  for (size_t i = 0; i < cg->n && rc == 0; i++) {
    const char *d = cg->dirs[i], *c = cg->ctrl[i];
    if (!strcmp(c, "memory") && lim->memory) {
      if ((rc = write_u64(d, "memory.limit_in_bytes", lim->memory, 0)) == 0)
        rc = write_u64(d, "memory.memsw.limit_in_bytes", lim->memory, 1);
    } else if (!strcmp(c, "cpu") && lim->cpu_milli) {
      if ((rc = write_u64(d, "cpu.cfs_period_us", SL_CG_CPU_PERIOD_US, 0)) == 0)
        rc = write_u64(d, "cpu.cfs_quota_us", lim->cpu_milli * SL_CG_CPU_PERIOD_US / 1000, 0);
    } else if (!strcmp(c, "pids") && lim->pids) {
      rc = write_u64(d, "pids.max", lim->pids, 0);
    }
  }
  return rc;
}

static int apply_v2(const sl_cgroup_t *cg, const sl_limits_t *lim) {
  const char *d = cg->dirs[0];
  int rc = 0;
  if (lim->memory) {
    if ((rc = write_u64(d, "memory.max", lim->memory, 0)) < 0) return rc;
    /* no swap at all: the memory limit is the whole budget, as with memsw under v1 */
    if ((rc = write_knob(d, "memory.swap.max", "0", 1)) < 0) return rc;
  }
  if (lim->cpu_milli) {
    char v[64];
    snprintf(v, sizeof v, "%" PRIu64 " %d", lim->cpu_milli * SL_CG_CPU_PERIOD_US / 1000, SL_CG_CPU_PERIOD_US);
    if ((rc = write_knob(d, "cpu.max", v, 0)) < 0) return rc;
  }
  if (lim->pids && (rc = write_u64(d, "pids.max", lim->pids, 0)) < 0) return rc;
  return 0;
}

int sl_cgroup_apply_limits(const sl_cgroup_t *cg, const sl_limits_t *lim) {
  if (!lim) return 0;
  /* a quota below 1 ms per period is refused by the kernel (EINVAL): round tiny requests up */
  sl_limits_t l = *lim;
  if (l.cpu_milli && l.cpu_milli * SL_CG_CPU_PERIOD_US / 1000 < 1000) l.cpu_milli = 10;
  return cg->version == 2 ? apply_v2(cg, &l) : apply_v1(cg, &l);
}

int sl_cg_keyed_value(const char *text, const char *key, uint64_t *out) {
  size_t kl = strlen(key);
  for (const char *line = text; line && *line;) {
    if (!strncmp(line, key, kl) && line[kl] == ' ') {
      char *end;
      unsigned long long v = strtoull(line + kl + 1, &end, 10);
      if (end != line + kl + 1) {
        *out = (uint64_t)v;
        return 0;
      }
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return -ENOENT;
}

int sl_cgroup_oom_kills(const sl_cgroup_t *cg, uint64_t *n) {
  char path[PATH_MAX + 32];
  path[0] = 0;
  if (cg->version == 2 && cg->n) {
    snprintf(path, sizeof path, "%s/memory.events", cg->dirs[0]);
  } else {
    for (size_t i = 0; i < cg->n; i++)
      if (!strcmp(cg->ctrl[i], "memory")) snprintf(path, sizeof path, "%s/memory.oom_control", cg->dirs[i]);
  }
  if (!path[0]) return -ENOENT;
  char *text = sl_read_file(path, 4096, NULL);
  if (!text) return -errno;
  int rc = sl_cg_keyed_value(text, "oom_kill", n);
  free(text);
  return rc;
}
