"""Benchmark of grading. First what the isolated grader costs (``tools/bench_isolation.py``):
one solved notebook autograded under nbgrader's own Execute, our IsolatedExecute unconfined
and confined, side by side per notebook; the proxy's cost per call; a confined kernel's
start. Then class grading (``tools/grade.py``): submissions per minute at 1 and 2
workers, CPU seconds per submission (what throughput on idle cores is bounded by), and where
one submission's time goes — nbgrader's own start-up, kernel start, the notebook's imports,
the checks, the rest. Measured, not asserted: machines are shared (the load is printed).

    python3 tools/course.py bench grading [--assignment 01-variance] [--students 6] [--workers 1,2]
                                          [--notebooks 01-variance,03-xavier] [--parts isolation,class]
                                          [--assignment 00-setup,01-variance,03-xavier --fast]

Several assignments (``--assignment A,B``) make each student a submission of all of them: the
full path grades them one assignment after another, and with ``--fast`` the fast path
(``grade --fast``) grades each student's notebooks in one job, at the same worker counts and
on the same Dask cluster, side by side.

The class is N copies of the solution (every check runs to the end: the slowest honest
submission). The breakdown comes from one more autograde of one student with nbclient's
per-cell timestamps kept (``--ClearMetadataPreprocessor.enabled=False``), and a kernel
started alone (jupyter_client) for the kernel's share of the time before the first cell.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.classroom import CourseRoot  # noqa: E402
from tools.grade import Course, grade_class, grade_fast, tool_env  # noqa: E402


def kernel_start_seconds(repeats: int = 3) -> float:
    """Median time to start a python3 kernel and get its first reply."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        times.append(time.perf_counter() - began)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return statistics.median(times)


def stamp(cell, key: str) -> float:
    return datetime.fromisoformat(cell.metadata["execution"][key].replace("Z", "+00:00")).timestamp()


def breakdown(course: Course, student: str) -> dict[str, float]:
    """One autograde, timed: seconds per phase of one submission."""
    cmd = course.nbgrader("autograde", course.assignment, f"--student={student}", "--force",
                          "--ClearMetadataPreprocessor.enabled=False")
    began = time.time()
    subprocess.run(cmd, cwd=course.root, env=tool_env(), check=True, capture_output=True)
    ended = time.time()
    cells = [c for p in sorted(course.autograded(student).glob("*.ipynb"))
             for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code" and "execution" in c.metadata]
    seconds = [stamp(c, "shell.execute_reply") - stamp(c, "iopub.status.busy") for c in cells]
    kernel = kernel_start_seconds()
    before = stamp(cells[0], "iopub.status.busy") - began
    after = ended - stamp(cells[-1], "shell.execute_reply")
    total = ended - began
    parts = {
        "nbgrader start, gradebook, sanitize": before - kernel,
        "kernel start": kernel,
        "imports (the setup cell)": seconds[0],
        f"other cells in the kernel ({len(cells) - 1}: answers, experiments)": sum(seconds[1:]),
        "save grades, write, exit": after,
    }
    # graded cells are evaluated in the grader (no nbclient timestamps): the time between cells
    parts["graded cells in the grader, serve loops, gaps"] = total - sum(parts.values())
    parts["total"] = total
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assignment", default="01-variance", help="one assignment, or several comma-separated")
    p.add_argument("--fast", action="store_true", help="also grade the class on the fast path (grade --fast)")
    p.add_argument("--students", type=int, default=6)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    p.add_argument("--notebooks", default="01-variance,03-xavier,08-whole-models",
                   help="notebooks for the isolation table (comma-separated)")
    p.add_argument("--parts", default="isolation,class", help="isolation, class, or both (default)")
    p.add_argument("--dask", default="local:2", help="also grade the class on this Dask cluster (default local:2; "
                                                      "'' for none)")
    args = p.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    parts = set(args.parts.split(","))
    if "isolation" in parts:
        from tools import bench_isolation

        print("one solved notebook, autograded three ways (wall / machine-wide busy CPU, s; run on an idle machine)")
        bench_isolation.notebook_rows(args.notebooks.split(","))
        print()
        print("\n".join(bench_isolation.proxy_rows()))
        print()
        print("\n".join(bench_isolation.sandbox_start_rows()))
        print()
        print("\n".join(bench_isolation.nbgrader_start_rows()), flush=True)
    if "class" not in parts:
        return 0
    assignments = args.assignment.split(",")
    with tempfile.TemporaryDirectory(prefix="initcourse-bench-grading-") as tmp:
        root = CourseRoot.create(Path(tmp), assignments)
        for assignment in assignments:
            solved = {a: "solution" for a in root.answer_ids(assignment)}
            for k in range(args.students):
                root.submit_entries(f"student-{k:03d}", assignment, solved)
        courses = [Course.load(root.path, a) for a in assignments]
        from tools.bench_isolation import busy_seconds, cpu_measure

        ways = [(f"{n} worker(s)", "full", {"workers": n}) for n in counts]
        if args.dask:
            ways.append((f"dask {args.dask}", "full", {"dask": args.dask}))
        if args.fast:
            ways += [(f"fast, {n} worker(s)", "fast", {"workers": n}) for n in counts]
            if args.dask:
                ways.append((f"fast, dask {args.dask}", "fast", {"dask": args.dask}))
        autograde, whole, cpu, load = {}, {}, {}, {}
        for label, path, options in ways:
            print(f"[bench] {args.assignment}: {args.students} submissions, {label} …", file=sys.stderr, flush=True)
            before, began = busy_seconds(), time.perf_counter()
            if path == "fast":
                runs = grade_fast(root.path, assignments, progress=False, regrade=True, **options)
            else:
                runs = [grade_class(course, progress=False, regrade=True, **options) for course in courses]
            cpu[label], load[label] = busy_seconds() - before, os.getloadavg()[0]
            whole[label] = time.perf_counter() - began
            # the fast path's one autograde phase spans every assignment: its runs share it
            autograde[label] = (runs[0].phases["autograde"] if path == "fast"
                                else sum(run.phases["autograde"] for run in runs))
            fixed = runs[-1].phases
        print(f"[bench] {assignments[0]}: one submission, timed by phase …", file=sys.stderr, flush=True)
        parts = breakdown(courses[0], "student-000")

    print(f"\nclass of {args.students} solved submissions of {args.assignment} (tools/grade.py)")
    print(f"{'way':>22} {'autograde s':>12} {'s/submission':>13} {'subs/min':>9} {'whole run s':>12} "
          f"{'subs/min, whole run':>20} {'CPU s/sub':>10} {'load (1 min)':>13}")
    for label in autograde:
        print(f"{label:>22} {autograde[label]:12.0f} {autograde[label] / args.students:13.1f} "
              f"{args.students / autograde[label] * 60:9.1f} {whole[label]:12.0f} "
              f"{args.students / whole[label] * 60:20.1f} {cpu[label] / args.students:10.1f} {load[label]:13.1f}")
    labels = list(autograde)
    if len(labels) > 1:
        for label in labels[1:]:
            print(f"speed-up {labels[0]} → {label}: {autograde[labels[0]] / autograde[label]:.2f}×")
    for path in ("full", "fast"):
        mine = [cpu[label] for label, way, _ in ways if way == path]
        if mine:
            per_sub = statistics.fmean(mine) / args.students
            print(f"{path} path, CPU per submission ({cpu_measure()}, whole run): {per_sub:.1f} s → "
                  f"at most {120 / per_sub:.1f} submissions/min on 2 idle cores")
    print("fixed costs per run: " + ", ".join(f"{k} {v:.0f} s" for k, v in fixed.items() if k != "autograde"))
    print(f"\none submission of {args.assignment}, autograded alone")
    for name, seconds in parts.items():
        print(f"  {name:44} {seconds:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
