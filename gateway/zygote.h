/* zygote.h — the gateway's zygotes: one sluice-zygote (kernel-runner/zygote/main.c) per image whose
 * image.json has a "zygote" object, started at startup when the "zygote" setting is on (default), kept
 * running (restarted at most every ZYGOTE_RESTART_MS after it exits), killed at shutdown. Runners find
 * it at STATE/run/zygote-IMAGE.sock, which the zygote itself creates once its modules are imported;
 * without it they start drivers cold (protocol/docs/zygote.md).
 *
 * Ownership: everything is module-private; zygote_status returns a new object.
 */
#ifndef GW_ZYGOTE_H
#define GW_ZYGOTE_H

#include <jansson.h>

#define ZYGOTE_MAX_IMAGES 8
#define ZYGOTE_TICK_MS 1000
#define ZYGOTE_RESTART_MS 5000

void zygote_start(void);
void zygote_stop(void);
/* {"IMAGE": {"state": "starting"|"ready"|"down", "pid": N, "starts": N}} for GET /api/v1/status; NULL
 * when no zygote is configured. */
json_t *zygote_status(void);

#endif
