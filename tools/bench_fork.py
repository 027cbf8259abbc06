"""What a forked kernel would save: the fast path's measurement before it is built.

    python3 tools/course.py bench fork [--repeat 3]

Inside one confinement (the sandbox a student's kernel gets: bubblewrap, cgroups, the staged
libraries), two ways to get a process ready to run a framework notebook:

- *cold*: a fresh interpreter imports NumPy, SciPy, PyTorch, TensorFlow, Keras and
  ``initkit.checks``, then runs a first op of each framework — what every notebook's kernel
  pays today;
- *forked*: one parent imports the same with one thread per library (``OMP_NUM_THREADS=1`` and
  friends set first), checks it still has a single thread, and forks a child per notebook;
  the child runs the same first ops.

It prints the seconds of each (wall, median of ``--repeat``), the parent's thread count before
each fork, and whether every child's ops succeeded (TensorFlow and PyTorch are not fork-safe
once their thread pools started: the parent never runs an op). The saving per notebook is
what a per-student parent would give back for every notebook after the first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IMPORTS = """
import time, os
t0 = time.perf_counter()
import numpy, scipy.stats, torch, tensorflow as tf, keras
import initkit.checks
IMPORTED = time.perf_counter() - t0
def threads():
    return int(next(l for l in open('/proc/self/status') if l.startswith('Threads:')).split()[1])
"""
FIRST_OPS = """
def first_ops():
    t = time.perf_counter()
    a = torch.randn(256, 256); torch.nn.init.kaiming_uniform_(a); float((a @ a).sum())
    float(tf.reduce_sum(tf.random.normal((256, 256))))
    layer = keras.layers.Dense(8); layer.build((None, 4))
    return time.perf_counter() - t
"""
COLD = IMPORTS + FIRST_OPS + """
import json
ops = first_ops()
print(json.dumps({"imports": IMPORTED, "ops": ops}))
"""
FORKED = IMPORTS + FIRST_OPS + """
import json, sys
results = []
for _ in range(int(sys.argv[1])):
    before = threads()
    t = time.perf_counter()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            ops = first_ops(); ok = True
        except Exception as error:
            ops, ok = repr(error), False
        os.write(write, json.dumps({"ops": ops, "ok": ok}).encode())
        os._exit(0)
    os.close(write)
    child = json.loads(os.read(read, 65536).decode())
    os.waitpid(pid, 0)
    results.append({**child, "threads_before_fork": before, "fork_to_done": time.perf_counter() - t})
print(json.dumps({"imports": IMPORTED, "children": results}))
"""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_NUM_INTRAOP_THREADS")


def confined(script: str, *args: str) -> dict:
    from initgrader.sandbox import new_confinement, remove_cgroups

    folder = Path(tempfile.mkdtemp(prefix="bench-fork-"))
    confinement, _, private = new_confinement(folder)
    try:
        env = {**os.environ, **{name: "1" for name in THREAD_VARIABLES}, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = confinement.command([sys.executable, "-c", script, *args], env)
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"the confined run failed ({done.returncode}): {done.stderr[-800:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        remove_cgroups(confinement.cgroups)
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="cold starts, and children forked (default 3)")
    args = p.parse_args(argv)
    cold = [confined(COLD) for _ in range(args.repeat)]
    forked = confined(FORKED, str(args.repeat))
    children = forked["children"]
    cold_s = statistics.median(r["imports"] + r["ops"] for r in cold)
    child_s = statistics.median(c["fork_to_done"] for c in children)
    print("| ready to run a framework notebook, in the sandbox | wall s (median) |")
    print("|---|---|")
    print(f"| cold: imports {statistics.median(r['imports'] for r in cold):.2f} + first ops "
          f"{statistics.median(r['ops'] for r in cold):.2f} | {cold_s:.2f} |")
    print(f"| forked child: fork to first ops done (parent's imports {forked['imports']:.2f} s, paid once) "
          f"| {child_s:.2f} |")
    print(f"| saved per notebook after a student's first | {cold_s - child_s:.2f} |")
    print(f"\nthreads in the parent before each fork: {[c['threads_before_fork'] for c in children]}; "
          f"children's ops succeeded: {[c['ok'] for c in children]}")
    failed = [c["ops"] for c in children if not c["ok"]]
    if failed:
        print(f"child errors: {failed}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
