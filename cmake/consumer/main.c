/* Links against an installed dwconv and checks one known result: ones (x) ones. */
#include <dwconv.h>
#include <stdio.h>

int main(void) {
  float A[2][3] = {{1, 1, 1}, {1, 2, 3}}, B[2][2] = {{1, 1}, {1, 0}}, C[2][4];
  dwconv_desc d = dwconv_desc_make(2, 3, 2, DWCONV_FLOAT32);
  dwconv_status st = dwconv_convolve(&d, A, 3, B, 2, C, 4);
  const float want[2][4] = {{1, 2, 2, 1}, {1, 2, 3, 0}};
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < 4; i++)
      if (C[m][i] != want[m][i]) st = DWCONV_ERROR_INTERNAL;
  printf("consumer (C): %s, dwconv %s\n", dwconv_status_string(st), dwconv_version_string());
  return st == DWCONV_SUCCESS ? 0 : 1;
}
