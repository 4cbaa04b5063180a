/* http_util.h — request header and query access over lws (copies into caller buffers).
 * Ownership: nothing allocated; all outputs are caller storage. */
#ifndef GW_HTTP_UTIL_H
#define GW_HTTP_UTIL_H

#include <libwebsockets.h>
#include <stddef.h>

/* Copies a known header; returns its length, or -1 when absent or too long for buf. */
int http_header(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t len);
/* Copies a header lws does not know by name ("x-api-key:"); same returns (HTTP/1 only in lws 4.1). */
int http_custom_header(struct lws *wsi, const char *name_colon, char *buf, size_t len);
/* Copies the value of ?name= (name without '='); returns its length or -1. */
int http_query_arg(struct lws *wsi, const char *name, char *buf, size_t len);
/* Status text for a few codes ("Not Found"). */
const char *http_status_text(int status);

#endif
