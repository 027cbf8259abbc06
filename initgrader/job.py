"""One student's autograde as a self-contained job: what it needs goes in as bytes, it runs
in a private course root of its own, and what the head commits comes back as bytes.

    outcome = run(Job(assignment, student, submission={...}, release={...}, config=b"…",
                      gradebook=b"…", seeds={...}, timeout=120, budget=300.0))

The same job runs in a worker thread of ``tools/grade.py``, on a Dask worker of another
machine or in a shard: no shared file system, no view of the course root. The private root
holds the course's ``nbgrader_config.py``, the release of the assignment (the rebuild reads
it), the student's submission and a scratch copy of the gradebook with the assignment
registered (the hidden tests are in it). The hidden seeds come derived by the head
(``initgrader.hidden_seeds``): a job never holds the course secret. The head alone writes
the real gradebook, the course root's ``autograded/`` and ``feedback/`` and ``grades.csv``,
from the outcome.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Variables a job's nbgrader process must not inherit (the secret's file, database URLs).
WITHHELD = ("INITCOURSE_SECRET_FILE",)


@dataclass
class Job:
    """Everything one student's autograde needs. Paths in ``submission`` and ``release`` are
    relative to the submission folder and to ``course/<assignment>/``."""

    assignment: str
    student: str
    submission: dict[str, bytes]
    release: dict[str, bytes]
    config: bytes
    gradebook: bytes
    seeds: dict[str, int] = field(default_factory=dict)
    timeout: int = 120
    budget: float = 0.0
    sandbox: bool = True
    threads: int = 0  # BLAS/OpenMP threads for the kernel (0: leave the variables alone)
    limit: float = 3600.0  # wall-clock seconds for the whole autograde
    release_directory: str = "course"


@dataclass
class Outcome:
    """What the head commits: the scratch gradebook after autograde (this student's rows are
    copied from it), the autograded notebook folder, the log and the execute step's report."""

    student: str
    code: int | None  # nbgrader's exit status; None when killed at the job's limit
    seconds: float
    gradebook: bytes
    autograded: dict[str, bytes]
    log: bytes
    report: list[dict]
    cpu_s: dict = field(default_factory=dict)  # the fast path's runner: this job's and its start's (the bench's)


def run(job: Job, scratch: str | os.PathLike | None = None) -> Outcome:
    """Autograde ``job`` in a fresh private course root (under ``scratch``, removed after)."""
    private = Path(tempfile.mkdtemp(prefix="initgrader-job-", dir=scratch))
    try:
        arguments = prepare(job, private)
        began = time.monotonic()
        code = run_limited([sys.executable, "-m", "initgrader.nbgrader_main", *arguments], cwd=private / "root",
                           env=_environment(job.threads), limit=job.limit, log=private / "autograde.log")
        return collect(job, private, code, time.monotonic() - began)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def prepare(job: Job, private: Path, *, experiments: Path | None = None) -> list[str]:
    """Write ``job``'s private course root under ``private``; return nbgrader's arguments
    (``autograde …``) for it. ``experiments`` (the fast path): the file of experiment cells
    to skip."""
    root = private / "root"
    _write_tree(root / job.release_directory / job.assignment, job.release)
    _write_tree(root / "submitted" / job.student / job.assignment, job.submission)
    (root / "nbgrader_config.py").write_bytes(job.config)
    (root / "gradebook.db").write_bytes(job.gradebook)
    seeds, report = private / "seeds.json", private / "report.jsonl"
    seeds.write_text(json.dumps(job.seeds))
    arguments = ["autograde", job.assignment, f"--student={job.student}", "--force", f"--Execute.timeout={job.timeout}",
                 f"--IsolatedExecute.sandbox={job.sandbox}", f"--IsolatedExecute.submission_budget={job.budget}",
                 f"--IsolatedExecute.report_file={report}", f"--IsolatedExecute.seeds_file={seeds}",
                 f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}"]
    if experiments is not None:
        arguments.append(f"--IsolatedExecute.experiments_file={experiments}")
    return arguments


def collect(job: Job, private: Path, code: int | None, seconds: float) -> Outcome:
    """What ``job``'s autograde left under ``private``, as the head commits it."""
    root, log = private / "root", private / "autograde.log"
    graded = root / "autograded" / job.student / job.assignment
    return Outcome(job.student, code, seconds, (root / "gradebook.db").read_bytes(), _read_tree(graded),
                   log.read_bytes() if log.exists() else b"", _report(private / "report.jsonl"))


def _environment(threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in WITHHELD}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # nbgrader runs alembic
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, str(threads))
    return env


#: Run before a Python command line (``[*DIE_WITH_PARENT, str(os.getpid()), "-m", …]``): asks
#: Linux to SIGKILL the process when the thread that started it dies (PR_SET_PDEATHSIG = 1,
#: kept across exec), then execs the command. A worker killed mid-job (Dask restarting it,
#: the OOM killer) so takes its nbgrader with it, and nbgrader's confined kernel follows
#: (bwrap --die-with-parent): no orphan autograde keeps grading, and using CPU, for nobody.
DIE_WITH_PARENT = [sys.executable, "-c",
                   "import ctypes, os, signal, sys\n"
                   "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
                   "if os.getppid() != int(sys.argv[1]):\n"  # the parent died before prctl
                   "    os._exit(137)\n"
                   "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"]


def run_limited(cmd: list[str], *, cwd: Path, env: dict, limit: float, log: Path) -> int | None:
    """Run ``cmd`` with its output in ``log``; past ``limit`` seconds kill it and everything it
    started. Returns the exit status, or None when killed. A Python command (``cmd[0]`` is
    this interpreter) dies with this process (``DIE_WITH_PARENT``)."""
    if cmd[0] == sys.executable and sys.platform.startswith("linux"):
        cmd = [*DIE_WITH_PARENT, str(os.getpid()), *cmd[1:]]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            return process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            kill_tree(process)
            return None
        except BaseException:
            kill_tree(process)
            raise


def kill_tree(process: subprocess.Popen) -> None:
    """Kill ``process`` and its descendants (kernels run in their own session, so a
    process-group kill would miss them; psutil comes with ipykernel)."""
    try:
        import psutil

        children = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing, or the process already gone
        children = []
    for child in children:
        try:
            child.kill()
        except Exception:
            pass
    process.kill()
    process.wait()


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` under ``folder``; a path leaving the folder is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.resolve()
    for relative, data in files.items():
        target = (folder / relative).resolve()
        if base not in target.parents:
            raise ValueError(f"a job's file path must stay inside its folder; received {relative!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as f:
            f.write(data)


def _read_tree(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.is_symlink()}


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` (links skipped), by relative path: a job's input."""
    return _read_tree(Path(folder))


def _report(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []


# --------------------------------------------------------------------------- on a Dask worker

#: Test-only fault hook: a worker whose environment names a student here dies (os._exit)
#: whenever it is handed that student's job — a "poison" task, for tests/test_dask.py.
POISON_VARIABLE = "INITGRADER_TEST_POISON"


def run_on_worker(job: Job) -> Outcome:
    """``run`` as a Dask task: in the worker's own temporary folder."""
    if os.environ.get(POISON_VARIABLE) and os.environ[POISON_VARIABLE] == job.student:
        os._exit(70)
    return run(job)


def worker_fingerprint() -> str:
    """``fingerprint()`` as a worker computes it (what the head runs on every Dask worker)."""
    return fingerprint()


def fingerprint() -> str:
    """What a worker must share with the head to grade alike: the code of initkit and
    initgrader as installed, and the versions of the packages grading runs on."""
    import hashlib
    from importlib import metadata

    import initgrader
    import initkit

    digest = hashlib.sha256()
    for package in (initkit, initgrader):
        folder = Path(package.__file__).parent
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder.parent)).encode() + b"\0" + path.read_bytes())
    for name in ("nbgrader", "nbclient", "nbconvert", "ipykernel", "jupyter_client", "numpy", "scipy", "torch",
                 "keras", "tensorflow-cpu", "tensorflow", "distributed"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}=={version}\n".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- jobs as files

#: A job or an outcome as a zip file: ``manifest.json`` (the scalar fields) and one member
#: per file. No pickle: a shard worker reads data, never code.
def save_job(job: Job, path: Path) -> None:
    fields = {k: v for k, v in job.__dict__.items() if k not in ("submission", "release", "config", "gradebook")}
    _save_zip(path, fields, {"config": job.config, "gradebook.db": job.gradebook},
              {"submission": job.submission, "release": job.release})


def load_job(path: Path) -> Job:
    fields, blobs, trees = _load_zip(path, ("submission", "release"))
    return Job(submission=trees["submission"], release=trees["release"], config=blobs["config"],
               gradebook=blobs["gradebook.db"], **fields)


def save_outcome(outcome: Outcome, path: Path) -> None:
    fields = {k: v for k, v in outcome.__dict__.items() if k not in ("gradebook", "autograded", "log")}
    _save_zip(path, fields, {"gradebook.db": outcome.gradebook, "log": outcome.log},
              {"autograded": outcome.autograded})


def load_outcome(path: Path) -> Outcome:
    fields, blobs, trees = _load_zip(path, ("autograded",))
    return Outcome(gradebook=blobs["gradebook.db"], log=blobs["log"], autograded=trees["autograded"], **fields)


def _save_zip(path: Path, fields: dict, blobs: dict[str, bytes], trees: dict[str, dict[str, bytes]]) -> None:
    import zipfile

    temporary = Path(f"{path}.part")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(fields))
        for name, data in blobs.items():
            archive.writestr(f"blob/{name}", data)
        for tree, files in trees.items():
            for relative, data in files.items():
                archive.writestr(f"tree/{tree}/{relative}", data)
    temporary.replace(path)


def _load_zip(path: Path, tree_names: tuple[str, ...]) -> tuple[dict, dict[str, bytes], dict[str, dict[str, bytes]]]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        fields = json.loads(archive.read("manifest.json"))
        blobs, trees = {}, {name: {} for name in tree_names}
        for member in archive.namelist():
            if member.startswith("blob/"):
                blobs[member[5:]] = archive.read(member)
            elif member.startswith("tree/"):
                tree, relative = member[5:].split("/", 1)
                if tree in trees:
                    trees[tree][relative] = archive.read(member)
    return fields, blobs, trees


def run_shard(folder: Path, shard: int, shards: int) -> list[Path]:
    """Run every job ``folder/jobs/job-<k>.zip`` with ``k % shards == shard`` and write its
    outcome to ``folder/outcomes/job-<k>.zip`` (one already there is kept: a rerun resumes)."""
    if not 0 <= shard < shards:
        raise ValueError(f"a shard must be i/N with 0 ≤ i < N; received {shard}/{shards}")
    (folder / "outcomes").mkdir(exist_ok=True)
    written = []
    for path in sorted((folder / "jobs").glob("job-*.zip")):
        k = int(path.stem.split("-")[1])
        target = folder / "outcomes" / path.name
        if k % shards != shard or target.exists():
            continue
        save_outcome(run(load_job(path)), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m initgrader.job FOLDER --shard i/N``: one shard of a prepared class."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m initgrader.job", description=main.__doc__)
    parser.add_argument("folder", help="the folder `grade --prepare` wrote (jobs/ inside)")
    parser.add_argument("--shard", default="0/1", help="i/N: run jobs k with k mod N = i (default 0/1: all)")
    args = parser.parse_args(argv)
    try:
        if not re.fullmatch(r"\d+/\d+", args.shard):
            raise ValueError(f"--shard must be i/N (two whole numbers, 0 ≤ i < N); received {args.shard!r}")
        shard, shards = (int(n) for n in args.shard.split("/"))
        if not (Path(args.folder) / "jobs").is_dir():
            raise ValueError(f"{args.folder} has no jobs/ folder: prepare one with `grade NN-topic --prepare FOLDER`")
        written = run_shard(Path(args.folder), shard, shards)
    except ValueError as error:
        print(f"[job] error: {error}", file=sys.stderr)
        return 2
    print(f"[job] shard {args.shard}: {len(written)} outcome(s) written to {Path(args.folder) / 'outcomes'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
