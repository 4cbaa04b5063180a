/* watchhelper.h — the watch helper: inotify on one directory (or tree) performed INSIDE the sandbox.
 *
 * Like the file helper (fshelper.h), init forks it as a spawned process (own session, the sandbox's
 * uid/gid, capabilities dropped, seccomp applied) and calls sl_watchhelper_main in the forked child
 * when argv[0] is SL_WATCH_ARGV0: every path is resolved in the sandbox's mount namespace with its
 * user's permissions, and the inotify instance is the sandbox user's. The runner never opens a
 * sandbox path on the host side. /proc/PID/comm of the helper is "sluice-watch".
 *
 * argv: [SL_WATCH_ARGV0, "{\"path\": P, \"recursive\": B}"] (relative P: from the sandbox's workdir).
 * fds:  0 and 2 unused, 1 records: newline-terminated JSON, in this order —
 *       {"ok":false,"code":"not_found|invalid_path|forbidden|too_many|internal","message":s} and exit, or
 *       {"event":"watching","path":"/resolved"} once every watch is in place, then one record per change:
 *       {"event":"create|write|remove|rename|chmod","path":P[,"from":OLD]} and {"event":"overflow"}.
 *
 * Semantics: create (also a file or directory moved in from outside), write (IN_MODIFY; repeated
 * writes to one path within SL_WATCH_COALESCE_MS are one), remove, rename (both halves known: path is
 * the new name and from the old; moved out of the watched tree: path is the old name), chmod
 * (IN_ATTRIB: mode, owner, times). Recursive: a new subdirectory is watched BEFORE its create record
 * is written (and what it already holds is reported as create), so a client that saw it can rely on
 * changes inside it being reported. At most SL_WATCH_MAX_WATCHES directories: more at the start is
 * too_many; later ones are not watched and an overflow record says events are missed. The kernel's
 * queue overflowing (the reader is slow: writes to fd 1 block) is one overflow record. The helper exits
 * when the watched directory itself is removed or moved (after a remove/rename record for it) or when
 * fd 1 is closed.
 *
 * No pointers cross this API.
 */
#ifndef SLUICE_RUNNER_WATCHHELPER_H
#define SLUICE_RUNNER_WATCHHELPER_H

#define SL_WATCH_ARGV0 "@sluice-watch"
#define SL_WATCH_MAX_WATCHES 1024
#define SL_WATCH_MAX_DEPTH 128
#define SL_WATCH_COALESCE_MS 20
#define SL_WATCH_MAX_PENDING 256   /* records held for coalescing before they are written */

/* Runs the watch in argv1; returns the exit code. Never returns to init's code. */
int sl_watchhelper_main(const char *argv1);

#endif
