/* test_gw_policy.c — the create body's isolation fields: capability names (400 for unknown ones, ALL
 * only in cap_drop) and env files (KEY=VALUE lines, comments, quotes, the body's env winning). */
#include <string.h>

#include "sluice/api.h"
#include "tcheck.h"

static int create_status(const char *body_text) {
  json_t *body = json_loads(body_text, 0, NULL), *rec = NULL;
  sl_api_err_t err = {0};
  int rc = sl_api_parse_create(body, &rec, &err);
  json_decref(body);
  json_decref(rec);
  return rc == 0 ? 200 : err.status;
}

static void test_caps(void) {
  CHECK(sl_api_cap_parse("CHOWN") == 0);
  CHECK(sl_api_cap_parse("cap_net_raw") == 13);
  CHECK(sl_api_cap_parse("CAP_SYS_ADMIN") == 21);
  CHECK(sl_api_cap_parse("checkpoint_restore") == 40);
  CHECK(sl_api_cap_parse("ALL") == SL_API_CAP_ALL);
  CHECK(sl_api_cap_parse("NET_RAWX") == -1 && sl_api_cap_parse("") == -1 && sl_api_cap_parse(NULL) == -1);
  CHECK(create_status("{\"cap_add\": [\"CHOWN\"], \"cap_drop\": [\"NET_RAW\", \"ALL\"]}") == 200);
  CHECK(create_status("{\"cap_add\": [\"CHOWNS\"]}") == 400);
  CHECK(create_status("{\"cap_drop\": [\"bogus\"]}") == 400);
  CHECK(create_status("{\"cap_add\": [\"ALL\"]}") == 400);
  CHECK(create_status("{\"cap_add\": \"CHOWN\"}") == 400);
}

static void test_env_file(void) {
  const char *text = "# comment\n\nA=1\nexport B = two words \r\nC=\"quoted=x\"\nD='single'\nE=\nA=last\n  F=x # kept\n";
  json_t *env = json_pack("{s:s}", "D", "from-body");
  sl_api_err_t err;
  CHECK(sl_api_parse_env_file(text, strlen(text), env, &err) == 0);
  CHECK(!strcmp(json_string_value(json_object_get(env, "A")), "last"));
  CHECK(!strcmp(json_string_value(json_object_get(env, "B")), "two words"));
  CHECK(!strcmp(json_string_value(json_object_get(env, "C")), "quoted=x"));
  CHECK(!strcmp(json_string_value(json_object_get(env, "D")), "from-body"));
  CHECK(!strcmp(json_string_value(json_object_get(env, "E")), ""));
  CHECK(!strcmp(json_string_value(json_object_get(env, "F")), "x # kept"));
  CHECK(json_object_size(env) == 6);
  json_decref(env);

  env = json_object();
  CHECK(sl_api_parse_env_file("A=1\nnot a line\n", 15, env, &err) == -1 && err.status == 400 &&
        strstr(err.message, "line 2"));
  CHECK(sl_api_parse_env_file("=x\n", 3, env, &err) == -1);
  CHECK(sl_api_parse_env_file("1A=x\n", 5, env, &err) == -1);
  CHECK(sl_api_parse_env_file("A=\xff\n", 4, env, &err) == -1);
  CHECK(sl_api_parse_env_file("A=x\0B=y", 7, env, &err) == -1);
  CHECK(sl_api_parse_env_file("", 0, env, &err) == 0);
  CHECK(json_object_size(env) == 0); /* a failed file adds nothing */
  json_decref(env);
}

int main(void) {
  test_caps();
  test_env_file();
  T_DONE();
}
