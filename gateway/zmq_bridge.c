/* zmq_bridge.c — ROUTER socket in the lws loop, signed Jupyter wire messages, pending-request table. */
#include "zmq_bridge.h"

#include "gateway.h"
#include "culler.h"
#include "lifecycle.h"
#include "registry.h"
#include "sluice/ops.h"
#include "sluice/stream_msg.h"
#include "sluice/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define ZB_MAX_FRAMES (SL_WIRE_MAX_IDENTS + 6 + SL_WIRE_MAX_BUFFERS)
#define ZB_DRAIN_BATCH 256

typedef struct zb_req {
  struct zb_req *next;
  char msg_id[37];
  char sb_id[37];
  sl_msg_t *msg; /* until sent */
  zb_handlers_t h;
  void *ctx;
  lws_sorted_usec_list_t sul;
} zb_req_t;

static void *g_zctx, *g_router;
static sl_signer_t *g_signer;
static gw_fdwatch_t *g_zw;
static zb_req_t *g_reqs;
static size_t g_n_reqs;
static int g_draining, g_again;
static lws_sorted_usec_list_t g_drain_sul;

static void drain(void);

static void unlink_req(zb_req_t *r) {
  for (zb_req_t **pp = &g_reqs; *pp; pp = &(*pp)->next) {
    if (*pp == r) {
      *pp = r->next;
      g_n_reqs--;
      return;
    }
  }
}

static void free_req(zb_req_t *r) {
  lws_sul_cancel(&r->sul);
  sl_msg_free(&r->msg);
  free(r);
}

static void fail_req(zb_req_t *r, int status, const char *code, const char *message) {
  unlink_req(r);
  zb_handlers_t h = r->h;
  void *ctx = r->ctx;
  free_req(r);
  h.on_fail(ctx, status, code, message);
}

static void req_timeout_cb(lws_sorted_usec_list_t *sul) {
  zb_req_t *r = lws_container_of(sul, zb_req_t, sul);
  fail_req(r, r->msg ? 503 : 504, r->msg ? "sandbox_unavailable" : "timeout",
           r->msg ? "the sandbox's runner did not connect in time" : "the sandbox did not answer in time");
}

static void kick_cb(lws_sorted_usec_list_t *sul) { drain(); }

/* ZMQ_FD is edge-triggered: anything that may have consumed the edge (a send) must be followed by a
 * drain, but not from inside the caller's stack — so it runs from a timer at once. */
static void kick(void) { lws_sul_schedule(g_gw.ctx, 0, &g_drain_sul, kick_cb, 1); }

/* 0 sent, -EHOSTUNREACH runner not connected, other negative errno on failure. */
static int send_msg(const sl_msg_t *msg) {
  sl_frames_t f = {0};
  int rc = 0;
  sl_wire_err_t we = sl_wire_encode(g_signer, msg, &f);
  if (we != SL_WIRE_OK) return -EINVAL;
  for (size_t i = 0; i < f.n; i++) {
    int flags = ZMQ_DONTWAIT | (i + 1 < f.n ? ZMQ_SNDMORE : 0);
    if (zmq_send(g_router, f.parts[i].data, f.parts[i].len, flags) < 0) {
      rc = -errno;
      break;
    }
  }
  sl_frames_free(&f);
  kick();
  return rc;
}

static void try_send(zb_req_t *r) {
  gw_sandbox_t *sb = reg_find_id(r->sb_id);
  if (!r->msg || !sb || !sb->connected) return;
  int rc = send_msg(r->msg);
  if (rc == 0) {
    sl_msg_free(&r->msg);
  } else if (rc == -EHOSTUNREACH) {
    sb->connected = 0; /* its connection went away; the hello of the next one resends */
  } else {
    fprintf(stderr, "sluice-gateway: send to %s failed: %s\n", r->sb_id, strerror(-rc));
  }
}

int zb_request(const char *sandbox_id, const char *msg_type, json_t *content, const zb_handlers_t *h, void *ctx,
               unsigned timeout_ms) {
  return zb_request_buf(sandbox_id, msg_type, content, NULL, 0, h, ctx, timeout_ms);
}

int zb_request_buf(const char *sandbox_id, const char *msg_type, json_t *content, const void *buf, size_t len,
                   const zb_handlers_t *h, void *ctx, unsigned timeout_ms) {
  if (g_n_reqs >= ZB_MAX_PENDING) {
    json_decref(content);
    return -EAGAIN;
  }
  zb_req_t *r = calloc(1, sizeof(*r));
  if (!r) {
    json_decref(content);
    return -ENOMEM;
  }
  r->msg = sl_msg_new(msg_type, g_gw.session_id, NULL, content);
  if (!r->msg || sl_msg_add_ident(r->msg, sandbox_id, strlen(sandbox_id)) < 0) {
    free_req(r);
    return -ENOMEM;
  }
  if (buf) { /* one binary buffer after content (Jupyter wire "buffers") */
    r->msg->buffers = calloc(1, sizeof(sl_blob_t));
    void *copy = malloc(len ? len : 1);
    if (!r->msg->buffers || !copy) {
      free(copy);
      free_req(r);
      return -ENOMEM;
    }
    if (len) memcpy(copy, buf, len);
    r->msg->buffers[0] = (sl_blob_t){copy, len};
    r->msg->n_buffers = 1;
  }
  snprintf(r->msg_id, sizeof(r->msg_id), "%s", sl_msg_id(r->msg));
  snprintf(r->sb_id, sizeof(r->sb_id), "%s", sandbox_id);
  culler_touch_id(sandbox_id); /* any request to a runner (REST, websocket, Jupyter) is activity */
  r->h = *h;
  r->ctx = ctx;
  r->next = g_reqs;
  g_reqs = r;
  g_n_reqs++;
  lws_sul_schedule(g_gw.ctx, 0, &r->sul, req_timeout_cb, (lws_usec_t)timeout_ms * 1000);
  try_send(r);
  return 0;
}

int zb_request_id(const char *sandbox_id, const char *msg_type, json_t *content, const zb_handlers_t *h, void *ctx,
                  unsigned timeout_ms, char msg_id[40]) {
  int rc = zb_request(sandbox_id, msg_type, content, h, ctx, timeout_ms);
  if (rc == 0) snprintf(msg_id, 40, "%s", g_reqs->msg_id); /* a new request goes to the head */
  return rc;
}

size_t zb_pending_for(const char *sandbox_id) {
  size_t n = 0;
  for (zb_req_t *r = g_reqs; r; r = r->next) n += strcmp(r->sb_id, sandbox_id) == 0;
  return n;
}

void zb_notify(const char *sandbox_id, const char *msg_type, json_t *content) {
  gw_sandbox_t *sb = reg_find_id(sandbox_id);
  if (!sb || !sb->connected || !g_router) {
    json_decref(content);
    return;
  }
  sl_msg_t *m = sl_msg_new(msg_type, g_gw.session_id, NULL, content);
  if (m && sl_msg_add_ident(m, sandbox_id, strlen(sandbox_id)) == 0 && send_msg(m) == -EHOSTUNREACH)
    sb->connected = 0;
  sl_msg_free(&m);
}

void zb_flow(const char *sandbox_id, const char *flow_id, int paused) {
  zb_notify(sandbox_id, SL_OP_FLOW, json_pack("{s:s, s:b}", "flow_id", flow_id, "paused", paused));
}

void zb_sandbox_connected(const char *sandbox_id) {
  for (zb_req_t *r = g_reqs; r; r = r->next)
    if (r->msg && strcmp(r->sb_id, sandbox_id) == 0) try_send(r);
}

void zb_sandbox_gone(const char *sandbox_id, const char *why) {
  zb_req_t *mine = NULL;
  for (zb_req_t **pp = &g_reqs; *pp;) {
    zb_req_t *r = *pp;
    if (strcmp(r->sb_id, sandbox_id) == 0) {
      *pp = r->next;
      g_n_reqs--;
      r->next = mine;
      mine = r;
    } else {
      pp = &r->next;
    }
  }
  while (mine) {
    zb_req_t *r = mine;
    mine = r->next;
    zb_handlers_t h = r->h;
    void *ctx = r->ctx;
    free_req(r);
    h.on_fail(ctx, 502, "sandbox_gone", why);
  }
}

size_t zb_pending_count(void) { return g_n_reqs; }

static void dispatch(sl_msg_t *m) {
  char err[256];
  if (m->n_idents < 1 || m->idents[0].len != 36) return;
  char from[37];
  memcpy(from, m->idents[0].data, 36);
  from[36] = 0;
  const char *type = sl_msg_type(m);
  if (sl_op_stream_inline(m) < 0) { /* stream text travels in a buffer: back into content (stream_msg.h) */
    fprintf(stderr, "sluice-gateway: malformed %s from runner %s\n", type, from);
    return;
  }
  if (sl_op_validate(m, err, sizeof(err)) < 0) {
    fprintf(stderr, "sluice-gateway: invalid %s from runner %s: %s\n", type, from, err);
    return;
  }
  if (strcmp(type, SL_OP_HELLO) == 0) {
    lc_on_hello(from, m->content);
    return;
  }
  const char *parent = sl_msg_parent_id(m);
  zb_req_t *r = g_reqs;
  while (r && !(strcmp(r->msg_id, parent) == 0 && strcmp(r->sb_id, from) == 0)) r = r->next;
  if (!r) return; /* the requester went away or timed out; late output is dropped */
  if (sl_op_is_reply(type)) {
    unlink_req(r);
    zb_handlers_t h = r->h;
    void *ctx = r->ctx;
    free_req(r);
    if (strcmp(type, SL_OP_ERROR_REPLY) == 0) {
      h.on_fail(ctx, 500, json_string_value(json_object_get(m->content, "code")) ?: "runner_error",
                json_string_value(json_object_get(m->content, "message")) ?: "the runner refused the request");
    } else {
      h.on_reply(ctx, m);
    }
  } else if (r->h.on_event) {
    r->h.on_event(r->ctx, m);
  }
}

/* Receives one multipart message (all its frames) and dispatches it. 0, or -EAGAIN when none. */
static int recv_one(void) {
  zmq_msg_t parts[ZB_MAX_FRAMES];
  sl_frame_view_t views[ZB_MAX_FRAMES];
  size_t n = 0;
  int more = 1, rc = 0, dropped = 0;
  while (more) {
    zmq_msg_t tmp;
    zmq_msg_init(&tmp);
    if (zmq_msg_recv(&tmp, g_router, ZMQ_DONTWAIT) < 0) {
      rc = -errno;
      zmq_msg_close(&tmp);
      break;
    }
    more = zmq_msg_more(&tmp);
    if (n < ZB_MAX_FRAMES) {
      parts[n] = tmp;
      views[n].data = zmq_msg_data(&parts[n]);
      views[n].len = zmq_msg_size(&parts[n]);
      n++;
    } else {
      dropped = 1;
      zmq_msg_close(&tmp);
    }
  }
  if (rc == 0 && n && !dropped) {
    sl_msg_t *m = NULL;
    sl_wire_err_t we = sl_wire_decode(g_signer, views, n, &m);
    if (we == SL_WIRE_OK)
      dispatch(m);
    else
      fprintf(stderr, "sluice-gateway: dropped a runner message: %s\n", sl_wire_strerror(we));
    sl_msg_free(&m);
  }
  for (size_t i = 0; i < n; i++) zmq_msg_close(&parts[i]);
  return n ? 0 : rc;
}

static void drain(void) {
  if (g_draining) {
    g_again = 1;
    return;
  }
  g_draining = 1;
  int batch = 0;
  do {
    g_again = 0;
    for (;;) {
      uint32_t ev = 0;
      size_t sz = sizeof(ev);
      if (zmq_getsockopt(g_router, ZMQ_EVENTS, &ev, &sz) < 0 || !(ev & ZMQ_POLLIN)) break;
      if (++batch > ZB_DRAIN_BATCH) {
        kick(); /* let HTTP clients run; continue from a timer (the edge is already consumed) */
        g_draining = 0;
        return;
      }
      recv_one();
    }
  } while (g_again);
  g_draining = 0;
}

static void zfd_cb(void *ctx) { drain(); }

int zb_init(void) {
  char path[4096], ep[4200];
  int rc = -1;
  g_signer = sl_signer_new(g_gw.secret, strlen(g_gw.secret), SL_WIRE_DEFAULT_REPLAY);
  if (!g_signer) goto out;
  g_zctx = zmq_ctx_new();
  g_router = g_zctx ? zmq_socket(g_zctx, ZMQ_ROUTER) : NULL;
  if (!g_router) goto out;
  int one = 1, zero = 0;
  int64_t maxsz = SL_WIRE_MAX_MSG_BYTES;
  zmq_setsockopt(g_router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
  zmq_setsockopt(g_router, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz));
  zmq_setsockopt(g_router, ZMQ_LINGER, &zero, sizeof(zero));
  /* per runner: with the runner's SNDHWM (32) at most ~64 messages (≤ 4 MiB of output) are in flight, so a
   * sluice_flow pause stops a fast runner before a slow client's queue reaches its drop limit */
  int rcvhwm = 32;
  zmq_setsockopt(g_router, ZMQ_RCVHWM, &rcvhwm, sizeof(rcvhwm));
  /* a reconnecting runner keeps its routing id; the new connection must take it over */
  zmq_setsockopt(g_router, ZMQ_ROUTER_HANDOVER, &one, sizeof(one));
  snprintf(path, sizeof(path), "%s/run/gateway.zmq", g_gw.cfg.state_dir);
  snprintf(ep, sizeof(ep), "ipc://%s", path);
  unlink(path); /* a stale socket from a killed gateway */
  if (zmq_bind(g_router, ep) < 0) {
    fprintf(stderr, "sluice-gateway: bind %s: %s\n", ep, zmq_strerror(errno));
    goto out;
  }
  int fd;
  size_t sz = sizeof(fd);
  if (zmq_getsockopt(g_router, ZMQ_FD, &fd, &sz) < 0) goto out;
  g_zw = gw_fdwatch_new(fd, 0, zfd_cb, NULL); /* the fd belongs to libzmq */
  if (!g_zw) goto out;
  kick();
  rc = 0;
out:
  return rc;
}

void zb_fini(void) {
  while (g_reqs) {
    zb_req_t *r = g_reqs;
    g_reqs = r->next;
    free_req(r);
  }
  g_n_reqs = 0;
  lws_sul_cancel(&g_drain_sul);
  g_zw = NULL; /* the lws context frees the watch when it is destroyed (it does not own the fd) */
  if (g_router) zmq_close(g_router);
  if (g_zctx) zmq_ctx_term(g_zctx);
  g_router = g_zctx = NULL;
  sl_signer_destroy(&g_signer);
}
