"""initkit — the reference library of the initcourse weight-initialization course.

The NumPy track (this namespace) needs only NumPy and SciPy. Framework tracks live in
``initkit.torch_track`` and ``initkit.keras_track`` and import their framework on first use.

>>> import numpy as np, initkit
>>> w = initkit.kaiming_normal((256, 128), nonlinearity="relu", rng=np.random.default_rng(0))
"""

from .batchnorm import batch_norm, batch_norm_inference, update_running_stats
from .fans import compute_fans
from .gain import calculate_gain
from .kaiming import kaiming_normal, kaiming_uniform
from .orthogonal import orthogonal
from .truncated import truncated_normal
from .propagation import predict_std
from .variance import preactivation_variance, relu_moments, var_of_product
from .variance_scaling import variance_scaling
from .xavier import xavier_normal, xavier_uniform

__version__ = "0.1.0"

__all__ = [
    "var_of_product",
    "relu_moments",
    "preactivation_variance",
    "predict_std",
    "compute_fans",
    "calculate_gain",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "truncated_normal",
    "variance_scaling",
    "orthogonal",
    "batch_norm",
    "batch_norm_inference",
    "update_running_stats",
]
