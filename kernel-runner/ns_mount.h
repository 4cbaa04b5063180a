/* ns_mount.h — the sandbox's mount namespace, child side: builds the root filesystem from the image's
 * "rootfs" definition in a tmpfs and pivots into it (bubblewrap's order: / rslave first, tmpfs base,
 * pivot to reach the old root as /oldroot, build /newroot, pivot again, detach the old root).
 *
 * Ownership: the spec and everything it points to are borrowed for the call.
 */
#ifndef SLUICE_RUNNER_NS_MOUNT_H
#define SLUICE_RUNNER_NS_MOUNT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
  json_t *rootfs;           /* image.json "rootfs" (binds, symlinks, tmpfs, size) */
  const char *drivers_dir;  /* host path, bound read-only at SL_DRIVERS_MOUNT */
  const char *hostname;     /* for /etc/hostname and /etc/hosts */
  uid_t uid;                /* the user running code inside (owner of tmpfs entries marked "owned") */
  gid_t gid;
  uint64_t storage;         /* limits.ephemeral-storage in bytes, 0 = the image's per-tmpfs sizes */
  const char *workspace;    /* host path of the mounted workspace, bound read-write at /workspace; NULL = none */
} sl_mount_spec_t;

/* Runs in the child (root of its user namespace, in its new mount and pid namespaces). On failure
 * returns -errno and names the failing step in err. */
int sl_ns_mount_init_child(const sl_mount_spec_t *spec, char *err, size_t errlen);

#endif
