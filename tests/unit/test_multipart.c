/* test_multipart.c — the streaming multipart/form-data parser (protocol/src/multipart.c).
 *
 * Every input is parsed whole, byte by byte, split at every byte boundary, and with several data
 * limits; each way must give the same transcript (events, names, concatenated data) as the expected
 * one, which proves the parser does not depend on how the body arrives. */
#include "sluice/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

typedef struct {
  unsigned char *b;
  size_t len, cap;
} buf_t;

static void put(buf_t *t, const void *d, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->b = realloc(t->b, t->cap);
  }
  memcpy(t->b + t->len, d, n);
  t->len += n;
  t->b[t->len] = 0;
}

static void puts_(buf_t *t, const char *s) { put(t, s, strlen(s)); }

/* Feeds in[0..len) and appends the events to t; returns 0, or 1 once an error ended the parse. */
static int feed(sl_mp_t *p, buf_t *t, const unsigned char *in, size_t len, size_t maxd) {
  char tmp[SL_MP_MAX_NAME * 2 + 64];
  for (long guard = 0; guard < 100000000; guard++) {
    size_t used = 99999;
    const unsigned char *d;
    size_t dl;
    sl_mp_event_t ev = sl_mp_next(p, in, len, &used, maxd, &d, &dl);
    if (used > len) {
      puts_(t, "[OVERRUN]");
      return 1;
    }
    in += used;
    len -= used;
    switch (ev) {
      case SL_MP_NEED_MORE:
        if (len) puts_(t, "[LEFTOVER]");
        return 0;
      case SL_MP_PART_BEGIN:
        snprintf(tmp, sizeof(tmp), "[B %s|%s]", sl_mp_name(p), sl_mp_filename(p) ? sl_mp_filename(p) : "-");
        puts_(t, tmp);
        break;
      case SL_MP_PART_DATA:
        if (dl == 0 || dl > (maxd ? maxd : 1)) puts_(t, "[BADLEN]");
        put(t, d, dl);
        break;
      case SL_MP_PART_END: puts_(t, "[E]"); break;
      case SL_MP_DONE: puts_(t, "[Z]"); break;
      case SL_MP_ERROR:
        snprintf(tmp, sizeof(tmp), "[X%d]", (int)sl_mp_errcode(p));
        puts_(t, tmp);
        return 1;
    }
  }
  puts_(t, "[LOOP]");
  return 1;
}

static void finish(sl_mp_t *p, buf_t *t, int stopped) {
  if (stopped) return;
  if (sl_mp_finish(p) < 0) {
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "[F%d]", (int)sl_mp_errcode(p));
    puts_(t, tmp);
  }
}

/* Checks every way of feeding `in` against `want`. */
static int check_all(const char *boundary, const void *inv, size_t len, const void *want, size_t wlen) {
  const unsigned char *in = inv;
  static const size_t MAXD[] = {1, 3, 64, 1 << 20};
  int bad = 0;
  for (size_t m = 0; m < sizeof MAXD / sizeof *MAXD; m++) {
    for (size_t k = 0; k <= len; k++) { /* split at k */
      buf_t t = {0};
      sl_mp_t *p = sl_mp_new(boundary);
      if (!p) return 0;
      int st = feed(p, &t, in, k, MAXD[m]);
      if (!st) st = feed(p, &t, in + k, len - k, MAXD[m]);
      finish(p, &t, st);
      if (t.len != wlen || memcmp(t.b, want, wlen) != 0) {
        if (!bad)
          fprintf(stderr, "  maxd=%zu split=%zu got (%zu) \"%.*s\"\n  want (%zu) \"%.*s\"\n", MAXD[m], k, t.len,
                  (int)t.len, t.b ? (char *)t.b : "", wlen, (int)wlen, (const char *)want);
        bad = 1;
      }
      free(t.b);
      sl_mp_free(p);
    }
    /* byte by byte */
    buf_t t = {0};
    sl_mp_t *p = sl_mp_new(boundary);
    int st = 0;
    for (size_t i = 0; i < len && !st; i++) st = feed(p, &t, in + i, 1, MAXD[m]);
    finish(p, &t, st);
    if (t.len != wlen || memcmp(t.b, want, wlen) != 0) bad = 1;
    free(t.b);
    sl_mp_free(p);
  }
  return !bad;
}

#define CHECK_MP(b, in, want) CHECK(check_all(b, in, sizeof(in) - 1, want, sizeof(want) - 1))

static void test_basic_parts(void) {
  CHECK_MP("XyZ",
           "--XyZ\r\n"
           "Content-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\n"
           "hello\r\nworld\r\n"
           "--XyZ\r\n"
           "content-disposition: FORM-DATA;name=field\r\n\r\n"
           "v\r\n"
           "--XyZ\r\n"
           "Content-Disposition: form-data; filename=\"b c.bin\" ; name=\"file\"\r\n\r\n"
           "\r\n--XyQ\r\r\n--X\r\n-\r\r\n--Xy"
           "\r\n--XyZ--\r\n",
           "[B files|a.txt]hello\r\nworld[E][B field|-]v[E][B file|b c.bin]\r\n--XyQ\r\r\n--X\r\n-\r\r\n--Xy[E][Z]");
}

static void test_preamble_epilogue_padding_empty(void) {
  CHECK_MP("b", "preamble\r\n--b \t\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--b--epilogue --b\r\n",
           "[B x|-][E][Z]");
  CHECK_MP("b", "--b--", "[Z]");
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"; filename=\"\\\\x\"\r\n\r\n",
           "[X7]"); /* a\"q is a fine name, but \x unescaped to \\x holds a backslash */
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"\r\n\r\nd\r\n--b--",
           "[B a\"q|-]d[E][Z]");
}

static void test_binary_all_bytes(void) {
  unsigned char body[1024], want[1024];
  size_t n = 0, w = 0;
  const char *h = "--bb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"all\"\r\n\r\n";
  memcpy(body, h, strlen(h));
  n = strlen(h);
  for (int i = 0; i < 256; i++) body[n++] = (unsigned char)i;
  memcpy(body + n, "\r\n--bb--", 8);
  n += 8;
  const char *bw = "[B file|all]";
  memcpy(want, bw, strlen(bw));
  w = strlen(bw);
  for (int i = 0; i < 256; i++) want[w++] = (unsigned char)i;
  memcpy(want + w, "[E][Z]", 6);
  w += 6;
  CHECK(check_all("bb", body, n, want, w));
}

static void test_bad_filenames(void) {
  const char *names[] = {"../x", "a/b", "..", ".", "", "a\\\\b", "x\ty", "/etc/passwd", "..\\\\..\\\\w"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char in[512];
    int n = snprintf(in, sizeof(in), "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n\r\nx\r\n--b--",
                     names[i]);
    char want[16];
    snprintf(want, sizeof(want), "[X%d]", SL_MP_E_FILENAME);
    CHECK(check_all("b", in, (size_t)n, want, strlen(want)));
  }
  char longname[400];
  memset(longname, 'n', 256);
  longname[256] = 0;
  char in[600];
  int n = snprintf(in, sizeof(in), "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%s\"\r\n\r\n--b--", longname);
  CHECK(check_all("b", in, (size_t)n, "[X7]", 4));
  CHECK(sl_mp_filename_ok("..a", 3) && sl_mp_filename_ok("a..", 3) && sl_mp_filename_ok("\xc3\xa9", 2));
  CHECK(!sl_mp_filename_ok("a\x7f", 2));
}

static void test_malformed(void) {
  CHECK_MP("b", "no boundary here at all", "[F8]");
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata without end", "[B f|-]data without end[F8]");
  CHECK_MP("b", "--bX\r\n", "[X2]");                                      /* junk after a boundary */
  CHECK_MP("b", "--b\r\nContent-Type: text/plain\r\n\r\nx", "[X6]");       /* no disposition */
  CHECK_MP("b", "--b\r\nContent-Disposition: attachment; name=f\r\n\r\n", "[X6]");
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; filename=f\r\n\r\n", "[X6]"); /* no name */
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\n", "[X6]");   /* open quote */
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n", "[X6]");
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n", "[X2]"); /* bare LF */
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=a\rX\r\n\r\n", "[X2]");    /* bare CR */
  CHECK_MP("b", "--b\r\nNoColon\r\n\r\n", "[X2]");
  CHECK_MP("b", "--b\r\n folded: x\r\n\r\n", "[X2]");
  CHECK_MP("b", "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=a\r\n\r\n", "[X6]");
  CHECK_MP("b", "--b-x", "[X2]");
  /* a long preamble without boundary */
  size_t n = SL_MP_MAX_PREAMBLE + 200;
  char *big = malloc(n);
  memset(big, 'p', n);
  buf_t t = {0};
  sl_mp_t *p = sl_mp_new("b");
  int st = feed(p, &t, (unsigned char *)big, n, 100);
  finish(p, &t, st);
  CHECK(t.len == 4 && memcmp(t.b, "[X1]", 4) == 0);
  free(t.b);
  sl_mp_free(p);
  free(big);
}

static void test_bounds(void) {
  /* a header line over the limit */
  char *in = malloc(SL_MP_MAX_HEADER_LINE + 64);
  int n = sprintf(in, "--b\r\nX: ");
  memset(in + n, 'a', SL_MP_MAX_HEADER_LINE);
  n += SL_MP_MAX_HEADER_LINE;
  buf_t t = {0};
  sl_mp_t *p = sl_mp_new("b");
  feed(p, &t, (unsigned char *)in, (size_t)n, 10);
  CHECK(t.len == 4 && memcmp(t.b, "[X3]", 4) == 0);
  free(t.b);
  sl_mp_free(p);
  free(in);
  /* too many header lines */
  char hdrs[2048];
  n = sprintf(hdrs, "--b\r\n");
  for (int i = 0; i <= SL_MP_MAX_HEADERS; i++) n += sprintf(hdrs + n, "X-%d: y\r\n", i);
  CHECK(check_all("b", hdrs, (size_t)n, "[X4]", 4));
  /* too many parts: SL_MP_MAX_PARTS are fine, one more is not */
  size_t cap = (SL_MP_MAX_PARTS + 2) * 64;
  char *many = malloc(cap);
  size_t m = 0;
  for (int i = 0; i <= SL_MP_MAX_PARTS; i++)
    m += (size_t)sprintf(many + m, "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n");
  t = (buf_t){0};
  p = sl_mp_new("b");
  feed(p, &t, (unsigned char *)many, m, 100);
  CHECK(t.len > 4 && memcmp(t.b + t.len - 4, "[X5]", 4) == 0);
  CHECK_EQ_INT(sl_mp_parts(p), SL_MP_MAX_PARTS + 1);
  free(t.b);
  sl_mp_free(p);
  free(many);
}

static void test_content_type(void) {
  char b[SL_MP_MAX_BOUNDARY + 1];
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/form-data; boundary=abc", b, sizeof b), 3);
  CHECK_STREQ(b, "abc");
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b:c\"", b, sizeof b), 5);
  CHECK_STREQ(b, "a b:c");
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/form-data", b, sizeof b), -1);
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/mixed; boundary=x", b, sizeof b), -1);
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("application/json", b, sizeof b), -1);
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/form-data; boundary=", b, sizeof b), -1);
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/form-data; boundary=\"a\r\"", b, sizeof b), -1);
  CHECK_EQ_INT(sl_mp_boundary_from_content_type("multipart/form-data; boundary=a; boundary=b", b, sizeof b), -1);
  char longb[200];
  strcpy(longb, "multipart/form-data; boundary=");
  memset(longb + strlen(longb), 'x', 71);
  longb[30 + 71] = 0;
  CHECK_EQ_INT(sl_mp_boundary_from_content_type(longb, b, sizeof b), -1);
  CHECK(sl_mp_new("") == NULL && sl_mp_new("a\r") == NULL && sl_mp_new("trailing ") == NULL);
}

int main(void) {
  SL_RUN(test_basic_parts);
  SL_RUN(test_preamble_epilogue_padding_empty);
  SL_RUN(test_binary_all_bytes);
  SL_RUN(test_bad_filenames);
  SL_RUN(test_malformed);
  SL_RUN(test_bounds);
  SL_RUN(test_content_type);
  return sl_test_summary();
}
