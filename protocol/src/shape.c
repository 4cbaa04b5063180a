/* shape.c — json_unpack-driven shape checks shared by the message codecs. */
#include "shape.h"

#include <stdio.h>
#include <string.h>

int sl_shape_check(json_t *obj, const sl_shape_t *s, char *err, size_t errlen) {
  if (!json_is_object(obj)) {
    snprintf(err, errlen, "%s: not a JSON object", s->type);
    return -1;
  }
  /* json_unpack writes each value through the pointer that follows its key; the union is large and
   * aligned enough for every type the formats use (const char *, json_int_t, int, double, json_t *). */
  union {
    const char *s;
    json_int_t I;
    int i;
    double f;
    json_t *o;
  } v[SL_SHAPE_MAX_KEYS];
  const char *const *k = s->keys;
  json_error_t e;
  int rc = json_unpack_ex(obj, &e, s->strict ? JSON_STRICT : 0, s->fmt, k[0], &v[0], k[1], &v[1], k[2], &v[2],
                          k[3], &v[3], k[4], &v[4], k[5], &v[5], k[6], &v[6], k[7], &v[7], k[8], &v[8], k[9],
                          &v[9], k[10], &v[10], k[11], &v[11]);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", s->type, e.text);
    return -1;
  }
  return 0;
}

const void *sl_shape_find(const void *rows, size_t n, size_t stride, const char *type) {
  for (size_t i = 0; i < n; i++) {
    const sl_shape_t *s = (const sl_shape_t *)((const char *)rows + i * stride);
    if (strcmp(s->type, type) == 0) return s;
  }
  return NULL;
}

int sl_json_is_string_array(json_t *a, size_t max_items) {
  if (!json_is_array(a) || json_array_size(a) > max_items) return 0;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
  return 1;
}

int sl_json_is_string_map(json_t *o) {
  if (!json_is_object(o)) return 0;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) if (!json_is_string(v)) return 0;
  return 1;
}
