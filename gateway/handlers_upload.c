/* handlers_upload.c — POST /api/v1/sandboxes/{sb}/files/upload?path=DIR (docs/API.md "Files"): a
 * multipart/form-data body whose `file` / `files` parts are written into DIR (parents created), each
 * through the runner's streamed write path (write → write_chunk… → write_end, one request in flight;
 * kernel-runner/files.c), so the gateway never holds more than one chunk of a file.
 *
 * The body is parsed as it arrives (protocol/src/multipart.c). While a request to the runner is in
 * flight, bytes not yet parsed stay in `in` and the socket is not read (lws_rx_flow_control). The
 * limit is the gateway's max_body_bytes (413). Other form fields are read and ignored.
 *
 * Ownership: the up_t is the gw_call_t's data, freed by gw_call_finish; either a runner request in
 * flight (its callback finishes the call when it must) or on_detach (client gone) finishes it.
 */
#include "gateway.h"
#include "handlers.h"
#include "http_util.h"
#include "sluice/multipart.h"
#include "sluice/api.h"
#include "sluice/ops.h"
#include "zmq_bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UP_TIMEOUT_MS 60000
#define UP_IN_MAX (4u << 20) /* parked, not yet parsed body bytes (lws may deliver after a pause) */

typedef struct {
  char sb[37];
  sl_mp_t *mp;
  unsigned char *in, *ubuf;
  size_t inlen, inoff, incap, ulen, total;
  int64_t handle;
  int inflight, gone, failed, paused, body_done, in_file, opening, ending, end_pending, done, nfiles;
  char dir[SL_OP_MAX_PATH + 1], cur[SL_OP_MAX_PATH + 1];
  json_t *paths;
} up_t;

static void up_free(void *p) {
  up_t *x = p;
  sl_mp_free(x->mp);
  free(x->in);
  free(x->ubuf);
  json_decref(x->paths);
  free(x);
}

static void noop_reply(void *ctx, const sl_msg_t *m) {}
static void noop_fail(void *ctx, int status, const char *code, const char *message) {}
static const zb_handlers_t NOOP_H = {NULL, noop_reply, noop_fail};
static const zb_handlers_t UP_H;

static void send_close(up_t *x) {
  if (x->handle)
    zb_request(x->sb, SL_OP_FS_REQUEST, json_pack("{s:s, s:I}", "op", "close", "handle", (json_int_t)x->handle),
               &NOOP_H, NULL, UP_TIMEOUT_MS);
  x->handle = 0;
}

static void up_flow(gw_session_t *s, up_t *x, int pause) {
  if (!s || x->paused == pause) return;
  x->paused = pause;
  lws_rx_flow_control(s->wsi, !pause);
}

/* Ends the call with an error reply (when the client is still there and nothing was replied yet). */
static void up_fail(gw_call_t *call, int status, const char *code, const char *fmt, const char *arg) {
  up_t *x = call->data;
  gw_session_t *s = call->s;
  if (s && !x->failed) session_reply_error(s, status, code, fmt, arg);
  x->failed = 1;
  if (x->inflight) return; /* its callback finishes the call */
  send_close(x);
  if (s) {
    up_flow(s, x, 0);
    s->body_cb = NULL; /* the session drops the rest of the body */
    s->on_detach = NULL;
  }
  gw_call_finish(call);
}

static int ask(gw_call_t *call, json_t *content, const void *buf, size_t len) {
  up_t *x = call->data;
  x->inflight = 1;
  int rc = buf ? zb_request_buf(x->sb, SL_OP_FS_REQUEST, content, buf, len, &UP_H, call, UP_TIMEOUT_MS)
               : zb_request(x->sb, SL_OP_FS_REQUEST, content, &UP_H, call, UP_TIMEOUT_MS);
  if (rc < 0) {
    x->inflight = 0;
    up_fail(call, 429, "busy", "%s", "too many requests in flight");
    return -1;
  }
  return 0;
}

static void send_chunk(gw_call_t *call) {
  up_t *x = call->data;
  size_t n = x->ulen;
  x->ulen = 0;
  ask(call, json_pack("{s:s, s:I}", "op", "write_chunk", "handle", (json_int_t)x->handle), x->ubuf, n);
}

static void send_end(gw_call_t *call) {
  up_t *x = call->data;
  x->end_pending = 0;
  x->ending = 1;
  ask(call, json_pack("{s:s, s:I}", "op", "write_end", "handle", (json_int_t)x->handle), NULL, 0);
}

/* Parses parked body bytes until a runner request is needed or the bytes run out. */
static void up_drive(gw_call_t *call) {
  up_t *x = call->data;
  gw_session_t *s = call->s;
  while (!x->inflight && !x->failed && s) {
    if (x->end_pending) {
      if (x->ulen) send_chunk(call);
      else send_end(call);
      continue;
    }
    size_t used;
    const unsigned char *d;
    size_t dl;
    sl_mp_event_t ev = sl_mp_next(x->mp, x->in + x->inoff, x->inlen - x->inoff, &used,
                                  SL_OP_FS_CHUNK_BYTES - x->ulen, &d, &dl);
    x->inoff += used;
    switch (ev) {
      case SL_MP_NEED_MORE:
        x->inlen = x->inoff = 0;
        if (!x->body_done) {
          up_flow(s, x, 0);
          return;
        }
        if (!x->done) {
          sl_mp_finish(x->mp);
          up_fail(call, 400, "invalid_multipart", "%s", sl_mp_error(x->mp));
          return;
        }
        if (!x->nfiles) {
          up_fail(call, 400, "invalid_multipart", "%s", "no `file` or `files` part with a filename");
          return;
        }
        session_reply_data(s, 200, json_pack("{s:O}", "paths", x->paths));
        up_flow(s, x, 0);
        s->body_cb = NULL;
        s->on_detach = NULL;
        gw_call_finish(call);
        return;
      case SL_MP_PART_BEGIN: {
        const char *name = sl_mp_name(x->mp), *fn = sl_mp_filename(x->mp);
        x->in_file = !strcmp(name, "file") || !strcmp(name, "files");
        if (!x->in_file) break;
        if (!fn) {
          up_fail(call, 400, "invalid_multipart", "the `%s` part has no filename", name);
          return;
        }
        size_t dl_ = strlen(x->dir);
        int n = snprintf(x->cur, sizeof(x->cur), "%s%s%s", x->dir, dl_ && x->dir[dl_ - 1] == '/' ? "" : "/", fn);
        if (n < 0 || (size_t)n >= sizeof(x->cur)) {
          up_fail(call, 400, "invalid_path", "%s", "the directory and file name are too long");
          return;
        }
        x->opening = 1;
        ask(call, json_pack("{s:s, s:s}", "op", "write", "path", x->cur), NULL, 0);
        break;
      }
      case SL_MP_PART_DATA:
        if (!x->in_file) break;
        memcpy(x->ubuf + x->ulen, d, dl);
        x->ulen += dl;
        if (x->ulen >= SL_OP_FS_CHUNK_BYTES) send_chunk(call);
        break;
      case SL_MP_PART_END:
        if (x->in_file) x->end_pending = 1;
        x->in_file = 0;
        break;
      case SL_MP_DONE: x->done = 1; break;
      case SL_MP_ERROR: {
        int fnerr = sl_mp_errcode(x->mp) == SL_MP_E_FILENAME;
        up_fail(call, 400, fnerr ? "invalid_filename" : "invalid_multipart", "%s", sl_mp_error(x->mp));
        return;
      }
    }
  }
  /* waiting for the runner: stop reading the socket while bytes are parked */
  if (!x->failed && x->inflight) up_flow(s, x, x->inoff < x->inlen);
}

static void up_reply(void *ctx, const sl_msg_t *m) {
  gw_call_t *call = ctx;
  up_t *x = call->data;
  x->inflight = 0;
  int ok = !strcmp(json_string_value(json_object_get(m->content, "status")), "ok");
  if (ok && x->opening) x->handle = json_integer_value(json_object_get(m->content, "handle"));
  if (ok && x->ending) x->handle = 0; /* the runner closed it */
  x->opening = 0;
  if (x->gone || !call->s || x->failed) {
    up_fail(call, 500, "internal", "%s", "");
    return;
  }
  if (!ok) {
    const char *code = json_string_value(json_object_get(m->content, "code"));
    const char *msg = json_string_value(json_object_get(m->content, "message"));
    x->ending = 0;
    up_fail(call, sl_api_fs_status(code), code ? code : "internal", "%s", msg ? msg : "file operation failed");
    return;
  }
  if (x->ending) {
    x->ending = 0;
    x->nfiles++;
    json_array_append_new(x->paths, json_string(x->cur));
  }
  up_drive(call);
}

static void up_zfail(void *ctx, int status, const char *code, const char *message) {
  gw_call_t *call = ctx;
  up_t *x = call->data;
  x->inflight = 0;
  if (x->ending) x->handle = 0;
  up_fail(call, status, code, "%s", message);
}

static const zb_handlers_t UP_H = {NULL, up_reply, up_zfail};

static void up_detach(gw_call_t *call) {
  up_t *x = call->data;
  x->gone = 1;
  if (!x->inflight) {
    send_close(x);
    gw_call_finish(call);
  }
}

static int up_body(gw_session_t *s, const void *in, size_t len) {
  up_t *x = s->call ? s->call->data : NULL;
  if (!x) return 0;
  if (!in) {
    x->body_done = 1;
    up_drive(s->call);
    return 0;
  }
  if (x->failed) return 0;
  x->total += len;
  if (x->total > g_gw.cfg.max_body_bytes) {
    char lim[32];
    snprintf(lim, sizeof(lim), "%zu", g_gw.cfg.max_body_bytes);
    up_fail(s->call, 413, "payload_too_large", "the request body is over the limit of %s bytes", lim);
    return 0;
  }
  if (x->inoff && x->inoff == x->inlen) x->inlen = x->inoff = 0;
  if (x->inlen + len > x->incap) {
    if (x->inoff) { /* compact */
      memmove(x->in, x->in + x->inoff, x->inlen - x->inoff);
      x->inlen -= x->inoff;
      x->inoff = 0;
    }
    size_t cap = x->incap ? x->incap : 65536;
    while (cap < x->inlen + len) cap *= 2;
    if (cap > UP_IN_MAX) return -1; /* lws ignored our pause */
    unsigned char *n = realloc(x->in, cap);
    if (!n) return -1;
    x->in = n;
    x->incap = cap;
  }
  memcpy(x->in + x->inlen, in, len);
  x->inlen += len;
  up_drive(s->call);
  return 0;
}

void h_files_upload(gw_session_t *s, json_t *body) {
  char dir[SL_OP_MAX_PATH + 1], boundary[SL_MP_MAX_BOUNDARY + 1];
  gw_sandbox_t *sb = handlers_sandbox(s);
  if (!sb || !handlers_sandbox_usable(s, sb)) return;
  int n = http_query_arg(s->wsi, "path", dir, sizeof(dir));
  if (n <= 0 || (size_t)n >= sizeof(dir) || strlen(dir) != (size_t)n) {
    session_reply_error(s, 400, "invalid_path", "?path= must name the directory to upload into");
    return;
  }
  if (s->content_length > (int64_t)g_gw.cfg.max_body_bytes) {
    if (s->content_length > (int64_t)g_gw.cfg.max_body_bytes + (64 << 20)) s->close_after = 1;
    session_reply_error(s, 413, "payload_too_large", "the request body is over the limit of %zu bytes",
                        g_gw.cfg.max_body_bytes);
    return;
  }
  if (sl_mp_boundary_from_content_type(s->content_type, boundary, sizeof(boundary)) < 0) {
    session_reply_error(s, 400, "invalid_multipart", "Content-Type must be multipart/form-data with a boundary");
    return;
  }
  up_t *x = calloc(1, sizeof(*x));
  if (x) {
    x->mp = sl_mp_new(boundary);
    x->ubuf = malloc(SL_OP_FS_CHUNK_BYTES);
    x->paths = json_array();
  }
  if (x && !(x->mp && x->ubuf && x->paths)) {
    up_free(x);
    x = NULL;
  }
  gw_call_t *call = x ? gw_call_new(s, x, up_free) : NULL; /* frees x when it fails */
  if (!call) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  snprintf(x->sb, sizeof(x->sb), "%s", sb->id);
  snprintf(x->dir, sizeof(x->dir), "%s", dir);
  x->body_done = s->body_done;
  s->body_cb = up_body;
  s->on_detach = up_detach;
  up_drive(call);
}
