/* config.c — loading sandbox.json, image.json and the key (config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rutil.h"
#include "sluice/api.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *arg) {
  snprintf(err, errlen, fmt, arg);
  return rc;
}

static json_t *load_json(const char *path, char *err, size_t errlen) {
  json_error_t je;
  size_t len;
  char *text = sl_read_file(path, SL_CFG_MAX_JSON, &len);
  if (!text) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  free(text);
  if (!j || !json_is_object(j)) {
    snprintf(err, errlen, "%s: not a JSON object (%s)", path, j ? "" : je.text);
    json_decref(j);
    return NULL;
  }
  return j;
}

/* The image name becomes a path component: keep it to a plain name. */
static int safe_name(const char *s) {
  if (!s || !*s || strlen(s) > 64 || s[0] == '.') return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') return 0;
  return 1;
}

/* A limit given as a string ("512Mi", "500m") or a plain integer; the gateway validated both forms. */
static int limit_value(json_t *v, int cpu, uint64_t *out) {
  char buf[40];
  const char *s = json_string_value(v);
  if (json_is_integer(v) && json_integer_value(v) > 0) {
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    s = buf;
  }
  if (!s) return -EINVAL;
  return cpu ? sl_api_parse_cpu(s, out) : sl_api_parse_bytes(s, out);
}

static int load_limits(sl_config_t *c, char *err, size_t errlen) {
  json_t *l = json_object_get(c->sandbox, "limits"), *v;
  if (!l) return 0;
  if (!json_is_object(l)) return fail(err, errlen, -EINVAL, "%s", "sandbox.json: limits must be an object");
  if ((v = json_object_get(l, "memory")) && limit_value(v, 0, &c->limits.memory) < 0)
    return fail(err, errlen, -EINVAL, "%s", "sandbox.json: bad limits.memory");
  if ((v = json_object_get(l, "ephemeral-storage")) && limit_value(v, 0, &c->limits.storage) < 0)
    return fail(err, errlen, -EINVAL, "%s", "sandbox.json: bad limits.ephemeral-storage");
  if ((v = json_object_get(l, "cpu")) && limit_value(v, 1, &c->limits.cpu_milli) < 0)
    return fail(err, errlen, -EINVAL, "%s", "sandbox.json: bad limits.cpu");
  if ((v = json_object_get(l, "pids"))) {
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
      return fail(err, errlen, -EINVAL, "%s", "sandbox.json: bad limits.pids");
    c->limits.pids = (uint64_t)json_integer_value(v);
  }
  return 0;
}

/* cap_add minus cap_drop; names were validated by the gateway, an unknown one here is an error. */
static int load_caps(sl_config_t *c, char *err, size_t errlen) {
  uint64_t add = 0, drop = 0;
  const char *keys[2] = {"cap_add", "cap_drop"};
  for (int k = 0; k < 2; k++) {
    json_t *a = json_object_get(c->sandbox, keys[k]), *v;
    size_t i;
    json_array_foreach(a, i, v) {
      const char *name = json_string_value(v);
      int cap = name ? sl_api_cap_parse(name) : -1;
      if (cap == SL_API_CAP_ALL && k == 1) drop = ~0ull;
      else if (cap < 0 || cap == SL_API_CAP_ALL) return fail(err, errlen, -EINVAL, "sandbox.json: bad capability %s", name ? name : "?");
      else *(k ? &drop : &add) |= 1ull << cap;
    }
  }
  c->caps = add & ~drop;
  return 0;
}

static int merge_env(json_t *dst, json_t *src) {
  const char *k;
  json_t *v;
  if (!src || json_is_null(src)) return 0;
  if (!json_is_object(src)) return -EINVAL;
  json_object_foreach(src, k, v) {
    if (!json_is_string(v) || !*k || strchr(k, '=')) return -EINVAL;
    if (json_object_set(dst, k, v) < 0) return -ENOMEM;
  }
  return 0;
}

int sl_config_load(sl_config_t *c, int argc, char **argv, char *err, size_t errlen) {
  char path[PATH_MAX + 64];
  const char *drivers = NULL;
  memset(c, 0, sizeof *c);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--state-dir")) c->state_dir = argv[i + 1];
    else if (!strcmp(argv[i], "--id")) c->id = argv[i + 1];
    else if (!strcmp(argv[i], "--images-dir")) c->images_dir = argv[i + 1];
    else if (!strcmp(argv[i], "--drivers-dir")) drivers = argv[i + 1];
    else return fail(err, errlen, -EINVAL, "unknown option %s", argv[i]);
  }
  if (!c->state_dir || !c->id || !c->images_dir || !drivers)
    return fail(err, errlen, -EINVAL, "%s", "usage: sluice-runner --state-dir D --id ID --images-dir D --drivers-dir D");
  if (!safe_name(c->id)) return fail(err, errlen, -EINVAL, "bad sandbox id %s", c->id);
  if (!realpath(drivers, c->drivers_dir)) return fail(err, errlen, -errno, "drivers dir %s", drivers);
  snprintf(c->sbx_dir, sizeof c->sbx_dir, "%s/sandboxes/%s", c->state_dir, c->id);
  snprintf(c->endpoint, sizeof c->endpoint, "ipc://%s/run/gateway.zmq", c->state_dir);

  snprintf(path, sizeof path, "%s/secret", c->state_dir);
  size_t klen;
  char *key = sl_read_file(path, SL_CFG_MAX_KEY, &klen);
  if (!key) return fail(err, errlen, -errno, "cannot read %s", path);
  while (klen && isspace((unsigned char)key[klen - 1])) klen--;
  c->key = (unsigned char *)key;
  c->keylen = klen;

  snprintf(path, sizeof path, "%s/sandbox.json", c->sbx_dir);
  if (!(c->sandbox = load_json(path, err, errlen))) return -EINVAL;
  const char *image = json_string_value(json_object_get(c->sandbox, "image"));
  if (!image) image = "python";
  if (!safe_name(image)) return fail(err, errlen, -EINVAL, "bad image name %s", image);
  snprintf(path, sizeof path, "%s/%s/image.json", c->images_dir, image);
  if (!(c->image = load_json(path, err, errlen))) return -EINVAL;

  json_t *ub = json_object_get(c->sandbox, "uid_base");
  if (!json_is_integer(ub) || json_integer_value(ub) <= 0 ||
      (unsigned long long)json_integer_value(ub) + SL_UID_RANGE > 0xfffffffeULL)
    return fail(err, errlen, -EINVAL, "%s", "sandbox.json: uid_base must be a positive integer");
  c->uid_base = (unsigned long)json_integer_value(ub);

  const char *hn = json_string_value(json_object_get(c->sandbox, "hostname"));
  if (hn && *hn && strlen(hn) < sizeof c->hostname) snprintf(c->hostname, sizeof c->hostname, "%s", hn);
  else snprintf(c->hostname, sizeof c->hostname, "sbx-%.8s", c->id);

  json_t *user = json_object_get(c->image, "user");
  json_int_t uid = json_integer_value(json_object_get(user, "uid"));
  json_int_t gid = json_integer_value(json_object_get(user, "gid"));
  if (uid < 0 || uid >= SL_UID_RANGE || gid < 0 || gid >= SL_UID_RANGE)
    return fail(err, errlen, -EINVAL, "%s", "image.json: user uid/gid out of range");
  /* root inside by default (Katakate's pods run as the image's root); the non-root flags pick the image's
   * unprivileged user. Either way the host sees uid_base + uid, never a real host user. */
  if (json_is_true(json_object_get(c->sandbox, "pod_non_root")) ||
      json_is_true(json_object_get(c->sandbox, "container_non_root"))) {
    c->uid = uid ? (uid_t)uid : 65532;
    c->gid = gid ? (gid_t)gid : 65532;
  } else {
    c->uid = 0;
    c->gid = 0;
  }
  int lrc = load_limits(c, err, errlen);
  if (lrc == 0) lrc = load_caps(c, err, errlen);
  if (lrc < 0) return lrc;

  c->workdir = json_string_value(json_object_get(c->sandbox, "cwd"));
  if (!c->workdir || c->workdir[0] != '/') c->workdir = json_string_value(json_object_get(c->image, "workdir"));
  if (!c->workdir || c->workdir[0] != '/') c->workdir = "/";

  c->workspace = json_string_value(json_object_get(c->sandbox, "workspace_path"));
  if (c->workspace && (c->workspace[0] != '/' || strstr(c->workspace, "..")))
    return fail(err, errlen, -EINVAL, "%s", "sandbox.json: workspace_path must be an absolute path");

  if (!(c->env = json_object())) return -ENOMEM;
  if (merge_env(c->env, json_object_get(c->image, "env")) < 0 ||
      merge_env(c->env, json_object_get(c->sandbox, "env")) < 0)
    return fail(err, errlen, -EINVAL, "%s", "env must be an object of strings");
  return 0;
}

void sl_config_free(sl_config_t *c) {
  json_decref(c->sandbox);
  json_decref(c->image);
  json_decref(c->env);
  free(c->key);
  c->sandbox = c->image = c->env = NULL;
  c->key = NULL;
}

json_t *sl_config_rootfs(const sl_config_t *c) { return json_object_get(c->image, "rootfs"); }

json_t *sl_config_language_argv(const sl_config_t *c, const char *lang) {
  json_t *a = json_object_get(json_object_get(json_object_get(c->image, "languages"), lang), "argv");
  return json_is_array(a) && json_array_size(a) ? a : NULL;
}

json_t *sl_config_shell_argv(const sl_config_t *c) {
  json_t *a = json_object_get(json_object_get(c->image, "shell"), "argv");
  return json_is_array(a) && json_array_size(a) ? a : NULL;
}

json_t *sl_config_envp(const sl_config_t *c, json_t *extra) {
  json_t *merged = json_copy(c->env), *out = json_array();
  const char *k;
  json_t *v;
  if (!merged || !out || merge_env(merged, extra) < 0) goto fail;
  json_object_foreach(merged, k, v) {
    char *kv;
    if (asprintf(&kv, "%s=%s", k, json_string_value(v)) < 0) goto fail;
    json_array_append_new(out, json_string(kv));
    free(kv);
  }
  json_decref(merged);
  return out;
fail:
  json_decref(merged);
  json_decref(out);
  return NULL;
}
