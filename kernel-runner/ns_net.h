/* ns_net.h — the sandbox's network and UTS namespaces, child side: loopback up, hostname set.
 * Egress (veth, NAT, host-side allow lists) is net.h; its child-side step configures eth0 after this one.
 * No pointers are kept.
 */
#ifndef SLUICE_RUNNER_NS_NET_H
#define SLUICE_RUNNER_NS_NET_H

int sl_ns_net_init_child(void);
int sl_ns_uts_init_child(const char *hostname);

#endif
