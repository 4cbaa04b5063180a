/* main.c — sluice-gateway: `serve` (the event loop) and `keys` (the key CLI). */
#include "gateway.h"

#include "jupyter.h"
#include "culler.h"
#include "keys.h"
#include "log.h"
#include "lifecycle.h"
#include "metrics.h"
#include "pool.h"
#include "zygote.h"
#include "registry.h"
#include "session.h"
#include "stream_ws.h"
#include "ws_default.h"
#include "sluice/msg.h"
#include "workspaces.h"
#include "zmq_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

gw_t g_gw;
static int g_stop;
static lws_sorted_usec_list_t g_grace_sul;

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  gw_session_t *s = user;
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return session_on_http(s, wsi, in, len);
    case LWS_CALLBACK_HTTP_BODY:
      return s ? session_on_body(s, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      return s ? session_on_body_done(s) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return s ? session_on_writeable(s) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      if (s) session_on_closed(s);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

/* lws caps every send() at tx_packet_size, or when it is 0 at rx_buffer_size / pt_serv_buf_size (4 KiB):
 * a 16 KiB output frame then took four trips round the event loop (stdout over the websocket ran at
 * 3-17 MB/s). One send() per queued frame up to GW_TX_PACKET; lws buffers what the socket refuses. */
#define GW_TX_PACKET (256u << 10)
/* the service buffer: how much one read() of a request body or websocket takes */
#define GW_SERV_BUF (64u << 10)

static const struct lws_protocols PROTOCOLS[] = {
    {"http", http_callback, sizeof(gw_session_t), 0, 0, NULL, GW_TX_PACKET},
    {GW_FD_PROTOCOL, gw_fdwatch_callback, 0, 0, 0, NULL, 0},
    {JWS_LEGACY_PROTOCOL, ws_default_callback, sizeof(ws_default_conn_t), 0, 0, NULL, GW_TX_PACKET}, /* + stream */
    {SL_JF_SUBPROTOCOL, jws_callback, sizeof(jws_conn_t), 0, 0, NULL, GW_TX_PACKET},
    {SWS_PROTOCOL, sws_callback, sizeof(sws_conn_t), 0, 0, NULL, GW_TX_PACKET},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* websocket upgrades that offer no subprotocol (jupyter_server, nbclient) get the legacy kernel protocol */
static const struct lws_protocol_vhost_options JWS_DEFAULT = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options PVO = {NULL, &JWS_DEFAULT, JWS_LEGACY_PROTOCOL, ""};

static void grace_cb(lws_sorted_usec_list_t *sul) {
  log_event("shutdown_grace_over", NULL, "{s:I, s:I}", "requests_in_flight", (json_int_t)session_requests_open(),
            "sandboxes_left", (json_int_t)reg_count());
  g_stop = 1;
}

/* --stop-sandboxes: every sandbox (pool members too) goes the way DELETE does. */
static void stop_all_sandboxes(void) {
  gw_sandbox_t *victims[1024];
  size_t n = 0;
  for (gw_sandbox_t *sb = reg_first(); sb && n < sizeof(victims) / sizeof(victims[0]); sb = sb->next)
    if (!sb->deleting) victims[n++] = sb;
  for (size_t i = 0; i < n; i++) lc_delete(victims[i], NULL, NULL);
}

static void on_signal(void *ctx) {
  int fd = *(int *)ctx;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if (!g_gw.shutting_down) {
      log_event("shutdown", NULL, "{s:i, s:b, s:I, s:I}", "signal", (int)si.ssi_signo, "stop_sandboxes",
                g_gw.cfg.stop_sandboxes, "requests_in_flight", (json_int_t)session_requests_open(), "sandboxes",
                (json_int_t)reg_count());
      g_gw.shutting_down = 1;
      pool_stop();
      if (g_gw.cfg.stop_sandboxes) stop_all_sandboxes();
      lws_sul_schedule(g_gw.ctx, 0, &g_grace_sul, grace_cb, (lws_usec_t)g_gw.cfg.shutdown_grace_s * 1000000);
    } else {
      g_stop = 1;
    }
  }
}

static int ensure_first_key(void) {
  if (gw_keystore_count(&g_gw.keys) > 0) return 0;
  char key[GW_KEY_LEN + 1];
  int rc = gw_keys_create(g_gw.cfg.state_dir, "default", NULL, 0, 0, key);
  if (rc == -EEXIST) return 0;
  if (rc < 0) return rc;
  printf("API key: %s\n", key);
  fflush(stdout);
  return gw_keystore_refresh(&g_gw.keys);
}

static int serve(int argc, char **argv) {
  int rc = 1, sigfd = -1, lockfd = -1;
  int lrc = gw_config_load(&g_gw.cfg, argc, argv);
  if (lrc != 0) return lrc > 0 ? 0 : 2;
  if (log_open(g_gw.cfg.log_file) < 0) {
    fprintf(stderr, "sluice-gateway: cannot open log file %s\n", g_gw.cfg.log_file);
    return 2;
  }
  int err = gw_state_prepare(g_gw.cfg.state_dir);
  if (err < 0 || (err = gw_secret_load(g_gw.cfg.state_dir, g_gw.secret)) < 0) {
    fprintf(stderr, "sluice-gateway: state dir %s: %s\n", g_gw.cfg.state_dir, strerror(-err));
    goto out;
  }
  /* one gateway per state dir: a second one would steal the runners' socket */
  char lockp[4200];
  snprintf(lockp, sizeof(lockp), "%s/run/gateway.lock", g_gw.cfg.state_dir);
  lockfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
    fprintf(stderr, "sluice-gateway: another gateway is running on %s\n", g_gw.cfg.state_dir);
    goto out;
  }
  if ((err = gw_keystore_open(&g_gw.keys, g_gw.cfg.state_dir)) < 0 || (err = ensure_first_key()) < 0) {
    fprintf(stderr, "sluice-gateway: keys: %s\n", strerror(-err));
    goto out;
  }
  sl_uuid_str(g_gw.session_id);

  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = g_gw.cfg.listen_port;
  info.iface = g_gw.cfg.listen_host;
  info.protocols = PROTOCOLS;
  info.pvo = &PVO;
  info.max_http_header_data = 8192;
  info.pt_serv_buf_size = GW_SERV_BUF;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (!strchr(g_gw.cfg.listen_host, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  g_gw.ctx = lws_create_context(&info);
  g_gw.vh = g_gw.ctx ? lws_create_vhost(g_gw.ctx, &info) : NULL;
  if (!g_gw.vh) {
    fprintf(stderr, "sluice-gateway: cannot listen on %s:%d\n", g_gw.cfg.listen_host, g_gw.cfg.listen_port);
    goto out;
  }
  /* after lws_create_context, which sets its own signal mask */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd < 0 || !gw_fdwatch_new(sigfd, 1, on_signal, &sigfd)) goto out;
  if (zb_init() < 0) goto out;
  zygote_start(); /* first: its imports take a while, runners start drivers cold until it is ready */
  lc_adopt_all();
  ws_reconcile(); /* after adoption: a workspace nobody holds any more is unmounted */
  metrics_start();
  culler_start(); /* after adoption: overdue sandboxes go now */
  pool_start();  /* after adoption: adopted pool members count */

  int port = lws_get_vhost_listen_port(g_gw.vh);
  const char *h = g_gw.cfg.listen_host;
  if (strchr(h, ':'))
    printf("sluice-gateway listening on http://[%s]:%d\n", h, port);
  else
    printf("sluice-gateway listening on http://%s:%d\n", h, port);
  fflush(stdout);

  while (!g_stop) {
    if (lws_service(g_gw.ctx, 0) < 0) break;
    if (g_gw.shutting_down && gw_calls_outstanding() == 0 && session_requests_open() == 0 &&
        (!g_gw.cfg.stop_sandboxes || reg_count() == 0))
      break;
  }
  rc = 0;
out:
  pool_stop();
  zygote_stop();
  culler_stop();
  zb_fini();
  if (g_gw.ctx) {
    lws_sul_cancel(&g_grace_sul);
    lws_context_destroy(g_gw.ctx);
  }
  gw_keys_flush_used(&g_gw.keys);
  gw_keystore_close(&g_gw.keys);
  log_event("stopped", NULL, "{s:I}", "sandboxes_left_running", (json_int_t)reg_count());
  gw_config_free(&g_gw.cfg);
  if (lockfd >= 0) close(lockfd);
  log_close();
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "keys") == 0) return gw_keys_cli(argc - 1, argv + 1);
  fprintf(stderr,
          "usage: sluice-gateway serve [--config FILE] [--SETTING VALUE]... (serve --help lists them)\n"
          "       sluice-gateway keys create NAME [--namespace NS... | --admin] [--expires D] [--state-dir DIR]\n"
          "       sluice-gateway keys list [--state-dir DIR] | keys revoke NAME [--state-dir DIR]\n");
  return 2;
}
