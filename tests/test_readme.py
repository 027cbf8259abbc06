"""The README against the repository: every command it shows exists and takes the options it
shows, every make target it names is in the Makefile, every repository path it names
exists, every internal link lands on a heading. (The outputs it quotes were taken from real
runs; these tests keep the commands themselves from drifting.)"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import course  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
COMMAND = re.compile(r"python3? tools/course\.py ([^`\n|#]*)")


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def readme_commands() -> list[str]:
    """Every `python3 tools/course.py …` command line of the README, without placeholders."""
    found = set()
    for match in COMMAND.finditer(README):
        line = match.group(1).strip().rstrip(".,;:)")
        line = re.sub(r"\s*(\[.*|<.*|….*)$", "", line)  # "[NN-topic …]", "<student>", "…"
        if line:
            found.add(line)
    return sorted(found)


def test_the_readme_shows_the_commands_of_every_reader():
    commands = {line.split()[0] for line in readme_commands()}
    assert {"lab", "test", "setup", "compare", "instructor", "release", "grade", "grade-demo", "bench"} <= commands


@pytest.mark.parametrize("line", readme_commands())
def test_every_course_command_in_the_readme_parses(line, capsys):
    """Commands whose options tools/course.py parses itself are parsed for real; `test` and
    the grading commands hand their arguments to pytest and the scripts (checked below)."""
    words = shlex.split(line)
    if words[0] in ("test", "grade", "grade-demo"):
        assert words[0] in ("test", *course.GRADE_SCRIPTS)
        return
    args, extra = course.parser().parse_known_args(words)
    if words[0] in ("lab", "instructor") or words[0] == "bench":
        return  # other options go to JupyterLab / the bench part names
    assert not extra, f"README shows options tools/course.py does not know: {extra}"


@pytest.mark.parametrize("script, option", [
    ("grade.py", opt) for opt in ("--workers", "--timeout", "--submission-timeout", "--student", "--db", "--root",
                                  "--no-progress")] + [("grade_demo.py", opt) for opt in ("--assignment", "--dir")])
def test_the_grading_options_the_readme_names_exist(script, option):
    assert f"`{option}" in README
    assert f'"{option}"' in (ROOT / "tools" / script).read_text(encoding="utf-8")


def test_every_make_target_in_the_readme_is_in_the_makefile():
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE, re.M))
    shown = set(re.findall(r"`make ([\w-]+)", README))
    assert shown, "the README shows no make targets"
    assert shown <= targets, f"README shows make targets the Makefile lacks: {shown - targets}"


def test_every_repository_path_in_the_readme_exists():
    paths = set(re.findall(r"`((?:tools|tests|initkit|solutions|course|\.ci|calibration)/[\w./-]*?)`", README))
    paths |= {p for p in re.findall(r"^(\S+/)\s", README, re.M) if not p.startswith(("workspace", "…"))}
    assert len(paths) > 10
    missing = sorted(p for p in paths if "<" not in p and "NN-topic" not in p and not (ROOT / p).exists())
    assert not missing, f"README names paths that do not exist: {missing}"


def test_every_picture_and_file_link_in_the_readme_exists():
    targets = set(re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", README))
    assert any(t.endswith(".png") for t in targets), "the README shows no pictures"
    missing = sorted(t for t in targets if not (ROOT / t).is_file())
    assert not missing, f"README links to files that do not exist: {missing}"


def test_every_internal_link_lands_on_a_heading_or_an_anchor():
    anchors = {github_anchor(h) for h in re.findall(r"^#{1,4} (.+)$", README, re.M)}
    anchors |= set(re.findall(r'<a id="([\w-]+)"></a>', README))
    links = set(re.findall(r"\]\(#([\w-]+)\)", README))
    assert links, "the README has no internal links"
    assert links <= anchors, f"links to nowhere: {sorted(links - anchors)}"


def test_the_notebook_table_lists_every_released_notebook():
    released = sorted(p.name for p in (ROOT / "course").iterdir() if p.is_dir())
    for name in released:
        assert f"| `{name}` |" in README, f"{name} missing from the README's notebook table"
