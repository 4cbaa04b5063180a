/* config.c — settings from defaults, config file, environment and arguments; state dir and secret. */
#include "config.h"
#include "sluice/api_packages.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

int gw_parse_listen(const char *s, char *host, size_t hostlen, int *port) {
  if (!s || !*s) return -EINVAL;
  const char *colon = strrchr(s, ':');
  if (!colon) return -EINVAL;
  const char *h = s;
  size_t hl = (size_t)(colon - s);
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
    h++;
    hl -= 2;
  }
  if (hl == 0 || hl >= hostlen) return -EINVAL;
  char *end;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (errno || *end || end == colon + 1 || p < 0 || p > 65535) return -EINVAL;
  memcpy(host, h, hl);
  host[hl] = 0;
  *port = (int)p;
  return 0;
}

int gw_state_dir_default(char *out, size_t len) {
  const char *env = getenv("SLUICE_STATE_DIR");
  int n;
  if (env && *env)
    n = snprintf(out, len, "%s", env);
  else if (geteuid() == 0)
    n = snprintf(out, len, "/var/lib/sluice");
  else {
    const char *home = getenv("HOME");
    struct passwd *pw = home ? NULL : getpwuid(geteuid());
    if (!home) home = pw ? pw->pw_dir : "/tmp";
    n = snprintf(out, len, "%s/.local/state/sluice", home);
  }
  return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* <dir of /proc/self/exe>/../share/sluice/<what> if it exists, else <source>/<fallback>. */
static char *default_data_dir(const char *env_name, const char *what, const char *fallback) {
  const char *env = getenv(env_name);
  if (env && *env) return strdup(env);
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

static int replace_str(char **dst, const char *src) {
  char *c = strdup(src);
  if (!c) return -ENOMEM;
  free(*dst);
  *dst = c;
  return 0;
}

static int apply_listen(gw_config_t *cfg, const char *s) {
  char host[256];
  int port;
  if (gw_parse_listen(s, host, sizeof(host), &port) < 0) {
    fprintf(stderr, "sluice-gateway: bad listen address '%s' (want HOST:PORT)\n", s);
    return -EINVAL;
  }
  cfg->listen_port = port;
  return replace_str(&cfg->listen_host, host);
}

/* "package_index": {"python": URL, "javascript": URL}: http(s) URLs without spaces or quotes */
static int package_index(gw_config_t *cfg, const char *path, json_t *v) {
  const char *lang;
  json_t *u;
  json_object_foreach(v, lang, u) {
    const char *url = json_string_value(u);
    char **dst = !strcmp(lang, "python") ? &cfg->package_index_python
                 : !strcmp(lang, "javascript") ? &cfg->package_index_javascript : NULL;
    if (!dst || !url || !sl_api_package_index_ok(url)) {
      fprintf(stderr, "sluice-gateway: config %s: package_index.%s must be an http(s) URL for python or javascript\n",
              path, lang);
      return -1;
    }
    if (replace_str(dst, url) < 0) return -1;
  }
  return 0;
}

static int load_file(gw_config_t *cfg, const char *path) {
  json_error_t je;
  int rc = -EINVAL;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j)) {
    fprintf(stderr, "sluice-gateway: config %s: %s (line %d)\n", path, j ? "not an object" : je.text, je.line);
    goto out;
  }
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    const char *s = json_string_value(v);
    json_int_t i = json_integer_value(v);
    if (strcmp(k, "listen") == 0 && s) {
      if (apply_listen(cfg, s) < 0) goto out;
    } else if (strcmp(k, "state_dir") == 0 && s) {
      replace_str(&cfg->state_dir, s);
    } else if (strcmp(k, "images_dir") == 0 && s) {
      replace_str(&cfg->images_dir, s);
    } else if (strcmp(k, "drivers_dir") == 0 && s) {
      replace_str(&cfg->drivers_dir, s);
    } else if (strcmp(k, "max_body_bytes") == 0 && json_is_integer(v) && i > 0) {
      cfg->max_body_bytes = (size_t)i;
    } else if (strcmp(k, "max_sandboxes") == 0 && json_is_integer(v) && i >= 0 && i <= 65000) {
      cfg->max_sandboxes = (unsigned)i;
    } else if (strcmp(k, "create_timeout_s") == 0 && json_is_integer(v) && i > 0 && i <= 3600) {
      cfg->create_timeout_s = (unsigned)i;
    } else if (strcmp(k, "max_timeout_s") == 0 && json_is_integer(v) && i > 0 && i <= 10ll * 365 * 86400) {
      cfg->max_timeout_s = (unsigned)i;
    } else if (strcmp(k, "jupyter_open_channels") == 0 && json_is_boolean(v)) {
      cfg->jupyter_open_channels = json_is_true(v);
    } else if (strcmp(k, "pool") == 0 && json_is_object(v) && json_object_size(v) <= GW_MAX_POOL_IMAGES) {
      const char *img;
      json_t *n;
      cfg->n_pool = 0;
      json_object_foreach(v, img, n) {
        json_int_t sz = json_integer_value(n);
        if (!json_is_integer(n) || sz < 0 || sz > GW_MAX_POOL_SIZE || !*img || strlen(img) >= sizeof(cfg->pool[0].image) ||
            strchr(img, '/') || img[0] == '.') {
          fprintf(stderr, "sluice-gateway: config %s: pool.%s must be an integer 0..%d for an image name\n", path, img,
                  GW_MAX_POOL_SIZE);
          goto out;
        }
        snprintf(cfg->pool[cfg->n_pool].image, sizeof(cfg->pool[0].image), "%s", img);
        cfg->pool[cfg->n_pool++].size = (unsigned)sz;
      }
    } else if (strcmp(k, "package_index") == 0 && json_is_object(v)) {
      if (package_index(cfg, path, v) < 0) goto out;
    } else if (strcmp(k, "package_timeout_s") == 0 && json_is_integer(v) && i > 0 && i <= 3600) {
      cfg->package_timeout_s = (unsigned)i;
    } else {
      fprintf(stderr, "sluice-gateway: config %s: bad or unknown setting '%s'\n", path, k);
      goto out;
    }
  }
  rc = 0;
out:
  json_decref(j);
  return rc;
}

int gw_config_load(gw_config_t *cfg, const char *config_path, const char *listen_arg, const char *state_arg) {
  char sd[PATH_MAX];
  memset(cfg, 0, sizeof(*cfg));
  cfg->max_body_bytes = GW_DEFAULT_MAX_BODY;
  cfg->max_sandboxes = GW_DEFAULT_MAX_SANDBOXES;
  cfg->create_timeout_s = GW_DEFAULT_CREATE_TIMEOUT_S;
  cfg->max_timeout_s = GW_DEFAULT_MAX_TIMEOUT_S;
  cfg->jupyter_open_channels = 1;
  cfg->package_timeout_s = GW_DEFAULT_PACKAGE_TIMEOUT_S;
  if (apply_listen(cfg, GW_DEFAULT_LISTEN) < 0) return -EINVAL;
  if (config_path && load_file(cfg, config_path) < 0) return -EINVAL;
  const char *env = getenv("SLUICE_LISTEN");
  if (env && *env && apply_listen(cfg, env) < 0) return -EINVAL;
  if (listen_arg && apply_listen(cfg, listen_arg) < 0) return -EINVAL;
  if (state_arg)
    replace_str(&cfg->state_dir, state_arg);
  else if (getenv("SLUICE_STATE_DIR") && *getenv("SLUICE_STATE_DIR"))
    replace_str(&cfg->state_dir, getenv("SLUICE_STATE_DIR"));
  else if (!cfg->state_dir) {
    if (gw_state_dir_default(sd, sizeof(sd)) < 0) return -ENAMETOOLONG;
    replace_str(&cfg->state_dir, sd);
  }
  if (!cfg->images_dir) cfg->images_dir = default_data_dir("SLUICE_IMAGES_DIR", "images", "images");
  if (!cfg->drivers_dir)
    cfg->drivers_dir = default_data_dir("SLUICE_DRIVERS_DIR", "drivers", "kernel-runner/drivers");
  if (!cfg->listen_host || !cfg->state_dir || !cfg->images_dir || !cfg->drivers_dir) return -ENOMEM;
  return 0;
}

void gw_config_free(gw_config_t *cfg) {
  free(cfg->listen_host);
  free(cfg->state_dir);
  free(cfg->images_dir);
  free(cfg->drivers_dir);
  free(cfg->package_index_python);
  free(cfg->package_index_javascript);
  memset(cfg, 0, sizeof(*cfg));
}

int gw_mkdir_p(const char *path, unsigned mode) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) return -ENAMETOOLONG;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, mode) < 0 && errno != EEXIST) return -errno;
      if (!c) break;
      *p = c;
    }
  }
  return 0;
}

int gw_state_prepare(const char *state_dir) {
  char p[PATH_MAX];
  int rc = gw_mkdir_p(state_dir, 0700);
  if (rc < 0) return rc;
  if (chmod(state_dir, 0700) < 0) return -errno;
  snprintf(p, sizeof(p), "%s/run", state_dir);
  if (mkdir(p, 0700) < 0 && errno != EEXIST) return -errno;
  snprintf(p, sizeof(p), "%s/sandboxes", state_dir);
  if (mkdir(p, 0700) < 0 && errno != EEXIST) return -errno;
  return 0;
}

int gw_write_atomic(const char *path, const void *data, size_t len, unsigned mode) {
  char tmp[PATH_MAX];
  int fd = -1, rc = 0;
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) return -ENAMETOOLONG;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      rc = -errno;
      goto out;
    }
    p += w;
    len -= (size_t)w;
  }
  if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
    rc = -errno;
    goto out;
  }
  if (close(fd) < 0) {
    fd = -1;
    rc = -errno;
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) < 0) rc = -errno;
out:
  if (fd >= 0) close(fd);
  if (rc < 0) unlink(tmp);
  return rc;
}

int gw_secret_load(const char *state_dir, char key[GW_SECRET_HEX + 1]) {
  char path[PATH_MAX], buf[GW_SECRET_HEX + 2];
  snprintf(path, sizeof(path), "%s/secret", state_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n < GW_SECRET_HEX) return -EINVAL;
    memcpy(key, buf, GW_SECRET_HEX);
    key[GW_SECRET_HEX] = 0;
    return 0;
  }
  if (errno != ENOENT) return -errno;
  unsigned char raw[GW_SECRET_HEX / 2];
  if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) return -EIO;
  for (size_t i = 0; i < sizeof(raw); i++) snprintf(buf + 2 * i, 3, "%02x", raw[i]);
  buf[GW_SECRET_HEX] = '\n';
  int rc = gw_write_atomic(path, buf, GW_SECRET_HEX + 1, 0600);
  if (rc < 0) return rc;
  memcpy(key, buf, GW_SECRET_HEX);
  key[GW_SECRET_HEX] = 0;
  return 0;
}
