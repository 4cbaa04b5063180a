/* envfile.h — the create body's env_file: a path on the gateway host read at create time (Katakate's
 * "inject as Secret"); its KEY=VALUE lines join the record's env, which the runner gives every process
 * in the sandbox. The gateway's own environment and API keys never do.
 *
 * Ownership: rec is borrowed and modified in place (its "env" object gains keys).
 */
#ifndef SLUICE_GW_ENVFILE_H
#define SLUICE_GW_ENVFILE_H

#include <jansson.h>

#include "sluice/api.h"

/* 0 when rec has no env_file or it was merged; -1 with err (400) when it cannot be read or parsed. */
int gw_envfile_apply(json_t *rec, sl_api_err_t *err);

#endif
