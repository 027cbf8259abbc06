"""Grade a whole class in one command (COURSE.md §1, §7)::

    python3 tools/course.py grade 03-xavier            # or: make grade ASSIGNMENT=03-xavier
    python3 tools/course.py grade 03-xavier --workers 2 --timeout 60 --db postgresql://…
    python3 tools/course.py grade 01-variance 02-signal-propagation 03-xavier   # one job per student
    python3 tools/course.py grade 03-xavier --full      # full autograde: every cell, a kernel per notebook

By default a class is graded on the **fast path** (``grade_fast``, ``initgrader.fast``): one
job per student for every assignment named, the kernels forked from one confined parent per
student, cells tagged ``experiment`` skipped when left as released — the same points per cell
as full autograde (``tests/test_fast_path.py``, ``make same-grades``). ``--full`` (and
``--no-sandbox``, ``--prepare``, ``--merge``, which need it) grades each assignment by full
autograde (``grade_class``), whose feedback shows the experiments' outputs.

Takes every ``submitted/<student>/<assignment>/`` of an nbgrader course root (the repo root
by default, ``--root`` for another), runs ``nbgrader autograde`` once per student (in a job
of its own, below), in parallel on the available cores, with a progress bar; then ``nbgrader generate_feedback``
(``feedback/<student>/<assignment>/*.html``) and ``nbgrader export`` (``grades.csv``), and
prints a summary: per-student scores and problems, mean, distribution, most-failed cells.
The summary and one log per student go to ``grading/<assignment>/``.

**One writer.** Each student is graded by a self-contained job (``initgrader.job``): the
head hands it the submission, the release, the configuration, a scratch copy of the
gradebook with the assignment registered and the student's hidden seeds (derived here from
the course secret, which no job holds), all as bytes; the job autogrades in a private
course root of its own and returns the scratch gradebook, the autograded notebooks and its
log. Only this (head) process writes the real gradebook — SQLite by default, or a database
server (``--db postgresql://…``, or ``CourseDirectory.db_url`` in ``nbgrader_config.py``) —
the course root's ``autograded/``, ``grades.csv``, the feedback and the summary: as each
job ends (its processes gone; its confined kernel died with it) the head copies that
student's rows (timestamp, per-cell scores and comments, flags) into the real gradebook
through nbgrader's own ``Gradebook`` API. No job is handed the real gradebook's URL (a
server's password would be on its command line), no sandbox can see any gradebook, and
SQLite never meets two writers (``database is locked``). A run that is interrupted leaves
the real gradebook with every student finished so far; feedback, ``grades.csv`` and the
summary are written once every job of the run is over, and the summary is read back from
the gradebook.

With several workers, each autograde's kernel gets its share of the cores for BLAS/OpenMP
threads (``OMP_NUM_THREADS`` etc., unless set): one kernel alone already uses more than one
core in NumPy, and parallel kernels would otherwise oversubscribe them.

**What never stops a class run.** Each autograde is a separate process with a wall-clock
limit (``--submission-timeout``; by default long enough for every code cell to hit
``Execute.timeout``, so it only fires when nbgrader itself is stuck); past it the process and
its kernel are killed. A notebook that is not JSON, raises at import, hangs (nbgrader
interrupts the cell after ``Execute.timeout``; ``--timeout`` lowers it for a run), deletes
graded cells, edits locked cells (nbgrader restores them) or floods stderr (nbgrader keeps
1,000 lines) is graded and reported: every autograded test cell nbgrader could not score is
set to 0 (not left "needs manual grading"), and the summary says why.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # initgrader, when this script runs from a checkout without an install
from initgrader import hidden_seeds, job  # noqa: E402
from initgrader.job import kill_tree, run_limited  # noqa: E402,F401  (the tests use them from here)


class GradeError(Exception):
    """A problem with the command's input (assignment, course root, options): exit 2."""


# --------------------------------------------------------------------------- the course

@dataclass
class Course:
    """One assignment of an nbgrader course root, with the settings grading needs."""

    root: Path
    assignment: str
    db_url: str
    course_id: str = "initcourse"
    source_directory: str = "solutions"
    release_directory: str = "course"
    execute_timeout: int = 120
    secret_file: str = ""  # IsolatedExecute.secret_file: the hidden seeds' secret, read by the head only

    @classmethod
    def load(cls, root: Path, assignment: str, db_url: str | None = None) -> Course:
        """Read ``root/nbgrader_config.py``; check the assignment exists in its source directory."""
        root = Path(root).resolve()
        if not (root / "nbgrader_config.py").is_file():
            raise GradeError(f"{root} is not an nbgrader course root: it has no nbgrader_config.py")
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        folders = config.CourseDirectory
        course = cls(root=root, assignment=assignment,
                     db_url=db_url or folders.get("db_url") or f"sqlite:///{root / 'gradebook.db'}",
                     course_id=folders.get("course_id", cls.course_id),
                     source_directory=folders.get("source_directory", cls.source_directory),
                     release_directory=folders.get("release_directory", cls.release_directory),
                     execute_timeout=int(config.Execute.get("timeout", cls.execute_timeout)),
                     secret_file=str(config.IsolatedExecute.get("secret_file", "")))
        known = course.assignments()
        if assignment not in known:
            raise GradeError(f"unknown assignment {assignment!r}: {course.source_directory}/ has "
                             f"{', '.join(known) or 'no assignment folders'}")
        return course

    def assignments(self) -> list[str]:
        source = self.root / self.source_directory
        return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")) \
            if source.is_dir() else []

    @property
    def sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def submitted(self, student: str) -> Path:
        return self.root / "submitted" / student / self.assignment

    def autograded(self, student: str) -> Path:
        return self.root / "autograded" / student / self.assignment

    def students(self, only: list[str] | None = None) -> list[str]:
        """Students with a ``submitted/<student>/<assignment>/`` folder (all, or those named)."""
        found = sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{self.assignment}") if p.is_dir())
        if only:
            missing = sorted(set(only) - set(found))
            if missing:
                raise GradeError(f"no submission of {self.assignment} for {', '.join(missing)}: "
                                 f"expected submitted/<student>/{self.assignment}/ "
                                 f"({len(found)} student(s) have one)")
            return sorted(set(only))
        if not found:
            raise GradeError(f"no submissions of {self.assignment}: submitted/<student>/{self.assignment}/ "
                             f"is missing under {self.root} (collect them with `nbgrader collect` or "
                             "`nbgrader zip_collect`)")
        return found

    def code_cells(self) -> int:
        """Code cells of the assignment's largest source notebook (bounds one autograde's time)."""
        import nbformat

        counts = [sum(c.cell_type == "code" for c in nbformat.read(p, as_version=4).cells)
                  for p in (self.root / self.source_directory / self.assignment).glob("*.ipynb")]
        return max(counts, default=0)

    def nbgrader(self, *args: str, db_url: str | None = None) -> list[str]:
        """An ``nbgrader`` command line for this course root and a gradebook."""
        return [sys.executable, "-m", "initgrader.nbgrader_main", *args, f"--CourseDirectory.db_url={db_url or self.db_url}"]


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def tool_env(workers: int = 1) -> dict:
    """Environment for nbgrader: this Python's scripts first on PATH (nbgrader runs ``alembic``);
    with several workers, each kernel's BLAS/OpenMP threads limited to its share of the cores
    (unless already set), so parallel kernels do not oversubscribe them."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if workers > 1:
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(max(1, (os.cpu_count() or 1) // workers)))
    return env


def run_nbgrader(course: Course, *args: str, what: str, db_url: str | None = None) -> str:
    """Run one nbgrader command to completion; GradeError with its output's tail if it fails."""
    done = subprocess.run(course.nbgrader(*args, db_url=db_url), cwd=course.root, env=tool_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if done.returncode != 0:
        raise GradeError(f"{what} failed (nbgrader exit {done.returncode}):\n{done.stdout[-3000:]}")
    return done.stdout


# --------------------------------------------------------------------------- one student

#: What a submission may hold before anything parses it (the kernel's staged copy has the
#: same file caps, initgrader.sandbox.Limits): a released notebook is under 200 KB and 150 cells.
MAX_NOTEBOOK_BYTES = 16 << 20
MAX_CELLS = 2000
MAX_FILES = 200
MAX_FOLDER_BYTES = 64 << 20


def refusals(folder: Path) -> list[str]:
    """Why a submission folder is refused before nbgrader (or anything else) reads it:
    entries that are not plain files or folders — symbolic links, hard links to other files,
    devices, pipes (nbgrader copies a submission with ``shutil.copy``, which follows links as
    the grading user: a notebook linked to ``solutions/`` would be graded as the student's) —
    and sizes over the caps: a notebook over MAX_NOTEBOOK_BYTES or with more than MAX_CELLS
    cells (counted in the raw bytes, not parsed), a folder over MAX_FILES files or
    MAX_FOLDER_BYTES."""
    import stat

    found, files, total = [], 0, 0
    paths = [Path(top) / name for top, dirs, names in os.walk(folder, followlinks=False) for name in dirs + names]
    for path in sorted(paths):
        info = os.lstat(path)
        where = path.relative_to(folder)
        if stat.S_ISLNK(info.st_mode):
            found.append(f"{where} is a symbolic link")
        elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            found.append(f"{where} is not a regular file")
        elif stat.S_ISREG(info.st_mode):
            files, total = files + 1, total + info.st_size
            if info.st_nlink > 1:
                found.append(f"{where} is a hard link to another file")
            elif path.suffix == ".ipynb" and info.st_size > MAX_NOTEBOOK_BYTES:
                found.append(f"{where} is {info.st_size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_BYTES >> 20} MiB "
                             "limit for a notebook")
            elif path.suffix == ".ipynb" and _cell_count(path) > MAX_CELLS:
                found.append(f"{where} has more than {MAX_CELLS:,} cells")
    if files > MAX_FILES:
        found.append(f"{files} files, over the limit of {MAX_FILES}")
    if total > MAX_FOLDER_BYTES:
        found.append(f"{total / 2**20:.0f} MiB in all, over the limit of {MAX_FOLDER_BYTES >> 20} MiB")
    return found


def _cell_count(path: Path) -> int:
    """Cells of a notebook as its raw bytes count them (an upper bound: a source may quote the key)."""
    with open(path, "rb") as f:
        return f.read(MAX_NOTEBOOK_BYTES + 1).count(b'"cell_type"')


def first_line(text: str, width: int = 100) -> str:
    line = next((s.strip() for s in str(text).splitlines() if s.strip()), "")
    return line if len(line) <= width else line[:width - 1] + "…"


def inspect_submission(course: Course, student: str) -> list[str]:
    """What is wrong with a submission before it runs: missing or unreadable notebooks,
    graded cells deleted, locked cells edited (compared with the released notebook)."""
    import nbformat

    problems = []
    released = sorted((course.root / course.release_directory / course.assignment).glob("*.ipynb"))
    for path in released:
        submitted = course.submitted(student) / path.name
        if not submitted.exists():
            problems.append(f"{path.name} not submitted")
            continue
        try:
            nb = nbformat.read(submitted, as_version=4)
        except Exception as error:  # not JSON, not a notebook, bad encoding
            problems.append(f"{path.name} unreadable ({type(error).__name__}: {first_line(error, 60)})")
            continue
        given = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.metadata.get("nbgrader", {}).get("grade_id")]
        deleted = [c.metadata.nbgrader.grade_id for c in cells
                   if c.metadata.nbgrader.get("grade") and c.metadata.nbgrader.grade_id not in given]
        edited = [c.metadata.nbgrader.grade_id for c in cells if c.metadata.nbgrader.get("locked")
                  and c.metadata.nbgrader.grade_id in given and given[c.metadata.nbgrader.grade_id].source != c.source]
        blank = [c.metadata.nbgrader.grade_id for c in cells if c.metadata.nbgrader.get("solution")
                 and c.metadata.nbgrader.grade_id in given and given[c.metadata.nbgrader.grade_id].source == c.source]
        if blank:
            problems.append(f"not answered: {', '.join(blank)}")
        used = {c.metadata.nbgrader.grade_id: library_uses(given[c.metadata.nbgrader.grade_id].source)
                for c in cells if c.metadata.nbgrader.get("solution") and c.metadata.nbgrader.grade_id in given}
        used = {grade_id: names for grade_id, names in used.items() if names}
        if used:
            problems.append("honour code, have a look: " + "; ".join(
                f"{grade_id} uses {', '.join(names[:3])}" for grade_id, names in used.items()))
        if deleted:
            problems.append(f"graded cells deleted: {', '.join(deleted)}")
        if edited:
            problems.append(f"locked cells edited (nbgrader restored them): {', '.join(edited)}")
    return problems


#: Initializers an answer may not call (the exercises say so; COURSE.md §5). Keras answers
#: subclass keras.initializers.Initializer, which is allowed.
_LIBRARY_PREFIXES = ("initkit", "torch.nn.init", "nn.init", "keras.initializers", "tf.keras.initializers",
                     "tf.initializers", "tensorflow.keras.initializers", "tf.compat.v1.initializers")
_ALLOWED = {"keras.initializers.Initializer", "tf.keras.initializers.Initializer"}


def library_uses(source: str) -> list[str]:
    """Dotted names and imports in an answer cell that reach initkit, torch.nn.init or the
    Keras/TensorFlow initializers (a syntax scan: what an answer *calls* inside its own
    function stays honour code, this only points an instructor at the cell)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []

    def dotted(node) -> str:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(node.id)
        return ".".join(reversed(parts))

    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # whole chains only
            names = [dotted(node)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name not in _ALLOWED
                  and any(name == p or name.startswith(p + ".") for p in _LIBRARY_PREFIXES)]
    return sorted(set(found), key=found.index)


STDERR_FLOOD_LINES = 100


CONSEQUENCES = {"AssertionError", "NameError", "NotImplementedError", "KeyboardInterrupt"}


def inspect_autograded(course: Course, student: str, timeout: int) -> list[str]:
    """What happened while the notebooks ran: cells stopped at the time limit, errors in
    answer cells (an answer failing at import) or set-up cells, stderr floods. Errors that
    only follow from an unanswered or failing exercise (a check's AssertionError, NameError,
    NotImplementedError) are left out: the scores already say it."""
    import nbformat

    timeouts, errors, stderr_lines, truncated, graded_stderr, cut = [], [], 0, False, [], []
    for path in sorted(course.autograded(student).glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            name = meta.get("grade_id") or f"{path.stem} cell {index}"
            failures = [o for o in cell.outputs if o.output_type == "error"]
            if any(o.ename == "CellTimeoutError" for o in failures):
                timeouts.append(name)  # its KeyboardInterrupt is the interrupt nbgrader sent
            elif not meta.get("grade"):
                errors += [f"{name}: {o.ename}: {first_line(o.evalue, 60)}" for o in failures
                           if meta.get("solution") or o.ename not in CONSEQUENCES]
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stdout" and "[the grader " in output.text:
                    cut.append(name)
                if output.output_type == "stream" and output.name == "stderr":
                    stderr_lines += output.text.count("\n")
                    truncated |= "Output truncated" in output.text
                    if meta.get("grade"):
                        graded_stderr.append(name)
    problems = []
    if timeouts:
        problems.append(f"interrupted at the cell time limit ({timeout} s, or what was left of the time budget): "
                        f"{', '.join(dict.fromkeys(timeouts))}")
    if errors:
        problems.append(f"error in {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""))
    if stderr_lines > STDERR_FLOOD_LINES or truncated:
        problems.append(f"stderr flood: {stderr_lines:,} lines kept" + (" (cut by nbgrader's LimitOutput)" if truncated else ""))
    if cut:
        problems.append(f"output flood: cut by the grader in {', '.join(dict.fromkeys(cut))}")
    if graded_stderr:
        problems.append(f"stderr in graded cells (nbgrader scores them 0): {', '.join(graded_stderr)}")
    return problems


def failure_reason(log: Path) -> str:
    """The most telling line of a failed autograde's log."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    raised = [line.strip() for line in lines if re.match(r"\s*[\w.]+(Error|Exception|Interrupt): ", line)]
    logged = [line.split("| ERROR]")[-1] for line in lines if "| ERROR]" in line and "Please see" not in line]
    return first_line((raised or logged or ["no log output"])[-1 if raised else 0], 100)


# --------------------------------------------------------------------------- gradebook rows

def copy_submission(source_url: str | None, target_url: str, course: Course, student: str) -> None:
    """Copy one student's submission (student row, timestamp, every grade and comment, flags
    and late penalties) from a worker's gradebook into the real one, through nbgrader's API.
    Both gradebooks hold the assignment with the same cells (the worker's is a copy)."""
    from nbgrader.api import Gradebook, MissingEntry

    if source_url is None:  # refused before grading: an empty submission, zeroed later
        with warnings.catch_warnings(), Gradebook(target_url, course.course_id) as dst:
            warnings.filterwarnings("ignore", message=".*not in session.*")
            dst.update_or_create_student(student)
            dst.update_or_create_submission(course.assignment, student)
        return
    with warnings.catch_warnings(), Gradebook(source_url, course.course_id) as src, \
            Gradebook(target_url, course.course_id) as dst:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warning; the rows are written
        warnings.filterwarnings("ignore", message=".*not in session.*")
        try:
            submitted = src.find_submission(course.assignment, student)
        except MissingEntry:  # killed before nbgrader recorded it: an empty submission, zeroed later
            dst.update_or_create_student(student)
            dst.update_or_create_submission(course.assignment, student)
            return
        person = submitted.student
        dst.update_or_create_student(student, first_name=person.first_name, last_name=person.last_name,
                                     email=person.email, lms_user_id=person.lms_user_id)
        target = dst.update_or_create_submission(course.assignment, student)
        target.timestamp, target.extension = submitted.timestamp, submitted.extension
        for notebook in submitted.notebooks:
            dst_notebook = dst.find_submission_notebook(notebook.name, course.assignment, student)
            dst_notebook.flagged = notebook.flagged
            dst_notebook.late_submission_penalty = notebook.late_submission_penalty
            for grade in notebook.grades:
                row = dst.find_grade(grade.name, notebook.name, course.assignment, student)
                for attr in ("auto_score", "manual_score", "extra_credit", "needs_manual_grade"):
                    setattr(row, attr, getattr(grade, attr))
            for comment in notebook.comments:
                row = dst.find_comment(comment.name, notebook.name, course.assignment, student)
                row.auto_comment, row.manual_comment = comment.auto_comment, comment.manual_comment
        dst.db.commit()


def zero_unscored(db_url: str, course: Course, student: str) -> list[str]:
    """Set every autograded test cell nbgrader left unscored (notebook unreadable, cell
    deleted, run killed) to 0 and not "needs manual grade"; return their names."""
    from nbgrader.api import GradeCell, Gradebook

    zeroed = []
    with Gradebook(db_url, course.course_id) as gb:
        for notebook in gb.find_submission(course.assignment, student).notebooks:
            answers = {cell.name for cell in notebook.notebook.solution_cells}  # answer+grade: manual
            for grade in notebook.grades:
                if (grade.auto_score is None and grade.manual_score is None and isinstance(grade.cell, GradeCell)
                        and grade.cell.cell_type == "code" and grade.name not in answers):
                    grade.auto_score, grade.needs_manual_grade = 0.0, False
                    zeroed.append(grade.name)
        gb.db.commit()
    return zeroed


def snapshot_sqlite(db_url: str, dest: Path, root: Path) -> str:
    """Copy an SQLite gradebook consistently (sqlite3's backup API); return the copy's URL.
    A relative path in the URL is relative to the course root (where nbgrader runs)."""
    path = Path(db_url.split("sqlite:///", 1)[1])
    with closing(sqlite3.connect(root / path)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)
    return f"sqlite:///{dest}"


class JobMaker:
    """Each student's grading job (``initgrader.job``), built in the head from the course
    root: the release, ``nbgrader_config.py``, a scratch gradebook with the assignment
    registered (a copy of the real one when it is SQLite; for a server, a registration of its
    own — a job never gets the server's URL) and the student's hidden seeds, derived here from
    the course secret, which no job holds. Call after the assignment is registered."""

    def __init__(self, course: Course, scratch: Path, *, timeout: int, sandbox: bool, limit: float,
                 threads: int = 0, budget: float = 0.0) -> None:
        self.course, self.scratch = course, scratch
        self.timeout, self.sandbox, self.limit, self.threads, self.budget = timeout, sandbox, limit, threads, budget
        template = scratch / "template.db"
        if course.sqlite:
            snapshot_sqlite(course.db_url, template, course.root)
        else:
            run_nbgrader(course, "generate_assignment", course.assignment, "--force",
                         f"--CourseDirectory.release_directory={scratch / 'release-template'}",
                         db_url=f"sqlite:///{template}", what=f"registering {course.assignment} in a scratch gradebook")
        self.gradebook = template.read_bytes()
        self.tests = registered_tests(f"sqlite:///{template}", course)
        self.release = job.read_tree(course.root / course.release_directory / course.assignment)
        self.config = (course.root / "nbgrader_config.py").read_bytes()
        try:
            self.secret = hidden_seeds.read_secret(course.secret_file or None)
        except (OSError, ValueError) as error:
            raise GradeError(f"the course secret cannot be used: {error}") from None

    def for_student(self, student: str, folder: Path | None = None, budget: float | None = None) -> job.Job:
        return job.Job(self.course.assignment, student, job.read_tree(folder or self.course.submitted(student)),
                       self.release, self.config, self.gradebook,
                       seeds=hidden_seeds.seed_table(self.secret, student, self.tests), timeout=self.timeout,
                       budget=self.budget if budget is None else budget, sandbox=self.sandbox, threads=self.threads,
                       limit=self.limit, release_directory=self.course.release_directory)


def registered_tests(db_url: str, course: Course) -> dict[str, str]:
    """grade_id → source of every graded test cell of the assignment (hidden tests included)."""
    from nbgrader.api import Gradebook

    tests = {}
    with Gradebook(db_url, course.course_id) as gb:
        for notebook in gb.find_assignment(course.assignment).notebooks:
            graded = {c.name for c in notebook.grade_cells if c.cell_type == "code"}
            answers = {c.name for c in notebook.solution_cells}
            tests.update({c.name: c.source for c in notebook.source_cells
                          if c.name in graded and c.name not in answers and c.cell_type == "code"})
    return tests


# --------------------------------------------------------------------------- where jobs run

class LocalRunner:
    """Jobs in worker threads of this process; each job is an nbgrader process of its own."""

    def __init__(self, workers: int, scratch: Path) -> None:
        self.workers, self.scratch = workers, scratch
        self.pool = ThreadPoolExecutor(max_workers=workers)

    def submit(self, student: str, job_: job.Job, key: str = ""):
        """``job_``: one autograde (``job.Job``), or a student's fast-path work (``fast.StudentJobs``)."""
        from initgrader import fast

        if isinstance(job_, fast.StudentJobs):
            return self.pool.submit(job_.run, self.scratch)
        return self.pool.submit(job.run, job_, self.scratch)

    def completed(self, futures):
        return as_completed(futures)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskRunner:
    """Jobs on a Dask cluster (``distributed``): ``local:N`` starts N worker processes with one
    thread each on this machine; anything else is the address of a running scheduler
    (``dask scheduler``; use ``tls://`` with ``distributed.Security`` between machines — Dask's
    tcp transport is unauthenticated and pickles). A job travels as bytes and its outcome
    comes back the same way: no shared file system. Every worker must have the head's
    ``initgrader.job.fingerprint()`` (same initkit, initgrader and pinned packages)."""

    def __init__(self, address: str, scratch: Path) -> None:
        self.waiting: list = []
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise GradeError("--dask needs the `distributed` package (pinned in pyproject.toml's course extra)") from None
        self.cluster = None
        if address.startswith("local:"):
            count = address.split(":", 1)[1]
            if not count.isdigit() or int(count) < 1:
                raise GradeError(f"--dask local:N needs a number of workers N ≥ 1; received {address!r}")
            self.cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                                        dashboard_address=None, local_directory=str(scratch / "dask"))
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout=30)
            except OSError as error:
                raise GradeError(f"no Dask scheduler answers at {address!r}: {error}") from None
        self.check_workers()

    def check_workers(self) -> None:
        mine = job.fingerprint()
        theirs = self.client.run(job.worker_fingerprint)
        if not theirs:
            self.close()
            raise GradeError("the Dask scheduler has no workers")
        wrong = sorted(worker for worker, fingerprint in theirs.items() if fingerprint != mine)
        if wrong:
            self.close()
            raise GradeError(f"Dask worker(s) {', '.join(wrong)} run other code or package versions than this "
                             f"head (fingerprint {mine}): install the same commit and pins there")
        self.workers = len(theirs)

    def submit(self, student: str, job_: job.Job, key: str = ""):
        """A placeholder future; ``completed`` hands the job to the cluster when a thread is free."""
        from concurrent.futures import Future

        placeholder: Future = Future()
        self.waiting.append((student, job_, placeholder))
        return placeholder

    def completed(self, futures):
        """Yield each placeholder once its job is done. At most one job per worker thread is on
        the cluster at a time, so a worker that dies takes only its own job down with it: the
        scheduler counts a death against every task the worker held (``allowed-failures``),
        and a queue of innocent jobs there could end as ``KilledWorker``. A job that ends as
        ``KilledWorker`` anyway is tried once more alone, when nothing else runs: it fails only
        if it kills workers with no bystander to blame."""
        from distributed import KilledWorker
        from distributed import as_completed as dask_completed

        waiting, retry, on_cluster = list(self.waiting), [], {}
        self.waiting = []
        running = dask_completed()

        def launch(entry, alone: bool) -> None:
            student, job_, _ = entry
            from initgrader import fast

            work = fast.run_on_worker if isinstance(job_, fast.StudentJobs) else job.run_on_worker
            task = self.client.submit(work, job_, key=f"grade-{student}-{uuid.uuid4().hex}", pure=False)
            on_cluster[task] = (entry, alone)
            running.add(task)

        def fill() -> None:
            threads = max(1, sum(self.client.nthreads().values()))
            while waiting and len(on_cluster) < threads:
                launch(waiting.pop(0), alone=False)
            if not waiting and not on_cluster and retry:
                launch(retry.pop(0), alone=True)

        fill()
        for task in running:
            entry, alone = on_cluster.pop(task)
            placeholder = entry[2]
            try:
                placeholder.set_result(task.result())
            except KilledWorker as error:
                if alone:
                    placeholder.set_exception(error)
                else:
                    retry.append(entry)
            except Exception as error:
                placeholder.set_exception(error)
            task.release()
            fill()
            if placeholder.done():
                yield placeholder

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class MergedOutcomes:
    """``--merge FOLDER``: each job's outcome from ``FOLDER/outcomes/`` (written by ``python -m
    initgrader.job FOLDER --shard i/N`` on any machine), matched to the job ``--prepare`` wrote
    for the student, with the same key (nothing it depends on changed since)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            index = json.loads((folder / "index.json").read_text())
        except (OSError, ValueError) as error:
            raise GradeError(f"{folder} is not a prepared class (no readable index.json: {error}); "
                             "prepare one with --prepare") from None
        self.index = {entry["student"]: (entry["job"], entry["key"]) for entry in index}
        self.workers = 1

    def submit(self, student: str, job_: job.Job, key: str = ""):
        from concurrent.futures import Future

        future: Future = Future()
        name, prepared_key = self.index.get(student, (None, None))
        outcome = self.folder / "outcomes" / f"{name}.zip" if name else None
        if name is None:
            future.set_exception(GradeError(f"no job was prepared for {student} in {self.folder}"))
        elif prepared_key != key:
            future.set_exception(GradeError("the submission or the grading changed since --prepare"))
        elif not outcome.exists():
            future.set_exception(GradeError(f"no outcome {outcome.name} in {self.folder / 'outcomes'} (shard not run?)"))
        else:
            future.set_result(job.load_outcome(outcome))
        return future

    def completed(self, futures):
        return as_completed(futures)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- resuming a run

def grading_key(job_: job.Job, sources: bytes) -> str:
    """What a student's grade depends on, hashed: their submission, the release, the source
    notebooks (hidden tests), the configuration, the grading options, their hidden seeds
    (which change with the course secret — the secret itself is not in the key) and the
    grader's code and package versions (``initgrader.job.fingerprint``)."""
    import hashlib

    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode() + data)

    for label, files in (("submission", job_.submission), ("release", job_.release)):
        for path in sorted(files):
            feed(f"{label}/{path}", files[path])
    feed("sources", sources)
    feed("config", job_.config)
    feed("options", json.dumps([job_.assignment, job_.student, job_.timeout, job_.budget, job_.sandbox,
                                sorted(job_.seeds.items())]).encode())
    feed("code", job.fingerprint().encode())
    return digest.hexdigest()


class GradedKeys:
    """``grading/<assignment>/graded-keys.json``: each student's key when their grade was committed."""

    def __init__(self, course: Course) -> None:
        self.path = course.root / "grading" / course.assignment / "graded-keys.json"
        try:
            self.keys = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.keys = {}

    def unchanged(self, student: str, key: str) -> bool:
        return self.keys.get(student) == key

    def record(self, student: str, key: str | None) -> None:
        if key is None:
            self.keys.pop(student, None)
        else:
            self.keys[student] = key
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.keys, indent=1, sort_keys=True) + "\n")
        temporary.replace(self.path)


def read_back(course: Course, result: Result) -> bool:
    """Fill ``result`` from the gradebook (a student whose grade is reused); False when the
    gradebook has no submission for them."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            submission = gb.find_submission(course.assignment, result.student)
        except MissingEntry:
            return False
        result.score, result.max_score = float(submission.score), float(submission.max_score)
        result.cells = {g.name: (float(g.score), float(g.max_score)) for nb in submission.notebooks for g in nb.grades}
    result.reused = True
    return True


# --------------------------------------------------------------------------- the time budget

#: A notebook's budget for the student's code: this many times the solution's own time,
#: measured on this machine in the same run, and never less than BUDGET_FLOOR_S.
BUDGET_MULTIPLE = 20
BUDGET_FLOOR_S = 300.0
TIMING_STUDENT = "solution-timing"


def solution_seconds(course: Course, jobs: JobMaker) -> float:
    """The solution's own running time per notebook (the largest, as IsolatedExecute counts a
    student's time: cells in the kernel plus calls from graded cells), measured by grading
    ``solutions/<assignment>/`` once as a pseudo-student, the way every student is graded.
    Cached in ``grading/<assignment>/solution-time.json``, keyed by the notebooks and the
    grader's code."""
    import hashlib

    source = course.root / course.source_directory / course.assignment
    digest = hashlib.sha256()
    for path in sorted([*source.glob("*.ipynb"), *(REPO / "initkit").rglob("*.py"), *(REPO / "initgrader").rglob("*.py")]):
        digest.update(path.name.encode() + path.read_bytes())
    key = f"{digest.hexdigest()}-sandbox={jobs.sandbox}"
    cache = course.root / "grading" / course.assignment / "solution-time.json"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("key") == key:
            return float(cached["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    outcome = job.run(jobs.for_student(TIMING_STUDENT, folder=source, budget=0.0), jobs.scratch)
    lines = outcome.report
    if outcome.code != 0 or not lines or any(line.get("stopped") for line in lines):
        why = [line.get("stopped") for line in lines] or f"no timing report (nbgrader exit {outcome.code})"
        raise GradeError(f"the solution of {course.assignment} did not run to the end under the grader: {why}")
    seconds = max(float(line["student_s"]) for line in lines)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "seconds": seconds}) + "\n")
    return seconds


def time_budget(solution_s: float, multiple: float = BUDGET_MULTIPLE, floor: float = BUDGET_FLOOR_S) -> float:
    """Seconds a submission's code may run per notebook: ``max(floor, multiple × solution)``."""
    return max(floor, multiple * solution_s)


# --------------------------------------------------------------------------- the class

@dataclass
class Result:
    """One student's outcome."""

    student: str
    status: str = "graded"        # graded | failed (nbgrader gave up) | killed (wall-clock limit)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    zeroed: list[str] = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id → (score, max)
    reused: bool = False  # unchanged since its last grade: read back, not regraded


@dataclass
class ClassRun:
    """What ``grade_class`` did: per-student results and where the outputs are."""

    course: Course
    workers: int
    seconds: float
    results: dict[str, Result]
    grades_csv: Path
    report: Path
    phases: dict[str, float] = field(default_factory=dict)  # register, autograde, feedback, export: s
    budget: float = 0.0  # s of the student's code per notebook
    solution_s: float | None = None  # the solution's own time, when the budget was derived from it
    summary: str = ""


class AssignmentRun:
    """One assignment's part of a class run, in three steps: ``stage`` (register the
    assignment, time the solution, build each student's job; refused and unchanged students
    are settled there), ``commit`` (one student's outcome into the gradebook and the course
    root, as it arrives) and ``conclude`` (feedback, export, summary). ``grade_class`` runs the
    jobs of one assignment on local workers, Dask or shards; ``grade_fast`` runs the jobs of
    several assignments per student on the fast path."""

    def __init__(self, course: Course, *, workers: int, timeout: int | None = None,
                 submission_timeout: float | None = None, students: list[str] | None = None,
                 sandbox: bool = True, budget: float | None = None, regrade: bool = False) -> None:
        self.course, self.students, self.sandbox, self.regrade = course, students, sandbox, regrade
        self.timeout = course.execute_timeout if timeout is None else timeout
        if self.timeout < 1:
            raise GradeError(f"--timeout must be at least 1 second, got {self.timeout}")
        self.names = course.students(students)
        self.parallel = min(workers, len(self.names))
        self.limit = submission_timeout or (course.code_cells() + 5) * self.timeout + 60
        self.budget, self.solution_s = budget, None
        self.start = self._phase = time.monotonic()
        self.phases: dict[str, float] = {}
        self.logs = course.root / "grading" / course.assignment / "logs"
        self.keys: dict[str, str] = {}
        self.results: dict[str, Result] = {}

    def lap(self, name: str) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - self._phase
        self._phase = time.monotonic()

    def stage(self, scratch: Path, on_settled=lambda student: None) -> dict[str, job.Job]:
        """Register the assignment, derive the budget and build every student's job; return
        the jobs to run (student → job). Refused and unchanged students are settled here
        (``on_settled`` is called for each)."""
        course = self.course
        self.scratch = scratch
        self.logs.mkdir(parents=True, exist_ok=True)
        refused = {name: refusals(course.submitted(name)) for name in self.names}
        refused = {name: why for name, why in refused.items() if why}
        self.results = {name: Result(name, problems=[] if name in refused else inspect_submission(course, name))
                        for name in self.names}
        # register (or refresh) the assignment's cells in the gradebook; the release goes to scratch
        run_nbgrader(course, "generate_assignment", course.assignment, "--force",
                     f"--CourseDirectory.release_directory={scratch / ('release-' + course.assignment)}",
                     what=f"registering {course.assignment} in the gradebook ({redact(course.db_url)})")
        self.lap("register")
        self.jobs = JobMaker(course, scratch, timeout=self.timeout, sandbox=self.sandbox, limit=self.limit,
                             threads=max(1, (os.cpu_count() or 1) // self.parallel) if self.parallel > 1 else 0)
        if self.budget is None:
            self.solution_s = solution_seconds(course, self.jobs)
            self.budget = time_budget(self.solution_s)
            self.lap("timing the solution")
        self.jobs.budget = self.budget
        self.graded_keys = GradedKeys(course)
        sources = b"".join(p.read_bytes() for p in
                           sorted((course.root / course.source_directory / course.assignment).glob("*.ipynb")))
        to_run = {}
        for student in self.names:
            if student in refused:  # never handed to nbgrader: its copy would follow the link
                self.results[student].problems.append(f"refused: {'; '.join(refused[student][:3])}")
                self.commit(student, None)
                on_settled(student)
                continue
            job_ = self.jobs.for_student(student)
            self.keys[student] = grading_key(job_, sources)
            if not self.regrade and self.graded_keys.unchanged(student, self.keys[student]) \
                    and read_back(course, self.results[student]):
                self.results[student].problems = []  # reported when it was graded
                on_settled(student)
                continue
            to_run[student] = job_
        return to_run

    def commit(self, student: str, outcome: job.Outcome | None, error: BaseException | None = None) -> Result:
        """One student's outcome (None: refused, or its job failed with ``error``) into the
        gradebook and the course root; their grading key recorded when graded."""
        result = self.results[student]
        if error is not None:  # the job itself failed: Dask's KilledWorker, or a bug
            result.problems.append(f"not graded: its job failed ({type(error).__name__}: {first_line(error, 80)})")
        finish(self.course, result, outcome, self.scratch, self.logs, self.timeout, self.limit)
        self.graded_keys.record(student, self.keys.get(student) if result.status == "graded" else None)
        return result

    def conclude(self, export: bool = True) -> ClassRun:
        """Feedback, grades.csv and the summary, once every job is over. ``export`` False
        leaves grades.csv to the caller (nbgrader's export writes every assignment at once)."""
        course, results = self.course, self.results
        grades_csv = course.root / "grades.csv"
        feedback = ["generate_feedback", course.assignment, "--force"]
        autograded = [name for name in self.names if course.autograded(name).is_dir()]
        # feedback and export only read the gradebook: run them side by side
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = [pool.submit(export_grades, course)] if export else []
            if self.students:  # nbgrader fails on a named student with nothing autograded (refused)
                done += [pool.submit(run_nbgrader, course, *feedback, f"--student={glob.escape(name)}",
                                     what=f"generate_feedback for {name}") for name in autograded]
            elif autograded:
                done.append(pool.submit(run_nbgrader, course, *feedback, what=f"generate_feedback {course.assignment}"))
            for future in done:
                future.result()
        self.lap("feedback and export")
        for name, result in results.items():
            if not list((course.root / "feedback" / name / course.assignment).glob("*.html")):
                result.problems.append("no feedback")
        run = ClassRun(course, self.parallel, time.monotonic() - self.start, results, grades_csv,
                       course.root / "grading" / course.assignment / "summary.txt", self.phases, budget=self.budget,
                       solution_s=self.solution_s)
        run.summary = summary(run)
        run.report.write_text(run.summary + "\n", encoding="utf-8")
        return run


def grade_class(course: Course, *, workers: int | None = None, timeout: int | None = None,
                submission_timeout: float | None = None, students: list[str] | None = None,
                progress: bool = True, sandbox: bool = True, budget: float | None = None,
                dask: str | None = None, regrade: bool = False, prepare: str | Path | None = None,
                merge: str | Path | None = None) -> ClassRun:
    """Autograde every submission in parallel, zero what could not be scored, generate the
    feedback, export grades.csv and build the summary. Student kernels run confined
    (``initgrader.sandbox``) unless ``sandbox`` is False; a submission holding a link or a
    special file is refused before nbgrader copies it (nbgrader's copy follows links).
    Each notebook's code may run ``budget`` seconds in all (default: ``time_budget`` of the
    solution's own time, measured first). With ``dask`` (``local:N`` or a scheduler's
    address) the jobs run on a Dask cluster instead of local worker threads. A student whose
    grade depends on nothing that changed since it was committed (``grading_key``) keeps it,
    read back from the gradebook, unless ``regrade``. ``prepare`` writes each job to a folder
    instead (for ``python -m initgrader.job FOLDER --shard i/N`` on other machines: a Slurm
    array, a Kubernetes indexed Job); ``merge`` then commits the outcomes found there."""
    if prepare is not None and (merge is not None or dask is not None):
        raise GradeError("--prepare writes jobs for shards to run; it cannot be combined with --merge or --dask")
    if merge is not None and dask is not None:
        raise GradeError("--merge commits outcomes that shards wrote; it cannot be combined with --dask")
    check_sandbox(sandbox)
    workers = check_workers(workers)
    run = AssignmentRun(course, workers=workers, timeout=timeout, submission_timeout=submission_timeout,
                        students=students, sandbox=sandbox, budget=budget, regrade=regrade)
    with tempfile.TemporaryDirectory(prefix="initcourse-grade-") as scratch:
        bar = _progress(len(run.names), f"autograde {course.assignment} ×{run.parallel}", progress)
        try:
            to_run = run.stage(Path(scratch), on_settled=lambda student: bar.update(1))
            if merge is not None:
                runner = MergedOutcomes(Path(merge))
            elif dask is not None:
                runner = DaskRunner(dask, Path(scratch))
            else:
                runner = LocalRunner(run.parallel, Path(scratch))
            if dask is not None:  # threads per kernel: a local cluster's share of the cores; else as they are
                run.parallel = runner.workers
                run.jobs.threads = max(1, (os.cpu_count() or 1) // run.parallel) if dask.startswith("local:") else 0
                to_run = {student: run.jobs.for_student(student) for student in to_run}
            prepared = []
            if prepare is not None:
                (Path(prepare) / "jobs").mkdir(parents=True, exist_ok=True)
                for student, job_ in to_run.items():
                    prepared.append({"student": student, "job": f"job-{len(prepared):05d}", "key": run.keys[student]})
                    job.save_job(job_, Path(prepare) / "jobs" / f"{prepared[-1]['job']}.zip")
                    bar.update(1)
                to_run = {}
            futures = {runner.submit(student, job_, run.keys[student]): student for student, job_ in to_run.items()}
            try:
                for future in runner.completed(futures):
                    student = futures[future]
                    try:
                        outcome, error = future.result(), None
                    except Exception as failure:
                        outcome, error = None, failure
                    result = run.commit(student, outcome, error)
                    bar.set_postfix_str(f"{student}: {result.score:g}/{result.max_score:g}")
                    bar.update(1)
            finally:
                runner.close()
        finally:
            bar.close()
        run.lap("autograde")

    if prepare is not None:
        (Path(prepare) / "index.json").write_text(json.dumps(prepared, indent=1) + "\n")
        result = ClassRun(course, 0, time.monotonic() - run.start, run.results, course.root / "grades.csv",
                          course.root / "grading" / course.assignment / "summary.txt", run.phases, budget=run.budget,
                          solution_s=run.solution_s)
        result.summary = (f"{course.assignment}: {len(prepared)} job(s) prepared in {prepare} "
                          f"({len(run.names) - len(prepared)} refused or unchanged). On each of N machines run\n"
                          f"  python -m initgrader.job {prepare} --shard i/N     (i = 0 … N-1)\n"
                          f"then commit them here:\n"
                          f"  python3 tools/course.py grade {course.assignment} --merge {prepare}")
        return result
    return run.conclude()


def grade_fast(root: Path, assignments: list[str], *, db_url: str | None = None, workers: int | None = None,
               timeout: int | None = None, submission_timeout: float | None = None,
               students: list[str] | None = None, progress: bool = True, budget: float | None = None,
               regrade: bool = False, dask: str | None = None) -> list[ClassRun]:
    """``grade_class`` for several assignments at once on the fast path (``initgrader.fast``):
    each student's notebooks are autograded by one job, in one process, with kernels forked
    from one confined parent that imported the libraries once, and the cells the instructor
    tagged ``experiment`` in ``solutions/`` skipped when the student left them as released.
    The points per cell are those of ``grade_class`` (``tests/test_fast_path.py``); what is
    committed, and how, is the same (``AssignmentRun``). Confined kernels only; on local
    workers or a Dask cluster (``dask``); shards (``--prepare``/``--merge``) use ``grade_class``."""
    from initgrader import fast

    if len(set(assignments)) != len(assignments):
        raise GradeError(f"an assignment is named twice: {' '.join(assignments)}")
    courses = [Course.load(root, assignment, db_url) for assignment in assignments]
    check_sandbox(True)
    workers = check_workers(workers)
    runs = [AssignmentRun(course, workers=workers, timeout=timeout, submission_timeout=submission_timeout,
                          students=students, budget=budget, regrade=regrade) for course in courses]
    with tempfile.TemporaryDirectory(prefix="initcourse-fast-") as scratch:
        per_student: dict[str, list[tuple[AssignmentRun, job.Job]]] = {}
        for run in runs:
            folder = Path(scratch) / run.course.assignment
            folder.mkdir()
            for student, job_ in run.stage(folder).items():
                per_student.setdefault(student, []).append((run, job_))
        experiments = {run.course.assignment: experiment_table(run.course) for run in runs}
        parallel = max(1, min(workers, len(per_student)))
        runner = DaskRunner(dask, Path(scratch)) if dask else LocalRunner(parallel, Path(scratch))
        parallel = runner.workers
        bar = _progress(len(per_student), f"fast path, {len(runs)} assignment(s) ×{parallel}", progress)
        try:
            futures = {runner.submit(student, fast.StudentJobs(student, [job_ for _, job_ in entries], experiments)):
                       student for student, entries in per_student.items()}
            for future in runner.completed(futures):
                student = futures[future]
                entries = per_student[student]
                try:
                    outcomes, error = future.result(), None
                except Exception as failure:  # Dask's KilledWorker, a bug, or the runner could not start
                    outcomes, error = [None] * len(entries), failure
                scores = [run.commit(student, outcome, error) for (run, _), outcome in zip(entries, outcomes)]
                bar.set_postfix_str(f"{student}: {sum(r.score for r in scores):g}/{sum(r.max_score for r in scores):g}")
                bar.update(1)
        finally:
            bar.close()
            runner.close()
        for run in runs:
            run.lap("autograde")
    # Each assignment's feedback is one nbgrader process over the class, and feedback only reads
    # the gradebook: run them side by side, one per worker. grades.csv holds every assignment of
    # the gradebook: export it once, after them.
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(runs)))) as pool:
        concluded = list(pool.map(lambda run: run.conclude(export=False), runs))
    export_grades(runs[-1].course)
    return concluded


def export_grades(course: Course) -> None:
    """``nbgrader export`` to the course root's grades.csv: every assignment of the gradebook."""
    run_nbgrader(course, "export", f"--to={course.root / 'grades.csv'}", what="nbgrader export")


def experiment_table(course: Course) -> dict[str, dict[str, str]]:
    """notebook → {cell id: source hash} of the cells tagged ``experiment`` in the assignment's
    source notebooks (what the fast path may skip)."""
    from initgrader.experiments import experiment_cells

    folder = course.root / course.source_directory / course.assignment
    return {path.stem: experiment_cells(path) for path in sorted(folder.glob("*.ipynb"))}


def check_sandbox(sandbox: bool) -> None:
    if sandbox:
        from initgrader.sandbox import SandboxError, bubblewrap

        try:
            bubblewrap()
        except SandboxError as error:
            raise GradeError(f"{error} (--no-sandbox)") from None


def check_workers(workers: int | None) -> int:
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise GradeError(f"--workers must be at least 1, got {workers}")
    return workers


def finish(course: Course, result: Result, outcome: job.Outcome | None, scratch: Path, logs: Path,
           timeout: int, limit: float) -> None:
    """In the head process, with one student's job done (its processes gone): write its
    autograded notebooks and log into the course root, copy its rows from the job's scratch
    gradebook into the real one, zero what is unscored, read the scores back and record what
    went wrong. A refused submission (``outcome`` None) gets empty rows, zeroed."""
    graded = course.autograded(result.student)
    if graded.exists():  # a previous run's: replaced, never mixed
        for path in graded.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(graded)
    log, report = logs / f"{result.student}.log", logs / f"{result.student}.jsonl"
    code = None
    if outcome is not None:
        code, result.seconds = outcome.code, outcome.seconds
        log.write_bytes(outcome.log)
        report.write_text("".join(json.dumps(line) + "\n" for line in outcome.report))
        for relative, data in outcome.autograded.items():
            (graded / relative).parent.mkdir(parents=True, exist_ok=True)
            (graded / relative).write_bytes(data)
            (graded / relative).chmod(0o444)  # as nbgrader leaves them
        copy = scratch / f"outcome-{uuid.uuid4().hex}.db"
        copy.write_bytes(outcome.gradebook)
        copy_submission(f"sqlite:///{copy}", course.db_url, course, result.student)
        copy.unlink()
    else:
        copy_submission(None, course.db_url, course, result.student)
    if outcome is None:
        result.status = "refused" if any(p.startswith("refused: ") for p in result.problems) else "failed"
    elif code is None:
        result.status = "killed"
        result.problems.append(f"killed after the {limit:.0f} s limit per submission")
    elif code != 0:
        result.status = "failed"
        unreadable = any(" unreadable (" in problem for problem in result.problems)
        result.problems.append("nbgrader could not grade it" + ("" if unreadable else f": {failure_reason(log)}"))
    result.zeroed = zero_unscored(course.db_url, course, result.student)
    if code == 0:
        result.problems.extend(inspect_autograded(course, result.student, timeout))
    if result.zeroed and code == 0:
        result.problems.append(f"zeroed (not scored by nbgrader): {', '.join(result.zeroed)}")
    elif result.zeroed:
        result.problems.append("all cells zeroed")
    if outcome is not None:
        result.problems += budget_problems(outcome.report)
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        submission = gb.find_submission(course.assignment, result.student)
        result.score, result.max_score = float(submission.score), float(submission.max_score)
        result.cells = {g.name: (float(g.score), float(g.max_score)) for nb in submission.notebooks for g in nb.grades}


def budget_problems(lines: list[dict]) -> list[str]:
    """One line per notebook the grader stopped early (time budget used up, kernel dead)."""
    return [f"{line.get('notebook', '?')}: {line['stopped'].split(', so ')[0]} after {line.get('student_s', 0):.0f} s"
            for line in lines if isinstance(line.get("stopped"), str) and line["stopped"]]


def _progress(total: int, desc: str, enabled: bool):
    """A tqdm bar on stderr; when stderr is not a terminal (CI, a log file), one plain line
    per finished submission instead of a redrawn bar."""
    if enabled and not sys.stderr.isatty():
        return _Lines(total, desc)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="sub", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                bar_format="{desc}: {n}/{total} |{bar}| {elapsed}<{remaining} {postfix}")


class _Lines:
    """tqdm's update / set_postfix_str / close, printed as lines."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix, self.start = total, desc, 0, "", time.monotonic()

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def update(self, n: int = 1) -> None:
        self.n += n
        elapsed = time.monotonic() - self.start
        left = f", about {elapsed / self.n * (self.total - self.n):.0f} s left" if self.n < self.total else ""
        print(f"[grade] {self.desc}: {self.n}/{self.total} after {elapsed:.0f} s{left} — {self.postfix}",
              file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- the summary

BUCKETS = [(1.0, 1.01, "100%"), (0.75, 1.0, "75–99%"), (0.5, 0.75, "50–74%"), (0.25, 0.5, "25–49%"),
           (1e-9, 0.25, "1–24%"), (0.0, 1e-9, "0%")]


def summary(run: ClassRun, *, student_rows: int = 40) -> str:
    """The class table an instructor reads: scores, mean, distribution, most-failed cells."""
    course, results = run.course, list(run.results.values())
    total = max((r.max_score for r in results), default=0.0) or 1.0
    scores = [r.score for r in results]
    rates = [len(results) / seconds * 60 for seconds in (run.seconds, run.phases.get("autograde", 0.0)) if seconds]
    lines = [f"{course.assignment}: {len(results)} submission(s) graded in {run.seconds:.0f} s with "
             f"{run.workers} worker(s): " + " overall, ".join(f"{rate:.1f}" for rate in rates)
             + " per minute" + (" while autograding" if len(rates) == 2 else ""),
             "  " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.phases.items())
             + f"; gradebook {redact(course.db_url)}",
             f"  time budget per notebook: {run.budget:.0f} s of the student's code"
             + (f" (max of {BUDGET_FLOOR_S:.0f} s and {BUDGET_MULTIPLE} × the solution's {run.solution_s:.1f} s)"
                if run.solution_s is not None else ""), ""]
    shown = results if len(results) <= student_rows else [r for r in results if r.problems or r.status != "graded"]
    if shown:
        width = max(12, *(len(r.student) for r in shown))
        lines.append(f"{'student':{width}}  {'score':>6}  {'time':>5}  problems")
        for r in shown:
            problems = "; ".join(r.problems) or "—"
            lines.append(f"{r.student:{width}}  {r.score:6g}  {r.seconds:4.0f}s  {problems}")
        if len(shown) < len(results):
            lines.append(f"({len(results) - len(shown)} more without problems: see {rel(run.grades_csv)})")
        lines.append("")
    lines.append(f"mean {statistics.fmean(scores):.1f} / {total:g} ({statistics.fmean(scores) / total:.0%}), "
                 f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}")
    lines.append("distribution (share of the maximum):")
    for low, high, label in BUCKETS:
        count = sum(low <= s / total < high for s in scores)
        lines.append(f"  {label:>7} {'█' * count:{min(40, len(scores))}} {count}")
    failed: dict[str, list] = {}
    for r in results:
        for name, (score, best) in r.cells.items():
            failed.setdefault(name, [0, best])[0] += score < best
    worst = sorted(((n, f, best) for n, (f, best) in failed.items() if f), key=lambda t: (-t[1], t[0]))[:8]
    if worst:
        lines.append("most-failed graded cells:")
        width = max(len(n) for n, _, _ in worst)
        for name, count, best in worst:
            lines.append(f"  {name:{width}}  {best:g} pt  failed by {count} of {len(results)} ({count / len(results):.0%})")
    problems = sum(bool(r.problems) for r in results)
    reused = sum(r.reused for r in results)
    if reused:
        lines += ["", f"{reused} submission(s) unchanged since their last grade (submission, release, hidden tests, "
                      "configuration, secret and grader all the same): kept, not regraded (--regrade to force)"]
    lines += ["", f"{problems} submission(s) with problems; {sum(r.status != 'graded' for r in results)} nbgrader "
                  f"could not grade (zeroed). Outputs: {rel(run.grades_csv)}, "
                  f"{rel(course.root / 'feedback')}/<student>/{course.assignment}/, "
                  f"logs in {rel(course.root / 'grading' / course.assignment / 'logs')}/"]
    return "\n".join(lines)


def redact(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':')[0]}@{host}"
    return url


def rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- CLI

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 tools/course.py grade", description=__doc__.split("\n\n")[0])
    p.add_argument("assignments", metavar="NN-topic", nargs="+",
                   help="the assignment(s) to grade, e.g. 03-xavier (several: one job per student for all "
                        "of them; with --full, one after another)")
    path = p.add_mutually_exclusive_group()
    path.add_argument("--full", action="store_true",
                      help="full autograde: a fresh kernel and nbgrader process per notebook, every cell run "
                           "(experiments' outputs in the feedback); implied by --no-sandbox, --prepare and --merge")
    path.add_argument("--fast", action="store_true",
                      help="the fast path (the default): one job per student for all the assignments named, kernels "
                           "forked from one parent per student, unchanged `experiment` cells skipped (same points "
                           "per cell; docs/grading.md)")
    p.add_argument("--root", default=str(REPO), help="nbgrader course root (default: the repository)")
    p.add_argument("--workers", type=int, default=None, help="parallel autograde processes (default: the CPU count)")
    p.add_argument("--timeout", type=int, default=None, help="Execute.timeout per cell, in s (default: nbgrader_config.py's)")
    p.add_argument("--submission-timeout", type=float, default=None,
                   help="kill one student's autograde after this many s (default: every code cell at --timeout)")
    p.add_argument("--db", default=None, help="gradebook URL (default: nbgrader_config.py's, or <root>/gradebook.db)")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--budget", type=float, default=None,
                   help=f"seconds the student's code may run in all per notebook (default: the larger of "
                        f"{BUDGET_FLOOR_S:.0f} s and {BUDGET_MULTIPLE} × the solution's own time, measured first)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the jobs on a Dask cluster: local:N (N worker processes here) or a running "
                        "scheduler's address (tls://… between machines); docs/instructors.md 'Large classes'")
    p.add_argument("--prepare", metavar="FOLDER", default=None,
                   help="write each student's job to FOLDER instead of running it, for "
                        "`python -m initgrader.job FOLDER --shard i/N` on other machines")
    p.add_argument("--merge", metavar="FOLDER", default=None,
                   help="commit the outcomes the shards wrote to FOLDER (after --prepare FOLDER)")
    p.add_argument("--regrade", action="store_true",
                   help="grade every submission again, even those unchanged since their last grade")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student kernels without bubblewrap (macOS, Windows, or Linux without it): "
                        "a plain subprocess with a cleared environment and rlimits, which can read and write "
                        "the grader's files — docs/grading.md says what it does not protect")
    return p


def full_path_reasons(args: argparse.Namespace) -> list[str]:
    """The options given that grade on the full path (empty: the fast path, the default)."""
    return [flag for flag, given in (("--full", args.full), ("--no-sandbox", args.no_sandbox),
                                     ("--prepare", args.prepare), ("--merge", args.merge)) if given]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        full = full_path_reasons(args)
        if args.fast and full:
            raise GradeError(f"the fast path runs confined kernels on local workers or Dask; it cannot be "
                             f"combined with {', '.join(full)} (leave out --fast: those grade on the full path)")
        if not full:
            runs = grade_fast(Path(args.root), args.assignments, db_url=args.db, workers=args.workers,
                              timeout=args.timeout, submission_timeout=args.submission_timeout, students=args.student,
                              progress=not args.no_progress, budget=args.budget, regrade=args.regrade, dask=args.dask)
        else:
            if full != ["--full"]:
                print(f"[grade] {', '.join(full)}: grading on the full path (the fast path runs only confined "
                      f"kernels, on local workers or Dask)", file=sys.stderr)
            if len(args.assignments) > 1 and (args.prepare or args.merge):
                raise GradeError("--prepare and --merge take one assignment at a time")
            runs = [grade_class(Course.load(Path(args.root), assignment, args.db), workers=args.workers,
                                timeout=args.timeout, submission_timeout=args.submission_timeout,
                                students=args.student, progress=not args.no_progress, sandbox=not args.no_sandbox,
                                budget=args.budget, dask=args.dask, regrade=args.regrade, prepare=args.prepare,
                                merge=args.merge)
                    for assignment in args.assignments]
    except GradeError as error:
        print(f"[grade] error: {error}", file=sys.stderr)
        return 2
    print("\n\n".join(run.summary for run in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
