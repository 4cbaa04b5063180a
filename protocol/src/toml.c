/* toml.c — the TOML subset of toml.h. */
#include "sluice/toml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p, *end;
  int line;
  char *err;
  size_t errlen;
  int failed;
} ps_t;

static int fail(ps_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ps_t *s, const char *fmt, ...) {
  if (s->failed) return -1;
  s->failed = 1;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (s->errlen) snprintf(s->err, s->errlen, "line %d: %s", s->line, msg);
  return -1;
}

static int at_end(ps_t *s) { return s->p >= s->end; }
static char peek(ps_t *s) { return at_end(s) ? 0 : *s->p; }

static void skip_ws(ps_t *s) {
  while (!at_end(s) && (*s->p == ' ' || *s->p == '\t')) s->p++;
}

static void skip_comment(ps_t *s) {
  if (peek(s) == '#')
    while (!at_end(s) && *s->p != '\n') s->p++;
}

/* whitespace, comments and newlines (inside arrays) */
static void skip_all(ps_t *s) {
  for (;;) {
    skip_ws(s);
    skip_comment(s);
    if (peek(s) == '\r' && s->p + 1 < s->end && s->p[1] == '\n') s->p++;
    if (peek(s) != '\n') return;
    s->p++;
    s->line++;
  }
}

/* After a key/value or a header: only a comment may follow on the line. */
static int end_line(ps_t *s) {
  skip_ws(s);
  skip_comment(s);
  if (peek(s) == '\r' && s->p + 1 < s->end && s->p[1] == '\n') s->p++;
  if (at_end(s)) return 0;
  if (*s->p != '\n') return fail(s, "unexpected '%c' after a value", *s->p);
  s->p++;
  s->line++;
  return 0;
}

static int put_utf8(char *out, size_t *n, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  if (cp < 0x80) out[(*n)++] = (char)cp;
  else if (cp < 0x800) {
    out[(*n)++] = (char)(0xC0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xE0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*n)++] = (char)(0xF0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
  return 0;
}

/* A quoted string at s->p (" or '), into out (SL_TOML_MAX_STR + 1 bytes). Returns its length or -1. */
static long read_string(ps_t *s, char *out) {
  char q = *s->p++;
  size_t n = 0;
  if (s->p + 1 < s->end && s->p[0] == q && s->p[1] == q) return fail(s, "multi-line strings are not supported");
  for (;;) {
    if (at_end(s) || *s->p == '\n') return fail(s, "unterminated string");
    char c = *s->p++;
    if (c == q) break;
    if (n + 4 > SL_TOML_MAX_STR) return fail(s, "string longer than %d bytes", SL_TOML_MAX_STR);
    if ((unsigned char)c < 0x20 && c != '\t') return fail(s, "control character in a string");
    if (c != '\\' || q == '\'') {
      out[n++] = c;
      continue;
    }
    if (at_end(s)) return fail(s, "unterminated string");
    c = *s->p++;
    switch (c) {
      case '"': out[n++] = '"'; break;
      case '\\': out[n++] = '\\'; break;
      case 'b': out[n++] = '\b'; break;
      case 't': out[n++] = '\t'; break;
      case 'n': out[n++] = '\n'; break;
      case 'f': out[n++] = '\f'; break;
      case 'r': out[n++] = '\r'; break;
      case 'u':
      case 'U': {
        int digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < digits; i++) {
          char h = peek(s);
          int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
          if (v < 0) return fail(s, "bad \\%c escape", c);
          cp = cp * 16 + (uint32_t)v;
          s->p++;
        }
        if (put_utf8(out, &n, cp) < 0) return fail(s, "bad unicode escape");
        break;
      }
      default: return fail(s, "unknown escape \\%c", c);
    }
  }
  out[n] = 0;
  return (long)n;
}

static int bare_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* One key segment into out. */
static int read_key_part(ps_t *s, char *out) {
  skip_ws(s);
  char c = peek(s);
  if (c == '"' || c == '\'') {
    long n = read_string(s, out);
    if (n < 0) return -1;
    if ((size_t)n != strlen(out)) return fail(s, "a key may not contain NUL");
    skip_ws(s);
    return 0;
  }
  size_t n = 0;
  while (!at_end(s) && bare_char(*s->p)) {
    if (n == SL_TOML_MAX_STR) return fail(s, "key too long");
    out[n++] = *s->p++;
  }
  if (!n) return fail(s, "expected a key");
  out[n] = 0;
  skip_ws(s);
  return 0;
}

/* The table at dotted key path under root (created as needed); leaves the last segment in last.
 * implicit: intermediate tables may already exist. */
static json_t *walk_key(ps_t *s, json_t *root, char *last) {
  json_t *t = root;
  int depth = 0;
  if (read_key_part(s, last) < 0) return NULL;
  while (peek(s) == '.') {
    s->p++;
    if (++depth > SL_TOML_MAX_DEPTH) return fail(s, "keys nested too deep"), NULL;
    json_t *next = json_object_get(t, last);
    if (!next) {
      next = json_object();
      if (!next || json_object_set_new(t, last, next) < 0) return fail(s, "out of memory"), NULL;
    } else if (!json_is_object(next)) {
      return fail(s, "'%s' is not a table", last), NULL;
    }
    t = next;
    if (read_key_part(s, last) < 0) return NULL;
  }
  return t;
}

static json_t *parse_value(ps_t *s, int depth);

static json_t *parse_int(ps_t *s) {
  const char *start = s->p;
  int neg = 0;
  if (peek(s) == '+' || peek(s) == '-') neg = *s->p++ == '-';
  uint64_t v = 0;
  int digits = 0, prev_us = 0;
  while (!at_end(s) && ((*s->p >= '0' && *s->p <= '9') || *s->p == '_')) {
    if (*s->p == '_') {
      if (!digits || prev_us) return fail(s, "bad '_' in a number"), NULL;
      prev_us = 1;
      s->p++;
      continue;
    }
    if (digits == 1 && v == 0) return fail(s, "leading zeros are not allowed"), NULL;
    prev_us = 0;
    v = v * 10 + (uint64_t)(*s->p++ - '0');
    if (++digits > 18) return fail(s, "integer out of range"), NULL;
  }
  if (!digits || prev_us) return fail(s, "expected a value"), NULL;
  char c = peek(s);
  if (c == '.' || c == 'e' || c == 'E' || c == ':' || (c == '-' && s->p - start >= 4) || c == 'x' || c == 'o' ||
      c == 'b')
    return fail(s, "only decimal integers are supported (no floats, dates or hex)"), NULL;
  json_t *j = json_integer(neg ? -(json_int_t)v : (json_int_t)v);
  return j ? j : (fail(s, "out of memory"), NULL);
}

static json_t *parse_array(ps_t *s, int depth) {
  json_t *a = json_array();
  s->p++; /* [ */
  for (;;) {
    skip_all(s);
    if (peek(s) == ']') {
      s->p++;
      return a;
    }
    json_t *v = parse_value(s, depth + 1);
    if (!v || json_array_append_new(a, v) < 0) break;
    skip_all(s);
    if (peek(s) == ',') {
      s->p++;
      continue;
    }
    if (peek(s) == ']') {
      s->p++;
      return a;
    }
    fail(s, "expected ',' or ']' in an array");
    break;
  }
  json_decref(a);
  return NULL;
}

static json_t *parse_inline_table(ps_t *s, int depth) {
  json_t *t = json_object();
  char *key = malloc(SL_TOML_MAX_STR + 1);
  if (!t || !key) goto bad;
  s->p++; /* { */
  skip_ws(s);
  if (peek(s) == '}') {
    s->p++;
    free(key);
    return t;
  }
  for (;;) {
    json_t *dst = walk_key(s, t, key);
    if (!dst) goto bad;
    if (peek(s) != '=') {
      fail(s, "expected '=' after a key");
      goto bad;
    }
    s->p++;
    skip_ws(s);
    if (json_object_get(dst, key)) {
      fail(s, "duplicate key '%s'", key);
      goto bad;
    }
    json_t *v = parse_value(s, depth + 1);
    if (!v || json_object_set_new(dst, key, v) < 0) goto bad;
    skip_ws(s);
    if (peek(s) == ',') {
      s->p++;
      continue;
    }
    if (peek(s) == '}') {
      s->p++;
      free(key);
      return t;
    }
    fail(s, "expected ',' or '}' in an inline table");
    goto bad;
  }
bad:
  if (!s->failed) fail(s, "out of memory");
  free(key);
  json_decref(t);
  return NULL;
}

static json_t *parse_value(ps_t *s, int depth) {
  if (depth > SL_TOML_MAX_DEPTH) return fail(s, "values nested too deep"), NULL;
  skip_ws(s);
  char c = peek(s);
  if (c == '"' || c == '\'') {
    char *buf = malloc(SL_TOML_MAX_STR + 1);
    if (!buf) return fail(s, "out of memory"), NULL;
    long n = read_string(s, buf);
    json_t *j = n < 0 ? NULL : json_stringn(buf, (size_t)n);
    free(buf);
    if (n >= 0 && !j) fail(s, "a string must be UTF-8");
    return j;
  }
  if (c == '[') return parse_array(s, depth);
  if (c == '{') return parse_inline_table(s, depth);
  if ((size_t)(s->end - s->p) >= 4 && memcmp(s->p, "true", 4) == 0 && !bare_char(s->p + 4 < s->end ? s->p[4] : 0)) {
    s->p += 4;
    return json_true();
  }
  if ((size_t)(s->end - s->p) >= 5 && memcmp(s->p, "false", 5) == 0 && !bare_char(s->p + 5 < s->end ? s->p[5] : 0)) {
    s->p += 5;
    return json_false();
  }
  if (c == 'i' || c == 'n' || ((c == '+' || c == '-') && s->p + 1 < s->end && (s->p[1] == 'i' || s->p[1] == 'n')))
    return fail(s, "floats are not supported"), NULL;
  return parse_int(s);
}

/* [a.b] header: the table it names (created; redefinition is an error). */
static json_t *parse_header(ps_t *s, json_t *root, json_t *defined) {
  char *key = malloc(SL_TOML_MAX_STR + 1);
  json_t *t = NULL;
  const char *start;
  s->p++; /* [ */
  if (peek(s) == '[') {
    fail(s, "arrays of tables are not supported");
    goto out;
  }
  skip_ws(s);
  start = s->p;
  if (!key) goto out;
  json_t *parent = walk_key(s, root, key);
  if (!parent) goto out;
  if (peek(s) != ']') {
    fail(s, "expected ']' after a table name");
    goto out;
  }
  char *name = strndup(start, (size_t)(s->p - start));
  s->p++;
  if (!name) goto out;
  if (json_object_get(defined, name)) {
    fail(s, "table [%s] defined twice", name);
    free(name);
    goto out;
  }
  json_object_set_new(defined, name, json_true());
  free(name);
  t = json_object_get(parent, key);
  if (!t) {
    t = json_object();
    if (!t || json_object_set_new(parent, key, t) < 0) {
      fail(s, "out of memory");
      t = NULL;
    }
  } else if (!json_is_object(t)) {
    fail(s, "'%s' is not a table", key);
    t = NULL;
  }
  if (t && end_line(s) < 0) t = NULL;
out:
  free(key);
  return t;
}

json_t *sl_toml_parse(const char *text, size_t len, char *err, size_t errlen) {
  ps_t s = {text, text + len, 1, err, errlen, 0};
  if (errlen) err[0] = 0;
  if (len > SL_TOML_MAX_INPUT) {
    fail(&s, "input larger than %u bytes", SL_TOML_MAX_INPUT);
    return NULL;
  }
  json_t *root = json_object(), *defined = json_object(), *cur = root;
  char *key = malloc(SL_TOML_MAX_STR + 1);
  if (!root || !defined || !key) {
    fail(&s, "out of memory");
    goto bad;
  }
  for (;;) {
    skip_all(&s);
    if (at_end(&s)) break;
    if (*s.p == '[') {
      if (!(cur = parse_header(&s, root, defined))) goto bad;
      continue;
    }
    json_t *dst = walk_key(&s, cur, key);
    if (!dst) goto bad;
    if (peek(&s) != '=') {
      fail(&s, "expected '=' after a key");
      goto bad;
    }
    s.p++;
    if (json_object_get(dst, key)) {
      fail(&s, "duplicate key '%s'", key);
      goto bad;
    }
    json_t *v = parse_value(&s, 1);
    if (!v) goto bad;
    if (json_object_set_new(dst, key, v) < 0) {
      fail(&s, "out of memory");
      goto bad;
    }
    if (end_line(&s) < 0) goto bad;
  }
  free(key);
  json_decref(defined);
  return root;
bad:
  free(key);
  json_decref(defined);
  json_decref(root);
  return NULL;
}
