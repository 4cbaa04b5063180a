/* config.c — the state dir, its secret, atomic writes; the listen address (settings: settings.c). */
#include "config.h"

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
