/* The front end: validates every argument once, resolves AUTO choices, and calls the chosen
 * backend through its table of functions. Backends trust what arrives from here. */
#include <stdint.h>
#include <stdio.h>

#include "gemm_model.h"
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

struct dwconv_plan {
  dwconv_problem prob;
  const dwconv_backend_ops *ops;
  void *state;
  int kernel_set;
  /* Why BACKEND_AUTO made this plan on the CPU although it had chosen the GPU ("" when it
   * did not): such a plan refuses device pointers (check_cpu_instead). */
  char cpu_instead[512];
};

dwconv_desc dwconv_desc_make(size_t rows, size_t signal_len, size_t kernel_len,
                             dwconv_dtype dtype) {
  dwconv_desc d;
  d.rows = rows;
  d.signal_len = signal_len;
  d.kernel_len = kernel_len;
  d.dtype = dtype;
  d.mode = DWCONV_MODE_FULL;
  d.op = DWCONV_OP_CONVOLVE;
  d.backend = DWCONV_BACKEND_AUTO;
  d.algo = DWCONV_ALGO_AUTO;
  d.threads = 0;
  d.device_memory_limit = 0;
  d.math = DWCONV_MATH_IEEE;
  return d;
}

size_t dwconv_output_len(dwconv_mode mode, size_t signal_len, size_t kernel_len) {
  dwconv_geometry g;
  if (dwconv__geometry_init(&g, mode, 1, signal_len, kernel_len) != DWCONV_SUCCESS) return 0;
  return g.out_len;
}

#ifndef DWCONV_HAVE_CUDA
int dwconv__cuda_device_count(void) { return 0; }
#endif

int dwconv_cuda_device_count(void) { return dwconv__cuda_device_count(); }

dwconv_status dwconv_cuda_device_info(int device, dwconv_device_info *info) {
  dwconv__clear_error();
  if (info == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "info is NULL");
#ifdef DWCONV_HAVE_CUDA
  int n = dwconv__cuda_device_count();
  if (device < 0 || device >= n)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "device %d out of range (%d usable CUDA devices)",
                         device, n);
  return dwconv__cuda_device_info(device, info);
#else
  (void)device;
  return dwconv__error(DWCONV_ERROR_NO_DEVICE, "this dwconv was built without CUDA");
#endif
}

unsigned dwconv_build_features(void) {
  unsigned f = 0;
#ifdef DWCONV_HAVE_CUDA
  f |= DWCONV_FEATURE_CUDA;
#endif
#ifdef DWCONV_HAVE_FFTW
  f |= DWCONV_FEATURE_FFTW;
#endif
#ifdef _OPENMP
  f |= DWCONV_FEATURE_OPENMP;
#endif
  return f;
}

const char *dwconv_cpu_simd(void) { return dwconv__cpu_simd_name(); }


static dwconv_status check_desc(const dwconv_desc *d) {
  if ((unsigned)d->dtype > DWCONV_FLOAT64)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.dtype %d is not a dwconv_dtype", (int)d->dtype);
  if ((unsigned)d->mode > DWCONV_MODE_CAUSAL)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.mode %d is not a dwconv_mode", (int)d->mode);
  if ((unsigned)d->op > DWCONV_OP_CORRELATE)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.op %d is not a dwconv_op", (int)d->op);
  if ((unsigned)d->backend > DWCONV_BACKEND_CUDA)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.backend %d is not a dwconv_backend",
                         (int)d->backend);
  if ((unsigned)d->algo > DWCONV_ALGO_GEMM)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.algo %d is not a dwconv_algo", (int)d->algo);
  if ((unsigned)d->math > DWCONV_MATH_TF32X3)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc.math %d is not a dwconv_math", (int)d->math);
  if (d->threads < 0 || d->threads > DWCONV_MAX_THREADS)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "desc.threads is %d; use 0 for all cores or a count from 1 to %d", d->threads,
                         DWCONV_MAX_THREADS);
  if (d->rows == 0 || d->signal_len == 0 || d->kernel_len == 0)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "rows, signal_len and kernel_len must all be >= 1 (got %zu, %zu, %zu)",
                         d->rows, d->signal_len, d->kernel_len);
  return DWCONV_SUCCESS;
}

static dwconv_status resolve_backend(dwconv_problem *prob, const dwconv_backend_ops **ops) {
  dwconv_backend want = prob->desc.backend;
  /* A CPU request never asks for devices: that would initialise the CUDA driver (slow, and a
   * surprise for a CPU-only program that forks afterwards). */
  int devices = want == DWCONV_BACKEND_CPU ? 0 : dwconv__cuda_device_count();
  if (want == DWCONV_BACKEND_CUDA || (want == DWCONV_BACKEND_AUTO && devices > 0)) {
#ifdef DWCONV_HAVE_CUDA
    if (devices <= 0)
      return dwconv__error(DWCONV_ERROR_NO_DEVICE,
                           "BACKEND_CUDA requested but no usable CUDA device was found");
    prob->desc.backend = DWCONV_BACKEND_CUDA;
    *ops = &dwconv__cuda_ops;
    return DWCONV_SUCCESS;
#else
    return dwconv__error(DWCONV_ERROR_NO_DEVICE,
                         "BACKEND_CUDA requested but this dwconv was built without CUDA");
#endif
  }
  prob->desc.backend = DWCONV_BACKEND_CPU;
  *ops = &dwconv__cpu_ops;
  return DWCONV_SUCCESS;
}

static int fft_available(dwconv_backend b) {
  if (b == DWCONV_BACKEND_CUDA) return 1;
#ifdef DWCONV_HAVE_FFTW
  return 1;
#else
  return 0;
#endif
}

/* Everything plan creation decides before it allocates: validates *desc, resolves the
 * backend, the thread count and the algorithm into *prob and *ops. No allocation, so the
 * one-shot call can report descriptor errors first too. */
static dwconv_status prepare_problem(const dwconv_desc *desc, dwconv_problem *prob,
                                     const dwconv_backend_ops **ops) {
  if (desc == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc is NULL");
  dwconv_status st = check_desc(desc);
  if (st != DWCONV_SUCCESS) return st;
  prob->desc = *desc;
  prob->elem_size = dwconv__dtype_size(desc->dtype);
  st = dwconv__geometry_init(&prob->geom, desc->mode, desc->rows, desc->signal_len, desc->kernel_len);
  if (st == DWCONV_ERROR_SIZE_OVERFLOW)
    return dwconv__error(st, "signal_len + kernel_len - 1 overflows size_t (%zu, %zu)",
                         desc->signal_len, desc->kernel_len);
  if (st != DWCONV_SUCCESS) return dwconv__error(st, "invalid sizes or mode");
  /* Every array the plan touches must be addressable with ptrdiff_t offsets. */
  int ok;
  (void)dwconv__span_bytes(desc->rows, prob->geom.out_len, prob->geom.out_len, prob->elem_size, &ok);
  if (ok) (void)dwconv__span_bytes(desc->rows, desc->signal_len, desc->signal_len, prob->elem_size, &ok);
  if (ok) (void)dwconv__span_bytes(desc->rows, desc->kernel_len, desc->kernel_len, prob->elem_size, &ok);
  if (!ok)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW,
                         "rows x length x element size overflows (rows %zu, N %zu, P %zu, output %zu)",
                         desc->rows, desc->signal_len, desc->kernel_len, prob->geom.out_len);

#ifdef _OPENMP
  prob->threads = desc->threads > 0 ? desc->threads : omp_get_max_threads();
  if (prob->threads > DWCONV_MAX_THREADS) prob->threads = DWCONV_MAX_THREADS;
#else
  prob->threads = 1;
#endif
  if (prob->threads < 1) prob->threads = 1;
  prob->threads = dwconv__threads_cap(prob->threads); /* 1 in a forked child (threads.c) */

  st = resolve_backend(prob, ops);
  if (st == DWCONV_SUCCESS) st = dwconv__gemm_check(prob);
  if (st != DWCONV_SUCCESS) return st;
  return dwconv__choose_algorithm(prob, fft_available(prob->desc.backend));
}

/* Plan creation's second try, with `alt` (AUTO's next choice), after the first failed with
 * st: on success p holds the alternative and no error is left; otherwise st is returned with
 * the first failure's message (AUTO's first choice), noting that alt_name failed too. */
static dwconv_status create_instead(dwconv_plan *p, const dwconv_desc *alt, dwconv_status st,
                                    const char *alt_name, char *why, size_t why_len) {
  snprintf(why, why_len, "%s", dwconv_last_error());
  dwconv_problem prob;
  const dwconv_backend_ops *ops = NULL;
  dwconv_status st2 = prepare_problem(alt, &prob, &ops);
  if (st2 == DWCONV_SUCCESS) {
    p->prob = prob;
    p->ops = ops;
    p->state = NULL;
    st2 = ops->create(&p->prob, &p->state);
  }
  if (st2 == DWCONV_SUCCESS) {
    dwconv__clear_error();
    return DWCONV_SUCCESS;
  }
  char why2[256];
  snprintf(why2, sizeof why2, "%s", dwconv_last_error());
  return dwconv__error(st, "%.200s (%s, tried instead, failed too: %.200s)", why, alt_name, why2);
}

/* A plan BACKEND_AUTO made on the CPU instead of the GPU must not be handed device memory:
 * the CPU would read it through host addresses and crash. INVALID_VALUE, naming the array
 * and why the GPU refused; SUCCESS for every other plan (and in builds without CUDA, where
 * that fallback cannot happen). */
static dwconv_status check_cpu_instead(const dwconv_plan *p, const void *ptr, const char *name) {
#ifdef DWCONV_HAVE_CUDA
  if (p->cpu_instead[0] != '\0' && dwconv__cuda_is_device_memory(ptr))
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "%s is GPU memory, but BACKEND_AUTO made this plan on the CPU because the "
                         "GPU could not take it (%.200s); free GPU memory, lower the plan's size or "
                         "desc.device_memory_limit, or pass host memory",
                         name, p->cpu_instead);
#else
  (void)p, (void)ptr, (void)name;
#endif
  return DWCONV_SUCCESS;
}

dwconv_status dwconv_plan_create(dwconv_plan **plan, const dwconv_desc *desc) {
  dwconv__clear_error();
  if (plan == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "plan (output pointer) is NULL");
  *plan = NULL;
  dwconv_problem prob;
  const dwconv_backend_ops *ops = NULL;
  dwconv_status st = prepare_problem(desc, &prob, &ops);
  if (st != DWCONV_SUCCESS) return st;

  dwconv_plan *p = (dwconv_plan *)dwconv__malloc(sizeof *p);
  if (p == NULL) return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY, "allocating the plan (%zu bytes)", sizeof *p);
  p->prob = prob;
  p->ops = ops;
  p->state = NULL;
  p->kernel_set = 0;
  p->cpu_instead[0] = '\0';
  st = ops->create(&p->prob, &p->state);
  if ((st == DWCONV_ERROR_OUT_OF_MEMORY || st == DWCONV_ERROR_NOT_SUPPORTED) && desc->algo == DWCONV_ALGO_AUTO &&
      prob.desc.algo == DWCONV_ALGO_FFT) {
    /* AUTO chose FFT for speed, but its memory (kernel spectra rows x (L/2+1), transform
     * buffers, FFT plans) could not be had: within a device_memory_limit, say; or the FFT
     * library refused the transform (cuFFT: a length or batch past its limits). Direct needs
     * less (taps rows x P) and has no such limits, so AUTO takes it rather than fail;
     * get_info reports DIRECT. */
    dwconv_desc direct = *desc;
    direct.algo = DWCONV_ALGO_DIRECT;
    char why[512];
    st = create_instead(p, &direct, st, "direct", why, sizeof why);
  }
  if ((st == DWCONV_ERROR_DEVICE || st == DWCONV_ERROR_OUT_OF_MEMORY || st == DWCONV_ERROR_NOT_SUPPORTED) &&
      desc->backend == DWCONV_BACKEND_AUTO && p->prob.desc.backend == DWCONV_BACKEND_CUDA) {
    /* AUTO chose the GPU, but it cannot take this plan now (out of device memory, held by
     * another process in exclusive mode, an FFT cuFFT refuses, ...): the CPU does the work
     * rather than fail;
     * get_info reports BACKEND_CPU. An explicit BACKEND_CUDA request still fails. */
    dwconv_desc cpu = *desc;
    cpu.backend = DWCONV_BACKEND_CPU;
    char why[512];
    st = create_instead(p, &cpu, st, "the CPU", why, sizeof why);
    if (st == DWCONV_SUCCESS) snprintf(p->cpu_instead, sizeof p->cpu_instead, "%s", why);
  }
  if (st != DWCONV_SUCCESS) {
    dwconv__free(p);
    return st;
  }
  *plan = p;
  return DWCONV_SUCCESS;
}

/* An array's address must be a multiple of its element size: the kernels load whole
 * elements (misaligned loads are undefined behaviour in C, and fault on some hardware). Such
 * arrays come e.g. from a buffer viewed at an odd byte offset (numpy's flags.aligned False). */
static dwconv_status check_aligned(const void *ptr, size_t es, const char *name) {
  if ((uintptr_t)ptr % es != 0)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "%s (%p) is not aligned to its element size (%zu bytes); copy it to an aligned buffer",
                         name, ptr, es);
  return DWCONV_SUCCESS;
}

/* set_kernel's argument rules for problem prob (no plan state needed). */
static dwconv_status check_kernel_args(const dwconv_problem *prob, const void *B, ptrdiff_t ldb) {
  if (B == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "B is NULL");
  dwconv_status ast = check_aligned(B, prob->elem_size, "B");
  if (ast != DWCONV_SUCCESS) return ast;
  const dwconv_geometry *g = &prob->geom;
  if (ldb < 0) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "ldb is negative (%td)", ldb);
  if (ldb != 0 && (size_t)ldb < g->p)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "ldb (%td) is smaller than kernel_len (%zu); use 0 to broadcast one kernel",
                         ldb, g->p);
  int ok;
  (void)dwconv__span_bytes(ldb == 0 ? 1 : g->rows, (size_t)ldb, g->p, prob->elem_size, &ok);
  if (!ok) return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "B's extent (rows x ldb) overflows");
  return DWCONV_SUCCESS;
}

/* execute's argument rules for problem prob: pointers, strides, extents, overlap. */
static dwconv_status check_exec_args(const dwconv_problem *prob, const void *A, ptrdiff_t lda,
                                     const void *C, ptrdiff_t ldc) {
  if (A == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "A is NULL");
  if (C == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "C is NULL");
  const dwconv_geometry *g = &prob->geom;
  size_t es = prob->elem_size;
  dwconv_status ast = check_aligned(A, es, "A");
  if (ast == DWCONV_SUCCESS) ast = check_aligned(C, es, "C");
  if (ast != DWCONV_SUCCESS) return ast;
  if (lda < 0) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "lda is negative (%td)", lda);
  if (ldc < 0) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "ldc is negative (%td)", ldc);
  if (lda != 0 && (size_t)lda < g->n)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "lda (%td) is smaller than signal_len (%zu); use 0 to broadcast one signal",
                         lda, g->n);
  if ((size_t)ldc < g->out_len)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "ldc (%td) is smaller than the output length (%zu)",
                         ldc, g->out_len);
  int ok_a, ok_c;
  size_t a_bytes = dwconv__span_bytes(lda == 0 ? 1 : g->rows, (size_t)lda, g->n, es, &ok_a);
  size_t c_bytes = dwconv__span_bytes(g->rows, (size_t)ldc, g->out_len, es, &ok_c);
  if (!ok_a || !ok_c)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "the extent of %s (rows x stride) overflows",
                         ok_a ? "C" : "A");
  uintptr_t a0 = (uintptr_t)A, c0 = (uintptr_t)C;
  if (a0 + a_bytes < a0 || c0 + c_bytes < c0)
    return dwconv__error(DWCONV_ERROR_SIZE_OVERFLOW, "array extent wraps the address space");
  /* Spans are compared whole: rows of C interleaved between rows of A count as overlap. */
  if (dwconv__bytes_overlap(A, a_bytes, C, c_bytes))
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE,
                         "C overlaps A (in-place convolution is not supported)");
  return DWCONV_SUCCESS;
}

dwconv_status dwconv_plan_set_kernel(dwconv_plan *plan, const void *B, ptrdiff_t ldb) {
  dwconv__clear_error();
  if (plan == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "plan is NULL");
  dwconv_status st = check_kernel_args(&plan->prob, B, ldb);
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, B, "B");
  if (st != DWCONV_SUCCESS) return st;
  /* A failed call may have overwritten part of the previous kernel: the plan then has none. */
  st = plan->ops->set_kernel(plan->state, B, ldb);
  plan->kernel_set = st == DWCONV_SUCCESS;
  return st;
}

dwconv_status dwconv_plan_execute(dwconv_plan *plan, const void *A, ptrdiff_t lda, void *C,
                                  ptrdiff_t ldc) {
  dwconv__clear_error();
  if (plan == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "plan is NULL");
  dwconv_status st = check_exec_args(&plan->prob, A, lda, C, ldc);
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, A, "A");
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, C, "C");
  if (st != DWCONV_SUCCESS) return st;
  if (!plan->kernel_set)
    return dwconv__error(DWCONV_ERROR_KERNEL_NOT_SET, "execute called before set_kernel");
  return plan->ops->execute(plan->state, A, lda, C, ldc);
}

dwconv_status dwconv_plan_get_info(const dwconv_plan *plan, dwconv_plan_info *info) {
  dwconv__clear_error();
  if (plan == NULL || info == NULL)
    return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "%s is NULL", plan == NULL ? "plan" : "info");
  info->backend = plan->prob.desc.backend;
  info->algo = plan->prob.desc.algo;
  info->output_len = plan->prob.geom.out_len;
  info->block_len = plan->prob.desc.algo != DWCONV_ALGO_DIRECT ? plan->prob.geom.block_len : 0;
  info->block_step = plan->prob.desc.algo != DWCONV_ALGO_DIRECT ? plan->prob.geom.block_step : 0;
  info->math = plan->prob.desc.math;
  info->threads = dwconv__threads_cap(plan->prob.threads);
  info->workspace_bytes = 0;
  info->simd = "";
  info->constants_source = plan->prob.constants_source;
  plan->ops->get_info(plan->state, info);
  return DWCONV_SUCCESS;
}

dwconv_status dwconv_plan_set_stream(dwconv_plan *plan, void *cuda_stream) {
  dwconv__clear_error();
  if (plan == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "plan is NULL");
  if (plan->ops->set_stream == NULL)
    return dwconv__error(DWCONV_ERROR_NOT_SUPPORTED, "set_stream applies to CUDA plans only (this is a %s plan)",
                         plan->ops->name);
  return plan->ops->set_stream(plan->state, cuda_stream);
}

void dwconv_plan_destroy(dwconv_plan *plan) {
  if (plan == NULL) return;
  plan->ops->destroy(plan->state);
  dwconv__free(plan);
}

dwconv_status dwconv_convolve(const dwconv_desc *desc, const void *A, ptrdiff_t lda, const void *B,
                              ptrdiff_t ldb, void *C, ptrdiff_t ldc) {
  /* Every argument is checked, in the order of the plan calls (descriptor, then B, then A
   * and C), before a plan and its memory are made: an argument error with a huge descriptor
   * is reported as such, not as OUT_OF_MEMORY. */
  dwconv__clear_error();
  dwconv_problem prob;
  const dwconv_backend_ops *ops = NULL;
  dwconv_status st = prepare_problem(desc, &prob, &ops);
  if (st == DWCONV_SUCCESS) st = check_kernel_args(&prob, B, ldb);
  if (st == DWCONV_SUCCESS) st = check_exec_args(&prob, A, lda, C, ldc);
  if (st != DWCONV_SUCCESS) return st;
  dwconv_plan *plan = NULL;
  st = dwconv_plan_create(&plan, desc);
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, B, "B");
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, A, "A");
  if (st == DWCONV_SUCCESS) st = check_cpu_instead(plan, C, "C");
  if (st == DWCONV_SUCCESS && plan->ops->convolve != NULL) {
    st = plan->ops->convolve(plan->state, A, lda, B, ldb, C, ldc);
  } else {
    if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, ldb);
    if (st == DWCONV_SUCCESS) st = dwconv_plan_execute(plan, A, lda, C, ldc);
  }
  dwconv_plan_destroy(plan);
  return st;
}

dwconv_status dwconv_fft_tune(const dwconv_desc *desc) {
  dwconv__clear_error();
  if (desc == NULL) return dwconv__error(DWCONV_ERROR_INVALID_VALUE, "desc is NULL");
  /* Validated as dwconv_plan_create would, as a CPU FFT plan: the block length is the one
   * such a plan gets from the cost model. */
  dwconv_desc d = *desc;
  d.backend = DWCONV_BACKEND_CPU;
  d.algo = DWCONV_ALGO_FFT;
  dwconv_problem prob;
  const dwconv_backend_ops *ops = NULL;
  dwconv_status st = prepare_problem(&d, &prob, &ops);
  if (st != DWCONV_SUCCESS) return st;
  return dwconv__cpu_fft_tune(&prob);
}
