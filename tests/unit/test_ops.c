/* test_ops.c — the gateway ⇄ runner message catalog validator (protocol/src/ops.c, ops.h). */
#include "sluice/ops.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

/* Validates content (JSON text) as msg_type; returns 0/-1 like sl_op_validate and checks that a
 * failure always comes with a reason. */
static int validate(const char *type, const char *content) {
  json_error_t e;
  json_t *c = json_loads(content, JSON_DECODE_ANY, &e);
  if (!c) {
    fprintf(stderr, "  test bug: bad JSON %s: %s\n", content, e.text);
    return -2;
  }
  sl_msg_t *m = sl_msg_new(type, "s", NULL, c);
  if (!m) return -2;
  char err[256] = "untouched";
  int rc = sl_op_validate(m, err, sizeof err);
  if (rc == 0 && err[0]) rc = -3;                            /* success leaves err empty */
  if (rc < 0 && (!err[0] || !strcmp(err, "untouched"))) rc = -4; /* failure explains itself */
  sl_msg_free(&m);
  return rc;
}

#define OK(type, json) CHECK_EQ_INT(validate(type, json), 0)
#define BAD(type, json) CHECK_EQ_INT(validate(type, json), -1)

static void test_execute_request(void) {
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"print(1)\"}");
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"\"}");
  OK(SL_OP_EXECUTE_REQUEST,
     "{\"code\":\"1\",\"language\":\"python\",\"context_id\":\"c1\",\"timeout_ms\":5000,\"silent\":false,"
     "\"store_history\":true,\"allow_stdin\":false,\"user_expressions\":{},\"env\":{\"A\":\"1\"},"
     "\"stop_on_error\":true}");
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"env\":null}");
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":0}");
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":86400000}");
  OK(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"x-extension\":1}"); /* open shape (Jupyter clients add keys) */
  BAD(SL_OP_EXECUTE_REQUEST, "{}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":1}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":null}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":-1}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":86400001}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":1.5}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"timeout_ms\":\"5\"}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"silent\":\"yes\"}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"env\":{\"A\":1}}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"env\":[\"A=1\"]}");
  BAD(SL_OP_EXECUTE_REQUEST, "{\"code\":\"1\",\"language\":7}");
}

static void test_code_cap(void) {
  char *code = malloc(SL_OP_MAX_CODE_BYTES + 2);
  REQUIRE(code);
  memset(code, 'x', SL_OP_MAX_CODE_BYTES + 1);
  code[SL_OP_MAX_CODE_BYTES + 1] = 0;
  sl_msg_t *m = sl_msg_new(SL_OP_EXECUTE_REQUEST, "s", NULL, json_pack("{s:s}", "code", code));
  char err[128];
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_validate(m, err, sizeof err), -1);
  sl_msg_free(&m);
  code[SL_OP_MAX_CODE_BYTES] = 0; /* exactly at the cap */
  m = sl_msg_new(SL_OP_EXECUTE_REQUEST, "s", NULL, json_pack("{s:s}", "code", code));
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_validate(m, err, sizeof err), 0);
  sl_msg_free(&m);
  /* the same caps on an exec command and its stdin */
  code[SL_OP_MAX_CODE_BYTES] = 'x';
  m = sl_msg_new(SL_OP_EXEC_REQUEST, "s", NULL, json_pack("{s:s}", "command", code));
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_validate(m, err, sizeof err), -1);
  sl_msg_free(&m);
  m = sl_msg_new(SL_OP_EXEC_REQUEST, "s", NULL, json_pack("{s:s, s:s}", "command", "cat", "stdin", code));
  REQUIRE(m);
  CHECK_EQ_INT(sl_op_validate(m, err, sizeof err), -1);
  sl_msg_free(&m);
  free(code);
}

static void test_exec_request(void) {
  OK(SL_OP_EXEC_REQUEST, "{\"command\":\"ls -la\"}");
  OK(SL_OP_EXEC_REQUEST, "{\"argv\":[\"ls\",\"-la\"]}");
  OK(SL_OP_EXEC_REQUEST,
     "{\"command\":\"cat\",\"cwd\":\"/tmp\",\"env\":{\"K\":\"v\"},\"timeout_ms\":1000,\"stdin\":\"hi\"}");
  BAD(SL_OP_EXEC_REQUEST, "{}");                                         /* neither */
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"argv\":[\"ls\"]}");     /* both */
  BAD(SL_OP_EXEC_REQUEST, "{\"argv\":[]}");                              /* empty argv */
  BAD(SL_OP_EXEC_REQUEST, "{\"argv\":[\"ls\",1]}");
  BAD(SL_OP_EXEC_REQUEST, "{\"argv\":\"ls\"}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":[\"ls\"]}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":null}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"cwd\":1}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"stdin\":1}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"env\":{\"K\":false}}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"timeout_ms\":-5}");
  BAD(SL_OP_EXEC_REQUEST, "{\"command\":\"ls\",\"bogus\":1}"); /* closed shape */
}

static void test_small_requests(void) {
  OK(SL_OP_INTERRUPT_REQUEST, "{}");
  OK(SL_OP_INTERRUPT_REQUEST, "{\"context_id\":\"c\"}");
  BAD(SL_OP_INTERRUPT_REQUEST, "{\"context_id\":1}");
  OK(SL_OP_SHUTDOWN_REQUEST, "{\"restart\":false}");
  OK(SL_OP_SHUTDOWN_REQUEST, "{}");
  BAD(SL_OP_SHUTDOWN_REQUEST, "{\"restart\":\"no\"}");
  OK(SL_OP_PING_REQUEST, "{}");
}

static void test_events(void) {
  OK(SL_OP_STATUS, "{\"execution_state\":\"busy\"}");
  OK(SL_OP_STATUS, "{\"execution_state\":\"idle\"}");
  OK(SL_OP_STATUS, "{\"execution_state\":\"starting\"}");
  OK(SL_OP_STATUS, "{\"execution_state\":\"restarting\"}");
  OK(SL_OP_STATUS, "{\"execution_state\":\"dead\"}");
  BAD(SL_OP_STATUS, "{\"execution_state\":\"asleep\"}");
  BAD(SL_OP_STATUS, "{}");

  OK(SL_OP_STREAM, "{\"name\":\"stdout\",\"text\":\"hi\\n\"}");
  OK(SL_OP_STREAM, "{\"name\":\"stderr\",\"text\":\"\"}");
  BAD(SL_OP_STREAM, "{\"name\":\"stdin\",\"text\":\"x\"}");
  BAD(SL_OP_STREAM, "{\"name\":\"stdout\"}");
  BAD(SL_OP_STREAM, "{\"name\":\"stdout\",\"text\":\"x\",\"extra\":1}"); /* closed */

  OK(SL_OP_EXECUTE_RESULT, "{\"execution_count\":3,\"data\":{\"text/plain\":\"2\"},\"metadata\":{}}");
  BAD(SL_OP_EXECUTE_RESULT, "{\"execution_count\":3,\"data\":\"2\",\"metadata\":{}}");
  BAD(SL_OP_EXECUTE_RESULT, "{\"execution_count\":3,\"data\":{}}");
  BAD(SL_OP_EXECUTE_RESULT, "{\"execution_count\":\"3\",\"data\":{},\"metadata\":{}}");

  OK(SL_OP_DISPLAY_DATA, "{\"data\":{\"image/png\":\"iVBOR\"},\"metadata\":{}}");
  OK(SL_OP_DISPLAY_DATA, "{\"data\":{},\"metadata\":{},\"transient\":{\"display_id\":\"d1\"}}");
  BAD(SL_OP_DISPLAY_DATA, "{\"data\":{},\"metadata\":[]}");
  BAD(SL_OP_DISPLAY_DATA, "{\"data\":{},\"metadata\":{},\"transient\":\"d1\"}");

  OK(SL_OP_UPDATE_DISPLAY, "{\"data\":{},\"metadata\":{},\"transient\":{\"display_id\":\"d1\"}}");
  BAD(SL_OP_UPDATE_DISPLAY, "{\"data\":{},\"metadata\":{},\"transient\":{}}");
  BAD(SL_OP_UPDATE_DISPLAY, "{\"data\":{},\"metadata\":{},\"transient\":{\"display_id\":1}}");
  BAD(SL_OP_UPDATE_DISPLAY, "{\"data\":{},\"metadata\":{}}");

  OK(SL_OP_CLEAR_OUTPUT, "{\"wait\":true}");
  BAD(SL_OP_CLEAR_OUTPUT, "{}");

  OK(SL_OP_ERROR, "{\"ename\":\"ZeroDivisionError\",\"evalue\":\"division by zero\",\"traceback\":[\"a\",\"b\"]}");
  OK(SL_OP_ERROR, "{\"ename\":\"E\",\"evalue\":\"\",\"traceback\":[]}");
  BAD(SL_OP_ERROR, "{\"ename\":\"E\",\"evalue\":\"\",\"traceback\":[1]}");
  BAD(SL_OP_ERROR, "{\"ename\":\"E\",\"evalue\":\"\",\"traceback\":\"tb\"}");
  BAD(SL_OP_ERROR, "{\"ename\":\"E\",\"traceback\":[]}");

  OK(SL_OP_HELLO, "{\"sandbox_id\":\"0b7e6a3c-2f4d-4c1e-9a8b-7c6d5e4f3a2b\",\"state\":\"ready\",\"init_pid\":10,"
                  "\"runner_pid\":9}");
  OK(SL_OP_HELLO, "{\"sandbox_id\":\"x\",\"state\":\"error\",\"init_pid\":0,\"runner_pid\":9,\"error\":\"no cgroup\"}");
  BAD(SL_OP_HELLO, "{\"sandbox_id\":\"x\",\"state\":\"dreaming\",\"init_pid\":0,\"runner_pid\":9}");
  BAD(SL_OP_HELLO, "{\"sandbox_id\":\"x\",\"state\":\"ready\",\"init_pid\":0}");
  BAD(SL_OP_HELLO, "{\"sandbox_id\":\"x\",\"state\":\"ready\",\"init_pid\":0,\"runner_pid\":9,\"more\":1}");
}

static void test_introspect_stdin(void) {
  OK(SL_OP_INTROSPECT_REQUEST, "{\"what\":\"complete\",\"code\":\"pri\",\"cursor_pos\":3}");
  OK(SL_OP_INTROSPECT_REQUEST, "{\"what\":\"history\",\"hist_access_type\":\"tail\",\"n\":10}");
  BAD(SL_OP_INTROSPECT_REQUEST, "{\"what\":\"execute\",\"code\":\"1\"}");
  BAD(SL_OP_INTROSPECT_REQUEST, "{\"what\":\"inspect\",\"cursor_pos\":\"3\"}");
  BAD(SL_OP_INTROSPECT_REQUEST, "{\"code\":\"1\"}");
  OK(SL_OP_INTROSPECT_REPLY, "{\"status\":\"ok\",\"reply\":{\"status\":\"complete\"}}");
  OK(SL_OP_INTROSPECT_REPLY, "{\"status\":\"busy\"}");
  BAD(SL_OP_INTROSPECT_REPLY, "{\"status\":\"ok\",\"reply\":[]}");
  OK(SL_OP_STDIN_REQUEST, "{\"msg_id\":\"m\",\"value\":\"ada\"}");
  OK(SL_OP_STDIN_REQUEST, "{\"msg_id\":\"m\",\"error\":\"nobody\"}");
  BAD(SL_OP_STDIN_REQUEST, "{\"msg_id\":\"m\"}");
  BAD(SL_OP_STDIN_REQUEST, "{\"msg_id\":\"m\",\"value\":\"a\",\"error\":\"b\"}");
  BAD(SL_OP_STDIN_REQUEST, "{\"value\":\"a\"}");
  OK(SL_OP_STDIN_REPLY, "{\"status\":\"ok\",\"delivered\":true}");
  BAD(SL_OP_STDIN_REPLY, "{\"status\":\"ok\"}");
  OK(SL_OP_INPUT_REQUEST, "{\"prompt\":\"who? \",\"password\":false}");
  BAD(SL_OP_INPUT_REQUEST, "{\"prompt\":\"who? \"}");
  CHECK(sl_op_is_reply(SL_OP_INTROSPECT_REPLY) && sl_op_is_reply(SL_OP_STDIN_REPLY));
  CHECK(!sl_op_is_reply(SL_OP_INTROSPECT_REQUEST) && !sl_op_is_reply(SL_OP_INPUT_REQUEST));
}

static void test_replies(void) {
  OK(SL_OP_EXECUTE_REPLY, "{\"status\":\"ok\",\"execution_count\":1}");
  OK(SL_OP_EXECUTE_REPLY, "{\"status\":\"aborted\",\"execution_count\":1}");
  OK(SL_OP_EXECUTE_REPLY,
     "{\"status\":\"error\",\"execution_count\":2,\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[\"t\"]}");
  BAD(SL_OP_EXECUTE_REPLY, "{\"status\":\"fine\",\"execution_count\":1}");
  BAD(SL_OP_EXECUTE_REPLY, "{\"status\":\"ok\"}");
  BAD(SL_OP_EXECUTE_REPLY, "{\"status\":\"error\",\"execution_count\":2,\"traceback\":\"t\"}");

  OK(SL_OP_EXEC_REPLY, "{\"exit_code\":0,\"cwd\":\"/home/user\",\"duration_ms\":12,\"timed_out\":false}");
  OK(SL_OP_EXEC_REPLY, "{\"exit_code\":-1,\"cwd\":\"\",\"duration_ms\":0,\"timed_out\":true,\"error\":\"spawn\"}");
  BAD(SL_OP_EXEC_REPLY, "{\"exit_code\":0,\"cwd\":\"/\",\"duration_ms\":1}");
  BAD(SL_OP_EXEC_REPLY, "{\"exit_code\":\"0\",\"cwd\":\"/\",\"duration_ms\":1,\"timed_out\":false}");
  BAD(SL_OP_EXEC_REPLY, "{\"exit_code\":0,\"cwd\":\"/\",\"duration_ms\":1,\"timed_out\":false,\"x\":1}");

  OK(SL_OP_INTERRUPT_REPLY, "{\"status\":\"ok\"}");
  BAD(SL_OP_INTERRUPT_REPLY, "{}");
  OK(SL_OP_SHUTDOWN_REPLY, "{\"status\":\"ok\",\"restart\":false}");
  OK(SL_OP_SHUTDOWN_REPLY, "{\"status\":\"ok\"}");
  OK(SL_OP_PING_REPLY, "{\"status\":\"ok\"}");
  BAD(SL_OP_PING_REPLY, "{\"status\":true}");

  OK(SL_OP_ERROR_REPLY, "{\"status\":\"error\",\"code\":\"bad_request\",\"message\":\"no code\"}");
  BAD(SL_OP_ERROR_REPLY, "{\"status\":\"ok\",\"code\":\"bad_request\",\"message\":\"no code\"}");
  BAD(SL_OP_ERROR_REPLY, "{\"status\":\"error\",\"code\":\"c\"}");
  BAD(SL_OP_ERROR_REPLY, "{\"status\":\"error\",\"code\":\"c\",\"message\":\"m\",\"x\":1}");
}

static void test_unknown_and_malformed(void) {
  BAD("kernel_info_request", "{}");
  BAD("", "{}");
  BAD("execute_request ", "{\"code\":\"1\"}");
  /* content that is not an object */
  BAD(SL_OP_PING_REQUEST, "[]");
  BAD(SL_OP_PING_REQUEST, "\"x\"");
  BAD(SL_OP_PING_REQUEST, "null");
  /* a message without header or content */
  sl_msg_t m = {0};
  char err[64];
  CHECK_EQ_INT(sl_op_validate(&m, err, sizeof err), -1);
  CHECK(strstr(err, "unknown") != NULL);
  /* tiny and absent error buffers are fine */
  sl_msg_t *p = sl_msg_new("no_such_type", "s", NULL, NULL);
  REQUIRE(p);
  char one[1] = {'x'};
  CHECK_EQ_INT(sl_op_validate(p, one, sizeof one), -1);
  CHECK_EQ_INT(one[0], 0);
  CHECK_EQ_INT(sl_op_validate(p, NULL, 0), -1);
  sl_msg_free(&p);
  p = sl_msg_new(SL_OP_STREAM, "s", NULL, json_pack("{s:s}", "name", "stdout"));
  REQUIRE(p);
  CHECK_EQ_INT(sl_op_validate(p, NULL, 0), -1);
  CHECK_EQ_INT(sl_op_validate(p, one, sizeof one), -1);
  sl_msg_free(&p);
}

static void test_is_reply(void) {
  const char *replies[] = {SL_OP_EXECUTE_REPLY, SL_OP_EXEC_REPLY, SL_OP_INTERRUPT_REPLY,
                           SL_OP_SHUTDOWN_REPLY, SL_OP_PING_REPLY, SL_OP_ERROR_REPLY};
  const char *others[] = {SL_OP_EXECUTE_REQUEST, SL_OP_EXEC_REQUEST, SL_OP_INTERRUPT_REQUEST,
                          SL_OP_SHUTDOWN_REQUEST, SL_OP_PING_REQUEST, SL_OP_HELLO, SL_OP_STATUS,
                          SL_OP_STREAM, SL_OP_EXECUTE_RESULT, SL_OP_DISPLAY_DATA, SL_OP_UPDATE_DISPLAY,
                          SL_OP_CLEAR_OUTPUT, SL_OP_ERROR, "", "kernel_info_reply"};
  for (size_t i = 0; i < sizeof replies / sizeof *replies; i++) CHECK(sl_op_is_reply(replies[i]));
  for (size_t i = 0; i < sizeof others / sizeof *others; i++) CHECK(!sl_op_is_reply(others[i]));
}

static void test_watch_attach_cancel(void) {
  OK(SL_OP_WATCH_REQUEST, "{\"op\":\"start\",\"path\":\"/home/user\",\"recursive\":true}");
  OK(SL_OP_WATCH_REQUEST, "{\"op\":\"start\",\"path\":\"rel\"}");
  OK(SL_OP_WATCH_REQUEST, "{\"op\":\"stop\",\"msg_id\":\"abc\"}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"start\"}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"start\",\"path\":\"\"}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"stop\"}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"pause\",\"path\":\"/\"}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"start\",\"path\":\"/\",\"recursive\":1}");
  BAD(SL_OP_WATCH_REQUEST, "{\"op\":\"start\",\"path\":\"/\",\"extra\":1}");
  OK(SL_OP_FS_EVENT, "{\"event\":\"watching\",\"path\":\"/w\"}");
  OK(SL_OP_FS_EVENT, "{\"event\":\"rename\",\"path\":\"/w/b\",\"from\":\"/w/a\"}");
  OK(SL_OP_FS_EVENT, "{\"event\":\"overflow\"}");
  BAD(SL_OP_FS_EVENT, "{\"event\":\"moved\",\"path\":\"/w\"}");
  BAD(SL_OP_FS_EVENT, "{\"event\":\"create\",\"path\":1}");
  OK(SL_OP_WATCH_REPLY, "{\"status\":\"ok\"}");
  OK(SL_OP_WATCH_REPLY, "{\"status\":\"error\",\"code\":\"not_found\",\"message\":\"m\"}");
  BAD(SL_OP_WATCH_REPLY, "{\"status\":\"maybe\"}");
  CHECK(sl_op_is_reply(SL_OP_WATCH_REPLY));
  CHECK(!sl_op_is_reply(SL_OP_FS_EVENT));
  OK(SL_OP_PROC_REQUEST, "{\"op\":\"attach\",\"pid\":12}");
  OK(SL_OP_PROC_REQUEST, "{\"op\":\"start\",\"cmd\":\"x\",\"pty\":{\"rows\":2,\"cols\":3},\"hold\":true}");
  BAD(SL_OP_PROC_REQUEST, "{\"op\":\"start\",\"cmd\":\"x\",\"hold\":1}");
  OK(SL_OP_PROC_OUTPUT, "{\"name\":\"pty\",\"data\":\"AP8=\"}");
  OK(SL_OP_PROC_OUTPUT, "{\"name\":\"stderr\",\"data\":\"x\"}");
  BAD(SL_OP_PROC_OUTPUT, "{\"name\":\"stdin\",\"data\":\"x\"}");
  BAD(SL_OP_PROC_OUTPUT, "{\"name\":\"pty\"}");
  OK(SL_OP_EXEC_CANCEL, "{\"msg_id\":\"m\"}");
  BAD(SL_OP_EXEC_CANCEL, "{}");
  BAD(SL_OP_EXEC_CANCEL, "{\"msg_id\":\"m\",\"x\":1}");
  CHECK(!sl_op_is_reply(SL_OP_EXEC_CANCEL));
}

int main(void) {
  SL_RUN(test_execute_request);
  SL_RUN(test_code_cap);
  SL_RUN(test_exec_request);
  SL_RUN(test_small_requests);
  SL_RUN(test_events);
  SL_RUN(test_replies);
  SL_RUN(test_introspect_stdin);
  SL_RUN(test_unknown_and_malformed);
  SL_RUN(test_is_reply);
  SL_RUN(test_watch_attach_cancel);
  return sl_test_summary();
}
