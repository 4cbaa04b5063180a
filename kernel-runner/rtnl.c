/* rtnl.c — veth, address and link state over rtnetlink (rtnl.h). */
#include "rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>

#include "nl.h"

#define REQ_MAX 512 /* the largest request here (veth with its peer) is ~120 bytes */

static int name_ok(const char *n) { return n && *n && strlen(n) < IFNAMSIZ; }

static int send_req(int fd, sl_nlmsg_t *m) {
  int rc = sl_nlmsg_finish(m);
  return rc < 0 ? rc : sl_nl_transact(fd, m, NULL, NULL, SL_NL_TIMEOUT_MS);
}

int sl_rtnl_veth_add(int fd, const char *host_if, const char *peer_if, pid_t peer_netns_pid) {
  if (!name_ok(host_if) || !name_ok(peer_if) || peer_netns_pid <= 0) return -EINVAL;
  uint32_t buf[REQ_MAX / 4];
  sl_nlmsg_t m;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  sl_nlmsg_init(&m, buf, sizeof buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  sl_nlmsg_put(&m, &ifi, sizeof ifi);
  sl_nlmsg_attr_str(&m, IFLA_IFNAME, host_if);
  sl_nlmsg_nest_begin(&m, IFLA_LINKINFO);
  sl_nlmsg_attr_str(&m, IFLA_INFO_KIND, "veth");
  sl_nlmsg_nest_begin(&m, IFLA_INFO_DATA);
  sl_nlmsg_nest_begin(&m, VETH_INFO_PEER); /* the peer: its own ifinfomsg, then its attributes */
  sl_nlmsg_put(&m, &ifi, sizeof ifi);
  sl_nlmsg_attr_str(&m, IFLA_IFNAME, peer_if);
  sl_nlmsg_attr_u32(&m, IFLA_NET_NS_PID, (uint32_t)peer_netns_pid);
  sl_nlmsg_nest_end(&m);
  sl_nlmsg_nest_end(&m);
  sl_nlmsg_nest_end(&m);
  return send_req(fd, &m);
}

int sl_rtnl_link_del(int fd, const char *ifname) {
  if (!name_ok(ifname)) return -EINVAL;
  uint32_t buf[REQ_MAX / 4];
  sl_nlmsg_t m;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  sl_nlmsg_init(&m, buf, sizeof buf, RTM_DELLINK, 0);
  sl_nlmsg_put(&m, &ifi, sizeof ifi);
  sl_nlmsg_attr_str(&m, IFLA_IFNAME, ifname);
  int rc = send_req(fd, &m);
  return rc == -ENODEV ? 0 : rc;
}

int sl_rtnl_addr4_add(int fd, const char *ifname, uint32_t addr, unsigned prefix) {
  unsigned idx = name_ok(ifname) ? if_nametoindex(ifname) : 0;
  if (!idx) return name_ok(ifname) ? -ENODEV : -EINVAL;
  if (prefix > 32) return -EINVAL;
  uint32_t buf[REQ_MAX / 4], a = htonl(addr);
  sl_nlmsg_t m;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
                          .ifa_flags = IFA_F_PERMANENT, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = idx};
  sl_nlmsg_init(&m, buf, sizeof buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  sl_nlmsg_put(&m, &ifa, sizeof ifa);
  sl_nlmsg_attr(&m, IFA_LOCAL, &a, sizeof a);
  sl_nlmsg_attr(&m, IFA_ADDRESS, &a, sizeof a);
  return send_req(fd, &m);
}

int sl_rtnl_link_up(int fd, const char *ifname) {
  if (!name_ok(ifname)) return -EINVAL;
  uint32_t buf[REQ_MAX / 4];
  sl_nlmsg_t m;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  sl_nlmsg_init(&m, buf, sizeof buf, RTM_NEWLINK, 0);
  sl_nlmsg_put(&m, &ifi, sizeof ifi);
  sl_nlmsg_attr_str(&m, IFLA_IFNAME, ifname);
  return send_req(fd, &m);
}
