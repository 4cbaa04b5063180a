/* test_util.c — UTF-8 repair, stream prefix splitting, constant-time compare (protocol/src/util.c). */
#include "sluice/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

/* An independent reference: well-formed UTF-8 byte sequences per Unicode 15 §3.9 Table 3-7, written
 * as byte ranges (not by decoding), and without NUL (which JSON strings cannot carry raw). Returns the
 * length of the sequence at s, or 0. */
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

/* Sanitises in and checks the three properties every output must have. Returns 1 when all hold. */
static int sanitize_ok(const unsigned char *in, size_t len) {
  /* the fast validator agrees with the reference on the longest valid prefix */
  size_t ref = 0;
  for (size_t n; ref < len && (n = ref_seq(in + ref, len - ref)) != 0;) ref += n;
  if (sl_utf8_valid_prefix((const char *)in, len) != ref) return 0;
  size_t olen = (size_t)-1;
  char *out = sl_utf8_sanitize((const char *)in, len, &olen);
  if (!out) return 0;
  int ok = ref_valid((unsigned char *)out, olen) && out[olen] == 0 && olen <= 3 * len;
  if (ref_valid(in, len)) ok = ok && olen == len && memcmp(out, in, len) == 0; /* valid: untouched */
  else ok = ok && (olen != len || memcmp(out, in, len) != 0);                 /* invalid: changed */
  free(out);
  return ok;
}

static char *san(const char *in, size_t len, size_t *olen) { return sl_utf8_sanitize(in, len, olen); }

#define FFFD "\xEF\xBF\xBD"

static void expect(const char *in, size_t len, const char *want) {
  size_t olen;
  char *out = san(in, len, &olen);
  CHECK(out != NULL);
  if (!out) return;
  CHECK_EQ_INT(olen, strlen(want));
  CHECK(olen == strlen(want) && memcmp(out, want, olen) == 0);
  free(out);
}

static void test_sanitize_examples(void) {
  expect("", 0, "");
  expect("hello, world\n", 13, "hello, world\n");
  expect("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  expect("\xF4\x8F\xBF\xBF", 4, "\xF4\x8F\xBF\xBF");                 /* U+10FFFF */
  expect("\xEF\xBF\xBD", 3, FFFD);                                    /* U+FFFD itself */
  expect("a\0b", 3, "a" FFFD "b");                                    /* NUL */
  expect("\xC0\x80", 2, FFFD FFFD);                                   /* overlong NUL */
  expect("\xC1\xBF", 2, FFFD FFFD);                                   /* overlong 2-byte */
  expect("\xE0\x80\xAF", 3, FFFD FFFD FFFD);                          /* overlong '/' */
  expect("\xF0\x80\x80\xAF", 4, FFFD FFFD FFFD FFFD);                 /* overlong '/' */
  expect("\xED\xA0\x80", 3, FFFD FFFD FFFD);                          /* surrogate U+D800 */
  expect("\xED\xBF\xBF", 3, FFFD FFFD FFFD);                          /* surrogate U+DFFF */
  expect("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);                 /* > U+10FFFF */
  expect("\xF5\x80\x80\x80", 4, FFFD FFFD FFFD FFFD);
  expect("\xF8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD);        /* 5-byte form */
  expect("\xFF\xFE", 2, FFFD FFFD);
  expect("\x80", 1, FFFD);                                            /* lone continuation */
  expect("x\xE2\x82", 3, "x" FFFD FFFD);                              /* truncated at the end */
  expect("\xE2\x82x", 3, FFFD FFFD "x");                              /* truncated in the middle */
  expect("\xC3", 1, FFFD);
  /* outlen may be NULL */
  char *o = san("ok", 2, NULL);
  CHECK(o && strcmp(o, "ok") == 0);
  free(o);
  /* NULL input with length 0 */
  o = san(NULL, 0, NULL);
  CHECK(o && o[0] == 0);
  free(o);
}

/* Every 1- and 2-byte string, every 3-byte string, and 4-byte strings over the interesting bytes. */
static void test_sanitize_exhaustive(void) {
  unsigned char b[4];
  int bad = 0;
  for (unsigned x = 0; x < 256; x++) {
    b[0] = (unsigned char)x;
    bad += !sanitize_ok(b, 1);
    for (unsigned y = 0; y < 256; y++) {
      b[1] = (unsigned char)y;
      bad += !sanitize_ok(b, 2);
    }
  }
  for (unsigned v = 0; v < (1u << 24); v++) {
    b[0] = (unsigned char)(v >> 16);
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)v;
    /* every string with a multi-byte lead (0xC0..0xFF); for ASCII/continuation leads, whose first
     * byte is decided alone and whose tail the 2-byte loop covered, one in 1024 keeps ASan fast */
    if (b[0] < 0xC0 && (v & 0x3FF) != 0) continue;
    bad += !sanitize_ok(b, 3);
  }
  static const unsigned char pick[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
  for (unsigned lead = 0xE0; lead <= 0xFF; lead++)
    for (size_t i = 0; i < sizeof pick; i++)
      for (size_t j = 0; j < sizeof pick; j++)
        for (size_t k = 0; k < sizeof pick; k++) {
          unsigned char q[4] = {(unsigned char)lead, pick[i], pick[j], pick[k]};
          bad += !sanitize_ok(q, 4);
        }
  CHECK_EQ_INT(bad, 0);
}

static void test_sanitize_random(void) {
  uint32_t seed = 7;
  unsigned char buf[64];
  int bad = 0;
  for (int it = 0; it < 200000; it++) {
    size_t len = (seed = seed * 1664525u + 1013904223u) >> 26; /* 0..63 */
    for (size_t i = 0; i < len; i++) {
      seed = seed * 1664525u + 1013904223u;
      /* bias towards UTF-8-ish bytes so valid sequences occur */
      unsigned r = seed >> 24;
      buf[i] = (unsigned char)(r < 96 ? 0x20 + r % 0x5F : r < 192 ? 0x80 + r % 0x40 : r);
    }
    bad += !sanitize_ok(buf, len);
  }
  CHECK_EQ_INT(bad, 0);
}

static void test_valid_prefix(void) {
  char buf[40];
  memset(buf, 'a', sizeof buf);
  CHECK_EQ_INT(sl_utf8_valid_prefix(buf, sizeof buf), sizeof buf);
  CHECK_EQ_INT(sl_utf8_valid_prefix(buf, 0), 0);
  /* a NUL or an invalid byte at every offset (ASCII words on both sides) stops the prefix there */
  for (size_t at = 0; at < sizeof buf; at++) {
    memset(buf, 'a', sizeof buf);
    buf[at] = 0;
    CHECK_EQ_INT(sl_utf8_valid_prefix(buf, sizeof buf), at);
    buf[at] = (char)0xFF;
    CHECK_EQ_INT(sl_utf8_valid_prefix(buf, sizeof buf), at);
    buf[at] = (char)0x80;
    CHECK_EQ_INT(sl_utf8_valid_prefix(buf, sizeof buf), at);
  }
  const char *mixed = "abcdefgh\xC3\xA9ijklmnop\xE2\x82\xAC\xF0\x9F\x98\x80qrstuvwxyz";
  CHECK_EQ_INT(sl_utf8_valid_prefix(mixed, strlen(mixed)), strlen(mixed));
  CHECK_EQ_INT(sl_utf8_valid_prefix(mixed, 9), 8); /* cut inside é */
}

static void test_complete_prefix(void) {
  CHECK_EQ_INT(sl_utf8_complete_prefix("", 0), 0);
  CHECK_EQ_INT(sl_utf8_complete_prefix("abc", 3), 3);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xC3", 2), 1);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xC3\xA9", 3), 3);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xE2", 2), 1);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xE2\x82", 3), 1);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xE2\x82\xAC", 4), 4);
  CHECK_EQ_INT(sl_utf8_complete_prefix("\xF0", 1), 0);
  CHECK_EQ_INT(sl_utf8_complete_prefix("\xF0\x9F", 2), 0);
  CHECK_EQ_INT(sl_utf8_complete_prefix("\xF0\x9F\x98", 3), 0);
  CHECK_EQ_INT(sl_utf8_complete_prefix("\xF0\x9F\x98\x80", 4), 4);
  CHECK_EQ_INT(sl_utf8_complete_prefix("ab\xF0\x9F\x98\x80", 6), 6);
  /* garbage is not held back (the sanitizer deals with it); at most 3 bytes are ever held */
  CHECK_EQ_INT(sl_utf8_complete_prefix("\x80", 1), 1);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\x80\x80\x80\x80", 5), 5);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xFF", 2), 2);
  CHECK_EQ_INT(sl_utf8_complete_prefix("a\xC3\xA9\xA9", 4), 4);
  uint32_t seed = 99;
  for (int it = 0; it < 100000; it++) {
    unsigned char b[8];
    size_t len = (seed = seed * 1664525u + 1013904223u) >> 29;
    for (size_t i = 0; i < len; i++) b[i] = (unsigned char)((seed = seed * 1664525u + 1013904223u) >> 24);
    size_t p = sl_utf8_complete_prefix((char *)b, len);
    CHECK(p <= len && len - p <= 3);
  }
}

/* The way the runner uses the pair: read in arbitrary chunks, emit the complete prefix sanitised, keep
 * the rest for the next read. Valid text must come out unchanged wherever the chunks split it. */
static void test_stream_reassembly(void) {
  const char *text = "plain ascii, caf\xC3\xA9, \xE2\x82\xAC 100, \xF0\x9F\x98\x80 \xF0\x9F\x8E\x89 end\n"
                     "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE4\xBD\xA0\xE5\xA5\xBD \xF4\x8F\xBF\xBF";
  size_t tlen = strlen(text);
  int bad = 0;
  for (size_t chunk = 1; chunk <= 7; chunk++) {
    char out[512], carry[8];
    size_t olen = 0, ncarry = 0;
    for (size_t off = 0; off < tlen; off += chunk) {
      size_t n = off + chunk <= tlen ? chunk : tlen - off;
      char buf[16];
      memcpy(buf, carry, ncarry);
      memcpy(buf + ncarry, text + off, n);
      size_t total = ncarry + n, p = sl_utf8_complete_prefix(buf, total);
      size_t sl;
      char *s = sl_utf8_sanitize(buf, p, &sl);
      if (!s || olen + sl > sizeof out) {
        bad++;
        free(s);
        break;
      }
      memcpy(out + olen, s, sl);
      olen += sl;
      free(s);
      ncarry = total - p;
      memcpy(carry, buf + p, ncarry);
    }
    bad += ncarry != 0 || olen != tlen || memcmp(out, text, tlen) != 0;
  }
  CHECK_EQ_INT(bad, 0);
}

static void test_base64(void) {
  /* RFC 4648 §10 */
  static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  char out[64];
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    CHECK_EQ_INT(sl_base64_encode(in[i], strlen(in[i]), out), strlen(want[i]));
    CHECK_STREQ(out, want[i]);
    CHECK_EQ_INT(SL_BASE64_LEN(strlen(in[i])), strlen(want[i]));
  }
  const unsigned char bin[] = {0x00, 0xff, 0xfe, 0x1b, 0x5b};
  CHECK_EQ_INT(sl_base64_encode(bin, sizeof bin, out), 8);
  CHECK_STREQ(out, "AP/+G1s=");
}

static void test_ct_equal(void) {
  CHECK(sl_ct_equal("abc", "abc", 3));
  CHECK(!sl_ct_equal("abc", "abd", 3));
  CHECK(!sl_ct_equal("xbc", "abc", 3));
  CHECK(sl_ct_equal("abc", "abd", 2));
  CHECK(sl_ct_equal("", "", 0));
  unsigned char a[64], b[64];
  for (int i = 0; i < 64; i++) a[i] = b[i] = (unsigned char)i;
  CHECK(sl_ct_equal(a, b, 64));
  for (int i = 0; i < 64; i++) {
    b[i] ^= 0x80;
    CHECK(!sl_ct_equal(a, b, 64));
    b[i] ^= 0x80;
  }
}

int main(void) {
  SL_RUN(test_sanitize_examples);
  SL_RUN(test_sanitize_exhaustive);
  SL_RUN(test_sanitize_random);
  SL_RUN(test_valid_prefix);
  SL_RUN(test_complete_prefix);
  SL_RUN(test_base64);
  SL_RUN(test_stream_reassembly);
  SL_RUN(test_ct_equal);
  return sl_test_summary();
}
