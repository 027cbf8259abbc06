"""Feedback without the hidden tests (COURSE.md §9 B, nbgrader issue #917).

nbgrader's feedback shows each test cell as autograde stored it: restored from the release
*with* its hidden tests. ``ClearReleasedHiddenTests`` runs in
``GenerateFeedback.preprocessors`` and removes the ``### BEGIN HIDDEN TESTS`` … ``### END
HIDDEN TESTS`` blocks from the graded test cells that came from the release — a cell marked
grade, not solution, locked, whose grade_id the gradebook knows as a grade cell of this
notebook. nbgrader's own ``ClearHiddenTests`` looks at every cell and raises on a student cell
that merely contains the marker text (or on an unbalanced one), which stops that student's
feedback; this step only touches the release's cells and never raises: an unterminated block
is cleared to the end of the cell.
"""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

NOTE = "# (hidden tests are not shown)"


def without_hidden_tests(source: str, begin: str, end: str) -> tuple[str, bool]:
    """``source`` with every begin…end block (marker lines included) removed, and whether
    there was one. Lenient: a nested begin is part of its block, a missing end runs to the end."""
    kept, inside, found = [], False, False
    for line in source.split("\n"):
        if begin in line:
            inside = found = True
        elif end in line and inside:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), found


class ClearReleasedHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test blocks from the release's graded test cells; leave every other
    cell alone."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        self._released = self._grade_cell_ids(info.get("db_url"), info.get("notebook"), info.get("assignment"))
        return super().preprocess(nb, resources)

    def _grade_cell_ids(self, db_url, notebook, assignment) -> set[str]:
        if not (db_url and notebook and assignment):
            return set()
        with Gradebook(db_url) as gb:
            try:
                return {cell.name for cell in gb.find_notebook(notebook, assignment).grade_cells}
            except MissingEntry:
                return set()

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        released_test = (cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
                         and meta.get("locked") and meta.get("grade_id") in self._released)
        if released_test:
            source, found = without_hidden_tests(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
            if found:
                cell.source = source.rstrip("\n") + "\n" + NOTE
        return cell, resources
