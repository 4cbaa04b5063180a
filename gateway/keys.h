/* keys.h — API keys: random "sk-" + 64 hex, stored only as SHA-256 in STATE/keys.json (0600, atomic
 * replace, flock'd against concurrent CLI runs); verification in constant time; the `keys` CLI.
 *
 * Ownership: gw_keystore_t owns its loaded document (gw_keystore_close frees it). gw_keys_verify returns a
 * BORROWED json object valid until the next gw_keys_refresh/gw_keystore_close.
 */
#ifndef GW_KEYS_H
#define GW_KEYS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define GW_KEY_LEN 67 /* "sk-" + 64 hex */
#define GW_MAX_KEYS 10000

typedef struct {
  char path[4096];
  json_t *doc;       /* {"keys": [{name, sha256, namespaces|null, created_at, expires_at|null}]} */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int have_stat;
  char used_path[4096]; /* STATE/keys.used.json: {NAME: last use (epoch s)}, written by the gateway only */
  json_t *used;
} gw_keystore_t;

#define GW_KEY_USED_EVERY_S 60 /* last_used is persisted at most this often per key (and at close) */

/* Opens STATE/keys.json (absent = no keys). 0 or -errno. */
int gw_keystore_open(gw_keystore_t *ks, const char *state_dir);
void gw_keystore_close(gw_keystore_t *ks);
/* Reloads when the file's inode, size or mtime changed since the last load. */
int gw_keystore_refresh(gw_keystore_t *ks);
size_t gw_keystore_count(const gw_keystore_t *ks);

/* Looks key up. NULL when unknown; *expired set when it matched but is past expires_at. */
json_t *gw_keys_verify(gw_keystore_t *ks, const char *key, time_t now, int *expired);
/* The key named name was used at now: recorded in memory, persisted when the stored time is older than
 * GW_KEY_USED_EVERY_S (so a key used once shows at once; a busy key costs one write a minute). */
void gw_keys_touch(gw_keystore_t *ks, const char *name, time_t now);
/* Writes the recorded last uses (at shutdown). */
void gw_keys_flush_used(gw_keystore_t *ks);
/* True when the key record may use namespace ns (unscoped keys may use all). */
int gw_key_allows_ns(const json_t *rec, const char *ns);

/* Creates a key (namespaces borrowed, n_ns may be 0; expires_at 0 = never). out gets the clear key.
 * -EEXIST when the name is taken. */
int gw_keys_create(const char *state_dir, const char *name, const char *const *namespaces, size_t n_ns,
                   int64_t expires_at, char out[GW_KEY_LEN + 1]);
/* -ENOENT when no key has that name. */
int gw_keys_revoke(const char *state_dir, const char *name);
/* "30d", "12h", "45m", "10s", "2w", plain N (days) or "YYYY-MM-DD" → absolute epoch seconds. */
int gw_keys_parse_expiry(const char *s, time_t now, int64_t *out);
/* Lowercase hex SHA-256 of key into hex (65 bytes). */
void gw_keys_hash(const char *key, char hex[65]);

/* `sluice-gateway keys ...` (argv[0] = "keys"). Returns the process exit status. */
int gw_keys_cli(int argc, char **argv);

#endif
