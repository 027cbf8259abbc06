"""nbgrader_config.py plugs the isolated grader into nbgrader's own chains (COURSE.md §9):
the autograde chain is nbgrader 0.9.6's, with our IsolatedExecute in place of Execute, so
`nbgrader autograde`, formgrader's button and tools/grade.py all grade the same way."""

from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from initgrader.execute import IsolatedExecute
from initgrader.rebuild import RebuildFromRelease

REPO = Path(__file__).resolve().parent.parent


def _config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def test_the_autograde_chain_is_nbgraders_with_our_execute_step():
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    assert Execute in default
    assert _config().Autograde.autograde_preprocessors == [IsolatedExecute if p is Execute else p for p in default]


def test_the_sanitize_chain_is_nbgraders_with_our_rebuild_first():
    default = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    assert _config().Autograde.sanitize_preprocessors == [RebuildFromRelease, *default]


def test_our_execute_step_is_nbgraders_execute_confined_by_default():
    assert issubclass(IsolatedExecute, Execute)
    assert IsolatedExecute.class_traits()["sandbox"].default_value is True
