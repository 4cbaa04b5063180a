/* api_egress.c — the create body's egress_whitelist: IPv4 CIDR parsing shared by the gateway (400 on a bad
 * entry) and the runner (which turns the list into its host-side nftables set). No I/O, no allocation. */
#include "sluice/egress.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_api_cidr4_parse(const char *s, uint32_t *net, unsigned *prefix) {
  char addr[INET_ADDRSTRLEN];
  const char *slash = s ? strchr(s, '/') : NULL;
  size_t alen = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
  if (!s || alen == 0 || alen >= sizeof addr) return -1;
  memcpy(addr, s, alen);
  addr[alen] = 0;
  struct in_addr in;
  /* inet_pton takes only dotted quads with 4 decimal parts: no "10.1", no octal, no hex */
  if (inet_pton(AF_INET, addr, &in) != 1) return -1;
  unsigned p = 32;
  if (slash) {
    const char *d = slash + 1;
    if (!*d || strlen(d) > 2) return -1;
    for (const char *c = d; *c; c++)
      if (*c < '0' || *c > '9') return -1;
    p = (unsigned)atoi(d);
    if (p > 32) return -1;
  }
  uint32_t a = ntohl(in.s_addr), mask = p ? ~0u << (32 - p) : 0;
  /* host bits are dropped rather than refused: "10.0.0.5/24" means 10.0.0.0/24, as ip(8) reads it */
  *net = a & mask;
  *prefix = p;
  return 0;
}

int sl_api_validate_egress(json_t *rec, sl_api_err_t *err) {
  json_t *list = json_object_get(rec, "egress_whitelist");
  if (!list) return 0; /* absent (or null, dropped by the parser): open egress */
  if (!json_is_array(list)) return sl_api_fail(err, 400, "invalid_egress", "'egress_whitelist' must be an array of CIDRs");
  if (json_array_size(list) > SL_API_MAX_EGRESS)
    return sl_api_fail(err, 400, "invalid_egress", "'egress_whitelist' has more than %u entries", SL_API_MAX_EGRESS);
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    uint32_t net;
    unsigned prefix;
    const char *s = json_string_value(v);
    if (s && strchr(s, ':'))
      return sl_api_fail(err, 400, "invalid_egress", "egress_whitelist: IPv6 is not supported ('%.64s'); sandboxes have IPv4 only", s);
    if (sl_api_cidr4_parse(s, &net, &prefix) < 0)
      return sl_api_fail(err, 400, "invalid_egress", "egress_whitelist: '%.64s' is not an IPv4 CIDR (a.b.c.d/n)", s ? s : "");
  }
  return 0;
}
