/* json_out.h — fast JSON output for events that carry bulk text (stream output).
 *
 * Why not jansson alone: measured on this project's machine (jansson 2.14, a {"name","text": 16 KiB}
 * object), json_dumps costs 18.6 ns per byte of text and json_loadb 37.5 ns; stdout streaming went
 * through one load and one dump in the gateway per byte, ~56 ns/byte ≈ 18 MB/s. sl_json_escape
 * escapes the same text at well under 1 ns/byte (SSE2 scan for the bytes that need escaping, memcpy
 * of the runs in between), so events are built with jansson for their small fields and the large
 * strings spliced in by sl_json_escape.
 *
 * Output is byte-identical to json_dumps(obj, JSON_COMPACT) (tested against jansson on many inputs
 * and fuzzed: tests/unit/test_json_out.c, tests/fuzz/fuzz_json_escape.c): `"` and `\` escaped,
 * \b \f \n \r \t as two-character escapes, other bytes below 0x20 as \u00XX (uppercase hex, as
 * jansson), everything else (multi-byte UTF-8, 0x7F, U+2028) passed through.
 *
 * Precondition: strings are valid UTF-8. jansson refuses to dump invalid UTF-8; sl_json_escape does
 * not check. Every json_t string made by json_string(n) or json_loadb is valid; a string made with
 * json_stringn_nocheck must have been validated by its maker (sl_op_stream_inline does).
 *
 * Ownership: sl_json_dumps returns a new NUL-terminated buffer (caller frees); sl_json_escape writes
 * into the caller's buffer.
 */
#ifndef SLUICE_JSON_OUT_H
#define SLUICE_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/* Strings at least this long (top-level members of an object) are spliced by sl_json_dumps; shorter
 * ones are not worth leaving jansson for. */
#define SL_JSON_SPLICE_MIN 1024

/* Bytes sl_json_escape may write for len input bytes: 6 per byte plus the two quotes. 0 when that
 * does not fit a size_t. */
size_t sl_json_escape_bound(size_t len);

/* Writes in[0..len) as a JSON string literal, quotes included, into out (at least
 * sl_json_escape_bound(len) bytes; not NUL-terminated). Returns the bytes written. */
size_t sl_json_escape(const char *in, size_t len, char *out);

/* json_dumps(obj, JSON_COMPACT), faster when obj is an object with long top-level string members.
 * *len (when non-NULL) receives strlen of the result. NULL on allocation failure or what json_dumps
 * refuses. */
char *sl_json_dumps(const json_t *obj, size_t *len);

#endif
