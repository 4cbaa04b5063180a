/* init.h — PID 1 of the sandbox's pid namespace. Spawns processes on request of the supervisor over
 * the control socket (driver.h §3), reaps every child (reparented orphans included) and reports each
 * exit; never runs user code itself. When the supervisor goes away (socket EOF) it exits, which makes
 * the kernel kill everything left in the pid namespace.
 *
 * Entered by re-executing the runner binary inside the sandbox as "sluice-init --init CTL UID GID".
 * No pointers cross this API.
 */
#ifndef SLUICE_RUNNER_INIT_H
#define SLUICE_RUNNER_INIT_H

#include <stdint.h>
#include <sys/types.h>

/* Runs the init loop; returns the process exit code. */
/* caps: capability bits user processes keep (cap_add minus cap_drop). */
int sl_init_main(int ctl, uid_t uid, gid_t gid, uint64_t caps);

#endif
