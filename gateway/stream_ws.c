/* stream_ws.c — the native streaming websocket: upgrade filter, frame reassembly, the bounded outgoing
 * queue and the lws callback (stream_ws.h). Requests go to the runner in stream_ws_reqs.c.
 *
 * Auth: a key (X-API-Key, Authorization: Bearer|token, ?token=) allowed in the sandbox's namespace;
 * {sb} is an id, or a name in ?namespace= (default "default").
 */
#include "stream_ws.h"

#include "auth.h"
#include "gateway.h"
#include "http_util.h"
#include "keys.h"
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_PREFIX "/api/v1/sandboxes/"
#define SB_SUFFIX "/stream"

/* The {sb} of /api/v1/sandboxes/{sb}/stream[?...] into ref; 0, or -1 for another path. */
static int stream_ref(struct lws *wsi, char *ref, size_t cap) {
  char uri[512];
  if (http_header(wsi, WSI_TOKEN_GET_URI, uri, sizeof(uri)) <= 0) return -1;
  uri[strcspn(uri, "?")] = 0;
  size_t n = strlen(uri), pl = strlen(SB_PREFIX), sl = strlen(SB_SUFFIX);
  if (n <= pl + sl || strncmp(uri, SB_PREFIX, pl) || strcmp(uri + n - sl, SB_SUFFIX)) return -1;
  size_t rl = n - pl - sl;
  if (rl >= cap || memchr(uri + pl, '/', rl)) return -1;
  memcpy(ref, uri + pl, rl);
  ref[rl] = 0;
  return 0;
}

int sws_is_stream_path(struct lws *wsi) {
  char ref[128];
  return stream_ref(wsi, ref, sizeof(ref)) == 0;
}

static gw_sandbox_t *stream_sandbox(struct lws *wsi) {
  char ref[128], ns[128];
  if (stream_ref(wsi, ref, sizeof(ref)) < 0) return NULL;
  if (http_query_arg(wsi, "namespace", ns, sizeof(ns)) <= 0) snprintf(ns, sizeof(ns), "default");
  gw_sandbox_t *sb = reg_lookup(ref, ns);
  return sb && !sb->hidden && !sb->deleting ? sb : NULL;
}

static int refuse(struct lws *wsi, int status) {
  lws_return_http_status(wsi, (unsigned)status, NULL);
  return -1;
}

static int sws_on_filter(struct lws *wsi) {
  json_t *key = NULL;
  sl_api_err_t err;
  if (g_gw.shutting_down) return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE);
  if (!sws_is_stream_path(wsi)) return refuse(wsi, HTTP_STATUS_NOT_FOUND);
  if (auth_request(wsi, &key, &err) < 0) return refuse(wsi, HTTP_STATUS_UNAUTHORIZED);
  gw_sandbox_t *sb = stream_sandbox(wsi);
  int ok = sb && gw_key_allows_ns(key, reg_str(sb, "namespace"));
  json_decref(key);
  if (!sb) return refuse(wsi, HTTP_STATUS_NOT_FOUND);
  if (!ok) return refuse(wsi, HTTP_STATUS_FORBIDDEN);
  if (!strcmp(reg_status(sb), "error") || sb->runner_dead) return refuse(wsi, HTTP_STATUS_CONFLICT);
  return 0;
}

static int sws_on_established(sws_conn_t *c, struct lws *wsi) {
  memset(c, 0, sizeof(*c));
  c->wsi = wsi;
  gw_sandbox_t *sb = stream_sandbox(wsi);
  if (!sb) return -1;
  snprintf(c->sb_id, sizeof(c->sb_id), "%s", sb->id);
  return 0;
}

static void q_free(sws_conn_t *c) {
  while (c->q_head) {
    sws_frame_t *f = c->q_head;
    c->q_head = f->next;
    free(f->buf);
    free(f);
  }
  c->q_tail = NULL;
  c->q_n = c->q_bytes = 0;
}

void sws_close(sws_conn_t *c, const char *why) {
  if (c->closing) return;
  c->closing = 1;
  fprintf(stderr, "sluice-gateway: sandbox %s: closing a stream websocket: %s\n", c->sb_id, why);
  sws_reqs_cancel(c);
  q_free(c);
  lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
  lws_callback_on_writable(c->wsi);
}

static void set_backed_up(sws_conn_t *c, int on) {
  if (c->rx_paused == on) return;
  c->rx_paused = on;
  lws_rx_flow_control(c->wsi, !on);
  sws_reqs_flow(c, on);
}

int sws_send(sws_conn_t *c, const char *type, const char *id, json_t *fields, int droppable) {
  if (!c || c->closing) {
    json_decref(fields);
    return -1;
  }
  if (droppable && c->q_bytes > SWS_Q_MAX_BYTES) {
    json_decref(fields);
    sws_reqs_flow(c, 1); /* renew the leases: the client still is not reading */
    return 1;
  }
  size_t len = 0;
  unsigned char *buf = sl_sf_event(type, id, fields, LWS_PRE, &len);
  sws_frame_t *f = buf ? calloc(1, sizeof(*f)) : NULL;
  if (!f) {
    free(buf);
    return 0;
  }
  if (c->q_bytes + len > SWS_Q_HARD_BYTES) {
    free(buf);
    free(f);
    sws_close(c, "the client does not read its events");
    return -1;
  }
  f->buf = buf;
  f->len = len;
  if (c->q_tail)
    c->q_tail->next = f;
  else
    c->q_head = f;
  c->q_tail = f;
  c->q_n++;
  c->q_bytes += len;
  if (c->q_bytes > SWS_Q_HIGH_BYTES) set_backed_up(c, 1);
  lws_callback_on_writable(c->wsi);
  return 0;
}

static int sws_on_writeable(sws_conn_t *c) {
  if (c->closing) return -1;
  sws_frame_t *f = c->q_head;
  if (!f) return 0;
  int n = lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
  if (n < (int)f->len) return -1;
  c->q_head = f->next;
  if (!c->q_head) c->q_tail = NULL;
  c->q_n--;
  c->q_bytes -= f->len;
  free(f->buf);
  free(f);
  if (c->rx_paused && c->q_bytes < SWS_Q_LOW_BYTES) {
    set_backed_up(c, 0);
    sws_watch_owed(c); /* a watch that lost events says so now, even if no event follows */
  }
  if (c->q_head) lws_callback_on_writable(c->wsi);
  return 0;
}

static void on_frame(sws_conn_t *c) {
  sl_sf_req_t r;
  sl_api_err_t err;
  if (c->rx_binary) {
    sws_send(c, "error", NULL,
             json_pack("{s:s, s:s}", "name", "invalid_frame", "value", "requests are JSON text frames"), 0);
    return;
  }
  if (sl_sf_parse((const char *)c->rx, c->rx_len, &r, &err) < 0) {
    sws_send(c, "error", r.id, json_pack("{s:s, s:s}", "name", err.code, "value", err.message), 0);
    return;
  }
  sws_req_start(c, &r);
  sl_sf_req_clear(&r);
}

static int sws_on_receive(sws_conn_t *c, struct lws *wsi, const void *in, size_t len) {
  if (c->closing) return 0;
  if (lws_is_first_fragment(wsi)) {
    c->rx_len = 0;
    c->rx_too_big = 0;
    c->rx_binary = lws_frame_is_binary(wsi);
  }
  if (!c->rx_too_big && c->rx_len + len > SL_SF_MAX_FRAME) {
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
  if (c->rx_too_big)
    sws_send(c, "error", NULL,
             json_pack("{s:s, s:s}", "name", "invalid_frame", "value", "a frame over the size limit was dropped"), 0);
  else
    on_frame(c);
  if (c->rx_cap > (1u << 20)) { /* do not keep a large buffer between frames */
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
  }
  c->rx_len = 0;
  return 0;
}

static void sws_on_closed(sws_conn_t *c) {
  sws_reqs_cancel(c);
  q_free(c);
  free(c->rx);
  c->rx = NULL;
}

int sws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  sws_conn_t *c = user;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return sws_on_filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
      return c ? sws_on_established(c, wsi) : -1;
    case LWS_CALLBACK_RECEIVE:
      return c ? sws_on_receive(c, wsi, in, len) : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return c ? sws_on_writeable(c) : 0;
    case LWS_CALLBACK_CLOSED:
      if (c) sws_on_closed(c);
      return 0;
    default:
      return 0;
  }
}
