/* api_ops.c — REST codecs of the operations routes (docs/API.md "Sandboxes" timeout, "Commands" run,
 * "Operations"): the set_timeout body, the one-shot run request, the image and status objects.
 *
 * No I/O. Ownership as in api.h: returned json_t * are new references; arguments are borrowed.
 */
#include "sluice/api.h"

#include <string.h>

int sl_api_parse_timeout(json_t *body, uint32_t max_s, uint32_t *out, sl_api_err_t *err) {
  if (!json_is_object(body)) return sl_api_fail(err, 400, "invalid_json", "the request body must be a JSON object");
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    if (strcmp(k, "timeout") != 0) return sl_api_fail(err, 400, "invalid_request", "unknown field '%.64s'", k);
  }
  json_t *t = json_object_get(body, "timeout");
  if (!t) return sl_api_fail(err, 400, "invalid_request", "'timeout' (seconds) is required");
  if (!json_is_integer(t) || json_integer_value(t) <= 0 || json_integer_value(t) > (json_int_t)max_s)
    return sl_api_fail(err, 400, "invalid_timeout", "'timeout' must be an integer number of seconds from 1 to %u",
                       (unsigned)max_s);
  *out = (uint32_t)json_integer_value(t);
  return 0;
}

int sl_api_check_lifetimes(const json_t *body, json_t *rec, uint32_t max_s, sl_api_err_t *err) {
  static const char *const keys[] = {"timeout", "ttl_seconds"};
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(body, keys[i]);
    if (!v || json_is_null(v)) continue;
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > (json_int_t)max_s)
      return sl_api_fail(err, 400, "invalid_timeout", "'%s' must be an integer number of seconds from 1 to %u",
                         keys[i], (unsigned)max_s);
  }
  /* the default inactivity timeout never exceeds the gateway's bound */
  json_t *t = json_object_get(rec, "timeout");
  if (json_is_integer(t) && json_integer_value(t) > (json_int_t)max_s)
    json_object_set_new(rec, "timeout", json_integer((json_int_t)max_s));
  return 0;
}

int sl_api_parse_run(json_t *body, json_t **create, json_t **exec, sl_api_err_t *err) {
  static const char *const create_keys[] = {"image", "limits", NULL};
  *create = *exec = NULL;
  if (!json_is_object(body)) return sl_api_fail(err, 400, "invalid_json", "the request body must be a JSON object");
  json_t *cb = json_object(), *eb = json_object();
  if (!cb || !eb) {
    sl_api_fail(err, 500, "internal", "out of memory");
    goto fail;
  }
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    int is_create = 0;
    for (const char *const *p = create_keys; *p; p++) is_create |= strcmp(*p, k) == 0;
    json_object_set(is_create ? cb : eb, k, v);
  }
  if (sl_api_parse_exec(eb, exec, err) < 0) goto fail;
  if (sl_api_parse_create(cb, create, err) < 0) {
    json_decref(*exec);
    *exec = NULL;
    goto fail;
  }
  json_decref(cb);
  json_decref(eb);
  return 0;
fail:
  json_decref(cb);
  json_decref(eb);
  return -1;
}

json_t *sl_api_image_view(const char *dir_name, const json_t *image) {
  const char *name = json_string_value(json_object_get(image, "name"));
  const char *desc = json_string_value(json_object_get(image, "description"));
  json_t *langs = json_array();
  json_t *l = json_object_get(image, "languages");
  const char *k;
  json_t *v;
  if (json_is_object(l)) json_object_foreach(l, k, v) json_array_append_new(langs, json_string(k));
  return json_pack("{s:s, s:s, s:o}", "name", name ? name : dir_name, "description", desc ? desc : "", "languages",
                   langs);
}

json_t *sl_api_status_view(const sl_api_status_t *st) {
  char started[32];
  sl_api_time_str(st->started_at, started);
  json_t *by = json_object();
  for (size_t i = 0; i < st->n_status; i++)
    json_object_set_new(by, st->status_names[i], json_integer((json_int_t)st->status_counts[i]));
  return json_pack("{s:s, s:{s:I, s:o}, s:{s:I, s:I}, s:O, s:I, s:s}", "version", st->version, "sandboxes", "total",
                   (json_int_t)st->total, "by_status", by, "capacity", "max_sandboxes", (json_int_t)st->max_sandboxes,
                   "available", (json_int_t)(st->max_sandboxes > st->total ? st->max_sandboxes - st->total : 0),
                   "images", st->images, "uptime_s", (json_int_t)st->uptime_s, "started_at", started);
}
