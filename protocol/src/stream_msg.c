/* stream_msg.c — stream messages with their text in a wire buffer (stream_msg.h). */
#include "sluice/stream_msg.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/ops.h"
#include "sluice/util.h"

sl_msg_t *sl_op_stream_new(const char *session, const sl_msg_t *parent, const char *name, const char *text,
                           size_t len) {
  sl_msg_t *m = sl_msg_new(SL_OP_STREAM, session, parent, json_pack("{s:s, s:i}", "name", name, SL_OP_TEXT_BUFFER, 0));
  if (!m) return NULL;
  m->buffers = calloc(1, sizeof *m->buffers);
  void *copy = malloc(len ? len : 1);
  if (!m->buffers || !copy || !json_object_get(m->content, "name")) {
    free(copy);
    sl_msg_free(&m);
    return NULL;
  }
  if (len) memcpy(copy, text, len);
  m->buffers[0] = (sl_blob_t){copy, len};
  m->n_buffers = 1;
  return m;
}

int sl_op_stream_inline(sl_msg_t *m) {
  if (strcmp(sl_msg_type(m), SL_OP_STREAM) != 0) return 0;
  json_t *tb = json_object_get(m->content, SL_OP_TEXT_BUFFER);
  if (!tb) return 0;
  if (!json_is_integer(tb) || json_integer_value(tb) != 0 || m->n_buffers != 1 || json_object_get(m->content, "text") ||
      m->buffers[0].len > SL_OP_MAX_STREAM_CHUNK)
    return -1;
  const char *s = m->buffers[0].data;
  size_t len = m->buffers[0].len;
  json_t *text;
  /* the runner sends valid UTF-8 (stream.c sanitises): check at memory speed, repair if it lied, so
   * json_stringn_nocheck never holds a string jansson (or sl_json_escape) could not dump */
  if (sl_utf8_valid_prefix(s, len) == len) {
    text = json_stringn_nocheck(s, len);
  } else {
    size_t olen;
    char *clean = sl_utf8_sanitize(s, len, &olen);
    text = clean ? json_stringn_nocheck(clean, olen) : NULL;
    free(clean);
  }
  if (!text || json_object_set_new(m->content, "text", text) < 0) return -1;
  json_object_del(m->content, SL_OP_TEXT_BUFFER);
  free(m->buffers[0].data);
  free(m->buffers);
  m->buffers = NULL;
  m->n_buffers = 0;
  return 0;
}
