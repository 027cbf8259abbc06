"""Our execute step for ``nbgrader autograde`` (COURSE.md §9 B): it replaces nbgrader's
``Execute`` in ``Autograde.autograde_preprocessors`` (``nbgrader_config.py``), so formgrader's
button and ``tools/grade.py`` get it too.

- The student's notebook runs in a confined kernel (``initgrader.sandbox``) on a staged copy
  of their folder.
- A graded test cell is **not** run in that kernel. Its source is taken from the gradebook
  (the instructor's, hidden tests included) and evaluated in this process by
  ``initgrader.proxy``; only the student's functions run in the kernel, behind a serve loop
  on a private socket. The cell's outputs are the check's ✓ lines, or its error.
- Every graded cell the grader did not evaluate — the kernel died, or stopped answering —
  gets an error output, since nbgrader scores a test cell with no output as full points.
- A kernel that dies is restarted at most ``max_kernel_restarts`` times: the new kernel
  re-runs the code cells before the one that killed it (not that one, not graded cells), and
  grading goes on. After the last restart the remaining graded cells get an error output.
- ``submission_budget`` bounds the time the student's code may take in all, per notebook:
  cells run in the kernel plus the student's calls from graded cells (the checks' own work in
  this process does not count). Each cell's timeout is what is left of it; once it is used
  up, no further cell runs and the remaining graded cells get an error output.
  ``tools/grade.py`` sets it to a multiple of the solution's own time.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import socket
import time
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from . import forked, hidden_seeds, proxy, sandbox

#: Seconds the grader waits for the kernel to open a test cell's serve loop.
CONNECT_TIMEOUT_S = 60.0


class IsolatedExecute(Execute):
    """nbgrader's Execute with the student's kernel confined and the verdicts computed here."""

    sandbox = Bool(True, help="Run the kernel under bubblewrap (Linux). False runs it as a plain "
                              "subprocess with a cleared environment and rlimits only, which does "
                              "not keep it from reading or writing the grader's files.").tag(config=True)
    max_kernel_restarts = Integer(2, help="How many times a dead kernel is restarted per notebook.").tag(config=True)
    cell_budget = Float(proxy.CELL_BUDGET_S, help="Seconds the student's calls of one test cell may "
                                                  "take in all.").tag(config=True)
    grace = Float(proxy.GRACE_S, help="Seconds the grader waits past a deadline for the kernel's own "
                                      "timeout reply before it kills the kernel.").tag(config=True)
    secret_file = Unicode("", help="File holding the course secret from which hidden-test seeds are "
                                    "derived per student (keep it outside the repository); empty: "
                                    "$INITCOURSE_SECRET_FILE, or the seeds as written.").tag(config=True)
    seeds_file = Unicode("", help="JSON file of this student's hidden seeds ({\"<grade_id>/<k>\": seed}), "
                                  "derived by the head process (tools/grade.py): given it, the secret is "
                                  "never read.").tag(config=True)
    connect_timeout = Float(CONNECT_TIMEOUT_S, help="Seconds the grader waits for the kernel to open "
                                                    "a test cell's serve loop.").tag(config=True)
    submission_budget = Float(0.0, help="Seconds the student's code may run in all, per notebook "
                                        "(cells in the kernel and calls from graded cells); 0: no "
                                        "limit beyond each cell's timeout.").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="Bytes of output one cell may keep; what comes after is "
                                             "dropped as it arrives (sanitizing later cuts each "
                                             "output to 100 KB).").tag(config=True)
    report_file = Unicode("", help="File to which one JSON line per notebook is appended: the "
                                   "student's time, the budget, kernel restarts.").tag(config=True)
    experiments_file = Unicode("", help="The fast path's JSON file {notebook: {cell id: SHA-256 of its "
                                        "source}} of cells the instructor tagged `experiment`: a cell "
                                        "of the student's notebook with the same id and the same "
                                        "source is not run (its outputs stay empty). Empty: every cell "
                                        "runs.").tag(config=True)

    # ------------------------------------------------------------------ the notebook

    def preprocess(self, nb, resources=None, km=None):
        folder = Path(resources["metadata"]["path"])
        self._tests = instructor_tests(resources)
        if self.seeds_file:
            self._secret, self._seeds = None, json.loads(Path(self.seeds_file).read_text())
        else:
            self._secret, self._seeds = hidden_seeds.read_secret(self.secret_file or None), None
        self._student = str(resources["nbgrader"].get("student", ""))
        self._experiments = {}
        if self.experiments_file:
            table = json.loads(Path(self.experiments_file).read_text())
            self._experiments = table.get(str(resources["nbgrader"].get("notebook", "")), {})
        self._skipped = 0
        self._ran_experiments = ""  # why this notebook's experiment cells all run, if they do
        if self._experiments:
            from .experiments import notebook_problems

            problems = notebook_problems(nb, str(resources["nbgrader"].get("notebook", "")), self._experiments)
            if problems:  # a cell the student wrote reads what a skipped cell would define: skip nothing
                self._experiments, self._ran_experiments = {}, problems[0]
        self._restarts = 0
        self._gone = ""  # why the grader stopped running this notebook, once it has
        self._gone_as = "KernelDied"
        self._serves = 0
        self._student_s = 0.0
        self._output_bytes: dict[int, int] = {}
        self._cpu_began, self._checks_cpu_s = time.process_time(), 0.0
        if self.sandbox:
            sandbox.bubblewrap()  # refuse to grade unconfined by accident
        stubbed = frozenset(grade_id.split("-")[1] for grade_id in self._tests if grade_id.count("-") >= 2)
        allowed = release_cell_hashes(self.config, resources)
        # The fast path (initgrader.fast) forks this notebook's kernel from the student's parent.
        self._kernels = forked.CURRENT
        self._fallback = ""
        if self._kernels is not None:
            if not self.sandbox:
                raise ValueError("the fast path's forked kernels run only confined (sandbox=True)")
            try:
                self._kernels.ensure_server()
            except forked.ForkServerError as error:  # grade this notebook the full path's way
                self.log.warning("no kernel parent (%s): a fresh confined kernel grades this notebook", error)
                self._kernels, self._fallback = None, str(error)
        self._kernel_cpu_began = dict(self._kernels.cpu_s) if self._kernels is not None else None
        if self._kernels is not None:
            self._confinement, self._staging = self._kernels.confinement_for(folder, stubbed, allowed, nb)
            private = None
        else:
            self._confinement, self._staging, private = sandbox.new_confinement(
                folder, stubbed=stubbed, allowed_cells=allowed)
        # IPython puts the working directory on sys.path unless told not to: a sidecar
        # initkit/ shipped with the notebook must not shadow the staged one.
        # The kernel's half of the proxy is imported at start, before any student code runs.
        for argument in ("--InteractiveShellApp.ignore_cwd=True",
                         '--IPKernelApp.exec_lines=["import initgrader.kernel_serve"]'):
            if argument not in self.extra_arguments:
                self.extra_arguments = [*self.extra_arguments, argument]
        if self._kernels is not None:
            self.kernel_manager_class = forked.ForkedKernelManager
        else:
            self.kernel_manager_class = sandbox.SandboxedKernelManager if self.sandbox else sandbox.UnconfinedKernelManager
        resources["metadata"]["path"] = str(self._confinement.work)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            resources["metadata"]["path"] = str(folder)
            if self._kernels is not None:
                self._kernels.end_notebook()
            else:
                sandbox.remove_cgroups(self._confinement.cgroups)
                shutil.rmtree(private, ignore_errors=True)
            self.write_report(resources)

    def write_report(self, resources: dict) -> None:
        if not self.report_file:
            return
        line = {"notebook": resources["nbgrader"].get("notebook", ""), "student_s": round(self._student_s, 3),
                "budget_s": self.submission_budget, "restarts": self._restarts, "stopped": self._gone,
                "skipped": self._skipped, **({"experiments_ran": self._ran_experiments} if self._ran_experiments else {}),
                **({"no_parent": self._fallback} if self._fallback else {}), "cpu_s": self.cpu_seconds()}
        with open(self.report_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def cpu_seconds(self) -> dict:
        """Where this notebook's CPU went, for the bench (never for a verdict): this process
        (nbclient, the graded cells' checks and the proxy's grader half: ``grader``, of which
        ``checks``), and on the fast path the kernel and what it started (``kernel``) and the
        parent's own work since the last notebook (``parent``: its imports of the frameworks),
        as the parent reported them."""
        spent = {"grader": round(time.process_time() - self._cpu_began, 3), "checks": round(self._checks_cpu_s, 3)}
        if self._kernel_cpu_began is not None and self._kernels is not None:
            now = self._kernels.cpu_s
            for name, key in (("kernel", "kernels"), ("parent", "parent")):
                # a parent replaced mid-notebook starts its counts again from 0
                spent[name] = round(now[key] - self._kernel_cpu_began[key] if now[key] >= self._kernel_cpu_began[key]
                                    else now[key], 3)
        return spent

    # ------------------------------------------------------------------ the time budget

    def budget_left(self) -> float:
        return max(0.0, self.submission_budget - self._student_s) if self.submission_budget > 0 else float("inf")

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = self.budget_left()
        if left == float("inf"):
            return timeout
        return max(1, math.ceil(min(left, timeout or left)))

    def spend(self, seconds: float) -> None:
        """Count ``seconds`` of the student's time; past the budget, stop the notebook."""
        self._student_s += seconds
        if self.submission_budget > 0 and self.budget_left() <= 0 and not self._gone:
            self._gone_as = "TimeBudgetExhausted"
            self._gone = (f"the notebook used up its time budget ({self.submission_budget:.0f} s of your "
                          "code's running time), so the grader stopped; this cell was not graded")

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.confinement = self._confinement
        if self._kernels is not None:
            km.kernels = self._kernels
        km.transport = "ipc"
        km.ip = str(self._confinement.sockets / "k")
        km.connection_file = str(self._confinement.sockets / "kernel.json")
        # A signal to bubblewrap's process group never reaches the kernel (it runs in its own
        # session and PID namespace): interrupts go as messages, which ipykernel turns into a
        # SIGINT to itself; a kernel that ignores them is killed at the deadline.
        km.kernel_spec.interrupt_mode = "message"
        return km

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        graded_test = grade_id in self._tests and cell.metadata["nbgrader"].get("grade") \
            and not cell.metadata["nbgrader"].get("solution")
        if self._gone:
            cell.outputs = [error_output(self._gone_as, self._gone)] if graded_test else []
            return cell, resources
        if not graded_test and self.is_unchanged_experiment(cell):
            cell.outputs, cell.execution_count = [], None
            self._skipped += 1
            return cell, resources
        if graded_test:
            source = hidden_seeds.with_hidden_seeds(self._tests[grade_id], self._secret, self._student, grade_id,
                                                    self._seeds)
            cell.outputs = self.grade_here(source, index)
            cell.execution_count = None
        else:
            began = time.monotonic()
            try:
                cell = self.execute_cell(cell, index, store_history=True)
            except DeadKernelError:
                cell.outputs.append(error_output("KernelDied", "the kernel died while running this cell"))
                self.restart(index)
            except CellTimeoutError:
                # The reply came but IOPub went quiet: an output over the ZMQ message cap
                # (sandbox.Limits.message_bytes) makes ZMQ drop the connection for good.
                # Reconnect and go on; the kernel itself is fine (no graded cell reads IOPub).
                cell.outputs.append(stream_output(f"\n[the grader lost this cell's output after it: a message "
                                                  f"over {self._confinement.limits.message_bytes:,} bytes]\n"))
                self.reconnect_iopub()
            except Exception as exc:  # noqa: BLE001 — no reply, no output: the kernel is broken
                cell.outputs.append(error_output("KernelUnresponsive", f"the kernel stopped answering while "
                                                 f"running this cell ({type(exc).__name__}), so it was restarted"))
                self.restart(index)
            finally:
                self.spend(time.monotonic() - began)
        if not self._gone and not self.kernel_alive():
            self.restart(index)
        return cell, resources

    def is_unchanged_experiment(self, cell) -> bool:
        """A cell the instructor tagged ``experiment``, as released (same id, same source)."""
        from .experiments import source_hash

        expected = self._experiments.get(cell.get("id", ""))
        return expected is not None and expected == source_hash(cell.source)

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's output step, with at most ``max_output_bytes`` kept per cell."""
        kept = self._output_bytes.get(cell_index, 0)
        if kept >= self.max_output_bytes:
            return None
        size = content_bytes(msg.get("content", {}))
        self._output_bytes[cell_index] = kept + size
        if kept + size > self.max_output_bytes:
            outs.append(stream_output(f"\n[the grader dropped this cell's output past "
                                      f"{self.max_output_bytes:,} bytes]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    # ------------------------------------------------------------------ a graded cell

    def grade_here(self, source: str, index: int) -> list:
        """Evaluate the instructor's test ``source`` here against the kernel's names."""
        path = self._confinement.sockets / f"c{self._serves}.sock"
        self._serves += 1
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        path.chmod(0o777)
        listener.listen(1)
        try:
            # A user expression, not cell code: IPython's input and AST transformers (which a
            # notebook can install to rewrite every later cell) do not touch it.
            serve = (f"__import__('initgrader.kernel_serve', fromlist=['serve'])"
                     f".serve({str(path)!r}, {self.cell_budget!r})")
            self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                            user_expressions={"serve": serve})
            connection = self.accept(listener)
            if connection is None:
                self.restart(index)
                return [error_output("KernelUnresponsive", "the kernel did not answer the grader, so this "
                                     "cell could not be graded (did an earlier cell leave it busy, or end it?)")]
        finally:
            listener.close()
            path.unlink(missing_ok=True)
        channel = proxy.Channel(connection, min(self.cell_budget, self.budget_left()), self.grace)
        began = time.process_time()
        try:
            printed, error = proxy.evaluate(source, channel)
        except proxy.KernelUnresponsive as exc:
            channel.close()
            self.spend(channel.used_s)
            self.restart(index)
            return [error_output("KernelUnresponsive", str(exc))]
        finally:
            self._checks_cpu_s += time.process_time() - began
        channel.close()
        self.spend(channel.used_s)
        outputs = [stream_output(printed)] if printed else []
        if error is not None:
            outputs.append(error_output(type(error).__name__, str(error)))
        return outputs

    def accept(self, listener: socket.socket):
        """The kernel's connection, or None when it dies or does not connect in time."""
        listener.settimeout(0.25)
        waited = 0.0
        while waited < self.connect_timeout:
            try:
                return listener.accept()[0]
            except socket.timeout:
                waited += 0.25
                if waited % 2 < 0.25 and not self.kernel_alive():
                    return None
        return None

    # ------------------------------------------------------------------ kernel life

    async def _async_cleanup_kernel(self) -> None:
        if self.km is None:  # already stopped for good (restarts used up)
            return
        await super()._async_cleanup_kernel()

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    def reconnect_iopub(self) -> None:
        """A fresh IOPub socket (the old one's connection is gone)."""
        self.kc.iopub_channel.close()
        self.kc._iopub_channel = None
        self.kc.iopub_channel.start()

    def kernel_alive(self) -> bool:
        try:
            return bool(self.run_sync_value(self.km.is_alive()))
        except Exception:
            return False

    @staticmethod
    def run_sync_value(value):
        from jupyter_core.utils import ensure_async, run_sync

        async def wait():
            return await ensure_async(value)
        return run_sync(wait)()

    def restart(self, failed_index: int) -> None:
        """Kill the kernel (and everything it started); start a new one and re-run the code
        cells before ``failed_index`` that are neither graded tests nor the one that failed."""
        self._cleanup_kernel()
        if self._kernels is not None:
            self._kernels.kernel_died()
        else:
            sandbox.remove_cgroups(self._confinement.cgroups)
        if self._restarts >= self.max_kernel_restarts:
            self._gone = (f"the kernel died or stopped answering {self._restarts + 1} times, so the "
                          "grader stopped; this cell was not graded")
            return
        self._restarts += 1
        if self._kernels is None:
            self._confinement.cgroups = sandbox.make_cgroups(self._confinement.limits, f"r{id(self)}-{self._restarts}")
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        for index, cell in enumerate(self.nb.cells[:failed_index]):
            nbgrader = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or (nbgrader.get("grade") and not nbgrader.get("solution")) \
                    or self.is_unchanged_experiment(cell):
                continue
            try:
                self.execute_cell(copy.deepcopy(cell), index, store_history=False)
            except DeadKernelError:
                return self.restart(index)


def release_cell_hashes(config, resources: dict) -> frozenset:
    """Hashes of the released notebook's code cells that are not answers: the cells that may
    call initkit's guarded reference functions (``initgrader.reference_guard``)."""
    import nbformat

    from .rebuild import release_path
    from .reference_guard import cell_hash

    info = resources.get("nbgrader", {})
    path = release_path(config, info.get("assignment", ""), info.get("notebook", ""))
    if path is None:
        return frozenset()
    return frozenset(cell_hash(c.source) for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader", {}).get("solution"))


def instructor_tests(resources: dict) -> dict:
    """grade_id → source of each graded test cell of this notebook, from the gradebook."""
    from nbgrader.api import Gradebook

    info = resources["nbgrader"]
    with Gradebook(info["db_url"], info.get("course_id", "")) as gb:
        notebook = gb.find_notebook(info["notebook"], info["assignment"])
        graded = {c.name for c in notebook.grade_cells if c.cell_type == "code"}
        answers = {c.name for c in notebook.solution_cells}
        return {c.name: c.source for c in notebook.source_cells
                if c.name in graded and c.name not in answers and c.cell_type == "code"}


def content_bytes(content) -> int:
    """About how many bytes a message's content holds (its strings' lengths)."""
    if isinstance(content, str):
        return len(content)
    if isinstance(content, dict):
        return sum(content_bytes(v) for v in content.values())
    if isinstance(content, (list, tuple)):
        return sum(content_bytes(v) for v in content)
    return 8


def error_output(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"\x1b[0;31m{name}\x1b[0m: {message}"])


def stream_output(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)
