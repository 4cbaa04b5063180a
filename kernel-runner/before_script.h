/* before_script.h — the create body's before_script: `/bin/sh -c SCRIPT` (the image's shell) inside the
 * sandbox, as the user code's user, with the sandbox's env and cwd, stdin /dev/null, stdout+stderr
 * captured. It runs while egress is still open (net.h); the caller applies the real policy afterwards.
 * A non-zero exit, a signal or the time bound fails the create with the output's tail in err.
 *
 * Ownership: sb and cfg are borrowed; nothing is kept. Processes the script left in the background stay
 * (as in a pod's init step); they are bound by the sandbox's limits and its policy from then on.
 */
#ifndef SLUICE_RUNNER_BEFORE_SCRIPT_H
#define SLUICE_RUNNER_BEFORE_SCRIPT_H

#include <stddef.h>

#include "config.h"
#include "sandbox.h"

/* The gateway's create timeout (30 s by default, create_timeout_s) normally ends a long script first
 * (it kills the runner); this bound holds when it is configured longer. */
#define SL_BEFORE_SCRIPT_TIMEOUT_MS (600 * 1000)

/* 0 when there is no script or it exited 0; else -errno with the reason and output tail in err. */
int sl_before_script_run(sl_sandbox_t *sb, const sl_config_t *cfg, char *err, size_t errlen);

#endif
