/* fuzz_ctl.c — sl_ctl_parse on arbitrary packets. Invariants: a parsed packet has a known type and,
 * for spawn, a non-empty string argv, a string env and 0..SL_CTL_MAX_FDS fds; for zygote_spawn, uid/gid
 * within 0..65535 and 1..SL_ZYGOTE_MAX_CGROUPS absolute cgroup paths without "/..". */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[160];
  err[0] = 0;
  json_t *j = sl_ctl_parse((const char *)data, size, err, sizeof err);
  if (!j) {
    FUZZ_ASSERT(err[0] != 0);
    return 0;
  }
  const char *type = json_string_value(json_object_get(j, "type"));
  FUZZ_ASSERT(type);
  FUZZ_ASSERT(!strcmp(type, "spawn") || !strcmp(type, "signal") || !strcmp(type, "spawned") ||
              !strcmp(type, "exited") || !strcmp(type, "zygote_spawn") || !strcmp(type, "zygote_spawned"));
  if (!strcmp(type, "zygote_spawn")) {
    json_t *cg = json_object_get(j, "cgroups"), *v;
    size_t i;
    json_int_t uid = json_integer_value(json_object_get(j, "uid")), gid = json_integer_value(json_object_get(j, "gid"));
    FUZZ_ASSERT(uid >= 0 && uid <= 65535 && gid >= 0 && gid <= 65535);
    FUZZ_ASSERT(json_is_array(cg) && json_array_size(cg) >= 1 && json_array_size(cg) <= SL_ZYGOTE_MAX_CGROUPS);
    json_array_foreach(cg, i, v) {
      const char *p = json_string_value(v);
      FUZZ_ASSERT(p && p[0] == '/' && !strstr(p, "/.."));
    }
    FUZZ_ASSERT(json_is_array(json_object_get(j, "env")) && json_is_string(json_object_get(j, "cwd")));
  }
  if (!strcmp(type, "spawn")) {
    json_t *argv = json_object_get(j, "argv"), *env = json_object_get(j, "env"), *v;
    size_t i;
    FUZZ_ASSERT(json_is_array(argv) && json_array_size(argv) > 0 && json_is_array(env));
    json_array_foreach(argv, i, v) FUZZ_ASSERT(json_is_string(v) && !memchr(json_string_value(v), 0, json_string_length(v)));
    json_array_foreach(env, i, v) FUZZ_ASSERT(json_is_string(v));
    json_int_t fds = json_integer_value(json_object_get(j, "fds"));
    FUZZ_ASSERT(fds >= 0 && fds <= SL_CTL_MAX_FDS);
    FUZZ_ASSERT(json_is_string(json_object_get(j, "cwd")));
  }
  json_decref(j);
  return 0;
}
