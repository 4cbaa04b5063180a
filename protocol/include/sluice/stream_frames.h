/* stream_frames.h — the JSON text frames of the native streaming websocket
 * (GET /api/v1/sandboxes/{sb}/stream, protocol/docs/stream_ws.md). No I/O: the gateway hands a received
 * frame to sl_sf_parse and gets back the runner op to send; events are built by sl_sf_event.
 *
 * A request is one JSON object {"type": T, "id": ID, ...fields}. ID is the client's string (1..
 * SL_SF_ID_MAX bytes, or an integer, kept as its decimal text); every event answering it carries it.
 * Requests and the runner op each becomes (shapes of protocol/include/sluice/ops.h):
 *   code          fields of POST /code (sl_api_parse_code)   → execute_request
 *                 + allow_stdin (bool, default false): input() asks this socket (input_request event)
 *   input_reply   {value? | eof: true}; id = the waiting code request's id → sluice_stdin_request
 *   exec          fields of POST /exec (sl_api_parse_exec)   → sluice_exec_request
 *   interrupt     {context_id?}                              → interrupt_request
 *   process_start {cmd, cwd?, envs?, pty?: {rows, cols}}      → sluice_proc_request {op: start, hold: true}
 *   stdin         {pid, data?, eof?}                         → sluice_proc_request {op: stdin}
 *   signal        {pid, signal: name | 1..64}                → sluice_proc_request {op: signal}
 *   resize        {pid, rows, cols}                          → sluice_proc_request {op: resize}
 *   watch         {path, recursive?}                         → sluice_watch_request {op: start}
 *   unwatch       {watch_id}                                 → (the gateway: stop of that watch)
 *
 * Ownership: sl_sf_req_t.content is NEW (the caller frees it with sl_sf_req_clear or steals it and
 * NULLs the field); fields passed to sl_sf_event are STOLEN; returned buffers are malloc'd, the caller's.
 */
#ifndef SLUICE_STREAM_FRAMES_H
#define SLUICE_STREAM_FRAMES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/api.h"

#define SL_SF_SUBPROTOCOL "sluice.stream.v1"
#define SL_SF_ID_MAX 128
/* a code request carries at most SL_OP_MAX_CODE_BYTES of code; JSON escaping may double it */
#define SL_SF_MAX_FRAME ((8u << 20) + (64u << 10))
/* the longest answer to input() (a line a person or an agent types, not a file) */
#define SL_SF_MAX_INPUT (64u << 10)

typedef enum {
  SL_SF_CODE,
  SL_SF_EXEC,
  SL_SF_INTERRUPT,
  SL_SF_PROC_START,
  SL_SF_STDIN,
  SL_SF_SIGNAL,
  SL_SF_INPUT_REPLY,
  SL_SF_RESIZE,
  SL_SF_WATCH,
  SL_SF_UNWATCH,
} sl_sf_type_t;

typedef struct {
  sl_sf_type_t type;
  char id[SL_SF_ID_MAX + 1]; /* "" when the frame had none usable */
  json_t *content;           /* the runner op's content (new) */
  uint32_t timeout_ms;       /* code: wait_ms; exec: timeout_ms; others 0 */
  int64_t pid;               /* stdin, signal, resize */
  int pty;                   /* process_start: on a terminal */
  char target[SL_SF_ID_MAX + 1]; /* unwatch: the watch request's id */
} sl_sf_req_t;

/* Parses one text frame. 0 with *out filled; -1 with err (status 400) — out->id still holds the
 * request's id when the frame had a usable one, so the error event can name it. */
int sl_sf_parse(const char *buf, size_t len, sl_sf_req_t *out, sl_api_err_t *err);
void sl_sf_req_clear(sl_sf_req_t *r);
/* A signal as a name ("TERM", "SIGTERM") or a number 1..64; -1 when neither. */
int sl_sf_signal_number(const json_t *v);

/* The frame {"type": type, "id": id (omitted when NULL or ""), ...fields} as compact JSON, placed after
 * pre bytes of headroom (lws's LWS_PRE). fields (an object or NULL) is stolen. NULL on ENOMEM. */
unsigned char *sl_sf_event(const char *type, const char *id, json_t *fields, size_t pre, size_t *len);
/* The event fields (new, with "type") for one runner event of a code request: stdout/stderr {text},
 * result {...Result}, error {name, value, traceback}; NULL for events a client does not act on. */
json_t *sl_sf_code_event(const char *msg_type, const json_t *content);

#endif
