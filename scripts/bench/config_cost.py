#!/usr/bin/env python3
"""Start-time cost of AWS config files for real AWS clients (driven by scripts/bench-config-cost.sh).

    config_cost.py --runs N --spec SPEC.json

SPEC.json: {"tools": {NAME: {"time": [argv...], "count": [argv...]}},
            "sizes": {LABEL: {VARIANT: CONFIG_PATH, ...}}, "expect": {LABEL: PROFILES}}
Every command runs with AWS_CONFIG_FILE set to the variant's config. `count` must print the number of
profiles the tool sees (a check that it parsed the whole file); `time` is what is timed.

The variants of one tool and size are timed round-robin (A, B, C, then B, C, A, then C, A, B, ...) rather
than one after the other as hyperfine does: the machine is shared, and a load that drifts during the run then
falls on every variant alike instead of on whichever ran last. Two warm-up rounds are not counted.
Each run records the wall time and the child's CPU time (user + system, from wait4): on a machine that
other jobs share, the wall time also holds the time spent waiting for a CPU, which the CPU time does not.
The CPU time still drifts with the load (caches, frequency, memory bandwidth shared with other jobs), so
both its median and its minimum are kept: the minimum is what the work costs when nothing disturbs it.
A tool may also have a "parse" command: given NAME=CONFIG for every variant, one process that loads
the configs in turn, round after round (a fresh loader each time, as a process start does), and prints
the CPU seconds of each load as a JSON object of lists. Without the interpreter's start-up around it,
that is the parse alone, with far less noise; --parse-rounds such processes run, each starting with a
different variant.
Prints one JSON object: {tool: {size: {variant: {"wall": median_s, "cpu": median_s, "cpu_min": min_s,
"wall_min": min_s[, "parse": median_s, "parse_min": min_s][, "cpu_range": [lo, hi], "parse_range":
[lo, hi]]}}}}, the ranges (for every variant but "none" and "lean") the 90% range of cost/lean on medians
(see ratio_range), or null.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time


def run(argv, config, capture=False):
    env = dict(os.environ, AWS_CONFIG_FILE=config)
    out = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}) with {config}: {argv}\n{out.stderr}")
    return out.stdout


def timed(argv, config):
    """(wall seconds, CPU seconds) of one run of argv."""
    env = dict(os.environ, AWS_CONFIG_FILE=config)
    t0 = time.perf_counter()
    p = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        run(argv, config)  # again, to show its error
        sys.exit(f"failed ({p.returncode}) with {config}: {argv}")
    return wall, usage.ru_utime + usage.ru_stime


def ratio_range(loads, variant, resamples=1000):
    """The 90% range of the variant's cost/lean on medians (cost: time above "none"), by a bootstrap over
    rounds: loads[v][i] of every variant v is from the same round i, so a resample keeps rounds whole and
    a drift that slowed one round slows all its variants alike. None when lean's cost is not above zero
    in enough resamples to say anything (a tiny config)."""
    rng = random.Random(11)  # the same data gives the same range
    n = len(loads["none"])
    ratios = []
    for _ in range(resamples):
        rounds = [rng.randrange(n) for _ in range(n)]
        med = {v: statistics.median(loads[v][i] for i in rounds) for v in ("none", "lean", variant)}
        if med["lean"] > med["none"]:
            ratios.append((med[variant] - med["none"]) / (med["lean"] - med["none"]))
    if len(ratios) < resamples * 0.9:
        return None
    ratios.sort()
    return [ratios[len(ratios) // 20], ratios[len(ratios) - 1 - len(ratios) // 20]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--parse-rounds", type=int, default=3)
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    result = {}
    for tool, cmds in spec["tools"].items():
        result[tool] = {}
        for size, variants in spec["sizes"].items():
            for variant, config in variants.items():
                seen = int(run(cmds["count"], config, capture=True).strip())
                want = spec["expect"][size][variant]
                if seen != want:
                    sys.exit(f"{tool} sees {seen} profiles in {variant}/{size}, expected {want}")
            times = {v: [] for v in variants}
            order = list(variants.items())
            for i in range(args.runs + args.warmup):
                # Each round starts one variant later, so that no variant always follows the same one.
                k = i % len(order)
                for variant, config in order[k:] + order[:k]:
                    t = timed(cmds["time"], config)
                    if i >= args.warmup:
                        times[variant].append(t)
            parses = {v: [] for v in variants}
            for i in range(args.parse_rounds if "parse" in cmds else 0):
                # One process loads every variant in turn (see config_parse.py), each process
                # starting one variant later.
                k = i % len(order)
                argv = cmds["parse"] + [f"{v}={c}" for v, c in order[k:] + order[:k]]
                for variant, loads in json.loads(run(argv, order[0][1], capture=True)).items():
                    parses[variant].extend(loads)
            result[tool][size] = {
                v: {
                    "wall": statistics.median(w for w, _ in t),
                    "cpu": statistics.median(c for _, c in t),
                    "wall_min": min(w for w, _ in t),
                    "cpu_min": min(c for _, c in t),
                }
                for v, t in times.items()
            }
            for v, p in parses.items():
                if p:
                    result[tool][size][v].update(parse=statistics.median(p), parse_min=min(p))
            cpu = {v: [c for _, c in t] for v, t in times.items()}
            for v in variants:
                if v in ("none", "lean"):
                    continue
                result[tool][size][v]["cpu_range"] = ratio_range(cpu, v)
                if parses[v]:
                    result[tool][size][v]["parse_range"] = ratio_range(parses, v)
            print(
                f"  {tool} {size}: "
                + ", ".join(
                    f"{v} {m['cpu'] * 1000:.0f} ms cpu (min {m['cpu_min'] * 1000:.0f}) / {m['wall'] * 1000:.0f} ms wall"
                    + (f", parse {m['parse_min'] * 1000:.1f} ms min" if "parse" in m else "")
                    for v, m in result[tool][size].items()
                ),
                file=sys.stderr,
            )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
