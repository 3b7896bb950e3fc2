#!/usr/bin/python3
"""Independent reference for tests/tst_forensics_haystack.cpp: scipy's
Shapiro-Wilk test (scipy.stats.shapiro, Royston's AS R94 in Fortran).

  shapiro_reference.py SAMPLES.json

SAMPLES.json is a list of lists of numbers; prints one JSON object
{"w": [...], "p": [...]}, one entry per sample.
"""
import json
import sys

from scipy import stats


def main():
    with open(sys.argv[1]) as f:
        samples = json.load(f)
    w, p = [], []
    for s in samples:
        r = stats.shapiro(s)
        w.append(float(r[0]))
        p.append(float(r[1]))
    print(json.dumps({"w": w, "p": p}))


if __name__ == "__main__":
    main()
