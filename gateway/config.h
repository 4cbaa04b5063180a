/* config.h — the gateway's settings: defaults, config file (JSON), environment, command line; the state
 * directory's layout and its HMAC secret.
 *
 * Ownership: gw_config_t owns every string in it (gw_config_free releases them). Paths returned by
 * gw_state_path are written into caller buffers.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define GW_DEFAULT_LISTEN "127.0.0.1:7700"
#define GW_DEFAULT_MAX_BODY (16u << 20)
#define GW_DEFAULT_MAX_SANDBOXES 64
#define GW_DEFAULT_CREATE_TIMEOUT_S 30
#define GW_DEFAULT_MAX_TIMEOUT_S 86400
#define GW_SECRET_HEX 64
#define GW_MAX_POOL_IMAGES 8
#define GW_MAX_POOL_SIZE 16
#define GW_DEFAULT_PACKAGE_TIMEOUT_S 120
#define GW_DEFAULT_MAX_EXECUTIONS 256
#define GW_DEFAULT_SHUTDOWN_GRACE_S 20

typedef struct {
  char *listen_host;      /* "127.0.0.1" */
  int listen_port;        /* 0 = ephemeral */
  char *state_dir;
  char *images_dir;
  char *drivers_dir;
  size_t max_body_bytes;
  unsigned max_sandboxes;
  unsigned create_timeout_s;
  unsigned max_timeout_s; /* bound of a sandbox's timeout and ttl_seconds (culler.c) */
  int jupyter_open_channels; /* kernels made by POST /api/kernels take unauthenticated websockets (jupyter_ws.c) */
  struct {
    char image[64];
    unsigned size;
  } pool[GW_MAX_POOL_IMAGES]; /* "pool": {"IMAGE": N}: warm sandboxes kept per image (pool.c); none by default */
  unsigned n_pool;
  int zygote;                     /* start sluice-zygote for every image with a "zygote" object (zygote.c) */
  char *package_index_python;     /* "package_index": {"python": URL, "javascript": URL}; NULL = pip/npm default */
  char *package_index_javascript;
  unsigned package_timeout_s;     /* bound of one package install (handlers_packages.c) */
  unsigned default_timeout_s;     /* a sandbox's inactivity timeout when the create names none */
  unsigned max_sandboxes_per_namespace; /* 0 = only max_sandboxes */
  unsigned max_executions;        /* code/exec/run requests in flight gateway-wide; 0 = unbounded */
  uint64_t workspace_size;        /* bytes of a new workspace's disk image (its cap; workspaces.c) */
  char *workspace_mount_dir;      /* where workspaces are mounted while in use (workspaces.h) */
  unsigned shutdown_grace_s;      /* SIGTERM: how long in-flight requests may take */
  int stop_sandboxes;             /* SIGTERM deletes every sandbox instead of leaving runners running */
  int log_requests;               /* one JSON line per request (log.c) */
  char *log_file;                 /* JSON log lines go here (appended); NULL = stderr */
} gw_config_t;

/* settings.c: defaults, then the config file (--config or $SLUICE_CONFIG; TOML when it ends in .toml,
 * else JSON), then SLUICE_<SETTING> environment variables, then --<setting> flags of argv (serve's
 * arguments, argv[0] = "serve"). Returns 0, 1 when --help was asked (usage printed), or a negative errno
 * with a message on stderr. */
int gw_config_load(gw_config_t *cfg, int argc, char **argv);
void gw_config_free(gw_config_t *cfg);
/* The effective settings as a new JSON object (no secrets: there are none in the config). */
json_t *gw_config_view(const gw_config_t *cfg);

/* The default state dir ($SLUICE_STATE_DIR, /var/lib/sluice as root, ~/.local/state/sluice) into out. */
int gw_state_dir_default(char *out, size_t len);
/* Splits "HOST:PORT" ("[::1]:80" too). 0 or -EINVAL. */
int gw_parse_listen(const char *s, char *host, size_t hostlen, int *port);

/* Creates the state dir (0700) and its run/ and sandboxes/ subdirs. */
int gw_state_prepare(const char *state_dir);
/* Reads STATE/secret, creating it (64 random hex chars + "\n", 0600) when absent. key gets the hex
 * string (the key bytes), NUL-terminated. */
int gw_secret_load(const char *state_dir, char key[GW_SECRET_HEX + 1]);

/* Writes data to path atomically (tmp in the same dir, fsync, rename) with mode. 0 or -errno. */
int gw_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* mkdir -p with mode for every created component. */
int gw_mkdir_p(const char *path, unsigned mode);

#endif
