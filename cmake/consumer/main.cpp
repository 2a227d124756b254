// The public header from C++: extern "C" linkage, no casts needed.
#include <dwconv.h>
#include <cstdio>
#include <vector>

int main() {
  std::vector<double> A(3 * 5, 1.0), B(3 * 2, 1.0), C(3 * 6);
  dwconv_desc d = dwconv_desc_make(3, 5, 2, DWCONV_FLOAT64);
  dwconv_status st = dwconv_convolve(&d, A.data(), 5, B.data(), 2, C.data(), 6);
  bool ok = st == DWCONV_SUCCESS && C[0] == 1.0 && C[1] == 2.0 && C[5] == 1.0;
  std::printf("consumer (C++): %s\n", ok ? "ok" : dwconv_last_error());
  return ok ? 0 : 1;
}
