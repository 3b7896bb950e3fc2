#!/usr/bin/python3
"""Independent reference for the teacher server's defenses (tests/tst_serve.cpp,
core/serve/output_defenses.h), each written from its published formula with
PyTorch ops in float64.

Reads one JSON object on stdin:
  {"probs": [[...], ...], "noise": [[...], ...], "k": K,
   "cases": [[{"name": ..., params...}, ...], ...]}
Each case is a list of defenses applied in order to "probs"; gaussian_noise
takes its standard normal draws from "noise" (the server derives them from a
seed; the reference is handed the same draws). Prints {"cases": [{"probs":
[[...]], "topk": {"classes": [[...]], "probs": [[...]]}}, ...]}.
"""
import json
import sys

import torch


def renormalise(p):
    return p / p.sum(dim=1, keepdim=True)


def gaussian_noise(p, noise, scale):
    # p' = max(p + scale * z, 0) / sum
    return renormalise(torch.clamp(p + scale * noise, min=0.0))


def reverse_sigmoid(p, beta, gamma):
    # Lee et al. (2019), as ART's post-processor: the perturbation
    # r = beta * (sigmoid(gamma * logit(p)) - 1/2), logit taken on p clipped
    # to [1e-9, 1 - 1e-9]; p - r clipped to [0, 1], then renormalised.
    r = beta * (torch.sigmoid(gamma * torch.logit(p, eps=1e-9)) - 0.5)
    return renormalise(torch.clamp(p - r, 0.0, 1.0))


def adaptive_misinformation(p, tau, nu):
    # Kariyappa & Qureshi (CVPR 2020): y' = (1 - a) y + a m, with
    # a = sigmoid(-nu * (max softmax prob - tau)); m the "reverse" model,
    # softmax of the negated logits, and log p is the logits up to a constant.
    s = p.max(dim=1, keepdim=True).values
    a = torch.sigmoid(-nu * (s - tau))
    m = torch.softmax(-torch.log(p), dim=1)
    return (1 - a) * p + a * m


def main():
    spec = json.load(sys.stdin)
    probs = torch.tensor(spec["probs"], dtype=torch.float64)
    noise = torch.tensor(spec["noise"], dtype=torch.float64)
    k = spec["k"]
    out = []
    for case in spec["cases"]:
        p = probs.clone()
        for d in case:
            if d["name"] == "gaussian_noise":
                p = gaussian_noise(p, noise, d["scale"])
            elif d["name"] == "reverse_sigmoid":
                p = reverse_sigmoid(p, d["beta"], d["gamma"])
            elif d["name"] == "adaptive_misinformation":
                p = adaptive_misinformation(p, d["tau"], d.get("nu", 1000.0))
            else:
                raise SystemExit("unknown defense " + d["name"])
        top = torch.topk(p, k, dim=1)
        out.append({"probs": p.tolist(), "topk": {"classes": top.indices.tolist(), "probs": top.values.tolist()}})
    print(json.dumps({"cases": out}))


if __name__ == "__main__":
    main()
