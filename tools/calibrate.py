"""Calibrate initkit.checks by simulation (resumable).

For the reference implementations and every correct variant of the catalogue, run every
aspect at seeds 0..N-1 and count false fails; for every catalogued mistake, run at seeds
0..M-1 and record which aspects fail (it must be exactly the listed ones, at every seed).
Raw verdicts go to calibration/runs.jsonl (one line per entry × seed; a rerun skips what is
there), the summary to calibration/calibration-<date>.csv.

    python tools/calibrate.py --correct-seeds 1000 --mistake-seeds 200
    python tools/calibrate.py --tracks torch,keras --correct-seeds 200 --mistake-seeds 50
    python tools/calibrate.py --targets xavier_uniform,variance_scaling --shard 0/2   # one of two processes
    python tools/calibrate.py --summarise
    python tools/calibrate.py --targets orthogonal --correct-seeds 1000 --mistake-seeds 100
        # one exercise only: its own runs-…-orthogonal.jsonl and calibration-<date>-orthogonal.csv

The framework tracks run fewer seeds: a Keras call costs ~1 ms of eager TensorFlow, and the
orthogonal check makes 1,500 of them.
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
from initkit.mistakes import CORRECT, MISTAKES, load_track, reference, reference_model, reference_track

OUT = Path(__file__).resolve().parent.parent / "calibration"


TORCH_REFERENCES = {"xavier_uniform": "xavier_uniform_", "xavier_normal": "xavier_normal_",
                    "kaiming_uniform": "kaiming_uniform_", "kaiming_normal": "kaiming_normal_",
                    "truncated_normal": "trunc_normal_", "orthogonal": "orthogonal_"}


def entries(tracks=("numpy",)):
    """(key, target, graded callable, fixed, listed failing aspects, track) for every
    reference implementation, correct variant and catalogued mistake of the given tracks."""
    for track in tracks:
        load_track(track)
    if "numpy" in tracks:
        for target in checks.TARGETS:
            yield f"{target}/initkit", target, reference(target), None, (), "numpy"
    if "torch" in tracks:
        for target, name in TORCH_REFERENCES.items():
            yield f"torch:{target}/initkit", target, checks.from_torch(reference_track("torch", name)), None, (), "torch"
        yield "torch:init_weights_torch/initkit", "init_weights_torch", reference_model("init_weights_torch"), None, (), "torch"
    if "keras" in tracks:
        from initkit.mistakes.keras_track import PRESETS

        yield ("keras:variance_scaling/initkit", "variance_scaling",
               checks.from_keras(reference_track("keras", "VarianceScaling")), None, (), "keras")
        for preset, config in PRESETS.items():
            yield (f"keras:variance_scaling/initkit-{preset}", "variance_scaling",
                   checks.from_keras(reference_track("keras", preset)), config, (), "keras")
        yield ("keras:orthogonal/initkit", "orthogonal",
               checks.from_keras(reference_track("keras", "Orthogonal")), None, (), "keras")
        yield "keras:init_weights_keras/initkit", "init_weights_keras", reference_model("init_weights_keras"), None, (), "keras"
    for e in [*CORRECT.values(), *MISTAKES.values()]:
        if e.track in tracks:
            yield e.key, e.target, e.graded, e.fixed, e.fails, e.track


def failed_aspects(target, fn, seed, fixed=None) -> list:
    check = getattr(checks, f"check_{target}")
    failed = []
    for aspect in check.aspects:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(fn, aspect=aspect, seed=seed, fixed=fixed)
        except AssertionError:
            failed.append(aspect)
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--correct-seeds", type=int, default=1000)
    parser.add_argument("--mistake-seeds", type=int, default=200)
    parser.add_argument("--tracks", default="numpy", help="comma-separated: numpy,torch,keras")
    parser.add_argument("--targets", default="", help="comma-separated: only these exercises (default: all)")
    parser.add_argument("--keys", default="", help="comma-separated catalogue keys: only these entries")
    parser.add_argument("--shard", default="0/1", help="K/M: this process takes the seeds ≡ K mod M")
    parser.add_argument("--summarise", action="store_true", help="only summarise what is on file")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    tracks = tuple(args.tracks.split(","))
    targets = set(filter(None, args.targets.split(",")))
    keys = set(filter(None, args.keys.split(",")))
    shard, shards = (int(v) for v in args.shard.split("/"))
    suffix = f"-{'-'.join(sorted(targets))}" if targets else ""
    # one raw file per track set, target set and shard, so runs can go on side by side
    runs = OUT / (("runs" if tracks == ("numpy",) else f"runs-{'-'.join(tracks)}") + suffix
                  + (f"-shard{shard}of{shards}" if shards > 1 else "") + ".jsonl")
    if args.summarise:
        return summarise(targets)
    done = {(r["entry"], r["seed"]) for r in read_runs(runs)} if runs.exists() else set()
    todo = [(key, target, fn, fixed, seed)
            for key, target, fn, fixed, fails, _ in entries(tracks)
            if (not targets or target in targets) and (not keys or key in keys)
            for seed in range(shard, args.mistake_seeds if fails else args.correct_seeds, shards)
            if (key, seed) not in done]
    print(f"{len(done)} runs on file, {len(todo)} to go", flush=True)
    append_records(runs, todo, lambda run: {"entry": run[0], "seed": run[4],
                                            "failed": failed_aspects(run[1], run[2], run[4], run[3])})
    return summarise(targets)


def append_records(path: Path, todo: list, record, every: int = 50) -> None:
    """Append ``record(item)`` for each item to the JSON-lines file ``path`` (flushed every
    ``every`` items, so an interrupted run resumes), with a progress line on stderr."""
    start = time.time()
    with path.open("a") as out:
        for i, item in enumerate(todo, 1):
            out.write(json.dumps(record(item)) + "\n")
            if i % every == 0 or i == len(todo):
                out.flush()
                rate = i / (time.time() - start)
                print(f"\r{i}/{len(todo)} runs, {rate:.1f}/s, ~{(len(todo) - i) / rate / 60:.0f} min left",
                      end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def read_runs(path: Path) -> list[dict]:
    """The records of a raw file. A last line that is not JSON is a write the run was killed
    in: it is left out (and said on stderr), so the rerun makes that run again; a bad line
    anywhere else is an error."""
    lines = path.read_text().splitlines()
    records = []
    for i, line in enumerate(lines):
        try:
            records.append(json.loads(line))
        except ValueError:
            if i != len(lines) - 1:
                raise ValueError(f"{path}: line {i + 1} is not JSON: {line[:80]!r}") from None
            print(f"{path.name}: the last line is cut (an interrupted run): left out", file=sys.stderr)
    return records


def summarise(targets: tuple = ()) -> int:
    """Summarise the runs on file into calibration-<date>.csv — with ``targets``, only those
    exercises' entries, into calibration-<date>-<targets>.csv."""
    records = [r for runs in sorted(OUT.glob("runs*.jsonl")) for r in read_runs(runs)]
    tracks = {"numpy"} | {r["entry"].split(":")[0] for r in records if ":" in r["entry"].split("/")[0]}
    expected = {key: (tuple(fails), track, target)
                for key, target, _, _, fails, track in entries(tuple(sorted(tracks)))}
    stats: dict[str, dict] = {}
    for r in records:
        if r["entry"] not in expected or (targets and expected[r["entry"]][2] not in targets):
            continue
        s = stats.setdefault(r["entry"], {"seeds": 0, "exact": 0, "false_fails": 0, "other": set()})
        s["seeds"] += 1
        got = tuple(r["failed"])
        listed = expected[r["entry"]][0]
        s["exact"] += set(got) == set(listed)
        if not listed:
            s["false_fails"] += bool(got)
        if set(got) != set(listed):
            s["other"].add(",".join(got) or "none")
    path = OUT / f"calibration-{datetime.date.today().isoformat()}{'-' + '-'.join(sorted(targets)) if targets else ''}.csv"
    bad = 0
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entry", "track", "kind", "listed_aspects", "seeds", "exact_verdicts", "false_fails", "deviations"])
        for key, s in sorted(stats.items()):
            listed, track, _ = expected[key]
            w.writerow([key, track, "mistake" if listed else "correct", ",".join(listed), s["seeds"],
                        s["exact"], s["false_fails"], ";".join(sorted(s["other"]))])
            bad += s["exact"] != s["seeds"]
    print(f"wrote {path}: {len(stats)} entries, {bad} with any deviation")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
