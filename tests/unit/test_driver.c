/* test_driver.c — runner ⇄ driver event lines and supervisor ⇄ init control packets (driver.c). */
#include "sluice/driver.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

typedef json_t *(*parse_fn)(const char *, size_t, char *, size_t);

/* 0 when parsed (and the result is a new object with the same "type"), -1 when refused with a reason. */
static int try_parse(parse_fn f, const char *text) {
  char err[256] = "";
  json_t *j = f(text, strlen(text), err, sizeof err);
  int rc;
  if (j) {
    rc = json_is_object(j) && json_is_string(json_object_get(j, "type")) && j->refcount == 1 ? 0 : -3;
    json_decref(j);
  } else {
    rc = err[0] ? -1 : -4;
  }
  return rc;
}

#define EV_OK(s) CHECK_EQ_INT(try_parse(sl_driver_event_parse, s), 0)
#define EV_BAD(s) CHECK_EQ_INT(try_parse(sl_driver_event_parse, s), -1)
#define CTL_OK(s) CHECK_EQ_INT(try_parse(sl_ctl_parse, s), 0)
#define CTL_BAD(s) CHECK_EQ_INT(try_parse(sl_ctl_parse, s), -1)

static void test_driver_events(void) {
  EV_OK("{\"type\":\"ready\",\"language\":\"python\",\"version\":\"3.11.2\"}");
  EV_OK("{\"type\":\"ready\",\"language\":\"bash\"}");
  EV_BAD("{\"type\":\"ready\"}");

  EV_OK("{\"type\":\"result\",\"id\":1,\"data\":{\"text/plain\":\"2\"},\"metadata\":{},\"is_main_result\":true,"
        "\"execution_count\":1}");
  EV_OK("{\"type\":\"result\",\"id\":1,\"data\":{}}");
  EV_BAD("{\"type\":\"result\",\"id\":1,\"data\":\"2\"}");
  EV_BAD("{\"type\":\"result\",\"id\":1,\"data\":{},\"metadata\":[]}");
  EV_BAD("{\"type\":\"result\",\"data\":{}}");
  EV_BAD("{\"type\":\"result\",\"id\":\"1\",\"data\":{}}");

  EV_OK("{\"type\":\"display\",\"id\":2,\"data\":{\"image/png\":\"x\"},\"metadata\":{},\"transient\":{},"
        "\"update\":false}");
  EV_OK("{\"type\":\"display\",\"id\":2,\"data\":{},\"transient\":{\"display_id\":\"d\"},\"update\":true}");
  EV_BAD("{\"type\":\"display\",\"id\":2,\"data\":{},\"transient\":\"d\"}");
  EV_BAD("{\"type\":\"display\",\"id\":2,\"data\":{},\"update\":1}");

  EV_OK("{\"type\":\"clear_output\",\"id\":3,\"wait\":true}");
  EV_OK("{\"type\":\"clear_output\",\"id\":3}");
  EV_BAD("{\"type\":\"clear_output\",\"id\":3,\"wait\":\"y\"}");

  EV_OK("{\"type\":\"input_request\",\"id\":4,\"prompt\":\"name? \",\"password\":false}");
  EV_BAD("{\"type\":\"input_request\",\"id\":4}");
  EV_OK("{\"type\":\"introspect\",\"id\":6,\"what\":\"complete\",\"args\":{\"code\":\"pr\"}}");
  EV_OK("{\"type\":\"introspect_reply\",\"id\":6,\"reply\":{\"status\":\"ok\",\"matches\":[]}}");
  EV_BAD("{\"type\":\"introspect_reply\",\"id\":6,\"reply\":\"x\"}");
  EV_BAD("{\"type\":\"introspect_reply\",\"id\":6}");

  EV_OK("{\"type\":\"error\",\"id\":5,\"ename\":\"ValueError\",\"evalue\":\"x\",\"traceback\":[\"l1\",\"l2\"]}");
  EV_BAD("{\"type\":\"error\",\"id\":5,\"ename\":\"ValueError\",\"evalue\":\"x\",\"traceback\":[1]}");
  EV_BAD("{\"type\":\"error\",\"id\":5,\"ename\":\"ValueError\",\"evalue\":\"x\",\"traceback\":{}}");
  EV_BAD("{\"type\":\"error\",\"id\":5,\"ename\":\"ValueError\",\"traceback\":[]}");

  EV_OK("{\"type\":\"done\",\"id\":6,\"status\":\"ok\",\"execution_count\":3}");
  EV_OK("{\"type\":\"done\",\"id\":6,\"status\":\"error\"}");
  EV_BAD("{\"type\":\"done\",\"id\":6,\"status\":\"maybe\"}");
  EV_BAD("{\"type\":\"done\",\"id\":6}");

  /* drivers may add fields: event shapes are open */
  EV_OK("{\"type\":\"done\",\"id\":6,\"status\":\"ok\",\"elapsed\":0.1}");
}

/* The runner's requests to the driver parse with the same function (a driver-side harness uses it). */
static void test_driver_requests(void) {
  EV_OK("{\"type\":\"execute\",\"id\":1,\"code\":\"print(1)\",\"silent\":false,\"store_history\":true}");
  EV_OK("{\"type\":\"execute\",\"id\":1,\"code\":\"\"}");
  EV_BAD("{\"type\":\"execute\",\"id\":1}");
  EV_OK("{\"type\":\"input_reply\",\"id\":1,\"value\":\"Ada\"}");
  EV_OK("{\"type\":\"input_reply\",\"id\":1,\"error\":\"no client can answer\"}");
  EV_BAD("{\"type\":\"input_reply\",\"id\":1}");
  EV_BAD("{\"type\":\"input_reply\",\"id\":1,\"value\":\"a\",\"error\":\"b\"}");
  EV_BAD("{\"type\":\"input_reply\",\"id\":1,\"value\":5}");
}

static void test_malformed_lines(void) {
  EV_BAD("");
  EV_BAD("not json");
  EV_BAD("{\"type\":\"done\",\"id\":6,\"status\":\"ok\"");      /* truncated */
  EV_BAD("[{\"type\":\"done\"}]");                              /* not an object */
  EV_BAD("\"done\"");
  EV_BAD("{}");                                                 /* no type */
  EV_BAD("{\"type\":7}");
  EV_BAD("{\"type\":\"nope\",\"id\":1}");
  EV_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":0}"); /* ctl, not an event */
  EV_BAD("{\"type\":\"done\",\"type\":\"done\",\"id\":1,\"status\":\"ok\"}");               /* duplicate key */
  EV_BAD("{\"type\":\"done\",\"id\":1,\"status\":\"ok\"} {}");                             /* trailing data */
  EV_BAD("{\"type\":\"ready\",\"language\":\"\xff\"}");                                   /* invalid UTF-8 */
  /* embedded NUL: the length, not strlen, delimits the line */
  const char nul[] = "{\"type\":\"ready\",\"language\":\"py\"}\0garbage";
  char err[128];
  json_t *j = sl_driver_event_parse(nul, sizeof nul - 1, err, sizeof err);
  CHECK(j == NULL);
  json_decref(j);
  j = sl_driver_event_parse(nul, strlen(nul), err, sizeof err);
  CHECK(j != NULL);
  json_decref(j);
  /* NULL/0 error buffer */
  CHECK(sl_driver_event_parse("x", 1, NULL, 0) == NULL);
}

/* A NUL that user code put into a string (Python's json.dumps writes it as \u0000) must not break the
 * driver protocol: it becomes U+FFFD, wherever it sits. Control packets keep refusing it. */
static void test_nul_in_strings(void) {
  const char *line = "{\"type\":\"error\",\"id\":1,\"ename\":\"ValueError\",\"evalue\":\"a\\u0000b\","
                     "\"traceback\":[\"\\u0000\",\"ok\"],\"extra\":{\"deep\":[{\"x\":\"\\u0000\\u0000\"}]}}";
  char err[128];
  json_t *j = sl_driver_event_parse(line, strlen(line), err, sizeof err);
  REQUIRE(j);
  json_t *ev = json_object_get(j, "evalue");
  CHECK(json_string_length(ev) == 5 && memcmp(json_string_value(ev), "a\xEF\xBF\xBD" "b", 5) == 0);
  CHECK_STREQ(json_string_value(json_array_get(json_object_get(j, "traceback"), 0)), "\xEF\xBF\xBD");
  CHECK_STREQ(json_string_value(json_array_get(json_object_get(j, "traceback"), 1)), "ok");
  json_t *deep = json_object_get(json_array_get(json_object_get(json_object_get(j, "extra"), "deep"), 0), "x");
  CHECK_STREQ(json_string_value(deep), "\xEF\xBF\xBD\xEF\xBF\xBD");
  json_decref(j);
  /* the type itself cannot be smuggled through */
  EV_BAD("{\"type\":\"done\\u0000\",\"id\":1,\"status\":\"ok\"}");
  /* NUL in a key is still refused by jansson */
  EV_BAD("{\"type\":\"done\",\"id\":1,\"status\":\"ok\",\"a\\u0000b\":1}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"sh\\u0000-c\"],\"env\":[],\"cwd\":\"/\",\"fds\":0}");
  CTL_BAD("{\"type\":\"spawned\",\"tag\":1,\"pid\":0,\"error\":\"\\u0000\"}");
}

static void test_line_cap(void) {
  /* a line one byte over the cap is refused before any parsing (no need to fill it) */
  char err[128];
  const char small[] = "{\"type\":\"ready\",\"language\":\"py\"}";
  CHECK(sl_driver_event_parse(small, SL_DRIVER_MAX_LINE + 1, err, sizeof err) == NULL);
  CHECK(strstr(err, "over") != NULL);
  CHECK(sl_ctl_parse(small, SL_CTL_MAX_PACKET + 1, err, sizeof err) == NULL);
  CHECK(strstr(err, "over") != NULL);
  /* a long but legal line */
  size_t n = 1u << 20;
  char *big = malloc(n + 64);
  REQUIRE(big);
  int k = snprintf(big, 64, "{\"type\":\"execute\",\"id\":1,\"code\":\"");
  memset(big + k, 'a', n);
  memcpy(big + k + n, "\"}", 3);
  json_t *j = sl_driver_event_parse(big, strlen(big), err, sizeof err);
  CHECK(j && json_string_length(json_object_get(j, "code")) == n);
  json_decref(j);
  free(big);
}

static void test_ctl(void) {
  CTL_OK("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"/bin/sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
         "\"fds\":3}");
  CTL_OK("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":0}");
  CTL_OK("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":8}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":9}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":-1}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[],\"env\":[],\"cwd\":\"/\",\"fds\":0}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[1],\"env\":[],\"cwd\":\"/\",\"fds\":0}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":{\"A\":\"1\"},\"cwd\":\"/\",\"fds\":0}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"fds\":0}");
  CTL_BAD("{\"type\":\"spawn\",\"tag\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\",\"fds\":0,\"uid\":0}"); /* closed */

  CTL_OK("{\"type\":\"signal\",\"pid\":42,\"signal\":9,\"group\":true}");
  CTL_OK("{\"type\":\"signal\",\"pid\":42,\"signal\":2}");
  CTL_BAD("{\"type\":\"signal\",\"pid\":42}");
  CTL_BAD("{\"type\":\"signal\",\"pid\":\"42\",\"signal\":9}");

  CTL_OK("{\"type\":\"spawned\",\"tag\":1,\"pid\":42}");
  CTL_OK("{\"type\":\"spawned\",\"tag\":1,\"pid\":0,\"error\":\"ENOENT\"}");
  CTL_BAD("{\"type\":\"spawned\",\"tag\":1}");

  CTL_OK("{\"type\":\"exited\",\"pid\":42,\"status\":256}");
  CTL_BAD("{\"type\":\"exited\",\"pid\":42}");
  CTL_BAD("{\"type\":\"exited\",\"pid\":42,\"status\":0,\"core\":false}");

  /* driver events are not control packets */
  CTL_BAD("{\"type\":\"done\",\"id\":1,\"status\":\"ok\"}");
  CTL_BAD("{}");
  CTL_BAD("[]");
  CTL_BAD("");
}

int main(void) {
  SL_RUN(test_driver_events);
  SL_RUN(test_driver_requests);
  SL_RUN(test_malformed_lines);
  SL_RUN(test_nul_in_strings);
  SL_RUN(test_line_cap);
  SL_RUN(test_ctl);
  return sl_test_summary();
}
