/* stream_msg.h — `stream` messages whose text travels in a wire buffer (runner → gateway).
 *
 * A runner's stdout/stderr is the one bulk payload on the gateway ⇄ runner link. As a JSON string it
 * cost a dump in the runner and a parse in the gateway per byte (jansson: 18.6 + 37.5 ns/byte, see
 * json_out.h), so the runner sends content {"name": "stdout"|"stderr", "text_buffer": 0} and the text
 * as the message's only buffer (signed like the rest: wire.h). The gateway calls sl_op_stream_inline
 * right after decoding, which turns it back into content {"name", "text"}: everything after it (the
 * validator, every consumer) sees the Jupyter shape. A stream message with "text" in its content (the
 * pydriver's truncation marker, procs output) passes through unchanged. Details: docs/messages.md.
 *
 * Ownership: sl_op_stream_new returns a new message (caller frees with sl_msg_free or hands it to a
 * sender that steals it); name and text are borrowed (copied). sl_op_stream_inline modifies *msg in
 * place (the buffer is released).
 */
#ifndef SLUICE_STREAM_MSG_H
#define SLUICE_STREAM_MSG_H

#include <stddef.h>

#include "sluice/msg.h"

#define SL_OP_TEXT_BUFFER "text_buffer" /* content key: the index of the buffer holding the text (0) */

/* A stream message (name "stdout" or "stderr") replying to parent (borrowed, may be NULL) with
 * text[0..len) in buffer 0. The caller guarantees valid UTF-8 of at most SL_OP_MAX_STREAM_CHUNK bytes
 * (kernel-runner/stream.c does); the gateway repairs it anyway. NULL on allocation failure. */
sl_msg_t *sl_op_stream_new(const char *session, const sl_msg_t *parent, const char *name, const char *text,
                           size_t len);

/* When msg is a stream message with its text in a buffer, moves the text into content "text"
 * (invalid UTF-8 or NUL repaired to U+FFFD) and drops "text_buffer" and the buffer. Returns 0 (done,
 * or nothing to do), or -1 when the message is malformed (text_buffer not 0, not exactly one buffer,
 * "text" present too, text over SL_OP_MAX_STREAM_CHUNK) or memory ran out; msg is then unchanged. */
int sl_op_stream_inline(sl_msg_t *msg);

#endif
