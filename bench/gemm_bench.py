#!/usr/bin/env python3
"""GPU benchmark of dwconv's ALGO_GEMM beside direct and FFT, with the predicted time of each row.

Rows: M = 4096 rows, N = 65536 samples, mode "same", P in --kernels (default 15 63 255 1023
4095), float32 and float64; for each: dwconv CUDA direct, FFT, GEMM with IEEE, TF32 and TF32X3
math (float32; float64 takes IEEE only), and torch F.conv1d (groups = M) with
torch.backends.cudnn.allow_tf32 as torch sets it by default (True) and, for float32, False.
A, B and C live in device memory (bench_dwconv --device-data: the plan's work timed with CUDA
events; torch: torch.cuda.Event around the call), so the rows compare compute, not PCIe.

Every row first gets a prediction for an H100 SXM from its flops and bytes against the
datasheet (predict(); docs/CUDA.md prints the same table), and rows run cheapest first within
--budget seconds: a row whose prediction exceeds what is left is reported NOT RUN, never
silently dropped. Output: a Markdown table (stdout, --md FILE) and JSON (--json FILE) with, per
row, predicted and measured milliseconds, their ratio, and dwconv's plan (algo, math, block).

Usage: bench/gemm_bench.py [--bench PATH] [--dtypes f32,f64] [--kernels 15,63,...]
                           [--rows M] [--signal N] [--budget S] [--json FILE] [--md FILE]
       bench/gemm_bench.py --predict-only      (the prediction table, no GPU needed)
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# H100 SXM5 datasheet: FP32 67 TFLOP/s, FP64 34 (SIMT) / 67 (tensor), TF32 tensor 495 dense,
# HBM3 3.35 TB/s. Sustained fractions are assumptions, the same as src/core/gemm_model.c.
BW = 3.35e12 * 0.8
RATE = {
    ("direct", "f32"): 67e12 * 0.6,
    ("direct", "f64"): 34e12 * 0.6,
    ("gemm-ieee", "f32"): 67e12 * 0.75,
    ("gemm-ieee", "f64"): 67e12 * 0.8,
    ("gemm-tf32", "f32"): 495e12 * 0.6,
    ("gemm-tf32x3", "f32"): 495e12 * 0.6,
}
ALIGN, MAX_T = 8, 1024


def smooth7(lo, hi):
    """Even 7-smooth integers in [lo, hi]."""
    out = []
    f7 = 1
    while f7 <= hi:
        f5 = f7
        while f5 <= hi:
            f3 = f5
            while f3 <= hi:
                L = f3
                while L <= hi:
                    if L >= lo and L % 2 == 0:
                        out.append(L)
                    L *= 2
                f3 *= 3
            f5 *= 5
        f7 *= 7
    return sorted(out)


def cufft_radix_factor(L):
    """cuFFT's cost per L log2 L relative to a power of two (cost_model.c cufft_radix_factor)."""
    f = 1.0
    for p, step in ((3, 0.10), (5, 0.15), (7, 0.20)):
        while L % p == 0:
            L //= p
            f += step
    return f


def cuda_fft_block(P, out, es):
    """The CUDA cost model's overlap-save length (src/core/cost_model.c, CUDA constants)."""
    t_fft, t_point = (0.0005, 0.005) if es == 4 else (0.001, 0.01)
    hi = 2 * max(min(x for x in smooth7(out + P - 1, 4 * (out + P)) if x >= out + P - 1), max(P + 1, 16))
    best, best_c = None, math.inf
    for L in smooth7(max(P + 1, 16), hi):
        c = math.ceil(out / (L - P + 1)) * (L * math.log2(L) * t_fft * cufft_radix_factor(L) + L * t_point)
        if c < best_c:
            best, best_c = L, c
    return best


def gemm_block(P, out, es, math_mode):
    """T of src/core/gemm_model.c: the roofline-minimising power-of-two multiple of 8."""
    best, best_c = None, math.inf
    t = ALIGN
    while t <= MAX_T:
        f, b = gemm_cost(P, out, es, math_mode, t)
        c = max(f / RATE[("gemm-" + math_mode, "f64" if es == 8 else "f32")], b / BW)
        if c < best_c:
            best, best_c = t, c
        if t >= out:
            break
        t *= 2
    return best


def gemm_cost(P, out, es, math_mode, t):
    """Flops and bytes of one row (gemm_model.c's formula)."""
    passes, parts = (3, 2) if math_mode == "tf32x3" else (1, 1)
    kp = math.ceil((P + t - 1) / ALIGN) * ALIGN
    nb = math.ceil(out / t)
    flops = 2 * nb * t * kp * passes
    elems = nb * t * (2 * kp / t * parts + 4) + 2 * kp * t * parts
    return flops, elems * es


def predict(kind, P, dtype, M, N):
    """(seconds, flops, bytes, note) predicted on an H100 SXM for one row of the table."""
    es = 8 if dtype == "f64" else 4
    out = N
    if kind in ("direct", "torch"):
        flops = 2.0 * M * out * P
        byts = float(es * (M * N + M * out + M * P))
        s = max(flops / RATE[("direct", dtype)], byts / BW)
        return s, flops, byts, "SIMT FMA" if kind == "direct" else "as direct (cuDNN depthwise, SIMT assumed)"
    if kind == "fft":
        L = cuda_fft_block(P, out, es)
        blocks = M * math.ceil(out / (L - P + 1))
        # gather, multiply and scatter: 5 passes of L; the two transforms 2 each, times the
        # length's radix factor (more passes for lengths heavy in 3, 5, 7)
        passes = 5 + 4 * cufft_radix_factor(L)
        byts = float(passes * L * es * blocks)
        flops = 2 * 2.5 * L * math.log2(L) * blocks
        s = max(byts / BW, flops / RATE[("direct", dtype)])
        return s, flops, byts, f"L={L}, {passes:g} passes of L per block"
    m = kind.split("-")[1]
    t = gemm_block(P, out, es, m)
    f, b = gemm_cost(P, out, es, m, t)
    flops, byts = f * M, b * M
    s = max(flops / RATE[(kind, dtype)], byts / BW)
    return s, flops, byts, f"T={t}, K={P + t - 1}"


def rows_of(dtypes, kernels):
    for dtype in dtypes:
        for P in kernels:
            kinds = ["direct", "fft", "gemm-ieee"]
            if dtype == "f32":
                kinds += ["gemm-tf32", "gemm-tf32x3"]
            kinds.append("torch")
            for k in kinds:
                yield k, P, dtype


def run_dwconv(bench, kind, P, dtype, M, N, predicted):
    algo = kind.split("-")[0]
    cmd = [bench, "--backend", "cuda", "--device-data", "--no-oneshot", "--mode", "same", "--rows", str(M),
           "--signal", str(N), "--kernel", str(P), "--dtype", dtype, "--algo", algo, "--json", "-"]
    if algo == "gemm":
        cmd += ["--math", kind.split("-")[1]]
    # Slow rows: one timed call, no warm-up (first-call overheads are milliseconds).
    cmd += ["--warmup", "0", "--repeat", "1"] if predicted > 5 else ["--warmup", "2", "--repeat", "10", "--max-time", "5"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        j = json.loads(p.stdout)
    except ValueError:
        return {"error": (p.stderr or p.stdout).strip()[-400:] or f"exit {p.returncode}"}
    if "error" in j or "reuse" not in j:
        return {"error": j.get("error", "no timing")}
    plan = j.get("plan", {})
    return {"ms": j["reuse"]["median_ms"], "plan": f"{plan.get('algo')}/{plan.get('math')} block {plan.get('block_len')}"
            f"/{plan.get('block_step')}"}


def run_torch(P, dtype, M, N, allow_tf32):
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        return {"error": f"torch not importable: {e}"}
    if not torch.cuda.is_available():
        return {"error": "torch.cuda.is_available() is False"}
    torch.backends.cudnn.allow_tf32 = allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = allow_tf32
    dt = torch.float64 if dtype == "f64" else torch.float32
    dev = torch.device("cuda")
    a = torch.randn(1, M, N, dtype=dt, device=dev)
    w = torch.randn(M, 1, P, dtype=dt, device=dev)
    pad = (P - 1) // 2  # "same" for odd P
    f = lambda: F.conv1d(a, w, groups=M, padding=pad)  # noqa: E731
    f()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    t_end = time.time() + 5
    for _ in range(10):
        s.record()
        f()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
        if time.time() > t_end:
            break
    times.sort()
    return {"ms": times[len(times) // 2], "plan": f"torch {torch.__version__}, cudnn.allow_tf32={allow_tf32}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="bench_dwconv (default: build-gpu-check/, build/)")
    ap.add_argument("--dtypes", default="f32,f64")
    ap.add_argument("--kernels", default="15,63,255,1023,4095")
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--signal", type=int, default=65536)
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for all rows (default 480)")
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument("--predict-only", action="store_true")
    a = ap.parse_args()
    dtypes = a.dtypes.split(",")
    kernels = [int(x) for x in a.kernels.split(",")]
    M, N = a.rows, a.signal
    table = []
    for kind, P, dtype in rows_of(dtypes, kernels):
        s, fl, by, note = predict(kind, P, dtype, M, N)
        variants = [True, False] if kind == "torch" and dtype == "f32" else [True] if kind == "torch" else [None]
        for v in variants:
            name = kind if v is None else f"torch conv1d (cudnn.allow_tf32={v})"
            table.append({"kind": kind, "name": name, "P": P, "dtype": dtype, "tf32": v, "pred_ms": s * 1e3,
                          "tflop": fl / 1e12, "gbytes": by / 1e9, "model": note})
    if not a.predict_only:
        bench = a.bench
        if not bench:
            for d in ("build-gpu-check", "build-bench", "build"):
                c = os.path.join(ROOT, d, "bench", "bench_dwconv")
                if os.access(c, os.X_OK):
                    bench = c
                    break
        if not bench:
            sys.exit("gemm_bench: bench_dwconv not found (give --bench PATH)")
        start = time.time()
        for r in sorted(table, key=lambda r: r["pred_ms"]):
            left = a.budget - (time.time() - start)
            # A row costs its timed calls (up to 13 of them, or one past 5 s) plus set-up: about
            # 6 s for bench_dwconv to draw M x N normal inputs on the CPU and upload them.
            need = r["pred_ms"] / 1e3 * (1 if r["pred_ms"] > 5e3 else 13) + 6
            if need > left:
                r["error"] = f"NOT RUN (predicted {need:.0f} s, {max(left, 0):.0f} s of the budget left)"
                continue
            res = run_torch(r["P"], r["dtype"], M, N, r["tf32"]) if r["kind"] == "torch" else \
                run_dwconv(bench, r["kind"], r["P"], r["dtype"], M, N, r["pred_ms"] / 1e3)
            r.update(res)
            print(f"gemm_bench: {r['dtype']} P={r['P']:5d} {r['name']:38s} predicted {r['pred_ms']:10.2f} ms, "
                  f"measured {r.get('ms', float('nan')):10.2f} ms {r.get('error', '')}", file=sys.stderr, flush=True)
    lines = [f"M = {M}, N = {N}, mode same, device-resident data; predictions for an H100 SXM (bench/gemm_bench.py)", "",
             "| dtype | P | path | TFLOP | GB | predicted ms | measured ms | measured / predicted | model | plan |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        ms = r.get("ms")
        lines.append(f"| {r['dtype']} | {r['P']} | {r['name']} | {r['tflop']:.2f} | {r['gbytes']:.1f} | "
                     f"{r['pred_ms']:.1f} | {'%.1f' % ms if ms is not None else r.get('error', '-')} | "
                     f"{'%.2f' % (ms / r['pred_ms']) if ms is not None else '-'} | {r['model']} | {r.get('plan', '')} |")
    md = "\n".join(lines) + "\n"
    sys.stdout.write(md)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": M, "signal": N, "results": table}, f, indent=1)
    failed = [r for r in table if "error" in r and not r["error"].startswith(("NOT RUN", "torch"))]
    return 1 if failed and not a.predict_only else 0


if __name__ == "__main__":
    sys.exit(main())
