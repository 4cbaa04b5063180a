/* ws_default.c — hands a no-subprotocol websocket to the Jupyter or the stream protocol (ws_default.h). */
#include "ws_default.h"

enum { WS_DEFAULT_NONE, WS_DEFAULT_JUPYTER, WS_DEFAULT_STREAM };

int ws_default_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  ws_default_conn_t *d = user;
  int kind = d ? d->kind : WS_DEFAULT_NONE;
  /* before the 101 the request's path is at hand: decide by it */
  if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION || reason == LWS_CALLBACK_ESTABLISHED) {
    kind = sws_is_stream_path(wsi) ? WS_DEFAULT_STREAM : WS_DEFAULT_JUPYTER;
    if (d && reason == LWS_CALLBACK_ESTABLISHED) d->kind = kind;
  }
  switch (kind) {
    case WS_DEFAULT_STREAM:
      return sws_callback(wsi, reason, d ? &d->u.sws : NULL, in, len);
    case WS_DEFAULT_JUPYTER:
      return jws_callback(wsi, reason, d ? &d->u.jws : NULL, in, len);
    default:
      return 0; /* not (yet) a websocket of ours: nothing to hand over */
  }
}
