/* registry.h — the sandboxes this gateway knows, in memory, each mirrored to
 * STATE/sandboxes/ID/sandbox.json (atomic replace on every change; nothing lives only in memory).
 *
 * Ownership: the registry owns every gw_sandbox_t (reg_remove frees it); lookups return borrowed
 * pointers valid until reg_remove. sb->rec is owned by the sandbox.
 */
#ifndef GW_REGISTRY_H
#define GW_REGISTRY_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "gateway.h"

#define GW_UID_BASE_START (1u << 20)
#define GW_UID_RANGE 65536u
#define GW_MAX_SLOTS 60000u

struct gw_lc;
typedef struct gw_sandbox {
  struct gw_sandbox *next;
  char id[37];
  json_t *rec;          /* the persisted record: id, name, namespace, image, status, ... */
  unsigned slot;
  pid_t runner_pid;     /* 0 when unknown / dead */
  gw_fdwatch_t *pidw;   /* pidfd watch (NULL when none); closed via gw_fdwatch_close */
  int connected;        /* hello(ready) seen on the runner's current connection */
  int runner_dead;
  int deleting;
  int hidden;           /* a failed create being cleaned up, or an unclaimed warm-pool member (pool.c,
                         * rec pool_idle): not listed, not addressable, not culled */
  struct gw_lc *lc;     /* lifecycle's private state (owned by lifecycle.c) */
  int64_t active_saved_ms; /* culler.c: the last_active_ms last persisted */
} gw_sandbox_t;

/* A new sandbox record around rec (stolen), added to the registry. NULL on ENOMEM. */
gw_sandbox_t *reg_add(const char *id, json_t *rec, unsigned slot);
void reg_remove(gw_sandbox_t *sb);
gw_sandbox_t *reg_first(void);
size_t reg_count(void);
gw_sandbox_t *reg_find_id(const char *id);
/* By id, else by name within ns (NULL ns = "default"). */
gw_sandbox_t *reg_lookup(const char *id_or_name, const char *ns);
gw_sandbox_t *reg_find_name(const char *name, const char *ns);
/* Lowest slot not used by any sandbox, or -ENOSPC. */
int reg_alloc_slot(void);

const char *reg_str(const gw_sandbox_t *sb, const char *key);
const char *reg_status(const gw_sandbox_t *sb);
/* Sets status (and error_message when err != NULL; cleared when running) and persists. */
int reg_set_status(gw_sandbox_t *sb, const char *status, const char *err);
/* Writes STATE/sandboxes/ID/sandbox.json atomically. */
int reg_persist(gw_sandbox_t *sb);
/* STATE/sandboxes/ID[/leaf] into out. */
void reg_path(const char *id, const char *leaf, char *out, size_t len);

#endif
