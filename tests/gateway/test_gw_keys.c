/* test_gw_keys.c — API keys in a temporary state dir: create, hash at rest, verify, scope, expiry,
 * revoke, and a running keystore noticing changes. */
#include "config.h"
#include "keys.h"
#include "tcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

int main(void) {
  char dir[] = "/tmp/sluice-keys-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char state[256], path[300];
  snprintf(state, sizeof(state), "%s/state", dir);
  snprintf(path, sizeof(path), "%s/keys.json", state);

  gw_keystore_t ks;
  CHECK(gw_keystore_open(&ks, state) == 0);
  CHECK(gw_keystore_count(&ks) == 0);

  char k1[GW_KEY_LEN + 1], k2[GW_KEY_LEN + 1], k3[GW_KEY_LEN + 1];
  CHECK(gw_keys_create(state, "alice", NULL, 0, 0, k1) == 0);
  CHECK(strncmp(k1, "sk-", 3) == 0 && strlen(k1) == GW_KEY_LEN);
  CHECK(gw_keys_create(state, "alice", NULL, 0, 0, k2) == -EEXIST);
  const char *nss[] = {"team-a", "team-b"};
  CHECK(gw_keys_create(state, "scoped", nss, 2, 0, k2) == 0);
  CHECK(strcmp(k1, k2) != 0);
  CHECK(gw_keys_create(state, "old", NULL, 0, (int64_t)time(NULL) - 10, k3) == 0);

  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  char *text = slurp(path);
  CHECK(text && !strstr(text, k1) && !strstr(text, k2)); /* only hashes at rest */
  char hex[65];
  gw_keys_hash(k1, hex);
  CHECK(text && strstr(text, hex));
  free(text);

  /* the open keystore reloads on change */
  int expired = 0;
  json_t *rec = gw_keys_verify(&ks, k1, time(NULL), &expired);
  CHECK(rec && !expired && strcmp(json_string_value(json_object_get(rec, "name")), "alice") == 0);
  CHECK(gw_key_allows_ns(rec, "anything"));
  rec = gw_keys_verify(&ks, k2, time(NULL), &expired);
  CHECK(rec && gw_key_allows_ns(rec, "team-a") && gw_key_allows_ns(rec, "team-b") && !gw_key_allows_ns(rec, "other"));
  CHECK(gw_keys_verify(&ks, k3, time(NULL), &expired) == NULL && expired == 1);
  CHECK(gw_keys_verify(&ks, "sk-nope", time(NULL), &expired) == NULL && expired == 0);
  CHECK(gw_keys_verify(&ks, "", time(NULL), &expired) == NULL);
  char wrong[GW_KEY_LEN + 1];
  memcpy(wrong, k1, sizeof(wrong));
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  CHECK(gw_keys_verify(&ks, wrong, time(NULL), &expired) == NULL);

  CHECK(gw_keys_revoke(state, "alice") == 0);
  CHECK(gw_keys_revoke(state, "alice") == -ENOENT);
  CHECK(gw_keys_verify(&ks, k1, time(NULL), &expired) == NULL);
  CHECK(gw_keys_verify(&ks, k2, time(NULL), &expired) != NULL);
  CHECK(gw_keystore_count(&ks) == 2);

  /* a corrupt file keeps the last good keys instead of locking everyone out */
  FILE *f = fopen(path, "w");
  fputs("{not json", f);
  fclose(f);
  CHECK(gw_keys_verify(&ks, k2, time(NULL), &expired) != NULL);

  int64_t exp;
  time_t now = 1000000;
  CHECK(gw_keys_parse_expiry("30d", now, &exp) == 0 && exp == now + 30 * 86400);
  CHECK(gw_keys_parse_expiry("12h", now, &exp) == 0 && exp == now + 12 * 3600);
  CHECK(gw_keys_parse_expiry("7", now, &exp) == 0 && exp == now + 7 * 86400);
  CHECK(gw_keys_parse_expiry("2030-01-02", now, &exp) == 0 && exp == 1893542400);
  CHECK(gw_keys_parse_expiry("2030-01-02T00:00:10Z", now, &exp) == 0 && exp == 1893542410);
  CHECK(gw_keys_parse_expiry("soon", now, &exp) < 0);
  CHECK(gw_keys_parse_expiry("5y", now, &exp) < 0);
  CHECK(gw_keys_parse_expiry("-1d", now, &exp) < 0);

  gw_keystore_close(&ks);
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  T_DONE();
}
