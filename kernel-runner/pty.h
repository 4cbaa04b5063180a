/* pty.h — pseudo-terminals for PTY processes (procs.h). init allocates them inside the sandbox (its
 * mount namespace: /dev/ptmx is the sandbox's private devpts instance, never the host's), gives the
 * slave to the child as fds 0-2 and its controlling terminal, and hands the master back to the
 * runner over the control socket (SCM_RIGHTS).
 *
 * Ownership: sl_pty_open returns two new fds (O_CLOEXEC) the caller closes; the others borrow fds.
 */
#ifndef SLUICE_RUNNER_PTY_H
#define SLUICE_RUNNER_PTY_H

#define SL_PTY_MIN_DIM 1
#define SL_PTY_MAX_DIM 1000

/* Opens a new master (in the caller's mount namespace) and its slave (O_NOCTTY: the caller never
 * acquires it), sized rows x cols. Returns 0 or -errno. */
int sl_pty_open(int rows, int cols, int *master, int *slave);
/* In a fresh session leader: makes fd (a pty slave) its controlling terminal. Returns 0 or -errno. */
int sl_pty_make_ctty(int fd);
/* TIOCSWINSZ on a master: the foreground process group gets SIGWINCH. Returns 0 or -errno. */
int sl_pty_resize(int master, int rows, int cols);

#endif
