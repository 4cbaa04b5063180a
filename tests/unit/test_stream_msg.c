/* test_stream_msg.c — stream messages with their text in a wire buffer (protocol/src/stream_msg.c):
 * runner-side build → signed wire → gateway-side inline gives the Jupyter shape; bad UTF-8 is
 * repaired; malformed messages are refused and left unchanged. */
#include "sluice/stream_msg.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sluice/ops.h"
#include "sluice/wire.h"

#define KEY "stream-msg-test-key"

/* Encodes m with tx, decodes with rx: the gateway's view of what the runner sent. */
static sl_msg_t *over_wire(sl_signer_t *tx, sl_signer_t *rx, const sl_msg_t *m) {
  sl_frames_t f;
  if (sl_wire_encode(tx, m, &f) != SL_WIRE_OK) return NULL;
  sl_frame_view_t v[16];
  for (size_t i = 0; i < f.n && i < 16; i++) v[i] = (sl_frame_view_t){f.parts[i].data, f.parts[i].len};
  sl_msg_t *d = NULL;
  sl_wire_decode(rx, v, f.n, &d);
  sl_frames_free(&f);
  return d;
}

static void test_round_trip(void) {
  sl_signer_t *tx = sl_signer_new(KEY, strlen(KEY), 0), *rx = sl_signer_new(KEY, strlen(KEY), 16);
  REQUIRE(tx && rx);
  sl_msg_t *parent = sl_msg_new(SL_OP_EXEC_REQUEST, "gw", NULL, NULL);
  REQUIRE(parent);
  const char text[] = "line \"1\"\n\tcaf\xC3\xA9 \xE2\x82\xAC\x01";
  sl_msg_t *m = sl_op_stream_new("runner", parent, "stdout", text, sizeof text - 1);
  REQUIRE(m);
  CHECK_EQ_INT(m->n_buffers, 1);
  CHECK(json_integer_value(json_object_get(m->content, SL_OP_TEXT_BUFFER)) == 0);
  CHECK(json_object_get(m->content, "text") == NULL);
  sl_msg_t *d = over_wire(tx, rx, m);
  REQUIRE(d);
  CHECK_EQ_INT(sl_op_stream_inline(d), 0);
  CHECK_EQ_INT(d->n_buffers, 0);
  CHECK(d->buffers == NULL);
  CHECK_STREQ(json_string_value(json_object_get(d->content, "name")), "stdout");
  json_t *t = json_object_get(d->content, "text");
  CHECK(json_string_length(t) == sizeof text - 1 && memcmp(json_string_value(t), text, sizeof text - 1) == 0);
  CHECK(json_object_get(d->content, SL_OP_TEXT_BUFFER) == NULL);
  CHECK_STREQ(sl_msg_parent_id(d), sl_msg_id(parent));
  char err[128];
  CHECK_EQ_INT(sl_op_validate(d, err, sizeof err), 0); /* the Jupyter shape the validator knows */
  CHECK_EQ_INT(sl_op_stream_inline(d), 0);             /* idempotent: nothing left to do */
  sl_msg_free(&d);
  sl_msg_free(&m);

  /* empty text, and the largest chunk */
  char *big = malloc(SL_OP_MAX_STREAM_CHUNK);
  REQUIRE(big);
  memset(big, 'x', SL_OP_MAX_STREAM_CHUNK);
  size_t lens[] = {0, SL_OP_MAX_STREAM_CHUNK};
  for (size_t i = 0; i < 2; i++) {
    m = sl_op_stream_new("runner", parent, "stderr", big, lens[i]);
    d = m ? over_wire(tx, rx, m) : NULL;
    CHECK(d && sl_op_stream_inline(d) == 0 && json_string_length(json_object_get(d->content, "text")) == lens[i]);
    sl_msg_free(&d);
    sl_msg_free(&m);
  }
  free(big);
  sl_msg_free(&parent);
  sl_signer_destroy(&tx);
  sl_signer_destroy(&rx);
}

static void test_repairs_bad_utf8(void) {
  /* a runner that broke its promise: invalid bytes and a NUL become U+FFFD, so the string stays
   * something jansson and sl_json_escape can dump */
  const char bad[] = "ok\xC0\x80 \xFF nul\0end";
  sl_msg_t *m = sl_op_stream_new("r", NULL, "stdout", bad, sizeof bad - 1);
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_stream_inline(m), 0);
  const char want[] = "ok\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD nul\xEF\xBF\xBD" "end";
  json_t *t = json_object_get(m->content, "text");
  CHECK(json_string_length(t) == sizeof want - 1 && memcmp(json_string_value(t), want, sizeof want - 1) == 0);
  char *dump = json_dumps(m->content, JSON_COMPACT);
  CHECK(dump != NULL);
  free(dump);
  sl_msg_free(&m);
}

static void test_malformed_refused(void) {
  sl_msg_t *m;
  /* text_buffer not 0 */
  m = sl_op_stream_new("r", NULL, "stdout", "x", 1);
  REQUIRE(m);
  json_object_set_new(m->content, SL_OP_TEXT_BUFFER, json_integer(1));
  CHECK_EQ_INT(sl_op_stream_inline(m), -1);
  json_object_set_new(m->content, SL_OP_TEXT_BUFFER, json_string("0"));
  CHECK_EQ_INT(sl_op_stream_inline(m), -1);
  /* text present too */
  json_object_set_new(m->content, SL_OP_TEXT_BUFFER, json_integer(0));
  json_object_set_new(m->content, "text", json_string("y"));
  CHECK_EQ_INT(sl_op_stream_inline(m), -1);
  CHECK_EQ_INT(m->n_buffers, 1); /* unchanged */
  json_object_del(m->content, "text");
  /* no buffer, two buffers */
  m->n_buffers = 0;
  CHECK_EQ_INT(sl_op_stream_inline(m), -1);
  m->n_buffers = 1;
  sl_blob_t *two = realloc(m->buffers, 2 * sizeof *two);
  REQUIRE(two);
  m->buffers = two;
  m->buffers[1] = (sl_blob_t){malloc(1), 0};
  m->n_buffers = 2;
  CHECK_EQ_INT(sl_op_stream_inline(m), -1);
  sl_msg_free(&m);
  /* over the chunk cap */
  char *big = calloc(1, SL_OP_MAX_STREAM_CHUNK + 1);
  REQUIRE(big);
  memset(big, 'x', SL_OP_MAX_STREAM_CHUNK + 1);
  m = sl_op_stream_new("r", NULL, "stdout", big, SL_OP_MAX_STREAM_CHUNK + 1);
  CHECK(m && sl_op_stream_inline(m) == -1);
  sl_msg_free(&m);
  free(big);
}

static void test_other_messages_untouched(void) {
  /* a stream message in the JSON shape, and a non-stream message with a buffer */
  sl_msg_t *m = sl_msg_new(SL_OP_STREAM, "r", NULL, json_pack("{s:s, s:s}", "name", "stdout", "text", "hi"));
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_stream_inline(m), 0);
  CHECK_STREQ(json_string_value(json_object_get(m->content, "text")), "hi");
  sl_msg_free(&m);
  m = sl_msg_new(SL_OP_FS_REPLY, "r", NULL, json_pack("{s:i}", SL_OP_TEXT_BUFFER, 0));
  REQUIRE(m);
  m->buffers = calloc(1, sizeof *m->buffers);
  REQUIRE(m->buffers);
  m->buffers[0] = (sl_blob_t){malloc(1), 0};
  m->n_buffers = 1;
  CHECK_EQ_INT(sl_op_stream_inline(m), 0);
  CHECK_EQ_INT(m->n_buffers, 1);
  sl_msg_free(&m);
}

int main(void) {
  SL_RUN(test_round_trip);
  SL_RUN(test_repairs_bad_utf8);
  SL_RUN(test_malformed_refused);
  SL_RUN(test_other_messages_untouched);
  return sl_test_summary();
}
