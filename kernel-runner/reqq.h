/* reqq.h — a bounded FIFO of pending requests for one target (the shell, a Python context).
 * Ownership: the queue owns the messages it holds; push STEALS *msg, pop returns an owned message. */
#ifndef SLUICE_RUNNER_REQQ_H
#define SLUICE_RUNNER_REQQ_H

#include <stddef.h>

#include "sluice/msg.h"

#define SL_REQQ_MAX 64

typedef struct {
  sl_msg_t *items[SL_REQQ_MAX];
  size_t head, len;
} sl_reqq_t;

/* Returns 0, or -1 when full (the message stays with the caller). */
static inline int sl_reqq_push(sl_reqq_t *q, sl_msg_t **msg) {
  if (q->len == SL_REQQ_MAX) return -1;
  q->items[(q->head + q->len++) % SL_REQQ_MAX] = *msg;
  *msg = NULL;
  return 0;
}

static inline sl_msg_t *sl_reqq_pop(sl_reqq_t *q) {
  if (!q->len) return NULL;
  sl_msg_t *m = q->items[q->head];
  q->head = (q->head + 1) % SL_REQQ_MAX;
  q->len--;
  return m;
}

#endif
