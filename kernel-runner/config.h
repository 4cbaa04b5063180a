/* config.h — what one runner needs to know: its command line, the gateway's sandbox.json, the image's
 * image.json, the HMAC key. Loaded once at start; read-only afterwards.
 *
 * Ownership: the string fields named "borrowed" point into argv; every json_t and the key are owned by
 * the config and released by sl_config_free. Accessors return borrowed pointers.
 */
#ifndef SLUICE_RUNNER_CONFIG_H
#define SLUICE_RUNNER_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

#define SL_CFG_MAX_JSON   (1u << 20)   /* sandbox.json / image.json */
#define SL_CFG_MAX_KEY    4096
#define SL_UID_RANGE      65536u
#define SL_DRIVERS_MOUNT  "/opt/sluice/drivers"

typedef struct {
  const char *state_dir;          /* borrowed (argv) */
  const char *id;                 /* borrowed (argv) */
  const char *images_dir;         /* borrowed (argv) */
  char drivers_dir[PATH_MAX];     /* realpath of --drivers-dir */
  char sbx_dir[PATH_MAX];         /* STATE/sandboxes/ID */
  char endpoint[PATH_MAX + 16];   /* ipc://STATE/run/gateway.zmq */
  json_t *sandbox;                /* owned: sandbox.json */
  json_t *image;                  /* owned: image.json */
  json_t *env;                    /* owned: image env overlaid with the sandbox's env (object of strings) */
  unsigned char *key;             /* owned */
  size_t keylen;
  char hostname[65];
  const char *workdir;            /* borrowed from sandbox/image json */
  const char *workspace;          /* sandbox.json "workspace_path": the gateway's mounted workspace (host path), or NULL */
  unsigned long uid_base;
  uid_t uid;                      /* who runs user code inside: 0 (root of the user namespace, mapped to
                                     uid_base) unless pod_non_root/container_non_root ask for the image's
                                     user (65532) */
  gid_t gid;
  sl_limits_t limits;             /* sandbox.json "limits" (validated by the gateway, parsed again here) */
  uint64_t caps;                  /* capabilities user code keeps: cap_add minus cap_drop (default none) */
} sl_config_t;

/* Parses the command line (argv stays alive) and loads the files. On error returns -errno/-EINVAL with a
 * reason in err. */
int sl_config_load(sl_config_t *c, int argc, char **argv, char *err, size_t errlen);
void sl_config_free(sl_config_t *c);

/* Borrowed views into the image. */
json_t *sl_config_rootfs(const sl_config_t *c);            /* image.rootfs object (may be NULL) */
json_t *sl_config_language_argv(const sl_config_t *c, const char *lang); /* array or NULL */
json_t *sl_config_shell_argv(const sl_config_t *c);        /* array or NULL */

/* A new json array of "K=V" strings: the config env, overlaid with extra (borrowed object, may be NULL). */
json_t *sl_config_envp(const sl_config_t *c, json_t *extra);

#endif
