"""Checks for 09_regularization: L1/L2 weight penalties, batch normalization in training and inference
modes, the early-stopping rule of keras.callbacks.EarlyStopping, and a hand-written callback to repair.

The formulas follow Keras 3 exactly (checked against keras.regularizers.L1L2,
keras.layers.BatchNormalization and keras.callbacks.EarlyStopping):

* penalty = l1 * sum(|w|) + l2 * sum(w**2), summed over every weight array (no factor 1/2, no root);
* batch norm, training: out = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch's mean and
  *biased* variance (ddof=0) per feature, and moving = momentum * moving + (1 - momentum) * batch statistic;
* batch norm, inference: the same formula with moving_mean and moving_var, which stay unchanged;
* early stopping (mode "min"): an epoch improves when its loss < best - min_delta; the run stops at the
  epoch where the count of epochs without improvement reaches patience.

Stated rules (part / rule / how it is checked). Found 30, checked 27, suggestions only 3.
- l1_l2_penalty / return one float / type and shape messages (a list, one value per array, an array)
- l1_l2_penalty / l1 * sum(|w|) + l2 * sum(w**2) over every entry of every array / values (float32 accuracy,
  Keras's own L1L2 in float32 as twin); diagnoses (mean, one array, signed L1, swapped, a term missing)
- l1_l2_penalty / no factor 1/2 / diagnosis
- l1_l2_penalty / no square root: the squared norm / diagnoses (per array and over everything)
- l1_l2_penalty / about 4 lines / suggestion only
- batchnorm_training / return (out, new_moving_mean, new_moving_var) / tuple message
- batchnorm_training / out of shape (m, d), statistics of shape (d,) / `compare_array` shape messages
- batchnorm_training / the batch's own mean and biased variance (ddof=0), per feature (axis 0) / values,
  diagnoses (ddof=1, moving statistics, axis 1)
- batchnorm_training / epsilon inside the square root / diagnoses (outside, missing, no root)
- batchnorm_training / gamma scales, beta shifts / diagnoses (missing, swapped)
- batchnorm_training / moving = momentum * moving + (1 - momentum) * batch statistic / values of both;
  diagnoses (swapped weights, not updated, replaced, ddof=1, the standard deviation)
- batchnorm_inference / moving_mean and moving_var instead of the batch's statistics / values, diagnoses
- batchnorm_inference / the moving statistics come back unchanged / message
- batchnorm_inference / moving_var is a variance, epsilon inside the root / diagnoses
- batchnorm_forward / about 10 lines / suggestion only
- early_stopping_epochs / return (stop_epoch, best_epoch), two ints / pair message, "as floats" message
- early_stopping_epochs / epochs numbered from 0 / "one too large" diagnosis; indices in range
- early_stopping_epochs / epoch 0 is the first best (best = val_losses[0]) / variants "best starts at 0" and
  "inf, scan from epoch 1"
- early_stopping_epochs / improvement is loss < best - min_delta, strictly / variants (ties, min_delta ignored)
- early_stopping_epochs / an improvement resets the count to 0 / variant "no reset" (a public sequence)
- early_stopping_epochs / stop at the epoch where the count reaches patience / variants (late, early)
- early_stopping_epochs / if it never does, the last epoch, len(val_losses) - 1 / variants (never fires, the
  length), public and hidden cases
- early_stopping_epochs / the best epoch among the epochs that ran / variants (over the whole list, the stop)
- early_stopping_epochs / a nan loss never improves / a public and a hidden sequence, variant "nan improves"
  (each case bundles several sequences; a variant's advice is named only when that variant alone gives
  every answer the student returned for them)
- early_stopping_epochs / about 10 lines / suggestion only
- make_patience_stopper / return an instance of a Keras callback / messages for a class, a non-callback
- make_patience_stopper / repair the draft, not keras.callbacks.EarlyStopping / message
- make_patience_stopper / watch logs["val_loss"] (lower is better) / scripted training losses that would stop
  it elsewhere (variant "watches the training loss")
- make_patience_stopper / the first epoch is the first best, an improvement resets the count, stop when the
  count reaches patience (self.model.stop_training) / scripted losses driven through fit's calls, stopping
  epoch (Partial, 1 of 2); variants named only when one alone explains it
- make_patience_stopper / end with the best epoch's weights, also when training never stops / the model's
  weight after on_train_end, in a run it stops and in one it never stops (a second drive with a patience
  longer than the run) (Partial, 1 of 2); "the last epoch's weights" message
"""
from __future__ import annotations

import numpy as np

from .compare import close, compare_array, fmt, matches
from .core import Case, Check, CheckSet, requirements


def _floats(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _near(got, expected, rtol: float = 1e-4, atol: float = 1e-6, twin=None) -> bool:
    """Agreement to float32 precision (`compare.matches`): relative where values are large, absolute near zero."""
    return matches(got, expected, rtol, floor=atol, twin=twin)


def _compare_values(what, got, expected, inputs, diagnoses, rtol=1e-4, atol=1e-6, twin=None):
    if _near(got, expected, rtol, atol, twin):
        return None
    return compare_array(what, got, expected, inputs, tol=rtol, diagnoses=diagnoses, twin=twin)


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


def _keras_penalty(inputs: dict):
    """Keras's own float32 L1L2 penalty for the same arrays: the accuracy a float32 answer may have."""
    try:
        import keras

        regularizer = keras.regularizers.L1L2(l1=float(inputs["l1"]), l2=float(inputs["l2"]))
        return sum(float(keras.ops.convert_to_numpy(regularizer(keras.ops.convert_to_tensor(
            np.asarray(w, dtype="float32"))))) for w in inputs["weights"])
    except Exception:  # noqa: BLE001 - without Keras the float64 tolerance alone applies
        return None


class Penalty(Check):
    name = "l1_l2_penalty"
    signature = "l1_l2_penalty(weights, l1, l2)"
    expected_form = "one float"
    _W1 = np.array([[0.5, -1.5], [2.0, -0.25]])
    _W2 = np.array([[-1.0], [0.75]])
    public_cases = (
        Case({"weights": [_W1, _W2], "l1": 0.001, "l2": 0.01}, 0.08725, "L1 and L2, two kernels"),
        Case({"weights": [_W1], "l1": 0.01, "l2": 0.0}, 0.0425, "L1 only, one 2x2 kernel"),
        Case({"weights": [_W1], "l1": 0.0, "l2": 0.1}, 0.65625, "L2 only, one 2x2 kernel"),
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
            return (f"{self.signature} should return one float (the total penalty), "
                    f"but returned {type(got).__name__}.")
        arr = _floats(got)
        if arr.shape != ():
            if arr.shape == (len(inputs["weights"]),) and arr.size > 1:
                return (f"{self.signature} returned one value per weight array {fmt(arr)}: add them up into "
                        "one number.")
            if arr.size == 1:
                return (f"{self.signature} returned an array of shape {arr.shape}, not a float: return the number "
                        "itself, e.g. float(total).")
            return (f"{self.signature} returned an array of shape {arr.shape}, not one number: sum the penalty "
                    "over every weight of every array.")
        return _compare_values(self.signature, arr, expected, inputs, _PENALTY_DIAGNOSES,
                               rtol=1e-6, atol=1e-10, twin=_keras_penalty(inputs))


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
    expected_form = "a tuple (out, new_moving_mean, new_moving_var) of arrays"
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


# ----------------------------------------------------------------------------------- the early-stopping rule
def _random_curve(rng, n, decimals=2):
    """A validation curve that falls, flattens and then rises (overfitting), with noise, rounded so ties occur."""
    turn = int(rng.integers(2, max(3, n - 2)))
    epochs = np.arange(n)
    curve = 0.3 + 0.8 * np.exp(-epochs / max(turn / 2, 1)) + 0.02 * np.maximum(epochs - turn, 0) ** 1.3
    return np.round(curve + rng.normal(0, 0.02, n), decimals)


def stopping_rule(val_losses, patience, min_delta=0.0, *, start="first", reset=True, strict=True, use_delta=True,
                  patience_shift=0, nan_improves=False, never_stops=False, one_based=False, best_is_stop=False,
                  best_over_all=False, end_is_length=False) -> tuple[int, int]:
    """(stop_epoch, best_epoch) of keras.callbacks.EarlyStopping's rule, or of one way of getting it wrong.

    With the defaults this is the rule the exercise states. Each keyword breaks one stated rule: the best
    loss's starting value ("zero": 0.0, "inf_skip_0": inf with the scan starting at epoch 1), the count's
    reset at an improvement, strict improvement, min_delta, the count reaching (not passing) patience,
    nan never improving, stopping at all, epochs from 0, the best epoch among those that ran, and the last
    index when the rule never fires.
    """
    losses = [float(v) for v in val_losses]
    best, first = {"first": (losses[0], 1), "zero": (0.0, 0), "inf_skip_0": (np.inf, 1)}[start]
    best_epoch, wait, stop = 0, 0, None
    for epoch in range(first, len(losses)):
        loss = losses[epoch]
        threshold = best - (min_delta if use_delta else 0.0)
        improved = loss < threshold if strict else loss <= threshold
        if nan_improves:
            improved = not loss >= threshold
        if improved:
            best, best_epoch = loss, epoch
            if reset:
                wait = 0
        else:
            wait += 1
            if not never_stops and wait >= patience + patience_shift:
                stop = epoch
                break
    if stop is None:
        stop = len(losses) if end_is_length else len(losses) - 1
    if best_over_all:  # np.argmin of the whole list, as such an answer computes it (a nan is its minimum)
        best_epoch = int(np.argmin(losses))
    if best_is_stop:
        best_epoch = stop
    if one_based:
        stop, best_epoch = stop + 1, best_epoch + 1
    return stop, best_epoch


#: (keyword arguments of stopping_rule, what that broken rule does). A cause is named only when its variant, and
#: no other, gives every answer the student returned for a case's sequences.
_RULE_VARIANTS = [
    ({"reset": False}, "the count of epochs without improvement was not reset to 0 when an epoch improved: reset it "
                       "at every improvement, so that only epochs IN A ROW without one count towards patience."),
    ({"start": "zero"}, "the best loss started at 0 (or below every loss), so no epoch ever improves: start from "
                        "best = val_losses[0] and best_epoch = 0 (epoch 0 is the first best)."),
    ({"start": "inf_skip_0"}, "epoch 0 was never the first best: with best = inf and the scan starting at epoch 1, "
                              "epoch 1 always improves, even when it is worse than epoch 0. Start from "
                              "best = val_losses[0] and best_epoch = 0."),
    ({"strict": False}, "a tie counted as an improvement. An epoch improves only when its loss is strictly below "
                        "best - min_delta (use <, not <=)."),
    ({"use_delta": False}, "a gain of min_delta or less counted as an improvement. An epoch improves only when "
                           "loss < best - min_delta."),
    ({"patience_shift": 1}, "training stopped one epoch late (patience off by one). Stop at the epoch where the count "
                            "of epochs without improvement reaches patience (count >= patience), not when it exceeds it."),
    ({"patience_shift": -1}, "training stopped one epoch early (patience off by one): allow patience epochs without "
                             "improvement and stop at the last of them."),
    ({"nan_improves": True}, "a nan loss counted as an improvement. Any comparison with nan is false, so test "
                             "loss < best - min_delta directly (not `not loss >= best - min_delta`)."),
    ({"never_stops": True}, "the rule never fired. Count the epochs since the last improvement and stop at the epoch "
                            "where that count reaches patience; only if it never does is the last epoch the stop."),
    ({"one_based": True}, "both are one too large. Epochs are numbered from 0, like the positions in "
                          "history.history['val_loss'] (Keras only prints them from 1)."),
    ({"best_is_stop": True}, "that returns the epoch where training stopped as the best epoch. The best epoch is the "
                             "last one that improved on the best loss so far: restore_best_weights goes back to it, "
                             "not to the last epoch."),
    ({"best_over_all": True}, "the best epoch was looked up over every loss in the list, but training stopped earlier "
                              "and never saw the lower loss after the stop. Find the best epoch among the epochs that "
                              "ran, while you scan."),
    ({"end_is_length": True}, "the stopping epoch is the length of the list: when the rule never fires, every epoch "
                              "runs and the stopping epoch is the last index, len(val_losses) - 1."),
]


def _explained_by(runs: list, answers: list, variants: list, rule) -> list[str]:
    """The advice of each variant that gives every one of `answers` (one per run), when none is right."""
    return [advice for kwargs, advice in variants
            if all(rule(run, **kwargs) == answer for run, answer in zip(runs, answers))]


def _rule_of(run: dict, **kwargs) -> tuple[int, int]:
    return stopping_rule(run["val_losses"], int(run["patience"]), float(run["min_delta"]), **kwargs)


def _run(val_losses, patience, min_delta=0.0) -> dict:
    return {"val_losses": [float(v) for v in val_losses], "patience": int(patience), "min_delta": float(min_delta)}


#: The public sequences: the statement's example first, then one for each rule a common mistake breaks.
_PUBLIC_RUNS = [
    _run([0.9, 0.7, 0.6, 0.62, 0.61, 0.65, 0.55, 0.7], 2),                    # stops before a later, lower loss
    _run([1.0, 1.1, 0.9, 0.95, 0.97, 0.8, 0.85, 0.9], 2),                     # a worse epoch before an improvement
    _run([1.0, 0.8, 0.9, 0.8, 0.85, 0.9, 0.95, 0.7], 3),                      # a tie at epoch 3
    _run([1.0, 0.9, 0.89, 0.88, 0.885, 0.89, 0.895, 0.6], 3, 0.025),          # min_delta
    _run([0.5, 0.45, 0.44, 0.43], 2),                                         # always improving
    _run([0.6, 0.7, 0.5, 0.55, 0.56], 5),                                     # patience longer than the run
    _run([0.5, 0.6, 0.55, 0.7, 0.65], 2),                                     # epoch 0 stays the best
    _run([0.8, 0.6, 0.7, float("nan"), float("nan")], 2),                     # the loss turns into nan
]


class EarlyStoppingRule(Check):
    """Each case is a bundle of sequences, so that a cause is named only on evidence from all of them."""
    name = "early_stopping_epochs"
    signature = "early_stopping_epochs(val_losses, patience, min_delta)"
    expected_form = "a pair (stop_epoch, best_epoch) of two ints"
    public_cases = (
        Case({"runs": _PUBLIC_RUNS, "_public": True}, None,
             "the statement's example and seven more sequences (a tie, min_delta, no stop, nan, ...)"),
    )

    def secret_inputs(self, rng):
        runs = []
        for patience, min_delta in [(int(rng.integers(1, 3)), 0.0), (int(rng.integers(2, 5)), 0.0),
                                    (int(rng.integers(2, 4)), float(rng.choice([0.015, 0.025, 0.035]))),
                                    (int(rng.integers(3, 6)), 0.0)]:
            runs.append(_run(_random_curve(rng, int(rng.integers(10, 25))), patience, min_delta))
        # A plateau of exact ties right after the minimum.
        curve = _random_curve(rng, int(rng.integers(10, 16)))
        low = int(np.argmin(curve))
        curve[low + 1: low + 3] = curve[low]
        runs.append(_run(curve, int(rng.integers(2, 4))))
        return [{"runs": runs}]

    def hidden_inputs(self, rng):
        start = float(np.round(rng.uniform(0.8, 1.2), 2))
        return [{"runs": [
            _run([start], 1),                                                       # a single epoch
            _run([start, start, start, start], 2),                                  # never improves
            _run([start, start - 0.2, start - 0.1, float("nan"), float("nan"), float("nan")], 2),  # diverged to nan
            _run(_random_curve(rng, 8), 20),                                        # patience > epochs
            _run(_random_curve(rng, 12), 1),
        ]}]

    def run(self, subject, inputs):
        return {"answers": [self._answer(subject(list(run["val_losses"]), run["patience"], run["min_delta"]))
                            for run in inputs["runs"]]}

    @staticmethod
    def _answer(result) -> dict:
        if isinstance(result, (tuple, list)) and len(result) == 2:
            try:
                values = [float(v) for v in result]
            except (TypeError, ValueError):
                return {"ok": False, "kind": "a pair of non-numbers"}
            ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in result)
            return {"ok": True, "stop": values[0], "best": values[1], "ints": bool(ints)}
        return {"ok": False, "kind": type(result).__name__}

    def compare(self, inputs, got, expected):
        sig = self.signature
        runs = inputs["runs"]
        answers = got.get("answers") if isinstance(got, dict) else None
        if not isinstance(answers, list) or len(answers) != len(runs) or not all(isinstance(a, dict) for a in answers):
            return f"{sig} returned something the check cannot read."
        bad = next((a for a in answers if not a.get("ok")), None)
        if bad is not None:
            return f"{sig} should return a pair (stop_epoch, best_epoch), but returned {bad.get('kind')}."
        values = [(float(a["stop"]), float(a["best"])) for a in answers]
        rights = [_rule_of(run) for run in runs]
        wrong = [i for i, (value, right) in enumerate(zip(values, rights)) if value != right]
        if not wrong:
            if not all(a.get("ints", True) for a in answers):
                return (f"{sig} returned the right epochs as floats: return two ints, epoch indices like the positions "
                        "in history.history['val_loss'].")
            return None
        public = bool(inputs.get("_public"))
        i = wrong[0]
        run, (stop, best) = runs[i], values[i]
        example = (f" For val_losses={run['val_losses']}, patience={run['patience']}, min_delta={run['min_delta']:g} "
                   f"it returned ({fmt(stop)}, {fmt(best)}), expected {rights[i]}." if public else "")
        count = f"{len(wrong)} of the {len(runs)} sequences"
        for run_, (s, b) in zip(runs, values):
            n = len(run_["val_losses"])
            if not (np.isfinite(s) and np.isfinite(b)) or (s, b) != (int(s), int(b)) or not (0 <= b <= n and 0 <= s <= n):
                shown = f" For val_losses={run_['val_losses']} it returned ({fmt(s)}, {fmt(b)})." if public else ""
                return f"{sig} returned epochs that are not indices from 0 to {n - 1}.{shown}"
        found = _explained_by(runs, [(int(s), int(b)) for s, b in values], _RULE_VARIANTS, _rule_of)
        if len(found) == 1:
            return f"{sig} is wrong for {count}: {found[0]}{example}"
        return (f"{sig} is wrong for {count}.{example} Walk through the rules of the statement epoch by epoch: epoch 0 "
                "is the first best; an epoch improves only when loss < best - min_delta, which resets the count; any "
                "other epoch adds 1, and training stops at the epoch where the count reaches patience.")


# ----------------------------------------------------------------------------------- repairing a callback
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
    """The val_loss after each epoch of `fit_diverging_run` with no callback, computed in numpy (float64).

    One full-batch SGD step per epoch on the mean squared error, from the run's start, on the float32 values
    the Keras fit uses; it agrees with Keras's own history to about 1e-4."""
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


def drive_callback(callback, val_losses, train_losses) -> dict:
    """Run a callback through the calls model.fit makes, for scripted losses (kernel side).

    The model is one weight, set to epoch + 1 during each epoch as training would change it, so the weight
    left at the end says whose weights the callback kept. Returns the epoch after which the callback set
    model.stop_training (the last epoch when it never did) and that final weight.
    """
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    stop = len(val_losses) - 1
    for epoch, (val_loss, loss) in enumerate(zip(val_losses, train_losses)):
        callback.on_epoch_begin(epoch)
        model.set_weights([np.array([[epoch + 1.0]], dtype="float32")])
        callback.on_epoch_end(epoch, {"loss": float(loss), "val_loss": float(val_loss)})
        if model.stop_training:
            stop = epoch
            break
    callback.on_train_end()
    return {"stage": "ran", "stop": int(stop), "final_weight": float(model.get_weights()[0].ravel()[0])}


def _stopper_run(val_losses, patience, train_losses=None) -> dict:
    val_losses = [float(v) for v in val_losses]
    if train_losses is None:  # lowest at epoch 1, then rising: a callback that watches "loss" stops at 1 + patience
        train_losses = [0.5] + [round(0.4 + 0.02 * epoch, 4) for epoch in range(len(val_losses) - 1)]
    return {"val_losses": val_losses, "train_losses": [float(v) for v in train_losses], "patience": int(patience)}


def _stop_of(run: dict, **kwargs) -> int:
    if kwargs.get("watch") == "loss":
        return stopping_rule(run["train_losses"], int(run["patience"]))[0]
    return stopping_rule(run["val_losses"], int(run["patience"]), **kwargs)[0]


#: (keyword arguments of `_stop_of`, what that bug in the callback does to the stopping epoch).
_STOP_VARIANTS = [
    ({"reset": False}, "the count of epochs without improvement is not reset to 0 when an epoch improves, so the "
                       "callback stops too early: reset self.wait at every improvement."),
    ({"start": "zero"}, "the best loss starts at 0, below every loss, so no epoch ever improves and the callback "
                        "stops after patience epochs: start it at float('inf'), so that epoch 0 is the first best."),
    ({"strict": False}, "a tie counts as an improvement: an epoch improves only when its val_loss is strictly below "
                        "the best so far (<, not <=)."),
    ({"patience_shift": 1}, "the callback stops one epoch late: set stop_training at the epoch where the count "
                            "reaches patience."),
    ({"patience_shift": -1}, "the callback stops one epoch early: allow patience epochs without improvement."),
    ({"never_stops": True}, "the callback never stops the training: set self.model.stop_training = True when the "
                            "count reaches patience."),
    ({"watch": "loss"}, "the callback watches the training loss: monitor logs['val_loss'], the validation loss."),
]

_STOPPER_PUBLIC_RUNS = [
    _stopper_run([1.0, 0.8, 0.85, 0.7, 0.75, 0.78, 0.9, 0.72], 2),   # an improvement between two worse epochs
    _stopper_run([0.9, 0.6, 0.6, 0.6, 0.7, 0.8, 0.9], 2),            # ties at epochs 2 and 3
    _stopper_run([1.0, 0.7, 0.8, 0.75], 5),                          # training never stops early
    _stopper_run([0.8, 0.9, 0.85, 0.95, 0.7], 3),                    # epoch 0 stays the best for a while
]


class PatienceStopper(Check):
    """Two separable requirements (Partial): when the callback stops, and whose weights the model ends with.

    The kernel drives the student's callback through fit's calls on scripted losses (`drive_callback`), for
    each run of a case twice: with the run's patience (when does it stop, and whose weights does it keep then)
    and with a patience longer than the run (whose weights does it keep when training never stops), so that
    a callback that stops at the wrong epoch is still judged on its weights, and the other way round. The
    grader computes the rule itself (`stopping_rule`), so the reference's report is not needed.
    """
    name = "patience_stopper"
    signature = "make_patience_stopper(patience)"
    expected_form = "a Keras callback (an instance of your PatienceStopper)"
    public_cases = (
        Case({"runs": _STOPPER_PUBLIC_RUNS, "_public": True}, None,
             "four runs: a worse epoch before an improvement, ties, no early stop, epoch 0 the best"),
    )

    def secret_inputs(self, rng):
        return [{"runs": [_stopper_run(_random_curve(rng, int(rng.integers(10, 20))), patience)
                          for patience in (int(rng.integers(1, 3)), int(rng.integers(2, 5)), int(rng.integers(3, 5)))]}]

    def hidden_inputs(self, rng):
        start = float(np.round(rng.uniform(0.8, 1.2), 2))
        return [{"runs": [_stopper_run([start, start - 0.1, start - 0.2], 2),                 # always improving
                          _stopper_run([start, start + 0.1, start + 0.2, start - 0.5], 2)]}]  # epoch 0 the best

    def run(self, subject, inputs):
        import keras

        reports = []
        for run in inputs["runs"]:
            callback = subject(int(run["patience"]))
            if isinstance(callback, keras.callbacks.EarlyStopping):
                return {"stage": "keras_early_stopping"}
            if not isinstance(callback, keras.callbacks.Callback):
                kind = f"the class {callback.__name__}" if isinstance(callback, type) else type(callback).__name__
                return {"stage": "not_callback", "kind": kind}
            stopped = drive_callback(callback, run["val_losses"], run["train_losses"])
            unstopped = drive_callback(subject(len(run["val_losses"]) + 1), run["val_losses"], run["train_losses"])
            reports.append({"stop": stopped["stop"], "final_weight": stopped["final_weight"],
                            "final_weight_unstopped": unstopped["final_weight"]})
        return {"stage": "ran", "runs": reports}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or "stage" not in got:
            return f"{sig} returned something the check cannot read."
        if got["stage"] == "keras_early_stopping":
            return (f"{sig} returned Keras's own EarlyStopping. This exercise asks you to repair the draft: return an "
                    "instance of your fixed PatienceStopper, not keras.callbacks.EarlyStopping.")
        if got["stage"] == "not_callback":
            return (f"{sig} returned {got.get('kind')}, not a Keras callback object: return an instance, "
                    "PatienceStopper(patience) (note the parentheses).")
        runs, reports = inputs["runs"], got.get("runs")
        if got["stage"] != "ran" or not isinstance(reports, list) or len(reports) != len(runs) or not all(
                isinstance(r, dict) and isinstance(r.get("stop"), int) and
                all(isinstance(r.get(k), float) for k in ("final_weight", "final_weight_unstopped")) for r in reports):
            return f"{sig}: the check cannot read what the callback did."
        public = bool(inputs.get("_public"))
        stops = [r["stop"] for r in reports]
        rights = [_stop_of(run) for run in runs]
        stop_problem = None
        if stops != rights:
            stop_problem = self._stop_problem(runs, stops, rights, public)
        return requirements([
            (stop_problem is None, stop_problem or ""),
            (self._weights_problem(runs, reports, public) is None, self._weights_problem(runs, reports, public) or ""),
        ])

    @staticmethod
    def _stop_problem(runs, stops, rights, public) -> str:
        i = next(i for i, (s, r) in enumerate(zip(stops, rights)) if s != r)
        run = runs[i]
        head = f"The callback stops at the wrong epoch in {sum(s != r for s, r in zip(stops, rights))} of {len(runs)} runs."
        if public:
            head += (f" For val_losses={run['val_losses']} and patience={run['patience']} it stopped the training after "
                     f"epoch {stops[i]}; it should stop after epoch {rights[i]}.")
        found = _explained_by(runs, stops, _STOP_VARIANTS, _stop_of)
        if len(found) == 1:
            return f"{head} In it, {found[0]}"
        return (f"{head} Compare the draft with the rule of Exercise 3: the first epoch is the first best, an "
                "improvement resets the count, and training stops when the count reaches patience.")

    @staticmethod
    def _weights_problem(runs, reports, public) -> str | None:
        """The first run whose final weights are not the best epoch's: when training runs to its end, then when
        the callback stopped it (the best of the epochs that ran)."""
        for when, key in ((" when training runs to its end", "final_weight_unstopped"), (" after it stopped", "final_weight")):
            for run, report in zip(runs, reports):
                losses = run["val_losses"]
                last = len(losses) - 1 if key == "final_weight_unstopped" else report["stop"]
                _, best = stopping_rule(losses[:last + 1], len(losses) + 1)
                final = report[key]
                if final == best + 1.0:
                    continue
                where = f" (val_losses={losses})" if public else ""
                if final == last + 1.0:
                    return (f"The model ended{when} with the weights of the last epoch that ran (epoch {last}), not "
                            f"those of the best epoch ({best}){where}. Either the saved weights are not a copy "
                            "(self.model.weights are the live variables, which keep changing: save "
                            "self.model.get_weights()) or they are never set back at the end of training (on_train_end).")
                if final == float(int(final)) and 1 <= final <= last + 1:
                    return (f"The model ended{when} with the weights of epoch {int(final) - 1}, not those of the best "
                            f"epoch ({best}){where}: save the weights at each improvement, and set those back at the "
                            "end of training.")
                return (f"The model ended{when} with weights the training never had{where}: at the end of training set "
                        f"back the weights saved at the best epoch ({best}), with self.model.set_weights.")
        return None


l1_l2_penalty = Penalty()
batchnorm_training = BatchNormTraining()
batchnorm_inference = BatchNormInference()
early_stopping_epochs = EarlyStoppingRule()
patience_stopper = PatienceStopper()

CHECKS = CheckSet("09_regularization", [l1_l2_penalty, batchnorm_training, batchnorm_inference,
                                        early_stopping_epochs, patience_stopper])
