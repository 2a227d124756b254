#!/usr/bin/env python3
"""Per-kernel resource and inner-loop report of dwconv's CUDA kernels, from the compiler alone
(no GPU needed).

For every kernel of src/cuda/*.cu, compiled for each architecture asked for (default sm_80 and
sm_90) with the library's flags, prints: registers, static shared memory, spill stores/loads
(ptxas -v), the theoretical occupancy at the kernel's block size (warps per SM, from the
architecture's register file, shared memory, thread and block limits), and the instruction mix
of its hot loop in the SASS (cuobjdump -sass): the innermost backward-branch loop with the
most floating-point fused multiply-adds, with its instruction count, FMA share, shared and
global loads, and integer/address instructions.

Usage: scripts/kernel-report.py [--arch sm_80,sm_90] [--kernel SUBSTRING] [--json FILE]
                                [--check-fma NAME_SUBSTRING:ARCH:PERCENT]...
Needs nvcc (CUDA_HOME/bin or PATH) and cuobjdump (PATH, CUDA_HOME/bin, or $CUOBJDUMP; it is in
the toolkit and in the package registry's CUDA tool packages). --check-fma makes the exit status
non-zero when the named kernel's hot loop on ARCH has a smaller FMA share than PERCENT, or any
kernel spills: a build check for the direct kernel's inner loop.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Per-SM limits: registers, max threads, max blocks, shared memory per SM (bytes usable by
# blocks), per-block reserved shared memory, register allocation unit (per warp).
ARCH = {
    "sm_75": dict(regs=65536, threads=1024, blocks=16, smem=64 * 1024, reserved=0, warps=32),
    "sm_80": dict(regs=65536, threads=2048, blocks=32, smem=164 * 1024, reserved=1024, warps=64),
    "sm_86": dict(regs=65536, threads=1536, blocks=16, smem=100 * 1024, reserved=1024, warps=48),
    "sm_90": dict(regs=65536, threads=2048, blocks=32, smem=228 * 1024, reserved=1024, warps=64),
}


def tool(name, env):
    if os.environ.get(env):
        return os.environ[env]
    cuda = os.environ.get("CUDA_HOME", "/usr/local/cuda")
    for cand in (shutil.which(name), os.path.join(cuda, "bin", name)):
        if cand and os.path.exists(cand):
            return cand
    sys.exit(f"kernel-report: {name} not found (PATH, $CUDA_HOME/bin or ${env})")


def block_size(name):
    """Threads per block the launchers use: the THREADS template argument of the direct kernel,
    else the element-wise kernels' largest block (256)."""
    m = re.search(r"direct_kernel\w*?I[fd]Li(\d+)E", name)
    if m:
        return int(m.group(1))
    return 256


def occupancy(arch, regs, smem, threads):
    a = ARCH[arch]
    warps_per_block = (threads + 31) // 32
    regs_per_warp = ((max(regs, 1) * 32 + 255) // 256) * 256
    by_regs = (a["regs"] // regs_per_warp) // warps_per_block
    by_smem = a["smem"] // (smem + a["reserved"]) if smem else a["blocks"]
    by_threads = a["threads"] // threads
    blocks = min(by_regs, by_smem, by_threads, a["blocks"])
    return blocks, blocks * warps_per_block, blocks * warps_per_block / a["warps"]


def ptxas_info(text):
    """{mangled name: dict(regs, smem, spill_st, spill_ld)} from ptxas -v output."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.search(r"Function properties for (\S+)", line)
        if m:
            cur = out.setdefault(m.group(1), dict(regs=0, smem=0, spill_st=0, spill_ld=0))
            continue
        m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and cur is not None:
            cur["spill_st"], cur["spill_ld"] = int(m.group(1)), int(m.group(2))
        m = re.search(r"Compiling entry function '(\S+)'", line)
        if m:
            cur = out.setdefault(m.group(1), dict(regs=0, smem=0, spill_st=0, spill_ld=0))
        m = re.search(r"Used (\d+) registers", line)
        if m and cur is not None:
            cur["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            cur["smem"] = int(s.group(1)) if s else 0
    return out


def sass_functions(text):
    """{mangled name: [(address, opcode, full instruction)]} from cuobjdump -sass."""
    funcs, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if m and cur is not None:
            ins = m.group(2).strip()
            op = re.sub(r"^@!?U?P\w+\s+", "", ins).split()[0]
            cur.append((int(m.group(1), 16), op, ins))
    return funcs


def classify(op):
    base = op.split(".")[0]
    if base in ("FFMA", "DFMA", "HFMA2"):
        return "fma"
    if base in ("FADD", "FMUL", "DADD", "DMUL", "FMNMX", "FSEL"):
        return "fp"
    if base in ("LDS", "LDSM"):
        return "lds"
    if base in ("LDG", "LD", "LDGSTS"):
        return "ldg"
    if base in ("STS", "STG", "ST"):
        return "st"
    if base in ("BRA", "BAR", "EXIT", "BSYNC", "BSSY", "WARPSYNC", "NOP", "DEPBAR"):
        return "ctrl"
    return "int"


def hot_loop(ins):
    """The innermost backward-branch loop [target, branch] (no other backward branch inside)
    with the most FMAs; among equals the shortest."""
    back = []
    for addr, op, text in ins:
        if op.split(".")[0] != "BRA":
            continue
        m = re.search(r"BRA\s+(?:`\(\.L_x_\d+\)|0x([0-9a-f]+))", text)
        if m and m.group(1) is not None and int(m.group(1), 16) < addr:
            back.append((int(m.group(1), 16), addr))
    best = None
    for target, addr in back:
        if any(target <= a < addr and (t, a) != (target, addr) for t, a in back):
            continue
        body = [x for x in ins if target <= x[0] <= addr]
        n_fma = sum(1 for x in body if classify(x[1]) == "fma")
        key = (n_fma, -len(body))
        if best is None or key > best[0]:
            best = (key, target, addr, body)
    if best is None:
        return None
    _, start, end, body = best
    mix = {}
    for _, op, _ in body:
        c = classify(op)
        mix[c] = mix.get(c, 0) + 1
    return dict(start=start, end=end, count=len(body), mix=mix,
                fma_share=mix.get("fma", 0) / len(body) if body else 0.0)


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
        return dict(zip(names, out.splitlines()))
    except (OSError, subprocess.CalledProcessError):
        return {n: n for n in names}


def short(name):
    name = re.sub(r"\(anonymous namespace\)::", "", name)
    return re.sub(r"\(dwconv_cuda_\w+.*$", "", name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="sm_80,sm_90")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--json")
    ap.add_argument("--check-fma", action="append", default=[])
    args = ap.parse_args()
    nvcc = tool("nvcc", "NVCC")
    cuobjdump = tool("cuobjdump", "CUOBJDUMP")
    sources = sorted(f for f in os.listdir(os.path.join(ROOT, "src/cuda")) if f.endswith(".cu"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.arch.split(","):
            for src in sources:
                cubin = os.path.join(tmp, f"{src}.{arch}.cubin")
                cmd = [nvcc, "-O3", "-std=c++17", f"-arch={arch}", "-cubin", "-Xptxas", "-v",
                       "-I", os.path.join(ROOT, "src/cuda"), "-o", cubin, os.path.join(ROOT, "src/cuda", src)]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"kernel-report: {' '.join(cmd)} failed:\n{r.stderr}")
                info = ptxas_info(r.stderr + r.stdout)
                sass = subprocess.run([cuobjdump, "-sass", cubin], capture_output=True, text=True, check=True).stdout
                funcs = sass_functions(sass)
                names = demangle(list(funcs))
                for mangled, ins in funcs.items():
                    name = short(names.get(mangled, mangled))
                    if args.kernel and args.kernel not in name:
                        continue
                    p = info.get(mangled, dict(regs=0, smem=0, spill_st=0, spill_ld=0))
                    threads = block_size(mangled)
                    blocks, warps, occ = occupancy(arch, p["regs"], p["smem"], threads)
                    rows.append(dict(arch=arch, kernel=name, file=src, threads=threads, **p, blocks_per_sm=blocks,
                                     warps_per_sm=warps, occupancy=occ, loop=hot_loop(ins), instructions=len(ins)))
    print(f"{'arch':6} {'kernel':44} {'thr':>4} {'regs':>4} {'smem':>6} {'spill':>7} {'occ':>9} | hot loop: "
          "instrs  FMA%  fma lds ldg int other")
    bad = 0
    for r in rows:
        lp = r["loop"]
        loop = "-"
        if lp:
            m = lp["mix"]
            other = lp["count"] - sum(m.get(k, 0) for k in ("fma", "lds", "ldg", "int"))
            loop = (f"{lp['count']:6d} {100 * lp['fma_share']:5.1f} {m.get('fma', 0):4d} {m.get('lds', 0):3d} "
                    f"{m.get('ldg', 0):3d} {m.get('int', 0):3d} {other:5d}")
        spill = f"{r['spill_st']}/{r['spill_ld']}"
        occ = f"{r['warps_per_sm']:2d}w {100 * r['occupancy']:3.0f}%"
        print(f"{r['arch']:6} {r['kernel'][:44]:44} {r['threads']:4d} {r['regs']:4d} {r['smem']:6d} {spill:>7} {occ:>9} | {loop}")
        if r["spill_st"] or r["spill_ld"]:
            bad = 1
    for spec in args.check_fma:
        name, arch, pct = spec.rsplit(":", 2)
        hits = [r for r in rows if name in r["kernel"] and r["arch"] == arch]
        if not hits:
            print(f"check-fma: no kernel matching {name!r} on {arch}")
            bad = 1
        for r in hits:
            share = 100 * (r["loop"]["fma_share"] if r["loop"] else 0)
            ok = share >= float(pct)
            print(f"check-fma: {r['kernel']} on {arch}: hot loop {share:.1f}% FMA (want >= {pct}%): {'ok' if ok else 'FAIL'}")
            bad |= not ok
    if bad and any(r["spill_st"] or r["spill_ld"] for r in rows):
        print("kernel-report: a kernel spills registers")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
