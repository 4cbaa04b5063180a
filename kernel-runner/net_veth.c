/* net_veth.c — the sandbox's veth pair (over rtnetlink), its slot and its record; running nft (net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nl.h"
#include "rtnl.h"
#include "rutil.h"

extern char **environ;

void sl_net_init(sl_net_t *n) {
  memset(n, 0, sizeof *n);
  n->slot = -1;
  n->lock_fd = -1;
}

int sl_net_run(const char *const argv[], const char *input, char *out, size_t outlen) {
  int in[2] = {-1, -1}, op[2] = {-1, -1}, rc = 0;
  size_t used = 0;
  if (outlen) out[0] = 0;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, op[1], 1);
  posix_spawn_file_actions_adddup2(&fa, op[1], 2);
  posix_spawnattr_init(&at);
  /* the runner blocks SIGCHLD/SIGTERM/... for its signalfd; the tool must not inherit that */
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
  pid_t pid;
  int e = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]);
  close(op[1]);
  in[0] = op[1] = -1;
  if (e) {
    rc = -e;
    if (outlen) snprintf(out, outlen, "cannot run %s: %s", argv[0], strerror(e));
    goto out;
  }
  /* inputs are a few KiB at most (a ruleset), below the pipe's capacity: write it all, then EOF */
  size_t ilen = input ? strlen(input) : 0, off = 0;
  while (off < ilen) {
    ssize_t w = write(in[1], input + off, ilen - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  close(in[1]);
  in[1] = -1;
  int64_t deadline = sl_now_ms() + SL_NET_EXEC_TIMEOUT_MS;
  char buf[512];
  for (;;) {
    int64_t left = deadline - sl_now_ms();
    struct pollfd p = {op[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, (int)left) == 0) {
      kill(pid, SIGKILL);
      rc = -ETIMEDOUT;
      break;
    }
    ssize_t r = read(op[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (ssize_t i = 0; i < r && outlen; i++) { /* keep the head: nft names the first error first */
      if (used + 1 >= outlen) break;
      out[used++] = buf[i] == '\n' ? ' ' : (buf[i] >= 32 && buf[i] < 127 ? buf[i] : '?');
    }
    if (outlen) out[used] = 0;
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) rc = -EIO;
out:
  for (int *fd = (int[]){in[0], in[1], op[0], op[1]}, i = 0; i < 4; i++)
    if (fd[i] >= 0) close(fd[i]);
  return rc;
}

static int fail(char *err, size_t errlen, int rc, const char *what, const char *detail) {
  snprintf(err, errlen, "egress: %s: %s", what, detail && *detail ? detail : strerror(-rc));
  return rc;
}

/* A free host-wide slot, starting at the gateway's own slot (uid_base) so the usual case is one try. */
static int slot_take(sl_net_t *n, unsigned long uid_base) {
  int rc = sl_mkdir_p(SL_NET_LOCK_DIR, 0700);
  if (rc < 0) return rc;
  unsigned start = (unsigned)((uid_base >> 16) % SL_NET_SLOTS);
  for (unsigned i = 0; i < SL_NET_SLOTS; i++) {
    unsigned s = (start + i) % SL_NET_SLOTS;
    char p[64];
    snprintf(p, sizeof p, SL_NET_LOCK_DIR "/%u.lock", s);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      n->slot = (int)s;
      n->lock_fd = fd;
      return 0;
    }
    close(fd);
  }
  return -EAGAIN;
}

static int write_record(const sl_net_t *n, const sl_config_t *cfg) {
  char path[PATH_MAX + 16], buf[128];
  int len = snprintf(buf, sizeof buf, "slot %d\nveth %s\n", n->slot, n->host_if);
  if (n->own_table) len += snprintf(buf + len, sizeof buf - (size_t)len, "nft %s\n", n->table);
  snprintf(path, sizeof path, "%s/net", cfg->sbx_dir);
  return sl_write_file_atomic(path, buf, (size_t)len, 0644);
}

static int link_exists(const char *ifname) {
  char p[64];
  snprintf(p, sizeof p, "/sys/class/net/%s", ifname);
  return access(p, F_OK) == 0;
}

/* fd: a NETLINK_ROUTE socket, or -1 to open one for this call */
static int link_delete(int fd, const char *ifname) {
  if (!link_exists(ifname)) return 0;
  int own = fd < 0 ? (fd = sl_nl_open(NETLINK_ROUTE)) : -1;
  int rc = fd < 0 ? fd : sl_rtnl_link_del(fd, ifname);
  if (own >= 0) close(own);
  if (rc < 0 && link_exists(ifname)) RLOG("delete link %s: %s", ifname, strerror(-rc));
  return link_exists(ifname) ? (rc < 0 ? rc : -EBUSY) : 0;
}

int sl_net_plan(sl_net_t *n, const sl_config_t *cfg, char *err, size_t errlen) {
  json_t *list = json_object_get(cfg->sandbox, "egress_whitelist");
  const char *script = json_string_value(json_object_get(cfg->sandbox, "before_script"));
  n->mode = !list || json_is_null(list) ? SL_NET_OPEN : json_array_size(list) ? SL_NET_LIST : SL_NET_NONE;
  n->script = script && *script;
  n->want_veth = n->mode != SL_NET_NONE || n->script;
  n->own_table = n->mode == SL_NET_LIST;
  if (!n->want_veth) return 0;
  int rc = slot_take(n, cfg->uid_base);
  if (rc < 0) return fail(err, errlen, rc, "no free network slot", NULL);
  uint32_t base = SL_NET_POOL + 4u * (uint32_t)n->slot;
  n->host_ip = base + 1;
  n->sb_ip = base + 2;
  snprintf(n->host_if, sizeof n->host_if, "%s%d", n->own_table ? SL_NET_LIST_PREFIX : SL_NET_OPEN_PREFIX, n->slot);
  if (n->own_table) snprintf(n->table, sizeof n->table, "sluice_%d", n->slot);
  /* recorded BEFORE anything exists, so the gateway can clean up after a runner killed with SIGKILL */
  if ((rc = write_record(n, cfg)) < 0) return fail(err, errlen, rc, "write net record", NULL);
  /* NAT needs forwarding; turned on the first time a sandbox gets egress, never turned off (README) */
  char fwd[4] = "";
  int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, fwd, 1) < 0) fwd[0] = 0;
    close(fd);
  }
  if (fwd[0] != '1' && (rc = sl_write_str("/proc/sys/net/ipv4/ip_forward", "1")) < 0)
    return fail(err, errlen, rc, "enable net.ipv4.ip_forward", NULL);
  return 0;
}

int sl_net_setup_parent(sl_net_t *n, const sl_config_t *cfg, pid_t child, char *err, size_t errlen) {
  if (!n->want_veth) return 0;
  char p[96], other[16];
  int rc, fd = sl_nl_open(NETLINK_ROUTE);
  if (fd < 0) return fail(err, errlen, fd, "rtnetlink socket", NULL);
  /* a slot we hold the lock of may still carry a dead runner's pair (of either kind): it is stale */
  snprintf(other, sizeof other, "%s%d", n->own_table ? SL_NET_OPEN_PREFIX : SL_NET_LIST_PREFIX, n->slot);
  if ((rc = link_delete(fd, n->host_if)) < 0 || (rc = link_delete(fd, other)) < 0) {
    fail(err, errlen, rc, "remove a stale veth", NULL);
    goto out;
  }
  /* the filter first: the pair must never exist without it (the tables match the name, not the device) */
  if (n->own_table) {
    n->table_made = 1; /* open during a before_script, else the final policy right away */
    if ((rc = sl_net_nft_apply(n, cfg, n->script, err, errlen)) < 0) goto out;
  } else if ((rc = sl_net_shared_ensure(err, errlen)) < 0) {
    goto out;
  }
  n->veth_made = 1;
  if ((rc = sl_rtnl_veth_add(fd, n->host_if, "eth0", child)) < 0) { fail(err, errlen, rc, "create the veth pair", NULL); goto out; }
  /* no IPv6 on the host end: no link-local address the sandbox could reach the host by (the tables
   * drop IPv6 from the sandbox as well); the end is still down, so it never had one */
  snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", n->host_if);
  if (access(p, F_OK) == 0 && (rc = sl_write_str(p, "1")) < 0) { fail(err, errlen, rc, "disable IPv6 on the host end", NULL); goto out; }
  if ((rc = sl_rtnl_addr4_add(fd, n->host_if, n->host_ip, 30)) < 0) { fail(err, errlen, rc, "address the host end", NULL); goto out; }
  if ((rc = sl_rtnl_link_up(fd, n->host_if)) < 0) { fail(err, errlen, rc, "set the host end up", NULL); goto out; }
out:
  close(fd);
  return rc;
}

int sl_net_apply_policy(sl_net_t *n, const sl_config_t *cfg, char *err, size_t errlen) {
  if (!n->want_veth) return 0;
  int rc;
  if (n->mode == SL_NET_NONE) { /* the before_script is done: loopback only from now on */
    if ((rc = link_delete(-1, n->host_if)) < 0) return fail(err, errlen, rc, "remove the veth after before_script", NULL);
    n->veth_made = 0;
    return 0;
  }
  /* LIST: the table was the open one for the before_script; without one it is final already */
  return n->own_table && n->script ? sl_net_nft_apply(n, cfg, 0, err, errlen) : 0;
}

void sl_net_destroy(sl_net_t *n) {
  /* the pair dies with the sandbox's netns, but the host end may outlive init for a moment (the kernel
   * frees a netns asynchronously): delete it now so the slot is clean when we release it */
  if (n->veth_made && link_delete(-1, n->host_if) == 0) n->veth_made = 0;
  if (n->table_made && sl_net_nft_delete(n) == 0) n->table_made = 0;
  if (n->lock_fd >= 0) close(n->lock_fd);
  n->lock_fd = -1;
}

static int ifreq_ioctl(int fd, unsigned long req, struct ifreq *ifr, uint32_t addr) {
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(addr);
  return ioctl(fd, req, ifr) < 0 ? -errno : 0;
}

int sl_net_init_child(const sl_net_t *n) {
  if (!n->want_veth) return 0;
  int rc, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "eth0");
  if ((rc = ifreq_ioctl(fd, SIOCSIFADDR, &ifr, n->sb_ip)) < 0) goto out;
  if ((rc = ifreq_ioctl(fd, SIOCSIFNETMASK, &ifr, 0xFFFFFFFCu)) < 0) goto out;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) { rc = -errno; goto out; }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) { rc = -errno; goto out; }
  struct rtentry rt;
  memset(&rt, 0, sizeof rt);
  struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *gw = (struct sockaddr_in *)&rt.rt_gateway,
                     *mask = (struct sockaddr_in *)&rt.rt_genmask;
  dst->sin_family = gw->sin_family = mask->sin_family = AF_INET;
  gw->sin_addr.s_addr = htonl(n->host_ip);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  char dev[] = "eth0";
  rt.rt_dev = dev;
  if (ioctl(fd, SIOCADDRT, &rt) < 0) rc = -errno;
out:
  close(fd);
  return rc;
}
