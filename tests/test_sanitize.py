"""initgrader.sanitize and initgrader.feedback on their own, without nbgrader runs (the
pipeline is tests/test_safe_pages.py): the allow-list, the markdown round trip, byte caps,
grades unchanged by sanitizing, and the lenient hidden-test clearing."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.utils import determine_grade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from initgrader.feedback import ClearReleasedHiddenTests, without_hidden_tests  # noqa: E402
from initgrader.sanitize import (SanitizeStudentContent, capped, clean_html, is_safe_html,  # noqa: E402
                                 render_markdown, safe_markdown)

REPO = Path(__file__).resolve().parent.parent

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<svg><script>alert(1)</script></svg>',
    '<svg onload="alert(1)"></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<iframe src="https://example.org"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<object data="x.swf"></object>',
    '<embed src="x">',
    '<form action="https://example.org"><input name="a"><button>go</button></form>',
    '<style>body { display: none }</style>',
    '<p style="position: fixed; top: 0; left: 0">cover</p>',
    '<p style="background-image: url(javascript:alert(1))">x</p>',
    '<base href="https://example.org/">',
    '<meta http-equiv="refresh" content="0;url=https://example.org">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<span class="score">10</span>',
    '<h1 id="x" onclick="alert(1)">x</h1>',
    '<!--<img src=x onerror=alert(1)>-->',
    '$\\href{javascript:alert(1)}{click}$',
]
BENIGN = [
    "<p>text <b>bold</b> <i>it</i> <code>x &lt; 1</code></p>",
    '<a href="https://example.org/page?q=1#f">link</a> <a href="#top">top</a> <a href="notes.html">rel</a>',
    ('<table border="1" class="dataframe"><thead><tr><th>a</th></tr></thead>'
     '<tbody><tr><td style="text-align: right">1</td></tr></tbody></table>'),
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="plot" width="100">',
    '<details><summary>more</summary><ul><li>one</li></ul></details>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_is_refused_and_its_cleaning_is_safe(attack):
    assert not is_safe_html(attack)
    assert is_safe_html(clean_html(attack))
    assert is_safe_html(render_markdown(safe_markdown(attack)))


@pytest.mark.parametrize("fragment", BENIGN)
def test_benign_html_is_kept_as_it_is(fragment):
    assert is_safe_html(fragment)


def test_markdown_syntax_links_and_math_links_are_caught():
    for source in ["[x](javascript:alert(1))", "<javascript:alert(1)>", "a $\\href{javascript:alert(1)}{x}$ b"]:
        assert not is_safe_html(render_markdown(source)), source
        assert is_safe_html(render_markdown(safe_markdown(source))), source


def test_every_released_markdown_cell_is_left_as_written():
    """The course's own markdown (math, tables, code, headings) passes untouched."""
    cells = [cell for folder in ("solutions", "course") for path in sorted((REPO / folder).glob("*/*.ipynb"))
             for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]
    assert len(cells) > 50
    changed = [cell.source[:80] for cell in cells if safe_markdown(cell.source, cell.get("attachments")) != cell.source]
    assert not changed, changed


def test_a_markdown_cell_that_cannot_render_is_shown_as_text():
    source = "![x](attachment:missing.png) <script>alert(1)</script> ````"
    shown = safe_markdown(source)
    assert shown.startswith("`````text\n") and source in shown
    assert is_safe_html(render_markdown(shown))


def test_capped_keeps_short_text_and_cuts_long_text_in_bytes():
    assert capped("abc", 10) == "abc"
    long = "é" * 1000  # 2 bytes each
    cut = capped(long, 101)
    assert cut.startswith("é" * 50) and not cut.startswith("é" * 51)
    assert "2,000 bytes, the first 101 kept" in cut


def _graded(cell, points=1):
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": f"g{id(cell)}",
                                 "points": points, "schema_version": 3, "task": False}
    return cell


def _sanitized(nb):
    return SanitizeStudentContent().preprocess(nb, {})[0]


def test_outputs_keep_their_kinds_and_grades():
    big = "y" * 300_000
    cells = [
        _graded(new_code_cell(outputs=[new_output("stream", name="stdout", text="✓ f: values\n")])),
        _graded(new_code_cell(outputs=[new_output("stream", name="stderr", text=big)])),
        _graded(new_code_cell(outputs=[new_output("error", ename="AssertionError", evalue=big,
                                                  traceback=[big, "last"])])),
        _graded(new_code_cell(outputs=[new_output("execute_result", execution_count=1,
                                                  data={"text/plain": "0.5", "application/javascript": "x"})]), 2),
        _graded(new_code_cell(outputs=[new_output("display_data", data={"application/javascript": "alert(1)"})])),
        _graded(new_code_cell(outputs=[new_output("stream", name="weird", text="hi\n")])),
    ]
    nb = new_notebook(cells=cells)
    before = [determine_grade(cell) for cell in nb.cells]
    nb = _sanitized(nb)
    assert [determine_grade(cell) for cell in nb.cells] == before
    assert len(nb.cells[1].outputs[0].text.encode()) < 101_000
    error = nb.cells[2].outputs[0]
    assert error.output_type == "error" and len(error.evalue) < 101_000 and len(error.traceback) == 2
    assert nb.cells[3].outputs[0].data == {"text/plain": "0.5"}
    assert nb.cells[4].outputs[0].data == {"text/plain": "[output removed by the grader: application/javascript]"}
    assert nb.cells[5].outputs[0].name == "stdout"
    nbformat.validate(nb)


def test_rich_outputs_are_cleaned_or_dropped():
    png = "iVBORw0KGgo="
    outputs = [new_output("display_data", data={"text/html": "<b>ok</b><script>alert(1)</script>",
                                                 "image/svg+xml": "<svg onload=alert(1)/>",
                                                 "text/latex": "$\\href{javascript:alert(1)}{x}$",
                                                 "application/vnd.jupyter.widget-view+json": {"model_id": "m"}}),
               new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
               new_output("display_data", data={"image/png": png + '"><script>', "text/plain": "<Figure>"})]
    nb = new_notebook(cells=[new_code_cell(outputs=outputs)], metadata={"widgets": {"state": {}}})
    nb = _sanitized(nb)
    first, image, forged = nb.cells[0].outputs
    assert first.data["text/html"] == "<b>ok</b>alert(1)"
    assert set(first.data) == {"text/html"}
    assert image.data["image/png"] == png
    assert "image/png" not in forged.data
    assert "widgets" not in nb.metadata


def test_a_cell_over_its_budget_keeps_what_can_change_a_grade():
    outputs = [new_output("stream", name="stdout", text="x" * 90_000) for _ in range(20)]
    outputs.insert(15, new_output("stream", name="stderr", text="warning\n"))
    outputs.append(new_output("error", ename="E", evalue="v", traceback=["t"]))
    nb = _sanitized(new_notebook(cells=[new_code_cell(outputs=outputs)]))
    kept = nb.cells[0].outputs
    assert sum(len(o.get("text", "")) for o in kept) < 1_200_000
    assert any(o.get("name") == "stderr" for o in kept) and kept[-2].output_type == "error"
    assert "more outputs dropped by the grader" in kept[-1].text


def test_markdown_cells_and_attachments_are_made_safe():
    cell = new_markdown_cell("hi <img src=\"attachment:a.svg\"> <script>alert(1)</script>")
    cell.attachments = {"a.svg": {"image/svg+xml": "PHN2Zz4="}, "b.png": {"image/png": "iVBOR="}}
    nb = _sanitized(new_notebook(cells=[cell]))
    assert nb.cells[0].attachments == {"a.svg": {}, "b.png": {"image/png": "iVBOR="}}
    assert "<script" not in nb.cells[0].source and "hi" in nb.cells[0].source


def test_raw_cells_are_cleaned_as_html():
    cell = nbformat.v4.new_raw_cell('<span class="score">9</span><b>ok</b>', metadata={"raw_mimetype": "text/html"})
    nb = _sanitized(new_notebook(cells=[cell]))
    assert nb.cells[0].source == "<span>9</span><b>ok</b>"


def test_hidden_blocks_are_cleared_leniently():
    begin, end = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
    assert without_hidden_tests("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc", begin, end) == ("a\nc", True)
    assert without_hidden_tests("a\n### BEGIN HIDDEN TESTS\nb", begin, end) == ("a", True)
    assert without_hidden_tests("a\n### END HIDDEN TESTS\nc", begin, end) == ("a\n### END HIDDEN TESTS\nc", False)


def test_only_the_releases_test_cells_are_cleared():
    hidden = "check(f)\n### BEGIN HIDDEN TESTS\ncheck(f, seed=1)\n### END HIDDEN TESTS\n"
    released = _graded(new_code_cell(hidden))
    student = new_code_cell(hidden)                      # a student's cell with the marker text
    impostor = _graded(new_code_cell(hidden))            # grade metadata, unknown grade_id
    step = ClearReleasedHiddenTests()
    step._released = {released.metadata.nbgrader.grade_id}
    for index, cell in enumerate([released, student, impostor]):
        step.preprocess_cell(cell, {}, index)
    assert "seed=1" not in released.source and released.source.startswith("check(f)\n")
    assert student.source == hidden and impostor.source == hidden
