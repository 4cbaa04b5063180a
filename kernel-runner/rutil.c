/* rutil.c — file helpers for the runner (see rutil.h). */
#include "rutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *sl_read_file(const char *path, size_t max, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) goto fail;
  for (;;) {
    if (n == cap) {
      if (cap >= max) { errno = EFBIG; goto fail; }
      cap = cap * 2 > max ? max : cap * 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) goto fail;
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) goto fail;
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
fail:;
  int e = errno;
  free(buf);
  close(fd);
  errno = e;
  return NULL;
}

int sl_write_file_atomic(const char *path, const void *data, size_t len, int mode) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -ENAMETOOLONG;
  int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) { rc = -errno; goto out; }
    p += w;
    len -= (size_t)w;
  }
  if (fsync(fd) < 0) { rc = -errno; goto out; }
  if (rename(tmp, path) < 0) rc = -errno;
out:
  close(fd);
  if (rc) unlink(tmp);
  return rc;
}

int sl_write_str(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = strlen(s);
  ssize_t w = write(fd, s, len);
  int rc = w == (ssize_t)len ? 0 : (w < 0 ? -errno : -EIO);
  close(fd);
  return rc;
}

int sl_mkdir_p(const char *path, int mode) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -ENAMETOOLONG;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) return -errno;
  return 0;
}
