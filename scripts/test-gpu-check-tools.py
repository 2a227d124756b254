#!/usr/bin/env python3
"""Checks of the GPU-check tooling that run without a GPU (scripts/run-tests.sh runs this):
1. bench/peers.py's float64 reference does not need scipy: with scipy made unimportable it
   falls back to numpy's real FFT and agrees with numpy's direct convolution, on a shape past
   the size where the direct reference is used.
2. scripts/sanitizer-split.py tells a report in a dwconv kernel from one inside cuFFT's own
   kernel and frames.
Exits non-zero on a failure (the message says which)."""
import importlib.util
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bad = 0

# 1. The reference without scipy.
for name in ("scipy", "scipy.signal", "scipy.fft"):
    sys.modules[name] = None  # `import scipy.signal` now raises ImportError
spec = importlib.util.spec_from_file_location("peers", os.path.join(ROOT, "bench", "peers.py"))
peers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peers)
rng = np.random.default_rng(3)
M, N, P = 3, 5000, 300  # M * N * P > 2^22: the FFT reference
A = rng.standard_normal((M, N)).astype(np.float32)
B = rng.standard_normal((M, P)).astype(np.float32)
try:
    got = peers.reference(A, B, "full")
    want = np.stack([np.convolve(A[m].astype(np.float64), B[m].astype(np.float64)) for m in range(M)])
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    if got.shape != want.shape or not err < 1e-12:
        print(f"FAIL peers.reference without scipy: shape {got.shape} vs {want.shape}, relative error {err:g}")
        bad = 1
    else:
        print(f"peers.reference without scipy: numpy rFFT fallback, relative error {err:.1e}")
except ImportError as e:
    print(f"FAIL peers.reference needs scipy: {e}")
    bad = 1

# 2. Sanitizer reports split by owner.
LOG = """========= COMPUTE-SANITIZER
========= Invalid __global__ read of size 4 bytes
=========     at 0x1a0 in void direct_kernel<float, (int)128, (int)2048>(dwconv_cuda_work)
=========     by thread (3,0,0) in block (0,0,0)
=========     Address 0x7f00 is out of bounds
=========     Host Frame: dwconv__cuda_launch_direct [0x1234] in test_cuda_memory
=========
========= Uninitialized __global__ memory read of size 4 bytes
=========     at 0x2b0 in void vector_fft<(unsigned int)64, EPT<(unsigned int)8>>(kernel_arguments_t<unsigned int>)
=========     by thread (0,0,0) in block (1,0,0)
=========     Host Frame: cufftXtExec [0x9999] in libcufft.so.12
=========     Host Frame: dwconv__cuda_fft_forward [0x5678] in test_cuda_memory
=========
========= ERROR SUMMARY: 2 errors
"""
path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sanitizer-split-test-{os.getpid()}.log")
with open(path, "w") as f:
    f.write(LOG)
out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sanitizer-split.py"), path],
                     capture_output=True, text=True).stdout.strip()
os.unlink(path)
if out != "1 dwconv, 1 in cuFFT":
    print(f"FAIL sanitizer-split: {out!r} (want '1 dwconv, 1 in cuFFT')")
    bad = 1
else:
    print(f"sanitizer-split: {out}")
sys.exit(bad)
