/* test_toml.c — the config file's TOML subset (protocol/src/toml.c): what it accepts, what it refuses
 * (with the line), and that it agrees with JSON on the same settings. */
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sluice/toml.h"

static json_t *parse(const char *s, char *err, size_t errlen) { return sl_toml_parse(s, strlen(s), err, errlen); }

static void t_values(void) {
  char err[128];
  json_t *j = parse("# comment\n"
                    "a = 1\n"
                    "b = -1_000  # trailing\n"
                    "s = \"q\\\"\\\\\\n\\u00e9\"\n"
                    "l = 'C:\\raw'\n"
                    "t = true\nf = false\n"
                    "arr = [1, 2,\n  3, ] \n"
                    "in = { x = 1, y.z = \"w\" }\n"
                    "dotted.key = 5\n"
                    "\"quoted key\" = 0\n"
                    "\n[pool]\npython = 2\n"
                    "[package_index]\r\npython = \"http://x/simple\"\r\n"
                    "[a2.b]\nc = []\n",
                    err, sizeof(err));
  REQUIRE(j);
  json_t *want = json_loads("{\"a\":1,\"b\":-1000,\"s\":\"q\\\"\\\\\\n\\u00e9\",\"l\":\"C:\\\\raw\",\"t\":true,\"f\":false,"
                            "\"arr\":[1,2,3],\"in\":{\"x\":1,\"y\":{\"z\":\"w\"}},\"dotted\":{\"key\":5},\"quoted key\":0,"
                            "\"pool\":{\"python\":2},\"package_index\":{\"python\":\"http://x/simple\"},"
                            "\"a2\":{\"b\":{\"c\":[]}}}",
                            0, NULL);
  REQUIRE(want);
  CHECK(json_equal(j, want));
  json_decref(j);
  json_decref(want);
  j = parse("", err, sizeof(err));
  CHECK(j && json_object_size(j) == 0);
  json_decref(j);
}

static void t_refusals(void) {
  static const struct {
    const char *text, *want;
  } BAD[] = {
      {"a = 1\na = 2\n", "line 2: duplicate key"},
      {"a = 1.5\n", "line 1: only decimal"},
      {"a = 2026-01-01\n", "only decimal"},
      {"a = 0x10\n", "only decimal"},
      {"a = inf\n", "floats"},
      {"a = \"open\n", "unterminated"},
      {"a = \"\"\"x\"\"\"\n", "multi-line"},
      {"a = 1 b = 2\n", "after a value"},
      {"[t]\n[t]\n", "line 2: table [t] defined twice"},
      {"[[t]]\n", "arrays of tables"},
      {"a = 1\n[a]\n", "not a table"},
      {"= 1\n", "expected a key"},
      {"a 1\n", "expected '='"},
      {"a = [1 2]\n", "expected ','"},
      {"a = \"\\q\"\n", "unknown escape"},
      {"a = \"\\ud800\"\n", "bad unicode"},
      {"a = 01\n", "leading zeros"},
      {"a = 9999999999999999999\n", "out of range"},
      {"a = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]\n", "nested too deep"},
      {"a = \"\xff\"\n", "UTF-8"},
  };
  for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
    char err[128] = "";
    json_t *j = parse(BAD[i].text, err, sizeof(err));
    if (j || !strstr(err, BAD[i].want)) fprintf(stderr, "  case %zu: got '%s', want '%s'\n", i, err, BAD[i].want);
    CHECK(!j && strstr(err, BAD[i].want));
    json_decref(j);
  }
}

static void t_bounds(void) {
  char err[128];
  size_t n = SL_TOML_MAX_INPUT + 1;
  char *big = malloc(n);
  REQUIRE(big);
  memset(big, '\n', n);
  CHECK(!sl_toml_parse(big, n, err, sizeof(err)) && strstr(err, "larger"));
  free(big);
  char longs[SL_TOML_MAX_STR + 32];
  memcpy(longs, "a = \"", 5);
  memset(longs + 5, 'x', SL_TOML_MAX_STR);
  memcpy(longs + 5 + SL_TOML_MAX_STR, "\"\n", 3);
  CHECK(!parse(longs, err, sizeof(err)) && strstr(err, "longer"));
  /* err may be tiny, even empty */
  CHECK(!sl_toml_parse("a = ", 4, err, 1) && err[0] == 0);
  CHECK(!sl_toml_parse("a = ", 4, NULL, 0));
}

int main(void) {
  SL_RUN(t_values);
  SL_RUN(t_refusals);
  SL_RUN(t_bounds);
  return sl_test_summary();
}
