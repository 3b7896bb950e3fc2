#!/usr/bin/python3
"""Independent reference values for tests/tst_lm.cpp (language-model losses).

Run with Debian's /usr/bin/python3 (python3-torch). Each loss is computed here
from its formula with plain probability arithmetic (no log-space tricks, no
shared code with the C++ side) on the float64 inputs below, which tst_lm.cpp
uses too, and printed as one JSON object. The inputs are echoed under "_inputs".

Conventions (docs/methods.md, "Language models"): every loss is a per-token
quantity averaged over the positions whose mask is 1. The generalised JSD is
the GKD paper's / TRL's: beta * KL(p_t || m) + (1 - beta) * KL(p_s || m) with
m = beta * p_t + (1 - beta) * p_s, and beta = 0 / 1 defined as forward / reverse KL.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)

STUDENT = [[1.0, 2.0, 3.0, -0.5, 0.2, 1.5, -1.0],
           [0.5, -1.0, 2.5, 0.3, -2.0, 1.0, 0.0],
           [-1.2, 0.4, 0.0, 2.2, 1.1, -0.3, 0.9],
           [2.0, 1.8, -0.7, 0.6, -1.5, 0.9, 0.4],
           [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]]
TEACHER = [[3.0, 1.0, 0.5, -1.0, 2.0, 0.1, -0.4],
           [0.0, 0.2, 4.0, 1.5, -0.5, 0.8, 1.2],
           [0.3, -0.8, 1.9, 2.6, 0.7, -1.4, 0.0],
           [1.1, 3.2, -0.2, 0.4, 2.1, -0.9, 0.6],
           [-2.0, 0.0, 2.0, -1.0, 1.0, 0.5, 3.0]]
TARGETS = [2, 3, 3, 1, 6]
MASK = [1, 1, 0, 1, 1]


def probs(row, T=1.0):
    e = [math.exp(x / T) for x in row]
    z = sum(e)
    return [x / z for x in e]


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def masked_mean(values):
    kept = [v for v, m in zip(values, MASK) if m]
    return sum(kept) / len(kept)


def ce():
    return masked_mean([-math.log(probs(s)[y]) for s, y in zip(STUDENT, TARGETS)])


def forward_kl(T):
    return masked_mean([kl(probs(t, T), probs(s, T)) for s, t in zip(STUDENT, TEACHER)])


def reverse_kl(T):
    return masked_mean([kl(probs(s, T), probs(t, T)) for s, t in zip(STUDENT, TEACHER)])


def jsd(beta, T):
    if beta == 0:
        return forward_kl(T)
    if beta == 1:
        return reverse_kl(T)
    out = []
    for s, t in zip(STUDENT, TEACHER):
        ps, pt = probs(s, T), probs(t, T)
        m = [beta * a + (1 - beta) * b for a, b in zip(pt, ps)]
        out.append(beta * kl(pt, m) + (1 - beta) * kl(ps, m))
    return masked_mean(out)


def topk_tail(k):
    out = []
    for s, t in zip(STUDENT, TEACHER):
        ps, pt = probs(s), probs(t)
        top = sorted(range(len(pt)), key=lambda i: -pt[i])[:k]
        p_bins = [pt[i] for i in top]
        q_bins = [ps[i] for i in top]
        if k < len(pt):
            p_bins.append(1 - sum(p_bins))
            q_bins.append(1 - sum(q_bins))
        out.append(kl(p_bins, q_bins))
    return masked_mean(out)


ref = {
    "ce": ce(),
    "forward_kl-T1": forward_kl(1.0),
    "forward_kl-T2": forward_kl(2.0),
    "reverse_kl-T1": reverse_kl(1.0),
    "reverse_kl-T3": reverse_kl(3.0),
    "gkd_jsd-b0": jsd(0.0, 1.0),
    "gkd_jsd-b0.1": jsd(0.1, 1.0),
    "gkd_jsd-b0.5": jsd(0.5, 1.0),
    "gkd_jsd-b0.9-T2": jsd(0.9, 2.0),
    "gkd_jsd-b1": jsd(1.0, 1.0),
    "topk-k1": topk_tail(1),
    "topk-k3": topk_tail(3),
    "topk-k7": topk_tail(7),
    # Cross-check of the plain formulas with torch's own KL (forward, T = 1).
    "torch_forward_kl-T1": float(sum(
        torch.nn.functional.kl_div(torch.log_softmax(torch.tensor(s), 0), torch.softmax(torch.tensor(t), 0),
                                   reduction="sum") * m
        for s, t, m in zip(STUDENT, TEACHER, MASK)) / sum(MASK)),
    "_inputs": {"student": STUDENT, "teacher": TEACHER, "targets": TARGETS, "mask": MASK},
}
print(json.dumps(ref))
