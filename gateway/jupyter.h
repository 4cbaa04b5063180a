/* jupyter.h — the gateway's Jupyter personality: kernel state (jupyter_kernels.c), the channels
 * websocket (jupyter_ws.c), the relay between websocket messages and runner ops (jupyter_relay.c) and
 * the REST routes (jupyter_rest.c). A kernel is a sandbox; its id is the sandbox id.
 *
 * Delivery: iopub messages go to every connection of the kernel; replies (shell, control, stdin) go to
 * the connection that asked. With no connection attached, both go to the kernel's replay buffer
 * (bounded: JK_BUF_MAX_MSGS / JK_BUF_MAX_BYTES, oldest dropped first), replayed to the next connection
 * that comes back with the same ?session_id=. A connection's outgoing queue is bounded too
 * (JWS_Q_HIGH_BYTES stops reading the client's requests; JWS_Q_MAX_* closes a client that does not
 * read, whose later messages then go to the replay buffer).
 *
 * Ownership: the kernel table owns every jk_kernel_t (freed when its sandbox is gone); a jws_conn_t
 * lives in lws's per-session memory and is linked into its kernel while attached (jk_detach unlinks it
 * in LWS_CALLBACK_CLOSED). Messages passed to jk_publish / jws_send are borrowed (encoded or copied).
 */
#ifndef GW_JUPYTER_H
#define GW_JUPYTER_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>

#include "registry.h"
#include "sluice/jupyter.h"
#include "sluice/msg.h"

#define JK_BUF_MAX_MSGS 2000
#define JK_BUF_MAX_BYTES (32u << 20)
#define JWS_Q_HIGH_BYTES (8u << 20)
#define JWS_Q_LOW_BYTES (2u << 20)
#define JWS_Q_MAX_BYTES (64u << 20)
#define JWS_Q_MAX_MSGS 20000
#define JWS_SESSION_ID_MAX 128
#define JK_MAX_KERNELS 4096

typedef struct jws_frame {
  struct jws_frame *next;
  size_t len;
  int binary;
  unsigned char *buf; /* LWS_PRE + len */
} jws_frame_t;

typedef struct jws_conn {
  struct lws *wsi;
  struct jws_conn *next; /* in its kernel's list */
  char kernel_id[37];
  char session_id[JWS_SESSION_ID_MAX];
  sl_jf_proto_t proto;
  int attached;
  int closing;
  int rx_paused;
  /* one incoming message being reassembled from fragments (≤ SL_JF_MAX_FRAME) */
  unsigned char *rx;
  size_t rx_len, rx_cap;
  int rx_binary, rx_too_big;
  /* outgoing frames, bounded */
  jws_frame_t *q_head, *q_tail;
  size_t q_n, q_bytes;
} jws_conn_t;

typedef struct jk_item {
  struct jk_item *next;
  sl_msg_t *msg;
  char channel[SL_JF_CHANNEL_MAX];
  size_t bytes;
} jk_item_t;

typedef struct jk_kernel {
  struct jk_kernel *next;
  char id[37];
  char name[32];
  char session[37];          /* the kernel's header.session; new on every restart */
  const char *state;         /* static: starting|idle|busy|restarting|dead */
  int64_t last_activity_us;
  int64_t exec_count;        /* of the last execute_reply */
  int inflight;              /* requests sent to the runner and not answered */
  int exec_running;          /* an execute_request is in the runner (the others wait in the relay) */
  jws_conn_t *conns;
  unsigned n_conns;
  char last_session_id[JWS_SESSION_ID_MAX];
  jk_item_t *buf_head, *buf_tail;
  size_t buf_n, buf_bytes;
  unsigned long buf_dropped;
} jk_kernel_t;

/* --- jupyter_kernels.c --- */
/* The state of sandbox sb's kernel, created on first use (NULL on ENOMEM / table full). */
jk_kernel_t *jk_get(gw_sandbox_t *sb);
/* The existing state for id, or NULL. Frees state whose sandbox is gone. */
jk_kernel_t *jk_find(const char *id);
/* Forgets id's state: says "dead" on iopub and closes its connections. */
void jk_forget(const char *id, int say_dead);
const char *jk_kernel_name(const gw_sandbox_t *sb);
/* Attaches c and replays the buffer when c's session_id is the last one seen (else drops it). */
void jk_attach(jk_kernel_t *k, jws_conn_t *c);
void jk_detach(jws_conn_t *c);
/* Sends msg on channel to target when given and attached, else (iopub: to all connections) — or buffers
 * it when nobody is connected. */
void jk_publish(jk_kernel_t *k, jws_conn_t *target, const sl_msg_t *msg, const char *channel);
/* Builds and publishes a kernel message (content STOLEN) with parent header parent (borrowed, may be
 * NULL). */
void jk_emit(jk_kernel_t *k, jws_conn_t *target, const char *channel, const char *msg_type, const json_t *parent,
             json_t *content);
void jk_set_state(jk_kernel_t *k, const char *state, const json_t *parent);
void jk_touch(jk_kernel_t *k);
/* "3.11": the Python of the images (from /usr/lib/python3.*). */
const char *jk_python_version(void);
/* The version of kernel spec name's language (python3: jk_python_version; bash, javascript: asked of
 * /bin/bash and /usr/bin/node once, at the first kernel_info_request, then cached). */
const char *jk_language_version(const char *kernel_name);

/* --- jupyter_relay.c --- */
/* One decoded client message on channel (msg borrowed). */
void jr_handle(jws_conn_t *c, jk_kernel_t *k, const sl_msg_t *msg, const char *channel);
/* c is going away: replies for it go to the kernel's buffer. */
void jr_conn_gone(jws_conn_t *c);
/* The kernel is forgotten: its execute_requests still waiting are dropped. */
void jr_kernel_gone(const char *kernel_id);
/* Restart (REST or shutdown_request{restart}); parent may be NULL. Emits restarting, then idle. */
int jr_restart(jk_kernel_t *k, jws_conn_t *c, const json_t *parent_header, void (*done)(void *ctx, int ok),
               void *ctx);
/* Interrupt the running cell; done(ctx, ok) follows (may be NULL). */
int jr_interrupt(jk_kernel_t *k, void (*done)(void *ctx, int ok), void *ctx);

/* --- jupyter_ws.c --- */
int jws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* Queues one message for c (encoded in c's framing). Returns 0, or -1 when c is closing / over its
 * limits (c is then being closed). */
int jws_send(jws_conn_t *c, const sl_msg_t *msg, const char *channel);
/* Closes c (after what is queued). */
void jws_close(jws_conn_t *c, const char *why);

/* The legacy protocol's lws name (the vhost's default ws protocol: clients that offer no subprotocol). */
#define JWS_LEGACY_PROTOCOL "sluice-jupyter-legacy"

#endif
