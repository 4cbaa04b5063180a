/* multipart.h — a streaming multipart/form-data parser (RFC 7578 / RFC 2046 §5.1); no I/O.
 *
 * Pull style: the caller hands in whatever bytes it has and asks for the next event; the parser says
 * how many input bytes it consumed, so the caller can stop at any event (for example while the file
 * a part goes to is being opened) and hand in the rest later. Any split of the input into chunks
 * yields the same events with the same concatenated data.
 *
 * Bounds: a header line ≤ SL_MP_MAX_HEADER_LINE, ≤ SL_MP_MAX_HEADERS lines per part,
 * ≤ SL_MP_MAX_PARTS parts, ≤ SL_MP_MAX_PREAMBLE bytes before the first boundary. Memory is the
 * sl_mp_t alone (no allocation after sl_mp_new).
 *
 * Filenames from Content-Disposition are checked, never rewritten: a part whose filename is empty,
 * "." or "..", longer than SL_MP_MAX_NAME, or holds '/', '\\' or a control byte is an error
 * (SL_MP_E_FILENAME), so a caller never joins an escaping name to a directory.
 *
 * Ownership: sl_mp_new returns a malloc'd parser (sl_mp_free). Data pointers returned by sl_mp_next
 * point into the caller's input or into the parser, valid until the next call.
 */
#ifndef SLUICE_MULTIPART_H
#define SLUICE_MULTIPART_H

#include <stddef.h>

#define SL_MP_MAX_BOUNDARY 70
#define SL_MP_MAX_HEADER_LINE 1024
#define SL_MP_MAX_HEADERS 16
#define SL_MP_MAX_PARTS 1000
#define SL_MP_MAX_NAME 255
#define SL_MP_MAX_PREAMBLE 65536

typedef enum {
  SL_MP_NEED_MORE = 0, /* every input byte consumed; call again with more (or sl_mp_finish) */
  SL_MP_PART_BEGIN,    /* headers of a part parsed: sl_mp_name / sl_mp_filename */
  SL_MP_PART_DATA,     /* *data, *data_len: the next bytes of the current part's body */
  SL_MP_PART_END,      /* the current part ended */
  SL_MP_DONE,          /* the closing boundary: everything after it (epilogue) is ignored */
  SL_MP_ERROR          /* malformed input: sl_mp_error; every later call returns SL_MP_ERROR */
} sl_mp_event_t;

typedef enum {
  SL_MP_OK = 0,
  SL_MP_E_NO_BOUNDARY,    /* no opening boundary within SL_MP_MAX_PREAMBLE bytes */
  SL_MP_E_SYNTAX,         /* bad bytes after a boundary or in headers (bare CR/LF, folding, ...) */
  SL_MP_E_HEADER_TOO_LONG,
  SL_MP_E_TOO_MANY_HEADERS,
  SL_MP_E_TOO_MANY_PARTS,
  SL_MP_E_DISPOSITION,    /* no, duplicate or malformed Content-Disposition: form-data; name=... */
  SL_MP_E_FILENAME,       /* a filename that is empty, '.', '..', too long or holds '/', '\\', controls */
  SL_MP_E_TRUNCATED       /* sl_mp_finish before the closing boundary */
} sl_mp_err_t;

typedef struct sl_mp sl_mp_t;

/* Extracts the boundary parameter of a "multipart/form-data; boundary=..." Content-Type into
 * out (NUL-terminated). Returns its length, or -1 when ct is not multipart/form-data or the boundary
 * is missing, empty, longer than SL_MP_MAX_BOUNDARY or has characters RFC 2046 does not allow. */
int sl_mp_boundary_from_content_type(const char *ct, char *out, size_t outlen);

/* A parser for the given boundary (validated like above); NULL when invalid or out of memory. */
sl_mp_t *sl_mp_new(const char *boundary);
void sl_mp_free(sl_mp_t *p);

/* Parses in[0..len) up to the next event; *consumed gets how many bytes it took (the caller passes
 * the rest again). PART_DATA carries at most max_data bytes (max_data 0 counts as 1). */
sl_mp_event_t sl_mp_next(sl_mp_t *p, const unsigned char *in, size_t len, size_t *consumed, size_t max_data,
                         const unsigned char **data, size_t *data_len);

/* At the end of input: 0 when the closing boundary was seen, else -1 (SL_MP_E_TRUNCATED unless an
 * error came earlier). */
int sl_mp_finish(sl_mp_t *p);

/* The current part's form field name and filename (NULL when the part has none); valid from
 * PART_BEGIN until the next PART_BEGIN. */
const char *sl_mp_name(const sl_mp_t *p);
const char *sl_mp_filename(const sl_mp_t *p);
int sl_mp_parts(const sl_mp_t *p); /* parts begun so far */

sl_mp_err_t sl_mp_errcode(const sl_mp_t *p);
const char *sl_mp_error(const sl_mp_t *p); /* a sentence for the error, "" when none */

/* 1 when name is a safe single path component by the rules above. */
int sl_mp_filename_ok(const char *name, size_t len);

#endif
