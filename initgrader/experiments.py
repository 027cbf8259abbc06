"""Experiment cells: what the fast grading path may skip (issue 19).

The instructor tags a code cell of ``solutions/`` with ``experiment`` when it only
demonstrates — a plot, a sweep, a timing, a printed table — and no grade reads what it
computes. At grading time a student's cell is skipped only when its cell id *and* its
source hash equal those of a tagged solution cell (``experiment_cells``), so a cell the
student edited always runs.

Skipping must never change a grade. ``tag_problems`` checks, statically and
conservatively, that a notebook's tags allow it:

- a tagged cell is a plain code cell with an id: not an nbgrader answer or test cell;
- nothing a tagged cell binds or changes in place is read by a later untagged cell
  before that cell binds it again (``defined_names``, ``used_names``);
- a tagged cell changes no global state except the random seeds (``os.environ[...] =``,
  ``torch.set_default_dtype``, ``np.seterr``, ``warnings.filterwarnings``, ``plt.rcParams``
  … are problems), unless it restores it: a ``with`` block, or ``set_X(saved)`` with
  ``saved = get_X()`` in the same cell;
- a tagged cell calls no function the student writes (a name an nbgrader answer cell
  defines) while a graded cell follows: the student's function may keep state.

Run it on a submission too: ``tag_problems(submitted, experiments=experiment_cells(solution))``
looks at the cells the grading path would skip there, next to the student's own answers.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from pathlib import Path

import nbformat

TAG = "experiment"

#: Calls that only seed a random generator: allowed in a tagged cell.
SEEDING = {"seed", "manual_seed", "set_seed", "set_random_seed"}

#: Functions (last name of the dotted call) that change global state, besides ``set_*``.
GLOBAL_SETTERS = {
    "seterr", "seterrcall", "setdefault", "setrecursionlimit", "filterwarnings", "simplefilter",
    "resetwarnings", "chdir", "putenv", "unsetenv", "rc", "rcdefaults", "use", "switch_backend",
    "use_deterministic_algorithms", "enable_op_determinism", "run_functions_eagerly",
    "enable_eager_execution", "disable_eager_execution",
}

#: Methods that change a container when called on a module's attribute (``os.environ.update``,
#: ``sys.path.append``, ``plt.rcParams.update``).
CONTAINER_METHODS = {"update", "append", "insert", "extend", "pop", "popitem", "clear", "remove", "__setitem__"}

_MAGIC = re.compile(r"^(\s*)[%!]")
_MAGIC_ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z_][\w\s,]*?)\s*=\s*[%!]")
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


def source_hash(source: str | list[str]) -> str:
    """SHA-256 (hex) of a cell's source exactly as stored; a list source is joined first.
    No normalisation: one changed character, space or newline gives another hash."""
    if isinstance(source, list):
        source = "".join(source)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def is_tagged(cell) -> bool:
    """True for a code cell whose metadata tags include ``experiment``."""
    return cell.get("cell_type") == "code" and TAG in (cell.get("metadata", {}).get("tags") or [])


def experiment_cells(notebook_path) -> dict[str, str]:
    """Cell id → ``source_hash`` of every tagged code cell of the notebook (one without an id
    cannot be matched, so it is left out; ``tag_problems`` reports it)."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    return {cell["id"]: source_hash(cell.source) for cell in nb.cells if is_tagged(cell) and cell.get("id")}


# ---------------------------------------------------------------------------------------
# Names a cell binds and reads


def parse(source: str) -> ast.Module:
    """The cell's syntax tree, IPython magics blanked first: ``%line`` and ``!shell`` lines
    become ``pass`` (``x = !ls`` becomes ``x = None``); a ``%%time``-like cell magic is
    dropped and its body parsed, any other cell magic (``%%bash``) leaves an empty cell.
    Raises SyntaxError for a cell that is not Python after that."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return ast.parse("")
        lines = lines[1:]
    cleaned = []
    for line in lines:
        assignment = _MAGIC_ASSIGNMENT.match(line)
        if assignment:
            line = f"{assignment.group(1)}{assignment.group(2)} = None"
        elif _MAGIC.match(line):
            line = _MAGIC.match(line).group(1) + "pass"
        cleaned.append(line)
    return ast.parse("\n".join(cleaned))


class _Bindings(ast.NodeVisitor):
    """Names bound in the notebook's global scope: not the locals of functions, lambdas,
    classes or comprehensions (but walrus targets, which escape comprehensions, and every
    name of a ``global`` statement)."""

    def __init__(self):
        self.names: set[str] = set()

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.names.add(node.id)

    def visit_Import(self, node):
        for alias in node.names:
            self.names.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Global(self, node):
        self.names.update(node.names)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node):
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node):
        if node.name:
            self.names.add(node.name)

    def visit_MatchMapping(self, node):
        if node.rest:
            self.names.add(node.rest)
        self.generic_visit(node)

    def _function(self, node):
        self.names.add(node.name)
        for expr in node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(expr)
        self._globals_in(node.body)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node):
        self.names.add(node.name)
        for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(expr)
        self._globals_in(node.body)

    def visit_Lambda(self, node):
        for expr in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(expr)

    def _comprehension(self, node):
        for generator in node.generators:       # the targets are the comprehension's own
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_NamedExpr(self, node):
        self.names.add(node.target.id)
        self.visit(node.value)

    def _globals_in(self, body):
        for statement in body:
            for node in ast.walk(statement):
                if isinstance(node, ast.Global):
                    self.names.update(node.names)


def _bound(node) -> set[str]:
    if node is None:
        return set()
    visitor = _Bindings()
    visitor.visit(node)
    return visitor.names


def _arguments(args: ast.arguments) -> set[str]:
    every = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    return {a.arg for a in every}


def _locals(args: ast.arguments | None, body) -> set[str]:
    """A function's local names: its parameters and what its body binds, minus the names
    it declares ``global`` (``nonlocal`` ones are an enclosing function's: local anyway)."""
    names = _arguments(args) if args else set()
    declared_global = set()
    for statement in body:
        names |= _bound(statement)
        for node in ast.walk(statement):
            if isinstance(node, ast.Global):
                declared_global.update(node.names)
    return names - declared_global


class _Uses(ast.NodeVisitor):
    """Global names read (``ast.Name`` loads, so the bases of attributes too): a name is
    not counted where a function, lambda or comprehension has its own local of that name.
    A function body counts as read where the function is defined (it may run later)."""

    def __init__(self):
        self.names: set[str] = set()
        self.scopes: list[set[str]] = []

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Load, ast.Del)) and not any(node.id in s for s in self.scopes):
            self.names.add(node.id)

    def visit_AugAssign(self, node):            # x += 1 reads x first
        if isinstance(node.target, ast.Name) and not any(node.target.id in s for s in self.scopes):
            self.names.add(node.target.id)
        self.generic_visit(node)

    def _in_scope(self, local_names, nodes):
        self.scopes.append(local_names)
        for node in nodes:
            self.visit(node)
        self.scopes.pop()

    def _function(self, node):
        args = node.args
        for expr in node.decorator_list + args.defaults + [d for d in args.kw_defaults if d]:
            self.visit(expr)
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]:
            if arg.annotation:
                self.visit(arg.annotation)
        if node.returns:
            self.visit(node.returns)
        self._in_scope(_locals(args, node.body), node.body)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node):
        for expr in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(expr)
        self._in_scope(_arguments(node.args), [node.body])

    def _comprehension(self, node):
        first, *rest = node.generators
        self.visit(first.iter)                  # evaluated in the enclosing scope
        targets = set().union(*(_targets(g.target) for g in node.generators))
        parts = [c for c in first.ifs] + [p for g in rest for p in [g.iter, *g.ifs]]
        parts += [getattr(node, p) for p in ("elt", "key", "value") if hasattr(node, p)]
        self._in_scope(targets, parts)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


def _targets(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _used(node) -> set[str]:
    visitor = _Uses()
    visitor.visit(node)
    return visitor.names


def defined_names(source: str) -> set[str]:
    """Global names a cell binds or deletes: assignment targets (augmented, annotated, tuple
    and starred too), for targets, ``with … as``, ``except … as``, imports, def and class
    names, walrus targets and the names of ``global`` statements. Magics are blanked first."""
    return _bound(parse(source))


def used_names(source: str) -> set[str]:
    """Global names a cell reads: ``ast.Name`` loads (the base ``np`` of ``np.mean`` too),
    leaving out the parameters and locals of its functions, lambdas and comprehensions.
    Magics are blanked first."""
    return _used(parse(source))


# ---------------------------------------------------------------------------------------
# What a tagged cell changes besides its own names


def _root(node) -> ast.Name | None:
    """The name an attribute/subscript/call chain starts from: ``os`` of ``os.environ["X"]``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node if isinstance(node, ast.Name) else None


def _plain_chain(node) -> ast.Name | None:
    """The name at the start of ``x``, ``x.a`` or ``x[0].a`` (no calls in between), else None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def _changed_in_place(tree, modules: set[str]) -> set[str]:
    """Names (not modules) whose objects a cell may change without rebinding them: the base
    of an item or attribute assignment (``x[0] = 1``, ``net.fc = …``), of a method call
    (``rng.normal(…)``, ``model.fit(…)``) and every name handed to a call (``init(layers)``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = _plain_chain(node)
        elif isinstance(node, ast.Call):
            base = _plain_chain(node.func.value) if isinstance(node.func, ast.Attribute) else None
            for arg in node.args + [k.value for k in node.keywords]:
                name = _plain_chain(arg)
                if name is not None:
                    names.add(name.id)
        else:
            continue
        if base is not None:
            names.add(base.id)
    return names - modules


def _dotted(node) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return node.id if isinstance(node, ast.Name) else "…"


def _is_setter(name: str) -> bool:
    return name not in SEEDING and (name.startswith("set_") or bool(re.match(r"set[A-Z]", name))
                                    or name in GLOBAL_SETTERS)


def _restored(tree) -> set[str]:
    """Setters a cell calls last with a value it saved from the matching getter:
    ``threads = torch.get_num_threads()`` … ``torch.set_num_threads(threads)``."""
    saved = {}                                  # variable → the getter it was read from
    calls = {}                                  # dotted setter → its calls
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            saved[node.targets[0].id] = _dotted(node.value.func)
        if isinstance(node, ast.Call):
            calls.setdefault(_dotted(node.func), []).append(node)
    restored = set()
    for setter, setter_calls in calls.items():
        head, _, name = setter.rpartition(".")
        getter = f"{head}.{name.replace('set', 'get', 1)}" if head else name.replace("set", "get", 1)
        last = max(setter_calls, key=lambda n: (n.lineno, n.col_offset))
        if len(last.args) == 1 and isinstance(last.args[0], ast.Name) and saved.get(last.args[0].id) == getter:
            restored.add(setter)
    return restored


def _global_changes(tree, modules: set[str]) -> list[str]:
    """What a cell does to global state (a module's attribute or item, a global setting), as
    code; random seeds, ``with`` context managers and restored settings are left out."""
    inside_with = set()
    quiet = set()                               # nodes inside `with warnings.catch_warnings()`
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inside_with.update(id(item.context_expr) for item in node.items)
            if any(_dotted(item.context_expr).endswith("catch_warnings()") for item in node.items):
                quiet.update(id(n) for statement in node.body for n in ast.walk(statement))
    restored = _restored(tree)
    changes = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = _root(node)
            if root is not None and root.id in modules:
                changes.append(f"{ast.unparse(node)} = …")
        elif isinstance(node, ast.Call) and id(node) not in inside_with:
            root = _root(node.func)
            if root is None or root.id not in modules:
                continue
            dotted = _dotted(node.func)
            last = dotted.rsplit(".", 1)[-1]
            on_a_module_attribute = dotted.count(".") >= 2
            if dotted in restored or (id(node) in quiet and dotted.startswith("warnings.")):
                continue
            if _is_setter(last) or (on_a_module_attribute and last in CONTAINER_METHODS):
                changes.append(f"{dotted}(…)")
    return sorted(set(changes))


# ---------------------------------------------------------------------------------------
# The checks


def _read_before_rebinding(statements, live: set[str]) -> set[str]:
    """The names of ``live`` that ``statements`` read, in order, before binding them again.
    ``live`` loses the names the statements bind for certain (not in a branch or a loop
    body, which may not run)."""
    found = set()
    for statement in statements:
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            found |= _used(statement.iter) & live
            found |= _read_before_rebinding(statement.body, live - _bound(statement.target))
            found |= _read_before_rebinding(statement.orelse, set(live))
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                found |= _used(item.context_expr) & live
                live -= _bound(item.optional_vars)
            found |= _read_before_rebinding(statement.body, live)
        elif isinstance(statement, (ast.If, ast.While)):
            found |= _used(statement.test) & live
            found |= _read_before_rebinding(statement.body, set(live))
            found |= _read_before_rebinding(statement.orelse, set(live))
        elif isinstance(statement, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for block in (statement.body, statement.orelse, statement.finalbody):
                found |= _read_before_rebinding(block, set(live))
            for handler in statement.handlers:
                if handler.type is not None:
                    found |= _used(handler.type) & live
                found |= _read_before_rebinding(handler.body, live - {handler.name})
        else:
            found |= _used(statement) & live
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                live.discard(statement.name)
            elif not isinstance(statement, (ast.Global, ast.Nonlocal)) and \
                    not (isinstance(statement, ast.AnnAssign) and statement.value is None):
                live -= _bound(statement)
    return found


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _names(names) -> str:
    return ", ".join(repr(n) for n in sorted(names))


def tag_problems(notebook_path, experiments: dict[str, str] | None = None) -> list[str]:
    """One readable line per reason the notebook's experiment cells could not all be skipped
    without changing a grade (see the module's docstring); [] when they can.

    ``experiments`` (cell id → source hash, from ``experiment_cells`` of the solution) checks
    a submission instead: the cells skipped are those whose id and hash match, whatever
    their tags."""
    path = Path(notebook_path)
    return notebook_problems(nbformat.read(str(path), as_version=4), path.name, experiments)


def notebook_problems(nb, name: str, experiments: dict[str, str] | None = None) -> list[str]:
    """``tag_problems`` of a notebook already read (``name`` labels its lines): what the
    grader asks of the notebook it is about to run before it skips anything."""
    path = Path(name)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    if experiments is None:
        skipped = [is_tagged(c) for c in cells]
    else:
        skipped = [experiments.get(c.get("id")) == source_hash(c.source) for c in cells]
    label = [repr(c.get("id")) if c.get("id") else f"#{i + 1} (code cell without an id)"
             for i, c in enumerate(cells)]

    problems, trees = [], []
    for i, cell in enumerate(cells):
        try:
            trees.append(parse(cell.source))
        except SyntaxError as error:
            trees.append(None)
            if skipped[i] or any(skipped[:i]):
                problems.append(f"{path.name}: cell {label[i]} cannot be parsed ({error.msg}, line {error.lineno})")
    modules = {alias.asname or alias.name.split(".")[0]
               for tree in trees if tree for node in ast.walk(tree)
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    answers = set().union(*(_bound(t) for c, t in zip(cells, trees) if t and _nbgrader(c).get("solution")))
    graded = [i for i, c in enumerate(cells) if _nbgrader(c).get("grade")]

    @functools.cache
    def reads(j: int) -> frozenset[str]:
        """The names cell j reads before it binds them. ``_read_before_rebinding`` treats each
        name on its own (it only intersects with, subtracts or discards fixed names), so its
        answer for any set S is ``reads(j) & S``: computed once per cell, not once per pair."""
        every_name = _targets(trees[j]) | _used(trees[j])
        return frozenset(_read_before_rebinding(trees[j].body, every_name))

    for i, cell in enumerate(cells):
        if not skipped[i]:
            continue
        where = f"{path.name}: experiment cell {label[i]}"
        meta = _nbgrader(cell)
        if meta.get("solution") or meta.get("grade"):
            kind = "an answer (nbgrader solution)" if meta.get("solution") else "a graded test"
            problems.append(f"{where} is {kind} cell: it must always run")
        if not cell.get("id"):
            problems.append(f"{where} has no id: the grading path cannot match it")
        tree = trees[i]
        if tree is None:
            continue
        for change in _global_changes(tree, modules):
            problems.append(f"{where} changes global state that later cells may rely on: {change}")
        defined = _bound(tree)
        if "*" in defined:
            problems.append(f"{where} star-imports: the names it binds are unknown")
        student = _used(tree) & answers
        graded_later = [j for j in graded if j > i]
        if student and graded_later:
            problems.append(f"{where} uses the student's {_names(student)} before graded cell "
                            f"{label[graded_later[0]]}: their code may keep state")
        changed = defined | _changed_in_place(tree, modules)
        for j in range(i + 1, len(cells)):
            if skipped[j] or trees[j] is None:
                continue
            read = reads(j) & changed
            if read:
                verb = "defines or changes" if read - defined else "defines"
                problems.append(f"{where} {verb} {_names(read)}, which later cell {label[j]} reads")
    return problems
