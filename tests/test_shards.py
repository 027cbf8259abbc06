"""Grading with files instead of Dask (a Slurm array, a Kubernetes indexed Job):
``grade --prepare FOLDER`` writes each student's job to a zip file, ``python -m
initgrader.job FOLDER --shard i/N`` runs one shard of them anywhere (no course root: a job
carries all it needs), and ``grade --merge FOLDER`` commits the outcomes in the head."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import CourseRoot

pytestmark = pytest.mark.slow

VARIANCE = "01-variance"
STUDENTS = {"solver": {"01-var_of_product": "solution"},
            "no-mean-terms": {"01-var_of_product": "var_of_product/product_of_variances"},
            "blank": {}}


def shard(folder: Path, spec: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "initgrader.job", str(folder), "--shard", spec], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


def test_prepared_jobs_run_in_shards_anywhere_and_merge_into_the_gradebook(tmp_path):
    from tools import grade

    root = CourseRoot.create(tmp_path / "class", [VARIANCE])
    expected = root.submit_class(VARIANCE, STUDENTS)
    folder = tmp_path / "prepared"
    course = grade.Course.load(root.path, VARIANCE)
    prepared = grade.grade_class(course, progress=False, budget=60.0, prepare=folder)
    assert "3 job(s) prepared" in prepared.summary and f"python -m initgrader.job {folder} --shard i/N" in prepared.summary
    index = json.loads((folder / "index.json").read_text())
    assert sorted(e["student"] for e in index) == sorted(STUDENTS)
    with zipfile.ZipFile(folder / "jobs" / "job-00000.zip") as archive:  # data only: no pickle
        assert "manifest.json" in archive.namelist() and not any(n.endswith(".pkl") for n in archive.namelist())
    assert not (root.path / "autograded").exists() or not any((root.path / "autograded").iterdir())

    elsewhere = tmp_path / "node"  # a shard sees only the folder, not the course root
    elsewhere.mkdir()
    for spec in ("0/2", "1/2"):
        done = shard(folder, spec, elsewhere)
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(list((folder / "outcomes").glob("job-*.zip"))) == 3

    merged = grade.grade_class(course, progress=False, budget=60.0, merge=folder)
    for name in STUDENTS:
        assert root.cell_scores(name, VARIANCE) == expected[name], name
        assert merged.results[name].status == "graded"
        assert list((root.path / "autograded" / name / VARIANCE).glob("*.ipynb")), name
        assert list((root.path / "feedback" / name / VARIANCE).glob("*.html")), name

    # the solver hands in again: their prepared job no longer matches, nothing stale is merged
    root.submit_entries("solver", VARIANCE, {})  # a blank notebook this time
    stale = grade.grade_class(course, progress=False, budget=60.0, merge=folder)
    assert stale.results["solver"].status == "failed"
    assert any("changed since --prepare" in p for p in stale.results["solver"].problems)
    assert stale.results["blank"].reused and stale.results["no-mean-terms"].reused


def test_a_shard_argument_and_a_missing_folder_get_clear_errors(tmp_path):
    bad = shard(tmp_path, "2", tmp_path)
    assert bad.returncode == 2 and "--shard must be i/N" in bad.stderr
    missing = shard(tmp_path, "0/1", tmp_path)
    assert missing.returncode == 2 and "has no jobs/ folder" in missing.stderr
    (tmp_path / "jobs").mkdir()
    out_of_range = shard(tmp_path, "3/2", tmp_path)
    assert out_of_range.returncode == 2 and "0 ≤ i < N" in out_of_range.stderr
