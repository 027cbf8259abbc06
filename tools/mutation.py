"""Mutation testing of initkit with mutmut: do the fast tests catch what they claim to?

    python3 tools/course.py mutation            # run (or resume) and write the report
    python3 tools/course.py mutation --report   # only rewrite the report from the last run
    make mutation                               # the same as the first

Which modules are mutated and which test files run against each mutant is
``[tool.mutmut]`` in pyproject.toml. mutmut copies the repository into ``mutants/`` (git
ignores it) and mutates only that copy; it runs with ``nice -n 19`` and one child at a time,
so it can share a small machine. A mutant that survives costs every test that covers its
function (about 100 s of the selection under mutmut: ``tests/test_checks.py``'s seeds 0–99
sweeps, 400 of its 470 s, run seeds 0–9 when ``MUTANT_UNDER_TEST`` is set). A finished run resumes for free: mutmut re-tests only
mutants whose function changed.

The report (``calibration/mutation-<date>.md``, replacing the previous one) gives per
module the mutants killed, survived, timed out and not run, the duration, and every survivor
with its diff: an argued equivalent (``EQUIVALENT`` below: same behaviour, so no test can
tell) is listed with its argument and left out of the survival rate; any other survivor
counts. The run fails (exit 1) when the survival rate is above ``MAX_SURVIVAL`` (5 %).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "calibration"
TIMING = ROOT / "mutants" / "initcourse-timing.json"
INTRO = """# Mutation testing of initkit

Written by `python3 tools/course.py mutation` (tools/mutation.py, mutmut {version}): each
mutant is one small change to one function of a module listed in pyproject.toml's
`[tool.mutmut]` `only_mutate`, run against the fast test files listed there
(`pytest_add_cli_args_test_selection`; their seeds 0–99 sweeps run seeds 0–9 under mutmut,
which sets `MUTANT_UNDER_TEST`, since a surviving mutant runs every test covering its
function). *killed*: a test failed; *survived*: every test
covering the function passed; *timeout*: the tests ran past mutmut's limit (counted as
caught); *other*: mutmut's "no tests" (no selected test calls that function) and similar.
The survival rate leaves out survivors argued equivalent in tools/mutation.py's
`EQUIVALENT`; every other survivor counts against the {limit:.0%} limit.

"""
MAX_SURVIVAL = 0.05

#: Survivors that behave exactly like the original, with the reason no test can tell them
#: apart. mutmut names a mutant by module, function and position in the function, so a name
#: stays valid until that function changes (then the report lists it as unexplained).
_MIRROR = ("where the truncation interval starts right of the mean (α > 0) the code works with its "
           "mirror image only to keep upper-tail precision; for 0 ≤ α ≤ 1 both forms are exact to "
           "double precision (Φ(1) = 0.84), so the law, and what any test can see, is the same")
EQUIVALENT: dict[str, str] = {
    "initkit.truncated.x_truncated_normal__mutmut_46": "`alpha >= 0`: " + _MIRROR,
    "initkit.truncated.x_truncated_normal__mutmut_47": "`alpha > 1`: " + _MIRROR,
    "initkit.checks._laws.x__truncated_normal_cdf__mutmut_8": "`alpha >= 0`: " + _MIRROR,
    "initkit.checks._laws.x__truncated_normal_cdf__mutmut_9": "`alpha > 1`: " + _MIRROR,
    "initkit.orthogonal.x_haar_orthogonal__mutmut_14": "`q / ±1` is `q * ±1`",
    "initkit.orthogonal.x_haar_orthogonal__mutmut_22": "`diag(r) <= 0`: R_jj = 0 has probability 0 for a "
                                                       "Gaussian matrix",
    "initkit.orthogonal.x_haar_orthogonal__mutmut_29": "`rows <= cols`: for a square matrix Qᵀ is Haar when Q "
                                                       "is (Haar is invariant under transposition)",
}


def mutmut() -> list[str]:
    """mutmut next to this interpreter (the venv's), else on PATH."""
    exe = Path(sys.executable).with_name("mutmut")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mutmut")
    if not found:
        sys.exit("[mutation] mutmut is not installed: python3 tools/course.py setup (it is in the `test` extra)")
    return [found]


def run_mutmut() -> float:
    """Run (or resume) mutmut, niced, one child at a time; return the seconds it took."""
    nice = ["nice", "-n", "19"] if shutil.which("nice") else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the mutants/ copy is put first by mutmut
    start = time.monotonic()
    code = subprocess.call([*nice, *mutmut(), "run", "--max-children", "1"], cwd=ROOT, env=env)
    seconds = time.monotonic() - start
    if code not in (0, 1):  # mutmut exits 1 when mutants survive
        sys.exit(f"[mutation] mutmut run failed with exit code {code}")
    TIMING.write_text(json.dumps({"seconds": seconds, "finished": dt.datetime.now().isoformat(timespec="minutes")}))
    return seconds


def statuses() -> dict[str, str]:
    """{mutant name: status} of every mutant, from ``mutmut results --all true``."""
    out = subprocess.run([*mutmut(), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return dict(re.findall(r"^\s*([\w.]+__mutmut_\d+): (.+?)\s*$", out, re.M))


def diff_of(name: str) -> str:
    """The mutated lines of one mutant (``mutmut show``), without the file headers."""
    out = subprocess.run([*mutmut(), "show", name], cwd=ROOT, capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines()
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))


def module_of(name: str) -> str:
    """initkit.checks._stats.x_mean_halfwidth__mutmut_3 → initkit/checks/_stats.py."""
    parts = name.split(".")
    return "/".join(parts[:-1]) + ".py"


def summarise(found: dict[str, str], seconds: float | None) -> tuple[str, float]:
    """The report's markdown and the survival rate (survivors not argued / mutants tested)."""
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in found.items():
        per_module[module_of(name)][status] += 1
    survivors = sorted(n for n, s in found.items() if s == "survived")
    argued = [n for n in survivors if n in EQUIVALENT]
    unexplained = [n for n in survivors if n not in EQUIVALENT]
    tested = sum(1 for s in found.values() if s in ("killed", "survived", "timeout", "suspicious"))
    rate = len(unexplained) / max(1, tested - len(argued))
    columns = ["killed", "survived", "timeout"]
    lines = [f"Last run: {dt.date.today().isoformat()}"
             + (f", {seconds / 60:.0f} min on 2 shared cores (nice -n 19, one child)" if seconds else "")
             + f". {len(found)} mutants in {len(per_module)} modules; {tested} tested.", "",
             "| module | mutants | killed | survived | of which equivalent | timeout | other |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for module in sorted(per_module):
        c = per_module[module]
        eq = sum(1 for n in argued if module_of(n) == module)
        other = sum(v for k, v in c.items() if k not in columns)
        lines.append(f"| `{module}` | {sum(c.values())} | {c['killed']} | {c['survived']} | {eq} | "
                     f"{c['timeout']} | {other} |")
    total = Counter(found.values())
    lines.append(f"| **all** | {len(found)} | {total['killed']} | {total['survived']} | {len(argued)} | "
                 f"{total['timeout']} | {sum(v for k, v in total.items() if k not in columns)} |")
    lines += ["", f"Survival rate, argued equivalents left out: {len(unexplained)} / {tested - len(argued)} = "
              f"{rate:.1%} (limit {MAX_SURVIVAL:.0%}).", ""]
    for title, names in (("Survivors not explained (they count)", unexplained),
                         ("Equivalent survivors, argued", argued)):
        lines += [f"### {title}", ""] + (["None."] if not names else [])
        for n in names:
            lines += [f"- `{n}`" + (f": {EQUIVALENT[n]}" if n in EQUIVALENT else ""), "", "  ```diff"]
            lines += [f"  {line}" for line in diff_of(n).splitlines()] + ["  ```", ""]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", rate


def write_report(text: str) -> Path:
    """Write calibration/mutation-<today>.md, removing the reports of earlier runs."""
    from importlib.metadata import version

    for old in REPORTS.glob("mutation-*.md"):
        old.unlink()
    path = REPORTS / f"mutation-{dt.date.today().isoformat()}.md"
    path.write_text(INTRO.format(version=version("mutmut"), limit=MAX_SURVIVAL) + text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 tools/course.py mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="only rewrite the report from the last run")
    args = parser.parse_args(argv)
    seconds = None
    if not args.report:
        seconds = run_mutmut()
    elif TIMING.exists():
        seconds = json.loads(TIMING.read_text()).get("seconds")
    found = statuses()
    if not found:
        sys.exit("[mutation] no mutants found: run `python3 tools/course.py mutation` first")
    text, rate = summarise(found, seconds)
    path = write_report(text)
    print(text)
    print(f"[mutation] report written to {path.relative_to(ROOT)}")
    return 0 if rate <= MAX_SURVIVAL else 1


if __name__ == "__main__":
    sys.exit(main())
