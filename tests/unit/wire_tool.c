/* wire_tool.c — signs and verifies Jupyter wire frames with protocol/ so a Python test can compare
 * the results with jupyter_client.session.Session (tests/unit/test_jupyter_crosscheck.py).
 *
 *   wire_tool sign KEY   < specs    one JSON object per line:
 *                                     {"msg_type":s, "session":s, "content":{}, "metadata":{}?,
 *                                      "parent_header":{}?, "idents":[hex]?, "buffers":[hex]?}
 *                                   prints each message as its frames, one line per frame ("x"
 *                                   then the frame in lowercase hex, so an empty frame is "x"),
 *                                   then an empty line.
 *   wire_tool verify KEY < frames   reads that same format (one hex line per frame, a blank line ends a
 *                                   message) and prints one JSON line per message:
 *                                     {"ok":true,"header":{},"parent_header":{},"metadata":{},
 *                                      "content":{},"idents":[hex],"buffers":[hex]}
 *                                   or {"ok":false,"error":"<sl_wire_strerror>"}.
 *                                   One signer (replay cache SL_WIRE_DEFAULT_REPLAY) serves the whole
 *                                   input, so a repeated message is refused as a replay.
 * KEY is used as raw bytes; "" means unsigned. Exit status: 0 when every message signed/verified, 1
 * when one was refused, 2 on usage or I/O errors. Every input line is capped (MAX_LINE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/wire.h"

#define MAX_LINE (2u * SL_WIRE_MAX_FRAME_BYTES + 2)
#define MAX_FRAMES (SL_WIRE_MAX_IDENTS + 6 + SL_WIRE_MAX_BUFFERS + 1)

static void put_hex(FILE *f, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) fprintf(f, "%02x", p[i]);
}

static json_t *hex_json(const void *data, size_t len) {
  char *s = malloc(2 * len + 1);
  if (!s) return NULL;
  for (size_t i = 0; i < len; i++) sprintf(s + 2 * i, "%02x", ((const unsigned char *)data)[i]);
  s[2 * len] = 0;
  json_t *j = json_string(s);
  free(s);
  return j;
}

/* Decodes hex text into a new buffer; -1 on odd length or a non-hex digit. */
static int unhex(const char *hex, size_t hlen, unsigned char **out, size_t *olen) {
  if (hlen % 2) return -1;
  unsigned char *b = malloc(hlen / 2 + 1);
  if (!b) return -1;
  for (size_t i = 0; i < hlen / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      free(b);
      return -1;
    }
    b[i] = (unsigned char)v;
  }
  *out = b;
  *olen = hlen / 2;
  return 0;
}

static int add_blobs(json_t *arr, sl_blob_t **blobs, size_t *n) {
  size_t i;
  json_t *v;
  if (!arr) return 0;
  if (!json_is_array(arr) || json_array_size(arr) > SL_WIRE_MAX_BUFFERS) return -1;
  *blobs = calloc(json_array_size(arr) + 1, sizeof(sl_blob_t));
  if (!*blobs) return -1;
  json_array_foreach(arr, i, v) {
    const char *h = json_string_value(v);
    unsigned char *b;
    size_t len;
    if (!h || unhex(h, strlen(h), &b, &len) < 0) return -1;
    (*blobs)[i] = (sl_blob_t){b, len};
    (*n)++;
  }
  return 0;
}

static int do_sign(sl_signer_t *signer) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if ((size_t)len > MAX_LINE) return 2;
    json_error_t e;
    json_t *spec = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &e);
    const char *type = json_string_value(json_object_get(spec, "msg_type"));
    if (!spec || !type) {
      fprintf(stderr, "wire_tool: bad spec: %s\n", spec ? "no msg_type" : e.text);
      json_decref(spec);
      rc = 2;
      break;
    }
    json_t *content = json_object_get(spec, "content");
    sl_msg_t *m = sl_msg_new(type, json_string_value(json_object_get(spec, "session")), NULL,
                             content ? json_incref(content) : NULL);
    json_t *md = json_object_get(spec, "metadata"), *ph = json_object_get(spec, "parent_header");
    if (m && md) json_object_update(m->metadata, md);
    if (m && ph) json_object_update(m->parent_header, ph);
    sl_frames_t f;
    if (!m || add_blobs(json_object_get(spec, "idents"), &m->idents, &m->n_idents) < 0 ||
        add_blobs(json_object_get(spec, "buffers"), &m->buffers, &m->n_buffers) < 0 ||
        sl_wire_encode(signer, m, &f) != SL_WIRE_OK) {
      fprintf(stderr, "wire_tool: cannot build the message\n");
      sl_msg_free(&m);
      json_decref(spec);
      rc = 2;
      break;
    }
    for (size_t i = 0; i < f.n; i++) {
      putchar('x');
      put_hex(stdout, f.parts[i].data, f.parts[i].len);
      putchar('\n');
    }
    putchar('\n');
    sl_frames_free(&f);
    sl_msg_free(&m);
    json_decref(spec);
  }
  free(line);
  return rc;
}

static json_t *blobs_json(const sl_blob_t *b, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++) json_array_append_new(a, hex_json(b[i].data, b[i].len));
  return a;
}

/* Verifies one message's frames and prints its result line. Returns 0 (accepted) or 1 (refused). */
static int verify_one(sl_signer_t *signer, unsigned char **bufs, size_t *lens, size_t n) {
  sl_frame_view_t views[MAX_FRAMES];
  for (size_t i = 0; i < n; i++) views[i] = (sl_frame_view_t){bufs[i], lens[i]};
  sl_msg_t *m = NULL;
  sl_wire_err_t e = sl_wire_decode(signer, views, n, &m);
  json_t *out;
  if (e == SL_WIRE_OK) {
    out = json_pack("{s:b, s:O, s:O, s:O, s:O, s:o, s:o}", "ok", 1, "header", m->header, "parent_header",
                    m->parent_header, "metadata", m->metadata, "content", m->content, "idents",
                    blobs_json(m->idents, m->n_idents), "buffers", blobs_json(m->buffers, m->n_buffers));
  } else {
    out = json_pack("{s:b, s:s}", "ok", 0, "error", sl_wire_strerror(e));
  }
  char *s = out ? json_dumps(out, JSON_COMPACT) : NULL;
  printf("%s\n", s ? s : "{\"ok\":false,\"error\":\"out of memory\"}");
  free(s);
  json_decref(out);
  sl_msg_free(&m);
  return e == SL_WIRE_OK ? 0 : 1;
}

static int do_verify(sl_signer_t *signer) {
  unsigned char *bufs[MAX_FRAMES];
  size_t lens[MAX_FRAMES], n = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0, fatal = 0;
  for (;;) {
    len = getline(&line, &cap, stdin);
    if (len > 0 && (size_t)len > MAX_LINE) {
      fatal = 1;
      break;
    }
    if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
    if (len <= 0) { /* blank line or EOF ends a message */
      if (n) rc |= verify_one(signer, bufs, lens, n);
      for (size_t i = 0; i < n; i++) free(bufs[i]);
      n = 0;
      if (len < 0) break;
      continue;
    }
    if (n == MAX_FRAMES || line[0] != 'x' || unhex(line + 1, (size_t)len - 1, &bufs[n], &lens[n]) < 0) {
      fprintf(stderr, "wire_tool: bad frame line or too many frames\n");
      fatal = 1;
      break;
    }
    n++;
  }
  for (size_t i = 0; i < n; i++) free(bufs[i]);
  free(line);
  return fatal ? 2 : rc;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "sign") != 0 && strcmp(argv[1], "verify") != 0)) {
    fprintf(stderr, "usage: wire_tool sign|verify KEY\n");
    return 2;
  }
  sl_signer_t *signer = sl_signer_new(argv[2], strlen(argv[2]), SL_WIRE_DEFAULT_REPLAY);
  if (!signer) return 2;
  int rc = strcmp(argv[1], "sign") == 0 ? do_sign(signer) : do_verify(signer);
  sl_signer_destroy(&signer);
  if (fflush(stdout) != 0) rc = 2;
  return rc;
}
