/* pool.h — the warm pool: per image (config "pool": {"IMAGE": N}), N sandboxes built and warmed in the
 * background (the runner is up and the default context ran one trivial cell, so the interpreter and
 * IPython are imported), hidden until a create claims one.
 *
 * A pool member is an ordinary sandbox whose record says "pool_idle": true (and "pool_warm": true once
 * warmed); registry.c/lifecycle.c set sb->hidden from it, so it is not listed, not addressable, not
 * culled and not part of delete-all. A create whose request differs from a bare {"image": IMAGE} only in
 * name, namespace, metadata, timeout or ttl_seconds claims a warm member: those fields are written into
 * its record (created_at = now, "pooled": true, atomically persisted) and it becomes visible under its own
 * id. Its hostname stays the pool's sb-<first 8 chars of the id> (the runner set it at build time).
 * The pool refills one build at a time, never more than the configured size per image.
 *
 * Gateway restart: members survive like other sandboxes (the flags are in the record); an adopted member
 * that was not warm yet, or beyond the configured size, is deleted; the pool then refills.
 *
 * Ownership: nothing is owned; sandboxes are borrowed from the registry for the length of a call.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <jansson.h>

#include "registry.h"

#define POOL_TICK_MS 1000         /* housekeeping pass: dead members out, refill started */
#define POOL_WARM_TIMEOUT_MS 60000
#define POOL_RETRY_MS 5000        /* after a failed build */
#define POOL_REFILL_DELAY_MS 250  /* a claim's refill waits this long: building competes for the CPU */

/* After lc_adopt_all; a no-op without a configured pool. */
void pool_start(void);
void pool_stop(void);
/* A warm member matching the validated create record req (not stolen), now claimed and visible; NULL when
 * the request does not fit the pool or no member is ready (the caller goes the cold path). */
gw_sandbox_t *pool_claim(const json_t *req);
/* {"IMAGE": {"size", "ready", "building"}} for GET /api/v1/status; NULL without a pool. */
json_t *pool_status(void);

#endif
