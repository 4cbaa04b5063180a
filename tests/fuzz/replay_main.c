/* replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput over every file of the corpus
 * directories (or files) named on the command line, so the corpus is a regression test in ctest
 * without libFuzzer. Files are replayed in name order; each is read whole (capped at REPLAY_MAX_INPUT).
 * Exit 0 when every input ran (a broken invariant aborts), 2 on I/O errors or an empty corpus. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#define REPLAY_MAX_INPUT (16u << 20)

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  uint8_t *buf = malloc(REPLAY_MAX_INPUT + 1);
  size_t n = buf ? fread(buf, 1, REPLAY_MAX_INPUT + 1, f) : 0;
  int err = !buf || ferror(f) || n > REPLAY_MAX_INPUT;
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: %s: unreadable or over %u bytes\n", path, REPLAY_MAX_INPUT);
    free(buf);
    return -1;
  }
  /* an exact-size copy so ASan sees reads past the end of the input */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*g));
      if (!g) {
        rc = -1;
        break;
      }
      names = g;
    }
    if (!(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2))) {
      rc = -1;
      break;
    }
    sprintf(names[n++], "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (run_file(names[i]) < 0) rc = -1;
      else (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  size_t count = 0;
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    struct stat st;
    if (stat(argv[i], &st) < 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
      rc = run_dir(argv[i], &count);
    } else if (run_file(argv[i]) == 0) {
      count++;
    } else {
      rc = -1;
    }
  }
  printf("replayed %zu inputs\n", count);
  return rc < 0 || count == 0 ? 2 : 0;
}
