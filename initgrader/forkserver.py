"""One student's kernel parent for the fast path (issue 19): imports the heavy libraries once,
then forks a fresh child per notebook that becomes that notebook's IPython kernel.

Run **by path** inside the student's sandbox (``initgrader.forked`` starts it), never imported
as part of ``initgrader``: the parent must not import initkit or initgrader, because each
notebook's kernel imports its own staged copy (initkit's reference answers are guarded per
notebook). What the parent imports — IPython, ipykernel, NumPy, SciPy and matplotlib at start;
TensorFlow, Keras and PyTorch before forking the first notebook that imports them
(``preload``) — is the same for every notebook and is paid once per student.

Threads: NumPy/SciPy start their BLAS threads at import unless ``OPENBLAS_NUM_THREADS`` and
friends say 1 (the grader sets them for this process); TensorFlow and PyTorch start their
pools at their first op, which the parent never runs. A process forked with more than one
thread can inherit a lock held by a thread that does not exist in the child, so every fork
first checks that the parent still has exactly one (``/proc/self/status``) and refuses
otherwise.

The grader talks to the parent over its stdin and stdout, one JSON object per line:

    {"op": "fork", "argv": [...], "work": dir, "lib": dir, "env": {...},
     "preload": ["torch", …]}                                             → {"pid": n, "imports_s": s}
    {"op": "poll", "pid": n}                                              → {"code": null | int}
    {"op": "signal", "pid": n, "signum": s}                               → {}
    {"op": "clean"}   (kill every other process in the sandbox; wipe /tmp and HOME) → {"killed": n, "left": n,
                                                                             "cpu_s": {"parent": s, "kernels": s}}
    {"op": "exit"}

Those two pipes are moved off fds 0 and 1 before any child exists, and every child closes
them: a notebook cannot speak for the parent. The parent is the sandbox's PID 1 (bubblewrap
``--as-pid-1``), so no process inside can kill or stop it, and it is not dumpable (no ptrace,
no ``/proc/1/mem`` for the same user). Out of memory, the kernel is killed first (its
``oom_score_adj`` is 1000); should the parent die anyway, every process in the sandbox dies
with it and the grader starts a new one (``initgrader.forked``). Being PID 1, it also reaps
the orphans a notebook leaves (``clean``).
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time

PR_SET_DUMPABLE = 4
KEPT_UNDER_TMP = ()  # filled from argv: the bound folders under /tmp, which "clean" must not wipe


def threads() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("Threads:")).split()[1])


def import_libraries() -> float:
    """What every notebook's kernel needs: IPython, ipykernel, NumPy, SciPy, matplotlib and
    pyplot. matplotlib reads ``MPLBACKEND`` once, when it is imported: set it first, as
    ipykernel does in a kernel it starts, or every forked kernel's figures would go to Agg
    (``plt.show()`` would show nothing). The backend module itself is imported by the
    kernel, on its first figure (it hooks into that kernel's IPython)."""
    began = time.perf_counter()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import IPython  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import matplotlib  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
    return time.perf_counter() - began


#: Frameworks the parent imports before forking a notebook that imports them, in this order
#: (TensorFlow and Keras before PyTorch, as the parent was measured and tested).
FRAMEWORKS = ("tensorflow", "keras", "torch")


def preload(names: list) -> float:
    """Import the frameworks of ``names`` not imported yet; the seconds it took."""
    import importlib

    began = time.perf_counter()
    for name in FRAMEWORKS:
        if name in names and name not in sys.modules:
            importlib.import_module(name)
    return time.perf_counter() - began


def become_kernel(request: dict) -> None:
    """In the forked child: the notebook's environment, folder and staged libraries, then
    ipykernel's own entry point (what ``python -m ipykernel_launcher ARGS`` runs)."""
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # its own /proc entries stay readable to it
    try:  # out of memory, the kernel goes first, never the parent (raising one's own score needs no privilege)
        with open("/proc/self/oom_score_adj", "w") as adj:
            adj.write("1000")
    except OSError:
        pass
    os.setsid()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["work"])
    sys.path.insert(0, request["lib"])
    sys.argv = ["ipykernel_launcher", *request["argv"]]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def fork(request: dict, control: tuple[int, int]) -> dict:
    imported = preload(request.get("preload", []))
    count = threads()
    if count != 1:
        return {"error": f"the parent has {count} threads; forking now could deadlock the child"}
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            for fd in control:
                os.close(fd)
            become_kernel(request)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # noqa: BLE001 — a child must never return into the parent's loop
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    return {"pid": pid, "imports_s": round(imported, 3)}


def poll(pid: int) -> dict:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return {"code": -1}
    if done == 0:
        return {"code": None}
    return {"code": os.waitstatus_to_exitcode(status)}


def others() -> list[int]:
    """Every live process in the sandbox but the namespace's init (1) and this one."""
    mine = {1, os.getpid()}
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(name))
    return found


def clean() -> dict:
    """Kill everything the last notebook started, then empty /tmp and HOME."""
    killed = 0
    for _ in range(200):
        victims = others()
        if not victims:
            break
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        reap()
        time.sleep(0.01)
    reap()
    for folder in ("/tmp", os.environ.get("HOME", "/home/student")):
        wipe(folder)
    return {"killed": killed, "left": len(others()), "cpu_s": cpu_seconds()}


def cpu_seconds() -> dict:
    """CPU seconds so far of this parent (its imports, its forks) and of every process it has
    reaped — the kernels and whatever they started: for the bench, never for a verdict."""
    mine, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"parent": round(mine.ru_utime + mine.ru_stime, 3), "kernels": round(reaped.ru_utime + reaped.ru_stime, 3)}


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wipe(folder: str) -> None:
    """Remove what a notebook left in ``folder`` (not the grader's bound folders under it)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if any(kept == path or kept.startswith(path + "/") for kept in KEPT_UNDER_TMP):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                for root, dirs, _ in os.walk(path):
                    for d in dirs:
                        os.chmod(os.path.join(root, d), 0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def main() -> None:
    global KEPT_UNDER_TMP
    KEPT_UNDER_TMP = tuple(sys.argv[1:])
    # The grader's pipes move to fresh fds; 0 becomes /dev/null and 1 joins 2 (the log).
    control = (os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reader, writer = os.fdopen(control[0], "rb"), os.fdopen(control[1], "wb", buffering=0)
    imported = import_libraries()
    writer.write((json.dumps({"ready": True, "imports_s": round(imported, 3), "threads": threads(),
                              "pid": os.getpid()}) + "\n").encode())
    for line in reader:
        request = json.loads(line)
        op = request.get("op")
        if op == "fork":
            reply = fork(request, control)
        elif op == "poll":
            reply = poll(int(request["pid"]))
        elif op == "signal":
            try:
                os.killpg(int(request["pid"]), int(request["signum"]))
            except (ProcessLookupError, PermissionError):
                pass
            reply = {}
        elif op == "clean":
            reply = clean()
        elif op == "exit":
            return
        else:
            reply = {"error": f"unknown op {op!r}"}
        writer.write((json.dumps(reply) + "\n").encode())


if __name__ == "__main__":
    main()
