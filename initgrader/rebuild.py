"""Honest mistakes are graded, not failed (COURSE.md §9, issue "Grades a submission cannot
forge", part D): the first step of nbgrader's sanitize chain rebuilds each submitted notebook
from the released one.

What JupyterLab lets an honest student do by accident — paste a copy of a check cell (it
keeps its nbgrader metadata, so nbgrader sees a duplicate graded cell), rename a grade_id,
flip a cell's "graded" flag, delete a graded cell, add a cell that looks graded — makes plain
nbgrader fail or zero the whole notebook. Here the notebook nbgrader grades is:

- every cell of the release, in the release's order, with the release's nbgrader metadata
  (so no flag can be flipped and no graded cell deleted);
- in each answer cell, the student's answer: the student's cell with that grade_id, or else
  the one with the same cell id (a renamed grade_id);
- in each unlocked, ungraded cell (set-up, experiments), the student's version when they
  kept the cell (matched by cell id): an honest student may add an import there;
- every cell the student added, without any nbgrader metadata (a pasted check cell becomes a
  plain cell, which runs but is not graded), placed after the release cell it followed.

Each such repair is logged as a warning (``tools/grade.py`` reports the notebook's log).
Locked cells and test cells are the release's; nbgrader's own OverwriteCells then restores
them from the gradebook as usual.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor


class RebuildFromRelease(NbGraderPreprocessor):
    """The submitted notebook rebuilt from the release plus the student's own cells."""

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        release = self.release_path(info.get("assignment", ""), info.get("notebook", ""))
        if release is None:
            self.log.warning("[rebuild] no released %s.ipynb found: graded as submitted", info.get("notebook"))
            return nb, resources
        rebuilt, repairs = rebuild(nbformat.read(release, as_version=4), nb)
        for repair in repairs:
            self.log.warning("[rebuild] %s", repair)
        return rebuilt, resources

    def release_path(self, assignment: str, notebook: str) -> Path | None:
        return release_path(self.config, assignment, notebook)


def release_path(config, assignment: str, notebook: str) -> Path | None:
    """The released ``notebook`` of ``assignment`` (``release_directory`` of the course), if any."""
    coursedir = CourseDirectory(config=config)
    path = Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / f"{notebook}.ipynb"
    return path if path.is_file() else None


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def rebuild(release, submitted) -> tuple:
    """(the notebook to grade, the repairs made, one line each)."""
    repairs: list[str] = []
    by_id = {cell.get("id"): cell for cell in release.cells if cell.get("id")}
    answers = {_nbgrader(c)["grade_id"]: c for c in release.cells
               if _nbgrader(c).get("solution") and _nbgrader(c).get("grade_id")}
    graded_ids = {_nbgrader(c).get("grade_id") for c in release.cells if _nbgrader(c).get("grade_id")}

    answer_source: dict[str, str] = {}      # grade_id → the student's answer
    kept_source: dict[str, str] = {}        # release cell id → the student's version (unlocked, ungraded)
    added_after: dict[str | None, list] = {}  # release cell id (None: the top) → cells the student added
    anchor = None
    for cell in submitted.cells:
        meta, cell_id = _nbgrader(cell), cell.get("id")
        grade_id = meta.get("grade_id")
        release_cell = by_id.get(cell_id)
        if grade_id in answers and grade_id not in answer_source and (release_cell is None or release_cell is answers[grade_id]):
            answer_source[grade_id] = cell.source
            anchor = answers[grade_id].get("id")
            continue
        if release_cell is not None and _nbgrader(release_cell).get("solution"):
            own = _nbgrader(release_cell)["grade_id"]
            if own not in answer_source:  # its grade_id was renamed: still this answer cell
                answer_source[own] = cell.source
                repairs.append(f"answer cell {own}: its grade_id was changed to {grade_id!r}; graded as {own}")
                anchor = cell_id
                continue
        if release_cell is not None and cell_id not in kept_source and cell_id != anchor:
            release_meta = _nbgrader(release_cell)
            if meta != release_meta and (meta.get("grade") or release_meta.get("grade")):
                repairs.append(f"cell {release_meta.get('grade_id') or cell_id}: its nbgrader metadata was changed; "
                               "the release's is used")
            if not release_meta.get("locked") and not release_meta.get("grade") and cell.cell_type == release_cell.cell_type:
                kept_source[cell_id] = cell.source
            anchor = cell_id
            continue
        added = copy.deepcopy(cell)
        if "nbgrader" in added.get("metadata", {}):
            del added.metadata["nbgrader"]
            if grade_id in graded_ids or meta.get("grade"):
                repairs.append(f"a copy of graded cell {grade_id or '(no id)'} was added: kept as a plain, "
                               "ungraded cell")
        added_after.setdefault(anchor, []).append(added)

    cells = list(added_after.get(None, []))
    for cell in release.cells:
        out = copy.deepcopy(cell)
        meta = _nbgrader(cell)
        if meta.get("solution"):
            out.source = answer_source.get(meta["grade_id"], cell.source)
        elif cell.get("id") in kept_source:
            out.source = kept_source[cell["id"]]
        cells.append(out)
        cells.extend(added_after.get(cell.get("id"), []))
    present = {_nbgrader(c).get("grade_id") for c in submitted.cells}
    missing = sorted(g for g in graded_ids - present - set(answer_source) if g)
    if missing:
        repairs.append(f"cells deleted from the notebook, restored from the release: {', '.join(missing)}")
    rebuilt = copy.deepcopy(submitted)
    rebuilt.cells = cells
    _unique_ids(rebuilt)
    return rebuilt, repairs


def _unique_ids(nb) -> None:
    """Cell ids must be unique (nbformat 4.5): an added cell carrying a release cell's id gets
    a new one."""
    seen = set()
    for index, cell in enumerate(nb.cells):
        if "id" in cell and cell.id in seen:
            cell.id = f"added-{index}"
        seen.add(cell.get("id"))
