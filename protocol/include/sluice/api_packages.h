/* api_packages.h — REST codec of POST/GET /api/v1/sandboxes/{sb}/packages: request validation, the argv
 * the gateway runs inside the sandbox through sluice_exec_request (pip / npm as the sandbox's user, never a
 * shell), and the parsing of what those commands print.
 * Ownership: returned json_t / char * belong to the caller. */
#ifndef SLUICE_API_PACKAGES_H
#define SLUICE_API_PACKAGES_H

#include <jansson.h>

#include "sluice/api.h"

#define SL_PKG_NAME_MAX 200
#define SL_PKG_VERSION_MAX 64
/* where installs land inside the sandbox; the language contexts have them on their search path */
#define SL_PKG_PYTHON_TARGET "/home/user/.local/sluice/python"
#define SL_PKG_NODE_PREFIX "/home/user/.local/sluice/node"
/* the Python driver's environment variable carrying sl_api_package_pip_argv as a JSON array */
#define SL_PIP_INSTALL_ENV "SLUICE_PIP_INSTALL_ARGV"
/* bound of the tool output carried back (install reply, error message): its tail */
#define SL_PKG_OUTPUT_MAX (16u << 10)

typedef enum { SL_PKG_PYTHON, SL_PKG_JAVASCRIPT } sl_pkg_lang_t;

typedef struct {
  sl_pkg_lang_t lang;
  char name[SL_PKG_NAME_MAX + 1];
  char version[SL_PKG_VERSION_MAX + 1]; /* "" = latest */
} sl_api_package_t;

/* "python" | "javascript" (NULL → python) → 0 and *lang; -1 for anything else */
int sl_api_package_lang(const char *s, sl_pkg_lang_t *lang);
/* an http(s) URL without whitespace, quotes or control characters, ≤ 1024 bytes */
int sl_api_package_index_ok(const char *url);
/* name: [A-Za-z0-9._-]+ starting with a letter or digit; version: [A-Za-z0-9.+!*_-]+ likewise → 400 */
int sl_api_parse_package(const json_t *body, sl_api_package_t *out, sl_api_err_t *err);
/* pip install's argv up to the requirement specs (as the sandbox's user, into SL_PKG_PYTHON_TARGET, from
 * index_url when not NULL): the packages route appends one spec; the Python driver's %pip magic appends the
 * cell's arguments (it gets this array as SL_PIP_INSTALL_ENV, JSON, in its environment) */
json_t *sl_api_package_pip_argv(const char *index_url);
/* argv of the install (index_url may be NULL: the tool's default) */
json_t *sl_api_package_install_argv(const sl_api_package_t *p, const char *index_url);
/* argv that prints the installed packages as one JSON line [{name, version}] */
json_t *sl_api_package_list_argv(sl_pkg_lang_t lang);
/* the list from that command's stdout, or NULL when it is not what the command prints */
json_t *sl_api_package_list_parse(const char *out);
/* the version installed for name (PEP 503-normalised match) in pip's "Successfully installed A-1 B-2",
 * or NULL */
char *sl_api_package_pip_version(const char *output, const char *name);
/* the last SL_PKG_OUTPUT_MAX bytes of s (a fresh string; starts at a UTF-8 boundary) */
char *sl_api_package_tail(const char *s);

#endif
