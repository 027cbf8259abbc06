"""Tests of the repository tooling: committed notebooks, release, the lab launcher, imports.

They call ``tools/course.py`` as a user would (with ``--skip-setup``: the test run already
has its environment) and never write into the repository: workspaces and copies of the
course live in pytest's temporary folders.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE_PY = ROOT / "tools" / "course.py"
sys.path.insert(0, str(ROOT))
from tools import course  # noqa: E402  (the constants the launcher uses)

NOTEBOOKS = sorted(
    p for base in ("solutions", "course") for p in (ROOT / base).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def run_course(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python tools/course.py ARGS --skip-setup`` and capture its output."""
    script = cwd / "tools" / "course.py"
    return subprocess.run(
        [sys.executable, str(script), *args, "--skip-setup"], cwd=str(cwd),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )


# --------------------------------------------------------------------------- notebooks

def test_there_are_notebooks():
    assert any(p.is_relative_to(ROOT / "solutions") for p in NOTEBOOKS), "no solutions/ notebook"
    assert any(p.is_relative_to(ROOT / "course") for p in NOTEBOOKS), "no course/ notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_committed_notebook_is_clean(path):
    """nbformat 4.5 with cell ids, no outputs, no execution counts, nbformat's layout."""
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text)
    assert (raw["nbformat"], raw["nbformat_minor"]) >= (4, 5), "save as nbformat 4.5 (cell ids)"
    ids = [cell.get("id") for cell in raw["cells"]]
    assert all(ids), "every cell needs an id"
    assert len(set(ids)) == len(ids), "cell ids must be unique"
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {cell['id']} has outputs: clear them"
            assert cell["execution_count"] is None, f"cell {cell['id']} has an execution count"
    nbformat.validate(nbformat.reads(text, as_version=4))
    assert text == json.dumps(raw, sort_keys=True, indent=1, ensure_ascii=False) + "\n", \
        "not in nbformat's on-disk layout (sorted keys, indent 1)"


def test_released_notebooks_keep_the_solution_cell_ids():
    for released in (ROOT / "course").rglob("*.ipynb"):
        source = ROOT / "solutions" / released.relative_to(ROOT / "course")
        assert source.exists(), f"{released} has no solutions/ source"
        ids = lambda p: [c["id"] for c in json.loads(p.read_text(encoding="utf-8"))["cells"]]  # noqa: E731
        assert ids(released) == ids(source)


# --------------------------------------------------------------------------- release

@pytest.mark.slow
def test_release_check_passes():
    """The committed course/ equals a fresh ``nbgrader generate_assignment``."""
    had_gradebook = (ROOT / "gradebook.db").exists()  # an instructor's own is allowed
    result = run_course("release", "--check")
    assert result.returncode == 0, result.stdout
    assert "matches a fresh release" in result.stdout
    assert (ROOT / "gradebook.db").exists() == had_gradebook, "release --check wrote gradebook.db"


def copy_repo(dest: Path) -> Path:
    """A copy of what release needs: tools/, solutions/, course/, nbgrader_config.py."""
    for name in ("tools", "solutions", "course"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.mark.slow
def test_release_check_fails_on_a_hand_edit(tmp_path):
    """Editing course/ by hand is caught, and the copy gets no gradebook.db."""
    repo = copy_repo(tmp_path / "repo")
    released = sorted((repo / "course").rglob("*.ipynb"))[0]
    released.write_text(released.read_text(encoding="utf-8").replace('"cells"', '"cells" ', 1), encoding="utf-8")
    result = run_course("release", "--check", cwd=repo)
    assert result.returncode == 1, result.stdout
    assert f"course/{released.relative_to(repo / 'course').as_posix()}: differs" in result.stdout
    assert not (repo / "gradebook.db").exists()


# --------------------------------------------------------------------------- lab

@pytest.fixture
def workspace(tmp_path):
    """A student workspace filled by ``lab --dry-run``."""
    ws = tmp_path / "ws"
    result = run_course("lab", "--dry-run", "--workspace", str(ws), timeout=60)
    assert result.returncode == 0, result.stdout
    assert "dry run: JupyterLab not started" in result.stdout
    assert "-m jupyterlab" in result.stdout
    return ws


def released_notebooks():
    return sorted(p for p in (ROOT / "course").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_lab_copies_every_released_file(workspace):
    for src in released_notebooks():
        dest = workspace / src.relative_to(ROOT / "course")
        assert dest.read_bytes() == src.read_bytes()


def test_lab_keeps_a_student_file_and_reports_the_newer_release(workspace):
    src = released_notebooks()[0]
    mine = workspace / src.relative_to(ROOT / "course")
    mine.write_text("my work\n", encoding="utf-8")
    old = src.stat().st_mtime - 3600
    os.utime(mine, (old, old))  # the release is newer than the student's copy
    result = run_course("lab", "--dry-run", "--workspace", str(workspace), timeout=60)
    assert result.returncode == 0, result.stdout
    assert mine.read_text(encoding="utf-8") == "my work\n"
    assert f"course/{src.relative_to(ROOT / 'course').as_posix()} is newer than your copy; your copy was kept" \
        in result.stdout

    new = src.stat().st_mtime + 3600
    os.utime(mine, (new, new))  # the student's copy is newer: nothing to report
    result = run_course("lab", "--dry-run", "--workspace", str(workspace), timeout=60)
    assert "is newer than your copy" not in result.stdout
    assert mine.read_text(encoding="utf-8") == "my work\n"


def test_lab_launch_config_disables_the_instructor_extensions(workspace):
    config = workspace / course.LAUNCH_CONFIG_NAME
    server = json.loads((config / "jupyter_server_config.json").read_text(encoding="utf-8"))
    enabled = server["ServerApp"]["jpserver_extensions"]
    # every nbgrader server extension the installed nbgrader enables is decided here
    installed = Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "nbgrader.json")
    names = json.loads(installed.read_text(encoding="utf-8"))["ServerApp"]["jpserver_extensions"]
    assert set(names) <= set(enabled), f"nbgrader has server extensions we do not decide on: {set(names) - set(enabled)}"
    for name in ("formgrader", "course_list", "assignment_list"):
        assert enabled[f"nbgrader.server_extensions.{name}"] is False
    assert enabled["nbgrader.server_extensions.validate_assignment"] is True

    page = json.loads((config / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    disabled = {name for name, off in page["disabledExtensions"].items() if off}
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    # the plugin ids exist in the installed lab extension (a rename would make this a no-op)
    static = Path(sys.prefix, "share", "jupyter", "labextensions", "@jupyter", "nbgrader", "static")
    bundle = "".join(p.read_text(encoding="utf-8", errors="replace") for p in static.glob("*.js"))
    for plugin in disabled:
        assert plugin in bundle, f"{plugin} is not a plugin of the installed nbgrader lab extension"

    nbgrader = (config / "nbgrader_config.py").read_text(encoding="utf-8")
    assert f"c.Execute.timeout = {course.execute_timeout()}\n" in nbgrader
    assert course.execute_timeout() == 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="stops the launcher with SIGTERM")
def test_lab_server_has_no_formgrader(tmp_path):
    """A real student launch: JupyterLab answers, formgrader does not, the page config disables it."""
    port, token = free_port(), "initcourse-test"
    process = subprocess.Popen(
        [sys.executable, str(COURSE_PY), "lab", "--skip-setup", "--no-browser", f"--port={port}",
         "--workspace", str(tmp_path / "ws"), f"--IdentityProvider.token={token}",
         "--ServerApp.ip=127.0.0.1"],
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            time.sleep(0.5)
        status, html = get(f"{base}/lab", token)
        assert status == 200
        marker = '<script id="jupyter-config-data" type="application/json">'
        page_config = json.loads(html.split(marker, 1)[1].split("</script>", 1)[0])
        assert "@jupyter/nbgrader:formgrader" in page_config["disabledExtensions"]
        assert get(f"{base}/formgrader", token)[0] == 404
        assert get(f"{base}/courses", token)[0] == 404
        assert get(f"{base}/nbgrader_version?version=0", token)[0] == 200  # validate is on
    finally:
        process.terminate()  # the launcher forwards it to JupyterLab
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


# --------------------------------------------------------------------------- compare

def set_answer(notebook: Path, grade_id: str, source: str | None) -> None:
    """Replace (or, with None, delete) one answer cell of a workspace notebook."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert cells, f"no cell {grade_id} in {notebook}"
    if source is None:
        nb.cells.remove(cells[0])
    else:
        cells[0].source = source
    nbformat.write(nb, notebook)


def test_compare_shows_each_answer_against_the_solution(workspace):
    notebook = workspace / "03-xavier" / "03-xavier.ipynb"
    solution = course.answer_cells(ROOT / "solutions" / "03-xavier" / "03-xavier.ipynb")
    set_answer(notebook, "03-compute_fans", course.without_solution_markers(solution["03-compute_fans"]))
    set_answer(notebook, "03-xavier_uniform", "def xavier_uniform(shape, gain=1.0, rng=None):\n    return 0.0\n")
    set_answer(notebook, "03-xavier_normal", None)

    result = run_course("compare", "03-xavier", "--workspace", str(workspace))
    assert result.returncode == 0, result.stdout
    blocks = dict(block.split("\n", 1) for block in ("\n" + result.stdout).split("\n── ")[1:])
    by_cell = {header.split()[0]: body for header, body in blocks.items()}
    assert by_cell["03-compute_fans"].strip() == "the same as the solution"
    assert "-    return 0.0" in by_cell["03-xavier_uniform"]
    assert "+    a = gain * math.sqrt(6.0 / (fan_in + fan_out))" in by_cell["03-xavier_uniform"]
    assert "missing from your notebook" in by_cell["03-xavier_normal"]
    assert "### BEGIN SOLUTION" not in result.stdout


def test_compare_reveals_an_unanswered_solution_only_when_asked(workspace):
    hidden = run_course("compare", "01-variance", "--workspace", str(workspace))
    assert "not answered yet (--reveal shows the solution)" in hidden.stdout
    assert "var_x * mean_y**2" not in hidden.stdout
    shown = run_course("compare", "01-variance", "--workspace", str(workspace), "--reveal")
    assert "+    return float(var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2)" in shown.stdout


def test_compare_names_what_is_wrong_with_its_arguments(workspace, tmp_path):
    unknown = run_course("compare", "3-xavier", "--workspace", str(workspace))
    assert unknown.returncode == 1
    assert "unknown notebook '3-xavier'; one of: 00-setup, 01-variance" in unknown.stdout
    missing = run_course("compare", "03-xavier", "--workspace", str(tmp_path / "empty"))
    assert missing.returncode == 1
    assert "03-xavier/03-xavier.ipynb does not exist: run `python3 tools/course.py lab` first" in missing.stdout


@pytest.mark.parametrize("words, command, passed_on", [
    (["--skip-setup", "lab", "--no-browser", "--ServerApp.token=x"], "lab", ["--ServerApp.token=x"]),
    (["lab", "--no-browser", "--ServerApp.token=x", "--skip-setup"], "lab", ["--ServerApp.token=x"]),
    (["--skip-setup", "bench", "notebooks", "01-variance"], "bench", ["notebooks", "01-variance"]),
    (["bench", "--skip-setup", "notebooks", "01-variance"], "bench", ["notebooks", "01-variance"]),
    (["--skip-setup", "test", "-k", "readme"], "test", ["-k", "readme"]),
    (["test", "--skip-setup", "-k", "readme"], "test", ["-k", "readme"]),
    (["--skip-setup", "grade", "03-xavier", "--workers", "2"], "grade", ["03-xavier", "--workers", "2"]),
    (["grade", "03-xavier", "--skip-setup"], "grade", ["03-xavier"]),
])
def test_skip_setup_works_before_and_after_the_command(monkeypatch, words, command, passed_on):
    """A global option is never handed on to JupyterLab, pytest, a bench part or a grading
    script, wherever it stands."""
    seen = {}

    def record(args, extra):
        seen.update(skip=args.skip_setup, extra=extra)
        return 0

    monkeypatch.setattr(course, "cmd_lab", record)
    monkeypatch.setattr(course, "cmd_bench", record)
    monkeypatch.setattr(course, "cmd_test", lambda rest, skip_setup: seen.update(skip=skip_setup, extra=rest))
    monkeypatch.setattr(course, "cmd_grade", lambda name, rest, skip_setup: seen.update(skip=skip_setup, extra=rest))
    course.main(words)
    assert seen == {"skip": True, "extra": passed_on}, f"{command}: {seen}"


# --------------------------------------------------------------------------- initkit

@pytest.mark.slow
def test_initkit_imports_with_only_numpy_and_scipy(tmp_path):
    """``import initkit`` in a fresh venv holding only NumPy and SciPy; no framework loaded."""
    if not (ROOT / "initkit" / "__init__.py").exists():
        pytest.fail("initkit/__init__.py does not exist yet")
    pins = [p for p in course.read_pins() if p.split("==")[0] in ("numpy", "scipy")]
    assert len(pins) == 2, pins
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
                   check=True, timeout=600)
    code = (
        "import sys, initkit\n"
        "print(initkit.__all__)\n"
        "loaded = sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules)\n"
        "assert not loaded, f'importing initkit loaded {loaded}'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run([str(python), "-c", code], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert "xavier_uniform" in result.stdout


# --------------------------------------------------------------------------- pins

def test_environment_yml_has_the_pyproject_pins():
    """environment.yml repeats pyproject.toml's `course` and `test` pins exactly."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    lines = (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip = [line.strip()[2:].strip().strip('"') for line in lines[start + 1:] if line.strip().startswith("- ")]
    assert "-e ." in pip
    assert sorted(p for p in pip if p != "-e .") == sorted(extras["course"] + extras["test"])
    assert "python=3.11" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_calibration_runs_cut_by_a_kill_resume_and_a_bad_line_elsewhere_is_an_error(tmp_path):
    """tools/calibrate.py is resumable: a run killed mid-write leaves a cut last line, which
    is left out (that run is made again); a bad line elsewhere means a damaged file."""
    from tools.calibrate import read_runs

    runs = tmp_path / "runs-keras.jsonl"
    runs.write_text('{"entry": "a", "seed": 0, "failed": []}\n{"entry": "a", "seed": 1, "fai')
    assert read_runs(runs) == [{"entry": "a", "seed": 0, "failed": []}]
    runs.write_text('{"entry": "a", "seed": 0, "fai\n{"entry": "a", "seed": 1, "failed": []}\n')
    with pytest.raises(ValueError, match="line 1 is not JSON"):
        read_runs(runs)
