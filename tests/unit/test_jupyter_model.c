/* test_jupyter_model.c — kernel specs and kernel_info_reply per language (protocol/src/jupyter_model.c), and
 * the pip command shared by POST .../packages and the Python driver's %pip (protocol/src/api_packages.c). */
#include "sluice/api_packages.h"
#include "sluice/jupyter.h"

#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

static const char *str_at(json_t *o, const char *a, const char *b) {
  json_t *v = json_object_get(o, a);
  return json_string_value(b ? json_object_get(v, b) : v);
}

static void test_specs_per_language(void) {
  json_t *all = sl_jk_specs("/base");
  REQUIRE(all);
  CHECK(strcmp(str_at(all, "default", NULL), "python3") == 0);
  json_t *ks = json_object_get(all, "kernelspecs");
  CHECK_EQ_INT(json_object_size(ks), 3);
  static const char *const names[] = {"python3", "bash", "javascript"}, *const langs[] = {"python", "bash", "javascript"};
  for (int i = 0; i < 3; i++) {
    json_t *s = json_object_get(ks, names[i]);
    REQUIRE(s);
    CHECK(strcmp(str_at(s, "name", NULL), names[i]) == 0);
    CHECK(strcmp(str_at(json_object_get(s, "spec"), "language", NULL), langs[i]) == 0);
    CHECK(json_is_array(json_object_get(json_object_get(s, "spec"), "argv")));
    char logo[64];
    snprintf(logo, sizeof logo, "/base/kernelspecs/%s/logo-64x64.png", names[i]);
    CHECK(strcmp(str_at(s, "resources", "logo-64x64"), logo) == 0);
    CHECK(strcmp(sl_jk_spec_language(names[i]), langs[i]) == 0);
  }
  CHECK(sl_jk_spec("ruby", "") == NULL && sl_jk_spec_language("ruby") == NULL);
  json_decref(all);
}

static void test_kernel_info_per_language(void) {
  json_t *py = sl_jk_kernel_info("python3", "3.11"), *sh = sl_jk_kernel_info("bash", "5.2.15"),
         *js = sl_jk_kernel_info("javascript", "20.1.0"), *unknown = sl_jk_kernel_info("ruby", "3.11");
  REQUIRE(py && sh && js && unknown);
  CHECK(strcmp(str_at(py, "language_info", "name"), "python") == 0);
  CHECK(strcmp(str_at(py, "language_info", "nbconvert_exporter"), "python") == 0);
  CHECK(json_is_object(json_object_get(json_object_get(py, "language_info"), "codemirror_mode")));
  CHECK(strcmp(str_at(sh, "language_info", "name"), "bash") == 0);
  CHECK(strcmp(str_at(sh, "language_info", "version"), "5.2.15") == 0);
  CHECK(strcmp(str_at(sh, "language_info", "codemirror_mode"), "shell") == 0);
  CHECK(json_object_get(json_object_get(sh, "language_info"), "nbconvert_exporter") == NULL);
  CHECK(strcmp(str_at(js, "language_info", "name"), "javascript") == 0);
  CHECK(strcmp(str_at(js, "language_info", "file_extension"), ".js") == 0);
  CHECK(json_equal(py, unknown));
  CHECK(strcmp(str_at(js, "status", NULL), "ok") == 0 && json_is_array(json_object_get(js, "help_links")));
  json_decref(py), json_decref(sh), json_decref(js), json_decref(unknown);
}

static void test_pip_argv_is_the_install_prefix(void) {
  sl_api_package_t p = {.lang = SL_PKG_PYTHON, .name = "tiny", .version = "1.0"};
  const char *idx = "http://u:pw@10.0.0.1:8081/simple/";
  json_t *base = sl_api_package_pip_argv(idx), *full = sl_api_package_install_argv(&p, idx);
  REQUIRE(base && full);
  CHECK_EQ_INT(json_array_size(full), json_array_size(base) + 1);
  for (size_t i = 0; i < json_array_size(base); i++) CHECK(json_equal(json_array_get(base, i), json_array_get(full, i)));
  CHECK(strcmp(json_string_value(json_array_get(full, json_array_size(base))), "tiny==1.0") == 0);
  int target = 0, trusted = 0;
  for (size_t i = 0; i + 1 < json_array_size(base); i++) {
    const char *a = json_string_value(json_array_get(base, i)), *b = json_string_value(json_array_get(base, i + 1));
    if (!strcmp(a, "--target")) target = !strcmp(b, SL_PKG_PYTHON_TARGET);
    if (!strcmp(a, "--trusted-host")) trusted = !strcmp(b, "10.0.0.1:8081");
  }
  CHECK(target && trusted);
  json_t *def = sl_api_package_pip_argv(NULL);
  CHECK(def && json_array_size(def) == json_array_size(base) - 4); /* no --index-url, no --trusted-host */
  json_decref(base), json_decref(full), json_decref(def);
}

int main(void) {
  SL_RUN(test_specs_per_language);
  SL_RUN(test_kernel_info_per_language);
  SL_RUN(test_pip_argv_is_the_install_prefix);
  return sl_test_summary();
}
