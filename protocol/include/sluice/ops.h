/* ops.h — the catalog of messages between sluice-gateway and sluice-runner (over ZeroMQ, in the
 * Jupyter wire format of wire.h). The one place these shapes are defined; see also
 * protocol/docs/messages.md for the prose version.
 *
 * Topology: the gateway binds one ROUTER socket at ipc://<state>/run/gateway.zmq; each runner connects a
 * DEALER whose routing id is its sandbox id (36-char UUID). A runner sends SL_OP_HELLO every time its
 * connection (re)handshakes, so a restarted gateway learns of it. Requests go gateway → runner; the
 * runner answers with zero or more events (parent_header = the request's header) and exactly one reply.
 *
 *  gateway → runner                       runner → gateway
 *  ---------------------------------------------------------------------------------------------
 *  execute_request {code, language?,      status {execution_state: busy|idle}  (Jupyter iopub)
 *    context_id?, timeout_ms?, silent?,   stream {name: stdout|stderr, text}
 *    store_history?, env?}                execute_result {execution_count, data, metadata}
 *                                          display_data {data, metadata, transient?}
 *                                          update_display_data {data, metadata, transient{display_id}}
 *                                          clear_output {wait}
 *                                          error {ename, evalue, traceback[]}
 *                                          execute_reply {status: ok|error|aborted, execution_count,
 *                                                         ename?, evalue?, traceback?}
 *  sluice_exec_request {command | argv,   stream {name, text}
 *    cwd?, env?, timeout_ms?, stdin?}      sluice_exec_reply {exit_code, cwd, duration_ms, timed_out,
 *                                                             error?}
 *  interrupt_request {context_id?}        interrupt_reply {status, interrupted}
 *  sluice_restart_request {context_id?}   sluice_restart_reply {status}  (a fresh interpreter; the
 *                                          running cell ends with an error, queued ones too)
 *  sluice_flow {flow_id, paused}          (none: a notification) the gateway's streamed reply of
 *                                          request flow_id is backed up: while paused the runner stops
 *                                          reading output pipes; a pause lapses after
 *                                          SL_OP_FLOW_LEASE_MS unless renewed
 *  shutdown_request {restart}             shutdown_reply {status, restart}
 *  sluice_ping_request {}                 sluice_ping_reply {status}
 *  sluice_introspect_request {what:        sluice_introspect_reply {status: ok|busy|error, reply?}
 *    complete|inspect|is_complete|history, (reply: the Jupyter <what>_reply content from the Python
 *    code?, cursor_pos?, detail_level?,     context's IPython; busy when a cell runs or another
 *    hist_access_type?, n?, ...}            introspection is pending: the gateway answers itself)
 *  sluice_stdin_request {msg_id, value? | sluice_stdin_reply {status, delivered}  the answer to the
 *    error?}                               input_request event of execute_request msg_id
 *  (execute_request, allow_stdin: true)   input_request {prompt, password}  (event: input() in the cell)
 *                                          sluice_hello {sandbox_id, state: ready|error, init_pid,
 *                                                        runner_pid, error?}  (unsolicited)
 *  sluice_fs_request {op, path?, to?,     sluice_fs_reply {status: ok|error, code?, message?, ...}
 *    depth?, max_bytes?, handle?}           (+ one binary buffer for read_chunk)
 *    (+ one buffer for write_chunk)
 *  sluice_proc_request {op, pid?, cmd?,   sluice_proc_reply {status: ok|error, code?, message?, ...}
 *    cwd?, envs?, data?, eof?, signal?,   (attach: sluice_proc_output {name: stdout|stderr|pty, data}
 *    wait?, pty?, hold?}                    events as the process writes, the reply when it ends)
 *  sluice_exec_cancel {msg_id}            (none: a notification) the sluice_exec_request msg_id is
 *                                          cancelled: killed like a timeout if running, dropped if
 *                                          queued; its reply says error "cancelled"
 *  sluice_watch_request {op: start|stop,  sluice_fs_event {event, path?, from?} (start: "watching"
 *    path?, recursive?, msg_id?}            once in place, then changes); sluice_watch_reply {status,
 *                                           code?, message?} (start: when the watch ends; stop: at once)
 *
 * Files (ops): list {path, depth} → {entries}; stat {path} → {entry}; mkdir {path}; rename {path, to};
 * remove {path}; df → {used_bytes}; read {path, max_bytes} → {handle, size, truncated}, then
 * read_chunk {handle} → {eof} + buffer (≤ SL_OP_FS_CHUNK_BYTES) until eof; write {path} → {handle},
 * write_chunk {handle} + buffer (acknowledged once written), write_end {handle} → {size} (atomic
 * rename); close {handle} abandons a transfer. One chunk in flight per handle is the flow control.
 * Every operation runs inside the sandbox (mount namespace, uid, seccomp) — never on the host.
 * Processes (ops): start {cmd, cwd?, envs?, pty?, hold?} → {pid} (hold: its output pipes are not read
 * until an attach comes, at most SL_OP_PROC_HOLD_MS, so an attach right after the start misses nothing); list → {processes}; get {pid, wait?} →
 * {pid, cmd, running, exit_code, stdout, stderr}; stdin {pid, data, eof?}; signal {pid, signal};
 * kill {pid}; resize {pid, pty}; attach {pid} → sluice_proc_output events (what was captured so far,
 * then live; stdout/stderr data is UTF-8 text, pty data base64 of the raw bytes) until the reply
 * {pid, running: false, exit_code, truncated} when the process ends (at most SL_OP_MAX_ATTACH per
 * process). pty is {rows, cols} (each 1..SL_OP_MAX_PTY_DIM): start runs cmd on a
 * new pseudo-terminal of the sandbox's own devpts (its output is the stdout), resize sets its size. Error codes (both): bad_request, not_found, forbidden, conflict, too_many, internal.
 *
 * Watches (sluice_watch_request): start {path, recursive?} runs a watcher (inotify) INSIDE the sandbox,
 * as its user; its events are sluice_fs_event {event: watching, path} once every watch is in place,
 * then {event: create|write|remove|rename|chmod, path, from?} and {event: overflow} (events were lost);
 * the start's reply comes when the watch ends (stopped, its directory gone, or an error: not_found,
 * invalid_path, forbidden, too_many, internal). stop {msg_id: the start's} ends one (not_found when it
 * is not running).
 *
 * A malformed or unknown request gets sluice_error_reply {status: "error", code, message}.
 */
#ifndef SLUICE_OPS_H
#define SLUICE_OPS_H

#include <stddef.h>
#include "sluice/msg.h"

#define SL_OP_EXECUTE_REQUEST   "execute_request"
#define SL_OP_EXECUTE_REPLY     "execute_reply"
#define SL_OP_EXEC_REQUEST      "sluice_exec_request"
#define SL_OP_EXEC_REPLY        "sluice_exec_reply"
#define SL_OP_INTERRUPT_REQUEST "interrupt_request"
#define SL_OP_INTERRUPT_REPLY   "interrupt_reply"
#define SL_OP_SHUTDOWN_REQUEST  "shutdown_request"
#define SL_OP_SHUTDOWN_REPLY    "shutdown_reply"
#define SL_OP_PING_REQUEST      "sluice_ping_request"
#define SL_OP_PING_REPLY        "sluice_ping_reply"
#define SL_OP_RESTART_REQUEST   "sluice_restart_request"
#define SL_OP_RESTART_REPLY     "sluice_restart_reply"
#define SL_OP_FLOW              "sluice_flow"
#define SL_OP_HELLO             "sluice_hello"
#define SL_OP_ERROR_REPLY       "sluice_error_reply"
#define SL_OP_STATUS            "status"
#define SL_OP_STREAM            "stream"
#define SL_OP_EXECUTE_RESULT    "execute_result"
#define SL_OP_DISPLAY_DATA      "display_data"
#define SL_OP_UPDATE_DISPLAY    "update_display_data"
#define SL_OP_CLEAR_OUTPUT      "clear_output"
#define SL_OP_ERROR             "error"
#define SL_OP_FS_REQUEST        "sluice_fs_request"
#define SL_OP_FS_REPLY          "sluice_fs_reply"
#define SL_OP_PROC_REQUEST      "sluice_proc_request"
#define SL_OP_PROC_REPLY        "sluice_proc_reply"
#define SL_OP_CTX_REQUEST       "sluice_context_request"
#define SL_OP_CTX_REPLY         "sluice_context_reply"
#define SL_OP_INTROSPECT_REQUEST "sluice_introspect_request"
#define SL_OP_INTROSPECT_REPLY  "sluice_introspect_reply"
#define SL_OP_STDIN_REQUEST     "sluice_stdin_request"
#define SL_OP_STDIN_REPLY       "sluice_stdin_reply"
#define SL_OP_INPUT_REQUEST     "input_request"
#define SL_OP_PROC_OUTPUT       "sluice_proc_output"
#define SL_OP_EXEC_CANCEL       "sluice_exec_cancel"
#define SL_OP_WATCH_REQUEST     "sluice_watch_request"
#define SL_OP_WATCH_REPLY       "sluice_watch_reply"
#define SL_OP_FS_EVENT          "sluice_fs_event"
#define SL_OP_MAX_MATCHES       500       /* complete_reply matches; history_reply entries: 1000 */
#define SL_OP_MAX_CONTEXTS      8         /* interpreter contexts per sandbox, the defaults included */
#define SL_OP_CODE_OUTPUT_LIMIT (8u << 20) /* execute_request.output_limit of a blocking code request */

/* Caps shared by both sides. */
#define SL_OP_MAX_CODE_BYTES    (4u << 20)
#define SL_OP_MAX_STREAM_CHUNK  (64u << 10)   /* one stream message carries at most this much text */
#define SL_OP_DEFAULT_EXEC_TIMEOUT_MS 30000
#define SL_OP_MAX_TIMEOUT_MS    (24u * 3600u * 1000u)
#define SL_OP_FS_CHUNK_BYTES    (1u << 20)    /* one read_chunk / write_chunk buffer */
#define SL_OP_MAX_PATH          4096
#define SL_OP_MAX_PROC_CMD      (64u << 10)
#define SL_OP_MAX_PTY_DIM       1000      /* pty rows and cols: 1..this */
#define SL_OP_MAX_ATTACH        4         /* attach requests per process at once */
#define SL_OP_PROC_HOLD_MS      10000     /* start {hold}: output waits this long at most for an attach */
#define SL_OP_FLOW_LEASE_MS     10000
#define SL_OP_MAX_FLOWS         16        /* pauses a runner tracks at once; more are ignored */

/* Validates msg's content against the catalog entry of its msg_type. Returns 0 when valid; otherwise
 * -1 and a NUL-terminated reason in err. Unknown msg_type is invalid. */
int sl_op_validate(const sl_msg_t *msg, char *err, size_t errlen);

/* True when msg_type is a final reply (ends a request). */
int sl_op_is_reply(const char *msg_type);

#endif
