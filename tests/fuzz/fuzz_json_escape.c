/* fuzz_json_escape.c — sl_json_escape and sl_json_dumps (json_out.h) against jansson's json_dumps.
 * Any input that jansson accepts as a string (valid UTF-8, NULs included) must escape to exactly
 * jansson's bytes; every input repaired by sl_utf8_sanitize too. An object holding the text as a long
 * member (spliced) and as a short one dumps identically with both. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/json_out.h"
#include "sluice/util.h"

static void check_string(const char *s, size_t n) {
  json_t *j = json_stringn(s, n);
  if (!j) return; /* not valid UTF-8: outside sl_json_escape's contract */
  char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  char *got = malloc(sl_json_escape_bound(n));
  FUZZ_ASSERT(want && got);
  size_t len = sl_json_escape(s, n, got);
  FUZZ_ASSERT(len <= sl_json_escape_bound(n));
  FUZZ_ASSERT(len == strlen(want) && memcmp(got, want, len) == 0);
  free(got);
  free(want);

  /* the same text as a spliced member (padded past the threshold) between small ones */
  json_t *o = json_pack("{s:s, s:O, s:i}", "type", "stdout", "text", j, "n", 1);
  FUZZ_ASSERT(o);
  if (n < SL_JSON_SPLICE_MIN) {
    char *pad = malloc(SL_JSON_SPLICE_MIN + n);
    FUZZ_ASSERT(pad);
    memset(pad, 'p', SL_JSON_SPLICE_MIN);
    memcpy(pad + SL_JSON_SPLICE_MIN, s, n);
    json_object_set_new(o, "long", json_stringn(pad, SL_JSON_SPLICE_MIN + n));
    free(pad);
  }
  want = json_dumps(o, JSON_COMPACT);
  size_t dl = 0;
  char *d = sl_json_dumps(o, &dl);
  FUZZ_ASSERT(want && d && dl == strlen(want) && strcmp(d, want) == 0);
  free(want);
  free(d);
  json_decref(o);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_string((const char *)data, size);
  size_t olen = 0;
  char *clean = sl_utf8_sanitize((const char *)data, size, &olen);
  FUZZ_ASSERT(clean);
  check_string(clean, olen);
  free(clean);
  return 0;
}
