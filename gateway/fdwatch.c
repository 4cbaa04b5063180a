/* fdwatch.c — raw fds (ZMQ_FD, pidfds) adopted into the lws loop. */
#include "gateway.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gw_fdwatch_t *gw_fdwatch_new(int fd, int own_fd, void (*cb)(void *ctx), void *ctx) {
  gw_fdwatch_t *w = calloc(1, sizeof(*w));
  if (!w) goto fail;
  w->fd = fd;
  w->own_fd = own_fd;
  w->cb = cb;
  w->ctx = ctx;
  lws_sock_file_fd_type u;
  u.filefd = fd;
  w->wsi = lws_adopt_descriptor_vhost(g_gw.vh, LWS_ADOPT_RAW_FILE_DESC, u, GW_FD_PROTOCOL, NULL);
  if (!w->wsi) goto fail;
  lws_set_opaque_user_data(w->wsi, w);
  return w;
fail:
  /* a failed adoption has already closed nothing of ours */
  if (own_fd) close(fd);
  free(w);
  return NULL;
}

void gw_fdwatch_close(gw_fdwatch_t *w) {
  if (!w) return;
  w->cb = NULL;
  w->closed = NULL;
  w->ctx = NULL;
  if (w->wsi) lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int gw_fdwatch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  gw_fdwatch_t *w = lws_get_opaque_user_data(wsi);
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      if (w && w->cb) w->cb(w->ctx);
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      if (!w) return 0;
      lws_set_opaque_user_data(wsi, NULL);
      if (w->closed) w->closed(w->ctx);
      /* lws does not close adopted file descriptors; their owner does */
      if (w->own_fd && close(w->fd) < 0) lwsl_warn("fdwatch: close(%d): %s\n", w->fd, strerror(errno));
      free(w);
      return 0;
    default:
      return 0;
  }
}
