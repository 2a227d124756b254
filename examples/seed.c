/* The question that started dwconv: convolve each row of A (4 x 10) with the matching row of
 * B (4 x 20), 'full' mode, without convolving across rows. Build: see examples/CMakeLists.txt
 * or `cc seed.c $(pkg-config --cflags --libs dwconv)`. */
#include <dwconv.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  enum { M = 4, N = 10, P = 20 };
  double A[M][N], B[M][P];
  srand(1);
  for (int m = 0; m < M; m++) {
    for (int n = 0; n < N; n++) A[m][n] = rand() / (double)RAND_MAX - 0.5;
    for (int p = 0; p < P; p++) B[m][p] = rand() / (double)RAND_MAX - 0.5;
  }
  dwconv_desc desc = dwconv_desc_make(M, N, P, DWCONV_FLOAT64); /* mode FULL by default */
  size_t out_len = dwconv_output_len(desc.mode, N, P);           /* N + P - 1 = 29 */
  double *C = malloc(sizeof(double) * M * out_len);
  dwconv_status st = dwconv_convolve(&desc, A, N, B, P, C, (ptrdiff_t)out_len);
  if (st != DWCONV_SUCCESS) {
    fprintf(stderr, "dwconv: %s (%s)\n", dwconv_status_string(st), dwconv_last_error());
    return 1;
  }
  printf("C has shape (%d, %zu); C[0][0..3] = %.6f %.6f %.6f\n", M, out_len, C[0], C[1], C[2]);
  free(C);
  return 0;
}
