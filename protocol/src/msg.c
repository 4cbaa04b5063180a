/* msg.c — Jupyter-style messages in memory: builders, accessors, ids and timestamps. */
#include "sluice/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <uuid/uuid.h>

void sl_uuid_str(char out[37]) {
  uuid_t u;
  uuid_generate_random(u);
  uuid_unparse_lower(u, out);
}

void sl_time_iso(char out[32]) {
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%06ldZ", (long)tv.tv_usec);
}

static void blobs_free(sl_blob_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) free(b[i].data);
  free(b);
}

void sl_msg_free(sl_msg_t **msgp) {
  if (!msgp || !*msgp) return;
  sl_msg_t *m = *msgp;
  json_decref(m->header);
  json_decref(m->parent_header);
  json_decref(m->metadata);
  json_decref(m->content);
  blobs_free(m->idents, m->n_idents);
  blobs_free(m->buffers, m->n_buffers);
  free(m);
  *msgp = NULL;
}

int sl_msg_add_ident(sl_msg_t *msg, const void *data, size_t len) {
  sl_blob_t *grown = realloc(msg->idents, (msg->n_idents + 1) * sizeof(*grown));
  if (!grown) return -ENOMEM;
  msg->idents = grown;
  void *copy = malloc(len ? len : 1);
  if (!copy) return -ENOMEM;
  if (len) memcpy(copy, data, len);
  msg->idents[msg->n_idents].data = copy;
  msg->idents[msg->n_idents].len = len;
  msg->n_idents++;
  return 0;
}

sl_msg_t *sl_msg_new(const char *msg_type, const char *session, const sl_msg_t *parent, json_t *content) {
  sl_msg_t *m = calloc(1, sizeof(*m));
  if (!m) {
    json_decref(content);
    return NULL;
  }
  char id[37], date[32];
  sl_uuid_str(id);
  sl_time_iso(date);
  m->header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "msg_id", id, "session", session ? session : "",
                        "username", "sluice", "date", date, "msg_type", msg_type, "version",
                        SL_PROTOCOL_VERSION);
  m->parent_header = parent && parent->header ? json_deep_copy(parent->header) : json_object();
  m->metadata = json_object();
  m->content = content ? content : json_object();
  if (!m->header || !m->parent_header || !m->metadata || !m->content) goto fail;
  if (parent) {
    for (size_t i = 0; i < parent->n_idents; i++)
      if (sl_msg_add_ident(m, parent->idents[i].data, parent->idents[i].len) < 0) goto fail;
  }
  return m;
fail:
  sl_msg_free(&m);
  return NULL;
}

static const char *str_field(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

const char *sl_msg_type(const sl_msg_t *msg) { return str_field(msg->header, "msg_type"); }
const char *sl_msg_id(const sl_msg_t *msg) { return str_field(msg->header, "msg_id"); }
const char *sl_msg_session(const sl_msg_t *msg) { return str_field(msg->header, "session"); }
const char *sl_msg_parent_id(const sl_msg_t *msg) { return str_field(msg->parent_header, "msg_id"); }
