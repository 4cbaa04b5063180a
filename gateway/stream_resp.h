/* stream_resp.h — one streamed HTTP response body (exec as server-sent events, code as NDJSON).
 *
 * Status 200 and the headers go out at once; then the body grows as the producer pushes bytes: HTTP/1.1
 * chunked transfer encoding framed here ("<hex>\r\n<bytes>\r\n", last "0\r\n\r\n"), plain DATA frames on
 * HTTP/2. Bytes are written only from LWS_CALLBACK_HTTP_WRITEABLE, one lws_write per callback.
 *
 * Back-pressure: the queue of unwritten bytes is bounded. Above GW_STREAM_HIGH_WATER the stream asks the
 * sandbox's runner to stop reading the execution's output (zb_flow paused; the driver then blocks on its
 * full pipe), under GW_STREAM_LOW_WATER it lets it go on. A pause is a lease the runner drops by itself
 * after SL_OP_FLOW_LEASE_MS, so a client that stops reading altogether cannot wedge the sandbox: what
 * arrives while the queue is over GW_STREAM_MAX_QUEUED is refused (droppable pushes) and the producer
 * reports the cut. Non-droppable pushes (the final events, a few hundred bytes) always queue.
 *
 * Ownership: the stream belongs to its session (s->stream) and is freed with it (session_reset →
 * gw_stream_free, which lifts a pause it holds). Producers reach it through their gw_call_t: when the
 * client is gone call->s is NULL and there is nothing to push to. Pushed bytes are copied.
 */
#ifndef GW_STREAM_RESP_H
#define GW_STREAM_RESP_H

#include <stddef.h>

#include "session.h"

#define GW_STREAM_HIGH_WATER  (1u << 20)
#define GW_STREAM_LOW_WATER   (256u << 10)
#define GW_STREAM_MAX_QUEUED  (8u << 20)
#define GW_STREAM_WRITE_CHUNK (32u << 10)

typedef struct gw_stream gw_stream_t;

/* Starts a streamed 200 reply on s with content_type; sandbox_id/flow_id name whose output a pause
 * would hold (flow_id: the request's msg_id). Returns 0, or -ENOMEM (nothing started: reply normally). */
int gw_stream_begin(gw_session_t *s, const char *content_type, const char *sandbox_id, const char *flow_id);
/* Queues len bytes. Returns 0, or 1 when a droppable push was refused (over GW_STREAM_MAX_QUEUED),
 * or -ENOMEM. */
int gw_stream_push(gw_session_t *s, const char *data, size_t len, int droppable);
/* Takes ownership of a malloc'd buffer (freed even on failure); otherwise as gw_stream_push. */
int gw_stream_push_owned(gw_session_t *s, char *data, size_t len, int droppable);
/* No more bytes: the terminating chunk follows the queue. */
void gw_stream_end(gw_session_t *s);
/* Called by session_on_writeable when s->stream is set. Returns what the lws callback returns. */
int gw_stream_on_writeable(gw_session_t *s);
/* Frees the stream (NULLs *st); lifts its pause. */
void gw_stream_free(gw_stream_t **st);

#endif
