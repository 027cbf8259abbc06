"""The fast path's kernels (issue 19): one confined parent per student, one forked kernel per
notebook.

``ForkedKernels`` is what ``IsolatedExecute`` uses instead of a fresh confined kernel per
notebook when a fast-path job set it up (``initgrader.fast``). For one student it makes one
private folder and one sandbox (the same bubblewrap, cgroups and rlimits as a confined
kernel, ``initgrader.sandbox``) in which ``initgrader/forkserver.py`` imports NumPy, SciPy and
ipykernel once, and PyTorch, TensorFlow and Keras once the first notebook that imports them
comes. Each notebook then gets, exactly as on the full path:

- a staged copy of the student's folder, ``work/<k>`` (the only writable folder it sees: the
  sandbox binds ``work/``, and the folder of notebook k−1 is deleted before k is staged);
- its own staged, guarded initkit and initgrader, ``libs/<k>`` (bound read-only);
- IPC sockets in ``sockets/<k>``;
- a kernel forked from the parent, which chdirs into ``work/<k>``, puts ``libs/<k>`` first on
  its path and runs ipykernel with the same arguments as a confined kernel.

Between notebooks, and whenever a kernel is restarted, the parent kills every other process in
the sandbox and wipes /tmp and HOME (``clean``): nothing a notebook started, wrote or left
running reaches the next one. A parent that a notebook killed, stopped or wedged is replaced
(its imports paid again); that costs time, never a verdict.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import Any as AnyTrait

from . import sandbox

SERVER_SCRIPT = Path(__file__).with_name("forkserver.py")
#: The parent's imports run with one BLAS/OpenMP thread (numbers of threads are fixed at import).
IMPORT_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
START_TIMEOUT_S = 300.0
#: Test-only: set, no parent starts (ensure_server fails), so the fallback to a fresh confined
#: kernel per notebook can be tested.
NO_PARENT_VARIABLE = "INITGRADER_TEST_NO_PARENT"
REQUEST_TIMEOUT_S = 30.0


class ForkServerError(Exception):
    """The parent died, stopped answering or refused to fork."""


class ForkServer:
    """The grader's end of one student's parent process (``forkserver.py`` in the sandbox)."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.command, self.log = command, log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.imports_s = 0.0

    def start(self) -> None:
        self.stop()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, start_new_session=True)
        self.starts += 1
        ready = self._reply(START_TIMEOUT_S)
        if not ready.get("ready"):
            raise ForkServerError(f"the kernel parent did not start: {ready}")
        if ready.get("threads") != 1:
            raise ForkServerError(f"the kernel parent has {ready.get('threads')} threads after its imports "
                                  "(one is needed to fork safely); are OPENBLAS_NUM_THREADS and friends honoured?")
        self.imports_s += float(ready.get("imports_s", 0.0))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request(self, message: dict, timeout: float = REQUEST_TIMEOUT_S) -> dict:
        """Send ``message``; its reply, or ForkServerError (the parent is then stopped)."""
        if not self.alive():
            raise ForkServerError("the kernel parent is not running")
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except OSError as error:
            self.stop()
            raise ForkServerError(f"the kernel parent is gone ({error})") from None
        return self._reply(timeout)

    def _reply(self, timeout: float) -> dict:
        out = self.process.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline() if ready else b""
        if not line:
            self.stop()
            raise ForkServerError("the kernel parent stopped answering" if not ready else "the kernel parent died")
        try:
            return json.loads(line)
        except ValueError:
            self.stop()
            raise ForkServerError(f"the kernel parent answered nonsense: {line[:80]!r}") from None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process = None


class ForkedKernels:
    """One student's sandbox and kernel parent, and each notebook's confinement in it."""

    def __init__(self, limits: sandbox.Limits | None = None, *, log: Path | None = None) -> None:
        self.limits = limits or sandbox.Limits()
        self.private = Path(tempfile.mkdtemp(prefix="igf-", dir="/tmp"))
        os.chmod(self.private, 0o755)
        self.work, self.sockets, self.libs = (self.private / name for name in ("work", "sockets", "libs"))
        for folder in (self.work, self.sockets, self.libs):
            folder.mkdir()
        os.chmod(self.work, 0o777)
        os.chmod(self.sockets, 0o777)
        self.cgroups = sandbox.make_cgroups(self.limits, f"f{uuid.uuid4().hex[:12]}")
        self.notebooks = 0
        self.frameworks: frozenset = frozenset()  # what the parent imports before forking this notebook
        self.current: sandbox.Confinement | None = None
        self.kernel_env: dict = {}
        self.server = ForkServer([], log or self.private / "parent.log")
        self.cpu_s = {"parent": 0.0, "kernels": 0.0}  # as the parent last reported them (the bench's)

    # ------------------------------------------------------------------ the parent

    def server_command(self, env: dict) -> list[str]:
        environment = dict(self.kernel_env_for(env))
        for name in IMPORT_THREADS:
            environment[name] = "1"
        script = self.libs / "forkserver.py"
        binds = [("--ro-bind", self.libs, self.libs), ("--bind", self.work, self.work),
                 ("--bind", self.sockets, self.sockets)]
        inner = [sys.executable, str(script), str(self.private)]
        return sandbox.confined_command(inner, environment, self.limits, self.cgroups, binds, self.work,
                                        as_pid_1=True)

    def kernel_env_for(self, env: dict) -> dict:
        """The environment a confined kernel gets (``Confinement.environment``)."""
        probe = sandbox.Confinement(self.work, self.sockets, self.libs, self.limits)
        return probe.environment(env)

    def ensure_server(self) -> ForkServer:
        """The running parent, started first if needed; ForkServerError if it cannot start."""
        if os.environ.get(NO_PARENT_VARIABLE):
            raise ForkServerError(f"{NO_PARENT_VARIABLE} is set (a test's way of making the parent fail)")
        if not self.server.alive():
            shutil.copyfile(SERVER_SCRIPT, self.libs / "forkserver.py")
            self.server.command = self.server_command(dict(os.environ))
            self.server.start()
        return self.server

    # ------------------------------------------------------------------ notebooks

    def confinement_for(self, folder: Path, stubbed: frozenset, allowed_cells: frozenset, nb=None
                        ) -> tuple[sandbox.Confinement, sandbox.StagingReport]:
        """Notebook k's folder, libraries and sockets (those of k−1 removed first); the
        frameworks its cells import (``nb``) are imported by the parent before it forks."""
        self.end_notebook()
        self.frameworks = frameworks_imported(nb) if nb is not None else frozenset()
        k = self.notebooks
        self.notebooks += 1
        work, sockets, libs = self.work / str(k), self.sockets / str(k), self.libs / str(k)
        report = sandbox.stage_submission(folder, work, self.limits)
        sockets.mkdir()
        for path in (work, sockets):
            os.chmod(path, 0o777)
        for root, dirs, files in os.walk(work):
            for name in dirs + files:
                os.chmod(Path(root) / name, 0o777 if name in dirs else 0o666)
        sandbox.stage_libraries(libs, stubbed, allowed_cells)
        self.current = sandbox.Confinement(work, sockets, libs, self.limits, cgroups=[])
        return self.current, report

    def end_notebook(self) -> None:
        """Kill what the last notebook started and remove its folders."""
        self.kernel_died()
        if self.current is not None:
            for folder in (self.current.work, self.current.sockets, self.current.libraries):
                shutil.rmtree(folder, ignore_errors=True)
            self.current = None

    def kernel_died(self) -> None:
        """Kill every process in the sandbox but the parent and wipe /tmp and HOME: after a
        notebook, and before a restart inside one (nothing of the dead kernel survives)."""
        if self.server.alive():
            try:
                reply = self.server.request({"op": "clean"})
            except ForkServerError:
                return
            cpu = reply.get("cpu_s")
            # numbers only: a reply of another shape leaves the last counts (the bench's, never a verdict's)
            if isinstance(cpu, dict) and all(type(cpu.get(k)) in (int, float) for k in ("parent", "kernels")):
                self.cpu_s = {k: float(cpu[k]) for k in ("parent", "kernels")}

    def close(self) -> None:
        self.end_notebook()
        if self.server.alive():
            try:
                self.server.process.stdin.write(b'{"op": "exit"}\n')
                self.server.process.stdin.flush()
            except OSError:
                pass
        self.server.stop()
        sandbox.remove_cgroups(self.cgroups)
        shutil.rmtree(self.private, ignore_errors=True)


def frameworks_imported(nb) -> frozenset:
    """Which of TensorFlow, Keras and PyTorch the notebook's code cells import (a plain
    ``import``/``from`` line; one the scan misses is imported by the kernel itself, as on the
    full path: slower, never wrong)."""
    import re

    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            found |= set(re.findall(r"^\s*(?:import|from)\s+(tensorflow|keras|torch)\b", cell.source, re.M))
    return frozenset(found)


#: Set by the fast path's runner (``initgrader.fast``) while it autogrades one student's
#: notebooks in one process; ``IsolatedExecute`` then forks kernels from it.
CURRENT: ForkedKernels | None = None


# --------------------------------------------------------------------------- jupyter_client's side

class ForkedProvisioner(LocalProvisioner):
    """Launches the kernel by asking the student's parent to fork; polls, signals and kills it
    through the parent (the kernel's pid is in the sandbox's PID namespace)."""

    kernels: ForkedKernels | None = None
    child: int | None = None
    exit_code: int | None = None

    @property
    def has_process(self) -> bool:
        return self.child is not None

    async def launch_kernel(self, cmd: list[str], **kwargs) -> dict:
        kernels = self.kernels
        confinement = kernels.current
        try:
            server = kernels.ensure_server()
            argv = cmd[cmd.index("ipykernel_launcher") + 1:] if "ipykernel_launcher" in cmd else cmd[3:]
            reply = server.request({"op": "fork", "argv": argv, "work": str(confinement.work),
                                    "lib": str(confinement.libraries), "preload": sorted(kernels.frameworks),
                                    "env": kernels.kernel_env_for(dict(os.environ))}, timeout=START_TIMEOUT_S)
        except ForkServerError as error:
            raise RuntimeError(f"could not start the notebook's kernel: {error}") from None
        if "pid" not in reply:
            raise RuntimeError(f"could not start the notebook's kernel: {reply.get('error', reply)}")
        server.imports_s += float(reply.get("imports_s", 0.0))
        self.child, self.exit_code = int(reply["pid"]), None
        self.pid = self.child
        return self.connection_info

    async def poll(self) -> int | None:
        if self.child is None:
            return self.exit_code if self.exit_code is not None else 0
        try:
            code = self.kernels.server.request({"op": "poll", "pid": self.child})["code"]
        except (ForkServerError, KeyError):
            code = -9  # no parent, no kernel: every process in the sandbox died with it
        if code is not None:
            self.child, self.exit_code = None, code
        return code

    async def wait(self) -> int | None:
        import asyncio

        while await self.poll() is None:
            await asyncio.sleep(0.05)
        return self.exit_code

    async def send_signal(self, signum: int) -> None:
        if self.child is None:
            return
        if signum == signal.SIGKILL:
            return await self.kill()
        try:
            self.kernels.server.request({"op": "signal", "pid": self.child, "signum": int(signum)})
        except ForkServerError:
            self.child, self.exit_code = None, -9

    async def kill(self, restart: bool = False) -> None:
        if self.child is None:
            return
        self.kernels.kernel_died()  # the kernel and everything it started
        await self.poll()

    async def terminate(self, restart: bool = False) -> None:
        await self.kill(restart)


class ForkedKernelManager(sandbox._CappedMessages, AsyncKernelManager):
    """A kernel manager whose kernel is forked by the student's parent (``ForkedKernels``)."""

    confinement = AnyTrait(None, allow_none=True)
    kernels = AnyTrait(None, allow_none=True)

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.provisioner = ForkedProvisioner(kernel_id=self.kernel_id or str(uuid.uuid4()),
                                                 kernel_spec=self.kernel_spec, parent=self)
            self.provisioner.kernels = self.kernels
        return await super()._async_pre_start_kernel(**kw)
