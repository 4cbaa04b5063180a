/* caps.h — capabilities and privileges of every user-facing process (run by init between fork and
 * execve): bounding set reduced to the kept capabilities (empty by default), uid/gid switched,
 * permitted/effective/inheritable/ambient set to exactly the kept ones, NO_NEW_PRIVS set.
 * No pointers are kept.
 */
#ifndef SLUICE_RUNNER_CAPS_H
#define SLUICE_RUNNER_CAPS_H

#include <stdint.h>
#include <sys/types.h>

/* Drops everything but keep (bit n = capability n) and becomes uid/gid. Returns 0 or -errno. Call in the
 * child after fork. The kept capabilities survive execve for root and non-root alike (ambient set). */
int sl_caps_drop_to(uid_t uid, gid_t gid, uint64_t keep);

#endif
