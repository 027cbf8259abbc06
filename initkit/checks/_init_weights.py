"""Checks of a whole-model initialization: ``init_weights_torch(model)`` and
``init_weights_keras(model, seed)`` (COURSE.md §5, notebook 08).

The policy (from the note 《参数初始化(Weight Initialization)》, notebook 08): Linear/Dense weight
Xavier normal, σ² = 2/(fan_in + fan_out), bias 0;
Conv2d/Conv2D weight He normal in mode fan_out, σ² = 2/fan_out with fan_out = out_channels·k_h·k_w,
bias 0; BatchNorm weight (γ) 1 and bias (β) 0. PyTorch draws untruncated normals from torch's
global generator, which the check seeds. Keras uses its presets' truncated normals
(σ = √s/0.87962566103423978 cut at ±2σ, variance s), seeded from ``seed``.

How the check sees what the function did: it builds models of its own — a conv net with a
nested block and both BatchNorm kinds, and the note's all-Linear ``Net`` — fills every
parameter with 0.5 (a value the policy never produces), calls the function, and reads the
parameters back.

- coverage: every Linear/Conv weight changed, every bias exactly 0, BatchNorm weight exactly 1
  and bias exactly 0 (exact: no α).
- scale: per weight tensor, its mean and its second moment about 0 and, for Keras, no value
  beyond ±2σ (``_random.assert_scale``).
- distribution: per weight tensor, the family on standardised values (``_random.assert_family``);
  for Keras also that two layers of the same shape got different kernels and that the seed
  decides the draw (same seed ⇒ same weights, another seed ⇒ others); for torch that torch's
  global generator decides the draw: the same ``torch.manual_seed`` reproduces every weight,
  another changes every weight — a private generator or a ``torch.manual_seed`` inside fails,
  each with its own message (``_torch_rng.assert_init_weights_global_rng``).

α: each aspect splits ``ALPHA_PER_ASPECT`` evenly over its weight tensors (union bound).
Power: the smallest weight has 4,800 values and each model has one of ≥ 65,536 (torch) or
262,144 (Keras); there a uniform in place of the normal sits 0.057 (0.043 from the truncated
normal) from the target CDF, against thresholds ≤ 0.026 (≤ 0.021); mode fan_in on a conv moves
the variance ≥ 2×, and every variance test's window is within ±12 % even on the smallest tensor
(z ≈ 5.8, √(2/4800)).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import _laws
from ._engine import CheckFailed, Context, call_student
from ._random import assert_family, assert_scale
from ._torch_rng import assert_init_weights_global_rng

SENTINEL = 0.5
TRUNCATION_STD = 0.87962566103423978  # std of N(0, 1) cut at ±2: Keras divides by it


@dataclass
class Param:
    """One parameter the policy sets, read back after the student's call."""

    model: str      # which of the check's models
    name: str       # its name in that model: "features.3.0.weight", "conv2/kernel"
    layer: str      # "Conv2d", "Dense", "BatchNorm1d", …
    role: str       # "weight", "bias", "bn_weight", "bn_bias"
    values: np.ndarray
    law: _laws.Law | None = None   # the weight's target law
    fans: tuple = ()               # (fan_in, fan_out) of a weight
    nested: bool = False           # inside a nested container (not a direct child of the model)
    initializer_set: bool = False  # Keras: the function replaced the layer's kernel_/bias_initializer

    @property
    def where(self) -> str:
        return f"in {self.model}: {self.name} ({self.layer}, shape {self.values.shape})"

    @property
    def untouched(self) -> bool:
        return bool(np.all(self.values == SENTINEL))


# --- the models the check initializes --------------------------------------------------

# per seed: conv channels c1, c2, hidden width h, outputs; the note's Net: d_in, h1, h2, out
_CONV_SIZES = ((64, 128, 512, 10), (48, 160, 384, 20), (96, 192, 256, 16))
_MLP_SIZES = ((784, 256, 128, 10), (512, 384, 96, 20), (1024, 200, 300, 16))


@functools.lru_cache(maxsize=1)
def _note_net_class():
    from torch import nn

    class Net(nn.Module):
        """The note's model: three Linear layers inside one nn.Sequential attribute."""

        def __init__(self, in_dim, n_hidden_1, n_hidden_2, out_dim):
            super().__init__()
            self.layer = nn.Sequential(
                nn.Linear(in_dim, n_hidden_1), nn.ReLU(True),
                nn.Linear(n_hidden_1, n_hidden_2), nn.ReLU(True),
                nn.Linear(n_hidden_2, out_dim))

        def forward(self, x):
            return self.layer(x)

    return Net


def torch_models(seed: int) -> list:
    """[(description, model)]: a conv net with a nested block and BatchNorm1d/2d, and the
    note's all-Linear Net; sizes depend on ``seed``."""
    from torch import nn

    c1, c2, h, out = _CONV_SIZES[seed % 3]
    convnet = nn.Sequential(
        nn.Conv2d(3, c1, 5), nn.BatchNorm2d(c1), nn.ReLU(),
        nn.Sequential(nn.Conv2d(c1, c2, 3, bias=False), nn.BatchNorm2d(c2), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(c2, h), nn.BatchNorm1d(h), nn.ReLU(),
        nn.Linear(h, h), nn.ReLU(), nn.Linear(h, out))
    note_net = _note_net_class()(*_MLP_SIZES[seed % 3])
    return [("the conv net", convnet), ("the all-Linear Net of section 4", note_net)]


def keras_models(seed: int) -> list:
    """[(description, model)]: a built conv net with BatchNormalization and two Dense layers of
    the same shape, and an all-Dense net; sizes depend on ``seed``."""
    import keras
    from keras import layers

    c1, c2, h, out = _CONV_SIZES[seed % 3]
    h = max(h, 512)  # Dense(h, h) holds ≥ 262,144 values: KS sees uniform vs truncated normal
    convnet = keras.Sequential([
        keras.Input((12, 12, 3)),
        layers.Conv2D(c1, 5, name="conv1"), layers.BatchNormalization(name="bn1"), layers.Activation("relu"),
        layers.Conv2D(c2, 3, use_bias=False, name="conv2"), layers.BatchNormalization(name="bn2"),
        layers.Activation("relu"), layers.GlobalAveragePooling2D(),
        layers.Dense(h, name="dense1"), layers.BatchNormalization(name="bn3"), layers.Activation("relu"),
        layers.Dense(h, activation="relu", name="dense2"), layers.Dense(h, activation="relu", name="dense3"),
        layers.Dense(out, name="dense4")], name="convnet")
    d_in, h1, h2, out2 = _MLP_SIZES[seed % 3]
    mlp = keras.Sequential([
        keras.Input((d_in,)), layers.Dense(h1, activation="relu", name="dense1"),
        layers.Dense(h2, activation="relu", name="dense2"), layers.Dense(out2, name="dense3")], name="mlp")
    return [("the conv net", convnet), ("the all-Dense net", mlp)]


# --- reading the parameters back ----------------------------------------------------------

def torch_params(description: str, model) -> list[Param]:
    from torch import nn

    params = []
    for mod_name, m in model.named_modules():
        nested = mod_name.count(".") >= 1
        kind = type(m).__name__
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            w = m.weight.detach().numpy().astype(np.float64)
            receptive = math.prod(w.shape[2:])
            fans = (w.shape[1] * receptive, w.shape[0] * receptive)
            params.append(Param(description, f"{mod_name}.weight", kind, "weight", w,
                                weight_law("torch", kind, fans), fans, nested))
            if m.bias is not None:
                params.append(Param(description, f"{mod_name}.bias", kind, "bias", m.bias.detach().numpy(), nested=nested))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            params.append(Param(description, f"{mod_name}.weight", kind, "bn_weight", m.weight.detach().numpy(), nested=nested))
            params.append(Param(description, f"{mod_name}.bias", kind, "bn_bias", m.bias.detach().numpy(), nested=nested))
    return params


def weight_law(track: str, layer: str, fans: tuple) -> _laws.Law:
    """The policy's law for a weight of a ``layer`` ("Linear", "Dense", "Conv2d", "Conv2D"):
    σ² = 2/(fan_in + fan_out) for Linear/Dense, 2/fan_out for convolutions; PyTorch draws an
    untruncated normal, Keras a normal cut at ±2σ with σ = √s/0.87962566103423978."""
    fan_in, fan_out = fans
    var = 2.0 / (fan_in + fan_out) if layer in ("Linear", "Dense") else 2.0 / fan_out
    if track == "torch":
        return _laws.normal(math.sqrt(var))
    sigma = math.sqrt(var) / TRUNCATION_STD
    return _laws.truncated_normal(0.0, sigma, -2 * sigma, 2 * sigma)


def params_from_data(track: str, rows) -> list[Param]:
    """Parameters the student's kernel sent back as data (the grader's proxy), each weight's
    law recomputed here from its layer and fans — never taken from the kernel."""
    params = []
    try:
        for row in rows:
            values = row["values"]
            if not isinstance(values, np.ndarray) or values.dtype.kind != "f":
                raise TypeError("values")
            fans = tuple(int(f) for f in row["fans"])
            law = weight_law(track, str(row["layer"]), fans) if row["role"] == "weight" else None
            params.append(Param(str(row["model"]), str(row["name"]), str(row["layer"]), str(row["role"]),
                                values, law, fans, bool(row["nested"]), bool(row.get("initializer_set", False))))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        raise CheckFailed("the kernel sent the model's parameters in a form the check cannot read.") from None
    return params


def _initializers(model) -> dict:
    """{layer name: (kernel_initializer, bias_initializer)} of a Keras model's layers, to see
    afterwards whether the student's function replaced them."""
    return {layer.name: (getattr(layer, "kernel_initializer", None), getattr(layer, "bias_initializer", None))
            for layer in model.layers}


def keras_params(description: str, model, initializers_before: dict | None = None) -> list[Param]:
    import keras

    def read(variable):  # (convert_to_numpy on a Variable warns under NumPy 2: .numpy() does not)
        return np.array(variable.numpy(), dtype=np.float64)

    before = initializers_before or {}
    params = []
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            kernel_init, bias_init = before.get(layer.name, (layer.kernel_initializer, layer.bias_initializer))
            w = read(layer.kernel)
            receptive = math.prod(w.shape[:-2])
            fans = (w.shape[-2] * receptive, w.shape[-1] * receptive)
            params.append(Param(description, f"{layer.name}/kernel", kind, "weight", w,
                                weight_law("keras", kind, fans), fans,
                                initializer_set=layer.kernel_initializer is not kernel_init))
            if layer.bias is not None:
                params.append(Param(description, f"{layer.name}/bias", kind, "bias", read(layer.bias),
                                    initializer_set=layer.bias_initializer is not bias_init))
        elif isinstance(layer, keras.layers.BatchNormalization):
            params.append(Param(description, f"{layer.name}/gamma", kind, "bn_weight", read(layer.gamma)))
            params.append(Param(description, f"{layer.name}/beta", kind, "bn_bias", read(layer.beta)))
    return params


class _Call:
    """The student's function, described in messages as ``init_weights_torch(<the conv net>)``
    instead of a model's many-line repr."""

    def __init__(self, fn, name: str, description: str):
        self.fn, self.__name__, self.description = fn, getattr(fn, "__name__", name), description
        self.check_name = name

    def __call__(self, *args):
        return self.fn(*args)

    def describe(self, args, kwargs) -> str:
        rest = "".join(f", {a!r}" for a in args[1:])
        return f"{self.check_name}(<{self.description}>{rest})"


def initialized_torch(fn, ctx: Context, stream: int) -> list[Param]:
    """Build the torch models, fill them with the sentinel, seed torch's global generator,
    call ``fn`` on each and read the parameters back (torch's global state is restored)."""
    import torch

    params = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(ctx.rng(stream).integers(2**31)))
        for description, model in torch_models(ctx.seed):
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(SENTINEL)
            call_student(_Call(fn, "init_weights_torch", description), "init_weights_torch", model)
            params += torch_params(description, model)
    return params


def initialized_keras(fn, ctx: Context, stream: int, seed_offset: int = 0) -> list[Param]:
    """As ``initialized_torch`` for Keras: ``fn(model, seed)`` with a seed drawn from the
    check's stream (plus ``seed_offset``)."""
    seed = int(ctx.rng(stream).integers(2**20)) + seed_offset
    params = []
    for i, (description, model) in enumerate(keras_models(ctx.seed)):
        for w in model.trainable_weights:
            w.assign(np.full(tuple(w.shape), SENTINEL, dtype="float32"))
        initializers = _initializers(model)
        call_student(_Call(fn, "init_weights_keras", description), "init_weights_keras", model, seed + 1000 * i)
        params += keras_params(description, model, initializers)
    return params


# --- the aspects ----------------------------------------------------------------------------

_POLICY = {
    "torch": {"weight": "Xavier normal for Linear, He normal (mode='fan_out', nonlinearity='relu') for Conv2d",
              "bias": "0", "bn_weight": "1", "bn_bias": "0"},
    "keras": {"weight": "GlorotNormal for Dense, VarianceScaling(2.0, 'fan_out', 'truncated_normal') for Conv2D",
              "bias": "0", "bn_weight": "1 (gamma)", "bn_bias": "0 (beta)"},
}


def _coverage_problem(p: Param) -> str:
    """'' when ``p`` is set as the policy says, 'untouched', or what is wrong with its value."""
    wanted = None if p.role == "weight" else (1.0 if p.role == "bn_weight" else 0.0)
    if p.untouched:
        return "untouched"
    if wanted is None or np.all(p.values == wanted):
        return ""
    return f"holds values in [{p.values.min():.4g}, {p.values.max():.4g}], expected exactly {wanted:g}"


def _listing(problems: list[Param], limit: int = 6) -> str:
    """'the conv net: 0.bias (Conv2d), 6.weight (Linear); the all-Linear Net of section 4: layer.0.weight (Linear), … and 3 more'."""
    by_model: dict[str, list[str]] = {}
    for p in problems[:limit]:
        by_model.setdefault(p.model, []).append(f"{p.name} ({p.layer})")
    text = "; ".join(f"{model}: {', '.join(names)}" for model, names in by_model.items())
    return text + (f" … and {len(problems) - limit} more" if len(problems) > limit else "")


def _coverage_hint(problems: list[Param], params: list[Param], track: str) -> str:
    """What the pattern of missed parameters says about the student's loop (every hint that applies)."""
    linear = "Linear" if track == "torch" else "Dense"
    hints = []
    linear_weights = [p for p in params if p.layer == linear and p.role == "weight"]
    set_too_late = [p for p in problems if p.untouched and p.initializer_set]
    if set_too_late:
        hints.append(f"Your function set {'kernel' if set_too_late[0].role == 'weight' else 'bias'}_initializer "
                     f"on {set_too_late[0].name.split('/')[0]}, but the model is already built: a Keras layer "
                     "uses its initializers once, when it creates its weights, so setting the attribute "
                     "afterwards changes nothing. Assign the values instead: layer.kernel.assign("
                     "GlorotNormal(seed=seed + i)(layer.kernel.shape)) and layer.bias.assign("
                     "keras.ops.zeros(layer.bias.shape)).")
    elif linear_weights and all(p.untouched for p in linear_weights):
        hints.append(f"No {linear} layer was set: a loop that handles only convolutions and BatchNorm "
                     f"(method two in section 4) initializes nothing in an all-{linear} model — add a "
                     f"branch for {'nn.Linear' if track == 'torch' else 'keras.layers.Dense'}.")
    elif track == "torch" and all(p.nested for p in problems) and any(not p.nested for p in params):
        hints.append("Only layers inside nested containers were missed: model.children() (and `for m in "
                     "model`) visit direct children only — use model.modules() or model.apply(fn), which "
                     "recurse.")
    if track == "torch" and any(p.layer == "BatchNorm1d" for p in problems) and \
            not any(p.layer == "BatchNorm2d" for p in problems):
        hints.append("nn.BatchNorm1d is a BatchNorm layer too: isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)).")
    set_weights = {p.name.rsplit(".", 1)[0].rsplit("/", 1)[0] for p in params if p.role == "weight" and not p.untouched}
    if any(p.role == "bias" and p.name.rsplit(".", 1)[0].rsplit("/", 1)[0] in set_weights for p in problems):
        hints.append("Biases must be 0: torch.nn.init.zeros_(m.bias) — a layer built with bias=False has "
                     "m.bias None." if track == "torch" else "Biases must be 0: layer.bias.assign(zeros).")
    return "".join(" " + h for h in hints)


def _coverage(track: str, initialized):
    def coverage(fn, ctx: Context) -> str:
        params = initialized(fn, ctx, 1)
        problems = [p for p in params if _coverage_problem(p)]
        if problems:
            untouched = [p for p in problems if p.untouched]
            wrong = [p for p in problems if not p.untouched]
            lines = [f"{len(problems)} of {len(params)} parameters are not set as the policy says "
                     "(before calling your function the check fills every parameter with 0.5)."]
            if untouched:
                lines.append(f"Still 0.5, not set by your function: {_listing(untouched)}.")
            lines += [f"{p.model}: {p.name} ({p.layer}) {_coverage_problem(p)}." for p in wrong[:3]]
            hint = _coverage_hint(problems, params, track)
            if hint:
                lines.append(hint.strip())
            policy = _POLICY[track]
            lines.append(f"The policy: weights {policy['weight']}; biases {policy['bias']}; BatchNorm "
                         f"weight {policy['bn_weight']}, bias {policy['bn_bias']}.")
            raise CheckFailed("\n".join(lines))
        return f"{len(params)} parameters in {len({p.model for p in params})} models"
    return coverage


def _weights(params: list[Param]) -> list[Param]:
    weights = [p for p in params if p.role == "weight"]
    for p in weights:
        if p.untouched:
            raise CheckFailed(f"{p.where} still holds the 0.5 the check put there: your function did "
                              "not set it (the coverage cell says which parameters were missed).")
    return weights


def _scale_hint(p: Param, track: str) -> str:
    """Name a likely cause when the observed variance matches one (within 10 %)."""
    fan_in, fan_out = p.fans
    observed = float(np.mean(p.values**2))
    target = p.law.var
    conv = p.layer.startswith("Conv")
    candidates = ([(2.0 / fan_in, "mode='fan_in' — the policy uses fan_out for convolutions"),
                   (1.0 / fan_out, "gain 1 (nonlinearity 'linear' or 'leaky_relu' with a=1) — the policy uses relu's √2"),
                   (2.0 / (fan_in + fan_out), "Xavier — the policy uses He normal (fan_out) for convolutions")]
                  if conv else
                  [(2.0 / fan_in, "He/Kaiming (2/fan_in) — the policy uses Xavier normal for Linear layers"),
                   (1.0 / fan_in, "1/fan_in (LeCun) — the policy uses Xavier normal, 2/(fan_in + fan_out)"),
                   (1.0 / (3 * fan_in), "the framework's default init — the policy replaces it")])
    for var, cause in candidates:
        if abs(var / target - 1) > 0.1 and abs(observed / var - 1) < 0.1:
            return f" Your variance matches {cause}."
    return ""


def _scale(track: str, initialized):
    def scale(fn, ctx: Context) -> str:
        weights = _weights(initialized(fn, ctx, 2))
        for i, p in enumerate(weights):
            try:
                assert_scale(None, None, p.values, p.law, ctx.alpha / len(weights), f"scale/{i}",
                             where=p.where, edges=False)
            except CheckFailed as exc:
                raise CheckFailed(f"{exc}{_scale_hint(p, track)}") from None
        return f"{len(weights)} weights, {sum(p.values.size for p in weights):.1e} values"
    return scale


def _distribution(track: str, initialized):
    def distribution(fn, ctx: Context) -> str:
        weights = _weights(initialized(fn, ctx, 3))
        for i, p in enumerate(weights):
            assert_family(p.values, p.law, ctx.alpha / len(weights), f"distribution/{i}", p.where)
        if track == "keras":
            extra = _assert_keras_seeding(fn, ctx, weights, initialized)
        else:
            extra = assert_init_weights_global_rng(fn, ctx)
        return f"{len(weights)} weights, KS on standardised values{extra}"
    return distribution


def _assert_keras_seeding(fn, ctx: Context, weights: list[Param], initialized) -> str:
    """Layers of the same shape differ; the same seed repeats the draw; another seed changes it."""
    for a, b in zip(weights, weights[1:]):
        if a.model == b.model and a.values.shape == b.values.shape and np.array_equal(a.values, b.values):
            raise CheckFailed(
                f"in {a.model}: {a.name} and {b.name} received identical kernels — every layer needs "
                "its own seed (e.g. seed + the layer's index), or two layers of the same shape start equal."
            )
    again = [p for p in initialized(fn, ctx, 3) if p.role == "weight"]
    other = [p for p in initialized(fn, ctx, 3, seed_offset=1) if p.role == "weight"]
    first = weights[0]
    if not np.array_equal(first.values, again[0].values):
        raise CheckFailed(
            f"two calls with the same seed gave different weights ({first.name} of {first.model}): "
            "pass a seed derived from `seed` to every initializer (GlorotNormal(seed=seed + i)), so a "
            "run can be repeated."
        )
    if np.array_equal(first.values, other[0].values):
        raise CheckFailed(
            f"calls with seeds differing by 1 gave the same weights ({first.name} of {first.model}): "
            "your function ignores `seed`."
        )
    return "; layers independent, seeded by `seed`"


def _here_or_in_kernel(track: str, initialized):
    """``initialized(fn, ctx, stream, seed_offset=0)`` in this process, or — for the grader's
    stand-in of the student's function — in the student's kernel, as data."""
    def run(fn, ctx: Context, stream: int, seed_offset: int = 0) -> list[Param]:
        remote = getattr(fn, "initialized_remotely", None)
        if remote is not None:
            return params_from_data(track, remote(track, ctx.seed, stream, seed_offset))
        return initialized(fn, ctx, stream, seed_offset) if seed_offset else initialized(fn, ctx, stream)
    return run


def _aspects(track: str, initialized) -> dict:
    initialized = _here_or_in_kernel(track, initialized)
    return {"coverage": _coverage(track, initialized), "scale": _scale(track, initialized),
            "distribution": _distribution(track, initialized)}


INIT_WEIGHTS_TORCH = _aspects("torch", initialized_torch)
INIT_WEIGHTS_KERAS = _aspects("keras", initialized_keras)
