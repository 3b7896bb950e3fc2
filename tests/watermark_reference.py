#!/usr/bin/python3
"""Independent reference for core/forensics/ (the watermark detector's exact
binomial test, the KS test of p-values and the green-weight z test),
computed with SciPy and NumPy.

Reads one JSON object on stdin:
  {"binomial": [[k, n, p], ...], "ks": [[x1, x2, ...], ...],
   "green_weight": [{"k": k, "weights": [[a_1..a_V], ...], "flags": [[0/1 x V], ...],
                     "window_weights": [w, ...] (optional, 1 each), "enumerate": bool}, ...],
   "normal_logsf": [z, ...]}
Prints {"binomial": [{"sf": P(X >= k), "logsf": ln P(X >= k) or null}, ...],
        "ks": [{"statistic": D, "p_value": p}, ...],
        "green_weight": [{"green", "expected", "variance", "third", "z", "p_value", "log10_p"}, ...],
        "normal_logsf": [ln P(N(0,1) >= z), ...]}
with scipy.stats.binom.sf(k - 1, n, p) / binom.logsf,
scipy.stats.kstest(x, "uniform", method="exact") and scipy.stats.norm.logsf.

green_weight: each window's weight on its green list, T = a . g, where g is a
uniformly random k-subset indicator under the null; window c counts w_c times
(T, its mean and third moment scale by w_c, w_c^3; its variance by w_c^2). Its mean and variance come
from the indicator's covariance matrix (Var g_i = (k/V)(1 - k/V),
Cov(g_i, g_j) = -k(V - k)/(V^2 (V - 1))): T's variance is a' Sigma a. With
"enumerate" (small V) every k-subset is listed and the mean, variance and
third central moment are those of the list; otherwise the third cumulant is
estimated from 200000 random k-subsets per window (checked loosely).
"""
import itertools
import json
import math
import sys

import numpy as np
from scipy import stats


def green_weight(case):
    k = case["k"]
    out = {"green": 0.0, "expected": 0.0, "variance": 0.0, "third": 0.0}
    ws = case.get("window_weights") or [1.0] * len(case["weights"])
    for a, g, w in zip(case["weights"], case["flags"], ws):
        a = w * np.asarray(a, dtype=float)
        v = len(a)
        out["green"] += float(a @ np.asarray(g, dtype=float))
        if case.get("enumerate"):
            sums = np.array([a[list(c)].sum() for c in itertools.combinations(range(v), k)])
            mean = sums.mean()
            out["expected"] += float(mean)
            out["variance"] += float(((sums - mean) ** 2).mean())
            out["third"] += float(((sums - mean) ** 3).mean())
            continue
        q = k / v
        cov = np.full((v, v), -k * (v - k) / (v * v * (v - 1)))
        np.fill_diagonal(cov, q * (1 - q))
        out["expected"] += float(q * a.sum())
        out["variance"] += float(a @ cov @ a)
        p3 = float(((a - a.mean()) ** 3).sum())
        q1, q2, q3 = k / v, k * (k - 1) / (v * (v - 1)), k * (k - 1) * (k - 2) / (v * (v - 1) * (v - 2))
        out["third"] += p3 * q1 - 3 * p3 * q2 + 2 * p3 * q3
    out["z"] = (out["green"] - out["expected"]) / math.sqrt(out["variance"])
    out["p_value"] = float(stats.norm.sf(out["z"]))
    out["log10_p"] = float(stats.norm.logsf(out["z"])) / math.log(10.0)
    return out


def main():
    spec = json.load(sys.stdin)
    out = {"binomial": [], "ks": [], "green_weight": [], "normal_logsf": []}
    for k, n, p in spec.get("binomial", []):
        logsf = float(stats.binom.logsf(k - 1, n, p))
        out["binomial"].append({"sf": float(stats.binom.sf(k - 1, n, p)),
                                "logsf": logsf if math.isfinite(logsf) else None})
    for x in spec.get("ks", []):
        r = stats.kstest(x, "uniform", method="exact")
        out["ks"].append({"statistic": float(r.statistic), "p_value": float(r.pvalue)})
    for case in spec.get("green_weight", []):
        out["green_weight"].append(green_weight(case))
    for z in spec.get("normal_logsf", []):
        out["normal_logsf"].append(float(stats.norm.logsf(z)))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
