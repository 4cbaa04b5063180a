/* fuzz_toml.c — the config file's TOML subset (protocol/src/toml.c). Invariants: never a crash or an
 * overrun on any bytes; failure always says which line ("line N: ..."); success is a JSON object that
 * survives a JSON round trip unchanged; the same input parses the same way twice. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[160], err2[160];
  /* a copy exactly size bytes long, so reading past the end is caught by ASan */
  char *in = malloc(size ? size : 1);
  FUZZ_ASSERT(in);
  if (size) memcpy(in, data, size);
  json_t *j = sl_toml_parse(in, size, err, sizeof(err));
  json_t *k = sl_toml_parse(in, size, err2, sizeof(err2));
  FUZZ_ASSERT(!j == !k);
  if (!j) {
    FUZZ_ASSERT(strncmp(err, "line ", 5) == 0 && strcmp(err, err2) == 0);
  } else {
    FUZZ_ASSERT(json_is_object(j) && json_equal(j, k));
    char *s = json_dumps(j, JSON_ENCODE_ANY);
    FUZZ_ASSERT(s);
    json_t *back = json_loads(s, JSON_ALLOW_NUL, NULL);
    FUZZ_ASSERT(back && json_equal(back, j));
    json_decref(back);
    free(s);
  }
  json_decref(j);
  json_decref(k);
  free(in);
  return 0;
}
