/* settings.c — every gateway setting from defaults, config file (JSON or TOML), SLUICE_<SETTING>
 * environment variables and --<setting> flags, in that order (config.h). One table names them all, so
 * the file keys, the variables, the flags, the usage text and GET /api/v1/status agree
 * (protocol/docs/config.md). */
#include "config.h"

#include "sluice/api.h"
#include "sluice/api_packages.h"
#include "sluice/toml.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

typedef enum { S_STR, S_UINT, S_BOOL, S_SIZE, S_LISTEN, S_POOL, S_PKGIDX } stype_t;

typedef struct {
  const char *name; /* file key; env SLUICE_<NAME>; flag --name-with-dashes */
  stype_t type;
  size_t off;
  long long min, max;
  const char *help;
} setting_t;

#define F(x) offsetof(gw_config_t, x)
static const setting_t SETTINGS[] = {
    {"listen", S_LISTEN, 0, 0, 0, "HOST:PORT to listen on (port 0: ephemeral)"},
    {"state_dir", S_STR, F(state_dir), 0, 0, "state directory (keys, sandboxes, workspaces)"},
    {"images_dir", S_STR, F(images_dir), 0, 0, "images directory"},
    {"drivers_dir", S_STR, F(drivers_dir), 0, 0, "language drivers directory"},
    {"max_body_bytes", S_SIZE, F(max_body_bytes), 1, 1ll << 40, "largest request body"},
    {"max_sandboxes", S_UINT, F(max_sandboxes), 0, 65000, "sandboxes at once, gateway-wide"},
    {"max_sandboxes_per_namespace", S_UINT, F(max_sandboxes_per_namespace), 0, 65000,
     "sandboxes at once in one namespace (0: no per-namespace bound)"},
    {"max_executions", S_UINT, F(max_executions), 0, 1000000,
     "code/exec/run requests in flight gateway-wide (0: unbounded)"},
    {"create_timeout_s", S_UINT, F(create_timeout_s), 1, 3600, "seconds a sandbox may take to become ready"},
    {"default_timeout_s", S_UINT, F(default_timeout_s), 1, 10ll * 365 * 86400,
     "inactivity timeout of a sandbox created without one"},
    {"max_timeout_s", S_UINT, F(max_timeout_s), 1, 10ll * 365 * 86400, "largest timeout / ttl_seconds"},
    {"jupyter_open_channels", S_BOOL, F(jupyter_open_channels), 0, 0,
     "kernels made by POST /api/kernels take unauthenticated websockets"},
    {"pool", S_POOL, 0, 0, 0, "warm sandboxes per image: {\"IMAGE\": N}"},
    {"zygote", S_BOOL, F(zygote), 0, 0,
     "one pre-imported interpreter per image (image.json \"zygote\") forks each sandbox's Python driver"},
    {"package_index", S_PKGIDX, 0, 0, 0, "package index URLs: {\"python\": URL, \"javascript\": URL}"},
    {"package_timeout_s", S_UINT, F(package_timeout_s), 1, 3600, "bound of one package install"},
    {"workspace_size", S_SIZE, F(workspace_size), 8ll << 20, 1ll << 42, "size (cap) of a new workspace"},
    {"workspace_mount_dir", S_STR, F(workspace_mount_dir), 0, 0,
     "where workspaces are mounted while a sandbox uses them (outside the state dir)"},
    {"shutdown_grace_s", S_UINT, F(shutdown_grace_s), 1, 3600, "SIGTERM: seconds in-flight requests may take"},
    {"stop_sandboxes", S_BOOL, F(stop_sandboxes), 0, 0, "SIGTERM deletes every sandbox instead of leaving them"},
    {"log_requests", S_BOOL, F(log_requests), 0, 0, "one JSON log line per request"},
    {"log_file", S_STR, F(log_file), 0, 0, "append JSON log lines here instead of stderr"},
};
#define N_SETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

static int replace_str(char **dst, const char *src) {
  char *c = strdup(src);
  if (!c) return -ENOMEM;
  free(*dst);
  *dst = c;
  return 0;
}

static int bad(const char *origin, const char *name, const char *why) {
  fprintf(stderr, "sluice-gateway: %s: setting '%s': %s\n", origin, name, why);
  return -EINVAL;
}

static int apply_listen(gw_config_t *cfg, const char *origin, const char *s) {
  char host[256];
  int port;
  if (gw_parse_listen(s, host, sizeof(host), &port) < 0) return bad(origin, "listen", "want HOST:PORT");
  cfg->listen_port = port;
  return replace_str(&cfg->listen_host, host);
}

/* "package_index": {"python": URL, "javascript": URL}: http(s) URLs without spaces or quotes */
static int apply_pkgidx(gw_config_t *cfg, const char *origin, json_t *v) {
  const char *lang;
  json_t *u;
  if (!json_is_object(v)) return bad(origin, "package_index", "must be an object");
  json_object_foreach(v, lang, u) {
    const char *url = json_string_value(u);
    char **dst = !strcmp(lang, "python") ? &cfg->package_index_python
                 : !strcmp(lang, "javascript") ? &cfg->package_index_javascript : NULL;
    if (!dst || !url || !sl_api_package_index_ok(url))
      return bad(origin, "package_index", "must map python or javascript to an http(s) URL");
    if (replace_str(dst, url) < 0) return -ENOMEM;
  }
  return 0;
}

static int apply_pool(gw_config_t *cfg, const char *origin, json_t *v) {
  const char *img;
  json_t *n;
  if (!json_is_object(v) || json_object_size(v) > GW_MAX_POOL_IMAGES)
    return bad(origin, "pool", "must be an object of at most 8 images");
  cfg->n_pool = 0;
  json_object_foreach(v, img, n) {
    json_int_t sz = json_integer_value(n);
    if (!json_is_integer(n) || sz < 0 || sz > GW_MAX_POOL_SIZE || !sl_api_image_name_valid(img) ||
        strlen(img) >= sizeof(cfg->pool[0].image))
      return bad(origin, "pool", "must map image names to integers 0..16");
    snprintf(cfg->pool[cfg->n_pool].image, sizeof(cfg->pool[0].image), "%s", img);
    cfg->pool[cfg->n_pool++].size = (unsigned)sz;
  }
  return 0;
}

/* One setting from a JSON value (file) or a string (env, flags: from_str). */
static int apply(gw_config_t *cfg, const setting_t *st, json_t *v, const char *origin) {
  char *base = (char *)cfg;
  char why[96];
  switch (st->type) {
    case S_LISTEN:
      if (!json_is_string(v)) return bad(origin, st->name, "must be a string");
      return apply_listen(cfg, origin, json_string_value(v));
    case S_STR:
      if (!json_is_string(v) || !json_string_length(v)) return bad(origin, st->name, "must be a non-empty string");
      return replace_str((char **)(base + st->off), json_string_value(v));
    case S_BOOL:
      if (!json_is_boolean(v)) return bad(origin, st->name, "must be true or false");
      *(int *)(base + st->off) = json_is_true(v);
      return 0;
    case S_UINT:
    case S_SIZE: {
      uint64_t x = 0;
      if (json_is_integer(v) && json_integer_value(v) >= 0)
        x = (uint64_t)json_integer_value(v);
      else if (!(st->type == S_SIZE && json_is_string(v) && sl_api_parse_bytes(json_string_value(v), &x) == 0))
        return bad(origin, st->name, st->type == S_SIZE ? "must be a byte count (integer or \"512Mi\")" : "must be an integer");
      if (x < (uint64_t)st->min || x > (uint64_t)st->max) {
        snprintf(why, sizeof(why), "must be from %lld to %lld", st->min, st->max);
        return bad(origin, st->name, why);
      }
      if (st->type == S_SIZE)
        *(uint64_t *)(base + st->off) = x;
      else
        *(unsigned *)(base + st->off) = (unsigned)x;
      return 0;
    }
    case S_POOL: return apply_pool(cfg, origin, v);
    case S_PKGIDX: return apply_pkgidx(cfg, origin, v);
  }
  return -EINVAL;
}

/* A string from the environment or a flag as the JSON value its type wants. */
static json_t *from_str(const setting_t *st, const char *s) {
  switch (st->type) {
    case S_BOOL:
      if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) return json_true();
      if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) return json_false();
      return json_string(s); /* rejected by apply with the setting's name */
    case S_UINT: {
      char *e;
      errno = 0;
      long long x = strtoll(s, &e, 10);
      return !errno && e != s && !*e && x >= 0 ? json_integer(x) : json_string(s);
    }
    case S_POOL:
    case S_PKGIDX: {
      json_error_t je;
      json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
      return j ? j : json_string(s);
    }
    default: return json_string(s);
  }
}

static const setting_t *find(const char *name) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (!strcmp(SETTINGS[i].name, name)) return &SETTINGS[i];
  return NULL;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

static int load_file(gw_config_t *cfg, const char *path) {
  char err[256], origin[PATH_MAX + 16];
  json_t *j = NULL;
  snprintf(origin, sizeof(origin), "config %s", path);
  if (ends_with(path, ".toml")) {
    FILE *f = fopen(path, "re");
    char *buf = malloc(SL_TOML_MAX_INPUT + 1);
    size_t n = f && buf ? fread(buf, 1, SL_TOML_MAX_INPUT + 1, f) : 0;
    if (f) fclose(f);
    if (!f || !buf) snprintf(err, sizeof(err), "%s", strerror(f ? ENOMEM : errno));
    else j = sl_toml_parse(buf, n, err, sizeof(err));
    free(buf);
  } else {
    json_error_t je;
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) snprintf(err, sizeof(err), "line %d: %s", je.line, je.text);
  }
  if (!j || !json_is_object(j)) {
    fprintf(stderr, "sluice-gateway: %s: %s\n", origin, j ? "not an object" : err);
    json_decref(j);
    return -EINVAL;
  }
  const char *k;
  json_t *v;
  int rc = 0;
  json_object_foreach(j, k, v) {
    const setting_t *st = find(k);
    if (!st) {
      rc = bad(origin, k, "unknown setting");
      break;
    }
    if ((rc = apply(cfg, st, v, origin)) < 0) break;
  }
  json_decref(j);
  return rc;
}

/* <dir of /proc/self/exe>/../share/sluice/<what> if it exists, else <source>/<fallback>. */
static char *default_data_dir(const char *what, const char *fallback) {
  char exe[PATH_MAX], cand[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    snprintf(cand, sizeof(cand), "%s/../share/sluice/%s", exe, what);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) return realpath(cand, NULL);
  }
  snprintf(cand, sizeof(cand), "%s/%s", SLUICE_SOURCE_DIR, fallback);
  return strdup(cand);
}

static void usage(FILE *to) {
  fprintf(to, "usage: sluice-gateway serve [--config FILE] [--SETTING VALUE]...\n"
              "Settings (config file key / environment SLUICE_<KEY> / flag --key-with-dashes):\n");
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char flag[64];
    snprintf(flag, sizeof(flag), "%s", SETTINGS[i].name);
    for (char *p = flag; *p; p++)
      if (*p == '_') *p = '-';
    fprintf(to, "  --%-30s %s\n", flag, SETTINGS[i].help);
  }
}

int gw_config_load(gw_config_t *cfg, int argc, char **argv) {
  struct option opts[N_SETTINGS + 3];
  char flags[N_SETTINGS][64];
  const char *config = getenv("SLUICE_CONFIG");
  int rc;
  memset(cfg, 0, sizeof(*cfg));
  cfg->max_body_bytes = GW_DEFAULT_MAX_BODY;
  cfg->max_sandboxes = GW_DEFAULT_MAX_SANDBOXES;
  cfg->max_executions = GW_DEFAULT_MAX_EXECUTIONS;
  cfg->create_timeout_s = GW_DEFAULT_CREATE_TIMEOUT_S;
  cfg->default_timeout_s = SL_API_DEFAULT_TIMEOUT_S;
  cfg->max_timeout_s = GW_DEFAULT_MAX_TIMEOUT_S;
  cfg->jupyter_open_channels = 1;
  cfg->package_timeout_s = GW_DEFAULT_PACKAGE_TIMEOUT_S;
  cfg->workspace_size = 1ull << 30;
  cfg->shutdown_grace_s = GW_DEFAULT_SHUTDOWN_GRACE_S;
  cfg->log_requests = 1;
  cfg->zygote = 1;
  if (apply_listen(cfg, "default", GW_DEFAULT_LISTEN) < 0) return -EINVAL;

  /* flags: --config first (it is applied before the environment), then each setting */
  for (size_t i = 0; i < N_SETTINGS; i++) {
    snprintf(flags[i], sizeof(flags[i]), "%s", SETTINGS[i].name);
    for (char *p = flags[i]; *p; p++)
      if (*p == '_') *p = '-';
    opts[i] = (struct option){flags[i], SETTINGS[i].type == S_BOOL ? optional_argument : required_argument, NULL,
                              256 + (int)i};
  }
  opts[N_SETTINGS] = (struct option){"config", required_argument, NULL, 'c'};
  opts[N_SETTINGS + 1] = (struct option){"help", no_argument, NULL, 'h'};
  opts[N_SETTINGS + 2] = (struct option){NULL, 0, NULL, 0};
  int c;
  optind = 1;
  opterr = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'c') config = optarg;
    else if (c == 'h') {
      usage(stdout);
      return 1;
    } else if (c < 256) {
      usage(stderr);
      return -EINVAL;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sluice-gateway: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return -EINVAL;
  }
  if (config && *config && (rc = load_file(cfg, config)) < 0) return rc;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char env[80];
    snprintf(env, sizeof(env), "SLUICE_%s", SETTINGS[i].name);
    for (char *p = env; *p; p++) *p = (char)toupper((unsigned char)*p);
    const char *v = getenv(env);
    if (!v || !*v) continue;
    json_t *j = from_str(&SETTINGS[i], v);
    rc = j ? apply(cfg, &SETTINGS[i], j, env) : -ENOMEM;
    json_decref(j);
    if (rc < 0) return rc;
  }
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c < 256) continue;
    const setting_t *st = &SETTINGS[c - 256];
    char origin[80];
    snprintf(origin, sizeof(origin), "flag --%s", flags[c - 256]);
    json_t *j = optarg ? from_str(st, optarg) : json_true();
    rc = j ? apply(cfg, st, j, origin) : -ENOMEM;
    json_decref(j);
    if (rc < 0) return rc;
  }
  if (!cfg->state_dir) {
    char sd[PATH_MAX];
    if (gw_state_dir_default(sd, sizeof(sd)) < 0 || replace_str(&cfg->state_dir, sd) < 0) return -ENAMETOOLONG;
  }
  if (!cfg->workspace_mount_dir && replace_str(&cfg->workspace_mount_dir, "/run/sluice-workspaces") < 0) return -ENOMEM;
  if (!cfg->images_dir) cfg->images_dir = default_data_dir("images", "images");
  if (!cfg->drivers_dir) cfg->drivers_dir = default_data_dir("drivers", "kernel-runner/drivers");
  if (!cfg->listen_host || !cfg->state_dir || !cfg->images_dir || !cfg->drivers_dir) return -ENOMEM;
  if (cfg->default_timeout_s > cfg->max_timeout_s) cfg->default_timeout_s = cfg->max_timeout_s;
  return 0;
}

void gw_config_free(gw_config_t *cfg) {
  free(cfg->listen_host);
  free(cfg->state_dir);
  free(cfg->images_dir);
  free(cfg->drivers_dir);
  free(cfg->package_index_python);
  free(cfg->package_index_javascript);
  free(cfg->log_file);
  free(cfg->workspace_mount_dir);
  memset(cfg, 0, sizeof(*cfg));
}

json_t *gw_config_view(const gw_config_t *cfg) {
  json_t *o = json_object();
  const char *base = (const char *)cfg;
  char listen[300];
  for (size_t i = 0; o && i < N_SETTINGS; i++) {
    const setting_t *st = &SETTINGS[i];
    json_t *v = NULL;
    switch (st->type) {
      case S_LISTEN:
        snprintf(listen, sizeof(listen), strchr(cfg->listen_host, ':') ? "[%s]:%d" : "%s:%d", cfg->listen_host,
                 cfg->listen_port);
        v = json_string(listen);
        break;
      case S_STR: {
        const char *s = *(char *const *)(base + st->off);
        v = s ? json_string(s) : json_null();
        break;
      }
      case S_BOOL: v = json_boolean(*(const int *)(base + st->off)); break;
      case S_UINT: v = json_integer(*(const unsigned *)(base + st->off)); break;
      case S_SIZE: v = json_integer((json_int_t) * (const uint64_t *)(base + st->off)); break;
      case S_POOL:
        v = json_object();
        for (unsigned k = 0; v && k < cfg->n_pool; k++)
          json_object_set_new(v, cfg->pool[k].image, json_integer(cfg->pool[k].size));
        break;
      case S_PKGIDX:
        v = json_pack("{s:s?, s:s?}", "python", cfg->package_index_python, "javascript", cfg->package_index_javascript);
        break;
    }
    json_object_set_new(o, st->name, v ? v : json_null());
  }
  return o;
}
