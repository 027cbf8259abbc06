"""Fan-in and fan-out of a weight tensor, in PyTorch's and in Keras' layout (notebook 03)."""

from __future__ import annotations

import math

from ._validate import as_shape, one_of

LAYOUTS = ("torch", "keras")


def compute_fans(shape, layout: str = "torch") -> tuple[int, int]:
    r"""Return ``(fan_in, fan_out)`` of a weight of the given ``shape``.

    The receptive field is the product of the kernel dimensions :math:`k`:

    - ``layout="torch"``: shape ``(out, in, *k)``;
      :math:`\text{fan\_in} = \text{in}\cdot\prod k`, :math:`\text{fan\_out} = \text{out}\cdot\prod k`.
      Fewer than 2 dimensions is an error, as in ``torch.nn.init``.
    - ``layout="keras"``: shape ``(*k, in, out)``, same formulas; a 0-D shape gives
      ``(1, 1)`` and a 1-D shape ``(n,)`` gives ``(n, n)``, as in Keras.

    Example:
        >>> compute_fans((64, 3, 5, 5))                    # Conv2d(3, 64, 5)
        (75, 1600)
        >>> compute_fans((5, 5, 3, 64), layout="keras")    # Conv2D(64, 5) on RGB
        (75, 1600)
    """
    one_of("layout", layout, LAYOUTS)
    dims = as_shape(shape)
    if layout == "torch":
        if len(dims) < 2:
            raise ValueError(
                "fans need at least 2 dimensions in torch layout (out, in, *kernel); "
                f"received shape {dims!r}"
            )
        fan_out, fan_in, kernel = dims[0], dims[1], dims[2:]
    else:
        if len(dims) == 0:
            return 1, 1
        if len(dims) == 1:
            return dims[0], dims[0]
        kernel, fan_in, fan_out = dims[:-2], dims[-2], dims[-1]
    receptive_field = math.prod(kernel)
    return fan_in * receptive_field, fan_out * receptive_field
