/* test_gw_api.c — the REST codecs: limits, names, strict create/exec/code parsing, envelopes, views,
 * and the capped exec/code collectors. */
#include "sluice/api.h"
#include "tcheck.h"

#include <stdlib.h>
#include <string.h>

static json_t *J(const char *s) {
  json_error_t e;
  json_t *j = json_loads(s, 0, &e);
  if (!j) fprintf(stderr, "bad test JSON: %s\n", s);
  return j;
}

static int create_status(const char *body) {
  json_t *b = J(body), *out = NULL;
  sl_api_err_t err = {0};
  int rc = sl_api_parse_create(b, &out, &err);
  json_decref(b);
  json_decref(out);
  return rc == 0 ? 0 : err.status;
}

int main(void) {
  uint64_t v;
  /* limits */
  CHECK(sl_api_parse_cpu("500m", &v) == 0 && v == 500);
  CHECK(sl_api_parse_cpu("1", &v) == 0 && v == 1000);
  CHECK(sl_api_parse_cpu("0.5", &v) == 0 && v == 500);
  CHECK(sl_api_parse_cpu("2.25", &v) == 0 && v == 2250);
  CHECK(sl_api_parse_cpu("0", &v) < 0);
  CHECK(sl_api_parse_cpu("m", &v) < 0);
  CHECK(sl_api_parse_cpu("1.5m", &v) < 0);
  CHECK(sl_api_parse_cpu("lots", &v) < 0);
  CHECK(sl_api_parse_cpu("", &v) < 0);
  CHECK(sl_api_parse_cpu("-1", &v) < 0);
  CHECK(sl_api_parse_bytes("512Mi", &v) == 0 && v == 512ull << 20);
  CHECK(sl_api_parse_bytes("1Gi", &v) == 0 && v == 1ull << 30);
  CHECK(sl_api_parse_bytes("2G", &v) == 0 && v == 2000000000ull);
  CHECK(sl_api_parse_bytes("1048576", &v) == 0 && v == 1048576);
  CHECK(sl_api_parse_bytes("lots", &v) < 0);
  CHECK(sl_api_parse_bytes("1.5Gi", &v) < 0);
  CHECK(sl_api_parse_bytes("Mi", &v) < 0);
  CHECK(sl_api_parse_bytes("0", &v) < 0);
  CHECK(sl_api_parse_bytes("99999999999999999999Ti", &v) < 0);
  CHECK(sl_api_parse_bytes("10Xi", &v) < 0);

  /* names */
  CHECK(sl_api_name_valid("demo") && sl_api_name_valid("a-1") && sl_api_name_valid("0"));
  CHECK(!sl_api_name_valid("") && !sl_api_name_valid("Bad Name!") && !sl_api_name_valid("-a") &&
        !sl_api_name_valid("a-") && !sl_api_name_valid("UPPER") && !sl_api_name_valid("a/b"));
  char long_name[80];
  memset(long_name, 'a', 64);
  long_name[64] = 0;
  CHECK(!sl_api_name_valid(long_name));
  long_name[63] = 0;
  CHECK(sl_api_name_valid(long_name));
  CHECK(sl_api_image_name_valid("python") && !sl_api_image_name_valid("../etc") && !sl_api_image_name_valid(".x"));

  /* create: strict types, status codes */
  CHECK(create_status("{}") == 0);
  CHECK(create_status("{\"name\": \"first\", \"namespace\": \"ns\", \"env\": {\"A\": \"1\"}, \"metadata\": {}}") == 0);
  CHECK(create_status("{\"name\": 42}") == 400);
  CHECK(create_status("{\"name\": \"Bad Name!\"}") == 400);
  CHECK(create_status("{\"image\": \"../x\"}") == 400);
  CHECK(create_status("{\"env\": {\"A\": 1}}") == 400);
  CHECK(create_status("{\"metadata\": []}") == 400);
  CHECK(create_status("{\"timeout\": -1}") == 400);
  CHECK(create_status("{\"timeout\": \"5\"}") == 400);
  CHECK(create_status("{\"no_such_field\": 1}") == 400);
  CHECK(create_status("{\"cwd\": \"relative\"}") == 400);
  CHECK(create_status("{\"limits\": {\"memory\": \"lots\"}}") == 422);
  CHECK(create_status("{\"limits\": {\"cpu\": \"fast\"}}") == 422);
  CHECK(create_status("{\"limits\": {\"pids\": \"100\"}}") == 422);
  CHECK(create_status("{\"limits\": {\"gpu\": \"1\"}}") == 422);
  CHECK(create_status("{\"limits\": \"1Gi\"}") == 400);
  CHECK(create_status("{\"limits\": {\"cpu\": \"500m\", \"memory\": \"512Mi\", \"ephemeral-storage\": \"2Gi\", "
                      "\"pids\": 100}}") == 0);
  CHECK(create_status("{\"egress_whitelist\": null, \"workspace_id\": null}") == 0);
  json_t *b = J("{\"name\": \"x\"}"), *rec = NULL;
  sl_api_err_t err;
  CHECK(sl_api_parse_create(b, &rec, &err) == 0);
  CHECK(rec && !strcmp(json_string_value(json_object_get(rec, "image")), "python"));
  CHECK(rec && !strcmp(json_string_value(json_object_get(rec, "namespace")), "default"));
  CHECK(rec && json_integer_value(json_object_get(rec, "timeout")) == SL_API_DEFAULT_TIMEOUT_S);
  json_decref(b);

  /* body parsing */
  CHECK(sl_api_parse_body("{not json", 9, &err) == NULL && err.status == 400);
  CHECK(sl_api_parse_body("[1]", 3, &err) == NULL && err.status == 400);
  CHECK(sl_api_parse_body("{\"a\":1,\"a\":2}", 13, &err) == NULL && err.status == 400);
  CHECK(sl_api_parse_body("", 0, &err) == NULL && err.status == 400);
  json_t *ok = sl_api_parse_body("{\"a\":1}", 7, &err);
  CHECK(ok != NULL);
  json_decref(ok);

  /* exec / code */
  json_t *out = NULL;
  uint32_t wait = 0;
  b = J("{}");
  CHECK(sl_api_parse_exec(b, &out, &err) < 0 && err.status == 400);
  json_decref(b);
  b = J("{\"command\": 5}");
  CHECK(sl_api_parse_exec(b, &out, &err) < 0 && err.status == 400);
  json_decref(b);
  b = J("{\"command\": \"x\", \"argv\": [\"y\"]}");
  CHECK(sl_api_parse_exec(b, &out, &err) < 0);
  json_decref(b);
  b = J("{\"argv\": [\"ls\", \"-l\"], \"timeout_ms\": 300, \"env\": {\"A\": \"b\"}}");
  CHECK(sl_api_parse_exec(b, &out, &err) == 0 && json_integer_value(json_object_get(out, "timeout_ms")) == 300);
  json_decref(out);
  json_decref(b);
  b = J("{\"command\": \"true\"}");
  CHECK(sl_api_parse_exec(b, &out, &err) == 0 && json_integer_value(json_object_get(out, "timeout_ms")) == 30000);
  json_decref(out);
  json_decref(b);
  b = J("{\"code\": [\"x\"]}");
  CHECK(sl_api_parse_code(b, &out, &wait, &err) < 0 && err.status == 400);
  json_decref(b);
  b = J("{\"code\": \"1\", \"language\": \"cobol\"}");
  CHECK(sl_api_parse_code(b, &out, &wait, &err) < 0);
  json_decref(b);
  b = J("{\"code\": \"1\", \"timeout\": 2.5}");
  CHECK(sl_api_parse_code(b, &out, &wait, &err) == 0 && wait == 2500 &&
        json_integer_value(json_object_get(out, "timeout_ms")) == 2500);
  json_decref(out);
  json_decref(b);

  /* envelopes */
  json_t *e = sl_api_envelope_error("not_found", "no");
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(e, "error"), "code")), "not_found"));
  CHECK(json_object_size(e) == 1);
  json_decref(e);
  e = sl_api_envelope_data(json_pack("{s:i}", "x", 1));
  CHECK(json_integer_value(json_object_get(json_object_get(e, "data"), "x")) == 1);
  json_decref(e);

  /* sandbox view */
  json_object_set_new(rec, "id", json_string("11111111-2222-4333-8444-555555555555"));
  json_object_set_new(rec, "created_at", json_integer(1000));
  json_object_set_new(rec, "status", json_string("running"));
  json_t *view = sl_api_sandbox_view(rec, 1000 + 3723);
  CHECK(view && !strcmp(json_string_value(json_object_get(view, "age")), "1:02:03"));
  CHECK(view && !strcmp(json_string_value(json_object_get(view, "ready")), "True"));
  CHECK(view && json_is_null(json_object_get(view, "error_message")));
  CHECK(view && !strcmp(json_string_value(json_object_get(view, "created_at")), "1970-01-01T00:16:40Z"));
  json_decref(view);
  /* expires_at: the earlier of last activity + timeout and created + ttl_seconds; none without either */
  json_object_set_new(rec, "timeout", json_integer(300));
  json_object_set_new(rec, "last_active_ms", json_integer(2000 * 1000));
  view = sl_api_sandbox_view(rec, 2000);
  CHECK(view && !strcmp(json_string_value(json_object_get(view, "expires_at")), "1970-01-01T00:38:20Z"));
  json_decref(view);
  json_object_set_new(rec, "ttl_seconds", json_integer(60));
  view = sl_api_sandbox_view(rec, 2000);
  CHECK(view && !strcmp(json_string_value(json_object_get(view, "expires_at")), "1970-01-01T00:17:40Z"));
  json_decref(view);
  json_object_del(rec, "ttl_seconds");
  json_object_set_new(rec, "timeout", json_integer(0));
  view = sl_api_sandbox_view(rec, 2000);
  CHECK(view && json_is_null(json_object_get(view, "expires_at")));
  json_decref(view);
  json_decref(rec);

  /* exec collector caps */
  sl_api_exec_acc_t *acc = sl_api_exec_acc_new();
  char *chunk = malloc(64 << 10);
  memset(chunk, 'x', 64 << 10);
  for (int i = 0; i < 20; i++) sl_api_exec_acc_stream(acc, "stdout", chunk, 64 << 10);
  sl_api_exec_acc_stream(acc, "stderr", "oops\n", 5);
  json_t *reply = J("{\"exit_code\": 3, \"cwd\": \"/tmp\", \"duration_ms\": 5, \"timed_out\": false}");
  json_t *res = sl_api_exec_acc_finish(acc, reply);
  CHECK(res && json_integer_value(json_object_get(res, "exit_code")) == 3);
  CHECK(res && json_string_length(json_object_get(res, "stdout")) == SL_API_MAX_STREAM_BYTES);
  CHECK(res && !strcmp(json_string_value(json_object_get(res, "stderr")), "oops\n"));
  CHECK(res && json_is_true(json_object_get(res, "truncated")));
  CHECK(res && !strcmp(json_string_value(json_object_get(res, "cwd")), "/tmp"));
  json_decref(res);
  json_decref(reply);
  sl_api_exec_acc_free(&acc);
  CHECK(acc == NULL);
  free(chunk);

  /* code collector */
  sl_api_code_acc_t *ca = sl_api_code_acc_new();
  json_t *ev = J("{\"name\": \"stdout\", \"text\": \"hi\\n\"}");
  CHECK(sl_api_code_acc_event(ca, "stream", ev) == 0);
  json_decref(ev);
  ev = J("{\"data\": {\"image/png\": \"iVBO\", \"text/plain\": \"<Figure>\", \"application/x-odd\": {\"a\": 1}}, "
         "\"metadata\": {}}");
  CHECK(sl_api_code_acc_event(ca, "display_data", ev) == 0);
  json_decref(ev);
  ev = J("{\"execution_count\": 4, \"data\": {\"text/plain\": \"42\", \"text/html\": [\"<b>\", \"42</b>\"]}, "
         "\"metadata\": {}}");
  CHECK(sl_api_code_acc_event(ca, "execute_result", ev) == 0);
  json_decref(ev);
  reply = J("{\"status\": \"ok\", \"execution_count\": 4}");
  res = sl_api_code_acc_finish(ca, reply);
  json_t *results = json_object_get(res, "results");
  CHECK(json_array_size(results) == 2);
  json_t *r0 = json_array_get(results, 0), *r1 = json_array_get(results, 1);
  CHECK(!strcmp(json_string_value(json_object_get(r0, "png")), "iVBO") && json_is_false(json_object_get(r0, "is_main_result")));
  CHECK(json_object_get(json_object_get(r0, "extra"), "application/x-odd") != NULL);
  CHECK(json_is_true(json_object_get(r1, "is_main_result")) && !strcmp(json_string_value(json_object_get(r1, "html")), "<b>42</b>"));
  CHECK(!strcmp(json_string_value(json_object_get(res, "text")), "42"));
  CHECK(json_is_null(json_object_get(res, "error")) && json_integer_value(json_object_get(res, "execution_count")) == 4);
  CHECK(!strcmp(json_string_value(json_array_get(json_object_get(json_object_get(res, "logs"), "stdout"), 0)), "hi\n"));
  json_decref(res);
  json_decref(reply);
  sl_api_code_acc_free(&ca);

  /* display updates replace the result with the same display_id; clear_output drops displays */
  ca = sl_api_code_acc_new();
  ev = J("{\"data\": {\"text/markdown\": \"**step 1**\"}, \"metadata\": {}, \"transient\": {\"display_id\": \"d1\"}}");
  CHECK(sl_api_code_acc_event(ca, "display_data", ev) == 0);
  json_decref(ev);
  ev = J("{\"data\": {\"text/html\": \"<b>bold</b>\"}, \"metadata\": {}}");
  CHECK(sl_api_code_acc_event(ca, "display_data", ev) == 0);
  json_decref(ev);
  ev = J("{\"data\": {\"text/markdown\": \"**step 2**\"}, \"metadata\": {}, \"transient\": {\"display_id\": \"d1\"}}");
  CHECK(sl_api_code_acc_event(ca, "update_display_data", ev) == 0);
  json_decref(ev);
  reply = J("{\"status\": \"ok\", \"execution_count\": 1}");
  res = sl_api_code_acc_finish(ca, reply);
  results = json_object_get(res, "results");
  CHECK(json_array_size(results) == 2);
  CHECK(!strcmp(json_string_value(json_object_get(json_array_get(results, 0), "markdown")) ?: "", "**step 2**"));
  json_decref(res);
  ev = J("{\"wait\": false}");
  CHECK(sl_api_code_acc_event(ca, "clear_output", ev) == 0);
  json_decref(ev);
  res = sl_api_code_acc_finish(ca, reply);
  CHECK(json_array_size(json_object_get(res, "results")) == 0);
  json_decref(res);
  json_decref(reply);
  sl_api_code_acc_free(&ca);

  ca = sl_api_code_acc_new();
  ev = J("{\"ename\": \"ZeroDivisionError\", \"evalue\": \"division by zero\", \"traceback\": [\"a\", \"b\"]}");
  CHECK(sl_api_code_acc_event(ca, "error", ev) == 0);
  json_decref(ev);
  reply = J("{\"status\": \"error\", \"execution_count\": 5}");
  res = sl_api_code_acc_finish(ca, reply);
  json_t *er = json_object_get(res, "error");
  CHECK(!strcmp(json_string_value(json_object_get(er, "name")), "ZeroDivisionError"));
  CHECK(!strcmp(json_string_value(json_object_get(er, "traceback")), "a\nb"));
  CHECK(json_is_null(json_object_get(res, "text")));
  json_decref(res);
  json_decref(reply);
  sl_api_code_acc_free(&ca);
  T_DONE();
}
