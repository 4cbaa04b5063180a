/* sluice-zygote — one per image: a Python interpreter with the image's modules imported that forks
 * each sandbox's default Python driver (protocol/docs/zygote.md, kernel-runner/zygote.h).
 *
 * Started by the gateway (gateway/zygote.c) with argv = the image's Python driver command (so the
 * children's /proc/self/cmdline is what a cold driver shows), env = the image's env plus its
 * zygote.env, and fd 3 = a pipe carrying one JSON object {"image_json", "drivers_dir", "socket"}
 * (host paths travel there, never in argv or environ, which the children inherit as memory).
 *
 * Steps: config → own mount namespace with the image's root filesystem (the same paths a sandbox sees,
 * so nothing Python records at import time names a host path, and imports never write to the host) →
 * Python with the image's zygote.preload imported, the driver's backend built, gc.freeze() → a
 * single-thread check → the socket (bound as NAME.tmp, renamed into place when ready) → one loop:
 * accept a runner (same uid only), fork a child into its sandbox, answer, reap children.
 *
 * Nothing is owned across iterations except the config, the listening socket and our pid namespace fd.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ns_mount.h"
#include "rutil.h"
#include "sluice/driver.h"
#include "zygote.h"

#define ZLOG(fmt, ...) fprintf(stderr, "sluice-zygote[%d]: " fmt "\n", (int)getpid(), ##__VA_ARGS__)
#define CONFIG_FD 3
#define RECV_WAIT_MS 2000
#define CHILD_WAIT_MS 5000

typedef struct {
  json_t *conf;    /* fd 3's object */
  json_t *image;   /* image.json */
  int self_pidns;  /* our own pid namespace (pid_for_children goes back to it after each fork) */
  sl_zygote_ctx_t zc;    /* for the children: the host's / (O_PATH) and the compiled seccomp filter */
  sl_seccomp_prog_t bpf;
  int lsock;
  int sfd;         /* SIGCHLD */
  PyObject *mod;   /* sluice_zygote */
} zygote_t;

static json_t *read_config(int fd) {
  char *buf = malloc(SL_CFG_MAX_JSON + 1);
  size_t len = 0;
  ssize_t n;
  if (!buf) return NULL;
  while (len < SL_CFG_MAX_JSON && (n = read(fd, buf + len, SL_CFG_MAX_JSON - len)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    len += (size_t)n;
  }
  json_t *j = json_loadb(buf, len, 0, NULL);
  free(buf);
  return j;
}

/* The image's root filesystem as our own (ns_mount.c, as a sandbox gets it, minus the workspace). */
static int enter_rootfs(zygote_t *z) {
  char err[512] = "";
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) return ZLOG("unshare: %s", strerror(errno)), -1;
  if (sethostname("sluice-zygote", 13) < 0) return ZLOG("hostname: %s", strerror(errno)), -1;
  sl_mount_spec_t ms = {json_object_get(z->image, "rootfs"), json_string_value(json_object_get(z->conf, "drivers_dir")),
                        "sluice-zygote", 0, 0, 0, NULL};
  if (sl_ns_mount_init_child(&ms, err, sizeof err) < 0) return ZLOG("root filesystem: %s", err), -1;
  return 0;
}

static int py_call_ok(PyObject *r, const char *what) {
  if (r) return Py_DECREF(r), 0;
  ZLOG("%s failed:", what);
  PyErr_Print();
  return -1;
}

/* Python as the image's driver command would start it: -u (unbuffered stdio), -X utf8, sys.argv =
 * [script], sys.executable the interpreter; then sluice_zygote.preload(modules). */
static int start_python(zygote_t *z, int argc, char **argv) {
  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  pre.utf8_mode = 1;
  PyStatus st = Py_PreInitialize(&pre);
  if (PyStatus_Exception(st)) return ZLOG("python preinit: %s", st.err_msg ? st.err_msg : "?"), -1;
  PyConfig c;
  PyConfig_InitPythonConfig(&c);
  c.buffered_stdio = 0;
  c.parse_argv = 0;
  c.write_bytecode = 0;
  const char *exe = argc > 0 ? argv[0] : "/usr/bin/python3";
  char *script = argc > 1 ? argv[argc - 1] : "";
  st = PyConfig_SetBytesString(&c, &c.program_name, exe);
  if (!PyStatus_Exception(st)) st = PyConfig_SetBytesString(&c, &c.executable, exe);
  if (!PyStatus_Exception(st)) st = PyConfig_SetBytesArgv(&c, 1, &script);
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&c);
  PyConfig_Clear(&c);
  if (PyStatus_Exception(st)) return ZLOG("python init: %s", st.err_msg ? st.err_msg : "?"), -1;
  /* the script's directory first on sys.path, as `python3 script` has it */
  if (PyRun_SimpleString("import os, sys\nsys.path.insert(0, os.path.dirname(sys.argv[0]))\n") < 0)
    return ZLOG("sys.path"), -1;
  if (!(z->mod = PyImport_ImportModule("sluice_zygote"))) return py_call_ok(NULL, "import sluice_zygote");
  char *mods = json_dumps(json_object_get(json_object_get(z->image, "zygote"), "preload"), JSON_COMPACT);
  PyObject *r = PyObject_CallMethod(z->mod, "preload", "s", mods ? mods : "[]");
  free(mods);
  return py_call_ok(r, "preload");
}

static int count_dir(const char *path) {
  DIR *d = opendir(path);
  int n = 0;
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Bound as NAME.tmp in the run dir (through the dir fd: the host path is not in our mount namespace)
 * and renamed into place: a runner that finds the socket finds a zygote ready to fork. */
static int open_socket(zygote_t *z, int rundir, const char *name) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", rundir, tmp) >= sizeof a.sun_path)
    return ZLOG("socket name too long"), -1;
  unlinkat(rundir, tmp, 0);
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  mode_t old = umask(077);
  int rc = s < 0 ? -1 : bind(s, (struct sockaddr *)&a, sizeof a);
  umask(old);
  if (rc < 0 || listen(s, 128) < 0 || renameat(rundir, tmp, rundir, name) < 0) {
    ZLOG("socket: %s", strerror(errno));
    if (s >= 0) close(s);
    return -1;
  }
  z->lsock = s;
  return 0;
}

static void reply(int conn, pid_t pid, pid_t ns_pid, const char *error) {
  json_t *r = json_pack("{s:s, s:I, s:I}", "type", "zygote_spawned", "pid", (json_int_t)pid, "ns_pid", (json_int_t)ns_pid);
  if (error) json_object_set_new(r, "error", json_string(error));
  if (sl_ctl_send(conn, r, NULL, 0) < 0) ZLOG("reply lost: %s", strerror(errno));
  json_decref(r);
}

static pid_t ns_pid_of(pid_t pid) {
  char path[64], *text, *p;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (!(text = sl_read_file(path, 1 << 16, NULL))) return 0;
  pid_t last = 0;
  if ((p = strstr(text, "\nNSpid:"))) {
    char *end;
    for (p += 7;; p = end) {
      long v = strtol(p, &end, 10);
      if (end == p) break;
      last = (pid_t)v;
    }
  }
  free(text);
  return last;
}

/* The child: into the sandbox, report, then the driver. Never returns. */
static void __attribute__((noreturn)) child(zygote_t *z, json_t *req, int *fds, int st) {
  char err[512] = "";
  if (sl_zygote_enter(req, fds, &z->zc, &st, err, sizeof err) < 0) {
    if (write(st, err, strlen(err)) < 0) { /* the zygote gave up on us */ }
    _exit(126);
  }
  prctl(PR_SET_NAME, "python3", 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *env = json_dumps(json_object_get(req, "env"), JSON_COMPACT);
  json_decref(req);
  /* inside: the zygote can serve the next runner while Python wakes up here */
  if (write(st, "k", 1) != 1) _exit(126);
  close(st);
  PyOS_AfterFork_Child();
  PyObject *r = PyObject_CallMethod(z->mod, "child", "s", env ? env : "[]");
  free(env);
  int rc = 1;
  if (r) {
    rc = (int)PyLong_AsLong(r);
    Py_DECREF(r);
  } else if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
    rc = 0;
    PyErr_Clear();
  } else {
    PyErr_Print();
  }
  if (Py_FinalizeEx() < 0 && rc == 0) rc = 120;
  _exit(rc);
}

static void serve(zygote_t *z, int conn) {
  struct ucred cr;
  socklen_t cl = sizeof cr;
  /* only the gateway's own user (runners): a sandbox's uid maps elsewhere on the host */
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != geteuid()) return;
  struct pollfd p = {conn, POLLIN, 0};
  if (poll(&p, 1, RECV_WAIT_MS) <= 0) return;
  json_t *req = NULL;
  int fds[SL_CTL_MAX_FDS], st[2] = {-1, -1};
  size_t nfds = 0;
  if (sl_ctl_recv(conn, &req, fds, &nfds) <= 0) return;
  const char *type = json_string_value(json_object_get(req, "type"));
  pid_t pid = -1;
  char err[512] = "";
  if (strcmp(type, "zygote_spawn") || nfds != SL_ZYGOTE_NFDS) {
    snprintf(err, sizeof err, "want zygote_spawn with %d fds", SL_ZYGOTE_NFDS);
  } else if (count_dir("/proc/self/task") != 1) {
    snprintf(err, sizeof err, "the zygote is not single-threaded");
  } else if (pipe2(st, O_CLOEXEC) < 0) {
    snprintf(err, sizeof err, "pipe: %s", strerror(errno));
  } else if (setns(fds[5], CLONE_NEWPID) < 0) { /* our next child is born in the sandbox's pid namespace */
    snprintf(err, sizeof err, "pid namespace: %s", strerror(errno));
  } else {
    fflush(NULL);
    PyOS_BeforeFork();
    pid = fork();
    if (pid == 0) {
      close(st[0]);
      child(z, req, fds, st[1]);
    }
    PyOS_AfterFork_Parent();
    if (setns(z->self_pidns, CLONE_NEWPID) < 0) {
      ZLOG("cannot return to our pid namespace: %s", strerror(errno));
      _exit(1); /* every later child would land in that sandbox: better no zygote (runners go cold) */
    }
    if (pid < 0) snprintf(err, sizeof err, "fork: %s", strerror(errno));
  }
  for (size_t i = 0; i < nfds; i++) close(fds[i]);
  if (st[1] >= 0) close(st[1]);
  if (pid > 0) {
    struct pollfd sp = {st[0], POLLIN, 0};
    ssize_t n = poll(&sp, 1, CHILD_WAIT_MS) > 0 ? read(st[0], err, sizeof err - 1) : -1;
    if (n == 1 && err[0] == 'k') {
      err[0] = 0;
    } else {
      if (n <= 0) snprintf(err, sizeof err, "the child did not enter the sandbox");
      else err[n] = 0;
      kill(pid, SIGKILL);
    }
  }
  if (st[0] >= 0) close(st[0]);
  pid_t nsp = pid > 0 && !err[0] ? ns_pid_of(pid) : 0;
  if (pid > 0 && !err[0] && nsp <= 0) snprintf(err, sizeof err, "no pid in the sandbox");
  if (err[0]) ZLOG("spawn refused: %s", err);
  reply(conn, err[0] ? 0 : pid, err[0] ? 0 : nsp, err[0] ? err : NULL);
  json_decref(req);
}

static void reap(zygote_t *z) {
  struct signalfd_siginfo si;
  while (read(z->sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

static int run(int argc, char **argv) {
  static zygote_t z;
  setvbuf(stderr, NULL, _IOLBF, 0);
  /* the gateway's death ends us; our children (in their sandboxes) are not affected */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  z.conf = read_config(CONFIG_FD);
  close(CONFIG_FD);
  const char *sock = json_string_value(json_object_get(z.conf, "socket"));
  const char *img = json_string_value(json_object_get(z.conf, "image_json"));
  if (!sock || !img || !json_string_value(json_object_get(z.conf, "drivers_dir")))
    return ZLOG("fd 3 must carry {image_json, drivers_dir, socket}"), 2;
  json_error_t je;
  if (!(z.image = json_load_file(img, 0, &je)) || !json_is_object(json_object_get(z.image, "zygote")))
    return ZLOG("image %s: no zygote object (%s)", img, je.text), 2;
  char rundir_path[PATH_MAX], name[PATH_MAX];
  snprintf(rundir_path, sizeof rundir_path, "%s", sock);
  snprintf(name, sizeof name, "%s", sock);
  int rundir = open(dirname(rundir_path), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rundir < 0) return ZLOG("run dir: %s", strerror(errno)), 1;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  if ((z.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) return ZLOG("signalfd"), 1;
  if ((z.zc.hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return ZLOG("/: %s", strerror(errno)), 1;
  sl_seccomp_opts_t so = {0};
  int rc = sl_seccomp_compile(&so, &z.bpf);
  if (rc < 0) return ZLOG("seccomp filter: %s", strerror(-rc)), 1;
  z.zc.bpf = &z.bpf;
  if (enter_rootfs(&z) < 0) return 1;
  if ((z.self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0) return ZLOG("pid ns: %s", strerror(errno)), 1;
  int64_t t0 = sl_now_ms();
  if (start_python(&z, argc, argv) < 0) return 1;
  int threads = count_dir("/proc/self/task");
  if (threads != 1) return ZLOG("%d threads after preload: a fork would lose them (set the libraries to one thread)", threads), 1;
  if (open_socket(&z, rundir, basename(name)) < 0) return 1;
  close(rundir);
  ZLOG("ready in %lld ms", (long long)(sl_now_ms() - t0));
  for (;;) {
    struct pollfd p[2] = {{z.lsock, POLLIN, 0}, {z.sfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return ZLOG("poll: %s", strerror(errno)), 1;
    if (p[1].revents) reap(&z);
    if (p[0].revents & POLLIN) {
      int c = accept4(z.lsock, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) {
        serve(&z, c);
        close(c);
      }
      reap(&z);
    }
  }
}

int main(int argc, char **argv) {
  int rc = run(argc, argv);
  /* _exit: no interpreter teardown or sanitizer leak scan of a 100 MB heap on the way out */
  fflush(stderr);
  _exit(rc);
}
