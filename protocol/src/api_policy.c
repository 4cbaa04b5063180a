/* api_policy.c — the create body's isolation fields: capability names and env files (api.h). No I/O:
 * the gateway reads the env file and hands the text in. */
#include "sluice/api.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Linux capability numbers (linux/capability.h), index = number. */
static const char *const CAPS[] = {
    "CHOWN",           "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",         "FSETID",
    "KILL",            "SETGID",          "SETUID",          "SETPCAP",        "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE", "NET_BROADCAST",  "NET_ADMIN",       "NET_RAW",        "IPC_LOCK",
    "IPC_OWNER",       "SYS_MODULE",      "SYS_RAWIO",       "SYS_CHROOT",     "SYS_PTRACE",
    "SYS_PACCT",       "SYS_ADMIN",       "SYS_BOOT",        "SYS_NICE",       "SYS_RESOURCE",
    "SYS_TIME",        "SYS_TTY_CONFIG",  "MKNOD",           "LEASE",          "AUDIT_WRITE",
    "AUDIT_CONTROL",   "SETFCAP",         "MAC_OVERRIDE",    "MAC_ADMIN",      "SYSLOG",
    "WAKE_ALARM",      "BLOCK_SUSPEND",   "AUDIT_READ",      "PERFMON",        "BPF",
    "CHECKPOINT_RESTORE",
};

int sl_api_cap_parse(const char *name) {
  if (!name) return -1;
  if (!strncasecmp(name, "CAP_", 4)) name += 4;
  if (!strcasecmp(name, "ALL")) return SL_API_CAP_ALL;
  for (size_t i = 0; i < sizeof CAPS / sizeof CAPS[0]; i++)
    if (!strcasecmp(name, CAPS[i])) return (int)i;
  return -1;
}

int sl_api_validate_caps(json_t *rec, sl_api_err_t *err) {
  const char *keys[2] = {"cap_add", "cap_drop"};
  for (int k = 0; k < 2; k++) {
    json_t *a = json_object_get(rec, keys[k]), *v;
    size_t i;
    json_array_foreach(a, i, v) {
      int cap = sl_api_cap_parse(json_string_value(v));
      if (cap < 0)
        return sl_api_fail(err, 400, "invalid_capability", "%s: unknown capability '%.64s'", keys[k], json_string_value(v));
      /* everything is dropped by default; adding ALL back would hand user code CAP_SYS_ADMIN & co */
      if (cap == SL_API_CAP_ALL && k == 0)
        return sl_api_fail(err, 400, "invalid_capability", "cap_add: ALL is not allowed; name the capabilities");
    }
  }
  return 0;
}

static int key_ok(const char *k, size_t n) {
  if (n == 0 || n > 256 || !(isalpha((unsigned char)k[0]) || k[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '.' || k[i] == '-')) return 0;
  return 1;
}

int sl_api_parse_env_file(const char *text, size_t len, json_t *env, sl_api_err_t *err) {
  if (!json_is_object(env)) return sl_api_fail(err, 500, "internal", "env is not an object");
  if (len > SL_API_MAX_ENV_FILE) return sl_api_fail(err, 400, "invalid_env_file", "env_file is larger than 1 MiB");
  if (memchr(text, 0, len)) return sl_api_fail(err, 400, "invalid_env_file", "env_file contains a NUL byte");
  json_t *file = json_object(); /* the file alone first: its last line for a key wins, then the body's env */
  if (!file) return sl_api_fail(err, 500, "internal", "out of memory");
  size_t lineno = 0;
  for (size_t off = 0; off < len;) {
    const char *line = text + off;
    const char *nl = memchr(line, '\n', len - off);
    size_t n = nl ? (size_t)(nl - line) : len - off;
    off += n + (nl ? 1 : 0);
    lineno++;
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
    while (n && (*line == ' ' || *line == '\t')) line++, n--;
    if (!n || *line == '#') continue;
    if (n > 7 && !strncmp(line, "export ", 7)) {
      line += 7;
      n -= 7;
      while (n && *line == ' ') line++, n--;
    }
    const char *eq = memchr(line, '=', n);
    size_t kl = eq ? (size_t)(eq - line) : 0;
    while (kl && (line[kl - 1] == ' ' || line[kl - 1] == '\t')) kl--;
    if (!eq || !key_ok(line, kl)) {
      json_decref(file);
      return sl_api_fail(err, 400, "invalid_env_file", "env_file line %zu is not KEY=VALUE", lineno);
    }
    const char *val = eq + 1;
    size_t vl = n - (size_t)(val - line);
    while (vl && (*val == ' ' || *val == '\t')) val++, vl--;
    if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) val++, vl -= 2;
    char key[257];
    memcpy(key, line, kl);
    key[kl] = 0;
    json_t *s = json_stringn(val, vl);
    if (!s) {
      json_decref(file);
      return sl_api_fail(err, 400, "invalid_env_file", "env_file line %zu is not valid UTF-8", lineno);
    }
    json_object_set_new(file, key, s);
  }
  const char *k;
  json_t *v;
  json_object_foreach(file, k, v) if (!json_object_get(env, k)) json_object_set(env, k, v);
  json_decref(file);
  return 0;
}
