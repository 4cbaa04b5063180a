/* test_stream_frames.c — the stream websocket's request codec (protocol/src/stream_frames.c): each
 * request type's runner op, and the error (code, kept id) of bad frames. */
#include "sluice/stream_frames.h"

#include "sluice/ops.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

/* Parses text; returns the error code ("" on success). *out is cleared by the caller. */
static const char *parse(const char *text, sl_sf_req_t *out) {
  static sl_api_err_t err;
  memset(&err, 0, sizeof err);
  int rc = sl_sf_parse(text, strlen(text), out, &err);
  if (rc == 0) return "";
  CHECK(err.status == 400 && err.message[0]);
  return err.code;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t num(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

static void test_watch_unwatch(void) {
  sl_sf_req_t r;
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"w\",\"path\":\"/home/user\",\"recursive\":true}", &r), "");
  CHECK_EQ_INT(r.type, SL_SF_WATCH);
  CHECK_STREQ(r.id, "w");
  CHECK_STREQ(str(r.content, "op"), "start");
  CHECK_STREQ(str(r.content, "path"), "/home/user");
  CHECK(json_is_true(json_object_get(r.content, "recursive")));
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":1,\"path\":\"rel/dir\"}", &r), "");
  CHECK(json_is_false(json_object_get(r.content, "recursive")));
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"a\"}", &r), "invalid_path");
  CHECK_STREQ(r.id, "a");
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"a\",\"path\":\"\"}", &r), "invalid_path");
  /* a NUL in a string never gets past the JSON decoder */
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"a\",\"path\":\"a\\u0000b\"}", &r), "invalid_frame");
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"a\",\"path\":\"/\",\"recursive\":1}", &r), "invalid_request");
  CHECK_STREQ(parse("{\"type\":\"watch\",\"id\":\"a\",\"path\":\"/\",\"depth\":1}", &r), "invalid_request");
  char big[SL_OP_MAX_PATH + 64];
  snprintf(big, sizeof big, "{\"type\":\"watch\",\"id\":\"a\",\"path\":\"/%0*d\"}", SL_OP_MAX_PATH, 0);
  CHECK_STREQ(parse(big, &r), "invalid_path");

  CHECK_STREQ(parse("{\"type\":\"unwatch\",\"id\":\"u\",\"watch_id\":\"w\"}", &r), "");
  CHECK_EQ_INT(r.type, SL_SF_UNWATCH);
  CHECK_STREQ(r.target, "w");
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"unwatch\",\"id\":\"u\",\"watch_id\":42}", &r), "");
  CHECK_STREQ(r.target, "42");
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"unwatch\",\"id\":\"u\"}", &r), "invalid_request");
  CHECK_STREQ(parse("{\"type\":\"unwatch\",\"id\":\"u\",\"watch_id\":\"\"}", &r), "invalid_request");
  CHECK_STREQ(parse("{\"type\":\"unwatch\",\"id\":\"u\",\"watch_id\":[1]}", &r), "invalid_request");
}

static void test_pty_and_resize(void) {
  sl_sf_req_t r;
  CHECK_STREQ(parse("{\"type\":\"process_start\",\"id\":\"p\",\"cmd\":\"bash\",\"pty\":{\"rows\":24,\"cols\":80}}", &r), "");
  CHECK_EQ_INT(r.type, SL_SF_PROC_START);
  CHECK(r.pty);
  CHECK(json_is_true(json_object_get(r.content, "hold"))); /* its output waits for the attach */
  CHECK_EQ_INT(num(json_object_get(r.content, "pty"), "rows"), 24);
  CHECK_EQ_INT(num(json_object_get(r.content, "pty"), "cols"), 80);
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"process_start\",\"id\":\"p\",\"cmd\":\"ls\"}", &r), "");
  CHECK(!r.pty && !json_object_get(r.content, "pty"));
  sl_sf_req_clear(&r);
  static const char *const bad_pty[] = {"{\"rows\":0,\"cols\":80}", "{\"rows\":24,\"cols\":1001}", "{\"rows\":24}",
                                        "{\"rows\":\"24\",\"cols\":80}", "[24,80]", "{\"rows\":24,\"cols\":80,\"x\":1}",
                                        "true"};
  for (size_t i = 0; i < sizeof bad_pty / sizeof bad_pty[0]; i++) {
    char f[200];
    snprintf(f, sizeof f, "{\"type\":\"process_start\",\"id\":\"p\",\"cmd\":\"x\",\"pty\":%s}", bad_pty[i]);
    CHECK_STREQ(parse(f, &r), "invalid_pty");
  }
  CHECK_STREQ(parse("{\"type\":\"resize\",\"id\":\"r\",\"pid\":7,\"rows\":33,\"cols\":101}", &r), "");
  CHECK_EQ_INT(r.type, SL_SF_RESIZE);
  CHECK_EQ_INT(r.pid, 7);
  CHECK_STREQ(str(r.content, "op"), "resize");
  CHECK_EQ_INT(num(r.content, "pid"), 7);
  CHECK_EQ_INT(num(json_object_get(r.content, "pty"), "rows"), 33);
  CHECK_EQ_INT(num(json_object_get(r.content, "pty"), "cols"), 101);
  sl_sf_req_clear(&r);
  CHECK_STREQ(parse("{\"type\":\"resize\",\"id\":\"r\",\"pid\":7,\"rows\":0,\"cols\":1}", &r), "invalid_pty");
  CHECK_STREQ(parse("{\"type\":\"resize\",\"id\":\"r\",\"pid\":7}", &r), "invalid_pty");
  CHECK_STREQ(parse("{\"type\":\"resize\",\"id\":\"r\",\"rows\":1,\"cols\":1}", &r), "invalid_pid");
  CHECK_STREQ(parse("{\"type\":\"resize\",\"id\":\"r\",\"pid\":7,\"rows\":1,\"cols\":1,\"x\":0}", &r),
              "invalid_request");
}

static void test_event_frame(void) {
  size_t len = 0;
  unsigned char *b = sl_sf_event("fs_event", "w", json_pack("{s:s, s:s, s:s}", "event", "rename", "path", "/b", "from", "/a"),
                                 4, &len);
  REQUIRE(b);
  json_t *j = json_loadb((const char *)b + 4, len, 0, NULL);
  CHECK_STREQ(str(j, "type"), "fs_event");
  CHECK_STREQ(str(j, "id"), "w");
  CHECK_STREQ(str(j, "event"), "rename");
  CHECK_STREQ(str(j, "from"), "/a");
  json_decref(j);
  free(b);
}

int main(void) {
  SL_RUN(test_watch_unwatch);
  SL_RUN(test_pty_and_resize);
  SL_RUN(test_event_frame);
  return sl_test_summary();
}
