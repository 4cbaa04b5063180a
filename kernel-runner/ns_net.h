/* ns_net.h — the sandbox's network and UTS namespaces, child side: loopback up, hostname set.
 * Egress (veth, NAT, allow lists on the host side) comes later as the parent-side half of this file.
 * No pointers are kept.
 */
#ifndef SLUICE_RUNNER_NS_NET_H
#define SLUICE_RUNNER_NS_NET_H

int sl_ns_net_init_child(void);
int sl_ns_uts_init_child(const char *hostname);

#endif
