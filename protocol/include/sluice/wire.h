/* wire.h — Jupyter wire messages over ZeroMQ: framing, HMAC-SHA256 signing, replay refusal.
 *
 * No I/O here: callers hand in frames they received and get frames to send.
 * Wire layout (jupyter_client messaging.rst):
 *   [ident..., "<IDS|MSG>", hmac_hex, header, parent_header, metadata, content, buffer...]
 * The signature is lowercase hex HMAC-SHA256 over header|parent_header|metadata|content (the four JSON
 * frames exactly as sent), then — Sluice's extension, so no buffer travels unsigned — each buffer as an
 * 8-byte big-endian length and its bytes. Without buffers that is jupyter_client's signature. An empty
 * key means "no signing" (empty signature), as in jupyter_client.
 *
 * Ownership: sl_signer_t is created by sl_signer_new and freed by sl_signer_destroy (which NULLs the
 * pointer). sl_frames_t parts are owned by the sl_frames_t and freed by sl_frames_free. Frames passed to
 * sl_wire_decode are borrowed. A decoded sl_msg_t is new (caller frees with sl_msg_free).
 */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "sluice/msg.h"

#define SL_WIRE_DELIM "<IDS|MSG>"
#define SL_WIRE_MAX_IDENTS 16
#define SL_WIRE_MAX_BUFFERS 16
#define SL_WIRE_MAX_FRAME_BYTES (16u << 20)   /* any single frame */
#define SL_WIRE_MAX_MSG_BYTES   (64u << 20)   /* sum over all frames */
#define SL_WIRE_DEFAULT_REPLAY  4096          /* signatures remembered for replay refusal */

typedef enum {
  SL_WIRE_OK = 0,
  SL_WIRE_E_NODELIM,     /* no "<IDS|MSG>" frame */
  SL_WIRE_E_FRAMES,      /* too few / too many frames */
  SL_WIRE_E_TOOBIG,      /* a frame or the sum over the size caps */
  SL_WIRE_E_SIGNATURE,   /* bad or missing HMAC */
  SL_WIRE_E_REPLAY,      /* signature already seen */
  SL_WIRE_E_JSON,        /* a dict frame is not a JSON object */
  SL_WIRE_E_HEADER,      /* header lacks msg_id/msg_type/session strings */
  SL_WIRE_E_NOMEM,
} sl_wire_err_t;

const char *sl_wire_strerror(sl_wire_err_t err);

typedef struct sl_signer sl_signer_t;

/* key: borrowed, copied. keylen 0 = unsigned messages. replay_capacity 0 = no replay cache. */
sl_signer_t *sl_signer_new(const void *key, size_t keylen, size_t replay_capacity);
void sl_signer_destroy(sl_signer_t **signer);

/* One frame, owned by whoever holds the enclosing sl_frames_t. */
typedef struct {
  void *data;
  size_t len;
} sl_part_t;

typedef struct {
  size_t n;
  sl_part_t *parts;
} sl_frames_t;

/* A borrowed view of one received frame. */
typedef struct {
  const void *data;
  size_t len;
} sl_frame_view_t;

/* Serialises msg (idents, delimiter, signature, four dicts, buffers) into out (new). */
sl_wire_err_t sl_wire_encode(sl_signer_t *signer, const sl_msg_t *msg, sl_frames_t *out);
void sl_frames_free(sl_frames_t *frames);

/* Parses and verifies frames; on success *out is a new message. Replayed signatures are refused
 * (the signature enters the replay cache only after it verified). */
sl_wire_err_t sl_wire_decode(sl_signer_t *signer, const sl_frame_view_t *frames, size_t n,
                             sl_msg_t **out);

/* Lowercase hex HMAC-SHA256 over the given parts (and buffers) into hex (65 bytes incl. NUL). Exposed
 * for tests. */
void sl_wire_hmac_hex(const sl_signer_t *signer, const sl_frame_view_t parts[4], char hex[65]);
void sl_wire_hmac_hex_buffers(const sl_signer_t *signer, const sl_frame_view_t parts[4], const sl_frame_view_t *bufs,
                              size_t nbufs, char hex[65]);

#endif
