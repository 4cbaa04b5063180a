/* flow.h — the gateway's back-pressure leases (ops.h sluice_flow): while any lease is live the runner
 * stops reading its targets' output pipes. A lease lapses after SL_OP_FLOW_LEASE_MS unless renewed, so
 * a lost resume cannot wedge the sandbox. Plain value type, no ownership. */
#ifndef SLUICE_RUNNER_FLOW_H
#define SLUICE_RUNNER_FLOW_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sluice/ops.h"

typedef struct {
  char id[SL_OP_MAX_FLOWS][40];
  int64_t until[SL_OP_MAX_FLOWS]; /* 0: free slot */
} sl_flow_t;

static inline void sl_flow_set(sl_flow_t *f, const char *id, int paused, int64_t now) {
  int slot = -1;
  for (int i = 0; i < SL_OP_MAX_FLOWS; i++) {
    if (f->until[i] && f->until[i] <= now) f->until[i] = 0; /* lapsed */
    if (f->until[i] && !strncmp(f->id[i], id, sizeof f->id[i] - 1)) slot = i;
  }
  if (!paused) {
    if (slot >= 0) f->until[slot] = 0;
    return;
  }
  for (int i = 0; slot < 0 && i < SL_OP_MAX_FLOWS; i++)
    if (!f->until[i]) slot = i;
  if (slot < 0) return; /* table full: ignored, the stream's own cap still bounds the gateway */
  snprintf(f->id[slot], sizeof f->id[slot], "%s", id);
  f->until[slot] = now + SL_OP_FLOW_LEASE_MS;
}

/* The earliest live lease's end (0 when none is live). */
static inline int64_t sl_flow_paused_until(const sl_flow_t *f, int64_t now) {
  int64_t t = 0;
  for (int i = 0; i < SL_OP_MAX_FLOWS; i++)
    if (f->until[i] > now && (!t || f->until[i] < t)) t = f->until[i];
  return t;
}

#endif
