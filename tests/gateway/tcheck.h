/* tcheck.h — minimal assertions for the gateway unit tests: a failed CHECK prints and counts. */
#ifndef TCHECK_H
#define TCHECK_H
#include <stdio.h>

static int t_failures;
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      t_failures++;                                                              \
    }                                                                            \
  } while (0)
#define T_DONE()                                                   \
  do {                                                             \
    if (t_failures) fprintf(stderr, "%d check(s) failed\n", t_failures); \
    return t_failures ? 1 : 0;                                     \
  } while (0)
#endif
