/* net_nft.c — the host-side nftables tables (net.h): the shared one for open egress, and a whitelisted
 * sandbox's own.
 *
 * Both have the same shape: a prerouting filter at priority -300 (before conntrack, DNAT and routing, so
 * the sandbox's destination is judged as it asked for it) that only looks at packets entering from its
 * host ends (shared: iifname "slo*"; own: "slvN"), and a postrouting masquerade. The filter is stateless
 * on purpose: "ct state established accept" would let a connection opened during before_script (open
 * egress) live on after the policy narrows; judging every packet by its destination ends it.
 *
 * Order of the filter, for packets from the sandbox:
 *   not IPv4 → drop (the sandbox has no IPv6; no link-local way to the host)
 *   source not the sandbox's address → drop (root in the sandbox may hold CAP_NET_ADMIN in its netns).
 *     Own table: the address itself. Shared table: a .2 of 10.200.0.0/16 (the sandbox ends) whose route
 *     goes back out of the interface the packet came in by (fib saddr . iif: strict reverse path), which
 *     is the /30 of that host end only (its .1 is local: no route out), so exactly the sandbox's address
 *   a local/broadcast/multicast address of the host (fib) → drop: the gateway and anything else
 *     listening on the host, whatever its address, are never reachable, whitelisted or not
 *   169.254.169.254 (cloud metadata) → drop, whitelisted or not
 *   allow set (the whitelist) → accept
 *   always-deny set (isolation.md: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16,
 *     multicast and reserved) → drop
 *   the rest → accept (open egress) or drop (whitelist)
 * The shared table is created by nft(8) once per host and checked with one nfnetlink GETTABLE (nl.h) per
 * create: its comment is SL_NET_SHARED_VERSION.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
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

int sl_net_shared_ruleset(char *buf, size_t len) {
  size_t off = 0;
  const char *t = SL_NET_SHARED_TABLE, *o = SL_NET_OPEN_PREFIX "*";
  PUT("table inet %s {}\ndelete table inet %s\ntable inet %s {\n", t, t, t);
  PUT("  comment \"%s\"\n", SL_NET_SHARED_VERSION);
  PUT("  set deny4 { type ipv4_addr; flags interval; elements = { %s } }\n", DENY4);
  PUT("  chain egress {\n    type filter hook prerouting priority -300; policy accept;\n");
  PUT("    iifname != \"%s\" accept\n", o);
  PUT("    meta nfproto != ipv4 drop\n");
  PUT("    ip saddr & 255.255.0.3 != 10.200.0.2 drop\n"); /* SL_NET_POOL, host .1 / sandbox .2 */
  PUT("    fib saddr . iif oif missing drop\n");
  PUT("    fib daddr type { local, broadcast, multicast } drop\n");
  PUT("    ip daddr 169.254.169.254 drop\n");
  PUT("    ip daddr @deny4 drop\n");
  PUT("    accept\n  }\n");
  PUT("  chain nat {\n    type nat hook postrouting priority 100; policy accept;\n");
  PUT("    iifname \"%s\" oifname != \"%s\" masquerade\n  }\n}\n", o, o);
  return off < len ? (int)off : -ENOSPC;
}

typedef struct {
  int seen;
  char comment[64];
} table_info_t;

static int table_cb(void *ud, uint16_t type, const void *payload, size_t len) {
  table_info_t *ti = ud;
  if (type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE)) return 0;
  int rc = sl_nl_nft_table_comment(payload, len, ti->comment, sizeof ti->comment);
  if (rc < 0) return rc;
  ti->seen = 1;
  return 0;
}

/* 1: the shared table is there with our version; 0: missing or another version; -errno. */
static int shared_check(int fd) {
  uint32_t buf[64];
  sl_nlmsg_t m;
  struct nfgenmsg g = {.nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0, .res_id = 0};
  sl_nlmsg_init(&m, buf, sizeof buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0);
  sl_nlmsg_put(&m, &g, sizeof g);
  sl_nlmsg_attr_str(&m, NFTA_TABLE_NAME, SL_NET_SHARED_TABLE);
  int rc = sl_nlmsg_finish(&m);
  if (rc < 0) return rc;
  table_info_t ti = {0};
  rc = sl_nl_transact(fd, &m, table_cb, &ti, SL_NL_TIMEOUT_MS);
  if (rc == -ENOENT) return 0;
  if (rc < 0) return rc;
  return ti.seen && !strcmp(ti.comment, SL_NET_SHARED_VERSION);
}

static int lock_shared(void) {
  int fd = open(SL_NET_SHARED_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -errno;
  /* the holder runs one nft, itself bounded by SL_NET_EXEC_TIMEOUT_MS */
  int64_t deadline = sl_now_ms() + SL_NET_EXEC_TIMEOUT_MS + 2000;
  while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (sl_now_ms() > deadline) {
      close(fd);
      return -ETIMEDOUT;
    }
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
  }
  return fd;
}

int sl_net_shared_ensure(char *err, size_t errlen) {
  if (errlen) err[0] = 0;
  int nl = sl_nl_open(NETLINK_NETFILTER), lk = -1, rc;
  if (nl < 0) return snprintf(err, errlen, "egress: netfilter netlink: %s", strerror(-nl)), nl;
  /* the usual case: there, current. Anything else (missing, older, or the check failed, e.g. nf_tables
   * not loaded yet: nft loads it) goes the slow way, and only the check after installing decides. */
  if ((rc = shared_check(nl)) == 1) goto out;
  if ((rc = sl_mkdir_p(SL_NET_LOCK_DIR, 0700)) < 0 || (rc = lk = lock_shared()) < 0) {
    snprintf(err, errlen, "egress: lock %s: %s", SL_NET_SHARED_LOCK, strerror(-rc));
    goto out;
  }
  if ((rc = shared_check(nl)) == 1) goto out; /* another runner installed it while we waited */
  char buf[2048], out[512];
  if ((rc = sl_net_shared_ruleset(buf, sizeof buf)) < 0) {
    snprintf(err, errlen, "egress: shared ruleset: %s", strerror(-rc));
    goto out;
  }
  const char *argv[] = {SL_NET_NFT_BIN, "-f", "-", NULL};
  if ((rc = sl_net_run(argv, buf, out, sizeof out)) < 0) {
    snprintf(err, errlen, "egress: nft (shared table): %s", out[0] ? out : strerror(-rc));
    goto out;
  }
  RLOG("installed the shared egress table inet %s (%s)", SL_NET_SHARED_TABLE, SL_NET_SHARED_VERSION);
  rc = shared_check(nl);
  if (rc == 0) rc = -EPROTO; /* nft succeeded yet the table is not what we wrote */
out:
  if (rc < 0 && !err[0]) snprintf(err, errlen, "egress: shared table: %s", strerror(-rc));
  if (lk >= 0) close(lk);
  close(nl);
  return rc < 0 ? rc : 0;
}
