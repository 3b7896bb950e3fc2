#!/usr/bin/python3
"""Independent reference for core/forensics/ (the watermark detector's exact
binomial test and the KS test of p-values), computed with SciPy.

Reads one JSON object on stdin:
  {"binomial": [[k, n, p], ...], "ks": [[x1, x2, ...], ...]}
Prints {"binomial": [{"sf": P(X >= k), "logsf": ln P(X >= k) or null}, ...],
        "ks": [{"statistic": D, "p_value": p}, ...]}
with scipy.stats.binom.sf(k - 1, n, p) / binom.logsf and
scipy.stats.kstest(x, "uniform", method="exact").
"""
import json
import math
import sys

from scipy import stats


def main():
    spec = json.load(sys.stdin)
    out = {"binomial": [], "ks": []}
    for k, n, p in spec.get("binomial", []):
        logsf = float(stats.binom.logsf(k - 1, n, p))
        out["binomial"].append({"sf": float(stats.binom.sf(k - 1, n, p)),
                                "logsf": logsf if math.isfinite(logsf) else None})
    for x in spec.get("ks", []):
        r = stats.kstest(x, "uniform", method="exact")
        out["ks"].append({"statistic": float(r.statistic), "p_value": float(r.pvalue)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
