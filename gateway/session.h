/* session.h — per-request HTTP state (lws per-session data), its body buffer and its reply.
 *
 * lws callbacks only dispatch into session_on_*; handlers answer with session_reply_* at any later time
 * (the write happens in HTTP_WRITEABLE). Asynchronous work holds a gw_call_t, not the session: when the
 * client goes away the call's session pointer becomes NULL and whoever finishes the work frees the call.
 *
 * Ownership: gw_session_t lives in lws's per-session memory; everything it points to is owned by it and
 * released by session_on_closed / the next request. gw_call_t is heap memory: created by gw_call_new,
 * freed by gw_call_finish by the code that completes the asynchronous work (exactly once).
 */
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "routes.h"

struct gw_session;

typedef struct gw_call {
  struct gw_session *s;   /* NULL once the client is gone */
  void *data;             /* handler state */
  void (*data_free)(void *data);
  int refs;               /* outstanding operations (delete-all runs several) */
  void (*on_finish)(void *ctx); /* may be NULL: runs once when the call is freed (handlers_run.c) */
  void *finish_ctx;
} gw_call_t;

typedef struct gw_session {
  struct lws *wsi;
  int active;             /* a request is in progress */
  gw_method_t method;
  char path[1024];
  gw_match_t match;
  char ns_query[72];      /* ?namespace= */
  int has_ns_query;
  char accept[128];
  char content_type[128];
  int64_t content_length; /* -1 when absent */
  json_t *key;            /* the authenticated key's record (own copy), NULL for unauthenticated routes */
  /* body */
  char *body;
  size_t body_len, body_cap;
  int body_too_large;
  int body_done;
  int dispatched;
  /* reply */
  int status;
  char location[160];
  unsigned char *resp;    /* LWS_PRE bytes of headroom, then the body */
  size_t resp_len, resp_off;
  int replied, headers_sent, close_after;
  gw_call_t *call;
  /* raw streaming, for handlers that hold neither the body nor the reply (handlers_files.c):
   * body_cb gets each body chunk of a GW_RF_STREAM_BODY route (in NULL: the body is complete; the
   * handler applies back-pressure with lws_rx_flow_control); writer replaces the buffered reply in
   * HTTP_WRITEABLE (returns 0: more later, 1: reply complete, -1: close the connection); on_detach runs
   * when the client goes away while call is attached (so idle streaming work can finish its call). */
  int (*body_cb)(struct gw_session *s, const void *in, size_t len);
  int (*writer)(struct gw_session *s);
  void (*on_detach)(gw_call_t *call);
  struct gw_stream *stream; /* a streamed reply (stream_resp.h), owned; NULL for a buffered one */
  /* for the request's log line and metrics (log.h, metrics.h) */
  int64_t t0_us;            /* monotonic start */
  char sandbox_id[37];      /* the sandbox the request addressed or created, "" when none */
  char err_code[40];        /* the error code replied, "" when none */
  int exec_counted;         /* counted in the executions in flight (handlers.c) */
  int open_counted;         /* counted in session_requests_open */
} gw_session_t;

/* lws entry points (called from the protocol callback in main.c). Return what the callback returns. */
int session_on_http(gw_session_t *s, struct lws *wsi, const char *uri, size_t len);
int session_on_body(gw_session_t *s, const void *in, size_t len);
int session_on_body_done(gw_session_t *s);
int session_on_writeable(gw_session_t *s);
void session_on_closed(gw_session_t *s);
/* The reply is complete: release the request's state (the connection may take the next request). */
void session_finish(gw_session_t *s);

/* Replies (once; later calls are ignored). body STOLEN. */
void session_reply_json(gw_session_t *s, int status, json_t *body);
void session_reply_data(gw_session_t *s, int status, json_t *data);
void session_reply_error(gw_session_t *s, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when the session's key may act in namespace ns; replies 403 and returns 0 otherwise. */
int session_check_ns(gw_session_t *s, const char *ns);
/* The namespace for name lookups: ?namespace= or "default". */
const char *session_ns(const gw_session_t *s);

/* Asynchronous work attached to s (s->call). data/data_free may be NULL. */
gw_call_t *gw_call_new(gw_session_t *s, void *data, void (*data_free)(void *));
/* Drops one reference; frees at zero (detaching from its session if still attached). */
void gw_call_finish(gw_call_t *call);
/* Calls not finished yet (a graceful shutdown waits for them). */
size_t gw_calls_outstanding(void);
/* HTTP requests received and not over yet (a graceful stop waits for them: main.c). */
size_t session_requests_open(void);

#endif
