/* fuzz_ops_validate.c — JSON → message → sl_op_validate.
 *
 * Input: the msg_type on the first line, then the content as JSON (any JSON value, so non-objects
 * are tried too). Invariants: the verdict does not depend on the error buffer's size, a refusal
 * explains itself, and an accepted message has the guarantees the runner relies on. */
#include <string.h>

#include "fuzz_common.h"
#include "sluice/ops.h"

static void check_accepted(const sl_msg_t *m) {
  const char *type = sl_msg_type(m);
  json_t *c = m->content;
  FUZZ_ASSERT(json_is_object(c));
  if (!strcmp(type, SL_OP_EXECUTE_REQUEST)) {
    FUZZ_ASSERT(json_is_string(json_object_get(c, "code")));
    FUZZ_ASSERT(json_string_length(json_object_get(c, "code")) <= SL_OP_MAX_CODE_BYTES);
  }
  if (!strcmp(type, SL_OP_EXEC_REQUEST)) {
    json_t *cmd = json_object_get(c, "command"), *argv = json_object_get(c, "argv");
    FUZZ_ASSERT(!cmd != !argv);
    FUZZ_ASSERT(cmd ? json_is_string(cmd) : json_array_size(argv) > 0);
  }
  json_t *t = json_object_get(c, "timeout_ms");
  if (t && (!strcmp(type, SL_OP_EXECUTE_REQUEST) || !strcmp(type, SL_OP_EXEC_REQUEST)))
    FUZZ_ASSERT(json_is_integer(t) && json_integer_value(t) >= 0 &&
                json_integer_value(t) <= (json_int_t)SL_OP_MAX_TIMEOUT_MS);
  if (!strcmp(type, SL_OP_STREAM)) {
    const char *name = json_string_value(json_object_get(c, "name"));
    FUZZ_ASSERT(name && (!strcmp(name, "stdout") || !strcmp(name, "stderr")));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t tlen = nl ? (size_t)(nl - data) : size;
  if (tlen > 64) return 0;
  char type[65];
  memcpy(type, data, tlen);
  type[tlen] = 0; /* an embedded NUL just shortens it */
  const char *body = nl ? (const char *)nl + 1 : "";
  size_t blen = nl ? size - tlen - 1 : 0;

  json_error_t e;
  json_t *content = json_loadb(body, blen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
  if (!content) return 0;
  sl_msg_t *m = sl_msg_new(type, "fuzz", NULL, content);
  if (!m) return 0; /* sl_msg_new consumed content */
  char err[256], tiny[1];
  err[0] = 0;
  int rc = sl_op_validate(m, err, sizeof err);
  FUZZ_ASSERT(rc == 0 || rc == -1);
  FUZZ_ASSERT(rc == 0 ? err[0] == 0 : err[0] != 0);
  FUZZ_ASSERT(sl_op_validate(m, tiny, sizeof tiny) == rc && tiny[0] == 0);
  FUZZ_ASSERT(sl_op_validate(m, NULL, 0) == rc);
  if (rc == 0) check_accepted(m);
  (void)sl_op_is_reply(type);
  sl_msg_free(&m);
  return 0;
}
