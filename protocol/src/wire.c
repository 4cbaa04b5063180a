/* wire.c — Jupyter wire framing over ZeroMQ frames, HMAC-SHA256 signing and replay refusal. */
#include "sluice/wire.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32

/* Replay cache: a ring of the last `cap` digests (so exactly the last cap verified signatures are
 * refused again) plus an open-addressing index of ring positions for O(1) lookup. The index uses
 * linear probing with backward-shift deletion (no tombstones, so it never degrades). Digests are
 * HMAC outputs of messages that verified, so a peer without the key cannot aim at one bucket. */
#define SLOT_EMPTY UINT32_MAX
#define REPLAY_MAX_CAP (1u << 24)

typedef struct {
  unsigned char *ring; /* cap * DIGEST_LEN */
  uint32_t *index;     /* size slots: a ring position or SLOT_EMPTY */
  size_t cap, size, head, count;
} replay_t;

struct sl_signer {
  unsigned char *key;
  size_t keylen;
  EVP_MAC *mac;          /* HMAC, fetched once */
  EVP_MAC_CTX *keyed;    /* initialised with key + SHA-256; duplicated per message */
  replay_t replay;       /* cap 0 = no replay refusal */
};

static int replay_init(replay_t *r, size_t cap) {
  if (cap > REPLAY_MAX_CAP) cap = REPLAY_MAX_CAP;
  size_t size = 16;
  while (size < cap * 2) size <<= 1; /* load factor ≤ 1/2 */
  r->ring = calloc(cap, DIGEST_LEN);
  r->index = malloc(size * sizeof(*r->index));
  if (!r->ring || !r->index) return -ENOMEM;
  for (size_t i = 0; i < size; i++) r->index[i] = SLOT_EMPTY;
  r->cap = cap;
  r->size = size;
  return 0;
}

static void replay_free(replay_t *r) {
  free(r->ring);
  free(r->index);
  memset(r, 0, sizeof(*r));
}

static size_t replay_home(const replay_t *r, const unsigned char *d) {
  size_t h;
  memcpy(&h, d, sizeof(h)); /* digests are uniformly random */
  return h & (r->size - 1);
}

/* The index slot holding digest d, or SIZE_MAX. */
static size_t replay_find(const replay_t *r, const unsigned char *d) {
  size_t mask = r->size - 1;
  for (size_t i = replay_home(r, d), n = 0; n < r->size; i = (i + 1) & mask, n++) {
    if (r->index[i] == SLOT_EMPTY) return SIZE_MAX;
    if (memcmp(r->ring + (size_t)r->index[i] * DIGEST_LEN, d, DIGEST_LEN) == 0) return i;
  }
  return SIZE_MAX;
}

static void replay_unindex(replay_t *r, size_t i) {
  size_t mask = r->size - 1;
  for (size_t j = (i + 1) & mask; r->index[j] != SLOT_EMPTY; j = (j + 1) & mask) {
    size_t home = replay_home(r, r->ring + (size_t)r->index[j] * DIGEST_LEN);
    /* move j back into the hole at i unless its home lies cyclically in (i, j] */
    int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      r->index[i] = r->index[j];
      i = j;
    }
  }
  r->index[i] = SLOT_EMPTY;
}

static void replay_add(replay_t *r, const unsigned char *d) {
  unsigned char *slot = r->ring + r->head * DIGEST_LEN;
  if (r->count == r->cap) {
    size_t old = replay_find(r, slot);
    if (old != SIZE_MAX) replay_unindex(r, old);
  } else {
    r->count++;
  }
  memcpy(slot, d, DIGEST_LEN);
  size_t mask = r->size - 1, i = replay_home(r, d);
  while (r->index[i] != SLOT_EMPTY) i = (i + 1) & mask;
  r->index[i] = (uint32_t)r->head;
  r->head = (r->head + 1) % r->cap;
}

sl_signer_t *sl_signer_new(const void *key, size_t keylen, size_t replay_capacity) {
  sl_signer_t *s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->keylen = keylen;
  s->key = malloc(keylen ? keylen : 1);
  if (!s->key) goto fail;
  if (keylen) memcpy(s->key, key, keylen);
  if (keylen) {
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->keyed = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
    if (!s->keyed || EVP_MAC_init(s->keyed, s->key, keylen, params) != 1) goto fail;
  }
  /* with an empty key anyone can mint "signatures", so remembering them would refuse nothing */
  if (keylen && replay_capacity && replay_init(&s->replay, replay_capacity) < 0) goto fail;
  return s;
fail:
  sl_signer_destroy(&s);
  return NULL;
}

void sl_signer_destroy(sl_signer_t **sp) {
  if (!sp || !*sp) return;
  sl_signer_t *s = *sp;
  if (s->key) OPENSSL_cleanse(s->key, s->keylen);
  free(s->key);
  EVP_MAC_CTX_free(s->keyed);
  EVP_MAC_free(s->mac);
  replay_free(&s->replay);
  free(s);
  *sp = NULL;
}

const char *sl_wire_strerror(sl_wire_err_t err) {
  switch (err) {
  case SL_WIRE_OK: return "ok";
  case SL_WIRE_E_NODELIM: return "no <IDS|MSG> delimiter";
  case SL_WIRE_E_FRAMES: return "wrong number of frames";
  case SL_WIRE_E_TOOBIG: return "message over the size limit";
  case SL_WIRE_E_SIGNATURE: return "bad signature";
  case SL_WIRE_E_REPLAY: return "replayed signature";
  case SL_WIRE_E_JSON: return "a dict frame is not a JSON object";
  case SL_WIRE_E_HEADER: return "header lacks msg_id, msg_type or session";
  case SL_WIRE_E_NOMEM: return "out of memory";
  }
  return "unknown error";
}

/* 0, or -ENOMEM when OpenSSL could not compute the MAC: callers must then fail closed rather than
 * compare against a placeholder digest a peer could reproduce.
 * The MAC covers the four dict frames as jupyter_client does, then (Sluice's extension, messages.md)
 * every buffer as an 8-byte big-endian length followed by its bytes: a buffer is signed like the rest
 * and cannot be re-cut into others. Without buffers the MAC is jupyter_client's. */
static int hmac_raw(const sl_signer_t *s, const sl_frame_view_t parts[4], const sl_frame_view_t *bufs, size_t nbufs,
                    unsigned char out[DIGEST_LEN]) {
  int rc = -ENOMEM;
  size_t len = 0;
  EVP_MAC_CTX *ctx = s->keyed ? EVP_MAC_CTX_dup(s->keyed) : NULL;
  if (!ctx) goto out;
  for (int i = 0; i < 4; i++)
    if (parts[i].len && EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) goto out;
  for (size_t i = 0; i < nbufs; i++) {
    unsigned char be[8];
    for (int b = 0; b < 8; b++) be[b] = (unsigned char)((uint64_t)bufs[i].len >> (56 - 8 * b));
    if (EVP_MAC_update(ctx, be, sizeof be) != 1) goto out;
    if (bufs[i].len && EVP_MAC_update(ctx, bufs[i].data, bufs[i].len) != 1) goto out;
  }
  if (EVP_MAC_final(ctx, out, &len, DIGEST_LEN) != 1 || len != DIGEST_LEN) goto out;
  rc = 0;
out:
  if (rc < 0) memset(out, 0, DIGEST_LEN);
  EVP_MAC_CTX_free(ctx);
  return rc;
}

static void to_hex(const unsigned char *d, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[2 * n] = 0;
}

static int from_hex(const char *hex, size_t len, unsigned char *out) {
  if (len != 2 * DIGEST_LEN) return -1;
  for (size_t i = 0; i < len; i++) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return -1; /* jupyter_client emits lowercase only */
    if (i % 2 == 0) out[i / 2] = (unsigned char)(v << 4);
    else out[i / 2] |= (unsigned char)v;
  }
  return 0;
}

void sl_wire_hmac_hex(const sl_signer_t *signer, const sl_frame_view_t parts[4], char hex[65]) {
  sl_wire_hmac_hex_buffers(signer, parts, NULL, 0, hex);
}

void sl_wire_hmac_hex_buffers(const sl_signer_t *signer, const sl_frame_view_t parts[4], const sl_frame_view_t *bufs,
                              size_t nbufs, char hex[65]) {
  unsigned char d[DIGEST_LEN];
  if (!signer || !signer->keylen || hmac_raw(signer, parts, bufs, nbufs, d) < 0) {
    hex[0] = 0; /* unsigned (empty key) or no MAC: the empty signature, never a guessable digest */
    return;
  }
  to_hex(d, DIGEST_LEN, hex);
}

void sl_frames_free(sl_frames_t *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n; i++) free(f->parts[i].data);
  free(f->parts);
  f->parts = NULL;
  f->n = 0;
}

static int part_copy(sl_part_t *p, const void *data, size_t len) {
  p->data = malloc(len ? len : 1);
  if (!p->data) return -1;
  if (len) memcpy(p->data, data, len);
  p->len = len;
  return 0;
}

sl_wire_err_t sl_wire_encode(sl_signer_t *signer, const sl_msg_t *msg, sl_frames_t *out) {
  memset(out, 0, sizeof(*out));
  if (msg->n_buffers > SL_WIRE_MAX_BUFFERS) return SL_WIRE_E_FRAMES; /* the peer would refuse it */
  size_t n = msg->n_idents + 6 + msg->n_buffers;
  out->parts = calloc(n, sizeof(sl_part_t));
  if (!out->parts) return SL_WIRE_E_NOMEM;
  out->n = n;
  size_t k = 0;
  for (size_t i = 0; i < msg->n_idents; i++)
    if (part_copy(&out->parts[k++], msg->idents[i].data, msg->idents[i].len) < 0) goto nomem;
  if (part_copy(&out->parts[k++], SL_WIRE_DELIM, strlen(SL_WIRE_DELIM)) < 0) goto nomem;
  size_t sig_at = k++;
  const json_t *dicts[4] = {msg->header, msg->parent_header, msg->metadata, msg->content};
  sl_frame_view_t views[4];
  for (int i = 0; i < 4; i++) {
    char *s = dicts[i] ? json_dumps(dicts[i], JSON_COMPACT | JSON_ENSURE_ASCII) : strdup("{}");
    if (!s) goto nomem;
    out->parts[k].data = s;
    out->parts[k].len = strlen(s);
    views[i].data = s;
    views[i].len = out->parts[k].len;
    k++;
  }
  sl_frame_view_t bufs[SL_WIRE_MAX_BUFFERS];
  for (size_t i = 0; i < msg->n_buffers; i++) bufs[i] = (sl_frame_view_t){msg->buffers[i].data, msg->buffers[i].len};
  char hex[65] = "";
  if (signer && signer->keylen) {
    unsigned char d[DIGEST_LEN];
    if (hmac_raw(signer, views, bufs, msg->n_buffers, d) < 0) goto nomem;
    to_hex(d, DIGEST_LEN, hex);
  }
  if (part_copy(&out->parts[sig_at], hex, strlen(hex)) < 0) goto nomem;
  for (size_t i = 0; i < msg->n_buffers; i++)
    if (part_copy(&out->parts[k++], msg->buffers[i].data, msg->buffers[i].len) < 0) goto nomem;
  return SL_WIRE_OK;
nomem:
  sl_frames_free(out);
  return SL_WIRE_E_NOMEM;
}

static json_t *parse_dict(const sl_frame_view_t *f) {
  json_error_t e;
  json_t *j = json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &e);
  if (j && !json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

sl_wire_err_t sl_wire_decode(sl_signer_t *signer, const sl_frame_view_t *frames, size_t n, sl_msg_t **out) {
  *out = NULL;
  size_t delim = n, total = 0;
  for (size_t i = 0; i < n; i++) {
    if (frames[i].len > SL_WIRE_MAX_FRAME_BYTES) return SL_WIRE_E_TOOBIG;
    total += frames[i].len;
    if (total > SL_WIRE_MAX_MSG_BYTES) return SL_WIRE_E_TOOBIG;
  }
  for (size_t i = 0; i < n && i <= SL_WIRE_MAX_IDENTS; i++) {
    if (frames[i].len == strlen(SL_WIRE_DELIM) && memcmp(frames[i].data, SL_WIRE_DELIM, frames[i].len) == 0) {
      delim = i;
      break;
    }
  }
  if (delim == n) return SL_WIRE_E_NODELIM;
  if (n < delim + 6 || n - delim - 6 > SL_WIRE_MAX_BUFFERS) return SL_WIRE_E_FRAMES;
  const sl_frame_view_t *sig = &frames[delim + 1];
  const sl_frame_view_t *dicts = &frames[delim + 2];

  unsigned char digest[DIGEST_LEN];
  int signing = signer && signer->keylen;
  if (signing) {
    unsigned char want[DIGEST_LEN], got[DIGEST_LEN];
    if (hmac_raw(signer, dicts, &frames[delim + 6], n - delim - 6, want) < 0) return SL_WIRE_E_NOMEM;
    if (from_hex(sig->data, sig->len, got) < 0 || CRYPTO_memcmp(want, got, DIGEST_LEN) != 0)
      return SL_WIRE_E_SIGNATURE;
    memcpy(digest, got, DIGEST_LEN);
    if (signer->replay.cap && replay_find(&signer->replay, digest) != SIZE_MAX) return SL_WIRE_E_REPLAY;
  }

  sl_msg_t *m = calloc(1, sizeof(*m));
  if (!m) return SL_WIRE_E_NOMEM;
  sl_wire_err_t err = SL_WIRE_E_JSON;
  json_t **slots[4] = {&m->header, &m->parent_header, &m->metadata, &m->content};
  for (int i = 0; i < 4; i++)
    if (!(*slots[i] = parse_dict(&dicts[i]))) goto fail;
  err = SL_WIRE_E_HEADER;
  if (!json_is_string(json_object_get(m->header, "msg_id")) ||
      !json_is_string(json_object_get(m->header, "msg_type")) ||
      !json_is_string(json_object_get(m->header, "session")))
    goto fail;
  err = SL_WIRE_E_NOMEM;
  for (size_t i = 0; i < delim; i++)
    if (sl_msg_add_ident(m, frames[i].data, frames[i].len) < 0) goto fail;
  size_t nb = n - delim - 6;
  if (nb) {
    m->buffers = calloc(nb, sizeof(sl_blob_t));
    if (!m->buffers) goto fail;
    for (size_t i = 0; i < nb; i++) {
      const sl_frame_view_t *f = &frames[delim + 6 + i];
      m->buffers[i].data = malloc(f->len ? f->len : 1);
      if (!m->buffers[i].data) goto fail;
      if (f->len) memcpy(m->buffers[i].data, f->data, f->len);
      m->buffers[i].len = f->len;
      m->n_buffers++;
    }
  }
  if (signing && signer->replay.cap) replay_add(&signer->replay, digest);
  *out = m;
  return SL_WIRE_OK;
fail:
  sl_msg_free(&m);
  return err;
}
