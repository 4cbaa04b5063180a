/* proctree.c — walking the sandbox's processes from the host (proctree.h). */
#include "proctree.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rutil.h"

size_t sl_proc_children(pid_t pid, pid_t *out, size_t max) {
  char path[64];
  size_t n = 0;
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] == '.') continue;
    char cpath[320];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, e->d_name);
    char *text = sl_read_file(cpath, 1u << 20, NULL);
    if (!text) continue;
    for (char *p = text, *end; *p && n < max; p = end) {
      long v = strtol(p, &end, 10);
      if (end == p) break;
      out[n++] = (pid_t)v;
    }
    free(text);
  }
  closedir(d);
  return n;
}

pid_t sl_proc_host_pid(pid_t parent, pid_t ns_pid) {
  pid_t kids[256];
  size_t n = sl_proc_children(parent, kids, 256);
  for (size_t i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)kids[i]);
    char *st = sl_read_file(path, 64u << 10, NULL);
    if (!st) continue;
    char *line = strstr(st, "\nNSpid:");
    long last = -1;
    if (line) {
      char *p = line + 7, *end;
      for (;;) {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        last = v;
        p = end;
      }
    }
    free(st);
    if (last == ns_pid) return kids[i];
  }
  return -ESRCH;
}

static int has(const pid_t *v, size_t n, pid_t p) {
  for (size_t i = 0; i < n; i++)
    if (v[i] == p) return 1;
  return 0;
}

int sl_proc_kill_tree_except(pid_t root, const pid_t *keep, size_t nkeep) {
  static pid_t tree[SL_PROC_MAX_TREE];
  size_t n = 0;
  pid_t kids[512];
  /* stop-walk until a round finds nothing new: a stopped process can neither fork nor exit */
  for (int round = 0; round < 16; round++) {
    size_t before = n;
    size_t k = sl_proc_children(root, kids, 512);
    for (size_t i = 0; i < k && n < SL_PROC_MAX_TREE; i++)
      if (!has(keep, nkeep, kids[i]) && !has(tree, n, kids[i])) {
        kill(kids[i], SIGSTOP);
        tree[n++] = kids[i];
      }
    for (size_t j = 0; j < n && n < SL_PROC_MAX_TREE; j++) {
      k = sl_proc_children(tree[j], kids, 512);
      for (size_t i = 0; i < k && n < SL_PROC_MAX_TREE; i++)
        if (!has(tree, n, kids[i])) {
          kill(kids[i], SIGSTOP);
          tree[n++] = kids[i];
        }
    }
    if (n == before) break;
  }
  for (size_t j = 0; j < n; j++) kill(tree[j], SIGKILL);
  return (int)n;
}
