"""Diagnoses in a student's words for the commonest mistakes, keyed like the catalogue.
A mistake without an entry here is named by its one-line description."""

#: Numbers the diagnosis adds to its evidence for a mistake, computed on the shape the evidence
#: is about: "fans" = that shape's fan_in and fan_out (PyTorch's layout), and the swapped pair
#: the student's std matches.
EVIDENCE = {
    "torch:kaiming_uniform/fans_swapped": "fans",
}

HINTS = {
    "xavier_uniform/std_as_bound":
        "U(−a, a) has std a/√3, so a bound equal to the std gives 0.577× the std — "
        "did you use the std as the bound? The bound is a = √3·std = gain·√(6/(fan_in+fan_out))",
    "xavier_uniform/normal_not_uniform":
        "your values have a normal's shape (kurtosis 3) where a uniform has 1.8 — did you call "
        "rng.normal instead of rng.uniform?",
    "xavier_uniform/xu_no_receptive_field":
        "on a conv kernel (out, in, kh, kw) the fans include the kernel: fan_in = in·kh·kw, "
        "fan_out = out·kh·kw — did you take shape[1] and shape[0] alone?",
    "xavier_uniform/xu_gain_ignored": "the gain multiplies the bound — did you leave `gain` out?",
    "xavier_uniform/xu_gain_squared":
        "the gain multiplies the std, not the variance — did you square it?",
    "xavier_uniform/xu_gain_under_root":
        "the gain multiplies the std outside the square root: a = gain·√(6/(fan_in+fan_out)), "
        "not √(6·gain/(…))",
    "xavier_uniform/xu_fan_in_only":
        "Glorot averages both fans, 2/(fan_in+fan_out); 1/fan_in alone is Caffe's 'xavier' (LeCun)",
    "xavier_normal/xn_avg_not_halved":
        "your variance is 1/(fan_in+fan_out), half Glorot's 2/(fan_in+fan_out) — the average "
        "of the fans is (fan_in+fan_out)/2",
    "xavier_normal/xn_truncated":
        "your values stop near ±2σ and their std is about 0.88 of the target: a truncated normal "
        "— torch's xavier_normal_ draws an ordinary normal (Keras' GlorotNormal is the truncated one)",
    "xavier_normal/xn_uniform":
        "your values have a uniform's shape (kurtosis 1.8) where a normal has 3 — did you call "
        "rng.uniform instead of rng.normal?",
    "xavier_normal/xn_gain_under_root":
        "the gain multiplies the std outside the square root: σ = gain·√(2/(fan_in+fan_out)), "
        "not √(2·gain/(…))",
    "xavier_normal/xn_no_receptive_field":
        "on a conv kernel (out, in, kh, kw) the fans include the kernel: fan_in = in·kh·kw, "
        "fan_out = out·kh·kw — did you take shape[1] and shape[0] alone?",
    "xavier_uniform/xu_keras_layout":
        "xavier_* takes PyTorch's layout (out, in, *kernel): call compute_fans(shape) with its "
        "default layout — layout='keras' reads a conv kernel's channels as its kernel size",
    "compute_fans/keras_default":
        "your default layout behaves like 'keras': the signature is "
        "compute_fans(shape, layout=\"torch\"), PyTorch's (out, in, *kernel)",
    "xavier_normal/xn_variance_as_std":
        "rng.normal(loc, scale) takes the std as scale, not the variance — pass √var",
    "kaiming_uniform/ku_gain_two":
        "the gain multiplies the std, not the variance — did you square it? ReLU halves E(x²), so "
        "the *variance* needs a factor 2 and the std √2: the gain is √2, 2 is its square (a squared "
        "gain is too small where the gain is below 1, as for a leaky slope a > 1)",
    "kaiming_uniform/ku_mode_ignored":
        "mode='fan_out' must use fan_out (it preserves the gradients' variance in the backward pass)",
    "kaiming_uniform/ku_fans_swapped":
        "your std matches the other mode's: mode='fan_in' divides by fan_in and mode='fan_out' by "
        "fan_out — are the modes swapped? (Reading the fans from the wrong axes does the same: torch "
        "weights are (out, in, *kernel), fan_in = shape[1]·kernel, fan_out = shape[0]·kernel)",
    "kaiming_uniform/ku_std_as_bound":
        "U(−b, b) has std b/√3, so the bound is √3 times the std: b = √3·gain/√fan "
        "(yours is 1/√3 ≈ 0.577 of the target)",
    "kaiming_uniform/ku_slope_ignored":
        "the leaky slope a changes the gain: √(2/(1+a²)) — a=1 is linear (gain 1)",
    "kaiming_normal/kn_fans_swapped":
        "your std matches the other mode's: mode='fan_in' divides by fan_in and mode='fan_out' by "
        "fan_out — are the modes swapped? (Reading the fans from the wrong axes does the same: torch "
        "weights are (out, in, *kernel), fan_in = shape[1]·kernel, fan_out = shape[0]·kernel)",
    "variance_scaling/vs_substring_truncated":
        "your 'untruncated_normal' values stop at ±2.27 std, as Keras' truncated normal does: "
        "`\"truncated\" in distribution` is True for 'untruncated_normal' too — compare whole names "
        "(distribution == \"truncated_normal\")",
    "variance_scaling/vs_clipped":
        "np.clip piles the tails onto ±2σ; Keras' truncated normal redraws the values beyond ±2σ "
        "(σ = √s/0.87962566), so no value sits on a bound",
    "kaiming_normal/kn_truncated_rescaled":
        "your values stop near ±2.3 std: a truncated normal — torch's kaiming_normal_ draws an "
        "ordinary, untruncated normal",
    "kaiming_normal/kn_no_gain": "std = gain/√fan — the gain (√2 for ReLU) is missing",
    "kaiming_normal/kn_sqrt3":
        "√3·gain/√fan is the *uniform* bound; the normal's std is gain/√fan",
    "kaiming_normal/kn_uniform":
        "your values have a uniform's shape (kurtosis 1.8) where a normal has 3 — did you call "
        "rng.uniform instead of rng.normal?",
    "truncated_normal/tn_clip":
        "clipping piles the tails onto a and b; a truncated normal *resamples* (or inverts the CDF) "
        "so no value sits on the bounds",
    "truncated_normal/tn_untruncated": "values outside [a, b]: the draw is not truncated",
    "truncated_normal/tn_relative_bounds":
        "a and b are absolute bounds here (torch's trunc_normal_), not multiples of std around the mean",
    "variance_scaling/vs_no_correction":
        "a normal cut at ±2σ has std 0.8796σ, so Keras draws σ = √s/0.87962566 to keep the variance s",
    "variance_scaling/vs_torch_layout":
        "Keras kernels are (*kernel, in, out): fan_in = shape[-2]·kernel, fan_out = shape[-1]·kernel",
    "calculate_gain/relu_gain_two":
        "2 is the variance factor; the gain multiplies the std, so ReLU's gain is √2",
    "calculate_gain/tanh_empirical":
        "1.59 is a measured std ratio; PyTorch's table (the convention graded here) says 5/3",
    "calculate_gain/sigmoid_four":
        "PyTorch's table gives sigmoid gain 1 (4 = 1/σ'(0) comes from the linear regime argument)",
    "calculate_gain/slope_not_squared": "leaky ReLU's gain is √(2/(1+slope²)): the slope is squared",
    "var_of_product/product_of_variances":
        "for independent X, Y: D(XY) = D(X)D(Y) + D(X)E(Y)² + D(Y)E(X)² — the mean terms vanish "
        "only when both means are 0",
    "batch_norm/bn_unbiased": "batch norm normalises with the biased variance: divide by N (ddof=0)",
    "batch_norm/bn_unbiased_nchw_only":
        "your 2-D path is right, but on NCHW input you divide by n − 1: batch norm uses the biased "
        "variance (ddof=0) for 4-D input too",
    "batch_norm/bn_2d_only":
        "4-D input (N, C, H, W) is part of the contract: one mean and variance per channel, over "
        "the batch and every pixel — axes (0, 2, 3)",
    "batch_norm/bn_in_place_nchw":
        "`x -= mean` (and /=, *=, +=) overwrites the caller's x: write `y = (x - mean) / ...`, "
        "which makes a new array",
    "batch_norm/bn_reshapes_callers_gamma":
        "`gamma.shape = (1, -1, 1, 1)` reshapes the caller's own gamma; "
        "`g = gamma.reshape(1, -1, 1, 1)` gives you a reshaped view and leaves theirs alone",
    "calculate_gain/slope_default_keras":
        "with param=None the slope is PyTorch's default 0.01 — 0.2 is the default of Keras' LeakyReLU, "
        "a different convention",
    "calculate_gain/slope_default_zero":
        "with param=None the slope is 0.01, not 0 (slope 0 is plain ReLU, gain √2): "
        "√(2/(1+0.01²)) = 1.41414",
    "calculate_gain/gain_prefix_match":
        "compare the whole name (`nonlinearity in (...)` or ==): startswith('conv') also accepts "
        "'conv4d', 'conv' and 'convolution'",
    "calculate_gain/gain_substring_match":
        "`\"relu\" in nonlinearity` is true for 'prelu' and 'relu6' too: compare the whole name",
    "calculate_gain/gain_case_insensitive":
        "the names are exact: 'ReLU' and ' tanh' are not in PyTorch's table, so they raise ValueError",
    "calculate_gain/slope_refuses_only_str_and_bool":
        "a slope is an int or float (not bool); refuse everything else — Fraction, lists, complex — "
        "with `isinstance(param, bool) or not isinstance(param, (int, float))`",
    "calculate_gain/slope_numbers_real":
        "numbers.Real includes Fraction, which the contract refuses: test "
        "`isinstance(param, (int, float))` and not bool",
    "calculate_gain/slope_float_converted":
        "float(param) turns the string '0.1' into a slope; test the type instead: "
        "`isinstance(param, (int, float))` and not bool",
    "calculate_gain/slope_negative_refused":
        "any real slope is allowed, negative ones too: √(2/(1+slope²)) is defined for all of them",
    "calculate_gain/param_checked_for_every_name":
        "param is ignored for every name but leaky_relu: check it only there",
    "compute_fans/fans_float_product":
        "np.prod(()) is the float 1.0, so a 2-D shape gets float fans: use math.prod, or int(...)",
    "batch_norm/bn_eps_outside": "eps goes inside the root: (x − mean)/√(var + eps)",
    "batch_norm/bn_nchw_batch_only":
        "for NCHW there is one mean and variance per channel, over the batch and every pixel: "
        "axes (0, 2, 3) — axis 0 alone gives one per pixel",
    "batch_norm/bn_gamma_not_reshaped":
        "γ and β must line up with axis 1 (the channels): reshape them to (1, C, 1, 1) for NCHW — "
        "as (C,) they broadcast onto the last axis (W)",
    "batch_norm/bn_wrong_axis":
        "statistics are per feature over the batch: axis 0 for (N, C), axes (0, 2, 3) for NCHW",
    "orthogonal/orth_no_sign_fix":
        "multiply Q's columns by sign(diag R): without it numpy's QR makes Q's law depend on the "
        "sign convention, not Haar",
    "orthogonal/orth_gain_ignored": "rows (or columns) must have norm `gain`: return gain·Q",
    # PyTorch track
    "torch:kaiming_uniform/fans_swapped":
        "torch weights are (out, in, *kernel): fan_in = tensor.shape[1]·kernel and fan_out = "
        "tensor.shape[0]·kernel; did you read them the other way round?",
    "torch:xavier_normal/truncated_like_keras":
        "torch's xavier_normal_ is an untruncated normal; cutting at ±2σ (as Keras does) shrinks the std to 0.88σ",
    "torch:truncated_normal/clamps":
        "clamp_ piles the tails onto a and b; trunc_normal_ resamples (or inverts the CDF) so no value sits on them",
    "torch:truncated_normal/relative_bounds":
        "torch's trunc_normal_ takes a and b as absolute bounds, not multiples of std around the mean",
    "torch:orthogonal/no_sign_fix":
        "multiply Q's columns by sign(diag R) after torch.linalg.qr, or Q is not Haar-distributed",
    # Keras track
    "keras:variance_scaling/VarianceScaling__no_correction":
        "keras.random.truncated_normal cuts at ±2σ, which leaves std 0.8796σ: draw σ = √s/0.87962566",
    "keras:variance_scaling/VarianceScaling__untruncated":
        "distribution='truncated_normal' means keras.random.truncated_normal (cut at ±2σ, σ corrected), not normal",
    "keras:variance_scaling/VarianceScaling__torch_axes":
        "Keras kernels are (*kernel, in, out): fan_in = shape[-2]·kernel, not shape[1] as in torch",
    "keras:variance_scaling/HeNormal__scale_one": "HeNormal is VarianceScaling(scale=2.0, 'fan_in', 'truncated_normal')",
    "keras:variance_scaling/GlorotUniform__fan_in": "GlorotUniform averages the fans: mode='fan_avg'",
}
