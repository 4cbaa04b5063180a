/* fuzz_multipart.c — the streaming multipart/form-data parser (protocol/src/multipart.c).
 * Input: byte 0 picks a split point, byte 1 the data limit (1..256), then a Content-Type line up to
 * '\n', then the body. Invariants: the boundary parser never overruns and yields a valid boundary;
 * sl_mp_next never consumes more than it was given, never returns NEED_MORE with input left, never
 * emits empty or over-limit data, and feeding the body in two pieces (split anywhere) or byte by byte
 * gives the same events, names and data as feeding it whole; any filename it reports is a safe single
 * path component. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/multipart.h"

typedef struct {
  unsigned char *b;
  size_t len, cap;
} tr_t;

static void put(tr_t *t, const void *d, size_t n) {
  if (t->len + n > t->cap) {
    t->cap = (t->len + n) * 2 + 64;
    t->b = realloc(t->b, t->cap);
    FUZZ_ASSERT(t->b);
  }
  memcpy(t->b + t->len, d, n);
  t->len += n;
}

static int feed(sl_mp_t *p, tr_t *t, const unsigned char *in, size_t len, size_t maxd) {
  for (;;) {
    size_t used;
    const unsigned char *d;
    size_t dl;
    sl_mp_event_t ev = sl_mp_next(p, in, len, &used, maxd, &d, &dl);
    FUZZ_ASSERT(used <= len);
    in += used;
    len -= used;
    unsigned char tag = (unsigned char)ev;
    switch (ev) {
      case SL_MP_NEED_MORE: FUZZ_ASSERT(len == 0); return 0;
      case SL_MP_PART_BEGIN: {
        const char *n = sl_mp_name(p), *f = sl_mp_filename(p);
        FUZZ_ASSERT(n && *n && strlen(n) <= SL_MP_MAX_NAME);
        FUZZ_ASSERT(!f || sl_mp_filename_ok(f, strlen(f)));
        put(t, &tag, 1);
        put(t, n, strlen(n) + 1);
        if (f) put(t, f, strlen(f));
        put(t, "", 1);
        break;
      }
      case SL_MP_PART_DATA:
        FUZZ_ASSERT(d && dl > 0 && dl <= maxd);
        put(t, d, dl); /* data concatenates: no tag, so splits of data compare equal */
        break;
      case SL_MP_PART_END:
      case SL_MP_DONE: put(t, "\xff", 1); put(t, &tag, 1); break;
      case SL_MP_ERROR:
        FUZZ_ASSERT(sl_mp_errcode(p) != SL_MP_OK && *sl_mp_error(p));
        put(t, "\xff", 1);
        put(t, &tag, 1);
        tag = (unsigned char)sl_mp_errcode(p);
        put(t, &tag, 1);
        return 1;
    }
  }
}

static tr_t run(const char *boundary, const unsigned char *body, size_t len, size_t split, size_t maxd, int bytewise) {
  tr_t t = {0};
  sl_mp_t *p = sl_mp_new(boundary);
  FUZZ_ASSERT(p);
  int st = 0;
  if (bytewise) {
    for (size_t i = 0; i < len && !st; i++) st = feed(p, &t, body + i, 1, maxd);
  } else {
    st = feed(p, &t, body, split, maxd);
    if (!st) st = feed(p, &t, body + split, len - split, maxd);
  }
  if (!st) {
    unsigned char fin = sl_mp_finish(p) == 0 ? 'F' : (unsigned char)('f' + sl_mp_errcode(p));
    put(&t, &fin, 1);
  }
  sl_mp_free(p);
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t splitb = data[0], maxd = (size_t)data[1] + 1;
  data += 2;
  size -= 2;
  const uint8_t *nl = memchr(data, '\n', size);
  size_t ctlen = nl ? (size_t)(nl - data) : size;
  if (ctlen > 4096) return 0;
  char ct[4097], b[SL_MP_MAX_BOUNDARY + 1];
  memcpy(ct, data, ctlen);
  ct[ctlen] = 0;
  int bl = sl_mp_boundary_from_content_type(ct, b, sizeof b);
  if (bl < 0) {
    if (!nl) return 0;
    strcpy(b, "b0undary"); /* still parse the body */
    bl = 8;
  }
  FUZZ_ASSERT((size_t)bl == strlen(b) && bl > 0 && bl <= SL_MP_MAX_BOUNDARY);
  if (!nl) return 0;
  const unsigned char *body = nl + 1;
  size_t len = size - ctlen - 1;
  size_t split = len * splitb / 255;
  tr_t whole = run(b, body, len, len, 1 << 20, 0);
  tr_t two = run(b, body, len, split, maxd, 0);
  FUZZ_ASSERT(two.len == whole.len && memcmp(two.b, whole.b, whole.len) == 0);
  if (len <= 4096) {
    tr_t bytes = run(b, body, len, 0, maxd, 1);
    FUZZ_ASSERT(bytes.len == whole.len && memcmp(bytes.b, whole.b, whole.len) == 0);
    free(bytes.b);
  }
  free(whole.b);
  free(two.b);
  return 0;
}
