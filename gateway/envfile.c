/* envfile.c — reading the create body's env_file (envfile.h). */
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

/* The state dir holds the HMAC secret and the key store: never a source of a sandbox's environment. */
static int in_state_dir(const char *path) {
  char real[PATH_MAX], state[PATH_MAX];
  if (!g_gw.cfg.state_dir || !realpath(path, real) || !realpath(g_gw.cfg.state_dir, state)) return 0;
  size_t n = strlen(state);
  return !strncmp(real, state, n) && (real[n] == '/' || !real[n]);
}

int gw_envfile_apply(json_t *rec, sl_api_err_t *err) {
  const char *path = json_string_value(json_object_get(rec, "env_file"));
  if (!path) return 0;
  if (path[0] != '/') return sl_api_fail(err, 400, "invalid_env_file", "env_file must be an absolute path on the gateway host");
  if (in_state_dir(path)) return sl_api_fail(err, 400, "invalid_env_file", "env_file may not be inside the gateway's state dir");
  /* a regular file only: a FIFO or a device would block or never end */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0) return sl_api_fail(err, 400, "invalid_env_file", "env_file %.128s: %s", path, strerror(errno));
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SL_API_MAX_ENV_FILE) {
    close(fd);
    return sl_api_fail(err, 400, "invalid_env_file", "env_file %.128s: not a regular file of at most 1 MiB", path);
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t len = 0;
  while (buf && len < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (!buf) return sl_api_fail(err, 500, "internal", "out of memory");
  json_t *env = json_object_get(rec, "env");
  int rc = sl_api_parse_env_file(buf, len, env, err);
  free(buf);
  return rc;
}
