/* seccomp_filter.h — the syscall filter every user-facing process in a sandbox runs under.
 *
 * Applied last, in the child, right before execve (after capabilities are dropped and NO_NEW_PRIVS is
 * set): a default-allow filter with an explicit deny list, because the language runtimes we host need a
 * broad syscall surface and the namespaces + dropped capabilities already carry the main isolation; the
 * filter removes the kernel attack surface that namespaces do not (keyrings, bpf, io_uring, userfaultfd,
 * nested namespaces, TIOCSTI, ...). See reference/isolation.md for the escape classes.
 *
 * No pointers cross this API, except the compiled program (owned by its sl_seccomp_prog_t).
 */
#ifndef SLUICE_RUNNER_SECCOMP_H
#define SLUICE_RUNNER_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

typedef struct {
  int allow_ptrace; /* CAP_SYS_PTRACE added back by cap_add: ptrace within the sandbox is allowed */
} sl_seccomp_opts_t;

/* Builds and loads the filter into the calling thread. Returns 0 or a negative errno. */
int sl_seccomp_apply(const sl_seccomp_opts_t *opts);

/* Writes the filter as BPF (for inspection: `sluice-runner --dump-seccomp`). Returns 0 or -errno. */
int sl_seccomp_export_bpf(const sl_seccomp_opts_t *opts, int fd);

/* The filter compiled once (libseccomp's BPF output), for processes that apply it many times (the
 * zygote: building it costs milliseconds, loading it microseconds). The program is the same one
 * sl_seccomp_apply loads. insns is owned by the struct (free it). */
typedef struct {
  struct sock_filter *insns;
  size_t len;
} sl_seccomp_prog_t;

int sl_seccomp_compile(const sl_seccomp_opts_t *opts, sl_seccomp_prog_t *out);
/* Sets NO_NEW_PRIVS and loads p into the calling thread. Returns 0 or -errno. */
int sl_seccomp_load(const sl_seccomp_prog_t *p);

#endif
