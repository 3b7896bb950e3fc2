#!/usr/bin/python3
"""Independent reference for the forensic statistics of issue 18, part 1
(core/forensics/): SAC-m's correlation matrices and their distance in numpy,
the ROC AUC as scipy's Mann-Whitney U over (positives x negatives), and the
true-positive rate at 1% false positives from numpy's sort.

Draws its own fixed inputs (numpy seed 18) and prints them with the answers:
  {"a": [[...]], "b": [[...]] (probabilities, N x C),
   "corr_a": [[...]], "corr_b": [[...]], "distance": D,
   "positives": [...], "negatives": [...], "auc": A, "tpr_at_1pct": T}
"""
import json

import numpy as np
from scipy import stats

rng = np.random.default_rng(18)


def correlation(p):
    # Cosine similarity between every pair of output rows (Guan et al.'s SAC).
    unit = p / np.linalg.norm(p, axis=1, keepdims=True)
    return unit @ unit.T


a = rng.dirichlet(np.ones(5), size=12).astype(np.float32)
b = rng.dirichlet(np.ones(5) * 0.5, size=12).astype(np.float32)
ca = correlation(a.astype(np.float64))
cb = correlation(b.astype(np.float64))
distance = float(np.abs(ca - cb).mean())

# Scores with ties (rounded), 200 negatives so 1% lets two of them through.
positives = np.round(rng.normal(1.0, 1.0, size=30), 1)
negatives = np.round(rng.normal(0.0, 1.0, size=200), 1)
u = stats.mannwhitneyu(positives, negatives, alternative="greater").statistic
auc = float(u) / (len(positives) * len(negatives))
allowed = int(np.floor(0.01 * len(negatives)))
threshold = np.sort(negatives)[::-1][allowed]
tpr = float(np.mean(positives > threshold))

print(json.dumps({"a": a.tolist(), "b": b.tolist(), "corr_a": ca.tolist(), "corr_b": cb.tolist(),
                  "distance": distance, "positives": positives.tolist(), "negatives": negatives.tolist(),
                  "auc": auc, "tpr_at_1pct": tpr}))
