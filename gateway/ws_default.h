/* ws_default.h — the vhost's default websocket protocol: upgrades that offer no subprotocol.
 *
 * Two websockets accept such clients: the Jupyter channels (legacy JSON; jupyter_server and nbclient
 * offer nothing) and the native stream websocket (stream_ws.h; plain clients). lws 4.1 picks the
 * default protocol before any path is known and does not export lws_bind_protocol, so this protocol's
 * callback hands each connection over by path: /api/v1/sandboxes/{sb}/stream goes to sws_callback,
 * everything else to jws_callback (whose filter refuses what is not a channels path).
 *
 * Ownership: ws_default_conn_t is lws per-session memory holding either connection's state; the
 * handed-over callback owns it from ESTABLISHED to CLOSED.
 */
#ifndef GW_WS_DEFAULT_H
#define GW_WS_DEFAULT_H

#include <libwebsockets.h>

#include "jupyter.h"
#include "stream_ws.h"

typedef struct {
  int kind; /* 0 until ESTABLISHED, then WS_DEFAULT_JUPYTER or WS_DEFAULT_STREAM */
  union {
    jws_conn_t jws;
    sws_conn_t sws;
  } u;
} ws_default_conn_t;

int ws_default_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
