"""The simulated class lives in tools/classroom.py (the bench uses it too)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.classroom import SIMULATED_CLASSES, CourseRoot, catalogue_answers, without_solution_markers  # noqa: E402,F401
