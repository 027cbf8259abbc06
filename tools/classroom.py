"""A simulated class graded by real nbgrader, in a temporary course root (COURSE.md §7).

    root = CourseRoot.create(tmp_path, ["00-setup"])   # generate_assignment from solutions/
    root.submit("alice", "00-setup", answers={"00-sample_variance": "def sample_variance(x): ..."})
    root.autograde("00-setup")
    root.grades()  # {("alice", "00-setup"): score, ...} from nbgrader export's grades.csv

A submission is the released student notebook with the source of chosen solution cells
(keyed by grade_id) replaced — the solution itself, a blank, or a catalogued mistake's
``entry.source`` — so it loses exactly the points of the cells those answers fail.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools.course import without_solution_markers  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parent.parent


#: One simulated class per notebook 01–08, student → {answer cell: "solution" | catalogue key}:
#: mistakes in independent exercises are combined so each assignment needs few autograde runs
#: (tests/test_pipeline.py grades them; tools/same_grades.py grades them on both paths).
SIMULATED_CLASSES = {
    "01-variance": {
        "solver": {"01-var_of_product": "solution", "01-relu_moments": "solution",
                   "01-preactivation_variance": "solution"},
        "blank": {},
        "no-mean-terms": {"01-var_of_product": "var_of_product/product_of_variances",
                          "01-relu_moments": "relu_moments/relu_half_always",
                          "01-preactivation_variance": "preactivation_variance/pv_variance_not_second_moment"},
        "density-unchecked-sum": {"01-var_of_product": "solution",
                                  "01-relu_moments": "relu_moments/relu_std_unchecked",
                                  "01-preactivation_variance": "preactivation_variance/pv_sum_forgotten"},
    },
    "02-signal-propagation": {
        "solver": {"02-predict_std": "solution"},
        "blank": {},
        "relu-no-half": {"02-predict_std": "predict_std/ps_relu_no_half"},
        "tanh-as-identity": {"02-predict_std": "predict_std/ps_tanh_as_identity"},
    },
    "03-xavier": {
        "solver": {"03-compute_fans": "solution", "03-xavier_uniform": "solution", "03-xavier_normal": "solution"},
        "blank": {},
        "swapped-bound-prettytensor": {"03-compute_fans": "compute_fans/fans_swapped",
                                       "03-xavier_uniform": "xavier_uniform/std_as_bound",
                                       "03-xavier_normal": "xavier_normal/xn_prettytensor"},
        "layout-globalrng-variance": {"03-compute_fans": "compute_fans/keras_layout_ignored",
                                      "03-xavier_uniform": "xavier_uniform/xu_global_rng",
                                      "03-xavier_normal": "xavier_normal/xn_variance_as_std"},
        # the solution's Xavier calls this student's compute_fans: its knock-on cells are lost too
        "kernel-forgotten": {"03-compute_fans": "compute_fans/receptive_field_ignored",
                             "03-xavier_uniform": "solution", "03-xavier_normal": "solution"},
    },
    "04-kaiming": {
        "solver": {"04-kaiming_uniform": "solution", "04-kaiming_normal": "solution",
                   "04-kaiming_uniform_": "solution", "04-HeUniform": "solution"},
        "blank": {},
        "fans-uniform-seeded-globalseed": {"04-kaiming_uniform": "kaiming_uniform/ku_fans_swapped",
                                           "04-kaiming_normal": "kaiming_normal/kn_uniform",
                                           "04-kaiming_uniform_": "torch:kaiming_uniform/seeds_inside",
                                           "04-HeUniform": "keras:variance_scaling/HeUniform__seed_ignored"},
        "unchecked-nogain-swapped-torchlayout": {"04-kaiming_uniform": "kaiming_uniform/ku_mode_unchecked",
                                                 "04-kaiming_normal": "kaiming_normal/kn_no_gain",
                                                 "04-kaiming_uniform_": "torch:kaiming_uniform/fans_swapped",
                                                 "04-HeUniform": "keras:variance_scaling/HeUniform__torch_layout"},
        # issue 17: only the unseeded path (no generator, as nn.Linear calls it) shows these two
        "private-default-generator": {"04-kaiming_uniform": "solution", "04-kaiming_normal": "solution",
                                      "04-kaiming_uniform_": "torch:kaiming_uniform/private_seeded_default",
                                      "04-HeUniform": "solution"},
        "crashes-without-generator": {"04-kaiming_uniform": "solution", "04-kaiming_normal": "solution",
                                      "04-kaiming_uniform_": "torch:kaiming_uniform/crashes_without_generator",
                                      "04-HeUniform": "solution"},
    },
    "05-gain": {
        "solver": {"05-calculate_gain": "solution"},
        "blank": {},
        "tanh-empirical": {"05-calculate_gain": "calculate_gain/tanh_empirical"},
        "bool-slope": {"05-calculate_gain": "calculate_gain/bool_slope"},
    },
    "06-initializer-zoo": {
        "solver": {"06-truncated_normal": "solution", "06-variance_scaling": "solution", "06-orthogonal": "solution"},
        "blank": {},
        "clip-uncorrected-signless": {"06-truncated_normal": "truncated_normal/tn_clip",
                                      "06-variance_scaling": "variance_scaling/vs_no_correction",
                                      "06-orthogonal": "orthogonal/orth_no_sign_fix"},
        "mean-layout-gain": {"06-truncated_normal": "truncated_normal/tn_mean_ignored",
                             "06-variance_scaling": "variance_scaling/vs_torch_layout",
                             "06-orthogonal": "orthogonal/orth_gain_ignored"},
    },
    "07-batchnorm": {
        "solver": {"07-batch_norm": "solution"},
        "blank": {},
        "unbiased": {"07-batch_norm": "batch_norm/bn_unbiased"},
        "nchw-batch-only": {"07-batch_norm": "batch_norm/bn_nchw_batch_only"},
    },
    "08-whole-models": {
        "solver": {"08-init_weights_torch": "solution", "08-init_weights_keras": "solution"},
        "blank": {},
        "seed-loop-same-seed": {"08-init_weights_torch": "torch:init_weights_torch/seed_loop_without_linear",
                                "08-init_weights_keras": "keras:init_weights_keras/same_seed_every_layer"},
        "fan-in-uniform": {"08-init_weights_torch": "torch:init_weights_torch/conv_fan_in",
                           "08-init_weights_keras": "keras:init_weights_keras/glorot_uniform_dense"},
        "reseeds-attributes-on-built": {"08-init_weights_torch": "torch:init_weights_torch/reseeds_inside",
                                        "08-init_weights_keras": "keras:init_weights_keras/sets_initializer_attributes"},
    },
}


def catalogue_answers(student: dict) -> dict:
    """{answer cell: "solution" | catalogue key} → {answer cell: "solution" | catalogue entry},
    the form ``CourseRoot.submit_entries`` and ``expected_scores`` take (framework-track keys,
    "torch:…" / "keras:…", load their track first)."""
    from initkit.mistakes import MISTAKES, load_track

    if any(key.startswith(("torch:", "keras:")) for key in student.values()):
        load_track("torch"), load_track("keras")
    return {answer: "solution" if key == "solution" else MISTAKES[key] for answer, key in student.items()}


@dataclass
class CourseRoot:
    path: Path

    @classmethod
    def create(cls, tmp_path: Path, assignments: list[str]) -> CourseRoot:
        root = tmp_path / "course-root"
        (root / "solutions").mkdir(parents=True)
        shutil.copy(REPO / "nbgrader_config.py", root)
        for name in assignments:
            shutil.copytree(REPO / "solutions" / name, root / "solutions" / name)
        course = cls(root)
        for name in assignments:
            course.nbgrader("generate_assignment", name, "--force")
        return course

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        done = subprocess.run([sys.executable, "-m", "initgrader.nbgrader_main", *args], cwd=self.path, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done

    def released(self, assignment: str) -> list[Path]:
        return sorted((self.path / "course" / assignment).glob("*.ipynb"))

    def solution_cells(self, assignment: str) -> list:
        """The cells of the assignment's solution notebooks, in order."""
        return [cell for path in sorted((self.path / "solutions" / assignment).glob("*.ipynb"))
                for cell in nbformat.read(path, as_version=4).cells]

    def solution_answer(self, assignment: str, grade_id: str) -> str:
        """The instructor's solution cell as a student would submit it (markers removed)."""
        for cell in self.solution_cells(assignment):
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return without_solution_markers(cell.source) + "\n"
        raise KeyError(f"no cell {grade_id!r} in solutions/{assignment}")

    def answer_ids(self, assignment: str) -> list[str]:
        """grade_ids of the solution (answer) cells, in notebook order."""
        return [cell.metadata["nbgrader"]["grade_id"] for cell in self.solution_cells(assignment)
                if cell.metadata.get("nbgrader", {}).get("solution")]

    def graded_points(self, assignment: str) -> dict[str, float]:
        """grade_id → points of every graded test cell in the solution notebooks."""
        return {cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
                for cell in self.solution_cells(assignment) if cell.metadata.get("nbgrader", {}).get("grade")}

    def expected_scores(self, assignment: str, answers: dict) -> dict[str, float]:
        """What a submission must score per graded cell (COURSE.md §7): answers maps an answer
        cell's grade_id (``03-xavier_uniform``) to ``"solution"`` or a catalogue Entry; cells
        of unanswered exercises score 0; a mistake zeroes its own aspects' cells and the cells
        of its ``knock_on`` (later functions of the notebook that call it)."""
        prefix = assignment.split("-")[0]
        lost = set()
        for answer, given in answers.items():
            if given == "solution":
                continue
            lost |= {f"{answer}-{aspect}" for aspect in given.fails}
            for target, aspects in (given.knock_on or {}).items():
                lost |= {f"{prefix}-{target}-{aspect}" for aspect in aspects}
        return {grade_id: 0.0 if grade_id in lost or grade_id.rsplit("-", 1)[0] not in answers else points
                for grade_id, points in self.graded_points(assignment).items()}

    def submit_class(self, assignment: str, students: dict[str, dict]) -> dict[str, dict[str, float]]:
        """Submit each student of ``students`` (name → {answer cell: "solution" | catalogue
        key}, as ``catalogue_answers`` takes); return name → ``expected_scores``."""
        expected = {}
        for name, spec in students.items():
            answers = catalogue_answers(spec)
            self.submit_entries(name, assignment, answers)
            expected[name] = self.expected_scores(assignment, answers)
        return expected

    def submit_entries(self, student: str, assignment: str, answers: dict) -> None:
        """``submit`` with answers given as ``"solution"`` or catalogue entries (their source)."""
        self.submit(student, assignment, {
            answer: self.solution_answer(assignment, answer) if given == "solution" else given.source
            for answer, given in answers.items()})

    def submit(self, student: str, assignment: str, answers: dict[str, str]) -> None:
        """Copy the released notebooks to submitted/<student>/<assignment>/ with the solution
        cells named in ``answers`` (grade_id → source) replaced; the others stay blank."""
        target = self.path / "submitted" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        unused = set(answers)
        for path in self.released(assignment):
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell.source = answers[grade_id]
                    unused.discard(grade_id)
            nbformat.write(nb, target / path.name)
        if unused:
            raise KeyError(f"no solution cells {sorted(unused)} in course/{assignment}")

    def autograde(self, assignment: str) -> None:
        self.nbgrader("autograde", assignment, "--force")

    def grades(self) -> dict[tuple[str, str], float]:
        self.nbgrader("export", "--to", str(self.path / "grades.csv"))
        with open(self.path / "grades.csv", newline="") as f:
            return {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(f)}

    def autograded_cells(self, student: str, assignment: str) -> list:
        """The code cells of a student's autograded notebooks, with their outputs."""
        folder = self.path / "autograded" / student / assignment
        return [cell for path in sorted(folder.glob("*.ipynb"))
                for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]

    def cell_scores(self, student: str, assignment: str) -> dict[str, float]:
        """grade_id → points awarded, read from the autograded notebooks' gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.path / 'gradebook.db'}") as gb:
            submission = gb.find_submission(assignment, student)
            return {grade.name: grade.score for nb in submission.notebooks for grade in nb.grades}
