/* keys.c — API keys hashed at rest, hot reload, and the `keys` CLI. */
#include "keys.h"

#include "config.h"
#include "sluice/api.h"
#include "sluice/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

void gw_keys_hash(const char *key, char hex[65]) {
  unsigned char d[32];
  unsigned int dl = 0;
  EVP_Digest(key, strlen(key), d, &dl, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static json_t *load_doc(const char *path, int *err) {
  json_error_t je;
  *err = 0;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!doc) {
    if (access(path, F_OK) < 0 && errno == ENOENT) return json_pack("{s:[]}", "keys");
    *err = -EINVAL;
    fprintf(stderr, "sluice-gateway: %s: %s\n", path, je.text);
    return NULL;
  }
  if (!json_is_array(json_object_get(doc, "keys"))) {
    json_decref(doc);
    *err = -EINVAL;
    return NULL;
  }
  return doc;
}

static json_t *load_used(const char *path) {
  json_error_t je;
  json_t *u = json_load_file(path, 0, &je);
  if (!json_is_object(u)) {
    json_decref(u);
    u = json_object();
  }
  return u;
}

int gw_keystore_open(gw_keystore_t *ks, const char *state_dir) {
  memset(ks, 0, sizeof(*ks));
  if (snprintf(ks->path, sizeof(ks->path), "%s/keys.json", state_dir) >= (int)sizeof(ks->path) ||
      snprintf(ks->used_path, sizeof(ks->used_path), "%s/keys.used.json", state_dir) >= (int)sizeof(ks->used_path))
    return -ENAMETOOLONG;
  ks->used = load_used(ks->used_path);
  return gw_keystore_refresh(ks);
}

void gw_keys_flush_used(gw_keystore_t *ks) {
  if (!ks->used || !ks->used_path[0]) return;
  char *s = json_dumps(ks->used, JSON_COMPACT);
  if (s) gw_write_atomic(ks->used_path, s, strlen(s), 0600);
  free(s);
}

void gw_keys_touch(gw_keystore_t *ks, const char *name, time_t now) {
  if (!name || !ks->used) return;
  json_t *persisted = json_object_get(ks->used, name);
  int stale = !persisted || json_integer_value(persisted) + GW_KEY_USED_EVERY_S <= (json_int_t)now;
  if (!stale) return;
  /* drop names no longer in keys.json (revoked), so the file stays bounded by the keys that exist */
  const char *k;
  json_t *v, *tmp;
  json_object_foreach_safe(ks->used, tmp, k, v) {
    int found = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(ks->doc, "keys"), i, rec) found |= strcmp(json_string_value(json_object_get(rec, "name")) ?: "", k) == 0;
    if (!found && strcmp(k, name) != 0) json_object_del(ks->used, k);
  }
  json_object_set_new(ks->used, name, json_integer((json_int_t)now));
  gw_keys_flush_used(ks);
}

void gw_keystore_close(gw_keystore_t *ks) {
  json_decref(ks->doc);
  json_decref(ks->used);
  ks->doc = ks->used = NULL;
}

int gw_keystore_refresh(gw_keystore_t *ks) {
  struct stat st;
  int have = stat(ks->path, &st) == 0;
  if (ks->doc && have == ks->have_stat &&
      (!have || (st.st_dev == ks->dev && st.st_ino == ks->ino && st.st_size == ks->size &&
                 st.st_mtim.tv_sec == ks->mtime.tv_sec && st.st_mtim.tv_nsec == ks->mtime.tv_nsec)))
    return 0;
  int err;
  json_t *doc = load_doc(ks->path, &err);
  if (!doc) return err; /* keep the previous keys rather than lock everyone out on a torn edit */
  json_decref(ks->doc);
  ks->doc = doc;
  ks->have_stat = have;
  if (have) {
    ks->dev = st.st_dev;
    ks->ino = st.st_ino;
    ks->size = st.st_size;
    ks->mtime = st.st_mtim;
  }
  return 0;
}

size_t gw_keystore_count(const gw_keystore_t *ks) {
  return ks->doc ? json_array_size(json_object_get(ks->doc, "keys")) : 0;
}

json_t *gw_keys_verify(gw_keystore_t *ks, const char *key, time_t now, int *expired) {
  char hex[65];
  json_t *found = NULL, *rec;
  size_t i;
  *expired = 0;
  if (!key || !*key || strlen(key) > 256) return NULL;
  gw_keystore_refresh(ks);
  gw_keys_hash(key, hex);
  /* compare against every record so timing says nothing about which one matched */
  json_array_foreach(json_object_get(ks->doc, "keys"), i, rec) {
    const char *h = json_string_value(json_object_get(rec, "sha256"));
    if (h && strlen(h) == 64 && sl_ct_equal(h, hex, 64) && !found) found = rec;
  }
  if (found) {
    json_t *exp = json_object_get(found, "expires_at");
    if (json_is_integer(exp) && json_integer_value(exp) <= (json_int_t)now) {
      *expired = 1;
      return NULL;
    }
  }
  return found;
}

int gw_key_allows_ns(const json_t *rec, const char *ns) {
  json_t *list = json_object_get(rec, "namespaces");
  if (!json_is_array(list) || json_array_size(list) == 0) return 1;
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (ns && json_string_value(v) && strcmp(json_string_value(v), ns) == 0) return 1;
  return 0;
}

/* Holds STATE/keys.lock for a read-modify-write of keys.json. Returns the fd or -errno. */
static int lock_store(const char *state_dir) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/keys.lock", state_dir);
  int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  if (flock(fd, LOCK_EX) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

static int save_doc(const char *state_dir, json_t *doc) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/keys.json", state_dir);
  char *s = json_dumps(doc, JSON_INDENT(2));
  if (!s) return -ENOMEM;
  size_t n = strlen(s);
  char *withnl = realloc(s, n + 2);
  if (!withnl) {
    free(s);
    return -ENOMEM;
  }
  withnl[n] = '\n';
  int rc = gw_write_atomic(p, withnl, n + 1, 0600);
  free(withnl);
  return rc;
}

int gw_keys_create(const char *state_dir, const char *name, const char *const *namespaces, size_t n_ns,
                   int64_t expires_at, char out[GW_KEY_LEN + 1]) {
  char path[PATH_MAX], hex[65], created[32];
  unsigned char raw[32];
  json_t *doc = NULL, *rec, *nsl = NULL;
  size_t i;
  int err, rc = gw_state_prepare(state_dir);
  if (rc < 0) return rc;
  int lk = lock_store(state_dir);
  if (lk < 0) return lk;
  snprintf(path, sizeof(path), "%s/keys.json", state_dir);
  doc = load_doc(path, &err);
  if (!doc) {
    rc = err;
    goto out;
  }
  json_t *keys = json_object_get(doc, "keys");
  if (json_array_size(keys) >= GW_MAX_KEYS) {
    rc = -ENOSPC;
    goto out;
  }
  json_array_foreach(keys, i, rec) {
    if (strcmp(json_string_value(json_object_get(rec, "name")) ?: "", name) == 0) {
      rc = -EEXIST;
      goto out;
    }
  }
  if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
    rc = -EIO;
    goto out;
  }
  memcpy(out, "sk-", 3);
  for (i = 0; i < sizeof(raw); i++) snprintf(out + 3 + 2 * i, 3, "%02x", raw[i]);
  gw_keys_hash(out, hex);
  nsl = n_ns ? json_array() : json_null();
  for (i = 0; i < n_ns; i++) json_array_append_new(nsl, json_string(namespaces[i]));
  sl_api_time_str(time(NULL), created);
  rec = json_pack("{s:s, s:s, s:o, s:s, s:o}", "name", name, "sha256", hex, "namespaces", nsl, "created_at",
                  created, "expires_at", expires_at ? json_integer(expires_at) : json_null());
  nsl = NULL;
  if (!rec || json_array_append_new(keys, rec) < 0) {
    rc = -ENOMEM;
    goto out;
  }
  rc = save_doc(state_dir, doc);
out:
  json_decref(nsl);
  json_decref(doc);
  close(lk);
  return rc;
}

int gw_keys_revoke(const char *state_dir, const char *name) {
  char path[PATH_MAX];
  int err, rc = -ENOENT;
  int lk = lock_store(state_dir);
  if (lk < 0) return lk;
  snprintf(path, sizeof(path), "%s/keys.json", state_dir);
  json_t *doc = load_doc(path, &err);
  if (!doc) {
    rc = err;
    goto out;
  }
  json_t *keys = json_object_get(doc, "keys");
  for (size_t i = 0; i < json_array_size(keys); i++) {
    if (strcmp(json_string_value(json_object_get(json_array_get(keys, i), "name")) ?: "", name) == 0) {
      json_array_remove(keys, i);
      rc = save_doc(state_dir, doc);
      break;
    }
  }
out:
  json_decref(doc);
  close(lk);
  return rc;
}

int gw_keys_parse_expiry(const char *s, time_t now, int64_t *out) {
  if (!s || !*s) return -EINVAL;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(s, "%Y-%m-%d", &tm);
  if (end && (*end == 0 || *end == 'T')) {
    if (*end == 'T' && !(end = strptime(end, "T%H:%M:%S", &tm))) return -EINVAL;
    if (*end && strcmp(end, "Z") != 0) return -EINVAL;
    *out = (int64_t)timegm(&tm);
    return 0;
  }
  char *e;
  errno = 0;
  long long n = strtoll(s, &e, 10);
  if (errno || e == s || n <= 0 || n > 100000) return -EINVAL;
  long long mult = 86400;
  if (*e) {
    if (e[1]) return -EINVAL;
    switch (*e) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 7 * 86400; break;
      default: return -EINVAL;
    }
  }
  *out = (int64_t)now + n * mult;
  return 0;
}

static int cli_usage(void) {
  fprintf(stderr,
          "usage: sluice-gateway keys create NAME [--namespace NS... | --admin] [--expires D] [--state-dir DIR]\n"
          "       sluice-gateway keys list [--state-dir DIR]\n"
          "       sluice-gateway keys revoke NAME [--state-dir DIR]\n");
  return 2;
}

static void cli_list(const char *state_dir) {
  gw_keystore_t ks;
  if (gw_keystore_open(&ks, state_dir) < 0) return;
  json_t *rec;
  size_t i;
  printf("%-24s %-24s %-22s %-22s %s\n", "NAME", "NAMESPACES", "CREATED", "EXPIRES", "LAST USED");
  json_array_foreach(json_object_get(ks.doc, "keys"), i, rec) {
    char nss[256] = "* (admin)", exp[32] = "never", used[32] = "never";
    json_t *nsl = json_object_get(rec, "namespaces"), *v;
    size_t j, off = 0;
    if (json_array_size(nsl)) {
      json_array_foreach(nsl, j, v) off += (size_t)snprintf(nss + off, off < sizeof(nss) ? sizeof(nss) - off : 0,
                                                            "%s%s", j ? "," : "", json_string_value(v) ?: "");
    }
    json_t *e = json_object_get(rec, "expires_at");
    if (json_is_integer(e)) sl_api_time_str((time_t)json_integer_value(e), exp);
    const char *name = json_string_value(json_object_get(rec, "name")) ?: "?";
    json_t *u = json_object_get(ks.used, name);
    if (json_is_integer(u)) sl_api_time_str((time_t)json_integer_value(u), used);
    printf("%-24s %-24s %-22s %-22s %s\n", name, nss, json_string_value(json_object_get(rec, "created_at")) ?: "", exp,
           used);
  }
  gw_keystore_close(&ks);
}

int gw_keys_cli(int argc, char **argv) {
  static const struct option opts[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"expires", required_argument, NULL, 'e'},
                                       {"state-dir", required_argument, NULL, 's'},
                                       {"admin", no_argument, NULL, 'a'},
                                       {NULL, 0, NULL, 0}};
  const char *nss[64], *expires = NULL, *state_arg = NULL;
  size_t n_ns = 0;
  char sd[PATH_MAX];
  int c, admin = 0;
  if (argc < 2) return cli_usage();
  const char *verb = argv[1];
  optind = 2;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
      case 'n':
        if (n_ns == 64 || !sl_api_name_valid(optarg)) {
          fprintf(stderr, "sluice-gateway: bad or too many namespaces ('%s')\n", optarg);
          return 2;
        }
        nss[n_ns++] = optarg;
        break;
      case 'e': expires = optarg; break;
      case 'a': admin = 1; break;
      case 's': state_arg = optarg; break;
      default: return cli_usage();
    }
  }
  const char *name = optind < argc ? argv[optind] : NULL;
  if (state_arg)
    snprintf(sd, sizeof(sd), "%s", state_arg);
  else if (gw_state_dir_default(sd, sizeof(sd)) < 0)
    return 1;
  if (strcmp(verb, "list") == 0) {
    cli_list(sd);
    return 0;
  }
  if (!name || strlen(name) > 64 || !*name) return cli_usage();
  if (strcmp(verb, "create") == 0) {
    int64_t exp = 0;
    if (admin && n_ns) { /* no --namespace also makes an admin key; --admin says so explicitly */
      fprintf(stderr, "sluice-gateway: --admin (every namespace) and --namespace exclude each other\n");
      return 2;
    }
    char key[GW_KEY_LEN + 1];
    if (expires && gw_keys_parse_expiry(expires, time(NULL), &exp) < 0) {
      fprintf(stderr, "sluice-gateway: bad --expires '%s' (e.g. 30d, 12h, 2026-12-31)\n", expires);
      return 2;
    }
    int rc = gw_keys_create(sd, name, nss, n_ns, exp, key);
    if (rc < 0) {
      fprintf(stderr, "sluice-gateway: cannot create key '%s': %s\n", name,
              rc == -EEXIST ? "a key with that name exists" : strerror(-rc));
      return 1;
    }
    fprintf(stderr, "created key '%s' (shown once; stored hashed)\n", name);
    printf("%s\n", key);
    return 0;
  }
  if (strcmp(verb, "revoke") == 0) {
    int rc = gw_keys_revoke(sd, name);
    if (rc < 0) {
      fprintf(stderr, "sluice-gateway: cannot revoke '%s': %s\n", name, rc == -ENOENT ? "no such key" : strerror(-rc));
      return 1;
    }
    printf("revoked key '%s'\n", name);
    return 0;
  }
  return cli_usage();
}
