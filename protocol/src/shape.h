/* shape.h — internal: checks a JSON object against a json_unpack format (the codecs' one validator).
 * obj is borrowed. keys: up to SL_SHAPE_MAX_KEYS key names, in the order the format names them. */
#ifndef SLUICE_SHAPE_H
#define SLUICE_SHAPE_H

#include <jansson.h>
#include <stddef.h>

#define SL_SHAPE_MAX_KEYS 12

typedef struct {
  const char *type;
  const char *fmt;
  const char *keys[SL_SHAPE_MAX_KEYS];
  int strict;
} sl_shape_t;

/* 0 when obj matches; -1 with "<type>: <reason>" in err otherwise. */
int sl_shape_check(json_t *obj, const sl_shape_t *shape, char *err, size_t errlen);

/* The row whose .type equals type, or NULL. rows are stride bytes apart (rows embed an sl_shape_t first). */
const void *sl_shape_find(const void *rows, size_t n, size_t stride, const char *type);

int sl_json_is_string_array(json_t *a, size_t max_items);
int sl_json_is_string_map(json_t *o);

#endif
