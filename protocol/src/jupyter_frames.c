/* jupyter_frames.c — the kernel websocket's two framings (jupyter.h): decode, encode, and the
 * messages the gateway itself sends as the kernel. Reads from buffers only (fuzzed: tests/fuzz). */
#include "sluice/jupyter.h"
#include "sluice/json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHANNELS[] = {"shell", "control", "stdin", "iopub", NULL};

static int bad(char *err, size_t errlen, const char *why) {
  snprintf(err, errlen, "%s", why);
  return -1;
}

static int channel_ok(const char *c) {
  for (const char *const *p = CHANNELS; *p; p++)
    if (strcmp(c, *p) == 0) return 1;
  return 0;
}

static json_t *load_json(const uint8_t *p, size_t n) {
  return json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
}

/* Takes the four dicts (STOLEN; NULL parent/metadata/content → {}) into a new message, checking shapes. */
static int build(json_t *header, json_t *parent, json_t *metadata, json_t *content, sl_msg_t **out, char *err,
                 size_t errlen) {
  int rc = -1;
  if (!parent || json_is_null(parent)) {
    json_decref(parent);
    parent = json_object();
  }
  if (!metadata || json_is_null(metadata)) {
    json_decref(metadata);
    metadata = json_object();
  }
  if (!content || json_is_null(content)) {
    json_decref(content);
    content = json_object();
  }
  const char *id = json_string_value(json_object_get(header, "msg_id"));
  const char *type = json_string_value(json_object_get(header, "msg_type"));
  if (!json_is_object(header) || !id || !*id || !type || !*type) {
    bad(err, errlen, "header must be an object with string msg_id and msg_type");
    goto out;
  }
  if (strlen(id) > 256 || strlen(type) > 64) {
    bad(err, errlen, "msg_id or msg_type too long");
    goto out;
  }
  if (!json_is_object(parent) || !json_is_object(metadata) || !json_is_object(content)) {
    bad(err, errlen, "parent_header, metadata and content must be objects");
    goto out;
  }
  sl_msg_t *m = calloc(1, sizeof(*m));
  if (!m) {
    bad(err, errlen, "out of memory");
    goto out;
  }
  m->header = header;
  m->parent_header = parent;
  m->metadata = metadata;
  m->content = content;
  *out = m;
  return 0;
out:
  json_decref(header);
  json_decref(parent);
  json_decref(metadata);
  json_decref(content);
  return rc;
}

static int add_buffer(sl_msg_t *m, const uint8_t *p, size_t n) {
  sl_blob_t *g = realloc(m->buffers, (m->n_buffers + 1) * sizeof(*g));
  if (!g) return -1;
  m->buffers = g;
  void *copy = malloc(n ? n : 1);
  if (!copy) return -1;
  if (n) memcpy(copy, p, n);
  m->buffers[m->n_buffers].data = copy;
  m->buffers[m->n_buffers].len = n;
  m->n_buffers++;
  return 0;
}

static uint64_t rd_u32be(const uint8_t *p) {
  return ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) | ((uint64_t)p[2] << 8) | p[3];
}

static uint64_t rd_u64le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* Reads a table of n offsets (width 4 BE or 8 LE) after a count field of the same width; checks they
 * start right after the table, never decrease and stay inside len. offs gets n+1 entries (last = len). */
static int read_offsets(const uint8_t *data, size_t len, int width, uint64_t *offs, size_t *n_out, size_t max_n,
                        char *err, size_t errlen) {
  if (len < (size_t)width) return bad(err, errlen, "frame shorter than its part count");
  uint64_t n = width == 4 ? rd_u32be(data) : rd_u64le(data);
  if (n < 1 || n > max_n) return bad(err, errlen, "part count out of range");
  if ((n + 1) * (uint64_t)width > len) return bad(err, errlen, "offset table past the frame's end");
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *p = data + width * (i + 1);
    offs[i] = width == 4 ? rd_u32be(p) : rd_u64le(p);
  }
  offs[n] = len;
  if (offs[0] != (n + 1) * (uint64_t)width) return bad(err, errlen, "first offset must follow the offset table");
  for (uint64_t i = 0; i < n; i++)
    if (offs[i] > offs[i + 1]) return bad(err, errlen, "offsets must not decrease or pass the frame's end");
  *n_out = (size_t)n;
  return 0;
}

static int decode_legacy_json(const uint8_t *p, size_t n, sl_msg_t **out, char channel[SL_JF_CHANNEL_MAX],
                              char *err, size_t errlen) {
  json_t *j = load_json(p, n);
  if (!json_is_object(j)) {
    json_decref(j);
    return bad(err, errlen, "not a JSON object");
  }
  json_t *ch = json_object_get(j, "channel");
  if (ch && !json_is_null(ch)) {
    if (!json_is_string(ch) || !channel_ok(json_string_value(ch))) {
      json_decref(j);
      return bad(err, errlen, "unknown channel");
    }
    snprintf(channel, SL_JF_CHANNEL_MAX, "%s", json_string_value(ch));
  }
  int rc = build(json_incref(json_object_get(j, "header")), json_incref(json_object_get(j, "parent_header")),
                 json_incref(json_object_get(j, "metadata")), json_incref(json_object_get(j, "content")), out, err,
                 errlen);
  json_decref(j);
  return rc;
}

int sl_jf_decode(sl_jf_proto_t proto, int is_binary, const uint8_t *data, size_t len, sl_msg_t **out,
                 char channel[SL_JF_CHANNEL_MAX], char *err, size_t errlen) {
  uint64_t offs[SL_JF_MAX_BUFFERS + 8];
  size_t n = 0;
  *out = NULL;
  snprintf(channel, SL_JF_CHANNEL_MAX, "shell");
  if (!data || len == 0) return bad(err, errlen, "empty message");
  if (len > SL_JF_MAX_FRAME) return bad(err, errlen, "message over the size limit");
  if (proto == SL_JF_LEGACY && !is_binary) return decode_legacy_json(data, len, out, channel, err, errlen);
  if (proto == SL_JF_LEGACY) {
    if (read_offsets(data, len, 4, offs, &n, SL_JF_MAX_BUFFERS + 1, err, errlen) < 0) return -1;
    if (decode_legacy_json(data + offs[0], (size_t)(offs[1] - offs[0]), out, channel, err, errlen) < 0) return -1;
    for (size_t i = 1; i < n; i++) {
      if (add_buffer(*out, data + offs[i], (size_t)(offs[i + 1] - offs[i])) < 0) {
        sl_msg_free(out);
        return bad(err, errlen, "out of memory");
      }
    }
    return 0;
  }
  if (!is_binary) return bad(err, errlen, "the v1 protocol takes binary frames only");
  if (read_offsets(data, len, 8, offs, &n, SL_JF_MAX_BUFFERS + 6, err, errlen) < 0) return -1;
  if (n < 5) return bad(err, errlen, "fewer than five parts");
  size_t clen = (size_t)(offs[1] - offs[0]);
  if (clen >= SL_JF_CHANNEL_MAX) return bad(err, errlen, "unknown channel");
  char ch[SL_JF_CHANNEL_MAX];
  memcpy(ch, data + offs[0], clen);
  ch[clen] = 0;
  if (clen && !channel_ok(ch)) return bad(err, errlen, "unknown channel");
  if (clen) snprintf(channel, SL_JF_CHANNEL_MAX, "%s", ch);
  json_t *parts[4];
  for (int i = 0; i < 4; i++) {
    size_t plen = (size_t)(offs[i + 2] - offs[i + 1]);
    parts[i] = plen ? load_json(data + offs[i + 1], plen) : NULL;
    if (plen && !parts[i]) {
      for (int k = 0; k < i; k++) json_decref(parts[k]);
      return bad(err, errlen, "a part is not JSON");
    }
  }
  if (build(parts[0], parts[1], parts[2], parts[3], out, err, errlen) < 0) return -1;
  for (size_t i = 5; i < n; i++) {
    if (add_buffer(*out, data + offs[i], (size_t)(offs[i + 1] - offs[i])) < 0) {
      sl_msg_free(out);
      return bad(err, errlen, "out of memory");
    }
  }
  return 0;
}

static void wr_u32be(uint8_t *p, uint64_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void wr_u64le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Lays out parts (texts then the message's buffers) behind an offset table of the given width. */
static unsigned char *layout(char **texts, size_t n_texts, const sl_msg_t *msg, int width, size_t pre, size_t *len) {
  size_t n = n_texts + msg->n_buffers;
  size_t total = (size_t)width * (n + 1);
  for (size_t i = 0; i < n_texts; i++) total += strlen(texts[i]);
  for (size_t i = 0; i < msg->n_buffers; i++) total += msg->buffers[i].len;
  if (total > SL_JF_MAX_FRAME) return NULL;
  unsigned char *buf = malloc(pre + total);
  if (!buf) return NULL;
  uint8_t *f = buf + pre;
  size_t off = (size_t)width * (n + 1);
  if (width == 4)
    wr_u32be(f, n);
  else
    wr_u64le(f, n);
  for (size_t i = 0; i < n; i++) {
    size_t plen = i < n_texts ? strlen(texts[i]) : msg->buffers[i - n_texts].len;
    const void *src = i < n_texts ? (const void *)texts[i] : msg->buffers[i - n_texts].data;
    if (width == 4)
      wr_u32be(f + 4 * (i + 1), off);
    else
      wr_u64le(f + 8 * (i + 1), off);
    if (plen) memcpy(f + off, src, plen);
    off += plen;
  }
  *len = total;
  return buf;
}

unsigned char *sl_jf_encode(sl_jf_proto_t proto, const sl_msg_t *msg, const char *channel, size_t pre,
                            size_t *len, int *is_binary) {
  unsigned char *buf = NULL;
  if (proto == SL_JF_LEGACY) {
    json_t *j = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:[], s:s}", "header", msg->header, "msg_id",
                          json_object_get(msg->header, "msg_id"), "msg_type", json_object_get(msg->header, "msg_type"),
                          "parent_header", msg->parent_header, "metadata", msg->metadata, "content", msg->content,
                          "buffers", "channel", channel);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!txt) return NULL;
    if (msg->n_buffers == 0) {
      size_t n = strlen(txt);
      if (n <= SL_JF_MAX_FRAME && (buf = malloc(pre + n))) {
        memcpy(buf + pre, txt, n);
        *len = n;
        *is_binary = 0;
      }
    } else {
      buf = layout(&txt, 1, msg, 4, pre, len);
      *is_binary = 1;
    }
    free(txt);
    return buf;
  }
  char *texts[5] = {strdup(channel), json_dumps(msg->header, JSON_COMPACT),
                    json_dumps(msg->parent_header, JSON_COMPACT), json_dumps(msg->metadata, JSON_COMPACT),
                    sl_json_dumps(msg->content, NULL)}; /* stream text spliced fast (json_out.h) */
  int ok = 1;
  for (int i = 0; i < 5; i++) ok &= texts[i] != NULL;
  if (ok) buf = layout(texts, 5, msg, 8, pre, len);
  for (int i = 0; i < 5; i++) free(texts[i]);
  *is_binary = 1;
  return buf;
}

sl_msg_t *sl_jf_message(const char *msg_type, const char *session, const json_t *parent, json_t *content) {
  sl_msg_t *m = sl_msg_new(msg_type, session, NULL, content);
  if (!m) return NULL;
  json_object_set_new(m->header, "username", json_string("kernel"));
  if (parent && json_is_object(parent)) {
    json_t *copy = json_deep_copy(parent);
    if (!copy) {
      sl_msg_free(&m);
      return NULL;
    }
    json_decref(m->parent_header);
    m->parent_header = copy;
  }
  return m;
}
