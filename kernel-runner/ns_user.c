/* ns_user.c — uid/gid maps (ns_user.h). */
#include "ns_user.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#include "rutil.h"

int sl_ns_user_init_parent(pid_t child, unsigned long uid_base, unsigned long count) {
  char path[64], map[96];
  snprintf(map, sizeof map, "0 %lu %lu\n", uid_base, count);
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
  int rc = sl_write_str(path, map);
  if (rc < 0) return rc;
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
  return sl_write_str(path, map);
}

int sl_ns_user_init_child(void) {
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0) return -errno;
  return 0;
}
