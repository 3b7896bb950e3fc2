#!/usr/bin/python3
"""Issue 18, part 5: docs/results/forensics.md, from one script.

The page has three sections, each written by its part to its own file under
docs/results/forensics/ (Markdown and JSON), and forensics.md is a short
header and the three sections joined:

  roc        (this script) is a suspect a copy of the teacher? The ROC of the
             classifier tests (agreement, SAC-m, fingerprints) on Fashion-MNIST:
             a teacher; independent models over several seeds and architectures,
             split into a null and held-out negatives; positives = students of the
             teacher by every distillation method and API clones under each
             defense; then `distillery-cli forensics-roc`.
  watermark  scripts/watermark_results.py: LM watermark radioactivity.
  haystack   scripts/haystack_results.py: which API user is the distiller.

    /usr/bin/python3 scripts/forensics_results.py [--parts roc,watermark,haystack]
        [--cli build/app/distillery-cli] [--work /tmp/distillery-forensics] [--keep] [--page-only] [--quick]

--keep reuses the work folder's trained runs (by name; the training wall time
stays that of the invocation that trained them); --page-only rebuilds roc.md
from the saved roc.json (and docs/results/forensics/roc-notes.md, the reading
written by hand after a run) and reassembles the page, running nothing.
Every run uses one thread (OMP_NUM_THREADS=1, threads 1), two at a time.
Needs python3-numpy (the other parts also python3-torch and python3-pil).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from experiment_support import Server, run  # noqa: E402
from api_defenses_results import DEFENSES  # noqa: E402  the defenses issue 17's page measures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST = "/usr/share/datasets/fashion-mnist"
KEY = "forensics-attacker-0123456789"
SECTIONS = [("roc", "roc.md"), ("watermark", "watermark.md"), ("haystack", "haystack.md")]

# The task: a subset of Fashion-MNIST so that each run takes seconds.
DATA = {"dataset": "fashion-mnist", "path": FMNIST, "train_limit": 6000, "val_size": 500, "test_limit": 1000}
TEACHER_SEED = 1000  # no independent model shares it
TEACHER = {"zoo": "cnn", "channels": [16, 32], "fc": 128}
# Independent architectures: the teacher's own (other seeds), a narrower cnn, two mlps.
ARCHS = [("cnn[16,32]fc128", TEACHER),
         ("cnn[8,16]fc64", {"zoo": "cnn", "channels": [8, 16], "fc": 64}),
         ("mlp[256]", {"zoo": "mlp", "hidden": [256]}),
         ("mlp[128,64]", {"zoo": "mlp", "hidden": [128, 64]})]
STUDENTS = [("cnn[8,16]fc64", ARCHS[1][1]), ("mlp[256]", ARCHS[2][1]), ("cnn[16,32]fc128", TEACHER)]
# Every image distillation method of `distillery-cli methods` except `none`, with
# the parameters of docs/results/fashion-mnist-sweep.json.
METHODS = [{"name": "kd", "temperature": 4.0, "alpha": 0.9},
           {"name": "dkd", "alpha": 1.0, "beta": 8.0, "temperature": 4.0, "warmup": 1},
           {"name": "dist", "beta": 1.0, "gamma": 1.0, "tau": 1.0},
           {"name": "logit_mse", "alpha": 0.9},
           {"name": "hard_label"},
           {"name": "topk_probs", "k": 3, "tail": 1, "alpha": 0.9},
           {"name": "fitnets", "beta": 100.0},
           {"name": "at", "beta": 1000.0},
           {"name": "rkd"},
           {"name": "crd", "k": 2048}]
FEATURE_METHODS = {"fitnets", "at", "rkd", "crd"}


class Runs:
    """Trains runs two at a time, one thread each, remembering name -> id in
    the work folder so that --keep skips what is done."""

    def __init__(self, cli, work, db, env, keep):
        self.cli, self.work, self.db, self.env = cli, work, db, env
        self.index_path = os.path.join(work, "runs.json")
        self.ids = json.load(open(self.index_path)) if keep and os.path.exists(self.index_path) else {}
        self.lock = threading.Lock()
        self.trained = 0  # runs trained by this invocation (--keep reuses the others)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def train(self, cfg):
        name = cfg["name"]
        with self.lock:
            if name in self.ids:
                return self.ids[name]
        path = os.path.join(self.work, "configs", name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        json.dump(cfg, open(path, "w"), indent=1)
        t0 = time.time()
        out = run([self.cli, "run", path, "--db", self.db], self.env).stdout
        rid = int(re.search(r"run_id=(\d+)", out).group(1))
        acc = re.findall(r"test_accuracy=([0-9.]+)", out)  # a distill run prints its teacher's first
        print("  %-40s run %4d  %5.1f s  test acc %s" % (name, rid, time.time() - t0, acc[-1] if acc else "?"),
              flush=True)
        with self.lock:
            self.trained += 1
            self.ids[name] = rid
            json.dump(self.ids, open(self.index_path, "w"), indent=1)
        return rid

    def submit(self, cfg):
        return self.pool.submit(self.train, cfg)


def base_cfg(name, seed, epochs):
    return {"name": name, "data": DATA, "optim": {"name": "adam", "lr": 0.002, "schedule": "cosine"},
            "batch_size": 64, "epochs": epochs, "seed": seed, "device": "cpu", "threads": 1, "evals_per_epoch": 1}


def roc_part(args, out_dir):
    started = time.time()
    work = os.path.join(args.work, "roc")  # this part's store, configs, caches and server logs
    if os.path.exists(work) and not args.keep:
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "runs.sqlite")
    env = dict(os.environ, OMP_NUM_THREADS="1", DISTILLERY_API_KEY=KEY)
    runs = Runs(args.cli, work, db, env, args.keep)
    seeds = list(range(1, 7 if args.quick else 11))  # per architecture: half null, half held-out
    per_method = 2 if args.quick else 3
    defenses = [DEFENSES[0], DEFENSES[3], DEFENSES[5]] if args.quick else DEFENSES
    epochs = 3

    teacher_cfg = dict(base_cfg("teacher", TEACHER_SEED, 4), task="train", model=TEACHER)
    teacher_f = runs.submit(teacher_cfg)
    independent = {}  # (arch, seed) -> future
    for seed in seeds:
        for label, spec in ARCHS:
            cfg = dict(base_cfg("independent-%s-s%d" % (label, seed), seed, epochs), task="train", model=spec)
            independent[(label, seed)] = runs.submit(cfg)
    teacher = teacher_f.result()
    print("teacher run %d (%.0f s)" % (teacher, time.time() - started), flush=True)

    # Students by method: each method on per_method (student, seed) pairs; attention
    # transfer needs spatial maps, so its students are cnns only.
    students = {}
    for m in METHODS:
        pool = [s for s in STUDENTS if s[1]["zoo"] == "cnn"] if m["name"] == "at" else STUDENTS
        futures = []
        for i in range(per_method):
            label, spec = pool[i % len(pool)]
            seed = 1 + i
            cfg = dict(base_cfg("student-%s-%s-s%d" % (m["name"], label, seed), seed, epochs), task="distill",
                       teacher={"run": teacher}, student=spec, method=m)
            futures.append(runs.submit(cfg))
        students[m["name"]] = futures

    # The fingerprints' conferrability filter (Lukas et al.): examples that students of the
    # teacher follow and independent models mostly do not. Models of their own, in neither
    # the null, the negatives nor the positives.
    # The same models are the surrogates that conferrable crafting optimises over.
    followers = [runs.submit(dict(base_cfg("filter-student-%s-%s-s%d" % (m["name"], label, seed), seed, epochs),
                                  task="distill", teacher={"run": teacher}, student=spec, method=m))
                 for m, (label, spec), seed in ((METHODS[0], STUDENTS[0], 201), (METHODS[0], STUDENTS[1], 202),
                                                (METHODS[4], STUDENTS[0], 203), (METHODS[4], STUDENTS[1], 204),
                                                (METHODS[0], STUDENTS[2], 205))]
    refusers = [runs.submit(dict(base_cfg("filter-independent-%s-s%d" % (label, first + i), first + i, epochs),
                                 task="train", model=spec))
                for first in (201, 205) for i, (label, spec) in enumerate(ARCHS)]

    # API clones, one defense at a time: the server and one clone, so two processes.
    # A soft-label attacker (kd on the answers) for every probability mode, hard_label for
    # the label-only API; in-distribution queries (the task's training images).
    budget = 3000 if args.quick else 5000
    clones = {}
    for name, label, output in defenses:
        attacker = {"name": "hard_label", "alpha": 1.0} if output["mode"] == "label" else \
            {"name": "kd", "temperature": 1.0, "alpha": 1.0}
        cfgs = []
        for i in range(per_method if not args.quick else 1):
            slabel, spec = STUDENTS[i % 2]
            seed = 1 + i
            cfgs.append(dict(base_cfg("clone-%s-%s-s%d" % (name, slabel, seed), seed, epochs), task="distill",
                             student=spec, method=attacker, queries={"strategy": "train"}))
        if all(c["name"] in runs.ids for c in cfgs):
            clones[name] = [runs.ids[c["name"]] for c in cfgs]
            continue
        # Wait for the trainings before serving, so no more than two processes run at once.
        for f in [f for fs in students.values() for f in fs] + list(independent.values()) + followers + refusers:
            f.result()
        config = os.path.join(work, "serve-%s.json" % name)
        json.dump({"keys": [{"name": "attacker", "key": KEY, "budget": 10 ** 9, "rate_per_s": 10 ** 6,
                             "burst": 10 ** 6}],
                   "price_per_1000": 1.0, "output": output, "threads": 1,
                   "log": os.path.join(work, "serve-%s.log.sqlite" % name)}, open(config, "w"))
        server = Server(args.cli, db, teacher, config)
        try:
            ids = []
            for c in cfgs:
                c["teacher"] = {"api": {"url": "http://127.0.0.1:%d" % server.port, "max_queries": budget,
                                        "batch": 256, "reference_run": teacher,
                                        "cache_dir": os.path.join(work, "cache")}}
                ids.append(runs.train(c))
            clones[name] = ids
        finally:
            server.stop()
    null, negatives = [], []
    negative_archs = {}
    for (label, seed), f in sorted(independent.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rid = f.result()
        (null if seed <= len(seeds) // 2 else negatives).append(rid)
        negative_archs.setdefault(label, []).append(seed)
    method_ids = {m: [f.result() for f in fs] for m, fs in students.items()}
    follower_ids, refuser_ids = [f.result() for f in followers], [f.result() for f in refusers]
    train_s = time.time() - started
    print("trained %d runs in %.0f s" % (runs.trained, train_s), flush=True)
    # With --keep the training happened in an earlier invocation: its wall time is the page's.
    timing = os.path.join(work, "training-time.json")
    if runs.trained or not os.path.exists(timing):
        json.dump({"train_s": train_s, "trained": runs.trained}, open(timing, "w"))
    else:
        train_s = json.load(open(timing))["train_s"]

    # The harness, through the app's own command: the table per kind, then the same tests
    # on the students and the clones pooled, with the fingerprint filter and with more inputs.
    def harness(inputs, kinds, followers=(), refusers=(), tests=None, crafting=None):
        cmd = [args.cli, "forensics-roc", "--teacher", str(teacher), "--null", ",".join(map(str, null)),
               "--negatives", ",".join(map(str, negatives)), "--inputs", str(inputs), "--seed", "0", "--json",
               "--db", db]
        if tests:
            cmd += ["--tests", tests]
        if crafting:
            cmd += ["--fingerprint-crafting", crafting]
        if followers:
            cmd += ["--confer-with", ",".join(map(str, followers))]
        if refusers:
            cmd += ["--confer-against", ",".join(map(str, refusers))]
        for kind, ids in kinds.items():
            cmd += ["--positives", "%s=%s" % (kind, ",".join(map(str, ids)))]
        t0 = time.time()
        p = run(cmd, env, check=False)
        if p.returncode != 0:  # e.g. the filter keeps no fingerprint: say so on the page
            return {"error": p.stderr.strip(), "command": " ".join(cmd[1:]).replace(db, "runs.sqlite")}
        out = json.loads(p.stdout)
        out["command"] = " ".join(cmd[1:]).replace(db, "runs.sqlite")
        out["seconds"] = time.time() - t0
        return out

    kinds = dict(method_ids)
    kinds.update({"api:" + n: ids for n, ids in clones.items()})
    t0 = time.time()
    # A suspect that can only be asked through a label-only API (its owner serves it so):
    # the kd students, each behind a label-mode server of its own. SAC-m needs probabilities.
    servers = []
    try:
        for i, rid in enumerate(method_ids["kd"]):
            config = os.path.join(work, "serve-suspect-%d.json" % i)
            json.dump({"keys": [{"name": "investigator", "key": KEY, "budget": 10 ** 9, "rate_per_s": 10 ** 6,
                                 "burst": 10 ** 6}], "output": {"mode": "label"}, "threads": 1,
                       "log": os.path.join(work, "serve-suspect-%d.log.sqlite" % i)}, open(config, "w"))
            servers.append(Server(args.cli, db, rid, config))
        kinds["suspect:label-api"] = ["http://127.0.0.1:%d" % srv.port for srv in servers]
        main_table = harness(100, kinds)
        # The fingerprints crafted for conferrability on the surrogates (the filter's models),
        # per kind too: its rows join the table as the test "conferrable".
        conferrable_table = harness(100, kinds, follower_ids, refuser_ids, "fingerprint", "conferrable")
    finally:
        for srv in servers:
            srv.stop()
    for table in (main_table, conferrable_table):
        if "error" in table:
            sys.exit("forensics-roc failed: %s\n%s" % (table["command"], table["error"]))
    main_table["rows"] += [dict(r, test="conferrable") for r in conferrable_table["rows"]]
    main_table["conferrable_command"] = conferrable_table["command"]
    pooled = {"students": [i for ids in method_ids.values() for i in ids],
              "api-probabilities": [i for n, ids in clones.items() if n != "label" for i in ids],
              "api-label-only": clones.get("label", [])}
    pooled = {k: v for k, v in pooled.items() if v}
    surrogates = "%d surrogate students, %d references" % (len(follower_ids), len(refuser_ids))
    variants = [("100 inputs", harness(100, pooled)),
                ("100 inputs, teacher crafting, filter: 1 follower, %d refusers" % len(refuser_ids),
                 harness(100, pooled, follower_ids[:1], refuser_ids, "fingerprint")),
                ("100 inputs, conferrable crafting: " + surrogates,
                 harness(100, pooled, follower_ids, refuser_ids, "fingerprint", "conferrable")),
                ("400 inputs", harness(400, pooled)),
                ("400 inputs, conferrable crafting: " + surrogates,
                 harness(400, pooled, follower_ids, refuser_ids, "fingerprint", "conferrable"))]
    harness_s = time.time() - t0
    wall = train_s + harness_s

    # What each model is, for the page: accuracy and agreement with the teacher (one listing).
    listed = {r["id"]: r for r in json.loads(run([args.cli, "runs", "--json", "--db", db], env).stdout)}
    show = {rid: {"name": r.get("name"), "summary": r.get("summary") or {}} for rid, r in listed.items()}
    saved = {"teacher": teacher, "null": null, "negatives": negatives, "archs": [a[0] for a in ARCHS],
             "seeds": seeds, "methods": method_ids, "clones": clones, "label_api_suspects": method_ids["kd"], "followers": follower_ids, "refusers": refuser_ids,
             "defenses": [[n, l, o] for n, l, o in defenses], "budget": budget, "data": DATA,
             "harness": main_table, "variants": variants, "command": main_table["command"],
             "train_s": train_s, "harness_s": harness_s, "wall_s": wall, "quick": args.quick,
             "date": time.strftime("%Y-%m-%d"),
             "models": {str(k): {"name": v["name"], "test_accuracy": v["summary"].get("test_accuracy"),
                                 "test_agreement": v["summary"].get("test_agreement")} for k, v in show.items()}}
    json.dump(saved, open(os.path.join(out_dir, "roc.json"), "w"), indent=1)
    print("roc part: %.0f s (training %.0f s, harness %.0f s)" % (wall, train_s, harness_s), flush=True)


# The tests in the tables' order, and how a row names each: "conferrable" is the
# fingerprint test with --fingerprint-crafting conferrable.
TESTS = ("agreement", "sac", "fingerprint", "conferrable")
TEST_NAMES = {"fingerprint": "fingerprint", "conferrable": "fingerprint, conferrable"}


def fmt(v, d=3):
    return "-" if v is None else ("%." + str(d) + "f") % v


def median_queries(row):
    q = row["queries_for_decision"]
    if not q:
        return "-"
    ranked = sorted(x if x > 0 else float("inf") for x in q)
    m = ranked[len(ranked) // 2]  # the upper median: more than half are decided by then
    return "never" if m == float("inf") else str(int(m))


def write_roc(out_dir):
    s = json.load(open(os.path.join(out_dir, "roc.json")))
    h = s["harness"]
    rows = {(r["test"], r["kind"]): r for r in h["rows"]}
    tests = [t for t in TESTS if any(k[0] == t for k in rows)]
    models = s["models"]
    labels = {n: l for n, l, _ in s["defenses"]}

    def acc(ids, key="test_accuracy"):
        v = [models[str(i)][key] for i in ids if models[str(i)].get(key) is not None]
        return "%.1f" % (100 * statistics.mean(v)) if v else "-"

    def cell(r):
        if r is None:
            return "-"
        if r["positives"] == 0:
            return "skipped (%d label-only)" % r["skipped"]
        decided = sum(1 for q in r["queries_for_decision"] if q > 0)
        return "%s / %s / %s (%d of %d)" % (fmt(r["auc"], 2), fmt(r["tpr_at_1pct_fpr"], 2), median_queries(r),
                                            decided, len(r["queries_for_decision"]))

    inputs = h["options"].get("inputs")
    null_n, neg_n = len(s["null"]), len(s["negatives"])
    teacher_m = models[str(s["teacher"])]
    lines = ["## Was this model distilled from ours? The classifier tests' ROC", "",
             "Written by `scripts/forensics_results.py --parts roc%s` on %s: every model below is a "
             "`distillery-cli run`, the clones distil through `distillery-cli serve`, and the table is "
             "`distillery-cli forensics-roc` (`core/forensics/detection_harness.h`). Raw output: "
             "[`roc.json`](roc.json)." % (" --quick" if s.get("quick") else "", s["date"]), "",
             "- **Task:** Fashion-MNIST, the first %d training images (%d for validation), %d test images." %
             (s["data"]["train_limit"], s["data"]["val_size"], s["data"]["test_limit"]),
             "- **Teacher:** run %d, cnn [16, 32] fc 128, seed %d, 4 epochs: test accuracy %s%%." %
             (s["teacher"], TEACHER_SEED, fmt(100 * teacher_m["test_accuracy"] if teacher_m["test_accuracy"] else None, 1)),
             "- **Negatives (independent models, no teacher):** %d runs = %d architectures (%s) x seeds %d-%d, 3 "
             "epochs each, on the teacher's data. The **null** the p-values rank against is seeds %d-%d (%d models); "
             "the **held-out negatives** that the false-positive rate is measured on are seeds %d-%d (%d models). "
             "Mean test accuracy %s%%." %
             (null_n + neg_n, len(s["archs"]), ", ".join(s["archs"]), s["seeds"][0], s["seeds"][-1],
              s["seeds"][0], s["seeds"][len(s["seeds"]) // 2 - 1], null_n, s["seeds"][len(s["seeds"]) // 2],
              s["seeds"][-1], neg_n, acc(s["null"] + s["negatives"])),
             "- **Positives by method:** students of the teacher by each method of `distillery-cli methods` "
             "(parameters of the Fashion-MNIST sweep), %d each, 3 epochs, students cnn [8, 16] fc 64, mlp [256] "
             "and cnn [16, 32] fc 128 (the teacher's architecture) in turn (`at`: the two cnns)." %
             len(next(iter(s["methods"].values()))),
             "- **Positives by API:** clones distilled through the served teacher under each output mode and defense "
             "of `docs/results/api-defenses.md`: %d queries of the task's training images, `kd` (T = 1) on the "
             "answers, or `hard_label` for the label-only API; students cnn [8, 16] fc 64 and mlp [256]." % s["budget"],
             ] + (["- **A suspect behind a label-only API:** the `kd` students (runs %s), each served by "
                   "`distillery-cli serve` in label mode and given to `forensics-roc` as a URL: the last column of "
                   "the second table." % ", ".join(map(str, s["label_api_suspects"]))]
                  if s.get("label_api_suspects") else []) + [
             "- **Tests:** %d inputs per test and model (agreement: natural test images; SAC-m: CutMix pairs of test "
             "images; fingerprint: targeted PGD examples crafted on the teacher, each stopping once the teacher "
             "follows; *fingerprint, conferrable*: `--fingerprint-crafting conferrable`, every PGD step on the "
             "teacher and %d surrogate students pulled towards the target and %d surrogate independent references "
             "pushed away from it, then the examples the teacher follows, most conferrable first); seed 0. The "
             "surrogates are models of their own, in neither the null, the negatives nor the positives: students "
             "of the teacher (`kd` and `hard_label`, seeds 201-205) and independent models (every architecture, "
             "seeds 201-208). A test's statistic is oriented so that higher means closer to the teacher." %
             (inputs, len(s.get("followers", [])), len(s.get("refusers", []))),
             "", "Each cell: **AUC / TPR at 1%% FPR / median queries for a decision (positives decided)**. AUC and "
             "TPR over the %d positives of the column against the %d held-out negatives; TPR at 1%% FPR with %d "
             "negatives means above every negative. Queries: the smallest prefix of the probe (%s) at which the "
             "positive's p-value against the %d-model null reaches its floor 1/%d = %.3f, the upper median over "
             "the column's positives (by then more than half are decided); \"never\" when half or more do not get "
             "there within %d." %
             (len(next(iter(s["methods"].values()))), neg_n, neg_n, ", ".join(map(str, h["ladder"])), null_n,
              null_n + 1, 1.0 / (null_n + 1), inputs), ""]
    method_kinds = list(s["methods"].keys())
    api_kinds = ["api:" + n for n in s["clones"].keys()]
    if any(k == "suspect:label-api" for _, k in rows):
        api_kinds.append("suspect:label-api")
    api_names = {"api:" + n: labels.get(n, n) for n in s["clones"]}
    api_names["suspect:label-api"] = "*`kd` students asked through a label-only API*"
    for title, kinds, names in (("Students by method", method_kinds, {k: "`%s`" % k for k in method_kinds}),
                                ("API clones by defense", api_kinds, api_names)):
        lines += ["### %s" % title, "",
                  "| test | " + " | ".join(names[k] for k in kinds) + " |",
                  "| --- | " + " | ".join("---" for _ in kinds) + " |"]
        for t in tests:
            lines.append("| %s | %s |" % (TEST_NAMES.get(t, t), " | ".join(cell(rows.get((t, k))) for k in kinds)))
        ids_of = dict(s["methods"]) if title.startswith("Students") else {"api:" + n: v for n, v in s["clones"].items()}
        ids_of["suspect:label-api"] = s.get("label_api_suspects", [])
        lines.append("| *test acc / agreement, %%* | %s |" % " | ".join(
            "%s / %s" % (acc(ids_of[k]), acc(ids_of[k], "test_agreement")) for k in kinds))
        lines.append("")
    # The pooled variants: the fingerprint filter and more inputs.
    pooled_names = {"students": "all students", "api-probabilities": "API clones, probability modes",
                    "api-label-only": "API clones, label only"}
    lines += ["### Pooled, with the fingerprint filter, conferrable crafting and more inputs", "",
              "The same negatives and null; positives pooled (every student by method; the API clones of every "
              "probability-mode defense; the label-only API's clones). The filter (`--confer-with`, "
              "`--confer-against` with the default teacher crafting) keeps the fingerprints that the first "
              "surrogate student (`kd`, seed 201) follows and at most half of the %d surrogate references follow; "
              "conferrable crafting (`--fingerprint-crafting conferrable`) optimises over all the surrogates "
              "instead. Cells as above." % len(s.get("refusers", [])), ""]
    pooled_kinds = []
    for _, v in s.get("variants", []):
        for r in v.get("rows", []):
            if r["kind"] not in pooled_kinds:
                pooled_kinds.append(r["kind"])
    lines += ["| variant | test | inputs | " + " | ".join(pooled_names.get(k, k) for k in pooled_kinds) + " |",
              "| --- | --- | ---: | " + " | ".join("---" for _ in pooled_kinds) + " |"]
    for title, v in s.get("variants", []):
        if "error" in v:
            lines.append("| %s | all | | refused: %s |" % (title, v["error"].replace("|", "/").replace("\n", " ")))
            continue
        vrows = {(r["test"], r["kind"]): r for r in v["rows"]}
        for t in tests:
            if not any(r["test"] == t for r in v["rows"]):
                continue  # a variant of the fingerprints alone
            n = next((r["inputs"] for r in v["rows"] if r["test"] == t), "")
            lines.append("| %s | %s | %s | %s |" % (title, TEST_NAMES.get(t, t), n,
                                                    " | ".join(cell(vrows.get((t, k))) for k in pooled_kinds)))
    lines.append("")
    lines += reading(s, rows, tests, method_kinds, api_kinds, labels)
    notes = os.path.join(out_dir, "roc-notes.md")
    if os.path.exists(notes):  # what we read in the figures, written by hand after a run
        lines += [""] + open(notes).read().strip("\n").splitlines()
    lines += ["", "```sh", "/usr/bin/python3 scripts/forensics_results.py --parts roc",
              "distillery-cli " + s["command"]] + \
             (["distillery-cli " + h["conferrable_command"]] if h.get("conferrable_command") else []) + ["```", "",
              "Wall time %.0f min on this machine's 2 cores (two runs at a time, one thread each): %.0f min training "
              "%d runs, %.0f s for the harness." % (s["wall_s"] / 60, s["train_s"] / 60, len(models), s["harness_s"]),
              ""]
    open(os.path.join(out_dir, "roc.md"), "w").write("\n".join(lines))
    print("wrote %s" % os.path.join(out_dir, "roc.md"))


def reading(s, rows, tests, method_kinds, api_kinds, labels):
    """Where each test holds and where it fails, from the figures."""
    out = ["**Reading.**"]
    for t in tests:
        good = [k for k in method_kinds + api_kinds if rows.get((t, k)) and rows[(t, k)]["positives"] > 0
                and rows[(t, k)]["auc"] >= 0.99]
        weak = [k for k in method_kinds + api_kinds if rows.get((t, k)) and rows[(t, k)]["positives"] > 0
                and rows[(t, k)]["auc"] < 0.99]
        skipped = [k for k in method_kinds + api_kinds if rows.get((t, k)) and rows[(t, k)]["positives"] == 0]
        def name(k):
            if k == "suspect:label-api":
                return "`kd` students asked through a label-only API"
            return labels.get(k[4:], k[4:]) + " (API clone)" if k.startswith("api:") else "`%s`" % k
        text = "- **%s**: AUC >= 0.99 for %d of %d kinds" % (TEST_NAMES.get(t, t), len(good), len(good) + len(weak))
        if weak:
            text += "; below for %s" % ", ".join("%s (%s)" % (name(k), fmt(rows[(t, k)]["auc"], 2)) for k in weak)
        if skipped:
            text += "; skipped for %s: it needs probabilities and the API answers labels only" % \
                    ", ".join(name(k) for k in skipped)
        out.append(text + ".")
    return out


def assemble(out_dir, page):
    parts = []
    for name, f in SECTIONS:
        path = os.path.join(out_dir, f)
        if os.path.exists(path):
            parts.append(open(path).read().strip("\n"))
        else:
            parts.append("## (%s: not generated yet; run `scripts/forensics_results.py --parts %s`)" % (name, name))
    header = ["# Forensics (issue 18)", "",
              "Made by `/usr/bin/python3 scripts/forensics_results.py` (`--parts roc,watermark,haystack`; "
              "`--page-only` only joins the sections). Each section is written by its part to "
              "`docs/results/forensics/` (the ROC and the haystack with their raw JSON): the classifier tests' ROC "
              "([roc.md](forensics/roc.md), this script), watermark radioactivity of language models "
              "([watermark.md](forensics/watermark.md), `scripts/watermark_results.py`) and the haystack "
              "([haystack.md](forensics/haystack.md), `scripts/haystack_results.py`).", ""]
    # The sections link relative to docs/results/forensics/; the joined page sits one folder up.
    def relink(m):
        target = m.group(1)
        return "](%s)" % (target[3:] if target.startswith("../") else "forensics/" + target)
    body = re.sub(r"\]\((?!https?:|#|/)([^)]+)\)", relink, "\n\n".join(parts))
    text = "\n".join(header) + "\n" + body + "\n"
    open(page, "w").write(text)
    print("wrote %s" % page)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/app/distillery-cli"))
    ap.add_argument("--work", default="/tmp/distillery-forensics")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/results"))
    ap.add_argument("--parts", default="roc,watermark,haystack")
    ap.add_argument("--keep", action="store_true", help="reuse the work folder's trained runs")
    ap.add_argument("--page-only", action="store_true", help="rebuild roc.md from roc.json and join the page")
    ap.add_argument("--quick", action="store_true", help="a smoke run of the roc part: fewer models")
    args = ap.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = [p for p in parts if p not in dict(SECTIONS)]
    if unknown:
        sys.exit("--parts: expected roc, watermark or haystack, not %s" % ", ".join(unknown))
    out_dir = os.path.join(args.out, "forensics")
    os.makedirs(out_dir, exist_ok=True)
    # The other parts' runs use one thread too (OMP_NUM_THREADS=1): two cores, shared.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if not args.page_only:
        for p in parts:
            t0 = time.time()
            if p == "roc":
                roc_part(args, out_dir)
            elif p == "watermark":
                subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts/watermark_results.py"),
                                "--cli", args.cli, "--db", os.path.join(args.work, "watermark.sqlite")], check=True, env=env)
            elif p == "haystack":
                subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts/haystack_results.py"),
                                "--cli", args.cli, "--work", os.path.join(args.work, "haystack"), "--out", args.out],
                               check=True, env=env)
            print("part %s: %.0f s" % (p, time.time() - t0), flush=True)
    if os.path.exists(os.path.join(out_dir, "roc.json")):
        write_roc(out_dir)
    assemble(out_dir, os.path.join(args.out, "forensics.md"))


if __name__ == "__main__":
    main()
