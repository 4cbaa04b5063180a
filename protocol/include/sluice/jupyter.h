/* jupyter.h — what the gateway's Jupyter personality (Kernel Gateway "jupyter-websocket") puts on the
 * wire, with no I/O: the two websocket framings of /api/kernels/{id}/channels, the messages the gateway
 * builds itself, and the REST models (kernel specs, kernel model, create body with its KERNEL_* env).
 * Shapes and quirks: shared/reference/jupyter-compat.md; prose in protocol/docs/messages.md §Jupyter.
 *
 * Framings of one websocket message:
 *  - legacy (no subprotocol; what jupyter_server in gateway mode forces): a text frame holding
 *    {"header","msg_id","msg_type","parent_header","metadata","content","buffers":[],"channel"}; when a
 *    message carries buffers, a binary frame: u32 BE nbufs (= 1 + buffers), nbufs × u32 BE offsets
 *    from the frame start (offset[0] = 4·(nbufs+1)), the JSON (without buffers), then each buffer.
 *  - v1.kernel.websocket.jupyter.org: every message a binary frame: u64 LE n (= 6 + buffers), n × u64
 *    LE offsets, then the parts channel (UTF-8), header, parent_header, metadata, content (JSON each),
 *    buffers; offset[0] = 8·(1+n); the parts end at the frame's end.
 * Incoming messages without "channel" are shell; missing parent_header/metadata/content become {}.
 *
 * Ownership: decoders return NEW sl_msg_t (sl_msg_free); encoders return NEW malloc'd buffers with
 * `pre` bytes of headroom (for LWS_PRE) before the frame. json_t arguments are borrowed unless marked
 * STOLEN.
 */
#ifndef SLUICE_JUPYTER_H
#define SLUICE_JUPYTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/api.h"
#include "sluice/msg.h"

#define SL_JF_SUBPROTOCOL "v1.kernel.websocket.jupyter.org"
#define SL_JF_MAX_FRAME (12u << 20)  /* one websocket message, either way (code is ≤ 4 MiB) */
#define SL_JF_MAX_BUFFERS 16
#define SL_JF_CHANNEL_MAX 16

typedef enum { SL_JF_LEGACY = 0, SL_JF_V1 = 1 } sl_jf_proto_t;

/* Decodes one complete websocket message (is_binary: it came in a binary frame). On success returns 0,
 * *out (NEW) and channel ("shell" when absent); else -1 and a reason in err. Checks: header is an
 * object with non-empty string msg_id and msg_type; parent_header/metadata/content objects; channel one
 * of shell|control|stdin|iopub; at most SL_JF_MAX_BUFFERS buffers; offsets inside the frame. */
int sl_jf_decode(sl_jf_proto_t proto, int is_binary, const uint8_t *data, size_t len, sl_msg_t **out,
                 char channel[SL_JF_CHANNEL_MAX], char *err, size_t errlen);

/* Encodes msg for channel. Returns a NEW buffer of pre + *len bytes (frame at buf + pre) and sets
 * *is_binary; NULL on ENOMEM or when the frame would exceed SL_JF_MAX_FRAME. */
unsigned char *sl_jf_encode(sl_jf_proto_t proto, const sl_msg_t *msg, const char *channel, size_t pre,
                            size_t *len, int *is_binary);

/* A message the kernel sends: header {msg_id (new), session, username "kernel", date (now, µs, Z),
 * msg_type, version}; parent_header = a copy of parent (NULL → {}); content STOLEN (NULL → {}). */
sl_msg_t *sl_jf_message(const char *msg_type, const char *session, const json_t *parent, json_t *content);

/* kernel_info_reply content for kernel spec name (python3, bash, javascript; unknown → python3) whose
 * language's version is lang_version ("3.11", "5.2.15", "20.1.0"). NEW. */
json_t *sl_jk_kernel_info(const char *name, const char *lang_version);

/* One kernel spec model {name, spec{argv, env, display_name, language, interrupt_mode, metadata},
 * resources{logo-64x64, ...}} for a known name (python3, bash, javascript), else NULL. base_url: "" or "/prefix". NEW. */
json_t *sl_jk_spec(const char *name, const char *base_url);
/* {"default": "python3", "kernelspecs": {...}}. NEW. */
json_t *sl_jk_specs(const char *base_url);
/* The kernel specs' language in Sluice terms ("python3" → "python", "bash", "javascript"), or NULL when
 * unknown. */
const char *sl_jk_spec_language(const char *name);

/* Kernel model {id, name, last_activity (%Y-%m-%dT%H:%M:%S.%fZ, six digits), execution_state,
 * connections}. last_activity_us: microseconds since the epoch. NEW. */
json_t *sl_jk_kernel_model(const char *id, const char *name, int64_t last_activity_us, const char *state,
                           unsigned connections);
/* Formats t_us as 2026-01-01T00:00:00.000000Z into out (≥ 32 bytes). */
void sl_jk_time(int64_t t_us, char out[32]);

/* POST /api/kernels body {"name"?, "env"?, "path"?} (body may be NULL = {}). On success returns 0,
 * *kname (borrowed from a static table) and *env_out (NEW object of the accepted variables): KERNEL_*
 * keys only, values strings ≤ 4096 bytes without $ ` \ \n \r or NUL (Enterprise Gateway's rule);
 * other keys are dropped. Errors: 400 env not an object / bad value / bad name type, 404 unknown
 * kernel name (-1, err filled). */
int sl_jk_parse_create(json_t *body, const char **kname, json_t **env_out, sl_api_err_t *err);

#endif
