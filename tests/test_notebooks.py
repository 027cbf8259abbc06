"""The solution notebooks against the grading contract, in-process (no kernel, no nbgrader):
one graded cell per aspect with the right grade_id, visible seed then hidden seeds; the
catalogue's knock-on claims checked against the notebook's own solution code; the TensorFlow
log level set before any framework import; a misconception note shows its truth in code."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from initkit import checks
from initkit.mistakes import MISTAKES
from pipeline import without_solution_markers
from verdicts import failing_aspects

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
GRADED_BY_CHECKS = [p for p in SOLUTIONS if not p.parent.name.startswith("00-")]  # 00: plain asserts, a warm-up
CHECK_CALL = re.compile(r"(check_\w+)\((.*)\)$")


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def answer_cells(nb) -> dict[str, str]:
    """grade_id → solution source (markers removed), in notebook order."""
    return {nbgrader(c)["grade_id"]: without_solution_markers(c.source) for c in nb.cells if nbgrader(c).get("solution")}


def graded_cells(nb) -> dict:
    return {nbgrader(c)["grade_id"]: c for c in nb.cells if nbgrader(c).get("grade")}


def check_calls(source: str) -> list[tuple[str, str, bool]]:
    """(check name, its arguments, hidden?) for each line calling a check."""
    calls, hidden = [], False
    for line in source.splitlines():
        hidden = hidden or line.strip() == "### BEGIN HIDDEN TESTS"
        match = CHECK_CALL.match(line.strip())
        if match:
            calls.append((match.group(1), match.group(2), hidden))
    return calls


@pytest.mark.parametrize("path", GRADED_BY_CHECKS, ids=lambda p: p.parent.name)
def test_every_exercise_has_one_graded_cell_per_aspect_with_hidden_seeds(path):
    nb = nbformat.read(path, as_version=4)
    prefix = path.parent.name.split("-")[0]
    graded = graded_cells(nb)
    for answer in answer_cells(nb):
        assert answer.startswith(f"{prefix}-"), answer
        cells = {gid.removeprefix(answer + "-"): c for gid, c in graded.items() if gid.rsplit("-", 1)[0] == answer}
        assert cells, f"{answer} has no graded cells"
        names = {name for c in cells.values() for name, _, _ in check_calls(c.source)}
        assert len(names) == 1, (answer, names)
        check = getattr(checks, names.pop())
        presets = all("fixed=" in args for c in cells.values() for _, args, _ in check_calls(c.source))
        # a preset (all arguments fixed) has no bad arguments to reject: its errors aspect is vacuous
        wanted = [a for a in check.aspects if not (presets and a == "errors")]
        assert list(cells) == wanted, (answer, list(cells))
        for aspect, cell in cells.items():
            calls = check_calls(cell.source)
            assert nbgrader(cell)["points"] > 0 and nbgrader(cell)["locked"]
            assert all(f'aspect="{aspect}"' in args for _, args, _ in calls), cell.source
            visible = [args for _, args, hidden in calls if not hidden]
            hidden_seeds = [re.search(r"seed=(\d+)", args) for _, args, hidden in calls if hidden]
            assert len(visible) == 1 and "seed=" not in visible[0], cell.source
            assert len(hidden_seeds) >= 2 and all(m and m.group(1) != "0" for m in hidden_seeds), cell.source


def _knock_on_cases():
    for path in SOLUTIONS:
        answers = answer_cells(nbformat.read(path, as_version=4))
        prefix = path.parent.name.split("-")[0]
        for gid in answers:
            target = gid.removeprefix(prefix + "-")
            callers = [g for g in answers if g != gid and re.search(rf"\b{target}\(", answers[g])]
            for key, entry in MISTAKES.items():
                if entry.target == target and entry.track == "numpy" and callers:
                    yield pytest.param(path, key, callers, id=f"{path.parent.name}:{key}")


@pytest.mark.parametrize("path, key, callers", list(_knock_on_cases()))
def test_a_mistake_knocks_on_exactly_the_cells_the_catalogue_lists(path, key, callers):
    """The notebook's own solution of a later exercise, run on top of a mistaken earlier one,
    fails exactly ``entry.knock_on`` — at the visible seed and the hidden ones."""
    entry = MISTAKES[key]
    answers = answer_cells(nbformat.read(path, as_version=4))
    namespace = {"np": np, "math": math}
    exec(entry.source, namespace)
    prefix = path.parent.name.split("-")[0]
    for caller in callers:
        exec(answers[caller], namespace)
        target = caller.removeprefix(prefix + "-")
        check = getattr(checks, f"check_{target}")
        failed = {aspect for seed in (0, 1, 2) for aspect in failing_aspects(check, namespace[target], seed)}
        assert failed == set((entry.knock_on or {}).get(target, ())), (target, failed)


@pytest.mark.parametrize("path", GRADED_BY_CHECKS, ids=lambda p: p.parent.name)
def test_pasted_catalogue_answers_find_np_and_math(path):
    """A catalogue entry's source uses ``np`` and ``math`` without importing them (it is pasted
    into an answer cell to build a simulated submission): the notebook imports both first."""
    cells = nbformat.read(path, as_version=4).cells
    first_answer = next(i for i, c in enumerate(cells) if nbgrader(c).get("solution"))
    before = "\n".join(c.source for c in cells[:first_answer] if c.cell_type == "code")
    assert re.search(r"^import numpy as np$", before, re.M), "import numpy as np before the first answer cell"
    assert re.search(r"^import math$", before, re.M), "import math before the first answer cell"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_an_exercise_named_by_section_is_in_that_section(path):
    """"Your exercise in section 7" must point at the heading "## 7 · Exercise …"."""
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    exercises = set(re.findall(r"^## (\d+) · Exercise", text, re.M))
    for number in re.findall(r"exercises? (?:is |are )?in section (\d+)", text, re.I):
        assert number in exercises, f"an exercise is said to be in section {number}; exercise sections: {sorted(exercises)}"


@pytest.mark.parametrize("path", GRADED_BY_CHECKS, ids=lambda p: p.parent.name)
def test_every_check_cell_imports_the_checks_it_calls(path):
    """A student may run any check cell first — the ungraded "every check at once" cell too —
    so each imports what it calls (no NameError for a check imported in another cell)."""
    import ast
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or nbgrader(cell).get("solution"):
            continue
        tree = ast.parse(cell.source)
        called = {n.func.id for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id.startswith("check_")}
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert called <= imported, f"cell {cell.id} calls {sorted(called - imported)} without importing it"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_tensorflow_is_silenced_before_any_framework_import(path):
    """TF_CPP_MIN_LOG_LEVEL before the first import, and that import inside
    ``with fd2_silenced():`` (TensorFlow 2.21's absl/oneDNN lines bypass the log level)."""
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    first_import = re.search(r"^(\s*)(import|from) (tensorflow|keras)\b", source, re.M)
    if first_import:
        before = source[:first_import.start()]
        assert 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")' in before
        assert before.rstrip().splitlines()[-1].startswith("with fd2_silenced():") and first_import.group(1), \
            "import TensorFlow / Keras first inside `with fd2_silenced():`"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["plain", "nbgrader"])
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solution_notebook_runs_without_errors_or_stderr(path, mode, monkeypatch):
    """Every solution notebook executed top to bottom in a real kernel, as `jupyter nbconvert
    --execute` does, with and without NBGRADER_EXECUTION (which shrinks the experiments):
    no error, and no cell writes to stderr (nbgrader scores a graded cell with stderr as zero)."""
    nbclient = pytest.importorskip("nbclient")
    if mode == "nbgrader":
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    from nbclient.exceptions import CellTimeoutError

    # One retry, for a timeout only: nbclient can miss 02's explorer() reply until its timeout
    # (its Output-widget stand-in sends on the shell socket as the reply lands; the kernel sits
    # idle). Grading is not affected: initgrader.sandbox.ShellChannel; this plain nbclient run
    # is. Not a slow cell: the slowest cell of any notebook takes < 30 s here. An error or
    # stderr is never retried.
    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        try:
            nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}}).execute()
            break
        except CellTimeoutError:
            if attempt == 2:
                raise
    red = {c.id: o.text[:300] for c in nb.cells for o in c.get("outputs", [])
           if o.output_type == "stream" and o.name == "stderr"}
    assert not red, f"cells that write to stderr: {red}"


@pytest.mark.parametrize("path", [p for p in SOLUTIONS if not p.parent.name.startswith("00-")],  # 00: a warm-up
                         ids=lambda p: p.parent.name)
def test_each_misconception_note_is_followed_by_code_that_shows_the_truth(path):
    cells = nbformat.read(path, as_version=4).cells
    notes = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "Common misconception" in c.source]
    assert notes, f"{path.parent.name} corrects no misconception"
    for i in notes:
        assert any(c.cell_type == "code" for c in cells[i + 1:i + 3]), cells[i].source[:80]
