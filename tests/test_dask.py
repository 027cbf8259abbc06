"""Grading a class on a real Dask cluster (``tools/grade.py --dask ADDRESS``): a ``dask
scheduler`` and two ``dask worker --no-nanny`` processes on localhost (no nanny: a nanny that
restarts its worker would hide a kill). While the class is graded, the test kills a worker
the moment it reports a student's job started; a "poison" student's job kills whichever
worker runs it, every time (the test-only hook ``initgrader.job.POISON_VARIABLE``), with the
scheduler's ``allowed-failures`` set to 1 and every dead worker restarted by the test.

Asserted: the killed worker's student is re-run elsewhere; every student is committed to
the gradebook exactly once, by the head, with the points the catalogue predicts (no
bystander of the poison is blamed for it: one job per worker thread on the cluster, and a
KilledWorker is tried again alone); the poison ends as a failed submission (Dask's
KilledWorker) without stopping the class."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from pipeline import CourseRoot

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

VARIANCE = "01-variance"
STUDENTS = {
    "solver": {"01-var_of_product": "solution"},
    "no-mean-terms": {"01-var_of_product": "var_of_product/product_of_variances"},
    "blank": {},
    "sign-lost": {"01-var_of_product": "var_of_product/sign_lost"},
    "poison": {"01-var_of_product": "solution"},
}


class Cluster:
    """A scheduler and two worker processes; dead workers are started again while ``keep`` is set."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / "scheduler.json"
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(self.file),
             "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0", "--no-show"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "scheduler.log", "wb"))
        deadline = time.monotonic() + 60
        while not self.file.exists():
            assert time.monotonic() < deadline and self.scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers: list[subprocess.Popen] = []
        self.started = 0
        self.keep = True
        for _ in range(2):
            self.start_worker()
        self.watcher = threading.Thread(target=self.restart_dead, daemon=True)
        self.watcher.start()

    def start_worker(self) -> None:
        self.started += 1
        env = {**os.environ, "INITGRADER_TEST_POISON": "poison"}
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--no-nanny", "--nthreads", "1",
             "--name", f"w{self.started}", "--local-directory", str(self.folder / f"w{self.started}"),
             "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(self.folder / f"w{self.started}.log", "wb")))

    def restart_dead(self) -> None:
        while self.keep:
            alive = [w for w in self.workers if w.poll() is None]
            for _ in range(2 - len(alive)):
                self.start_worker()
            time.sleep(0.3)

    def close(self) -> None:
        self.keep = False
        self.watcher.join(timeout=5)
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def kill_a_worker_running(cluster: Cluster, victims: set[str], killed: list) -> None:
    """Once a worker reports a job of one of ``victims`` started, SIGKILL that worker."""
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not killed:
            for worker, keys in client.processing().items():
                started = [k for k in keys if any(f"grade-{name}-" in str(k) for name in victims)]
                if started:
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(str(started[0]))
                    return
            time.sleep(0.1)


def test_a_class_on_a_real_dask_cluster_survives_a_killed_worker_and_a_poison_job(tmp_path, monkeypatch):
    from initgrader import job
    from tools import grade

    root = CourseRoot.create(tmp_path / "class", [VARIANCE])
    expected = root.submit_class(VARIANCE, STUDENTS)
    commits: dict[str, int] = {}
    real_copy = grade.copy_submission

    def counting_copy(source_url, target_url, course, student):
        commits[student] = commits.get(student, 0) + 1
        return real_copy(source_url, target_url, course, student)

    monkeypatch.setattr(grade, "copy_submission", counting_copy)
    (tmp_path / "dask").mkdir()
    cluster = Cluster(tmp_path / "dask")
    killed: list[str] = []
    try:
        killer = threading.Thread(target=kill_a_worker_running,
                                  args=(cluster, {"solver", "no-mean-terms", "sign-lost"}, killed), daemon=True)
        killer.start()
        run = grade.grade_class(grade.Course.load(root.path, VARIANCE), progress=False, budget=120.0,
                                dask=cluster.address)
        killer.join(timeout=10)
    finally:
        cluster.close()

    assert killed, "no worker was killed while running a job"
    # two at the start, one after the test's kill, and the poison's: with allowed-failures 1 it
    # kills two workers among the class, then two more when it is tried alone
    assert cluster.started >= 7, cluster.started
    assert commits == {name: 1 for name in STUDENTS}, commits  # each committed once, by the head
    assert run.results["poison"].status == "failed"
    assert any("KilledWorker" in p for p in run.results["poison"].problems), run.results["poison"].problems
    for name in STUDENTS:
        scores = root.cell_scores(name, VARIANCE)
        if name == "poison":
            assert set(scores.values()) == {0.0}
        else:
            assert run.results[name].status == "graded", (name, run.results[name].problems)
            assert scores == expected[name], name
    assert job.POISON_VARIABLE == "INITGRADER_TEST_POISON"


def test_workers_with_other_code_are_refused(tmp_path, monkeypatch):
    """The head compares its fingerprint with every worker's before grading."""
    from tools import grade

    root = CourseRoot.create(tmp_path / "class", [VARIANCE])
    root.submit_entries("solver", VARIANCE, {})
    monkeypatch.setattr(grade.job, "fingerprint", lambda: "head-only")  # the local workers compute their own
    with pytest.raises(grade.GradeError, match="run other code or package versions than this head"):
        grade.grade_class(grade.Course.load(root.path, VARIANCE), progress=False, budget=60.0, dask="local:1")


#: tests/test_integrity.py's attacks on the processes around the kernel, here on a real
#: cluster: SIGKILL every PID it can name and its parent, os._exit when called, fork until
#: refused. Each must score what its honest control scores and kill no Dask worker.
WORKER_ATTACKS = ("kill_everything", "exit_at_call", "forks")


def test_attacks_on_the_grading_processes_never_kill_a_dask_worker(tmp_path):
    from test_integrity import ANSWER, ATTACKS, RIGHT
    from tools import grade

    root = CourseRoot.create(tmp_path / "class", [VARIANCE])
    expected = {"control_solver": 3.0}
    root.submit("control_solver", VARIANCE, {ANSWER: RIGHT})
    for name in WORKER_ATTACKS:
        source, points = ATTACKS[name]
        root.submit(name, VARIANCE, {ANSWER: source})
        expected[name] = float(points)
    (tmp_path / "dask").mkdir()
    cluster = Cluster(tmp_path / "dask")
    try:
        run = grade.grade_class(grade.Course.load(root.path, VARIANCE), progress=False, budget=120.0,
                                dask=cluster.address)
        alive = [w.poll() is None for w in cluster.workers]
    finally:
        cluster.close()

    assert cluster.started == 2 and alive == [True, True], (cluster.started, alive)  # no worker died
    assert {name: run.results[name].score for name in expected} == expected
    assert all(run.results[name].status == "graded" for name in expected), \
        {name: run.results[name].problems for name in expected}


class _StandIn:
    """A stand-in for a grading job on an in-process cluster (module level: Dask pickles the
    task's function by reference). It records how many jobs ran when each try started."""

    lock = threading.Lock()
    running = 0
    tries: dict = {}
    seen: dict = {}
    held: list = []  # tasks the worker held (running or queued there) when a try started

    @classmethod
    def reset(cls) -> None:
        cls.running, cls.tries, cls.seen, cls.held = 0, {}, {}, []


def _stand_in_job(job_: str) -> str:
    from distributed import KilledWorker, get_worker

    tasks = get_worker().state.tasks.values()
    with _StandIn.lock:
        _StandIn.held.append(sum(t.state in ("executing", "ready", "waiting", "constrained") for t in tasks))
        _StandIn.running += 1
        _StandIn.tries[job_] = _StandIn.tries.get(job_, 0) + 1
        _StandIn.seen.setdefault(job_, []).append(_StandIn.running)
        attempt = _StandIn.tries[job_]
    try:
        time.sleep(0.3)
        if job_ == "poison" or (job_ == "bystander" and attempt == 1):
            raise KilledWorker(job_, types.SimpleNamespace(address="inproc://stand-in"), 1)
        return f"graded {job_}"
    finally:
        with _StandIn.lock:
            _StandIn.running -= 1


@pytest.mark.parametrize("threads", [1, 2])
def test_the_dask_runner_keeps_one_job_per_thread_and_tries_a_killedworker_again_alone(tmp_path, monkeypatch, threads):
    """DaskRunner's scheduling, on an in-process cluster with a stand-in job: never more jobs
    on the cluster than worker threads; a job that ends as KilledWorker while others ran
    (a bystander) is tried again alone and graded; one that ends so alone fails for good."""
    from distributed import KilledWorker, LocalCluster

    from tools import grade

    _StandIn.reset()
    monkeypatch.setattr(grade.job, "run_on_worker", _stand_in_job)
    cluster = LocalCluster(n_workers=threads, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        runner = grade.DaskRunner(cluster.scheduler_address, tmp_path)
        names = ["a", "bystander", "b", "poison", "c", "d"]
        futures = {runner.submit(name, name): name for name in names}
        results = {}
        for future in runner.completed(futures):
            try:
                results[futures[future]] = future.result()
            except KilledWorker:
                results[futures[future]] = "KilledWorker"
        runner.close()
    finally:
        cluster.close()

    seen, tries = _StandIn.seen, _StandIn.tries
    assert results == {**{n: f"graded {n}" for n in names}, "poison": "KilledWorker"}
    assert max(max(counts) for counts in seen.values()) <= threads, seen  # one job per thread, at most
    assert max(_StandIn.held) == 1, _StandIn.held  # and none queued behind it on its worker
    assert tries["bystander"] == 2 and seen["bystander"][1] == 1, seen  # tried again, alone
    assert tries["poison"] == 2 and seen["poison"][1] == 1, seen  # failed only when alone


def test_the_fast_path_on_a_real_dask_cluster_grades_each_student_once_and_fails_the_poison(tmp_path, monkeypatch):
    """``grade 00-setup 01-variance --fast --dask``: one task per student carrying both
    assignments; the poison ends as KilledWorker in both, its classmates graded in full."""
    from tools import grade

    setup = "00-setup"
    root = CourseRoot.create(tmp_path / "class", [setup, VARIANCE])
    students = {name: STUDENTS[name] for name in ("solver", "no-mean-terms", "poison")}
    expected = root.submit_class(VARIANCE, students)
    expected_setup = root.submit_class(setup, {name: {"00-sample_variance": "solution"} for name in students})
    commits: dict[tuple[str, str], int] = {}
    real_copy = grade.copy_submission

    def counting_copy(source_url, target_url, course, student):
        commits[(student, course.assignment)] = commits.get((student, course.assignment), 0) + 1
        return real_copy(source_url, target_url, course, student)

    monkeypatch.setattr(grade, "copy_submission", counting_copy)
    (tmp_path / "dask").mkdir()
    cluster = Cluster(tmp_path / "dask")
    try:
        runs = grade.grade_fast(root.path, [setup, VARIANCE], progress=False, budget=120.0, dask=cluster.address)
    finally:
        cluster.close()

    assert commits == {(name, a): 1 for name in students for a in (setup, VARIANCE)}, commits
    for run, want in zip(runs, (expected_setup, expected)):
        assignment = run.course.assignment
        assert run.results["poison"].status == "failed"
        assert any("KilledWorker" in p for p in run.results["poison"].problems), run.results["poison"].problems
        assert set(root.cell_scores("poison", assignment).values()) == {0.0}
        for name in ("solver", "no-mean-terms"):
            assert run.results[name].status == "graded", (name, run.results[name].problems)
            assert root.cell_scores(name, assignment) == want[name], (name, assignment)
