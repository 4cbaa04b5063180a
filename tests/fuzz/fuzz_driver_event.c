/* fuzz_driver_event.c — sl_driver_event_parse on arbitrary lines. Invariants: a parsed event is an
 * object with a string "type", no string in it holds a NUL, and a tiny error buffer changes nothing. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/driver.h"

static void no_nul(json_t *j) {
  size_t i;
  const char *k;
  json_t *v;
  if (json_is_string(j)) FUZZ_ASSERT(!memchr(json_string_value(j), 0, json_string_length(j)));
  else if (json_is_array(j)) json_array_foreach(j, i, v) no_nul(v);
  else if (json_is_object(j)) json_object_foreach(j, k, v) no_nul(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[160];
  err[0] = 0;
  json_t *j = sl_driver_event_parse((const char *)data, size, err, sizeof err);
  if (j) {
    FUZZ_ASSERT(json_is_object(j) && json_is_string(json_object_get(j, "type")));
    no_nul(j);
  } else {
    FUZZ_ASSERT(err[0] != 0);
  }
  char tiny[1];
  json_t *k = sl_driver_event_parse((const char *)data, size, tiny, sizeof tiny);
  FUZZ_ASSERT(!j == !k);
  if (j) FUZZ_ASSERT(json_equal(j, k));
  json_decref(k);
  json_decref(j);
  return 0;
}
