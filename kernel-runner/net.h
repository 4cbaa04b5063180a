/* net.h — the sandbox's egress, host side (net_veth.c, net_nft.c) plus the one child-side step that
 * configures the sandbox's end of the veth.
 *
 * Modes (sandbox.json "egress_whitelist"): absent/null → OPEN; [] → NONE (loopback only, no veth unless a
 * before_script needs one for its duration); [CIDRs] → LIST. OPEN and LIST get a veth pair: the host end
 * (10.200.0.0/16, /30 number N: host .1, sandbox .2) stays in the host netns, the peer is created directly
 * inside the sandbox's netns as eth0 before the child is released. Links and addresses are made over
 * rtnetlink (rtnl.c), not by exec'ing ip(8). Every packet the sandbox sends is judged on the host by
 * nftables (prerouting, before conntrack and routing), which also masquerades it; the sandbox's own
 * namespace holds no rules it could change. Two kinds of table (net_nft.c has the rules):
 *   - OPEN (and NONE during its before_script): host end "sloN", judged by ONE host-wide table
 *     "inet sluice" whose rules match iifname "slo*" only. It is the same for every open sandbox, so it is
 *     installed once per host (boot, or after someone flushed the ruleset) by the first runner that finds
 *     it missing or outdated — checked with one nfnetlink request per create, installed with nft(8) under
 *     the flock /run/sluice/net/shared.lock — and never removed. The default create path execs nothing.
 *   - LIST: host end "slvN", its own table "inet sluice_N" (nft(8), the rare path) matching "slvN" only.
 *     The shared table never sees "slv*" packets, so it cannot drop what a whitelist allows; a per-sandbox
 *     table never sees "slo*" packets.
 *
 * N is a host-wide slot held by an flock on /run/sluice/net/N.lock for the runner's life, so gateways
 * with different state dirs never collide, and leftovers of a dead runner are recognisably stale. What was
 * created is recorded in STATE/sandboxes/ID/net BEFORE it is created ("slot N", "veth NAME" and, for
 * LIST, "nft sluice_N"), for the gateway to delete after a runner killed with SIGKILL
 * (gateway/net_cleanup.c); the veth itself dies with the netns.
 *
 * Ownership: sl_net_t is the caller's value (inside sl_sandbox_t); it owns lock_fd (closed by destroy).
 * cfg is borrowed. No pointer is kept.
 */
#ifndef SLUICE_RUNNER_NET_H
#define SLUICE_RUNNER_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define SL_NET_POOL      0x0AC80000u /* 10.200.0.0/16 */
#define SL_NET_SLOTS     16384u      /* /30 each */
#define SL_NET_LOCK_DIR  "/run/sluice/net"
#define SL_NET_IP_BIN    "/usr/sbin/ip"
#define SL_NET_NFT_BIN   "/usr/sbin/nft"
#define SL_NET_EXEC_TIMEOUT_MS 10000
#define SL_NET_SHARED_TABLE "sluice"
#define SL_NET_SHARED_LOCK  SL_NET_LOCK_DIR "/shared.lock"
/* the shared table's comment: a runner that finds another (an older ruleset) replaces the table */
#define SL_NET_SHARED_VERSION "sluice open egress v1"
#define SL_NET_OPEN_PREFIX "slo" /* host ends judged by the shared table */
#define SL_NET_LIST_PREFIX "slv" /* host ends with a table of their own */

typedef enum { SL_NET_NONE = 0, SL_NET_OPEN, SL_NET_LIST } sl_net_mode_t;

typedef struct {
  sl_net_mode_t mode;
  int want_veth;        /* mode != NONE, or a before_script runs with open egress first */
  int slot;             /* -1 until allocated */
  int lock_fd;          /* the flock on the slot, -1 when none */
  int veth_made;        /* the pair (may) exist */
  int own_table;        /* LIST: a table "sluice_N" of its own; else the shared table */
  int script;           /* a before_script runs (with open egress) before the policy */
  int table_made;       /* the own table (may) exist */
  uint32_t host_ip, sb_ip; /* host order */
  char host_if[16];     /* "sloN" or "slvN" */
  char table[24];       /* "sluice_N" when own_table, else "" */
} sl_net_t;

/* net_veth.c — parent side. plan: mode from cfg, slot + record file + ip_forward when a veth is wanted.
 * setup: the table first (shared: ensured; own: the open one during a before_script, else the final
 * one), then the pair with its peer in pid's netns, host end addressed and up (rtnetlink).
 * apply_policy: after before_script, the final own table (or no veth at all for NONE). destroy: own
 * table and pair gone, slot released; safe on a zeroed/planned/half-built value. All return 0 or
 * -errno + err. */
void sl_net_init(sl_net_t *n);
int sl_net_plan(sl_net_t *n, const sl_config_t *cfg, char *err, size_t errlen);
int sl_net_setup_parent(sl_net_t *n, const sl_config_t *cfg, pid_t child, char *err, size_t errlen);
int sl_net_apply_policy(sl_net_t *n, const sl_config_t *cfg, char *err, size_t errlen);
void sl_net_destroy(sl_net_t *n);
/* Child side, in the sandbox's netns as its root: eth0 addressed, up, default route via the host end. */
int sl_net_init_child(const sl_net_t *n);

/* Runs a host binary (absolute path) with input on stdin, bounded by SL_NET_EXEC_TIMEOUT_MS; its
 * stderr/stdout tail lands in out. 0 when it exited 0, else -EIO (or -errno). */
int sl_net_run(const char *const argv[], const char *input, char *out, size_t outlen);

/* net_nft.c — the table's text. open = initial (before_script) table; otherwise per n->mode and the
 * list in cfg. Writes into buf; returns the length or -ENOSPC. Replacing is atomic (one nft transaction
 * that creates, deletes and re-adds the table). */
int sl_net_nft_ruleset(const sl_net_t *n, const sl_config_t *cfg, int open, char *buf, size_t len);
int sl_net_nft_apply(const sl_net_t *n, const sl_config_t *cfg, int open, char *err, size_t errlen);
int sl_net_nft_delete(const sl_net_t *n);
/* The shared table's text (replaces any older one atomically). Returns the length or -ENOSPC. */
int sl_net_shared_ruleset(char *buf, size_t len);
/* Makes sure the shared table exists with SL_NET_SHARED_VERSION: one nfnetlink GETTABLE when it does;
 * otherwise, under SL_NET_SHARED_LOCK, installs it with nft and checks again. 0 or -errno + err. */
int sl_net_shared_ensure(char *err, size_t errlen);

#endif
