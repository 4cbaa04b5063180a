/* main.c — sluice-runner: builds one sandbox and serves the gateway's requests for it.
 *
 * Steps, in order: config → runner.pid → sandbox (cgroups recorded + created, namespaces, rootfs,
 * init) → ZeroMQ link → one poll() loop over the link, init's control socket, signals and the pipes of
 * the shell and the Python driver. The sandbox is built before the link exists because clone() must
 * happen while the process is single-threaded (ZeroMQ starts I/O threads).
 *
 * Also the entry of the sandbox's init ("sluice-init --init ..."), re-executed inside the sandbox.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "contexts.h"
#include "files.h"
#include "flow.h"
#include "link.h"
#include "procs.h"
#include "pydriver.h"
#include "rutil.h"
#include "sandbox.h"
#include "shell.h"
#include "watch.h"
#include "sluice/ops.h"

#define LINGER_MS 2000
#define ERROR_EXIT_WAIT_MS 30000   /* how long a failed runner waits for a gateway to hear its hello */

typedef enum { ST_BUILDING, ST_READY, ST_ERROR } runner_state_t;

typedef struct {
  sl_config_t cfg;
  sl_sandbox_t sb;
  sl_link_t *link;
  sl_target_env_t tenv;
  sl_shell_t shell;
  sl_ctxs_t ctxs;      /* the interpreter contexts (the Python one first) */
  sl_files_t files;
  sl_procs_t procs;
  sl_watches_t watches;
  sl_flow_t flow;      /* the gateway's back-pressure leases */
  runner_state_t state;
  char error[512];
  int sfd;
  int quit;            /* 1: leave the loop */
  int exit_code;
  sl_msg_t *shutdown;  /* the shutdown_request being answered (owned) */
  int64_t error_since;
} runner_t;

static void send_hello(runner_t *r) {
  if (r->state == ST_BUILDING) return;
  json_t *c = json_pack("{s:s, s:s, s:I, s:I}", "sandbox_id", r->cfg.id, "state", r->state == ST_READY ? "ready" : "error",
                        "init_pid", (json_int_t)(r->state == ST_READY ? r->sb.init_pid : 0), "runner_pid",
                        (json_int_t)getpid());
  if (r->state == ST_ERROR) json_object_set_new(c, "error", json_string(r->error));
  sl_link_emit(r->link, SL_OP_HELLO, NULL, c);
}

static void on_handshake(void *ud) {
  runner_t *r = ud;
  RLOG("connected to the gateway");
  send_hello(r);
}

static void on_bad(void *ud, const char *why) { RLOG("dropped a message from the gateway: %s", why); }

static void error_reply(runner_t *r, const sl_msg_t *req, const char *code, const char *message) {
  sl_link_emit(r->link, SL_OP_ERROR_REPLY, req, json_pack("{s:s, s:s, s:s}", "status", "error", "code", code, "message", message));
}

static void on_request(void *ud, sl_msg_t **msg) {
  runner_t *r = ud;
  char err[256];
  const char *type = sl_msg_type(*msg);
  if (sl_op_validate(*msg, err, sizeof err) < 0) {
    error_reply(r, *msg, sl_op_is_reply(type) || !*type ? "bad_request" : "invalid_request", err);
    return;
  }
  if (!strcmp(type, SL_OP_FLOW)) {
    sl_flow_set(&r->flow, json_string_value(json_object_get((*msg)->content, "flow_id")),
                json_is_true(json_object_get((*msg)->content, "paused")), sl_now_ms());
  } else if (!strcmp(type, SL_OP_EXEC_CANCEL)) {
    if (r->state == ST_READY) sl_shell_cancel(&r->shell, json_string_value(json_object_get((*msg)->content, "msg_id")));
  } else if (!strcmp(type, SL_OP_PING_REQUEST)) {
    sl_link_emit(r->link, SL_OP_PING_REPLY, *msg, json_pack("{s:s}", "status", r->state == ST_READY ? "ok" : "error"));
  } else if (!strcmp(type, SL_OP_SHUTDOWN_REQUEST)) {
    if (!r->shutdown) {
      r->shutdown = *msg;
      *msg = NULL;
    }
    r->quit = 1;
  } else if (r->state != ST_READY) {
    error_reply(r, *msg, "sandbox_error", r->state == ST_ERROR ? r->error : "the sandbox is not ready");
  } else if (!strcmp(type, SL_OP_EXEC_REQUEST)) {
    sl_shell_request(&r->shell, msg);
  } else if (!strcmp(type, SL_OP_EXECUTE_REQUEST)) {
    sl_ctxs_execute(&r->ctxs, msg);
  } else if (!strcmp(type, SL_OP_FS_REQUEST)) {
    sl_files_request(&r->files, msg);
  } else if (!strcmp(type, SL_OP_PROC_REQUEST)) {
    sl_procs_request(&r->procs, msg);
  } else if (!strcmp(type, SL_OP_WATCH_REQUEST)) {
    sl_watches_request(&r->watches, msg);
  } else if (!strcmp(type, SL_OP_INTERRUPT_REQUEST)) {
    sl_ctxs_interrupt(&r->ctxs, *msg);
  } else if (!strcmp(type, SL_OP_RESTART_REQUEST)) {
    sl_ctxs_restart(&r->ctxs, *msg);
  } else if (!strcmp(type, SL_OP_CTX_REQUEST)) {
    sl_ctxs_request(&r->ctxs, *msg);
  } else if (!strcmp(type, SL_OP_INTROSPECT_REQUEST)) {
    sl_ctxs_introspect(&r->ctxs, msg);
  } else if (!strcmp(type, SL_OP_STDIN_REQUEST)) {
    sl_ctxs_stdin(&r->ctxs, *msg);
  } else {
    snprintf(err, sizeof err, "%s is not a request", type);
    error_reply(r, *msg, "invalid_request", err);
  }
}

static void on_exited(void *ud, pid_t ns_pid, int status) {
  runner_t *r = ud;
  sl_shell_on_exited(&r->shell, ns_pid, status);
  sl_ctxs_on_exited(&r->ctxs, ns_pid, status);
  sl_files_on_exited(&r->files, ns_pid, status);
  sl_procs_on_exited(&r->procs, ns_pid, status);
  sl_watches_on_exited(&r->watches, ns_pid, status);
}

/* The sandbox is unusable from now on: answer what is pending, tear down, tell the gateway. */
static void enter_error(runner_t *r, const char *why) {
  if (r->state == ST_ERROR) return;
  RLOG("sandbox error: %s", why);
  snprintf(r->error, sizeof r->error, "%s", why);
  r->state = ST_ERROR;
  r->error_since = sl_now_ms();
  sl_shell_shutdown(&r->shell, why);
  sl_ctxs_shutdown(&r->ctxs, why);
  sl_files_shutdown(&r->files, why);
  sl_procs_shutdown(&r->procs, why);
  sl_watches_shutdown(&r->watches, why);
  sl_sandbox_destroy(&r->sb);
  send_hello(r);
}

static void on_signal(runner_t *r) {
  struct signalfd_siginfo si;
  while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int st;
      if (r->sb.init_pid > 0 && waitpid(r->sb.init_pid, &st, WNOHANG) == r->sb.init_pid) {
        char why[128];
        r->sb.init_pid = 0;
        snprintf(why, sizeof why, "the sandbox's init exited (%s %d)", WIFSIGNALED(st) ? "signal" : "status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        enter_error(r, why);
      }
    } else {
      RLOG("signal %d: shutting down", (int)si.ssi_signo);
      r->quit = 1;
    }
  }
}

static int64_t next_timeout(runner_t *r, int64_t now) {
  int64_t t = -1;
  int64_t d[5] = {sl_shell_deadline(&r->shell), sl_ctxs_deadline(&r->ctxs),
                  r->state == ST_ERROR ? r->error_since + ERROR_EXIT_WAIT_MS : 0, sl_files_deadline(&r->files),
                  sl_procs_deadline(&r->procs)};
  for (int i = 0; i < 5; i++)
    if (d[i] && (t < 0 || d[i] - now < t)) t = d[i] > now ? d[i] - now : 0;
  return t;
}

static void loop(runner_t *r) {
  int zfd[2];
  sl_link_fds(r->link, zfd);
  int pending = sl_link_pump(r->link);
  while (!r->quit) {
    struct pollfd pfd[4 + SL_TARGET_MAX_POLLFDS + SL_CTX_MAX_POLLFDS + SL_FILES_MAX_POLLFDS + SL_PROCS_MAX_POLLFDS +
                      SL_WATCHES_MAX_POLLFDS];
    int64_t paused_until = sl_flow_paused_until(&r->flow, sl_now_ms());
    int n = 0, congested = sl_link_congested(r->link) || paused_until;
    pfd[n++] = (struct pollfd){zfd[0], POLLIN, 0};
    pfd[n++] = (struct pollfd){zfd[1], POLLIN, 0};
    pfd[n++] = (struct pollfd){r->sfd, POLLIN, 0};
    int ctl_at = -1, sh_at = n, sh_n = 0, py_at, py_n = 0;
    if (r->state == ST_READY) {
      if (r->sb.ctl >= 0) {
        ctl_at = n;
        pfd[n++] = (struct pollfd){r->sb.ctl, POLLIN, 0};
      }
      sh_at = n;
      n += sh_n = sl_shell_pollfds(&r->shell, pfd + n, congested);
    }
    py_at = n;
    if (r->state == ST_READY) n += py_n = sl_ctxs_pollfds(&r->ctxs, pfd + n, congested);
    int fs_at = n, fs_n = 0, pr_at, pr_n = 0;
    if (r->state == ST_READY) n += fs_n = sl_files_pollfds(&r->files, pfd + n, congested);
    pr_at = n;
    if (r->state == ST_READY) n += pr_n = sl_procs_pollfds(&r->procs, pfd + n, congested);
    int wa_at = n, wa_n = 0;
    if (r->state == ST_READY) n += wa_n = sl_watches_pollfds(&r->watches, pfd + n, congested);
    int64_t now = sl_now_ms();
    int timeout = pending ? 0 : (int)next_timeout(r, now);
    if (r->state == ST_ERROR && (timeout < 0 || timeout > 50)) timeout = 50; /* watch for the hello to leave */
    if (paused_until && (timeout < 0 || timeout > paused_until - now)) timeout = (int)(paused_until - now); /* lapse */
    if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
      RLOG("poll: %s", strerror(errno));
      break;
    }
    if (pfd[2].revents) on_signal(r);
    if (r->state == ST_READY && ctl_at >= 0 && pfd[ctl_at].revents && !sl_sandbox_ctl_read(&r->sb, on_exited, r))
      enter_error(r, "the sandbox's init closed its control socket");
    if (r->state == ST_READY) {
      sl_shell_handle(&r->shell, pfd + sh_at, sh_n);
      sl_ctxs_handle(&r->ctxs, pfd + py_at, py_n);
      sl_files_handle(&r->files, pfd + fs_at, fs_n);
      sl_procs_handle(&r->procs, pfd + pr_at, pr_n);
      sl_watches_handle(&r->watches, pfd + wa_at, wa_n);
      now = sl_now_ms();
      sl_shell_tick(&r->shell, now);
      sl_ctxs_tick(&r->ctxs, now);
      sl_files_tick(&r->files, now);
      sl_procs_tick(&r->procs, now);
    }
    pending = sl_link_pump(r->link);
    if (r->state == ST_ERROR && (sl_link_connected(r->link) && !sl_link_congested(r->link) ? 1 : 0) &&
        sl_now_ms() - r->error_since > 100)
      break; /* the gateway has heard about it */
    if (r->state == ST_ERROR && sl_now_ms() - r->error_since > ERROR_EXIT_WAIT_MS) break;
  }
}

static int setup_signals(runner_t *r) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  signal(SIGPIPE, SIG_IGN);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) return -errno;
  r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  return r->sfd < 0 ? -errno : 0;
}

static int write_pid(const sl_config_t *cfg) {
  char path[PATH_MAX + 16], num[32];
  snprintf(path, sizeof path, "%s/runner.pid", cfg->sbx_dir);
  int n = snprintf(num, sizeof num, "%d\n", (int)getpid());
  return sl_write_file_atomic(path, num, (size_t)n, 0644);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--init")) return sl_sandbox_init_entry(argc, argv);
  static runner_t r;
  char err[512] = "";
  int rc;
  int64_t t0 = sl_now_ms();
  setvbuf(stderr, NULL, _IOLBF, 0);
  r.sb.ctl = -1;
  r.exit_code = 0;
  if ((rc = sl_config_load(&r.cfg, argc, argv, err, sizeof err)) < 0) {
    RLOG("config: %s", err);
    return 2;
  }
  if ((rc = write_pid(&r.cfg)) < 0) RLOG("runner.pid: %s", strerror(-rc));
  if ((rc = setup_signals(&r)) < 0) {
    RLOG("signals: %s", strerror(-rc));
    return 1;
  }
  /* step: the sandbox (before any thread exists) */
  if ((rc = sl_sandbox_create(&r.sb, &r.cfg, err, sizeof err)) < 0) {
    RLOG("sandbox: %s", err);
    snprintf(r.error, sizeof r.error, "%s", err);
    sl_sandbox_destroy(&r.sb);
    r.state = ST_ERROR;
    r.error_since = sl_now_ms();
  } else {
    r.state = ST_READY;
    RLOG("sandbox %s ready in %lld ms (init pid %d)", r.cfg.id, (long long)(sl_now_ms() - t0), (int)r.sb.init_pid);
  }
  /* step: the link */
  sl_link_cbs_t cbs = {on_request, on_bad, on_handshake, &r};
  if (!(r.link = sl_link_new(r.cfg.endpoint, r.cfg.id, r.cfg.key, r.cfg.keylen, &cbs, err, sizeof err))) {
    RLOG("link: %s", err);
    sl_sandbox_destroy(&r.sb);
    return 1;
  }
  r.tenv = (sl_target_env_t){&r.sb, &r.cfg, r.link, on_exited, &r};
  sl_shell_init(&r.shell, &r.tenv);
  sl_ctxs_init(&r.ctxs, &r.tenv);
  if (sl_files_init(&r.files, &r.tenv) < 0 || sl_procs_init(&r.procs, &r.tenv) < 0 ||
      sl_watches_init(&r.watches, &r.tenv) < 0) {
    RLOG("out of memory");
    return 1;
  }
  if (r.state == ST_READY) sl_ctxs_prestart(&r.ctxs); /* a zygote fork: the first cell finds its interpreter */
  /* no hello here: the monitor reports the first handshake too, and each one gets a hello */
  loop(&r);
  /* teardown */
  sl_shell_shutdown(&r.shell, "the sandbox is shutting down");
  sl_ctxs_shutdown(&r.ctxs, "the sandbox is shutting down");
  sl_files_shutdown(&r.files, "the sandbox is shutting down");
  sl_procs_shutdown(&r.procs, "the sandbox is shutting down");
  sl_watches_shutdown(&r.watches, "the sandbox is shutting down");
  rc = sl_sandbox_destroy(&r.sb);
  if (rc < 0) RLOG("cleanup: some cgroups could not be removed");
  if (r.shutdown) {
    sl_link_emit(r.link, SL_OP_SHUTDOWN_REPLY, r.shutdown, json_pack("{s:s, s:b}", "status", "ok", "restart", 0));
    sl_msg_free(&r.shutdown);
  }
  r.exit_code = r.state == ST_ERROR ? 1 : 0;
  /* whatever ZeroMQ still holds (the reply, a final hello) gets a short chance to leave */
  for (int64_t until = sl_now_ms() + LINGER_MS; sl_link_congested(r.link) && sl_now_ms() < until;) {
    usleep(5000);
    sl_link_pump(r.link);
  }
  sl_link_destroy(&r.link, LINGER_MS);
  sl_config_free(&r.cfg);
  RLOG("exit %d", r.exit_code);
  return r.exit_code;
}
