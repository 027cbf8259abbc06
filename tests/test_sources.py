"""The four source texts are cited as a reader would find them (title in Chinese and English,
kind of text, claim tested) — in the README's Sources section and in the introduction of each
notebook that uses them — and never by the project's internal file names ("seed 001")."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Internal names of the source files; "seed" alone stays legitimate (the checks' seed= argument).
INTERNAL_NAME = re.compile(r"seeds? 00[0-3]|the seeds'|seed articles|the seeds? (?:is|are|says?) right|the seed's", re.I)

TITLES = {
    "blog post": ("tensorflow和pytorch中的参数初始化调用方法", "How to call parameter initialization in TensorFlow and PyTorch"),
    "note": ("参数初始化(Weight Initialization)", "Weight initialization"),
    "Q&A": ("如何在 TensorFlow 上进行 Xavier 初始化", "How to do Xavier initialization on TensorFlow"),
    "lecture notes": ("梯度消失与爆炸", "Vanishing and exploding gradients"),
}
USED_IN = {
    "01": ["lecture notes"], "02": ["lecture notes"], "03": ["Q&A", "blog post"],
    "04": ["blog post", "note", "lecture notes"], "05": ["lecture notes"], "06": ["blog post", "Q&A"],
    "07": ["blog post", "note"], "08": ["blog post", "note"],
}


def searched_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("solutions", "course", "initkit", "docs"):
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.is_file() and p.suffix in (".py", ".ipynb", ".md", ".txt") and ".ipynb_checkpoints" not in p.parts]
    return files


def test_no_file_calls_a_source_by_its_internal_name():
    files = searched_files()
    assert any(p.suffix == ".ipynb" for p in files) and any(p.suffix == ".py" for p in files)
    found = [f"{p.relative_to(ROOT)}: …{m.group(0)}…" for p in files
             for m in INTERNAL_NAME.finditer(p.read_text(encoding="utf-8"))]
    assert not found, "cite the source text by its title, not as a seed:\n" + "\n".join(found)


@pytest.mark.parametrize("text", [
    "see seed 001's Net", "Seeds 000 and 001 say", "the seeds' answers", "every name the seed articles use",
    "The seeds are right about the limit", "The seed's policy uses Xavier"])
def test_the_internal_name_pattern_catches_what_it_must(text):
    assert INTERNAL_NAME.search(text)


@pytest.mark.parametrize("text", ["check_xavier_uniform(f, seed=1)", "seeds 0–2", "a seed no notebook uses"])
def test_the_internal_name_pattern_leaves_the_seed_argument_alone(text):
    assert not INTERNAL_NAME.search(text)


def test_the_readme_cites_every_source_with_both_titles():
    section = README.split("\n## Sources\n", 1)[1].split("\n## ", 1)[0]
    for original, english in TITLES.values():
        assert f"《{original}》" in section and f"*{english}*" in section, english


@pytest.mark.parametrize("nn, sources", USED_IN.items())
def test_each_notebook_cites_the_sources_it_uses_in_its_introduction(nn, sources):
    path = next((ROOT / "solutions").glob(f"{nn}-*/*.ipynb"))
    intro = nbformat.read(path, as_version=4).cells[0].source
    assert "**Sources.**" in intro
    cited = " ".join(intro.split("**Sources.**", 1)[1].split())  # titles may wrap across lines
    for name in sources:
        original, english = TITLES[name]
        assert f"《{original}》" in cited and f"*{english}*" in cited, (nn, name)
        assert "Tested here:" in cited
