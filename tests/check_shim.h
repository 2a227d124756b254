/*
 * check_shim.h -- a minimal, single-header stand-in for the subset of the Check unit-test
 * framework (https://libcheck.github.io/check/) that the dwconv tests use.
 *
 * Used when pkg-config does not find Check (e.g. on the GPU machine, which has no Check and
 * no network). tests/CMakeLists.txt defines DWCONV_TEST_USE_SHIM and the tests include this
 * header instead of <check.h>.
 *
 * Differences from Check, on purpose:
 *   - no fork(): every test runs in this process; a failed assertion longjmp()s back to the
 *     runner, which counts the test as failed and goes on with the next one. Memory a failing
 *     test allocated is leaked (the process ends soon after). A crash ends the whole run (and
 *     ctest reports the executable as failed, never as passed).
 *   - no timeouts (tcase_set_timeout is accepted and ignored; ctest's TIMEOUT still applies).
 *   - counts are honest: srunner_ntests_run / srunner_ntests_failed count each test (each
 *     iteration of a loop test) exactly as Check does.
 *
 * Include it from any number of translation units; exactly one of them (tests/test_common.c)
 * defines DWCONV_CHECK_SHIM_IMPL before including it, which emits the functions that share
 * state (the failure jump buffer and the runner).
 */
#ifndef DWCONV_CHECK_SHIM_H
#define DWCONV_CHECK_SHIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DWCONV_CHECK_SHIM 1

#if defined(__GNUC__)
#define SHIM_UNUSED __attribute__((unused))
#define SHIM_NORETURN __attribute__((noreturn))
#define SHIM_FORMAT(a, b) __attribute__((format(printf, a, b)))
#else
#define SHIM_UNUSED
#define SHIM_NORETURN
#define SHIM_FORMAT(a, b)
#endif

/* ---- test definitions ---- */

/* One test function plus its name, like Check's TTest. */
typedef struct shim_ttest {
  const char *name;
  void (*fn)(int);
  const char *file;
  int line;
} TTest;

/* START_TEST(name) ... END_TEST defines `name` as a pointer to a TTest, exactly like Check;
 * `_i` is the loop index of a loop test (0 for a plain test). */
#define START_TEST(name)                                                        \
  static void name##_fn(int _i SHIM_UNUSED);                                    \
  static const TTest name##_ttest = {#name, name##_fn, __FILE__, __LINE__};     \
  static const TTest *name = &name##_ttest;                                     \
  static void name##_fn(int _i SHIM_UNUSED)
#define END_TEST

/* ---- suites, test cases, runner ---- */

typedef struct shim_entry {
  const TTest *test;
  int loop_begin, loop_end; /* [begin, end) */
} shim_entry;

typedef struct TCase {
  char name[128];
  shim_entry *entries;
  size_t count, cap;
  void (*setup)(void);
  void (*teardown)(void);
  struct TCase *next;
} TCase;

typedef struct Suite {
  char name[128];
  TCase *first, *last;
} Suite;

typedef struct SRunner {
  Suite **suites;
  size_t count;
  int run, failed;
} SRunner;

enum print_output { CK_SILENT, CK_MINIMAL, CK_NORMAL, CK_VERBOSE, CK_ENV, CK_SUBUNIT, CK_LAST };
enum fork_status { CK_FORK_GETENV, CK_FORK, CK_NOFORK };

static void *shim_xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz ? sz : 1);
  if (p == NULL) {
    fprintf(stderr, "check_shim: out of memory\n");
    exit(2);
  }
  return p;
}

static SHIM_UNUSED Suite *suite_create(const char *name) {
  Suite *s = (Suite *)shim_xcalloc(1, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name ? name : "");
  return s;
}

static SHIM_UNUSED TCase *tcase_create(const char *name) {
  TCase *tc = (TCase *)shim_xcalloc(1, sizeof *tc);
  snprintf(tc->name, sizeof tc->name, "%s", name ? name : "");
  return tc;
}

static SHIM_UNUSED void suite_add_tcase(Suite *s, TCase *tc) {
  if (s->last) s->last->next = tc;
  else s->first = tc;
  s->last = tc;
}

static SHIM_UNUSED void tcase_add_loop_test(TCase *tc, const TTest *t, int begin, int end) {
  if (tc->count == tc->cap) {
    size_t cap = tc->cap ? 2 * tc->cap : 16;
    shim_entry *e = (shim_entry *)realloc(tc->entries, cap * sizeof *e);
    if (e == NULL) {
      fprintf(stderr, "check_shim: out of memory\n");
      exit(2);
    }
    tc->entries = e;
    tc->cap = cap;
  }
  tc->entries[tc->count].test = t;
  tc->entries[tc->count].loop_begin = begin;
  tc->entries[tc->count].loop_end = end;
  tc->count++;
}

#define tcase_add_test(tc, t) tcase_add_loop_test((tc), (t), 0, 1)

static SHIM_UNUSED void tcase_set_timeout(TCase *tc, double seconds) {
  (void)tc;
  (void)seconds;
}

static SHIM_UNUSED void tcase_add_checked_fixture(TCase *tc, void (*setup)(void),
                                                  void (*teardown)(void)) {
  tc->setup = setup;
  tc->teardown = teardown;
}
#define tcase_add_unchecked_fixture tcase_add_checked_fixture

static SHIM_UNUSED SRunner *srunner_create(Suite *s) {
  SRunner *sr = (SRunner *)shim_xcalloc(1, sizeof *sr);
  sr->suites = (Suite **)shim_xcalloc(64, sizeof *sr->suites);
  if (s) sr->suites[sr->count++] = s;
  return sr;
}

static SHIM_UNUSED void srunner_add_suite(SRunner *sr, Suite *s) {
  if (sr->count < 64) sr->suites[sr->count++] = s;
}

static SHIM_UNUSED void srunner_set_fork_status(SRunner *sr, enum fork_status f) {
  (void)sr;
  (void)f;
}

/* ---- assertion failure: longjmp back to the runner (defined in the IMPL unit) ---- */

SHIM_NORETURN void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...);
void srunner_run_all(SRunner *sr, enum print_output mode);

#define ck_assert_msg(expr, ...) \
  ((expr) ? (void)0 : shim_fail(__FILE__, __LINE__, "Assertion '" #expr "' failed", __VA_ARGS__))
#define ck_assert(expr) ck_assert_msg(expr, NULL)
#define ck_abort_msg(...) shim_fail(__FILE__, __LINE__, "Failed", __VA_ARGS__)
#define ck_abort() ck_abort_msg(NULL)
#define mark_point() ((void)0)

#define SHIM_CMP_INT(X, OP, Y)                                                                 \
  do {                                                                                         \
    intmax_t shim_x_ = (intmax_t)(X), shim_y_ = (intmax_t)(Y);                                 \
    ck_assert_msg(shim_x_ OP shim_y_, "Assertion '%s' failed: %s == %jd, %s == %jd",           \
                  #X " " #OP " " #Y, #X, shim_x_, #Y, shim_y_);                                \
  } while (0)
#define SHIM_CMP_UINT(X, OP, Y)                                                                \
  do {                                                                                         \
    uintmax_t shim_x_ = (uintmax_t)(X), shim_y_ = (uintmax_t)(Y);                              \
    ck_assert_msg(shim_x_ OP shim_y_, "Assertion '%s' failed: %s == %ju, %s == %ju",           \
                  #X " " #OP " " #Y, #X, shim_x_, #Y, shim_y_);                                \
  } while (0)
#define ck_assert_int_eq(X, Y) SHIM_CMP_INT(X, ==, Y)
#define ck_assert_int_ne(X, Y) SHIM_CMP_INT(X, !=, Y)
#define ck_assert_int_lt(X, Y) SHIM_CMP_INT(X, <, Y)
#define ck_assert_int_le(X, Y) SHIM_CMP_INT(X, <=, Y)
#define ck_assert_int_gt(X, Y) SHIM_CMP_INT(X, >, Y)
#define ck_assert_int_ge(X, Y) SHIM_CMP_INT(X, >=, Y)
#define ck_assert_uint_eq(X, Y) SHIM_CMP_UINT(X, ==, Y)
#define ck_assert_uint_ne(X, Y) SHIM_CMP_UINT(X, !=, Y)
#define ck_assert_uint_lt(X, Y) SHIM_CMP_UINT(X, <, Y)
#define ck_assert_uint_le(X, Y) SHIM_CMP_UINT(X, <=, Y)
#define ck_assert_uint_gt(X, Y) SHIM_CMP_UINT(X, >, Y)
#define ck_assert_uint_ge(X, Y) SHIM_CMP_UINT(X, >=, Y)
#define ck_assert_ptr_eq(X, Y) \
  ck_assert_msg((const void *)(X) == (const void *)(Y), "Assertion '%s == %s' failed", #X, #Y)
#define ck_assert_ptr_ne(X, Y) \
  ck_assert_msg((const void *)(X) != (const void *)(Y), "Assertion '%s != %s' failed", #X, #Y)
#define ck_assert_ptr_null(X) ck_assert_msg((const void *)(X) == NULL, "Assertion '%s == NULL' failed", #X)
#define ck_assert_ptr_nonnull(X) \
  ck_assert_msg((const void *)(X) != NULL, "Assertion '%s != NULL' failed", #X)
#define ck_assert_str_eq(X, Y)                                                             \
  do {                                                                                     \
    const char *shim_a_ = (X), *shim_b_ = (Y);                                             \
    ck_assert_msg(shim_a_ != NULL && shim_b_ != NULL && strcmp(shim_a_, shim_b_) == 0,     \
                  "Assertion '%s == %s' failed: \"%s\" vs \"%s\"", #X, #Y,                 \
                  shim_a_ ? shim_a_ : "(null)", shim_b_ ? shim_b_ : "(null)");             \
  } while (0)

static SHIM_UNUSED int srunner_ntests_run(SRunner *sr) { return sr->run; }
static SHIM_UNUSED int srunner_ntests_failed(SRunner *sr) { return sr->failed; }

static SHIM_UNUSED void srunner_free(SRunner *sr) {
  for (size_t s = 0; s < sr->count; s++) {
    TCase *tc = sr->suites[s]->first;
    while (tc) {
      TCase *next = tc->next;
      free(tc->entries);
      free(tc);
      tc = next;
    }
    free(sr->suites[s]);
  }
  free(sr->suites);
  free(sr);
}


#ifdef DWCONV_CHECK_SHIM_IMPL
static jmp_buf shim_jmp;
static int shim_in_test;
static char shim_msg[2048];

void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...) {
  int k = snprintf(shim_msg, sizeof shim_msg, "%s:%d: ", file, line);
  if (k < 0) k = 0;
  if ((size_t)k >= sizeof shim_msg) k = (int)sizeof shim_msg - 1;
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(shim_msg + k, sizeof shim_msg - (size_t)k, fmt, ap);
    va_end(ap);
  } else {
    snprintf(shim_msg + k, sizeof shim_msg - (size_t)k, "%s", expr);
  }
  if (!shim_in_test) {
    fprintf(stderr, "check_shim: assertion outside a test: %s\n", shim_msg);
    abort();
  }
  longjmp(shim_jmp, 1);
}

/* ---- running ---- */

/* Runs one test iteration; returns 1 when it passed. */
static int shim_run_one(const TCase *tc, const TTest *t, int i, enum print_output mode) {
  volatile int passed = 1;
  shim_in_test = 1;
  if (setjmp(shim_jmp) == 0) {
    if (tc->setup) tc->setup();
    t->fn(i);
    if (tc->teardown) tc->teardown();
  } else {
    passed = 0;
  }
  shim_in_test = 0;
  if (!passed) {
    if (mode != CK_SILENT)
      printf("%s:F:%s:%s:%d: %s\n", t->file, tc->name, t->name, i, shim_msg);
  } else if (mode == CK_VERBOSE) {
    printf("%s:P:%s:%s:%d: Passed\n", t->file, tc->name, t->name, i);
  }
  fflush(stdout);
  return passed;
}

void srunner_run_all(SRunner *sr, enum print_output mode) {
  for (size_t s = 0; s < sr->count; s++) {
    if (mode != CK_SILENT) printf("Running suite(s): %s\n", sr->suites[s]->name);
    for (TCase *tc = sr->suites[s]->first; tc; tc = tc->next)
      for (size_t e = 0; e < tc->count; e++)
        for (int i = tc->entries[e].loop_begin; i < tc->entries[e].loop_end; i++) {
          sr->run++;
          if (!shim_run_one(tc, tc->entries[e].test, i, mode)) sr->failed++;
        }
  }
  if (mode != CK_SILENT)
    printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n",
           sr->run ? (100 * (sr->run - sr->failed)) / sr->run : 0, sr->run, sr->failed);
  fflush(stdout);
}

#endif /* DWCONV_CHECK_SHIM_IMPL */

#endif /* DWCONV_CHECK_SHIM_H */
