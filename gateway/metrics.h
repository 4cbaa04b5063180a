/* metrics.h — the gateway's counters and their Prometheus text exposition (GET /metrics).
 *
 * Everything is in fixed-size static tables (no allocation while counting): request counts by route
 * class and status (at most METRICS_MAX_SERIES series; later ones are counted under class "other"),
 * sandbox creates/deletes/errors/culls, the create latency histogram (seconds from lc_create to the
 * runner's hello(ready)), executions by kind. Gauges (sandboxes by status, RSS, uptime) are read at
 * scrape time.
 *
 * Ownership: metrics_render returns a new malloc'd buffer (caller frees); arguments are borrowed.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "session.h"

#define METRICS_MAX_SERIES 256
#define METRICS_CLASS_LEN 24
#define METRICS_MAX_CLASSES 48   /* latency histograms; later classes count as "other" */
#define METRICS_MAX_CODES 64     /* error codes; later ones count as "other" */
#define METRICS_MAX_TEXT (1u << 20)

/* Records the start time (uptime is measured from here). */
void metrics_start(void);
time_t metrics_started_at(void);
int64_t metrics_uptime_s(void);

/* A request of s (route class cls) is over after ms (session_reset): counts it by route class and
 * status, its latency, its error code, and executions. */
void metrics_request(const gw_session_t *s, const char *cls, double ms);
/* n bytes of a reply went to an HTTP client (buffered or streamed). */
void metrics_bytes_out(size_t n);
/* The route class of a route pattern ("/api/v1/sandboxes/{sb}/files/content" → "files"); into out. */
void metrics_route_class(const char *pattern, char *out, size_t len);

void metrics_create_done(int64_t elapsed_ms);
void metrics_create_failed(void);
void metrics_deleted(void);
void metrics_runner_died(void);
void metrics_culled(const char *why); /* "idle" | "ttl" */

/* Resident set size of this process in bytes (0 when unknown). */
uint64_t metrics_rss_bytes(void);
/* The exposition text (version 0.0.4). NULL on ENOMEM. */
char *metrics_render(size_t *len);

#endif
