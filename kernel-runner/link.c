/* link.c — ZeroMQ DEALER + monitor (link.h). */
#include "link.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "rutil.h"
#include "sluice/stream_msg.h"
#include "sluice/wire.h"

struct sl_link {
  void *ctx, *sock, *mon;
  sl_signer_t *signer;
  sl_link_cbs_t cbs;
  char session[37];
  int connected;
  sl_frames_t *q;    /* ring of encoded messages ZeroMQ has not taken yet */
  size_t qhead, qlen;
  size_t part;       /* frames of q[qhead] already sent (a multipart message is never interleaved) */
};

sl_link_t *sl_link_new(const char *endpoint, const char *routing_id, const void *key, size_t keylen,
                       const sl_link_cbs_t *cbs, char *err, size_t errlen) {
  sl_link_t *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->cbs = *cbs;
  sl_uuid_str(l->session);
  char monaddr[96];
  int hwm_s = SL_LINK_SNDHWM, hwm_r = SL_LINK_RCVHWM, ivl = SL_LINK_RECONNECT_MS, ivlmax = 1000, linger = 0;
  int64_t maxmsg = SL_WIRE_MAX_MSG_BYTES;
  if (!(l->q = calloc(SL_LINK_MAX_QUEUE, sizeof *l->q)) || !(l->signer = sl_signer_new(key, keylen, SL_WIRE_DEFAULT_REPLAY)) ||
      !(l->ctx = zmq_ctx_new()) || !(l->sock = zmq_socket(l->ctx, ZMQ_DEALER)))
    goto fail;
  if (zmq_setsockopt(l->sock, ZMQ_ROUTING_ID, routing_id, strlen(routing_id)) ||
      zmq_setsockopt(l->sock, ZMQ_SNDHWM, &hwm_s, sizeof hwm_s) ||
      zmq_setsockopt(l->sock, ZMQ_RCVHWM, &hwm_r, sizeof hwm_r) ||
      zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) ||
      zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof ivlmax) ||
      zmq_setsockopt(l->sock, ZMQ_LINGER, &linger, sizeof linger) ||
      zmq_setsockopt(l->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
    goto fail;
  snprintf(monaddr, sizeof monaddr, "inproc://sluice-monitor-%s", l->session);
  if (zmq_socket_monitor(l->sock, monaddr, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) ||
      !(l->mon = zmq_socket(l->ctx, ZMQ_PAIR)) || zmq_connect(l->mon, monaddr) ||
      zmq_setsockopt(l->mon, ZMQ_LINGER, &linger, sizeof linger))
    goto fail;
  /* the gateway's socket may not exist yet: connect() still succeeds and ZeroMQ keeps retrying */
  if (zmq_connect(l->sock, endpoint)) goto fail;
  return l;
fail:
  snprintf(err, errlen, "zmq: %s", zmq_strerror(zmq_errno()));
  sl_link_destroy(&l, 0);
  return NULL;
}

void sl_link_destroy(sl_link_t **lp, int linger_ms) {
  sl_link_t *l = *lp;
  if (!l) return;
  if (l->sock) {
    zmq_setsockopt(l->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close(l->sock);
  }
  if (l->mon) zmq_close(l->mon);
  if (l->ctx) zmq_ctx_term(l->ctx);
  for (size_t i = 0; l->q && i < l->qlen; i++) sl_frames_free(&l->q[(l->qhead + i) % SL_LINK_MAX_QUEUE]);
  free(l->q);
  sl_signer_destroy(&l->signer);
  free(l);
  *lp = NULL;
}

void sl_link_fds(sl_link_t *l, int fds[2]) {
  size_t len = sizeof(int);
  zmq_getsockopt(l->sock, ZMQ_FD, &fds[0], &len);
  len = sizeof(int);
  zmq_getsockopt(l->mon, ZMQ_FD, &fds[1], &len);
}

int sl_link_congested(const sl_link_t *l) { return l->qlen > 0; }
int sl_link_connected(const sl_link_t *l) { return l->connected; }
const char *sl_link_session(const sl_link_t *l) { return l->session; }

static int events(void *s) {
  int ev = 0;
  size_t len = sizeof ev;
  zmq_getsockopt(s, ZMQ_EVENTS, &ev, &len);
  return ev;
}

/* Sends queued frames until the queue is empty or ZeroMQ pushes back. */
static void flush(sl_link_t *l) {
  while (l->qlen) {
    sl_frames_t *f = &l->q[l->qhead];
    while (l->part < f->n) {
      int more = l->part + 1 < f->n ? ZMQ_SNDMORE : 0;
      if (zmq_send(l->sock, f->parts[l->part].data, f->parts[l->part].len, more | ZMQ_DONTWAIT) < 0) {
        if (zmq_errno() == EAGAIN || zmq_errno() == EINTR) return;
        RLOG("zmq send: %s (message dropped)", zmq_strerror(zmq_errno()));
        l->part = f->n;
        break;
      }
      l->part++;
    }
    sl_frames_free(f);
    l->part = 0;
    l->qhead = (l->qhead + 1) % SL_LINK_MAX_QUEUE;
    l->qlen--;
  }
}

int sl_link_send(sl_link_t *l, sl_msg_t **msg) {
  int rc = 0;
  if (l->qlen == SL_LINK_MAX_QUEUE) {
    RLOG("link queue full: dropping %s", sl_msg_type(*msg));
    rc = -ENOBUFS;
    goto out;
  }
  sl_frames_t *f = &l->q[(l->qhead + l->qlen) % SL_LINK_MAX_QUEUE];
  sl_wire_err_t we = sl_wire_encode(l->signer, *msg, f);
  if (we != SL_WIRE_OK) {
    RLOG("encode %s: %s", sl_msg_type(*msg), sl_wire_strerror(we));
    rc = -EINVAL;
    goto out;
  }
  l->qlen++;
  flush(l);
out:
  sl_msg_free(msg);
  return rc;
}

int sl_link_emit(sl_link_t *l, const char *type, const sl_msg_t *parent, json_t *content) {
  sl_msg_t *m = sl_msg_new(type, l->session, parent, content);
  if (!m) return -ENOMEM;
  return sl_link_send(l, &m);
}

int sl_link_emit_stream(sl_link_t *l, const sl_msg_t *parent, const char *name, const char *text, size_t len) {
  sl_msg_t *m = sl_op_stream_new(l->session, parent, name, text, len);
  if (!m) return -ENOMEM;
  return sl_link_send(l, &m);
}

static void recv_one(sl_link_t *l) {
  zmq_msg_t parts[SL_WIRE_MAX_IDENTS + SL_WIRE_MAX_BUFFERS + 8];
  sl_frame_view_t views[sizeof parts / sizeof parts[0]];
  size_t n = 0, max = sizeof parts / sizeof parts[0];
  int more = 1, overflow = 0;
  while (more) {
    zmq_msg_t tmp, *m = n < max ? &parts[n] : &tmp;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, l->sock, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(m);
      break;
    }
    more = zmq_msg_more(m);
    if (n < max) {
      views[n].data = zmq_msg_data(m);
      views[n].len = zmq_msg_size(m);
      n++;
    } else {
      overflow = 1;
      zmq_msg_close(m);
    }
  }
  if (n == 0) return;
  sl_msg_t *msg = NULL;
  sl_wire_err_t we = overflow ? SL_WIRE_E_FRAMES : sl_wire_decode(l->signer, views, n, &msg);
  if (we == SL_WIRE_OK) l->cbs.on_request(l->cbs.ud, &msg);
  else if (l->cbs.on_bad) l->cbs.on_bad(l->cbs.ud, sl_wire_strerror(we));
  sl_msg_free(&msg);
  for (size_t i = 0; i < n; i++) zmq_msg_close(&parts[i]);
}

static void monitor(sl_link_t *l) {
  while (events(l->mon) & ZMQ_POLLIN) {
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, l->mon, ZMQ_DONTWAIT) < 0) break;
    if (zmq_msg_more(&ev)) zmq_msg_recv(&addr, l->mon, ZMQ_DONTWAIT);
    uint16_t code = 0;
    if (zmq_msg_size(&ev) >= 2) memcpy(&code, zmq_msg_data(&ev), 2);
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      l->connected = 1;
      if (l->cbs.on_handshake) l->cbs.on_handshake(l->cbs.ud);
    } else if (code == ZMQ_EVENT_DISCONNECTED) {
      l->connected = 0;
    }
  }
}

int sl_link_pump(sl_link_t *l) {
  monitor(l);
  for (int budget = 64; budget > 0; budget--) {
    int ev = events(l->sock);
    if ((ev & ZMQ_POLLOUT) && l->qlen) flush(l);
    if (!(ev & ZMQ_POLLIN)) return (events(l->mon) & ZMQ_POLLIN) != 0;
    recv_one(l);
  }
  return 1; /* budget spent with input left: ZMQ_FD will not signal it again */
}
