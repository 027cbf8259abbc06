"""Real nbgrader, end to end, on a simulated class (COURSE.md §7): generate_assignment from
solutions/, submissions built from the released notebooks, autograde, export."""

import pytest

from pipeline import CourseRoot

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

SETUP = "00-setup"
ANSWER = "00-sample_variance"
UNBIASED = ("def sample_variance(x):\n"
            "    x = np.asarray(x, dtype=float)\n"
            "    return float(np.sum((x - x.mean()) ** 2) / (len(x) - 1))\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = CourseRoot.create(tmp_path_factory.mktemp("class"), [SETUP])
    root.submit("solver", SETUP, {ANSWER: root.solution_answer(SETUP, ANSWER)})
    root.submit("blank", SETUP, {})
    root.submit("unbiased", SETUP, {ANSWER: UNBIASED})
    root.autograde(SETUP)
    return root


def test_the_solution_gets_full_marks(graded):
    assert graded.cell_scores("solver", SETUP) == {"00-sample_variance-values": 1.0}
    assert graded.grades()[("solver", SETUP)] == 1.0


def test_a_blank_submission_gets_zero(graded):
    assert graded.cell_scores("blank", SETUP) == {"00-sample_variance-values": 0.0}


def test_a_mistake_loses_exactly_its_cell(graded):
    assert graded.cell_scores("unbiased", SETUP) == {"00-sample_variance-values": 0.0}
    assert graded.grades()[("unbiased", SETUP)] == 0.0


def test_the_solution_runs_without_errors_or_stderr(graded):
    outputs = [o for cell in graded.autograded_cells("solver", SETUP) for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not [o for o in outputs if o.output_type == "execute_result"], "a setup cell displays a value"


VARIANCE = "01-variance"


@pytest.fixture(scope="module")
def graded_01(tmp_path_factory):
    from initkit.mistakes import MISTAKES

    root = CourseRoot.create(tmp_path_factory.mktemp("class01"), [VARIANCE])
    answer = "01-var_of_product"
    root.submit("solver", VARIANCE, {answer: root.solution_answer(VARIANCE, answer)})
    root.submit("blank", VARIANCE, {})
    root.submit("no-mean-terms", VARIANCE, {answer: MISTAKES["var_of_product/product_of_variances"].source})
    root.autograde(VARIANCE)
    return root


def test_01_solution_full_marks_blank_zero_mistake_loses_only_values(graded_01):
    assert graded_01.cell_scores("solver", VARIANCE) == {"01-var_of_product-interface": 1.0,
                                                         "01-var_of_product-values": 2.0}
    assert graded_01.cell_scores("blank", VARIANCE) == {"01-var_of_product-interface": 0.0,
                                                        "01-var_of_product-values": 0.0}
    assert graded_01.cell_scores("no-mean-terms", VARIANCE) == {"01-var_of_product-interface": 1.0,
                                                                "01-var_of_product-values": 0.0}


def test_01_graded_cells_stay_silent_and_show_the_diagnosis(graded_01):
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in graded_01.autograded_cells("no-mean-terms", VARIANCE)}
    for cell in cells.values():
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    error = next(o for o in cells["01-var_of_product-values"].outputs if o.output_type == "error")
    assert error.ename == "AssertionError" and "Diagnosis:" in error.evalue and "mean terms" in error.evalue


def test_01_solution_runs_without_errors_or_stderr(graded_01):
    outputs = [o for cell in graded_01.autograded_cells("solver", VARIANCE) for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert [o for o in outputs if o.output_type == "display_data"], "the fan-in plot is missing"
