/* json_out.c — JSON string escaping and object dumps with spliced long strings (json_out.h). */
#include "sluice/json_out.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 1 for the bytes a JSON string must escape: controls, '"' and '\\'. */
static const unsigned char NEEDS[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

/* Length of the prefix of s[0..len) that needs no escaping. */
static size_t plain_run(const unsigned char *s, size_t len) {
  size_t n = 0;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
  while (n + 16 <= len) {
    __m128i v = _mm_loadu_si128((const __m128i *)(s + n));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                               _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)); /* v <= 0x1F, unsigned */
    int mask = _mm_movemask_epi8(hit);
    if (mask) return n + (size_t)__builtin_ctz((unsigned)mask);
    n += 16;
  }
#endif
  while (n < len && !NEEDS[s[n]]) n++;
  return n;
}

size_t sl_json_escape_bound(size_t len) { return len > (SIZE_MAX - 2) / 6 ? 0 : 6 * len + 2; }

size_t sl_json_escape(const char *in, size_t len, char *out) {
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *s = (const unsigned char *)in;
  char *o = out;
  *o++ = '"';
  for (size_t i = 0;;) {
    size_t run = plain_run(s + i, len - i);
    memcpy(o, s + i, run);
    o += run;
    i += run;
    if (i == len) break;
    unsigned char c = s[i++];
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default:
        memcpy(o, "u00", 3);
        o[3] = hex[c >> 4];
        o[4] = hex[c & 15];
        o += 5;
    }
  }
  *o++ = '"';
  return (size_t)(o - out);
}

typedef struct {
  char *p;
  size_t len, cap;
} obuf_t;

static int reserve(obuf_t *b, size_t more) {
  if (more > SIZE_MAX - b->len - 1) return -1;
  if (b->len + more + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1) cap = cap > SIZE_MAX / 2 ? b->len + more + 1 : cap * 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int put(obuf_t *b, const char *s, size_t n) {
  if (reserve(b, n) < 0) return -1;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static int put_escaped(obuf_t *b, const char *s, size_t n) {
  size_t bound = sl_json_escape_bound(n);
  if (!bound || reserve(b, bound) < 0) return -1;
  b->len += sl_json_escape(s, n, b->p + b->len);
  return 0;
}

static int is_long_string(const json_t *v) {
  return json_is_string(v) && json_string_length(v) >= SL_JSON_SPLICE_MIN;
}

static char *plain(const json_t *obj, size_t *len) {
  char *s = json_dumps(obj, JSON_COMPACT);
  if (s && len) *len = strlen(s);
  return s;
}

char *sl_json_dumps(const json_t *obj, size_t *len) {
  json_t *o = (json_t *)obj; /* jansson's iterator API is not const; nothing is modified */
  size_t want = 2;
  int splice = 0;
  if (!json_is_object(o)) return plain(obj, len);
  for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
    json_t *v = json_object_iter_value(it);
    if (is_long_string(v)) {
      splice = 1;
      want += json_string_length(v) + json_string_length(v) / 8;
    }
  }
  if (!splice) return plain(obj, len);
  obuf_t b = {0};
  if (reserve(&b, want) < 0 || put(&b, "{", 1) < 0) goto fail;
  for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
    json_t *v = json_object_iter_value(it);
    if ((b.len > 1 && put(&b, ",", 1) < 0) ||
        put_escaped(&b, json_object_iter_key(it), json_object_iter_key_len(it)) < 0 || put(&b, ":", 1) < 0)
      goto fail;
    if (is_long_string(v)) {
      if (put_escaped(&b, json_string_value(v), json_string_length(v)) < 0) goto fail;
    } else {
      char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      int rc = s ? put(&b, s, strlen(s)) : -1;
      free(s);
      if (rc < 0) goto fail;
    }
  }
  if (put(&b, "}", 1) < 0) goto fail;
  b.p[b.len] = 0;
  if (len) *len = b.len;
  return b.p;
fail:
  free(b.p);
  return NULL;
}
