#!/usr/bin/env python3
"""Summarises the timing runs of scripts/bench-creds.sh into the table of bench-results/creds.txt.

    creds_stats.py LABEL=FILE.json ... > table.txt

Each FILE is hyperfine's --export-json output (or the same shape written by creds_inprocess.py):
{"results": [{"command": ..., "times": [seconds, ...]}]}. The first LABEL is awsso with the keyutils
cache (the reference for the ratios and the targets of issue 4); the labels `aws-sso-util` and
`botocore-process` are the comparisons the targets name.
"""
import json
import statistics
import sys


def percentile(sorted_ms, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, -(-len(sorted_ms) * p // 100) - 1))
    return sorted_ms[int(k)]


def main(argv):
    rows = []
    for arg in argv:
        label, path = arg.split("=", 1)
        with open(path) as f:
            result = json.load(f)["results"][0]
        ms = sorted(t * 1000 for t in result["times"])
        rows.append(
            {
                "label": label,
                "command": result["command"],
                "n": len(ms),
                "median": statistics.median(ms),
                "p95": percentile(ms, 95),
                "mean": statistics.fmean(ms),
                "min": ms[0],
                "max": ms[-1],
            }
        )
    ref = rows[0]
    width = max(len(r["label"]) for r in rows)
    print(f"{'case':<{width}}  {'runs':>5}  {'median ms':>10}  {'p95 ms':>9}  {'mean ms':>9}  {'min ms':>8}  {'max ms':>9}  {'median / awsso':>14}")
    for r in rows:
        ratio = r["median"] / ref["median"]
        print(
            f"{r['label']:<{width}}  {r['n']:>5}  {r['median']:>10.2f}  {r['p95']:>9.2f}  {r['mean']:>9.2f}"
            f"  {r['min']:>8.2f}  {r['max']:>9.2f}  {ratio:>13.1f}x"
        )
    print()
    for r in rows:
        print(f"  {r['label']}: {r['command']}")
    print()
    by = {r["label"]: r for r in rows}
    verdict = lambda ok: "MET" if ok else "MISSED"
    print(f"target: warm awsso creds (keyutils cache) median < 5 ms: {ref['median']:.2f} ms -> {verdict(ref['median'] < 5)}")
    print(f"target (issue 8, instance- and login-scoped cache): warm median < 2 ms: {ref['median']:.2f} ms -> {verdict(ref['median'] < 2)}")
    if "aws-sso-util" in by:
        ratio = by["aws-sso-util"]["median"] / ref["median"]
        print(f"target: >= 50x faster than aws-sso-util credential-process (medians): {ratio:.0f}x -> {verdict(ratio >= 50)}")
    if "botocore-process" in by:
        ratio = by["botocore-process"]["median"] / ref["median"]
        print(f"awsso vs botocore's own SSO provider, fresh process (medians): {ratio:.0f}x faster")


if __name__ == "__main__":
    main(sys.argv[1:])
