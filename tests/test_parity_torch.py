"""Distribution parity of the NumPy track and ``initkit.torch_track`` with ``torch.nn.init``.

For each initializer, argument set and shape we draw 10^5+ values three ways — torch's own
function, our NumPy function and our torch-track function (independent seeds) — and check:

- two-sample KS of each of ours against torch's, on the RAW values (a scale error shows);
- mean and variance of all three against the *formula* (so torch itself is checked against
  the formula we teach, and a shared mistake cannot hide);
- exact support of bounded laws (uniform bound, truncation limits) and extremes that reach
  near the bounds.

Thresholds: ``tests/stats_helpers.py`` (false-alarm rate ≤ 1e-6 per test, split across the
sub-checks of the test). The fans and gains in the formulas come from torch's own helpers.
"""

from __future__ import annotations

import math
import os
import warnings
import zlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
torch = pytest.importorskip("torch")

import initkit  # noqa: E402
from initkit import torch_track as tt  # noqa: E402
from stats_helpers import (  # noqa: E402
    ALPHA,
    assert_matches_cdf,
    assert_moments,
    assert_same_distribution,
    assert_support,
    normal_law,
    truncnorm_law,
    uniform_law,
)

pytestmark = pytest.mark.frameworks



# torch layout (out, in, *k), each with ≥ 10^5 entries and fan_in ≠ fan_out
SHAPES = {
    "dense250x400": (250, 400),      # fan_in 400,  fan_out 250
    "conv2d128x32x5x5": (128, 32, 5, 5),  # fan_in 800,  fan_out 3200
    "conv1d40x50x50": (40, 50, 50),  # fan_in 2500, fan_out 2000
}
SHAPE_IDS = list(SHAPES)


def seed_for(*parts) -> int:
    """A fixed seed per test and role, so parametrized tests use independent streams."""
    return zlib.crc32(repr(parts).encode())


def torch_fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def draw_torch(fn, shape, seed, *args, **kwargs) -> np.ndarray:
    """torch.nn.init's ``fn`` on a fresh float32 tensor with its own generator."""
    t = torch.empty(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trunc_normal_'s "mean is more than 2 std" warning
        fn(t, *args, generator=torch.Generator().manual_seed(seed), **kwargs)
    return t.numpy().astype(np.float64)


def draw_numpy(fn, shape, seed, *args, **kwargs) -> np.ndarray:
    x = fn(shape, *args, rng=np.random.default_rng(seed), **kwargs)
    assert isinstance(x, np.ndarray) and x.shape == tuple(shape), (type(x), getattr(x, "shape", None))
    assert np.issubdtype(x.dtype, np.floating)
    return x.astype(np.float64)


def draw_track(fn_, shape, seed, *args, **kwargs) -> np.ndarray:
    t = torch.empty(shape)
    out = fn_(t, *args, generator=torch.Generator().manual_seed(seed), **kwargs)
    assert out is t, "torch-track functions fill in place and return the same tensor"
    return t.numpy().astype(np.float64)


def check_three(law, ref, ours_np, ours_tt, label, bounded):
    """KS of both of ours vs torch; moments of all three; support if bounded."""
    k = 2 + 3 + (3 if bounded else 0)
    a = ALPHA / k
    assert_same_distribution(ours_np, ref, a, f"{label}: NumPy track vs torch")
    assert_same_distribution(ours_tt, ref, a, f"{label}: torch track vs torch")
    for name, x in (("torch", ref), ("NumPy track", ours_np), ("torch track", ours_tt)):
        assert_moments(x, law, a, f"{label}: {name}")
    if bounded:
        assert_support(ref, law, a, f"{label}: torch", float32=True)
        assert_support(ours_np, law, a, f"{label}: NumPy track", float32=False)
        assert_support(ours_tt, law, a, f"{label}: torch track", float32=True)


# ---------------------------------------------------------------- Xavier

def compare_family(family: str, dist: str, shape, std: float, seed: int, **kw) -> None:
    """torch.nn.init's ``<family>_<dist>_``, initkit's NumPy and PyTorch-track versions, drawn
    with the same arguments, all against U(±√3·std) or N(0, std²)."""
    law = uniform_law(math.sqrt(3.0) * std) if dist == "uniform" else normal_law(std)
    ref = draw_torch(getattr(torch.nn.init, f"{family}_{dist}_"), shape, seed, **kw)
    x_np = draw_numpy(getattr(initkit, f"{family}_{dist}"), shape, seed + 1, **kw)
    x_tt = draw_track(getattr(tt, f"{family}_{dist}_"), shape, seed + 2, **kw)
    check_three(law, ref, x_np, x_tt, f"{family}_{dist} {shape} {kw}", dist == "uniform")


XAVIER_GAINS = [1.0, 5.0 / 3.0, 0.25]


@pytest.mark.parametrize("gain", XAVIER_GAINS, ids=["gain1", "gain5/3", "gain0.25"])
@pytest.mark.parametrize("shape_id", SHAPE_IDS)
@pytest.mark.parametrize("dist", ["uniform", "normal"])
def test_xavier(dist, shape_id, gain):
    shape = SHAPES[shape_id]
    fan_in, fan_out = torch_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    compare_family("xavier", dist, shape, std, seed_for("xavier", dist, shape_id, gain), gain=gain)


# ---------------------------------------------------------------- Kaiming

KAIMING_CASES = [
    # (a, mode, nonlinearity)
    (0.0, "fan_in", "leaky_relu"),   # the defaults: gain √2
    (0.0, "fan_out", "relu"),
    (0.2, "fan_out", "leaky_relu"),
    (1, "fan_in", "leaky_relu"),     # int slope 1: gain 1
    (3.0, "fan_out", "leaky_relu"),  # slope 3: gain √(1/5)
    (math.sqrt(5.0), "fan_in", "leaky_relu"),  # torch's Linear default
    (0.0, "fan_in", "tanh"),
    (0.5, "fan_out", "selu"),        # a ignored
    (0.0, "fan_in", "linear"),
    (0.0, "fan_out", "sigmoid"),
]
KAIMING_IDS = [f"{nl}-a{a}-{mode}" for a, mode, nl in KAIMING_CASES]


@pytest.mark.parametrize("case", KAIMING_CASES, ids=KAIMING_IDS)
@pytest.mark.parametrize("shape_id", ["dense250x400", "conv2d128x32x5x5"])
@pytest.mark.parametrize("dist", ["uniform", "normal"])
def test_kaiming(dist, shape_id, case):
    a, mode, nonlinearity = case
    shape = SHAPES[shape_id]
    fan_in, fan_out = torch_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    compare_family("kaiming", dist, shape, std, seed_for("kaiming", dist, shape_id, case),
                   a=a, mode=mode, nonlinearity=nonlinearity)


def test_kaiming_positional_arguments():
    """The contract's argument order (shape/tensor, a, mode, nonlinearity) as torch's."""
    shape = SHAPES["dense250x400"]
    s = seed_for("kaiming-positional")
    ref = draw_torch(torch.nn.init.kaiming_uniform_, shape, s, 3, "fan_out", "leaky_relu")
    x_np = draw_numpy(initkit.kaiming_uniform, shape, s + 1, 3, "fan_out", "leaky_relu")
    x_tt = draw_track(tt.kaiming_uniform_, shape, s + 2, 3, "fan_out", "leaky_relu")
    law = uniform_law(math.sqrt(3.0) * math.sqrt(2.0 / 10.0) / math.sqrt(250))
    check_three(law, ref, x_np, x_tt, "kaiming_uniform positional (3, fan_out, leaky_relu)", True)


# ---------------------------------------------------------------- truncated normal

TRUNC_CASES = [
    # (mean, std, a, b): absolute bounds, as torch.nn.init.trunc_normal_
    (0.0, 1.0, -2.0, 2.0),      # the defaults
    (0.5, 2.0, -1.0, 3.0),      # asymmetric, non-zero mean
    (-1.0, 0.5, -1.5, 0.0),
    (2.0, 1.0, 0.0, 10.0),      # effectively one-sided
    (0.3, 1.0, 1.0, 2.5),       # interval right of the mean (torch's p ≤ 0.3 path)
    (0.0, 1.0, -0.1, 0.1),      # narrow (p ≈ 0.08)
    (0.0, 0.02, -0.04, 0.04),   # the ViT-style std
    (-1.0, 0.5, 0.1, 0.4),      # in the tail (torch warns: mean > 2 std from [a, b])
]
TRUNC_IDS = [f"m{m}-s{s}-[{a},{b}]" for m, s, a, b in TRUNC_CASES]


@pytest.mark.parametrize("case", TRUNC_CASES, ids=TRUNC_IDS)
def test_trunc_normal(case):
    mean, std, a, b = case
    shape = SHAPES["dense250x400"]
    law = truncnorm_law(mean, std, a, b)
    kw = dict(mean=mean, std=std, a=a, b=b)
    s = seed_for("trunc", case)
    ref = draw_torch(torch.nn.init.trunc_normal_, shape, s, **kw)
    x_np = draw_numpy(initkit.truncated_normal, shape, s + 1, **kw)
    x_tt = draw_track(tt.trunc_normal_, shape, s + 2, **kw)
    check_three(law, ref, x_np, x_tt, f"trunc_normal {kw}", True)


NARROW = [(0.3, 0.7, -0.1, -0.1 + 1e-12), (0.25, 1.02, -0.3, -0.3 + 1e-12), (-1.3, 0.69, 0.45, 0.45 + 1e-12),
          (0.6, 0.35, -0.29, -0.29 + 1e-14), (-0.78, 0.6, 0.01, 0.01 + 1e-14), (-0.42, 0.41, 0.22, 0.22 + 1e-14)]


@pytest.mark.parametrize("case", NARROW, ids=[f"m{m}-s{sd}-[{a},+{b - a:.0e}]" for m, sd, a, b in NARROW])
def test_truncated_normal_exact_bounds_on_tiny_intervals(case):
    """Truncation limits are respected *exactly*, even when the interval is a few ulps wide
    (the sampler's last rounding, mean + std·z, must not step outside [a, b]). torch's
    rejection sampler guarantees it in the tensor's dtype."""
    mean, std, a, b = case
    n = 100_000
    ref = draw_torch(torch.nn.init.trunc_normal_, (n,), 1, mean=mean, std=std, a=a, b=b)
    x_np = draw_numpy(initkit.truncated_normal, (n,), 2, mean=mean, std=std, a=a, b=b)
    x_tt = draw_track(tt.trunc_normal_, (n,), 3, mean=mean, std=std, a=a, b=b)
    problems = []
    for name, x, lo, hi in (("torch", ref, np.float32(a), np.float32(b)),
                            ("NumPy track", x_np, a, b),  # float64: the bounds themselves
                            ("torch track", x_tt, np.float32(a), np.float32(b))):
        if not (x.min() >= lo and x.max() <= hi):
            problems.append(f"{name}: {(x < lo).sum()} values below a = {lo!r} (min {x.min()!r}), "
                            f"{(x > hi).sum()} above b = {hi!r} (max {x.max()!r})")
    assert not problems, "; ".join(problems)


# ---------------------------------------------------------------- torch's default layer init


def _pool_layers(make, count, reinit=None):
    """Weights and biases of ``count`` layers; reinit(layer) re-initializes with ours."""
    ws, bs = [], []
    for _ in range(count):
        layer = make()
        if reinit is not None:
            reinit(layer)
        ws.append(layer.weight.detach().numpy().ravel())
        bs.append(layer.bias.detach().numpy().ravel())
    return np.concatenate(ws).astype(np.float64), np.concatenate(bs).astype(np.float64)


# (factory, count): count × bias size ≥ 10^5. Each bias value comes with fan_in weights,
# so small fan_in keeps the cost down; fan_in itself is what the bound depends on.
LAYERS = {
    "Linear20x5000": (lambda: torch.nn.Linear(20, 5000), 20),                 # fan_in 20
    "Conv2d2to1000k3": (lambda: torch.nn.Conv2d(2, 1000, 3), 100),            # fan_in 18
    "Conv1d5to2000k7": (lambda: torch.nn.Conv1d(5, 2000, 7), 50),             # fan_in 35
    "ConvT2d4to1000k3": (lambda: torch.nn.ConvTranspose2d(4, 1000, 3), 100),  # weight (4,1000,3,3): fan_in 9000
}


@pytest.mark.parametrize("layer_id", list(LAYERS))
@pytest.mark.parametrize("api", ["reset_parameters_", "default_init_"])
def test_default_layer_init(api, layer_id):
    """Ours reproduces torch's default init in distribution: weight and bias U(±1/√fan_in),
    compared with freshly constructed layers (global RNG, isolated by fork_rng), ≥ 10^5
    values each (biases pooled over many layers)."""
    make, count = LAYERS[layer_id]
    fan_in, _ = torch_fans(tuple(make().weight.shape))
    law = uniform_law(1.0 / math.sqrt(fan_in))
    s = seed_for("default", api, layer_id)
    with torch.random.fork_rng():
        torch.manual_seed(s)
        ref_w, ref_b = _pool_layers(make, count)
    gen = torch.Generator().manual_seed(s + 1)
    if api == "reset_parameters_":
        def reinit(layer):
            assert tt.reset_parameters_(layer, generator=gen) is layer
    else:
        def reinit(layer):
            tt.default_init_(layer.weight, layer.bias, generator=gen)
    # fill our layers only from `gen`: start from NaN so an untouched value shows
    def make_ours():
        layer = make()
        with torch.no_grad():
            layer.weight.fill_(float("nan"))
            layer.bias.fill_(float("nan"))
        return layer
    with torch.random.fork_rng():
        our_w, our_b = _pool_layers(make_ours, count, reinit)
    n = 100_000
    assert ref_w.size >= n and ref_b.size >= n
    ref_w, ref_b, our_w, our_b = ref_w[:n], ref_b[:n], our_w[:n], our_b[:n]
    a = ALPHA / 8
    for part, ref, ours in (("weight", ref_w, our_w), ("bias", ref_b, our_b)):
        label = f"{layer_id} {part} via {api}"
        assert np.isfinite(ours).all(), f"{label}: some values were not filled"
        assert_same_distribution(ours, ref, a, label)
        assert_moments(ours, law, a, label)
        assert_support(ours, law, a, label, float32=True)
        assert_support(ref, law, a, f"{layer_id} {part}: torch's own", float32=True)


# ---------------------------------------------------------------- torch-track mechanics

TRACK_CALLS = {
    "xavier_uniform_": (tt.xavier_uniform_, torch.nn.init.xavier_uniform_, dict(gain=2.0)),
    "xavier_normal_": (tt.xavier_normal_, torch.nn.init.xavier_normal_, dict(gain=0.5)),
    "kaiming_uniform_": (tt.kaiming_uniform_, torch.nn.init.kaiming_uniform_, dict(a=0.2, mode="fan_out")),
    "kaiming_normal_": (tt.kaiming_normal_, torch.nn.init.kaiming_normal_, dict(nonlinearity="relu")),
    "trunc_normal_": (tt.trunc_normal_, torch.nn.init.trunc_normal_, dict(mean=0.5, std=2.0, a=-1.0, b=3.0)),
    "orthogonal_": (tt.orthogonal_, torch.nn.init.orthogonal_, dict(gain=1.5)),
    "default_init_": (tt.default_init_, None, {}),
}


@pytest.mark.parametrize("name", list(TRACK_CALLS))
def test_track_in_place_and_generator_only(name):
    fn, _, kw = TRACK_CALLS[name]
    shape = (16, 8, 3, 3)
    state = torch.get_rng_state()
    t1 = torch.full(shape, float("nan"))
    ptr = t1.data_ptr()
    out = fn(t1, generator=torch.Generator().manual_seed(7), **kw)
    assert out is t1 and t1.data_ptr() == ptr, "must fill in place and return the same tensor"
    assert t1.dtype == torch.float32 and t1.shape == shape
    assert torch.isfinite(t1).all(), "every element must be filled"
    assert torch.equal(torch.get_rng_state(), state), "the global torch RNG was used"
    t2 = fn(torch.empty(shape), generator=torch.Generator().manual_seed(7), **kw)
    assert torch.equal(t1, t2), "same generator seed must give the same tensor"
    t3 = fn(torch.empty(shape), generator=torch.Generator().manual_seed(8), **kw)
    assert not torch.equal(t1, t3), "different generator seeds must give different tensors"


@pytest.mark.parametrize("name", list(TRACK_CALLS))
def test_track_requires_grad_tensor(name):
    """A leaf tensor with requires_grad (a Parameter) is filled without autograd history."""
    fn, _, kw = TRACK_CALLS[name]
    p = torch.nn.Parameter(torch.empty(32, 16))
    out = fn(p, generator=torch.Generator().manual_seed(0), **kw)
    assert out is p and p.requires_grad and p.grad_fn is None and p.is_leaf
    assert torch.isfinite(p).all()
    t = torch.empty(32, 16, requires_grad=True)
    fn(t, generator=torch.Generator().manual_seed(0), **kw)
    assert t.requires_grad and t.grad_fn is None and torch.equal(t.detach(), p.detach())


@pytest.mark.parametrize("name", [n for n in TRACK_CALLS if TRACK_CALLS[n][1] is not None])
def test_track_without_generator_uses_global_rng(name):
    """generator=None draws from the global RNG, as torch.nn.init does: reproducible under
    torch.manual_seed."""
    fn, _, kw = TRACK_CALLS[name]
    with torch.random.fork_rng():
        torch.manual_seed(123)
        t1 = fn(torch.empty(10, 20), **kw)
        torch.manual_seed(123)
        t2 = fn(torch.empty(10, 20), **kw)
        t3 = fn(torch.empty(10, 20), **kw)
    assert torch.equal(t1, t2) and not torch.equal(t2, t3)


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_"])
@pytest.mark.parametrize("shape", [(), (5,)], ids=["0-d", "1-d"])
def test_track_fewer_than_two_dims(name, shape):
    """test_init.py: *_errors_on_inputs_smaller_than_2d, for a 0-d and a 1-d tensor."""
    fn, ref, kw = TRACK_CALLS[name]
    with pytest.raises(ValueError):
        ref(torch.empty(shape), **kw)
    with pytest.raises(ValueError):
        fn(torch.empty(shape), **kw)


@pytest.mark.parametrize("fn,ref", [(tt.kaiming_uniform_, torch.nn.init.kaiming_uniform_),
                                    (tt.kaiming_normal_, torch.nn.init.kaiming_normal_)],
                         ids=["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("kw", [dict(mode="fan_avg"), dict(nonlinearity="gelu"),
                                dict(nonlinearity="leaky_relu", a="0.1")], ids=["mode", "nonlinearity", "a"])
def test_track_kaiming_errors(fn, ref, kw):
    with pytest.raises(ValueError):
        ref(torch.empty(4, 5), **kw)
    with pytest.raises(ValueError):
        fn(torch.empty(4, 5), **kw)


@pytest.mark.parametrize("np_fn", [initkit.kaiming_uniform, initkit.kaiming_normal], ids=["kaiming_uniform", "kaiming_normal"])
@pytest.mark.parametrize("kw", [dict(mode="fan_avg"), dict(nonlinearity="gelu"),
                                dict(nonlinearity="leaky_relu", a=True)], ids=["mode", "nonlinearity", "a"])
def test_numpy_kaiming_errors(np_fn, kw):
    with pytest.raises(ValueError):
        np_fn((4, 5), rng=np.random.default_rng(0), **kw)


@pytest.mark.parametrize("np_fn", [initkit.xavier_uniform, initkit.xavier_normal, initkit.kaiming_uniform,
                                   initkit.kaiming_normal, initkit.orthogonal],
                         ids=lambda f: f.__name__)
def test_numpy_fewer_than_two_dims(np_fn):
    for shape in [(), (7,)]:
        with pytest.raises(ValueError):
            np_fn(shape, rng=np.random.default_rng(0))


# ---------------------------------------------------------------- what torch's own test_init.py checks
# test/nn/test_init.py, read for issue 17, beside what the tests above already cover (KS of
# xavier/kaiming on 2-D and 4-D tensors with a random gain or slope and both modes — above on
# larger tensors, with moments and support too; gains; errors under 2-D):
# - kaiming_*_ on a zero-element tensor warns "Initializing zero-element tensors is a no-op";
# - trunc_normal_ with a generator seeded 42 equals trunc_normal_ after torch.manual_seed(42);
# - trunc_normal_ in float64 on 1-, 2- and 4-D tensors, bounds at the tensor's precision, KS;
#   float16/bfloat16 within the bounds; > min_unique distinct values; no value clamped to a
#   bound at std 0.1; a narrow interval [2, 3] far in the tail;
# - orthogonal_ on (3, 4), (4, 3), (20, 2, 3, 4), (2, 3, 4, 5), with and without a gain.
# Left out on purpose: torch.nn.init's xavier_*_ raise ZeroDivisionError on a (0, 0) tensor
# (fan_in + fan_out = 0); ours leave it as it is (nothing to fill). uniform_/normal_/constant_/
# eye_/dirac_/sparse_ have no counterpart in the track.

ZERO_ELEMENT_SHAPES = [(0, 5), (5, 0), (0, 0), (0, 3, 3, 3), (4, 0, 3, 3)]


@pytest.mark.parametrize("shape", ZERO_ELEMENT_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(TRACK_CALLS))
def test_zero_element_tensors_as_torch(name, shape):
    """Each track function on a zero-element tensor: the same warnings as torch's (kaiming_*_
    and a layer's default init warn "no-op"), the same tensor back, untouched."""
    fn, ref, kw = TRACK_CALLS[name]
    if ref is None:  # default_init_: torch's is nn.Linear's reset_parameters, kaiming_uniform_(a=√5)
        ref = lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))  # noqa: E731
    if shape == (0, 0) and name.startswith("xavier"):
        pytest.skip("torch raises ZeroDivisionError here (fan_in + fan_out = 0); ours is a no-op")

    def warnings_of(f):
        tensor = torch.empty(shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert f(tensor) is tensor
        return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]

    theirs = warnings_of(lambda t: ref(t, **(kw if TRACK_CALLS[name][1] is not None else {})))
    ours = warnings_of(lambda t: fn(t, **kw))
    assert ours == theirs, (ours, theirs)
    if name.startswith("kaiming"):
        assert ours == ["Initializing zero-element tensors is a no-op"]


@pytest.mark.parametrize("name", [n for n in TRACK_CALLS if TRACK_CALLS[n][1] is not None])
def test_a_seeded_generator_draws_what_the_global_generator_draws_after_manual_seed(name):
    """test_init.py's test_trunc_normal_generator, for every track function: a generator seeded
    42 and torch.manual_seed(42) without a generator give the same values (a 1-D tensor of 5 for
    trunc_normal_, as there)."""
    fn, _, kw = TRACK_CALLS[name]
    shape = (5,) if name == "trunc_normal_" else (6, 4)
    with_generator = fn(torch.empty(shape), generator=torch.Generator().manual_seed(42), **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(42)
        without = fn(torch.empty(shape), **kw)
    assert torch.equal(with_generator, without)


@pytest.mark.parametrize("dims", [1, 2, 4])
def test_trunc_normal_float64_bounds_at_tensor_precision(dims):
    """test_init.py's test_trunc_normal_all_dtypes (float64; float32 is covered above): random
    mean, std, a in [mean − 2std, mean] and b in [mean, mean + 2std], sizes 30–50 per side."""
    import random

    r = random.Random(1000 + dims)
    size = [r.randint(30, 50) for _ in range(dims)]
    mean, std = r.uniform(-3, 3), r.uniform(0.01, 1)
    a, b = r.uniform(mean - 2 * std, mean), r.uniform(mean, mean + 2 * std)
    t = tt.trunc_normal_(torch.zeros(size, dtype=torch.float64), mean=mean, std=std, a=a, b=b,
                         generator=torch.Generator().manual_seed(dims))
    assert t.dtype == torch.float64 and a <= t.min().item() and t.max().item() <= b
    assert_matches_cdf(t.numpy(), truncnorm_law(mean, std, a, b).cdf, ALPHA, f"float64 trunc_normal_ {size}")


@pytest.mark.parametrize("dtype, min_unique", [(torch.float32, 5000), (torch.float64, 5000),
                                               (torch.float16, 3000), (torch.bfloat16, 1000)], ids=str)
def test_trunc_normal_low_precision_as_torch_tests_it(dtype, min_unique):
    """test_init.py: within [-2, 2] in every dtype, more than ``min_unique`` distinct values out
    of 10,000, no inf/nan, no value clamped to a bound at std 0.1, and the narrow interval
    [2, 3] of N(0, 1) within its bounds (KS in float32/float64/float16, as there)."""
    g = torch.Generator().manual_seed(17)
    t = tt.trunc_normal_(torch.empty(10_000, dtype=dtype), 0.0, 1.0, -2.0, 2.0, generator=g)
    assert -2.0 <= t.min().item() and t.max().item() <= 2.0
    assert t.unique().numel() > min_unique and torch.isfinite(t).all()
    small = tt.trunc_normal_(torch.empty(10_000, dtype=dtype), 0.0, 0.1, -2.0, 2.0, generator=g)
    assert (small == -2.0).sum().item() == 0 and (small == 2.0).sum().item() == 0
    narrow = tt.trunc_normal_(torch.empty(10_000, dtype=dtype), 0.0, 1.0, 2.0, 3.0, generator=g)
    assert 2.0 <= narrow.min().item() and narrow.max().item() <= 3.0
    if dtype is not torch.bfloat16:  # 65 values in [2, 3]: visibly stepped, as torch's test says
        assert_matches_cdf(narrow.double().numpy(), truncnorm_law(0.0, 1.0, 2.0, 3.0).cdf, ALPHA / 2,
                           f"{dtype} trunc_normal_ on [2, 3]")


@pytest.mark.parametrize("gain", [1.0, 0.37, 1.9], ids=["no-gain", "gain0.37", "gain1.9"])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (20, 2, 3, 4), (2, 3, 4, 5)], ids=str)
def test_orthogonal_shapes_of_torchs_test(shape, gain):
    """test_init.py's test_orthogonal: W·Wᵀ (or Wᵀ·W) = gain²·I within 1e-6, flattened to
    rows × prod(rest), for tall, wide and 4-D tensors."""
    w = tt.orthogonal_(torch.zeros(shape), gain=gain, generator=torch.Generator().manual_seed(5))
    rows = shape[0]
    flat = w.reshape(rows, -1).double()
    product = flat.T @ flat if rows > flat.shape[1] else flat @ flat.T
    assert torch.allclose(product, torch.eye(product.shape[0], dtype=torch.float64) * gain**2, atol=1e-6, rtol=0)
