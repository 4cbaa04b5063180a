/* rutil.h — tiny helpers shared by the runner's files: monotonic time, logging to runner.log (stderr),
 * whole-file reads and atomic writes. No ownership crosses these calls except sl_read_file (new buffer). */
#ifndef SLUICE_RUNNER_RUTIL_H
#define SLUICE_RUNNER_RUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline int64_t sl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stderr is runner.log (the gateway appended it); one line per event. */
#define RLOG(fmt, ...) fprintf(stderr, "sluice-runner[%d]: " fmt "\n", (int)getpid(), ##__VA_ARGS__)

/* Reads at most max bytes of path into a new NUL-terminated buffer. Returns it or NULL (errno set). */
char *sl_read_file(const char *path, size_t max, size_t *len);
/* Writes data to path via path.tmp + rename. Returns 0 or -errno. */
int sl_write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* Writes a short string to an existing file (cgroup and /proc knobs). Returns 0 or -errno. */
int sl_write_str(const char *path, const char *s);
/* mkdir -p with mode for missing components. Returns 0 or -errno. */
int sl_mkdir_p(const char *path, int mode);

#endif
