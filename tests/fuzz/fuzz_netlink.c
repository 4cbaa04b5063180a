/* fuzz_netlink.c — the runner's netlink reply parsers (kernel-runner/nl.h) on arbitrary datagrams.
 * Input: 4 bytes of the request's sequence number (little endian), then one received datagram.
 * Invariants: sl_nl_parse returns 1 (with *err a negative errno or 0), 0, -EBADMSG or the callback's value;
 * every payload the callback gets lies inside the datagram; an attribute found lies inside its buffer;
 * a table comment is NUL-terminated, shorter than the output and as long as returned. */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "nl.h"

typedef struct {
  const uint8_t *lo, *hi;
  int calls;
} span_t;

static int cb(void *ud, uint16_t type, const void *payload, size_t len) {
  span_t *s = ud;
  const uint8_t *p = payload;
  FUZZ_ASSERT(p >= s->lo && p <= s->hi && len <= (size_t)(s->hi - p));
  s->calls++;
  (void)type;
  size_t alen = 0;
  for (uint16_t t = 0; t < 8; t++) {
    const uint8_t *a = sl_nl_attr_find(p, len, t, &alen);
    if (a) FUZZ_ASSERT(a >= p && a <= p + len && alen <= (size_t)(p + len - a));
  }
  char out[16];
  memset(out, 'x', sizeof out);
  int n = sl_nl_nft_table_comment(p, len, out, sizeof out);
  FUZZ_ASSERT(n == -EBADMSG || (n >= 0 && (size_t)n < sizeof out && out[n] == 0 && strlen(out) == (size_t)n));
  return s->calls > 1000 ? -E2BIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint32_t seq = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
  span_t s = {data + 4, data + size, 0};
  int err = 12345;
  int rc = sl_nl_parse(data + 4, size - 4, seq, &err, cb, &s);
  FUZZ_ASSERT(rc == 1 || rc == 0 || rc == -EBADMSG || rc == -E2BIG);
  if (rc == 1) FUZZ_ASSERT(err <= 0 && err >= -4095);
  else FUZZ_ASSERT(err == 12345);
  return 0;
}
