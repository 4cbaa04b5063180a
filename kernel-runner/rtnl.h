/* rtnl.h — the few rtnetlink operations the sandbox's veth needs (net_veth.c), sent directly to the
 * kernel on a NETLINK_ROUTE socket (nl.h) instead of exec'ing ip(8): a veth pair whose peer is created
 * inside another process's network namespace, deleting a link by name, an IPv4 address, link up.
 *
 * Each call is one request answered by the kernel's ACK or error: 0 or the kernel's -errno (or
 * -ETIMEDOUT after SL_NL_TIMEOUT_MS). fd is the caller's socket from sl_nl_open(NETLINK_ROUTE) in the
 * network namespace the names refer to; names are the caller's strings (< IFNAMSIZ). Nothing is kept.
 */
#ifndef SLUICE_RUNNER_RTNL_H
#define SLUICE_RUNNER_RTNL_H

#include <stdint.h>
#include <sys/types.h>

/* host_if here (down), its peer peer_if created directly in the network namespace of pid (down). */
int sl_rtnl_veth_add(int fd, const char *host_if, const char *peer_if, pid_t peer_netns_pid);
/* Deletes the link; 0 also when there is none (-ENODEV from the kernel). */
int sl_rtnl_link_del(int fd, const char *ifname);
/* addr/prefix (host order) on the link, as a permanent address of scope global. */
int sl_rtnl_addr4_add(int fd, const char *ifname, uint32_t addr, unsigned prefix);
/* Sets IFF_UP. */
int sl_rtnl_link_up(int fd, const char *ifname);

#endif
