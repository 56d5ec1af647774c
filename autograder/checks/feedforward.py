"""Checks for 03_feedforward: initialising an MLP, its numpy forward pass, its size, and the same MLP in Keras.

Nothing here computes a forward pass. Expected outputs of the public cases are literals
(worked out once, offline), and so are the outputs of the common mistakes on those cases,
kept under the grader-only key "_mistakes" so a message can name the mistake.

The two Keras parts are judged from the model itself (see `model_data`): the kernel reports only
`report_model(model)`, and the grader rebuilds it and computes its layers, parameter count and
outputs on a batch in the grader-only key "_X", which the kernel never sees.
"""
from __future__ import annotations

import copy

import numpy as np

from .compare import compare_array, fmt, within_scale
from .core import Case, Check, CheckSet, Verdict
from .model_data import built_on_zeros, error_text, rebuild_model, ModelLimits, ModelRejected, all_layers, predict, report_model


# ------------------------------------------------------------------ shared helpers
def _near(got, expected, rtol: float = 1e-4) -> bool:
    """Equal up to float32 rounding, in a band scaled by the largest output (see within_scale)."""
    return within_scale(got, expected, rtol)


def _pairs(params) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]



_MATMUL_ADVICE = ("A layer computes A @ W + b, with A of shape (m, n_in) and W of shape (n_in, n_out): "
                  "keep that order, and do not transpose W.")

# Public forward-pass cases, shared by forward (Exercise 2) and copy_weights (Exercise 5).
# Case A is small enough to check by hand: for the first sample the hidden pre-activations
# are [2.6, -0.2, -0.45], so the hidden activations are [2.6, 0, 0].
_X_A = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, 0.0], [0.0, 0.0]])
_PARAMS_A = [
    (np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]]), np.array([0.1, -0.2, 0.3])),
    (np.array([[1.0, -0.5], [-2.0, 0.25], [0.5, 1.0]]), np.array([-0.4, 0.2])),
]
_OUT_A = np.array([[2.2, -1.1], [0.0625, 1.125], [-4.0, 0.65], [-0.15, 0.45]])
_MISTAKES_A = {
    "no_bias": np.array([[2.5, -1.25], [0.3125, 0.625], [-4.0, 0.5], [0.0, 0.0]]),
    "no_relu": np.array([[2.375, -1.6], [1.8125, 1.15], [-5.0, 0.9], [0.25, 0.4]]),
    "sigmoid": np.array([[-0.17479004269300205, 0.2364714768943319], [-0.1619309987676087, 0.8024338292777049],
                         [-1.6021643714802676, 0.7201779877749022], [-0.4881315594902748, 0.6244944237440695]]),
}
_X_B = np.array([[1.0, -1.0, 2.0], [0.5, 2.0, -1.0], [-1.5, 0.5, 0.5]])
_PARAMS_B = [
    (np.array([[1.0, -0.5, 0.5, -1.0], [0.5, 1.0, -1.0, 0.5], [-0.5, 0.5, 1.0, 1.0]]),
     np.array([0.2, -0.1, 0.1, -0.3])),
    (np.array([[0.5, -1.0, 1.0], [1.0, 0.5, -0.5], [-0.5, 1.0, 0.5], [1.0, -0.5, 0.25]]), np.array([-0.2, 0.1, 0.3])),
    (np.array([[1.0, -1.0], [-0.5, 2.0], [0.5, -1.5]]), np.array([0.1, -0.2])),
]
_OUT_B = np.array([[-0.625, 3.775], [3.1125, -5.1375], [3.29375, -3.48125]])
_MISTAKES_B = {
    "no_bias": np.array([[-0.6875, 3.6875], [2.9375, -4.3125], [3.75, -3.75]]),
    "no_relu": np.array([[-3.175, 6.325], [4.7625, -10.925], [1.91875, 0.23125]]),
    "sigmoid": np.array([[0.7706575245892435, -0.6830240517619484], [1.0545677180702637, -1.3088849550050161],
                         [0.9419550576182859, -0.8433686021918079]]),
}

#: What each mistake means in numpy (Exercise 2) and in Keras (Exercise 5).
_NUMPY_ADVICE = {
    "relu_out": ("The negative outputs became 0: ReLU was applied to the output layer too. The last layer is "
                 "linear: return Z = A @ W + b of the last layer as it is."),
    "no_bias": "These are the outputs without the biases: every layer adds its b, Z = A @ W + b.",
    "no_relu": ("These are the outputs of a network with no activation at all: apply ReLU, max(0, Z), "
                "after every hidden layer."),
    "sigmoid": "The hidden layers used a sigmoid: this network uses ReLU, max(0, Z), in its hidden layers.",
    "zeros": "Every output is 0: return the last layer's output, not a placeholder.",
}
_KERAS_ADVICE = {
    "relu_out": ("The negative outputs became 0: the output Dense layer of keras_mlp has a ReLU. The output "
                 "layer is linear: Dense(n_out) with no activation."),
    "no_bias": ("These are the outputs without the biases: copy both arrays of each layer, "
                "layer.set_weights([W, b])."),
    "no_relu": ("These are the outputs of a network with no activation at all: the hidden Dense layers of "
                "keras_mlp need activation='relu'."),
    "sigmoid": "The hidden layers used a sigmoid: the hidden Dense layers of keras_mlp need activation='relu'.",
    "zeros": ("Every output is 0: the weights were probably not copied. Call layer.set_weights([W, b]) "
              "on each Dense layer."),
}


def _forward_diagnoses(advice: dict[str, str]):
    """Diagnoses for a wrong forward-pass output, working back from the expected output and the literal mistakes."""
    return [
        (lambda got, exp, inp: np.any(exp < 0) and _near(got, np.maximum(exp, 0.0)), advice["relu_out"]),
        *[(lambda got, exp, inp, key=key: key in inp.get("_mistakes", {}) and _near(got, inp["_mistakes"][key]),
           advice[key]) for key in ("no_bias", "no_relu", "sigmoid")],
        (lambda got, exp, inp: not np.any(got), advice["zeros"]),
    ]


def _hidden_width_message(what: str, got, inputs: dict, n_out: int) -> str | None:
    """A clearer message when the returned width is that of a hidden layer (the last layer was skipped)."""
    shape = np.shape(got)
    widths = [np.shape(W)[1] for W, _ in inputs["params"][:-1]]
    m = len(inputs["X"])
    if len(shape) == 2 and shape[0] == m and shape[1] != n_out and shape[1] in widths:
        return (f"{what} returned shape {shape}, the width of a hidden layer; expected ({m}, {n_out}). "
                "Loop over every (W, b) in params, the output layer included.")
    return None


# ------------------------------------------------------------------ Exercise 1: init_params
def _scale_candidates(n_in: int, n_out: int) -> list[tuple[float, str]]:
    """Standard deviations that common mistakes produce, with the advice for each."""
    return [
        (1.0, "The weights have standard deviation about 1: they were drawn from a standard normal and never "
              "scaled. Multiply them by sqrt(2 / n_in)."),
        (0.01, "The weights have standard deviation about 0.01, a fixed small number. Scale them by the "
               "layer's fan-in instead: std = sqrt(2 / n_in)."),
        (np.sqrt(1.0 / n_in), "The standard deviation is sqrt(1 / n_in) (LeCun's scale). He initialisation, "
                              "meant for ReLU layers, doubles the variance: std = sqrt(2 / n_in)."),
        (2.0 / n_in, "The standard deviation is 2 / n_in: that is the variance. Take its square root, "
                     "std = sqrt(2 / n_in)."),
        (np.sqrt(2.0 / n_out), "The scale follows n_out, the layer's width. He initialisation uses the number "
                               "of inputs to the layer: std = sqrt(2 / n_in)."),
        (np.sqrt(2.0 / (n_in + n_out)), "The standard deviation is sqrt(2 / (n_in + n_out)) (Glorot's scale). "
                                        "This exercise asks for He initialisation: std = sqrt(2 / n_in)."),
        (np.sqrt(6.0 / n_in), "The standard deviation is sqrt(6 / n_in): that is the limit of He's *uniform* "
                              "variant, not a standard deviation. For a normal draw use std = sqrt(2 / n_in)."),
    ]


#: Layers with at least this many weights have their scale checked: the sample standard
#: deviation of 256 normal draws is within 20% of the true one with overwhelming probability.
_MIN_WEIGHTS_FOR_SCALE = 256
_SCALE_BAND = (0.8, 1.25)


class InitParams(Check):
    """Judged by properties: random values are never compared with the reference's."""
    name = "init_params"
    signature = "init_params(layer_sizes, seed)"
    public_cases = (
        Case({"layer_sizes": [2, 3, 1], "seed": 0}, None, "layer_sizes = [2, 3, 1]"),
        Case({"layer_sizes": [48, 16, 48, 4], "seed": 1}, None, "layer_sizes = [48, 16, 48, 4]"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            sizes = [int(rng.integers(16, 41)), int(rng.integers(16, 41)), int(rng.integers(4, 13)),
                     int(rng.integers(1, 4))]
            cases.append({"layer_sizes": sizes, "seed": int(rng.integers(0, 10_000))})
        return cases

    def hidden_inputs(self, rng):
        # A single layer (only an output layer), and a deep narrow stack with a wide input.
        return [{"layer_sizes": [int(rng.integers(30, 60)), int(rng.integers(10, 20))], "seed": 0},
                {"layer_sizes": [100, 8, 8, 8, 8, 2], "seed": int(rng.integers(10_000, 100_000))}]

    def run(self, subject, inputs):
        sizes, seed = list(inputs["layer_sizes"]), int(inputs["seed"])

        def as_lists(value):
            if isinstance(value, (list, tuple)):
                return [list(pair) if isinstance(pair, (list, tuple)) else pair for pair in value]
            return value

        first = as_lists(subject(list(sizes), seed))
        again = as_lists(subject(list(sizes), seed))
        other = as_lists(subject(list(sizes), seed + 1))
        # Only the first weight matrix of the other seed is needed to see whether the seed is used.
        other_w = other[0][0] if isinstance(other, list) and other and isinstance(other[0], list) and other[0] else None
        return {"first": first, "again": again, "other_seed_W1": other_w}

    def compare(self, inputs, got, expected):
        sizes, seed = list(inputs["layer_sizes"]), inputs["seed"]
        sig = f"init_params({sizes}, seed={seed})"
        params = got.get("first") if isinstance(got, dict) else None
        n_layers = len(sizes) - 1
        if not isinstance(params, list):
            kind = "nothing (None)" if params is None else f"a {type(params).__name__}"
            return f"{sig} returned {kind}; it should return a list of {n_layers} (W, b) pairs, one per layer."
        if len(params) != n_layers:
            hint = (" There is one (W, b) pair per pair of consecutive sizes: the input layer has no parameters."
                    if len(params) == len(sizes) else "")
            return f"{sig} returned {len(params)} entries; expected {n_layers}, one (W, b) pair per layer.{hint}"
        arrays = []
        for index, pair in enumerate(params, start=1):
            if not isinstance(pair, list) or len(pair) != 2:
                return f"{sig}: entry {index} should be a pair (W, b), not {fmt(pair) if not isinstance(pair, list) else f'{len(pair)} values'}."
            try:
                W, b = np.asarray(pair[0]), np.asarray(pair[1])
            except (TypeError, ValueError):
                return f"{sig}: entry {index} should hold two numpy arrays (W, b)."
            n_in, n_out = sizes[index - 1], sizes[index]
            if W.shape != (n_in, n_out):
                if W.shape == (n_out, n_in):
                    return (f"{sig}: W of layer {index} has shape {W.shape}, expected ({n_in}, {n_out}). W is "
                            "transposed: it has one row per input and one column per unit, (n_in, n_out), "
                            "so that A @ W works for a batch A of shape (m, n_in).")
                return f"{sig}: W of layer {index} has shape {W.shape}, expected (n_in, n_out) = ({n_in}, {n_out})."
            if b.shape != (n_out,):
                return (f"{sig}: b of layer {index} has shape {b.shape}, expected ({n_out},): a 1-D array with "
                        "one bias per unit of the layer.")
            if W.dtype.kind != "f":
                return f"{sig}: W of layer {index} has dtype {W.dtype}; weights are floating-point numbers."
            if not np.all(np.isfinite(W)):
                return f"{sig}: W of layer {index} contains nan or inf."
            if np.any(b != 0):
                return (f"{sig}: b of layer {index} is {fmt(b)}; biases start at zero, np.zeros(n_out). "
                        "Only the weights are random.")
            arrays.append((W, b))
        for index, (W, _) in enumerate(arrays, start=1):
            if W.size > 1 and np.ptp(W) == 0:
                return (f"{sig}: every weight of layer {index} is {float(W.flat[0]):g}. If all weights are equal, every "
                        "unit of a layer computes the same thing and they stay identical during training: draw "
                        "the weights at random.")
        message = self._scale_message(sig, sizes, arrays)
        if message:
            return message
        again = got.get("again")
        if not self._same(arrays, again):
            return (f"{sig} gave different weights when called twice with the same seed. Create one generator "
                    "from the seed at the start, rng = np.random.default_rng(seed), and draw every W from it.")
        other = got.get("other_seed_W1")
        try:
            same_other = other is not None and np.array_equal(np.asarray(other, dtype=np.float64), arrays[0][0])
        except (TypeError, ValueError):
            same_other = False
        if same_other:
            return (f"{sig} gave the same weights for seed={seed} and seed={seed + 1}: the seed argument is "
                    "ignored. Build the generator from it: rng = np.random.default_rng(seed).")
        return None

    @staticmethod
    def _same(arrays, again) -> bool:
        if not isinstance(again, list) or len(again) != len(arrays):
            return False
        try:
            return all(isinstance(pair, list) and len(pair) == 2 and np.array_equal(np.asarray(pair[0]), W)
                       for pair, (W, _) in zip(again, arrays))
        except (TypeError, ValueError):
            return False

    @staticmethod
    def _scale_message(sig, sizes, arrays) -> str | None:
        checked = []  # (layer index, n_in, n_out, measured standard deviation about 0)
        for index, (W, _) in enumerate(arrays, start=1):
            if W.size < _MIN_WEIGHTS_FOR_SCALE:
                continue
            rms = float(np.sqrt(np.mean(W ** 2)))
            if abs(float(np.mean(W))) > 0.5 * rms:
                return (f"{sig}: the weights of layer {index} have mean {np.mean(W):.3g}, far from 0. Draw them "
                        "from a distribution centred on 0, e.g. rng.normal(0.0, std, size=(n_in, n_out)); "
                        "np.random.rand / rng.random give values in [0, 1).")
            checked.append((index, sizes[index - 1], sizes[index], rms))
        off = [(i, n_in, rms) for i, n_in, _, rms in checked
               if not _SCALE_BAND[0] <= rms / np.sqrt(2.0 / n_in) <= _SCALE_BAND[1]]
        if not off:
            return None
        index, n_in, rms = off[0]
        found = (f"{sig}: the weights of layer {index} (n_in = {n_in}) have standard deviation {rms:.3g}; "
                 f"He initialisation gives sqrt(2 / n_in) = {np.sqrt(2.0 / n_in):.3g}.")
        # Name the mistake whose scale fits every checked layer, not just the first one that is off.
        fits = []
        for k, (_, advice) in enumerate(_scale_candidates(2, 2)):
            worst = max(abs(np.log(rms_l / _scale_candidates(a, b)[k][0])) for _, a, b, rms_l in checked)
            fits.append((worst, advice))
        worst, advice = min(fits, key=lambda fit: fit[0])
        if worst < np.log(1.12):
            return f"{found} {advice}"
        return f"{found} Multiply standard-normal draws by sqrt(2 / n_in), or pass it as the scale."


# ------------------------------------------------------------------ Exercise 2: forward
class Forward(Check):
    name = "forward"
    signature = "forward(X, params)"
    public_cases = (
        Case({"X": _X_A, "params": _PARAMS_A, "_mistakes": _MISTAKES_A}, _OUT_A,
             "2 inputs, 3 hidden units, 2 outputs"),
        Case({"X": _X_B, "params": _PARAMS_B, "_mistakes": _MISTAKES_B}, _OUT_B,
             "3 inputs, hidden layers of 4 and 3 units, 2 outputs"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            sizes = [int(rng.integers(2, 7))] + [int(rng.integers(3, 9)) for _ in range(int(rng.integers(1, 4)))] \
                + [int(rng.integers(1, 4))]
            params = [(rng.normal(0, np.sqrt(2 / a), (a, b)), rng.normal(0, 0.5, b)) for a, b in zip(sizes[:-1], sizes[1:])]
            cases.append({"X": rng.normal(0, 1.5, (int(rng.integers(4, 12)), sizes[0])), "params": params})
        return cases

    def hidden_inputs(self, rng):
        # One layer only (a linear model: no ReLU anywhere), a single sample through five layers, and a wide batch.
        one_layer = [(rng.normal(0, 1, (4, 3)), rng.normal(0, 1, 3))]
        deep_sizes = [3, 6, 6, 6, 6, 2]
        deep = [(rng.normal(0, np.sqrt(2 / a), (a, b)), rng.normal(0, 0.3, b)) for a, b in zip(deep_sizes[:-1], deep_sizes[1:])]
        wide = [(rng.normal(0, 0.3, (20, 32)), rng.normal(0, 0.3, 32)), (rng.normal(0, 0.3, (32, 5)), rng.normal(0, 0.3, 5))]
        return [{"X": rng.normal(0, 1, (6, 4)), "params": one_layer},
                {"X": rng.normal(0, 1, (1, 3)), "params": deep},
                {"X": rng.normal(0, 1, (64, 20)), "params": wide}]

    def error_advice(self, inputs, error, detail):
        if error == "ValueError" and "unpack" in detail:
            return ("params can hold any number of layers, not a fixed two or three: loop over it, "
                    "for W, b in params[:-1], and then use params[-1] for the output layer.")
        if error == "ValueError" and any(word in detail for word in ("mismatch", "not aligned", "shape", "broadcast")):
            return _MATMUL_ADVICE
        return ""

    def compare(self, inputs, got, expected):
        expected = np.asarray(expected, dtype=np.float64)
        if isinstance(got, list) and got and all(np.ndim(g) >= 1 for g in got) and \
                len({np.shape(g) for g in got}) > 1:
            return (f"{self.signature} returned a list of {len(got)} arrays; it should return only the output "
                    f"of the last layer, one array of shape {expected.shape}.")
        if _near(got, expected):
            return None
        width = _hidden_width_message(self.signature, got, inputs, expected.shape[1])
        if width:
            return width
        return compare_array(self.signature, got, expected, inputs, tol=1e-5,
                             diagnoses=_forward_diagnoses(_NUMPY_ADVICE))


# ------------------------------------------------------------------ Exercise 3: count_params
class CountParams(Check):
    name = "count_params"
    signature = "count_params(layer_sizes)"
    public_cases = (
        Case({"layer_sizes": [2, 3, 1]}, 13, "layer_sizes = [2, 3, 1]"),
        Case({"layer_sizes": [4, 8, 6, 3]}, 115, "layer_sizes = [4, 8, 6, 3]"),
        Case({"layer_sizes": [784, 128, 64, 10]}, 109386, "layer_sizes = [784, 128, 64, 10]"),
    )

    def secret_inputs(self, rng):
        cases = []
        for depth in (2, 3, 5):
            cases.append({"layer_sizes": [int(v) for v in rng.integers(1, 300, depth + 1)]})
        return cases

    def hidden_inputs(self, rng):
        # A single layer, sizes given as a tuple, and one unit per layer.
        return [{"layer_sizes": [int(rng.integers(2, 50)), int(rng.integers(2, 50))]},
                {"layer_sizes": tuple(int(v) for v in rng.integers(5, 500, 4))},
                {"layer_sizes": [1, 1, 1, 1]}]

    def compare(self, inputs, got, expected):
        sizes = [int(v) for v in inputs["layer_sizes"]]
        sig = f"count_params({sizes})"
        if isinstance(got, (bool, str, list, tuple, dict)) or got is None or np.ndim(got) != 0:
            return f"{sig} should return one whole number, but returned {fmt(got) if not isinstance(got, (str, dict)) else repr(got)}."
        value = float(np.asarray(got, dtype=np.float64))
        expected = int(expected)
        if value == expected:
            return None
        weights_only = expected - sum(sizes[1:])
        reasons = [
            (weights_only, "That counts only the weights: each layer also has one bias per unit, n_out of them."),
            (weights_only + sum(sizes[:-1]), "The biases were counted per input (n_in). A layer has one bias per "
                                             "unit, so n_in * n_out + n_out parameters."),
            (expected + sizes[0], "The input layer got biases too. Only layers with weights have biases: the "
                                  "input layer is just the data and has no parameters."),
            (sum(sizes), "That is the number of units (neurons), not of parameters. Each layer has "
                         "n_in * n_out weights plus n_out biases."),
            (sum(sizes[1:]), "That counts only the biases: add the n_in * n_out weights of each layer."),
            (int(np.prod(sizes)), "Multiplying all the sizes together counts paths through the network. Add up "
                                  "n_in * n_out + n_out over the layers instead."),
        ]
        for wrong, advice in reasons:
            if value == wrong:
                return f"{sig} returned {int(value)}, expected {expected}. {advice}"
        return (f"{sig} returned {fmt(got)}, expected {expected}. Add up n_in * n_out + n_out over every pair "
                "of consecutive sizes (n_in, n_out).")


# ------------------------------------------------------------------ Exercise 4: keras_mlp
_rebuild = rebuild_model


def _sample(n_inputs: int) -> np.ndarray:
    """The public cases' batch of 3 samples; the grader's own cases draw theirs."""
    return np.linspace(-1.0, 1.0, 3 * n_inputs).reshape(3, n_inputs)


def _activation_name(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a serialised function or object
        config = value.get("config")
        if isinstance(config, str):
            return config
        return str(value.get("class_name", value))
    return str(value)


def _describe_layers(model, keras) -> list[dict]:
    layers = []
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dense):
            config = layer.get_config()
            layers.append({"kind": "Dense", "units": int(config["units"]),
                           "activation": _activation_name(config.get("activation")),
                           "use_bias": bool(config.get("use_bias", True))})
        elif isinstance(layer, keras.layers.ReLU):
            config = layer.get_config()
            plain = config.get("max_value") is None and not config.get("negative_slope") and not config.get("threshold")
            layers.append({"kind": "Activation", "activation": "relu" if plain else "relu_variant"})
        elif isinstance(layer, keras.layers.Activation):
            layers.append({"kind": "Activation", "activation": _activation_name(layer.get_config().get("activation"))})
        elif isinstance(layer, keras.layers.Dropout):
            layers.append({"kind": "Dropout"})  # the identity at inference
        else:
            layers.append({"kind": type(layer).__name__})
    return layers


def _effective_dense(layers: list[dict]) -> tuple[list[list], str | None]:
    """[(units, activation, use_bias)] with separate Activation layers folded into the Dense before them."""
    dense: list[list] = []
    for layer in layers:
        kind = layer.get("kind")
        if kind == "Dense":
            dense.append([layer["units"], layer["activation"], layer["use_bias"]])
        elif kind == "Activation":
            if not dense:
                return dense, "an Activation layer comes before the first Dense layer"
            act = layer["activation"]
            if act != "linear":
                dense[-1][1] = act if dense[-1][1] == "linear" else f"{dense[-1][1]} then {act}"
        elif kind != "Dropout":
            return dense, f"the model contains a {kind} layer; this MLP is made of Dense layers only"
    return dense, None


class KerasMLP(Check):
    name = "keras_mlp"
    signature = "keras_mlp(layer_sizes)"
    public_cases = (
        Case({"layer_sizes": [4, 8, 6, 3], "_X": _sample(4)}, {"n_params": 115}, "layer_sizes = [4, 8, 6, 3]"),
        Case({"layer_sizes": [2, 16, 1], "_X": _sample(2)}, {"n_params": 65}, "layer_sizes = [2, 16, 1]"),
    )

    def secret_inputs(self, rng):
        sizes = [int(rng.integers(2, 9))] + [int(rng.integers(3, 17)) for _ in range(int(rng.integers(2, 4)))] \
            + [int(rng.integers(1, 5))]
        return [{"layer_sizes": sizes, "_X": rng.normal(0.0, 1.0, (3, sizes[0]))}]

    def hidden_inputs(self, rng):
        # Only an output layer (no hidden layer at all), and five layers.
        n = int(rng.integers(2, 8))
        return [{"layer_sizes": [n, int(rng.integers(1, 4))], "_X": rng.normal(0.0, 1.0, (3, n))},
                {"layer_sizes": [3, 8, 8, 8, 8, 1], "_X": rng.normal(0.0, 1.0, (3, 3))}]

    def run(self, subject, inputs):
        sizes = list(inputs["layer_sizes"])
        return report_model(built_on_zeros(subject(list(sizes)), int(sizes[0])))

    def error_advice(self, inputs, error, detail):
        if "incompatible" in detail or "expected axis" in detail or "shape" in detail:
            return (f"The model must accept inputs with layer_sizes[0] = {inputs['layer_sizes'][0]} features: "
                    "start it with keras.Input(shape=(layer_sizes[0],)).")
        return ""

    def compare(self, inputs, got, expected):
        import keras

        sizes = [int(v) for v in inputs["layer_sizes"]]
        sig = f"keras_mlp({sizes})"
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        if not got.get("is_model"):
            return (f"{sig} returned a {got.get('kind')}, not a keras.Model. Put the layers in a model, e.g. "
                    "keras.Sequential([keras.Input(shape=(n0,)), keras.layers.Dense(...), ...]).")
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        dense, problem = _effective_dense(_describe_layers(model, keras))
        if problem:
            return f"{sig}: {problem}."
        units = [d[0] for d in dense]
        want_units = sizes[1:]
        if units != want_units:
            if units == sizes:
                return (f"{sig} has Dense layers with units {units}, expected {want_units}. The input layer is not "
                        "a Dense layer: it is keras.Input(shape=(layer_sizes[0],)), and holds no weights.")
            if units == want_units[::-1]:
                return f"{sig} has Dense layers with units {units}, expected {want_units}: the order is reversed."
            return (f"{sig} has Dense layers with units {units}, expected {want_units}: one Dense layer per "
                    "entry of layer_sizes after the first, in order.")
        for index, (n, act, _) in enumerate(dense[:-1], start=1):
            if act != "relu":
                cause = "has no activation (linear)" if act == "linear" else f"uses activation {act!r}"
                return (f"{sig}: hidden Dense layer {index} ({n} units) {cause}. Every hidden layer uses ReLU: "
                        "Dense(n, activation='relu').")
        if dense[-1][1] != "linear":
            return (f"{sig}: the output Dense layer uses activation {dense[-1][1]!r}. The output layer of this "
                    "network is linear: Dense(n_out) with no activation.")
        if not all(d[2] for d in dense):
            return f"{sig}: a Dense layer has use_bias=False. Every layer of this network has biases."
        n_params = int(model.count_params())
        want = _expected_params(expected)
        if n_params != want:
            return f"{sig} has {n_params} parameters (model.count_params()), expected {want}."
        X = np.asarray(inputs["_X"], dtype="float32")
        try:
            shape = list(predict(model, X).shape)
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the batch is the student's to fix
            detail = error_text(exc)
            advice = self.error_advice(inputs, type(exc).__name__, detail)
            return f"{sig} could not be run on a batch of shape {X.shape} ({detail}). {advice}".rstrip()
        if shape != [len(X), sizes[-1]]:
            return (f"{sig} maps a batch of {len(X)} samples to outputs of shape {tuple(shape)}, expected "
                    f"({len(X)}, {sizes[-1]}).")
        return None


def _expected_params(expected) -> int:
    """The expected parameter count: a public case's literal, or that of the reference's reported model."""
    if isinstance(expected, dict) and "n_params" in expected:
        return int(expected["n_params"])
    return int(_rebuild(expected).count_params())


# ------------------------------------------------------------------ Exercise 5: copy_weights
class KerasMLPNotImplemented(Exception):
    """Raised in the kernel when copy_weights cannot be checked because keras_mlp is still a stub."""


class CopyWeights(Check):
    """The subject is the pair (keras_mlp, copy_weights): weights are copied into the student's own model."""
    name = "copy_weights"
    signature = "copy_weights(model, params)"
    public_cases = (
        Case({"layer_sizes": [2, 3, 2], "params": _PARAMS_A, "_X": _X_A, "_mistakes": _MISTAKES_A}, _OUT_A,
             "the 2-3-2 network of Exercise 2"),
        Case({"layer_sizes": [3, 4, 3, 2], "params": _PARAMS_B, "_X": _X_B, "_mistakes": _MISTAKES_B}, _OUT_B,
             "the 3-4-3-2 network of Exercise 2"),
    )

    # The test cell reads checks.copy_weights(copy_weights, keras_mlp); a prepared pair works too.
    def __call__(self, copy_weights, keras_mlp=None) -> None:
        super().__call__(copy_weights if isinstance(copy_weights, tuple) else (keras_mlp, copy_weights))

    def hidden(self, copy_weights, keras_mlp=None) -> None:
        super().hidden(copy_weights if isinstance(copy_weights, tuple) else (keras_mlp, copy_weights))

    def secret_inputs(self, rng):
        sizes = [int(rng.integers(2, 7))] + [int(rng.integers(3, 9)) for _ in range(2)] + [int(rng.integers(1, 4))]
        params = [(rng.normal(0, np.sqrt(2 / a), (a, b)), rng.normal(0, 0.5, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        return [{"layer_sizes": sizes, "params": params, "_X": rng.normal(0, 1.5, (8, sizes[0]))}]

    def hidden_inputs(self, rng):
        # A single (output) layer, and weights as float32 arrays.
        one = [(rng.normal(0, 1, (3, 2)), rng.normal(0, 1, 2))]
        sizes = [5, 7, 7, 3]
        f32 = [(rng.normal(0, 0.6, (a, b)).astype("float32"), rng.normal(0, 0.3, b).astype("float32"))
               for a, b in zip(sizes[:-1], sizes[1:])]
        return [{"layer_sizes": [3, 2], "params": one, "_X": rng.normal(0, 1, (5, 3))},
                {"layer_sizes": sizes, "params": f32, "_X": rng.normal(0, 1, (6, 5))}]

    def run(self, subject, inputs):
        import keras
        build, copy_fn = subject
        inputs = copy.deepcopy(inputs)
        if build is None:
            raise TypeError("call the check as checks.copy_weights(copy_weights, keras_mlp)")
        try:
            model = build(list(inputs["layer_sizes"]))
        except NotImplementedError:
            raise KerasMLPNotImplemented() from None
        if not isinstance(model, keras.Model):
            return {"is_model": False, "kind": type(model).__name__}
        returned = copy_fn(model, [(W, b) for W, b in inputs["params"]])
        if isinstance(returned, keras.Model):
            model = returned
        return report_model(built_on_zeros(model, int(inputs["layer_sizes"][0])))

    def error_advice(self, inputs, error, detail):
        if "is not compatible with provided weight shape" in detail:
            return ("A Dense kernel has shape (n_in, n_out), the same as W: pass [W, b] as they are, "
                    "without transposing, to the Dense layer with the same position.")
        if "expecting 0 weights" in detail:
            return ("That layer holds no weights: either it is the InputLayer, which model.layers lists first in a "
                    "functional model, or the model is not built yet. Copy into the Dense layers only, "
                    "[l for l in model.layers if isinstance(l, keras.layers.Dense)], and start keras_mlp's model "
                    "with keras.Input so its weights exist.")
        if "weight list of length 1" in detail:
            return "layer.set_weights needs both arrays, kernel and bias: layer.set_weights([W, b])."
        return ""

    def judge(self, inputs, record, expected):
        if record.get("error") == KerasMLPNotImplemented.__name__:
            return Verdict(False, "keras_mlp(layer_sizes) is not implemented yet: this check copies the weights "
                                  "into the model it builds, so finish Exercise 4 first.")
        return super().judge(inputs, record, expected)

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        if not got.get("is_model"):
            return (f"keras_mlp returned a {got.get('kind')}, not a keras.Model: finish Exercise 4 first, "
                    "this check copies the weights into its model.")
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model from keras_mlp, after {self.signature}, cannot be checked: {exc}."
        X = np.asarray(inputs["_X"], dtype="float32")
        # A public case's expected outputs are literals; for the grader's own cases, the reference's model is rebuilt.
        expected = predict(_rebuild(expected), X) if isinstance(expected, dict) else np.asarray(expected, np.float64)
        try:
            outputs = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the batch is the student's to fix
            return (f"After copy_weights(model, params), the model could not be run on a batch of shape {X.shape} "
                    f"({error_text(exc)}).")
        if _near(outputs, expected):
            return None
        what = "After copy_weights(model, params), model(X)"
        return compare_array(what, outputs, expected, inputs, tol=1e-5, diagnoses=[
            *_forward_diagnoses(_KERAS_ADVICE),
            (lambda g, e, i: True,
             "The weights do not seem to be copied: for each Dense layer, in order, call "
             "layer.set_weights([W, b]). A fresh Dense layer starts from random weights."),
        ])


init_params = InitParams()
forward = Forward()
count_params = CountParams()
keras_mlp = KerasMLP()
copy_weights = CopyWeights()

CHECKS = CheckSet("03_feedforward", [init_params, forward, count_params, keras_mlp, copy_weights])
