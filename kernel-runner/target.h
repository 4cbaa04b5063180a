/* target.h — what an execution target (the shell, the Python driver) needs from the runner.
 * Ownership: every pointer is borrowed from the runner and outlives the target. */
#ifndef SLUICE_RUNNER_TARGET_H
#define SLUICE_RUNNER_TARGET_H

#include "config.h"
#include "link.h"
#include "sandbox.h"

#define SL_TARGET_MAX_POLLFDS 5

typedef struct {
  sl_sandbox_t *sb;
  const sl_config_t *cfg;
  sl_link_t *link;
  sl_exited_cb on_exited;   /* passed to spawn, so exits seen while waiting are not lost */
  void *ud;
} sl_target_env_t;

#endif
