"""The whole-model checks of notebook 08, beyond what test_tracks runs for every catalogue
entry (correct variants pass, mistakes fail exactly their aspects, sources paste): initkit's
references pass, a blank fails every aspect, library functions are refused, the verdicts
explain the pattern of what was missed, and the check leaves torch's global RNG as it was."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import torch  # noqa: E402

from initkit import checks  # noqa: E402
from initkit.mistakes import MISTAKES, load_track, reference_model  # noqa: E402
from verdicts import entry_failures, failing_aspects  # noqa: E402

pytestmark = pytest.mark.frameworks
load_track("torch"), load_track("keras")


torch_reference, keras_reference = reference_model("init_weights_torch"), reference_model("init_weights_keras")
CASES = [(checks.check_init_weights_torch, torch_reference), (checks.check_init_weights_keras, keras_reference)]


@pytest.mark.parametrize("check, reference", CASES, ids=["torch", "keras"])
@pytest.mark.parametrize("seed", (0, 1, 2))
def test_initkit_reference_passes_every_aspect(check, reference, seed, capsys):
    check(reference, seed=seed)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[1].split()[0] for line in lines] == ["coverage", "scale", "distribution"]


@pytest.mark.parametrize("check, reference", CASES, ids=["torch", "keras"])
def test_a_blank_exercise_fails_every_aspect_as_not_implemented(check, reference):
    name = check.__name__.removeprefix("check_")
    namespace = {}
    exec(f"def {name}(*args):\n    raise NotImplementedError()", namespace)
    failed = failing_aspects(check, namespace[name])
    assert set(failed) == set(check.aspects)
    assert all(f"{name} is not implemented yet" in message for message in failed.values())


def test_the_library_function_itself_is_refused():
    from initkit.torch_track import init_weights_torch

    with pytest.raises(AssertionError, match="itself — the exercise is to write it yourself"):
        checks.check_init_weights_torch(init_weights_torch, aspect="coverage")


def test_an_exception_in_the_student_function_names_the_model_not_its_repr():
    def init_weights_torch(model):
        raise TypeError("'Parameter' object is not callable")

    with pytest.raises(AssertionError) as failure:
        checks.check_init_weights_torch(init_weights_torch, aspect="coverage")
    message = str(failure.value)
    assert "init_weights_torch(<the conv net>) raised TypeError: 'Parameter' object is not callable" in message
    assert "Conv2d(3" not in message  # not the model's many-line repr


@pytest.mark.parametrize("key, hint", [
    ("torch:init_weights_torch/seed_loop_without_linear", "No Linear layer was set"),
    ("torch:init_weights_torch/children_only", "model.children() (and `for m in model`) visit direct children only"),
    ("torch:init_weights_torch/batchnorm2d_only", "nn.BatchNorm1d is a BatchNorm layer too"),
    ("torch:init_weights_torch/biases_untouched", "Biases must be 0"),
    ("torch:init_weights_torch/conv_fan_in", "Your variance matches mode='fan_in'"),
    ("torch:init_weights_torch/kaiming_for_linear", "Your variance matches He/Kaiming (2/fan_in)"),
    ("torch:init_weights_torch/private_fixed_generator", "your function draws from a generator of its own"),
    ("torch:init_weights_torch/reseeds_inside", "your function reseeds it (torch.manual_seed inside init_weights_torch?)"),
    ("torch:init_weights_torch/generator_made_once", "did not give the same weights"),
    ("keras:init_weights_keras/sets_initializer_attributes",
     "but the model is already built: a Keras layer uses its initializers once"),
    ("keras:init_weights_keras/same_seed_every_layer", "received identical kernels — every layer needs its own seed"),
    ("keras:init_weights_keras/seed_ignored", "two calls with the same seed gave different weights"),
    ("keras:init_weights_keras/conv_he_normal_fan_in", "Your variance matches mode='fan_in'"),
])
def test_the_first_failing_cell_explains_the_mistake(key, hint):
    entry = MISTAKES[key]
    failures = entry_failures(entry, 0, first=True)
    assert hint in next(iter(failures.values()))


def test_a_hint_is_not_given_where_it_does_not_apply():
    message = entry_failures(MISTAKES["torch:init_weights_torch/batchnorm2d_only"], 0)["coverage"]
    assert "No Linear layer" not in message and "children" not in message and "Biases" not in message


def test_initializers_set_on_a_built_model_are_not_told_to_add_a_dense_branch():
    """Issue 17: it has a Dense branch — the layers were built already, so the attribute changes nothing."""
    message = entry_failures(MISTAKES["keras:init_weights_keras/sets_initializer_attributes"], 0)["coverage"]
    assert "No Dense layer was set" not in message and "add a branch" not in message
    assert "setting the attribute afterwards changes nothing" in message and "layer.kernel.assign(" in message


def test_a_missing_dense_branch_is_still_told_to_add_one():
    import keras

    def init_weights_keras(model, seed):
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.gamma.assign(keras.ops.ones(layer.gamma.shape))
                layer.beta.assign(keras.ops.zeros(layer.beta.shape))

    message = failing_aspects(checks.check_init_weights_keras, init_weights_keras, 0, only=("coverage",))["coverage"]
    assert "No Dense layer was set" in message and "already built" not in message


def test_the_check_leaves_torch_global_generator_as_it_found_it():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    checks.check_init_weights_torch(torch_reference, aspect="scale")
    assert torch.equal(torch.get_rng_state(), state)
