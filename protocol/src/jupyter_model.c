/* jupyter_model.c — REST models of the Jupyter personality (jupyter.h): kernel specs, the kernel
 * model, the create body and its KERNEL_* environment, kernel_info_reply. */
#include "sluice/jupyter.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define JK_MAX_ENV_VALUE 4096
#define JK_MAX_ENV_VARS 256

typedef struct {
  const char *name, *display_name, *language, *sluice_language;
  /* language_info of kernel_info_reply (codemirror_mode NULL: {name: ipython, version: 3}) */
  const char *mimetype, *file_extension, *pygments_lexer, *codemirror_mode, *nbconvert_exporter, *banner;
} jk_spec_row_t;

/* The languages the code route runs; each kernel runs in its sandbox's default context of that language. */
static const jk_spec_row_t SPECS[] = {
    {"python3", "Python 3 (Sluice)", "python", "python", "text/x-python", ".py", "ipython3", NULL, "python",
     "Python (Sluice sandbox, IPython InteractiveShell)"},
    {"bash", "Bash (Sluice)", "bash", "bash", "text/x-sh", ".sh", "bash", "shell", NULL,
     "Bash (Sluice sandbox; cwd and exported variables persist between cells)"},
    {"javascript", "JavaScript (Node.js, Sluice)", "javascript", "javascript", "application/javascript", ".js",
     "javascript", "javascript", NULL, "JavaScript (Sluice sandbox, Node.js)"},
};
#define N_SPECS (sizeof(SPECS) / sizeof(SPECS[0]))

static const jk_spec_row_t *spec_row(const char *name) {
  for (size_t i = 0; name && i < N_SPECS; i++)
    if (strcmp(SPECS[i].name, name) == 0) return &SPECS[i];
  return NULL;
}

const char *sl_jk_spec_language(const char *name) {
  const jk_spec_row_t *r = spec_row(name);
  return r ? r->sluice_language : NULL;
}

json_t *sl_jk_spec(const char *name, const char *base_url) {
  const jk_spec_row_t *r = spec_row(name);
  if (!r) return NULL;
  char l32[512], l64[512], svg[512];
  snprintf(l32, sizeof(l32), "%s/kernelspecs/%s/logo-32x32.png", base_url, r->name);
  snprintf(l64, sizeof(l64), "%s/kernelspecs/%s/logo-64x64.png", base_url, r->name);
  snprintf(svg, sizeof(svg), "%s/kernelspecs/%s/logo-svg.svg", base_url, r->name);
  json_t *argv = strcmp(r->sluice_language, "python") == 0
                     ? json_pack("[s, s, s, s, s]", "python3", "-m", "ipykernel_launcher", "-f", "{connection_file}")
                     : json_pack("[s, s, s, s, s]", "sluice", "kernel", r->sluice_language, "-f", "{connection_file}");
  return json_pack("{s:s, s:{s:o, s:{}, s:s, s:s, s:s, s:{s:b}}, s:{s:s, s:s, s:s}}", "name", r->name, "spec",
                   "argv", argv, "env", "display_name", r->display_name, "language", r->language, "interrupt_mode",
                   "message", "metadata", "sluice", 1, "resources", "logo-32x32", l32, "logo-64x64", l64, "logo-svg",
                   svg);
}

json_t *sl_jk_specs(const char *base_url) {
  json_t *all = json_object();
  for (size_t i = 0; all && i < N_SPECS; i++) json_object_set_new(all, SPECS[i].name, sl_jk_spec(SPECS[i].name, base_url));
  return json_pack("{s:s, s:o}", "default", SPECS[0].name, "kernelspecs", all);
}

void sl_jk_time(int64_t t_us, char out[32]) {
  time_t s = (time_t)(t_us / 1000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%06dZ", (int)(t_us % 1000000));
}

json_t *sl_jk_kernel_model(const char *id, const char *name, int64_t last_activity_us, const char *state,
                           unsigned connections) {
  char t[32];
  sl_jk_time(last_activity_us, t);
  return json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "name", name, "last_activity", t, "execution_state",
                   state, "connections", (json_int_t)connections);
}

json_t *sl_jk_kernel_info(const char *name, const char *lang_version) {
  const jk_spec_row_t *r = spec_row(name);
  if (!r) r = &SPECS[0];
  json_t *li = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", r->language, "version", lang_version ? lang_version : "",
                         "mimetype", r->mimetype, "file_extension", r->file_extension, "pygments_lexer",
                         r->pygments_lexer);
  if (!li) return NULL;
  json_object_set_new(li, "codemirror_mode", r->codemirror_mode ? json_string(r->codemirror_mode)
                                                                : json_pack("{s:s, s:i}", "name", "ipython", "version", 3));
  if (r->nbconvert_exporter) json_object_set_new(li, "nbconvert_exporter", json_string(r->nbconvert_exporter));
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:[]}", "status", "ok", "protocol_version", SL_PROTOCOL_VERSION,
                   "implementation", "sluice", "implementation_version", "0.1", "language_info", li, "banner",
                   r->banner, "help_links");
}

/* Enterprise Gateway's rule for KERNEL_* values: no shell metacharacters that could matter downstream. */
static int env_value_ok(const char *v, size_t len) {
  if (len > JK_MAX_ENV_VALUE) return 0;
  for (size_t i = 0; i < len; i++)
    if (v[i] == '$' || v[i] == '`' || v[i] == '\\' || v[i] == '\n' || v[i] == '\r' || v[i] == 0) return 0;
  return 1;
}

int sl_jk_parse_create(json_t *body, const char **kname, json_t **env_out, sl_api_err_t *err) {
  *env_out = NULL;
  *kname = SPECS[0].name;
  if (body && !json_is_object(body)) return sl_api_fail(err, 400, "bad_request", "the body must be a JSON object");
  json_t *name = json_object_get(body, "name"), *env = json_object_get(body, "env");
  if (name && !json_is_null(name)) {
    if (!json_is_string(name)) return sl_api_fail(err, 400, "bad_request", "name must be a string");
    const jk_spec_row_t *r = spec_row(json_string_value(name));
    if (!r) return sl_api_fail(err, 404, "no_such_kernel", "no kernel spec '%.64s'", json_string_value(name));
    *kname = r->name;
  }
  if (env && !json_is_null(env) && !json_is_object(env))
    return sl_api_fail(err, 400, "bad_request", "env must be an object");
  json_t *out = json_object();
  const char *k;
  json_t *v;
  size_t n = 0;
  json_object_foreach(env, k, v) {
    if (strncmp(k, "KERNEL_", 7) != 0) continue; /* honoured: KERNEL_* only */
    if (!json_is_string(v) || !env_value_ok(json_string_value(v), json_string_length(v)) || strlen(k) > 128) {
      json_decref(out);
      return sl_api_fail(err, 400, "bad_request", "env %.64s: values must be strings of at most %d characters "
                         "without $ ` \\ newlines or NUL", k, JK_MAX_ENV_VALUE);
    }
    if (++n > JK_MAX_ENV_VARS) {
      json_decref(out);
      return sl_api_fail(err, 400, "bad_request", "too many KERNEL_* variables");
    }
    json_object_set(out, k, v);
  }
  *env_out = out;
  return 0;
}
