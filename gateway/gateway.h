/* gateway.h — the process-wide state of sluice-gateway (one event loop, one instance).
 * Ownership: g_gw owns its config, keystore and lws context; modules borrow them. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <libwebsockets.h>

#include "config.h"
#include "keys.h"

typedef struct {
  gw_config_t cfg;
  struct lws_context *ctx;
  struct lws_vhost *vh;
  gw_keystore_t keys;
  int shutting_down;
  char session_id[37];              /* our Jupyter session id in message headers */
  char secret[GW_SECRET_HEX + 1];   /* HMAC key (the hex string's bytes) */
} gw_t;

extern gw_t g_gw;

/* A raw fd watched by the loop (ZMQ_FD, runner pidfds): cb(ctx) runs when it is readable.
 * The watch is heap memory owned by the loop once added: gw_fdwatch_close detaches the caller (no more
 * callbacks) and the loop frees it (and closes fd when own_fd) when the wsi goes — safe to call from
 * anywhere, including cb itself. */
typedef struct gw_fdwatch {
  int fd;
  int own_fd;
  struct lws *wsi;
  void (*cb)(void *ctx);
  void (*closed)(void *ctx); /* optional: the loop closed the watch (timeout, error) before gw_fdwatch_close */
  void *ctx;
} gw_fdwatch_t;

/* NULL on failure (fd is then closed when own_fd). */
gw_fdwatch_t *gw_fdwatch_new(int fd, int own_fd, void (*cb)(void *ctx), void *ctx);
void gw_fdwatch_close(gw_fdwatch_t *w);
/* The lws callback of GW_FD_PROTOCOL (main.c registers it). */
int gw_fdwatch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#define GW_FD_PROTOCOL "sluice-fd"

#endif
