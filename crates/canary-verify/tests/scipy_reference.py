"""SciPy's answers for the cases tests/scipy.rs sends on stdin (JSON list), as JSON on stdout."""

import json
import math
import sys

import numpy as np
from scipy import special, stats


def answer(case):
    kind = case["kind"]
    if kind == "rank_sum":
        canary, baseline = case["canary"], case["baseline"]
        greater = stats.mannwhitneyu(canary, baseline, alternative="greater", method="asymptotic", use_continuity=True)
        less = stats.mannwhitneyu(canary, baseline, alternative="less", method="asymptotic", use_continuity=True)
        return {
            "u": float(greater.statistic),
            "p_greater": float(greater.pvalue),
            "p_less": float(less.pvalue),
            "hodges_lehmann": float(np.median(np.subtract.outer(canary, baseline))),
        }
    if kind == "fisher":
        cb, ct, bb, bt = case["counts"]
        return {"p": float(stats.fisher_exact([[cb, ct - cb], [bb, bt - bb]], alternative="greater").pvalue)}
    if kind == "normal":
        return {
            "sf": [float(stats.norm.sf(z)) for z in case["z"]],
            "ppf": [float(stats.norm.ppf(p)) for p in case["p"]],
            "erfc": [float(special.erfc(x)) for x in case["z"]],
        }
    if kind == "gammaln":
        return {"value": [float(special.gammaln(x)) for x in case["x"]]}
    if kind == "spending":
        alpha = case["alpha"]
        z = stats.norm.ppf(1 - alpha / 2)
        return {"spent": [float(2 * stats.norm.sf(z / math.sqrt(t))) for t in case["t"]]}
    raise ValueError(f"unknown case {kind}")


print(json.dumps([answer(case) for case in json.load(sys.stdin)]))
