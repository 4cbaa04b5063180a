/* seccomp_filter.c — the sandbox's syscall deny list, built with libseccomp. */
#include "seccomp_filter.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Denied outright with EPERM. Each line names why. */
static const char *const DENY[] = {
    /* keyrings are not namespaced: a sandbox could read or plant keys of the host (firejail @default) */
    "keyctl", "add_key", "request_key",
    /* kernel attack surface without namespacing */
    "bpf", "userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    /* filesystem topology belongs to the runner: old and new mount APIs */
    "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr",
    /* joining or making namespaces (nested user namespaces are a classic privilege source) */
    "setns", "unshare",
    /* host-wide state */
    "swapon", "swapoff", "reboot", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "vhangup", "lookup_dcookie", "nfsservctl",
    "iopl", "ioperm", "process_vm_writev",
    /* shocker-style escapes by file handle (CVE-2014-3519 class) */
    "open_by_handle_at", "name_to_handle_at",
    /* ptrace is allowed only when CAP_SYS_PTRACE was added back (see apply) */
};

static int build(const sl_seccomp_opts_t *opts, scmp_filter_ctx *out) {
  int rc = -ENOMEM;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return rc;
  /* only the native ABI: x32 / i386 syscall numbers would bypass every rule below */
  if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0) goto out;
  if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0) goto out;
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);

  for (size_t i = 0; i < sizeof(DENY) / sizeof(DENY[0]); i++) {
    int nr = seccomp_syscall_resolve_name(DENY[i]);
    if (nr == __NR_SCMP_ERROR) continue; /* not on this arch */
    if ((rc = seccomp_rule_add(ctx, deny, nr, 0)) < 0) goto out;
  }
  if (!opts || !opts->allow_ptrace) {
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(ptrace), 0)) < 0) goto out;
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(process_vm_readv), 0)) < 0) goto out;
  }

  /* clone with any namespace flag → EPERM (flags are arg0 on x86_64). clone3 passes flags in memory that
   * seccomp cannot inspect, so it answers ENOSYS and libc falls back to clone. */
  static const uint64_t ns_flags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
                                      CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME};
  for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
                               SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]))) < 0)
      goto out;
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0) goto out;

  /* TIOCSTI / TIOCLINUX push input into the controlling terminal (CVE-2017-5226, CVE-2019-10063): compare
   * only the low 32 bits, because the kernel does, so a high-bit-set request cannot slip past. */
  static const uint64_t bad_ioctls[] = {TIOCSTI, TIOCLINUX};
  for (size_t i = 0; i < 2; i++)
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1,
                               SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffULL, bad_ioctls[i]))) < 0)
      goto out;

  /* AF_VSOCK reaches the hypervisor's host side */
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                             SCMP_A0_64(SCMP_CMP_EQ, AF_VSOCK))) < 0)
    goto out;

  /* personality flags that weaken ASLR or map page zero */
  static const uint64_t bad_persona[] = {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO,
                                         ADDR_COMPAT_LAYOUT};
  /* 0xffffffff is the read-only query every libc issues and has every bit set, and libseccomp cannot test
   * one argument twice in a rule; so deny "flag set AND some other bit clear", one rule per other bit. */
  for (size_t i = 0; i < sizeof(bad_persona) / sizeof(bad_persona[0]); i++)
    for (int b = 0; b < 32; b++) {
      uint64_t bit = 1ULL << b;
      if (bit == bad_persona[i]) continue;
      if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(personality), 1,
                                 SCMP_A0_64(SCMP_CMP_MASKED_EQ, bad_persona[i] | bit, bad_persona[i]))) < 0)
        goto out;
    }
  *out = ctx;
  return 0;
out:
  seccomp_release(ctx);
  return rc;
}

int sl_seccomp_apply(const sl_seccomp_opts_t *opts) {
  scmp_filter_ctx ctx;
  int rc = build(opts, &ctx);
  if (rc < 0) return rc;
  rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc;
}

int sl_seccomp_export_bpf(const sl_seccomp_opts_t *opts, int fd) {
  scmp_filter_ctx ctx;
  int rc = build(opts, &ctx);
  if (rc < 0) return rc;
  rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  return rc;
}

int sl_seccomp_compile(const sl_seccomp_opts_t *opts, sl_seccomp_prog_t *out) {
  memset(out, 0, sizeof *out);
  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC), rc;
  if (fd < 0) return -errno;
  struct stat st;
  if ((rc = sl_seccomp_export_bpf(opts, fd)) < 0) goto out;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
      st.st_size > 65536 * (off_t)sizeof(struct sock_filter)) {
    rc = -EINVAL;
    goto out;
  }
  if (!(out->insns = malloc((size_t)st.st_size))) { rc = -ENOMEM; goto out; }
  if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size) {
    rc = -EIO;
    free(out->insns);
    out->insns = NULL;
    goto out;
  }
  out->len = (size_t)st.st_size / sizeof(struct sock_filter);
  rc = 0;
out:
  close(fd);
  return rc;
}

int sl_seccomp_load(const sl_seccomp_prog_t *p) {
  struct sock_fprog fp = {(unsigned short)p->len, p->insns};
  if (!p->insns || !p->len || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return p->insns ? -errno : -EINVAL;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0 ? -errno : 0;
}
