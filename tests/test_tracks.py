"""The PyTorch and Keras tracks through the adapters (COURSE.md §5's track table): every
row graded with every argument, the references pass, the track catalogues fail exactly
their listed aspects, and the framework's own functions are refused."""


import pytest

from initkit import checks
from initkit.checks import from_keras, from_torch
from initkit.mistakes import CORRECT, MISTAKES, reference_track
from verdicts import entry_failures

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import initkit.mistakes.keras_track as keras_catalogue  # noqa: E402
from initkit.mistakes import load_track  # noqa: E402

load_track("torch"), load_track("keras")  # registers every framework entry, notebook 08's included

pytestmark = pytest.mark.frameworks
SMOKE_SEEDS = (0, 1)

TORCH_ROWS = [("xavier_uniform", "xavier_uniform_"), ("xavier_normal", "xavier_normal_"),
              ("kaiming_uniform", "kaiming_uniform_"), ("kaiming_normal", "kaiming_normal_"),
              ("truncated_normal", "trunc_normal_"), ("orthogonal", "orthogonal_")]


_FAILURES: dict = {}


def failing_aspects(entry, seed):
    """{aspect: message} of every aspect ``entry`` fails at ``seed`` (cached: several tests ask)."""
    if (entry.key, seed) not in _FAILURES:
        _FAILURES[entry.key, seed] = entry_failures(entry, seed)
    return _FAILURES[entry.key, seed]


@pytest.mark.parametrize("target, name", TORCH_ROWS)
def test_torch_reference_passes_every_aspect(target, name, capsys):
    check = getattr(checks, f"check_{target}")
    check(from_torch(reference_track("torch", name)), seed=0)
    assert len(capsys.readouterr().out.splitlines()) == len(check.aspects)


def test_keras_variance_scaling_reference_passes_every_aspect(capsys):
    checks.check_variance_scaling(from_keras(reference_track("keras", "VarianceScaling")), seed=0)
    out = capsys.readouterr().out
    assert "get_config round trip" in out and len(out.splitlines()) == len(checks.check_variance_scaling.aspects)


@pytest.mark.parametrize("preset", sorted(keras_catalogue.PRESETS))
def test_keras_presets_pass_with_their_configuration_fixed(preset, capsys):
    fixed = keras_catalogue.PRESETS[preset]
    checks.check_variance_scaling(from_keras(reference_track("keras", preset)), seed=0, fixed=fixed)
    assert "errors (nothing to reject: every argument is fixed by the preset)" in capsys.readouterr().out


def test_a_preset_checked_under_another_presets_configuration_fails():
    he_normal = from_keras(reference_track("keras", "HeNormal"))
    with pytest.raises(AssertionError, match=r"outside the support .* \(1\.414× the target\)"):
        checks.check_variance_scaling(he_normal, aspect="scale", fixed=keras_catalogue.PRESETS["LecunNormal"])


def test_keras_orthogonal_reference_passes_on_two_d_shapes(capsys):
    checks.check_orthogonal(from_keras(reference_track("keras", "Orthogonal")), seed=0)
    assert len(capsys.readouterr().out.splitlines()) == len(checks.check_orthogonal.aspects)


TRACK_CORRECT = sorted(k for k, e in CORRECT.items() if e.track != "numpy")
TRACK_MISTAKES = sorted(k for k, e in MISTAKES.items() if e.track != "numpy")


def test_each_track_has_at_least_eight_catalogued_mistakes():
    for track in ("torch", "keras"):
        assert sum(MISTAKES[k].track == track for k in TRACK_MISTAKES) >= 8, track


@pytest.mark.parametrize("key", TRACK_CORRECT)
@pytest.mark.parametrize("seed", SMOKE_SEEDS)
def test_track_correct_variants_pass(key, seed):
    assert failing_aspects(CORRECT[key], seed) == {}


@pytest.mark.parametrize("key", TRACK_MISTAKES)
@pytest.mark.parametrize("seed", SMOKE_SEEDS)
def test_track_mistakes_fail_exactly_their_listed_aspects(key, seed):
    entry = MISTAKES[key]
    failed = failing_aspects(entry, seed)
    assert set(failed) == set(entry.fails), failed


@pytest.mark.parametrize("key", TRACK_MISTAKES + TRACK_CORRECT)
def test_track_entry_source_pastes_into_a_fresh_namespace(key):
    entry = {**MISTAKES, **CORRECT}[key]
    namespace = {}
    exec("import math\nimport torch\nimport keras\n" + entry.source, namespace)
    assert entry.track_name in namespace


@pytest.mark.parametrize("framework_function", [
    lambda: from_torch(torch.nn.init.xavier_uniform_),
    lambda: from_torch(__import__("functools").partial(torch.nn.init.xavier_uniform_, gain=1.0)),
    lambda: from_torch(__import__("initkit.torch_track").torch_track.xavier_uniform_),
])
def test_framework_and_initkit_functions_are_refused(framework_function):
    with pytest.raises(AssertionError, match="itself — the exercise is to write it yourself"):
        checks.check_xavier_uniform(framework_function(), aspect="interface")


def test_a_class_deriving_from_a_keras_preset_is_refused():
    lazy = type("HeNormal", (keras.initializers.HeNormal,), {})
    with pytest.raises(AssertionError, match=r"keras\..*HeNormal itself"):
        checks.check_variance_scaling(from_keras(lazy), aspect="interface",
                                      fixed=keras_catalogue.PRESETS["HeNormal"])


def test_layout_mismatch_is_a_clear_value_error():
    keras_class = from_keras(reference_track("keras", "VarianceScaling"))
    with pytest.raises(ValueError, match="torch-layout functions; received a keras-layout one"):
        checks.check_xavier_uniform(keras_class)
    with pytest.raises(ValueError, match="keras-layout functions; received a torch-layout one"):
        checks.check_variance_scaling(from_torch(reference_track("torch", "xavier_uniform_")))


def test_fixed_rejects_arguments_the_check_does_not_have():
    with pytest.raises(ValueError, match=r"fixed may hold the arguments 'scale', 'mode', 'distribution'"):
        checks.check_variance_scaling(from_keras(reference_track("keras", "HeNormal")), fixed={"gain": 2.0})


@pytest.mark.parametrize("key", TRACK_MISTAKES)
def test_a_track_diagnosis_names_the_mistake_made_not_another(key):
    entry = MISTAKES[key]
    failures = failing_aspects(entry, 0)
    message = failures[next(a for a in getattr(checks, f"check_{entry.target}").aspects if a in failures)]
    if "Diagnosis:" in message:
        assert message.rstrip(".").endswith(f" — {entry.explanation}".rstrip(".")), message


def test_track_diagnoses_cover_the_distribution_mistakes():
    diagnosed = {k for k in TRACK_MISTAKES if "Diagnosis:" in "".join(failing_aspects(MISTAKES[k], 0).values())}
    expected = {"torch:kaiming_uniform/fans_swapped", "torch:truncated_normal/clamps", "torch:orthogonal/no_sign_fix",
                "keras:variance_scaling/VarianceScaling__no_correction", "keras:variance_scaling/HeNormal__scale_one",
                "keras:variance_scaling/VarianceScaling__untruncated", "keras:orthogonal/Orthogonal__gain_ignored"}
    assert expected <= diagnosed, expected - diagnosed


@pytest.mark.parametrize("seed", (0, 1))
def test_a_torch_answer_with_swapped_fans_is_told_its_fans(seed):
    """The diagnosis names the fans of the shape it speaks of, and the swapped pair the std
    matches — not only the layout."""
    import re

    from initkit.checks._tables import fans

    for aspect, message in failing_aspects(MISTAKES["torch:kaiming_uniform/fans_swapped"], seed).items():
        diagnosis = message.split("Diagnosis: ", 1)[1]
        shape = tuple(int(d) for d in re.search(r"on shape \(([\d, ]+)\)", diagnosis).group(1).split(","))
        fan_in, fan_out = fans(shape)
        assert fan_in != fan_out, (aspect, message)
        assert (f"where fan_in = {fan_in} and fan_out = {fan_out}; your std is what fan_in = {fan_out} and "
                f"fan_out = {fan_in} give — torch weights are (out, in, *kernel): fan_in = tensor.shape[1]·kernel "
                "and fan_out = tensor.shape[0]·kernel") in diagnosis, (aspect, message)


@pytest.mark.parametrize("key", TRACK_CORRECT)
def test_no_diagnosis_for_a_correct_track_implementation(key):
    from initkit.checks._diagnosis import diagnose
    from initkit.checks._engine import Context

    entry = CORRECT[key]
    for aspect in getattr(checks, f"check_{entry.target}").aspects:
        assert diagnose(entry.target, aspect, entry.graded, Context(entry.target, 0, dict(entry.fixed or {}))) == ""


def test_a_keras_draw_that_ignores_its_seed_is_told_to_use_the_seed_not_to_fix_get_config():
    entry = MISTAKES["keras:variance_scaling/HeUniform__seed_ignored"]
    with pytest.raises(AssertionError, match=r"two HeUniform__seed_ignored\(seed=7\) instances give different values.*seed=self\.seed"):
        entry.run_check(aspect="interface")


def test_verdicts_name_the_students_framework_function(capsys):
    checks.check_kaiming_uniform(from_torch(reference_track("torch", "kaiming_uniform_")), aspect="interface")
    checks.check_variance_scaling(from_keras(reference_track("keras", "HeUniform")), aspect="interface",
                                  fixed=keras_catalogue.PRESETS["HeUniform"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ kaiming_uniform_: interface") and lines[1].startswith("✓ HeUniform (variance_scaling): interface")
    entry = MISTAKES["torch:kaiming_uniform/fans_swapped"]
    namespace = {}
    exec("import math\nimport torch\n" + entry.source, namespace)  # as pasted into the notebook
    with pytest.raises(AssertionError, match=r"^kaiming_uniform_ — scale: "):
        checks.check_kaiming_uniform(from_torch(namespace["kaiming_uniform_"]), aspect="scale")
