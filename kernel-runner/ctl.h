/* ctl.h — the supervisor ⇄ init control channel (driver.h §3): one JSON object per SOCK_SEQPACKET
 * packet, file descriptors attached with SCM_RIGHTS.
 *
 * Ownership: sl_ctl_send borrows obj and fds (the fds stay open in the sender). sl_ctl_recv returns a
 * new json_t in *out (caller decrefs) and new fds in fds[] (caller closes them).
 */
#ifndef SLUICE_RUNNER_CTL_H
#define SLUICE_RUNNER_CTL_H

#include <jansson.h>
#include <stddef.h>

#include "sluice/driver.h"

/* Returns 0 or -errno (-EAGAIN on a non-blocking socket that is full). */
int sl_ctl_send(int sock, json_t *obj, const int *fds, size_t nfds);
/* Returns 1 with *out set, 0 on EOF, -EAGAIN, or another -errno (a malformed packet is -EBADMSG and
 * its fds are closed). */
int sl_ctl_recv(int sock, json_t **out, int fds[SL_CTL_MAX_FDS], size_t *nfds);

#endif
