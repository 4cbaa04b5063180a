/* fuzz_jupyter_frames.c — websocket message → sl_jf_decode → sl_jf_encode → sl_jf_decode.
 *
 * Input: the first byte picks the framing (bit 0: v1 subprotocol) and the frame type (bit 1: binary);
 * the rest is the websocket message. Invariants: an accepted message has the shape the relay relies on
 * (string msg_id/msg_type, object dicts, a known channel, bounded buffers), and re-encoding it in either
 * framing decodes to the same message. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/jupyter.h"

static void check(const sl_msg_t *m, const char *channel) {
  FUZZ_ASSERT(json_is_object(m->header) && json_is_object(m->parent_header));
  FUZZ_ASSERT(json_is_object(m->metadata) && json_is_object(m->content));
  FUZZ_ASSERT(*sl_msg_type(m) && *sl_msg_id(m));
  FUZZ_ASSERT(m->n_buffers <= SL_JF_MAX_BUFFERS);
  FUZZ_ASSERT(!strcmp(channel, "shell") || !strcmp(channel, "control") || !strcmp(channel, "stdin") ||
              !strcmp(channel, "iopub"));
}

static void roundtrip(const sl_msg_t *m, const char *channel, sl_jf_proto_t proto) {
  size_t len = 0;
  int binary = 0;
  unsigned char *buf = sl_jf_encode(proto, m, channel, 16, &len, &binary);
  FUZZ_ASSERT(buf != NULL);
  sl_msg_t *again = NULL;
  char ch[SL_JF_CHANNEL_MAX], err[160];
  FUZZ_ASSERT(sl_jf_decode(proto, binary, buf + 16, len, &again, ch, err, sizeof(err)) == 0);
  FUZZ_ASSERT(!strcmp(ch, channel));
  FUZZ_ASSERT(json_equal(again->header, m->header) && json_equal(again->content, m->content));
  FUZZ_ASSERT(json_equal(again->parent_header, m->parent_header) && json_equal(again->metadata, m->metadata));
  FUZZ_ASSERT(again->n_buffers == m->n_buffers);
  for (size_t i = 0; i < m->n_buffers; i++)
    FUZZ_ASSERT(again->buffers[i].len == m->buffers[i].len &&
                !memcmp(again->buffers[i].data, m->buffers[i].data, m->buffers[i].len));
  sl_msg_free(&again);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  sl_jf_proto_t proto = (data[0] & 1) ? SL_JF_V1 : SL_JF_LEGACY;
  int binary = (data[0] & 2) != 0;
  sl_msg_t *m = NULL;
  char channel[SL_JF_CHANNEL_MAX], err[160];
  if (sl_jf_decode(proto, binary, data + 1, size - 1, &m, channel, err, sizeof(err)) < 0) {
    FUZZ_ASSERT(m == NULL && err[0]);
    return 0;
  }
  check(m, channel);
  roundtrip(m, channel, SL_JF_LEGACY);
  roundtrip(m, channel, SL_JF_V1);
  sl_msg_free(&m);
  return 0;
}
