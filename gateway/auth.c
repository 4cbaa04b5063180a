/* auth.c — who is calling. */
#include "auth.h"

#include "gateway.h"
#include "http_util.h"

#include <string.h>
#include <strings.h>

const char *auth_from_authorization(const char *v) {
  if (!v) return NULL;
  const char *k = NULL;
  if (strncasecmp(v, "Bearer ", 7) == 0)
    k = v + 7;
  else if (strncasecmp(v, "token ", 6) == 0)
    k = v + 6;
  if (!k) return NULL;
  while (*k == ' ') k++;
  return *k ? k : NULL;
}

int auth_request(struct lws *wsi, json_t **key_out, sl_api_err_t *err) {
  char buf[512];
  const char *key = NULL;
  *key_out = NULL;
  if (http_custom_header(wsi, "x-api-key:", buf, sizeof(buf)) > 0)
    key = buf;
  else if (http_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, buf, sizeof(buf)) > 0)
    key = auth_from_authorization(buf);
  else if (http_query_arg(wsi, "token", buf, sizeof(buf)) > 0)
    key = buf;
  if (!key)
    return sl_api_fail(err, 401, "unauthorized",
                       "an API key is required (X-API-Key, Authorization: Bearer, Authorization: token or ?token=)");
  int expired = 0;
  json_t *rec = gw_keys_verify(&g_gw.keys, key, time(NULL), &expired);
  if (!rec)
    return sl_api_fail(err, 401, expired ? "key_expired" : "unauthorized",
                       expired ? "the API key has expired" : "the API key is not valid");
  gw_keys_touch(&g_gw.keys, json_string_value(json_object_get(rec, "name")), time(NULL)); /* last_used */
  *key_out = json_deep_copy(rec);
  return *key_out ? 0 : sl_api_fail(err, 500, "internal", "out of memory");
}
