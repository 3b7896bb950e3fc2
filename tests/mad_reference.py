#!/usr/bin/python3
"""Independent reference for the teacher server's MAD defense (Orekondy et al.,
"Prediction Poisoning", ICLR 2020; core/serve/mad_defense.h), written from the
paper's definitions with PyTorch autograd in float64: no closed form.

Reads one JSON object on stdin:
  {"probs": [[...]] (the answers y, N x K), "features": [[...]] (h, N x F),
   "weight": [[...]] (W, K x F), "bias": [...] (b, K), "epsilon": E}
The surrogate's last layer is logits = h W^T + b. For each row, G is the
Jacobian of log_softmax(logits) w.r.t. (W, b), taken by autograd one class at
a time; the target is the one-hot y_k maximising
|| G^T y_k / ||G^T y_k|| - G^T y / ||G^T y|| ||^2 and the answer is
(1 - a) y + a y_k, a = min(1, E / ||y_k - y||_1).
Prints {"k": [...], "probs": [[...]], "deviation": [[...]]}.
"""
import json
import sys

import torch


def unit(v):
    n = v.norm()
    return v / n if n > 0 else torch.zeros_like(v)


def jacobian(h, weight, bias):
    # Rows: d log softmax(h W^T + b)_c / d(W, b), flattened, one per class c.
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    logp = torch.log_softmax(h @ w.T + b, dim=0)
    rows = []
    for c in range(logp.shape[0]):
        gw, gb = torch.autograd.grad(logp[c], (w, b), retain_graph=True)
        rows.append(torch.cat([gw.flatten(), gb.flatten()]))
    return torch.stack(rows)  # K x P


def main():
    spec = json.load(sys.stdin)
    y = torch.tensor(spec["probs"], dtype=torch.float64)
    h = torch.tensor(spec["features"], dtype=torch.float64)
    weight = torch.tensor(spec["weight"], dtype=torch.float64)
    bias = torch.tensor(spec["bias"], dtype=torch.float64)
    eps = spec["epsilon"]
    n, k_classes = y.shape
    ks, out, deviations = [], [], []
    for r in range(n):
        g = jacobian(h[r], weight, bias)
        a = unit(g.T @ y[r])
        eye = torch.eye(k_classes, dtype=torch.float64)
        dev = torch.stack([(unit(g.T @ eye[k]) - a).pow(2).sum() for k in range(k_classes)])
        k = int(torch.argmax(dev))
        dist = (eye[k] - y[r]).abs().sum()
        alpha = min(1.0, eps / float(dist)) if dist > 0 else 0.0
        ks.append(k)
        out.append(((1 - alpha) * y[r] + alpha * eye[k]).tolist())
        deviations.append(dev.tolist())
    print(json.dumps({"k": ks, "probs": out, "deviation": deviations}))


if __name__ == "__main__":
    main()
