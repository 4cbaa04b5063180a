/* net_cleanup.c — delete a dead runner's own nft table and veth (net_cleanup.h). */
#include "net_cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOCK_DIR "/run/sluice/net"
#define IP_BIN "/usr/sbin/ip"
#define NFT_BIN "/usr/sbin/nft"
#define RUN_TIMEOUT_MS 5000

/* Runs argv with input on stdin, output discarded; 0 when it exited 0. */
static int run(const char *const argv[], const char *input) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) return -errno;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
  pid_t pid = 0;
  int e = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]);
  if (e) {
    close(in[1]);
    return -e;
  }
  /* short (fits the pipe); a failed write only means the tool exited early, and its status says so */
  if (input && write(in[1], input, strlen(input)) < 0) e = 0;
  close(in[1]);
  /* bounded wait: poll the exit every few ms rather than block the event loop without limit */
  int st = 0;
  for (int waited = 0;; waited += 5) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -errno;
    if (waited >= RUN_TIMEOUT_MS) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
      return -ETIMEDOUT;
    }
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int name_ok(const char *s, const char *prefix, size_t max) {
  size_t pl = strlen(prefix), n = strlen(s);
  if (n <= pl || n > max || strncmp(s, prefix, pl) != 0) return 0;
  for (const char *c = s + pl; *c; c++)
    if (*c < '0' || *c > '9') return 0;
  return 1;
}

int net_cleanup(const char *record_path) {
  FILE *f = fopen(record_path, "re");
  if (!f) return errno == ENOENT ? 0 : -errno;
  char line[128], veth[32] = "", table[32] = "";
  long slot = -1;
  int n = 0;
  while (n++ < 16 && fgets(line, sizeof(line), f)) {
    char key[16], val[32];
    if (sscanf(line, "%15s %31s", key, val) != 2) continue;
    if (!strcmp(key, "slot")) slot = strtol(val, NULL, 10);
    else if (!strcmp(key, "veth")) snprintf(veth, sizeof(veth), "%s", val);
    else if (!strcmp(key, "nft")) snprintf(table, sizeof(table), "%s", val);
  }
  fclose(f);
  /* the record is written by our runner, but names still go to ip/nft as arguments: accept only ours.
   * An open-egress sandbox ("slo") has no table of its own (the shared one stays); a whitelist ("slv") has. */
  if (slot < 0 || slot > 1000000 || !(name_ok(veth, "slv", 15) || name_ok(veth, "slo", 15)) ||
      (table[0] && !name_ok(table, "sluice_", 24)))
    return -EINVAL;
  char lockp[64];
  snprintf(lockp, sizeof(lockp), LOCK_DIR "/%ld.lock", slot);
  int fd = open(lockp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? 0 : -errno;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) { /* a live runner holds the slot: its own (or a new owner's) business */
    close(fd);
    return 0;
  }
  int rc = 0;
  char script[128], sys[64];
  if (table[0]) {
    snprintf(script, sizeof(script), "table inet %s {}\ndelete table inet %s\n", table, table);
    const char *nft[] = {NFT_BIN, "-f", "-", NULL};
    if (run(nft, script) < 0) rc = -EBUSY;
  }
  snprintf(sys, sizeof(sys), "/sys/class/net/%s", veth);
  if (access(sys, F_OK) == 0) {
    const char *ip[] = {IP_BIN, "link", "del", veth, NULL};
    if (run(ip, NULL) < 0 && access(sys, F_OK) == 0) rc = -EBUSY;
  }
  close(fd); /* releases the lock */
  return rc;
}
