/* routes.h — the route table: method + path pattern → route id, with {param} captures.
 * Pure (no lws), so it is unit-tested. Later issues add rows here (files, processes, Jupyter, ...).
 * Ownership: gw_route_t rows are static; gw_match_t is caller storage. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <stddef.h>

typedef enum {
  GW_M_GET = 1 << 0,
  GW_M_POST = 1 << 1,
  GW_M_PUT = 1 << 2,
  GW_M_DELETE = 1 << 3,
  GW_M_HEAD = 1 << 4,
  GW_M_OTHER = 1 << 5,
} gw_method_t;

typedef enum {
  GW_R_HEALTH,
  GW_R_SB_LIST,
  GW_R_SB_CREATE,
  GW_R_SB_DELETE_ALL,
  GW_R_SB_GET,
  GW_R_SB_DELETE,
  GW_R_SB_EXEC,
  GW_R_SB_CODE,
  GW_R_FILES_LIST,
  GW_R_FILES_REMOVE,
  GW_R_FILES_READ,
  GW_R_FILES_WRITE,
  GW_R_FILES_UPLOAD,
  GW_R_FILES_STAT,
  GW_R_FILES_MKDIR,
  GW_R_FILES_RENAME,
  GW_R_PROC_START,
  GW_R_PROC_LIST,
  GW_R_PROC_GET,
  GW_R_PROC_STDIN,
  GW_R_PROC_SIGNAL,
  GW_R_PROC_KILL,
  GW_R_PROC_RESIZE,
  GW_R_SB_STATS,
  GW_R_JP_API,
  GW_R_JP_SPECS,
  GW_R_JP_SPEC,
  GW_R_JP_SPEC_FILE,
  GW_R_JP_KERNELS,
  GW_R_JP_KERNEL_CREATE,
  GW_R_JP_KERNEL_GET,
  GW_R_JP_KERNEL_DELETE,
  GW_R_JP_KERNEL_INTERRUPT,
  GW_R_JP_KERNEL_RESTART,
  GW_R_JP_CHANNELS,
  GW_R_CTX_CREATE,
  GW_R_CTX_LIST,
  GW_R_CTX_DELETE,
  GW_R_CTX_INTERRUPT,
  GW_R_CTX_RESTART,
  GW_R_SB_RESET,
  GW_R_SB_TIMEOUT,
  GW_R_RUN,
  GW_R_STATUS,
  GW_R_IMAGES,
  GW_R_METRICS,
  GW_R_PKG_INSTALL,
  GW_R_PKG_LIST,
  GW_R_WS_LIST,
  GW_R_WS_DELETE,
  GW_R__COUNT
} gw_route_id_t;

enum {
  GW_RF_NOAUTH = 1 << 0,    /* no API key needed */
  GW_RF_JSON_BODY = 1 << 1, /* body must be application/json */
  GW_RF_JUPYTER = 1 << 3,   /* Jupyter personality: errors as {"reason", "message"} (jupyter_rest.c) */
  GW_RF_STREAM_BODY = 1 << 2, /* dispatched at the headers; the body goes to session.body_cb, unbuffered */
};

typedef struct {
  unsigned methods;
  const char *pattern; /* segments; "{name}" captures one segment */
  gw_route_id_t id;
  unsigned flags;
} gw_route_t;

#define GW_ROUTE_MAX_PARAMS 4
#define GW_ROUTE_MAX_PARAM_LEN 128

typedef struct {
  const gw_route_t *route;
  size_t n_params;
  char params[GW_ROUTE_MAX_PARAMS][GW_ROUTE_MAX_PARAM_LEN];
} gw_match_t;

/* Matches method + path (without query). 0 on a match, -404 when no pattern fits the path,
 * -405 when one fits but not with this method. */
int gw_route_match(gw_method_t method, const char *path, gw_match_t *m);
/* "GET" → GW_M_GET ...; unknown → GW_M_OTHER. */
gw_method_t gw_method_from_str(const char *s);

#endif
