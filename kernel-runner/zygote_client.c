/* zygote_client.c — asking the image's zygote for a Python driver (zygote.h). */
#include "zygote.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "rutil.h"

static const char *const COLD_PREFIXES[] = {"PYTHON", "LD_", "MPL", "OPENBLAS_", "OMP_", "NUMEXPR_", "SLUICE_PY_"};

int sl_zygote_usable(const sl_config_t *cfg, const char *language) {
  if (strcmp(language, "python") || !json_is_object(json_object_get(cfg->image, "zygote"))) return 0;
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(cfg->sandbox, "env"), k, v) {
    for (size_t i = 0; i < sizeof COLD_PREFIXES / sizeof COLD_PREFIXES[0]; i++)
      if (!strncmp(k, COLD_PREFIXES[i], strlen(COLD_PREFIXES[i]))) return 0;
  }
  return 1;
}

static int connect_zygote(const sl_config_t *cfg, char *err, size_t errlen) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  const char *image = json_string_value(json_object_get(cfg->sandbox, "image"));
  if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/run/zygote-%s.sock", cfg->state_dir, image ? image : "python") >=
      sizeof a.sun_path)
    return snprintf(err, errlen, "zygote socket path too long"), -ENAMETOOLONG;
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return snprintf(err, errlen, "socket: %s", strerror(errno)), -errno;
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(s);
    return snprintf(err, errlen, "no zygote (%s)", strerror(e)), -e;
  }
  return s;
}

int sl_zygote_spawn(const sl_config_t *cfg, const sl_sandbox_t *sb, json_t *env, const char *cwd, const int fds[5],
                    pid_t *ns_pid, pid_t *host_pid, char *err, size_t errlen) {
  int s = -1, pidfd = -1, rc;
  json_t *req = NULL, *cgs = json_array(), *rep = NULL;
  for (size_t i = 0; i < sb->cg.n; i++)
    if ((int)i != sb->cg.v2_leaf) json_array_append_new(cgs, json_string(sb->cg.dirs[i]));
  if ((s = connect_zygote(cfg, err, errlen)) < 0) { rc = s; goto out; }
  /* the zygote's child joins init's namespaces through this (init cannot be replaced under it) */
  if ((pidfd = (int)syscall(SYS_pidfd_open, sb->init_pid, 0)) < 0) {
    rc = -errno;
    snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
    goto out;
  }
  req = json_pack("{s:s, s:I, s:I, s:I, s:s, s:O, s:O}", "type", "zygote_spawn", "uid", (json_int_t)cfg->uid, "gid",
                  (json_int_t)cfg->gid, "caps", (json_int_t)cfg->caps, "cwd", cwd, "env", env, "cgroups", cgs);
  int all[SL_ZYGOTE_NFDS] = {fds[0], fds[1], fds[2], fds[3], fds[4], pidfd};
  if (!req || (rc = sl_ctl_send(s, req, all, SL_ZYGOTE_NFDS)) < 0) {
    rc = req ? rc : -ENOMEM;
    snprintf(err, errlen, "send to the zygote: %s", strerror(-rc));
    goto out;
  }
  int64_t deadline = sl_now_ms() + SL_ZYGOTE_TIMEOUT_MS;
  for (;;) {
    struct pollfd p = {s, POLLIN, 0};
    int64_t left = deadline - sl_now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) == 0) { rc = -ETIMEDOUT; snprintf(err, errlen, "the zygote did not answer"); goto out; }
    int rfds[SL_CTL_MAX_FDS];
    size_t rn;
    rc = sl_ctl_recv(s, &rep, rfds, &rn);
    for (size_t k = 0; k < rn; k++) close(rfds[k]);
    if (rc == -EAGAIN || rc == -EINTR) continue;
    break;
  }
  if (rc <= 0) { rc = rc ? rc : -ECONNRESET; snprintf(err, errlen, "the zygote closed the connection"); goto out; }
  const char *type = json_string_value(json_object_get(rep, "type")), *e = json_string_value(json_object_get(rep, "error"));
  if (strcmp(type, "zygote_spawned")) { rc = -EPROTO; snprintf(err, errlen, "the zygote answered %s", type); goto out; }
  if (e) { rc = -ENOEXEC; snprintf(err, errlen, "zygote: %s", e); goto out; }
  *host_pid = (pid_t)json_integer_value(json_object_get(rep, "pid"));
  *ns_pid = (pid_t)json_integer_value(json_object_get(rep, "ns_pid"));
  rc = *host_pid > 0 && *ns_pid > 0 ? 0 : -EPROTO;
  if (rc) snprintf(err, errlen, "the zygote sent no pid");
out:
  if (s >= 0) close(s);
  if (pidfd >= 0) close(pidfd);
  json_decref(req);
  json_decref(cgs);
  json_decref(rep);
  return rc;
}
