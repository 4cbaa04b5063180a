/* linger.h — a lingering close for HTTP connections the gateway refuses mid-request (411 on a chunked
 * body, 413 on a body too large to skip).
 *
 * Closing a TCP socket while the client's unread body bytes sit in our receive buffer makes the kernel
 * send RST, which can destroy the reply before the client reads it (and a client still writing gets
 * EPIPE instead of our 4xx). gw_linger_close keeps the connection's socket open after lws lets go of
 * it: it sends FIN (shutdown SHUT_WR) after the reply, then reads and discards what the client still
 * sends until it closes, GW_LINGER_MAX_BYTES were read or GW_LINGER_SECONDS passed.
 *
 * Ownership: the lingering socket is a dup() owned by the loop (fdwatch) and closed by it; the caller's
 * fd and wsi are untouched. At most GW_LINGER_MAX sockets linger at once; beyond that nothing is done
 * (the plain close still happens). */
#ifndef SLUICE_GW_LINGER_H
#define SLUICE_GW_LINGER_H

struct lws;

#define GW_LINGER_MAX 64
#define GW_LINGER_MAX_BYTES (4u << 20)
#define GW_LINGER_SECONDS 5

/* Call right before returning -1 (close) from the wsi's callback, after its reply was written. */
void gw_linger_close(struct lws *wsi);

#endif
