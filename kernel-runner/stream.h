/* stream.h — one output pipe (a process's stdout or stderr) turned into Jupyter "stream" messages:
 * read as output arrives, cut at SL_OP_MAX_STREAM_CHUNK, always valid UTF-8 (an incomplete trailing
 * character waits for the next read; invalid bytes become U+FFFD).
 *
 * Ownership: sl_stream_t is the caller's value and owns fd (closed by sl_stream_close). The emit
 * callback borrows text for the call.
 */
#ifndef SLUICE_RUNNER_STREAM_H
#define SLUICE_RUNNER_STREAM_H

#include <stddef.h>

typedef void (*sl_stream_emit_fn)(void *ud, const char *name, const char *text, size_t len);

typedef struct {
  int fd;              /* non-blocking read end, -1 when closed */
  const char *name;    /* "stdout" | "stderr" (static) */
  char carry[4];       /* bytes of a UTF-8 character split across reads */
  size_t ncarry;
} sl_stream_t;

void sl_stream_init(sl_stream_t *s, int fd, const char *name);
/* Reads once (drain = 0) or until EAGAIN (drain = 1) and emits what it got (to emit, or discards it
 * when emit is NULL). Returns 1 while the pipe is open, 0 at EOF, -errno on error. */
int sl_stream_read(sl_stream_t *s, int drain, sl_stream_emit_fn emit, void *ud);
/* Emits a dangling partial character (as U+FFFD) so nothing is held across executions. */
void sl_stream_flush(sl_stream_t *s, sl_stream_emit_fn emit, void *ud);
void sl_stream_close(sl_stream_t *s);

#endif
