#!/usr/bin/env bash
# Builds and runs the GPU-less tests of the CUDA backend (host_test.c, and gemm_test.c for the
# GEMM path) with ASan + UBSan.
# Usage: src/cuda/hosttest/run.sh [iterations]   (default 1500; about 5 minutes on 2 cores,
# most of it thread creation in the kernel emulation). Needs gcc, g++ (C++20), FFTW3 dev
# files (the CPU backend is linked too) and the CUDA headers (CUDA_HOME, default
# /usr/local/cuda); no GPU, driver or CUDA library.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
out=${HOSTTEST_BUILD_DIR:-$(mktemp -d)}
mkdir -p "$out"
# The kernels' bodies: everything inside each .cu file's anonymous namespace, with each
# `__shared__ T name[n];` turned into a per-block buffer of the emulator (emu_kernels.cpp).
extract() {
  awk '/^namespace \{/{f=1;next} /^\}  \/\/ namespace/{f=0} f' "$1" |
    sed -E 's/__shared__ (alignas\([0-9]+\) )?([A-Za-z_][A-Za-z_0-9:<>]*) ([A-Za-z_][A-Za-z_0-9]*)\[(.*)\];/\2 *const \3 = emu_shared<\2>(\4);/' >"$2"
  if grep -q '__shared__' "$2"; then echo "run.sh: a __shared__ declaration the emulator cannot rewrite in $1" >&2; exit 1; fi
}
extract "$root/src/cuda/direct_kernel.cu" "$out/kernel_body.inc"
extract "$root/src/cuda/fft_kernels.cu" "$out/fft_body.inc"
extract "$root/src/cuda/prep_kernel.cu" "$out/prep_body.inc"
extract "$root/src/cuda/gemm_kernels.cu" "$out/gemm_body.inc"
# The launch helper of direct_kernel.cu uses <<<>>>; drop it (emu_kernels.cpp has its own).
awk '/^template <typename T, int THREADS>$/{getline n; if (n ~ /^cudaError_t launch/) {skip=1; next} else print; print n; next} skip && /^}$/ {skip=0; next} !skip' \
  "$out/kernel_body.inc" >"$out/kernel_body.tmp" && mv "$out/kernel_body.tmp" "$out/kernel_body.inc"
san=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all)
# `run.sh stage-bench [threads]`: the staging pack/unpack throughput, built optimised and
# without sanitizers (host_test's stage-bench mode), instead of the test; built without FFTW
# (the copies need no transform), so it runs where FFTW3's development files are missing.
fftw=(-DDWCONV_HAVE_FFTW)
fftw_libs=(-lfftw3f -lfftw3)
programs=(host_test gemm_test)
if [ "${1:-}" = stage-bench ]; then san=(-O2); fftw=(); fftw_libs=(); programs=(host_test); fi
defs=(-D_GNU_SOURCE -DDWCONV_HAVE_CUDA "${fftw[@]}" -DDWCONV_BUILDING_LIBRARY)
incs=(-I"$root/include" -I"$root/src/core" -I"$root/src/cuda" -I"$cuda/include")
objs=()
for f in "$root"/src/core/*.c "$root"/src/cpu/cpu_backend.c "$root"/src/cpu/cpu_calibrate.c "$root"/src/cpu/direct_portable.c \
         "$root"/src/cpu/fft_fftw.c "$root"/src/cuda/*.c "$here/mock_cuda.c" "$here/mock_cublas.c"; do
  # The cuBLAS plugin is not part of the library: built below as the library loads it.
  if [ "$(basename "$f")" = cublas_plugin.c ]; then continue; fi
  o="$out/$(basename "$f").o"
  gcc -std=c11 -fopenmp "${san[@]}" "${defs[@]}" "${incs[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
g++ -std=c++20 "${san[@]}" -w "${incs[@]}" -I"$out" -c "$here/emu_kernels.cpp" -o "$out/emu_kernels.o"
g++ -std=c++20 "${san[@]}" -w "${incs[@]}" -I"$out" -c "$here/emu_gemm.cpp" -o "$out/emu_gemm.o"
objs+=("$out/emu_kernels.o" "$out/emu_gemm.o")
# The cuBLAS plugin from its real source, next to the programs (where the library's loader
# looks first: the directory of the file holding its code, here the program). Its cuBLAS calls
# are left undefined and bind to the mock's in the program (-rdynamic below). A second copy
# with another ABI number is the plugin of some other dwconv, which the loader must refuse.
gcc -std=c11 "${san[@]}" "${defs[@]}" "${incs[@]}" -fPIC -shared "$root/src/cuda/cublas_plugin.c" \
  -o "$out/libdwconv_cublas.so"
gcc -std=c11 "${san[@]}" "${defs[@]}" "${incs[@]}" -fPIC -shared -DDWCONV_CUBLAS_PLUGIN_ABI=1ul \
  "$root/src/cuda/cublas_plugin.c" -o "$out/libdwconv_cublas_foreign.so"
# Two programs over the same library objects: the randomised test of the whole backend and the
# GEMM path's sweep (gemm_test.c).
for t in "${programs[@]}"; do
  gcc -std=c11 "${san[@]}" "${defs[@]}" "${incs[@]}" -c "$here/$t.c" -o "$out/$t.o"
  # -rdynamic: the plugin takes (mock) cuBLAS's functions from the program.
  g++ "${san[@]}" -fopenmp -rdynamic "${objs[@]}" "$out/$t.o" "${fftw_libs[@]}" -lm -lpthread -ldl -o "$out/$t"
done
"$out/host_test" "${@:-1500}"
if [ "${1:-}" = stage-bench ]; then exit 0; fi
"$out/gemm_test"
