/* api_packages.c — see sluice/api_packages.h. */
#include "sluice/api_packages.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int sl_api_package_lang(const char *s, sl_pkg_lang_t *lang) {
  if (!s || !strcmp(s, "python")) {
    *lang = SL_PKG_PYTHON;
    return 0;
  }
  if (!strcmp(s, "javascript")) {
    *lang = SL_PKG_JAVASCRIPT;
    return 0;
  }
  return -1;
}

int sl_api_package_index_ok(const char *url) {
  size_t n = strlen(url);
  if (n > 1024 || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) return 0;
  const char *host = strstr(url, "://") + 3;
  if (!*host || *host == '/') return 0;
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\'' || *p == '\\' || *p == '`') return 0;
  return 1;
}

static int token_ok(const char *s, size_t max, const char *extra) {
  size_t n = strlen(s);
  if (n == 0 || n > max || !isalnum((unsigned char)s[0])) return 0;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr(extra, *p)) return 0;
  return 1;
}

int sl_api_parse_package(const json_t *body, sl_api_package_t *out, sl_api_err_t *err) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(body)) return sl_api_fail(err, 400, "invalid_request", "the body must be a JSON object");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)body, k, v) {
    if (strcmp(k, "name") && strcmp(k, "version") && strcmp(k, "language"))
      return sl_api_fail(err, 400, "invalid_request", "unknown field '%s'", k);
  }
  json_t *lang = json_object_get(body, "language");
  if (lang && !json_is_null(lang) && (!json_is_string(lang) || sl_api_package_lang(json_string_value(lang), &out->lang) < 0))
    return sl_api_fail(err, 400, "invalid_request", "'language' must be \"python\" or \"javascript\"");
  const char *name = json_string_value(json_object_get(body, "name"));
  if (!name || !token_ok(name, SL_PKG_NAME_MAX, "._-"))
    return sl_api_fail(err, 400, "invalid_request",
                       "'name' must be a package name: letters, digits, '.', '_', '-' (starting with a letter or digit)");
  json_t *ver = json_object_get(body, "version");
  if (ver && !json_is_null(ver)) {
    const char *vs = json_string_value(ver);
    if (!vs || !token_ok(vs, SL_PKG_VERSION_MAX, ".+!*_-"))
      return sl_api_fail(err, 400, "invalid_request",
                         "'version' must be a version: letters, digits and . + ! * _ - (starting with a letter or digit)");
    strcpy(out->version, vs);
  }
  strcpy(out->name, name);
  return 0;
}

/* host[:port] of an http(s) URL (for pip's --trusted-host) */
static json_t *url_host(const char *url) {
  const char *h = strstr(url, "://") + 3;
  size_t n = strcspn(h, "/?#");
  const char *at = memchr(h, '@', n);
  if (at) {
    n -= (size_t)(at + 1 - h);
    h = at + 1;
  }
  return json_stringn(h, n);
}

json_t *sl_api_package_pip_argv(const char *index_url) {
  json_t *a = json_pack("[s, s, s, s, s, s, s, s, s, s, s]", "/usr/bin/python3", "-m", "pip", "install", "--no-input",
                        "--disable-pip-version-check", "--no-cache-dir", "--no-warn-script-location", "--upgrade",
                        "--target", SL_PKG_PYTHON_TARGET);
  if (a && index_url) {
    json_array_append_new(a, json_string("--index-url"));
    json_array_append_new(a, json_string(index_url));
    if (!strncmp(index_url, "http://", 7)) { /* pip ignores plain-http indexes it does not trust */
      json_array_append_new(a, json_string("--trusted-host"));
      json_array_append_new(a, url_host(index_url));
    }
  }
  return a;
}

json_t *sl_api_package_install_argv(const sl_api_package_t *p, const char *index_url) {
  char spec[SL_PKG_NAME_MAX + SL_PKG_VERSION_MAX + 4];
  json_t *a;
  if (p->lang == SL_PKG_PYTHON) {
    snprintf(spec, sizeof(spec), "%s%s%s", p->name, p->version[0] ? "==" : "", p->version);
    a = sl_api_package_pip_argv(index_url);
  } else {
    snprintf(spec, sizeof(spec), "%s%s%s", p->name, p->version[0] ? "@" : "", p->version);
    a = json_pack("[s, s, s, s, s, s, s, s, s, s, s]", "/usr/bin/npm", "install", "--no-audit", "--no-fund",
                  "--no-update-notifier", "--no-package-lock", "--save=false", "--cache", "/tmp/.sluice-npm-cache",
                  "--prefix", SL_PKG_NODE_PREFIX);
    if (a && index_url) {
      json_array_append_new(a, json_string("--registry"));
      json_array_append_new(a, json_string(index_url));
    }
  }
  if (a) json_array_append_new(a, json_string(spec));
  return a;
}

static const char PY_LIST[] =
    "import json, os, re, sys\n"
    "d, r = sys.argv[1], {}\n"
    "for e in sorted(os.listdir(d)) if os.path.isdir(d) else []:\n"
    "    if not e.endswith('.dist-info'):\n"
    "        continue\n"
    "    n = v = None\n"
    "    try:\n"
    "        with open(os.path.join(d, e, 'METADATA'), encoding='utf-8', errors='replace') as f:\n"
    "            for l in f:\n"
    "                if not l.strip():\n"
    "                    break\n"
    "                if l.startswith('Name:'):\n"
    "                    n = l[5:].strip()\n"
    "                elif l.startswith('Version:'):\n"
    "                    v = l[8:].strip()\n"
    "    except OSError:\n"
    "        pass\n"
    "    if not n or not v:\n"
    "        n, _, v = e[:-len('.dist-info')].partition('-')\n"
    "    k = re.sub(r'[-_.]+', '-', n).lower()\n"
    "    m = os.stat(os.path.join(d, e)).st_mtime_ns\n"
    "    if k not in r or m >= r[k][0]:  # pip --target --upgrade leaves the old dist-info: the newest wins\n"
    "        r[k] = (m, {'name': n, 'version': v})\n"
    "print(json.dumps([x[1] for _, x in sorted(r.items())]))\n";

static const char JS_LIST[] =
    "const fs = require('fs'), path = require('path');\n"
    "const d = path.join(process.argv[1], 'node_modules'), r = [];\n"
    "const one = (p) => { try { const j = JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8'));\n"
    "  if (typeof j.name === 'string') r.push({ name: j.name, version: String(j.version || '') }); } catch (e) {} };\n"
    "let es = []; try { es = fs.readdirSync(d).sort(); } catch (e) {}\n"
    "for (const e of es) {\n"
    "  if (e.startsWith('.')) continue;\n"
    "  if (e.startsWith('@')) { let s = []; try { s = fs.readdirSync(path.join(d, e)).sort(); } catch (x) {}\n"
    "    for (const t of s) one(path.join(d, e, t)); } else one(path.join(d, e));\n"
    "}\n"
    "console.log(JSON.stringify(r));\n";

json_t *sl_api_package_list_argv(sl_pkg_lang_t lang) {
  if (lang == SL_PKG_PYTHON) return json_pack("[s, s, s, s]", "/usr/bin/python3", "-c", PY_LIST, SL_PKG_PYTHON_TARGET);
  return json_pack("[s, s, s, s]", "/usr/bin/node", "-e", JS_LIST, SL_PKG_NODE_PREFIX);
}

json_t *sl_api_package_list_parse(const char *out) {
  if (!out) return NULL;
  const char *line = NULL; /* the last line that starts with '[' */
  for (const char *p = out; p && *p;) {
    if (*p == '[') line = p;
    p = strchr(p, '\n');
    if (p) p++;
  }
  json_t *a = line ? json_loads(line, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
  if (!json_is_array(a)) {
    json_decref(a);
    return NULL;
  }
  size_t i;
  json_t *e;
  json_array_foreach(a, i, e) {
    if (!json_is_string(json_object_get(e, "name")) || !json_is_string(json_object_get(e, "version"))) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

/* PEP 503: lower case, runs of - _ . as one - */
static void normalise(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < cap; i++) {
    char c = s[i];
    if (c == '-' || c == '_' || c == '.') {
      if (o == 0 || out[o - 1] != '-') out[o++] = '-';
    } else {
      out[o++] = (char)tolower((unsigned char)c);
    }
  }
  out[o] = 0;
}

char *sl_api_package_pip_version(const char *output, const char *name) {
  static const char MARK[] = "Successfully installed ";
  char want[SL_PKG_NAME_MAX + 1], got[SL_PKG_NAME_MAX + 1];
  normalise(name, strlen(name), want, sizeof(want));
  const char *p = NULL;
  for (const char *q = output; (q = strstr(q, MARK)); q += sizeof(MARK) - 1) p = q;
  if (!p) return NULL;
  p += sizeof(MARK) - 1;
  while (*p && *p != '\n') {
    while (*p == ' ') p++;
    size_t n = strcspn(p, " \r\n");
    const char *dash = NULL;
    for (size_t i = 0; i < n; i++)
      if (p[i] == '-') dash = p + i;
    if (dash && dash > p) {
      normalise(p, (size_t)(dash - p), got, sizeof(got));
      if (!strcmp(got, want)) return strndup(dash + 1, (size_t)(p + n - dash - 1));
    }
    p += n;
    if (*p == '\r') p++;
  }
  return NULL;
}

char *sl_api_package_tail(const char *s) {
  size_t n = strlen(s);
  if (n <= SL_PKG_OUTPUT_MAX) return strdup(s);
  const char *p = s + n - SL_PKG_OUTPUT_MAX;
  while (((unsigned char)*p & 0xC0) == 0x80) p++;
  return strdup(p);
}
