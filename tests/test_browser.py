"""A student's and an instructor's view in a real browser: JupyterLab started by
``python3 tools/course.py lab`` on a temporary workspace, driven by Debian's Chromium through
Selenium and chromedriver.

- 00-setup: the exercise cell is filled in by typing into the JupyterLab editor (click the
  cell, select all, type — as a student does), then *Run → Run All Cells*; the visible check
  prints its ✓ line. A buggy answer (dividing by n − 1) then shows the check's
  AssertionError with its diagnostic.
- 01-variance: the same with initkit's own checks — a catalogued mistake (the mean terms
  dropped) passes `interface`, fails `values` with the engine's message and its
  "Diagnosis: … the mean terms vanish only when both means are 0"; the correct answer then
  prints both ✓ lines.
- 02-signal-propagation: the explorer cell runs and renders its widgets (dropdowns, sliders,
  a status line, a plot); choosing another initializer changes the status text and the plot.
- ``python3 tools/course.py instructor``: the formgrader page loads and lists the assignments
  (its gradebook goes to a temporary file, not the repo's ``gradebook.db``); the student
  launch has no formgrader.

Screenshots (passing and failing check, explorer before and after, formgrader) go to
``$BROWSER_SCREENSHOTS`` or ``test-output/screenshots/`` (git-ignored); their paths are printed.
Every wait is explicit and bounded; the servers are stopped (their whole process group) in
fixture teardown. The test skips only when Chromium, chromedriver or Selenium is missing and CI
is not set; under CI it fails instead (``.ci/run`` installs ``chromium chromium-driver``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 120  # s: JupyterLab with nbgrader's extensions starts in ~10 s here
PAGE_TIMEOUT = 60  # s: JupyterLab loads a notebook in ~6 s
RUN_TIMEOUT = 120  # s: running a notebook's cells (00-setup ~3 s, the explorer's first plot ~10 s)
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"

CORRECT = ("def sample_variance(x):\n"
           "x = np.asarray(x, dtype=float)\n"
           "return float(np.mean((x - x.mean()) ** 2))")
BUGGY = ("def sample_variance(x):\n"
         "x = np.asarray(x, dtype=float)\n"
         "return float(np.sum((x - x.mean()) ** 2) / (len(x) - 1))")

PRODUCT_OF_VARIANCES = ("def var_of_product(mean_x, var_x, mean_y, var_y):\n"
                        "return var_x * var_y")  # initkit.mistakes: var_of_product/product_of_variances
PRODUCT_RULE = ("def var_of_product(mean_x, var_x, mean_y, var_y):\n"
                "return var_x * var_y + var_x * mean_y ** 2 + var_y * mean_x ** 2")


def unavailable(reason: str):
    """Skip on a developer's machine; fail under CI, where the browser must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI is set, so this test must run (.ci/run installs Debian's chromium chromium-driver)")
    pytest.skip(f"{reason} (install Debian's chromium and chromium-driver to run it; under CI=true it is required)")


def find_program(*candidates: str) -> str | None:
    for candidate in candidates:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def typed(text: str) -> str:
    """What the editor holds after typing ``text``: JupyterLab indents the line after a
    ``def …:`` by 4 spaces and keeps that indentation on the next lines."""
    first, *rest = text.split("\n")
    return "\n".join([first, *("    " + line for line in rest)])


@pytest.fixture(scope="module")
def screenshots(request):
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or REPO / "test-output" / "screenshots").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def save(driver, name: str) -> Path:
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(f"\n[browser] screenshot: {path}", flush=True)
        return path

    return save


@pytest.fixture(scope="module")
def browser_programs():
    """(chromium, chromedriver) paths; skips or fails (CI) when missing, also without Selenium."""
    if os.name != "posix":
        unavailable("the browser test drives Debian's Chromium (POSIX only)")
    chromium = find_program("/usr/bin/chromium", "chromium", "chromium-browser")
    chromedriver = find_program("/usr/bin/chromedriver", "chromedriver")
    if not chromium:
        unavailable("Chromium not found (/usr/bin/chromium)")
    if not chromedriver:
        unavailable("chromedriver not found (/usr/bin/chromedriver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        unavailable("Selenium is not installed (pyproject.toml's `test` extra pins it)")
    return chromium, chromedriver


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory, browser_programs):
    """The servers' environment: JupyterLab's user settings and workspaces in a temporary
    folder, so the user's own settings play no part. Two settings make the page predictable:
    every cell attached to the DOM (windowingMode none) and no "Jupyter news?" pop-up."""
    base = tmp_path_factory.mktemp("jupyterlab-user")
    settings = base / "settings"
    for plugin, values in {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                           "checkForUpdates": False}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    env = dict(os.environ)
    env.update(JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               PYTHONUNBUFFERED="1")
    return env


class Server:
    """``python3 tools/course.py <command> --skip-setup --no-browser --port N`` with a known
    token, in its own process group; ``url(path)`` adds the token."""

    def __init__(self, command: list[str], env: dict, log: Path):
        self.token = secrets.token_hex(16)
        self.log = log
        for attempt in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            cmd = [sys.executable, str(REPO / "tools" / "course.py"), command[0], "--skip-setup",
                   "--no-browser", "--port", str(self.port), *command[1:],
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}"]
            with open(log, "w", encoding="utf-8") as out:
                self.process = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
            if self.wait_ready() or "already in use" not in self.log_tail():
                break
        if self.process.poll() is not None or not self.ready:
            tail = self.log_tail()
            self.stop()
            pytest.fail(f"{' '.join(cmd)} did not become ready within {SERVER_START_TIMEOUT} s:\n{tail}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}{'&' if '?' in path else '?'}token={self.token}"

    def wait_ready(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        self.ready = False
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url("/api/status"), timeout=5) as response:
                    if response.status == 200:
                        self.ready = True
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        return False

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url(path), timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the group (course.py passes it to Jupyter, which stops its kernels),
        then SIGKILL to whatever is left after 20 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # kernels or helpers left in the group
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, jupyter_env):
    """The student launch on a temporary workspace (the lab command copies the released
    notebooks into it)."""
    base = tmp_path_factory.mktemp("lab")
    workspace = base / "workspace"
    server = Server(["lab", "--workspace", str(workspace)], jupyter_env, base / "lab.log")
    try:
        assert (workspace / "00-setup" / "00-setup.ipynb").is_file(), server.log_tail()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def instructor(tmp_path_factory, jupyter_env):
    """The instructor launch at the repo root; formgrader's gradebook in a temporary file."""
    base = tmp_path_factory.mktemp("instructor")
    server = Server(["instructor", f"--CourseDirectory.db_url=sqlite:///{(base / 'gradebook.db').as_posix()}"],
                    jupyter_env, base / "instructor.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def driver(browser_programs, screenshots, request):
    """A fresh headless Chromium per test (a page with unsaved notebooks would otherwise
    hold up navigation); a screenshot is saved when the test fails."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_programs
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-dev-shm-usage",
                     "--window-size=1400,1000"]:
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    browser.set_page_load_timeout(PAGE_TIMEOUT)
    failed_before = request.session.testsfailed
    try:
        yield browser
    finally:
        try:
            if request.session.testsfailed > failed_before:
                screenshots(browser, f"{request.node.name}-at-failure")
        finally:
            browser.quit()


# ----------------------------------------------------------------------------- helpers

def wait(driver, condition, timeout: float, message: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def open_notebook(driver, server: Server, path: str):
    """Open ``path`` in JupyterLab (a reset layout) and wait for all its cells (as many as the
    released notebook has) and an idle kernel."""
    import nbformat
    from selenium.webdriver.common.by import By

    cells = len(nbformat.read(REPO / "course" / path, as_version=4).cells)
    driver.get(server.url(f"/lab/tree/{path}?reset"))
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{NOTEBOOK} .jp-Cell")) == cells, PAGE_TIMEOUT,
         f"{path}: its {cells} cells did not appear")
    wait_idle(driver, PAGE_TIMEOUT)


def wait_idle(driver, timeout: float) -> None:
    from selenium.webdriver.common.by import By

    wait(driver, lambda d: "| Idle" in d.find_element(By.ID, "jp-main-statusbar").text, timeout,
         "the kernel did not become idle")


def cell_containing(driver, text: str):
    from selenium.webdriver.common.by import By

    found = [c for c in driver.find_elements(By.CSS_SELECTOR, f"{NOTEBOOK} .jp-CodeCell") if text in c.text]
    assert len(found) == 1, f"expected one code cell containing {text!r}, found {len(found)}"
    return found[0]


def type_into_cell(driver, cell, code: str) -> None:
    """Click the cell's editor, select all, type ``code`` (as a student does), leave edit mode."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = cell.find_element(By.CSS_SELECTOR, ".cm-content")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    editor.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    editor.send_keys(code)
    wait(driver, lambda d: editor.text == typed(code), 10,
         f"the editor does not hold the typed answer:\n{editor.text}\n--- expected ---\n{typed(code)}")
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()


def menu(driver, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then ``item`` in its menu."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.find_element(By.XPATH, f"//li[contains(@class, 'lm-MenuBar-item')][.//div[text()='{top}']]").click()
    wait(driver, EC.element_to_be_clickable(
        (By.XPATH, f"//ul[contains(@class, 'lm-Menu-content')]/li[.//div[text()='{item}']]")), 10,
        f"menu {top} → {item} not found").click()


def output_text(cell) -> str:
    from selenium.webdriver.common.by import By

    return "\n".join(o.text for o in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))


def run_all_and_wait(driver, check_cell, shows, description: str) -> str:
    """Run → Run All Cells; wait until ``shows(output of the check cell)`` and an idle kernel."""
    menu(driver, "Run", "Run All Cells")
    wait(driver, lambda d: shows(output_text(check_cell)), RUN_TIMEOUT,
         f"the check cell's output never showed {description}")
    wait_idle(driver, RUN_TIMEOUT)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", check_cell)
    return output_text(check_cell)


def check_line(out: str, line: str = "✓ sample_variance: values") -> bool:
    """The check's own ✓ line (a traceback also quotes the print statement, not at line start)."""
    return any(printed.startswith(line) for printed in out.splitlines())


# ----------------------------------------------------------------------------- tests

def test_exercise_check_passes_then_shows_the_diagnostic(lab, driver, screenshots):
    open_notebook(driver, lab, "00-setup/00-setup.ipynb")
    exercise, check = cell_containing(driver, "def sample_variance"), cell_containing(driver, "# Visible check")
    assert "raise NotImplementedError()" in exercise.text

    type_into_cell(driver, exercise, CORRECT)
    out = run_all_and_wait(driver, check, check_line, "the ✓ line")
    assert "Error" not in out, out
    screenshots(driver, "00-setup-check-passing")

    type_into_cell(driver, exercise, BUGGY)
    out = run_all_and_wait(driver, check, lambda out: "AssertionError" in out, "an AssertionError")
    assert not check_line(out), out
    assert "the variance of [1, 2, 3, 4] is 1.25, got 1.666" in out and "divide by n, not n - 1" in out, out
    screenshots(driver, "00-setup-check-failing")


def test_initkit_checks_show_a_diagnosis_then_pass(lab, driver, screenshots):
    open_notebook(driver, lab, "01-variance/01-variance.ipynb")
    exercise = cell_containing(driver, "def var_of_product")
    interface = cell_containing(driver, 'check_var_of_product(var_of_product, aspect="interface")')
    values = cell_containing(driver, 'check_var_of_product(var_of_product, aspect="values")')

    type_into_cell(driver, exercise, PRODUCT_OF_VARIANCES)
    out = run_all_and_wait(driver, values, lambda out: "AssertionError" in out, "an AssertionError")
    assert check_line(output_text(interface), "✓ var_of_product: interface"), output_text(interface)
    assert "var_of_product — values:" in out and "expected 6.75" in out, out
    assert "Diagnosis:" in out and "the mean terms vanish only when both means are 0" in out, out
    screenshots(driver, "01-variance-check-diagnosis")

    type_into_cell(driver, exercise, PRODUCT_RULE)
    out = run_all_and_wait(driver, values, lambda out: check_line(out, "✓ var_of_product: values"), "the ✓ line")
    assert "Error" not in out, out
    assert check_line(output_text(interface), "✓ var_of_product: interface"), output_text(interface)
    screenshots(driver, "01-variance-checks-passing")


def test_explorer_renders_and_reacts(lab, driver, screenshots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    open_notebook(driver, lab, "02-signal-propagation/02-signal-propagation.ipynb")
    cell = cell_containing(driver, "explorer()")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", cell)
    cell.find_element(By.CSS_SELECTOR, ".cm-content").click()
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()  # run this cell

    def plot_source(d):
        images = cell.find_elements(By.CSS_SELECTOR, ".widget-output img")
        return images[0].get_attribute("src") if images else None

    def status(d):
        return " ".join(e.text for e in cell.find_elements(By.CSS_SELECTOR, ".widget-html")).strip()

    wait(driver, lambda d: len(cell.find_elements(By.CSS_SELECTOR, ".widget-dropdown select")) == 2
         and len(cell.find_elements(By.CSS_SELECTOR, ".widget-hslider")) == 2 and plot_source(d) and status(d),
         RUN_TIMEOUT, "the explorer's dropdowns, sliders, status line and plot did not all appear")
    first_plot, first_status = plot_source(driver), status(driver)
    assert first_plot.startswith("data:image/png"), first_plot[:80]
    assert first_status.startswith("std at the last layer:"), first_status
    assert "PyTorch" in cell.text and "Keras" in cell.text  # the framework toggle
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", cell)
    screenshots(driver, "02-explorer-kaiming-relu")

    initializer = Select(cell.find_elements(By.CSS_SELECTOR, ".widget-dropdown select")[0])
    assert initializer.first_selected_option.text.startswith("Kaiming normal")
    initializer.select_by_visible_text("N(0, 1)")
    wait(driver, lambda d: "forward overflow" in status(d), RUN_TIMEOUT,
         f"the status line did not report the N(0, 1) overflow (still {status(driver)!r})")
    wait(driver, lambda d: plot_source(d) not in (None, first_plot), RUN_TIMEOUT, "the plot did not change")
    wait_idle(driver, RUN_TIMEOUT)
    assert "from layer 3" in status(driver), status(driver)  # ReLU, N(0, 1), width 256: layer 36–37
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", cell)
    screenshots(driver, "02-explorer-normal-overflow")


def test_formgrader_page_loads(instructor, lab, driver, screenshots):
    from selenium.webdriver.common.by import By

    had_gradebook = (REPO / "gradebook.db").exists()
    driver.get(instructor.url("/formgrader"))
    wait(driver, lambda d: d.title == "nbgrader formgrade", PAGE_TIMEOUT, f"formgrader title: {driver.title!r}")
    assert "Manage Assignments" in [h.text for h in driver.find_elements(By.TAG_NAME, "h1")]
    wait(driver, lambda d: any("00-setup" in row.text for row in d.find_elements(By.CSS_SELECTOR, "table tbody tr")),
         PAGE_TIMEOUT, "the formgrader's assignment table does not list 00-setup")
    screenshots(driver, "formgrader-manage-assignments")
    assert had_gradebook or not (REPO / "gradebook.db").exists(), "the test wrote gradebook.db into the repo"
    assert lab.status("/formgrader") == 404, "the student launch (lab) must not serve the formgrader"
