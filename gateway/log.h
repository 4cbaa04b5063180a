/* log.h — structured logs: one JSON line per request and per sandbox lifecycle event, on stderr or the
 * configured log_file (appended). Lines are written whole with one write(2), so concurrent writers
 * (runners share nothing with us, but a log file may be shared) never interleave within a line.
 *
 * Line shape: {"ts": RFC 3339 with ms, "event": NAME, "sandbox_id"?: ID, ...fields}. Request lines:
 * {"event": "request", "method", "route" (route class, metrics.c), "path", "status", "duration_ms",
 * "sandbox_id"?, "key"? (the key's NAME, never the key), "error"? (the error code)}.
 *
 * Ownership: log_event's fields object is built from fmt (json_pack) and freed here.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <jansson.h>

#include "session.h"

/* path NULL = stderr. 0 or -errno. */
int log_open(const char *path);
void log_close(void);
/* event NAME about sandbox_id (may be NULL) with the fields of json_pack(fmt, ...) (fmt may be NULL). */
void log_event(const char *event, const char *sandbox_id, const char *fmt, ...);
/* The request of s is over after duration_ms. */
void log_request(const gw_session_t *s, double duration_ms, const char *route_class);

#endif
