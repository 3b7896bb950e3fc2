#!/usr/bin/python3
"""Regenerates docs/results/forensics/watermark.md: watermark radioactivity of
char-level GPT students (issue 18, part 2; Sander et al., NeurIPS 2024).

A small char-level GPT teacher is trained on the default corpus (method
"none"); seq_kd students then learn from its sampled text, of which a share
0, 1, 5, 20 or 100% was written with a green-list watermark (Kirchenbauer et
al. 2023; teacher.watermark in the run config). distillery-cli watermark-test
then asks each student, knowing only the key: its sampled text (text mode) and
its top-1 predictions on the corpus's whole held-out split (open weights), each with
(window, token) deduplication and an exact binomial test; and, with open
weights, its probability mass on each distinct window's green list minus the
teacher's own (clean) probabilities, a z test with the exact null mean and
variance (--statistic mass --reference TEACHER). Calibration: the per-sample
p-values of clean models (the teacher, the 0% student) and of clean text (a
fortunes file) under a KS test against U(0, 1).

    scripts/watermark_results.py [--cli build/app/distillery-cli] [--db /tmp/distillery-watermark.sqlite]
                                 [--out docs/results/forensics/watermark.md] [--detect-only]
                                 [--long 5:2400,5:4800,20:4800,5:9600] [--jobs 2]

Only the standard library is used; the runs go through distillery-cli.
"""
import argparse
import concurrent.futures
import json
import os
import platform
import subprocess
import sys
import time

FRACTIONS = [0.0, 0.01, 0.05, 0.2, 1.0]
WATERMARK = {"key": 42, "gamma": 0.25, "delta": 2.0, "context": 3}
CORPUS = "/usr/share/games/fortunes"
CLEAN_TEXT = "/usr/share/games/fortunes/fortunes"


def cli(args, capture=True):
    cmd = [ARGS.cli] + args + ["--db", ARGS.db]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE if capture else None, text=True)
    return out.stdout


def run_config(config):
    path = "%s.%s.json" % (ARGS.db, config["name"])  # one file per run: runs may train side by side
    with open(path, "w") as f:
        json.dump(config, f)
    out = cli(["run", path])
    return int(next(l for l in out.splitlines() if l.startswith("run_id=")).split("=")[1])


def show(run_id):
    return json.loads(cli(["show", str(run_id), "--json"]))


def test(run_id, *extra, key=None):
    w = WATERMARK
    args = ["watermark-test", "--suspect", str(run_id), "--key", str(w["key"] if key is None else key),
            "--gamma", str(w["gamma"]),
            "--context", str(w["context"]), "--json"] + list(extra)
    return json.loads(cli(args))


def gpt(layers, heads, embed, context):
    return {"zoo": "gpt", "layers": layers, "heads": heads, "embed": embed, "context": context}


def stored_runs():
    # --detect-only: the runs of an earlier invocation, by name.
    runs = json.loads(cli(["runs", "--json"]))
    return {r["name"]: r["id"] for r in runs if r.get("status") == "finished"}


def main():
    if os.path.exists(ARGS.db) and not ARGS.detect_only:
        os.remove(ARGS.db)
    started = time.time()
    stored = stored_runs() if ARGS.detect_only else {}
    optim = {"name": "adam", "lr": 0.003, "schedule": "cosine"}
    common = {"task": "lm", "corpus": {"path": CORPUS, "tokenizer": "char", "val_fraction": 0.1},
              "batch_size": 32, "optim": optim, "eval_every": 100, "eval_tokens": 4096, "seed": 0,
              "device": "cpu", "threads": 1,
              # The last weights: keeping the lowest clean validation loss would keep the
              # student that learned least from the teacher's (watermarked) text.
              "select_best": False}
    teacher_config = dict(common, name="wm-teacher", student=gpt(2, 4, 96, 32), method={"name": "none"},
                          steps=ARGS.teacher_steps)
    t0 = time.time()
    teacher_id = stored["wm-teacher"] if ARGS.detect_only else run_config(teacher_config)
    teacher = show(teacher_id)
    teacher_s = teacher["summary"]["wall_s"] if ARGS.detect_only else time.time() - t0

    students = []
    # The shares at the students' steps, then the longer-trained ones (--long).
    plan = [(f, ARGS.student_steps, "wm-student-%g" % (100 * f)) for f in FRACTIONS]
    plan += [(f / 100.0, steps, "wm-student-%g-s%d" % (f, steps)) for f, steps in ARGS.long]
    configs = [dict(common, name=name, student=gpt(2, 2, 64, 32),
                    teacher={"run": teacher_id, "watermark": dict(WATERMARK, fraction=f)},
                    method={"name": "seq_kd"}, steps=steps) for f, steps, name in plan]

    def train(config):
        t0 = time.time()
        sid = run_config(config)
        return sid, time.time() - t0

    trained = {}
    if not ARGS.detect_only:
        # --jobs runs side by side (one thread each), the longest first.
        with concurrent.futures.ThreadPoolExecutor(max_workers=ARGS.jobs) as pool:
            futures = {c["name"]: pool.submit(train, c) for c in sorted(configs, key=lambda c: -c["steps"])}
            trained = {name: f.result() for name, f in futures.items()}
    for (f, steps, name), config in zip(plan, configs):
        sid, run_s = trained[name] if name in trained else (stored[name], show(stored[name])["summary"]["wall_s"])
        t0 = time.time()
        text = test(sid, "--samples", str(ARGS.samples), "--length", "256")
        # Open weights read the whole held-out split once (its size is the corpus's).
        open_weights = test(sid, "--reading", "heldout", "--length", "256", "--open-weights")
        mass = test(sid, "--reading", "heldout", "--length", "256", "--open-weights", "--statistic", "mass",
                    "--reference", str(teacher_id))
        students.append({"fraction": f, "steps": steps, "id": sid, "run": show(sid), "run_s": run_s, "text": text,
                         "open": open_weights, "mass": mass, "test_s": time.time() - t0})

    # Calibration: clean models and clean text.
    clean = [("teacher (clean model), text mode", test(teacher_id, "--samples", str(ARGS.samples), "--length", "256")),
             ("teacher (clean model), open weights",
              test(teacher_id, "--reading", "heldout", "--length", "256", "--open-weights")),
             ("teacher (clean model), open weights, green mass (no reference)",
              test(teacher_id, "--reading", "heldout", "--length", "256", "--open-weights",
                   "--statistic", "mass")),
             ("0% student, text mode", students[0]["text"]),
             ("0% student, open weights", students[0]["open"]),
             ("0% student, open weights, green mass minus the teacher's", students[0]["mass"]),
             ("0% student, open weights, green mass (no reference)",
              test(students[0]["id"], "--reading", "heldout", "--length", "256", "--open-weights",
                   "--statistic", "mass")),
             ("clean text: `%s`" % CLEAN_TEXT, test(teacher_id, "--text", CLEAN_TEXT, "--length", "256"))]
    # Watermarked students under a key they never saw: their green preference is
    # key 42's, so under key 43 they are clean models. The most watermarked one,
    # and the longest-trained at the smallest share the page flags.
    strongest = max(students, key=lambda s: (s["fraction"], s["steps"]))
    longest = max(students, key=lambda s: (s["steps"], -s["fraction"]))
    for m in [strongest] + ([longest] if longest is not strongest else []):
        clean.append(("%g%% student (%d steps), green mass minus the teacher's, wrong key %d" % (
            100 * m["fraction"], m["steps"], WATERMARK["key"] + 1),
            test(m["id"], "--reading", "heldout", "--length", "256", "--open-weights",
                 "--statistic", "mass", "--reference", str(teacher_id), key=WATERMARK["key"] + 1)))
    total = time.time() - started

    w = WATERMARK
    t = teacher["summary"]
    s0 = students[0]["run"]["summary"]
    lines = [
        "## Language models: watermark radioactivity",
        "",
        "Regenerate with `scripts/watermark_results.py` (after `scripts/setup.sh` and a build). Issue 18, part 2:",
        "a char-level GPT teacher samples its seq_kd training text with a green-list watermark (Kirchenbauer",
        "et al., ICML 2023; `teacher.watermark` in the run config) for a share of its sequences; the",
        "detector of Sander et al. (NeurIPS 2024) then tests each student knowing only the key",
        "(`distillery-cli watermark-test`). One run each (seed 0) on %s, %d cores, one thread per run." % (
            platform.machine(), os.cpu_count()),
        "",
        "Watermark: key 42 (fingerprint `%s` in the students' summaries), gamma %.2f, delta %.1f, context h = %d"
        " (green lists are seeded by the %d previous characters; the vocabulary has %d symbols, so %d are green)." % (
            students[-1]["run"]["summary"]["watermark"]["key_fingerprint"], w["gamma"], w["delta"], w["context"],
            w["context"], t["vocab_size"], round(w["gamma"] * t["vocab_size"])),
        "Teacher: run #%d, %s, %d parameters, %d steps on the corpus (method `none`): validation perplexity %.2f,"
        " %.0f s." % (teacher_id, t["model"], t["params"], t["steps"], t["final_val_perplexity"], teacher_s),
        "Students: %s, %d parameters, `seq_kd` for %d steps of 32 sequences (8 corpus characters prompt each,"
        " the teacher writes the other 25 at temperature 1), about %d teacher-written characters per student%s." % (
            s0["model"], s0["params"], s0["steps"], s0["steps"] * 32 * 25,
            "" if not ARGS.long else "; the rows with more steps are the same students trained longer (same"
            " cosine schedule over their steps; %s teacher-written characters)" % ", ".join(
                "%d steps: about %d" % (n, n * 32 * 25) for n in sorted({n for _, n in ARGS.long}))),
        "",
        "Detection: text mode samples %d sequences of 256 characters from the student (temperature 1, prompts of"
        " h corpus characters) and counts green characters; open weights (top-1) feeds the whole held-out split of the"
        " corpus once (`--reading heldout`: %d windows of 256 characters, %d characters; a size the corpus fixes, not"
        " one chosen after a result) and counts green top-1 predictions. Each (h-character window, token) pair is"
        " scored once over all samples; p = P(X >= green | scored, %d/%d), exact." % (
            ARGS.samples, students[0]["open"]["tokens"] // 256, students[0]["open"]["tokens"],
            round(w["gamma"] * t["vocab_size"]), t["vocab_size"]),
        "Open weights (green mass) reads the same windows with the student's whole next-token distribution: for"
        " each distinct h-character window c, a_c is the student's probability vector averaged over c's n_c"
        " occurrences minus the teacher's (the clean weights that sampled the text; the watermark is added at"
        " sampling, so they do not depend on the key), T_c its sum over c's green list. Without the watermark"
        " the green list is a uniform k-subset independent of both models, so E[T_c] = (k/V) sum a_c and"
        " Var[T_c] = k(V-k)/(V(V-1)) sum (a_c - mean)^2 exactly; distinct windows have independent lists, and"
        " z = sum sqrt(n_c)(T_c - E T_c) / sqrt(sum n_c Var T_c), p = P(N(0,1) >= z) (`watermark-test"
        " --open-weights --statistic mass --reference TEACHER`). The excess column is sum sqrt(n_c)(T_c - E T_c) /"
        " sum sqrt(n_c): the weighted mean green mass the student puts beyond the teacher and chance, in"
        " percentage points.",
        "",
        "| watermarked share of teacher text | student steps | green share of the watermarked teacher text | student val ppl | text: scored | text: green | text: p-value |"
        " open weights, top-1: green | open weights, top-1: p-value | open weights, green mass: windows | excess green mass | z | open weights, green mass: p-value | flagged (p < 1e-5) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def pv(r):
        return "%.3g" % r["p_value"] if r["p_value"] > 0 else "1e%.0f" % r["log10_p"]

    for s in students:
        x, o, m = s["text"], s["open"], s["mass"]
        flagged = min(x["p_value"], o["p_value"], m["p_value"]) < 1e-5
        share = s["run"]["summary"]["watermark"].get("teacher_green_share")
        lines.append("| %g%% | %d | %s | %.2f | %d | %d (%.1f%%) | %s | %d of %d (%.1f%%) | %s | %d | %+.3f | %.2f | %s | %s |" % (
            100 * s["fraction"], s["steps"], "-" if share is None else "%.1f%%" % (100 * share),
            s["run"]["summary"]["final_val_perplexity"], x["scored"], x["green"],
            100 * x["green_fraction"], pv(x), o["green"], o["scored"], 100 * o["green_fraction"], pv(o),
            m["scored"], 100 * m["excess_mass"], m["z"], pv(m), "yes" if flagged else "no"))
    lines += [
        "",
        "Calibration: each sample's p-value over the (window, token) pairs it adds to those of the samples before",
        "it (disjoint pairs, so independent p-values; a pair such as (\"the\", \" \") in every sample would",
        "otherwise move them all together), from clean models and clean text, tested against U(0, 1) with a",
        "one-sample KS test (exact p-value; uniformity rejected below 0.01). A sample's count gets its p-value",
        "randomized within the observed count, P(X > x) + u P(X = x) with u uniform, which is exactly U(0, 1)",
        "without the watermark (a sample adding a few new pairs would otherwise give a very discrete P(X >= x),",
        "often 1); the pooled p-values stay the exact P(X >= x). The green-mass rows do the same over the distinct",
        "windows each sample holds first (disjoint windows, independent green lists); without a reference the",
        "statistic is the student's own mass, and the teacher against itself would leave nothing to score.",
        "",
        "| clean source | samples | KS D | KS p | uniform (KS p > 0.01) | pooled p-value |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in clean:
        ks = r["sample_ks"]
        lines.append("| %s | %d | %.3f | %.3g | %s | %s |" % (
            name, len(r["sample_p_values"]), ks["statistic"], ks["p_value"], "yes" if ks["p_value"] > 0.01 else "no",
            pv(r)))
    lines += [
        "",
        "Wall time: teacher %.0f s; per student %s s of training and %s s of detection; %.0f s in all." % (
            teacher_s, "/".join("%.0f" % s["run_s"] for s in students),
            "/".join("%.0f" % s["test_s"] for s in students), total),
        "",
        "Command:",
        "",
        "```sh",
        "scripts/watermark_results.py" + ("" if ARGS.cli == DEFAULT_CLI else " --cli %s" % ARGS.cli),
        "```",
        "",
    ]
    os.makedirs(os.path.dirname(ARGS.out), exist_ok=True)
    with open(ARGS.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    DEFAULT_CLI = os.path.join(root, "build", "app", "distillery-cli")
    parser.add_argument("--cli", default=DEFAULT_CLI)
    parser.add_argument("--db", default="/tmp/distillery-watermark.sqlite")
    parser.add_argument("--out", default=os.path.join(root, "docs", "results", "forensics", "watermark.md"))
    parser.add_argument("--teacher-steps", type=int, default=600)
    parser.add_argument("--student-steps", type=int, default=600)
    parser.add_argument("--long", default="5:2400,5:4800,20:4800,5:9600",
                        help="longer-trained students (same model, same schedule), as SHARE_PERCENT:STEPS,... ('' for none)")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained side by side, one thread each")
    parser.add_argument("--detect-only", action="store_true",
                        help="reuse the runs in --db (same names) and only repeat the detection")
    parser.add_argument("--samples", type=int, default=128, help="sequences / windows per detection")
    ARGS = parser.parse_args()
    ARGS.long = [(float(x.split(":")[0]), int(x.split(":")[1])) for x in ARGS.long.split(",") if x.strip()]
    sys.exit(main())
