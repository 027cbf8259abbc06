"""Safe pages (COURSE.md §9 E, docs/grading.md): what a student writes never runs in the
instructor's browser, feedback never shows the hidden tests, and no output floods a page.

One class of 01-variance, graded by real ``nbgrader autograde`` and ``nbgrader
generate_feedback`` in a temporary course root whose solutions gain a markdown answer cell
(01-variance has none; formgrader shows such a cell for manual grading):

- ``honest``: the solution, nothing else — its feedback keeps its ✓ lines and its score;
- ``hostile``: the solution plus script in every place a student controls — an HTML output,
  a JavaScript output, a markdown output, the markdown answer cell, a markdown cell of its
  own (with a MathJax ``\\href``) — and one 20 MB output line;
- ``marker``: the solution plus cells of its own holding the hidden-test marker text (one
  unbalanced), which nbgrader's ``ClearHiddenTests`` refuses.

Pages are parsed with html5lib (the browser's parsing algorithm, as vendored by bleach) and a
payload counts as live when a browser would run it: a script element, an on* attribute, a
javascript: address. ``test_the_detector_sees_live_payloads`` shows the same pages, rendered
from the notebook before our steps, do hold every payload live.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import nbformat
import pytest
from bleach._vendor import html5lib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.classroom import CourseRoot  # noqa: E402

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-variance"
NOTEBOOK = "01-variance"
ANSWER = "01-var_of_product"
FLOOD_ANSWER = "01-relu_moments"
MARKDOWN_ANSWER = "01-explain"
MARK = "initgrader-xss"
#: Over the stored cap of 100 KB per output, under the execute step's 1 MiB per cell (bigger
#: floods are cut there: tests/test_integrity.py's output_flood).
FLOOD_BYTES = 800_000

#: (where, code or markdown). Every payload carries MARK and its own name.
SCRIPT_HTML = (f"<script>alert('{MARK}-{{w}}-script')</script><img src=\"x\" onerror=\"alert('{MARK}-{{w}}-img')\">"
               f"<a href=\"javascript:alert('{MARK}-{{w}}-link')\">click</a>")
OUTPUT_CODE = ("from IPython.display import HTML, Javascript, Markdown, display\n"
               f"display(HTML({SCRIPT_HTML.format(w='html')!r}))\n"
               f"display(Javascript(\"alert('{MARK}-js')\"))\n"
               f"display(Markdown({SCRIPT_HTML.format(w='mdout')!r}))\n")
FLOOD_CODE = f"print('x' * {FLOOD_BYTES})\n"
MARKDOWN_ANSWER_SOURCE = "My explanation.\n\n" + SCRIPT_HTML.format(w="mdanswer") + "\n"
ADDED_MARKDOWN = ("A note of mine.\n\n" + SCRIPT_HTML.format(w="mdadded") + "\n\n"
                  f"[markdown link](javascript:alert('{MARK}-mdsyntax')) and "
                  f"$\\href{{javascript:alert('{MARK}-mathjax')}}{{math}}$\n")
#: What must be live in a page rendered without our steps, and inert after them.
PAYLOADS = {f"{MARK}-{where}-{kind}" for where in ("html", "mdout", "mdanswer", "mdadded")
            for kind in ("script", "img", "link")} | {f"{MARK}-js", f"{MARK}-mdsyntax", f"{MARK}-mathjax"}
HIDDEN_MARKER_CELLS = ["### BEGIN HIDDEN TESTS\nmy notes, not a test\n### END HIDDEN TESTS\n",
                       "### BEGIN HIDDEN TESTS\n(unbalanced: no end marker)\n"]


# --- reading pages ---------------------------------------------------------------------

def live_payloads(page: str) -> set[str]:
    """The payload names (MARK-…) a browser would run in ``page``: inside a script element,
    an on* attribute, a javascript: address, or a MathJax \\href in typeset text."""
    tree = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    found, names = set(), re.compile(re.escape(MARK) + r"-[a-z]+(?:-[a-z]+)?")
    skip_text = {"pre", "code", "script", "style", "textarea"}
    parents = {child: parent for parent in tree.iter() for child in parent}
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "script":
            found |= set(names.findall(element.text or ""))
        for name, value in element.attrib.items():
            name = str(name).rsplit("}", 1)[-1].lower()
            squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
            if name.startswith("on") or (name in ("href", "src", "action", "formaction", "data")
                                         and squeezed.startswith("javascript:")):
                found |= set(names.findall(value))
        # MathJax typesets $…$ in text outside pre/code: a live \href there is a link it makes
        ancestors, node = set(), element
        while node in parents:
            node = parents[node]
            ancestors.add(str(node.tag).rsplit("}", 1)[-1])
        if tag not in skip_text and not ancestors & skip_text:
            for text in (element.text, *(child.tail for child in element)):
                for match in re.finditer(r"(?<!\\)\\href\s*\{\s*javascript:[^}]*", text or ""):
                    found |= set(names.findall(match.group(0)))
    return found


def page_text(page: str) -> str:
    """The text a reader sees (and the code listings), without tags."""
    tree = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    body = tree.find("body")
    return "".join((body if body is not None else tree).itertext())


def formgrader_page(root: CourseRoot, student: str, sanitize_html: bool = False) -> str:
    """The page formgrader's SubmissionHandler serves for this student's notebook: nbconvert's
    HTMLExporter with nbgrader's ``formgrade`` template over the stored autograded notebook
    (nbgrader/server_extensions/formgrader/{formgrader,handlers}.py). By default without
    ``HTMLExporter.sanitize_html``: the stored notebook must be safe on its own."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    config.HTMLExporter.sanitize_html = sanitize_html
    path = root.path / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    resources = {"assignment_id": ASSIGNMENT, "notebook_id": NOTEBOOK, "submission_id": "s", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": None, "first_name": None,
                 "notebook_path": str(path.relative_to(root.path))}
    page, _ = HTMLExporter(config=config).from_filename(str(path), resources=resources)
    return page


def feedback_page(root: CourseRoot, student: str) -> str:
    return (root.path / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def hidden_test_lines(root: CourseRoot) -> list[str]:
    """Every line inside a hidden-test block of the instructor's notebooks."""
    lines, inside = [], False
    for cell in root.solution_cells(ASSIGNMENT):
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


# --- the class ---------------------------------------------------------------------------

def _add_markdown_answer_cell(root: CourseRoot) -> None:
    """A manually graded markdown answer cell after the first exercise, released again."""
    path = root.path / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = 1 + next(i for i, cell in enumerate(nb.cells)
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{ANSWER}-values")
    cell = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": MARKDOWN_ANSWER, "locked": False, "points": 1,
                                 "schema_version": 3, "solution": True, "task": False}
    nb.cells.insert(at, cell)
    nbformat.write(nb, path)
    root.nbgrader("generate_assignment", ASSIGNMENT, "--force")


def _add_cells(root: CourseRoot, student: str, cells: list) -> None:
    path = root.path / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2:2] = cells
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> CourseRoot:
    root = CourseRoot.create(tmp_path_factory.mktemp("safe-pages"), [ASSIGNMENT])
    _add_markdown_answer_cell(root)
    solution = {grade_id: root.solution_answer(ASSIGNMENT, grade_id) for grade_id in root.answer_ids(ASSIGNMENT)
                if grade_id != MARKDOWN_ANSWER}
    root.submit("honest", ASSIGNMENT, solution)
    root.submit("hostile", ASSIGNMENT, {**solution, ANSWER: solution[ANSWER] + OUTPUT_CODE,
                                        FLOOD_ANSWER: solution[FLOOD_ANSWER] + FLOOD_CODE,
                                        MARKDOWN_ANSWER: MARKDOWN_ANSWER_SOURCE})
    _add_cells(root, "hostile", [nbformat.v4.new_markdown_cell(ADDED_MARKDOWN)])
    root.submit("marker", ASSIGNMENT, solution)
    _add_cells(root, "marker", [nbformat.v4.new_markdown_cell(HIDDEN_MARKER_CELLS[0]),
                                nbformat.v4.new_code_cell("# " + HIDDEN_MARKER_CELLS[1].replace("\n", "\n# "))])
    root.autograde(ASSIGNMENT)
    root.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    return root


# --- tests ---------------------------------------------------------------------------------

def _unsanitized(graded) -> nbformat.NotebookNode:
    """The hostile submission with its outputs as the kernel made them (the payloads written
    into the answer cell's outputs directly), as an autograded notebook made without our
    steps would hold them."""
    nb = nbformat.read(graded.path / "submitted" / "hostile" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == ANSWER:
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": SCRIPT_HTML.format(w="html")}),
                            nbformat.v4.new_output("display_data",
                                                   data={"application/javascript": f"alert('{MARK}-js')"}),
                            nbformat.v4.new_output("display_data",
                                                   data={"text/markdown": SCRIPT_HTML.format(w="mdout")})]
    return nb


def test_the_detector_sees_live_payloads(graded):
    """Control: that notebook, rendered by formgrader's template without our steps, holds
    every payload live — so the checks below can fail."""
    raw = graded.path / "autograded" / "raw" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    raw.parent.mkdir(parents=True)
    nbformat.write(_unsanitized(graded), raw)
    assert live_payloads(formgrader_page(graded, "raw")) == PAYLOADS


@pytest.mark.parametrize("page", ["feedback", "formgrader", "formgrader with sanitize_html"])
def test_student_script_is_inert_in_every_page(graded, page):
    if page == "feedback":
        shown = feedback_page(graded, "hostile")
    else:
        shown = formgrader_page(graded, "hostile", sanitize_html=page.endswith("sanitize_html"))
    live = live_payloads(shown)
    assert not live, f"student script live in the {page} page: {sorted(live)}"
    # the student's work is still there to grade, as text
    text = page_text(shown)
    assert "My explanation." in text and "A note of mine." in text


def test_the_stored_autograded_notebook_is_clean(graded):
    nb = nbformat.read(graded.path / "autograded" / "hostile" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    kinds = {mime for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
             for mime in output.get("data", {})}
    assert kinds <= {"text/plain", "text/html", "text/markdown", "image/png", "image/jpeg"}, kinds
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert "<script" not in cell.source and "onerror" not in cell.source, cell.source
        for output in cell.get("outputs", []):
            for mime in ("text/html", "text/markdown"):
                assert "<script" not in output.get("data", {}).get(mime, ""), output


def test_the_honest_feedback_keeps_its_checks_and_score(graded):
    page = feedback_page(graded, "honest")
    text = page_text(page)
    score, total = graded.grades()[("honest", ASSIGNMENT)], sum(graded.graded_points(ASSIGNMENT).values())
    assert score == total - 1  # every automatic point; the markdown answer awaits manual grading
    assert f"Score: {score:.1f} / {total:.1f}" in text
    nb = nbformat.read(graded.path / "autograded" / "honest" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    checks = [line for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")
              for output in cell.get("outputs", []) if output.output_type == "stream"
              for line in output.text.splitlines() if line.startswith("✓")]
    assert len(checks) >= 7, checks
    missing = [line for line in checks if line not in text]
    assert not missing, f"✓ lines missing from the honest feedback: {missing}"


@pytest.mark.parametrize("student", ["honest", "hostile", "marker"])
def test_feedback_shows_no_hidden_test(graded, student):
    hidden = hidden_test_lines(graded)
    assert hidden, "the release has hidden tests"
    text = page_text(feedback_page(graded, student))
    shown = [line for line in hidden if line in text]
    assert not shown, f"hidden tests in {student}'s feedback: {shown}"
    # the stored notebook keeps them (nbgrader needs them to regrade); only feedback clears them
    stored = (graded.path / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert hidden[0].replace('"', '\\"') in stored
    if student == "honest":
        assert "HIDDEN TESTS" not in text


def test_a_student_cell_with_the_marker_does_not_stop_feedback(graded):
    from nbgrader.preprocessors import ClearHiddenTests

    page = feedback_page(graded, "marker")
    text = page_text(page)
    assert "my notes, not a test" in text and "unbalanced: no end marker" in text  # left as written
    nb = nbformat.read(graded.path / "autograded" / "marker" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    with pytest.raises(RuntimeError):  # what nbgrader's own step would have done to this feedback
        ClearHiddenTests().preprocess(nb, {})


def test_an_output_flood_is_capped_in_bytes(graded):
    nb = nbformat.read(graded.path / "autograded" / "hostile" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == FLOOD_ANSWER)
    (flood,) = [output for output in cell.outputs if output.output_type == "stream"]
    assert 100_000 <= len(flood.text.encode()) < 101_000, len(flood.text.encode())
    assert f"{FLOOD_BYTES + 1:,} bytes" in flood.text  # the note says what was cut
    page = feedback_page(graded, "hostile")
    assert len(page.encode()) < 2 * len(feedback_page(graded, "honest").encode()) + 200_000
    assert "x" * 100_000 in page and "x" * 100_001 not in page
    assert graded.grades()[("hostile", ASSIGNMENT)] == graded.grades()[("honest", ASSIGNMENT)]


def test_feedback_from_a_notebook_autograded_before_sanitizing_is_inert(graded):
    """generate_feedback cleans on its own: the hostile student's autograded notebook replaced
    by an unsanitized one (as stored before this step existed), feedback generated again."""
    stored = graded.path / "autograded" / "hostile" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    feedback = graded.path / "feedback" / "hostile" / ASSIGNMENT / f"{NOTEBOOK}.html"
    kept = stored.read_bytes(), feedback.read_bytes()
    try:
        stored.chmod(0o644)
        nbformat.write(_unsanitized(graded), stored)
        graded.nbgrader("generate_feedback", ASSIGNMENT, "--student", "hostile", "--force")
        live = live_payloads(feedback.read_text())
        assert not live, f"student script live in feedback made from an old notebook: {sorted(live)}"
        assert "My explanation." in page_text(feedback.read_text())
    finally:
        stored.write_bytes(kept[0])
        feedback.write_bytes(kept[1])
