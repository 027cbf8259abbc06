"""Verify by simulation the null laws of the exact family and independence sub-tests
(initkit/checks/_random.py: normal tail count, neighbour-pair order, repeats, reused values),
including the float32 sources correct implementations really use: NumPy's 24-bit
``random(dtype=float32)``, 23-bit uniforms as TensorFlow draws them, and torch's ``uniform_``
and ``normal_`` when torch is installed.

    python tools/null_independence.py --reps 10000        # → calibration/null-independence-<date>.csv

For the exact binomial laws (tail count, order) the randomised p-values must be uniform (KS
against U(0, 1)); for the two bounds (repeats, reused values) the observed statistic must stay
below the check's limit in every run, and the table shows how far below (mean, max, limit).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from initkit.checks import _laws, _stats

OUT = Path(__file__).resolve().parent.parent / "calibration"
ALPHA = 1e-7 / 9 / 2 / 11  # the smallest share a sub-test gets (9 argument cases, ½, 11 sub-tests)


def sources(n: int):
    """(name, law, draw(rng) -> float array of n values) for the sources simulated."""
    a = 0.3
    yield "numpy float64 uniform", _laws.uniform(a), lambda r: r.uniform(-a, a, n)
    yield ("numpy float32 uniform (24 bits)", _laws.uniform(a),
           lambda r: (2 * r.random(n, dtype=np.float32) - 1) * np.float32(a))
    yield ("23-bit float32 uniform (TensorFlow's)", _laws.uniform(a),
           lambda r: (2 * (r.integers(0, 2**23, n) / 2**23).astype(np.float32) - 1) * np.float32(a))
    yield "numpy float64 normal", _laws.normal(0.1), lambda r: r.normal(0, 0.1, n)
    yield "numpy float32 normal", _laws.normal(0.1), lambda r: r.normal(0, 0.1, n).astype(np.float32)
    tn = _laws.truncated_normal(2.0, 1.0, 0.0, 2.5)
    yield ("float32 truncated normal N(2, 1) on [0, 2.5]", tn,
           lambda r: stats.truncnorm.rvs(-2.0, 0.5, loc=2.0, scale=1.0, size=n, random_state=r).astype(np.float32))
    try:
        import torch
    except ImportError:
        return
    g = torch.Generator()

    def torch_draw(fill):
        def draw(r):
            g.manual_seed(int(r.integers(2**62)))
            return fill(torch.empty(n)).numpy()
        return draw
    yield "torch uniform_ (float32)", _laws.uniform(a), torch_draw(lambda t: t.uniform_(-a, a, generator=g))
    yield "torch normal_ (float32)", _laws.normal(0.1), torch_draw(lambda t: t.normal_(0, 0.1, generator=g))


def simulate(reps: int, n: int, seed: int = 0) -> list:
    rows = []
    u = np.random.default_rng(seed + 1)
    for index, (name, law, draw) in enumerate(sources(n)):
        r = np.random.default_rng([seed, index])  # an independent stream per source
        tails, order, order_folded, repeats, reused = [], [], [], [], []
        for _ in range(reps):
            x = np.asarray(draw(r))
            xf = x.astype(np.float64)
            if law.kind == "normal":
                k = int(np.count_nonzero(np.abs(xf - law.mean) > _stats.TAIL_Z * law.std))
                tails.append(_stats.randomised_binomial_p_value(k, n, _stats.normal_tail_share(), u.uniform()))
            for values, sink in ((xf, order), (np.abs(xf - law.mean), order_folded)):
                first, second = values[0::2][: n // 2], values[1::2][: n // 2]
                up, down = int(np.sum(second > first)), int(np.sum(second < first))
                sink.append(_stats.randomised_binomial_p_value(up, up + down, 0.5, u.uniform()))
            repeats.append(int(np.unique(x, return_counts=True)[1].max()))
            reused.append(n - np.unique(np.abs(xf - law.mean)).size)
        for label, ps in (("normal-tail-count", tails), ("order", order), ("order-magnitude", order_folded)):
            if ps:
                ks = stats.kstest(ps, "uniform")
                rows.append([name, label, n, reps, f"{ks.statistic:.4f}", f"{ks.pvalue:.3g}",
                             f"{np.mean(np.asarray(ps) <= 0.01):.4f}", "", "", ""])
        rows.append([name, "repeats (max multiplicity)", n, reps, "", "", "", f"{np.mean(repeats):.2f}",
                     max(repeats), _stats.repeat_limit(n, law.level_p_max, ALPHA)])
        rows.append([name, "reused values (n − distinct |x − μ|)", n, reps, "", "", "", f"{np.mean(reused):.1f}",
                     max(reused), f"{_stats.duplicate_limit(n, law.level_p_max, ALPHA):.0f}"])
        print(*rows[-2:], sep="\n", flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=40_000, help="values per run (arguments: 4·10⁴; scale: 1.2·10⁵)")
    args = parser.parse_args(argv)
    rows = simulate(args.reps, args.n)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"null-independence-{datetime.date.today().isoformat()}-n{args.n}.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "sub_test", "n", "runs", "ks_D_vs_uniform", "ks_p", "share_p_le_0.01",
                    "mean", "max", "check_limit"])
        w.writerows(rows)
    bad = [r for r in rows if (r[5] and float(r[5]) < 1e-3) or (r[8] != "" and float(r[8]) >= float(r[9]))]
    print(f"wrote {path}: {len(rows)} rows, {len(bad)} flagged")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
