/* lifecycle.h — runners: spawn (detached double fork), watch (pidfd in the loop), hello, shutdown,
 * cleanup after delete or death, and adoption of live runners when the gateway restarts.
 *
 * Ownership: rec passed to lc_create is STOLEN. ctx pointers are borrowed and must stay valid until
 * their callback ran (callers pass a gw_call_t). Every started operation calls its callback exactly
 * once, never from inside the starting call.
 */
#ifndef GW_LIFECYCLE_H
#define GW_LIFECYCLE_H

#include <jansson.h>

#include "registry.h"

#define LC_SHUTDOWN_WAIT_MS 5000
#define LC_KILL_WAIT_MS 3000
#define LC_CGROUP_RETRY_MS 50
#define LC_CGROUP_TRIES 200
#define LC_MAX_DELETE_WAITERS 16

/* sb is NULL on failure, with err. */
typedef void (*lc_create_cb)(void *ctx, gw_sandbox_t *sb, const char *err);
/* err NULL on success. */
typedef void (*lc_delete_cb)(void *ctx, const char *name, const char *err);

/* Registers a sandbox from a validated create request (sl_api_parse_create output, name filled in),
 * persists it and starts its runner. Returns 0 (cb follows once hello(ready) arrives, or on failure)
 * or a negative errno (no callback). */
int lc_create(json_t *rec, lc_create_cb cb, void *ctx);
/* Shuts the runner down, cleans up and forgets the sandbox; cb when done. */
int lc_delete(gw_sandbox_t *sb, lc_delete_cb cb, void *ctx);
/* A runner said hello. */
void lc_on_hello(const char *sandbox_id, const json_t *content);
/* At start: registers every STATE/sandboxes/<id>/sandbox.json, adopting live runners. */
int lc_adopt_all(void);
/* The runner executable next to /proc/self/exe. */
int lc_runner_path(char *out, size_t len);

#endif
