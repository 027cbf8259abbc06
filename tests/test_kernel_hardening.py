"""Bad student code inside a real Jupyter kernel (nbclient): every case ends in the intended
one-line AssertionError — or a pass — and no cell ever shows stderr output (nbgrader scores
a test cell with stderr as zero)."""

import re

import nbformat
import pytest

from initkit.mistakes import MISTAKES, load_track

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("torch")

pytestmark = [pytest.mark.frameworks, pytest.mark.slow]
load_track("torch")

SETUP = """
import math, os, sys, time, warnings
import numpy as np
import initkit
from initkit import checks
from initkit.checks import _guard, from_torch
_guard.CHECK_BUDGET_S = 3  # short, so the watchdog cases run quickly


def good(shape, gain=1.0, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape)
"""

# (name, cell source, expected: regex on the AssertionError, or "pass" with the ✓ lines)
CASES = [
    ("exception", "def f(shape, gain=1.0, rng=None):\n    return np.zeros(shape) / undefined_name\n"
     "checks.check_xavier_uniform(f, aspect='interface')",
     r"f?xavier_uniform\(\(4, 3\), rng=rng\) raised NameError: name 'undefined_name' is not defined — in your function\.$"),
    ("list", "def f(shape, gain=1.0, rng=None):\n    return good(shape, gain, rng).tolist()\n"
     "checks.check_xavier_uniform(f, aspect='scale')",
     r"returned a builtins\.list; the contract asks for a numpy\.ndarray"),
    ("torch tensor", "import torch\ndef f(shape, gain=1.0, rng=None):\n    return torch.from_numpy(good(shape, gain, rng))\n"
     "checks.check_xavier_uniform(f, aspect='scale')", r"returned a torch\.Tensor; the contract asks for a numpy\.ndarray"),
    ("int array", "def f(shape, gain=1.0, rng=None):\n    return np.zeros(shape, dtype=int)\n"
     "checks.check_xavier_uniform(f, aspect='interface')", r"returned an array of dtype int64; expected a float dtype"),
    ("wrong shape", "def f(shape, gain=1.0, rng=None):\n    return good(shape[::-1], gain, rng)\n"
     "checks.check_xavier_uniform(f, aspect='interface')", r"returned shape \(3, 4\); expected \(4, 3\)"),
    ("nan", "def f(shape, gain=1.0, rng=None):\n    x = good(shape, gain, rng)\n    x[0, 0] = np.nan\n    return x\n"
     "checks.check_xavier_uniform(f, aspect='interface')", r"returned 1 non-finite values \(nan or inf\)"),
    ("sleeps", "def f(shape, gain=1.0, rng=None):\n    time.sleep(30)\n    return good(shape, gain, rng)\n"
     "checks.check_xavier_uniform(f, aspect='scale')", r"your function took over 3 s, so the check stopped it — vectorise: avoid Python loops over elements"),
    ("python loop", "def f(shape, gain=1.0, rng=None):\n    while True:\n        pass\n"
     "checks.check_xavier_uniform(f, aspect='scale')", r"took over 3 s, so the check stopped it"),
    ("prints", "def f(shape, gain=1.0, rng=None):\n    print('debug', shape)\n    return good(shape, gain, rng)\n"
     "checks.check_xavier_uniform(f, aspect='scale')", "pass"),
    ("warns", "def f(shape, gain=1.0, rng=None):\n    warnings.warn('careful')\n    return good(shape, gain, rng)\n"
     "checks.check_xavier_uniform(f, aspect='scale')", "pass"),
    ("writes to fd 2", "def f(shape, gain=1.0, rng=None):\n    os.write(2, b'noise on fd 2\\n')\n    return good(shape, gain, rng)\n"
     "checks.check_xavier_uniform(f, aspect='scale')", "pass"),
    ("noisy and wrong", "def f(shape, gain=1.0, rng=None):\n    os.write(2, b'noise on fd 2\\n')\n"
     "    warnings.warn('careful')\n    return good(shape, gain, rng) * 2\n"
     "checks.check_xavier_uniform(f, aspect='scale')",
     r"\(Your function also warned UserWarning: careful \(and \d+ more\) and printed 'noise on fd 2' \(and \d+ more lines\)\.\)$"),
    ("returns a function", "def f(shape, gain=1.0, rng=None):\n    return initkit.xavier_uniform\n"
     "checks.check_xavier_uniform(f, aspect='interface')",
     r"returned a builtins\.function; the contract asks for a numpy\.ndarray"),
    ("is initkit's", "xavier_uniform = initkit.xavier_uniform\ncheckers = checks.check_xavier_uniform(xavier_uniform)",
     r"you passed initkit\.xavier\.xavier_uniform itself — the exercise is to write it yourself"),
    ("is torch's", "import torch\nchecks.check_xavier_uniform(from_torch(torch.nn.init.xavier_uniform_))",
     r"you passed torch\.nn\.init\.xavier_uniform_ itself"),
    ("ignores rng", "def f(shape, gain=1.0, rng=None):\n    a = gain * math.sqrt(6.0 / sum(shape))\n"
     "    return np.random.uniform(-a, a, size=shape)\ncheckers = checks.check_xavier_uniform(f, aspect='rng')",
     r"with generators seeded alike returned different values: draw every random number from `rng`"),
    ("reseeds", "def f(shape, gain=1.0, rng=None):\n    np.random.seed(0)\n    a = gain * math.sqrt(6.0 / sum(shape))\n"
     "    return np.random.uniform(-a, a, size=shape)\nchecks.check_xavier_uniform(f, aspect='rng')",
     r"with generators seeded differently returned the same values: your function ignores `rng`"),
    ("replaces rng", "def f(shape, gain=1.0, rng=None):\n    return good(shape, gain, np.random.default_rng(42))\n"
     "checks.check_xavier_uniform(f, aspect='rng')", r"ignores `rng` \(a fixed seed inside\?\)"),
    ("blank", "def f(shape, gain=1.0, rng=None):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
     "checks.check_xavier_uniform(f, aspect='scale')", r"xavier_uniform is not implemented yet"),
    ("catalogued mistake, diagnosed", MISTAKES["xavier_uniform/std_as_bound"].source
     + "checks.check_xavier_uniform(xavier_uniform, aspect='scale')",
     r"spread off .* Diagnosis: your samples' std is 0\.5\d\d× the target .* did you use the std as the bound\?"),
    ("torch-track mistake, diagnosed", "import torch\n" + MISTAKES["torch:kaiming_uniform/fans_swapped"].source
     + "checks.check_kaiming_uniform(from_torch(kaiming_uniform_), aspect='scale')",
     r"Diagnosis: your samples' std is \d\.\d+× the target .* torch weights are \(out, in, \*kernel\)"),
    ("keras through the adapter", "from initkit.mistakes import reference_track\nfrom initkit.checks import from_keras\n"
     "checks.check_variance_scaling(from_keras(reference_track('keras', 'VarianceScaling')), aspect='interface')", "pass"),
]


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(src) for _, src, _ in CASES]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return nb.cells


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_bad_student_code_gets_the_intended_message_and_no_stderr(executed, index):
    name, _, expected = CASES[index]
    outputs = executed[index + 1].outputs
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], outputs
    errors = [o for o in outputs if o.output_type == "error"]
    if expected == "pass":
        assert not errors, errors
        text = "".join(o.text for o in outputs if o.output_type == "stream")
        assert text and all(line.startswith("✓ ") for line in text.splitlines()), text
        return
    assert len(errors) == 1 and errors[0].ename == "AssertionError", outputs
    message = errors[0].evalue
    assert "\n" not in message.split(" Diagnosis:")[0] and re.search(expected, message), message


def test_setup_cell_ran_silently(executed):
    assert not [o for o in executed[0].outputs if o.output_type in ("error", "stream")]
