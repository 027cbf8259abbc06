#!/usr/bin/env python3
"""One entry point for the course: set-up, JupyterLab, release, tests and grading.

Run it with any Python 3.11+ (no virtual environment needs to be active)::

    python3 tools/course.py setup        # create .venv and install the pinned packages
    python3 tools/course.py lab          # copy the released notebooks to workspace/, open JupyterLab
    python3 tools/course.py test         # run the test suite (what CI runs)
    python3 tools/course.py compare 03-xavier   # your answers in workspace/ against solutions/
    python3 tools/course.py instructor   # JupyterLab at the repo root, nbgrader formgrader on
    python3 tools/course.py release      # regenerate course/ from solutions/ with nbgrader
    python3 tools/course.py release --check   # fail if course/ differs from a fresh release
    python3 tools/course.py grade 03-xavier   # autograde submitted/, feedback, grades.csv, summary
    python3 tools/course.py grade-demo   # a simulated class graded end to end

This file uses the standard library only. Commands that need the course's packages run the
executables of ``.venv`` by path (``.venv/bin`` or ``.venv\\Scripts`` on Windows).
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYPROJECT = ROOT / "pyproject.toml"
SETUP_MARKER = VENV / "initcourse-setup.json"
SOURCE_DIR = ROOT / "solutions"
RELEASE_DIR = ROOT / "course"
DEFAULT_WORKSPACE = ROOT / "workspace"

# Never copied, compared or released: editor and interpreter leftovers.
IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
IGNORED_SUFFIXES = {".pyc"}

# nbgrader 0.9.x registers four server extensions (etc/jupyter/jupyter_server_config.d/
# nbgrader.json) and one lab extension, @jupyter/nbgrader, with these plugins. The student
# launch keeps only "Validate" (a toolbar button that runs the notebook's tests).
STUDENT_SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,  # needs an exchange: classroom only
    "nbgrader.server_extensions.validate_assignment": True,
}
STUDENT_DISABLED_LAB_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",  # its menu would only list the disabled tools
]
LAUNCH_CONFIG_NAME = ".jupyter-launch"  # inside the workspace, git-ignored with it


def say(tag: str, message: str) -> None:
    """Print one progress line, e.g. ``[setup] creating .venv``."""
    print(f"[{tag}] {message}", flush=True)


def rel(path: Path) -> str:
    """``path`` relative to the repo root when inside it, with forward slashes."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- venv

_CURRENT_PYTHON = None  # set by --skip-setup when there is no .venv


def venv_bin() -> Path:
    """Folder of the venv's executables."""
    return VENV / ("Scripts" if os.name == "nt" else "bin")


def venv_python() -> Path:
    """The venv's Python interpreter (or the current one, see below)."""
    if _CURRENT_PYTHON:
        return _CURRENT_PYTHON
    return venv_bin() / ("python.exe" if os.name == "nt" else "python")


def use_current_python_if_no_venv() -> None:
    """With --skip-setup and no .venv, run everything with the Python running this script.

    For environments made another way (conda, Binder, a copy of the repo in a test).
    """
    global _CURRENT_PYTHON
    if not venv_python().exists():
        _CURRENT_PYTHON = Path(sys.executable)
        say("setup", f"no .venv: using the current Python, {sys.executable}")


def venv_env() -> dict:
    """Environment for venv programs: the venv's executables first on PATH.

    nbgrader runs helper programs (``alembic``) by name, so running the venv's Python by
    path is not enough without this.
    """
    env = dict(os.environ)
    if _CURRENT_PYTHON:
        folders = [_CURRENT_PYTHON.parent, Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")]
    else:
        folders = [venv_bin()]
        env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([*dict.fromkeys(map(str, folders)), env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    return env


def run(cmd: list, *, cwd: Path = ROOT, env: dict | None = None, check: bool = True) -> int:
    """Run ``cmd`` in the foreground; exit with its status when ``check`` and it fails."""
    code = subprocess.call([str(c) for c in cmd], cwd=str(cwd), env=env)
    if check and code != 0:
        say("error", f"command failed with exit code {code}: {' '.join(map(str, cmd))}")
        sys.exit(code)
    return code


def read_pins() -> list[str]:
    """The ``course`` extra of pyproject.toml (the tested pins)."""
    text = PYPROJECT.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11: good enough for this one list
        block = re.search(r"^course\s*=\s*\[(.*?)\]", text, re.S | re.M)
        return re.findall(r'"([^"]+)"', block.group(1)) if block else []
    return list(tomllib.loads(text)["project"]["optional-dependencies"]["course"])


def torch_pin() -> str:
    """The exact torch requirement, e.g. ``torch==2.13.0`` (must be an ``==`` pin)."""
    for requirement in read_pins():
        name = re.split(r"[\s=<>!~;\[]", requirement, maxsplit=1)[0]
        if name.lower() == "torch":
            pin = requirement.split(";")[0].strip()
            if "==" not in pin:
                sys.exit(f"[setup] pyproject.toml must pin torch exactly (torch==X.Y.Z), found {pin!r}")
            return pin
    sys.exit("[setup] no torch pin in pyproject.toml's `course` extra")


def pyproject_hash() -> str:
    """Fingerprint of what setup installs from (pyproject.toml)."""
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def setup(args: argparse.Namespace | None = None) -> None:
    """Create ``.venv`` if missing and install the pinned packages, unless already done."""
    if getattr(args, "skip_setup", False):
        use_current_python_if_no_venv()
        return
    if sys.version_info < (3, 11):
        sys.exit(f"[setup] Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    digest = pyproject_hash()
    if venv_python().exists() and SETUP_MARKER.exists():
        try:
            recorded = json.loads(SETUP_MARKER.read_text(encoding="utf-8")).get("pyproject_sha256")
        except (OSError, ValueError):
            recorded = None
        if recorded == digest:
            say("setup", ".venv is up to date with pyproject.toml; nothing to install")
            return
        say("setup", "pyproject.toml changed since the last set-up; updating .venv")
    if not venv_python().exists():
        say("setup", f"creating .venv with {sys.executable} …")
        run([sys.executable, "-m", "venv", VENV])
    pin = torch_pin()
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    say("setup", f"installing {pin} first (pinned CPU wheel; an unpinned torch may pull a CUDA build) …")
    run(pip + [pin], env=venv_env())
    say("setup", 'installing the course: pip install -e ".[course,test]" …')
    run(pip + ["-e", ".[course,test]"], env=venv_env())
    SETUP_MARKER.write_text(json.dumps({"pyproject_sha256": digest}) + "\n", encoding="utf-8")
    say("setup", "done: .venv is ready")


# --------------------------------------------------------------------------- files

def released_files(folder: Path) -> list[Path]:
    """Files under ``folder``, sorted, without checkpoints and caches."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not IGNORED_NAMES.intersection(parts) and path.suffix not in IGNORED_SUFFIXES:
            found.append(path)
    return found


def assignment_folders(base: Path, names: list[str] | None = None) -> list[Path]:
    """Sub-folders of ``base`` (all, or those named), sorted."""
    if names:
        missing = [n for n in names if not (base / n).is_dir()]
        if missing:
            sys.exit(f"no such folder in {rel(base)}/: {', '.join(missing)}")
        return [base / n for n in names]
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and p.name not in IGNORED_NAMES)


# --------------------------------------------------------------------------- lab

def sync_workspace(workspace: Path) -> None:
    """Copy released files missing from ``workspace``; never overwrite a student's file."""
    copied = kept = 0
    for folder in assignment_folders(RELEASE_DIR):
        for src in released_files(folder):
            dest = workspace / src.relative_to(RELEASE_DIR)
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)  # keeps the release's mtime: "newer" stays meaningful
                say("lab", f"copied {rel(src)} -> {rel(dest)}")
                copied += 1
            elif src.stat().st_mtime > dest.stat().st_mtime and not filecmp.cmp(src, dest, shallow=False):
                say("lab", f"{rel(src)} is newer than your copy; your copy was kept — "
                           "see docs/students.md 'Getting updates'")
                kept += 1
    say("lab", f"workspace {rel(workspace)}: {copied} file(s) copied, {kept} newer release(s) not copied")


def execute_timeout() -> int:
    """``c.Execute.timeout`` from nbgrader_config.py (120 if not found)."""
    match = re.search(r"^c\.Execute\.timeout\s*=\s*(\d+)",
                      (ROOT / "nbgrader_config.py").read_text(encoding="utf-8"), re.M)
    return int(match.group(1)) if match else 120


def write_student_config(workspace: Path) -> Path:
    """Write the student launch's Jupyter config folder and return it.

    The folder goes on ``JUPYTER_CONFIG_PATH`` for that launch only: it ranks above the
    venv's ``etc/jupyter`` (where nbgrader enables its extensions) and below the user's
    own ``~/.jupyter``, whose settings are kept.
    """
    config = workspace / LAUNCH_CONFIG_NAME
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    files = {
        config / "jupyter_server_config.json":
            {"ServerApp": {"jpserver_extensions": STUDENT_SERVER_EXTENSIONS}},
        config / "labconfig" / "page_config.json":
            {"disabledExtensions": {name: True for name in STUDENT_DISABLED_LAB_PLUGINS}},
    }
    for path, data in files.items():
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    # The Validate button runs nbgrader with this config: the same cell time limit as grading.
    (config / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.Execute.timeout = {execute_timeout()}\n", encoding="utf-8")
    (config / "README.txt").write_text(
        "Written by `python3 tools/course.py lab` at every launch: Jupyter config for the\n"
        "student launch only (nbgrader's instructor tools disabled). Edits are overwritten.\n",
        encoding="utf-8")
    return config


def jupyter_lab_command(root_dir: Path, args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The ``python -m jupyterlab`` command line for a launch in ``root_dir``."""
    cmd = [str(venv_python()), "-m", "jupyterlab", f"--ServerApp.root_dir={root_dir}"]
    if args.no_browser:
        cmd.append("--no-browser")
    if args.port:
        cmd.append(f"--port={args.port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # Jupyter refuses to start as root otherwise (containers, CI)
    return cmd + list(extra)


def serve(cmd: list[str], cwd: Path, env: dict) -> int:
    """Run the Jupyter server until it exits (Ctrl-C goes to Jupyter, which asks to confirm)."""
    process = subprocess.Popen(cmd, cwd=str(cwd), env=env)
    # A plain `kill` of this script stops the server too (it would linger otherwise).
    signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def cmd_lab(args: argparse.Namespace, extra: list[str]) -> int:
    """Copy new released files into the workspace and open JupyterLab there."""
    setup(args)
    workspace = Path(args.workspace).resolve() if args.workspace else DEFAULT_WORKSPACE
    workspace.mkdir(parents=True, exist_ok=True)
    sync_workspace(workspace)
    config = write_student_config(workspace)
    env = venv_env()
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(config)] + [p for p in [os.environ.get("JUPYTER_CONFIG_PATH")] if p])
    cmd = jupyter_lab_command(workspace, args, extra)
    say("lab", f"JUPYTER_CONFIG_PATH={env['JUPYTER_CONFIG_PATH']}")
    say("lab", "command: " + " ".join(cmd))
    if args.dry_run:
        say("lab", "dry run: JupyterLab not started")
        return 0
    say("lab", "starting JupyterLab (stop it with Ctrl-C) …")
    return serve(cmd, workspace, env)


def cmd_instructor(args: argparse.Namespace, extra: list[str]) -> int:
    """JupyterLab at the repo root with every nbgrader extension (formgrader) enabled."""
    setup(args)
    cmd = jupyter_lab_command(ROOT, args, extra)
    say("instructor", "command: " + " ".join(cmd))
    if args.dry_run:
        say("instructor", "dry run: JupyterLab not started")
        return 0
    say("instructor", "starting JupyterLab at the repo root (formgrader: Nbgrader menu) …")
    return serve(cmd, ROOT, venv_env())


# --------------------------------------------------------------------------- compare

def answer_cells(notebook: Path) -> dict[str, str]:
    """grade_id → source of every answer cell (nbgrader ``solution`` cell) of a notebook."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    answers = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id"):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            answers[meta["grade_id"]] = source
    return answers


def without_solution_markers(source: str) -> str:
    """A solution cell as a student would write it: no ``### BEGIN/END SOLUTION`` lines."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def compare_answers(mine: Path, solution: Path, reveal: bool = False) -> list[str]:
    """Lines that show, answer cell by answer cell, how ``mine`` differs from ``solution``
    (an unanswered exercise's solution only with ``reveal``)."""
    import difflib

    yours, theirs = answer_cells(mine), answer_cells(solution)
    lines = []
    if not theirs:
        return ["   no exercises in this notebook"]
    for grade_id, reference in theirs.items():
        reference = without_solution_markers(reference)
        lines.append(f"── {grade_id} " + "─" * max(3, 60 - len(grade_id)))
        if grade_id not in yours:
            lines.append("   missing from your notebook (a deleted cell scores 0 when graded)")
        elif "raise NotImplementedError" in yours[grade_id] and not reveal:
            lines.append("   not answered yet (--reveal shows the solution)")
        elif yours[grade_id].strip() == reference.strip():
            lines.append("   the same as the solution")
        else:
            lines += [line.rstrip("\n") for line in difflib.unified_diff(
                yours[grade_id].strip().splitlines(), reference.strip().splitlines(),
                fromfile=f"yours: {rel(mine)}", tofile=f"solution: {rel(solution)}", lineterm="")]
    return lines


def cmd_compare(args: argparse.Namespace, extra: list[str]) -> int:
    """Print, per exercise, a diff of the learner's answer against the solution."""
    workspace = Path(args.workspace).resolve() if args.workspace else DEFAULT_WORKSPACE
    solutions = sorted((SOURCE_DIR / args.name).glob("*.ipynb")) if (SOURCE_DIR / args.name).is_dir() else []
    if not solutions:
        known = ", ".join(p.name for p in assignment_folders(SOURCE_DIR))
        sys.exit(f"[compare] unknown notebook {args.name!r}; one of: {known}")
    for solution in solutions:
        mine = workspace / args.name / solution.name
        if not mine.exists():
            sys.exit(f"[compare] {rel(mine)} does not exist: run `python3 tools/course.py lab` first "
                     f"(or pass --workspace PATH)")
        say("compare", f"{rel(mine)} against {rel(solution)} (answer cells only; - yours, + solution)")
        print("\n".join(compare_answers(mine, solution, reveal=args.reveal)))
    return 0


# --------------------------------------------------------------------------- release

def generate(course_root: Path, names: list[str], everything: bool = False) -> None:
    """Run ``nbgrader generate_assignment`` in ``course_root``, then normalise the output.

    ``everything``: one nbgrader run for all assignments (assignment id ``*``), which saves
    nbgrader's start-up time per assignment. The gradebook nbgrader insists on writing goes
    to a temporary folder, not the repo.
    """
    with tempfile.TemporaryDirectory(prefix="initcourse-gradebook-") as db_dir:
        db_url = "sqlite:///" + Path(db_dir, "gradebook.db").as_posix()
        for assignment_id in (["*"] if everything else names):
            start = time.monotonic()
            cmd = [str(venv_python()), "-m", "nbgrader", "generate_assignment", assignment_id,
                   "--force", f"--db={db_url}"]
            result = subprocess.run(cmd, cwd=str(course_root), env=venv_env(),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0 or "App | ERROR]" in result.stdout:
                print(result.stdout, end="")
                sys.exit(f"[release] nbgrader generate_assignment {assignment_id} failed (exit {result.returncode})")
            done = names if everything else [assignment_id]
            for name in done:
                for notebook in sorted((course_root / "course" / name).rglob("*.ipynb")):
                    source = course_root / "solutions" / notebook.relative_to(course_root / "course")
                    normalise_notebook(notebook, source)
            say("release", f"nbgrader generate_assignment {assignment_id}: "
                           f"{', '.join(f'course/{n}/' for n in done)} ({time.monotonic() - start:.1f} s)")


def normalise_notebook(path: Path, source: Path) -> None:
    """Rewrite a released notebook byte-stably.

    nbformat 4.5 with the solution's cell ids, no outputs, no execution counts, and
    nbformat's own on-disk layout (sorted keys, indent 1, UTF-8, final newline).
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    ids = []
    if source.exists():
        ids = [cell.get("id") for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]]
    if len(ids) != len(nb["cells"]):
        ids = [None] * len(nb["cells"])  # cells were added or removed: positions don't match
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 0))
    for index, (cell, cell_id) in enumerate(zip(nb["cells"], ids)):
        cell["id"] = cell_id or f"{path.stem}-{index:03d}"
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    path.write_bytes(text.encode("utf-8"))


def warn_about_sources(names: list[str], base: Path) -> None:
    """Warn about solution notebooks with outputs or without cell ids (not byte-stable)."""
    for name in names:
        for notebook in sorted((base / "solutions" / name).rglob("*.ipynb")):
            if IGNORED_NAMES.intersection(notebook.parts):
                continue
            nb = json.loads(notebook.read_text(encoding="utf-8"))
            cells = nb.get("cells", [])
            if any(c.get("outputs") or c.get("execution_count") for c in cells):
                say("release", f"warning: {rel(notebook)} has outputs; clear them before committing")
            if nb.get("nbformat_minor", 0) < 5 or not all(c.get("id") for c in cells):
                say("release", f"warning: {rel(notebook)} lacks cell ids (nbformat 4.5); "
                               "ids in course/ are then positional")


def copy_course_source(dest: Path) -> None:
    """Copy what ``generate`` needs (solutions/ and nbgrader_config.py) into ``dest``."""
    ignore = shutil.ignore_patterns(*IGNORED_NAMES, *("*" + s for s in IGNORED_SUFFIXES))
    shutil.copytree(SOURCE_DIR, dest / "solutions", ignore=ignore)
    shutil.copy2(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")


def compare_trees(fresh: Path, committed: Path, names: list[str]) -> list[str]:
    """Differences between a fresh release and the committed ``course/``."""
    problems = []
    for name in names:
        new = {p.relative_to(fresh).as_posix() for p in released_files(fresh / name)} if (fresh / name).is_dir() else set()
        old = {p.relative_to(committed).as_posix() for p in released_files(committed / name)} if (committed / name).is_dir() else set()
        for item in sorted(new - old):
            problems.append(f"course/{item}: missing from the committed course/")
        for item in sorted(old - new):
            problems.append(f"course/{item}: not produced by a fresh release (stale?)")
        for item in sorted(new & old):
            if (fresh / item).read_bytes() != (committed / item).read_bytes():
                problems.append(f"course/{item}: differs from a fresh release")
    return problems


def cmd_release(args: argparse.Namespace, extra: list[str]) -> int:
    """Regenerate course/ from solutions/, or with --check compare against a fresh release."""
    setup(args)
    names = [p.name for p in assignment_folders(SOURCE_DIR, args.names)]
    if not names:
        say("release", "nothing to release: solutions/ has no assignment folders")
        return 0
    warn_about_sources(names, ROOT)
    if not args.check:
        had_gradebook = (ROOT / "gradebook.db").exists()
        generate(ROOT, names, everything=not args.names)
        if not had_gradebook and (ROOT / "gradebook.db").exists():
            (ROOT / "gradebook.db").unlink()
        say("release", f"released {len(names)} assignment(s) into course/")
        return 0
    with tempfile.TemporaryDirectory(prefix="initcourse-release-check-") as tmp:
        tmp_root = Path(tmp)
        copy_course_source(tmp_root)
        generate(tmp_root, names, everything=not args.names)
        check_names = names if args.names else sorted(
            {p.name for p in assignment_folders(RELEASE_DIR)} | set(names))
        problems = compare_trees(tmp_root / "course", RELEASE_DIR, check_names)
    if problems:
        for problem in problems:
            say("release", problem)
        say("release", "course/ is out of date: run `python3 tools/course.py release` and commit course/")
        return 1
    say("release", f"course/ matches a fresh release ({len(check_names)} assignment(s))")
    return 0


# --------------------------------------------------------------------------- test, bench

def cmd_test(pytest_args: list[str], skip_setup: bool = False) -> int:
    """Run pytest in the venv; exit code 5 (no tests collected) counts as a failure."""
    setup(argparse.Namespace(skip_setup=skip_setup))
    cmd = [str(venv_python()), "-m", "pytest", *pytest_args]
    say("test", "command: " + " ".join(cmd))
    code = run(cmd, env=venv_env(), check=False)
    if code == 5:
        say("test", "pytest collected no tests: treating that as a failure")
        return 1
    return code


def cmd_bench(args: argparse.Namespace, extra: list[str]) -> int:
    """Run tools/bench.py (the checks) then tools/bench_notebooks.py (execution and autograde
    per notebook) in the venv; ``bench checks`` or ``bench notebooks [ASSIGNMENT …]`` runs one;
    ``bench grading`` runs tools/bench_grading.py (class throughput), ``bench fork``
    tools/bench_fork.py (what a kernel forked from a pre-imported parent saves) and ``bench
    fast`` tools/bench_fast.py (one full-course submission, full path against fast path);
    none of them is part of the default."""
    setup(args)
    part, rest = (extra[0], extra[1:]) if extra[:1] in (["checks"], ["notebooks"], ["grading"], ["fork"], ["fast"]) \
        else (None, extra)
    if part in ("grading", "fork", "fast"):
        return run([venv_python(), ROOT / "tools" / f"bench_{part}.py", *rest], env=venv_env(), check=False)
    status = 0
    if part in (None, "checks"):
        status |= run([venv_python(), ROOT / "tools" / "bench.py", *([] if part is None else rest)],
                      env=venv_env(), check=False)
    if part in (None, "notebooks"):
        status |= run([venv_python(), ROOT / "tools" / "bench_notebooks.py", *rest], env=venv_env(), check=False)
    return status


def cmd_mutation(args: argparse.Namespace, extra: list[str]) -> int:
    """Mutation testing of initkit (tools/mutation.py: mutmut over [tool.mutmut]'s modules and
    fast tests, niced, one process); writes calibration/mutation-<date>.md. Not part of `test`."""
    setup(args)
    return run([venv_python(), ROOT / "tools" / "mutation.py", *extra], env=venv_env(), check=False)


GRADE_SCRIPTS = {"grade": "grade.py", "grade-demo": "grade_demo.py", "same-grades": "same_grades.py"}


def cmd_grade(command: str, script_args: list[str], skip_setup: bool = False) -> int:
    """Run tools/grade.py (grade a class) or tools/grade_demo.py (the demo) in the venv; every
    argument after the command goes to the script (``grade --help`` shows its options)."""
    setup(argparse.Namespace(skip_setup=skip_setup))
    return run([venv_python(), ROOT / "tools" / GRADE_SCRIPTS[command], *script_args], env=venv_env(), check=False)


def cmd_setup(args: argparse.Namespace, extra: list[str]) -> int:
    """Create and fill .venv (nothing to do when it matches pyproject.toml)."""
    setup(args)
    return 0


# --------------------------------------------------------------------------- CLI

def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(prog="python3 tools/course.py", description=__doc__.split("\n\n")[0],
                                  epilog="--skip-setup, before or after the command: use .venv as it is")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument("--skip-setup", action="store_true", help="use .venv as it is (no install check)")
        return p

    add("setup", cmd_setup, "create .venv and install the pinned packages (idempotent)")
    for name, func, help_ in [
        ("lab", cmd_lab, "copy released notebooks into workspace/ and open JupyterLab there"),
        ("instructor", cmd_instructor, "open JupyterLab at the repo root with nbgrader's formgrader"),
    ]:
        p = add(name, func, help_ + "; other options are passed to JupyterLab")
        p.add_argument("--no-browser", action="store_true", help="do not open a browser")
        p.add_argument("--port", type=int, help="port of the Jupyter server")
        p.add_argument("--dry-run", action="store_true", help="prepare and print the command, do not start it")
        if name == "lab":
            p.add_argument("--workspace", help="workspace folder (default: workspace/)")
    p = add("compare", cmd_compare, "show how your answers in workspace/ differ from solutions/, exercise by exercise")
    p.add_argument("name", metavar="NN-topic", help="the notebook to compare, e.g. 03-xavier")
    p.add_argument("--workspace", help="workspace folder (default: workspace/)")
    p.add_argument("--reveal", action="store_true", help="also show the solution of exercises not answered yet")
    p = add("release", cmd_release, "regenerate course/ from solutions/ with nbgrader generate_assignment")
    p.add_argument("names", nargs="*", metavar="NN-topic", help="assignments to release (default: all)")
    p.add_argument("--check", action="store_true", help="compare a fresh release with course/; exit 1 if different")
    add("test", None, "run the tests: test [--skip-setup] [pytest arguments]")
    add("bench", cmd_bench, "benchmarks: the checks (tools/bench.py), then every notebook's execution and autograde time; "
                            "`bench grading`: class-grading throughput (tools/bench_grading.py); "
                            "`bench fork`: a kernel forked from a pre-imported parent (tools/bench_fork.py); "
                            "`bench fast`: one full-course submission, full path against fast path (tools/bench_fast.py)")
    add("mutation", cmd_mutation, "mutation testing of initkit with mutmut; writes calibration/mutation-<date>.md "
                                  "(`mutation --report`: only rewrite the report)")
    add("grade", None, "grade a class: grade NN-topic [NN-topic …] [--full] [--workers N] [--timeout S] [--db URL] … "
                       "(tools/grade.py)")
    add("grade-demo", None, "build a simulated class and grade it end to end (tools/grade_demo.py)")
    add("same-grades", None, "before a release: every simulated class graded by full autograde and by the fast "
                             "path, compared cell by cell (tools/same_grades.py)")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point (also the ``initcourse`` console script)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a Windows pipe may not encode "—" or "…"
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    skip, argv = split_global_options(argv)
    if argv and argv[0] == "test":  # everything after "test" belongs to pytest
        return cmd_test(argv[1:], skip_setup=skip)
    if argv and argv[0] in GRADE_SCRIPTS:  # everything after the command belongs to the script
        return cmd_grade(argv[0], argv[1:], skip_setup=skip)
    args, extra = parser().parse_known_args(argv)
    args.skip_setup = skip
    if extra and args.command in ("setup", "release"):
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args, extra)


def split_global_options(argv: list[str]) -> tuple[bool, list[str]]:
    """Take ``--skip-setup`` out of the command line, before or after the command:
    ``--skip-setup lab`` and ``lab --skip-setup`` mean the same. No command passes it on
    (JupyterLab, pytest and the grading scripts do not know it)."""
    rest = [a for a in argv if a != "--skip-setup"]
    return len(rest) < len(argv), rest


if __name__ == "__main__":
    sys.exit(main())
