/* handlers_workspaces.c — GET /api/v1/workspaces[?namespace=], DELETE /api/v1/workspaces/{id}[?namespace=]
 * (workspaces.h holds the storage; protocol/docs/workspaces.md the contract).
 *
 * Ownership: replies are built here and handed to the session (stolen).
 */
#include "handlers.h"

#include "log.h"
#include "workspaces.h"

#include <errno.h>
#include <string.h>

void h_ws_list(gw_session_t *s, json_t *body) {
  json_t *arr = ws_list(s->key, s->has_ns_query ? s->ns_query : NULL);
  if (!arr) {
    session_reply_error(s, 500, "internal", "out of memory");
    return;
  }
  session_reply_data(s, 200, arr);
}

void h_ws_delete(gw_session_t *s, json_t *body) {
  const char *id = s->match.params[0], *ns = session_ns(s);
  if (!session_check_ns(s, ns)) return;
  int rc = ws_delete(ns, id);
  if (rc == -ENOENT)
    session_reply_error(s, 404, "workspace_not_found", "no workspace '%.80s' in namespace '%s'", id, ns);
  else if (rc == -EBUSY)
    session_reply_error(s, 409, "workspace_in_use", "workspace '%.80s' is mounted by a sandbox; delete that first", id);
  else if (rc < 0)
    session_reply_error(s, 500, "workspace_failed", "cannot delete workspace '%.80s': %s", id, strerror(-rc));
  else {
    log_event("workspace_deleted", NULL, "{s:s, s:s}", "workspace_id", id, "namespace", ns);
    session_reply_data(s, 200, json_pack("{s:s+}", "message", "deleted workspace ", id));
  }
}
