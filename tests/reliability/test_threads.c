/*
 * rel_threads: concurrency. Results are compared bitwise with single-threaded runs.
 *
 * test_parallel_plans: T pthreads, each with its own plan (different shapes, DIRECT and FFT,
 *   f32 and f64, plan threads 1 or 2), all executing at once, ITERS times each; every few
 *   iterations a thread also replaces its kernel and provokes an argument error, checking
 *   that dwconv_last_error() is its own.
 * test_create_destroy_race: executor threads as above, while churn threads create / destroy
 *   FFT plans of more than 8 distinct block lengths (so the process-wide FFTW plan cache
 *   inserts, shares and evicts entries under the executors) and run one-shot calls.
 *
 * test_tune_race (builds with FFTW): a tuner thread runs dwconv_fft_tune, exports the wisdom
 *   to a file and imports it back, over and over, while user threads create, execute and
 *   destroy FFT plans of the lengths being tuned and run one-shot calls. Tuning changes which
 *   FFTW plan a new dwconv plan gets, so results are checked against the long-double
 *   reference (not bitwise), except that one plan executed twice must repeat its bits even
 *   when tuning happened in between. Built with -DDWCONV_SANITIZE=ON (CI) this is where a
 *   use-after-free of a stale cached FFTW plan would show.
 *
 * test_fork_child: after multi-threaded calls (DIRECT and FFT, 2 threads), the process forks;
 *   the child runs a plan made by the parent and fresh one-shot calls, which must finish (the
 *   parent kills it after 60 s: with GNU libgomp a multi-threaded region in such a child used
 *   to hang forever) and give the parent's bits. The parent goes on with its threads after.
 *
 * DWCONV_REL_PLAN_THREADS=n forces desc.threads = n in every plan (the ThreadSanitizer run
 * uses 1: libgomp is not instrumented). DWCONV_REL_ITERS scales the iteration count.
 */
#define _GNU_SOURCE 1 /* pthread_barrier_t, setenv, mmap flags, clock_gettime under -std=c11 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_common.h"

typedef struct job {
  size_t rows, n, p;
  dwconv_dtype dt;
  dwconv_mode mode;
  dwconv_op op;
  dwconv_algo algo;
  int threads;
  int broadcast_b;
} job;

static const job k_jobs[] = {
    {4, 1000, 33, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 0},
    {3, 777, 15, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, DWCONV_ALGO_DIRECT, 2, 0},
    {2, 4000, 200, DWCONV_FLOAT64, DWCONV_MODE_VALID, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 2, 1},
    {8, 300, 7, DWCONV_FLOAT32, DWCONV_MODE_CAUSAL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT, 1, 1},
    {1, 50, 120, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, DWCONV_ALGO_DIRECT, 1, 0},
    {2, 2500, 65, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, DWCONV_ALGO_FFT, 2, 0},
};
#define N_JOBS (int)(sizeof k_jobs / sizeof k_jobs[0])

/* One-shot shapes for the churn threads: FFT with many distinct block lengths. */
#define N_CHURN 12

typedef struct jdata {
  dwconv_desc d;
  void *A, *B, *B2, *expect, *expect2; /* expect: kernel B; expect2: kernel B2 */
  ptrdiff_t ldb;
  size_t out_len, c_bytes;
} jdata;

static int plan_threads_override(void) {
  const char *e = getenv("DWCONV_REL_PLAN_THREADS");
  return e != NULL ? atoi(e) : -1;
}

static int iters(int base) {
  const char *e = getenv("DWCONV_REL_ITERS");
  double s = e != NULL ? atof(e) : 1.0;
  int n = (int)(base * s);
  return n < 1 ? 1 : n;
}

static void run_single(const jdata *x, const void *B, void *C) {
  dwconv_desc d = x->d;
  d.threads = 1;
  dwconv_status st = dwconv_convolve(&d, x->A, (ptrdiff_t)d.signal_len, B, x->ldb, C, (ptrdiff_t)x->out_len);
  ck_assert_msg(st == DWCONV_SUCCESS, "single-threaded run failed: %s", dwconv_last_error());
}

static void make_job(const job *j, uint64_t seed, jdata *x) {
  /* A build without FFTW runs the FFT jobs as direct ones (ALGO_FFT would be NOT_SUPPORTED). */
  dwconv_algo algo = j->algo == DWCONV_ALGO_FFT && !tc_fft_available(DWCONV_BACKEND_CPU) ? DWCONV_ALGO_DIRECT : j->algo;
  x->d = tc_desc(j->rows, j->n, j->p, j->dt, j->mode, j->op, algo);
  int o = plan_threads_override();
  x->d.threads = o >= 0 ? o : j->threads;
  x->ldb = j->broadcast_b ? 0 : (ptrdiff_t)j->p;
  x->out_len = tc_out_len(j->mode, j->n, j->p);
  x->c_bytes = j->rows * x->out_len * tc_esize(j->dt);
  x->A = tc_alloc(j->rows * j->n, j->dt);
  x->B = tc_alloc(j->rows * j->p, j->dt);
  x->B2 = tc_alloc(j->rows * j->p, j->dt);
  x->expect = tc_alloc(j->rows * x->out_len, j->dt);
  x->expect2 = tc_alloc(j->rows * x->out_len, j->dt);
  tc_rng r;
  tc_rng_seed(&r, seed);
  tc_fill_normal(&r, x->A, j->dt, j->rows, j->n, j->n);
  tc_fill_normal(&r, x->B, j->dt, j->rows, j->p, j->p);
  tc_fill_normal(&r, x->B2, j->dt, j->rows, j->p, j->p);
  run_single(x, x->B, x->expect);
  run_single(x, x->B2, x->expect2);
}

static void free_job(jdata *x) {
  free(x->A);
  free(x->B);
  free(x->B2);
  free(x->expect);
  free(x->expect2);
}

typedef struct worker {
  pthread_t tid;
  jdata *x;
  int iters;
  pthread_barrier_t *start;
  long mismatches, errors, runs;
  char first[256];
} worker;

static void note(worker *w, const char *msg) {
  if (w->first[0] == '\0') snprintf(w->first, sizeof w->first, "%s", msg);
}

static void *executor(void *arg) {
  worker *w = (worker *)arg;
  jdata *x = w->x;
  void *C = calloc(1, x->c_bytes);
  dwconv_plan *plan = NULL;
  pthread_barrier_wait(w->start);
  if (C == NULL || dwconv_plan_create(&plan, &x->d) != DWCONV_SUCCESS ||
      dwconv_plan_set_kernel(plan, x->B, x->ldb) != DWCONV_SUCCESS) {
    w->errors++;
    note(w, "create / set_kernel failed");
    dwconv_plan_destroy(plan);
    free(C);
    return NULL;
  }
  int use_b2 = 0;
  for (int it = 0; it < w->iters; it++) {
    if (it % 7 == 6) { /* replace the kernel */
      use_b2 = !use_b2;
      if (dwconv_plan_set_kernel(plan, use_b2 ? x->B2 : x->B, x->ldb) != DWCONV_SUCCESS) {
        w->errors++;
        note(w, "set_kernel failed");
      }
    }
    if (it % 5 == 4) { /* a per-thread error message */
      dwconv_status st = dwconv_plan_execute(plan, x->A, 0, C, 0); /* ldc 0 < out_len */
      if (st != DWCONV_ERROR_INVALID_VALUE || !tc_contains_ci(dwconv_last_error(), "ldc")) {
        w->errors++;
        note(w, "bad ldc not reported as this thread's own error");
      }
    }
    memset(C, 0xa5, x->c_bytes);
    dwconv_status st = dwconv_plan_execute(plan, x->A, (ptrdiff_t)x->d.signal_len, C, (ptrdiff_t)x->out_len);
    w->runs++;
    if (st != DWCONV_SUCCESS) {
      w->errors++;
      note(w, "execute failed");
    } else if (memcmp(C, use_b2 ? x->expect2 : x->expect, x->c_bytes) != 0) {
      w->mismatches++;
      note(w, "result differs bitwise from the single-threaded run");
    }
  }
  dwconv_plan_destroy(plan);
  free(C);
  return NULL;
}

typedef struct churn {
  pthread_t tid;
  jdata *shapes; /* N_CHURN */
  int iters, offset;
  pthread_barrier_t *start;
  long mismatches, errors, runs;
  char first[256];
} churn;

static void *churner(void *arg) {
  churn *w = (churn *)arg;
  pthread_barrier_wait(w->start);
  for (int it = 0; it < w->iters; it++) {
    jdata *x = &w->shapes[(size_t)(it + w->offset) % N_CHURN];
    void *C = malloc(x->c_bytes);
    if (C == NULL) continue;
    dwconv_status st;
    if (it % 2 == 0) {
      st = dwconv_convolve(&x->d, x->A, (ptrdiff_t)x->d.signal_len, x->B, x->ldb, C, (ptrdiff_t)x->out_len);
    } else { /* create, destroy one plan, then run another */
      dwconv_plan *p1 = NULL, *p2 = NULL;
      st = dwconv_plan_create(&p1, &x->d);
      if (st == DWCONV_SUCCESS) st = dwconv_plan_create(&p2, &x->d);
      dwconv_plan_destroy(p1);
      if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(p2, x->B, x->ldb);
      if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(p2, x->A, (ptrdiff_t)x->d.signal_len, C, (ptrdiff_t)x->out_len);
      dwconv_plan_destroy(p2);
    }
    w->runs++;
    if (st != DWCONV_SUCCESS) {
      w->errors++;
      if (w->first[0] == '\0') snprintf(w->first, sizeof w->first, "churn failed: %s", dwconv_last_error());
    } else if (memcmp(C, x->expect, x->c_bytes) != 0) {
      w->mismatches++;
      if (w->first[0] == '\0') snprintf(w->first, sizeof w->first, "churn result differs (shape %d)", (it + w->offset) % N_CHURN);
    }
    free(C);
  }
  return NULL;
}

static void make_churn_shapes(jdata *s) {
  for (int i = 0; i < N_CHURN; i++) {
    job j = {1 + (size_t)(i % 3), 600 + 250 * (size_t)i, 20 + 23 * (size_t)i,
             i % 2 ? DWCONV_FLOAT64 : DWCONV_FLOAT32, (dwconv_mode)(i % 4), (dwconv_op)(i / 2 % 2),
             tc_fft_available(DWCONV_BACKEND_CPU) ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT, 1, i % 3 == 0};
    make_job(&j, 900 + (uint64_t)i, &s[i]);
  }
}

static int run_all(int n_exec, int exec_iters, int n_churn, int churn_iters) {
  jdata jobs[N_JOBS], shapes[N_CHURN];
  for (int i = 0; i < N_JOBS; i++) make_job(&k_jobs[i], 100 + (uint64_t)i, &jobs[i]);
  if (n_churn > 0) make_churn_shapes(shapes);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)(n_exec + n_churn));
  worker *ws = calloc((size_t)n_exec, sizeof *ws);
  churn *cs = calloc((size_t)(n_churn > 0 ? n_churn : 1), sizeof *cs);
  ck_assert_ptr_nonnull(ws);
  ck_assert_ptr_nonnull(cs);
  for (int i = 0; i < n_exec; i++) {
    ws[i].x = &jobs[i % N_JOBS];
    ws[i].iters = exec_iters;
    ws[i].start = &start;
    ck_assert_int_eq(pthread_create(&ws[i].tid, NULL, executor, &ws[i]), 0);
  }
  for (int i = 0; i < n_churn; i++) {
    cs[i].shapes = shapes;
    cs[i].iters = churn_iters;
    cs[i].offset = 5 * i;
    cs[i].start = &start;
    ck_assert_int_eq(pthread_create(&cs[i].tid, NULL, churner, &cs[i]), 0);
  }
  long runs = 0, bad = 0;
  char first[256] = "";
  for (int i = 0; i < n_exec; i++) {
    pthread_join(ws[i].tid, NULL);
    runs += ws[i].runs;
    bad += ws[i].mismatches + ws[i].errors;
    if (first[0] == '\0' && ws[i].first[0] != '\0') snprintf(first, sizeof first, "executor %d: %s", i, ws[i].first);
  }
  for (int i = 0; i < n_churn; i++) {
    pthread_join(cs[i].tid, NULL);
    runs += cs[i].runs;
    bad += cs[i].mismatches + cs[i].errors;
    if (first[0] == '\0' && cs[i].first[0] != '\0') snprintf(first, sizeof first, "churn %d: %s", i, cs[i].first);
  }
  pthread_barrier_destroy(&start);
  printf("rel_threads: %d executor threads x %d iterations + %d churn threads x %d: %ld runs compared bitwise, "
         "%ld bad\n",
         n_exec, exec_iters, n_churn, churn_iters, runs, bad);
  fflush(stdout);
  for (int i = 0; i < N_JOBS; i++) free_job(&jobs[i]);
  if (n_churn > 0)
    for (int i = 0; i < N_CHURN; i++) free_job(&shapes[i]);
  free(ws);
  free(cs);
  ck_assert_msg(bad == 0, "%ld bad runs; first: %s", bad, first);
  return 0;
}

START_TEST(test_parallel_plans) { run_all(8, iters(250), 0, 0); }
END_TEST

START_TEST(test_create_destroy_race) { run_all(4, iters(150), 3, iters(250)); }
END_TEST

/* ---- test_tune_race ---- */
#define N_TUNE 3

typedef struct tune_user {
  pthread_t tid;
  _Atomic int *users_left;
  jdata *shapes; /* N_TUNE */
  long double *refs[N_TUNE];
  int iters, offset;
  pthread_barrier_t *start;
  long bad, runs;
  char first[256];
} tune_user;

typedef struct tuner {
  pthread_t tid;
  jdata *shapes;
  int iters;                 /* at least this many rounds, then on until the users finish */
  _Atomic int *users_left;
  pthread_barrier_t *start;
  char path[128];
  long bad, rounds;
  char first[256];
} tuner;

static void *tune_loop(void *arg) {
  tuner *t = (tuner *)arg;
  pthread_barrier_wait(t->start);
  for (int it = 0; it < t->iters || *t->users_left > 0; it++) {
    dwconv_status st = dwconv_fft_tune(&t->shapes[it % N_TUNE].d);
    if (st == DWCONV_SUCCESS) st = dwconv_fft_wisdom_export(t->path);
    if (st == DWCONV_SUCCESS) st = dwconv_fft_wisdom_import(t->path);
    t->rounds++;
    if (st != DWCONV_SUCCESS) {
      t->bad++;
      if (t->first[0] == '\0') snprintf(t->first, sizeof t->first, "tune/export/import: %s", dwconv_last_error());
    }
  }
  return NULL;
}

static void *tune_user_loop(void *arg) {
  tune_user *w = (tune_user *)arg;
  pthread_barrier_wait(w->start);
  for (int it = 0; it < w->iters; it++) {
    int k = (it + w->offset) % N_TUNE;
    jdata *x = &w->shapes[k];
    void *C1 = malloc(x->c_bytes), *C2 = malloc(x->c_bytes);
    dwconv_plan *p = NULL;
    dwconv_status st = C1 && C2 ? dwconv_plan_create(&p, &x->d) : DWCONV_ERROR_OUT_OF_MEMORY;
    if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(p, x->B, x->ldb);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(p, x->A, (ptrdiff_t)x->d.signal_len, C1, (ptrdiff_t)x->out_len);
    if (st == DWCONV_SUCCESS) /* a one-shot call in between: it may plan from new wisdom */
      st = dwconv_convolve(&x->d, x->A, (ptrdiff_t)x->d.signal_len, x->B, x->ldb, C2, (ptrdiff_t)x->out_len);
    double e = st == DWCONV_SUCCESS ? tc_max_row_err(C2, (ptrdiff_t)x->out_len, x->d.dtype, w->refs[k], x->d.rows, x->out_len) : 0;
    if (st == DWCONV_SUCCESS)
      st = dwconv_plan_execute(p, x->A, (ptrdiff_t)x->d.signal_len, C2, (ptrdiff_t)x->out_len);
    dwconv_plan_destroy(p);
    w->runs++;
    const char *why = NULL;
    if (st != DWCONV_SUCCESS) why = dwconv_last_error();
    else if (!(e <= tc_tol(x->d.dtype))) why = "one-shot result outside the error bound";
    else if (!(tc_max_row_err(C1, (ptrdiff_t)x->out_len, x->d.dtype, w->refs[k], x->d.rows, x->out_len) <= tc_tol(x->d.dtype)))
      why = "plan result outside the error bound";
    else if (memcmp(C1, C2, x->c_bytes) != 0) why = "a plan's second execute differs bitwise from its first";
    if (why != NULL) {
      w->bad++;
      if (w->first[0] == '\0') snprintf(w->first, sizeof w->first, "shape %d: %s", k, why);
    }
    free(C1);
    free(C2);
  }
  (*w->users_left)--;
  return NULL;
}

START_TEST(test_tune_race) {
  /* Short transforms (L ~ 512-2048) so that each FFTW_MEASURE round takes tens of ms. */
  static const job shapes[N_TUNE] = {
      {6, 900, 100, DWCONV_FLOAT32, DWCONV_MODE_SAME, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 0},
      {5, 1500, 300, DWCONV_FLOAT64, DWCONV_MODE_FULL, DWCONV_OP_CORRELATE, DWCONV_ALGO_FFT, 2, 0},
      {9, 700, 60, DWCONV_FLOAT32, DWCONV_MODE_VALID, DWCONV_OP_CONVOLVE, DWCONV_ALGO_FFT, 1, 1},
  };
  jdata x[N_TUNE];
  long double *refs[N_TUNE];
  for (int i = 0; i < N_TUNE; i++) {
    make_job(&shapes[i], 500 + (uint64_t)i, &x[i]);
    refs[i] = tc_ref_problem(&x[i].d, x[i].A, (ptrdiff_t)x[i].d.signal_len, x[i].B, x[i].ldb);
  }
  enum { USERS = 3 };
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, USERS + 1);
  static _Atomic int users_left;
  users_left = USERS;
  tuner t;
  memset(&t, 0, sizeof t);
  t.users_left = &users_left;
  t.shapes = x;
  t.iters = iters(6);
  t.start = &start;
  snprintf(t.path, sizeof t.path, "/tmp/dwconv-rel-tune-%ld.wis", (long)getpid());
  tune_user us[USERS];
  memset(us, 0, sizeof us);
  ck_assert_int_eq(pthread_create(&t.tid, NULL, tune_loop, &t), 0);
  for (int i = 0; i < USERS; i++) {
    us[i].shapes = x;
    us[i].users_left = &users_left;
    memcpy(us[i].refs, refs, sizeof refs);
    us[i].iters = iters(60);
    us[i].offset = i;
    us[i].start = &start;
    ck_assert_int_eq(pthread_create(&us[i].tid, NULL, tune_user_loop, &us[i]), 0);
  }
  long bad = 0, runs = 0;
  char first[300] = "";
  pthread_join(t.tid, NULL);
  bad += t.bad;
  if (t.first[0]) snprintf(first, sizeof first, "tuner: %s", t.first);
  for (int i = 0; i < USERS; i++) {
    pthread_join(us[i].tid, NULL);
    bad += us[i].bad;
    runs += us[i].runs;
    if (!first[0] && us[i].first[0]) snprintf(first, sizeof first, "user %d: %s", i, us[i].first);
  }
  pthread_barrier_destroy(&start);
  unlink(t.path);
  printf("rel_threads: tune race: %ld tune/export/import rounds beside %d users, %ld runs checked, %ld bad\n",
         t.rounds, USERS, runs, bad);
  fflush(stdout);
  for (int i = 0; i < N_TUNE; i++) {
    free(refs[i]);
    free_job(&x[i]);
  }
  ck_assert_msg(bad == 0, "%ld bad; first: %s", bad, first);
}
END_TEST

/* One run of desc with 2 threads on fixed data into a fresh buffer (NULL on failure). */
static void *fork_run(dwconv_algo algo, dwconv_plan *plan, int *threads_used) {
  const size_t rows = 16, n = 40000, p = 700, out = n + p - 1;
  dwconv_desc d = tc_desc(rows, n, p, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
  d.threads = 2;
  float *A = (float *)tc_alloc(rows * n, d.dtype), *B = (float *)tc_alloc(rows * p, d.dtype);
  float *C = (float *)tc_alloc(rows * out, d.dtype);
  tc_rng r;
  tc_rng_seed(&r, 77);
  tc_fill_normal(&r, A, d.dtype, rows, n, n);
  tc_fill_normal(&r, B, d.dtype, rows, p, p);
  dwconv_status st = plan != NULL ? dwconv_plan_execute(plan, A, (ptrdiff_t)n, C, (ptrdiff_t)out)
                                  : dwconv_convolve(&d, A, (ptrdiff_t)n, B, (ptrdiff_t)p, C, (ptrdiff_t)out);
  if (threads_used != NULL && plan != NULL) {
    dwconv_plan_info info;
    *threads_used = dwconv_plan_get_info(plan, &info) == DWCONV_SUCCESS ? info.threads : -1;
  }
  free(A);
  free(B);
  if (st != DWCONV_SUCCESS) {
    free(C);
    return NULL;
  }
  return C;
}

static dwconv_plan *fork_plan(dwconv_algo algo) {
  const size_t rows = 16, n = 40000, p = 700;
  dwconv_desc d = tc_desc(rows, n, p, DWCONV_FLOAT32, DWCONV_MODE_FULL, DWCONV_OP_CONVOLVE, algo);
  d.threads = 2;
  float *B = (float *)tc_alloc(rows * p, d.dtype), *A = (float *)tc_alloc(rows * n, d.dtype);
  tc_rng r;
  tc_rng_seed(&r, 77);
  tc_fill_normal(&r, A, d.dtype, rows, n, n); /* same draws as fork_run: A first, then B */
  tc_fill_normal(&r, B, d.dtype, rows, p, p);
  dwconv_plan *plan = NULL;
  ck_assert_int_eq(dwconv_plan_create(&plan, &d), DWCONV_SUCCESS);
  ck_assert_int_eq(dwconv_plan_set_kernel(plan, B, (ptrdiff_t)p), DWCONV_SUCCESS);
  free(A);
  free(B);
  return plan;
}

START_TEST(test_fork_child) {
  const size_t bytes = 16 * (40000 + 700 - 1) * sizeof(float);
  const int nalgo = tc_fft_available(DWCONV_BACKEND_CPU) ? 2 : 1;
  dwconv_plan *plans[2] = {NULL, NULL};
  void *want[2] = {NULL, NULL};
  int threads_before[2] = {0, 0}; /* 2, or 1 in a build without OpenMP */
  for (int a = 0; a < nalgo; a++) {
    dwconv_algo algo = a ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
    plans[a] = fork_plan(algo);
    want[a] = fork_run(algo, plans[a], &threads_before[a]); /* multi-threaded: starts the OpenMP threads */
    ck_assert_ptr_nonnull(want[a]);
  }
  /* Threads of this process right before the fork (libgomp's pool, if one was made): dwconv
   * caps the child at one thread only when the parent had more than one. */
  int parent_threads = -1;
  {
    DIR *dir = opendir("/proc/self/task");
    if (dir != NULL) {
      parent_threads = 0;
      for (const struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.') parent_threads++;
      closedir(dir);
    }
  }
  fflush(stdout);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int bad = 0, threads = 0;
    for (int a = 0; a < nalgo; a++) {
      dwconv_algo algo = a ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
      void *c1 = fork_run(algo, plans[a], &threads); /* the parent's plan */
      void *c2 = fork_run(algo, NULL, NULL);          /* a fresh one-shot call */
      if (c1 == NULL || c2 == NULL || memcmp(c1, want[a], bytes) != 0 || memcmp(c2, want[a], bytes) != 0) bad = 1;
      /* GCC builds with OpenMP (GNU libgomp, built with this compiler) cap the child at one
       * thread; other runtimes restart their threads and keep the count. */
#if defined(__GNUC__) && !defined(__clang__)
      const int gomp = (dwconv_build_features() & DWCONV_FEATURE_OPENMP) != 0;
#else
      const int gomp = 0;
#endif
      if (threads != (gomp && parent_threads != 1 ? 1 : threads_before[a])) bad = 1;
      printf("rel_threads: forked child, %s: plan (reports %d threads) and one-shot %s\n", tc_algo_name(algo),
             threads, bad ? "WRONG or failed" : "finished, same bits as the parent");
      fflush(stdout);
      free(c1);
      free(c2);
    }
    _exit(bad);
  }
  int status = 0;
  pid_t got = 0;
  for (int waited_ms = 0; waited_ms < 60000 && got == 0; waited_ms += 20) {
    got = waitpid(pid, &status, WNOHANG);
    if (got == 0) nanosleep(&(struct timespec){0, 20000000}, NULL);
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ck_abort_msg("the forked child did not finish within 60 s (hung in a multi-threaded region?)");
  }
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "forked child: %s %d",
                WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  for (int a = 0; a < nalgo; a++) { /* the parent keeps its threads */
    dwconv_algo algo = a ? DWCONV_ALGO_FFT : DWCONV_ALGO_DIRECT;
    int threads = 0;
    void *c = fork_run(algo, plans[a], &threads);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(memcmp(c, want[a], bytes) == 0, "parent after fork, %s: bits changed", tc_algo_name(algo));
    ck_assert_int_eq(threads, threads_before[a]);
    if (dwconv_build_features() & DWCONV_FEATURE_OPENMP) /* so the child had threads to lose */
      ck_assert_int_eq(threads_before[a], 2);
    free(c);
    free(want[a]);
    dwconv_plan_destroy(plans[a]);
  }
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("rel_threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, TC_TIMEOUT_S);
  tcase_add_test(tc, test_parallel_plans);
  tcase_add_test(tc, test_create_destroy_race);
  tcase_add_test(tc, test_fork_child);
  if (tc_fft_available(DWCONV_BACKEND_CPU))
    tcase_add_test(tc, test_tune_race);
  else
    printf("rel_threads: test_tune_race not run: this build has no FFTW (nothing to tune)\n");
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) { return tc_main(argc, argv, "rel_threads", make_suite); }
