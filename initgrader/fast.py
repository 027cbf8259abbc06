"""The fast path (issue 19): one student's assignments autograded in one process, their
kernels forked from one parent that imported the heavy libraries once.

    outcomes = run_student([job_00, job_01, …], experiments={"01-variance": {...}, …})

Each ``Job`` (``initgrader.job``) is prepared exactly as the full path prepares it — its own
private course root, scratch gradebook, seeds and release — and its ``Outcome`` is collected
the same way, so the head commits both paths alike. Three things differ:

- one ``python -m initgrader.fast PLAN`` process runs nbgrader's autograde for every job in
  turn (nbgrader's start, ~1 CPU-s, is paid once per student instead of once per notebook);
- its ``IsolatedExecute`` forks each notebook's kernel from the student's parent
  (``initgrader.forked``): NumPy, SciPy, PyTorch, TensorFlow and Keras are imported once;
- cells the instructor tagged ``experiment`` in ``solutions/`` and that the student left as
  released (same cell id, same source) are not run (``IsolatedExecute.experiments_file``);
  no grade reads their outputs (``tests/test_experiment_tags.py``).

Everything else — staging, confinement, the proxy, hidden seeds, the time budget, error
outputs, restarts — is the full path's code. ``tests/test_fast_path.py`` checks that both
paths give the same points per cell.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import job as jobs


def run_student(student_jobs: list[jobs.Job], experiments: dict[str, dict[str, dict[str, str]]] | None = None,
                scratch: str | os.PathLike | None = None) -> list[jobs.Outcome]:
    """Autograde one student's ``student_jobs`` (one per assignment) in one process.
    ``experiments``: assignment → notebook → {cell id: source hash} of tagged cells."""
    if len({j.student for j in student_jobs}) > 1:
        raise ValueError("a fast-path run grades one student; received jobs of "
                         f"{sorted({j.student for j in student_jobs})}")
    if not all(j.sandbox for j in student_jobs):
        raise ValueError("the fast path runs kernels only confined: a job has sandbox=False (use the full path)")
    private = Path(tempfile.mkdtemp(prefix="initgrader-fast-", dir=scratch))
    try:
        plan = []
        for k, job_ in enumerate(student_jobs):
            folder = private / str(k)
            table = folder / "experiments.json"
            folder.mkdir()
            table.write_text(json.dumps((experiments or {}).get(job_.assignment, {})))
            plan.append({"arguments": jobs.prepare(job_, folder, experiments=table), "root": str(folder / "root"),
                         "log": str(folder / "autograde.log")})
        (private / "plan.json").write_text(json.dumps(plan))
        began = time.monotonic()
        code = jobs.run_limited([sys.executable, "-m", "initgrader.fast", str(private / "plan.json")],
                                cwd=private, env=jobs._environment(student_jobs[0].threads),
                                limit=sum(j.limit for j in student_jobs), log=private / "fast.log")
        seconds = time.monotonic() - began
        ran = _read_results(private / "results.json")
        outcomes = []
        for k, job_ in enumerate(student_jobs):
            result = ran.get(str(k), {})
            code_k = result.get("code") if code is not None else None
            if code is not None and "code" not in result:  # the runner died before this job ended
                code_k = code if code != 0 else 1
            outcome = jobs.collect(job_, private / str(k), code_k, result.get("seconds", seconds))
            outcome.cpu_s = {"autograde": result.get("cpu_s"), "runner_start": ran.get("start", {}).get("cpu_s")}
            if "code" not in result:
                outcome.log += (private / "fast.log").read_bytes() if (private / "fast.log").exists() else b""
            outcomes.append(outcome)
        return outcomes
    finally:
        shutil.rmtree(private, ignore_errors=True)


@dataclass
class StudentJobs:
    """One student's fast-path work as it travels to a worker (local thread or Dask): their
    jobs, one per assignment, and the experiment cells of those assignments."""

    student: str
    jobs: list[jobs.Job]
    experiments: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def run(self, scratch: str | os.PathLike | None = None) -> list[jobs.Outcome]:
        return run_student(self.jobs, self.experiments, scratch)


def run_on_worker(work: StudentJobs) -> list[jobs.Outcome]:
    """``StudentJobs.run`` as a Dask task (the same test-only poison hook as ``job.run_on_worker``)."""
    if os.environ.get(jobs.POISON_VARIABLE) and os.environ[jobs.POISON_VARIABLE] == work.student:
        os._exit(70)
    return work.run()


def _read_results(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- the runner process

def autograde_here(arguments: list[str]) -> int:
    """``nbgrader ARGUMENTS`` in this process; its exit status."""
    from nbgrader.apps.autogradeapp import AutogradeApp
    from nbgrader.apps.nbgraderapp import NbGraderApp

    from jupyter_core.application import NoStart

    app = NbGraderApp()
    try:
        app.initialize(arguments)
        app.start()
        return 0
    except NoStart:  # how a Jupyter application says its subcommand ran
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        try:
            app.reset()  # its log handlers, and its subcommand's
        except Exception:  # noqa: BLE001 — a failed reset must not hide the status
            pass
        for cls in (AutogradeApp, NbGraderApp):
            cls.clear_instance()


def main(plan_path: str) -> int:
    """Run every autograde of ``plan_path`` (written by ``run_student``) with forked kernels;
    each one's output goes to its own log, its status and seconds to ``results.json``."""
    sys.modules.setdefault("rfc3987_syntax", None)  # as initgrader.nbgrader_main
    from nbgrader.apps.autogradeapp import AutogradeApp  # noqa: F401 — imported here, counted as the start

    from . import execute, forked  # noqa: F401

    folder = Path(plan_path).parent
    plan = json.loads(Path(plan_path).read_text())
    results: dict[str, dict] = {"start": {"cpu_s": round(time.process_time(), 3)}}  # imports: nbgrader, initgrader
    forked.CURRENT = kernels = forked.ForkedKernels(log=folder / "parent.log")
    saved = os.dup(1), os.dup(2)
    try:
        for k, entry in enumerate(plan):
            with open(entry["log"], "ab") as log:
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
            os.chdir(entry["root"])
            began, cpu = time.monotonic(), time.process_time()
            code = autograde_here(entry["arguments"])
            sys.stdout.flush()
            sys.stderr.flush()
            results[str(k)] = {"code": code, "seconds": round(time.monotonic() - began, 3),
                               "cpu_s": round(time.process_time() - cpu, 3)}
            (folder / "results.json").write_text(json.dumps(results))
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        print(json.dumps({"parent_starts": kernels.server.starts, "parent_imports_s": round(kernels.server.imports_s, 3)}))
        kernels.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
