/* stream_ws.h — GET /api/v1/sandboxes/{sb}/stream: the native streaming websocket
 * (protocol/docs/stream_ws.md). JSON text frames both ways (protocol/include/sluice/stream_frames.h);
 * several requests in flight on one socket, each event naming its request's id.
 *
 * Routing: the lws protocol SWS_PROTOCOL (= SL_SF_SUBPROTOCOL, "sluice.stream.v1") is chosen when a
 * client offers it; a client that offers no subprotocol lands on the vhost's default (the Jupyter
 * legacy protocol), whose callback hands a /stream path over to this one (ws_default.h).
 *
 * Back-pressure: outgoing frames wait in a bounded per-connection queue, written one per WRITEABLE.
 * Above SWS_Q_HIGH_BYTES the socket's code/exec requests are paused at the runner (zb_flow leases, the
 * driver blocks on its full pipe) and the client's own input is paused (lws_rx_flow_control); under
 * SWS_Q_LOW_BYTES both resume. Past SWS_Q_MAX_BYTES output events are dropped (and the lease renewed;
 * `done` then says truncated); past SWS_Q_HARD_BYTES the socket is closed. At most SWS_MAX_REQS requests
 * in flight per socket. Closing the socket cancels its requests: running cells are interrupted, a
 * running exec is cancelled (sluice_exec_cancel), processes it started and that still run are killed,
 * its watches are stopped, pauses are lifted.
 *
 * Ownership: sws_conn_t is lws per-session memory; its queued frames are its own and freed in CLOSED.
 * A request (sws_req_t, heap) lives from its frame until the bridge's reply/fail for it; while the
 * socket is open it is linked into conn->reqs, afterwards its conn pointer is NULL (orphan).
 */
#ifndef GW_STREAM_WS_H
#define GW_STREAM_WS_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>

#include "sluice/stream_frames.h"
#include "zmq_bridge.h"

#define SWS_PROTOCOL SL_SF_SUBPROTOCOL
#define SWS_Q_HIGH_BYTES (1u << 20)
#define SWS_Q_LOW_BYTES (256u << 10)
#define SWS_Q_MAX_BYTES (8u << 20)
#define SWS_Q_HARD_BYTES (16u << 20)
#define SWS_MAX_REQS 64

typedef struct sws_frame {
  struct sws_frame *next;
  size_t len;
  unsigned char *buf; /* LWS_PRE + len */
} sws_frame_t;

struct sws_req;

typedef struct sws_conn {
  struct lws *wsi;
  char sb_id[40];
  int closing, rx_paused, runner_paused;
  /* one incoming frame being reassembled (≤ SL_SF_MAX_FRAME) */
  unsigned char *rx;
  size_t rx_len, rx_cap;
  int rx_too_big, rx_binary;
  sws_frame_t *q_head, *q_tail;
  size_t q_n, q_bytes;
  struct sws_req *reqs;
  unsigned n_reqs;
} sws_conn_t;

typedef struct sws_req {
  struct sws_req *next;
  sws_conn_t *c; /* NULL once the socket is gone */
  sl_sf_type_t type;
  char sb_id[40];
  char id[SL_SF_ID_MAX + 1];
  char flow_id[40];    /* code/exec: the runner request's msg_id (flow control names it) */
  char context_id[72]; /* code: to interrupt it when the socket closes */
  int64_t pid;         /* process_start: once started */
  int proc_waiting;    /* process_start: the attach is pending */
  int cut, saw_error;  /* cut: an output event was dropped (watch: an overflow is owed) */
  int input_pending;   /* code: its input() asked the client (input_request), no input_reply yet */
} sws_req_t;

/* lws callback of SWS_PROTOCOL. */
int sws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* True when the upgrade's path is /api/v1/sandboxes/{sb}/stream. */
int sws_is_stream_path(struct lws *wsi);

/* Queues one event for the request id (NULL: none). fields stolen. droppable events are refused past
 * SWS_Q_MAX_BYTES (returns 1). Returns 0, 1, or -1 when the socket is closing. */
int sws_send(sws_conn_t *c, const char *type, const char *id, json_t *fields, int droppable);
void sws_close(sws_conn_t *c, const char *why);

/* stream_ws_reqs.c: one parsed request (its content stolen) → the runner. */
void sws_req_start(sws_conn_t *c, sl_sf_req_t *r);
/* The socket is gone: orphan, cancel and unpause its requests. */
void sws_reqs_cancel(sws_conn_t *c);
/* Pause (1) or resume (0) the runner output of every code/exec request of c. */
void sws_reqs_flow(sws_conn_t *c, int paused);
/* Shared by the request kinds: a new request (the caller's until linked) of q's type and id for c, or
 * NULL after an error event (too many in flight, out of memory); links r into c; the bridge's final callback ends r (unlinks, frees);
 * an error event for r's id. */
sws_req_t *sws_req_new(sws_conn_t *c, const sl_sf_req_t *q);
void sws_req_link(sws_conn_t *c, sws_req_t *r);
void sws_req_end(sws_req_t *r);
void sws_send_fail(sws_req_t *r, const char *code, const char *message);

/* stream_ws_watch.c: watch (sluice_watch_request start, flow-controlled like exec) → watching {path},
 * fs_event {event, path, from?}, done {} (or error); unwatch {watch_id} → the watch's done, then done. */
#define SWS_WATCH_TIMEOUT_MS (30u * 24u * 3600u * 1000u) /* a watch lives as long as its socket */
extern const zb_handlers_t SWS_WATCH_H;
void sws_unwatch(sws_conn_t *c, sl_sf_req_t *q);
/* The queue drained: each watch of c that had events dropped gets its overflow now. */
void sws_watch_owed(sws_conn_t *c);
/* Sends stop for the watch whose start had msg_id start_id (h/ctx: as zb_request). */
int sws_watch_stop(const char *sb_id, const char *start_id, const zb_handlers_t *h, void *ctx);

#endif
