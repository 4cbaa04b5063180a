/* fuzz_stream_frames.c — sl_sf_parse on arbitrary websocket text frames. Invariants: success yields a
 * runner op content object; failure yields a 4xx error with a code and a message; the id never exceeds
 * its bound; and every event built back for that id is valid JSON naming the same id. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sluice/stream_frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_sf_req_t r;
  sl_api_err_t err;
  memset(&r, 0, sizeof r);
  memset(&err, 0, sizeof err);
  int rc = sl_sf_parse((const char *)data, size, &r, &err);
  FUZZ_ASSERT(strlen(r.id) <= SL_SF_ID_MAX);
  if (rc == 0) {
    FUZZ_ASSERT(json_is_object(r.content));
  } else {
    FUZZ_ASSERT(rc == -1 && err.status >= 400 && err.status < 500 && err.code[0] && err.message[0]);
  }
  size_t len = 0;
  unsigned char *ev = sl_sf_event("error", r.id, json_pack("{s:s}", "message", "x"), 16, &len);
  FUZZ_ASSERT(ev != NULL);
  json_error_t je;
  json_t *j = json_loadb((const char *)ev + 16, len, 0, &je);
  FUZZ_ASSERT(j && json_is_object(j));
  if (r.id[0]) FUZZ_ASSERT(!strcmp(json_string_value(json_object_get(j, "id")), r.id));
  json_decref(j);
  free(ev);
  sl_sf_req_clear(&r);
  return 0;
}
