/* fuzz_wire_decode.c — sl_wire_decode on arbitrary frames, unsigned and keyed.
 *
 * Input: one flags byte, then frames, each a 2-byte big-endian length and that many bytes (the last
 * one is cut at the end of the input). flags bit 0: also decode with a keyed signer; bit 1: first
 * replace the signature frame by the right HMAC, so the fuzzer gets past the signature check into the
 * JSON and header checks (the MAC covers the buffers too). Invariants: a decoded message re-encodes and decodes to the same message;
 * a keyed message decodes once and is then a replay; nothing leaks or reads out of bounds. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/wire.h"

#define MAX_FRAMES (SL_WIRE_MAX_IDENTS + 6 + SL_WIRE_MAX_BUFFERS + 8)
static const char KEY[] = "fuzz-key-0123";

static int blobs_equal(const sl_blob_t *a, size_t na, const sl_blob_t *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].len != b[i].len || (a[i].len && memcmp(a[i].data, b[i].data, a[i].len) != 0)) return 0;
  return 1;
}

static void check_decoded(const sl_msg_t *m) {
  FUZZ_ASSERT(json_is_object(m->header) && json_is_object(m->parent_header));
  FUZZ_ASSERT(json_is_object(m->metadata) && json_is_object(m->content));
  FUZZ_ASSERT(json_is_string(json_object_get(m->header, "msg_id")));
  FUZZ_ASSERT(json_is_string(json_object_get(m->header, "msg_type")));
  FUZZ_ASSERT(json_is_string(json_object_get(m->header, "session")));
  FUZZ_ASSERT(m->n_idents <= SL_WIRE_MAX_IDENTS && m->n_buffers <= SL_WIRE_MAX_BUFFERS);

  /* round trip through a fresh keyed signer */
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 2);
  FUZZ_ASSERT(s);
  sl_frames_t f;
  FUZZ_ASSERT(sl_wire_encode(s, m, &f) == SL_WIRE_OK);
  sl_frame_view_t v[MAX_FRAMES];
  FUZZ_ASSERT(f.n <= MAX_FRAMES);
  for (size_t i = 0; i < f.n; i++) v[i] = (sl_frame_view_t){f.parts[i].data, f.parts[i].len};
  sl_msg_t *d = NULL;
  FUZZ_ASSERT(sl_wire_decode(s, v, f.n, &d) == SL_WIRE_OK);
  FUZZ_ASSERT(json_equal(d->header, m->header) && json_equal(d->parent_header, m->parent_header));
  FUZZ_ASSERT(json_equal(d->metadata, m->metadata) && json_equal(d->content, m->content));
  FUZZ_ASSERT(blobs_equal(d->idents, d->n_idents, m->idents, m->n_idents));
  FUZZ_ASSERT(blobs_equal(d->buffers, d->n_buffers, m->buffers, m->n_buffers));
  sl_msg_free(&d);
  FUZZ_ASSERT(sl_wire_decode(s, v, f.n, &d) == SL_WIRE_E_REPLAY && d == NULL);
  sl_frames_free(&f);
  sl_signer_destroy(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned flags = data[0];
  sl_frame_view_t v[MAX_FRAMES];
  size_t n = 0;
  for (size_t off = 1; off < size && n < MAX_FRAMES;) {
    size_t len = off + 2 <= size ? (size_t)data[off] << 8 | data[off + 1] : 0;
    off += 2;
    if (off > size) off = size;
    if (len > size - off) len = size - off;
    v[n++] = (sl_frame_view_t){data + off, len};
    off += len;
  }

  sl_msg_t *m = NULL;
  sl_signer_t *plain = sl_signer_new("", 0, 4);
  FUZZ_ASSERT(plain);
  sl_wire_err_t e = sl_wire_decode(plain, v, n, &m);
  FUZZ_ASSERT((e == SL_WIRE_OK) == (m != NULL));
  if (m) check_decoded(m);
  sl_msg_free(&m);
  sl_signer_destroy(&plain);

  if (flags & 1) {
    sl_signer_t *keyed = sl_signer_new(KEY, strlen(KEY), 4);
    FUZZ_ASSERT(keyed);
    char hex[65];
    if (flags & 2) {
      for (size_t d = 0; d < n; d++) {
        if (v[d].len == strlen(SL_WIRE_DELIM) && memcmp(v[d].data, SL_WIRE_DELIM, v[d].len) == 0) {
          if (n >= d + 6) {
            sl_wire_hmac_hex_buffers(keyed, &v[d + 2], &v[d + 6], n - d - 6, hex);
            v[d + 1] = (sl_frame_view_t){hex, strlen(hex)};
          }
          break;
        }
      }
    }
    e = sl_wire_decode(keyed, v, n, &m);
    FUZZ_ASSERT((e == SL_WIRE_OK) == (m != NULL));
    if (m) {
      check_decoded(m);
      sl_msg_free(&m);
      FUZZ_ASSERT(sl_wire_decode(keyed, v, n, &m) == SL_WIRE_E_REPLAY && m == NULL);
    }
    sl_signer_destroy(&keyed);
  }
  return 0;
}
