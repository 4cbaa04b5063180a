/* ns_net.c — loopback and hostname (ns_net.h). */
#include "ns_net.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int sl_ns_net_init_child(void) {
  int rc = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) { rc = -errno; goto out; }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) rc = -errno;
out:
  close(fd);
  return rc;
}

int sl_ns_uts_init_child(const char *hostname) {
  return sethostname(hostname, strlen(hostname)) < 0 ? -errno : 0;
}
