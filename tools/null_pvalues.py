"""Verify by simulation that every statistical sub-test of initkit.checks is calibrated:
run the reference implementations at seeds 0..N-1 with p-value recording on, then test the
null p-values of each sub-test for uniformity (KS against U(0, 1)). Resumable and shardable.

    python tools/null_pvalues.py --seeds 10000 --shard 0/2   # one process per core
    python tools/null_pvalues.py --seeds 10000 --shard 1/2
    python tools/null_pvalues.py --summarise                 # → calibration/null-p-values-<date>.csv

Why it matters: each check's threshold is a *conservative* bound at α ≤ 1e-7 — far too rare
to observe. What simulation can verify is the model behind it: that each statistic has the
null law the bound is computed from (uniform p-values), and that the deterministic
inequality the standardised KS threshold rests on never fails (rows ending in "-holds").
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

from initkit import checks
from initkit.checks import _engine
from initkit.mistakes import reference

from calibrate import append_records  # tools/ is on sys.path when this runs as a script

OUT = Path(__file__).resolve().parent.parent / "calibration"
RANDOM_CHECKS = ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
                 "truncated_normal", "variance_scaling", "orthogonal")
FAMILY_ALPHA = 0.01  # chance that any calibrated sub-test is flagged, Bonferroni-split


def p_values(target: str, seed: int) -> dict[str, float]:
    check = getattr(checks, f"check_{target}")
    with _engine.recording_null_p_values() as sink, contextlib.redirect_stdout(io.StringIO()):
        check(reference(target), seed=seed)
    return dict(sink)


def simulate(n_seeds: int, shard: int, shards: int) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"null-p-values-{shard}of{shards}.jsonl"
    done = set()
    if path.exists():
        done = {(r["check"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())}
    todo = [(t, s) for s in range(shard, n_seeds, shards) for t in RANDOM_CHECKS if (t, s) not in done]
    print(f"shard {shard}/{shards}: {len(done)} on file, {len(todo)} to go", flush=True)
    append_records(path, todo, lambda run: {"check": run[0], "seed": run[1], "p": p_values(*run)}, every=100)


def summarise() -> int:
    pooled: dict[tuple, list] = defaultdict(list)
    for path in sorted(OUT.glob("null-p-values-*of*.jsonl")):
        for r in map(json.loads, path.read_text().splitlines()):
            for label, p in r["p"].items():
                pooled[(r["check"], label)].append(p)
    tested = [k for k in pooled if not k[1].endswith("-holds")]
    threshold = FAMILY_ALPHA / max(len(tested), 1)
    rows, flagged = [], 0
    for (check, label), ps in sorted(pooled.items()):
        ps = np.asarray(ps)
        if label.endswith("-holds"):
            violations = int(np.sum(ps < 1))
            flagged += violations > 0
            rows.append([check, label, len(ps), "", "", "", "", f"{violations} violations"])
            continue
        ks = stats.kstest(ps, "uniform")
        verdict = "uniform" if ks.pvalue >= threshold else "NOT uniform"
        flagged += verdict != "uniform"
        rows.append([check, label, len(ps), f"{ks.statistic:.4f}", f"{ks.pvalue:.3g}",
                     f"{np.mean(ps <= 0.01):.4f}", f"{np.mean(ps <= 0.001):.4f}", verdict])
    path = OUT / f"null-p-values-{datetime.date.today().isoformat()}.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["check", "sub_test", "n_null_runs", "ks_D_vs_uniform", "ks_p",
                    "share_p_le_0.01", "share_p_le_0.001", "verdict"])
        w.writerows(rows)
    n_min = min((len(v) for v in pooled.values()), default=0)
    print(f"wrote {path}: {len(rows)} sub-tests, ≥ {n_min} null runs each, {flagged} flagged "
          f"(uniformity judged at {threshold:.1e} each, {FAMILY_ALPHA} family-wise)")
    return 1 if flagged or not rows else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--shard", default="0/1", help="K/M: this process takes seeds ≡ K mod M")
    parser.add_argument("--summarise", action="store_true", help="only summarise what is on file")
    args = parser.parse_args(argv)
    if not args.summarise:
        shard, shards = (int(v) for v in args.shard.split("/"))
        simulate(args.seeds, shard, shards)
    return summarise()


if __name__ == "__main__":
    sys.exit(main())
