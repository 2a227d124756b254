// The Python extension module dwconv._dwconv: a thin nanobind layer over the public C API
// (include/dwconv.h) only.
//
// Division of labour with the Python package (python/dwconv/_api.py): Python decides dtypes,
// axis, broadcasting and which inputs must be copied; it hands this module arrays whose last
// axis is the signal axis and whose leading (batch) axes already have the broadcast shape
// (zero strides where an operand is broadcast). This module maps such arrays onto as few C
// calls as their strides allow (batch axes merged wherever the strides of all three arrays
// agree, the innermost remaining axis becoming the C call's rows with row strides lda / ldb /
// ldc), and runs them with the GIL released.
//
// Errors: functions return the dwconv_status (>= 0), or a negative LAYOUT_* code when an array
// cannot be passed to the C API as it is (Python then copies it and calls again). On a
// non-zero status, last_error() gives dwconv's message (same thread, before any other call).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <dwconv.h>

#ifdef DWCONV_PY_CUDA
#include <cuda_runtime_api.h>
#endif

namespace nb = nanobind;

namespace {

// Negative return codes: the operand named cannot be given to the C API as it is.
constexpr int LAYOUT_A = -1, LAYOUT_B = -2, LAYOUT_C = -3;
// C overlaps A or B (never allowed through the Python API: a multi-call run could read what
// an earlier call wrote).
constexpr int OVERLAP = -4;
// Arrays on different devices, or an unsupported device.
constexpr int DEVICE_MISMATCH = -5;

using in_array = nb::ndarray<nb::ro>;
using out_array = nb::ndarray<>;

// One axis of the batch iteration: its extent and each operand's stride in elements.
struct axis {
  int64_t n, sa, sb, sc;
};

// The C calls one (a, b, c) triple needs: `rows` rows per call with row strides lda/ldb/ldc,
// repeated over the outer axes.
struct layout {
  std::vector<axis> outer;  // slowest first
  int64_t rows = 1, lda = 0, ldb = 0, ldc = 0;
  int64_t n = 0, p = 0, l = 0;
};

bool is_float_dtype(const nb::dlpack::dtype &d, int bits) {
  return d.code == (uint8_t)nb::dlpack::dtype_code::Float && d.bits == bits && d.lanes == 1;
}

// Element span [lo, hi) that `x` touches, relative to its data pointer, given extents/strides.
void span(const std::vector<int64_t> &shape, const std::vector<int64_t> &stride, int64_t *lo,
          int64_t *hi) {
  int64_t a = 0, b = 0;
  for (size_t i = 0; i < shape.size(); i++) {
    if (shape[i] <= 0) { *lo = *hi = 0; return; }
    int64_t ext = (shape[i] - 1) * stride[i];
    if (ext < 0) a += ext; else b += ext;
  }
  *lo = a;
  *hi = b + 1;
}

// Builds the call layout for arrays whose last axis is the signal axis and whose batch axes
// have equal extents. Returns 0, or a LAYOUT_* code for the first operand the C API cannot
// take as it is (signal axis not unit-stride, a negative or too small row stride, misaligned).
int make_layout(const in_array &a, const in_array &b, const out_array &c, layout *out) {
  const size_t nd = a.ndim();
  const size_t es = a.itemsize();
  if (reinterpret_cast<uintptr_t>(a.data()) % es) return LAYOUT_A;
  if (reinterpret_cast<uintptr_t>(b.data()) % es) return LAYOUT_B;
  if (reinterpret_cast<uintptr_t>(c.data()) % es) return LAYOUT_C;
  out->n = a.shape(nd - 1);
  out->p = b.shape(nd - 1);
  out->l = c.shape(nd - 1);
  // A length-1 signal axis has no meaningful stride (frameworks report anything there).
  if (out->n > 1 && a.stride(nd - 1) != 1) return LAYOUT_A;
  if (out->p > 1 && b.stride(nd - 1) != 1) return LAYOUT_B;
  if (out->l > 1 && c.stride(nd - 1) != 1) return LAYOUT_C;
  // Batch axes of extent 1 carry no stride information; drop them, then merge neighbours
  // whose strides nest for all three operands.
  std::vector<axis> ax;
  for (size_t i = 0; i + 1 < nd; i++) {
    if (c.shape(i) == 1) continue;
    axis x{(int64_t)c.shape(i), a.stride(i), b.stride(i), c.stride(i)};
    if (!ax.empty()) {
      axis &in = ax.back();  // the previous (slower) axis
      if (in.sa == x.sa * x.n && in.sb == x.sb * x.n && in.sc == x.sc * x.n) {
        in.n *= x.n;
        in.sa = x.sa;
        in.sb = x.sb;
        in.sc = x.sc;
        continue;
      }
    }
    ax.push_back(x);
  }
  if (!ax.empty()) {
    axis inner = ax.back();
    ax.pop_back();
    out->rows = inner.n;
    out->lda = inner.sa;
    out->ldb = inner.sb;
    out->ldc = inner.sc;
  } else {
    out->rows = 1;
    out->lda = out->n;
    out->ldb = out->p;
    out->ldc = out->l;
  }
  // The C API: lda = 0 or >= N, ldb = 0 or >= P, ldc >= output length, none negative.
  if (out->lda < 0 || (out->lda != 0 && out->lda < out->n)) return LAYOUT_A;
  if (out->ldb < 0 || (out->ldb != 0 && out->ldb < out->p)) return LAYOUT_B;
  if (out->ldc < out->l) return LAYOUT_C;
  for (const axis &x : ax) {
    if (x.sa < 0) return LAYOUT_A;
    if (x.sb < 0) return LAYOUT_B;
    if (x.sc < 0) return LAYOUT_C;
  }
  out->outer = std::move(ax);
  return 0;
}

// True when the element spans of c and x (both of element size es) share a byte.
bool overlaps(const void *c, int64_t clo, int64_t chi, const void *x, int64_t xlo, int64_t xhi,
              size_t es) {
  if (chi <= clo || xhi <= xlo) return false;
  const uintptr_t c0 = reinterpret_cast<uintptr_t>(c) + clo * (int64_t)es;
  const uintptr_t c1 = reinterpret_cast<uintptr_t>(c) + chi * (int64_t)es;
  const uintptr_t x0 = reinterpret_cast<uintptr_t>(x) + xlo * (int64_t)es;
  const uintptr_t x1 = reinterpret_cast<uintptr_t>(x) + xhi * (int64_t)es;
  return c0 < x1 && x0 < c1;
}

template <class T>
void shape_strides(const T &x, std::vector<int64_t> *shape, std::vector<int64_t> *stride) {
  for (size_t i = 0; i < x.ndim(); i++) {
    shape->push_back((int64_t)x.shape(i));
    stride->push_back(x.stride(i));
  }
}

// A descriptor from the Python layer's codes (validated again by the C library).
dwconv_desc make_desc(size_t rows, size_t n, size_t p, int dtype, int mode, int op, int algo,
                      int backend, int math, int threads) {
  dwconv_desc d = dwconv_desc_make(rows, n, p, (dwconv_dtype)dtype);
  d.mode = (dwconv_mode)mode;
  d.op = (dwconv_op)op;
  d.algo = (dwconv_algo)algo;
  d.backend = (dwconv_backend)backend;
  d.math = (dwconv_math)math;
  d.threads = threads;
  return d;
}

// Makes the calling thread's current CUDA device `dev` for the lifetime of the object (GPU
// arrays live on a device; dwconv plans work on the current one), and restores it after.
struct device_scope {
#ifdef DWCONV_PY_CUDA
  int prev = -1, dev;
  explicit device_scope(int d) : dev(d) {
    if (d >= 0 && cudaGetDevice(&prev) == cudaSuccess && prev != d) {
      if (cudaSetDevice(d) != cudaSuccess) prev = -1;
    } else {
      prev = -1;
    }
  }
  ~device_scope() {
    if (prev >= 0) (void)cudaSetDevice(prev);
  }
#else
  explicit device_scope(int) {}
#endif
};

// Runs every C call of the layout with plan settings from `d`. With no outer axes and no
// stream this is one dwconv_convolve; otherwise one plan is made (so its argument and memory
// checks happen before anything is written) and executed per outer index.
dwconv_status run_layout(const dwconv_desc &d, const layout &lay, const char *a, const char *b,
                         char *c, size_t es, void *stream) {
  if (lay.outer.empty() && stream == nullptr)
    return dwconv_convolve(&d, a, lay.lda, b, lay.ldb, c, lay.ldc);
  dwconv_plan *plan = nullptr;
  dwconv_status st = dwconv_plan_create(&plan, &d);
  if (st != DWCONV_SUCCESS) return st;
  if (stream != nullptr) st = dwconv_plan_set_stream(plan, stream);
  std::vector<int64_t> idx(lay.outer.size(), 0);
  while (st == DWCONV_SUCCESS) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (size_t i = 0; i < idx.size(); i++) {
      oa += idx[i] * lay.outer[i].sa;
      ob += idx[i] * lay.outer[i].sb;
      oc += idx[i] * lay.outer[i].sc;
    }
    st = dwconv_plan_set_kernel(plan, b + ob * (int64_t)es, lay.ldb);
    if (st == DWCONV_SUCCESS)
      st = dwconv_plan_execute(plan, a + oa * (int64_t)es, lay.lda, c + oc * (int64_t)es, lay.ldc);
    // Next multi-index (the last outer axis fastest); done after the last one.
    size_t k = idx.size();
    while (k > 0 && ++idx[k - 1] == lay.outer[k - 1].n) idx[--k] = 0;
    if (k == 0) break;
  }
  if (stream != nullptr && st == DWCONV_SUCCESS) {
    // Leave no reference to the caller's stream in a plan about to be destroyed (destroy
    // synchronises it, which is what a one-shot call on a stream promises anyway).
    st = dwconv_plan_set_stream(plan, nullptr);
  }
  dwconv_plan_destroy(plan);
  return st;
}

// convolve / correlate on prepared arrays (see the top of the file). Returns a status or a
// negative code.
int run(in_array a, in_array b, out_array c, int mode, int op, int algo, int backend,
        int math, int threads, uintptr_t stream) {
  const size_t nd = a.ndim();
  if (nd < 1 || b.ndim() != nd || c.ndim() != nd) return (int)DWCONV_ERROR_INVALID_VALUE;
  const nb::dlpack::dtype dt = a.dtype();
  int bits = is_float_dtype(dt, 32) ? 32 : is_float_dtype(dt, 64) ? 64 : 0;
  if (bits == 0 || !is_float_dtype(b.dtype(), bits) || !is_float_dtype(c.dtype(), bits))
    return (int)DWCONV_ERROR_INVALID_VALUE;
  const int dev_a = a.device_type() == nb::device::cuda::value ? (int)a.device_id() : -1;
  const int dev_b = b.device_type() == nb::device::cuda::value ? (int)b.device_id() : -1;
  const int dev_c = c.device_type() == nb::device::cuda::value ? (int)c.device_id() : -1;
  auto cpu_like = [](int t) {
    return t == nb::device::cpu::value || t == nb::device::cuda_host::value;
  };
  if ((dev_a < 0 && !cpu_like(a.device_type())) || (dev_b < 0 && !cpu_like(b.device_type())) ||
      (dev_c < 0 && !cpu_like(c.device_type())) || dev_a != dev_c || (dev_b >= 0 && dev_b != dev_a))
    return DEVICE_MISMATCH;
  layout lay;
  int code = make_layout(a, b, c, &lay);
  if (code != 0) return code;
  const size_t es = bits / 8;
  {
    std::vector<int64_t> sh, st;
    int64_t alo, ahi, blo, bhi, clo, chi;
    shape_strides(a, &sh, &st);
    span(sh, st, &alo, &ahi);
    sh.clear(); st.clear();
    shape_strides(b, &sh, &st);
    span(sh, st, &blo, &bhi);
    sh.clear(); st.clear();
    shape_strides(c, &sh, &st);
    span(sh, st, &clo, &chi);
    if (overlaps(c.data(), clo, chi, a.data(), alo, ahi, es) ||
        overlaps(c.data(), clo, chi, b.data(), blo, bhi, es))
      return OVERLAP;
  }
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < nd; i++) rows *= (int64_t)c.shape(i);
  if (rows == 0) return 0;  // nothing to compute (empty batch)
  const dwconv_desc d = make_desc((size_t)lay.rows, (size_t)lay.n, (size_t)lay.p,
                                  bits == 32 ? 0 : 1, mode, op, algo, backend, math, threads);
  dwconv_status status;
  {
    nb::gil_scoped_release release;
    device_scope scope(dev_a);
    status = run_layout(d, lay, static_cast<const char *>(a.data()),
                        static_cast<const char *>(b.data()), static_cast<char *>(c.data()), es,
                        reinterpret_cast<void *>(stream));
  }
  return (int)status;
}

// Row stride in elements of a 2-D array for the C API (0 = one row repeated; a single row
// gets its own length), or false when its rows are not unit-stride, its row stride is
// negative or smaller than a row, or it is not aligned to its element size.
template <class T>
bool row_stride(const T &x, int64_t *ld) {
  if (x.ndim() != 2 || reinterpret_cast<uintptr_t>(x.data()) % x.itemsize()) return false;
  const int64_t len = (int64_t)x.shape(1);
  if (len > 1 && x.stride(1) != 1) return false;
  *ld = x.shape(0) == 1 ? len : x.stride(0);
  return *ld == 0 || *ld >= len;
}

// A reusable plan (dwconv.Plan in Python). Shapes were checked by Python; the C API checks
// everything again.
class Plan {
 public:
  Plan(size_t rows, size_t n, size_t p, int dtype, int mode, int op, int algo, int backend,
       int math, int threads, size_t device_memory_limit, int device)
      : device_(device) {
    desc_ = make_desc(rows, n, p, dtype, mode, op, algo, backend, math, threads);
    desc_.device_memory_limit = device_memory_limit;
  }
  ~Plan() { close(); }

  int create() {
    nb::gil_scoped_release release;
    device_scope scope(device_);
    return (int)dwconv_plan_create(&plan_, &desc_);
  }

  // b: rows x P (or 1 x P for one kernel), unit stride along P.
  int set_kernel(in_array b) {
    if (!plan_) return (int)DWCONV_ERROR_INVALID_VALUE;
    int64_t ldb;
    if (!row_stride(b, &ldb)) return LAYOUT_B;
    const void *ptr = b.data();
    nb::gil_scoped_release release;
    device_scope scope(device_);
    return (int)dwconv_plan_set_kernel(plan_, ptr, (ptrdiff_t)ldb);
  }

  // a: rows x N (a zero row stride: one signal for every kernel), c: rows x output length.
  int execute(in_array a, out_array c) {
    if (!plan_) return (int)DWCONV_ERROR_INVALID_VALUE;
    int64_t lda, ldc;
    if (!row_stride(a, &lda)) return LAYOUT_A;
    if (!row_stride(c, &ldc) || ldc == 0) return LAYOUT_C;
    const void *pa = a.data();
    void *pc = c.data();
    nb::gil_scoped_release release;
    device_scope scope(device_);
    return (int)dwconv_plan_execute(plan_, pa, (ptrdiff_t)lda, pc, (ptrdiff_t)ldc);
  }

  int set_stream(uintptr_t stream) {
    if (!plan_) return (int)DWCONV_ERROR_INVALID_VALUE;
    nb::gil_scoped_release release;
    device_scope scope(device_);
    return (int)dwconv_plan_set_stream(plan_, reinterpret_cast<void *>(stream));
  }

  nb::dict info() const {
    nb::dict r;
    if (!plan_) return r;
    dwconv_plan_info i;
    if (dwconv_plan_get_info(plan_, &i) != DWCONV_SUCCESS) return r;
    r["backend"] = (int)i.backend;
    r["algo"] = (int)i.algo;
    r["output_len"] = i.output_len;
    r["block_len"] = i.block_len;
    r["block_step"] = i.block_step;
    r["threads"] = i.threads;
    r["workspace_bytes"] = i.workspace_bytes;
    r["simd"] = std::string(i.simd ? i.simd : "");
    r["math"] = (int)i.math;
    r["constants_source"] = (int)i.constants_source;
    return r;
  }

  void close() {
    if (plan_) {
      dwconv_plan *p = plan_;
      plan_ = nullptr;
      device_scope scope(device_);
      dwconv_plan_destroy(p);
    }
  }

  bool closed() const { return plan_ == nullptr; }

 private:
  dwconv_desc desc_;
  dwconv_plan *plan_ = nullptr;
  int device_;
};

nb::dict device_info(int i) {
  nb::dict r;
  dwconv_device_info info;
  int st = (int)dwconv_cuda_device_info(i, &info);
  r["status"] = st;
  if (st == 0) {
    r["name"] = std::string(info.name);
    r["compute_capability"] = nb::make_tuple(info.compute_major, info.compute_minor);
    r["total_memory"] = info.total_memory;
    r["free_memory"] = info.free_memory;
    r["multiprocessors"] = info.multiprocessors;
  }
  return r;
}

}  // namespace

NB_MODULE(_dwconv, m) {
  m.doc() = "dwconv's C API, for the dwconv package (use the functions in dwconv, not these).";
  m.def("run", &run, nb::arg("a"), nb::arg("b"), nb::arg("c"), nb::arg("mode"), nb::arg("op"),
        nb::arg("algo"), nb::arg("backend"), nb::arg("math"), nb::arg("threads"),
        nb::arg("stream"));
  m.def("last_error", []() { return std::string(dwconv_last_error()); });
  m.def("status_string", [](int s) { return std::string(dwconv_status_string((dwconv_status)s)); });
  m.def("version", []() { return std::string(dwconv_version_string()); });
  m.def("header_version", []() { return DWCONV_VERSION_NUMBER; });
  m.def("output_len", [](int mode, size_t n, size_t p) {
    return dwconv_output_len((dwconv_mode)mode, n, p);
  });
  m.def("build_features", []() { return dwconv_build_features(); });
  m.def("cpu_simd", []() { return std::string(dwconv_cpu_simd()); });
  m.def("cuda_device_count", []() { return dwconv_cuda_device_count(); });
  m.def("cuda_device_info", &device_info);
  m.def("fft_tune", [](size_t rows, size_t n, size_t p, int dtype, int mode, int op, int threads) {
    // algo, backend and math at their defaults: dwconv_fft_tune takes them as FFT, CPU, IEEE.
    const dwconv_desc d = make_desc(rows, n, p, dtype, mode, op, 0, 0, 0, threads);
    nb::gil_scoped_release release;
    return (int)dwconv_fft_tune(&d);
  });
  m.def("fft_wisdom_export", [](const std::string &path) {
    nb::gil_scoped_release release;
    return (int)dwconv_fft_wisdom_export(path.c_str());
  });
  m.def("fft_wisdom_import", [](const std::string &path) {
    nb::gil_scoped_release release;
    return (int)dwconv_fft_wisdom_import(path.c_str());
  });
  m.def("calibrate", [](nb::object path) {
    std::string p;
    const bool dflt = path.is_none();
    if (!dflt) p = nb::cast<std::string>(path);
    nb::gil_scoped_release release;
    return (int)dwconv_calibrate(dflt ? nullptr : p.c_str());
  });
  m.def("calibration_status", []() {
    dwconv_calibration_state st;
    nb::dict r;
    int code = (int)dwconv_calibration_status(&st);
    r["status"] = code;
    if (code == 0) {
      r["source"] = (int)st.source;
      r["path"] = std::string(st.path);
      r["reason"] = std::string(st.reason);
      r["key"] = std::string(st.key);
    }
    return r;
  });
  m.attr("LAYOUT_A") = LAYOUT_A;
  m.attr("LAYOUT_B") = LAYOUT_B;
  m.attr("LAYOUT_C") = LAYOUT_C;
  m.attr("OVERLAP") = OVERLAP;
  m.attr("DEVICE_MISMATCH") = DEVICE_MISMATCH;
  m.attr("FEATURE_CUDA") = DWCONV_FEATURE_CUDA;
  m.attr("FEATURE_FFTW") = DWCONV_FEATURE_FFTW;
  m.attr("FEATURE_OPENMP") = DWCONV_FEATURE_OPENMP;

  nb::class_<Plan>(m, "Plan")
      .def(nb::init<size_t, size_t, size_t, int, int, int, int, int, int, int, size_t, int>())
      .def("create", &Plan::create)
      .def("set_kernel", &Plan::set_kernel)
      .def("execute", &Plan::execute)
      .def("set_stream", &Plan::set_stream)
      .def("info", &Plan::info)
      .def("close", &Plan::close)
      .def_prop_ro("closed", &Plan::closed);
}
