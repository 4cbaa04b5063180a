/* handlers_stats.c — GET /api/v1/sandboxes/{sb}/stats → {memory_bytes, memory_limit, cpu_usage_usec, pids,
 * disk_bytes}. The cgroup numbers are read on the host from the directories the runner recorded in
 * STATE/sandboxes/ID/cgroups (cgroupfs is not the sandbox's filesystem); disk_bytes is measured INSIDE
 * the sandbox by the runner's file helper (statfs of its root), like every other filesystem access.
 * A number that cannot be read is null.
 *
 * Ownership: the partial result (json) is the gw_call_t's data until the reply.
 */
#include "handlers.h"

#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_TIMEOUT_MS 15000
#define STATS_V1_UNLIMITED (UINT64_C(1) << 62)   /* v1 reports "no limit" as a huge page-rounded number */

/* First line of dir/file as an unsigned number (or "max" → *unlimited). 0 on success. */
static int read_num(const char *dir, const char *file, uint64_t *out, int *unlimited) {
  char path[4200], buf[64];
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  int ok = fgets(buf, sizeof(buf), f) != NULL;
  fclose(f);
  if (!ok) return -1;
  if (unlimited) *unlimited = strncmp(buf, "max", 3) == 0;
  if (unlimited && *unlimited) return 0;
  char *end;
  *out = strtoull(buf, &end, 10);
  return end == buf ? -1 : 0;
}

/* cgroup v2 cpu.stat "usage_usec N". */
static int read_cpu_stat(const char *dir, uint64_t *usec) {
  char path[4200], line[128];
  snprintf(path, sizeof(path), "%s/cpu.stat", dir);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  int rc = -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "usage_usec %" SCNu64, usec) == 1) {
      rc = 0;
      break;
    }
  fclose(f);
  return rc;
}

static json_t *cgroup_stats(const char *id) {
  char list[4 * 4200], path[4200];
  json_t *st = json_pack("{s:n, s:n, s:n, s:n, s:n}", "memory_bytes", "memory_limit", "cpu_usage_usec", "pids",
                         "disk_bytes");
  reg_path(id, "cgroups", path, sizeof(path));
  FILE *f = fopen(path, "re");
  if (!f) return st;
  size_t n = fread(list, 1, sizeof(list) - 1, f);
  fclose(f);
  list[n] = 0;
  for (char *save = NULL, *dir = strtok_r(list, "\n", &save); dir; dir = strtok_r(NULL, "\n", &save)) {
    uint64_t v;
    int unl = 0;
    if (!read_num(dir, "memory.usage_in_bytes", &v, NULL) || !read_num(dir, "memory.current", &v, NULL))
      json_object_set_new(st, "memory_bytes", json_integer((json_int_t)v));
    if (!read_num(dir, "memory.limit_in_bytes", &v, &unl) || !read_num(dir, "memory.max", &v, &unl))
      json_object_set_new(st, "memory_limit", unl || v >= STATS_V1_UNLIMITED ? json_null() : json_integer((json_int_t)v));
    if (!read_num(dir, "cpuacct.usage", &v, NULL))
      json_object_set_new(st, "cpu_usage_usec", json_integer((json_int_t)(v / 1000)));
    else if (!read_cpu_stat(dir, &v))
      json_object_set_new(st, "cpu_usage_usec", json_integer((json_int_t)v));
    if (!read_num(dir, "pids.current", &v, NULL)) json_object_set_new(st, "pids", json_integer((json_int_t)v));
  }
  return st;
}

static void st_free(void *p) { json_decref(p); }

static void st_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  json_t *st = call->data;
  json_t *used = json_object_get(m->content, "used_bytes");
  if (json_is_integer(used)) json_object_set(st, "disk_bytes", used);
  if (call->s) session_reply_data(call->s, 200, json_incref(st));
  gw_call_finish(call);
}

static void st_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_data(call->s, 200, json_incref(call->data)); /* disk_bytes stays null */
  gw_call_finish(call);
}

static const zb_handlers_t ST_H = {NULL, st_reply, st_fail};

void h_sb_stats(gw_session_t *s, json_t *body) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  json_t *st = cgroup_stats(sb->id);
  gw_call_t *call = st ? gw_call_new(s, st, st_free) : NULL;
  if (!call) return session_reply_error(s, 500, "internal", "out of memory");
  if (zb_request(sb->id, SL_OP_FS_REQUEST, json_pack("{s:s}", "op", "df"), &ST_H, call, STATS_TIMEOUT_MS) < 0) {
    session_reply_data(s, 200, json_incref(st));
    gw_call_finish(call);
  }
}
