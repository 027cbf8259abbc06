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

import atexit
import functools
import os
import shutil
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
    """CPU seconds spent by this process and everything it starts (sandboxed kernels, Dask
    workers), read from a CPU-accounting cgroup the bench joins on its first call (its
    children inherit it; the sandbox moves kernels into memory and pids cgroups only). Where
    no such cgroup can be made (not root, no cgroup file system): the CPU seconds the whole
    machine has been busy (/proc/stat), niced processes left out — then run on an idle
    machine. A sandboxed kernel is reaped inside its PID namespace, so rusage never sees it."""
    group = _cpu_group()
    if group is not None:
        return _usage_seconds(group)
    user, _nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in open("/proc/stat").readline().split()[1:9])
    return (user + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _usage_seconds(usage: Path) -> float:
    """CPU seconds in a cgroup's usage file: v1 ``cpuacct.usage`` (ns), v2 ``cpu.stat`` (``usage_usec``)."""
    if usage.name == "cpuacct.usage":
        return int(usage.read_text()) / 1e9
    return int(dict(line.split() for line in usage.read_text().splitlines())["usage_usec"]) / 1e6


@functools.cache
def _cpu_group() -> Path | None:
    """The usage file of a cgroup of our own (v1 cpuacct, or v2), this process moved into it."""
    name = f"initcourse-bench-{os.getpid()}"
    for folder, usage in ((Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage"), (Path("/sys/fs/cgroup/unified"), "cpu.stat"),
                          (Path("/sys/fs/cgroup"), "cpu.stat")):
        try:
            if not (folder / "cgroup.procs").exists():
                continue
            group = folder / name
            group.mkdir(exist_ok=True)
            (group / "cgroup.procs").write_text(str(os.getpid()))
            _usage_seconds(group / usage)
        except (OSError, ValueError, KeyError):
            continue
        atexit.register(_leave_cpu_group, folder, group)
        return group / usage
    return None


def _leave_cpu_group(parent: Path, group: Path) -> None:
    try:
        (parent / "cgroup.procs").write_text(str(os.getpid()))
        group.rmdir()
    except OSError:
        pass


def cpu_measure() -> str:
    """How ``busy_seconds`` measures, for the bench's headings."""
    return ("CPU s of the bench and its children (cgroup)" if _cpu_group() is not None
            else "machine-wide busy CPU s (/proc/stat: run on an idle machine)")


def autograde_seconds(root: CourseRoot, assignment: str, student: str) -> tuple[float, float]:
    """(wall, machine-wide busy CPU) of one autograde: run it on an otherwise idle machine."""
    before, start = busy_seconds(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--force"],
                   cwd=root.path, check=True, capture_output=True)
    return time.perf_counter() - start, busy_seconds() - before


def notebook_rows(assignments: list[str]) -> list[str]:
    """The table, printed row by row as it is measured (and returned)."""
    rows = ["| notebook | " + " | ".join(f"{w} wall / CPU s" for w in WAYS) + " |",
            "|---|" + "---|" * len(WAYS)]
    print("\n".join(rows), flush=True)
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


#: The kernel half for the proxy rows: a process of its own whose main thread runs the serve
#: loop, as in a kernel (the watchdog is live only there).
PROXY_KERNEL = r"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from initgrader import kernel_serve

def var_of_product(mx, vx, my, vy):
    return vx * vy + vx * my**2 + vy * mx**2

def xavier_uniform(shape, gain=1.0, rng=None):
    a = gain * (6 / (shape[0] + shape[1])) ** 0.5
    return (rng or np.random.default_rng()).uniform(-a, a, size=shape)

kernel_serve.serve(sys.argv[1])
"""


def proxy_rows(repeats: int = 3) -> list[str]:
    """Per call through the wire (best of ``repeats`` rounds) and in the kernel's own process."""
    import socket

    import numpy as np

    from initgrader import proxy

    namespace: dict = {"np": np}
    exec(PROXY_KERNEL.split("from initgrader import kernel_serve", 1)[1].rsplit("kernel_serve.serve", 1)[0], namespace)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "s.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        kernel = subprocess.Popen([sys.executable, "-c", PROXY_KERNEL, path, str(REPO)])
        channel = proxy.Channel(listener.accept()[0], 3600)
        listener.close()
        remote = {name: proxy.RemoteFunction(channel, name, proxy._resolve(channel, name))
                  for name in ("var_of_product", "xavier_uniform")}

        def per_call(fn, args, kwargs, n):
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(n):
                    fn(*args, **kwargs)
                best = min(best, (time.perf_counter() - start) / n * 1e3)
            return best

        rows = ["| proxy call | through the wire, ms | in the kernel's own process, ms |", "|---|---|---|"]
        for label, name, args, n in (("a scalar (var_of_product)", "var_of_product", (1.0, 2.0, 3.0, 4.0), 2000),
                                     ("an array of 1.2·10⁵ values (xavier_uniform)", "xavier_uniform", ((300, 400),), 200)):
            kwargs = {"rng": np.random.default_rng(0)} if name == "xavier_uniform" else {}
            rows.append(f"| {label} | {per_call(remote[name], args, kwargs, n):.3f} | "
                        f"{per_call(namespace[name], args, kwargs, n):.3f} |")
        channel.close()
        kernel.wait(timeout=30)
    return rows


def sandbox_start_rows(repeats: int = 3) -> list[str]:
    """Starting a kernel and getting its first reply: plain, and confined (staging a folder,
    cgroups, bubblewrap) as IsolatedExecute does for every notebook."""
    import statistics

    from jupyter_client.manager import start_new_kernel

    from initgrader import sandbox

    def plain() -> None:
        manager, client = start_new_kernel(kernel_name="python3")
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    def confined() -> None:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "notebook.ipynb").write_text("{}")
            confinement, _, private = sandbox.new_confinement(Path(folder))
            try:
                manager = sandbox.SandboxedKernelManager(kernel_name="python3", confinement=confinement,
                                                         transport="ipc", ip=str(confinement.sockets / "k"))
                manager.connection_file = str(confinement.sockets / "kernel.json")
                from jupyter_core.utils import run_sync

                run_sync(manager.start_kernel)(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                client = manager.client()
                client.start_channels()
                run_sync(client.wait_for_ready)(timeout=60)
                client.stop_channels()
                run_sync(manager.shutdown_kernel)(now=True)
            finally:
                sandbox.remove_cgroups(confinement.cgroups)
                shutil.rmtree(private, ignore_errors=True)

    rows = ["| kernel start to first reply | median of 3, s |", "|---|---|"]
    for label, start in (("plain (nbgrader's Execute)", plain), ("confined (IsolatedExecute)", confined)):
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            start()
            times.append(time.perf_counter() - began)
        rows.append(f"| {label} | {statistics.median(times):.2f} |")
    return rows


def nbgrader_start_rows(repeats: int = 3) -> list[str]:
    """CPU seconds of starting an nbgrader process (``autograde --help``: imports and
    configuration, no work), as ``python -m nbgrader`` and as the grader starts it."""
    import resource
    import statistics

    def cpu(module: str) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", module, "autograde", "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    rows = ["| an nbgrader process's start | median of 3, CPU s |", "|---|---|"]
    for label, module in (("`python -m nbgrader`", "nbgrader"),
                          ("`python -m initgrader.nbgrader_main` (no rfc3987_syntax)", "initgrader.nbgrader_main")):
        rows.append(f"| {label} | {statistics.median(cpu(module) for _ in range(repeats)):.2f} |")
    return rows


def main(argv: list[str]) -> int:
    assignments = argv or ["01-variance", "03-xavier", "08-whole-models"]
    notebook_rows(assignments)
    print()
    print("\n".join(proxy_rows()))
    print()
    print("\n".join(sandbox_start_rows()))
    print()
    print("\n".join(nbgrader_start_rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
