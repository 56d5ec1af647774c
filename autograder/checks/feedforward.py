"""Checks for 03_feedforward: initialising an MLP, its numpy forward pass, its size, copying weights into
Keras, and the widest MLP that fits a parameter budget.

Nothing here computes a forward pass. Expected outputs of the public cases are literals
(worked out once, offline), and so are the outputs of the common mistakes on those cases,
kept under the grader-only key "_mistakes" so a message can name the mistake.

The two Keras parts are judged from the model itself (see `model_data`): the kernel reports only
`report_model(model)`, and the grader rebuilds it and computes its layers, weights, parameter count
and outputs on a batch in the grader-only key "_X", which the kernel never sees.

Stated rules (part / rule / how it is checked). Found 28, checked 25, suggestions only 3.
- init_params / a list with one (W, b) pair per layer, none for the input layer / `compare` (count message)
- init_params / W of shape (n_in, n_out) / shape message, named when transposed
- init_params / b of shape (n_out,), 1-D / shape message
- init_params / every b equal to zeros / value message
- init_params / W random, centred on 0 / equal-weights and mean messages
- init_params / standard deviation sqrt(2 / n_in) (He) / measured on layers with >= 256 weights, diagnoses
  for the usual wrong scales
- init_params / a normal distribution / suggestion only (the statement says a truncated normal or a uniform
  with the same spread passes: the check measures mean and spread)
- init_params / same seed, same weights / called twice with one seed
- init_params / the seed argument is honoured / a second seed must change W1
- init_params / one generator for every layer / layers that repeat one stream (a generator re-made from the
  seed per layer) are named
- forward / output of shape (m, n_L), only the last layer's values / shape, list and hidden-width messages
- forward / ReLU after every hidden layer, none on the output / values, diagnoses (ReLU on the output, no
  activation, sigmoid)
- forward / the biases / diagnosis (no biases)
- forward / any number of layers / secret depths 1-3 hidden, hidden 1-layer and 5-layer inputs, unpack advice
- forward / float32 accuracy / `compare.matches` with a float32 twin of the reference
- count_params / the total of n_in * n_out + n_out over the layers / value, diagnoses (weights only, per-input
  biases, input-layer biases, units, biases only, product)
- count_params / returned as an int / a whole float or a non-integer earns 1 of 2 points (Partial)
- count_params / layer_sizes given as a list or a tuple / hidden tuple input
- count_params / without building the arrays / suggestion only
- copy_weights / model(X) equals forward(X, params) up to float32 rounding / the grader rebuilds the reported
  model and runs it on "_X"; diagnoses from the reported weights against params
- copy_weights / W and b go in unchanged, in order / transposed, wrong-order, missing-bias diagnoses
- copy_weights / works for the three forms of checks.mlp_model / public and secret cases use every form
- copy_weights / returns the model / right weights without the return earn 2 of 3 points (Partial)
- widest_mlp / returns a keras.Model / message naming what came back (a width, a list of layers)
- widest_mlp / n_in inputs, n_hidden hidden Dense ReLU layers of one width, a linear Dense(n_out) output,
  biases / architecture requirement, one message per setting (1 point)
- widest_mlp / at most max_params parameters / budget requirement, diagnoses for an off-by-one loop,
  uncounted biases, one hidden layer assumed (1 point)
- widest_mlp / the largest width that fits / width requirement, diagnosis for < instead of <= (1 point)
- widest_mlp / use count_params / suggestion only

Partial credit: count_params (value vs type), copy_weights (copy vs return) and widest_mlp
(architecture, budget, width) check separable requirements; init_params and forward are all-or-nothing.
"""
from __future__ import annotations

import copy

import numpy as np

from .compare import compare_array, fmt, matches
from .core import Case, Check, CheckSet, Partial, Verdict, describe_value
from .model_data import built_on_zeros, error_text, rebuild_model, ModelRejected, all_layers, predict, report_model


# ------------------------------------------------------------------ shared helpers
def _near(got, expected, rtol: float = 1e-4, twin=None) -> bool:
    """Equal up to float32 rounding: `compare.matches` with an absolute floor of rtol times the largest output
    (several float32 layers round more than one float32 function does), and a float32 twin when given."""
    return matches(got, expected, 1e-5, floor=rtol, twin=twin)


def _pairs(params) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]



_MATMUL_ADVICE = ("A layer computes A @ W + b, with A of shape (m, n_in) and W of shape (n_in, n_out): "
                  "keep that order, and do not transpose W.")

# Public forward-pass cases, shared by forward (Exercise 2) and copy_weights (Exercise 4).
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

#: What each mistake means in numpy (Exercise 2); Exercise 4 has its own words (_COPY_ADVICE).
_NUMPY_ADVICE = {
    "relu_out": ("The negative outputs became 0: ReLU was applied to the output layer too. The last layer is "
                 "linear: return Z = A @ W + b of the last layer as it is."),
    "no_bias": "These are the outputs without the biases: every layer adds its b, Z = A @ W + b.",
    "no_relu": ("These are the outputs of a network with no activation at all: apply ReLU, max(0, Z), "
                "after every hidden layer."),
    "sigmoid": "The hidden layers used a sigmoid: this network uses ReLU, max(0, Z), in its hidden layers.",
    "zeros": "Every output is 0: return the last layer's output, not a placeholder.",
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
    expected_form = "a list of (W, b) pairs, one per layer"
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
        message = self._scale_message(sig, sizes, arrays) or self._repeated_stream_message(sig, arrays)
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
    def _repeated_stream_message(sig, arrays) -> str | None:
        """Layers whose weights are the first layer's random numbers again, rescaled: a generator re-made per layer."""
        first = arrays[0][0].ravel()
        for index, (W, _) in enumerate(arrays[1:], start=2):
            k = min(first.size, W.size)
            if k < 4:
                continue
            a, b = first[:k], W.ravel()[:k]
            if np.all(a != 0) and np.allclose(b / a, (b / a)[0], rtol=1e-5, atol=0):
                return (f"{sig}: layer {index} starts with the same random numbers as layer 1, only rescaled: a new "
                        "generator was made from the seed for each layer, so every layer repeats one stream. Make "
                        "one generator, rng = np.random.default_rng(seed), before the loop and draw every W from it.")
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
def _float32_forward(inputs: dict):
    """The reference's forward pass computed in float32 (what Keras does), so an answer as accurate passes."""
    try:
        A = np.asarray(inputs["X"], dtype=np.float32)
        params = [(np.asarray(W, np.float32), np.asarray(b, np.float32)) for W, b in inputs["params"]]
        for W, b in params[:-1]:
            A = np.maximum(A @ W + b, np.float32(0))
        return (A @ params[-1][0] + params[-1][1]).astype(np.float64)
    except (TypeError, ValueError, KeyError, IndexError):
        return None



class Forward(Check):
    name = "forward"
    signature = "forward(X, params)"
    expected_form = "one numpy array of shape (m, n_L)"
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
        if _near(got, expected, twin=_float32_forward(inputs)):
            return None
        width = _hidden_width_message(self.signature, got, inputs, expected.shape[1])
        if width:
            return width
        try:
            got_arr = np.asarray(got, dtype=np.float64)
            wrong = np.flatnonzero(np.any(np.abs(got_arr - expected) > 1e-4 * max(1.0, np.abs(expected).max()), axis=1))
            row = int(wrong[0]) if wrong.size else 0
            generic = (f"The first wrong row is sample {row}: expected {fmt(expected[row])}, got {fmt(got_arr[row])}. "
                       "Those outputs match none of the usual mistakes: follow that sample through your layers by "
                       "hand (the worked example above does it for the first sample of the 2-3-2 network).")
        except (TypeError, ValueError, IndexError):
            generic = "Those outputs match none of the usual mistakes: compare each step with the formulas above."
        return compare_array(self.signature, got, expected, inputs, tol=1e-5,
                             diagnoses=[*_forward_diagnoses(_NUMPY_ADVICE), (lambda g, e, i: True, generic)])


# ------------------------------------------------------------------ Exercise 3: count_params
class CountParams(Check):
    name = "count_params"
    signature = "count_params(layer_sizes)"
    expected_form = "an int"
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
            if np.asarray(got).dtype.kind in "iu":
                return None
            return Partial(1, 2, f"{self.signature} returned the right count, but as a float: the statement asks "
                                 "for an int. A division or a float in the sum makes a float; count with whole "
                                 "numbers, or return int(total).")
        weights_only = expected - sum(sizes[1:])
        reasons = [
            (weights_only, "the weights only",
             "That counts only the weights: each layer also has one bias per unit, n_out of them."),
            (weights_only + sum(sizes[:-1]), "one bias per input",
             "The biases were counted per input (n_in). A layer has one bias per unit, so n_in * n_out + n_out "
             "parameters."),
            (expected + sizes[0], "biases for the input layer too",
             "The input layer got biases too. Only layers with weights have biases: the input layer is just the "
             "data and has no parameters."),
            (sum(sizes), "the number of units",
             "That is the number of units (neurons), not of parameters. Each layer has n_in * n_out weights plus "
             "n_out biases."),
            (sum(sizes[1:]), "the biases only", "That counts only the biases: add the n_in * n_out weights of each layer."),
            (int(np.prod(sizes)), "the product of all the sizes",
             "Multiplying all the sizes together counts paths through the network. Add up n_in * n_out + n_out over "
             "the layers instead."),
        ]
        named = [(short, advice) for wrong, short, advice in reasons if value == wrong]
        if len(named) == 1:
            return f"{sig} returned {int(value)}, expected {expected}. {named[0][1]}"
        if named:  # one count that several mistakes give: name them all, not one of them
            return (f"{sig} returned {int(value)}, expected {expected}. For these sizes, "
                    f"{' and '.join(short for short, _ in named)} both give {int(value)}, neither of which is the "
                    "parameter count. A layer has n_in * n_out weights and n_out biases: add that up over the layers.")
        return (f"{sig} returned {fmt(got)}, expected {expected}. Add up n_in * n_out + n_out over every pair "
                "of consecutive sizes (n_in, n_out).")


# ------------------------------------------------------------------ Keras models, described from their config
_rebuild = rebuild_model


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
                           "use_bias": bool(config.get("use_bias", True)),
                           "n_in": int(layer.kernel.shape[0]) if layer.built else None})
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
    """[(units, activation, use_bias, n_in)] with separate Activation layers folded into the Dense before them."""
    dense: list[list] = []
    for layer in layers:
        kind = layer.get("kind")
        if kind == "Dense":
            dense.append([layer["units"], layer["activation"], layer["use_bias"], layer.get("n_in")])
        elif kind == "Activation":
            if not dense:
                return dense, "an Activation layer comes before the first Dense layer"
            act = layer["activation"]
            if act != "linear":
                dense[-1][1] = act if dense[-1][1] == "linear" else f"{dense[-1][1]} then {act}"
        elif kind != "Dropout":
            return dense, f"the model contains a {kind} layer; this MLP is made of Dense layers only"
    return dense, None


# ------------------------------------------------------------------ Exercise 4: copy_weights
#: The ways checks.mlp_model builds the same MLP: copy_weights must work for each.
MLP_FORMS = ("dense_relu", "relu_layers", "functional")


def mlp_model(layer_sizes, form: str = "dense_relu"):
    """The MLP of Exercise 2 in Keras (ReLU hidden layers, a linear output layer), built one of three ways.

    "dense_relu": keras.Sequential with Dense(n, activation="relu") hidden layers.
    "relu_layers": keras.Sequential with Dense(n) followed by its own keras.layers.ReLU() layer.
    "functional": the functional API; model.layers then starts with the InputLayer.
    """
    import keras

    sizes = [int(n) for n in layer_sizes]
    if form == "functional":
        inputs = keras.Input(shape=(sizes[0],))
        x = inputs
        for n in sizes[1:-1]:
            x = keras.layers.Dense(n, activation="relu")(x)
        return keras.Model(inputs, keras.layers.Dense(sizes[-1])(x))
    layers = [keras.Input(shape=(sizes[0],))]
    for n in sizes[1:-1]:
        layers += [keras.layers.Dense(n), keras.layers.ReLU()] if form == "relu_layers" else \
            [keras.layers.Dense(n, activation="relu")]
    return keras.Sequential(layers + [keras.layers.Dense(sizes[-1])])


def _weights_message(model, params) -> str | None:
    """What the reported model's Dense weights say about the copy, from the grader's own params; None if they are right."""
    import keras

    dense = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Dense)]
    pairs = _pairs(params)
    if len(dense) != len(pairs):
        return (f"the model now has {len(dense)} Dense layers for {len(pairs)} pairs (W, b): copy the weights into the "
                "model copy_weights is given, and return that model.")
    kernels = [np.asarray(layer.kernel.numpy(), np.float64) for layer in dense]
    biases = [np.asarray(layer.bias.numpy(), np.float64) if layer.bias is not None else None for layer in dense]

    def same(a, b):
        return a is not None and np.shape(a) == np.shape(b) and _near(a, b, 1e-6)

    kernel_ok = [same(K, W) for K, (W, _) in zip(kernels, pairs)]
    bias_ok = [same(c, b) for c, (_, b) in zip(biases, pairs)]
    if all(kernel_ok) and all(bias_ok):
        return None
    if all(kernel_ok):
        return ("every Dense layer holds its W, but not its b: copy both arrays of each pair, "
                "layer.set_weights([W, b]).")
    if any(same(K, W.T) for K, (W, _) in zip(kernels, pairs) if W.shape[0] == W.shape[1]):
        return ("a Dense kernel holds W transposed. A Dense kernel has shape (n_in, n_out), the same as W: pass "
                "[W, b] as they are.")
    if any(same(K, W) for i, K in enumerate(kernels) for j, (W, _) in enumerate(pairs) if i != j):
        return "the pairs went into the wrong layers: the l-th Dense layer takes the l-th pair (W, b) of params."
    if not any(kernel_ok):
        return ("no Dense layer holds its W from params (a Dense layer keeps its own random weights until "
                "set_weights replaces them). Call layer.set_weights([W, b]) on each Dense layer, in order, with W and "
                "b as they are.")
    copied = kernel_ok.index(False)
    first = "only the first Dense layer holds its" if copied == 1 else f"only the first {copied} Dense layers hold their"
    return (f"{first} (W, b): every Dense "
            "layer needs its pair. Skip the layers that hold no weights (an InputLayer, a ReLU layer) instead of "
            "pairing them with params.")


_COPY_ADVICE = {
    "relu_out": ("The negative outputs became 0, as if the output layer had a ReLU: copy_weights changes only the "
                 "weights (layer.set_weights), never the layers of the model it is given."),
    "no_bias": "These are the outputs without the biases: copy both arrays of each layer, layer.set_weights([W, b]).",
    "no_relu": ("These are the outputs of the same weights in a network with no activation: copy_weights must copy "
                "into the model it is given, which has its ReLUs, and return that model."),
    "sigmoid": ("These are the outputs of the same weights with sigmoid hidden layers: copy_weights must copy into "
                "the model it is given, which uses ReLU, and return that model."),
    "zeros": "Every output is 0: the model's weights are not those of params. Copy them with layer.set_weights([W, b]).",
}


class CopyWeights(Check):
    """The check builds each model with `mlp_model` (in the kernel) and calls copy_weights(model, params) on it."""
    name = "copy_weights"
    signature = "copy_weights(model, params)"
    expected_form = "the keras.Model it was given, with its weights replaced by params"
    public_cases = (
        Case({"layer_sizes": [2, 3, 2], "form": "dense_relu", "params": _PARAMS_A, "_X": _X_A, "_mistakes": _MISTAKES_A},
             _OUT_A, "the 2-3-2 network of Exercise 2, Dense(n, activation='relu') layers"),
        Case({"layer_sizes": [3, 4, 3, 2], "form": "relu_layers", "params": _PARAMS_B, "_X": _X_B,
              "_mistakes": _MISTAKES_B}, _OUT_B, "the 3-4-3-2 network of Exercise 2, with separate ReLU layers"),
        Case({"layer_sizes": [3, 4, 3, 2], "form": "functional", "params": _PARAMS_B, "_X": _X_B,
              "_mistakes": _MISTAKES_B}, _OUT_B, "the 3-4-3-2 network of Exercise 2, built with the functional API"),
    )

    def secret_inputs(self, rng):
        cases = []
        for form in rng.permutation(MLP_FORMS).tolist():
            sizes = [int(rng.integers(2, 7))] + [int(rng.integers(3, 9)) for _ in range(2)] + [int(rng.integers(1, 4))]
            params = [(rng.normal(0, np.sqrt(2 / a), (a, b)), rng.normal(0, 0.5, b)) for a, b in zip(sizes[:-1], sizes[1:])]
            cases.append({"layer_sizes": sizes, "form": form, "params": params, "_X": rng.normal(0, 1.5, (8, sizes[0]))})
        return cases

    def hidden_inputs(self, rng):
        # A single (output) layer, square layers (where a transposed W still fits), and float32 weights.
        one = [(rng.normal(0, 1, (3, 2)), rng.normal(0, 1, 2))]
        square = [(rng.normal(0, 0.6, (4, 4)), rng.normal(0, 0.3, 4)) for _ in range(3)]
        sizes = [5, 7, 7, 3]
        f32 = [(rng.normal(0, 0.6, (a, b)).astype("float32"), rng.normal(0, 0.3, b).astype("float32"))
               for a, b in zip(sizes[:-1], sizes[1:])]
        return [{"layer_sizes": [3, 2], "form": "functional", "params": one, "_X": rng.normal(0, 1, (5, 3))},
                {"layer_sizes": [4, 4, 4, 4], "form": "dense_relu", "params": square, "_X": rng.normal(0, 1, (6, 4))},
                {"layer_sizes": sizes, "form": "relu_layers", "params": f32, "_X": rng.normal(0, 1, (6, 5))}]

    def run(self, subject, inputs):
        import keras

        inputs = copy.deepcopy(inputs)
        model = mlp_model(list(inputs["layer_sizes"]), inputs["form"])
        returned = subject(model, [(W, b) for W, b in inputs["params"]])
        if isinstance(returned, keras.Model):
            record = report_model(returned)
            record["returned"] = "the model" if returned is model else "another model"
        else:
            record = report_model(model)  # a copy made in place still shows in the model it was given
            record["returned"] = describe_value(returned)
        return record

    def error_advice(self, inputs, error, detail):
        if "is not compatible with provided weight shape" in detail:
            return ("A Dense kernel has shape (n_in, n_out), the same as W: pass [W, b] as they are, "
                    "without transposing, to the Dense layer with the same position.")
        if "expecting 0 weights" in detail:
            return ("That layer holds no weights: it is an InputLayer (a functional model lists one first) or an "
                    "activation layer such as ReLU. Copy into the Dense layers only, in order, skipping the layers "
                    "without weights.")
        if "weight list of length 1" in detail:
            return "layer.set_weights needs both arrays, kernel and bias: layer.set_weights([W, b])."
        if "expecting" in detail and "weights" in detail:
            return ("model.set_weights wants every array of the model in one flat list [W1, b1, W2, b2, ...]; "
                    "layer.set_weights([W, b]) sets one layer.")
        return ""

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            return f"{self.signature} returned a {got.get('kind')}, which the check cannot run: return the model."
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model after {self.signature} cannot be checked: {exc}."
        X = np.asarray(inputs["_X"], dtype="float32")
        # A public case's expected outputs are literals; for the grader's own cases, the reference's model is rebuilt.
        expected = predict(_rebuild(expected), X) if isinstance(expected, dict) else np.asarray(expected, np.float64)
        try:
            outputs = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the batch is the student's to fix
            return (f"After {self.signature}, the model could not be run on a batch of shape {X.shape} "
                    f"({error_text(exc)}).")
        returned = str(got.get("returned", ""))
        if _near(outputs, expected):
            if returned in ("the model", "another model"):
                return None
            return Partial(2, 3, f"{self.signature} copied the weights, but returned {returned}: the statement asks "
                                 "it to return the model, so that copy_weights(keras_model, params) can be used "
                                 "in an expression. End with `return model`.")
        what = f"After {self.signature}, model(X)"
        weights = _weights_message(model, inputs["params"])
        generic = ("Those outputs match none of the usual mistakes, and the model's Dense layers hold the weights "
                   "of params: check that copy_weights changes nothing else in the model.")
        return compare_array(what, outputs, expected, inputs, tol=1e-5, diagnoses=[
            *([(lambda g, e, i: True, f"The weights say why: {weights}")] if weights else []),
            *_forward_diagnoses(_COPY_ADVICE),
            (lambda g, e, i: True, generic),
        ])


# ------------------------------------------------------------------ Exercise 5: widest_mlp
def _mlp_params(n_in: int, n_out: int, n_hidden: int, width: int, biases: bool = True) -> int:
    sizes = [n_in] + [width] * n_hidden + [n_out]
    return sum(a * b + (b if biases else 0) for a, b in zip(sizes[:-1], sizes[1:]))


def widest_width(n_in: int, n_out: int, n_hidden: int, max_params: int, biases: bool = True) -> int:
    """The largest width h whose [n_in, h, ..., h, n_out] MLP has at most max_params parameters (0 if none)."""
    low, high = 0, 1
    while _mlp_params(n_in, n_out, n_hidden, high, biases) <= max_params:
        low, high = high, 2 * high
    while high - low > 1:  # the count grows with h: bisect between a width that fits and one that does not
        mid = (low + high) // 2
        low, high = (mid, high) if _mlp_params(n_in, n_out, n_hidden, mid, biases) <= max_params else (low, mid)
    return low


class WidestMLP(Check):
    """Judged on the rebuilt model: its architecture, its parameter count and its width, one point each."""
    name = "widest_mlp"
    signature = "widest_mlp(n_in, n_out, n_hidden, max_params)"
    expected_form = "a keras.Model"
    public_cases = (
        Case({"n_in": 4, "n_out": 3, "n_hidden": 2, "max_params": 139}, {"width": 8},
             "n_in=4, n_out=3, n_hidden=2, max_params=139"),
        Case({"n_in": 784, "n_out": 10, "n_hidden": 1, "max_params": 60_000}, {"width": 75},
             "n_in=784, n_out=10, n_hidden=1, max_params=60000"),
        Case({"n_in": 2, "n_out": 1, "n_hidden": 1, "max_params": 1_000}, {"width": 249},
             "n_in=2, n_out=1, n_hidden=1, max_params=1000"),
        Case({"n_in": 20, "n_out": 5, "n_hidden": 3, "max_params": 5_000}, {"width": 43},
             "n_in=20, n_out=5, n_hidden=3, max_params=5000"),
    )

    def secret_inputs(self, rng):
        cases = []
        for n_hidden, exact in ((1, False), (int(rng.integers(2, 4)), False), (int(rng.integers(2, 5)), True)):
            n_in, n_out = int(rng.integers(2, 400)), int(rng.integers(1, 12))
            width = int(rng.integers(6, 120))
            fits = _mlp_params(n_in, n_out, n_hidden, width)
            # A budget a few parameters short of the next width, or exactly a network's count (<= is the rule).
            budget = fits if exact else int(rng.integers(fits, _mlp_params(n_in, n_out, n_hidden, width + 1)))
            cases.append({"n_in": n_in, "n_out": n_out, "n_hidden": n_hidden, "max_params": budget})
        return cases

    def hidden_inputs(self, rng):
        # Four hidden layers one parameter short of the next width, and a budget that allows a width of 1 only.
        n_in, n_out = int(rng.integers(5, 60)), int(rng.integers(1, 5))
        short = _mlp_params(n_in, n_out, 4, int(rng.integers(10, 40)) + 1) - 1
        return [{"n_in": n_in, "n_out": n_out, "n_hidden": 4, "max_params": short},
                {"n_in": 30, "n_out": 2, "n_hidden": 2, "max_params": _mlp_params(30, 2, 2, 2) - 1}]

    def run(self, subject, inputs):
        args = {k: int(inputs[k]) for k in ("n_in", "n_out", "n_hidden", "max_params")}
        return report_model(built_on_zeros(subject(**args), args["n_in"]))

    def compare(self, inputs, got, expected):
        import keras

        n_in, n_out, n_hidden, budget = (int(inputs[k]) for k in ("n_in", "n_out", "n_hidden", "max_params"))
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            kind = str(got.get("kind"))
            article = "an" if kind[:1].lower() in "aeiou" else "a"
            if kind in ("int", "float", "int64", "int32", "float64", "tuple"):
                return (f"{sig} returned {article} {kind}, not a keras.Model: build the network with the width you "
                        "found and return the model itself.")
            return (f"{sig} returned {article} {kind}, not a keras.Model. Put the layers in a model, e.g. "
                    "keras.Sequential([keras.Input(shape=(n_in,)), keras.layers.Dense(...), ...]).")
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        dense, problem = _effective_dense(_describe_layers(model, keras))
        if problem or not dense:
            return f"{sig}: {problem or 'the model has no Dense layer'}."
        hidden, (out_units, out_act, _, _) = dense[:-1], dense[-1]
        widths = [d[0] for d in hidden]
        arch = []  # the first unmet architecture setting
        if dense[0][3] is not None and dense[0][3] != n_in:
            arch.append("its first Dense layer does not take n_in inputs: start the model with "
                        "keras.Input(shape=(n_in,)).")
        if len(hidden) != n_hidden:
            arch.append("the number of hidden Dense layers is not n_hidden: one Dense(width, activation='relu') per "
                        "hidden layer, then the output layer.")
        if len(set(widths)) > 1:
            arch.append("its hidden layers have different widths; the statement asks for n_hidden layers of one "
                        "width.")
        for index, (n, act, _, _) in enumerate(hidden, start=1):
            if act != "relu":
                cause = "has no activation (linear)" if act == "linear" else f"uses activation {act!r}"
                arch.append(f"hidden Dense layer {index} {cause}: every hidden layer uses ReLU, "
                            "Dense(width, activation='relu').")
                break
        if out_units != n_out:
            arch.append("its output Dense layer does not have n_out units.")
        if out_act != "linear":
            arch.append(f"its output Dense layer uses activation {out_act!r}; the output layer is linear, "
                        "Dense(n_out) with no activation.")
        if not all(d[2] for d in dense):
            arch.append("a Dense layer has use_bias=False; every layer of this network has biases.")
        shape_ok = (dense[0][3] in (None, n_in) and len(hidden) == n_hidden and len(set(widths)) == 1
                    and out_units == n_out)
        if not shape_ok:
            # The budget and the width are about this shape of network: another shape earns neither.
            return Partial(0, 3, f"The model from {sig}: {arch[0]}")
        n_params = int(model.count_params())
        best = widest_width(n_in, n_out, n_hidden, budget)
        width = widths[0]
        within = n_params <= budget
        budget_message = "" if within else self._over_budget(n_in, n_out, n_hidden, budget, width, best)
        widest = width == best and within
        width_message = ""
        if within and not widest and width is not None and width < best:
            if _mlp_params(n_in, n_out, n_hidden, width + 1) == budget:
                width_message = ("a width one larger uses exactly max_params parameters, which is within the budget: "
                                 "the limit is 'at most', so compare with <=, not <.")
            else:
                width_message = ("its hidden layers are narrower than the budget allows: a wider network of the same "
                                 "shape still fits in max_params.")
        elif within and not widest and width is not None:
            width_message = "its width is not the largest that fits in max_params."
        items = [(not arch, arch[0] if arch else ""), (within, budget_message), (widest, width_message)]
        unmet = [text for met, text in items if not met and text]
        earned = sum(met for met, _ in items)
        if earned == len(items):
            return None
        return Partial(earned, len(items), f"The model from {sig}: " + " Also, ".join(unmet))

    @staticmethod
    def _over_budget(n_in, n_out, n_hidden, budget, width, best) -> str:
        what = "it has more parameters than max_params allows"
        causes = []  # every usual mistake that gives exactly this width; it is named only when it is the one
        if width == best + 1:
            causes.append(("a loop that returns the first width that does not fit",
                           "its width is the first that does not fit. Return the last width whose count is "
                           "<= max_params, not the first one above it."))
        if width == widest_width(n_in, n_out, n_hidden, budget, biases=False):
            causes.append(("a count without the biases",
                           "the width fits only if the biases are not counted. Each Dense layer also has one bias "
                           "per unit; count_params from Exercise 3 counts them."))
        if n_hidden > 1 and width == widest_width(n_in, n_out, 1, budget):
            causes.append(("a count of one hidden layer only",
                           "that width would fit with one hidden layer, but each further hidden layer of width h "
                           "adds (h + 1) * h parameters. Count the whole network, [n_in] + [h] * n_hidden + [n_out]."))
        if len(causes) == 1:
            return f"{what}. {causes[0][1][0].upper()}{causes[0][1][1:]}"
        if causes:
            return (f"{what}. " + " and ".join(name for name, _ in causes).capitalize() + " would each give this "
                    "width: count the whole network, biases included, and keep the last width that fits.")
        return f"{what}. Count them with count_params from Exercise 3, or model.count_params()."


init_params = InitParams()
forward = Forward()
count_params = CountParams()
copy_weights = CopyWeights()
widest_mlp = WidestMLP()

CHECKS = CheckSet("03_feedforward", [init_params, forward, count_params, copy_weights, widest_mlp])
