/* multipart.c — streaming multipart/form-data parser (see sluice/multipart.h). No I/O, no allocation
 * after sl_mp_new.
 *
 * The body of a part is scanned for the delimiter "\r\n--" BOUNDARY. Bytes that might start a
 * delimiter are held back only as a match index: when the match fails, the held-back bytes are the
 * delimiter's own prefix, so they are emitted from the delimiter string itself. Since a boundary
 * cannot contain CR (RFC 2046 bchars), a failed match can only restart at the current byte. */
#include "sluice/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
  S_PREAMBLE,
  S_AFTER,      /* just after a delimiter: "--", transport padding, or CRLF */
  S_AFTER_DASH, /* one '-' seen: the second makes the close delimiter */
  S_AFTER_CR,   /* CR seen after a delimiter: LF starts the headers */
  S_HEADERS,
  S_DATA,
  S_EPILOGUE,
  S_ERROR
} state_t;

struct sl_mp {
  state_t st;
  sl_mp_err_t err;
  char delim[4 + SL_MP_MAX_BOUNDARY + 1]; /* "\r\n--" boundary */
  size_t dlen, idx;                       /* delimiter length, bytes of it matched so far */
  size_t lb_off, lb_len;                  /* held-back delimiter prefix still to emit as data */
  size_t preamble, padding;
  char line[SL_MP_MAX_HEADER_LINE + 1];
  size_t line_len;
  int line_cr, nheaders, parts, have_disp, have_filename;
  char name[SL_MP_MAX_NAME + 1], filename[SL_MP_MAX_NAME + 1];
};

static const char *const MESSAGES[] = {
    [SL_MP_OK] = "",
    [SL_MP_E_NO_BOUNDARY] = "multipart body does not start with its boundary",
    [SL_MP_E_SYNTAX] = "malformed multipart body (bad bytes after a boundary or in part headers)",
    [SL_MP_E_HEADER_TOO_LONG] = "a multipart part header line is too long",
    [SL_MP_E_TOO_MANY_HEADERS] = "a multipart part has too many header lines",
    [SL_MP_E_TOO_MANY_PARTS] = "the multipart body has too many parts",
    [SL_MP_E_DISPOSITION] = "a multipart part lacks a valid Content-Disposition: form-data; name=...",
    [SL_MP_E_FILENAME] = "a multipart filename must be a single path component (no '/', '\\', '.', '..', "
                         "control characters; 1..255 bytes)",
    [SL_MP_E_TRUNCATED] = "the multipart body ended before its closing boundary",
};

static int bchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c);
}

static int boundary_ok(const char *b, size_t n) {
  if (n == 0 || n > SL_MP_MAX_BOUNDARY || b[n - 1] == ' ') return 0;
  for (size_t i = 0; i < n; i++)
    if (!b[i] || !bchar((unsigned char)b[i])) return 0;
  return 1;
}

static int ows(char c) { return c == ' ' || c == '\t'; }

int sl_mp_boundary_from_content_type(const char *ct, char *out, size_t outlen) {
  if (!ct || !out || outlen == 0) return -1;
  while (ows(*ct)) ct++;
  if (strncasecmp(ct, "multipart/form-data", 19) != 0) return -1;
  const char *p = ct + 19;
  int found = -1;
  while (*p) {
    while (ows(*p)) p++;
    if (!*p) break;
    if (*p != ';') return -1;
    p++;
    while (ows(*p)) p++;
    const char *k = p;
    while (*p && *p != '=' && *p != ';' && !ows(*p)) p++;
    size_t klen = (size_t)(p - k);
    while (ows(*p)) p++;
    if (*p != '=') {
      if (klen == 0 && (!*p || *p == ';')) continue;
      return -1;
    }
    p++;
    while (ows(*p)) p++;
    char val[SL_MP_MAX_BOUNDARY + 2];
    size_t vlen = 0;
    if (*p == '"') {
      p++;
      while (*p && *p != '"') {
        if (*p == '\\' && p[1]) p++;
        if (vlen > SL_MP_MAX_BOUNDARY) return -1;
        val[vlen++] = *p++;
      }
      if (*p != '"') return -1;
      p++;
    } else {
      while (*p && *p != ';' && !ows(*p)) {
        if (vlen > SL_MP_MAX_BOUNDARY) return -1;
        val[vlen++] = *p++;
      }
    }
    if (klen == 8 && strncasecmp(k, "boundary", 8) == 0) {
      if (found >= 0 || !boundary_ok(val, vlen) || vlen + 1 > outlen) return -1;
      memcpy(out, val, vlen);
      out[vlen] = 0;
      found = (int)vlen;
    }
  }
  return found;
}

sl_mp_t *sl_mp_new(const char *boundary) {
  if (!boundary || !boundary_ok(boundary, strlen(boundary))) return NULL;
  sl_mp_t *p = calloc(1, sizeof(*p));
  if (!p) return NULL;
  p->dlen = (size_t)snprintf(p->delim, sizeof(p->delim), "\r\n--%s", boundary);
  p->st = S_PREAMBLE;
  p->idx = 2; /* the body may start with the boundary itself: as if after a CRLF */
  return p;
}

void sl_mp_free(sl_mp_t *p) { free(p); }

const char *sl_mp_name(const sl_mp_t *p) { return p->name; }
const char *sl_mp_filename(const sl_mp_t *p) { return p->have_filename ? p->filename : NULL; }
int sl_mp_parts(const sl_mp_t *p) { return p->parts; }
sl_mp_err_t sl_mp_errcode(const sl_mp_t *p) { return p->err; }
const char *sl_mp_error(const sl_mp_t *p) { return MESSAGES[p->err]; }

int sl_mp_filename_ok(const char *name, size_t len) {
  if (len == 0 || len > SL_MP_MAX_NAME) return 0;
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return 0;
  }
  return 1;
}

static sl_mp_event_t fail(sl_mp_t *p, sl_mp_err_t e) {
  p->st = S_ERROR;
  p->err = e;
  return SL_MP_ERROR;
}

static int tchar(char c) { return c && c != ';' && c != '=' && !ows(c) && c != '"'; }

/* Content-Disposition: form-data; name="..."; filename="..." (other parameters ignored) */
static sl_mp_err_t parse_disposition(sl_mp_t *p, const char *v) {
  while (ows(*v)) v++;
  const char *t = v;
  while (tchar(*v)) v++;
  if ((size_t)(v - t) != 9 || strncasecmp(t, "form-data", 9) != 0) return SL_MP_E_DISPOSITION;
  int have_name = 0;
  for (;;) {
    while (ows(*v)) v++;
    if (!*v) break;
    if (*v++ != ';') return SL_MP_E_DISPOSITION;
    while (ows(*v)) v++;
    if (!*v) break;
    const char *k = v;
    while (tchar(*v)) v++;
    size_t klen = (size_t)(v - k);
    while (ows(*v)) v++;
    if (klen == 0 || *v++ != '=') return SL_MP_E_DISPOSITION;
    while (ows(*v)) v++;
    char val[SL_MP_MAX_HEADER_LINE + 1];
    size_t vlen = 0;
    if (*v == '"') {
      v++;
      while (*v && *v != '"') {
        if (*v == '\\' && v[1]) v++;
        val[vlen++] = *v++;
      }
      if (*v++ != '"') return SL_MP_E_DISPOSITION;
    } else {
      while (tchar(*v)) val[vlen++] = *v++;
      if (vlen == 0) return SL_MP_E_DISPOSITION;
    }
    val[vlen] = 0;
    if (klen == 4 && strncasecmp(k, "name", 4) == 0) {
      if (have_name || vlen == 0 || vlen > SL_MP_MAX_NAME || strlen(val) != vlen) return SL_MP_E_DISPOSITION;
      memcpy(p->name, val, vlen + 1);
      have_name = 1;
    } else if (klen == 8 && strncasecmp(k, "filename", 8) == 0) {
      if (p->have_filename) return SL_MP_E_DISPOSITION;
      if (!sl_mp_filename_ok(val, vlen)) return SL_MP_E_FILENAME;
      memcpy(p->filename, val, vlen + 1);
      p->have_filename = 1;
    }
  }
  return have_name ? SL_MP_OK : SL_MP_E_DISPOSITION;
}

/* A complete header line (without CRLF). */
static sl_mp_err_t header_line(sl_mp_t *p) {
  p->line[p->line_len] = 0;
  if (memchr(p->line, 0, p->line_len)) return SL_MP_E_SYNTAX;
  if (ows(p->line[0])) return SL_MP_E_SYNTAX; /* obsolete folding */
  if (++p->nheaders > SL_MP_MAX_HEADERS) return SL_MP_E_TOO_MANY_HEADERS;
  char *colon = strchr(p->line, ':');
  if (!colon || colon == p->line) return SL_MP_E_SYNTAX;
  size_t klen = (size_t)(colon - p->line);
  if (klen == 19 && strncasecmp(p->line, "content-disposition", 19) == 0) {
    if (p->have_disp) return SL_MP_E_DISPOSITION;
    p->have_disp = 1;
    return parse_disposition(p, colon + 1);
  }
  return SL_MP_OK;
}

sl_mp_event_t sl_mp_next(sl_mp_t *p, const unsigned char *in, size_t len, size_t *consumed, size_t max_data,
                         const unsigned char **data, size_t *data_len) {
  size_t i = 0;
  if (max_data == 0) max_data = 1;
  *data = NULL;
  *data_len = 0;
  *consumed = 0;
  if (p->st == S_ERROR) return SL_MP_ERROR;
  if (p->st == S_DATA && p->lb_len) { /* held-back bytes that turned out to be data */
    size_t n = p->lb_len < max_data ? p->lb_len : max_data;
    *data = (const unsigned char *)p->delim + p->lb_off;
    *data_len = n;
    p->lb_off += n;
    p->lb_len -= n;
    return SL_MP_PART_DATA;
  }
  while (i < len) {
    unsigned char c = in[i];
    switch (p->st) {
      case S_PREAMBLE:
        if (c == (unsigned char)p->delim[p->idx]) {
          i++;
          if (++p->idx == p->dlen) {
            p->st = S_AFTER;
            p->idx = 0;
            p->padding = 0;
          }
        } else if (p->idx) {
          p->idx = 0; /* re-examine c */
        } else {
          i++;
        }
        if (++p->preamble > SL_MP_MAX_PREAMBLE + SL_MP_MAX_BOUNDARY + 4) {
          *consumed = i;
          return fail(p, SL_MP_E_NO_BOUNDARY);
        }
        break;
      case S_AFTER:
        i++;
        if (c == '-') {
          p->st = S_AFTER_DASH;
        } else if (c == '\r') {
          p->st = S_AFTER_CR;
        } else if (ows((char)c) && ++p->padding <= 64) {
          /* transport padding */
        } else {
          *consumed = i;
          return fail(p, SL_MP_E_SYNTAX);
        }
        break;
      case S_AFTER_DASH:
        i++;
        *consumed = i;
        if (c != '-') return fail(p, SL_MP_E_SYNTAX);
        p->st = S_EPILOGUE;
        return SL_MP_DONE;
      case S_AFTER_CR:
        i++;
        if (c != '\n') {
          *consumed = i;
          return fail(p, SL_MP_E_SYNTAX);
        }
        if (++p->parts > SL_MP_MAX_PARTS) {
          *consumed = i;
          return fail(p, SL_MP_E_TOO_MANY_PARTS);
        }
        p->st = S_HEADERS;
        p->line_len = 0;
        p->line_cr = p->nheaders = p->have_disp = p->have_filename = 0;
        p->name[0] = p->filename[0] = 0;
        break;
      case S_HEADERS:
        i++;
        if (p->line_cr) {
          if (c != '\n') {
            *consumed = i;
            return fail(p, SL_MP_E_SYNTAX);
          }
          p->line_cr = 0;
          if (p->line_len == 0) {
            *consumed = i;
            if (!p->have_disp) return fail(p, SL_MP_E_DISPOSITION);
            p->st = S_DATA;
            p->idx = p->lb_len = p->lb_off = 0;
            return SL_MP_PART_BEGIN;
          }
          sl_mp_err_t e = header_line(p);
          if (e != SL_MP_OK) {
            *consumed = i;
            return fail(p, e);
          }
          p->line_len = 0;
        } else if (c == '\r') {
          p->line_cr = 1;
        } else if (c == '\n') {
          *consumed = i;
          return fail(p, SL_MP_E_SYNTAX);
        } else {
          if (p->line_len >= SL_MP_MAX_HEADER_LINE) {
            *consumed = i;
            return fail(p, SL_MP_E_HEADER_TOO_LONG);
          }
          p->line[p->line_len++] = (char)c;
        }
        break;
      case S_DATA: {
        size_t start = i;
        while (i < len) {
          c = in[i];
          if (p->idx == 0 && c != '\r') {
            i++;
            if (i - start == max_data) break;
            continue;
          }
          if (c == (unsigned char)p->delim[p->idx]) {
            if (p->idx == 0 && i > start) break; /* emit the data before a possible delimiter first */
            i++;
            if (++p->idx == p->dlen) {
              p->st = S_AFTER;
              p->idx = 0;
              p->padding = 0;
              *consumed = i;
              return SL_MP_PART_END;
            }
          } else { /* the held-back prefix was data; c is re-examined afterwards */
            *consumed = i;
            p->lb_off = 0;
            p->lb_len = p->idx;
            p->idx = 0;
            size_t n = p->lb_len < max_data ? p->lb_len : max_data;
            *data = (const unsigned char *)p->delim;
            *data_len = n;
            p->lb_off = n;
            p->lb_len -= n;
            return SL_MP_PART_DATA;
          }
        }
        *consumed = i;
        if (i > start && p->idx == 0) {
          *data = in + start;
          *data_len = i - start;
          return SL_MP_PART_DATA;
        }
        break;
      }
      case S_EPILOGUE:
        i = len;
        break;
      case S_ERROR:
        *consumed = i;
        return SL_MP_ERROR;
    }
  }
  *consumed = i;
  return SL_MP_NEED_MORE;
}

int sl_mp_finish(sl_mp_t *p) {
  if (p->st == S_EPILOGUE) return 0;
  if (p->st != S_ERROR) fail(p, SL_MP_E_TRUNCATED);
  return -1;
}
