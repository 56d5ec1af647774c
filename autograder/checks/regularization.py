"""Checks for 09_regularization: L1/L2 weight penalties, batch normalization in training and inference
modes, the early-stopping rule of keras.callbacks.EarlyStopping, and a callback that stops a diverging run.

The formulas follow Keras 3 exactly (checked against keras.regularizers.L1L2,
keras.layers.BatchNormalization and keras.callbacks.EarlyStopping):

* penalty = l1 * sum(|w|) + l2 * sum(w**2), summed over every weight array (no factor 1/2, no root);
* batch norm, training: out = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch's mean and
  *biased* variance (ddof=0) per feature, and moving = momentum * moving + (1 - momentum) * batch statistic;
* batch norm, inference: the same formula with moving_mean and moving_var, which stay unchanged;
* early stopping (mode "min"): an epoch improves when its loss < best - min_delta; the run stops at the
  epoch where the count of epochs without improvement reaches patience.
"""
from __future__ import annotations

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet
from .model_data import ModelRejected, all_layers, predict, rebuild_model, report_model


def _floats(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _near(got, expected, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Agreement to float32 precision: relative where values are large, absolute near zero."""
    try:
        got, expected = _floats(got), _floats(expected)
    except (TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


def _compare_values(what, got, expected, inputs, diagnoses, rtol=1e-4, atol=1e-6):
    try:
        if _near(got, expected, rtol, atol):
            return None
    except Exception:  # noqa: BLE001 - odd values get compare_array's message
        pass
    return compare_array(what, got, expected, inputs, tol=rtol, diagnoses=diagnoses)


# ----------------------------------------------------------------------------------- L1 / L2 penalty
def _arrays(inputs: dict) -> list[np.ndarray]:
    return [_floats(w) for w in inputs["weights"]]


def _terms(inputs: dict, l1_term, l2_term) -> float:
    """l1 * sum of l1_term(w) + l2 * sum of l2_term(w) over the arrays: the shape of a (wrong) penalty."""
    return float(sum(inputs["l1"] * l1_term(w) + inputs["l2"] * l2_term(w) for w in _arrays(inputs)))


def _abs_sum(w):
    return np.sum(np.abs(w))


def _sq_sum(w):
    return np.sum(w ** 2)


_PENALTY_DIAGNOSES = [
    (lambda got, exp, inp: close(got, _terms(inp, _abs_sum, lambda w: 0.5 * _sq_sum(w))),
     "The L2 term has a factor 1/2: keras.regularizers.L2(l2) is l2 * sum(w**2), with no 1/2 (the 1/2 of some "
     "textbooks only tidies the gradient)."),
    (lambda got, exp, inp: close(got, _terms(inp, _abs_sum, lambda w: np.sqrt(_sq_sum(w)))),
     "The L2 term is the norm ||w|| = sqrt(sum(w**2)): weight decay uses the squared norm, l2 * sum(w**2), "
     "with no square root."),
    (lambda got, exp, inp: close(got, inp["l1"] * np.sqrt(sum(_sq_sum(w) for w in _arrays(inp)))
                                 + _terms(inp, lambda w: 0.0, _sq_sum)) or
     close(got, _terms(inp, _abs_sum, lambda w: 0.0) + inp["l2"] * np.sqrt(sum(_sq_sum(w) for w in _arrays(inp)))),
     "A square root crept in: the L2 term is l2 * sum(w**2) (the squared norm, not the norm) and the L1 term "
     "l1 * sum(|w|)."),
    (lambda got, exp, inp: close(got, _terms(inp, np.sum, _sq_sum)),
     "The L1 term sums the signed weights, so positive and negative ones cancel: L1 is l1 * sum(|w|), "
     "with np.abs."),
    (lambda got, exp, inp: close(got, _terms(inp, _sq_sum, _abs_sum)) and
     inp["l1"] != inp["l2"],
     "l1 and l2 are swapped: l1 multiplies the sum of absolute values, l2 the sum of squares."),
    (lambda got, exp, inp: close(got, float(sum(inp["l1"] * np.mean(np.abs(w)) + inp["l2"] * np.mean(w ** 2)
                                                for w in _arrays(inp)))),
     "That is a mean over the weights: the penalty sums them (np.sum), as keras.regularizers does."),
    (lambda got, exp, inp: len(inp["weights"]) > 1 and any(
        close(got, _terms({**inp, "weights": [w]}, _abs_sum, _sq_sum)) for w in inp["weights"]),
     "That is the penalty of one weight array only: add the penalties of every array in the list."),
    (lambda got, exp, inp: close(got, _terms(inp, _abs_sum, lambda w: 0.0)) and inp["l2"] != 0,
     "The L2 term is missing: add l2 * sum(w**2)."),
    (lambda got, exp, inp: close(got, _terms(inp, lambda w: 0.0, _sq_sum)) and inp["l1"] != 0,
     "The L1 term is missing: add l1 * sum(|w|)."),
]


class Penalty(Check):
    name = "l1_l2_penalty"
    signature = "l1_l2_penalty(weights, l1, l2)"
    _W1 = np.array([[0.5, -1.5], [2.0, -0.25]])
    _W2 = np.array([[-1.0], [0.75]])
    public_cases = (
        Case({"weights": [_W1], "l1": 0.01, "l2": 0.0}, 0.0425, "L1 only, one 2x2 kernel"),
        Case({"weights": [_W1], "l1": 0.0, "l2": 0.1}, 0.65625, "L2 only, one 2x2 kernel"),
        Case({"weights": [_W1, _W2], "l1": 0.001, "l2": 0.01}, 0.08725, "L1 and L2, two kernels"),
    )

    def secret_inputs(self, rng):
        cases = []
        for l1, l2 in [(float(rng.uniform(1e-3, 0.05)), 0.0), (0.0, float(rng.uniform(1e-3, 0.05))),
                       (float(rng.uniform(1e-3, 0.05)), float(rng.uniform(1e-3, 0.05)))]:
            shapes = [(int(rng.integers(2, 6)), int(rng.integers(2, 6))) for _ in range(int(rng.integers(2, 4)))]
            cases.append({"weights": [rng.normal(0, 1, s) for s in shapes], "l1": l1, "l2": l2})
        return cases

    def hidden_inputs(self, rng):
        return [
            # No penalty at all; a 4-D convolution kernel next to a bias vector; a large l2.
            {"weights": [rng.normal(0, 1, (3, 3))], "l1": 0.0, "l2": 0.0},
            {"weights": [rng.normal(0, 0.3, (3, 3, 2, 4)), rng.normal(0, 0.1, 4)],
             "l1": float(rng.uniform(1e-4, 1e-2)), "l2": float(rng.uniform(1e-4, 1e-2))},
            {"weights": [rng.normal(0, 2, (6, 1))], "l1": 0.5, "l2": 3.0},
        ]

    def compare(self, inputs, got, expected):
        if isinstance(got, (str, dict, tuple, list)) or got is None:
            return (f"{self.signature} should return one number (the total penalty), "
                    f"but returned {type(got).__name__}.")
        arr = _floats(got)
        if arr.size != 1:
            if arr.shape == (len(inputs["weights"]),):
                return (f"{self.signature} returned one value per weight array {fmt(arr)}: add them up into "
                        "one number.")
            return (f"{self.signature} returned an array of shape {arr.shape}, not one number: sum the penalty "
                    "over every weight of every array.")
        return _compare_values(self.signature, arr.reshape(()), expected, inputs, _PENALTY_DIAGNOSES,
                               rtol=1e-6, atol=1e-10)


# ----------------------------------------------------------------------------------- batch normalization
def _scale_shift(z, inputs):
    return _floats(inputs["gamma"]) * z + _floats(inputs["beta"])


def _bn_variant(inputs, *, mean=None, var=None, ddof=0, eps_mode="inside", axis=0, scale=True, root=True):
    """A batch-norm output computed one particular way: the shape of a (possibly wrong) answer."""
    with np.errstate(all="ignore"):  # a wrong variant may divide by a zero variance: it then just fails to match
        return _bn_variant_values(inputs, mean, var, ddof, eps_mode, axis, scale, root)


def _bn_variant_values(inputs, mean, var, ddof, eps_mode, axis, scale, root):
    x = _floats(inputs["x"])
    eps = float(inputs["epsilon"])
    mu = x.mean(axis=axis, keepdims=True) if mean is None else _floats(mean)
    v = x.var(axis=axis, ddof=ddof, keepdims=True) if var is None else _floats(var)
    if eps_mode == "inside":
        denom = np.sqrt(v + eps) if root else v + eps
    elif eps_mode == "outside":
        denom = np.sqrt(v) + eps
    else:
        denom = np.sqrt(v)
    z = (x - mu) / denom
    return _scale_shift(z, inputs) if scale else z


def _moving(inputs):
    return _floats(inputs["moving_mean"]), _floats(inputs["moving_var"])


_EPS_INSIDE = ("epsilon goes inside the square root: (x - mean) / sqrt(var + epsilon), as Keras computes it, "
               "not (x - mean) / (sqrt(var) + epsilon).")
_NO_EPS = "epsilon is missing: divide by sqrt(var + epsilon), which also keeps a constant feature finite."
_NO_ROOT = "That divides by the variance: divide by the standard deviation, sqrt(var + epsilon)."
_NO_SCALE = ("That is the normalised x without its scale and shift: multiply by gamma and add beta, "
             "out = gamma * x_hat + beta.")
_SWAPPED = "gamma and beta are swapped: gamma scales (multiplies) and beta shifts (is added)."

_TRAIN_OUT_DIAGNOSES = [
    (lambda got, exp, inp: np.shape(inp["x"])[0] > 1 and _near(got, _bn_variant(inp, ddof=1)),
     "The variance has ddof=1 (divides by m - 1): batch norm uses the batch's biased variance, the mean of "
     "(x - mean)**2, which is np.var's default ddof=0."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, eps_mode="outside")), _EPS_INSIDE),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, eps_mode="none")), _NO_EPS),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=_moving(inp)[1])),
     "That used moving_mean and moving_var: in training mode batch norm normalises with the batch's own mean "
     "and variance (and then updates the moving statistics)."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, axis=1)),
     "The statistics were taken along axis 1 (per sample): batch norm takes one mean and one variance per "
     "feature, over the batch: axis=0."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, root=False)), _NO_ROOT),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, scale=False)), _NO_SCALE),
    (lambda got, exp, inp: _near(got, _floats(inp["beta"]) * _bn_variant(inp, scale=False) + _floats(inp["gamma"])),
     _SWAPPED),
]


def _batch_stats(inputs, ddof=0):
    x = _floats(inputs["x"])
    return x.mean(axis=0), x.var(axis=0, ddof=ddof)


def _update(old, new, momentum):
    return momentum * old + (1 - momentum) * new


_MOMENTUM_SWAPPED = ("The momentum weights are swapped: Keras keeps momentum of the old value, "
                     "moving = momentum * moving + (1 - momentum) * batch_statistic (momentum=0.99 moves slowly).")
_NOT_UPDATED = ("The moving statistic came back unchanged: in training mode update it, "
                "moving = momentum * moving + (1 - momentum) * batch_statistic.")
_REPLACED = ("That is the batch statistic itself: the moving statistic is a running average, "
             "moving = momentum * moving + (1 - momentum) * batch_statistic.")


def _moving_diagnoses(which: str) -> list:
    index = 0 if which == "mean" else 1
    diagnoses = [
        (lambda got, exp, inp: _near(got, _update(_batch_stats(inp)[index], _moving(inp)[index], inp["momentum"])),
         _MOMENTUM_SWAPPED),
        (lambda got, exp, inp: _near(got, _moving(inp)[index]), _NOT_UPDATED),
        (lambda got, exp, inp: _near(got, _batch_stats(inp)[index]), _REPLACED),
    ]
    if which == "var":
        diagnoses.insert(0, (lambda got, exp, inp: np.shape(inp["x"])[0] > 1 and _near(
            got, _update(_moving(inp)[1], _batch_stats(inp, ddof=1)[1], inp["momentum"])),
            "The moving variance was updated with ddof=1: Keras averages the same biased batch variance "
            "(ddof=0) that it normalised with."))
        diagnoses.insert(1, (lambda got, exp, inp: _near(
            got, _update(_moving(inp)[1], np.sqrt(_batch_stats(inp)[1]), inp["momentum"])),
            "The moving variance was updated with the standard deviation: average the batch variance, not its root."))
    return diagnoses


_MOVING_MEAN_DIAGNOSES = _moving_diagnoses("mean")
_MOVING_VAR_DIAGNOSES = _moving_diagnoses("var")

_INFERENCE_OUT_DIAGNOSES = [
    (lambda got, exp, inp: _near(got, _bn_variant(inp)),
     "That used the batch's own mean and variance at inference: with training=False batch norm normalises with "
     "moving_mean and moving_var, so a prediction does not depend on the other samples in the batch."),
    (lambda got, exp, inp: np.shape(inp["x"])[0] > 1 and _near(got, _bn_variant(inp, ddof=1)),
     "That used the batch's own statistics at inference (with ddof=1 too): with training=False use moving_mean "
     "and moving_var."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=_moving(inp)[1],
                                                  eps_mode="outside")), _EPS_INSIDE),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=_moving(inp)[1],
                                                  eps_mode="none")), _NO_EPS),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=_moving(inp)[1], root=False)),
     "That divides by moving_var + epsilon: moving_var is a variance, so divide by sqrt(moving_var + epsilon)."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=np.sqrt(_moving(inp)[1]))),
     "That treats moving_var as a standard deviation: it is a variance, so divide by sqrt(moving_var + epsilon)."),
    (lambda got, exp, inp: _near(got, _bn_variant(inp, mean=_moving(inp)[0], var=_moving(inp)[1], scale=False)),
     _NO_SCALE),
    (lambda got, exp, inp: _near(got, _floats(inp["beta"]) * _bn_variant(
        inp, mean=_moving(inp)[0], var=_moving(inp)[1], scale=False) + _floats(inp["gamma"])), _SWAPPED),
]


def _bn_inputs(rng, m, d, training, momentum=None, epsilon=None):
    scale = rng.uniform(0.3, 1.5, d)
    return {"x": rng.normal(rng.normal(0, 2, d), scale, (m, d)),
            "gamma": rng.uniform(0.5, 2.0, d) * rng.choice([-1, 1], d), "beta": rng.normal(0, 1, d),
            "moving_mean": rng.normal(0, 1, d), "moving_var": rng.uniform(0.2, 3.0, d),
            "training": training,
            "momentum": float(rng.uniform(0.5, 0.95)) if momentum is None else momentum,
            "epsilon": float(rng.uniform(0.05, 0.5)) if epsilon is None else epsilon}


_X4 = np.array([[1.0, -2.0, 0.5], [2.0, 0.0, 0.7], [0.0, 1.0, 0.1], [3.0, -1.0, 0.3]])
_BN_PARAMS = {"gamma": np.array([1.5, -0.5, 2.0]), "beta": np.array([0.1, 0.2, -0.3]),
              "moving_mean": np.array([0.5, 0.0, 1.0]), "moving_var": np.array([2.0, 0.5, 0.04])}


class _BatchNorm(Check):
    signature = ("batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon)")
    training = True

    def run(self, subject, inputs):
        result = subject(**inputs)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return {"ok": False, "kind": type(result).__name__,
                    "length": len(result) if isinstance(result, (tuple, list)) else -1}
        return {"ok": True, "out": np.asarray(result[0], dtype=np.float64),
                "mean": np.asarray(result[1], dtype=np.float64), "var": np.asarray(result[2], dtype=np.float64)}

    def _shape_message(self, got):
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        if not got.get("ok"):
            what = f"a {got.get('kind')}" + (f" of length {got.get('length')}" if got.get("length", -1) >= 0 else "")
            return (f"{self.signature} should return a tuple (out, new_moving_mean, new_moving_var), "
                    f"but returned {what}.")
        return None

    def compare(self, inputs, got, expected):
        message = self._shape_message(got)
        if message:
            return message
        mode = "training=True" if self.training else "training=False"
        out_diag = _TRAIN_OUT_DIAGNOSES if self.training else _INFERENCE_OUT_DIAGNOSES
        message = _compare_values(f"{self.signature} with {mode}: out", got["out"], expected["out"], inputs, out_diag)
        if message:
            return message
        if self.training:
            message = _compare_values(f"With {mode}, new_moving_mean", got["mean"], expected["mean"], inputs,
                                      _MOVING_MEAN_DIAGNOSES)
            return message or _compare_values(f"With {mode}, new_moving_var", got["var"], expected["var"],
                                              inputs, _MOVING_VAR_DIAGNOSES)
        for key, name in (("mean", "moving_mean"), ("var", "moving_var")):
            if not _near(got[key], expected[key]):
                return (f"With {mode} the {name} must come back unchanged, {fmt(expected[key])}, but came back as "
                        f"{fmt(got[key])}: the moving statistics are only updated in training mode.")
        return None


class BatchNormTraining(_BatchNorm):
    name = "batchnorm_training"
    training = True
    public_cases = (
        Case({"x": _X4, **_BN_PARAMS, "training": True, "momentum": 0.9, "epsilon": 0.1},
             {"ok": True, "out": np.array([[-0.5454972243679028, 0.8454972243679029, 0.2163977794943221],
                                           [0.7454972243679028, -0.01516574145596758, 1.2491933384829663],
                                           [-1.8364916731037082, -0.4454972243679028, -1.849193338482967],
                                           [2.036491673103708, 0.41516574145596763, -0.8163977794943225]]),
              "mean": np.array([0.6, -0.04999999999999999, 0.9400000000000001]),
              "var": np.array([1.925, 0.575, 0.041])},
             "4 samples, 3 features, momentum 0.9, epsilon 0.1"),
        Case({"x": np.array([[2.0, -1.0], [4.0, 1.0]]), "gamma": np.array([1.0, 2.0]), "beta": np.array([0.0, 1.0]),
              "moving_mean": np.array([0.0, 0.0]), "moving_var": np.array([0.5, 2.0]), "training": True,
              "momentum": 0.99, "epsilon": 0.001},
             {"ok": True, "out": np.array([[-0.9995003746877732, -0.9990007493755464],
                                           [0.9995003746877732, 2.999000749375546]]),
              "mean": np.array([0.030000000000000027, 0.0]), "var": np.array([0.505, 1.99])},
             "a batch of 2, Keras's defaults momentum 0.99, epsilon 0.001"),
    )

    def secret_inputs(self, rng):
        return [_bn_inputs(rng, int(rng.integers(5, 12)), int(rng.integers(2, 6)), True),
                _bn_inputs(rng, int(rng.integers(3, 6)), int(rng.integers(3, 5)), True),
                _bn_inputs(rng, int(rng.integers(20, 40)), 3, True, momentum=0.99, epsilon=1e-3)]

    def hidden_inputs(self, rng):
        single = _bn_inputs(rng, 1, 3, True)  # a batch of one: its variance is 0, so out = beta
        constant = _bn_inputs(rng, 6, 2, True)
        constant["x"][:, 1] = float(rng.normal())  # a feature that never varies
        return [single, constant, _bn_inputs(rng, 2, 4, True)]


class BatchNormInference(_BatchNorm):
    name = "batchnorm_inference"
    training = False
    public_cases = (
        Case({"x": _X4, **_BN_PARAMS, "training": False, "momentum": 0.9, "epsilon": 0.1},
             {"ok": True, "out": np.array([[0.6175491695067656, 1.4909944487358056, -2.9726124191242436],
                                           [1.652647508520297, 0.2, -1.9035674514745464],
                                           [-0.4175491695067657, -0.4454972243679028, -5.110702354423639],
                                           [2.687745847533828, 0.8454972243679029, -4.041657386773941]]),
              "mean": _BN_PARAMS["moving_mean"], "var": _BN_PARAMS["moving_var"]},
             "4 samples, 3 features, epsilon 0.1"),
        Case({"x": np.array([[2.0, -1.0, 0.5]]), **_BN_PARAMS, "training": False, "momentum": 0.99, "epsilon": 0.001},
             {"ok": True, "out": np.array([[1.6905926591985303, 0.9064007333008539, -5.238647983247947]]),
              "mean": _BN_PARAMS["moving_mean"], "var": _BN_PARAMS["moving_var"]},
             "a single sample, epsilon 0.001"),
    )

    def secret_inputs(self, rng):
        return [_bn_inputs(rng, int(rng.integers(5, 12)), int(rng.integers(2, 6)), False),
                _bn_inputs(rng, int(rng.integers(3, 6)), int(rng.integers(3, 5)), False),
                _bn_inputs(rng, 1, int(rng.integers(2, 5)), False)]

    def hidden_inputs(self, rng):
        return [_bn_inputs(rng, 2, 3, False), _bn_inputs(rng, 30, 2, False, momentum=0.99, epsilon=1e-3)]


# ----------------------------------------------------------------------------------- the early-stopping rule
def _random_curve(rng, n, decimals=2):
    """A validation curve that falls, flattens and then rises (overfitting), with noise, rounded so ties occur."""
    turn = int(rng.integers(2, max(3, n - 2)))
    epochs = np.arange(n)
    curve = 0.3 + 0.8 * np.exp(-epochs / max(turn / 2, 1)) + 0.02 * np.maximum(epochs - turn, 0) ** 1.3
    return np.round(curve + rng.normal(0, 0.02, n), decimals)


class EarlyStoppingRule(Check):
    name = "early_stopping_epochs"
    signature = "early_stopping_epochs(val_losses, patience, min_delta)"
    public_cases = (
        Case({"val_losses": [0.9, 0.7, 0.6, 0.62, 0.61, 0.65, 0.55, 0.7], "patience": 2, "min_delta": 0.0},
             (4, 2), "patience 2: stops before the later, lower loss at epoch 6"),
        Case({"val_losses": [1.0, 0.8, 0.9, 0.8, 0.85, 0.9, 0.95, 0.7], "patience": 3, "min_delta": 0.0},
             (4, 1), "patience 3, a tie at epoch 3"),
        Case({"val_losses": [1.0, 0.9, 0.89, 0.88, 0.885, 0.89, 0.895, 0.6], "patience": 3, "min_delta": 0.025},
             (4, 1), "patience 3, min_delta 0.025"),
        Case({"val_losses": [0.5, 0.45, 0.44, 0.43], "patience": 2, "min_delta": 0.0},
             (3, 3), "always improving: runs every epoch"),
    )

    def secret_inputs(self, rng):
        cases = []
        for patience, min_delta in [(int(rng.integers(1, 3)), 0.0), (int(rng.integers(2, 5)), 0.0),
                                    (int(rng.integers(2, 4)), float(rng.choice([0.015, 0.025, 0.035]))),
                                    (int(rng.integers(3, 6)), 0.0)]:
            cases.append({"val_losses": _random_curve(rng, int(rng.integers(10, 25))).tolist(),
                          "patience": patience, "min_delta": min_delta})
        # A plateau of exact ties right after the minimum.
        n = int(rng.integers(10, 16))
        curve = _random_curve(rng, n)
        low = int(np.argmin(curve))
        curve[low + 1: low + 3] = curve[low]
        cases.append({"val_losses": curve.tolist(), "patience": int(rng.integers(2, 4)), "min_delta": 0.0})
        return cases

    def hidden_inputs(self, rng):
        start = float(np.round(rng.uniform(0.8, 1.2), 2))
        return [
            {"val_losses": [start], "patience": 1, "min_delta": 0.0},                       # a single epoch
            {"val_losses": [start, start, start, start], "patience": 2, "min_delta": 0.0},  # never improves
            {"val_losses": [start, start - 0.2, start - 0.1, float("nan"), float("nan"), float("nan")],
             "patience": 2, "min_delta": 0.0},                                              # diverged to nan
            {"val_losses": _random_curve(rng, 8).tolist(), "patience": 20, "min_delta": 0.0},  # patience > epochs
            {"val_losses": _random_curve(rng, 12).tolist(), "patience": 1, "min_delta": 0.0},
        ]

    def run(self, subject, inputs):
        result = subject(list(inputs["val_losses"]), inputs["patience"], inputs["min_delta"])
        if isinstance(result, (tuple, list)) and len(result) == 2:
            try:
                values = [float(v) for v in result]
            except (TypeError, ValueError):
                return {"ok": False, "kind": "a pair of non-numbers"}
            return {"ok": True, "stop": values[0], "best": values[1]}
        return {"ok": False, "kind": type(result).__name__}

    def compare(self, inputs, got, expected):
        if isinstance(expected, tuple):  # the public cases hold (stop, best)
            expected = {"stop": expected[0], "best": expected[1]}
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        if not got.get("ok"):
            return f"{self.signature} should return a pair (stop_epoch, best_epoch), but returned {got.get('kind')}."
        stop, best = got["stop"], got["best"]
        exp_stop, exp_best = int(expected["stop"]), int(expected["best"])
        losses = _floats(inputs["val_losses"])
        n, patience, min_delta = len(losses), int(inputs["patience"]), float(inputs["min_delta"])
        shown = f"returned ({fmt(stop)}, {fmt(best)}), expected ({exp_stop}, {exp_best})"
        if (stop, best) == (exp_stop, exp_best):
            return None
        if (stop, best) == (exp_stop + 1, exp_best + 1):
            return (f"{self.signature} {shown}: both are one too large. Epochs are numbered from 0, like the "
                    "positions in history.history['val_loss'] (Keras only prints them from 1).")
        if stop != int(stop) or best != int(best) or not (0 <= best < n and 0 <= stop < n):
            return f"{self.signature} {shown}: both must be epoch indices from 0 to {n - 1}."
        stop, best = int(stop), int(best)
        if stop == n - 1 and exp_stop < n - 2:
            return (f"{self.signature} {shown}: the rule never fired. Count the epochs since the last improvement "
                    "(reset to 0 when an epoch improves) and stop at the epoch where the count reaches patience.")
        if best != exp_best:
            lowest = int(np.nanargmin(losses)) if np.any(np.isfinite(losses)) else 0
            if best == stop:
                return (f"{self.signature} {shown}: that returns the epoch where training stopped as the best "
                        "epoch. The best epoch is the last one that improved on the best loss so far: "
                        "restore_best_weights goes back to it, not to the last epoch.")
            if best == lowest and best > exp_stop:
                return (f"{self.signature} {shown}: the best epoch was looked up over every loss in the list, but "
                        f"training stopped at epoch {exp_stop} and never saw the lower loss at epoch {best}. Find the "
                        "best epoch among the epochs that ran, while you scan.")
            if best > exp_best and losses[best] == losses[exp_best]:
                return (f"{self.signature} {shown}: a tie counted as an improvement. An epoch improves only when "
                        "its loss is strictly below best - min_delta (use <, not <=).")
            if best > exp_best and losses[exp_best] - min_delta <= losses[best] < losses[exp_best]:
                return (f"{self.signature} {shown}: a gain smaller than min_delta = {min_delta:g} counted as an "
                        "improvement. An epoch improves only when its loss < best - min_delta.")
            return (f"{self.signature} {shown}: the best epoch is wrong. It is the last epoch whose loss was below "
                    "best - min_delta, where best is the loss of the previous best epoch (epoch 0 is the first best).")
        if stop == exp_stop + 1:
            return (f"{self.signature} {shown}: training stopped one epoch late (patience off by one). Stop at the "
                    f"epoch where the count of epochs without improvement reaches patience = {patience} "
                    "(count >= patience), not when it exceeds it.")
        if stop == exp_stop - 1:
            return (f"{self.signature} {shown}: training stopped one epoch early (patience off by one): it should "
                    f"allow {patience} epoch(s) without improvement and stop at the last of them.")
        return (f"{self.signature} {shown}: the stopping epoch is wrong. Count the epochs since the last improvement "
                "and stop at the epoch where that count reaches patience; if it never does, return the last epoch.")


# ----------------------------------------------------------------------------------- stopping a diverging run
#: The callback must stop within this many epochs after the best one (the statement asks for patience 3).
MAX_EPOCHS_AFTER_BEST = 3
#: The final model's validation loss must be within this factor of the best epoch's: the weights were restored.
RESTORED_FACTOR = 1.02


def diverging_run_inputs(rng: np.random.Generator, m: int = 64, epochs: int = 24) -> dict:
    """A linear-regression run whose learning rate is too large for one direction of the weights.

    Full-batch gradient descent on the mean squared error multiplies the error along each eigenvector of
    the Hessian by |1 - lr * lambda| per step. The learning rate puts the largest eigenvalue's factor at
    1.3-1.45 (unstable), and the start has a tiny error along that eigenvector and large ones along the
    others, which shrink. So the validation loss first falls for several epochs, then explodes.
    """
    s1, s2 = rng.uniform(1.5, 2.5), rng.uniform(0.4, 0.6)
    w = np.array([rng.uniform(-2, 2), rng.uniform(2, 4) * rng.choice([-1, 1])])
    b = rng.uniform(1, 3) * rng.choice([-1, 1])

    def sample(n):
        X = rng.normal(0, 1, (n, 2)) * [s1, s2]
        return X, X @ w + b + rng.normal(0, 0.3, n)

    X, y = sample(m)
    X_val, y_val = sample(m)
    design = np.c_[X, np.ones(m)]
    eigenvalues, vectors = np.linalg.eigh(2 / m * design.T @ design)
    optimum = np.linalg.lstsq(design, y, rcond=None)[0]
    growth = rng.uniform(1.3, 1.45)
    start = (optimum + vectors[:, 0] * rng.uniform(2, 3) * rng.choice([-1, 1])
             + vectors[:, 1] * rng.uniform(2, 3) * rng.choice([-1, 1])
             + vectors[:, 2] * rng.uniform(3e-3, 6e-3) * rng.choice([-1, 1]))
    return {"X": X, "y": y, "X_val": X_val, "y_val": y_val, "kernel": start[:2], "bias": float(start[2]),
            "learning_rate": float((1 + growth) / eigenvalues[-1]), "epochs": epochs}


def fit_diverging_run(callbacks, inputs: dict):
    """Fit a Dense(1) model on a diverging run with the given callbacks; return (model, history)."""
    import keras

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.set_weights([np.asarray(inputs["kernel"], dtype="float32").reshape(2, 1),
                       np.array([inputs["bias"]], dtype="float32")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=inputs["learning_rate"]), loss="mse")
    X = np.asarray(inputs["X"], dtype="float32")
    history = model.fit(X, np.asarray(inputs["y"], dtype="float32"),
                        validation_data=(np.asarray(inputs["X_val"], dtype="float32"),
                                         np.asarray(inputs["y_val"], dtype="float32")),
                        epochs=int(inputs["epochs"]), batch_size=len(X), shuffle=False, verbose=0,
                        callbacks=list(callbacks))
    return model, history


def replay_diverging_run(inputs: dict) -> np.ndarray:
    """The val_loss after each epoch of `fit_diverging_run` with no callback, computed here in float64.

    One full-batch SGD step per epoch on the mean squared error, from the run's start, on the float32 values
    the kernel fits with. A callback only decides when the run stops and which weights it keeps, so the
    val_loss a run records must be a prefix of these (Keras's float32 agrees to about 1e-4)."""
    def values(key):
        return np.asarray(inputs[key], dtype="float32").astype(np.float64)

    X, y, X_val, y_val = values("X"), values("y").ravel(), values("X_val"), values("y_val").ravel()
    w, b = values("kernel").ravel(), float(np.float32(inputs["bias"]))
    rate, m = float(np.float32(inputs["learning_rate"])), len(X)
    losses = []
    for _ in range(int(inputs["epochs"])):
        residual = X @ w + b - y
        w, b = w - rate * 2 / m * (X.T @ residual), b - rate * 2 / m * float(residual.sum())
        losses.append(float(np.mean((X_val @ w + b - y_val) ** 2)))
    return np.asarray(losses)


#: How closely a recorded val_loss must follow the grader's replay (Keras runs in float32).
REPLAY_RTOL = 1e-3


def _short(text, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_the_checks_model(model) -> bool:
    """The model fit_diverging_run builds: one Dense(1) layer with no activation on two inputs."""
    import keras

    layers = [layer for layer in all_layers(model) if not isinstance(layer, keras.layers.InputLayer)]
    return (len(layers) == 1 and isinstance(layers[0], keras.layers.Dense) and int(layers[0].units) == 1
            and [tuple(w.shape) for w in model.get_weights()] == [(2, 1), (1,)]
            and getattr(layers[0].activation, "__name__", "") == "linear")


class DivergingRun(Check):
    """Judged by behaviour: how many epochs ran, and whether the final weights are the best epoch's.

    The callback is student code, so the kernel runs the fit and reports the trained model (config and
    weights) and the val_loss history the run recorded. The grader rebuilds the model (it must be the check's
    Dense(1)), computes its final validation loss itself, and replays the run in numpy: the recorded history
    must be a prefix of the replay's, so a report cannot invent a curve that stops at the right time."""
    name = "stops_diverging_run"
    signature = "make_early_stopping()"
    public_cases = (Case(diverging_run_inputs(np.random.default_rng(9)), None,
                         "a linear model whose learning rate is too large, 24 epochs at most"),)

    def secret_inputs(self, rng):
        return [diverging_run_inputs(rng)]

    def run(self, subject, inputs):
        import keras

        made = subject()
        callbacks = list(made) if isinstance(made, (list, tuple)) else [made]
        for callback in callbacks:
            if not isinstance(callback, keras.callbacks.Callback):
                kind = (f"the class {callback.__name__}" if isinstance(callback, type)
                        else type(callback).__name__)
                return {"stage": "not_callback", "kind": kind}
        keras.utils.set_random_seed(0)
        try:
            model, history = fit_diverging_run(callbacks, inputs)
        except Exception as exc:  # noqa: BLE001 - the message explains what went wrong inside model.fit
            return {"stage": "fit_error", "detail": f"{type(exc).__name__}: {_short(exc)}"}
        return {"stage": "trained", "model": report_model(model),
                "val_losses": np.asarray(history.history.get("val_loss", []), dtype=np.float64)}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        stage = got.get("stage")
        if stage == "not_callback":
            return (f"{self.signature} returned {got.get('kind')}, not a Keras callback object. Return an instance, "
                    "e.g. keras.callbacks.EarlyStopping(...) with its arguments (note the parentheses).")
        if stage == "fit_error":
            return f"model.fit with your callback raised {got.get('detail')}"
        if stage != "trained":
            return f"{self.signature}: the check cannot read what the run reported."
        try:
            model = rebuild_model(got.get("model"))
        except ModelRejected as exc:
            return f"The model the run trained cannot be checked: {exc}."
        if not _is_the_checks_model(model):
            return (f"The run reported a model other than the check's Dense(1) on two inputs: the callback "
                    f"from {self.signature} must only stop the training, not replace the model.")
        try:
            losses = np.asarray(got.get("val_losses"), dtype=np.float64).ravel()
        except (TypeError, ValueError):
            return "The run reported a val_loss history the check cannot read."
        epochs = int(inputs["epochs"])
        if losses.size == 0:
            return "The run recorded no val_loss: the check fits with validation_data, so this should not happen."
        replay = replay_diverging_run(inputs)
        if losses.size > epochs or not np.allclose(losses, replay[:losses.size], rtol=REPLAY_RTOL, atol=1e-9,
                                                   equal_nan=True):
            return (f"The val_loss the run recorded ({fmt(losses, 30)}) is not what its training gives "
                    f"({fmt(replay[:max(1, min(losses.size, epochs))], 30)}): the callback changed the training "
                    "itself (the learning rate, the weights or the data). Return an EarlyStopping callback, which "
                    "only decides when to stop and which weights to keep.")
        finite = np.where(np.isfinite(losses), losses, np.inf)
        best = int(np.argmin(finite))
        stop = losses.size - 1
        curve = f"val_loss per epoch: {fmt(losses, 30)}"
        if losses.size >= epochs and stop - best > MAX_EPOCHS_AFTER_BEST:
            return (f"The callback never stopped the diverging run: all {epochs} epochs ran, although val_loss was "
                    f"lowest at epoch {best} and then grew ({curve}). Monitor 'val_loss' with patience=3.")
        if stop <= best:
            return (f"The callback stopped at epoch {stop} while val_loss was still falling ({curve}). Stop when "
                    "val_loss has not improved for 3 epochs: monitor='val_loss' (mode 'min' or 'auto', since a "
                    "lower loss is better).")
        if stop - best > MAX_EPOCHS_AFTER_BEST:
            return (f"The callback stopped at epoch {stop}, {stop - best} epochs after the best epoch {best}: that is "
                    f"too late while the loss explodes ({curve}). Use patience=3.")
        X_val, y_val = np.asarray(inputs["X_val"], dtype=np.float64), np.asarray(inputs["y_val"], dtype=np.float64)
        final = float(np.mean((predict(model, X_val).ravel() - y_val.ravel()) ** 2))
        if not np.isfinite(final) or final > RESTORED_FACTOR * finite[best] + 1e-9:
            last = "the last epoch's" if np.isfinite(final) and np.isclose(final, losses[-1], rtol=1e-3) else "other"
            return (f"Training stopped at the right time (epoch {stop}, best epoch {best}), but the model kept "
                    f"{last} weights: its val_loss is {final:.4g}, the best epoch's was {finite[best]:.4g}. Pass "
                    "restore_best_weights=True so that the weights of the best epoch come back.")
        return None


l1_l2_penalty = Penalty()
batchnorm_training = BatchNormTraining()
batchnorm_inference = BatchNormInference()
early_stopping_epochs = EarlyStoppingRule()
stops_diverging_run = DivergingRun()

CHECKS = CheckSet("09_regularization", [l1_l2_penalty, batchnorm_training, batchnorm_inference,
                                        early_stopping_epochs, stops_diverging_run])
