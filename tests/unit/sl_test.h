/* sl_test.h — a tiny assert framework for the unit tests (no external test library).
 *
 * Each test is a function registered in main() with SL_RUN(fn). A failed CHECK prints file:line and
 * the expression, marks the test failed and continues (REQUIRE returns from the test instead).
 * sl_test_main() returns the process exit code: 0 when every check passed. Each test binary is its
 * own process, bounded by ctest's TIMEOUT property.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdio.h>
#include <string.h>

static int sl_test_failed_checks;
static int sl_test_current_failed;
static int sl_test_count, sl_test_failures;

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
      sl_test_failed_checks++;                                                          \
      sl_test_current_failed = 1;                                                       \
    }                                                                                   \
  } while (0)

#define REQUIRE(cond)                                                                   \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);      \
      sl_test_failed_checks++;                                                          \
      sl_test_current_failed = 1;                                                       \
      return;                                                                           \
    }                                                                                   \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
  do {                                                                                  \
    long long sl_a_ = (long long)(a), sl_b_ = (long long)(b);                           \
    if (sl_a_ != sl_b_) {                                                               \
      fprintf(stderr, "  %s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", __FILE__,     \
              __LINE__, #a, #b, sl_a_, sl_b_);                                          \
      sl_test_failed_checks++;                                                          \
      sl_test_current_failed = 1;                                                       \
    }                                                                                   \
  } while (0)

#define CHECK_STREQ(a, b)                                                               \
  do {                                                                                  \
    const char *sl_a_ = (a), *sl_b_ = (b);                                              \
    if (!sl_a_ || !sl_b_ || strcmp(sl_a_, sl_b_) != 0) {                                \
      fprintf(stderr, "  %s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, \
              __LINE__, #a, #b, sl_a_ ? sl_a_ : "(null)", sl_b_ ? sl_b_ : "(null)");    \
      sl_test_failed_checks++;                                                          \
      sl_test_current_failed = 1;                                                       \
    }                                                                                   \
  } while (0)

#define SL_RUN(fn)                                                                      \
  do {                                                                                  \
    sl_test_current_failed = 0;                                                         \
    sl_test_count++;                                                                    \
    fn();                                                                               \
    if (sl_test_current_failed) sl_test_failures++;                                     \
    printf("%s %s\n", sl_test_current_failed ? "not ok" : "ok", #fn);                   \
  } while (0)

static inline int sl_test_summary(void) {
  printf("%d tests, %d failed (%d failed checks)\n", sl_test_count, sl_test_failures,
         sl_test_failed_checks);
  return sl_test_failures ? 1 : 0;
}

#endif
