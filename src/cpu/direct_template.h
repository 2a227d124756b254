/* Register-blocked direct kernel, instantiated once per type and instruction set by the
 * direct_<variant>.c files (C has no templates; this keeps one copy of the loop).
 *
 * Before including, define:
 *   DW_FN name, DW_T element type, DW_V vector type, DW_W lanes, DW_R vectors per block,
 *   DW_LOAD(p) unaligned load, DW_STORE(p, v) unaligned store, DW_SET1(s) broadcast,
 *   DW_ZERO() zero vector, DW_FMA(a, b, c) = a * b + c fused, DW_SFMA(a, b, c) scalar fused.
 * (all #undef-ed again at the end of this file).
 * Optional: DW_ALIGNR(hi, lo, u) = lanes u.. of the concatenation hi:lo, and DW_ALIGN_STEPS =
 *   DW_STEP(0) ... DW_STEP(DW_W - 1) (immediates must be literal).
 *
 * Each block keeps DW_R * DW_W outputs in registers while the taps stream past: one load and
 * one FMA per tap and vector, the kernel (<= a few KB) stays in L1 and each input sample is
 * reused from L1 across the taps. */
static void DW_FN(const DW_T *x, const DW_T *k, size_t p, DW_T *y, size_t count) {
  size_t i = 0;
  for (; i + DW_R * DW_W <= count; i += DW_R * DW_W) {
    DW_V acc[DW_R];
#pragma GCC unroll 16
    for (int r = 0; r < DW_R; r++) acc[r] = DW_ZERO();
    const DW_T *xi = x + i;
    size_t t = 0;
#ifdef DW_ALIGNR
    /* Taps in groups of DW_W: load each input vector once and build the DW_W shifted windows
     * with in-register shifts, instead of DW_W unaligned loads that mostly split cache lines.
     * The taps are still summed in order t = 0, 1, ..., so results match the plain loop. */
    /* Strictly below p: group g reads DW_W - 1 samples past its last tap's window, which is
     * only inside x while another tap follows (x holds count + p - 1 samples). */
    for (; t + DW_W < p; t += DW_W) {
      DW_V xa[DW_R + 1];
#pragma GCC unroll 16
      for (int r = 0; r <= DW_R; r++) xa[r] = DW_LOAD(xi + t + r * DW_W);
#define DW_STEP(u)                                                                      \
  {                                                                                     \
    DW_V kv = DW_SET1(k[t + (u)]);                                                      \
    _Pragma("GCC unroll 16") for (int r = 0; r < DW_R; r++) acc[r] =                    \
        DW_FMA((u) == 0 ? xa[r] : DW_ALIGNR(xa[r + 1], xa[r], (u)), kv, acc[r]);        \
  }
      DW_ALIGN_STEPS
#undef DW_STEP
    }
#endif
    for (; t < p; t++) {
      DW_V kv = DW_SET1(k[t]);
#pragma GCC unroll 16
      for (int r = 0; r < DW_R; r++) acc[r] = DW_FMA(DW_LOAD(xi + t + r * DW_W), kv, acc[r]);
    }
#pragma GCC unroll 16
    for (int r = 0; r < DW_R; r++) DW_STORE(y + i + r * DW_W, acc[r]);
  }
  for (; i + DW_W <= count; i += DW_W) {
    DW_V acc = DW_ZERO();
    for (size_t t = 0; t < p; t++) acc = DW_FMA(DW_LOAD(x + i + t), DW_SET1(k[t]), acc);
    DW_STORE(y + i, acc);
  }
  for (; i < count; i++) {
    DW_T acc = 0;
    for (size_t t = 0; t < p; t++) acc = DW_SFMA(x[i + t], k[t], acc);
    y[i] = acc;
  }
}

/* Each instantiation defines its own parameters. */
#undef DW_FN
#undef DW_T
#undef DW_V
#undef DW_W
#undef DW_R
#undef DW_LOAD
#undef DW_STORE
#undef DW_SET1
#undef DW_ZERO
#undef DW_FMA
#undef DW_SFMA
#undef DW_ALIGNR
#undef DW_ALIGN_STEPS
