"""The `experiment` tags of solutions/ (issue 19): the cells the fast grading path may skip.

Every solution notebook's tags pass ``tag_problems``; the analysis behind it
(``defined_names``, ``used_names``, ``tag_problems``) is tested on small notebooks built here,
each problem next to a twin that has none, so that every test can fail."""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from initgrader.experiments import (defined_names, experiment_cells, source_hash, tag_problems,
                                    used_names)

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((REPO / "solutions").glob("0*/*.ipynb"))


# --- the course's notebooks ------------------------------------------------------------

@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solution_tags_have_no_problem(path):
    assert tag_problems(path) == []


@pytest.mark.parametrize("path", [p for p in SOLUTIONS if not p.parent.name.startswith("00-")],
                         ids=lambda p: p.parent.name)
def test_each_notebook_from_01_tags_an_experiment(path):
    assert experiment_cells(path), f"{path.parent.name} tags no cell `experiment`"


def test_experiment_cells_hash_the_stored_source():
    path = REPO / "solutions" / "01-variance" / "01-variance.ipynb"
    raw = {c["id"]: c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]}
    cells = experiment_cells(path)
    for cell_id, digest in cells.items():
        stored = raw[cell_id]["source"]
        assert digest == hashlib.sha256("".join(stored).encode()).hexdigest()
        assert "experiment" in raw[cell_id]["metadata"]["tags"]


# --- source_hash, defined_names, used_names --------------------------------------------

def test_source_hash_is_sha256_of_the_exact_source():
    assert source_hash("x = 1\n") == hashlib.sha256(b"x = 1\n").hexdigest()
    assert source_hash(["x = 1\n", "y = 2"]) == source_hash("x = 1\ny = 2")
    assert source_hash("x = 1") != source_hash("x = 1 ")          # no normalisation
    assert source_hash("x = 1") != source_hash("x = 1\n")


def test_defined_names_cover_every_binding():
    source = """
import numpy as np
import os.path
from math import sqrt as root, pi
a = b = 1
c, (d, *e) = 1, (2, 3)
f += 1
g: int = 3
obj.attr = 4          # a change in place, not a binding
items[0] = 5
for h, i in []:
    pass
with open("f") as j, open("g") as (k, l):
    pass
try:
    pass
except ValueError as m:
    pass
def n(p, q=1):
    r = p
    global s
    s = r
class T:
    u = 1
if (v := 10) > 3:
    pass
w = [z for z in range(3)]
y = [(x := z) for z in range(3)]
del a
"""
    assert defined_names(source) == {"np", "os", "root", "pi", "a", "b", "c", "d", "e", "f", "g", "h",
                                      "i", "j", "k", "l", "m", "n", "s", "T", "v", "w", "x", "y"}


def test_used_names_are_the_global_reads():
    source = """
total = np.mean(x) + math.pi
counter += 1
def f(a, *args, b=default, **kw):
    local = a + b + outer
    return [local * i for i in args] + [helper(k) for k in kw]
g = lambda t: t * scale
h = {key: value for key, value in pairs}
obj.attr = other.value
"""
    assert used_names(source) == {"np", "x", "math", "counter", "default", "outer", "helper", "scale",
                                  "pairs", "obj", "other"}


def test_magics_do_not_break_the_parser():
    source = ("%matplotlib inline\n!pip install something\nfiles = !ls\n"
              "if ready:\n    %time result = compute(data)\n    value = 1\n")
    assert defined_names(source) == {"files", "value"}
    assert used_names(source) == {"ready"}
    assert defined_names("%%time\nx = slow()\n") == {"x"}
    assert used_names("%%time\nx = slow()\n") == {"slow"}
    assert defined_names("%%bash\necho $HOME > x = 1\n") == set()


# --- tag_problems on small notebooks ----------------------------------------------------

def code(cell_id, source, tagged=False, nbgrader=None):
    metadata = {}
    if tagged:
        metadata["tags"] = ["experiment"]
    if nbgrader:
        metadata["nbgrader"] = {"grade_id": cell_id, "schema_version": 3, "locked": nbgrader == "test",
                                "solution": nbgrader == "answer", "grade": nbgrader == "test",
                                **({"points": 1} if nbgrader == "test" else {})}
    cell = v4.new_code_cell(source, metadata=metadata)
    cell["id"] = cell_id
    return cell


def write(tmp_path, *cells, name="nb.ipynb"):
    nb = v4.new_notebook()
    nb.cells = list(cells)
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


SETUP = code("setup", "import numpy as np\nrng = np.random.default_rng(0)")
ANSWER = code("answer", "def f(x):\n    return 2 * x", nbgrader="answer")
TEST = code("test", "assert f(1) == 2", nbgrader="test")


def test_a_name_a_later_test_cell_reads_is_a_problem(tmp_path):
    demo = code("demo", "table = [2 * i for i in range(3)]\nprint(table)", tagged=True)
    reads = code("test-table", "assert table[1] == 2", nbgrader="test")
    problems = tag_problems(write(tmp_path, SETUP, ANSWER, TEST, demo, reads))
    assert len(problems) == 1 and "'demo'" in problems[0] and "'table'" in problems[0] \
        and "'test-table'" in problems[0], problems
    rebinds = code("test-table", "table = [0, 2]\nassert table[1] == 2", nbgrader="test")
    assert tag_problems(write(tmp_path, SETUP, ANSWER, TEST, demo, rebinds)) == []


def test_a_read_before_the_rebinding_is_a_problem(tmp_path):
    demo = code("demo", "n = 3", tagged=True)
    later = code("later", "n = n + 1")                 # reads the n of the skipped cell first
    loop_only = code("later", "for n in range(2):\n    print(n)\nprint(n)")    # the loop may not run
    in_body = code("later", "for n in range(2):\n    print(n)")               # bound while read
    redefined = code("later", "def n():\n    return 1\nprint(n())")          # rebound, then read
    assert "'n'" in tag_problems(write(tmp_path, SETUP, demo, later))[0]
    assert "'n'" in tag_problems(write(tmp_path, SETUP, demo, loop_only))[0]
    assert tag_problems(write(tmp_path, SETUP, demo, in_body)) == []
    assert tag_problems(write(tmp_path, SETUP, demo, redefined)) == []


def test_an_answer_that_reads_an_experiment_name_is_a_problem(tmp_path):
    demo = code("demo", "scale = 2", tagged=True)
    answer = code("answer", "def f(x):\n    return scale * x", nbgrader="answer")
    local = code("answer", "def f(x, scale=2):\n    return scale * x", nbgrader="answer")
    assert "'scale'" in tag_problems(write(tmp_path, SETUP, demo, answer, TEST))[0]
    assert tag_problems(write(tmp_path, SETUP, demo, local, TEST)) == []


def test_a_tagged_nbgrader_cell_is_a_problem(tmp_path):
    tagged_test = code("test", "assert f(1) == 2", tagged=True, nbgrader="test")
    tagged_answer = code("answer", "def f(x):\n    return 2 * x", tagged=True, nbgrader="answer")
    assert any("graded test" in p for p in tag_problems(write(tmp_path, SETUP, ANSWER, tagged_test)))
    assert any("answer" in p and "'answer'" in p for p in tag_problems(write(tmp_path, SETUP, tagged_answer, TEST)))
    assert tag_problems(write(tmp_path, SETUP, ANSWER, TEST)) == []


def test_a_tagged_cell_without_an_id_is_a_problem(tmp_path):
    nb = v4.new_notebook()
    nb.nbformat_minor = 4                               # before cell ids
    cell = v4.new_code_cell("print(1)", metadata={"tags": ["experiment"]})
    del cell["id"]
    nb.cells = [cell]
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb))
    assert any("no id" in p for p in tag_problems(path))
    assert experiment_cells(path) == {}


def test_changing_global_state_is_a_problem_seeding_is_not(tmp_path):
    def problems(source):
        return tag_problems(write(tmp_path, SETUP, code("demo", source, tagged=True)))

    for source in ['import os\nos.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"', "torch.set_default_dtype(torch.float64)",
                   'np.seterr(all="ignore")', 'import warnings\nwarnings.filterwarnings("ignore")',
                   'import matplotlib.pyplot as plt\nplt.rcParams["figure.dpi"] = 50', "torch.set_num_threads(4)",
                   'import sys\nsys.path.append("x")']:
        found = problems("import torch\n" + source)
        assert len(found) == 1 and "global state" in found[0], (source, found)
    for source in ["np.random.seed(0)", "import torch\ntorch.manual_seed(0)", "import random\nrandom.seed(0)",
                   "import tensorflow as tf\ntf.random.set_seed(0)", "import keras\nkeras.utils.set_random_seed(0)",
                   'import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter("ignore")',
                   "import torch\nwith torch.no_grad():\n    pass",
                   "import torch\nthreads = torch.get_num_threads()\ntorch.set_num_threads(1)\n"
                   "torch.set_num_threads(threads)"]:
        assert problems(source) == [], source


def test_a_change_in_place_read_later_is_a_problem(tmp_path):
    draws = code("demo", "x = rng.normal(size=3)", tagged=True)        # advances the shared rng
    later = code("later", "y = rng.normal(size=3)")
    later_tagged = code("later", "y = rng.normal(size=3)", tagged=True)
    found = tag_problems(write(tmp_path, SETUP, draws, later))
    assert len(found) == 1 and "'rng'" in found[0] and "'later'" in found[0], found
    assert tag_problems(write(tmp_path, SETUP, draws, later_tagged)) == []


def test_using_the_students_function_before_a_graded_cell_is_a_problem(tmp_path):
    demo = code("demo", "print(f(3))", tagged=True)
    assert "'f'" in tag_problems(write(tmp_path, SETUP, ANSWER, demo, TEST))[0]
    assert tag_problems(write(tmp_path, SETUP, ANSWER, TEST, demo)) == []


def test_magics_in_a_tagged_cell_parse_and_broken_code_is_a_problem(tmp_path):
    magic = code("demo", "%matplotlib inline\n!nvidia-smi\nprint(rng)", tagged=True)
    broken = code("demo", "print(", tagged=True)
    assert tag_problems(write(tmp_path, SETUP, magic, ANSWER, TEST)) == []
    assert "cannot be parsed" in tag_problems(write(tmp_path, SETUP, broken, ANSWER, TEST))[0]


def test_a_submission_is_checked_against_the_solution_tags(tmp_path):
    demo = code("demo", "scale = 2", tagged=True)
    solution = write(tmp_path, SETUP, demo, ANSWER, TEST, name="solution.ipynb")
    experiments = experiment_cells(solution)
    assert experiments == {"demo": source_hash("scale = 2")}
    untagged_demo = code("demo", "scale = 2")        # tags or not: id and hash decide
    reads = code("answer", "def f(x):\n    return scale * x", nbgrader="answer")
    submitted = write(tmp_path, SETUP, untagged_demo, reads, TEST, name="submitted.ipynb")
    assert "'scale'" in tag_problems(submitted, experiments=experiments)[0]
    edited = code("demo", "scale = 2  # mine", tagged=True)          # not skipped: it runs
    submitted = write(tmp_path, SETUP, edited, reads, TEST, name="edited.ipynb")
    assert tag_problems(submitted, experiments=experiments) == []


READ_CASES = [
    "x = x + 1",
    "for i in range(n):\n    total = total + i\nelse:\n    done = total",
    "with open(p) as f:\n    data = f.read()\nprint(data, f)",
    "if flag:\n    a = 1\nelse:\n    b = a\nprint(a, b)",
    "try:\n    y = risky(y)\nexcept ValueError as e:\n    print(e, y)\nfinally:\n    z = y",
    "def g():\n    return h\nh = 1\nclass C:\n    v = w\nw = g()",
    "global q\nq = q * 2\nr: int\nprint(r)\nwhile k:\n    k -= 1",
    "import numpy as np\nnp = np.asarray(np)\nlst[0] = lst[1]\nlst.append(lst)",
]


@pytest.mark.parametrize("source", READ_CASES + [c.source for path in SOLUTIONS
                                                  for c in nbformat.read(path, as_version=4).cells
                                                  if c.cell_type == "code"][::7])
def test_reads_before_rebinding_are_computed_once_per_cell_and_agree_with_the_pairwise_walk(source):
    """``notebook_problems`` asks each later cell once for every name it reads before binding
    (``_read_before_rebinding`` with every name of the cell) and intersects; that must equal
    asking with each set of names it passes — here every subset of up to two of the cell's
    names, and the names an earlier cell binds."""
    from itertools import combinations

    from initgrader.experiments import _read_before_rebinding, _targets, _used, parse

    tree = parse(source)
    every = _targets(tree) | _used(tree)
    once = _read_before_rebinding(tree.body, set(every))
    names = sorted(every | {"unrelated"})
    for size in (1, 2):
        for live in combinations(names, size):
            assert _read_before_rebinding(tree.body, set(live)) == once & set(live), (source, live)
