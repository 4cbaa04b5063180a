/* stream.c — output pipes to stream messages (stream.h). */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/ops.h"
#include "sluice/util.h"

/* A whole default pipe buffer per read(): one poll wake-up moves up to 64 KiB. Text that needs repair
 * may grow (≤ 3×); emit_text then cuts it into several messages. */
#define READ_CHUNK SL_OP_MAX_STREAM_CHUNK

void sl_stream_init(sl_stream_t *s, int fd, const char *name) {
  memset(s, 0, sizeof *s);
  s->fd = fd;
  s->name = name;
}

/* Emits buf[0..len) as sanitised text in chunks of at most SL_OP_MAX_STREAM_CHUNK bytes. */
static void emit_text(sl_stream_t *s, const char *buf, size_t len, sl_stream_emit_fn emit, void *ud) {
  if (!len || !emit) return;
  size_t olen = len;
  char *clean = NULL;
  if (sl_utf8_valid_prefix(buf, len) != len) { /* the usual case (valid) costs no copy */
    clean = sl_utf8_sanitize(buf, len, &olen);
    if (!clean) return;
    buf = clean;
  }
  for (size_t off = 0; off < olen;) {
    size_t n = olen - off;
    if (n > SL_OP_MAX_STREAM_CHUNK) n = sl_utf8_complete_prefix(buf + off, SL_OP_MAX_STREAM_CHUNK);
    if (!n) n = olen - off < SL_OP_MAX_STREAM_CHUNK ? olen - off : SL_OP_MAX_STREAM_CHUNK;
    emit(ud, s->name, buf + off, n);
    off += n;
  }
  free(clean);
}

int sl_stream_read(sl_stream_t *s, int drain, sl_stream_emit_fn emit, void *ud) {
  static char buf[READ_CHUNK + 4];
  if (s->fd < 0) return 0;
  do {
    memcpy(buf, s->carry, s->ncarry);
    ssize_t n = read(s->fd, buf + s->ncarry, READ_CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN ? 1 : -errno;
    if (n == 0) {
      sl_stream_flush(s, emit, ud);
      return 0;
    }
    size_t total = s->ncarry + (size_t)n, keep = total - sl_utf8_complete_prefix(buf, total);
    if (keep > sizeof s->carry) keep = 0; /* not a character in progress: let the sanitiser repair it */
    emit_text(s, buf, total - keep, emit, ud);
    memcpy(s->carry, buf + total - keep, keep);
    s->ncarry = keep;
  } while (drain);
  return 1;
}

void sl_stream_flush(sl_stream_t *s, sl_stream_emit_fn emit, void *ud) {
  emit_text(s, s->carry, s->ncarry, emit, ud);
  s->ncarry = 0;
}

void sl_stream_close(sl_stream_t *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  s->ncarry = 0;
}
