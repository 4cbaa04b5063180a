/* session.c — one HTTP request at a time per connection: parse, authenticate, route, collect the body,
 * hand off to a handler, write the reply. */
#include "session.h"

#include "auth.h"
#include "gateway.h"
#include "handlers.h"
#include "http_util.h"
#include "linger.h"
#include "log.h"
#include "metrics.h"
#include "sluice/api.h"
#include "stream_resp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SESSION_WRITE_CHUNK (32u << 10)
/* past this much over the limit we stop reading a rejected body and close instead */
#define SESSION_DISCARD_MAX (64u << 20)

static size_t g_calls;

size_t gw_calls_outstanding(void) { return g_calls; }

gw_call_t *gw_call_new(gw_session_t *s, void *data, void (*data_free)(void *)) {
  gw_call_t *c = calloc(1, sizeof(*c));
  if (!c) {
    if (data_free) data_free(data);
    return NULL;
  }
  c->s = s;
  c->data = data;
  c->data_free = data_free;
  c->refs = 1;
  g_calls++;
  if (s) s->call = c;
  return c;
}

void gw_call_finish(gw_call_t *c) {
  if (!c || --c->refs > 0) return;
  if (c->s && c->s->call == c) c->s->call = NULL;
  if (c->data_free) c->data_free(c->data);
  if (c->on_finish) c->on_finish(c->finish_ctx);
  free(c);
  g_calls--;
}

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t g_open_requests; /* requests received and not yet over (answered or abandoned) */

size_t session_requests_open(void) { return g_open_requests; }

static void session_reset(gw_session_t *s) {
  if (s->open_counted && g_open_requests) g_open_requests--;
  if (s->path[0]) { /* a request ends (answered, or its client left) */
    char cls[METRICS_CLASS_LEN];
    double ms = (double)(mono_us() - s->t0_us) / 1000.0;
    metrics_route_class(s->match.route ? s->match.route->pattern : NULL, cls, sizeof(cls));
    metrics_request(s, cls, ms);
    log_request(s, ms, cls);
  }
  if (s->exec_counted) handlers_exec_done();
  if (s->call) {
    gw_call_t *c = s->call;
    c->s = NULL; /* the work goes on; its completion frees the call */
    s->call = NULL;
    if (s->on_detach) s->on_detach(c);
  }
  gw_stream_free(&s->stream);
  json_decref(s->key);
  free(s->body);
  free(s->resp);
  struct lws *wsi = s->wsi;
  memset(s, 0, sizeof(*s));
  s->wsi = wsi;
  s->content_length = -1;
}

void session_reply_json(gw_session_t *s, int status, json_t *body) {
  if (!s || s->replied) {
    json_decref(body);
    return;
  }
  size_t len = 0;
  char *txt = body ? sl_api_dump(body, &len) : NULL;
  json_decref(body);
  if (!txt) {
    txt = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    status = 500;
    if (!txt) return;
    len = strlen(txt);
  }
  s->resp = malloc(LWS_PRE + len + 1);
  if (!s->resp) {
    free(txt);
    return;
  }
  memcpy(s->resp + LWS_PRE, txt, len);
  s->resp[LWS_PRE + len] = '\n';
  s->resp_len = len + 1;
  free(txt);
  s->status = status;
  s->replied = 1;
  lws_callback_on_writable(s->wsi);
}

void session_reply_data(gw_session_t *s, int status, json_t *data) {
  session_reply_json(s, status, sl_api_envelope_data(data));
}

void session_reply_error(gw_session_t *s, int status, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (s) snprintf(s->err_code, sizeof(s->err_code), "%s", code);
  /* Jupyter routes answer in Kernel Gateway's shape, which jupyter_server reads */
  if (s && s->match.route && (s->match.route->flags & GW_RF_JUPYTER))
    session_reply_json(s, status, json_pack("{s:s, s:s}", "reason", code, "message", msg));
  else
    session_reply_json(s, status, sl_api_envelope_error(code, msg));
}

const char *session_ns(const gw_session_t *s) { return s->has_ns_query ? s->ns_query : "default"; }

int session_check_ns(gw_session_t *s, const char *ns) {
  if (!s->key || gw_key_allows_ns(s->key, ns)) return 1;
  session_reply_error(s, 403, "forbidden", "this API key may not use namespace '%s'", ns);
  return 0;
}

static void dispatch(gw_session_t *s) {
  json_t *body = NULL;
  sl_api_err_t err;
  if (s->dispatched) return;
  s->dispatched = 1;
  /* the reply may take as long as the work; the work has its own bounds */
  lws_set_timeout(s->wsi, NO_PENDING_TIMEOUT, 0);
  if (s->body_too_large) {
    session_reply_error(s, 413, "payload_too_large", "the request body is over the limit of %zu bytes",
                        g_gw.cfg.max_body_bytes);
    return;
  }
  if (s->match.route->flags & GW_RF_JSON_BODY) {
    body = sl_api_parse_body(s->body, s->body_len, &err);
    if (!body) {
      session_reply_error(s, err.status, err.code, "%s", err.message);
      return;
    }
  }
  handlers_dispatch(s, body);
  json_decref(body);
}

static int is_json_type(const char *ct) {
  size_t n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ') n--;
  return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
         (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 && memchr(ct, '/', n));
}

int session_on_http(gw_session_t *s, struct lws *wsi, const char *uri, size_t len) {
  char *muri = NULL, cl[32];
  int mlen = 0;
  sl_api_err_t err;
  s->wsi = wsi;
  session_reset(s);
  s->active = 1;
  s->t0_us = mono_us();
  s->open_counted = 1;
  g_open_requests++;
  static const gw_method_t METHODS[] = {GW_M_GET, GW_M_POST, GW_M_OTHER, GW_M_PUT, GW_M_OTHER,
                                        GW_M_DELETE, GW_M_OTHER, GW_M_HEAD};
  int m = lws_http_get_uri_and_method(wsi, &muri, &mlen);
  s->method = m >= 0 && m < (int)(sizeof(METHODS) / sizeof(METHODS[0])) ? METHODS[m] : GW_M_OTHER;
  if (m == LWSHUMETH_COLON_PATH) { /* HTTP/2: the method is its own pseudo-header */
    char mb[16];
    s->method = http_header(wsi, WSI_TOKEN_HTTP_COLON_METHOD, mb, sizeof(mb)) > 0 ? gw_method_from_str(mb) : GW_M_OTHER;
  }
  if (len >= sizeof(s->path)) {
    session_reply_error(s, 404, "not_found", "no such route");
    s->dispatched = 1;
    return 0;
  }
  memcpy(s->path, uri, len);
  s->path[len] = 0;
  s->has_ns_query = http_query_arg(wsi, "namespace", s->ns_query, sizeof(s->ns_query)) > 0;
  if (http_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl)) > 0) {
    char *end;
    errno = 0;
    long long v = strtoll(cl, &end, 10);
    s->content_length = errno || *end || v < 0 ? -1 : v;
  }
  if (http_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, s->content_type, sizeof(s->content_type)) < 0)
    s->content_type[0] = 0;
  if (http_header(wsi, WSI_TOKEN_HTTP_ACCEPT, s->accept, sizeof(s->accept)) < 0) s->accept[0] = 0;
  int expects_body = s->content_length > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
  if (expects_body) {
    /* Clients that write headers and body separately (httpx, requests) hold the body back under Nagle until
     * the headers are ACKed, and Linux delays that ACK by up to 40 ms: ACK now so small requests take 1 ms. */
    int one = 1;
    setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
  }
  if (expects_body && s->content_length > (int64_t)g_gw.cfg.max_body_bytes) {
    s->body_too_large = 1;
    if (s->content_length > (int64_t)(g_gw.cfg.max_body_bytes + SESSION_DISCARD_MAX)) s->close_after = 1;
  }

  int r = gw_route_match(s->method, s->path, &s->match);
  int stream_body = r == 0 && (s->match.route->flags & GW_RF_STREAM_BODY);
  if (stream_body) s->body_too_large = s->close_after = 0; /* streamed, never held: no body limit */
  if (r == -404) {
    session_reply_error(s, 404, "not_found", "no route for %.200s", s->path);
  } else if (r == -405) {
    session_reply_error(s, 405, "method_not_allowed", "this route does not take that method");
  } else if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
    /* lws 4.1 does not decode chunked request bodies: without this the request would wait for a body that
     * never completes. Answer at once and drop the connection, since its bytes cannot be skipped. */
    session_reply_error(s, 411, "length_required", "request bodies need a Content-Length (chunked bodies are not accepted)");
    s->close_after = 1;
    expects_body = 0;
  } else if (g_gw.shutting_down) {
    session_reply_error(s, 503, "shutting_down", "the gateway is shutting down");
  } else if (!(s->match.route->flags & GW_RF_NOAUTH) && auth_request(wsi, &s->key, &err) < 0) {
    session_reply_error(s, err.status, err.code, "%s", err.message);
  } else if (s->has_ns_query && !sl_api_name_valid(s->ns_query)) {
    session_reply_error(s, 400, "invalid_namespace", "namespace is not a valid name");
  } else if (s->has_ns_query && !session_check_ns(s, s->ns_query)) {
    /* 403 sent */
  } else if ((s->match.route->flags & GW_RF_JSON_BODY) && !s->body_too_large && !is_json_type(s->content_type)) {
    session_reply_error(s, 415, "unsupported_media_type", "Content-Type must be application/json");
  } else {
    s->body_done = !expects_body;
    if (!expects_body || s->close_after || stream_body) dispatch(s);
    return 0; /* the body follows; dispatch when it is complete */
  }
  /* an early error: if a body follows, it is read and dropped before the reply goes out */
  s->body_done = !expects_body;
  s->dispatched = 1;
  return 0;
}

int session_on_body(gw_session_t *s, const void *in, size_t len) {
  if (!s->active) return 0;
  if (s->body_cb) return s->body_cb(s, in, len);
  if (s->dispatched || s->body_too_large) return 0; /* dropped: reply already decided */
  if (s->body_len + len > g_gw.cfg.max_body_bytes) {
    s->body_too_large = 1;
    free(s->body);
    s->body = NULL;
    s->body_len = s->body_cap = 0;
    return 0;
  }
  if (s->body_len + len + 1 > s->body_cap) {
    size_t cap = s->body_cap ? s->body_cap : 4096;
    if (s->content_length > 0 && (size_t)s->content_length + 1 > cap) cap = (size_t)s->content_length + 1;
    while (cap < s->body_len + len + 1) cap *= 2;
    char *n = realloc(s->body, cap);
    if (!n) return -1;
    s->body = n;
    s->body_cap = cap;
  }
  memcpy(s->body + s->body_len, in, len);
  s->body_len += len;
  s->body[s->body_len] = 0;
  return 0;
}

int session_on_body_done(gw_session_t *s) {
  if (!s->active) return 0;
  s->body_done = 1;
  if (s->body_cb && s->body_cb(s, NULL, 0) < 0) return -1;
  dispatch(s);
  if (s->replied) lws_callback_on_writable(s->wsi);
  return 0;
}

void session_finish(gw_session_t *s) { session_reset(s); }

int session_on_writeable(gw_session_t *s) {
  if (s->active && s->stream && (s->body_done || s->close_after)) return gw_stream_on_writeable(s);
  if (s->active && s->writer && !s->replied) {
    if (!s->body_done && !s->close_after) return 0;
    int rc = s->writer(s);
    if (rc <= 0) return rc;
    s->active = 0;
    session_reset(s);
    return lws_http_transaction_completed(s->wsi) ? -1 : 0;
  }
  if (!s->active || !s->replied || !s->resp) return 0;
  /* a reply goes out only after the request body was consumed, or lws would parse it as a request */
  if (!s->body_done && !s->close_after) return 0;
  if (!s->headers_sent) {
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (s->status == 204) s->resp_len = 0; /* no body, not even a newline: clients reject one */
    if (lws_add_http_common_headers(s->wsi, (unsigned)s->status, "application/json", s->resp_len, &p, end))
      return -1;
    if (s->location[0] &&
        lws_add_http_header_by_name(s->wsi, (const unsigned char *)"location:", (unsigned char *)s->location,
                                    (int)strlen(s->location), &p, end))
      return -1;
    if (s->close_after &&
        lws_add_http_header_by_token(s->wsi, WSI_TOKEN_CONNECTION, (unsigned char *)"close", 5, &p, end))
      return -1;
    if (lws_finalize_write_http_header(s->wsi, start, &p, end)) return -1;
    s->headers_sent = 1;
    if (s->method == GW_M_HEAD) s->resp_off = s->resp_len;
    lws_callback_on_writable(s->wsi);
    return 0;
  }
  size_t left = s->resp_len - s->resp_off;
  size_t n = left > SESSION_WRITE_CHUNK ? SESSION_WRITE_CHUNK : left;
  int final = n == left;
  metrics_bytes_out(n);
  /* the bytes before the chunk were already sent, so they serve as lws's LWS_PRE headroom */
  unsigned char *chunk = s->resp + LWS_PRE + s->resp_off;
  if (n && lws_write(s->wsi, chunk, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) return -1;
  s->resp_off += n;
  if (!final) {
    lws_callback_on_writable(s->wsi);
    return 0;
  }
  int close_after = s->close_after;
  s->active = 0;
  session_reset(s);
  if (close_after) {
    gw_linger_close(s->wsi); /* the client may still be sending the body we refused */
    return -1;
  }
  return lws_http_transaction_completed(s->wsi) ? -1 : 0;
}

void session_on_closed(gw_session_t *s) {
  session_reset(s);
}
