/* fshelper.h — the file helper: one file operation performed INSIDE the sandbox.
 *
 * init forks it like any spawned process (own session, the sandbox's uid/gid, capabilities dropped,
 * seccomp applied) but, instead of execve, calls sl_fshelper_main in the forked child when argv[0] is
 * SL_FSHELPER_ARGV0. So every path is resolved in the sandbox's mount namespace, from its root, with
 * its user's permissions: the gateway and the runner never open a sandbox path on the host side
 * (isolation.md, "host-side path handling"). Opens additionally use openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) so /proc/self/fd/N-style magic links are refused even in there.
 *
 * argv: [SL_FSHELPER_ARGV0, "<request JSON>"] (the sluice_fs_request content, ops.h).
 * fds:  0 data in (write), 1 data out (read), 2 status: newline-terminated JSON records —
 *       {"ok":true,...} or {"ok":false,"code":"not_found|forbidden|bad_request|conflict|internal",
 *       "message":s}. read/write send a first record when the file is open (read: size, truncated),
 *       write a second one after the rename. Other ops send exactly one.
 *
 * No pointers cross this API.
 */
#ifndef SLUICE_RUNNER_FSHELPER_H
#define SLUICE_RUNNER_FSHELPER_H

#define SL_FSHELPER_ARGV0 "@sluice-fs"
#define SL_FSHELPER_MAX_ENTRIES 10000   /* list: entries returned at most */
#define SL_FSHELPER_MAX_DEPTH 32

/* Runs the request in argv1 and returns the exit code (0 ok). Never returns to init's code. */
int sl_fshelper_main(const char *argv1);

#endif
