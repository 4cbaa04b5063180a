/* net_cleanup.h — removes what a dead runner left of a sandbox's egress (kernel-runner/net.h), as listed
 * in STATE/sandboxes/ID/net: a whitelisted sandbox's own nft table "inet sluice_N" (an open-egress
 * sandbox has none: the host-wide table "inet sluice" is shared and stays) and the host end "sloN"/"slvN"
 * of its veth (the pair normally dies with the netns; deleting it is for a runner that died mid-setup).
 *
 * The slot N is host-wide and held by an flock on /run/sluice/net/N.lock while a runner lives. Cleanup
 * takes that lock (non-blocking) first: when another runner already holds it, the slot is in use again
 * and that runner has replaced the leftovers itself, so nothing is touched.
 * Ownership: no allocations escape. Runs ip(8)/nft(8) synchronously, each bounded by a timeout. */
#ifndef GW_NET_CLEANUP_H
#define GW_NET_CLEANUP_H

/* 0 when nothing is left (or no record), -EBUSY when deletion failed, other negative errno on error. */
int net_cleanup(const char *record_path);

#endif
