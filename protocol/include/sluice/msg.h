/* msg.h — one Jupyter-style message in memory, and its builders.
 *
 * Ownership: every json_t * field of sl_msg_t is owned by the message (one reference each).
 * idents[] and buffers[] data are owned by the message. sl_msg_free releases everything and NULLs
 * the caller's pointer. Accessors return borrowed pointers valid while the message lives.
 */
#ifndef SLUICE_MSG_H
#define SLUICE_MSG_H

#include <jansson.h>
#include <stddef.h>

#define SL_PROTOCOL_VERSION "5.3"

typedef struct {
  void *data;
  size_t len;
} sl_blob_t;

typedef struct sl_msg {
  json_t *header;         /* object: msg_id, session, username, date, msg_type, version */
  json_t *parent_header;  /* object, {} when none */
  json_t *metadata;       /* object */
  json_t *content;        /* object */
  size_t n_idents;
  sl_blob_t *idents;      /* ZMQ routing identities (before the delimiter) */
  size_t n_buffers;
  sl_blob_t *buffers;     /* binary buffers (after content) */
} sl_msg_t;

/* A new message of msg_type. session: borrowed (copied). parent: borrowed, may be NULL; its header
 * becomes parent_header and its idents are copied so a reply routes back. content: STOLEN (NULL = {}). */
sl_msg_t *sl_msg_new(const char *msg_type, const char *session, const sl_msg_t *parent, json_t *content);
void sl_msg_free(sl_msg_t **msg);

/* Borrowed strings; "" when absent. */
const char *sl_msg_type(const sl_msg_t *msg);
const char *sl_msg_id(const sl_msg_t *msg);
const char *sl_msg_session(const sl_msg_t *msg);
const char *sl_msg_parent_id(const sl_msg_t *msg);

/* Adds a routing identity (copied). Returns 0 or -ENOMEM. */
int sl_msg_add_ident(sl_msg_t *msg, const void *data, size_t len);

/* Fills buf with a new random UUID4 string (37 bytes incl. NUL). */
void sl_uuid_str(char out[37]);
/* RFC 3339 UTC time with microseconds and Z, e.g. 2026-01-01T00:00:00.000000Z (28 bytes incl. NUL). */
void sl_time_iso(char out[32]);

#endif
