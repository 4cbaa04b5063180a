/* driver.h — frames between the runner and the processes it runs inside the sandbox.
 *
 * 1. Language drivers (kernel-runner/drivers/): newline-delimited JSON, one object per line, on two
 *    inherited fds: fd 3 carries requests runner → driver, fd 4 carries events driver → runner.
 *    stdout (fd 1) and stderr (fd 2) are plain pipes read by the runner; before a driver writes "done"
 *    it flushes them, so the runner drains both pipes to EAGAIN and then finishes the execution.
 *      requests {"type":"execute","id":N,"code":s,"silent":b,"store_history":b}
 *               {"type":"input_reply","id":N,"value":s}  or  {"type":"input_reply","id":N,"error":s}
 *                                     (error: no client can answer → the cell sees EOFError(error))
 *               {"type":"introspect","id":N,"what":"complete"|"inspect"|"is_complete"|"history",
 *                "args":{..}}         (args: the Jupyter request's content; answered between cells)
 *      events   {"type":"ready","language":s,"version":s}                 once at start
 *               {"type":"result","id":N,"data":{mime:..},"metadata":{},"is_main_result":b,
 *                "execution_count":N}
 *               {"type":"display","id":N,"data":{..},"metadata":{},"transient":{},"update":b}
 *                                     (update true = update_display_data of transient.display_id)
 *               {"type":"clear_output","id":N,"wait":b}
 *               {"type":"input_request","id":N,"prompt":s,"password":b}
 *                                     (the runner answers with an input_reply request)
 *               {"type":"introspect_reply","id":N,"reply":{..}}  (the Jupyter <what>_reply content)
 *               {"type":"error","id":N,"ename":s,"evalue":s,"traceback":[s]}
 *               {"type":"done","id":N,"status":"ok"|"error","execution_count":N}
 *    A line longer than SL_DRIVER_MAX_LINE is a protocol error (the driver is restarted).
 *
 * 2. The stateful shell (drivers/bash/shell.sh): fd 3 carries NUL-terminated records
 *    runner → shell: "<command>\0<stdin>\0"; fd 4 carries shell → runner "<exit_code>\0<cwd>\0".
 *
 * 3. The sandbox's init (PID 1) and the runner's supervisor talk over a SOCK_SEQPACKET socketpair,
 *    one JSON object per packet (< SL_CTL_MAX_PACKET), fds passed with SCM_RIGHTS:
 *      supervisor → init {"type":"spawn","tag":N,"argv":[s],"env":[s],"cwd":s,"fds":K}
 *                                     (K fds attached: become the child's fds 0..K-1)
 *                        {..., "fds":0, "pty":{"rows":R,"cols":C}}  (init opens a pty of the
 *                         sandbox's devpts: the slave is fds 0-2 and the controlling terminal;
 *                         "spawned" carries the master)
 *                        {"type":"signal","pid":P,"signal":S,"group":b}
 *      init → supervisor {"type":"spawned","tag":N,"pid":P,"error":s?}
 *                        {"type":"exited","pid":P,"status":wait-status}
 *
 * 4. The runner and its image's zygote (sluice-zygote, protocol/docs/zygote.md) talk over one
 *    SOCK_SEQPACKET connection per spawn to STATE/run/zygote-IMAGE.sock, same framing as §3:
 *      runner → zygote {"type":"zygote_spawn","uid":U,"gid":G,"caps":C,"cwd":s,"env":[s],"cgroups":[s]}
 *                      with SL_ZYGOTE_NFDS fds: the driver's fds 0..4 (as §1) and a pidfd of the
 *                      sandbox's init (whose namespaces the driver joins); cgroups: the sandbox's
 *                      cgroup directories (host paths, absolute, at most SL_ZYGOTE_MAX_CGROUPS)
 *      zygote → runner {"type":"zygote_spawned","pid":host pid,"ns_pid":pid in the sandbox,"error":s?}
 *                      (sent once the child is inside the sandbox, or with error and pids 0)
 *
 * Ownership: the parser returns new json_t objects (caller decrefs).
 */
#ifndef SLUICE_DRIVER_H
#define SLUICE_DRIVER_H

#include <jansson.h>
#include <stddef.h>

#define SL_DRIVER_MAX_LINE   (32u << 20)
#define SL_CTL_MAX_PACKET    (64u << 10)
#define SL_CTL_MAX_FDS       8
#define SL_ZYGOTE_NFDS       6
#define SL_ZYGOTE_MAX_CGROUPS 16

/* Parses one driver event line (without its '\n'). Returns a new object, or NULL with err filled
 * when the line is not a JSON object with a known "type" and the fields that type requires.
 * A NUL inside a string value ("\u0000") is replaced by U+FFFD rather than refused, so user data
 * cannot break the driver protocol; control packets (sl_ctl_parse) refuse it. */
json_t *sl_driver_event_parse(const char *line, size_t len, char *err, size_t errlen);

/* Parses one control packet (either direction). Same contract as above. */
json_t *sl_ctl_parse(const char *pkt, size_t len, char *err, size_t errlen);

#endif
