/* routes.c — the route table and its matcher. */
#include "routes.h"

#include <string.h>

static const gw_route_t ROUTES[] = {
    {GW_M_GET | GW_M_HEAD, "/health", GW_R_HEALTH, GW_RF_NOAUTH},
    {GW_M_GET, "/api/v1/sandboxes", GW_R_SB_LIST, 0},
    {GW_M_POST, "/api/v1/sandboxes", GW_R_SB_CREATE, GW_RF_JSON_BODY},
    {GW_M_DELETE, "/api/v1/sandboxes", GW_R_SB_DELETE_ALL, 0},
    {GW_M_GET, "/api/v1/sandboxes/{sb}", GW_R_SB_GET, 0},
    {GW_M_DELETE, "/api/v1/sandboxes/{sb}", GW_R_SB_DELETE, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/exec", GW_R_SB_EXEC, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/code", GW_R_SB_CODE, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/contexts", GW_R_CTX_CREATE, GW_RF_JSON_BODY},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/contexts", GW_R_CTX_LIST, 0},
    {GW_M_DELETE, "/api/v1/sandboxes/{sb}/contexts/{cid}", GW_R_CTX_DELETE, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/contexts/{cid}/interrupt", GW_R_CTX_INTERRUPT, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/contexts/{cid}/restart", GW_R_CTX_RESTART, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/reset", GW_R_SB_RESET, 0},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/files", GW_R_FILES_LIST, 0},
    {GW_M_DELETE, "/api/v1/sandboxes/{sb}/files", GW_R_FILES_REMOVE, 0},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/files/content", GW_R_FILES_READ, 0},
    {GW_M_PUT, "/api/v1/sandboxes/{sb}/files/content", GW_R_FILES_WRITE, GW_RF_STREAM_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/files/upload", GW_R_FILES_UPLOAD, GW_RF_STREAM_BODY},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/files/stat", GW_R_FILES_STAT, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/files/mkdir", GW_R_FILES_MKDIR, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/files/rename", GW_R_FILES_RENAME, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/processes", GW_R_PROC_START, GW_RF_JSON_BODY},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/processes", GW_R_PROC_LIST, 0},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/processes/{pid}", GW_R_PROC_GET, 0},
    {GW_M_DELETE, "/api/v1/sandboxes/{sb}/processes/{pid}", GW_R_PROC_KILL, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/processes/{pid}/stdin", GW_R_PROC_STDIN, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/processes/{pid}/signal", GW_R_PROC_SIGNAL, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/processes/{pid}/resize", GW_R_PROC_RESIZE, GW_RF_JSON_BODY},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/stats", GW_R_SB_STATS, 0},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/timeout", GW_R_SB_TIMEOUT, GW_RF_JSON_BODY},
    {GW_M_POST, "/api/v1/sandboxes/{sb}/packages", GW_R_PKG_INSTALL, GW_RF_JSON_BODY},
    {GW_M_GET, "/api/v1/sandboxes/{sb}/packages", GW_R_PKG_LIST, 0},
    {GW_M_POST, "/api/v1/run", GW_R_RUN, GW_RF_JSON_BODY},
    {GW_M_GET, "/api/v1/status", GW_R_STATUS, 0},
    {GW_M_GET, "/api/v1/images", GW_R_IMAGES, 0},
    {GW_M_GET, "/api/v1/workspaces", GW_R_WS_LIST, 0},
    {GW_M_DELETE, "/api/v1/workspaces/{id}", GW_R_WS_DELETE, 0},
    {GW_M_GET, "/metrics", GW_R_METRICS, 0},
    {GW_M_GET, "/api", GW_R_JP_API, GW_RF_JUPYTER},
    {GW_M_GET, "/api/kernelspecs", GW_R_JP_SPECS, GW_RF_JUPYTER},
    {GW_M_GET, "/api/kernelspecs/{name}", GW_R_JP_SPEC, GW_RF_JUPYTER},
    {GW_M_GET | GW_M_HEAD, "/kernelspecs/{name}/{file}", GW_R_JP_SPEC_FILE, GW_RF_JUPYTER},
    {GW_M_GET, "/api/kernels", GW_R_JP_KERNELS, GW_RF_JUPYTER},
    {GW_M_POST, "/api/kernels", GW_R_JP_KERNEL_CREATE, GW_RF_JUPYTER},
    {GW_M_GET, "/api/kernels/{id}", GW_R_JP_KERNEL_GET, GW_RF_JUPYTER},
    {GW_M_DELETE, "/api/kernels/{id}", GW_R_JP_KERNEL_DELETE, GW_RF_JUPYTER},
    {GW_M_POST, "/api/kernels/{id}/interrupt", GW_R_JP_KERNEL_INTERRUPT, GW_RF_JUPYTER},
    {GW_M_POST, "/api/kernels/{id}/restart", GW_R_JP_KERNEL_RESTART, GW_RF_JUPYTER},
    {GW_M_GET, "/api/kernels/{id}/channels", GW_R_JP_CHANNELS, GW_RF_JUPYTER},
};

gw_method_t gw_method_from_str(const char *s) {
  if (!s) return GW_M_OTHER;
  if (strcmp(s, "GET") == 0) return GW_M_GET;
  if (strcmp(s, "POST") == 0) return GW_M_POST;
  if (strcmp(s, "PUT") == 0) return GW_M_PUT;
  if (strcmp(s, "DELETE") == 0) return GW_M_DELETE;
  if (strcmp(s, "HEAD") == 0) return GW_M_HEAD;
  return GW_M_OTHER;
}

/* Next segment of *p (after one '/'); returns its length, advances *p. -1 at end. */
static int next_seg(const char **p, const char **seg) {
  if (**p != '/') return -1;
  (*p)++;
  *seg = *p;
  while (**p && **p != '/') (*p)++;
  return (int)(*p - *seg);
}

static int pattern_fits(const char *pat, const char *path, gw_match_t *m) {
  const char *ps = NULL, *xs = NULL;
  m->n_params = 0;
  /* "/a/b/" and "/a/b" are the same route */
  size_t plen = strlen(path);
  while (plen > 1 && path[plen - 1] == '/') plen--;
  char buf[2048];
  if (plen >= sizeof(buf)) return 0;
  memcpy(buf, path, plen);
  buf[plen] = 0;
  const char *x = buf;
  for (;;) {
    int pl = next_seg(&pat, &ps);
    int xl = next_seg(&x, &xs);
    if (pl < 0 || xl < 0) return pl < 0 && xl < 0;
    if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
      if (xl == 0 || xl >= GW_ROUTE_MAX_PARAM_LEN || m->n_params == GW_ROUTE_MAX_PARAMS) return 0;
      memcpy(m->params[m->n_params], xs, (size_t)xl);
      m->params[m->n_params][xl] = 0;
      m->n_params++;
    } else if (pl != xl || memcmp(ps, xs, (size_t)pl) != 0) {
      return 0;
    }
  }
}

int gw_route_match(gw_method_t method, const char *path, gw_match_t *m) {
  int path_known = 0;
  memset(m, 0, sizeof(*m));
  if (!path || path[0] != '/') return -404;
  for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++) {
    gw_match_t cand;
    if (!pattern_fits(ROUTES[i].pattern, path, &cand)) continue;
    path_known = 1;
    if (ROUTES[i].methods & method) {
      *m = cand;
      m->route = &ROUTES[i];
      return 0;
    }
  }
  return path_known ? -405 : -404;
}
