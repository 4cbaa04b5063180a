/* fuzz_common.h — shared by the fuzz targets: the libFuzzer entry point's prototype and an abort that
 * names the broken invariant (libFuzzer and the replay runner both report it as a crash). */
#ifndef SL_FUZZ_COMMON_H
#define SL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                   \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);          \
      abort();                                                                              \
    }                                                                                       \
  } while (0)

#endif
