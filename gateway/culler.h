/* culler.h — sandbox lifetimes: the inactivity timeout (record "timeout", seconds since the last
 * request that touched the sandbox) and the hard lifetime ("ttl_seconds" from created_at).
 *
 * One lws_sul timer for all sandboxes, armed at the earliest deadline: a touch only moves a deadline
 * later, so it costs a store and never a timer operation; when the timer fires, one pass over the
 * registry deletes what is due (lc_delete, the path of DELETE) and re-arms at the next deadline. A sandbox
 * with requests in flight (zb_pending_for) is not idle. The last activity lives in the record
 * ("last_active_ms", wall clock) and is persisted at most every CULLER_PERSIST_FRACTION of its timeout
 * (and on culler_stop), so it survives a restart; culler_start culls what is overdue then.
 *
 * Ownership: sandboxes are borrowed from the registry for the length of each call; nothing is kept but
 * the timer.
 */
#ifndef GW_CULLER_H
#define GW_CULLER_H

#include <stdint.h>

#include "registry.h"

#define CULLER_PERSIST_FRACTION 10   /* persist the activity time after timeout/10 of drift */
#define CULLER_PERSIST_MAX_MS 30000  /* ... and at least every 30 s of activity */
#define CULLER_MIN_REARM_MS 50       /* passes are at least this far apart */
#define CULLER_MAX_PER_PASS 256      /* deletes started per pass; the rest in the next one */

/* After lc_adopt_all: deletes overdue sandboxes (whatever their state) and arms the timer. */
void culler_start(void);
/* At shutdown, before the lws context goes: persists unsaved activity times, cancels the timer. */
void culler_stop(void);
/* A request touched sb (NULL ignored): it is active now. */
void culler_touch(gw_sandbox_t *sb);
void culler_touch_id(const char *sandbox_id);
/* Sets sb's inactivity timeout (seconds, already validated), counts as activity, persists. */
int culler_set_timeout(gw_sandbox_t *sb, uint32_t timeout_s);
/* Wall-clock milliseconds. */
int64_t culler_now_ms(void);

#endif
