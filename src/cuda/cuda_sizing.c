/* How a CUDA plan cuts a problem into chunks that fit its device-memory budget.
 *
 * The plan holds, on the device: the kernel (taps, rows x P; or spectrum, rows x (L/2+1)
 * complex), the compute buffers of one chunk (FFT: the transform buffer, rows x blocks slots
 * of 2*(L/2+1) reals, and the cuFFT workspace; GEMM: its X, W and Y buffers and the cuBLAS
 * workspace), and, only once an execute streams host arrays, the device slots that hold a
 * host chunk's clipped input and its output (two, so one computes while the other copies).
 * The kernel is sized for all rows because ldb is only known at set_kernel.
 *
 * Two chunk shapes therefore come out of one budget:
 * - the in-place shape, for executes with A and C both in device memory: only the compute
 *   buffers count, so these chunks are as large as the budget allows (about 3-5x the rows of
 *   a shape that also paid for streaming slots). Direct needs no compute buffer: one chunk.
 * - the host shape, for executes that stream A or C: its two device slots must fit in what
 *   the in-place shape's compute buffers leave, and it is never larger than the in-place
 *   shape (its FFT and GEMM chunks run in the same buffers). The in-place shape leaves room
 *   for at least the smallest host chunk (one row, one block), so every execute fits.
 * A chunk is at most CHUNK_TARGET bytes of the buffers its shape counts: large enough that
 * launch and copy overheads vanish. Whole rows are preferred; a row is split into output
 * segments (whole overlap-save blocks) only when one row alone does not fit. Chunks of a
 * shape are equal: as many as the cap needs, each as large as whole rows and blocks allow,
 * since a short last chunk would still run the FFT path's whole batch, paying a full chunk
 * for a fraction. */
#include "cuda_state.h"
#include "gemm.h"

#define CHUNK_TARGET ((size_t)256 << 20)

/* What chunk_bytes counts. */
#define PART_SLOTS 1   /* the streaming slots: a chunk's clipped input and output, twice */
#define PART_COMPUTE 2 /* the compute buffers: FFT transform buffer or GEMM X, W, Y */


static int is_fft(const dwconv_problem *prob) { return prob->desc.algo == DWCONV_ALGO_FFT; }

/* Device bytes of the buffers in `parts` for a chunk of `rows` rows x `outs` outputs. */
static size_t chunk_bytes(const dwconv_problem *prob, size_t rows, size_t outs, int parts) {
  const dwconv_geometry *g = &prob->geom;
  size_t per_row = 0;
  if (parts & PART_SLOTS) {
    size_t in = dwconv__sat_add(outs, g->p - 1);
    if (in > g->n) in = g->n;
    per_row = dwconv__sat_mul(dwconv__sat_mul(dwconv__sat_add(in, outs), prob->elem_size), DWCONV_CUDA_SLOTS);
  }
  if ((parts & PART_COMPUTE) && is_fft(prob)) {
    size_t nb = (outs + g->block_step - 1) / g->block_step;
    size_t slot_ld = 2 * (g->block_len / 2 + 1);
    per_row = dwconv__sat_add(per_row, dwconv__sat_mul(dwconv__sat_mul(nb, slot_ld), prob->elem_size));
  }
  if ((parts & PART_COMPUTE) && prob->desc.algo == DWCONV_ALGO_GEMM)
    per_row = dwconv__sat_add(per_row, dwconv__cuda_gemm_row_bytes(prob, outs));
  return dwconv__sat_mul(per_row, rows);
}

static size_t kernel_bytes(const dwconv_problem *prob) {
  const dwconv_geometry *g = &prob->geom;
  size_t per_row = is_fft(prob) ? dwconv__sat_mul(2 * (g->block_len / 2 + 1), prob->elem_size)
                                : dwconv__sat_mul(g->p, prob->elem_size);
  return dwconv__sat_mul(per_row, g->rows);
}

/* The largest chunk of at most max_rows rows x max_outs outputs (max_outs: the whole row, or
 * a multiple of align) whose `parts` take at most `target` bytes, capped by the test-only
 * env_rows / env_outs (0 = none), then made equal, and the shape's fields derived from it.
 * The smallest chunk (one row, one unit) is taken even when it exceeds target: the caller
 * checked the budget for it. */
static void fit(const dwconv_problem *prob, int parts, size_t target, size_t max_rows, size_t max_outs,
                size_t env_rows, size_t env_outs, size_t kern, dwconv_cuda_shape *out) {
  const dwconv_geometry *g = &prob->geom;
  const size_t align = prob->desc.algo != DWCONV_ALGO_DIRECT ? g->block_step : 1;
  size_t rows, outs;
  const size_t whole = chunk_bytes(prob, 1, max_outs, parts);
  if (whole == 0) {
    rows = max_rows; /* nothing per row (direct in place): one chunk */
    outs = max_outs;
  } else if (whole <= target) {
    outs = max_outs;
    rows = target / whole;
    if (rows > max_rows) rows = max_rows;
  } else {
    /* One row is too big: the largest number of whole blocks that fits (bytes grow with it). */
    size_t lo = 1, hi = (max_outs + align - 1) / align - 1; /* hi units do not fit... */
    while (lo < hi) {                                        /* ...unless proven below */
      size_t mid = lo + (hi - lo + 1) / 2;
      if (chunk_bytes(prob, 1, mid * align, parts) <= target) lo = mid; else hi = mid - 1;
    }
    rows = 1;
    outs = lo * align;
  }
  if (env_rows != 0 && env_rows < rows) rows = env_rows;
  if (env_outs != 0 && env_outs < outs) outs = env_outs;
  /* Equal chunks (see the file comment); this never makes a chunk larger. */
  {
    const size_t nr = (g->rows + rows - 1) / rows;
    rows = (g->rows + nr - 1) / nr;
    if (outs < g->out_len) {
      const size_t units = (g->out_len + align - 1) / align, per = outs / align ? outs / align : 1;
      const size_t ns = (units + per - 1) / per;
      outs = (units + ns - 1) / ns * align;
    }
  }
  /* A chunk that spans the whole row is given in whole blocks, so chunking keeps it whole. */
  size_t max_out = outs >= g->out_len ? dwconv__sat_mul((g->out_len + align - 1) / align, align) : outs;
  dwconv__chunking_init(&out->chunks, g, rows, max_out, align);

  const dwconv_chunking *c = &out->chunks;
  out->in_cap = c->outs_per_chunk + (g->p - 1) < g->n ? c->outs_per_chunk + (g->p - 1) : g->n;
  out->slots = is_fft(prob)
                   ? c->rows_per_chunk * ((c->outs_per_chunk + g->block_step - 1) / g->block_step)
                   : 0;
  out->kern_bytes = kern;
  out->stage_bytes = c->rows_per_chunk * (out->in_cap + c->outs_per_chunk) * prob->elem_size;
  out->compute_bytes = chunk_bytes(prob, c->rows_per_chunk, c->outs_per_chunk, PART_COMPUTE);
  out->count = dwconv__chunk_count(c);
}

/* Picks the in-place and host shapes: see the file comment. Returns OUT_OF_MEMORY with the
 * numbers when the kernel plus the smallest chunk (one row, one block, its compute buffers
 * and streaming slots) exceeds the budget. */
dwconv_status dwconv__cuda_size_chunks(const dwconv_problem *prob, size_t budget, size_t reserve,
                                       size_t env_rows, size_t env_outs, dwconv_cuda_shape *in_place,
                                       dwconv_cuda_shape *host) {
  const dwconv_geometry *g = &prob->geom;
  /* FFT and GEMM chunks hold whole blocks (block_step outputs each). */
  const size_t align = prob->desc.algo != DWCONV_ALGO_DIRECT ? g->block_step : 1;
  const size_t unit = align < g->out_len ? align : g->out_len;
  const size_t kern = kernel_bytes(prob);
  const size_t min_slots = chunk_bytes(prob, 1, unit, PART_SLOTS);
  const size_t smallest = dwconv__sat_add(chunk_bytes(prob, 1, unit, PART_COMPUTE), min_slots);
  const size_t need = dwconv__sat_add(dwconv__sat_add(kern, reserve), smallest);
  if (need > budget)
    return dwconv__error(DWCONV_ERROR_OUT_OF_MEMORY,
                         "CUDA plan needs at least %zu device bytes (kernel %zu, smallest chunk "
                         "%zu, cuFFT workspace %zu) but its budget is %zu; raise "
                         "desc.device_memory_limit (0 = half of the free device memory)",
                         need, kern, smallest, reserve, budget);
  /* In place: everything but the kernel, the workspace and the smallest host chunk's slots. */
  size_t target = budget - kern - reserve - min_slots;
  if (target > CHUNK_TARGET) target = CHUNK_TARGET;
  fit(prob, PART_COMPUTE, target, g->rows, g->out_len, env_rows, env_outs, kern, in_place);
  /* Host: its slots in what the in-place compute buffers leave; never larger than in place. */
  target = budget - kern - reserve - in_place->compute_bytes;
  if (target > CHUNK_TARGET) target = CHUNK_TARGET;
  const size_t max_outs = in_place->chunks.outs_per_chunk < g->out_len ? in_place->chunks.outs_per_chunk : g->out_len;
  fit(prob, PART_SLOTS, target, in_place->chunks.rows_per_chunk, max_outs, env_rows, env_outs, kern, host);
  return DWCONV_SUCCESS;
}
