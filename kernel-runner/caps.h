/* caps.h — capabilities and privileges of every user-facing process (run by init between fork and
 * execve): bounding set emptied, uid/gid switched, capabilities cleared, NO_NEW_PRIVS set.
 * No pointers are kept.
 */
#ifndef SLUICE_RUNNER_CAPS_H
#define SLUICE_RUNNER_CAPS_H

#include <sys/types.h>

/* Drops everything and becomes uid/gid. Returns 0 or -errno. Call in the child after fork. */
int sl_caps_drop_to(uid_t uid, gid_t gid);

#endif
