"""nbgrader_config.py plugs the isolated grader into nbgrader's own chains (COURSE.md §9):
the autograde chain is nbgrader 0.9.6's, with our IsolatedExecute in place of Execute and our
SanitizeStudentContent right after it, so `nbgrader autograde`, formgrader's button and
tools/grade.py all grade the same way; the feedback chain is nbgrader's with the release's
hidden tests cleared and the same sanitizing."""

from pathlib import Path

from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from initgrader.execute import IsolatedExecute
from initgrader.feedback import ClearReleasedHiddenTests
from initgrader.rebuild import RebuildFromRelease
from initgrader.sanitize import SanitizeStudentContent

REPO = Path(__file__).resolve().parent.parent


def _config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def test_the_autograde_chain_is_nbgraders_with_our_execute_and_sanitize_steps():
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    assert Execute in default
    ours = [step for p in default for step in ([IsolatedExecute, SanitizeStudentContent] if p is Execute else [p])]
    assert _config().Autograde.autograde_preprocessors == ours


def test_the_feedback_chain_is_nbgraders_with_hidden_tests_cleared_and_sanitizing():
    default = list(GenerateFeedback.class_traits()["preprocessors"].default())
    assert [p.__name__ for p in default] == ["GetGrades", "CSSHTMLHeaderPreprocessor"]
    config = _config()
    assert config.GenerateFeedback.preprocessors == [default[0], ClearReleasedHiddenTests, SanitizeStudentContent,
                                                     *default[1:]]
    assert config.HTMLExporter.sanitize_html is True


def test_the_sanitize_chain_is_nbgraders_with_our_rebuild_first():
    default = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    assert _config().Autograde.sanitize_preprocessors == [RebuildFromRelease, *default]


def test_our_execute_step_is_nbgraders_execute_confined_by_default():
    assert issubclass(IsolatedExecute, Execute)
    assert IsolatedExecute.class_traits()["sandbox"].default_value is True


def test_collect_is_nbgraders_default_collect_keeping_links():
    from nbgrader.exchange.default.collect import ExchangeCollect
    from nbgrader.exchange.exchange_factory import ExchangeFactory

    from initgrader.exchange import LinkKeepingCollect

    assert ExchangeFactory.class_traits()["collect"].default() is ExchangeCollect
    assert _config().ExchangeFactory.collect == "initgrader.exchange.LinkKeepingCollect"
    assert LinkKeepingCollect.__bases__ == (ExchangeCollect,)
