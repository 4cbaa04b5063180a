/* fuzz_utf8.c — sl_utf8_sanitize and sl_utf8_complete_prefix on arbitrary bytes.
 * Invariants: the output is well-formed UTF-8 without NUL (checked by an independent range-table
 * validator, Unicode §3.9 Table 3-7), valid NUL-free input comes back unchanged, the output is at
 * most 3× the input, sanitising is idempotent, and the prefix ends exactly at the last character
 * boundary of valid text (at most 3 bytes held back of anything). sl_utf8_valid_prefix equals the
 * reference's longest valid prefix. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/util.h"

static size_t ref_seq(const unsigned char *s, size_t len) {
  static const struct {
    unsigned char lo[4], hi[4];
    size_t n;
  } T[] = {
      {{0x01}, {0x7F}, 1},
      {{0xC2, 0x80}, {0xDF, 0xBF}, 2},
      {{0xE0, 0xA0, 0x80}, {0xE0, 0xBF, 0xBF}, 3},
      {{0xE1, 0x80, 0x80}, {0xEC, 0xBF, 0xBF}, 3},
      {{0xED, 0x80, 0x80}, {0xED, 0x9F, 0xBF}, 3},
      {{0xEE, 0x80, 0x80}, {0xEF, 0xBF, 0xBF}, 3},
      {{0xF0, 0x90, 0x80, 0x80}, {0xF0, 0xBF, 0xBF, 0xBF}, 4},
      {{0xF1, 0x80, 0x80, 0x80}, {0xF3, 0xBF, 0xBF, 0xBF}, 4},
      {{0xF4, 0x80, 0x80, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}, 4},
  };
  for (size_t r = 0; r < sizeof T / sizeof *T; r++) {
    if (len < T[r].n) continue;
    size_t i = 0;
    while (i < T[r].n && s[i] >= T[r].lo[i] && s[i] <= T[r].hi[i]) i++;
    if (i == T[r].n) return T[r].n;
  }
  return 0;
}

static int ref_valid(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    size_t n = ref_seq(s + i, len - i);
    if (!n) return 0;
    i += n;
  }
  return 1;
}

/* Length of the longest valid NUL-free prefix, by the reference tables. */
static size_t ref_prefix(const unsigned char *s, size_t len) {
  size_t i = 0;
  for (size_t n; i < len && (n = ref_seq(s + i, len - i)) != 0;) i += n;
  return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the fast validator agrees with the reference, from every start offset (the 8-byte ASCII path
   * sees every alignment) */
  for (size_t off = 0; off < size && off < 16; off++)
    FUZZ_ASSERT(sl_utf8_valid_prefix((const char *)data + off, size - off) == ref_prefix(data + off, size - off));
  size_t olen = 0;
  char *out = sl_utf8_sanitize((const char *)data, size, &olen);
  FUZZ_ASSERT(out);
  FUZZ_ASSERT(olen <= 3 * size && out[olen] == 0);
  FUZZ_ASSERT(ref_valid((const unsigned char *)out, olen));
  if (ref_valid(data, size)) FUZZ_ASSERT(olen == size && memcmp(out, data, size) == 0);
  /* idempotent */
  size_t o2;
  char *again = sl_utf8_sanitize(out, olen, &o2);
  FUZZ_ASSERT(again && o2 == olen && memcmp(again, out, olen) == 0);
  free(again);

  /* cut the (now valid) text anywhere: the prefix ends at the last character boundary, so a stream
   * reader never emits half a character and never holds back a whole one */
  if (olen <= 512) {
    const unsigned char *u = (const unsigned char *)out;
    for (size_t c = 0; c <= olen; c++) {
      size_t b = c;
      while (b > 0 && b < olen && (u[b] & 0xC0) == 0x80) b--;
      FUZZ_ASSERT(sl_utf8_complete_prefix(out, c) == b);
    }
  }
  free(out);

  size_t p = sl_utf8_complete_prefix((const char *)data, size);
  FUZZ_ASSERT(p <= size && size - p <= 3);
  if (ref_valid(data, size)) FUZZ_ASSERT(p == size);
  return 0;
}
