/* The GEMM path's front-end rules and its block length (gemm_model.c): which requests it
 * takes, and how long a block T of outputs is. Shared by src/core and src/cuda. */
#ifndef DWCONV_GEMM_MODEL_H
#define DWCONV_GEMM_MODEL_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows of X (block inputs) are padded to a multiple of this many elements, and T is one too:
 * cuBLAS's tensor-core kernels want 16-byte aligned leading dimensions. */
#define DWCONV_GEMM_ALIGN 8
/* Largest T considered: beyond it the Toeplitz matrix (K x T per row) costs more memory
 * traffic than the block inputs it saves (docs/CUDA.md). */
#define DWCONV_GEMM_MAX_T 1024

/* Checks the ALGO_GEMM and desc.math rules once the backend is known (prob->desc.backend is
 * CPU or CUDA): GEMM on a CPU plan, non-IEEE math on a CPU plan, with an algorithm other than
 * GEMM, or with float64 are NOT_SUPPORTED, with a message saying why. */
dwconv_status dwconv__gemm_check(const dwconv_problem *prob);

/* For a GEMM plan: picks T and stores K = P + T - 1 and T as the geometry's block_len and
 * block_step (dwconv__geometry_set_block). SIZE_OVERFLOW when the padded K does not fit
 * cuBLAS's int dimensions. The test-only environment variable DWCONV_GEMM_BLOCK (a multiple
 * of DWCONV_GEMM_ALIGN) forces T. */
dwconv_status dwconv__gemm_choose_block(dwconv_problem *prob);

/* The padded inner dimension of the GEMM: K rounded up to DWCONV_GEMM_ALIGN. */
static inline size_t dwconv__gemm_k_ld(const dwconv_geometry *g) {
  return (g->block_len + DWCONV_GEMM_ALIGN - 1) / DWCONV_GEMM_ALIGN * DWCONV_GEMM_ALIGN;
}

/* The cost model's slot for GEMM: modelled nanoseconds per row for block length t, from
 * assumed H100 constants (docs/CUDA.md). *measured is 0 while those constants are not
 * measured on a GPU: ALGO_AUTO then does not consider GEMM (cost_model.c). */
double dwconv__gemm_row_cost(const dwconv_problem *prob, size_t t, int *measured);

#ifdef __cplusplus
}
#endif

#endif /* DWCONV_GEMM_MODEL_H */
