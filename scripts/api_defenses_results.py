#!/usr/bin/python3
"""Issue 17's experiment: what an API's output modes and defenses cost its
honest users, and what they change for a distiller.

One script, the app's own commands: train the default cnn teacher, serve it
under each output mode and defense (`distillery-cli serve`), and distill an mlp
clone through the API (`teacher.api`) for a soft-label attacker (kd on the
probabilities) and a label-only attacker (hard_label), at several query
budgets, with in-distribution queries (the task's training images) and a
transfer set (digits rendered from this machine's fonts: MNIST is not on the
machine and nothing may be downloaded). Writes docs/results/api-defenses.md,
its charts (the app's own report export) and the raw table as JSON.

    /usr/bin/python3 scripts/api_defenses_results.py [--cli build/app/distillery-cli] [--quick]

Needs python3-numpy, python3-torch and python3-pil (scripts/setup.sh installs them).
"""
import argparse
import json
import os
import re
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from experiment_support import Server, read_idx, rendered_digits, run, write_idx  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST = "/usr/share/datasets/fashion-mnist"
KEY = "attacker-0123456789abcdef"

# name, label, output config (transforms then mode)
DEFENSES = [
    ("none", "none (probs)", {"mode": "probs"}),
    ("top1", "top-1 probability", {"mode": "topk", "k": 1}),
    ("rounded1", "rounded to 1 decimal", {"mode": "rounded", "decimals": 1}),
    ("label", "label only", {"mode": "label"}),
    ("noise0.3", "gaussian_noise 0.3", {"mode": "probs", "transforms": [{"name": "gaussian_noise", "scale": 0.3, "seed": 1}]}),
    ("rs0.2", "reverse_sigmoid beta 0.2", {"mode": "probs", "transforms": [{"name": "reverse_sigmoid", "beta": 0.2, "gamma": 0.2}]}),
    ("rs0.7", "reverse_sigmoid beta 0.7", {"mode": "probs", "transforms": [{"name": "reverse_sigmoid", "beta": 0.7, "gamma": 0.2}]}),
    ("am0.8", "adaptive_misinformation tau 0.8", {"mode": "probs", "transforms": [{"name": "adaptive_misinformation", "tau": 0.8}]}),
    ("mad0.5", "mad epsilon 0.5", {"mode": "probs", "transforms": [{"name": "mad", "epsilon": 0.5, "surrogate": {"zoo": "mlp", "hidden": [64]}}]}),
    ("mad1.5", "mad epsilon 1.5", {"mode": "probs", "transforms": [{"name": "mad", "epsilon": 1.5, "surrogate": {"zoo": "mlp", "hidden": [64]}}]}),
]
ATTACKERS = [("soft", {"name": "kd", "temperature": 1.0, "alpha": 1.0}),
             ("label", {"name": "hard_label", "alpha": 1.0})]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/app/distillery-cli"))
    ap.add_argument("--work", default="/tmp/distillery-api-defenses")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/results"))
    ap.add_argument("--budgets", default="1000,5000,20000,50000")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 2 budgets, 3 defenses, small data")
    ap.add_argument("--keep", action="store_true",
                    help="reuse the work folder's teacher, transfer set and answer cache from an earlier run")
    ap.add_argument("--page-only", action="store_true",
                    help="rewrite the page and its charts from the work folder's store and api-defenses.json")
    ap.add_argument("--transfer-budgets", default="5000,20000",
                    help="budgets of the transfer-set clones (the in-distribution ones use --budgets)")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    transfer_budgets = [int(b) for b in args.transfer_budgets.split(",")]
    defenses = DEFENSES
    train_limit = 60000
    if args.quick:
        budgets, defenses, train_limit = [500, 2000], [DEFENSES[0], DEFENSES[3], DEFENSES[5]], 10000
        transfer_budgets = [2000]
    started = time.time()
    if os.path.exists(args.work) and not args.keep:
        shutil.rmtree(args.work)
    os.makedirs(args.work, exist_ok=True)
    db = os.path.join(args.work, "runs.sqlite")
    # One thread per process: the server and the client run side by side on 2 cores, and
    # OpenMP's spinning threads crawl when oversubscribed.
    env = dict(os.environ, DISTILLERY_API_KEY=KEY, OMP_NUM_THREADS="1")
    # 2,000 test images (of 10,000) keep each run's evaluation short on 2 cores.
    data = {"dataset": "fashion-mnist", "path": FMNIST, "train_limit": train_limit, "val_size": 500, "test_limit": 2000}

    # The teacher: the embedded default's cnn, trained as the default does (1 epoch).
    teacher_cfg = {"name": "teacher-cnn", "task": "train", "data": data,
                   "model": {"zoo": "cnn", "channels": [32, 64], "fc": 256},
                   "optim": {"name": "adam", "lr": 0.002, "schedule": "cosine"},
                   "batch_size": 64, "epochs": 1, "seed": 0, "device": "cpu"}
    path = os.path.join(args.work, "teacher.json")
    known = os.path.join(args.work, "teacher-run.json")
    if args.keep and os.path.exists(known):
        teacher = json.load(open(known))["run"]
    else:
        json.dump(teacher_cfg, open(path, "w"))
        out = run([args.cli, "run", path, "--db", db], env).stdout
        teacher = int(re.search(r"run_id=(\d+)", out).group(1))
        json.dump({"run": teacher}, open(known, "w"))
    # Its accuracy on the test images the clones are measured on.
    teacher_acc = None
    print("teacher run %d (%.0f s)" % (teacher, time.time() - started), flush=True)

    digits = os.path.join(args.work, "rendered-digits")
    fonts = rendered_digits(digits, max(transfer_budgets), 2000)
    print("transfer set: %d rendered digits from %d fonts" % (max(transfer_budgets), fonts), flush=True)
    strategies = [("in-distribution", {"strategy": "train"}),
                  ("transfer", {"strategy": "transfer", "data": {"dataset": "mnist", "path": digits, "val_size": 0}})]

    rows = []
    if args.page_only:  # the figures of an earlier run, page and charts made again
        saved = json.load(open(os.path.join(args.out, "api-defenses.json")))
        rows, wall = saved["rows"], saved["wall_s"]
        teacher_acc = saved["teacher_test_accuracy"]
        defenses = [d for d in defenses if any(r["defense"] == d[0] for r in rows)]
    for name, label, output in ([] if args.page_only else defenses):
        config = os.path.join(args.work, "serve-%s.json" % name)
        json.dump({"keys": [{"name": "attacker", "key": KEY, "budget": 10 ** 9, "rate_per_s": 10 ** 6, "burst": 10 ** 6}],
                   "price_per_1000": 1.0, "output": output, "threads": 2,
                   "log": os.path.join(args.work, "serve-%s.log.sqlite" % name)}, open(config, "w"))
        server = Server(args.cli, db, teacher, config)
        t0 = time.time()
        try:
            for sname, queries in strategies:
                for aname, method in ATTACKERS:
                    if output["mode"] == "label" and method["name"] != "hard_label":
                        continue  # refused: a label-only API cannot teach kd
                    for budget in (budgets if sname == "in-distribution" else transfer_budgets):
                        epochs = max(3, min(30, (30000 + budget - 1) // budget))
                        cfg = {"name": "clone-%s-%s-%s-%d" % (name, aname, sname[:8], budget), "task": "distill",
                               "data": data,
                               "teacher": {"api": {"url": "http://127.0.0.1:%d" % server.port, "max_queries": budget,
                                                   "batch": 256, "reference_run": teacher,
                                                   "cache_dir": os.path.join(args.work, "cache")}},
                               "queries": queries, "student": {"zoo": "mlp", "hidden": [128]}, "method": method,
                               "optim": {"name": "adam", "lr": 0.001}, "batch_size": 128, "epochs": epochs,
                               "seed": 0, "device": "cpu", "evals_per_epoch": 1, "threads": 1}
                        path = os.path.join(args.work, "clone.json")
                        json.dump(cfg, open(path, "w"))
                        out = run([args.cli, "run", path, "--db", db], env).stdout
                        rid = int(re.search(r"run_id=(\d+)", out).group(1))
                        s = json.loads(run([args.cli, "show", str(rid), "--json", "--db", db], env).stdout)["summary"]
                        a = s["api"]
                        teacher_acc = a["reference_test_accuracy"]
                        rows.append({"run": rid, "defense": name, "label": label, "attacker": aname, "queries_kind": sname,
                                     "budget": budget, "epochs": epochs, "clone_accuracy": s["test_accuracy"],
                                     "fidelity": a["fidelity"], "benign_accuracy": a["benign_accuracy"],
                                     "reference_accuracy": a["reference_test_accuracy"], "money": a["money"]})
                        print("%-10s %-5s %-15s %6d: clone %.4f fidelity %.4f benign %.4f" %
                              (name, aname, sname, budget, s["test_accuracy"], a["fidelity"], a["benign_accuracy"]),
                              flush=True)
        finally:
            server.stop()
        print("  %s: %.0f s" % (name, time.time() - t0), flush=True)
    if not args.page_only:
        wall = time.time() - started

    os.makedirs(os.path.join(args.out, "api-defenses"), exist_ok=True)
    if not args.page_only:
        json.dump({"teacher_run": teacher, "teacher_test_accuracy": teacher_acc, "wall_s": wall, "rows": rows},
                  open(os.path.join(args.out, "api-defenses.json"), "w"), indent=1)

    # Charts: the app's own report export (the Defenses section), one report per kind of
    # query and attacker, so each chart's legend stays short.
    charts = {}
    for sname, _ in strategies:
        found = []
        for aname, _ in ATTACKERS:
            ids = [r["run"] for r in rows if r["queries_kind"] == sname and r["attacker"] == aname]
            if not ids:
                continue
            folder = os.path.join(args.work, "report-%s-%s" % (sname[:8], aname))
            os.makedirs(folder, exist_ok=True)
            run([args.cli, "report", "--runs", ",".join(map(str, ids)),
                 "--title", "API defenses, %s queries, %s attacker" % (sname, aname),
                 "--out", os.path.join(folder, "report.md"), "--db", db], env)
            for sub, _, files in os.walk(folder):
                for f in sorted(files):
                    if f.endswith(".svg") and "defense" in f.lower():
                        dst = "%s-%s-%s" % (sname[:8], aname, re.sub(r"^\d+-", "", f))
                        shutil.copy(os.path.join(sub, f), os.path.join(args.out, "api-defenses", dst))
                        found.append(dst)
        charts[sname] = found

    write_page(args, rows, teacher, teacher_acc, wall, budgets, transfer_budgets, defenses, charts, fonts)


def pct(v):
    return "" if v is None else "%.1f" % (100 * v)


def write_page(args, rows, teacher, teacher_acc, wall, budgets, transfer_budgets, defenses, charts, fonts):
    at = 5000 if 5000 in budgets else budgets[len(budgets) // 2]
    cmd = "/usr/bin/python3 scripts/api_defenses_results.py" + (" --quick" if args.quick else "")
    lines = ["# Distilling through an API: defenses, their benign cost and clone fidelity", "",
             "Made by `%s` (%.0f min wall on this 2-core machine, %s). Every number below comes from the app: "
             "the teacher served by `distillery-cli serve`, clones distilled through it with `teacher.api`, "
             "charts from `distillery-cli report` (its Defenses section). Raw rows: `api-defenses.json`." %
             (cmd, wall / 60, time.strftime("%Y-%m-%d")), "",
             "- **Teacher:** the embedded default's cnn (channels 32, 64; fc 256), 1 epoch on Fashion-MNIST, run %d, "
             "test accuracy %.2f%% on the 2,000 test images used here, served with each output mode and defense below (price 1.0 per 1,000 queries)." %
             (teacher, 100 * teacher_acc),
             "- **Clone:** mlp [128], Adam 1e-3, batch 128, max(3, min(30, 30k/budget)) epochs; it sees only the "
             "API's answers (no labels, no selection on labelled validation data).",
             "- **Attackers:** *soft* = `kd` on the answered probabilities (T = 1, alpha = 1: cross-entropy to the "
             "answer); *label* = `hard_label` on the answered top-1. `kd` against the label-only API is refused "
             "by the app, so that row has no soft attacker.",
             "- **Queries:** *in-distribution* = Fashion-MNIST training images in a seeded order (the first 1k of "
             "the 5k, and so on; answers are cached and bought once); *transfer* = %d digits rendered from %d fonts "
             "on this machine and jittered (MNIST stand-in: MNIST is not on the machine)." % (max(budgets), fonts),
             "- **Benign cost** = the undefended teacher's test accuracy minus the accuracy of the defended top-1 "
             "answers on the test split (what an honest user loses). **Fidelity** = the clone's agreement with the "
             "undefended teacher on the test split.", ""]
    lines += ["## At %s queries" % format(at, ","), "",
              "| defense | benign accuracy | benign cost (pp) | soft clone acc / fidelity, in-dist | label clone acc / fidelity, in-dist | soft fidelity, transfer | label fidelity, transfer |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    def find(d, a, k, b):
        for r in rows:
            if r["defense"] == d and r["attacker"] == a and r["queries_kind"] == k and r["budget"] == b:
                return r
        return None
    for name, label, _ in defenses:
        any_row = next((r for r in rows if r["defense"] == name), None)
        if not any_row:
            continue
        cost = 100 * (any_row["reference_accuracy"] - any_row["benign_accuracy"])
        cells = []
        for a in ("soft", "label"):
            r = find(name, a, "in-distribution", at)
            cells.append("%s / %s" % (pct(r["clone_accuracy"]), pct(r["fidelity"])) if r else "refused")
        for a in ("soft", "label"):
            r = find(name, a, "transfer", at)
            cells.append(pct(r["fidelity"]) if r else "refused")
        lines.append("| %s | %s | %.1f | %s |" % (label, pct(any_row["benign_accuracy"]), cost, " | ".join(cells)))
    lines += ["", "## Fidelity against queries", "",
              "Fidelity (%) of each clone with the undefended teacher, by budget.", ""]
    for kind, kind_budgets in (("in-distribution", budgets), ("transfer", transfer_budgets)):
        lines += ["### %s queries" % kind.capitalize(), "",
                  "| defense | attacker | " + " | ".join(format(b, ",") for b in kind_budgets) + " |",
                  "| --- | --- | " + " | ".join("---:" for _ in kind_budgets) + " |"]
        for name, label, _ in defenses:
            for a in ("soft", "label"):
                cells = [find(name, a, kind, b) for b in kind_budgets]
                if not any(cells):
                    continue
                lines.append("| %s | %s | %s |" % (label, a, " | ".join(pct(c["fidelity"]) if c else "" for c in cells)))
        lines.append("")
        for f in charts.get(kind, []):
            lines += ["![%s](api-defenses/%s)" % (f, f), ""]
    lines += ["## What the literature reports, and what we see", "",
              "- ART's MNIST demo: at 5k queries, clones from argmax labels reach 88-90%, while ReverseSigmoid drops "
              "clones trained on probabilities to 20-27%.",
              "- Orekondy et al. 2020: top-k truncation barely slows the attacker; MAD raises the attacker's error "
              "many-fold at a modest benign cost.",
              "- Kariyappa & Qureshi 2020: adaptive misinformation cuts clone accuracy by up to 40% at under 0.5% "
              "benign cost (against out-of-distribution attack queries).", "",
              ]
    notes = os.path.join(args.out, "api-defenses-notes.md")
    if os.path.exists(notes):  # what we read in the figures, written by hand after a run
        lines += open(notes).read().splitlines()
    open(os.path.join(args.out, "api-defenses.md"), "w").write("\n".join(lines) + "\n")
    print("wrote %s" % os.path.join(args.out, "api-defenses.md"))


if __name__ == "__main__":
    main()
