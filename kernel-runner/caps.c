/* caps.c — dropping privileges (caps.h). */
#include "caps.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int sl_caps_drop_to(uid_t uid, gid_t gid, uint64_t keep) {
  /* the bounding set first: dropping it needs CAP_SETPCAP, which goes away with the uid switch. For
   * uid 0 the bounding set is what execve grants (root's file capabilities count as full), so it is
   * the real limit; EINVAL marks numbers past the kernel's last capability */
  for (int cap = 0; cap <= 63; cap++)
    if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return -errno;
  /* switching away from uid 0 clears the permitted set unless KEEPCAPS is on */
  if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return -errno;
  if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) return -errno;
  /* uid 0 inside keeps its capabilities across setresuid: set them explicitly (cleared when keep is 0) */
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  __u32 lo = (__u32)keep, hi = (__u32)(keep >> 32);
  struct __user_cap_data_struct data[2] = {{lo, lo, lo}, {hi, hi, hi}};
  if (syscall(SYS_capset, &hdr, data) < 0) return -errno;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -errno;
  /* ambient: a non-root uid keeps cap_add across execve without file capabilities */
  for (int cap = 0; cap <= 63; cap++)
    if ((keep & (1ull << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return -errno;
  if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return -errno;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
  return 0;
}
