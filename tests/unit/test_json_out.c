/* test_json_out.c — sl_json_escape and sl_json_dumps against jansson's own json_dumps (json_out.h):
 * every byte value that needs escaping, quotes, multi-byte UTF-8, runs cut at every SSE boundary,
 * random valid UTF-8, and whole objects with long members spliced. */
#include "sluice/json_out.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

/* jansson's dump of the string s[0..n) (valid UTF-8), as a NUL-terminated new buffer. */
static char *ref_escape(const char *s, size_t n) {
  json_t *j = json_stringn(s, n);
  char *d = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(j);
  return d;
}

/* 1 when sl_json_escape(s, n) equals jansson's output byte for byte. */
static int same_as_jansson(const char *s, size_t n) {
  char *want = ref_escape(s, n);
  char *got = malloc(sl_json_escape_bound(n));
  if (!want || !got) {
    free(want);
    free(got);
    return 0;
  }
  size_t len = sl_json_escape(s, n, got);
  int ok = len == strlen(want) && memcmp(got, want, len) == 0;
  if (!ok) fprintf(stderr, "  mismatch for %zu bytes: want %s got %.*s\n", n, want, (int)len, got);
  free(want);
  free(got);
  return ok;
}

static void test_every_byte_alone(void) {
  /* every ASCII byte, NUL and DEL included, alone and between plain text */
  for (int c = 0; c < 0x80; c++) {
    char one[1] = {(char)c}, mid[40];
    memset(mid, 'a', sizeof mid);
    mid[17] = (char)c;
    CHECK(same_as_jansson(one, 1));
    CHECK(same_as_jansson(mid, sizeof mid));
  }
}

static void test_fixed_cases(void) {
  static const char *cases[] = {
      "", "plain", "\"", "\\", "\"\\\"", "line\nnext\r\n\ttab", "\b\f\x01\x1f\x7f", "/slash/", "é€😀",
      "\xe2\x80\xa8 U+2028 \xe2\x80\xa9", "日本語テキスト\n", "\xef\xbf\xbd replacement",
      "0123456789abcde\"0123456789abcde\\", /* specials at SSE lane 15 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) CHECK(same_as_jansson(cases[i], strlen(cases[i])));
  CHECK(same_as_jansson("a\0b", 3)); /* an embedded NUL: \u0000 */
}

static void test_special_at_every_offset(void) {
  /* a special byte at every position of buffers around the 16-byte scan width */
  static const char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x00};
  char buf[70];
  for (size_t len = 1; len <= sizeof buf; len++)
    for (size_t at = 0; at < len; at++)
      for (size_t k = 0; k < sizeof specials; k++) {
        memset(buf, 'x', len);
        buf[at] = specials[k];
        if (!same_as_jansson(buf, len)) {
          CHECK(0);
          return;
        }
      }
}

/* Appends one random code point as UTF-8 (weighted towards ASCII and control characters). */
static size_t rand_cp(uint32_t *st, char *o) {
  *st = *st * 1103515245u + 12345u;
  uint32_t r = *st >> 8, kind = r % 8;
  uint32_t cp = kind < 3 ? 0x20 + r % 0x5f : kind == 3 ? r % 0x20 : kind == 4 ? (uint32_t)"\"\\"[r & 1]
              : kind == 5 ? 0x80 + r % 0x780 : kind == 6 ? 0x800 + r % 0xF800 : 0x10000 + r % 0x100000;
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'z';
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static void test_random_utf8(void) {
  uint32_t st = 7;
  char *buf = malloc(20000);
  REQUIRE(buf);
  for (int round = 0; round < 2000; round++) {
    size_t n = 0, want = round < 1900 ? (size_t)(round % 200) : 4000;
    while (n < want) n += rand_cp(&st, buf + n);
    if (!same_as_jansson(buf, n)) {
      CHECK(0);
      break;
    }
  }
  free(buf);
}

static void test_bound(void) {
  CHECK_EQ_INT(sl_json_escape_bound(0), 2);
  CHECK_EQ_INT(sl_json_escape_bound(10), 62);
  CHECK_EQ_INT(sl_json_escape_bound(SIZE_MAX / 2), 0);
  char out[8];
  CHECK_EQ_INT(sl_json_escape("\x01", 1, out), 8); /* the worst case: 6 + 2 */
}

/* sl_json_dumps(o) must equal json_dumps(o, JSON_COMPACT). */
static int dumps_same(json_t *o) {
  char *want = json_dumps(o, JSON_COMPACT);
  size_t len = 0;
  char *got = sl_json_dumps(o, &len);
  int ok = want && got && strcmp(want, got) == 0 && len == strlen(want);
  if (!ok) fprintf(stderr, "  dumps mismatch:\n  want %.200s\n  got  %.200s\n", want, got);
  free(want);
  free(got);
  json_decref(o);
  return ok;
}

static void test_dumps_splices_long_members(void) {
  char *big = malloc(70000);
  REQUIRE(big);
  for (size_t i = 0; i < 70000; i++) big[i] = "ab\"\\\n\x01 é"[i % 9];
  big[69999] = 'z';
  big[69998] = 'y'; /* cut the é at a boundary: keep it whole */
  size_t n = 69990;
  while (n && ((unsigned char)big[n] & 0xC0) == 0x80) n--;
  CHECK(dumps_same(json_pack("{s:s, s:s%, s:I}", "type", "stdout", "text", big, n, "timestamp", (json_int_t)123)));
  char asc[SL_JSON_SPLICE_MIN];
  for (size_t i = 0; i < sizeof asc; i++) asc[i] = "ab\"\\\n\x01 "[i % 7];
  CHECK(dumps_same(json_pack("{s:s%, s:s, s:s%, s:n, s:b, s:f, s:[i,s], s:{s:s}}", "data", big, n, "id", "r1", "t\"k",
                             asc, sizeof asc, "nul", "yes", 1, "real", 0.5, "arr", 1, "x", "o", "k", "v")));
  /* exactly at the threshold and just under it, and keys that need escaping */
  CHECK(dumps_same(json_pack("{s:s%}", "k\n\"", asc, sizeof asc)));
  CHECK(dumps_same(json_pack("{s:s%}", "k", asc, sizeof asc - 1)));
  /* not objects, empty and small objects: plain jansson */
  CHECK(dumps_same(json_pack("{}")));
  CHECK(dumps_same(json_pack("[s%]", big, n)));
  CHECK(dumps_same(json_pack("{s:i}", "a", 1)));
  free(big);
}

int main(void) {
  SL_RUN(test_every_byte_alone);
  SL_RUN(test_fixed_cases);
  SL_RUN(test_special_at_every_offset);
  SL_RUN(test_random_utf8);
  SL_RUN(test_bound);
  SL_RUN(test_dumps_splices_long_members);
  return sl_test_summary();
}
