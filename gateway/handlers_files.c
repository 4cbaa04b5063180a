/* handlers_files.c — the Files routes (docs/API.md "Files"): each becomes a sluice_fs_request that the
 * runner performs INSIDE the sandbox (kernel-runner/fshelper.h); the gateway never opens a sandbox path.
 *
 * Content is streamed, never held whole: a download asks the runner for one chunk (≤ 1 MiB) at a time
 * and asks for the next only once lws has written the previous one (the client's reading speed is the
 * back-pressure); an upload collects at most one chunk of body, then stops reading the socket
 * (lws_rx_flow_control) until the runner has taken that chunk.
 *
 * Ownership: a transfer's state (xfer_t) is the gw_call_t's data, freed by gw_call_finish. Exactly one
 * of: a zb request in flight (its callback finishes or re-arms the call), or the session's writer /
 * body_cb holding it (on_detach finishes it when the client goes away).
 */
#include "handlers.h"

#include "http_util.h"
#include "sluice/api.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FS_TIMEOUT_MS 60000
#define FS_WRITE_PIECE (64u << 10)   /* bytes per lws_write of a download */

typedef struct {
  char sb[37];
  int64_t handle;          /* 0 until the runner opened the file */
  int inflight;            /* a zb request is outstanding */
  int gone;                /* the client went away */
  int failed;
  /* download */
  int64_t size, sent;
  int truncated, eof, headers_sent;
  unsigned char *chunk;    /* LWS_PRE headroom + data */
  size_t clen, coff;
  /* upload */
  unsigned char *ubuf;
  size_t ulen;
  int body_done, paused, ending;
  char path[SL_OP_MAX_PATH + 1];
} xfer_t;

static void xfer_free(void *p) {
  xfer_t *x = p;
  free(x->chunk);
  free(x->ubuf);
  free(x);
}

/* The reply content as a REST error, when it is one. Returns 1 when it replied. */
static int reply_if_error(gw_session_t *s, const sl_msg_t *m) {
  if (!strcmp(json_string_value(json_object_get(m->content, "status")), "ok")) return 0;
  const char *code = json_string_value(json_object_get(m->content, "code"));
  const char *msg = json_string_value(json_object_get(m->content, "message"));
  if (s) session_reply_error(s, sl_api_fs_status(code), code ? code : "internal", "%s", msg ? msg : "file operation failed");
  return 1;
}

static void noop_reply(void *ctx, const sl_msg_t *m) {}
static void noop_fail(void *ctx, int status, const char *code, const char *message) {}
static const zb_handlers_t NOOP_H = {NULL, noop_reply, noop_fail};

/* Abandons the runner's side of a transfer (best effort; its idle timeout is the backstop). */
static void send_close(xfer_t *x) {
  if (x->handle)
    zb_request(x->sb, SL_OP_FS_REQUEST, json_pack("{s:s, s:I}", "op", "close", "handle", (json_int_t)x->handle),
               &NOOP_H, NULL, FS_TIMEOUT_MS);
  x->handle = 0;
}

/* Reads ?name= into buf; 400 + 0 when absent, empty, too long or with a NUL. */
static int query_path(gw_session_t *s, const char *name, char *buf, size_t len) {
  int n = http_query_arg(s->wsi, name, buf, len);
  if (n <= 0 || (size_t)n >= len || strlen(buf) != (size_t)n) {
    session_reply_error(s, 400, "invalid_path", "?%s= must be a non-empty path of at most %u bytes", name,
                        (unsigned)len - 1);
    return 0;
  }
  return 1;
}

static int body_path(gw_session_t *s, json_t *body, const char *key, const char **out) {
  json_t *v = json_object_get(body, key);
  *out = json_string_value(v);
  if (!*out || !**out || json_string_length(v) > SL_OP_MAX_PATH || strlen(*out) != json_string_length(v)) {
    session_reply_error(s, 400, "invalid_path", "%s must be a non-empty path string", key);
    return 0;
  }
  return 1;
}

/* --- simple operations: one request, one JSON reply */

typedef enum { SHAPE_LIST, SHAPE_ENTRY, SHAPE_PATH, SHAPE_RENAME, SHAPE_MESSAGE } shape_t;

typedef struct {
  shape_t shape;
  char path[SL_OP_MAX_PATH + 1], to[SL_OP_MAX_PATH + 1];
} simple_t;

static void simple_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  simple_t *d = call->data;
  gw_session_t *s = call->s;
  if (s && !reply_if_error(s, m)) {
    json_t *c = m->content;
    switch (d->shape) {
      case SHAPE_LIST: session_reply_data(s, 200, json_incref(json_object_get(c, "entries"))); break;
      case SHAPE_ENTRY: session_reply_data(s, 200, json_incref(json_object_get(c, "entry"))); break;
      case SHAPE_PATH:
        session_reply_data(s, 200, json_pack("{s:s, s:O}", "path", d->path, "created", json_object_get(c, "created")));
        break;
      case SHAPE_RENAME: session_reply_data(s, 200, json_pack("{s:s, s:s}", "from", d->path, "to", d->to)); break;
      case SHAPE_MESSAGE: session_reply_data(s, 200, json_pack("{s:s, s:s}", "message", "removed", "path", d->path)); break;
    }
  }
  gw_call_finish(call);
}

static void simple_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  if (call->s) session_reply_error(call->s, status, code, "%s", message);
  gw_call_finish(call);
}

static const zb_handlers_t SIMPLE_H = {NULL, simple_reply, simple_fail};

static void simple(gw_session_t *s, gw_sandbox_t *sb, shape_t shape, json_t *content, const char *path, const char *to) {
  simple_t *d = calloc(1, sizeof(*d));
  gw_call_t *call = d ? gw_call_new(s, d, free) : NULL;
  if (!call) {
    json_decref(content);
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  d->shape = shape;
  snprintf(d->path, sizeof(d->path), "%s", path ? path : "");
  snprintf(d->to, sizeof(d->to), "%s", to ? to : "");
  if (zb_request(sb->id, SL_OP_FS_REQUEST, content, &SIMPLE_H, call, FS_TIMEOUT_MS) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}

static gw_sandbox_t *usable(gw_session_t *s) {
  gw_sandbox_t *sb = handlers_sandbox(s);
  return sb && handlers_sandbox_usable(s, sb) ? sb : NULL;
}

void h_files_list(gw_session_t *s, json_t *body) {
  char path[SL_OP_MAX_PATH + 1], depth[16];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !query_path(s, "path", path, sizeof(path))) return;
  long d = 1;
  if (http_query_arg(s->wsi, "depth", depth, sizeof(depth)) > 0) {
    char *end;
    d = strtol(depth, &end, 10);
    if (*end || d < 1 || d > 32) {
      session_reply_error(s, 400, "invalid_depth", "depth must be an integer 1..32");
      return;
    }
  }
  simple(s, sb, SHAPE_LIST, json_pack("{s:s, s:s, s:I}", "op", "list", "path", path, "depth", (json_int_t)d), path, NULL);
}

void h_files_stat(gw_session_t *s, json_t *body) {
  char path[SL_OP_MAX_PATH + 1];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !query_path(s, "path", path, sizeof(path))) return;
  simple(s, sb, SHAPE_ENTRY, json_pack("{s:s, s:s}", "op", "stat", "path", path), path, NULL);
}

void h_files_remove(gw_session_t *s, json_t *body) {
  char path[SL_OP_MAX_PATH + 1];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !query_path(s, "path", path, sizeof(path))) return;
  simple(s, sb, SHAPE_MESSAGE, json_pack("{s:s, s:s}", "op", "remove", "path", path), path, NULL);
}

void h_files_mkdir(gw_session_t *s, json_t *body) {
  const char *path;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !body_path(s, body, "path", &path)) return;
  simple(s, sb, SHAPE_PATH, json_pack("{s:s, s:s}", "op", "mkdir", "path", path), path, NULL);
}

void h_files_rename(gw_session_t *s, json_t *body) {
  const char *from, *to;
  gw_sandbox_t *sb = usable(s);
  if (!sb || !body_path(s, body, "from", &from) || !body_path(s, body, "to", &to)) return;
  simple(s, sb, SHAPE_RENAME, json_pack("{s:s, s:s, s:s}", "op", "rename", "path", from, "to", to), from, to);
}

/* --- download: GET .../files/content */

static const zb_handlers_t DL_H;

static void dl_detach(gw_call_t *call) {
  xfer_t *x = call->data;
  x->gone = 1;
  if (!x->inflight) { /* nothing will come back to finish the call */
    send_close(x);
    gw_call_finish(call);
  }
}

static void dl_ask(gw_call_t *call) {
  xfer_t *x = call->data;
  x->inflight = 1;
  if (zb_request(x->sb, SL_OP_FS_REQUEST, json_pack("{s:s, s:I}", "op", "read_chunk", "handle", (json_int_t)x->handle),
                 &DL_H, call, FS_TIMEOUT_MS) < 0) {
    x->inflight = 0;
    x->failed = 1;
    if (call->s) lws_callback_on_writable(call->s->wsi);
  }
}

static int dl_writer(gw_session_t *s) {
  xfer_t *x = s->call->data;
  if (x->failed) return -1; /* headers are out: the only honest signal left is a cut connection */
  if (!x->headers_sent) {
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(s->wsi, 200, "application/octet-stream", (lws_filepos_t)x->size, &p, end) ||
        (x->truncated && lws_add_http_header_by_name(s->wsi, (const unsigned char *)"x-truncated:",
                                                     (const unsigned char *)"true", 4, &p, end)) ||
        lws_finalize_write_http_header(s->wsi, start, &p, end))
      return -1;
    x->headers_sent = 1;
    if (x->size == 0) return 1;
    lws_callback_on_writable(s->wsi);
    return 0;
  }
  if (x->coff < x->clen) {
    size_t n = x->clen - x->coff;
    if (n > FS_WRITE_PIECE) n = FS_WRITE_PIECE;
    if (x->sent + (int64_t)n > x->size) n = (size_t)(x->size - x->sent);
    int final = x->sent + (int64_t)n == x->size;
    /* bytes before the piece were sent already: they are its LWS_PRE headroom */
    if (lws_write(s->wsi, x->chunk + LWS_PRE + x->coff, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
      return -1;
    x->coff += n;
    x->sent += (int64_t)n;
    if (final) {
      send_close(x);
      return 1;
    }
    if (x->coff < x->clen) {
      lws_callback_on_writable(s->wsi);
      return 0;
    }
  }
  if (x->eof) return -1; /* the file shrank under us: fewer bytes than announced */
  if (!x->inflight) dl_ask(s->call);
  return 0;
}

static void dl_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  xfer_t *x = call->data;
  gw_session_t *s = call->s;
  x->inflight = 0;
  if (x->gone || !s) {
    send_close(x);
    gw_call_finish(call);
    return;
  }
  if (!x->handle) { /* the open */
    if (reply_if_error(s, m)) {
      gw_call_finish(call);
      return;
    }
    x->handle = json_integer_value(json_object_get(m->content, "handle"));
    x->size = json_integer_value(json_object_get(m->content, "size"));
    x->truncated = json_is_true(json_object_get(m->content, "truncated"));
    s->writer = dl_writer;
    s->on_detach = dl_detach;
    lws_callback_on_writable(s->wsi);
    return;
  }
  if (reply_if_error(NULL, m) || m->n_buffers != 1) {
    x->failed = 1;
  } else {
    size_t len = m->buffers[0].len;
    unsigned char *nb = realloc(x->chunk, LWS_PRE + (len ? len : 1));
    if (!nb) {
      x->failed = 1;
    } else {
      x->chunk = nb;
      memcpy(nb + LWS_PRE, m->buffers[0].data, len);
      x->clen = len;
      x->coff = 0;
      x->eof = json_is_true(json_object_get(m->content, "eof"));
    }
  }
  lws_callback_on_writable(s->wsi);
}

static void dl_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  xfer_t *x = call->data;
  x->inflight = 0;
  if (x->gone || !call->s) {
    send_close(x);
    gw_call_finish(call);
    return;
  }
  if (!x->handle) {
    session_reply_error(call->s, status, code, "%s", message);
    gw_call_finish(call);
    return;
  }
  x->failed = 1;
  lws_callback_on_writable(call->s->wsi);
}

static const zb_handlers_t DL_H = {NULL, dl_reply, dl_fail};

static gw_call_t *xfer_call(gw_session_t *s, gw_sandbox_t *sb) {
  xfer_t *x = calloc(1, sizeof(*x));
  gw_call_t *call = x ? gw_call_new(s, x, xfer_free) : NULL;
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    return NULL;
  }
  snprintf(x->sb, sizeof(x->sb), "%s", sb->id);
  return call;
}

void h_files_read(gw_session_t *s, json_t *body) {
  char path[SL_OP_MAX_PATH + 1], mb[32];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !query_path(s, "path", path, sizeof(path))) return;
  json_t *content = json_pack("{s:s, s:s}", "op", "read", "path", path);
  if (http_query_arg(s->wsi, "max_bytes", mb, sizeof(mb)) > 0) {
    char *end;
    long long v = strtoll(mb, &end, 10);
    if (*end || v < 0) {
      json_decref(content);
      session_reply_error(s, 400, "invalid_max_bytes", "max_bytes must be a non-negative integer");
      return;
    }
    json_object_set_new(content, "max_bytes", json_integer(v));
  }
  gw_call_t *call = xfer_call(s, sb);
  if (!call) {
    json_decref(content);
    return;
  }
  ((xfer_t *)call->data)->inflight = 1;
  if (zb_request(sb->id, SL_OP_FS_REQUEST, content, &DL_H, call, FS_TIMEOUT_MS) < 0) {
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}

/* --- upload: PUT .../files/content (raw body) */

static const zb_handlers_t UL_H;

static void ul_pause(gw_session_t *s, xfer_t *x, int pause) {
  if (!s || x->paused == pause) return;
  x->paused = pause;
  lws_rx_flow_control(s->wsi, !pause);
}

/* Sends the next chunk or the end when there is something to send and nothing in flight. */
static void ul_pump(gw_call_t *call) {
  xfer_t *x = call->data;
  gw_session_t *s = call->s;
  if (x->inflight || !x->handle || x->failed || x->ending) return;
  int full = x->ulen >= SL_OP_FS_CHUNK_BYTES;
  if (full || (x->body_done && x->ulen)) {
    size_t n = x->ulen > SL_OP_FS_CHUNK_BYTES ? SL_OP_FS_CHUNK_BYTES : x->ulen;
    x->inflight = 1;
    if (zb_request_buf(x->sb, SL_OP_FS_REQUEST,
                       json_pack("{s:s, s:I}", "op", "write_chunk", "handle", (json_int_t)x->handle), x->ubuf, n,
                       &UL_H, call, FS_TIMEOUT_MS) < 0) {
      x->inflight = 0;
      x->failed = 1;
      send_close(x);
      if (s) session_reply_error(s, 429, "busy", "too many requests in flight");
      ul_pause(s, x, 0);
      return;
    }
    memmove(x->ubuf, x->ubuf + n, x->ulen - n);
    x->ulen -= n;
  } else if (x->body_done) {
    x->inflight = x->ending = 1;
    if (zb_request(x->sb, SL_OP_FS_REQUEST, json_pack("{s:s, s:I}", "op", "write_end", "handle", (json_int_t)x->handle),
                   &UL_H, call, FS_TIMEOUT_MS) < 0) {
      x->inflight = 0;
      x->failed = 1;
      send_close(x);
      if (s) session_reply_error(s, 429, "busy", "too many requests in flight");
    }
  }
  /* room for the next chunk: read the socket again */
  if (x->ulen < SL_OP_FS_CHUNK_BYTES) ul_pause(s, x, 0);
}

static int ul_body(gw_session_t *s, const void *in, size_t len) {
  xfer_t *x = s->call ? s->call->data : NULL;
  if (!x) return 0;
  if (!in) {
    x->body_done = 1;
    ul_pump(s->call);
    return 0;
  }
  if (x->failed) return 0; /* the error reply is decided: drop the rest of the body */
  if (x->ulen + len > SL_OP_FS_CHUNK_BYTES + (64u << 10)) return -1; /* lws ignored our pause */
  if (!x->ubuf && !(x->ubuf = malloc(SL_OP_FS_CHUNK_BYTES + (64u << 10)))) return -1;
  memcpy(x->ubuf + x->ulen, in, len);
  x->ulen += len;
  if (x->ulen >= SL_OP_FS_CHUNK_BYTES) ul_pause(s, x, 1);
  ul_pump(s->call);
  return 0;
}

static void ul_detach(gw_call_t *call) {
  xfer_t *x = call->data;
  x->gone = 1;
  if (!x->inflight) {
    send_close(x);
    gw_call_finish(call);
  }
}

static void ul_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  xfer_t *x = call->data;
  gw_session_t *s = call->s;
  x->inflight = 0;
  if (x->gone || !s) {
    send_close(x);
    gw_call_finish(call);
    return;
  }
  if (reply_if_error(s, m)) { /* the reply waits for the body's end, which we now drop */
    x->failed = 1;
    if (x->handle && !x->ending) send_close(x);
    x->handle = 0;
    ul_pause(s, x, 0);
    s->body_cb = NULL; /* session: the dispatched request drops the rest of the body */
    gw_call_finish(call);
    return;
  }
  if (!x->handle) {
    x->handle = json_integer_value(json_object_get(m->content, "handle"));
  } else if (x->ending) {
    x->handle = 0; /* the runner closed it */
    session_reply_data(s, 200, json_pack("{s:s, s:O}", "path", x->path,
                                         "size", json_object_get(m->content, "size")));
    gw_call_finish(call);
    return;
  }
  ul_pump(call);
}

static void ul_fail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  xfer_t *x = call->data;
  x->inflight = 0;
  if (!x->ending) send_close(x);
  x->handle = 0;
  x->failed = 1;
  if (call->s) {
    session_reply_error(call->s, status, code, "%s", message);
    ul_pause(call->s, x, 0);
    call->s->body_cb = NULL;
  }
  gw_call_finish(call);
}

static const zb_handlers_t UL_H = {NULL, ul_reply, ul_fail};

void h_files_write(gw_session_t *s, json_t *body) {
  char path[SL_OP_MAX_PATH + 1];
  gw_sandbox_t *sb = usable(s);
  if (!sb || !query_path(s, "path", path, sizeof(path))) return;
  gw_call_t *call = xfer_call(s, sb);
  if (!call) return;
  xfer_t *x = call->data;
  snprintf(x->path, sizeof(x->path), "%s", path);
  x->body_done = s->body_done;
  x->inflight = 1;
  s->body_cb = ul_body;
  s->on_detach = ul_detach;
  /* no body bytes until the runner has opened the file */
  ul_pause(s, x, 1);
  if (zb_request(sb->id, SL_OP_FS_REQUEST, json_pack("{s:s, s:s}", "op", "write", "path", path), &UL_H, call,
                 FS_TIMEOUT_MS) < 0) {
    x->inflight = 0;
    ul_pause(s, x, 0);
    s->body_cb = NULL;
    s->on_detach = NULL;
    gw_call_finish(call);
    session_reply_error(s, 429, "busy", "too many requests in flight");
  }
}
