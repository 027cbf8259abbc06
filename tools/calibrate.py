"""Calibrate initkit.checks by simulation (resumable).

For the reference implementations and every correct variant of the catalogue, run every
aspect at seeds 0..N-1 and count false fails; for every catalogued mistake, run at seeds
0..M-1 and record which aspects fail (it must be exactly the listed ones, at every seed).
Raw verdicts go to calibration/runs.jsonl (one line per entry × seed; a rerun skips what is
there), the summary to calibration/calibration-<date>.csv.

    python tools/calibrate.py --correct-seeds 1000 --mistake-seeds 200
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import json
import sys
import time
from pathlib import Path

from initkit import checks
from initkit.mistakes import CORRECT, MISTAKES, reference

OUT = Path(__file__).resolve().parent.parent / "calibration"


def entries():
    for target in checks.TARGETS:
        yield f"{target}/initkit", target, reference(target), ()
    for e in CORRECT.values():
        yield e.key, e.target, e.fn, ()
    for e in MISTAKES.values():
        yield e.key, e.target, e.fn, e.fails


def failed_aspects(target, fn, seed) -> list:
    check = getattr(checks, f"check_{target}")
    failed = []
    for aspect in check.aspects:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(fn, aspect=aspect, seed=seed)
        except AssertionError:
            failed.append(aspect)
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--correct-seeds", type=int, default=1000)
    parser.add_argument("--mistake-seeds", type=int, default=200)
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    runs = OUT / "runs.jsonl"
    done = set()
    if runs.exists():
        for line in runs.read_text().splitlines():
            r = json.loads(line)
            done.add((r["entry"], r["seed"]))
    todo = [(key, target, fn, fails, seed)
            for key, target, fn, fails in entries()
            for seed in range(args.mistake_seeds if fails else args.correct_seeds)
            if (key, seed) not in done]
    print(f"{len(done)} runs on file, {len(todo)} to go", flush=True)
    start = time.time()
    with runs.open("a") as out:
        for i, (key, target, fn, fails, seed) in enumerate(todo, 1):
            failed = failed_aspects(target, fn, seed)
            out.write(json.dumps({"entry": key, "seed": seed, "failed": failed}) + "\n")
            if i % 200 == 0 or i == len(todo):
                out.flush()
                rate = i / (time.time() - start)
                print(f"\r{i}/{len(todo)} runs, {rate:.1f}/s, ~{(len(todo) - i) / rate / 60:.0f} min left",
                      end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return summarise(runs)


def summarise(runs: Path) -> int:
    expected = {key: tuple(fails) for key, _, _, fails in entries()}
    stats: dict[str, dict] = {}
    for line in runs.read_text().splitlines():
        r = json.loads(line)
        if r["entry"] not in expected:
            continue
        s = stats.setdefault(r["entry"], {"seeds": 0, "exact": 0, "false_fails": 0, "other": set()})
        s["seeds"] += 1
        got = tuple(r["failed"])
        listed = expected[r["entry"]]
        s["exact"] += set(got) == set(listed)
        if not listed:
            s["false_fails"] += bool(got)
        if set(got) != set(listed):
            s["other"].add(",".join(got) or "none")
    path = OUT / f"calibration-{datetime.date.today().isoformat()}.csv"
    bad = 0
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entry", "kind", "listed_aspects", "seeds", "exact_verdicts", "false_fails", "deviations"])
        for key, s in sorted(stats.items()):
            listed = expected[key]
            w.writerow([key, "mistake" if listed else "correct", ",".join(listed), s["seeds"],
                        s["exact"], s["false_fails"], ";".join(sorted(s["other"]))])
            bad += s["exact"] != s["seeds"]
    print(f"wrote {path}: {len(stats)} entries, {bad} with any deviation")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
