/* api.c — REST envelopes, body parsing, names and limit strings (docs/API.md). */
#include "sluice/api.h"
#include "sluice/egress.h"
#include "sluice/json_out.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_api_fail(sl_api_err_t *err, int status, const char *code, const char *fmt, ...) {
  if (!err) return -1;
  err->status = status;
  snprintf(err->code, sizeof(err->code), "%s", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  return -1;
}

json_t *sl_api_envelope_data(json_t *data) {
  if (!data) return NULL;
  return json_pack("{s:o}", "data", data);
}

json_t *sl_api_envelope_error(const char *code, const char *message) {
  return json_pack("{s:{s:s, s:s}}", "error", "code", code ? code : "error", "message",
                   message ? message : "");
}

char *sl_api_dump(const json_t *obj, size_t *len) {
  return sl_json_dumps(obj, len); /* = json_dumps(JSON_COMPACT), fast for stream text (json_out.h) */
}

json_t *sl_api_parse_body(const char *buf, size_t len, sl_api_err_t *err) {
  json_error_t je;
  if (!buf || len == 0) {
    sl_api_fail(err, 400, "invalid_json", "request body is empty; a JSON object is required");
    return NULL;
  }
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    sl_api_fail(err, 400, "invalid_json", "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    sl_api_fail(err, 400, "invalid_json", "the request body must be a JSON object");
    return NULL;
  }
  return j;
}

int sl_api_name_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > SL_API_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
  }
  return s[0] != '-' && s[n - 1] != '-';
}

int sl_api_image_name_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > SL_API_MAX_NAME || s[0] == '.') return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-')) return 0;
  return 1;
}

/* Decimal with optional fraction → value * scale (scale a power of ten ≤ 1000), exact digits only. */
static int parse_decimal(const char *s, size_t n, uint64_t scale, uint64_t *out) {
  uint64_t whole = 0, frac = 0, fscale = 1;
  size_t i = 0;
  int digits = 0;
  for (; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
    if (whole > (UINT64_MAX - 9) / 10) return -EINVAL;
    whole = whole * 10 + (uint64_t)(s[i] - '0');
  }
  if (i < n && s[i] == '.') {
    i++;
    for (; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
      if (fscale >= scale) continue; /* finer than the unit: dropped */
      frac = frac * 10 + (uint64_t)(s[i] - '0');
      fscale *= 10;
    }
  }
  if (i != n || digits == 0) return -EINVAL;
  if (whole > UINT64_MAX / scale) return -EINVAL;
  *out = whole * scale + frac * (scale / fscale);
  return 0;
}

int sl_api_parse_cpu(const char *s, uint64_t *millicores) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 32) return -EINVAL;
  uint64_t v;
  if (s[n - 1] == 'm') {
    if (parse_decimal(s, n - 1, 1, &v) < 0 || strchr(s, '.')) return -EINVAL;
  } else if (parse_decimal(s, n, 1000, &v) < 0) {
    return -EINVAL;
  }
  if (v == 0 || v > 1024 * 1000) return -EINVAL;
  *millicores = v;
  return 0;
}

int sl_api_parse_bytes(const char *s, uint64_t *bytes) {
  static const struct {
    const char *suffix;
    uint64_t mult;
  } units[] = {{"Ki", 1ull << 10}, {"Mi", 1ull << 20}, {"Gi", 1ull << 30}, {"Ti", 1ull << 40},
               {"k", 1000ull},     {"K", 1000ull},     {"M", 1000000ull}, {"G", 1000000000ull},
               {"T", 1000000000000ull}};
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 32) return -EINVAL;
  uint64_t mult = 1;
  size_t num = n;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    size_t sl = strlen(units[i].suffix);
    if (n > sl && strcmp(s + n - sl, units[i].suffix) == 0) {
      mult = units[i].mult;
      num = n - sl;
      break;
    }
  }
  uint64_t v;
  if (parse_decimal(s, num, 1, &v) < 0 || strchr(s, '.')) return -EINVAL;
  if (v == 0 || v > UINT64_MAX / mult) return -EINVAL;
  *bytes = v * mult;
  return 0;
}

int sl_api_validate_limits(json_t *limits, sl_api_err_t *err) {
  if (!json_is_object(limits)) return sl_api_fail(err, 400, "invalid_request", "limits must be an object");
  const char *k;
  json_t *v;
  json_object_foreach(limits, k, v) {
    uint64_t x;
    if (strcmp(k, "cpu") == 0) {
      char buf[40];
      const char *s = json_string_value(v);
      if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= 1024) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = buf;
      }
      if (!s || sl_api_parse_cpu(s, &x) < 0)
        return sl_api_fail(err, 422, "invalid_limit", "limits.cpu must be like \"500m\" or \"1\"");
    } else if (strcmp(k, "memory") == 0 || strcmp(k, "ephemeral-storage") == 0) {
      const char *s = json_string_value(v);
      int ok = json_is_integer(v) ? json_integer_value(v) > 0 : (s && sl_api_parse_bytes(s, &x) == 0);
      if (!ok) return sl_api_fail(err, 422, "invalid_limit", "limits.%s must be like \"512Mi\", \"1Gi\" or bytes", k);
    } else if (strcmp(k, "pids") == 0) {
      if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 4194304)
        return sl_api_fail(err, 422, "invalid_limit", "limits.pids must be a positive integer");
    } else {
      return sl_api_fail(err, 422, "invalid_limit", "unknown limit '%.64s' (cpu, memory, ephemeral-storage, pids)", k);
    }
  }
  return 0;
}

static int is_string_map(json_t *o, size_t max) {
  if (!json_is_object(o) || json_object_size(o) > max) return 0;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) if (!json_is_string(v)) return 0;
  return 1;
}

static int is_string_array(json_t *a, size_t max) {
  if (!json_is_array(a) || json_array_size(a) > max) return 0;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
  return 1;
}

typedef enum { T_STR, T_BOOL, T_UINT, T_STRMAP, T_STRARR, T_OBJ, T_STRARR_OR_NULL } ftype_t;

static const struct {
  const char *key;
  ftype_t type;
} CREATE_FIELDS[] = {
    {"name", T_STR},         {"image", T_STR},           {"namespace", T_STR},
    {"env", T_STRMAP},       {"env_file", T_STR},        {"limits", T_OBJ},
    {"egress_whitelist", T_STRARR_OR_NULL}, {"before_script", T_STR}, {"pod_non_root", T_BOOL},
    {"container_non_root", T_BOOL}, {"cap_add", T_STRARR}, {"cap_drop", T_STRARR},
    {"timeout", T_UINT},     {"ttl_seconds", T_UINT},    {"metadata", T_STRMAP},
    {"workspace_id", T_STR}, {"cwd", T_STR},
};
#define N_CREATE_FIELDS (sizeof(CREATE_FIELDS) / sizeof(CREATE_FIELDS[0]))

static const char *type_name(ftype_t t) {
  switch (t) {
    case T_STR: return "a string";
    case T_BOOL: return "a boolean";
    case T_UINT: return "a non-negative integer";
    case T_STRMAP: return "an object of strings";
    case T_STRARR: case T_STRARR_OR_NULL: return "an array of strings";
    case T_OBJ: return "an object";
  }
  return "?";
}

static int type_ok(json_t *v, ftype_t t) {
  switch (t) {
    case T_STR: return json_is_string(v) && json_string_length(v) < 65536;
    case T_BOOL: return json_is_boolean(v);
    case T_UINT: return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 10 * 365 * 86400;
    case T_STRMAP: return is_string_map(v, 4096);
    case T_STRARR: case T_STRARR_OR_NULL: return is_string_array(v, 4096);
    case T_OBJ: return json_is_object(v);
  }
  return 0;
}

int sl_api_parse_create(json_t *body, json_t **out, sl_api_err_t *err) {
  *out = NULL;
  if (!json_is_object(body)) return sl_api_fail(err, 400, "invalid_json", "the request body must be a JSON object");
  json_t *r = json_object();
  if (!r) return sl_api_fail(err, 500, "internal", "out of memory");
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    size_t i;
    for (i = 0; i < N_CREATE_FIELDS; i++)
      if (strcmp(CREATE_FIELDS[i].key, k) == 0) break;
    if (i == N_CREATE_FIELDS) {
      sl_api_fail(err, 400, "invalid_request", "unknown field '%.64s'", k);
      goto fail;
    }
    if (json_is_null(v)) {
      /* egress_whitelist: null means open egress, which is also what absence means */
      continue;
    }
    if (!type_ok(v, CREATE_FIELDS[i].type)) {
      sl_api_fail(err, 400, "invalid_request", "'%s' must be %s", k, type_name(CREATE_FIELDS[i].type));
      goto fail;
    }
    json_object_set(r, k, v);
  }
  const char *name = json_string_value(json_object_get(r, "name"));
  if (name && !sl_api_name_valid(name)) {
    sl_api_fail(err, 400, "invalid_name",
                "name must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");
    goto fail;
  }
  const char *ns = json_string_value(json_object_get(r, "namespace"));
  if (ns && !sl_api_name_valid(ns)) {
    sl_api_fail(err, 400, "invalid_namespace", "namespace must be 1-63 characters of a-z, 0-9 and '-'");
    goto fail;
  }
  const char *image = json_string_value(json_object_get(r, "image"));
  if (image && !sl_api_image_name_valid(image)) {
    sl_api_fail(err, 400, "invalid_image", "image name '%.64s' is not valid", image);
    goto fail;
  }
  const char *cwd = json_string_value(json_object_get(r, "cwd"));
  if (cwd && (cwd[0] != '/' || strlen(cwd) > 4096)) {
    sl_api_fail(err, 400, "invalid_request", "cwd must be an absolute path");
    goto fail;
  }
  json_t *limits = json_object_get(r, "limits");
  if (limits && sl_api_validate_limits(limits, err) < 0) goto fail;
  if (sl_api_validate_caps(r, err) < 0) goto fail;
  if (sl_api_validate_egress(r, err) < 0) goto fail;
  if (!ns) json_object_set_new(r, "namespace", json_string("default"));
  if (!image) json_object_set_new(r, "image", json_string("python"));
  if (!json_object_get(r, "timeout")) json_object_set_new(r, "timeout", json_integer(SL_API_DEFAULT_TIMEOUT_S));
  if (!json_object_get(r, "env")) json_object_set_new(r, "env", json_object());
  if (!json_object_get(r, "metadata")) json_object_set_new(r, "metadata", json_object());
  if (!json_object_get(r, "limits")) json_object_set_new(r, "limits", json_object());
  *out = r;
  return 0;
fail:
  json_decref(r);
  return -1;
}

static int opt_env(json_t *body, json_t *content, sl_api_err_t *err) {
  json_t *env = json_object_get(body, "env");
  if (!env || json_is_null(env)) return 0;
  if (!is_string_map(env, 4096)) return sl_api_fail(err, 400, "invalid_request", "'env' must be an object of strings");
  json_object_set(content, "env", env);
  return 0;
}

static int check_known(json_t *body, const char *const *known, sl_api_err_t *err) {
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    int found = 0;
    for (const char *const *p = known; *p; p++) found |= strcmp(*p, k) == 0;
    if (!found) return sl_api_fail(err, 400, "invalid_request", "unknown field '%.64s'", k);
  }
  return 0;
}

int sl_api_parse_exec(json_t *body, json_t **out, sl_api_err_t *err) {
  static const char *const known[] = {"command", "argv", "cwd", "env", "timeout_ms", "stdin", NULL};
  *out = NULL;
  if (check_known(body, known, err) < 0) return -1;
  json_t *c = json_object();
  if (!c) return sl_api_fail(err, 500, "internal", "out of memory");
  json_t *cmd = json_object_get(body, "command"), *argv = json_object_get(body, "argv");
  if (cmd && json_is_null(cmd)) cmd = NULL;
  if (argv && json_is_null(argv)) argv = NULL;
  if (!!cmd == !!argv) {
    sl_api_fail(err, 400, "invalid_request", "exactly one of 'command' (string) or 'argv' (array) is required");
    goto fail;
  }
  if (cmd) {
    if (!json_is_string(cmd) || json_string_length(cmd) == 0 || json_string_length(cmd) > (4u << 20)) {
      sl_api_fail(err, 400, "invalid_request", "'command' must be a non-empty string");
      goto fail;
    }
    json_object_set(c, "command", cmd);
  } else {
    if (!is_string_array(argv, 4096) || json_array_size(argv) == 0) {
      sl_api_fail(err, 400, "invalid_request", "'argv' must be a non-empty array of strings");
      goto fail;
    }
    json_object_set(c, "argv", argv);
  }
  json_t *cwd = json_object_get(body, "cwd");
  if (cwd && !json_is_null(cwd)) {
    if (!json_is_string(cwd) || json_string_length(cwd) == 0 || json_string_length(cwd) > 4096) {
      sl_api_fail(err, 400, "invalid_request", "'cwd' must be a path string");
      goto fail;
    }
    json_object_set(c, "cwd", cwd);
  }
  if (opt_env(body, c, err) < 0) goto fail;
  json_t *t = json_object_get(body, "timeout_ms");
  json_int_t tms = 30000;
  if (t && !json_is_null(t)) {
    if (!json_is_integer(t) || json_integer_value(t) <= 0 || json_integer_value(t) > 24ll * 3600 * 1000) {
      sl_api_fail(err, 400, "invalid_request", "'timeout_ms' must be a positive integer (at most 24 h)");
      goto fail;
    }
    tms = json_integer_value(t);
  }
  json_object_set_new(c, "timeout_ms", json_integer(tms));
  json_t *in = json_object_get(body, "stdin");
  if (in && !json_is_null(in)) {
    if (!json_is_string(in) || json_string_length(in) > (4u << 20)) {
      sl_api_fail(err, 400, "invalid_request", "'stdin' must be a string");
      goto fail;
    }
    json_object_set(c, "stdin", in);
  }
  *out = c;
  return 0;
fail:
  json_decref(c);
  return -1;
}

int sl_api_parse_code(json_t *body, json_t **out, uint32_t *wait_ms, sl_api_err_t *err) {
  static const char *const known[] = {"code", "language", "context_id", "timeout", "env", NULL};
  *out = NULL;
  if (check_known(body, known, err) < 0) return -1;
  json_t *c = json_object();
  if (!c) return sl_api_fail(err, 500, "internal", "out of memory");
  json_t *code = json_object_get(body, "code");
  if (!json_is_string(code) || json_string_length(code) > (4u << 20)) {
    sl_api_fail(err, 400, "invalid_request", "'code' is required and must be a string");
    goto fail;
  }
  json_object_set(c, "code", code);
  json_t *lang = json_object_get(body, "language");
  if (lang && !json_is_null(lang)) {
    const char *l = json_string_value(lang);
    if (!l || !(strcmp(l, "python") == 0 || strcmp(l, "bash") == 0 || strcmp(l, "javascript") == 0)) {
      sl_api_fail(err, 400, "invalid_request", "'language' must be one of python, bash, javascript");
      goto fail;
    }
    json_object_set(c, "language", lang);
  }
  json_t *ctx = json_object_get(body, "context_id");
  if (ctx && !json_is_null(ctx)) {
    if (!json_is_string(ctx) || json_string_length(ctx) > 64) {
      sl_api_fail(err, 400, "invalid_request", "'context_id' must be a string");
      goto fail;
    }
    json_object_set(c, "context_id", ctx);
  }
  if (opt_env(body, c, err) < 0) goto fail;
  uint32_t wait = SL_API_DEFAULT_CODE_TIMEOUT_MS;
  json_t *t = json_object_get(body, "timeout");
  if (t && !json_is_null(t)) {
    double s = json_number_value(t);
    if (!json_is_number(t) || !(s > 0) || s > 24 * 3600) {
      sl_api_fail(err, 400, "invalid_request", "'timeout' must be a positive number of seconds (at most 24 h)");
      goto fail;
    }
    wait = (uint32_t)(s * 1000.0);
    if (!wait) wait = 1;
    json_object_set_new(c, "timeout_ms", json_integer(wait));
  }
  json_object_set_new(c, "silent", json_false());
  json_object_set_new(c, "store_history", json_true());
  if (wait_ms) *wait_ms = wait;
  *out = c;
  return 0;
fail:
  json_decref(c);
  return -1;
}

void sl_api_time_str(time_t t, char out[32]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *copy_or(const json_t *rec, const char *key, json_t *dflt) {
  json_t *v = json_object_get(rec, key);
  if (v) {
    json_decref(dflt);
    return json_deep_copy(v);
  }
  return dflt;
}

json_t *sl_api_sandbox_view(const json_t *rec, time_t now) {
  json_int_t created = json_integer_value(json_object_get(rec, "created_at"));
  json_int_t timeout = json_integer_value(json_object_get(rec, "timeout"));
  json_t *ttl = json_object_get(rec, "ttl_seconds");
  const char *status = json_string_value(json_object_get(rec, "status"));
  if (!status) status = "starting";
  char created_s[32], expires_s[32], age[40];
  sl_api_time_str((time_t)created, created_s);
  long long el = now > created ? (long long)(now - created) : 0;
  snprintf(age, sizeof(age), "%lld:%02lld:%02lld", el / 3600, (el / 60) % 60, el % 60);
  json_t *expires = json_null();
  /* the earlier of the inactivity deadline (last activity + timeout) and the hard one (created + ttl) */
  json_int_t last = json_integer_value(json_object_get(rec, "last_active_ms")) / 1000;
  json_int_t due = timeout > 0 ? (last > created ? last : created) + timeout : 0;
  if (json_is_integer(ttl) && json_integer_value(ttl) > 0 && (!due || created + json_integer_value(ttl) < due))
    due = created + json_integer_value(ttl);
  if (due) {
    sl_api_time_str((time_t)due, expires_s);
    expires = json_string(expires_s);
  }
  const char *err = json_string_value(json_object_get(rec, "error_message"));
  json_t *view = json_pack(
      "{s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "id",
      json_string_value(json_object_get(rec, "id")), "name", json_string_value(json_object_get(rec, "name")),
      "namespace", json_string_value(json_object_get(rec, "namespace")), "image",
      json_string_value(json_object_get(rec, "image")), "status", status, "ready",
      strcmp(status, "running") == 0 ? "True" : "False", "restarts",
      json_integer_value(json_object_get(rec, "restarts")), "age", age, "created_at", created_s, "expires_at",
      expires, "timeout", timeout, "limits", copy_or(rec, "limits", json_object()), "metadata",
      copy_or(rec, "metadata", json_object()), "workspace_id", copy_or(rec, "workspace_id", json_null()),
      "error_message", err ? json_string(err) : json_null());
  if (view && json_is_true(json_object_get(rec, "pooled"))) json_object_set_new(view, "pooled", json_true());
  return view;
}
