/* files.h — the runner's side of sluice_fs_request (ops.h): each operation is one file helper
 * (fshelper.h) spawned inside the sandbox by init; the runner only relays. Reads and writes are
 * transfers with a handle: the gateway asks for one chunk at a time (read_chunk) or hands one chunk at
 * a time (write_chunk), so neither side ever holds more than SL_OP_FS_CHUNK_BYTES of a file per
 * transfer. A transfer nobody touches for SL_FILES_IDLE_MS is abandoned (helper killed; an unfinished
 * write leaves nothing behind).
 *
 * Ownership: sl_files_t is the runner's value; it owns its jobs, their fds and buffers and the requests
 * it is answering. sl_files_request STEALS *msg (NULLs it).
 */
#ifndef SLUICE_RUNNER_FILES_H
#define SLUICE_RUNNER_FILES_H

#include <poll.h>
#include <stdint.h>

#include "target.h"

#define SL_FILES_MAX_JOBS 16
#define SL_FILES_MAX_POLLFDS (2 * SL_FILES_MAX_JOBS)
#define SL_FILES_MAX_STATUS (16u << 20)   /* one helper's status records (a long listing) */
#define SL_FILES_IDLE_MS 60000

typedef struct sl_fs_job sl_fs_job_t;

typedef struct {
  const sl_target_env_t *env;
  sl_fs_job_t *jobs;          /* SL_FILES_MAX_JOBS slots */
  int64_t next_handle;
} sl_files_t;

int sl_files_init(sl_files_t *f, const sl_target_env_t *env);
void sl_files_request(sl_files_t *f, sl_msg_t **msg);
int sl_files_pollfds(sl_files_t *f, struct pollfd *pfd, int congested);
void sl_files_handle(sl_files_t *f, const struct pollfd *pfd, int n);
int64_t sl_files_deadline(const sl_files_t *f);
void sl_files_tick(sl_files_t *f, int64_t now);
void sl_files_on_exited(sl_files_t *f, pid_t ns_pid, int status);
void sl_files_shutdown(sl_files_t *f, const char *reason);

#endif
