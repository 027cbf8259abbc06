"""The README and the documentation pages it links to (`docs/*.md`) against the repository:
every command they show exists and takes the options they show, every make target they name
is in the Makefile, every repository path they name exists, every link lands on a file, and
every link with an anchor — on the same page or into another page (`docs/x.md#heading`,
`../README.md#sources`) — lands on a heading or an `<a id>`. The README links every page, so
a newcomer reaches all of them from it. (The outputs the pages quote were taken from real
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

README_PATH = ROOT / "README.md"
DOCS = ROOT / "docs"
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
COMMAND = re.compile(r"python3? tools/course\.py ([^`\n|#]*)")
LINK = re.compile(r"\]\(((?!https?:|mailto:)[^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
CODE = re.compile(r"`[^`]*`")  # an inline code span: a `[link](javascript:…)` in it is an example, not a link
# Paths in backticks that are not the repository's, with the reason.
NOT_REPOSITORY_PATHS = {"initkit/checks.py": "a sidecar a student plants in their own folder (docs/grading.md)"}

# The README, then every page of docs/: each check below runs on all of them.
PAGES = [README_PATH, *sorted(DOCS.glob("*.md"))]
TEXT = {page: page.read_text(encoding="utf-8") for page in PAGES}
README = TEXT[README_PATH]
ALL_TEXT = "\n".join(TEXT.values())


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The ids a page offers: its headings (outside code blocks; a repeated heading gets
    GitHub's -1, -2 …) and its `<a id="…"></a>`."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", text), re.M):
        anchor = base = github_anchor(heading)
        n = 0
        while anchor in found:
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found | set(re.findall(r'<a id="([\w-]+)"></a>', text))


def links(page: Path) -> list[tuple[str, Path, str]]:
    """Every relative link of a page: (as written, the file it points to, its anchor or '')."""
    found = []
    for target in LINK.findall(CODE.sub("", FENCE.sub("", TEXT[page]))):
        path, _, fragment = target.partition("#")
        found.append((target, (page.parent / path).resolve() if path else page, fragment))
    return found


def commands(text: str) -> list[str]:
    """Every `python3 tools/course.py …` command line of a page, without placeholders."""
    found = set()
    for match in COMMAND.finditer(text):
        line = match.group(1).strip().rstrip(".,;:)")
        line = re.sub(r"\s*(\[.*|<.*|….*)$", "", line)  # "[NN-topic …]", "<student>", "…"
        if line:
            found.add(line)
    return sorted(found)


def readme_commands() -> list[str]:
    """Every command of the README and of the pages, once."""
    return sorted({line for page in PAGES for line in commands(TEXT[page])})


def page_commands() -> list[tuple[Path, str]]:
    return [(page, line) for page in PAGES for line in commands(TEXT[page])]


pages = pytest.mark.parametrize("page", PAGES, ids=name)


def test_the_documentation_pages_are_found():
    assert {"students.md", "self-learners.md", "instructors.md", "troubleshooting.md", "checks.md",
            "developing.md", "grading.md"} <= {p.name for p in PAGES}


def test_the_readme_links_every_page_and_every_page_is_reached_from_it():
    """Following the README's links, page to page, reaches every docs/*.md."""
    reached, todo = {README_PATH}, [README_PATH]
    while todo:
        for _, target, _ in links(todo.pop()):
            if target in TEXT and target not in reached:
                reached.add(target)
                todo.append(target)
    assert not set(PAGES) - reached, f"pages no link leads to: {sorted(map(name, set(PAGES) - reached))}"
    linked = {target for _, target, _ in links(README_PATH)}
    assert not set(PAGES[1:]) - linked, "the README's Documentation list misses a page"


def test_the_readme_stays_an_overview():
    """Set-up, the notebooks, the three paths and the sources: the long parts live in docs/."""
    assert len(README.encode("utf-8")) < 20_000, "the README grew: move the detail into a docs/ page"
    assert "| `make lab` | `python3 tools/course.py lab` |" in README
    assert "| `make test` | `python3 tools/course.py test` |" in README
    for heading in ("Start here", "The notebooks", "For students", "For self-learners", "For instructors",
                    "Sources", "Documentation"):
        assert f"\n## {heading}\n" in README, heading


def test_the_readme_shows_the_commands_of_every_reader():
    assert {line.split()[0] for line in commands(README)} >= {"lab", "test", "setup", "compare", "grade"}
    shown = {line.split()[0] for line in readme_commands()}
    assert {"lab", "test", "setup", "compare", "instructor", "release", "grade", "grade-demo", "bench"} <= shown


@pytest.mark.parametrize("page, line", page_commands(), ids=lambda v: name(v) if isinstance(v, Path) else v)
def test_every_course_command_in_the_readme_parses(page, line, capsys):
    """Commands whose options tools/course.py parses itself are parsed for real; `test` and
    the grading commands hand their arguments to pytest and the scripts (checked below)."""
    words = shlex.split(line)
    if words[0] in ("test", "grade", "grade-demo"):
        assert words[0] in ("test", *course.GRADE_SCRIPTS)
        return
    args, extra = course.parser().parse_known_args(words)
    if words[0] in ("lab", "instructor") or words[0] == "bench":
        return  # other options go to JupyterLab / the bench part names
    assert not extra, f"{name(page)} shows options tools/course.py does not know: {extra}"


@pytest.mark.parametrize("script, option", [
    ("grade.py", opt) for opt in ("--workers", "--timeout", "--submission-timeout", "--student", "--db", "--root",
                                  "--no-progress")] + [("grade_demo.py", opt) for opt in ("--assignment", "--dir")])
def test_the_grading_options_the_readme_names_exist(script, option):
    assert f"`{option}" in TEXT[DOCS / "instructors.md"]
    assert f'"{option}"' in (ROOT / "tools" / script).read_text(encoding="utf-8")


def test_the_pages_show_make_targets():
    assert re.search(r"`make ([\w-]+)", README), "the README shows no make targets"


@pages
def test_every_make_target_in_the_readme_is_in_the_makefile(page):
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE, re.M))
    shown = set(re.findall(r"`make ([\w-]+)", TEXT[page]))
    assert shown <= targets, f"{name(page)} shows make targets the Makefile lacks: {shown - targets}"


def repository_paths(text: str) -> set[str]:
    paths = set(re.findall(r"`((?:tools|tests|initkit|initgrader|solutions|course|docs|\.ci|calibration)/[\w./-]*?)`",
                           text))
    paths |= {p for p in re.findall(r"^(\S+/)\s", text, re.M) if not p.startswith(("workspace", "…"))}
    return {p for p in paths if "<" not in p and "NN-topic" not in p and p not in NOT_REPOSITORY_PATHS}


def test_the_pages_name_repository_paths():
    assert len(repository_paths(ALL_TEXT)) > 10


@pages
def test_every_repository_path_in_the_readme_exists(page):
    """Paths in backticks are named from the repository root, on every page."""
    missing = sorted(p for p in repository_paths(TEXT[page]) if not (ROOT / p).exists())
    assert not missing, f"{name(page)} names paths that do not exist: {missing}"


def test_the_pages_show_pictures():
    assert any(str(target).endswith(".png") for page in PAGES for _, target, _ in links(page))


@pages
def test_every_picture_and_file_link_in_the_readme_exists(page):
    """A link is relative to its page: `docs/images/…` from the README, `images/…` and
    `../tools/…` from a page of docs/."""
    bad = sorted(written for written, target, _ in links(page)
                 if not target.is_relative_to(ROOT) or not (target.is_file() or written.split("#")[0].endswith("/")
                                                             and target.is_dir()))
    assert not bad, f"{name(page)} links to files that do not exist: {bad}"


def test_the_pages_link_within_and_across_pages():
    written = [w for page in PAGES for w, _, fragment in links(page) if fragment]
    assert any(w.startswith("#") for w in written), "no page has an internal link"
    assert any(re.match(r"[\w./-]+\.md#", w) for w in written), "no page links to another page's heading"


@pages
def test_every_internal_link_lands_on_a_heading_or_an_anchor(page):
    """`#x` on the same page, `x.md#y` / `../README.md#y` on the page it names."""
    nowhere = sorted(written for written, target, fragment in links(page)
                     if fragment and target.suffix == ".md" and target.is_file()
                     and fragment not in anchors(TEXT.get(target) or target.read_text(encoding="utf-8")))
    assert not nowhere, f"{name(page)} links to nowhere: {nowhere}"


def test_the_notebook_table_lists_every_released_notebook():
    released = sorted(p.name for p in (ROOT / "course").iterdir() if p.is_dir())
    for nb in released:
        assert f"| `{nb}` |" in README, f"{nb} missing from the README's notebook table"


POINTER = re.compile(r"see (README|docs/[\w-]+\.md) '([^']+)'")


def test_the_tools_point_to_pages_and_headings_that_exist():
    """A message like `see docs/students.md 'Getting updates'` names a page and one of its
    headings; every `docs/….md` the code names exists."""
    sources = {p: p.read_text(encoding="utf-8") for folder in ("tools", "initgrader", "initkit")
               for p in (ROOT / folder).rglob("*.py")}
    pointers = [(p, m) for p, text in sources.items() for m in POINTER.finditer(text)]
    assert pointers, "no tool points to a section of the documentation"
    for path, match in pointers:
        page = ROOT / ("README.md" if match[1] == "README" else match[1])
        assert page.is_file() and github_anchor(match[2]) in anchors(page.read_text(encoding="utf-8")), \
            f"{path.relative_to(ROOT)}: {match[0]} lands nowhere"
    named = {m for text in sources.values() for m in re.findall(r"\bdocs/[\w-]+\.md", text)}
    assert not {m for m in named if not (ROOT / m).is_file()}, "the code names pages that do not exist"
