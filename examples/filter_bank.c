/* One plan, many batches: a bank of M float32 filters of 63 taps applied to batches of
 * signals, 'same' mode, the kernel prepared once. Also shows the plan info. */
#include <dwconv.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const size_t M = 64, N = 4096, P = 63;
  float *A = malloc(sizeof(float) * M * N), *B = malloc(sizeof(float) * M * P);
  float *C = malloc(sizeof(float) * M * N);
  if (!A || !B || !C) return 1;
  for (size_t i = 0; i < M * P; i++) B[i] = 1.0f / (float)P; /* moving averages */

  dwconv_desc desc = dwconv_desc_make(M, N, P, DWCONV_FLOAT32);
  desc.mode = DWCONV_MODE_SAME;
  dwconv_plan *plan = NULL;
  dwconv_status st = dwconv_plan_create(&plan, &desc);
  if (st == DWCONV_SUCCESS) st = dwconv_plan_set_kernel(plan, B, (ptrdiff_t)P);
  for (int batch = 0; batch < 3 && st == DWCONV_SUCCESS; batch++) {
    for (size_t i = 0; i < M * N; i++) A[i] = (float)((i + (size_t)batch) % 7);
    st = dwconv_plan_execute(plan, A, (ptrdiff_t)N, C, (ptrdiff_t)N);
  }
  if (st != DWCONV_SUCCESS) {
    fprintf(stderr, "dwconv: %s (%s)\n", dwconv_status_string(st), dwconv_last_error());
    dwconv_plan_destroy(plan);
    return 1;
  }
  dwconv_plan_info info;
  dwconv_plan_get_info(plan, &info);
  printf("backend %s, algorithm %s, kernel %s, %d threads, %zu bytes of workspace; C[0][100] = %g\n",
         info.backend == DWCONV_BACKEND_CUDA ? "cuda" : "cpu",
         info.algo == DWCONV_ALGO_FFT ? "fft" : "direct", info.simd, info.threads,
         info.workspace_bytes, C[100]);
  dwconv_plan_destroy(plan);
  free(A);
  free(B);
  free(C);
  return 0;
}
