/* link.h — the runner's ZeroMQ link to the gateway: a DEALER (routing id = sandbox id) connected to the
 * gateway's ROUTER, Jupyter-wire messages signed with the state dir's key, and a socket monitor that
 * reports every completed handshake (the gateway may restart at any time; each handshake is answered
 * with sluice_hello by the caller).
 *
 * Outbound messages go to ZeroMQ, which queues them on the connect side while the gateway is away (up
 * to SNDHWM). What ZeroMQ refuses (EAGAIN) waits in the link's own bounded queue; while that queue is
 * non-empty the link is "congested" and the caller stops reading output pipes (back-pressure).
 *
 * ZMQ_FD is edge-triggered: sl_link_pump must run after every poll wake-up and after every send; it
 * re-reads ZMQ_EVENTS and drains while POLLIN.
 *
 * Ownership: sl_link_new returns a new link, freed by sl_link_destroy (NULLs the pointer).
 * sl_link_send STEALS *msg (and NULLs it). Messages handed to the request callback are borrowed for
 * the call.
 */
#ifndef SLUICE_RUNNER_LINK_H
#define SLUICE_RUNNER_LINK_H

#include <stddef.h>

#include "sluice/msg.h"

#define SL_LINK_SNDHWM       32        /* messages; with the gateway's RCVHWM this bounds what is in flight (≤ 64 × 64 KiB) */
#define SL_LINK_RCVHWM       1024
#define SL_LINK_MAX_QUEUE    4096      /* messages held by the link itself when ZeroMQ says EAGAIN */
#define SL_LINK_RECONNECT_MS 10

typedef struct sl_link sl_link_t;

typedef struct {
  void (*on_request)(void *ud, sl_msg_t **msg); /* verified, decoded; the callee may steal *msg (NULL it) */
  void (*on_bad)(void *ud, const char *why);    /* a frame set that failed to decode */
  void (*on_handshake)(void *ud);               /* a (re)connection completed */
  void *ud;
} sl_link_cbs_t;

sl_link_t *sl_link_new(const char *endpoint, const char *routing_id, const void *key, size_t keylen,
                       const sl_link_cbs_t *cbs, char *err, size_t errlen);
void sl_link_destroy(sl_link_t **link, int linger_ms);

/* The two fds to poll for POLLIN (ZMQ_FD of the socket and of the monitor). */
void sl_link_fds(sl_link_t *link, int fds[2]);
/* Sends what is queued, receives and dispatches what arrived, handles monitor events. Returns 1 when
 * input is still pending (call again before sleeping in poll), else 0. */
int sl_link_pump(sl_link_t *link);
/* Queues msg for sending (steals it). Returns 0, or -ENOBUFS when the link's queue is full (dropped). */
int sl_link_send(sl_link_t *link, sl_msg_t **msg);
int sl_link_congested(const sl_link_t *link);
int sl_link_connected(const sl_link_t *link);
/* Builds a message of type with parent (borrowed, may be NULL) and content (STOLEN) and queues it. */
int sl_link_emit(sl_link_t *link, const char *type, const sl_msg_t *parent, json_t *content);
/* Queues a stream message for parent (borrowed) with text[0..len) (valid UTF-8, at most
 * SL_OP_MAX_STREAM_CHUNK: what sl_stream_read emits) in a wire buffer, not in the JSON
 * (sluice/stream_msg.h). Returns as sl_link_send. */
int sl_link_emit_stream(sl_link_t *link, const sl_msg_t *parent, const char *name, const char *text, size_t len);
/* This runner's session id (borrowed), used in every header it sends. */
const char *sl_link_session(const sl_link_t *link);

#endif
