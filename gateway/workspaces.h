/* workspaces.h — persistent workspaces: STATE/workspaces/NS/ID/{disk.img, workspace.json}.
 *
 * A workspace is an ext4 image file of the configured size (workspace_size: its own cap, so a full
 * workspace is ENOSPC inside and never fills the host), loop-mounted on the host while a sandbox uses it
 * at workspace_mount_dir/<uuid> (outside the 0700 state dir: the runner binds it from inside the
 * sandbox's user namespace, which must be able to reach it; parents 0711, the mounted root 0700 and the
 * sandbox's), and bound read-write at /workspace by that sandbox's runner (ns_mount.c).
 * Everything in a workspace belongs to the user running the code of the sandbox that mounts it: before
 * the runner starts, every file is chowned to that user in this sandbox's uid range (uid_base + uid), so
 * a workspace written as root is usable by a later non-root sandbox and vice versa.
 * The lock against a second mount is the sandbox record itself (STATE/sandboxes/ID/sandbox.json with
 * namespace + workspace_id): it is persisted and re-registered on restart, so it survives one; a
 * workspace whose holder is gone is unmounted at start (ws_reconcile).
 *
 * Ownership: records passed in are borrowed; ws_list returns a new array (caller owns).
 */
#ifndef GW_WORKSPACES_H
#define GW_WORKSPACES_H

#include <jansson.h>

#include "registry.h"
#include "sluice/api.h"

#define WS_DEFAULT_SIZE (1ull << 30)
#define WS_MIN_SIZE (8ull << 20)
#define WS_MAX_LIST 4096

/* For a create record with workspace_id: checks the id, refuses one in use (409 workspace_in_use),
 * creates the workspace's dir and record when new and sets rec workspace_path / workspace_size.
 * 0, or -1 with err. Records without workspace_id pass. */
int ws_attach(json_t *rec, sl_api_err_t *err);
/* In the runner's spawning child (host root, before exec; may block): makes the image when new, mounts
 * it at workspace_path and shifts file owners to rec's uid_base. 0 or -errno, with a line on stderr. */
int ws_prepare_child(const json_t *rec);
/* A sandbox using a workspace is gone: records the usage and unmounts it. */
void ws_release(const json_t *rec);
/* At start, after adoption: unmounts workspaces that no registered sandbox holds. */
void ws_reconcile(void);
/* The workspaces of namespaces the key may see (ns_filter: only that one; NULL = all). */
json_t *ws_list(const json_t *key, const char *ns_filter);
/* Deletes a workspace nobody uses: 0, -ENOENT, -EBUSY (in use) or another -errno. */
int ws_delete(const char *ns, const char *id);

#endif
