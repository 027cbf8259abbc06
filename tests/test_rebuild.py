"""The rebuild step (initgrader.rebuild): a submitted notebook is graded as the release plus
the student's answers and added cells, whatever happened to nbgrader's metadata in between."""

import copy
from pathlib import Path

import nbformat
import pytest

from initgrader.rebuild import rebuild

REPO = Path(__file__).resolve().parent.parent
RELEASE = REPO / "course" / "01-variance" / "01-variance.ipynb"
ANSWER = "01-var_of_product"
TEST = "01-var_of_product-values"


@pytest.fixture
def release():
    return nbformat.read(RELEASE, as_version=4)


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def find(nb, grade_id):
    return next(c for c in nb.cells if meta(c).get("grade_id") == grade_id)


def answered(release, source="def var_of_product(*a):\n    return 1.0\n"):
    nb = copy.deepcopy(release)
    find(nb, ANSWER).source = source
    return nb


def graded_cells(nb) -> list:
    return [(meta(c)["grade_id"], c.source) for c in nb.cells if meta(c).get("grade_id")]


def test_an_honest_submission_is_graded_as_it_is(release):
    submitted = answered(release)
    rebuilt, repairs = rebuild(release, submitted)
    assert repairs == []
    assert [c.source for c in rebuilt.cells] == [c.source for c in submitted.cells]
    assert [c.metadata for c in rebuilt.cells] == [c.metadata for c in release.cells]


def test_a_pasted_check_cell_becomes_a_plain_cell_and_is_reported(release):
    submitted = answered(release)
    paste = copy.deepcopy(find(submitted, TEST))
    paste.id = "pasted-by-jupyterlab"
    submitted.cells.insert(submitted.cells.index(find(submitted, ANSWER)) + 1, paste)
    rebuilt, repairs = rebuild(release, submitted)
    assert graded_cells(rebuilt) == graded_cells(answered(release))
    plain = [c for c in rebuilt.cells if c.get("id") == "pasted-by-jupyterlab"]
    assert len(plain) == 1 and "nbgrader" not in plain[0].metadata
    assert any(f"copy of graded cell {TEST}" in r for r in repairs)


def test_a_renamed_grade_id_still_grades_the_answer(release):
    submitted = answered(release)
    find(submitted, ANSWER).metadata.nbgrader.grade_id = "my-answer"
    rebuilt, repairs = rebuild(release, submitted)
    assert find(rebuilt, ANSWER).source == "def var_of_product(*a):\n    return 1.0\n"
    assert any("grade_id was changed" in r for r in repairs)


def test_a_flipped_flag_and_a_deleted_test_cell_are_undone(release):
    submitted = answered(release)
    find(submitted, "01-var_of_product-interface").metadata.nbgrader.grade = False
    submitted.cells.remove(find(submitted, TEST))
    rebuilt, repairs = rebuild(release, submitted)
    assert graded_cells(rebuilt) == graded_cells(answered(release))
    assert meta(find(rebuilt, "01-var_of_product-interface"))["grade"] is True
    assert any(TEST in r and "restored" in r for r in repairs)


def test_an_import_added_to_an_unlocked_setup_cell_is_kept(release):
    submitted = answered(release)
    setup = next(c for c in submitted.cells if c.cell_type == "code" and not meta(c))
    setup.source += "\nimport math\n"
    rebuilt, _ = rebuild(release, submitted)
    assert any(c.source.endswith("import math\n") for c in rebuilt.cells if c.get("id") == setup.get("id"))


def test_an_added_cell_that_claims_to_be_graded_is_not(release):
    submitted = answered(release)
    fake = nbformat.v4.new_code_cell("print('full marks please')")
    fake.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "bonus", "points": 100,
                                 "locked": True, "schema_version": 3}
    submitted.cells.append(fake)
    rebuilt, repairs = rebuild(release, submitted)
    assert "bonus" not in [g for g, _ in graded_cells(rebuilt)]
    assert rebuilt.cells[-1].source == "print('full marks please')" and "nbgrader" not in rebuilt.cells[-1].metadata
    assert any("bonus" in r for r in repairs)
