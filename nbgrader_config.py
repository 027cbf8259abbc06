"""nbgrader configuration: the repository root is the course directory.

Instructor notebooks (solutions + hidden tests) live in ``solutions/<NN-topic>/``;
``nbgrader generate_assignment`` writes the student versions to ``course/<NN-topic>/``
(run ``python3 tools/course.py release``, never by hand).
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# The course root is the folder of this file, whatever the current directory is.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "initcourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"

# generate_assignment creates the assignment's gradebook row itself (nbgrader's default,
# stated here because the release command relies on it): no `nbgrader db assignment add`.
c.GenerateAssignment.create_assignment = True

# Per-cell time limit when nbgrader executes notebooks (autograde, validate). nbgrader's
# default is 30 s; the checks in initkit keep their own budget well below this.
c.Execute.timeout = 120

# Grading a submission that cannot forge its grade (COURSE.md §9, docs/grading.md): nbgrader's
# autograde chain as in nbgrader 0.9.6, except that our IsolatedExecute replaces Execute. It
# runs the student's notebook in a confined kernel and evaluates every graded test cell in
# the grader's own process, where student code cannot reach the verdict.
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # initgrader, without an install
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,  # noqa: E402
                                    DeduplicateIds, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from initgrader.execute import IsolatedExecute  # noqa: E402
from initgrader.rebuild import RebuildFromRelease  # noqa: E402

# A pasted check cell, a renamed grade_id, a flipped flag: the notebook is rebuilt from the
# release plus the student's answers and added cells before nbgrader's own sanitizing.
c.Autograde.sanitize_preprocessors = [RebuildFromRelease, ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteCells, CheckCellMetadata]

from initgrader.sanitize import SanitizeStudentContent  # noqa: E402

# SanitizeStudentContent (docs/grading.md, "Safe pages") right after the execute step: the
# stored autograded notebook, which formgrader shows, holds no live student HTML or script
# and no output over its byte cap.
c.Autograde.autograde_preprocessors = [IsolatedExecute, SanitizeStudentContent, IgnorePattern,
                                       ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                       AssignLatePenalties, CheckCellMetadata]

# Feedback: nbgrader 0.9.6's chain plus the hidden tests cleared from the release's test cells
# and the same sanitizing (for notebooks autograded before it existed); nbconvert cleans
# HTML outputs too.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from initgrader.feedback import ClearReleasedHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearReleasedHiddenTests, SanitizeStudentContent,
                                    CSSHTMLHeaderPreprocessor]
c.HTMLExporter.sanitize_html = True

# `nbgrader collect` copies a submission from the exchange following links, as the
# instructor: ours keeps links as links (tools/grade.py then refuses them, naming them) and
# leaves out pipes and devices.
c.ExchangeFactory.collect = "initgrader.exchange.LinkKeepingCollect"
