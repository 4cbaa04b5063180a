/* stream_resp.c — a streamed HTTP response body with a bounded queue (stream_resp.h). */
#include "stream_resp.h"

#include "metrics.h"

#include "zmq_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
  struct chunk *next;
  size_t len, off;
  char *data;
} chunk_t;

struct gw_stream {
  char content_type[64];
  char sb_id[40], flow_id[40];
  chunk_t *head, *tail;
  size_t queued;
  int headers_sent, ended, h2, paused;
};

static void set_paused(gw_stream_t *st, int paused) {
  if (st->paused == paused || !st->sb_id[0]) return;
  st->paused = paused;
  zb_flow(st->sb_id, st->flow_id, paused);
}

int gw_stream_begin(gw_session_t *s, const char *content_type, const char *sandbox_id, const char *flow_id) {
  if (!s || s->replied || s->stream) return -EINVAL;
  gw_stream_t *st = calloc(1, sizeof(*st));
  if (!st) return -ENOMEM;
  snprintf(st->content_type, sizeof(st->content_type), "%s", content_type);
  snprintf(st->sb_id, sizeof(st->sb_id), "%s", sandbox_id ? sandbox_id : "");
  snprintf(st->flow_id, sizeof(st->flow_id), "%s", flow_id ? flow_id : "");
  /* an HTTP/2 stream is a child of its network connection; HTTP/1 is its own */
  st->h2 = lws_get_network_wsi(s->wsi) != s->wsi;
  s->stream = st;
  s->replied = 1; /* later session_reply_* calls are ignored */
  s->status = 200;
  lws_callback_on_writable(s->wsi);
  return 0;
}

int gw_stream_push_owned(gw_session_t *s, char *data, size_t len, int droppable) {
  gw_stream_t *st = s ? s->stream : NULL;
  if (!st || st->ended || !data) {
    free(data);
    return st && data ? 0 : -ENOMEM;
  }
  if (!len) {
    free(data);
    return 0;
  }
  if (droppable && st->queued + len > GW_STREAM_MAX_QUEUED) {
    free(data);
    set_paused(st, 1); /* renew the lease: the runner dropped it, the client still is not reading */
    return 1;
  }
  chunk_t *c = malloc(sizeof(*c));
  if (!c) {
    free(data);
    return -ENOMEM;
  }
  *c = (chunk_t){NULL, len, 0, data};
  if (st->tail)
    st->tail->next = c;
  else
    st->head = c;
  st->tail = c;
  st->queued += len;
  if (st->queued > GW_STREAM_HIGH_WATER) set_paused(st, 1);
  lws_callback_on_writable(s->wsi);
  return 0;
}

int gw_stream_push(gw_session_t *s, const char *data, size_t len, int droppable) {
  char *copy = malloc(len ? len : 1);
  if (copy) memcpy(copy, data, len);
  return gw_stream_push_owned(s, copy, len, droppable);
}

void gw_stream_end(gw_session_t *s) {
  if (!s || !s->stream) return;
  s->stream->ended = 1;
  lws_callback_on_writable(s->wsi);
}

static int write_headers(gw_session_t *s, gw_stream_t *st) {
  unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
  if (lws_add_http_header_status(s->wsi, 200, &p, end) ||
      lws_add_http_header_by_token(s->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (unsigned char *)st->content_type,
                                   (int)strlen(st->content_type), &p, end) ||
      lws_add_http_header_by_token(s->wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (unsigned char *)"no-cache", 8, &p, end))
    return -1;
  /* HTTP/1.1 without a length: chunked, so the connection can carry the next request afterwards */
  if (!st->h2 && lws_add_http_header_by_token(s->wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING,
                                              (unsigned char *)"chunked", 7, &p, end))
    return -1;
  if (lws_finalize_write_http_header(s->wsi, start, &p, end)) return -1;
  st->headers_sent = 1;
  return 0;
}

/* Writes up to GW_STREAM_WRITE_CHUNK bytes of the head chunk as one HTTP chunk. */
static int write_some(gw_session_t *s, gw_stream_t *st) {
  chunk_t *c = st->head;
  size_t n = c->len - c->off;
  if (n > GW_STREAM_WRITE_CHUNK) n = GW_STREAM_WRITE_CHUNK;
  unsigned char *buf = malloc(LWS_PRE + 16 + n + 2), *p = buf + LWS_PRE;
  if (!buf) return -1;
  size_t len = 0;
  if (!st->h2) len = (size_t)sprintf((char *)p, "%zx\r\n", n);
  memcpy(p + len, c->data + c->off, n);
  len += n;
  if (!st->h2) {
    memcpy(p + len, "\r\n", 2);
    len += 2;
  }
  int w = lws_write(s->wsi, p, len, LWS_WRITE_HTTP);
  free(buf);
  if (w < (int)len) return -1;
  metrics_bytes_out(n);
  c->off += n;
  st->queued -= n;
  if (c->off == c->len) {
    st->head = c->next;
    if (!st->head) st->tail = NULL;
    free(c->data);
    free(c);
  }
  if (st->paused && st->queued < GW_STREAM_LOW_WATER) set_paused(st, 0);
  return 0;
}

int gw_stream_on_writeable(gw_session_t *s) {
  gw_stream_t *st = s->stream;
  if (!st->headers_sent) {
    if (write_headers(s, st) < 0) return -1;
    lws_callback_on_writable(s->wsi);
    return 0;
  }
  if (st->head) {
    if (write_some(s, st) < 0) return -1;
    lws_callback_on_writable(s->wsi);
    return 0;
  }
  if (!st->ended) return 0; /* the next push asks for WRITEABLE again */
  unsigned char buf[LWS_PRE + 8], *p = buf + LWS_PRE;
  size_t len = 0;
  if (!st->h2) {
    memcpy(p, "0\r\n\r\n", 5);
    len = 5;
  }
  if (lws_write(s->wsi, p, len, LWS_WRITE_HTTP_FINAL) < (int)len) return -1;
  s->active = 0;
  session_finish(s);
  return lws_http_transaction_completed(s->wsi) ? -1 : 0;
}

void gw_stream_free(gw_stream_t **stp) {
  gw_stream_t *st = stp ? *stp : NULL;
  if (!st) return;
  set_paused(st, 0);
  while (st->head) {
    chunk_t *c = st->head;
    st->head = c->next;
    free(c->data);
    free(c);
  }
  free(st);
  *stp = NULL;
}
