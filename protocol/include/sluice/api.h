/* api.h — the REST API's JSON: request parsing/validation and response builders (docs/API.md).
 *
 * No I/O. The gateway hands in request bodies and runner messages and gets JSON to send back; this is the
 * only code that knows the REST field names.
 *
 * Ownership: every function returning json_t * returns a NEW reference (caller decrefs) unless it says
 * otherwise. Arguments marked "stolen" are consumed even on failure; everything else is borrowed.
 * sl_api_exec_acc_t / sl_api_code_acc_t are created by *_new and freed by *_free (which NULLs the pointer).
 */
#ifndef SLUICE_API_H
#define SLUICE_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SL_API_MAX_NAME 63                  /* names and namespaces: DNS labels */
#define SL_API_MAX_STREAM_BYTES (1u << 20)  /* exec: kept per stream; code: kept per log stream */
#define SL_API_MAX_OUTPUT_BYTES (2u << 20)  /* exec: the interleaved "output" */
#define SL_API_MAX_RESULT_BYTES (32u << 20) /* code: sum over results */
#define SL_API_MAX_RESULTS 1000
#define SL_API_MAX_LOG_CHUNKS 10000
#define SL_API_DEFAULT_TIMEOUT_S 300
#define SL_API_DEFAULT_CODE_TIMEOUT_MS (600u * 1000u)

/* An HTTP error: status, snake_case code, human message. */
typedef struct {
  int status;
  char code[48];
  char message[256];
} sl_api_err_t;

/* Fills err and returns -1 (for `return sl_api_fail(...)`). */
int sl_api_fail(sl_api_err_t *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The HTTP status for an error code a runner's file operation answers with (not_found → 404, forbidden →
 * 403, bad_request → 400, conflict → 409, no_space → 507, too_many → 429, sandbox_gone → 502; else 500). */
int sl_api_fs_status(const char *code);

/* {"data": data}; data stolen. */
json_t *sl_api_envelope_data(json_t *data);
/* {"error": {"code", "message"}}. */
json_t *sl_api_envelope_error(const char *code, const char *message);
/* Compact serialisation of obj (borrowed) into a new malloc'd string; *len its length. NULL on ENOMEM. */
char *sl_api_dump(const json_t *obj, size_t *len);

/* Parses a request body: must be one JSON object, duplicate keys rejected. NULL + err (400) otherwise. */
json_t *sl_api_parse_body(const char *buf, size_t len, sl_api_err_t *err);

/* True when s is a valid sandbox name / namespace: 1..63 of [a-z0-9-], starting and ending alnum. */
int sl_api_name_valid(const char *s);
/* True when s is a valid image name: 1..63 of [a-zA-Z0-9._-], not starting with '.'. */
int sl_api_image_name_valid(const char *s);

/* Limit strings. Return 0 or -EINVAL. cpu: "500m", "1", "0.5" → millicores (> 0).
 * bytes: "512Mi", "1Gi", "2G", "1000k", "123" (plain bytes) → bytes (> 0). */
int sl_api_parse_cpu(const char *s, uint64_t *millicores);
int sl_api_parse_bytes(const char *s, uint64_t *bytes);
/* Validates a "limits" object (cpu, memory, ephemeral-storage, pids). 0, or -1 with err (422/400). */
int sl_api_validate_limits(json_t *limits, sl_api_err_t *err);

/* Capability names ("CHOWN", "cap_net_raw", ...; the CAP_ prefix and case are optional) → number
 * 0..40, SL_API_CAP_ALL for "ALL", -1 when unknown (api_policy.c). */
#define SL_API_CAP_ALL 64
int sl_api_cap_parse(const char *name);
/* Validates cap_add / cap_drop of a create record (borrowed): 0, or -1 with err 400. */
int sl_api_validate_caps(json_t *rec, sl_api_err_t *err);
/* An env file's text (KEY=VALUE lines; blank lines and '#' comments skipped; "export " and matching
 * quotes around the value stripped) merged into env (borrowed object) without overwriting keys it has
 * already. 0, or -1 with err 400 naming the line. */
int sl_api_parse_env_file(const char *text, size_t len, json_t *env, sl_api_err_t *err);
#define SL_API_MAX_ENV_FILE (1u << 20)

/* Create request, validated with strict types. On success *out is a new object holding only the known
 * fields (nulls dropped) with defaults filled in: image "python", namespace "default", timeout 300,
 * env {}, metadata {}, limits {}. name may be absent (the gateway picks one). */
int sl_api_parse_create(json_t *body, json_t **out, sl_api_err_t *err);

/* Exec request → content of a sluice_exec_request (new, in *out). */
int sl_api_parse_exec(json_t *body, json_t **out, sl_api_err_t *err);
/* Code request → content of an execute_request (new, in *out); *wait_ms gets the gateway's bound. */
int sl_api_parse_code(json_t *body, json_t **out, uint32_t *wait_ms, sl_api_err_t *err);

/* The public Sandbox object from a persisted record (borrowed) at time now. */
json_t *sl_api_sandbox_view(const json_t *record, time_t now);

/* RFC 3339 UTC ("2026-01-01T00:00:00Z") of t into out. */
void sl_api_time_str(time_t t, char out[32]);

/* --- exec: collects stream events, builds {exit_code, stdout, stderr, output, cwd, truncated, duration_ms} */
typedef struct sl_api_exec_acc sl_api_exec_acc_t;
sl_api_exec_acc_t *sl_api_exec_acc_new(void);
void sl_api_exec_acc_free(sl_api_exec_acc_t **acc);
/* name "stdout"|"stderr"; text borrowed. Returns 0 or -ENOMEM (over-cap text is counted and dropped). */
int sl_api_exec_acc_stream(sl_api_exec_acc_t *acc, const char *name, const char *text, size_t len);
/* reply: the sluice_exec_reply content (borrowed). */
json_t *sl_api_exec_acc_finish(sl_api_exec_acc_t *acc, const json_t *reply);

/* --- code: collects iopub events, builds the Execution object */
typedef struct sl_api_code_acc sl_api_code_acc_t;
sl_api_code_acc_t *sl_api_code_acc_new(void);
void sl_api_code_acc_free(sl_api_code_acc_t **acc);
/* msg_type and content (borrowed) of one runner event (stream, execute_result, display_data, error). */
int sl_api_code_acc_event(sl_api_code_acc_t *acc, const char *msg_type, const json_t *content);
/* reply: the execute_reply content (borrowed). */
json_t *sl_api_code_acc_finish(sl_api_code_acc_t *acc, const json_t *reply);
/* One Result from a MIME bundle (borrowed). */
json_t *sl_api_result_from_bundle(const json_t *data, int is_main_result);

/* --- streaming forms (Accept: text/event-stream for exec, application/x-ndjson for code) */
/* One server-sent event "event: NAME\ndata: JSON\n\n" (data stolen); new malloc'd bytes, *len set. */
char *sl_api_sse_frame(const char *event, json_t *data, size_t *len);
/* One NDJSON line (compact JSON + '\n') of obj (stolen); new malloc'd bytes, *len set. */
char *sl_api_ndjson_line(json_t *obj, size_t *len);
/* The NDJSON object (new) for one runner event of a code execution, in E2B's shape: stream →
 * {type: stdout|stderr, text, timestamp (ns since the epoch)}, execute_result/display_data/
 * update_display_data → {type: result, ...Result}, error → {type: error, name, value, traceback}.
 * NULL for events with no line (status, clear_output). */
json_t *sl_api_code_stream_event(const char *msg_type, const json_t *content, int64_t ts_ns);
/* The error line (new) for an execute_reply that failed without an error event; NULL otherwise. */
json_t *sl_api_code_stream_reply(const json_t *reply, int saw_error);

/* --- operations (api_ops.c) */
/* POST .../timeout body {"timeout": 1..max_s} → *out. 0, or -1 with err 400. */
int sl_api_parse_timeout(json_t *body, uint32_t max_s, uint32_t *out, sl_api_err_t *err);
/* A create body's timeout / ttl_seconds must be 1..max_s (400 otherwise); rec's defaulted timeout is
 * lowered to max_s. body borrowed, rec (sl_api_parse_create output) modified in place. */
int sl_api_check_lifetimes(const json_t *body, json_t *rec, uint32_t max_s, sl_api_err_t *err);
/* POST /api/v1/run {command|argv, cwd?, env?, stdin?, timeout_ms?, image?, limits?} → a create record
 * (*create, as sl_api_parse_create) and an exec request content (*exec, as sl_api_parse_exec), both new. */
int sl_api_parse_run(json_t *body, json_t **create, json_t **exec, sl_api_err_t *err);
/* An image for GET /api/v1/images: {name, description, languages} from its image.json (borrowed). */
json_t *sl_api_image_view(const char *dir_name, const json_t *image);
typedef struct {
  const char *version;
  size_t total, max_sandboxes;
  const char *const *status_names; /* n_status names and their counts */
  const size_t *status_counts;
  size_t n_status;
  json_t *images;                  /* borrowed: array of image names */
  time_t started_at;
  int64_t uptime_s;
} sl_api_status_t;
/* GET /api/v1/status: {version, sandboxes {total, by_status}, capacity {max_sandboxes, available}, images,
 * uptime_s, started_at}. */
json_t *sl_api_status_view(const sl_api_status_t *st);

#endif
