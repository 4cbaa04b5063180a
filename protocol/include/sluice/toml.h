/* toml.h — a TOML subset for the gateway's config file, parsed into a jansson object (no I/O).
 *
 * Supported: comments; bare (A-Za-z0-9_-) and quoted keys, dotted keys; [table] and [a.b] headers;
 * values: basic strings ("..." with \" \\ \b \t \n \f \r \uXXXX \UXXXXXXXX), literal strings ('...'),
 * decimal integers (sign, '_' between digits), true/false, arrays (possibly over several lines, trailing
 * comma) and inline tables { k = v, ... }. Not supported (a clear error): floats, dates, multi-line
 * strings, arrays of tables, hex/octal/binary integers. Redefining a key or a table is an error.
 * Bounds: input SL_TOML_MAX_INPUT bytes, nesting SL_TOML_MAX_DEPTH, a string or key SL_TOML_MAX_STR.
 *
 * Ownership: sl_toml_parse returns a new reference (caller owns) or NULL with err filled.
 */
#ifndef SLUICE_TOML_H
#define SLUICE_TOML_H

#include <jansson.h>
#include <stddef.h>

#define SL_TOML_MAX_INPUT (1u << 20)
#define SL_TOML_MAX_DEPTH 16
#define SL_TOML_MAX_STR 4096

/* err gets "line N: what" (NUL-terminated, truncated to errlen). */
json_t *sl_toml_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
