/* linger.c — lingering close of refused HTTP connections (linger.h). */
#include "linger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway.h"

typedef struct {
  gw_fdwatch_t *w;
  size_t drained;
} linger_t;

static unsigned g_lingering;

static void linger_end(linger_t *l) {
  gw_fdwatch_close(l->w); /* the loop closes the dup */
  g_lingering--;
  free(l);
}

/* the deadline passed: the loop closed the watch (and the dup) itself */
static void on_closed(void *ctx) {
  g_lingering--;
  free(ctx);
}

static void on_readable(void *ctx) {
  linger_t *l = ctx;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(l->w->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      l->drained += (size_t)n;
      if (l->drained < GW_LINGER_MAX_BYTES) continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    linger_end(l); /* EOF, error or enough: close */
    return;
  }
}

void gw_linger_close(struct lws *wsi) {
  int fd = lws_get_socket_fd(wsi);
  /* bytes lws still holds would be cut by our FIN: then only the plain close */
  if (fd < 0 || g_lingering >= GW_LINGER_MAX || lws_partial_buffered(wsi)) return;
  int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dupfd < 0) return;
  linger_t *l = calloc(1, sizeof(*l));
  if (!l || shutdown(dupfd, SHUT_WR) < 0) {
    free(l);
    close(dupfd);
    return;
  }
  l->w = gw_fdwatch_new(dupfd, 1, on_readable, l);
  if (!l->w) {
    free(l);
    return;
  }
  l->w->closed = on_closed;
  g_lingering++;
  /* the watch dies after the deadline whatever the client does (on_closed) */
  lws_set_timeout(l->w->wsi, PENDING_TIMEOUT_USER_OK, GW_LINGER_SECONDS);
}
