/* test_wire.c — Jupyter wire framing, HMAC-SHA256 signatures and replay refusal (protocol/src/wire.c). */
#include "sluice/wire.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

#define KEY "sluice-test-key-0123456789abcdef"

static sl_frame_view_t V(const char *s) { return (sl_frame_view_t){s, strlen(s)}; }

/* Golden vectors. The expected hex values were computed once with /usr/bin/python3's hmac module:
 *   m = hmac.new(key, digestmod=hashlib.sha256); for p in parts: m.update(p); m.hexdigest()
 * and are stored here as literals, so this test needs no Python. */
static const char GOLDEN_HEADER[] =
    "{\"msg_id\":\"a1\",\"session\":\"s1\",\"username\":\"sluice\",\"date\":\"2026-01-01T00:00:00.000000Z\","
    "\"msg_type\":\"execute_request\",\"version\":\"5.3\"}";
static const char GOLDEN_CONTENT[] = "{\"code\":\"print(1)\"}";
static const char GOLDEN_SIG[] = "b0428794ec30303d4b674a8aad09e628f41e879d9b5254a10586aea65200a206";

/* Sluice's extension: the buffers a\0b\0c and "" after the golden dicts, each as an 8-byte big-endian
 * length and its bytes (python: m.update(struct.pack(">Q", len(b))); m.update(b)). */
static const char GOLDEN_SIG_BUFFERS[] = "281058a2f1e9813dd723a85073a068f1b597c051b862d3848e4e4e55c72b5a7b";

static void test_golden_buffers(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(s);
  sl_frame_view_t parts[4] = {V(GOLDEN_HEADER), V("{}"), V("{}"), V(GOLDEN_CONTENT)};
  sl_frame_view_t bufs[2] = {{"a\0b\0c", 5}, {"", 0}};
  char hex[65];
  sl_wire_hmac_hex_buffers(s, parts, bufs, 2, hex);
  CHECK_STREQ(hex, GOLDEN_SIG_BUFFERS);
  sl_wire_hmac_hex_buffers(s, parts, bufs, 0, hex); /* no buffers: jupyter_client's signature */
  CHECK_STREQ(hex, GOLDEN_SIG);
  sl_signer_destroy(&s);
}

/* A buffer is signed: changing, dropping, adding or re-cutting buffers breaks the signature, and a
 * message with more buffers than the decoder takes is not encoded. */
static void test_buffers_signed(void) {
  sl_signer_t *tx = sl_signer_new(KEY, strlen(KEY), 0), *rx = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(tx && rx);
  sl_frame_view_t parts[4] = {V(GOLDEN_HEADER), V("{}"), V("{}"), V(GOLDEN_CONTENT)};
  sl_frame_view_t f[9] = {V(SL_WIRE_DELIM), V(GOLDEN_SIG_BUFFERS), parts[0], parts[1], parts[2], parts[3],
                          {"a\0b\0c", 5}, {"", 0}, V("extra")};
  sl_msg_t *m = NULL;
  CHECK_EQ_INT(sl_wire_decode(rx, f, 8, &m), SL_WIRE_OK);
  CHECK(m && m->n_buffers == 2 && m->buffers[0].len == 5);
  sl_msg_free(&m);
  CHECK_EQ_INT(sl_wire_decode(rx, f, 9, &m), SL_WIRE_E_SIGNATURE);  /* a buffer appended */
  CHECK_EQ_INT(sl_wire_decode(rx, f, 7, &m), SL_WIRE_E_SIGNATURE);  /* one dropped */
  f[6] = (sl_frame_view_t){"a\0b\0d", 5};
  CHECK_EQ_INT(sl_wire_decode(rx, f, 8, &m), SL_WIRE_E_SIGNATURE);  /* one changed */
  /* re-cut: "a\0b" + "\0c" carries the same bytes as "a\0b\0c" + "" */
  f[6] = (sl_frame_view_t){"a\0b", 3};
  f[7] = (sl_frame_view_t){"\0c", 2};
  CHECK_EQ_INT(sl_wire_decode(rx, f, 8, &m), SL_WIRE_E_SIGNATURE);
  /* jupyter_client's signature (dicts only) does not cover buffers, so it is refused with them */
  f[1] = V(GOLDEN_SIG);
  f[6] = (sl_frame_view_t){"a\0b\0c", 5};
  f[7] = (sl_frame_view_t){"", 0};
  CHECK_EQ_INT(sl_wire_decode(rx, f, 8, &m), SL_WIRE_E_SIGNATURE);
  CHECK_EQ_INT(sl_wire_decode(rx, f, 6, &m), SL_WIRE_OK);
  sl_msg_free(&m);

  m = sl_msg_new("stream", "s", NULL, NULL);
  REQUIRE(m);
  m->buffers = calloc(SL_WIRE_MAX_BUFFERS + 1, sizeof(sl_blob_t));
  REQUIRE(m->buffers);
  m->n_buffers = SL_WIRE_MAX_BUFFERS + 1;
  sl_frames_t out;
  CHECK_EQ_INT(sl_wire_encode(tx, m, &out), SL_WIRE_E_FRAMES);
  CHECK(out.n == 0 && out.parts == NULL);
  m->n_buffers = SL_WIRE_MAX_BUFFERS;
  for (size_t i = 0; i < m->n_buffers; i++) m->buffers[i].data = malloc(1);
  CHECK_EQ_INT(sl_wire_encode(tx, m, &out), SL_WIRE_OK);
  sl_frame_view_t ov[6 + SL_WIRE_MAX_BUFFERS];
  for (size_t i = 0; i < out.n && i < 6 + SL_WIRE_MAX_BUFFERS; i++) ov[i] = (sl_frame_view_t){out.parts[i].data, out.parts[i].len};
  sl_msg_t *d = NULL;
  CHECK_EQ_INT(sl_wire_decode(rx, ov, out.n, &d), SL_WIRE_OK);
  sl_msg_free(&d);
  sl_frames_free(&out);
  sl_msg_free(&m);
  sl_signer_destroy(&tx);
  sl_signer_destroy(&rx);
}

/* Re-signs frames t[0..n) (delimiter first, no idents) after buffers were added; hex holds the
 * signature t[1] then points to. */
static void resign(sl_signer_t *s, sl_frame_view_t *t, size_t n, char hex[65]) {
  sl_wire_hmac_hex_buffers(s, &t[2], &t[6], n - 6, hex);
  t[1] = V(hex);
}

static void test_golden_vectors(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(s);
  sl_frame_view_t parts[4] = {V(GOLDEN_HEADER), V("{}"), V("{}"), V(GOLDEN_CONTENT)};
  char hex[65];
  sl_wire_hmac_hex(s, parts, hex);
  CHECK_STREQ(hex, GOLDEN_SIG);
  sl_signer_destroy(&s);
  CHECK(s == NULL);

  /* RFC 4231 test case 2 (key "Jefe"), its data split over the four parts: the MAC is over the
   * concatenation, with no separators. */
  s = sl_signer_new("Jefe", 4, 0);
  REQUIRE(s);
  sl_frame_view_t rfc[4] = {V("what do ya"), V(" want "), V("for "), V("nothing?")};
  sl_wire_hmac_hex(s, rfc, hex);
  CHECK_STREQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  sl_signer_destroy(&s);

  /* a key longer than the SHA-256 block (bytes 0..199), computed with python as above */
  unsigned char longkey[200];
  for (int i = 0; i < 200; i++) longkey[i] = (unsigned char)i;
  s = sl_signer_new(longkey, sizeof longkey, 0);
  REQUIRE(s);
  sl_frame_view_t lk[4] = {V("{\"a\":1}"), V("{}"), V("{\"x\":\"\\u00e9\"}"), V("{}")};
  sl_wire_hmac_hex(s, lk, hex);
  CHECK_STREQ(hex, "92b395d4acceb57bdaf8cdd86fb0eb0424fabf5fa7c8a4b1ac5270b4e021c067");
  sl_signer_destroy(&s);

  /* the key is copied: scribbling over the caller's buffer changes nothing */
  char key[] = KEY;
  s = sl_signer_new(key, strlen(key), 0);
  REQUIRE(s);
  memset(key, 'x', strlen(key));
  sl_wire_hmac_hex(s, parts, hex);
  CHECK_STREQ(hex, GOLDEN_SIG);
  sl_signer_destroy(&s);
}

/* The golden frames decode, and decode with idents in front. */
static void test_golden_decode(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 16);
  REQUIRE(s);
  sl_frame_view_t f[] = {V("router-id"), V(SL_WIRE_DELIM), V(GOLDEN_SIG), V(GOLDEN_HEADER),
                         V("{}"), V("{}"), V(GOLDEN_CONTENT)};
  sl_msg_t *m = NULL;
  CHECK_EQ_INT(sl_wire_decode(s, f, 7, &m), SL_WIRE_OK);
  REQUIRE(m);
  CHECK_STREQ(sl_msg_type(m), "execute_request");
  CHECK_STREQ(sl_msg_id(m), "a1");
  CHECK_STREQ(sl_msg_session(m), "s1");
  CHECK_STREQ(sl_msg_parent_id(m), "");
  CHECK_STREQ(json_string_value(json_object_get(m->content, "code")), "print(1)");
  CHECK_EQ_INT(m->n_idents, 1);
  CHECK(m->n_idents == 1 && m->idents[0].len == 9 && memcmp(m->idents[0].data, "router-id", 9) == 0);
  CHECK_EQ_INT(m->n_buffers, 0);
  sl_msg_free(&m);
  CHECK(m == NULL);
  sl_signer_destroy(&s);
}

static sl_msg_t *sample_msg(const char *code) {
  sl_msg_t *m = sl_msg_new("execute_request", "sess-1", NULL, json_pack("{s:s, s:b}", "code", code, "silent", 0));
  if (!m) return NULL;
  json_object_set_new(m->metadata, "note", json_string("caf\xc3\xa9 \xe2\x82\xac"));
  return m;
}

static void views_of(const sl_frames_t *f, sl_frame_view_t *v) {
  for (size_t i = 0; i < f->n; i++) v[i] = (sl_frame_view_t){f->parts[i].data, f->parts[i].len};
}

static int is_lower_hex64(const void *d, size_t n) {
  if (n != 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = ((const char *)d)[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return 1;
}

static void test_round_trip(void) {
  sl_signer_t *tx = sl_signer_new(KEY, strlen(KEY), 64), *rx = sl_signer_new(KEY, strlen(KEY), 64);
  REQUIRE(tx && rx);
  sl_msg_t *m = sample_msg("x = 1\nprint(x)\n");
  REQUIRE(m);
  CHECK_EQ_INT(sl_msg_add_ident(m, "id-one", 6), 0);
  CHECK_EQ_INT(sl_msg_add_ident(m, "\0\x01\xff", 3), 0); /* binary routing ids survive */
  /* buffers: one binary with NULs, one empty */
  m->buffers = calloc(2, sizeof(sl_blob_t));
  REQUIRE(m->buffers);
  m->buffers[0].data = malloc(5);
  memcpy(m->buffers[0].data, "a\0b\0c", 5);
  m->buffers[0].len = 5;
  m->buffers[1].data = malloc(1);
  m->buffers[1].len = 0;
  m->n_buffers = 2;

  sl_frames_t f;
  REQUIRE(sl_wire_encode(tx, m, &f) == SL_WIRE_OK);
  CHECK_EQ_INT(f.n, 2 + 6 + 2);
  CHECK(f.parts[2].len == strlen(SL_WIRE_DELIM) && memcmp(f.parts[2].data, SL_WIRE_DELIM, f.parts[2].len) == 0);
  CHECK(is_lower_hex64(f.parts[3].data, f.parts[3].len));
  /* the signature is the HMAC over the four dict frames exactly as sent, then the buffers */
  sl_frame_view_t v[16];
  views_of(&f, v);
  char hex[65];
  sl_wire_hmac_hex_buffers(tx, &v[4], &v[8], 2, hex);
  CHECK(f.parts[3].len == 64 && memcmp(f.parts[3].data, hex, 64) == 0);
  /* compact JSON (the header's values hold no spaces), ASCII only on the wire (\u escapes) */
  CHECK(memchr(f.parts[4].data, ' ', f.parts[4].len) == NULL);
  for (size_t i = 4; i < 8; i++)
    for (size_t j = 0; j < f.parts[i].len; j++) CHECK(((unsigned char *)f.parts[i].data)[j] < 0x80);
  CHECK(memmem(f.parts[6].data, f.parts[6].len, "caf\\u00E9 \\u20AC", 16) != NULL);

  sl_msg_t *d = NULL;
  REQUIRE(sl_wire_decode(rx, v, f.n, &d) == SL_WIRE_OK);
  CHECK(json_equal(d->header, m->header));
  CHECK(json_equal(d->parent_header, m->parent_header));
  CHECK(json_equal(d->metadata, m->metadata));
  CHECK(json_equal(d->content, m->content));
  CHECK_EQ_INT(d->n_idents, 2);
  CHECK(d->idents[0].len == 6 && memcmp(d->idents[0].data, "id-one", 6) == 0);
  CHECK(d->idents[1].len == 3 && memcmp(d->idents[1].data, "\0\x01\xff", 3) == 0);
  CHECK_EQ_INT(d->n_buffers, 2);
  CHECK(d->buffers[0].len == 5 && memcmp(d->buffers[0].data, "a\0b\0c", 5) == 0);
  CHECK_EQ_INT(d->buffers[1].len, 0);

  /* a reply built from the decoded request routes back and names its parent */
  sl_msg_t *r = sl_msg_new("execute_reply", "sess-2", d, json_pack("{s:s, s:i}", "status", "ok", "execution_count", 1));
  REQUIRE(r);
  CHECK_STREQ(sl_msg_parent_id(r), sl_msg_id(m));
  CHECK_EQ_INT(r->n_idents, 2);
  sl_frames_t rf;
  REQUIRE(sl_wire_encode(rx, r, &rf) == SL_WIRE_OK);
  sl_frame_view_t rv[16];
  views_of(&rf, rv);
  sl_msg_t *rd = NULL;
  CHECK_EQ_INT(sl_wire_decode(tx, rv, rf.n, &rd), SL_WIRE_OK);
  CHECK(rd && strcmp(sl_msg_parent_id(rd), sl_msg_id(m)) == 0);

  sl_msg_free(&rd);
  sl_frames_free(&rf);
  sl_msg_free(&r);
  sl_msg_free(&d);
  sl_frames_free(&f);
  CHECK(f.n == 0 && f.parts == NULL);
  sl_frames_free(&f); /* idempotent */
  sl_msg_free(&m);
  sl_signer_destroy(&tx);
  sl_signer_destroy(&rx);
}

/* Encodes msg, then returns the frames' views in v (n in *n). */
static sl_frames_t encode_or_die(sl_signer_t *s, const sl_msg_t *m, sl_frame_view_t *v, size_t *n) {
  sl_frames_t f = {0};
  if (sl_wire_encode(s, m, &f) != SL_WIRE_OK) {
    fprintf(stderr, "encode failed\n");
    abort();
  }
  views_of(&f, v);
  *n = f.n;
  return f;
}

static void test_bad_signature(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 64), *other = sl_signer_new("other key", 9, 64);
  REQUIRE(s && other);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(m);
  sl_frame_view_t v[16];
  size_t n;
  sl_frames_t f = encode_or_die(s, m, v, &n);
  sl_msg_t *d = NULL;

  /* wrong key */
  CHECK_EQ_INT(sl_wire_decode(other, v, n, &d), SL_WIRE_E_SIGNATURE);
  CHECK(d == NULL);

  /* one hex digit changed */
  char sig[65];
  memcpy(sig, v[1].data, 64);
  sig[64] = 0;
  sig[10] = sig[10] == '0' ? '1' : '0';
  sl_frame_view_t t[16];
  memcpy(t, v, sizeof(t));
  t[1] = V(sig);
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);

  /* uppercase hex of the right digest: jupyter_client only emits lowercase, and we compare bytes */
  memcpy(sig, v[1].data, 64);
  for (int i = 0; i < 64; i++) sig[i] = (char)(sig[i] >= 'a' ? sig[i] - 32 : sig[i]);
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);

  /* truncated, empty, over-long, non-hex */
  memcpy(sig, v[1].data, 64);
  t[1] = (sl_frame_view_t){sig, 63};
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
  t[1] = (sl_frame_view_t){sig, 0};
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
  t[1] = (sl_frame_view_t){NULL, 0};
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
  char longsig[66];
  memcpy(longsig, v[1].data, 64);
  longsig[64] = '0';
  longsig[65] = 0;
  t[1] = V(longsig);
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
  memset(sig, 'z', 64);
  t[1] = (sl_frame_view_t){sig, 64};
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
  /* an all-zero digest is never accepted (a MAC failure must not turn into a guessable value) */
  memset(sig, '0', 64);
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);

  /* tampering with any one of the four signed frames */
  for (int k = 2; k < 6; k++) {
    memcpy(t, v, sizeof(t));
    char *copy = malloc(v[k].len + 1);
    memcpy(copy, v[k].data, v[k].len);
    copy[0] = copy[0] == '{' ? ' ' : '{'; /* still valid JSON after a leading space */
    t[k] = (sl_frame_view_t){copy, v[k].len};
    CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_SIGNATURE);
    free(copy);
  }
  CHECK(d == NULL);

  sl_msg_free(&m);
  sl_frames_free(&f);
  sl_signer_destroy(&s);
  sl_signer_destroy(&other);
}

/* Signature verified before JSON is parsed: garbage under a bad signature is a signature error. */
static void test_verify_before_parse(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 64);
  REQUIRE(s);
  sl_frame_view_t f[] = {V(SL_WIRE_DELIM), V("0000000000000000000000000000000000000000000000000000000000000000"),
                         V("{\"msg_id\":"), V("not json"), V("[1,2"), V("\xff\xfe")};
  sl_msg_t *d = NULL;
  CHECK_EQ_INT(sl_wire_decode(s, f, 6, &d), SL_WIRE_E_SIGNATURE);
  CHECK(d == NULL);
  sl_signer_destroy(&s);
}

/* Signs arbitrary dict frames so the JSON checks after the signature can be reached. */
static sl_wire_err_t decode_signed(sl_signer_t *s, const char *h, const char *p, const char *md, const char *c) {
  sl_frame_view_t f[6] = {V(SL_WIRE_DELIM), V(""), V(h), V(p), V(md), V(c)};
  char hex[65];
  sl_wire_hmac_hex(s, &f[2], hex);
  f[1] = V(hex);
  sl_msg_t *d = NULL;
  sl_wire_err_t e = sl_wire_decode(s, f, 6, &d);
  if ((e == SL_WIRE_OK) != (d != NULL)) e = (sl_wire_err_t)-1;
  sl_msg_free(&d);
  return e;
}

static const char H_OK[] = "{\"msg_id\":\"m\",\"msg_type\":\"status\",\"session\":\"s\"}";

static void test_bad_json_frames(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(s);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{}"), SL_WIRE_OK);
  /* truncated JSON in each of the four positions */
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":\"m\"", "{}", "{}", "{}"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{", "{}", "{}"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{\"a\":", "{}"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", ""), SL_WIRE_E_JSON);
  /* not objects */
  const char *nonobj[] = {"[]", "[{}]", "1", "\"s\"", "null", "true", "{} {}", "{}x"};
  for (size_t i = 0; i < sizeof nonobj / sizeof *nonobj; i++) {
    CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", nonobj[i]), SL_WIRE_E_JSON);
    CHECK_EQ_INT(decode_signed(s, H_OK, nonobj[i], "{}", "{}"), SL_WIRE_E_JSON);
  }
  /* duplicate keys are refused (two parsers could disagree on which one wins) */
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{\"code\":\"a\",\"code\":\"b\"}"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":\"m\",\"msg_type\":\"status\",\"session\":\"s\",\"session\":\"t\"}", "{}",
                             "{}", "{}"),
               SL_WIRE_E_JSON);
  /* invalid UTF-8 inside a JSON string, and \u0000 */
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{\"t\":\"\xc0\x80\"}"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{\"t\":\"a\\u0000b\"}"), SL_WIRE_E_JSON);
  /* header requirements */
  CHECK_EQ_INT(decode_signed(s, "{\"msg_type\":\"status\",\"session\":\"s\"}", "{}", "{}", "{}"), SL_WIRE_E_HEADER);
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":\"m\",\"session\":\"s\"}", "{}", "{}", "{}"), SL_WIRE_E_HEADER);
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":\"m\",\"msg_type\":\"status\"}", "{}", "{}", "{}"), SL_WIRE_E_HEADER);
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":1,\"msg_type\":\"status\",\"session\":\"s\"}", "{}", "{}", "{}"),
               SL_WIRE_E_HEADER);
  CHECK_EQ_INT(decode_signed(s, "{\"msg_id\":\"m\",\"msg_type\":null,\"session\":\"s\"}", "{}", "{}", "{}"),
               SL_WIRE_E_HEADER);
  CHECK_EQ_INT(decode_signed(s, "{}", "{}", "{}", "{}"), SL_WIRE_E_HEADER);
  sl_signer_destroy(&s);
}

/* A message that verified but failed to parse does not enter the replay cache: it is refused for
 * what it is, every time. */
static void test_bad_json_not_remembered(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 64);
  REQUIRE(s);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "[]"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "[]"), SL_WIRE_E_JSON);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{}"), SL_WIRE_OK);
  CHECK_EQ_INT(decode_signed(s, H_OK, "{}", "{}", "{}"), SL_WIRE_E_REPLAY);
  sl_signer_destroy(&s);
}

/* The MAC covers the concatenation of the four frames (as in jupyter_client), so moving a byte across a
 * frame boundary keeps the signature valid; the frames then no longer parse as objects. */
static void test_frame_boundary_shift(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 8);
  REQUIRE(s);
  sl_frame_view_t f[6] = {V(SL_WIRE_DELIM), V(""), V(H_OK), V("{}"), V("{}"), V("{}")};
  char hex[65];
  sl_wire_hmac_hex(s, &f[2], hex);
  f[1] = V(hex);
  f[2].len--;                /* header loses its closing brace ... */
  f[3] = V("}{}");           /* ... which now starts the parent header */
  sl_msg_t *d = NULL;
  CHECK_EQ_INT(sl_wire_decode(s, f, 6, &d), SL_WIRE_E_JSON);
  CHECK(d == NULL);
  sl_signer_destroy(&s);
}

static void test_replay(void) {
  sl_signer_t *tx = sl_signer_new(KEY, strlen(KEY), 0), *rx = sl_signer_new(KEY, strlen(KEY), 8);
  REQUIRE(tx && rx);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(m);
  sl_frame_view_t v[16];
  size_t n;
  sl_frames_t f = encode_or_die(tx, m, v, &n);
  sl_msg_t *d = NULL;
  CHECK_EQ_INT(sl_wire_decode(rx, v, n, &d), SL_WIRE_OK);
  sl_msg_free(&d);
  CHECK_EQ_INT(sl_wire_decode(rx, v, n, &d), SL_WIRE_E_REPLAY);
  CHECK(d == NULL);
  /* the same signed frames behind another routing id are still a replay */
  sl_frame_view_t w[17];
  w[0] = V("another-peer");
  memcpy(&w[1], v, n * sizeof(*v));
  CHECK_EQ_INT(sl_wire_decode(rx, w, n + 1, &d), SL_WIRE_E_REPLAY);
  /* a signer without a replay cache accepts it again and again; encode never fills the cache */
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(sl_wire_decode(tx, v, n, &d), SL_WIRE_OK);
    sl_msg_free(&d);
  }
  sl_frames_free(&f);
  sl_msg_free(&m);
  sl_signer_destroy(&tx);
  sl_signer_destroy(&rx);
}

/* Exactly the last `cap` verified signatures are refused: checked against a model over many random
 * replays, which also exercises the index's deletions (a small cap evicts all the time). */
#define MODEL_MSGS 1500
static void run_replay_model(size_t cap) {
  sl_signer_t *tx = sl_signer_new(KEY, strlen(KEY), 0), *rx = sl_signer_new(KEY, strlen(KEY), cap);
  REQUIRE(tx && rx);
  static sl_frames_t frames[MODEL_MSGS];
  size_t made = 0;
  size_t *recent = calloc(cap, sizeof(size_t)); /* model: ring of the last cap accepted message numbers */
  size_t rhead = 0, rcount = 0;
  unsigned seed = 12345;
  int mismatches = 0;
  for (int step = 0; step < 6000; step++) {
    seed = seed * 1103515245u + 12345u;
    size_t pick;
    if (made < 2 || (made < MODEL_MSGS && (seed >> 16) % 3 == 0)) {
      sl_msg_t *m = sample_msg("model");
      if (!m || sl_wire_encode(tx, m, &frames[made]) != SL_WIRE_OK) abort();
      sl_msg_free(&m);
      pick = made++;
    } else {
      /* favour recent messages so both sides of the window are hit */
      size_t span = (seed >> 8) % 4 == 0 ? made : (cap * 2 < made ? cap * 2 : made);
      pick = made - 1 - (seed >> 4) % span;
    }
    int in_model = 0;
    for (size_t i = 0; i < rcount; i++) in_model |= recent[i] == pick;
    sl_frame_view_t v[16];
    views_of(&frames[pick], v);
    sl_msg_t *d = NULL;
    sl_wire_err_t e = sl_wire_decode(rx, v, frames[pick].n, &d);
    sl_msg_free(&d);
    if (e != (in_model ? SL_WIRE_E_REPLAY : SL_WIRE_OK)) mismatches++;
    if (!in_model) {
      recent[rhead] = pick;
      rhead = (rhead + 1) % cap;
      if (rcount < cap) rcount++;
    }
  }
  CHECK_EQ_INT(mismatches, 0);
  for (size_t i = 0; i < made; i++) sl_frames_free(&frames[i]);
  free(recent);
  sl_signer_destroy(&tx);
  sl_signer_destroy(&rx);
}

static void test_replay_window(void) {
  run_replay_model(1);
  run_replay_model(7);
  run_replay_model(64);
  run_replay_model(SL_WIRE_DEFAULT_REPLAY);
}

static void test_empty_key(void) {
  sl_signer_t *s = sl_signer_new("", 0, SL_WIRE_DEFAULT_REPLAY);
  REQUIRE(s);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(m);
  sl_frame_view_t v[16];
  size_t n;
  sl_frames_t f = encode_or_die(s, m, v, &n);
  CHECK_EQ_INT(v[1].len, 0); /* empty signature, as jupyter_client with key=b"" */
  sl_msg_t *d = NULL;
  /* accepted, and accepted again: with no key replay refusal would be meaningless */
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(sl_wire_decode(s, v, n, &d), SL_WIRE_OK);
    sl_msg_free(&d);
  }
  /* a NULL signer behaves the same */
  sl_frames_t g;
  CHECK_EQ_INT(sl_wire_encode(NULL, m, &g), SL_WIRE_OK);
  CHECK_EQ_INT(g.parts[1].len, 0);
  CHECK_EQ_INT(sl_wire_decode(NULL, v, n, &d), SL_WIRE_OK);
  sl_msg_free(&d);
  /* an unsigned message is refused by a keyed receiver */
  sl_signer_t *k = sl_signer_new(KEY, strlen(KEY), 8);
  CHECK_EQ_INT(sl_wire_decode(k, v, n, &d), SL_WIRE_E_SIGNATURE);
  /* the HMAC helper yields the empty signature too */
  char hex[65] = "junk";
  sl_wire_hmac_hex(s, &v[2], hex);
  CHECK_STREQ(hex, "");
  sl_signer_destroy(&k);
  sl_frames_free(&g);
  sl_frames_free(&f);
  sl_msg_free(&m);
  sl_signer_destroy(&s);
}

static void test_framing_errors(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(s);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(m);
  sl_frame_view_t v[16];
  size_t n;
  sl_frames_t f = encode_or_die(s, m, v, &n);
  REQUIRE(n == 6);
  sl_msg_t *d = NULL;

  /* no delimiter at all, an almost-delimiter, and no frames */
  sl_frame_view_t t[64];
  memcpy(t, v, sizeof(v));
  t[0] = V("<IDS|MSG");
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_NODELIM);
  t[0] = V("<IDS|MSG>\n");
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_NODELIM);
  CHECK_EQ_INT(sl_wire_decode(s, t, 0, &d), SL_WIRE_E_NODELIM);
  CHECK_EQ_INT(sl_wire_decode(s, &v[1], n - 1, &d), SL_WIRE_E_NODELIM);
  CHECK(d == NULL);

  /* too few frames after the delimiter: 0..4 of sig + 4 dicts */
  for (size_t k = 1; k < n; k++) CHECK_EQ_INT(sl_wire_decode(s, v, k, &d), SL_WIRE_E_FRAMES);

  /* idents: up to SL_WIRE_MAX_IDENTS accepted, one more is refused */
  for (size_t k = 0; k < SL_WIRE_MAX_IDENTS + 1; k++) t[k] = V("peer");
  memcpy(&t[SL_WIRE_MAX_IDENTS], v, n * sizeof(*v));
  CHECK_EQ_INT(sl_wire_decode(s, t, SL_WIRE_MAX_IDENTS + n, &d), SL_WIRE_OK);
  CHECK(d && d->n_idents == SL_WIRE_MAX_IDENTS);
  sl_msg_free(&d);
  for (size_t k = 0; k < SL_WIRE_MAX_IDENTS + 1; k++) t[k] = V("peer");
  memcpy(&t[SL_WIRE_MAX_IDENTS + 1], v, n * sizeof(*v));
  CHECK(sl_wire_decode(s, t, SL_WIRE_MAX_IDENTS + 1 + n, &d) != SL_WIRE_OK);
  CHECK(d == NULL);

  /* buffers: up to SL_WIRE_MAX_BUFFERS accepted, one more is refused */
  memcpy(t, v, n * sizeof(*v));
  for (size_t k = 0; k < SL_WIRE_MAX_BUFFERS + 1; k++) t[n + k] = V("buf");
  char hex[65];
  resign(s, t, n + SL_WIRE_MAX_BUFFERS, hex);
  CHECK_EQ_INT(sl_wire_decode(s, t, n + SL_WIRE_MAX_BUFFERS, &d), SL_WIRE_OK);
  CHECK(d && d->n_buffers == SL_WIRE_MAX_BUFFERS);
  sl_msg_free(&d);
  CHECK_EQ_INT(sl_wire_decode(s, t, n + SL_WIRE_MAX_BUFFERS + 1, &d), SL_WIRE_E_FRAMES);

  /* the first delimiter wins: a later "<IDS|MSG>" is just a buffer */
  t[n] = V(SL_WIRE_DELIM);
  resign(s, t, n + 1, hex);
  CHECK_EQ_INT(sl_wire_decode(s, t, n + 1, &d), SL_WIRE_OK);
  CHECK(d && d->n_buffers == 1 && d->buffers[0].len == strlen(SL_WIRE_DELIM));
  sl_msg_free(&d);

  sl_frames_free(&f);
  sl_msg_free(&m);
  sl_signer_destroy(&s);
}

static void test_size_caps(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  REQUIRE(s);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(m);
  sl_frame_view_t v[16];
  size_t n;
  sl_frames_t f = encode_or_die(s, m, v, &n);
  char *big = calloc(1, SL_WIRE_MAX_FRAME_BYTES + 1);
  REQUIRE(big);
  sl_msg_t *d = NULL;
  sl_frame_view_t t[16];

  /* one frame over the cap: an ident, a dict frame, a buffer */
  memcpy(&t[1], v, n * sizeof(*v));
  t[0] = (sl_frame_view_t){big, SL_WIRE_MAX_FRAME_BYTES + 1};
  CHECK_EQ_INT(sl_wire_decode(s, t, n + 1, &d), SL_WIRE_E_TOOBIG);
  memcpy(t, v, n * sizeof(*v));
  t[5] = (sl_frame_view_t){big, SL_WIRE_MAX_FRAME_BYTES + 1};
  CHECK_EQ_INT(sl_wire_decode(s, t, n, &d), SL_WIRE_E_TOOBIG);
  memcpy(t, v, n * sizeof(*v));
  t[n] = (sl_frame_view_t){big, SL_WIRE_MAX_FRAME_BYTES + 1};
  CHECK_EQ_INT(sl_wire_decode(s, t, n + 1, &d), SL_WIRE_E_TOOBIG);

  /* a buffer exactly at the cap is fine */
  t[n] = (sl_frame_view_t){big, SL_WIRE_MAX_FRAME_BYTES};
  char hex[65];
  resign(s, t, n + 1, hex);
  CHECK_EQ_INT(sl_wire_decode(s, t, n + 1, &d), SL_WIRE_OK);
  CHECK(d && d->n_buffers == 1 && d->buffers[0].len == SL_WIRE_MAX_FRAME_BYTES);
  sl_msg_free(&d);

  /* every frame within the cap but the sum over SL_WIRE_MAX_MSG_BYTES */
  size_t k = SL_WIRE_MAX_MSG_BYTES / SL_WIRE_MAX_FRAME_BYTES;
  for (size_t i = 0; i < k; i++) t[n + i] = (sl_frame_view_t){big, SL_WIRE_MAX_FRAME_BYTES};
  CHECK_EQ_INT(sl_wire_decode(s, t, n + k, &d), SL_WIRE_E_TOOBIG);
  CHECK(d == NULL);

  free(big);
  sl_frames_free(&f);
  sl_msg_free(&m);
  sl_signer_destroy(&s);
}

static void test_encode_null_dicts(void) {
  sl_signer_t *s = sl_signer_new(KEY, strlen(KEY), 0);
  sl_msg_t *m = sample_msg("1");
  REQUIRE(s && m);
  json_decref(m->metadata);
  m->metadata = NULL;
  json_decref(m->parent_header);
  m->parent_header = NULL;
  sl_frames_t f;
  REQUIRE(sl_wire_encode(s, m, &f) == SL_WIRE_OK);
  CHECK(f.parts[3].len == 2 && memcmp(f.parts[3].data, "{}", 2) == 0);
  CHECK(f.parts[4].len == 2 && memcmp(f.parts[4].data, "{}", 2) == 0);
  sl_frame_view_t v[16];
  views_of(&f, v);
  sl_msg_t *d = NULL;
  CHECK_EQ_INT(sl_wire_decode(s, v, f.n, &d), SL_WIRE_OK);
  sl_msg_free(&d);
  sl_frames_free(&f);
  sl_msg_free(&m);
  sl_signer_destroy(&s);
}

static void test_strerror(void) {
  for (int e = SL_WIRE_OK; e <= SL_WIRE_E_NOMEM; e++) {
    const char *a = sl_wire_strerror((sl_wire_err_t)e);
    CHECK(a && *a && strcmp(a, "unknown error") != 0);
    for (int o = SL_WIRE_OK; o < e; o++) CHECK(strcmp(a, sl_wire_strerror((sl_wire_err_t)o)) != 0);
  }
  CHECK_STREQ(sl_wire_strerror((sl_wire_err_t)999), "unknown error");
  sl_signer_t *s = NULL;
  sl_signer_destroy(&s);
  sl_signer_destroy(NULL);
}

int main(void) {
  SL_RUN(test_golden_vectors);
  SL_RUN(test_golden_decode);
  SL_RUN(test_golden_buffers);
  SL_RUN(test_buffers_signed);
  SL_RUN(test_round_trip);
  SL_RUN(test_bad_signature);
  SL_RUN(test_verify_before_parse);
  SL_RUN(test_bad_json_frames);
  SL_RUN(test_bad_json_not_remembered);
  SL_RUN(test_frame_boundary_shift);
  SL_RUN(test_replay);
  SL_RUN(test_replay_window);
  SL_RUN(test_empty_key);
  SL_RUN(test_framing_errors);
  SL_RUN(test_size_caps);
  SL_RUN(test_encode_null_dicts);
  SL_RUN(test_strerror);
  return sl_test_summary();
}
