"""Real nbgrader, end to end, on a simulated class (COURSE.md §7): generate_assignment from
solutions/, submissions built from the released notebooks, autograde, export."""

import pytest

from pipeline import SIMULATED_CLASSES, CourseRoot, catalogue_answers

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


# --- 01–04: a simulated class per assignment, expected scores derived from the catalogue ---
#
# Each student is {answer cell: "solution" | catalogue key}; unanswered exercises stay blank.
# Mistakes in independent exercises are combined so an assignment needs few autograde runs.

#: The pipeline's course secret (fixed, so a failure reproduces; any secret is as valid).
TEST_SECRET = "initcourse pipeline test secret, fixed"

#: Every framework and NumPy notebook's simulated class (tools/classroom.py: the before-release
#: comparison of the fast path grades them too).
CLASSES = SIMULATED_CLASSES


@pytest.fixture(scope="module", params=sorted(CLASSES))
def graded_class(request, tmp_path_factory):
    assignment = request.param
    root = CourseRoot.create(tmp_path_factory.mktemp(assignment), [assignment])
    # Hidden tests graded with seeds derived from a fixed test secret (initgrader.hidden_seeds),
    # as a class with a course secret is: the catalogue's verdicts must hold at those seeds too.
    secret = root.path.parent / "test-secret"
    secret.write_text(TEST_SECRET)
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.IsolatedExecute.secret_file = {str(secret)!r}\n")
    students = {name: catalogue_answers(spec) for name, spec in CLASSES[assignment].items()}
    for name, answers in students.items():
        root.submit_entries(name, assignment, answers)
    root.autograde(assignment)
    return root, assignment, students


def test_every_student_loses_exactly_the_cells_their_mistakes_list(graded_class):
    root, assignment, students = graded_class
    for name, answers in students.items():
        assert root.cell_scores(name, assignment) == root.expected_scores(assignment, answers), name
    total = sum(root.graded_points(assignment).values())
    assert root.grades()[("solver", assignment)] == total


def test_the_blank_release_scores_zero_without_hanging(graded_class):
    root, assignment, students = graded_class
    if "blank" in students:
        assert set(root.cell_scores("blank", assignment).values()) == {0.0}


def test_graded_cells_never_write_to_stderr_and_the_solution_has_no_errors(graded_class):
    root, assignment, students = graded_class
    for name in students:
        for cell in root.autograded_cells(name, assignment):
            if cell.metadata.get("nbgrader", {}).get("grade") or name == "solver":
                streams = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
                assert not streams, (name, cell.id, streams)
    solver_outputs = [o for cell in root.autograded_cells("solver", assignment) for o in cell.outputs]
    assert not [o for o in solver_outputs if o.output_type == "error"]
    assert [o for o in solver_outputs if o.output_type == "display_data"], "no plot in the solution"


def test_a_failing_cell_names_the_aspect_and_a_passing_one_prints_its_check_line(graded_class):
    root, assignment, students = graded_class
    mistaken = [name for name, answers in students.items() if any(a != "solution" for a in answers.values())]
    if not mistaken:
        pytest.skip(f"{assignment} has no exercises")
    cells = [c for c in root.autograded_cells(mistaken[0], assignment) if c.metadata.get("nbgrader", {}).get("grade")]
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    passes = [o for c in cells for o in c.outputs if o.output_type == "stream" and "✓" in o.text]
    assert errors and all(o.ename == "AssertionError" and " — " in o.evalue for o in errors)
    assert passes


def test_01_a_mistake_stays_silent_and_shows_its_diagnosis(graded_class):
    root, assignment, _ = graded_class
    if assignment != "01-variance":
        pytest.skip("the diagnosis text is checked on 01's product-of-variances mistake")
    autograded = root.autograded_cells("no-mean-terms", assignment)
    for cell in autograded:  # every cell, not only the graded ones
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in autograded}
    error = next(o for o in cells["01-var_of_product-values"].outputs if o.output_type == "error")
    assert error.ename == "AssertionError" and "Diagnosis:" in error.evalue and "mean terms" in error.evalue
