"""Checks for 05_backprop: a 2-layer network's forward pass with its cache, its backward pass, numerical
gradients, the relative error of a gradient check, the same gradients from tf.GradientTape, and a training
loop judged by the loss it reaches on scikit-learn's breast-cancer data and by the rules of the loop.

The network is X (m, n) -> Dense(h, ReLU) -> Dense(1, sigmoid), with the mean binary cross-entropy as loss,
and params = {"W1": (n, h), "b1": (h,), "W2": (h, 1), "b2": (1,)}. Nothing here computes that network's
outputs or gradients: expected values of the public cases are literals worked out once, offline (so are the
results of two common mistakes in the backward pass, under the grader-only key "_mistakes"), and grading
compares with the reference solution's results.

Stated rules (part / rule / how it is checked). Found 30, checked 28, suggestions only 2 (the lines about
points are how they are split, not rules).
- forward / return a pair (A2, cache) / `compare`: the pair, the cache's type and keys
- forward / cache = {"Z1", "A1", "Z2", "A2"} / missing keys named
- forward / Z1 = X @ W1 + b1, stored before the ReLU / values; diagnoses (no b1, post-activation)
- forward / A1 = max(0, Z1), a ReLU hidden layer / values; diagnoses (no ReLU, sigmoid, tanh)
- forward / Z2 = A1 @ W2 + b2; A2 = sigmoid(Z2), shapes (m, h) and (m, 1) / values and shapes; diagnoses
- forward / A2 and the cache are separate requirements: 1 of 2 points for either alone (Partial)
- backward / return a dict dW1, db1, dW2, db2 / type and keys
- backward / every gradient has its parameter's shape / shape messages (transposed, not summed, wrong axis)
- backward / dZ2 = (A2 - y) / m, the factor 1/m once / diagnoses (missing, twice, in one gradient only)
- backward / dZ1 = dA1 * (Z1 > 0) / diagnoses (no mask, sigmoid derivative); the ReLU step named otherwise
- backward / uses the cache of the student's forward / forward is run first; a wrong forward is named
- backward / output layer and hidden layer are separate requirements: 2 of 4 points for either alone (Partial)
- numerical_gradient / central difference (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) / values at 1e-7;
  diagnoses (forward difference, 2x, x/2, all entries at once)
- numerical_gradient / x of any shape; the result has x's shape / 1-D, 2-D, a column and 3-D inputs
- numerical_gradient / the eps argument is used / secret eps in [1e-4, 1e-2], a hidden eps = 0.05; diagnosis
  "the default eps"
- numerical_gradient / the caller's x is left unchanged / the kernel compares x before and after
- numerical_gradient / np.ndindex, a float copy / suggestion only (hints)
- relative_error / max over entries of |a - b| / max(1e-8, |a| + |b|), one float / values at 1e-6; the
  one-number rule; diagnoses (absolute, no floor, mean, norms, max(|a|, |b|), computed in float32)
- relative_error / the 1e-8 floor: 0 for two zero arrays, not nan / public and hidden cases
- relative_error / computed in float64 / a public case that agrees to 1e-7; diagnosis "computed in float32"
- tape_gradients / the same network and mean loss inside the tape / values at 1e-4 (float32 passes);
  diagnoses (summed loss, sign)
- tape_gradients / a dict dW1, db1, dW2, db2 / type and keys; a gradient of None named (loss outside the tape)
- tape_gradients / the gradients as numpy arrays / the kernel records each value's type
- tape_gradients / float64 variables / suggestion only (float32 passes within 1e-4)
- train / return a pair (params, losses), params a dict / type messages
- train / start from init_params(X.shape[1], n_hidden, seed): n_hidden used / parameter shapes, with secret
  n_hidden in {12, 20}; a network of another width "ignores its n_hidden argument" (Partial: the recording's
  point, which cannot be judged from another start)
- train / the seed argument used / the kernel runs train again from seed + 1: the first loss must change
- train / epochs steps of batch gradient descent with the lr argument / the second recorded loss (after one
  update) against the reference's, secret lr in {0.4, 0.6}; the loss goal
- train / losses: one float per epoch (a list; a 1-D array passes too) / the count, with secret epochs in
  {150, 250}; a History or other object named
- train / each loss recorded before its update / losses[0] against the reference's loss of the starting
  parameters; diagnosis "recorded after the update"
- train / a training loss of at most 0.08 / the grader computes it with the student's forward on the trained
  params
- train / uses the student's forward and backward / both run on a public case first; a wrong one is named
- train / the goal, the recording and the seed are a point each (Partial, the goal first)
"""
from __future__ import annotations

import copy
from functools import cached_property

import numpy as np

from .compare import compare_array, fmt, matches, rel_error, within_scale
from .core import Case, Check, CheckSet, Partial, Verdict, describe_value, requirements

PARAM_KEYS = ("W1", "b1", "W2", "b2")
GRAD_KEYS = ("dW1", "db1", "dW2", "db2")
CACHE_KEYS = ("Z1", "A1", "Z2", "A2")

#: The training loss (mean binary cross-entropy on the training data) that train must reach. The reference
#: reaches 0.02-0.035 over seeds with the stated settings; an untrained network sits near 0.7.
LOSS_THRESHOLD = 0.08
TRAIN_SETTINGS = {"n_hidden": 16, "lr": 0.5, "epochs": 200}


# ------------------------------------------------------------------ shared helpers
def _floats(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _near(got, expected, rtol: float = 1e-6) -> bool:
    """Equal up to rounding: measured against the largest expected value (so entries near 0 are fair), or by
    the shared acceptance test `compare.matches` (float32's absolute floor), whichever is kinder."""
    return within_scale(got, expected, rtol, floor=1e-3) or matches(got, expected, rtol)


def _judge_array(what: str, got, expected, inputs: dict, *, rtol: float = 1e-6, diagnoses=()) -> str | None:
    """None when `got` is near `expected` (see _near), else compare_array's teaching message."""
    if _near(got, expected, rtol):
        return None
    return compare_array(what, got, expected, inputs, tol=rtol, diagnoses=diagnoses) or (
        f"{what} returned {fmt(got)}, expected {fmt(expected)}.")


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-_floats(z)))


def _bce(probabilities, y) -> float:
    p = np.clip(_floats(probabilities).reshape(-1), 1e-12, 1 - 1e-12)
    y = _floats(y).reshape(-1)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _network_case(rng, m: int, n: int, h: int) -> dict:
    """Random inputs for the 2-layer network, with pre-activations kept away from 0 (where ReLU bends)."""
    params = {"W1": rng.normal(0, 1.0, (n, h)), "b1": rng.normal(0, 0.5, h),
              "W2": rng.normal(0, 1.0, (h, 1)), "b2": rng.normal(0, 0.5, 1)}
    X = rng.normal(0, 1.0, (m, n))
    Z1 = X @ params["W1"] + params["b1"]
    close_to_zero = np.abs(Z1) < 1e-3
    params["b1"] = params["b1"] + 0.01 * close_to_zero.any(axis=0)  # nudge a bias that lands on a kink
    y = rng.integers(0, 2, (m, 1)).astype(float)
    return {"X": X, "y": y, "params": params}


def _sizes(rng) -> tuple[int, int, int]:
    """(m, n, h) with n != h, so that a transposed W1 is caught by its shape."""
    m, n = int(rng.integers(5, 13)), int(rng.integers(2, 6))
    h = int(rng.integers(3, 8))
    return m, n, h + 1 if h == n else h


class _Paired(Check):
    """A check whose subject is (forward, other): the other function is called on the student's own forward."""

    first_name = "forward"

    def __call__(self, subject, forward=None) -> None:
        super().__call__(subject if isinstance(subject, tuple) else (forward, subject))

    def hidden(self, subject, forward=None) -> None:
        super().hidden(subject if isinstance(subject, tuple) else (forward, subject))

    def judge(self, inputs, record, expected):
        if record.get("error") == ForwardNotImplemented.__name__:
            return Verdict(False, f"forward(X, params) is not implemented yet: {self.signature} is checked with "
                                  "your forward, so finish Exercise 1 first.")
        return super().judge(inputs, record, expected)


class ForwardNotImplemented(Exception):
    """Raised in the kernel when a check needs the student's forward and it is still a stub."""


def _call_forward(forward, X, params):
    if forward is None:
        raise TypeError("call the check with your forward function too, e.g. checks.backward(backward, forward)")
    try:
        return forward(X, params)
    except NotImplementedError:
        raise ForwardNotImplemented() from None


def _as_array_or_none(value):
    return None if value is None else np.array(value, dtype=np.float64)


# ------------------------------------------------------------------ public network cases (literals)
# Case A: 4 samples, 3 features, 4 hidden units. Case B: 6 samples, 2 features, 3 hidden units.
_X_A = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-1.5, 0.5, 0.0], [2.0, 0.0, 1.0]])
_Y_A = np.array([[1.0], [0.0], [1.0], [0.0]])
_PARAMS_A = {"W1": np.array([[0.5, -1.0, 0.25, 0.1], [0.75, 0.5, -0.5, -0.3], [-0.25, 1.0, 0.5, 0.2]]),
             "b1": np.array([0.1, -0.2, 0.0, 0.25]), "W2": np.array([[1.0], [-0.5], [0.75], [-1.0]]),
             "b2": np.array([0.2])}
_X_B = np.array([[0.2, -1.0], [1.5, 0.5], [-0.5, 2.0], [1.0, 1.0], [-2.0, -0.5], [0.0, 0.8]])
_Y_B = np.array([[0.0], [1.0], [1.0], [0.0], [0.0], [1.0]])
_PARAMS_B = {"W1": np.array([[1.0, -0.5, 0.8], [-0.6, 1.2, 0.4]]), "b1": np.array([0.0, 0.1, -0.3]),
             "W2": np.array([[0.9], [-1.1], [0.6]]), "b2": np.array([-0.1])}
_FWD_A = {'A2': np.array([[0.9275735146384823], [0.5046873626757262], [0.36008390326226586], [0.759510916949111]]), 'Z1': np.array([[2.35, -1.2, -1.25, -0.44999999999999996], [-0.9, 0.8, 1.625, 1.0], [-0.275, 1.55, -0.625, -0.050000000000000044], [0.85, -1.2, 1.0, 0.65]]), 'A1': np.array([[2.35, 0.0, 0.0, 0.0], [0.0, 0.8, 1.625, 1.0], [0.0, 1.55, 0.0, 0.0], [0.85, 0.0, 1.0, 0.65]]), 'Z2': np.array([[2.5500000000000003], [0.0187500000000001], [-0.575], [1.1500000000000001]])}
_GRADS_A = {'dW1': np.array([[0.36164883713417606, -0.15152722830555804, 0.332131034106766, -0.4428413788090213], [-0.03621324268075887, 0.10308067638057417, -0.09462888050169867, 0.12617184066893156], [0.20798435057765718, -0.12617184066893156, 0.3316660579313556, -0.44222141057514086]]), 'db1': np.array([0.1717711078968983, 0.016903591757750996, 0.23703717742965696, -0.3160495699062093]), 'dW2': np.array([[0.1188455097017944], [-0.14703001495072676], [0.39490697032429156], [0.2495923646731621]]), 'db2': np.array([0.13796392438139632])}
_MISTAKES_A = {'no_mask': {'dW1': np.array([[0.6647032937452921, -0.33235164687264607, 0.49852747030896916, -0.6647032937452921], [-0.2423745954419072, 0.1211872977209536, -0.1817809465814304, 0.2423745954419072], [0.4603280319155203, -0.23016401595776015, 0.3452460239366402, -0.4603280319155203]]), 'db1': np.array([0.13796392438139632, -0.06898196219069816, 0.10347294328604724, -0.13796392438139632])}, 'sigmoid_prime': {'dW1': np.array([[0.15005939140585461, -0.05624445968716663, 0.10102213953167569, -0.1536301125809878], [-0.04843079071768713, 0.022492242633521398, -0.03133204523530846, 0.05340179729693793], [0.09312710170483786, -0.04548901000154883, 0.05636355765337858, -0.09670730282566001]]), 'db1': np.array([0.025072293621924358, -0.01722028208330539, 0.011407796409199717, -0.023320620661125536])}}
_FWD_B = {'A2': np.array([[0.6502185485738271], [0.8375349374193038], [0.044574280433886455], [0.48001065984441826], [0.34298953732650117], [0.22200848777849702]]), 'Z1': np.array([[0.8, -1.2, -0.54], [1.2, -0.05000000000000002, 1.1], [-1.7, 2.75, 0.10000000000000003], [0.4, 0.7999999999999999, 0.9000000000000001], [-1.7, 0.5, -2.1], [-0.48, 1.06, 0.020000000000000073]]), 'A1': np.array([[0.8, 0.0, 0.0], [1.2, 0.0, 1.1], [0.0, 2.75, 0.10000000000000003], [0.4, 0.7999999999999999, 0.9000000000000001], [0.0, 0.5, 0.0], [0.0, 1.06, 0.020000000000000073]]), 'Z2': np.array([[0.6200000000000001], [1.64], [-3.0650000000000004], [-0.07999999999999996], [-0.65], [-1.2540000000000002]])}
_GRADS_B = {'dW1': np.array([[0.05495351635322092, -0.04981981491198664, 0.07140259257564308], [-0.03771606300296354, 0.40786693891684805, -0.21344665203553595]]), 'db1': np.array([0.1451646218756324, 0.16690978967972783, -0.14158716345238942]), 'dW2': np.array([[0.08620350461666562], [-0.48276473920380336], [0.023699270470028202]]), 'db2': np.array([-0.07044392477059436])}
_MISTAKES_B = {'no_mask': {'dW1': np.array([[0.0237135841227291, -0.028983269483335544, 0.0158090560818194], [-0.44342697563886563, 0.5419663035586135, -0.2956179837592437]]), 'db1': np.array([-0.06339953229353495, 0.07748831724765382, -0.042266354862356616])}, 'sigmoid_prime': {'dW1': np.array([[0.010888817680197945, 0.012705284112147112, 0.013568883822020535], [-0.06857199361768002, 0.055081867056183814, -0.07166072900448847]]), 'db1': np.array([-0.005727736721464136, -0.010216814224762016, -0.017994326024549027])}}


# ------------------------------------------------------------------ value-free advice (for partial credit)
def _problem(what: str, got, expected, inputs: dict, diagnoses=(), generic: str = "", rtol: float = 1e-6):
    """(message, advice) for one array: both None when it is right.

    The message quotes values and shapes (for a failing public case, or when the whole part fails); the
    advice names the mistake without quoting anything, for a partial-credit message that may concern the
    grader's own inputs.
    """
    if got is not None and _near(got, expected, rtol):
        return None, None
    message = _judge_array(what, got, expected, inputs, rtol=rtol, diagnoses=diagnoses)
    if got is None or np.shape(got) != np.shape(expected):
        return message, f"{what} has the wrong shape. {generic}".strip()
    for test, advice in diagnoses:
        try:
            if test(_floats(got), _floats(expected), inputs):
                return message, f"{what} is wrong. {advice}"
        except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
            continue
    return message, f"{what} is wrong. {generic}".strip()


# ------------------------------------------------------------------ Exercise 1: forward
def _forward_expected(fwd: dict) -> dict:
    return {"A2": fwd["A2"], "cache": {"Z1": fwd["Z1"], "A1": fwd["A1"], "Z2": fwd["Z2"], "A2": fwd["A2"]}}


def _network_reply(value) -> tuple | None:
    """(A2, cache) from what forward returned, or None when it is not such a pair."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    return None


class Forward(Check):
    """Two separable requirements, a point each: the output A2, and the cache backward reads."""
    name = "forward"
    signature = "forward(X, params)"
    expected_form = "a pair (A2, cache): an array of shape (m, 1) and a dict with Z1, A1, Z2 and A2"
    public_cases = (
        Case({"X": _X_A, "params": _PARAMS_A}, _forward_expected(_FWD_A), "4 samples, 3 features, 4 hidden units"),
        Case({"X": _X_B, "params": _PARAMS_B}, _forward_expected(_FWD_B), "6 samples, 2 features, 3 hidden units"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            case = _network_case(rng, *_sizes(rng))
            cases.append({"X": case["X"], "params": case["params"]})
        return cases

    def hidden_inputs(self, rng):
        # One sample, and a wide hidden layer with large weights (outputs close to 0 and 1).
        one = _network_case(rng, 1, 3, 5)
        wide = _network_case(rng, 8, 4, 32)
        wide["params"]["W2"] = wide["params"]["W2"] * 3
        return [{"X": one["X"], "params": one["params"]}, {"X": wide["X"], "params": wide["params"]}]

    def run(self, subject, inputs):
        inputs = copy.deepcopy(inputs)
        reply = _network_reply(subject(inputs["X"], inputs["params"]))
        if reply is None:
            return {"pair": False}
        A2, cache = reply
        if not isinstance(cache, dict):
            return {"pair": True, "A2": _as_array_or_none(A2), "cache_kind": type(cache).__name__}
        return {"pair": True, "A2": _as_array_or_none(A2),
                "cache": {key: _as_array_or_none(cache[key]) for key in CACHE_KEYS if key in cache}}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or not got.get("pair"):
            return (f"{sig} should return a pair (A2, cache): the output probabilities and a dict holding "
                    "Z1, A1, Z2 and A2. End with `return A2, cache`.")
        exp_z2 = _floats(expected["cache"]["Z2"])
        output = [
            (lambda g, e, i: _near(g, exp_z2), "That is Z2: pass it through the sigmoid, A2 = 1 / (1 + exp(-Z2))."),
            (lambda g, e, i: _near(g, np.maximum(exp_z2, 0)),
             "ReLU was applied to the output layer: the output is a probability, A2 = sigmoid(Z2)."),
            (lambda g, e, i: _near(g, 1 - _floats(e)), "The sign inside the exponential is flipped: sigmoid(z) = 1 / (1 + exp(-z))."),
        ]
        a2_message, a2_advice = _problem(sig + " (its A2)", got.get("A2"), expected["A2"], inputs, output,
                                         "A2 = 1 / (1 + exp(-Z2)) with Z1 = X @ W1 + b1, A1 = max(0, Z1), "
                                         "Z2 = A1 @ W2 + b2.")
        cache_message, cache_advice, stage = self._cache_problem(sig, inputs, got, expected)
        if a2_message and cache_message:
            # Both wrong: the first stage of the cache that went wrong explains A2 too; when that stage is A2
            # itself, A2's own diagnosis says more.
            return a2_message if stage == "A2" else cache_message
        if cache_message:
            return Partial(1, 2, f"A2 is right, but the cache is not. {cache_advice}")
        if a2_message:
            return Partial(1, 2, f"The cache is right, but the A2 that forward returns is not: {a2_advice}")
        return None

    @staticmethod
    def _cache_problem(sig, inputs, got, expected):
        """(message, advice, key) for the first wrong entry of the cache, or (None, None, None)."""
        if "cache_kind" in got:
            text = (f"{sig} returned a cache of type {got['cache_kind']}; it should be a dict "
                    "{'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}, which backward reads by name.")
            return text, text, None
        cache, exp_cache = got.get("cache", {}), expected["cache"]
        missing = [key for key in CACHE_KEYS if cache.get(key) is None]
        if missing:
            text = (f"The cache returned by {sig} has no {', '.join(missing)}. Keep every intermediate array: "
                    "{'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}; backward needs them.")
            return text, text, None
        b1, b2 = _floats(inputs["params"]["b1"]), _floats(inputs["params"]["b2"])
        exp_z1, exp_z2 = _floats(exp_cache["Z1"]), _floats(exp_cache["Z2"])
        stages = [
            ("cache['Z1']", "Z1", [
                (lambda g, e, i: _near(g, exp_z1 - b1), "b1 is missing: Z1 = X @ W1 + b1."),
                (lambda g, e, i: _near(g, np.maximum(exp_z1, 0)),
                 "cache['Z1'] holds the activations: Z1 is the pre-activation X @ W1 + b1, before the ReLU. "
                 "backward needs it for the ReLU mask (Z1 > 0)."),
            ], "Z1 = X @ W1 + b1, before the ReLU."),
            ("cache['A1']", "A1", [
                (lambda g, e, i: _near(g, exp_z1), "The ReLU is missing: A1 = max(0, Z1), e.g. np.maximum(0, Z1)."),
                (lambda g, e, i: _near(g, _sigmoid(exp_z1)),
                 "The hidden layer used a sigmoid: this network's hidden layer is ReLU, A1 = np.maximum(0, Z1)."),
                (lambda g, e, i: _near(g, np.tanh(exp_z1)),
                 "The hidden layer used tanh: it is ReLU, A1 = np.maximum(0, Z1)."),
            ], "A1 = np.maximum(0, Z1)."),
            ("cache['Z2']", "Z2", [
                (lambda g, e, i: _near(g, exp_z2 - b2), "b2 is missing: Z2 = A1 @ W2 + b2."),
                (lambda g, e, i: _near(g, _sigmoid(exp_z2)),
                 "cache['Z2'] holds the probabilities: Z2 is the output layer's weighted sum A1 @ W2 + b2, before "
                 "the sigmoid."),
            ], "Z2 = A1 @ W2 + b2, before the sigmoid."),
            ("cache['A2']", "A2", [], "cache['A2'] must be the same A2 that forward returns, sigmoid(Z2)."),
        ]
        for what, key, diagnoses, generic in stages:
            message, advice = _problem(what, cache[key], exp_cache[key], inputs, diagnoses, generic)
            if message:
                return message, advice, key
        return None, None, None


# ------------------------------------------------------------------ Exercise 2: backward
def _backward_expected(fwd: dict, grads: dict) -> dict:
    return {"A2": fwd["A2"], "grads": grads}


def _grad_shape_advice(key: str, got_shape, exp_shape, m: int, quote: bool = True) -> str | None:
    """What a wrong gradient shape shows; `quote` False leaves the shapes out (for a partial-credit message)."""
    param = key[1:]
    source = "X.T @ dZ1" if key == "dW1" else "A1.T @ dZ2"
    if len(exp_shape) == 2 and tuple(got_shape) == tuple(exp_shape[::-1]) and got_shape != exp_shape:
        if not quote:
            return f"{key} is transposed: a gradient has its parameter's shape, so {key} = {source}."
        return (f"{key} has shape {tuple(got_shape)}, expected {tuple(exp_shape)}: the weight gradient is transposed. "
                f"A gradient has the shape of its parameter ({param} is {tuple(exp_shape)}), so {key} = {source}.")
    if len(exp_shape) == 1 and len(got_shape) == 2 and got_shape[0] == m:
        if not quote:
            return f"{key} has one row per sample: sum over the samples, {key} = dZ.sum(axis=0)."
        return (f"{key} has shape {tuple(got_shape)}, one row per sample; expected {tuple(exp_shape)}. "
                f"Sum over the samples: {key} = dZ.sum(axis=0).")
    if len(exp_shape) == 1 and tuple(got_shape) == (m,):
        if not quote:
            return f"{key} was summed over the units (axis=1): sum over the samples, {key} = dZ.sum(axis=0)."
        return (f"{key} has shape {tuple(got_shape)}, expected {tuple(exp_shape)}: the sum ran over the units "
                f"(axis=1). Sum over the samples instead: {key} = dZ.sum(axis=0).")
    return None


_RELU_ADVICE = ("So the step through the hidden ReLU is wrong: after dA1 = dZ2 @ W2.T, multiply by the ReLU derivative, "
                "a 0/1 mask taken from the pre-activation: dZ1 = dA1 * (Z1 > 0).")
_MISTAKE_ADVICE = {
    "no_mask": ("The ReLU derivative is missing: that is dZ1 = dA1. Multiply by the mask of the units that were on, "
                "dZ1 = dA1 * (Z1 > 0)."),
    "sigmoid_prime": ("That used the sigmoid's derivative s(Z1) * (1 - s(Z1)): the hidden layer is ReLU, so its "
                      "derivative is the ReLU derivative, the 0/1 mask (Z1 > 0)."),
}
_GRAD_FORMULA = {
    "dW2": "dW2 = A1.T @ dZ2 with dZ2 = (A2 - y) / m.",
    "db2": "db2 = dZ2.sum(axis=0) with dZ2 = (A2 - y) / m.",
    "dW1": "dW1 = X.T @ dZ1 with dZ1 = (dZ2 @ W2.T) * (Z1 > 0).",
    "db1": "db1 = dZ1.sum(axis=0) with dZ1 = (dZ2 @ W2.T) * (Z1 > 0).",
}


class Backward(_Paired):
    """The subject is the pair (forward, backward): backward gets the cache of the student's own forward.

    Two separable requirements, 2 points each: the output layer's gradients (dW2, db2) and the hidden layer's
    (dW1, db1).
    """
    name = "backward"
    signature = "backward(X, y, params, cache)"
    expected_form = "a dict of four arrays: dW1, db1, dW2 and db2, each shaped like its parameter"
    public_cases = (
        Case({"X": _X_A, "y": _Y_A, "params": _PARAMS_A, "_mistakes": _MISTAKES_A},
             _backward_expected(_FWD_A, _GRADS_A), "4 samples, 3 features, 4 hidden units"),
        Case({"X": _X_B, "y": _Y_B, "params": _PARAMS_B, "_mistakes": _MISTAKES_B},
             _backward_expected(_FWD_B, _GRADS_B), "6 samples, 2 features, 3 hidden units"),
    )

    def secret_inputs(self, rng):
        return [_network_case(rng, *_sizes(rng)) for _ in range(3)]

    def hidden_inputs(self, rng):
        # A single sample (m = 1), and a batch of 64 with integer labels.
        one = _network_case(rng, 1, 4, 3)
        big = _network_case(rng, 64, 5, 8)
        big["y"] = big["y"].astype(int)
        return [one, big]

    def run(self, subject, inputs):
        forward, backward = subject
        inputs = copy.deepcopy(inputs)
        reply = _network_reply(_call_forward(forward, inputs["X"], copy.deepcopy(inputs["params"])))
        if reply is None or not isinstance(reply[1], dict):
            return {"forward_ok": False}
        grads = backward(inputs["X"], inputs["y"], inputs["params"], reply[1])
        if not isinstance(grads, dict):
            return {"forward_ok": True, "A2": _as_array_or_none(reply[0]), "grads_kind": describe_value(grads)}
        return {"forward_ok": True, "A2": _as_array_or_none(reply[0]),
                "grads": {key: _as_array_or_none(grads[key]) for key in GRAD_KEYS if key in grads}}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("forward_ok") or not _near(got.get("A2"), expected["A2"]):
            return ("forward(X, params) from Exercise 1 does not give the right A2 and cache yet, and backward works "
                    "from its cache: fix Exercise 1 first (its check says what is wrong).")
        if "grads_kind" in got:
            return (f"{sig} returned {got['grads_kind']}; it should return a dict "
                    "{'dW1': dW1, 'db1': db1, 'dW2': dW2, 'db2': db2}.")
        grads, exp = got.get("grads", {}), expected["grads"]
        missing = [key for key in GRAD_KEYS if grads.get(key) is None]
        if missing:
            return (f"The dict returned by {sig} has no {', '.join(missing)}. Return "
                    "{'dW1': dW1, 'db1': db1, 'dW2': dW2, 'db2': db2}: one gradient per parameter, named 'd' + its name.")
        m = len(inputs["X"])
        same_shapes = all(np.shape(grads[k]) == np.shape(exp[k]) for k in GRAD_KEYS)
        if same_shapes and m > 1 and all(_near(grads[k], m * _floats(exp[k])) for k in GRAD_KEYS):
            return (f"Every gradient is m = {m} times too large: the factor 1/m is missing. The loss is the mean over "
                    "the batch, so dZ2 = (A2 - y) / m, and the 1/m then flows into every gradient.")
        if same_shapes and m > 1 and all(_near(grads[k], _floats(exp[k]) / m) for k in GRAD_KEYS):
            return (f"Every gradient is m = {m} times too small: the factor 1/m was applied twice. Divide once, "
                    "in dZ2 = (A2 - y) / m, and not again in dW or db.")
        problems = {key: self._gradient_problem(key, grads[key], exp[key], inputs, m) for key in GRAD_KEYS}
        output_wrong = [k for k in ("dW2", "db2") if problems[k][0]]
        hidden_wrong = [k for k in ("dW1", "db1") if problems[k][0]]
        if output_wrong and hidden_wrong:
            return problems[output_wrong[0]][0]
        if hidden_wrong:
            key = hidden_wrong[0]
            return Partial(1, 2, f"The output layer's gradients dW2 and db2 are right, but {key} is not. "
                                 f"{problems[key][1]}")
        if output_wrong:
            key = output_wrong[0]
            return Partial(1, 2, f"The hidden layer's gradients dW1 and db1 are right, but {key} is not. "
                                 f"{problems[key][1]}")
        return None

    @staticmethod
    def _gradient_problem(key, got, expected, inputs, m):
        """(message, advice) for one gradient, or (None, None) when it is right."""
        got_shape, exp_shape = np.shape(got), np.shape(expected)
        if got_shape != exp_shape:
            advice = _grad_shape_advice(key, got_shape, exp_shape, m, quote=False)
            message = _grad_shape_advice(key, got_shape, exp_shape, m)
            if message:
                return message, advice
            return (f"{key} has shape {tuple(got_shape)}, expected {tuple(exp_shape)}: a gradient has the shape of "
                    f"its parameter. {_GRAD_FORMULA[key]}", f"{key} does not have its parameter's shape. "
                                                           f"{_GRAD_FORMULA[key]}")
        diagnoses = [
            (lambda g, e, i: m > 1 and _near(g, m * e),
             f"{key} is m times too large: the factor 1/m of the mean loss is missing from it."),
            (lambda g, e, i: _near(g, -e), "The sign is flipped: the output error is dZ2 = A2 - y, not y - A2."),
        ]
        if key in ("dW1", "db1"):
            mistakes = inputs.get("_mistakes", {})
            diagnoses += [(lambda g, e, i, name=name: name in mistakes and _near(g, mistakes[name][key]), advice)
                          for name, advice in _MISTAKE_ADVICE.items()]
            generic = _RELU_ADVICE
        else:
            generic = _GRAD_FORMULA[key]
        message = _judge_array(key, got, expected, inputs, diagnoses=[*diagnoses, (lambda g, e, i: True, generic)])
        if message is None:
            return None, None
        for test, advice in diagnoses:
            try:
                if test(_floats(got), _floats(expected), inputs):
                    return message, advice
            except Exception:  # noqa: BLE001
                continue
        return message, generic


# ------------------------------------------------------------------ Exercise 3: numerical_gradient
def objective(inputs: dict):
    """The scalar test function of a numerical_gradient case: sum(a x^3) + (sum(w x))^2 / 2 + sum(c x).

    Its entries are coupled (through the squared sum) and curved, so a forward difference, or a perturbation
    left in place, changes the result far beyond rounding.
    """
    a, w, c = (_floats(inputs[key]) for key in ("a", "w", "c"))

    def f(x):
        x = _floats(x)
        return float(np.sum(a * x ** 3) + 0.5 * np.sum(w * x) ** 2 + np.sum(c * x))

    return f


def _central_at(inputs: dict, eps: float) -> np.ndarray:
    """The central difference of the objective at step eps, in closed form: 3 a x^2 + a eps^2 + (w.x) w + c.

    (The cubic term's central difference is off by exactly a eps^2; the quadratic and linear terms' are exact.)
    """
    a, w, c, x = (_floats(inputs[key]) for key in ("a", "w", "c", "x"))
    return 3 * a * x ** 2 + a * eps ** 2 + np.sum(w * x) * w + c


def _one_sided(inputs: dict) -> np.ndarray:
    """The forward difference (f(x + eps e_i) - f(x)) / eps, the usual mistake."""
    f, x, eps = objective(inputs), _floats(inputs["x"]), float(inputs["eps"])
    out, base = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[i] += eps
        out[i] = (f(shifted) - base) / eps
    return out


def _all_at_once(inputs: dict) -> np.ndarray:
    f, x, eps = objective(inputs), _floats(inputs["x"]), float(inputs["eps"])
    return np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps))


def _objective_case(rng, shape, eps: float) -> dict:
    return {"x": rng.uniform(-2, 2, shape), "a": rng.uniform(-1.5, 1.5, shape), "w": rng.uniform(-1.5, 1.5, shape),
            "c": rng.normal(0, 1, shape), "eps": float(eps)}


#: The default of the eps argument in the statement's signature.
_DEFAULT_EPS = 1e-5


class NumericalGradient(Check):
    name = "numerical_gradient"
    signature = "numerical_gradient(f, x, eps)"
    expected_form = "an array with the shape of x"
    public_cases = (
        Case({"x": np.array([0.5, -1.0, 2.0]), "a": np.array([1.0, 0.5, -0.25]), "w": np.array([1.0, -2.0, 0.5]),
              "c": np.array([0.3, 0.0, -1.0]), "eps": 1e-2},
             {"grad": np.array([4.550099999999923, -5.499949999999987, -2.250024999999989]), "x_change": 0.0},
             "x of shape (3,), eps = 1e-2"),
        Case({"x": np.array([[1.0, -0.5, 0.0], [2.0, 0.25, -1.5]]), "a": np.array([[0.5, -1.0, 2.0], [0.25, 1.0, -0.5]]),
              "w": np.array([[1.0, 0.5, -1.0], [0.0, 2.0, 1.0]]), "c": np.array([[0.0, 1.0, -0.5], [0.2, 0.0, 0.0]]),
              "eps": 1e-4},
             {"grad": np.array([[1.2500000049975313, 0.12499999000326056, -0.24999997999763934],
                                [3.2000000025034225, -0.31249999000060313, -3.625000005000878]]), "x_change": 0.0},
             "x of shape (2, 3), a matrix like W1, eps = 1e-4"),
    )

    def secret_inputs(self, rng):
        shapes = [(int(rng.integers(3, 7)),), (int(rng.integers(2, 4)), int(rng.integers(2, 5))), (int(rng.integers(4, 8)),)]
        return [_objective_case(rng, shape, 10 ** rng.uniform(-4, -2)) for shape in shapes]

    def hidden_inputs(self, rng):
        # A single entry, a column like W2 (h, 1), a three-dimensional array, and a large step, where the
        # central difference's eps**2 error shows whether the eps argument was used.
        return [_objective_case(rng, (1,), 1e-3), _objective_case(rng, (5, 1), 1e-4),
                _objective_case(rng, (2, 2, 3), 1e-3), _objective_case(rng, (4,), 0.05)]

    def run(self, subject, inputs):
        f = objective(inputs)
        x = np.array(inputs["x"], dtype=np.float64)
        before = x.copy()
        grad = subject(f, x, float(inputs["eps"]))
        change = float(np.max(np.abs(x - before))) if x.shape == before.shape else float("inf")
        return {"grad": _as_array_or_none(grad), "x_change": change}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or got.get("grad") is None:
            return f"{sig} returned nothing: return the array of partial derivatives, with the shape of x."
        grad, x = got["grad"], _floats(inputs["x"])
        if grad.shape != x.shape:
            if grad.size == x.size:
                return (f"{sig} returned shape {grad.shape}, expected x's shape {x.shape}. Build the gradient with "
                        "np.zeros_like(x) and fill it entry by entry, so it keeps the shape of x.")
            return (f"{sig} returned shape {grad.shape}, expected x's shape {x.shape}. x can be a matrix (like W1): "
                    "visit every entry with np.ndindex(x.shape) (or np.nditer), not only range(len(x)).")
        eps = float(inputs["eps"])
        moved = got.get("x_change", 0.0) > 1e-9 * max(1.0, float(np.max(np.abs(x))))
        diagnoses = [
            (lambda g, e, i: _near(g, _one_sided(i), 1e-7),
             f"That is the forward difference (f(x + eps) - f(x)) / eps, whose error shrinks only like eps "
             f"(here about eps * f''/2 with eps = {eps:.0e}). Use the central difference "
             "(f(x + eps) - f(x - eps)) / (2 * eps), whose error shrinks like eps**2."),
            (lambda g, e, i: _near(g, 2 * e), "Every entry is twice too large: the central difference divides by 2 * eps."),
            (lambda g, e, i: _near(g, e / 2), "Every entry is half the right value: divide by 2 * eps, not 4 * eps or eps / 2."),
            (lambda g, e, i: g.size > 1 and _near(g, _all_at_once(i), 1e-7),
             "Every entry is the same number: all the entries of x were moved at once. Perturb one entry at a time, "
             "x[i] + eps and x[i] - eps, with every other entry unchanged."),
            (lambda g, e, i: moved,
             "x was left changed after the call: restore each entry after perturbing it (x[i] = old), or every "
             "later entry is measured at a shifted point."),
            (lambda g, e, i: not np.isclose(eps, _DEFAULT_EPS) and _near(g, _central_at(i, _DEFAULT_EPS), 1e-7),
             f"That is the central difference with eps = {_DEFAULT_EPS:g}, the default, not with the eps argument "
             f"(eps = {eps:.2g} here): use the eps the function is called with."),
        ]
        message = _judge_array(sig, grad, expected["grad"], inputs, rtol=1e-7, diagnoses=diagnoses)
        if message:
            return message
        if moved:
            return (f"{sig} returns the right gradient but changes the caller's x by up to {got['x_change']:.2g}. "
                    "Restore each entry after perturbing it (x[i] = old), or work on a copy, x = x.astype(float).")
        return None


# ------------------------------------------------------------------ Exercise 4: relative_error
def _pair(inputs):
    return _floats(inputs["a"]), _floats(inputs["b"])


_FLOOR_ADVICE = ("The denominator needs its floor, max(1e-8, |a| + |b|): where both gradients are 0 (or tiny), "
                 "|a| + |b| is 0 (or tiny) and the ratio becomes nan (0/0) or huge.")


def _relative_error_in_float32(a: np.ndarray, b: np.ndarray) -> float:
    """The formula with a and b first cast to float32: what a float32 answer gives (the shape of a mistake)."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    return float(np.max(np.abs(a32 - b32) / np.maximum(np.float32(1e-8), np.abs(a32) + np.abs(b32)))) if a.size else 0.0


class RelativeError(Check):
    name = "relative_error"
    signature = "relative_error(a, b)"
    expected_form = "one float"
    public_cases = (
        Case({"a": np.array([1.0, -2.0, 0.0, 3.0]), "b": np.array([1.0001, -2.0, 0.0, 2.97])}, 0.005025125628140671,
             "4 entries, one of them 0 in both"),
        Case({"a": np.array([2e-9, 0.5]), "b": np.array([-1e-9, 0.5])}, 0.30000000000000004,
             "tiny gradients, where the 1e-8 floor matters"),
        Case({"a": np.array([[0.1, 0.0], [-4.0, 1e-3]]), "b": np.array([[0.1, 0.0], [-3.9, 2e-3]])}, 0.3333333333333333,
             "2 x 2 arrays"),
        Case({"a": np.array([0.3, -1.2, 2.5]), "b": np.array([0.30000006, -1.2000003, 2.5000001])},
             1.2499998435546676e-07, "gradients that agree to about 1e-7, as a right backward pass gives"),
    )

    def secret_inputs(self, rng):
        cases = []
        for shape in [(int(rng.integers(4, 9)),), (int(rng.integers(2, 5)), int(rng.integers(2, 5)))]:
            a = rng.normal(0, 1, shape)
            b = a * (1 + rng.normal(0, 1e-3, shape))
            flat_a, flat_b = a.reshape(-1), b.reshape(-1)
            flat_a[0] = flat_b[0] = 0.0          # a dead unit: both gradients exactly 0
            flat_a[1], flat_b[1] = 3e-9, -2e-9   # tiny gradients of opposite signs
            cases.append({"a": a, "b": b})
        a = rng.normal(0, 1, 6)
        cases.append({"a": a, "b": a + rng.normal(0, 1e-7, 6)})  # a good match: about 1e-7
        return cases

    def hidden_inputs(self, rng):
        # Identical arrays (0), all zeros (0, not nan), and a sign error (1).
        a = rng.normal(0, 1, (3, 2))
        return [{"a": a, "b": a.copy()}, {"a": np.zeros(4), "b": np.zeros(4)}, {"a": a, "b": -a}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        if isinstance(got, (str, dict, list, tuple)) or got is None or np.size(got) != 1:
            return (f"{sig} should return one number, the largest elementwise relative error, but returned "
                    f"{describe_value(got)}.")
        value = float(_floats(got).reshape(()))
        expected = float(expected)
        a, b = _pair(inputs)
        if not np.isfinite(value):
            return f"{sig} returned {value}, expected {expected:.6g}. {_FLOOR_ADVICE}"
        # A relative error is itself a small number (1e-7 means "right"), so no absolute floor: 1e-6 relative.
        if matches(value, expected, 1e-6, floor=1e-15):
            return None
        diff = np.abs(a - b)
        with np.errstate(divide="ignore", invalid="ignore"):
            no_floor = np.nanmax(np.where(diff == 0, 0.0, diff / (np.abs(a) + np.abs(b)))) if diff.size else 0.0
        diagnoses = [
            (lambda g, e, i: np.isclose(g, np.max(diff)),
             "That is the absolute error max|a - b|: divide each difference by max(1e-8, |a| + |b|), so the "
             "result does not depend on the size of the gradients."),
            (lambda g, e, i: np.isclose(g, no_floor), _FLOOR_ADVICE),
            (lambda g, e, i: np.isclose(g, np.mean(diff / np.maximum(1e-8, np.abs(a) + np.abs(b)))),
             "That is the mean of the elementwise relative errors: take their max, so one bad entry is not hidden "
             "by many good ones."),
            (lambda g, e, i: np.isclose(g, np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b))),
             "That compares norms of the whole arrays: compute the relative error entry by entry, "
             "|a - b| / max(1e-8, |a| + |b|), then take the max."),
            (lambda g, e, i: np.isclose(g, np.max(diff / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b))))),
             "The denominator is max(|a|, |b|): this course uses the sum, max(1e-8, |a| + |b|)."),
            (lambda g, e, i: np.isclose(g, _relative_error_in_float32(a, b), rtol=1e-6, atol=0),
             "That is the formula computed after casting a and b to float32, which keeps about 7 digits: two "
             "gradients that agree to 1e-7 then look different, or the same. Compute in float64, "
             "np.asarray(a, dtype=float)."),
        ]
        for test, advice in diagnoses:
            if test(value, expected, inputs):
                return f"{sig} returned {value:.6g}, expected {expected:.6g}. {advice}"
        return (f"{sig} returned {value:.6g}, expected {expected:.6g} (relative error {rel_error(value, expected):.2g}, "
                "tolerance 1e-06).")


# ------------------------------------------------------------------ Exercise 5: tape_gradients
class TapeGradients(Check):
    name = "tape_gradients"
    signature = "tape_gradients(X, y, params)"
    expected_form = "a dict of four numpy arrays: dW1, db1, dW2 and db2"
    public_cases = (
        Case({"X": _X_A, "y": _Y_A, "params": _PARAMS_A}, {"grads": _GRADS_A}, "4 samples, 3 features, 4 hidden units"),
        Case({"X": _X_B, "y": _Y_B, "params": _PARAMS_B}, {"grads": _GRADS_B}, "6 samples, 2 features, 3 hidden units"),
    )

    def secret_inputs(self, rng):
        return [_network_case(rng, *_sizes(rng)) for _ in range(2)]

    def hidden_inputs(self, rng):
        # A single sample, and float32 inputs.
        one = _network_case(rng, 1, 3, 4)
        f32 = _network_case(rng, 10, 4, 6)
        f32["X"] = f32["X"].astype("float32")
        f32["params"] = {k: v.astype("float32") for k, v in f32["params"].items()}
        return [one, f32]

    def run(self, subject, inputs):
        inputs = copy.deepcopy(inputs)
        grads = subject(inputs["X"], inputs["y"], inputs["params"])
        if not isinstance(grads, dict):
            return {"kind": describe_value(grads)}
        present = [key for key in GRAD_KEYS if key in grads and grads[key] is not None]
        return {"grads": {key: _as_array_or_none(grads[key]) for key in present},
                "none": [key for key in GRAD_KEYS if key in grads and grads[key] is None],
                # The statement asks for numpy arrays: tensors are converted for the comparison, and named here.
                "not_numpy": {key: type(grads[key]).__name__ for key in present if not isinstance(grads[key], np.ndarray)}}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or "kind" in got:
            kind = got.get("kind") if isinstance(got, dict) else describe_value(got)
            return f"{sig} returned {kind}; it should return a dict {{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...}}."
        if got.get("none"):
            return (f"tape.gradient returned None for {', '.join(got['none'])}: the tape did not see the loss being "
                    "computed from them. Compute the loss inside `with tf.GradientTape() as tape:`, from tf.Variable "
                    "parameters (or call tape.watch on tensors first), and ask for the gradient after the block.")
        grads, exp = got.get("grads", {}), expected["grads"]
        missing = [key for key in GRAD_KEYS if key not in grads]
        if missing:
            return (f"The dict returned by {sig} has no {', '.join(missing)}: name the gradients "
                    "'dW1', 'db1', 'dW2', 'db2', as backward does.")
        m = len(inputs["X"])
        for key in GRAD_KEYS:
            message = _judge_array(f"{key} from {sig}", grads[key], exp[key], inputs, rtol=1e-4, diagnoses=[
                (lambda g, e, i: m > 1 and _near(g, m * e, 1e-4),
                 f"It is m = {m} times too large: the loss was summed over the batch. The factor 1/m of the mean "
                 "loss is missing: use tf.reduce_mean, not tf.reduce_sum."),
                (lambda g, e, i: _near(g, -e, 1e-4), "The sign is flipped: the loss is -mean(y log a + (1 - y) log(1 - a))."),
                (lambda g, e, i: True,
                 "Write the same network and loss as forward and backward: A1 = relu(X @ W1 + b1), "
                 "A2 = sigmoid(A1 @ W2 + b2), loss = mean binary cross-entropy."),
            ])
            if message:
                return message
        not_numpy = got.get("not_numpy") or {}
        if not_numpy:
            key, kind = next(iter(not_numpy.items()))
            return (f"The gradients are right, but {key} is of type {kind}, not a numpy array: the statement asks for "
                    "numpy arrays. Convert each one with .numpy() before returning it.")
        return None


# ------------------------------------------------------------------ Exercise 6: train
def breast_cancer_standardized() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's breast-cancer data, each feature standardised; labels as a (569, 1) column."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    return X, data.target.reshape(-1, 1).astype(np.float64)


#: The reference's first two recorded losses on the public case (all 569 samples, seed 0): the loss of
#: init_params(30, 16, 0) before any update, and the loss after one update with lr = 0.5.
_PUBLIC_FIRST_LOSSES = np.array([0.707975950253185, 0.34439242626636857])


def _losses_array(losses) -> np.ndarray | None:
    """What train returned as its losses, as a 1-D float array; None for something that is not a list of numbers."""
    if losses is None or isinstance(losses, (str, dict)) or hasattr(losses, "history"):
        return None
    try:
        return np.array(losses, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None


class Train(Check):
    """Judged by a threshold, then by the rules of the loop.

    The subject is (forward, train, backward). The loss train's parameters reach on their training data must be
    at most LOSS_THRESHOLD (1 point); the losses must be recorded as stated, one per epoch, each before its
    update (1 point); and the seed must decide the starting parameters (1 point). The kernel also runs the
    student's forward and backward on a public case, so that a wrong one is named as the cause, and runs train
    a second time, for 2 epochs from another seed, to see whether the seed is used.
    """
    name = "train"
    signature = "train(X, y, n_hidden, lr, epochs, seed)"
    expected_form = "a pair (params, losses): the trained params dict and a list of one float per epoch"

    def __call__(self, train, forward=None, backward=None) -> None:
        super().__call__(train if isinstance(train, tuple) else (forward, train, backward))

    def hidden(self, train, forward=None, backward=None) -> None:
        super().hidden(train if isinstance(train, tuple) else (forward, train, backward))

    def judge(self, inputs, record, expected):
        if record.get("error") == ForwardNotImplemented.__name__:
            return Verdict(False, "forward(X, params) is not implemented yet: train is checked with your forward, "
                                  "so finish Exercise 1 first.")
        return super().judge(inputs, record, expected)

    @cached_property
    def public_cases(self):
        X, y = breast_cancer_standardized()
        return (Case({"X": X, "y": y, **TRAIN_SETTINGS, "seed": 0}, {"losses": _PUBLIC_FIRST_LOSSES},
                     "all 569 breast-cancer samples, 16 hidden units, lr = 0.5, 200 epochs, seed 0"),)

    def secret_inputs(self, rng):
        X, y = breast_cancer_standardized()
        chosen = np.sort(rng.choice(len(X), 400, replace=False))
        # Settings near the stated ones but never equal to them, so that n_hidden, lr and epochs must be used as
        # given. Over 30 draws of settings in these ranges the reference's final loss stayed below 0.046.
        return [{"X": X[chosen], "y": y[chosen], "n_hidden": int(rng.choice([12, 20])),
                 "lr": float(rng.choice([0.4, 0.6])), "epochs": int(rng.choice([150, 250])),
                 "seed": int(rng.integers(1, 10_000))}]

    def run(self, subject, inputs):
        forward, train, backward = subject
        inputs = copy.deepcopy(inputs)
        record = {"forward_ok": None, "backward_ok": None}
        # The student's forward and backward on the public case A, where the right answers are known.
        try:
            reply = _network_reply(_call_forward(forward, _X_A.copy(), copy.deepcopy(_PARAMS_A)))
        except ForwardNotImplemented:
            raise
        except Exception:  # noqa: BLE001 - a forward that fails is reported as not right
            reply = None
        record["forward_ok"] = bool(reply is not None and _near(_as_array_or_none(reply[0]), _FWD_A["A2"]))
        if record["forward_ok"] and backward is not None and isinstance(reply[1], dict):
            try:
                grads = backward(_X_A.copy(), _Y_A.copy(), copy.deepcopy(_PARAMS_A), reply[1])
                record["backward_ok"] = bool(isinstance(grads, dict) and all(
                    key in grads and _near(_as_array_or_none(grads[key]), _GRADS_A[key]) for key in GRAD_KEYS))
            except Exception:  # noqa: BLE001 - a broken backward is reported as not right
                record["backward_ok"] = False
        settings = {"n_hidden": int(inputs["n_hidden"]), "lr": float(inputs["lr"])}
        reply = train(inputs["X"], inputs["y"], epochs=int(inputs["epochs"]), seed=int(inputs["seed"]), **settings)
        if not isinstance(reply, (tuple, list)) or len(reply) != 2:
            return {**record, "pair": False, "kind": describe_value(reply)}
        params, losses = reply
        if not isinstance(params, dict):
            return {**record, "pair": True, "params_kind": describe_value(params)}
        record.update({"pair": True, "shapes": {key: list(np.shape(params[key])) for key in PARAM_KEYS if key in params}})
        values = _losses_array(losses)
        record["losses"] = values
        if values is None:
            record["losses_kind"] = describe_value(losses)
        out = _network_reply(_call_forward(forward, inputs["X"], params))
        record["A2"] = None if out is None else _as_array_or_none(out[0])
        # Two epochs from another seed: the first recorded loss must change with the seed.
        other = train(inputs["X"], inputs["y"], epochs=2, seed=int(inputs["seed"]) + 1, **settings)
        other_losses = _losses_array(other[1]) if isinstance(other, (tuple, list)) and len(other) == 2 else None
        record["other_seed_first"] = float(other_losses[0]) if other_losses is not None and other_losses.size else None
        return record

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if got.get("forward_ok") is False:
            return ("train calls your forward, which does not give the right A2 yet: fix Exercise 1 first (its check "
                    "says what is wrong).")
        if got.get("backward_ok") is False:
            return ("train calls your backward, which does not give the right gradients yet: fix Exercise 2 first "
                    "(its check says what is wrong).")
        if not got.get("pair"):
            return (f"{sig} returned {got.get('kind')}; it should return a pair (params, losses): the trained "
                    "parameters and the list of losses. End with `return params, losses`.")
        if "params_kind" in got:
            return f"{sig} returned params as {got['params_kind']}; it should be the dict {{'W1', 'b1', 'W2', 'b2'}}."
        n, h = np.shape(inputs["X"])[1], int(inputs["n_hidden"])
        wanted = {"W1": [n, h], "b1": [h], "W2": [h, 1], "b2": [1]}
        shapes = got.get("shapes") or {}
        wrong = [key for key in PARAM_KEYS if shapes.get(key) != wanted[key]]
        w1 = shapes.get("W1")
        other_width = isinstance(w1, list) and len(w1) == 2 and isinstance(w1[1], int) and shapes == {
            "W1": [n, w1[1]], "b1": [w1[1]], "W2": [w1[1], 1], "b2": [1]}
        # A network of another hidden width is one rule broken (n_hidden not used): the other rules are judged on.
        hidden_ignored = bool(wrong) and other_width
        if wrong and not hidden_ignored:
            key = wrong[0]
            found = tuple(shapes[key]) if key in shapes else "missing"
            return (f"The trained params['{key}'] is {found}, but with n_hidden = {h} it should have shape "
                    f"{tuple(wanted[key])}: start from init_params(X.shape[1], n_hidden, seed) with the n_hidden "
                    "argument, and keep every parameter's shape.")
        losses = got.get("losses")
        if losses is None:
            return (f"losses should be a list of floats, one per epoch, but {sig} returned {got.get('losses_kind')} in "
                    "its place: append bce_loss(A2, y) to a list in every epoch and return that list.")
        losses = _floats(losses)
        A2, m, epochs = got.get("A2"), len(inputs["X"]), int(inputs["epochs"])
        if A2 is None or np.size(A2) != m:
            return "forward(X, params) on the trained params did not give one probability per sample: fix Exercise 1 first."
        loss = _bce(A2, inputs["y"])
        start = f"{losses[0]:.3g}" if losses.size else "?"
        if not np.isfinite(loss) or not np.all(np.isfinite(losses)):
            return (f"Training diverged: the loss became nan or inf (it started at {start}). Check the update "
                    "params[k] = params[k] - lr * grads['d' + k].")
        if loss > LOSS_THRESHOLD:
            shown = (f"After training, the loss on the training data is {loss:.3f}; at most {LOSS_THRESHOLD} is "
                     f"needed (the losses you recorded went from {start} to "
                     f"{losses[-1]:.3g})." if losses.size else f"After training, the loss is {loss:.3f}.")
            if losses.size > 1 and losses[-1] > losses[0] + 1e-6:
                return (f"{shown} The loss went up: the update must go against the gradient, "
                        "params[k] -= lr * grads['d' + k] (gradient descent), not +=.")
            if losses.size > 1 and abs(losses[-1] - losses[0]) < 1e-9:
                return (f"{shown} The loss never changed: the parameters were not updated. In every epoch run "
                        "forward, backward, then params[k] = params[k] - lr * grads['d' + k] for every k, and "
                        "keep the updated params for the next epoch.")
            return (f"{shown} Run all `epochs` gradient-descent steps, each on the whole batch: forward, "
                    "backward, then update all four parameters with the lr argument.")
        reference = _floats(expected["losses"])
        seed = self._seed(losses, got.get("other_seed_first"))
        if hidden_ignored:
            # Another width starts from other parameters, so the recorded losses cannot be compared: this rule
            # takes the recording's point. The message quotes no input, as it may be about the grader's.
            return requirements([(True, ""), (False, _N_HIDDEN_IGNORED), seed])
        return requirements([(True, ""), self._recording(losses, reference, epochs, seed_used=seed[0]), seed])

    @staticmethod
    def _recording(losses: np.ndarray, reference: np.ndarray, epochs: int, seed_used: bool) -> tuple[bool, str]:
        """(met, message) for the rule: one loss per epoch, each computed before that epoch's update.

        When the seed is ignored the run starts elsewhere, so only the count of losses can be judged.
        """
        if losses.size != epochs:
            return False, (f"The network trains well, but train returned {losses.size} losses for {epochs} epochs: "
                           "append the loss once per epoch, from that epoch's forward pass.")
        if not seed_used:
            return True, ""
        first, after_first = float(reference[0]), float(reference[1])
        if np.isclose(losses[0], first, rtol=1e-5, atol=0):
            if losses.size > 1 and not np.isclose(losses[1], after_first, rtol=1e-5, atol=0):
                return False, ("The first recorded loss is right, but the second, after one update, is not: each epoch's "
                               "update is params[k] = params[k] - lr * grads['d' + k] for every k, with the lr argument.")
            return True, ""
        if np.isclose(losses[0], after_first, rtol=1e-5, atol=0):
            return False, ("The losses were recorded after each update: the first one is the loss after one step. "
                           "Record bce_loss(A2, y) from the forward pass of the epoch, before the update, so that "
                           "losses[0] is the loss of the starting parameters.")
        return False, ("The first recorded loss is not the loss of the starting parameters init_params(X.shape[1], "
                       "n_hidden, seed): record bce_loss(A2, y) from each epoch's forward pass, before its update.")

    @staticmethod
    def _seed(losses: np.ndarray, other_first) -> tuple[bool, str]:
        """(met, message) for the rule: the seed argument decides the starting parameters."""
        if other_first is None or not losses.size:
            return True, ""
        if np.isclose(other_first, losses[0], rtol=1e-12, atol=0):
            return False, ("train ignores its seed: run again with another seed, it starts from the same parameters "
                           "(the same first loss). Pass the seed argument on, init_params(X.shape[1], n_hidden, seed).")
        return True, ""


_N_HIDDEN_IGNORED = ("The network trains, but its hidden layer does not have n_hidden units: train ignores its "
                     "n_hidden argument (a number written into the code). Start from init_params(X.shape[1], "
                     "n_hidden, seed) with the n_hidden argument.")

forward = Forward()
backward = Backward()
numerical_gradient = NumericalGradient()
relative_error = RelativeError()
tape_gradients = TapeGradients()
train = Train()

CHECKS = CheckSet("05_backprop", [forward, backward, numerical_gradient, relative_error, tape_gradients, train])
