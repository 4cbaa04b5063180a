/* jupyter_ws.c — GET /api/kernels/{id}/channels: the kernel websocket (jupyter.h).
 *
 * Two lws protocols share this callback: JWS_LEGACY_PROTOCOL is the vhost's default ws protocol (a
 * client offering no subprotocol — jupyter_server in gateway mode, nbclient — gets legacy JSON text
 * frames), SL_JF_SUBPROTOCOL is chosen when offered (JupyterLab). Incoming fragments are reassembled up
 * to SL_JF_MAX_FRAME; outgoing frames wait in a bounded per-connection queue written one frame per
 * WRITEABLE. Above JWS_Q_HIGH_BYTES the client's own input is paused (lws_rx_flow_control) until the
 * queue drains below JWS_Q_LOW_BYTES; past JWS_Q_MAX_* the client is closed (1008) — never an
 * unbounded buffer.
 *
 * Auth: a key (Authorization: token K, X-API-Key, ?token=) allowed in the sandbox's namespace; or,
 * when cfg.jupyter_open_channels is on (the default), none for a kernel created through POST
 * /api/kernels by an authenticated caller (its id, a random UUID, is the capability) — jupyter_server's
 * GatewayKernelClient sends no credentials on the websocket.
 *
 * Ownership: jws_conn_t is lws per-session memory; its rx buffer and queued frames are owned by it and
 * freed in LWS_CALLBACK_CLOSED.
 */
#include "jupyter.h"

#include "auth.h"
#include "gateway.h"
#include "http_util.h"
#include "keys.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sandbox the upgrade's path names (any state), or NULL. */
static gw_sandbox_t *channel_sandbox(struct lws *wsi) {
  char uri[512];
  gw_match_t m;
  if (http_header(wsi, WSI_TOKEN_GET_URI, uri, sizeof(uri)) <= 0) return NULL;
  if (gw_route_match(GW_M_GET, uri, &m) < 0 || m.route->id != GW_R_JP_CHANNELS) return NULL;
  gw_sandbox_t *sb = reg_find_id(m.params[0]);
  return sb && !sb->hidden && !sb->deleting ? sb : NULL;
}

static int open_channels(const gw_sandbox_t *sb) {
  return g_gw.cfg.jupyter_open_channels &&
         json_is_true(json_object_get(json_object_get(sb->rec, "jupyter"), "open_channels"));
}

/* Before the 101: is this upgrade allowed? 0 yes; nonzero refuses it (after an HTTP error status). */
static int jws_on_filter(struct lws *wsi) {
  gw_sandbox_t *sb = channel_sandbox(wsi);
  if (!sb || g_gw.shutting_down) {
    lws_return_http_status(wsi, sb ? HTTP_STATUS_SERVICE_UNAVAILABLE : HTTP_STATUS_NOT_FOUND, NULL);
    return -1;
  }
  json_t *key = NULL;
  sl_api_err_t err;
  if (auth_request(wsi, &key, &err) == 0) {
    int ok = gw_key_allows_ns(key, reg_str(sb, "namespace"));
    json_decref(key);
    if (ok) return 0;
    lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
    return -1;
  }
  if (open_channels(sb)) return 0;
  lws_return_http_status(wsi, HTTP_STATUS_UNAUTHORIZED, NULL);
  return -1;
}

static int jws_on_established(jws_conn_t *c, struct lws *wsi) {
  memset(c, 0, sizeof(*c));
  c->wsi = wsi;
  c->proto = strcmp(lws_get_protocol(wsi)->name, SL_JF_SUBPROTOCOL) == 0 ? SL_JF_V1 : SL_JF_LEGACY;
  gw_sandbox_t *sb = channel_sandbox(wsi);
  if (!sb) return -1;
  if (http_query_arg(wsi, "session_id", c->session_id, sizeof(c->session_id)) < 0) c->session_id[0] = 0;
  snprintf(c->kernel_id, sizeof(c->kernel_id), "%s", sb->id);
  jk_kernel_t *k = jk_get(sb);
  if (!k) return -1;
  jk_attach(k, c);
  jk_touch(k);
  /* a freshly connected client learns the state at once (nbclient waits for an iopub message) */
  jk_emit(k, c, "iopub", "status", NULL, json_pack("{s:s}", "execution_state", k->state));
  return 0;
}

static void q_free(jws_conn_t *c) {
  while (c->q_head) {
    jws_frame_t *f = c->q_head;
    c->q_head = f->next;
    free(f->buf);
    free(f);
  }
  c->q_tail = NULL;
  c->q_n = c->q_bytes = 0;
}

void jws_close(jws_conn_t *c, const char *why) {
  if (c->closing) return;
  c->closing = 1;
  fprintf(stderr, "sluice-gateway: kernel %s: closing a channels websocket: %s\n", c->kernel_id, why);
  jk_detach(c);
  jr_conn_gone(c);
  q_free(c);
  lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
  lws_callback_on_writable(c->wsi);
}

int jws_send(jws_conn_t *c, const sl_msg_t *msg, const char *channel) {
  if (c->closing) return -1;
  size_t len = 0;
  int binary = 0;
  unsigned char *buf = sl_jf_encode(c->proto, msg, channel, LWS_PRE, &len, &binary);
  jws_frame_t *f = buf ? calloc(1, sizeof(*f)) : NULL;
  if (!f) {
    free(buf);
    fprintf(stderr, "sluice-gateway: kernel %s: a %s message could not be encoded; dropped\n", c->kernel_id,
            sl_msg_type(msg));
    return 0;
  }
  if (c->q_n + 1 > JWS_Q_MAX_MSGS || c->q_bytes + len > JWS_Q_MAX_BYTES) {
    free(buf);
    free(f);
    jws_close(c, "the client does not read its messages");
    return -1;
  }
  f->buf = buf;
  f->len = len;
  f->binary = binary;
  if (c->q_tail)
    c->q_tail->next = f;
  else
    c->q_head = f;
  c->q_tail = f;
  c->q_n++;
  c->q_bytes += len;
  if (c->q_bytes > JWS_Q_HIGH_BYTES && !c->rx_paused) {
    c->rx_paused = 1;
    lws_rx_flow_control(c->wsi, 0);
  }
  lws_callback_on_writable(c->wsi);
  return 0;
}

static int jws_on_writeable(jws_conn_t *c) {
  if (c->closing) return -1;
  jws_frame_t *f = c->q_head;
  if (!f) return 0;
  int n = lws_write(c->wsi, f->buf + LWS_PRE, f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
  if (n < (int)f->len) return -1;
  c->q_head = f->next;
  if (!c->q_head) c->q_tail = NULL;
  c->q_n--;
  c->q_bytes -= f->len;
  free(f->buf);
  free(f);
  if (c->rx_paused && c->q_bytes < JWS_Q_LOW_BYTES) {
    c->rx_paused = 0;
    lws_rx_flow_control(c->wsi, 1);
  }
  if (c->q_head) lws_callback_on_writable(c->wsi);
  return 0;
}

static int jws_on_receive(jws_conn_t *c, struct lws *wsi, const void *in, size_t len) {
  if (c->closing) return 0;
  if (lws_is_first_fragment(wsi)) {
    c->rx_len = 0;
    c->rx_too_big = 0;
    c->rx_binary = lws_frame_is_binary(wsi);
  }
  if (!c->rx_too_big && c->rx_len + len > SL_JF_MAX_FRAME) {
    c->rx_too_big = 1;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
  }
  if (!c->rx_too_big) {
    if (c->rx_len + len > c->rx_cap) {
      size_t cap = c->rx_cap ? c->rx_cap : 4096;
      while (cap < c->rx_len + len) cap *= 2;
      unsigned char *n = realloc(c->rx, cap);
      if (!n) return -1;
      c->rx = n;
      c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
  }
  if (!lws_is_final_fragment(wsi)) return 0;
  if (c->rx_too_big) {
    fprintf(stderr, "sluice-gateway: kernel %s: dropped a websocket message over %u bytes\n", c->kernel_id,
            SL_JF_MAX_FRAME);
    return 0;
  }
  sl_msg_t *msg = NULL;
  char channel[SL_JF_CHANNEL_MAX], err[160];
  if (sl_jf_decode(c->proto, c->rx_binary, c->rx, c->rx_len, &msg, channel, err, sizeof(err)) < 0) {
    fprintf(stderr, "sluice-gateway: kernel %s: dropped a malformed websocket message: %s\n", c->kernel_id, err);
  } else {
    jk_kernel_t *k = jk_find(c->kernel_id);
    if (k)
      jr_handle(c, k, msg, channel);
    else
      jws_close(c, "the kernel is gone");
  }
  sl_msg_free(&msg);
  if (c->rx_cap > (1u << 20)) { /* do not keep a large buffer around between messages */
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
  }
  c->rx_len = 0;
  return 0;
}

static void jws_on_closed(jws_conn_t *c) {
  jk_detach(c);
  jr_conn_gone(c);
  q_free(c);
  free(c->rx);
  c->rx = NULL;
}

int jws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  jws_conn_t *c = user;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return jws_on_filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
      return c ? jws_on_established(c, wsi) : -1;
    case LWS_CALLBACK_RECEIVE:
      return c ? jws_on_receive(c, wsi, in, len) : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return c ? jws_on_writeable(c) : 0;
    case LWS_CALLBACK_CLOSED:
      if (c) jws_on_closed(c);
      return 0;
    default:
      return 0;
  }
}
