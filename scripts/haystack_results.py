#!/usr/bin/python3
"""Issue 18, part 3: the haystack. Can the teacher server's request log tell
a distiller from the API's honest users?

One run of the real server (`distillery-cli serve`) with 20 calibration keys
and 50 honest keys, each sending random Fashion-MNIST test images the way a
person might (one at a time, now and then a burst, now and then the same image
again), and extraction keys: four `distillery-cli run`s distilling through the
API with the app's own query strategies (train, transfer, noise, active), and
one client that sends a Jacobian-augmentation-like stream (a few seed images,
then small perturbations of earlier queries). Then `distillery-cli audit-log`:
delta is picked from the calibration keys' lowest W, the 50 honest keys give
the false-positive rate. Writes its section of the forensics page,
docs/results/forensics/haystack.md, and the raw audit as
docs/results/forensics/haystack.json; scripts/forensics_results.py joins the
sections into docs/results/forensics.md.

    /usr/bin/python3 scripts/haystack_results.py [--cli build/app/distillery-cli] [--quick]

Time is compressed: the keys' traffic is interleaved on a simulated clock
(honest: human think times, hours; extraction: as fast as the API allows) and
sent as fast as the server answers. PRADA and the shift score ignore time.
Needs python3-numpy (and python3-torch, python3-pil for the rendered digits).
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from experiment_support import Server, read_idx, rendered_digits, run, write_idx  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST = "/usr/share/datasets/fashion-mnist"
SECTION = "## The haystack"


class Client:
    """One keep-alive HTTP connection, raw uint8 images."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def classify(self, key, images):
        body = json.dumps({"dtype": "uint8", "shape": [len(images), 1, 28, 28],
                           "data": base64.b64encode(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).decode()})
        for attempt in range(3):
            try:
                self.conn.request("POST", "/v1/classify", body, {"Authorization": "Bearer " + key,
                                                                  "Content-Type": "application/json"})
                r = self.conn.getresponse()
                r.read()
                if r.status != 200:
                    sys.exit("classify answered %d for a %d-image batch" % (r.status, len(images)))
                return
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sys.exit("classify: the server stopped answering")


def honest_events(rng, name, test, queries):
    """A person's traffic: sessions at random hours; in a session a few images
    seconds apart, sometimes a burst sent at once; one in ten an image sent
    before (a retry, a re-check)."""
    events, sent, t = [], [], rng.uniform(0, 3600)
    while sum(len(b) for _, _, b in events) < queries:
        t += rng.exponential(1800.0)                       # next session: half an hour later on average
        for _ in range(int(rng.integers(1, 8))):
            t += rng.exponential(20.0)                     # seconds between uploads
            count = int(rng.integers(2, 9)) if rng.random() < 0.1 else 1
            batch = []
            for _ in range(count):
                if sent and rng.random() < 0.1:
                    i = sent[int(rng.integers(0, len(sent)))]
                else:
                    i = int(rng.integers(0, len(test)))
                sent.append(i)
                batch.append(test[i])
            events.append((t, name, np.stack(batch)))
    return events


def jacobian_like(rng, seeds, n, step=6):
    """Seeds, then each query a small signed step away from an earlier one."""
    imgs = [s.astype(np.int16) for s in seeds]
    while len(imgs) < n:
        base = imgs[int(rng.integers(0, len(imgs)))]
        imgs.append(np.clip(base + step * rng.choice([-1, 1], size=base.shape), 0, 255))
    return np.stack(imgs).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/app/distillery-cli"))
    ap.add_argument("--work", default="/tmp/distillery-haystack")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/results"))
    ap.add_argument("--quick", action="store_true", help="a smoke run: fewer keys and queries")
    args = ap.parse_args()
    started = time.time()
    n_calib, n_honest, honest_q, budget = (20, 50, 300, 2000) if not args.quick else (5, 10, 100, 400)
    if os.path.exists(args.work):
        shutil.rmtree(args.work)
    os.makedirs(args.work)
    db = os.path.join(args.work, "runs.sqlite")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    rng = np.random.default_rng(18)

    # The teacher: a small mlp on Fashion-MNIST, one epoch on 10,000 images.
    data = {"dataset": "fashion-mnist", "path": FMNIST, "train_limit": 10000, "val_size": 1000, "test_limit": 2000}
    teacher_cfg = {"name": "haystack-teacher", "task": "train", "data": data, "model": {"zoo": "mlp", "hidden": [128]},
                   "optim": {"name": "adam", "lr": 0.002}, "batch_size": 64, "epochs": 1, "seed": 0, "device": "cpu"}
    path = os.path.join(args.work, "teacher.json")
    json.dump(teacher_cfg, open(path, "w"))
    out = run([args.cli, "run", path, "--db", db], env).stdout
    teacher = int(re.search(r"run_id=(\d+)", out).group(1))
    teacher_acc = float(re.search(r"test_accuracy=([0-9.]+)", out).group(1))
    print("teacher run %d, test accuracy %.4f (%.0f s)" % (teacher, teacher_acc, time.time() - started), flush=True)

    test = read_idx(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"))
    digits = os.path.join(args.work, "rendered-digits")
    fonts = rendered_digits(digits, budget, 200)

    honest = ["honest-%02d" % i for i in range(n_honest)]
    calib = ["calib-%02d" % i for i in range(n_calib)]
    api_runs = [("x-train", "in-distribution: the task's training images (strategy train)", {"strategy": "train"}),
                ("x-transfer", "transfer set: digits rendered from %d fonts (strategy transfer)" % fonts,
                 {"strategy": "transfer", "data": {"dataset": "mnist", "path": digits, "val_size": 0}}),
                ("x-noise", "uniform noise (strategy noise)", {"strategy": "noise"}),
                ("x-active", "active: entropy rounds over the training pool (strategy active)",
                 {"strategy": "active", "rounds": 3})]
    direct = [("x-jacobian", "Jacobian-augmentation-like: 10 test images, then +-6 steps from earlier queries")]
    keys = [{"name": k, "key": k + "-secret", "budget": 10 ** 9, "rate_per_s": 10 ** 6, "burst": 10 ** 6}
            for k in calib + honest + [a[0] for a in api_runs] + [d[0] for d in direct]]
    log = os.path.join(args.work, "requests.sqlite")
    config = os.path.join(args.work, "serve.json")
    json.dump({"keys": keys, "price_per_1000": 1.0, "max_batch": 256, "output": {"mode": "probs"}, "threads": 4,
               "log": log}, open(config, "w"))
    server = Server(args.cli, db, teacher, config)
    t_traffic = time.time()
    try:
        # The distillers, one after another in the background, through the app's own API client.
        api_out = {}

        def distill():
            for name, _, queries in api_runs:
                cfg = {"name": "clone-" + name, "task": "distill", "data": data,
                       "teacher": {"api": {"url": "http://127.0.0.1:%d" % server.port, "max_queries": budget,
                                           "batch": 100, "measure_benign": False,
                                           "cache_dir": os.path.join(args.work, "cache-" + name)}},
                       "queries": queries, "student": {"zoo": "mlp", "hidden": [64]},
                       "method": {"name": "kd", "temperature": 1.0, "alpha": 1.0},
                       "optim": {"name": "adam", "lr": 0.002}, "batch_size": 64, "epochs": 3, "seed": 0,
                       "device": "cpu", "evals_per_epoch": 1}
                p = os.path.join(args.work, "clone-%s.json" % name)
                json.dump(cfg, open(p, "w"))
                r = run([args.cli, "run", p, "--db", db], dict(env, DISTILLERY_API_KEY=name + "-secret"), check=False)
                acc = re.search(r"test_accuracy=([0-9.]+)", r.stdout)
                api_out[name] = {"rc": r.returncode, "test_accuracy": float(acc.group(1)) if acc else None,
                                 "err": r.stderr[-600:] if r.returncode else ""}
                print("%s: distill run rc %d, clone accuracy %s" % (name, r.returncode, api_out[name]["test_accuracy"]),
                      flush=True)

        distiller = threading.Thread(target=distill)
        distiller.start()

        # Honest and calibration keys, interleaved on a simulated clock, plus the direct extraction client.
        events = []
        for name in calib + honest:
            events += honest_events(rng, name, test, int(rng.integers(honest_q // 2, honest_q * 3 // 2)))
        span = max(t for t, _, _ in events)
        jac = jacobian_like(rng, test[rng.integers(0, len(test), 10)], budget)
        for k in range(0, budget, 20):  # 20 at a time, spread over the first tenth of the day
            events.append((span * 0.1 * k / budget, "x-jacobian", jac[k:k + 20]))
        events.sort(key=lambda e: e[0])
        client = Client(server.port)
        for i, (_, name, batch) in enumerate(events):
            client.classify(name + "-secret", batch)
            if i % 2000 == 0:
                print("sent %d/%d requests" % (i, len(events)), flush=True)
        distiller.join()
    finally:
        server.stop()
    traffic_s = time.time() - t_traffic
    print("traffic: %d requests in %.0f s (simulated span %.1f h)" % (len(events), traffic_s, span / 3600), flush=True)

    # The audit: delta from the calibration keys, then every key at that delta.
    t_audit = time.time()
    first = json.loads(run([args.cli, "audit-log", log, "--data", FMNIST, "--json"], env).stdout)
    calib_min = min(k["min_w"] for k in first["keys"] if k["key"] in calib)
    delta = float(np.floor((calib_min - 0.01) * 100) / 100)
    cmd = [args.cli, "audit-log", log, "--data", FMNIST, "--delta", "%.2f" % delta, "--json"]
    audit = json.loads(run(cmd, env).stdout)
    audit_s = time.time() - t_audit
    wall = time.time() - started
    by_key = {k["key"]: k for k in audit["keys"]}
    os.makedirs(os.path.join(args.out, "forensics"), exist_ok=True)
    json.dump({"delta": delta, "calibration_min_w": calib_min, "teacher_run": teacher,
               "teacher_test_accuracy": teacher_acc, "api_runs": api_out, "wall_s": wall, "audit": audit},
              open(os.path.join(args.out, "forensics", "haystack.json"), "w"), indent=1)
    write_section(args, by_key, honest, calib, api_runs, direct, api_out, delta, calib_min, teacher_acc, audit,
                  len(events), span, traffic_s, audit_s, wall, budget, honest_q)


def reading(by_key, extraction, honest):
    """Which distillers each detector caught, and which it could not, in words."""
    prada = [k for k in extraction if by_key.get(k, {}).get("prada_flag")]
    shift = [k for k in extraction if by_key.get(k, {}).get("shift_flag")]
    missed = [k for k in extraction if k in by_key and by_key[k]["verdict"] == "honest-looking"]
    names = lambda ks: ", ".join("`%s`" % k for k in ks) if ks else "none"
    return ("**Reading.** PRADA caught %s; the shift score caught %s; neither caught %s. PRADA sees a stream "
            "whose queries sit unnaturally close to earlier ones (synthetic steps away from a few seeds); the shift "
            "score sees queries unlike the task's images. A distiller who queries with the task's own kind of images "
            "(the `train` strategy, or `active`, which picks among natural pool images) sends what an honest user "
            "sends, only more of it: in this log only its volume (%d distinct queries against an honest median of "
            "%d) sets it apart, which a per-key budget already caps." % (
                names(prada), names(shift), names(missed), max(by_key[k]["distinct"] for k in extraction if k in by_key),
                int(np.median([by_key[k]["distinct"] for k in honest]))))


def write_section(args, by_key, honest, calib, api_runs, direct, api_out, delta, calib_min, teacher_acc, audit,
                  n_requests, span, traffic_s, audit_s, wall, budget, honest_q):
    h = [by_key[k] for k in honest]
    prada_fp = sum(k["prada_flag"] for k in h)
    shift_fp = sum(k["shift_flag"] for k in h)
    any_fp = sum(k["verdict"] != "honest-looking" for k in h)
    hw = sorted(k["min_w"] for k in h)
    hs = sorted(k["shift"] for k in h)
    ref = audit["shift_reference"]

    def f(v, d=3):
        return "-" if v is None else ("%." + str(d) + "f") % v

    lines = [SECTION, "",
             "Can the teacher server's request log tell a distiller from the API's honest users? One run of "
             "`distillery-cli serve` (a %.1f%%-accurate mlp teacher on Fashion-MNIST, answers as probabilities) with "
             "%d calibration keys, %d honest keys and %d extraction keys, then `distillery-cli audit-log`. "
             "Written by `scripts/haystack_results.py`%s." % (100 * teacher_acc, len(calib), len(honest),
                                                             len(api_runs) + len(direct), " (--quick)" if args.quick else ""),
             "",
             "**Traffic.** Honest and calibration keys each send %d to %d random Fashion-MNIST *test* images "
             "(%d to %d queries in all), the way a person might: sessions about half an hour apart, a few uploads "
             "seconds apart in each, one upload in ten a burst of 2-8 images, one image in ten one sent before. "
             "The %d keys' traffic is interleaved on a simulated clock spanning %.1f hours and sent as fast as the "
             "server answers (%d requests in %.0f s): PRADA and the shift score do not look at time. "
             "The extraction keys spend %d queries each:" % (
                 honest_q // 2, honest_q * 3 // 2 - 1, min(k["queries"] for k in h), max(k["queries"] for k in h),
                 len(calib) + len(honest), span / 3600, n_requests, traffic_s, budget),
             ""]
    for name, label, _ in api_runs:
        r = api_out.get(name, {})
        lines.append("- `%s`: %s, a real `distillery-cli run` with `teacher.api` (batches of 100; clone test accuracy %s)"
                     % (name, label, f(r.get("test_accuracy"), 4) if r.get("rc") == 0 else "failed: " + r.get("err", "?")))
    for name, label in direct:
        lines.append("- `%s`: %s, sent directly, 20 per request" % (name, label))
    lines += ["",
              "**Detectors** (`core/forensics/`). PRADA (Juuti et al., EuroS&P 2019): for each new query of a key, "
              "the minimum L2 distance to the key's earlier queries, on the log's 8x8 sketches (the server keeps no "
              "inputs); the Shapiro-Wilk W of those distances (Royston's AS R94, checked against scipy) after each "
              "query from the 20th distance on; flagged the first time W < delta. Unlike the paper, every earlier "
              "query is in the growing set, not only those of the same predicted class (the log has no answers), "
              "and exact repeats (same SHA-256) are counted apart and left out of the distances. The shift score is "
              "the key's mean distance to the nearest of %d evenly spaced training sketches, divided by the same "
              "for %d test images (%.1f); a key whose running score passes 1.5 (from its 20th query on) is "
              "\"shifted\"." % (
                  ref["train_sketches"], ref["test_images"], ref["test_mean_nn"]),
              "",
              "**delta = %.2f**: the calibration keys' lowest W along the way was %.3f; delta is that minus 0.01, "
              "floored to 2 decimals, as the paper sets delta from benign clients' W. It is low because with every "
              "query in one growing set the natural images' minimum distances are skewed (each new query is "
              "nearer to a larger set), and W of the first few dozen swings widely." % (delta, calib_min),
              "",
              "| key | queries | distinct | repeats | final W | lowest W | PRADA flagged after | shift | shifted after | verdict |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name in [a[0] for a in api_runs] + [d[0] for d in direct]:
        k = by_key.get(name)
        if not k:
            lines.append("| `%s` | 0 | | | | | | | | no queries |" % name)
            continue
        lines.append("| `%s` | %d | %d | %d | %s | %s | %s | %s | %s | %s |" % (
            name, k["queries"], k["distinct"], k["exact_repeats"], f(k["w"]), f(k["min_w"]),
            k["flagged_after"] if k["prada_flag"] else "never", f(k["shift"], 2),
            k["shift_flagged_after"] if k["shift_flag"] else "never", k["verdict"]))
    lines += ["| %d honest keys (median) | %d | %d | %d | %s | %s | %d of %d flagged | %s | %d of %d flagged | %d not honest-looking |" % (
        len(h), int(np.median([k["queries"] for k in h])), int(np.median([k["distinct"] for k in h])),
        int(np.median([k["exact_repeats"] for k in h])), f(float(np.median([k["w"] for k in h]))),
        f(float(np.median(hw))), prada_fp, len(h), f(float(np.median(hs)), 2), shift_fp, len(h), any_fp)]
    flagged_early = [by_key[k]["flagged_after"] for k in honest if by_key[k]["prada_flag"]]
    lines += ["",
              "**False positives over the %d honest keys**: PRADA %d (%.0f%%)%s; shift %d (%.0f%%); either %d (%.0f%%). "
              "Their lowest W ranged %.3f-%.3f, their shift scores %.2f-%.2f." % (
                  len(h), prada_fp, 100.0 * prada_fp / len(h),
                  " (flagged after %s queries)" % ", ".join(map(str, flagged_early)) if flagged_early else "",
                  shift_fp, 100.0 * shift_fp / len(h), any_fp, 100.0 * any_fp / len(h), hw[0], hw[-1], hs[0], hs[-1]),
              "",
              reading(by_key, [a[0] for a in api_runs] + [d[0] for d in direct], honest),
              "",
              "```sh",
              "/usr/bin/python3 scripts/haystack_results.py%s" % (" --quick" if args.quick else ""),
              "distillery-cli audit-log requests.sqlite --data %s --delta %.2f" % (FMNIST, delta),
              "```",
              "",
              "Wall time %.0f s on this machine's 2 cores (the audit of %d keys: %.0f s for two passes). Raw audit: "
              "[`haystack.json`](haystack.json)." % (wall, len(by_key), audit_s),
              ""]
    page = os.path.join(args.out, "forensics", "haystack.md")
    with open(page, "w") as fp:
        fp.write("\n".join(lines))
    print("wrote %s (%.0f s)" % (page, wall), flush=True)


if __name__ == "__main__":
    main()
