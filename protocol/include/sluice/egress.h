/* egress.h — the create body's egress_whitelist (api_egress.c), shared by the gateway (validation, 400)
 * and the runner (its host-side nftables allow set). No I/O, no allocation; every pointer is borrowed.
 *
 * Entries are "a.b.c.d/n" or "a.b.c.d" (/32), IPv4 only (sandboxes have no IPv6). Absent or null means
 * open egress, [] none (loopback only, no DNS), a list only those destinations. */
#ifndef SLUICE_EGRESS_H
#define SLUICE_EGRESS_H

#include <jansson.h>
#include <stdint.h>

#include "sluice/api.h"

#define SL_API_MAX_EGRESS 1024u

/* Stores the network (host order, host bits cleared) and prefix. 0, or -1 when s is not a CIDR. */
int sl_api_cidr4_parse(const char *s, uint32_t *net, unsigned *prefix);
/* Checks a create record's (borrowed) egress_whitelist: 0, or -1 with err 400 "invalid_egress". */
int sl_api_validate_egress(json_t *rec, sl_api_err_t *err);

#endif
