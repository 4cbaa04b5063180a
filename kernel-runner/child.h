/* child.h — a long-lived process inside the sandbox that the supervisor talks to over pipes: a language
 * driver or the stateful shell (driver.h §1, §2). fd 0 is /dev/null, fds 1/2 are output pipes (read as
 * streams), fd 3 carries requests to it, fd 4 carries its events/records back. The supervisor holds
 * every pipe end; init only passes the child's ends on (SCM_RIGHTS).
 *
 * Ownership: sl_child_t is the caller's value and owns its fds and buffers (released by
 * sl_child_stop). sl_child_take returns a new buffer (caller frees).
 */
#ifndef SLUICE_RUNNER_CHILD_H
#define SLUICE_RUNNER_CHILD_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "sandbox.h"
#include "stream.h"

#define SL_CHILD_MAX_PENDING_WRITE (16u << 20)  /* request bytes not yet taken by the child */

typedef struct {
  pid_t ns_pid, host_pid;
  int running;          /* spawned and not yet reported exited */
  int req_w;            /* fd 3 of the child; we write, non-blocking */
  int ev_r;             /* fd 4 of the child; we read, non-blocking */
  int pidfd;            /* zygote-born: readable once it exited (init does not report it); else -1 */
  sl_stream_t out, err; /* fds 1 and 2 */
  char *wbuf;
  size_t wlen, woff;
  char *rbuf;
  size_t rlen, rcap, rmax;
} sl_child_t;

void sl_child_init(sl_child_t *c);
/* Spawns argv inside the sandbox. rmax caps one record. Returns 0 or -errno (reason in err). */
int sl_child_start(sl_child_t *c, sl_sandbox_t *sb, json_t *argv, json_t *env, const char *cwd, size_t rmax,
                   sl_exited_cb cb, void *ud, char *err, size_t errlen);
/* The same for the Python driver, forked by the image's zygote (zygote.h) instead of spawned by init. */
int sl_child_start_zygote(sl_child_t *c, sl_sandbox_t *sb, const sl_config_t *cfg, json_t *env, const char *cwd,
                          size_t rmax, char *err, size_t errlen);
/* Appends to the request pipe (copied) and writes as much as the pipe takes. */
int sl_child_write(sl_child_t *c, const void *data, size_t len);
/* Writes pending request bytes. Returns 0 or -errno. */
int sl_child_flush(sl_child_t *c);
int sl_child_has_pending_write(const sl_child_t *c);
/* Reads the event pipe once. Returns 1 while open, 0 at EOF, -EMSGSIZE when a record exceeds rmax. */
int sl_child_read(sl_child_t *c);
/* Takes the next complete record ending in delim (delim excluded, NUL-terminated). Returns 1 with *rec
 * set, else 0. */
int sl_child_take(sl_child_t *c, char delim, char **rec, size_t *len);
/* Kills the child's process group and closes everything. */
void sl_child_stop(sl_child_t *c);

#endif
