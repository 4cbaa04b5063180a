/* util.h — small helpers shared by both daemons; no I/O.
 * Ownership: sl_utf8_sanitize returns a new malloc'd buffer (caller frees). */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>

/* Copies in[0..len) replacing every invalid UTF-8 sequence (and NUL) by U+FFFD so it can go into a
 * JSON string. *outlen receives the new length. Returns NULL only on allocation failure. */
char *sl_utf8_sanitize(const char *in, size_t len, size_t *outlen);

/* Length of the longest prefix of in[0..len) that is valid UTF-8 without NUL (== len: all of it).
 * ASCII runs are checked 8 bytes at a time. */
size_t sl_utf8_valid_prefix(const char *in, size_t len);

/* Length of the longest prefix of buf[0..len) that does not end inside a UTF-8 sequence, so a stream
 * reader can keep an incomplete trailing character for the next read. */
size_t sl_utf8_complete_prefix(const char *buf, size_t len);

/* Standard base64 (RFC 4648, padded) of in[0..len) into out, which holds SL_BASE64_LEN(len) + 1 bytes;
 * NUL-terminated. Returns the encoded length. */
#define SL_BASE64_LEN(n) (((n) + 2) / 3 * 4)
size_t sl_base64_encode(const void *in, size_t len, char *out);

/* Constant-time equality of two byte strings of equal length n. */
int sl_ct_equal(const void *a, const void *b, size_t n);

#endif
