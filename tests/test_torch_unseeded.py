"""The PyTorch track's unseeded path (issue 17, item 5): the rng aspect also calls the
student's function as torch.nn.init's users do — no generator, after torch.manual_seed — and
check_init_weights_torch's distribution aspect insists that torch's global generator decides
the draw (``initkit/checks/_torch_rng.py``).

Here in-process; ``tests/test_contract_wire.py`` runs the same probes through the grader's
proxy and kernel server."""

from __future__ import annotations

import pytest

from initkit import checks
from initkit.checks import _engine, _torch_rng, from_torch
from initkit.mistakes import CORRECT, MISTAKES, load_track, reference_model, reference_track
from verdicts import entry_failures

torch = pytest.importorskip("torch")
load_track("torch")

pytestmark = pytest.mark.frameworks

TORCH_ENTRIES = sorted(k for k, e in {**MISTAKES, **CORRECT}.items() if e.track == "torch" and not e.whole_model)
UNSEEDED_MISTAKES = {  # the mistakes only the unseeded path shows, and what their message says
    "torch:kaiming_uniform/private_seeded_default": "without a generator returned identical values",
    "torch:xavier_uniform/fresh_unseeded_generator": "an unseeded torch.Generator(), which always starts alike",
    "torch:kaiming_uniform/crashes_without_generator": "— no generator — raised AttributeError",
    "torch:xavier_normal/generator_made_once": "did not reproduce its values",
    "torch:kaiming_normal/reseeds_when_unseeded": "your function reseeds it (torch.manual_seed inside?)",
}
GLOBAL_RNG_MISTAKES = {
    "torch:init_weights_torch/reseeds_inside": "your function reseeds it (torch.manual_seed inside init_weights_torch?)",
    "torch:init_weights_torch/private_fixed_generator": "your function draws from a generator of its own",
    "torch:init_weights_torch/generator_made_once": "did not give the same weights",
}
INIT_WEIGHTS_ENTRIES = sorted(k for k, e in {**MISTAKES, **CORRECT}.items() if e.target == "init_weights_torch")


def rng_fails(entry, seed: int) -> bool:
    return "rng" in entry_failures(entry, seed, only=("rng",))


@pytest.mark.parametrize("key", sorted(UNSEEDED_MISTAKES))
def test_an_unseeded_path_mistake_fails_rng_saying_what_happened(key):
    message = entry_failures(MISTAKES[key], 0, only=("rng",))["rng"]
    assert UNSEEDED_MISTAKES[key] in message, message
    assert "requires_grad=True" in message  # the call as the check made it


@pytest.mark.parametrize("key", sorted(UNSEEDED_MISTAKES))
def test_without_the_probe_the_unseeded_mistakes_would_pass(key, monkeypatch):
    """The test can fail: the probe is what catches them (they pass every other rng sub-test)."""
    monkeypatch.setattr(_torch_rng, "assert_unseeded_path", lambda *args: "skipped")
    assert not rng_fails(MISTAKES[key], 0)


@pytest.mark.parametrize("key", sorted(GLOBAL_RNG_MISTAKES))
def test_init_weights_off_the_global_generator_fails_distribution_clearly(key):
    message = entry_failures(MISTAKES[key], 0, only=("distribution",))["distribution"]
    assert GLOBAL_RNG_MISTAKES[key] in message, message


def test_the_probes_leave_torch_global_generator_as_they_found_it():
    torch.manual_seed(3)
    state = torch.get_rng_state()
    checks.check_kaiming_uniform(from_torch(reference_track("torch", "kaiming_uniform_")), aspect="rng")
    checks.check_init_weights_torch(reference_model("init_weights_torch"), aspect="distribution")
    assert torch.equal(torch.get_rng_state(), state)


def test_the_rng_aspect_says_it_tried_the_unseeded_path(capsys):
    checks.check_xavier_uniform(from_torch(reference_track("torch", "xavier_uniform_")), aspect="rng")
    assert "without a generator: torch.manual_seed reproduces, calls in a row differ" in capsys.readouterr().out


def test_a_function_that_leaves_the_tensor_unfilled_without_a_generator_is_told_so():
    def xavier_uniform_(tensor, gain=1.0, generator=None):
        if generator is None:
            return tensor
        with torch.no_grad():
            return tensor.uniform_(-0.5, 0.5, generator=generator)

    with pytest.raises(AssertionError, match="left 12 of the tensor's values unfilled"):
        checks.check_xavier_uniform(from_torch(xavier_uniform_), aspect="rng")


# --- seeds 0–99 ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("key", TORCH_ENTRIES)
def test_torch_rng_verdicts_hold_at_seeds_0_to_99(key):
    entry = {**MISTAKES, **CORRECT}[key]
    expected = "rng" in entry.fails
    wrong = [seed for seed in range(100) if rng_fails(entry, seed) != expected]
    assert not wrong, wrong


@pytest.mark.slow
@pytest.mark.parametrize("key", INIT_WEIGHTS_ENTRIES)
def test_init_weights_global_rng_probe_holds_at_seeds_0_to_99(key):
    """The probe itself (exact comparisons, no α) at seeds 0–99: it fails exactly the entries
    that draw off torch's global generator (the rest of the distribution aspect is calibrated
    by tools/calibrate.py)."""
    entry = {**MISTAKES, **CORRECT}[key]
    expected = key in GLOBAL_RNG_MISTAKES
    wrong = []
    for seed in range(100):
        try:
            _torch_rng.assert_init_weights_global_rng(entry.fn, _engine.Context("init_weights_torch", seed, {}))
            failed = False
        except _engine.CheckFailed:
            failed = True
        if failed != expected:
            wrong.append(seed)
    assert not wrong, wrong


TORCH_ROWS = [("xavier_uniform", "xavier_uniform_"), ("xavier_normal", "xavier_normal_"),
              ("kaiming_uniform", "kaiming_uniform_"), ("kaiming_normal", "kaiming_normal_"),
              ("truncated_normal", "trunc_normal_"), ("orthogonal", "orthogonal_")]


@pytest.mark.slow
@pytest.mark.parametrize("target, name", TORCH_ROWS)
def test_initkit_torch_track_passes_rng_at_seeds_0_to_99(target, name):
    fn, check = from_torch(reference_track("torch", name)), getattr(checks, f"check_{target}")
    failed = [seed for seed in range(100) if "rng" in entry_failures_of(check, fn, seed)]
    assert not failed, failed


def entry_failures_of(check, fn, seed):
    from verdicts import failing_aspects

    return failing_aspects(check, fn, seed, only=("rng",))


def test_a_torch_track_function_without_the_unseeded_probe_fails_the_rng_aspect_instead_of_skipping_it():
    """The probe is never skipped quietly: a torch-track object that cannot be called without
    a generator (neither from_torch's adapter nor the grader's stand-in) fails, and says why."""
    import numpy as np

    from initkit import checks
    from initkit.mistakes import CORRECT

    (entry,) = [e for e in CORRECT.values() if e.track == "torch" and e.target == "kaiming_uniform"][:1]
    adapted = entry.graded  # from_torch(a correct student function)

    def no_probe(shape, *args, rng=None, **kwargs):
        return adapted(shape, *args, rng=rng, **kwargs)

    no_probe.track, no_probe.layout, no_probe.__name__ = "torch", "torch", "kaiming_uniform_"
    with pytest.raises(AssertionError, match="cannot be called without a generator here"):
        checks.check_kaiming_uniform(no_probe, aspect="rng", seed=0)
    checks.check_kaiming_uniform(adapted, aspect="rng", seed=0)  # the adapter itself passes
    assert np.isfinite(adapted((4, 3), rng=np.random.default_rng(0))).all()
