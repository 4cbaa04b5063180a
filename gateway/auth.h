/* auth.h — API key extraction (X-API-Key, Authorization: Bearer|token, ?token=) and verification.
 * Ownership: *key_out is a NEW reference (a copy of the key's record) on success. */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <jansson.h>
#include <libwebsockets.h>

#include "sluice/api.h"

/* 0 with *key_out, or -1 with err (401). */
int auth_request(struct lws *wsi, json_t **key_out, sl_api_err_t *err);
/* Pure part: the key from an Authorization header value ("Bearer K" / "token K"), or NULL. Points into
 * value. */
const char *auth_from_authorization(const char *value);

#endif
