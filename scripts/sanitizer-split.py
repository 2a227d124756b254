#!/usr/bin/env python3
"""Splits compute-sanitizer reports into dwconv's and those inside cuFFT's own code.

Usage: scripts/sanitizer-split.py LOG...   prints "N dwconv, M in cuFFT" (totals over the logs)
       and, with -v, each report's first line under its owner.

A report is one "========= <message>" block up to the next blank "=========" line. It belongs
to cuFFT when its device frames ("at ... in <function>") name no dwconv kernel and any frame
(device or host) is in cuFFT (a cuFFT kernel or libcufft / a cufft* host function); every other
report is dwconv's, including those in cuFFT calls made with dwconv's kernels on the stack.
gpu-check.sh lists both counts per run; a cuFFT-only report is still a sanitizer error (it may
be dwconv passing cuFFT a bad buffer), but it points at a different place to look.
"""
import re
import sys

DWCONV_KERNELS = ("direct_kernel", "gather_kernel", "multiply_kernel", "scatter_kernel", "prepare_rows_kernel")
PREFIX = re.compile(r"^=+ ?")


def reports(text):
    """Lists of lines, one list per report."""
    out, cur = [], None
    for raw in text.splitlines():
        if not raw.startswith("========="):
            continue
        line = PREFIX.sub("", raw).rstrip()
        if line.startswith("ERROR SUMMARY") or line.startswith("COMPUTE-SANITIZER") or line.startswith("LEAK SUMMARY"):
            cur = None
            continue
        if not line.strip():
            cur = None
            continue
        if cur is None:
            if raw.startswith("=========     "):
                continue  # continuation of a block whose head was skipped
            cur = []
            out.append(cur)
        cur.append(line.strip())
    return out


def owner(rep):
    device = [l for l in rep if l.startswith("at ") or re.match(r"Device Frame:", l)]
    if any(k in l for l in device for k in DWCONV_KERNELS):
        return "dwconv"
    if any(re.search(r"cufft|libcufft|fft_?\w*kernel|regular_fft|vector_fft", l, re.I) for l in rep):
        return "cufft"
    return "dwconv"


def main(argv):
    verbose = "-v" in argv
    logs = [a for a in argv if a != "-v"]
    counts = {"dwconv": 0, "cufft": 0}
    for path in logs:
        with open(path, errors="replace") as f:
            for rep in reports(f.read()):
                who = owner(rep)
                counts[who] += 1
                if verbose:
                    print(f"{who}: {rep[0]}")
    print(f"{counts['dwconv']} dwconv, {counts['cufft']} in cuFFT")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
