#!/usr/bin/env bash
# Builds and runs the GPU-less test of the CUDA backend (see host_test.c) with ASan + UBSan.
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
# The kernels' bodies: everything inside each .cu file's anonymous namespace.
extract() { awk '/^namespace \{/{f=1;next} /^\}  \/\/ namespace/{f=0} f' "$1" >"$2"; }
extract "$root/src/cuda/direct_kernel.cu" "$out/kernel_body.inc"
extract "$root/src/cuda/fft_kernels.cu" "$out/fft_body.inc"
extract "$root/src/cuda/prep_kernel.cu" "$out/prep_body.inc"
# The launch helper of direct_kernel.cu uses <<<>>>; drop it (emu_kernels.cpp has its own).
awk '/^template <typename T, int THREADS>$/{getline n; if (n ~ /^cudaError_t launch/) {skip=1; next} else print; print n; next} skip && /^}$/ {skip=0; next} !skip' \
  "$out/kernel_body.inc" >"$out/kernel_body.tmp" && mv "$out/kernel_body.tmp" "$out/kernel_body.inc"
san=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all)
defs=(-D_GNU_SOURCE -DDWCONV_HAVE_CUDA -DDWCONV_HAVE_FFTW -DDWCONV_BUILDING_LIBRARY)
incs=(-I"$root/include" -I"$root/src/core" -I"$root/src/cuda" -I"$cuda/include")
objs=()
for f in "$root"/src/core/*.c "$root"/src/cpu/cpu_backend.c "$root"/src/cpu/cpu_calibrate.c "$root"/src/cpu/direct_portable.c \
         "$root"/src/cpu/fft_fftw.c "$root"/src/cuda/*.c "$here/mock_cuda.c" "$here/host_test.c"; do
  o="$out/$(basename "$f").o"
  gcc -std=c11 -fopenmp "${san[@]}" "${defs[@]}" "${incs[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
g++ -std=c++20 "${san[@]}" -w "${incs[@]}" -I"$out" -c "$here/emu_kernels.cpp" -o "$out/emu_kernels.o"
g++ "${san[@]}" -fopenmp "${objs[@]}" "$out/emu_kernels.o" -lfftw3f -lfftw3 -lm -lpthread -o "$out/host_test"
"$out/host_test" "${1:-1500}"
