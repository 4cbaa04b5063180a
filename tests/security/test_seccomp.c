/* test_seccomp.c — every syscall the sandbox filter denies is refused, and ordinary work still runs.
 * Each probe runs in a forked child (the filter is irreversible) bounded by an alarm. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_filter.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

typedef struct {
  const char *name;
  int want; /* errno the filter must produce; 0 = must be allowed */
} probe_t;

static long fork_and_reap(void) {
  pid_t p = fork();
  if (p == 0) _exit(0);
  return p < 0 ? -1 : waitpid(p, NULL, 0);
}

static long ioctl_fionread(void) {
  int n, fd = open("/dev/null", O_RDONLY);
  return ioctl(fd, FIONREAD, &n) < 0 && errno == EPERM ? -1 : 0;
}

static const probe_t PROBES[] = {
    {"keyctl", EPERM},
    {"add_key", EPERM},
    {"bpf", EPERM},
    {"userfaultfd", EPERM},
    {"perf_event_open", EPERM},
    {"io_uring_setup", EPERM},
    {"mount", EPERM},
    {"umount2", EPERM},
    {"pivot_root", EPERM},
    {"fsopen", EPERM},
    {"open_tree", EPERM},
    {"unshare_user", EPERM},
    {"setns", EPERM},
    {"clone_newuser", EPERM},
    {"clone_newpid", EPERM},
    {"clone3", ENOSYS},
    {"ptrace", EPERM},
    {"tiocsti", EPERM},
    {"tiocsti_high_bits", EPERM},
    {"vsock", EAFNOSUPPORT},
    {"open_by_handle_at", EPERM},
    {"personality_aslr", EPERM},
    {"kexec_load", EPERM},
    {"init_module", EPERM},
    {"swapon", EPERM},
    {"reboot", EPERM},
    {"chroot", EPERM},
    {"fork", 0},
    {"plain_clone_thread_flags", 0},
    {"socket_inet", 0},
    {"personality_query", 0},
    {"open_dev_null", 0},
    {"ioctl_fionread", 0},
    {"personality_aslr_bit31", EPERM},
};

static long run_probe(int i) {
  switch (i) {
  case 0: return (long)(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  case 1: return (long)(syscall(SYS_add_key, "user", "k", "v", 1, -2));
  case 2: return (long)(syscall(SYS_bpf, 0, NULL, 0));
  case 3: return (long)(syscall(SYS_userfaultfd, 0));
  case 4: return (long)(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  case 5: return (long)(syscall(SYS_io_uring_setup, 1, NULL));
  case 6: return (long)(mount("none", "/tmp", "tmpfs", 0, NULL));
  case 7: return (long)(umount2("/tmp", 0));
  case 8: return (long)(syscall(SYS_pivot_root, "/", "/"));
  case 9: return (long)(syscall(SYS_fsopen, "tmpfs", 0));
  case 10: return (long)(syscall(SYS_open_tree, AT_FDCWD, "/", 0));
  case 11: return (long)(unshare(CLONE_NEWUSER));
  case 12: return (long)(setns(0, 0));
  case 13: return (long)(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  case 14: return (long)(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0));
  case 15: return (long)(syscall(SYS_clone3, NULL, 0));
  case 16: return (long)(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
  case 17: return (long)(ioctl(0, TIOCSTI, "x"));
  case 18: return (long)(syscall(SYS_ioctl, 0, 0xdead00000000ULL | TIOCSTI, "x"));
  case 19: return (long)(socket(AF_VSOCK, SOCK_STREAM, 0));
  case 20: return (long)(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
  case 21: return (long)(personality(ADDR_NO_RANDOMIZE));
  case 22: return (long)(syscall(SYS_kexec_load, 0, 0, NULL, 0));
  case 23: return (long)(syscall(SYS_init_module, NULL, 0, ""));
  case 24: return (long)(syscall(SYS_swapon, "/nonexistent", 0));
  case 25: return (long)(syscall(SYS_reboot, 0, 0, 0, NULL));
  case 26: return (long)(chroot("/"));
  case 27: return (long)(fork_and_reap());
  case 28: return (long)(0);
  case 29: return (long)(socket(AF_INET, SOCK_STREAM, 0));
  case 30: return (long)(personality(0xffffffff));
  case 31: return (long)(open("/dev/null", O_RDONLY));
  case 32: return (long)(ioctl_fionread());
  case 33: return (long)(personality(0x80000000u | ADDR_NO_RANDOMIZE));
  }
  return 0;
}

/* Runs probe i under the filter in a child bounded by an alarm; returns the errno it saw (0 = allowed). */
static int errno_under_filter(int i) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    sl_seccomp_opts_t o = {0};
    if (sl_seccomp_apply(&o) < 0) _exit(200);
    errno = 0;
    long r = run_probe(i);
    _exit(r < 0 ? (errno & 0xff) : 0);
  }
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

int main(void) {
  int failures = 0;
  for (int i = 0; i < (int)(sizeof(PROBES) / sizeof(PROBES[0])); i++) {
    int got = errno_under_filter(i);
    if (got != PROBES[i].want) {
      fprintf(stderr, "FAIL %-26s errno %d, want %d\n", PROBES[i].name, got, PROBES[i].want);
      failures++;
    } else {
      printf("ok   %-26s %s\n", PROBES[i].name, got ? strerror(got) : "allowed");
    }
  }
  printf("%s (%d failures)\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
