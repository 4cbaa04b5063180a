/* test_gw_ops.c — the operations codecs (protocol/src/api_ops.c): set_timeout bodies, create lifetimes,
 * the one-shot run request, image and status objects. */
#include <string.h>

#include "sluice/api.h"
#include "tcheck.h"

static json_t *J(const char *s) { return json_loads(s, 0, NULL); }

static int timeout_status(const char *body) {
  sl_api_err_t err;
  uint32_t t = 0;
  json_t *b = J(body);
  int rc = sl_api_parse_timeout(b, 3600, &t, &err);
  json_decref(b);
  return rc == 0 ? (int)t : -err.status;
}

int main(void) {
  CHECK(timeout_status("{\"timeout\": 60}") == 60);
  CHECK(timeout_status("{\"timeout\": 3600}") == 3600);
  CHECK(timeout_status("{\"timeout\": 3601}") == -400);
  CHECK(timeout_status("{\"timeout\": 0}") == -400);
  CHECK(timeout_status("{\"timeout\": -1}") == -400);
  CHECK(timeout_status("{\"timeout\": 1.5}") == -400);
  CHECK(timeout_status("{\"timeout\": \"60\"}") == -400);
  CHECK(timeout_status("{}") == -400);
  CHECK(timeout_status("{\"timeout\": 5, \"x\": 1}") == -400);
  CHECK(timeout_status("[5]") == -400);

  /* lifetimes of a create: explicit values bounded, the default lowered to the bound */
  sl_api_err_t err;
  json_t *b = J("{}"), *rec = NULL;
  CHECK(sl_api_parse_create(b, &rec, &err) == 0 && sl_api_check_lifetimes(b, rec, 100, &err) == 0);
  CHECK(json_integer_value(json_object_get(rec, "timeout")) == 100);
  json_decref(rec);
  json_decref(b);
  const char *bad[] = {"{\"timeout\": 101}", "{\"ttl_seconds\": 0}", "{\"ttl_seconds\": 101}", "{\"timeout\": 0}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    b = J(bad[i]);
    rec = NULL;
    int rc = sl_api_parse_create(b, &rec, &err);
    if (rc == 0) rc = sl_api_check_lifetimes(b, rec, 100, &err);
    CHECK(rc < 0 && err.status == 400);
    json_decref(rec);
    json_decref(b);
  }

  /* run: the create part and the exec part */
  json_t *create = NULL, *exec = NULL;
  b = J("{\"argv\": [\"echo\", \"hi\"], \"image\": \"python\", \"limits\": {\"memory\": \"256Mi\"}, \"timeout_ms\": 500}");
  CHECK(sl_api_parse_run(b, &create, &exec, &err) == 0);
  CHECK(create && !strcmp(json_string_value(json_object_get(create, "image")), "python"));
  CHECK(create && json_object_get(json_object_get(create, "limits"), "memory"));
  CHECK(exec && json_integer_value(json_object_get(exec, "timeout_ms")) == 500 && json_object_get(exec, "argv"));
  CHECK(exec && !json_object_get(exec, "image"));
  json_decref(create);
  json_decref(exec);
  json_decref(b);
  const char *bad_run[] = {"{}", "{\"command\": \"x\", \"nope\": 1}", "{\"command\": \"x\", \"image\": \"../x\"}",
                           "{\"command\": \"x\", \"limits\": {\"memory\": \"lots\"}}", "{\"command\": 5}", "3"};
  const int bad_status[] = {400, 400, 400, 422, 400, 400};
  for (size_t i = 0; i < sizeof(bad_run) / sizeof(bad_run[0]); i++) {
    b = J(bad_run[i]);
    create = exec = NULL;
    CHECK(sl_api_parse_run(b, &create, &exec, &err) < 0 && err.status == bad_status[i] && !create && !exec);
    json_decref(b);
  }

  /* image view */
  json_t *img = J("{\"name\": \"py\", \"description\": \"d\", \"languages\": {\"python\": {}, \"r\": {}}}");
  json_t *v = sl_api_image_view("dir", img);
  CHECK(v && !strcmp(json_string_value(json_object_get(v, "name")), "py"));
  CHECK(v && json_array_size(json_object_get(v, "languages")) == 2);
  json_decref(v);
  json_decref(img);
  img = J("{}");
  v = sl_api_image_view("dir", img);
  CHECK(v && !strcmp(json_string_value(json_object_get(v, "name")), "dir") &&
        json_array_size(json_object_get(v, "languages")) == 0);
  json_decref(v);
  json_decref(img);

  /* status */
  static const char *const names[] = {"running", "error"};
  size_t counts[] = {2, 1};
  json_t *images = J("[\"python\"]");
  sl_api_status_t st = {"1.2.3", 3, 2, names, counts, 2, images, 0, 42};
  v = sl_api_status_view(&st);
  CHECK(v && !strcmp(json_string_value(json_object_get(v, "version")), "1.2.3"));
  CHECK(v && json_integer_value(json_object_get(json_object_get(json_object_get(v, "sandboxes"), "by_status"), "running")) == 2);
  CHECK(v && json_integer_value(json_object_get(json_object_get(v, "capacity"), "available")) == 0);
  CHECK(v && json_integer_value(json_object_get(v, "uptime_s")) == 42);
  json_decref(v);
  json_decref(images);
  T_DONE();
}
