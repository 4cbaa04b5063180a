/* ctl.c — SEQPACKET framing with SCM_RIGHTS (ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sl_ctl_send(int sock, json_t *obj, const int *fds, size_t nfds) {
  int rc = 0;
  char *text = json_dumps(obj, JSON_COMPACT);
  if (!text) return -ENOMEM;
  size_t len = strlen(text);
  if (len >= SL_CTL_MAX_PACKET || nfds > SL_CTL_MAX_FDS) { rc = -EMSGSIZE; goto out; }
  struct iovec iov = {text, len};
  union {
    char buf[CMSG_SPACE(sizeof(int) * SL_CTL_MAX_FDS)];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds) {
    memset(&u, 0, sizeof u);
    mh.msg_control = u.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) rc = -errno;
out:
  free(text);
  return rc;
}

int sl_ctl_recv(int sock, json_t **out, int fds[SL_CTL_MAX_FDS], size_t *nfds) {
  static char pkt[SL_CTL_MAX_PACKET];
  union {
    char buf[CMSG_SPACE(sizeof(int) * SL_CTL_MAX_FDS)];
    struct cmsghdr align;
  } u;
  struct iovec iov = {pkt, sizeof pkt};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  *nfds = 0;
  *out = NULL;
  ssize_t n;
  do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      if (*nfds < SL_CTL_MAX_FDS) fds[(*nfds)++] = fd;
      else close(fd);
    }
  }
  if (n == 0 && *nfds == 0) return 0;
  char err[128];
  if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !(*out = sl_ctl_parse(pkt, (size_t)n, err, sizeof err))) {
    for (size_t i = 0; i < *nfds; i++) close(fds[i]);
    *nfds = 0;
    return -EBADMSG;
  }
  return 1;
}
