#!/usr/bin/env python3
"""Regenerates docs/results/char-lm.md: the embedded default language-model
run (a char-level GPT teacher trained on the default corpus, distilled with
forward_kl), then the same student with every other language-model method
from that same teacher, one method per row.

    scripts/lm_results.py [--cli build/app/distillery-cli] [--db /tmp/char-lm.sqlite]
                          [--out docs/results/char-lm.md] [--steps N]

Only the standard library is used; the runs go through distillery-cli.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

METHODS = ["none", "forward_kl", "reverse_kl", "gkd_jsd", "topk_logits", "seq_kd", "on_policy"]


def cli(args, db, capture=True):
    cmd = [ARGS.cli] + args + ["--db", db]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE if capture else None, text=True)
    return out.stdout


def run_config(config, db):
    path = db + ".config.json"
    with open(path, "w") as f:
        json.dump(config, f)
    out = cli(["run", path], db)
    return int(next(l for l in out.splitlines() if l.startswith("run_id=")).split("=")[1])


def show(run_id, db):
    return json.loads(cli(["show", str(run_id), "--json"], db))


def main():
    if os.path.exists(ARGS.db):
        os.remove(ARGS.db)
    started = time.time()
    # 1. The default: trains the teacher as its own run, then forward_kl.
    out = cli(["run", "--default-lm"], ARGS.db)
    default_id = int(next(l for l in out.splitlines() if l.startswith("run_id=")).split("=")[1])
    default = show(default_id, ARGS.db)
    teacher_id = default["summary"]["teacher_run_id"]
    teacher = show(teacher_id, ARGS.db)
    base = default["config"]
    runs = {"forward_kl": default}
    # 2. Every other method from the same teacher run.
    for method in METHODS:
        if method in runs:
            continue
        config = json.loads(json.dumps(base))
        config["name"] = "char-lm-" + method
        config["teacher"] = {"run": teacher_id}
        config["method"] = {"name": method}
        if ARGS.steps:
            config["steps"] = ARGS.steps
        runs[method] = show(run_config(config, ARGS.db), ARGS.db)

    t = teacher["summary"]
    lines = [
        "# Char-level GPT distillation on the default corpus",
        "",
        "Regenerate with `scripts/lm_results.py` (after `scripts/setup.sh`); it runs",
        "`distillery-cli run --default-lm` and then the same student config with each",
        "language-model method from that run's teacher. Figures from one run each",
        "(seed 0) on %s, %d threads; wall times vary with the machine's load." % (platform.machine(), os.cpu_count()),
        "",
        "Teacher: run #%d, %s, %d parameters, %d steps (batch %d x %d tokens): validation "
        "loss %.3f nats/char, perplexity %.2f, in %.0f s (%.0f tokens/s)." % (
            teacher_id, t["model"], t["params"], t["steps"], teacher["config"]["batch_size"],
            teacher["config"]["student"]["context"], t["final_val_loss"], t["final_val_perplexity"],
            t["wall_s"], t["tokens_per_s"]),
        "Corpus: `%s` (%s, %d train tokens, vocabulary %d)." % (
            t["dataset_path"], t["tokenizer"], t["train_tokens"], t["vocab_size"]),
        "",
        "Student: %s, %d parameters (%.1fx smaller), %d steps each." % (
            default["summary"]["model"], default["summary"]["params"], default["summary"]["compression"],
            default["summary"]["steps"]),
        "",
        "| method | teacher access | val perplexity | val loss | top-1 agreement (start → end) | KL(t‖s) /token | teacher tokens queried | tokens/s | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for method in METHODS:
        s = runs[method]["summary"]
        lines.append("| `%s` | %s | %.2f | %.3f | %.1f%% → %.1f%% | %.3f | %.3g | %.0f | %.0f |" % (
            method, s["teacher_access"], s["final_val_perplexity"], s["final_val_loss"],
            100 * s["initial_val_agreement"], 100 * s["val_agreement"], s["val_kl"], s["teacher_queries"],
            s["tokens_per_s"], s["wall_s"]))
    lines += [
        "",
        "Teacher's validation perplexity on the same windows: %.2f. `none` is the student trained on the"
        " corpus alone (the teacher only measured). Total time for the table: %.0f s." % (
            default["summary"]["teacher_val_perplexity"], time.time() - started),
        "",
        "Command:",
        "",
        "```sh",
        "scripts/lm_results.py" + ("" if ARGS.cli == DEFAULT_CLI else " --cli %s" % ARGS.cli),
        "```",
        "",
    ]
    with open(ARGS.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    DEFAULT_CLI = os.path.join(root, "build", "app", "distillery-cli")
    parser.add_argument("--cli", default=DEFAULT_CLI)
    parser.add_argument("--db", default="/tmp/distillery-char-lm.sqlite")
    parser.add_argument("--out", default=os.path.join(root, "docs", "results", "char-lm.md"))
    parser.add_argument("--steps", type=int, default=0, help="student steps (default: the default config's)")
    ARGS = parser.parse_args()
    sys.exit(main())
