"""The student's kernel, confined (COURSE.md §9 A).

Per submission and notebook, the kernel runs under bubblewrap with:

- **files**: an empty root with the system and the venv bound read-only, a staged copy of
  the student's notebook folder (regular files only, capped in size and number; symlinks,
  hard links and special files refused) as the only writable folder, a staged copy of
  ``initkit`` and ``initgrader`` (never the course root: the editable install points into the
  repository), a private ``/tmp`` of bounded size, a fresh HOME and IPYTHONDIR. No view of
  ``solutions/``, the gradebook, other students or the course configuration.
- **processes and network**: its own PID namespace (everything it starts dies with it), no
  network (its own empty network namespace), ``--die-with-parent``, a new session.
- **environment**: cleared, then an allow-list (no database URL, no secret).
- **limits**: memory and process count through cgroups (v1 as on these machines, or v2);
  CPU seconds, file size and open files through rlimits. On these machines grading runs as
  root, and inside bubblewrap root keeps its powers over files (a 0600 root file stays
  readable to the sandbox's "nobody"), so the mount namespace — what is bound at all — is
  what protects files, and cgroups (not RLIMIT_NPROC, which root ignores) what limits
  processes.

The kernel talks to the grader over IPC sockets in a per-kernel directory bound into the
sandbox at the same path (ipykernel's ``transport=ipc``); paths stay under 108 bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait

REPO = Path(__file__).resolve().parent.parent

#: Where things appear inside the sandbox.
HOME = "/home/student"
LIBRARIES = "/opt/initgrader"

#: Environment variables the kernel may see (values from the grader's environment).
ENV_ALLOWED = ("LANG", "LC_ALL", "TZ", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "KERAS_BACKEND",
               "NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES")
#: System folders bound read-only (those that exist; merged-/usr symlinks are recreated).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
SYSTEM_FILES = ("/etc/fonts", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
                "/etc/localtime", "/etc/hosts", "/etc/mime.types")


@dataclass
class Limits:
    """What one kernel may use. Memory covers a kernel with torch and TensorFlow loaded (about
    1.5 GiB) plus the course's experiments; pids counts threads (TensorFlow starts ~100)."""

    memory_bytes: int = 6 << 30
    pids: int = 1024
    cpu_seconds: int = 3600
    file_bytes: int = 256 << 20
    open_files: int = 1024
    tmp_bytes: int = 512 << 20
    submission_files: int = 200
    submission_bytes: int = 64 << 20
    #: Largest message the grader takes from the kernel over ZMQ: a bigger one makes ZMQ drop
    #: the connection (the cell ends without it) instead of landing whole in the grader's memory.
    message_bytes: int = 16 << 20


@dataclass
class StagingReport:
    """What was left out of the student's staged folder, and why (one line each)."""

    refused: list[str] = field(default_factory=list)


class SandboxError(Exception):
    """bubblewrap is missing or does not work here: grading must not silently run unconfined."""


# --------------------------------------------------------------------------- staging

def stage_submission(source: Path, dest: Path, limits: Limits) -> StagingReport:
    """Copy ``source`` (a student's notebook folder) to ``dest``: regular files only, never
    following a link, at most ``limits.submission_files`` files and ``submission_bytes`` bytes."""
    report, count, total = StagingReport(), 0, 0
    dest.mkdir(parents=True, exist_ok=True)
    for folder, dirs, files in os.walk(source, followlinks=False):
        rel = Path(folder).relative_to(source)
        for name in sorted(dirs):
            info = os.lstat(Path(folder) / name)
            if not stat.S_ISDIR(info.st_mode):
                report.refused.append(f"{rel / name}: a link, not a folder")
                dirs.remove(name)
            elif name.startswith(".") or name == "__pycache__":
                dirs.remove(name)
        for name in sorted(files):
            path, where = Path(folder) / name, rel / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                report.refused.append(f"{where}: a symbolic link")
            elif not stat.S_ISREG(info.st_mode):
                report.refused.append(f"{where}: not a regular file")
            elif info.st_nlink > 1:
                report.refused.append(f"{where}: a hard link to another file")
            elif count >= limits.submission_files:
                report.refused.append(f"{where}: over the limit of {limits.submission_files} files")
            elif total + info.st_size > limits.submission_bytes:
                report.refused.append(f"{where}: over the limit of {limits.submission_bytes >> 20} MiB")
            else:
                (dest / rel).mkdir(parents=True, exist_ok=True)
                _copy_regular(path, dest / where)
                count, total = count + 1, total + info.st_size
    return report


def _copy_regular(source: Path, dest: Path) -> None:
    """Copy a file opened without following links (O_NOFOLLOW), so a swap for a link between
    the check and the copy cannot make us read another file."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)


def stage_libraries(dest: Path, stubbed: frozenset = frozenset(), allowed_cells: frozenset = frozenset()) -> Path:
    """A copy of ``initkit`` and ``initgrader`` (Python files only) for the kernel's path, in
    which initkit's reference functions and classes named in ``stubbed`` (the exercises of
    the notebook being graded) are guarded by ``initgrader.reference_guard``: they refuse to
    serve as the student's answer, and still work for initkit itself and for the release's
    own cells (``allowed_cells``: their hashes). They are kept, not deleted: 05's setup cell
    imports ``calculate_gain``, 06's rosetta table calls three of them."""
    for package in ("initkit", "initgrader"):
        shutil.copytree(REPO / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "allowed_cells.json").write_text(json.dumps(sorted(allowed_cells)))
    if stubbed:
        for module in (dest / "initkit").glob("*.py"):
            source = module.read_text()
            guarded = guard_definitions(source, stubbed)
            if guarded != source:
                module.write_text(guarded)
    return dest


def guard_definitions(source: str, names: frozenset) -> str:
    """``source`` with each top-level function or class in ``names`` guarded: appended code
    rebinds a function to a wrapper, and wraps a class's ``__init__``, so that every call first
    asks ``reference_guard.refuse_unless_allowed`` about its caller's frame."""
    import ast

    found = [(node.name, isinstance(node, ast.ClassDef)) for node in ast.parse(source).body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names]
    if not found:
        return source
    lines = ["", "", "# --- added while grading (initgrader.sandbox.guard_definitions) ---", "import functools as _ig_functools",
             "import sys as _ig_sys", "from initgrader.reference_guard import refuse_unless_allowed as _ig_refuse", ""]
    for name, is_class in found:
        target = f"{name}.__init__" if is_class else name
        lines += [f"def _ig_guard_{name}(original):",
                  "    @_ig_functools.wraps(original)",
                  "    def guarded(*args, **kwargs):",
                  f"        _ig_refuse({name!r}, _ig_sys._getframe(1))",
                  "        return original(*args, **kwargs)",
                  "    return guarded", "",
                  f"{target} = _ig_guard_{name}({target})", ""]
    return source + "\n".join(lines)


# --------------------------------------------------------------------------- the command

def bubblewrap() -> str:
    """Path of a working ``bwrap``, or SandboxError saying how to get one."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`, or grade "
                           "with --no-sandbox knowing what it does not protect (docs/grading.md)")
    probe = subprocess.run([path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise SandboxError(f"bubblewrap does not work here ({probe.stderr.strip()[:200]}): grading refuses "
                           "to run unconfined; --no-sandbox runs without it (docs/grading.md)")
    return path


def confined_command(inner: list[str], environment: dict, limits: Limits, cgroups: list[Path],
                     binds: list[tuple[str, Path | str, Path | str]], chdir: Path | str,
                     as_pid_1: bool = False) -> list[str]:
    """``inner`` run under bubblewrap (the system and the venv read-only, a private /tmp and
    /home, ``binds`` as (``--bind`` or ``--ro-bind``, source, destination), ``environment``
    only), inside ``cgroups`` and under ``limits``' rlimits. ``as_pid_1``: ``inner`` is the
    PID namespace's init, which no process inside can kill or stop (the fast path's parent)."""
    args = [bubblewrap(), "--unshare-all", "--die-with-parent", "--new-session", *(["--as-pid-1"] if as_pid_1 else []),
            "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL", "--clearenv",
            # the private /tmp and /home first: a venv or course under /tmp is bound on top
            "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp", "--tmpfs", "/home", "--dir", HOME]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for file in SYSTEM_FILES:
        if os.path.exists(file):
            args += ["--ro-bind", file, file]
    venv = Path(sys.prefix)
    args += ["--ro-bind", str(venv), str(venv)]
    base = Path(sys.base_prefix)
    if not str(base).startswith(("/usr",)):
        args += ["--ro-bind", str(base), str(base)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for kind, source, destination in binds:
        args += [kind, str(source), str(destination)]
    args += ["--chdir", str(chdir)]
    for name, value in sorted(environment.items()):
        args += ["--setenv", name, value]
    rlimits = ["prlimit", f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_bytes}",
               f"--nofile={limits.open_files}", "--"]
    join = " && ".join(f"echo $$ > {cg / 'cgroup.procs'}" for cg in cgroups)
    wrapper = ["sh", "-c", f"{join + ' && ' if join else ''}exec \"$@\"", "sandbox"]
    return wrapper + rlimits + args + ["--"] + inner


@dataclass
class Confinement:
    """Everything one confined kernel needs: its folders, cgroups and limits."""

    work: Path          # the student's staged folder (bound read-write at the same path)
    sockets: Path       # the IPC socket folder (bound read-write at the same path)
    libraries: Path     # staged initkit + initgrader (bound read-only at LIBRARIES)
    limits: Limits
    cgroups: list[Path] = field(default_factory=list)

    def command(self, inner: list[str], env: dict) -> list[str]:
        """``inner`` (the kernel's command line) wrapped in rlimits, cgroups and bubblewrap."""
        binds = [("--ro-bind", self.libraries, LIBRARIES), ("--bind", self.work, self.work),
                 ("--bind", self.sockets, self.sockets)]
        return confined_command(inner, self.environment(env), self.limits, self.cgroups, binds, self.work)

    def environment(self, env: dict) -> dict:
        allowed = {k: env[k] for k in ENV_ALLOWED if k in env}
        return {**allowed, "HOME": HOME, "IPYTHONDIR": f"{HOME}/.ipython", "MPLCONFIGDIR": "/tmp/matplotlib",
                "PYTHONPATH": LIBRARIES, "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONSAFEPATH": "1",  # the submission's own files stay off the import path
                "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "3")}


# --------------------------------------------------------------------------- cgroups

CGROUP_ROOT = Path("/sys/fs/cgroup")


def make_cgroups(limits: Limits, name: str) -> list[Path]:
    """A memory and a pids cgroup for one kernel (v1: one folder per controller; v2: one
    folder), limits written; [] where cgroups cannot be created (the report says so)."""
    made = []
    try:
        if (CGROUP_ROOT / "cgroup.controllers").exists():  # v2, unified
            group = CGROUP_ROOT / "initgrader" / name
            group.mkdir(parents=True, exist_ok=True)
            (group / "memory.max").write_text(str(limits.memory_bytes))
            (group / "memory.swap.max").write_text("0") if (group / "memory.swap.max").exists() else None
            (group / "pids.max").write_text(str(limits.pids))
            made.append(group)
        else:
            for controller, settings in (("memory", {"memory.limit_in_bytes": limits.memory_bytes}),
                                         ("pids", {"pids.max": limits.pids})):
                group = CGROUP_ROOT / controller / "initgrader" / name
                group.mkdir(parents=True, exist_ok=True)
                for key, value in settings.items():
                    (group / key).write_text(str(value))
                made.append(group)
    except OSError:
        remove_cgroups(made)
        return []
    return made


def remove_cgroups(groups: list[Path]) -> None:
    """Kill whatever is left in the groups, then remove them."""
    import signal
    import time

    for group in groups:
        for _ in range(50):
            try:
                pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        try:
            group.rmdir()
        except OSError:
            pass


# --------------------------------------------------------------------------- the kernel manager

class _CappedMessages:
    """The kernel client's ZMQ sockets refuse messages over ``Limits.message_bytes``
    (ZMQ_MAXMSGSIZE, set as its context's default so it holds from the first connection), and
    its shell channel sends without losing a reply (``ShellChannel``)."""

    def client(self, **kwargs):
        import zmq
        import zmq.asyncio

        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, self.confinement.limits.message_bytes)
        kwargs.setdefault("shell_channel_class", ShellChannel)
        client = super().client(context=context, **kwargs)
        client._created_context = True  # destroyed with the client
        return client


class ShellChannel(AsyncZMQSocketChannel):
    """The shell channel, with sends made while the event loop runs going through the asyncio
    socket, so that a reply already waiting is not missed.

    ZMQ's socket descriptor is edge-triggered, and any send on the socket consumes the edge.
    jupyter_client's ``Session.send`` sends on a plain shadow of the asyncio socket, past the
    bookkeeping with which pyzmq re-checks the socket for a coroutine awaiting a message. nbclient
    sends like that while it awaits a cell's ``execute_reply``: its stand-in for an ipywidgets
    ``Output`` widget echoes each output back to the kernel (``OutputWidget.sync_state``). When
    the reply lands just before such an echo, the wait sees it only at its timeout: 02's
    ``explorer()`` cell waited the whole ``Execute.timeout`` (120 s) in about one run in four.
    Sent through the asyncio socket, pyzmq re-checks the socket for waiting receivers."""

    def send(self, msg) -> None:
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop runs here, so nothing awaits this socket
            return super().send(msg)
        self.session.send(_ThroughAsyncio(self.socket), msg)


class _ThroughAsyncio:
    """A zmq.asyncio socket to ``Session.send``, which would otherwise send on a plain
    shadow of it; the send is immediate unless the socket's queue is full."""

    def __init__(self, socket) -> None:
        self.socket = socket

    def send_multipart(self, parts, copy: bool = True, track: bool = False, **kwargs):
        return self.socket.send_multipart(parts, copy=copy)


class SandboxedKernelManager(_CappedMessages, AsyncKernelManager):
    """A kernel manager whose kernel runs under ``confinement`` over IPC sockets."""

    confinement = AnyTrait(None, allow_none=True)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        inner = super().format_kernel_cmd(extra_arguments)
        return self.confinement.command(inner, dict(os.environ))


def new_confinement(notebook_folder: Path, limits: Limits | None = None, stubbed: frozenset = frozenset(),
                    allowed_cells: frozenset = frozenset()) -> tuple[Confinement, StagingReport, Path]:
    """Stage a notebook folder and the libraries in a fresh private folder; make cgroups.
    Returns the confinement, the staging report and the private folder (to remove after)."""
    limits = limits or Limits()
    private = Path(tempfile.mkdtemp(prefix="ig-", dir="/tmp"))
    os.chmod(private, 0o755)
    work, sockets = private / "w", private / "s"
    report = stage_submission(notebook_folder, work, limits)
    sockets.mkdir()
    os.chmod(work, 0o777)
    os.chmod(sockets, 0o777)
    for folder, dirs, files in os.walk(work):  # writable by the sandbox's "nobody"
        for name in dirs + files:
            os.chmod(Path(folder) / name, 0o777 if name in dirs else 0o666)
    libraries = stage_libraries(private / "lib", stubbed, allowed_cells)
    cgroups = make_cgroups(limits, uuid.uuid4().hex[:12])
    return Confinement(work, sockets, libraries, limits, cgroups), report, private


class UnconfinedKernelManager(_CappedMessages, AsyncKernelManager):
    """``--no-sandbox``: a plain subprocess with a cleared environment and rlimits only. It
    does NOT keep the kernel from reading or writing the grader's files, other students'
    folders or the gradebook, nor from the network (docs/grading.md says what is left)."""

    confinement = AnyTrait(None, allow_none=True)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        inner = super().format_kernel_cmd(extra_arguments)
        env = self.confinement.environment(dict(os.environ))
        env["PYTHONPATH"] = str(self.confinement.libraries)
        env["HOME"] = str(self.confinement.work)
        env["IPYTHONDIR"] = str(self.confinement.work / ".ipython")
        limits = self.confinement.limits
        return ["env", "-i", *[f"{k}={v}" for k, v in sorted(env.items())],
                "prlimit", f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_bytes}",
                f"--nofile={limits.open_files}", "--", *inner]
