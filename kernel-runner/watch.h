/* watch.h — the runner's side of sluice_watch_request (ops.h): each watch is one watch helper
 * (watchhelper.h) spawned inside the sandbox by init; the runner relays its records as
 * sluice_fs_event events of the start request and answers the start when the helper ends (its error,
 * or ok). stop kills the helper. While the gateway is backed up (congested) the helpers' pipes are not
 * read: a helper then blocks, the kernel's inotify queue fills and the client gets one overflow.
 * Everything ends with the sandbox (the helpers are in its pid namespace).
 *
 * Ownership: sl_watches_t is the runner's value; it owns its watchers, their fds, line buffers and
 * start requests. sl_watches_request STEALS *msg (NULLs it).
 */
#ifndef SLUICE_RUNNER_WATCH_H
#define SLUICE_RUNNER_WATCH_H

#include <poll.h>
#include <stdint.h>

#include "target.h"

#define SL_WATCHES_MAX 32                /* watches per sandbox */
#define SL_WATCHES_MAX_POLLFDS SL_WATCHES_MAX
#define SL_WATCHES_MAX_LINE (24u << 10)  /* one record (two paths of PATH_MAX, escaped) */
#define SL_WATCHES_READ_BUDGET (256u << 10) /* bytes read from one helper per loop turn */

typedef struct sl_watcher sl_watcher_t;

typedef struct {
  const sl_target_env_t *env;
  sl_watcher_t *w;  /* SL_WATCHES_MAX slots */
} sl_watches_t;

int sl_watches_init(sl_watches_t *ws, const sl_target_env_t *env);
void sl_watches_request(sl_watches_t *ws, sl_msg_t **msg);
int sl_watches_pollfds(sl_watches_t *ws, struct pollfd *pfd, int congested);
void sl_watches_handle(sl_watches_t *ws, const struct pollfd *pfd, int n);
void sl_watches_on_exited(sl_watches_t *ws, pid_t ns_pid, int status);
void sl_watches_shutdown(sl_watches_t *ws, const char *reason);

#endif
