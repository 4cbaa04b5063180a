/* ns_user.h — the user namespace: the parent (host root) writes the child's uid/gid maps so that inside
 * 0..65535 maps to host uid_base..uid_base+65535; the child then becomes root of its namespace.
 *
 * No pointers cross this API.
 */
#ifndef SLUICE_RUNNER_NS_USER_H
#define SLUICE_RUNNER_NS_USER_H

#include <sys/types.h>

/* Parent side. Root holds CAP_SETGID in the parent namespace, so gid_map may be written without first
 * writing "deny" to setgroups (user_namespaces(7)); setgroups stays usable inside for init's spawns. */
int sl_ns_user_init_parent(pid_t child, unsigned long uid_base, unsigned long count);
/* Child side, after the maps exist: setresgid/setresuid(0) and an empty supplementary group list. */
int sl_ns_user_init_child(void);

#endif
