/* proctree.h — host-side views of the sandbox's process tree through the host's /proc (the runner
 * runs in the host pid namespace, so it sees host pids and each process's NSpid chain).
 * Ownership: out arrays are the caller's.
 */
#ifndef SLUICE_RUNNER_PROCTREE_H
#define SLUICE_RUNNER_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

#define SL_PROC_MAX_TREE 4096

/* Direct children of pid (all its threads). Returns how many were stored. */
size_t sl_proc_children(pid_t pid, pid_t *out, size_t max);
/* The host pid of the child of parent whose innermost pid is ns_pid, or -ESRCH. */
pid_t sl_proc_host_pid(pid_t parent, pid_t ns_pid);
/* Kills (SIGKILL) every descendant of root whose direct-child ancestor is not in keep[], stopping
 * them first so none escapes by forking or being reparented mid-walk. Returns how many were killed. */
int sl_proc_kill_tree_except(pid_t root, const pid_t *keep, size_t nkeep);

#endif
