#!/usr/bin/env python3
"""Combines several bench/peers.py JSON files (repeated runs of the same suite) into one table:
per shape, the median over runs of each run's median time, and the speed-up ratios with their
spread (min..max over runs). Machines here are noisy: one run's ratio can move by 20%; the
median of three runs with its range is what docs/PERFORMANCE.md quotes.

Ratios are computed per run (best peer of that run / dwconv of that run), then summarised:
  x vs scipy/numpy  the scipy/numpy peers (numpy.convolve loop, scipy fftconvolve,
                    scipy oaconvolve)
  x vs all          every CPU peer that ran, torch included
  tuned             dwconv with tuned FFT plans (FFT shapes only)

Usage: bench/aggregate.py RUN.json [RUN.json ...] [--md FILE]
"""
import argparse
import json
import statistics
import sys

ISSUE2_PEERS = ("numpy.convolve loop", "scipy fftconvolve", "scipy oaconvolve")


def per_run(doc, backend="cpu"):
    """{shape name: dict of this run's figures}."""
    out = {}
    for res in doc["results"]:
        b = res["backends"].get(backend)
        if not b or "error" in b["dwconv"] or b["dwconv"].get("wrong"):
            continue
        j, jt = b["dwconv"], b.get("dwconv_tuned")
        peers = {p["name"]: p["median_ms"] for p in b["peers"]
                 if p.get("available") and "median_ms" in p and not p.get("wrong")}
        i2 = {k: v for k, v in peers.items() if k in ISSUE2_PEERS}
        r = dict(algo=j["plan"]["algo"], reuse=j["reuse"]["median_ms"], oneshot=j["oneshot"]["median_ms"],
                 peers=peers)
        if jt and "error" not in jt and not jt.get("wrong"):
            r["reuse_t"], r["oneshot_t"] = jt["reuse"]["median_ms"], jt["oneshot"]["median_ms"]
        for tag, pool in (("i2", i2), ("all", peers)):
            if not pool:
                continue
            best = min(pool, key=pool.get)
            r[f"best_{tag}"] = best
            for kind in ("reuse", "oneshot", "reuse_t", "oneshot_t"):
                if kind in r:
                    r[f"x_{tag}_{kind}"] = pool[best] / r[kind]
        out[res["shape"]["name"]] = r
    return out


def summary(vals):
    """'median [min-max]' of a list of ratios (or '-')."""
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.2f}"
    return f"{statistics.median(vals):.2f} [{min(vals):.2f}-{max(vals):.2f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--md", help="also write the Markdown table here")
    opt = ap.parse_args()
    docs = [json.load(open(p)) for p in opt.runs]
    runs = [per_run(d) for d in docs]
    names = [n for n in runs[0] if all(n in r for r in runs)]
    commits = sorted({d["machine"]["git_commit"] for d in docs})
    lines = [f"{len(runs)} runs, commit(s) {', '.join(commits)}; "
             + "; ".join(f"{d['machine']['date_utc']} load {d['machine']['loadavg_start'] or 0:.2f}" for d in docs),
             "",
             "| shape | algo | reuse ms | one-shot ms | best scipy/numpy peer (ms) | x reuse | x one-shot "
             "| x reuse tuned | x one-shot tuned | best of all peers (ms) | x reuse | x one-shot |",
             "|---|---|--:|--:|---|--:|--:|--:|--:|---|--:|--:|"]
    for n in names:
        rs = [r[n] for r in runs]
        med = lambda k: statistics.median(r[k] for r in rs)
        col = lambda k: summary([r[k] for r in rs if k in r])
        b2 = " / ".join(sorted({r["best_i2"] for r in rs if "best_i2" in r})) or "-"
        ba = " / ".join(sorted({r["best_all"] for r in rs if "best_all" in r})) or "-"
        p2 = statistics.median(r["peers"][r["best_i2"]] for r in rs) if b2 != "-" else float("nan")
        pa = statistics.median(r["peers"][r["best_all"]] for r in rs) if ba != "-" else float("nan")
        lines.append(f"| {n} | {rs[0]['algo']} | {med('reuse'):.3f} | {med('oneshot'):.3f} | {b2} ({p2:.2f}) | "
                     f"{col('x_i2_reuse')} | {col('x_i2_oneshot')} | {col('x_i2_reuse_t')} | "
                     f"{col('x_i2_oneshot_t')} | {ba} ({pa:.2f}) | {col('x_all_reuse')} | {col('x_all_oneshot')} |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if opt.md:
        with open(opt.md, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
