"""What the isolated grader costs (docs/grading.md): per notebook, the wall-clock and CPU time
of ``nbgrader autograde`` of one solved submission, three ways in one run —

- ``nbgrader``: nbgrader 0.9.6's own Execute (checks in the student's kernel; forgeable),
- ``unconfined``: our IsolatedExecute without bubblewrap (verdicts in the grader),
- ``sandboxed``: IsolatedExecute with bubblewrap and cgroups (what grading uses);

and the proxy's round trip per call (scalar and a 1.2·10⁵-value array)::

    python3 tools/bench_isolation.py [01-variance 03-xavier …]

Timings on these shared 2-core machines are noisy: compare the columns of one run. CPU is
the machine's busy time during each autograde (/proc/stat), so run it on an idle machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools.classroom import CourseRoot  # noqa: E402

NBGRADER_OWN = """
from nbgrader.preprocessors import Execute
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
"""
WAYS = {"nbgrader": NBGRADER_OWN, "unconfined": "\nc.IsolatedExecute.sandbox = False\n", "sandboxed": ""}


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (/proc/stat). A sandboxed kernel is reaped
    inside its PID namespace, so our rusage never sees its CPU time: measure the machine."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def autograde_seconds(root: CourseRoot, assignment: str, student: str) -> tuple[float, float]:
    """(wall, machine-wide busy CPU) of one autograde: run it on an otherwise idle machine."""
    before, start = busy_seconds(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--force"],
                   cwd=root.path, check=True, capture_output=True)
    return time.perf_counter() - start, busy_seconds() - before


def notebook_rows(assignments: list[str]) -> list[str]:
    rows = ["| notebook | " + " | ".join(f"{w} wall / CPU s" for w in WAYS) + " |",
            "|---|" + "---|" * len(WAYS)]
    for assignment in assignments:
        cells = []
        for way, config in WAYS.items():
            with tempfile.TemporaryDirectory() as tmp:
                root = CourseRoot.create(Path(tmp), [assignment])
                with open(root.path / "nbgrader_config.py", "a") as f:
                    f.write(config)
                root.submit("solver", assignment, {a: root.solution_answer(assignment, a)
                                                   for a in root.answer_ids(assignment)})
                wall, cpu = autograde_seconds(root, assignment, "solver")
                cells.append(f"{wall:.1f} / {cpu:.1f}")
        rows.append(f"| {assignment} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def proxy_rows() -> list[str]:
    import socket
    import threading

    import __main__
    import numpy as np

    from initgrader import kernel_serve, proxy

    def var_of_product(mx, vx, my, vy):
        return vx * vy + vx * my**2 + vy * mx**2

    def xavier_uniform(shape, gain=1.0, rng=None):
        a = gain * (6 / (shape[0] + shape[1])) ** 0.5
        return (rng or np.random.default_rng()).uniform(-a, a, size=shape)

    __main__.var_of_product, __main__.xavier_uniform = var_of_product, xavier_uniform
    grader, kernel = socket.socketpair()

    threading.Thread(target=kernel_serve.serve_connected, args=(kernel,), daemon=True).start()
    channel = proxy.Channel(grader, 3600)
    scalar = proxy.RemoteFunction(channel, "var_of_product", proxy._resolve(channel, "var_of_product"))
    array = proxy.RemoteFunction(channel, "xavier_uniform", proxy._resolve(channel, "xavier_uniform"))

    def per_call(fn, args, kwargs, n):
        start = time.perf_counter()
        for _ in range(n):
            fn(*args, **kwargs)
        return (time.perf_counter() - start) / n * 1e3

    rows = ["| proxy call | through the wire, ms | in-process, ms |", "|---|---|---|"]
    for label, remote, local, args, n in (
            ("scalar (var_of_product)", scalar, var_of_product, (1.0, 2.0, 3.0, 4.0), 2000),
            ("array of 1.2e5 values (xavier_uniform)", array, xavier_uniform, ((300, 400),), 200)):
        kwargs = {"rng": np.random.default_rng(0)} if "array" in label else {}
        rows.append(f"| {label} | {per_call(remote, args, kwargs, n):.3f} | {per_call(local, args, kwargs, n):.3f} |")
    channel.close()
    return rows


def main(argv: list[str]) -> int:
    assignments = argv or ["01-variance", "03-xavier", "08-whole-models"]
    print("\n".join(notebook_rows(assignments)))
    print()
    print("\n".join(proxy_rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
