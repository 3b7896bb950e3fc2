#!/usr/bin/python3
"""Independent reference values for tests/tst_losses.cpp.

Run with Debian's /usr/bin/python3 (python3-torch). Every method's loss is
computed here straight from its published formula with PyTorch ops, on the same
float64 tensors and parameters that tst_losses.cpp uses, and printed as one JSON
object {"method-variant": value, ...}. The inputs are echoed under "_inputs" so
the C++ test can check that both sides still use the same numbers.
"""
import json

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

STUDENT = [[1.0, 2.0, 3.0, -0.5, 0.2, 1.5],
           [0.5, -1.0, 2.5, 0.3, -2.0, 1.0],
           [-1.2, 0.4, 0.0, 2.2, 1.1, -0.3],
           [2.0, 1.8, -0.7, 0.6, -1.5, 0.9]]
TEACHER = [[3.0, 1.0, 0.5, -1.0, 2.0, 0.1],
           [0.0, 0.2, 4.0, 1.5, -0.5, 0.8],
           [0.3, -0.8, 1.9, 2.6, 0.7, -1.4],
           [1.1, 3.2, -0.2, 0.4, 2.1, -0.9]]
LABELS = [2, 4, 3, 1]

s = torch.tensor(STUDENT)
t = torch.tensor(TEACHER)
y = torch.tensor(LABELS)
N, C = s.shape


def ce(logits, targets):
    return F.cross_entropy(logits, targets)


def kl_batchmean(log_q, p):
    """KL(p || q): sum over the last dimension, mean over the samples."""
    return F.kl_div(log_q, p, reduction="batchmean")


def kd(T, alpha):
    soft = kl_batchmean(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1)) * T ** 2
    return alpha * soft + (1 - alpha) * ce(s, y)


def dkd_tckd(student, teacher, labels, T):
    """TCKD: two bins per sample, p(target) and p(not target), probabilities summed, then their log."""
    classes = student.shape[1]

    def bins(logits):
        p = F.softmax(logits / T, dim=1)
        p_target = p.gather(1, labels[:, None])
        p_rest = p.masked_fill(F.one_hot(labels, classes).bool(), 0.0).sum(dim=1, keepdim=True)
        return torch.cat([p_target, p_rest], dim=1)
    return kl_batchmean(bins(student).log(), bins(teacher)) * T ** 2


def dkd_saturated(classes, T, margin):
    student = torch.zeros(1, classes)
    student[0, 0] = margin
    student.requires_grad_(True)
    tckd = dkd_tckd(student, torch.zeros(1, classes), torch.tensor([0]), T)
    tckd.backward()
    return {"classes": classes, "temperature": T, "margin": margin,
            "value": tckd.item(), "grad_norm": student.grad.norm().item()}


def dkd(alpha, beta, T, warmup, ce_weight, epoch):
    tckd = dkd_tckd(s, t, y, T)
    # NCKD: the target column removed outright, softmax over the remaining C - 1 classes.
    keep = ~F.one_hot(y, C).bool()
    s_nt = s[keep].reshape(N, C - 1)
    t_nt = t[keep].reshape(N, C - 1)
    nckd = kl_batchmean(F.log_softmax(s_nt / T, dim=1), F.softmax(t_nt / T, dim=1)) * T ** 2
    factor = 1.0 if warmup == 0 else min(epoch / warmup, 1.0)
    return ce_weight * ce(s, y) + factor * (alpha * tckd + beta * nckd)


def dist(beta, gamma, tau, ce_weight):
    def pearson(a, b, dim):
        a = a - a.mean(dim=dim, keepdim=True)
        b = b - b.mean(dim=dim, keepdim=True)
        return (a * b).sum(dim=dim) / (a.norm(dim=dim) * b.norm(dim=dim) + 1e-8)
    ps = F.softmax(s / tau, dim=1)
    pt = F.softmax(t / tau, dim=1)
    inter = 1 - pearson(ps, pt, dim=1).mean()  # each sample's distribution over the classes
    intra = 1 - pearson(ps, pt, dim=0).mean()  # each class's probabilities across the batch
    return ce_weight * ce(s, y) + tau ** 2 * (beta * inter + gamma * intra)


def logit_mse(alpha):
    return alpha * F.mse_loss(s, t) + (1 - alpha) * ce(s, y)


def hard_label(alpha):
    return alpha * ce(s, t.argmax(dim=1)) + (1 - alpha) * ce(s, y)


def topk_probs(k, T, alpha, tail):
    k = max(1, min(k, C))
    pt = F.softmax(t / T, dim=1)
    top, idx = pt.topk(k, dim=1)
    missing = (1 - top.sum(dim=1, keepdim=True)).clamp_min(0)
    if k == C:
        soft = kl_batchmean(F.log_softmax(s / T, dim=1), pt)
    elif tail:
        ps = F.softmax(s / T, dim=1)
        ps_top = ps.gather(1, idx)
        ps_tail = (1 - ps_top.sum(dim=1, keepdim=True)).clamp_min(1e-12)
        soft = kl_batchmean(torch.cat([ps_top, ps_tail], dim=1).log(), torch.cat([top, missing], dim=1))
    else:
        view = (missing / (C - k)).repeat(1, C).scatter(1, idx, top)
        soft = kl_batchmean(F.log_softmax(s / T, dim=1), view)
    return alpha * T ** 2 * soft + (1 - alpha) * ce(s, y)


values = {
    "kd": kd(T=4.0, alpha=0.9),
    "dkd": dkd(alpha=1.0, beta=8.0, T=4.0, warmup=20, ce_weight=1.0, epoch=5.0),
    "dkd-nowarmup": dkd(alpha=0.5, beta=2.0, T=2.0, warmup=0, ce_weight=0.7, epoch=0.0),
    "dist": dist(beta=1.0, gamma=2.0, tau=2.0, ce_weight=1.0),
    "logit_mse": logit_mse(alpha=0.9),
    "hard_label": hard_label(alpha=0.7),
    "topk_probs-tail0": topk_probs(k=2, T=2.0, alpha=0.8, tail=0),
    "topk_probs-tail1": topk_probs(k=2, T=2.0, alpha=0.8, tail=1),
    "none": ce(s, y),
}
out = {name: v.item() for name, v in values.items()}
out["_dkd_saturated"] = [dkd_saturated(classes, T, margin)
                         for classes in (10, 1000) for T in (1.0, 4.0) for margin in (25.0, 30.0, 35.0, 40.0, 120.0)]
out["_inputs"] = {"student": STUDENT, "teacher": TEACHER, "labels": LABELS}
print(json.dumps(out))
