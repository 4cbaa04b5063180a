/* zmq_bridge.h — the gateway's one ROUTER socket (ipc://STATE/run/gateway.zmq) inside the lws loop, and
 * the pending-request table that correlates runner events/replies by parent_header.msg_id.
 *
 * A request to a runner that has not said hello on its current connection is queued (bounded wait) and
 * sent when the hello arrives. Every request ends with exactly one of on_reply / on_fail, after which the
 * bridge forgets it; ctx is borrowed and must stay valid until then (callers pass a gw_call_t, whose
 * session pointer is cleared when the client goes away).
 *
 * Ownership: content passed to zb_request is STOLEN. Messages handed to callbacks are borrowed for the
 * duration of the call.
 */
#ifndef GW_ZMQ_BRIDGE_H
#define GW_ZMQ_BRIDGE_H

#include <jansson.h>
#include <stddef.h>

#include "sluice/msg.h"

#define ZB_MAX_PENDING 4096

typedef struct {
  void (*on_event)(void *ctx, const sl_msg_t *msg);  /* may be NULL */
  void (*on_reply)(void *ctx, const sl_msg_t *msg);
  void (*on_fail)(void *ctx, int status, const char *code, const char *message);
} zb_handlers_t;

int zb_init(void);
/* Before lws_context_destroy (timers are cancelled here; the context frees the fd watch). */
void zb_fini(void);

/* Sends msg_type/content to the runner of sandbox_id within timeout_ms (queue wait included).
 * Returns 0 (callbacks will follow, never from inside this call) or a negative errno. */
int zb_request(const char *sandbox_id, const char *msg_type, json_t *content, const zb_handlers_t *h, void *ctx,
               unsigned timeout_ms);
/* zb_request that also copies the request's msg_id into msg_id (flow control names a stream by it). */
int zb_request_id(const char *sandbox_id, const char *msg_type, json_t *content, const zb_handlers_t *h, void *ctx,
                  unsigned timeout_ms, char msg_id[40]);
/* Sends sluice_flow {flow_id, paused} to the runner of sandbox_id now, if it is connected (a
 * notification: no reply, nothing pending; a lost pause is harmless, it is a lease). */
void zb_flow(const char *sandbox_id, const char *flow_id, int paused);
/* Sends the notification msg_type/content (stolen) to the runner of sandbox_id now, if it is connected
 * (no reply, nothing pending: sluice_flow, sluice_exec_cancel). */
void zb_notify(const char *sandbox_id, const char *msg_type, json_t *content);
/* zb_request with one binary buffer (copied) after content. */
int zb_request_buf(const char *sandbox_id, const char *msg_type, json_t *content, const void *buf, size_t len,
                   const zb_handlers_t *h, void *ctx, unsigned timeout_ms);
/* The runner of sandbox_id said hello(ready): send what waited for it. */
void zb_sandbox_connected(const char *sandbox_id);
/* The runner is gone: fail everything pending for it. */
void zb_sandbox_gone(const char *sandbox_id, const char *why);
size_t zb_pending_count(void);
/* Requests pending for one sandbox (the culler does not call a busy sandbox idle). */
size_t zb_pending_for(const char *sandbox_id);

#endif
