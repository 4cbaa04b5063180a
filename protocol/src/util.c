/* util.c — UTF-8 repair for stream text, base64, constant-time compare. */
#include "sluice/util.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid (overlong, surrogate, > U+10FFFF,
 * truncated, or NUL). */
static size_t utf8_seq(const unsigned char *s, size_t len) {
  unsigned char c = s[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (len < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

size_t sl_utf8_valid_prefix(const char *in, size_t len) {
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0;
  while (i < len) {
    /* ASCII fast path: no byte with the high bit set and no zero byte; 32 bytes per step with SSE2,
     * then 8 at a time ((w - 0x01..) & ~w has a byte's high bit set exactly when a byte of w is 0) */
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    while (len - i >= 32) {
      __m128i a = _mm_loadu_si128((const __m128i *)(s + i)), b = _mm_loadu_si128((const __m128i *)(s + i + 16));
      __m128i bad = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(_mm_cmpeq_epi8(a, zero), _mm_cmpeq_epi8(b, zero)));
      if (_mm_movemask_epi8(bad)) break;
      i += 32;
    }
#endif
    while (len - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if ((w | ((w - 0x0101010101010101ull) & ~w)) & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i == len) break;
    size_t n = utf8_seq(s + i, len - i);
    if (!n) break;
    i += n;
  }
  return i;
}

char *sl_utf8_sanitize(const char *in, size_t len, size_t *outlen) {
  /* worst case: every byte becomes the 3-byte U+FFFD */
  if (len > (SIZE_MAX - 1) / 3) return NULL;
  size_t ok = sl_utf8_valid_prefix(in, len);
  char *out = malloc(ok == len ? len + 1 : len * 3 + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0;;) {
    if (ok) memcpy(out + o, in + i, ok); /* the valid run */
    o += ok;
    i += ok;
    if (i == len) break;
    memcpy(out + o, "\xEF\xBF\xBD", 3); /* one invalid byte */
    o += 3;
    i += 1;
    ok = sl_utf8_valid_prefix(in + i, len - i);
  }
  out[o] = 0;
  if (outlen) *outlen = o;
  return out;
}

size_t sl_utf8_complete_prefix(const char *buf, size_t len) {
  const unsigned char *s = (const unsigned char *)buf;
  /* look back at most 3 bytes for the start of a multi-byte sequence that is cut short */
  for (size_t back = 1; back <= 3 && back <= len; back++) {
    unsigned char c = s[len - back];
    if ((c & 0xC0) == 0x80) continue; /* continuation byte: keep looking for the lead */
    size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? len - back : len;
  }
  return len;
}

int sl_ct_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

size_t sl_base64_encode(const void *in, size_t len, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *s = in;
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    out[o++] = A[v >> 18];
    out[o++] = A[(v >> 12) & 63];
    out[o++] = A[(v >> 6) & 63];
    out[o++] = A[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
    out[o++] = A[v >> 18];
    out[o++] = A[(v >> 12) & 63];
    out[o++] = i + 1 < len ? A[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  out[o] = 0;
  return o;
}
