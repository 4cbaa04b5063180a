/* net_nft.c — the sandbox's host-side nftables table (net.h).
 *
 * One table per sandbox ("inet sluice_N"): a prerouting filter at priority -300 (before conntrack, DNAT
 * and routing, so the sandbox's destination is judged as it asked for it) that only looks at packets
 * entering from the sandbox's host end, and a postrouting masquerade. The filter is stateless on purpose:
 * "ct state established accept" would let a connection opened during before_script (open egress) live on
 * after the policy narrows; judging every packet by its destination ends it.
 *
 * Order of the filter, for packets from the sandbox:
 *   not IPv4 → drop (the sandbox has no IPv6; no link-local way to the host)
 *   source not the sandbox's address → drop (root in the sandbox may hold CAP_NET_ADMIN in its netns)
 *   a local/broadcast/multicast address of the host (fib) → drop: the gateway and anything else
 *     listening on the host, whatever its address, are never reachable, whitelisted or not
 *   169.254.169.254 (cloud metadata) → drop, whitelisted or not
 *   allow set (the whitelist) → accept
 *   always-deny set (isolation.md: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16,
 *     multicast and reserved) → drop
 *   the rest → accept (open egress) or drop (whitelist)
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rutil.h"
#include "sluice/egress.h"

static const char DENY4[] = "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "
                            "192.168.0.0/16, 224.0.0.0/4, 240.0.0.0/4";

typedef struct {
  uint32_t lo, hi;
} range_t;

static int range_cmp(const void *a, const void *b) {
  const range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const char *ip4(uint32_t a, char *buf) {
  struct in_addr in = {htonl(a)};
  return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* The whitelist as sorted, merged ranges: an interval set refuses overlapping elements. */
static size_t allow_ranges(const sl_config_t *cfg, range_t *r, size_t max) {
  json_t *list = cfg ? json_object_get(cfg->sandbox, "egress_whitelist") : NULL;
  size_t n = 0, i;
  json_t *v;
  json_array_foreach(list, i, v) {
    uint32_t net;
    unsigned prefix;
    if (n == max || sl_api_cidr4_parse(json_string_value(v), &net, &prefix) < 0) continue; /* gateway validated */
    r[n].lo = net;
    r[n].hi = net | (prefix ? ~(~0u << (32 - prefix)) : ~0u);
    n++;
  }
  if (!n) return 0;
  qsort(r, n, sizeof *r, range_cmp);
  size_t m = 0;
  for (i = 1; i < n; i++) {
    if (r[m].hi == UINT32_MAX || r[i].lo <= r[m].hi + 1) {
      if (r[i].hi > r[m].hi) r[m].hi = r[i].hi;
    } else {
      r[++m] = r[i];
    }
  }
  return m + 1;
}

#define PUT(...)                                                    \
  do {                                                              \
    int k_ = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
    if (k_ < 0) return -EINVAL;                                     \
    off += (size_t)k_;                                              \
  } while (0)

int sl_net_nft_ruleset(const sl_net_t *n, const sl_config_t *cfg, int open, char *buf, size_t len) {
  size_t off = 0;
  char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
  int list = !open && n->mode == SL_NET_LIST;
  /* create-if-missing, delete, re-add: one transaction, so the swap is atomic and works on a fresh slot */
  PUT("table inet %s {}\ndelete table inet %s\ntable inet %s {\n", n->table, n->table, n->table);
  PUT("  set deny4 { type ipv4_addr; flags interval; elements = { %s } }\n", DENY4);
  if (list) {
    range_t *r = calloc(SL_API_MAX_EGRESS, sizeof *r);
    if (!r) return -ENOMEM;
    size_t nr = allow_ranges(cfg, r, SL_API_MAX_EGRESS);
    PUT("  set allow4 { type ipv4_addr; flags interval;");
    for (size_t i = 0; i < nr; i++) PUT("%s %s-%s", i ? "," : " elements = {", ip4(r[i].lo, a), ip4(r[i].hi, b));
    PUT("%s }\n", nr ? " }" : "");
    free(r);
  }
  PUT("  chain egress {\n    type filter hook prerouting priority -300; policy accept;\n");
  PUT("    iifname != \"%s\" accept\n", n->host_if);
  PUT("    meta nfproto != ipv4 drop\n");
  PUT("    ip saddr != %s drop\n", ip4(n->sb_ip, a));
  PUT("    fib daddr type { local, broadcast, multicast } drop\n");
  PUT("    ip daddr 169.254.169.254 drop\n");
  if (list) PUT("    ip daddr @allow4 accept\n");
  PUT("    ip daddr @deny4 drop\n");
  PUT("    %s\n  }\n", list ? "drop" : "accept");
  PUT("  chain nat {\n    type nat hook postrouting priority 100; policy accept;\n");
  PUT("    ip saddr %s oifname != \"%s\" masquerade\n  }\n}\n", ip4(n->sb_ip, a), n->host_if);
  return off < len ? (int)off : -ENOSPC;
}

int sl_net_nft_apply(const sl_net_t *n, const sl_config_t *cfg, int open, char *err, size_t errlen) {
  size_t len = 4096 + (size_t)SL_API_MAX_EGRESS * 40;
  char *buf = malloc(len), out[512];
  if (!buf) return -ENOMEM;
  int rc = sl_net_nft_ruleset(n, cfg, open, buf, len);
  if (rc >= 0) {
    const char *argv[] = {SL_NET_NFT_BIN, "-f", "-", NULL};
    rc = sl_net_run(argv, buf, out, sizeof out);
    if (rc < 0) snprintf(err, errlen, "egress: nft: %s", out[0] ? out : strerror(-rc));
  } else {
    snprintf(err, errlen, "egress: nft ruleset: %s", strerror(-rc));
  }
  free(buf);
  return rc;
}

int sl_net_nft_delete(const sl_net_t *n) {
  char buf[128], out[256];
  snprintf(buf, sizeof buf, "table inet %s {}\ndelete table inet %s\n", n->table, n->table);
  const char *argv[] = {SL_NET_NFT_BIN, "-f", "-", NULL};
  int rc = sl_net_run(argv, buf, out, sizeof out);
  if (rc < 0) RLOG("nft delete table %s: %s", n->table, out);
  return rc;
}
