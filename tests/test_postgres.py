"""A PostgreSQL gradebook (nbgrader's ``CourseDirectory.db_url``): a class graded by two
workers into a real server, with the head process as its only writer — each worker
autogrades into a scratch SQLite gradebook, is never handed the server's URL, and the head
commits every student's rows (``tools/grade.py``).

The test starts its own throw-away cluster from Debian's ``postgresql`` package (initdb in a
temporary folder — as the ``postgres`` user when run as root, since initdb refuses root —
then pg_ctl on a free port, createdb). It skips only when the server binaries are missing
and CI is not set; under CI it fails instead (``.ci/run`` installs the package)."""

import csv
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline import CourseRoot

REPO = Path(__file__).resolve().parent.parent
VARIANCE = "01-variance"
STUDENTS = {
    "solver": {"01-var_of_product": "solution"},
    "blank": {},
    "no-mean-terms": {"01-var_of_product": "var_of_product/product_of_variances"},
    "sign-lost": {"01-var_of_product": "var_of_product/sign_lost"},
}


def unavailable(reason: str):
    """Skip on a developer's machine; fail under CI, where PostgreSQL must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI is set, so this test must run (.ci/run installs Debian's postgresql)")
    pytest.skip(f"{reason} (install Debian's postgresql package to run it; under CI=true it is required)")


def server_binaries() -> Path | None:
    """The folder with initdb, pg_ctl and createdb: Debian's newest /usr/lib/postgresql/<v>/bin, or PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)])
    if debian:
        return debian[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = server_binaries()
    if bindir is None or not (bindir / "pg_ctl").exists():
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    try:
        import psycopg2  # noqa: F401  (the driver SQLAlchemy uses for postgresql:// URLs)
    except ImportError:
        unavailable("psycopg2 is not installed (pyproject.toml's `course` extra pins psycopg2-binary)")
    as_postgres = []
    folder = Path(tempfile.mkdtemp(prefix="initcourse-postgres-"))
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # initdb refuses to run as root
        try:
            shutil.chown(folder, "postgres")
        except LookupError:
            unavailable("running as root and there is no `postgres` user to run initdb as")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*cmd):
        done = subprocess.run([*as_postgres, *map(str, cmd)], cwd=folder, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"

    try:
        run(bindir / "initdb", "-D", data, "--auth=trust", "--username=postgres", "--no-locale", "--encoding=UTF8",
            "--no-sync")
        run(bindir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-t", "60",
            "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "gradebook")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           cwd=folder, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_grade_a_class_and_the_head_alone_commits_to_postgresql(postgres_url, tmp_path_factory,
                                                                            monkeypatch):
    from nbgrader.api import Gradebook

    from tools import grade

    root = CourseRoot.create(tmp_path_factory.mktemp("postgres-class"), [VARIANCE])
    expected = root.submit_class(VARIANCE, STUDENTS)
    from initgrader import job

    worker_commands = []
    real_run_limited = job.run_limited

    def recording(cmd, **kwargs):
        worker_commands.append(list(cmd))
        return real_run_limited(cmd, **kwargs)

    monkeypatch.setattr(job, "run_limited", recording)
    course = grade.Course.load(root.path, VARIANCE, postgres_url)
    run = grade.grade_class(course, workers=2, progress=False)
    assert "4 submission(s) graded" in run.summary and "with 2 worker(s)" in run.summary
    assert f"gradebook {postgres_url}" in run.summary

    # every autograde (the solution's timing run and each student's) wrote to a scratch SQLite
    # gradebook of its own, never to the server
    assert len(worker_commands) == len(STUDENTS) + 1
    urls = {arg.split("=", 1)[1] for cmd in worker_commands for arg in cmd if arg.startswith("--CourseDirectory.db_url=")}
    assert len(urls) == len(STUDENTS) + 1 and all(url.startswith("sqlite:///") and "initgrader-job-" in url
                                                  for url in urls), urls
    assert not any(postgres_url in arg or "postgresql" in arg for cmd in worker_commands for arg in cmd)

    with Gradebook(postgres_url, "initcourse") as gb:
        for name, cells in expected.items():
            submission = gb.find_submission(VARIANCE, name)
            assert {g.name: g.score for nb in submission.notebooks for g in nb.grades} == cells, name
            assert not [g.name for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade], name
    with Gradebook(f"sqlite:///{root.path / 'gradebook.db'}", "initcourse") as gb:  # nothing went to SQLite
        assert gb.find_assignment(VARIANCE).num_submissions == 0
    with open(root.path / "grades.csv", newline="") as f:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == VARIANCE}
    assert rows == {name: sum(cells.values()) for name, cells in expected.items()}
    assert {name: r.score for name, r in run.results.items()} == rows  # the summary, read back from the server
    for name in expected:
        assert list((root.path / "feedback" / name / VARIANCE).glob("*.html")), name
