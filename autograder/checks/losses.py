"""Checks for 04_losses: MSE, binary and categorical cross-entropy on probabilities and on logits,
and a Huber loss written with keras.ops that Keras can train a model with.

Every loss here is reduced to one number, the mean over the batch, as Keras's loss classes do by default.

The training part is judged from the trained model itself, never from facts the kernel states about it:
the kernel reports what fit_regressor returned (the model as `model_data.report_model` plain data, and its
list of losses), and the grader rebuilds the model, reads its compile settings and judges its predictions
on fresh samples of the same problem, held in grader-only "_" keys: never the arrays it was trained on.
"""
from __future__ import annotations

import json

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet
from .model_data import one_line, ModelRejected, over_budget, predict, rebuild_model, report_model

#: The clipping constant the exercise states (Keras's default `keras.config.epsilon()`).
EPSILON = 1e-7
#: The largest per-sample cross-entropy that probabilities clipped at EPSILON can give: -log(1e-7).
_CLIP_CAP = float(-np.log(EPSILON))
#: Where probabilities count as "exactly 0 or 1": results there depend on how the clipping is done.
_EDGE = 1e-6
#: Relative tolerance at such probabilities. Clipping in float32, or adding EPSILON inside the log as
#: Keras does, moves -log(1e-7) = 16.12 by up to about 0.8; a different epsilon (1e-15, 1e-6) moves it more.
_EDGE_TOL = 0.05
#: Below this absolute difference two losses agree, whatever their relative error (values near 0).
_ATOL = 1e-6


def _floats(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _has_edge_probabilities(inputs: dict) -> bool:
    if inputs.get("from_logits"):
        return False
    p = _floats(inputs["y_pred"])
    return bool(np.any(np.minimum(p, 1 - p) < _EDGE))


def _compare_loss_value(what: str, got, expected, inputs: dict, *, shape_hints: dict, tol: float,
                        nonfinite: str, diagnoses) -> str | None:
    """A loss reduced to one number: check it is one number, finite, then close to the expected value."""
    if isinstance(got, (str, dict, tuple, list)) or got is None:
        return (f"{what} should return one number (the mean loss over the batch), "
                f"but returned {type(got).__name__}.")
    try:
        arr = _floats(got)
    except (TypeError, ValueError):
        return f"{what} should return one number, but returned {fmt(got)}."
    if arr.size != 1:
        for shape, advice in shape_hints.items():
            if arr.shape == shape:
                return f"{what} returned an array of shape {arr.shape}, not one number. {advice}"
        return (f"{what} returned an array of shape {arr.shape}, not one number: reduce the loss to its "
                "mean over the batch.")
    value = arr.reshape(())
    if not np.isfinite(value):
        return f"{what} returned {float(value)}, expected {fmt(expected)}. {nonfinite}"
    if abs(float(value) - float(expected)) <= _ATOL:
        return None
    return compare_array(what, value, expected, inputs, tol=tol, diagnoses=diagnoses)


# ----------------------------------------------------------------------------------- MSE
def _residuals(inputs: dict) -> np.ndarray:
    return _floats(inputs["y_true"]) - _floats(inputs["y_pred"])


_MSE_DIAGNOSES = [
    (lambda got, exp, inp: close(got, exp * _residuals(inp).size),
     "That is the sum of the squared errors: MSE takes their mean (reduction: mean over the batch), "
     "so use np.mean, not np.sum."),
    (lambda got, exp, inp: close(got ** 2, exp),
     "That is the square root of the MSE (the RMSE): MSE is the mean of the squared errors, with no root."),
    (lambda got, exp, inp: close(got, np.mean(np.abs(_residuals(inp)))),
     "That is the mean absolute error (MAE): MSE squares each error before averaging."),
    (lambda got, exp, inp: close(got, exp / 2),
     "That is half the MSE: the factor 1/2 belongs to some textbook derivations, not to keras.losses.MeanSquaredError."),
    (lambda got, exp, inp: close(np.abs(got), np.abs(np.mean(_residuals(inp)))),
     "That is the mean of the raw errors: positive and negative errors cancel out. Square each error first."),
    (lambda got, exp, inp: close(got, np.mean(_residuals(inp)) ** 2),
     "That is the square of the mean error: square each error first, then take the mean."),
]


class MSE(Check):
    name = "mse"
    signature = "mse(y_true, y_pred)"
    public_cases = (
        Case({"y_true": np.array([1.0, 2.0, 3.0, 4.0]), "y_pred": np.array([1.5, 2.0, 2.0, 5.0])},
             0.5625, "4 targets"),
        Case({"y_true": np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
              "y_pred": np.array([[0.5, 1.0], [2.0, 1.0], [4.0, 6.5]])},
             1.0833333333333333, "3 samples with 2 outputs each"),
    )

    def secret_inputs(self, rng):
        cases = []
        for shape in [(int(rng.integers(5, 12)),), (int(rng.integers(3, 7)), int(rng.integers(2, 5))),
                      (int(rng.integers(8, 20)),)]:
            y_true = rng.normal(0, 3, shape)
            cases.append({"y_true": y_true, "y_pred": y_true + rng.normal(0.5, 1.5, shape)})
        return cases

    def hidden_inputs(self, rng):
        # A single target, integer targets, and a wide batch of 4 outputs with large errors.
        return [{"y_true": np.array([float(rng.normal(0, 2))]), "y_pred": np.array([float(rng.normal(0, 2))])},
                {"y_true": rng.integers(-5, 6, 7), "y_pred": rng.normal(0, 3, 7)},
                {"y_true": rng.normal(0, 10, (30, 4)), "y_pred": rng.normal(0, 10, (30, 4))}]

    def compare(self, inputs, got, expected):
        shape = np.shape(inputs["y_true"])
        hints = {shape: "Those are the squared errors themselves: take their mean with np.mean."}
        if len(shape) == 2:
            hints[(shape[0],)] = ("That is one MSE per sample: also average over the batch. The loss is one "
                                  "number, the mean over every entry.")
            hints[(shape[1],)] = "That is the mean over the samples only (axis 0): average over every entry."
        return _compare_loss_value(self.signature, got, expected, inputs, shape_hints=hints, tol=1e-5,
                                   nonfinite="Squared errors of finite numbers are finite: check the inputs you use.",
                                   diagnoses=_MSE_DIAGNOSES)


# ----------------------------------------------------------------------------------- cross-entropy, shared
def _capped(got, exp) -> bool:
    """Every per-sample loss stopped at -log(EPSILON): logits were turned into clipped probabilities."""
    return float(got) <= _CLIP_CAP + 1e-3 and float(exp) > _CLIP_CAP + 0.1


_CAPPED_ADVICE = ("The per-sample losses look capped at -log(1e-7) ≈ 16.1: the logits were turned into probabilities "
                  "and clipped, which throws away how wrong a large logit is. With from_logits=True work on the logits "
                  "directly, without computing probabilities first.")


def _tolerance(inputs: dict) -> float:
    return _EDGE_TOL if _has_edge_probabilities(inputs) else 1e-4


def _edge_advice(kind: str) -> str:
    return ("At probabilities of exactly 0 or 1 the result depends on the clipping: clip y_pred to "
            f"[EPSILON, 1 - EPSILON] with EPSILON = 1e-7, as stated, before the log. {kind}")


# ----------------------------------------------------------------------------------- binary cross-entropy
_BCE_LOGITS_FORMULA = ("For logits z use the stable form max(z, 0) - y*z + log(1 + exp(-|z|)), "
                       "which equals np.logaddexp(0, z) - y*z.")
_BCE_PROB_FORMULA = "With from_logits=False the loss is -mean(y*log(p) + (1 - y)*log(1 - p)) on clipped p."

_BCE_DIAGNOSES = [
    (lambda got, exp, inp: close(got, -exp), "The sign is flipped: cross-entropy is -mean(...), never negative."),
    (lambda got, exp, inp: close(got, exp * np.size(inp["y_true"])),
     "That is the sum over the batch: take the mean (reduction: mean over the batch)."),
    (lambda got, exp, inp: bool(inp["from_logits"]) and _capped(got, exp), _CAPPED_ADVICE),
    (lambda got, exp, inp: bool(inp["from_logits"]),
     "With from_logits=True, y_pred holds logits (any real number), not probabilities. " + _BCE_LOGITS_FORMULA),
    (lambda got, exp, inp: _has_edge_probabilities(inp), _edge_advice(_BCE_PROB_FORMULA)),
    (lambda got, exp, inp: True, _BCE_PROB_FORMULA),
]


class BinaryCrossentropy(Check):
    name = "binary_crossentropy"
    signature = "binary_crossentropy(y_true, y_pred, from_logits)"
    public_cases = (
        Case({"y_true": np.array([1.0, 0.0, 1.0, 0.0]), "y_pred": np.array([0.9, 0.2, 0.6, 0.4]),
              "from_logits": False}, 0.3375388286260044, "probabilities"),
        Case({"y_true": np.array([1.0, 0.0, 1.0, 0.0, 1.0]), "y_pred": np.array([1.0, 0.0, 0.0, 1.0, 0.5]),
              "from_logits": False}, 6.585867736600591, "probabilities of exactly 0 and 1"),
        Case({"y_true": np.array([1.0, 0.0, 1.0, 0.0]), "y_pred": np.array([2.0, -1.0, -0.5, 3.0]),
              "from_logits": True}, 1.115713508578761, "logits"),
        Case({"y_true": np.array([1.0, 0.0, 1.0, 0.0]), "y_pred": np.array([1000.0, -1000.0, -1000.0, 40.0]),
              "from_logits": True}, 260.0, "large logits"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            m = int(rng.integers(5, 12))
            cases.append({"y_true": rng.integers(0, 2, m).astype(float), "y_pred": rng.uniform(0.02, 0.98, m),
                          "from_logits": False})
        # Confident predictions: some exactly 0 or 1, right and wrong, among ordinary ones.
        m = int(rng.integers(6, 10))
        p = rng.uniform(0.05, 0.95, m)
        p[:4] = [1.0, 0.0, 1.0, 0.0]
        y = rng.integers(0, 2, m).astype(float)
        y[:4] = [1.0, 0.0, 0.0, 1.0]
        order = rng.permutation(m)
        cases.append({"y_true": y[order], "y_pred": p[order], "from_logits": False})
        m = int(rng.integers(5, 12))
        cases.append({"y_true": rng.integers(0, 2, m).astype(float), "y_pred": rng.normal(0, 3, m), "from_logits": True})
        # Large logits on both sides, half of them on the wrong side of their label.
        m = int(rng.integers(6, 10))
        z = rng.uniform(30, 900, m) * rng.choice([-1, 1], m)
        y = (z > 0).astype(float)
        y[: m // 2] = 1 - y[: m // 2]
        cases.append({"y_true": y, "y_pred": z, "from_logits": True})
        return cases

    def hidden_inputs(self, rng):
        return [
            # A batch of one, and every prediction certain (half of them wrong).
            {"y_true": np.array([1.0]), "y_pred": np.array([float(rng.uniform(0.1, 0.9))]), "from_logits": False},
            {"y_true": np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), "y_pred": np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0]),
             "from_logits": False},
            # Logits far beyond float64's exp range, and integer labels.
            {"y_true": np.array([1, 0, 0, 1]), "y_pred": np.array([-1e4, 1e4, -2e3, 750.0]) * rng.uniform(1, 2),
             "from_logits": True},
        ]

    def compare(self, inputs, got, expected):
        m = np.size(inputs["y_true"])
        hints = {(m,): "That is one loss per sample: take their mean over the batch (the reduction Keras uses)."}
        if inputs["from_logits"]:
            biggest = float(np.max(np.abs(_floats(inputs["y_pred"]))))
            nonfinite = (f"These logits reach |z| = {biggest:.0f}: exp(z) overflows to inf (already at z ≈ 710 in "
                         "float64, 89 in float32), and sigmoid(z) rounds to exactly 0 or 1 so log gives -inf. "
                         + _BCE_LOGITS_FORMULA)
        else:
            nonfinite = ("log(0) is -inf, and 0 * log(0) is nan: probabilities of exactly 0 or 1 need clipping. "
                         "Clip y_pred to [EPSILON, 1 - EPSILON] (np.clip) before taking logs.")
        return _compare_loss_value(self.signature, got, expected, inputs, shape_hints=hints,
                                   tol=_tolerance(inputs), nonfinite=nonfinite, diagnoses=_BCE_DIAGNOSES)


# ----------------------------------------------------------------------------------- categorical cross-entropy
def _wrong_axis_logits(inputs: dict) -> float:
    """The loss with log-softmax taken down each column (over the batch) instead of along each row."""
    t, z = _floats(inputs["y_true"]), _floats(inputs["y_pred"])
    log_p_columns = z - np.logaddexp.reduce(z, axis=0, keepdims=True)
    return float(np.mean(-np.sum(t * log_p_columns, axis=1)))


_CCE_LOGITS_FORMULA = ("For logits use log-softmax along each row: log p = z - logsumexp(z), where "
                       "logsumexp(z) = max(z) + log(sum(exp(z - max(z)))) over axis=-1.")
_CCE_PROB_FORMULA = "With from_logits=False the loss is the batch mean of -sum(y * log(p)) over the classes, on clipped p."

_CCE_DIAGNOSES = [
    (lambda got, exp, inp: close(got, -exp), "The sign is flipped: cross-entropy is -sum(y * log p), never negative."),
    (lambda got, exp, inp: close(got, exp * np.shape(inp["y_true"])[0]),
     "That is the sum over the batch: sum over the classes, then take the mean over the samples."),
    (lambda got, exp, inp: close(got, exp / np.shape(inp["y_true"])[1]),
     "That is the mean over every entry, classes included: sum over the classes (axis=-1), then take the mean "
     "over the samples."),
    (lambda got, exp, inp: close(got, exp * np.shape(inp["y_true"])[0] / np.shape(inp["y_true"])[1]),
     "The axes are swapped: sum over the classes (axis=-1, along each row), then take the mean over the samples."),
    (lambda got, exp, inp: bool(inp["from_logits"]) and close(got, _wrong_axis_logits(inp), 1e-4),
     "The softmax is normalised over the wrong axis: each sample's probabilities (each row) must sum to 1, so "
     "take max, sum and logsumexp over axis=-1 with keepdims=True, not over axis 0."),
    (lambda got, exp, inp: bool(inp["from_logits"]) and _capped(got, exp), _CAPPED_ADVICE),
    (lambda got, exp, inp: bool(inp["from_logits"]),
     "With from_logits=True, y_pred holds logits (any real numbers), not probabilities. " + _CCE_LOGITS_FORMULA),
    (lambda got, exp, inp: _has_edge_probabilities(inp), _edge_advice(_CCE_PROB_FORMULA)),
    (lambda got, exp, inp: True, _CCE_PROB_FORMULA),
]

_ONE_HOT = np.eye(3)


class CategoricalCrossentropy(Check):
    name = "categorical_crossentropy"
    signature = "categorical_crossentropy(y_true, y_pred, from_logits)"
    public_cases = (
        Case({"y_true": _ONE_HOT[[0, 2, 1, 2]],
              "y_pred": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.6, 0.3, 0.1]]),
              "from_logits": False}, 0.9658082103146785, "probabilities, 4 samples, 3 classes"),
        Case({"y_true": _ONE_HOT[[0, 2, 1, 2]],
              "y_pred": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]),
              "from_logits": False}, 4.202810757879568, "probabilities of exactly 0 and 1"),
        Case({"y_true": _ONE_HOT[[0, 2, 1, 2]],
              "y_pred": np.array([[2.0, 1.0, 0.0], [0.5, -1.0, 1.5], [-2.0, 3.0, 0.0], [1.0, 1.0, 1.0]]),
              "from_logits": True}, 0.4831856300855801, "logits"),
        Case({"y_true": _ONE_HOT[[2, 1, 0, 2]],
              "y_pred": np.array([[1000.0, 0.0, -1000.0], [0.0, 500.0, 0.0], [3.0, 2.0, 1.0], [-800.0, -800.0, 0.0]]),
              "from_logits": True}, 500.1019014911111, "large logits"),
    )

    @staticmethod
    def _shape(rng):
        m = int(rng.integers(4, 9))
        k = int(rng.integers(3, 7))
        return (m + 1, k) if m == k else (m, k)  # m != k, so a swapped axis never goes unnoticed

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            m, k = self._shape(rng)
            cases.append({"y_true": np.eye(k)[rng.integers(0, k, m)], "y_pred": rng.dirichlet(np.ones(k), m),
                          "from_logits": False})
        # Certain predictions: rows that are exactly one-hot, right or wrong, among ordinary rows.
        m, k = self._shape(rng)
        labels = rng.integers(0, k, m)
        p = rng.dirichlet(np.ones(k), m)
        p[0] = np.eye(k)[labels[0]]
        p[1] = np.eye(k)[(labels[1] + 1) % k]
        p[2, labels[2]] = 0.0
        p[2] /= p[2].sum()
        cases.append({"y_true": np.eye(k)[labels], "y_pred": p, "from_logits": False})
        m, k = self._shape(rng)
        cases.append({"y_true": np.eye(k)[rng.integers(0, k, m)], "y_pred": rng.normal(0, 2, (m, k)),
                      "from_logits": True})
        # Large logits: most rows are sure of one class, and often of the wrong one.
        m, k = self._shape(rng)
        z = rng.normal(0, 1, (m, k))
        z[np.arange(m), rng.integers(0, k, m)] += rng.uniform(300, 900, m)
        cases.append({"y_true": np.eye(k)[rng.integers(0, k, m)], "y_pred": z, "from_logits": True})
        return cases

    def hidden_inputs(self, rng):
        return [
            # One sample; two classes; logits so large that exp overflows without the max shift.
            {"y_true": np.array([[0.0, 1.0, 0.0, 0.0]]), "y_pred": rng.dirichlet(np.ones(4), 1), "from_logits": False},
            {"y_true": np.eye(2)[[0, 1, 1, 0, 1]], "y_pred": np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0],
                                                                      [0.3, 0.7], [0.5, 0.5]]), "from_logits": False},
            {"y_true": np.eye(3)[[0, 1]], "y_pred": np.array([[2000.0, 1999.0, -5.0], [-3000.0, 0.0, 3000.0]])
             * rng.uniform(1, 1.5), "from_logits": True},
        ]

    def compare(self, inputs, got, expected):
        m, k = np.shape(inputs["y_true"])
        hints = {(m,): "That is one loss per sample: take their mean over the batch (the reduction Keras uses).",
                 (m, k): "Those are the per-class terms: sum them over the classes (axis=-1), then take the mean "
                         "over the samples.",
                 (k,): "That reduced over the samples (axis 0): sum over the classes (axis=-1) instead, then take "
                       "the mean over the samples."}
        if inputs["from_logits"]:
            biggest = float(np.max(np.abs(_floats(inputs["y_pred"]))))
            nonfinite = (f"These logits reach |z| = {biggest:.0f}: exp(z) overflows to inf, and inf / inf is nan. "
                         "Subtract each row's maximum before exp (log-sum-exp). " + _CCE_LOGITS_FORMULA)
        else:
            nonfinite = ("A class with probability 0 gives log(0) = -inf, and 0 * log(0) = nan even for the classes "
                         "that are not the label. Clip y_pred to [EPSILON, 1 - EPSILON] (np.clip) before the log.")
        return _compare_loss_value(self.signature, got, expected, inputs, shape_hints=hints,
                                   tol=_tolerance(inputs), nonfinite=nonfinite, diagnoses=_CCE_DIAGNOSES)


# ----------------------------------------------------------------------------------- Huber
def _abs_residuals(inputs: dict) -> np.ndarray:
    return np.abs(_residuals(inputs))


def _huber_variant(inputs: dict, small, large) -> float:
    """Mean of small(|r|, delta) where |r| <= delta and large(|r|, delta) elsewhere: the shape of a wrong answer."""
    a, delta = _abs_residuals(inputs), float(inputs["delta"])
    return float(np.mean(np.where(a <= delta, small(a, delta), large(a, delta))))


_HUBER_DIAGNOSES = [
    (lambda got, exp, inp: close(got, -exp, 1e-4), "The sign is flipped: the Huber loss is never negative."),
    (lambda got, exp, inp: close(got, exp * _abs_residuals(inp).size, 1e-4),
     "That is the sum over the batch: return the mean (ops.mean), as keras.losses.Huber does."),
    (lambda got, exp, inp: close(got, _huber_variant(inp, lambda a, d: d * a - d ** 2 / 2, lambda a, d: a ** 2 / 2), 1e-4),
     "The two branches are swapped: the loss is quadratic, 0.5 * r**2, for small errors |r| <= delta and "
     "linear, delta * (|r| - 0.5 * delta), for large ones."),
    (lambda got, exp, inp: close(got, _huber_variant(inp, lambda a, d: a ** 2, lambda a, d: d * (a - d / 2)), 1e-4),
     "The quadratic branch is missing its factor 0.5: use 0.5 * r**2 for |r| <= delta."),
    (lambda got, exp, inp: close(got, _huber_variant(inp, lambda a, d: a ** 2 / 2, lambda a, d: d * a), 1e-4),
     "The linear branch is missing its offset: use delta * (|r| - 0.5 * delta), so that the two pieces meet "
     "at |r| = delta."),
    (lambda got, exp, inp: close(got, np.mean(_abs_residuals(inp) ** 2) / 2, 1e-4),
     "That is 0.5 * mean(r**2) everywhere: large errors (|r| > delta) need the linear branch "
     "delta * (|r| - 0.5 * delta)."),
    (lambda got, exp, inp: close(got, np.mean(_abs_residuals(inp) ** 2), 1e-4),
     "That is the mean squared error: the Huber loss is 0.5 * r**2 only up to |r| = delta, and linear beyond."),
    (lambda got, exp, inp: close(got, np.mean(_abs_residuals(inp)), 1e-4),
     "That is the mean absolute error: the Huber loss is 0.5 * r**2 for |r| <= delta."),
]


class HuberValues(Check):
    name = "huber_values"
    signature = "huber_loss(delta)(y_true, y_pred)"
    public_cases = (
        Case({"delta": 1.0, "y_true": np.array([0.0, 0.0, 0.0, 0.0]), "y_pred": np.array([0.5, -0.8, 2.0, -3.0])},
             {"value": 1.11125}, "delta = 1, errors inside and outside delta"),
        Case({"delta": 2.0, "y_true": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
              "y_pred": np.array([[1.5, 2.0], [0.0, 4.0], [5.0, 10.0]])}, {"value": 1.6875},
             "delta = 2, 3 samples × 2 outputs"),
    )

    def secret_inputs(self, rng):
        cases = []
        for shape in [(int(rng.integers(6, 15)),), (int(rng.integers(3, 7)), int(rng.integers(2, 4))), (12,)]:
            delta = float(rng.uniform(0.3, 3.0))
            y_true = rng.normal(0, 3, shape)
            cases.append({"delta": delta, "y_true": y_true, "y_pred": y_true + rng.normal(0, 2 * delta, shape)})
        return cases

    def hidden_inputs(self, rng):
        y_true = rng.normal(0, 1, 8)
        sign = rng.choice([-1.0, 1.0], 8)
        return [
            # Every error inside delta, then every error far outside it, then a tiny delta.
            {"delta": 1.5, "y_true": y_true, "y_pred": y_true + sign * rng.uniform(0.05, 1.4, 8)},
            {"delta": 0.5, "y_true": y_true, "y_pred": y_true + sign * rng.uniform(5, 50, 8)},
            {"delta": 0.05, "y_true": rng.normal(0, 1, (5, 3)), "y_pred": rng.normal(0, 1, (5, 3))},
        ]

    def run(self, subject, inputs):
        import keras
        loss_fn = subject(inputs["delta"])
        if not callable(loss_fn):
            return {"callable": False, "kind": type(loss_fn).__name__}
        y_true = keras.ops.convert_to_tensor(np.asarray(inputs["y_true"], dtype="float32"))
        y_pred = keras.ops.convert_to_tensor(np.asarray(inputs["y_pred"], dtype="float32"))
        out = np.asarray(keras.ops.convert_to_numpy(loss_fn(y_true, y_pred)), dtype=np.float64)
        # Keras averages whatever a loss function returns, so a scalar and per-sample values train alike.
        return {"callable": True, "value": float(np.mean(out)) if out.size else float("nan"),
                "shape": list(out.shape)}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        if not got.get("callable"):
            return (f"huber_loss(delta) returned a {got.get('kind')}, not a function. It should build and return "
                    "an inner function loss(y_true, y_pred), which is what model.compile(loss=...) receives.")
        value = got.get("value")
        message = compare_array(self.signature, value, expected["value"], inputs, tol=1e-4,
                                diagnoses=_HUBER_DIAGNOSES)
        if message and not np.isfinite(value):
            return message + " Check for a division or a log on the errors: the Huber loss needs neither."
        return message


# ----------------------------------------------------------------------------------- training with the Huber loss
# Thresholds for the training part. Over 40 grading seeds the reference's last/first epoch loss ratio stayed
# below 0.61, and its median error on the grader's fresh samples below 0.24 of their targets' median spread
# (0.22 on its own training data, as judged before), so both leave a wide margin.
_TRAIN_LOSS_RATIO = 0.9    # the last epoch's loss must be below this fraction of the first epoch's
_TRAIN_MEDIAN_RATIO = 0.5  # a trained model's median error on fresh samples, as a fraction of their median spread
#: Fresh samples the grader judges the trained model on: never the arrays it was trained on.
_EVAL_SAMPLES = 200


def _regression_data(rng: np.random.Generator, m: int = 96) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A noisy linear target with about one point in ten moved far away (outliers), and its plane (w, bias)."""
    n = int(rng.integers(2, 4))
    X = rng.normal(0, 1, (m, n))
    w = rng.normal(0, 1, n)
    w *= rng.uniform(2.0, 3.0) / np.linalg.norm(w)  # a clear signal: the targets spread well beyond the noise
    bias = rng.uniform(-1, 1)
    y = X @ w + bias + rng.normal(0, 0.2, m)
    outliers = rng.choice(m, m // 10, replace=False)
    y[outliers] += rng.choice([-1.0, 1.0], len(outliers)) * rng.uniform(8, 15, len(outliers))
    return X, y, (w, bias)


def _fresh_samples(rng: np.random.Generator, plane: tuple) -> tuple[np.ndarray, np.ndarray]:
    """New points of the same plane, without outliers: what the trained model is judged on."""
    w, bias = plane
    X = rng.normal(0, 1, (_EVAL_SAMPLES, len(w)))
    return X, X @ w + bias + rng.normal(0, 0.2, _EVAL_SAMPLES)


def _training_case(rng: np.random.Generator, delta=None, seed=None) -> dict:
    """The kernel's inputs (training data, delta, epochs, seed) and, in "_" keys, the grader's fresh samples."""
    X, y, plane = _regression_data(rng)
    delta = float(rng.uniform(0.5, 2.0)) if delta is None else float(delta)
    seed = int(rng.integers(0, 10_000)) if seed is None else int(seed)
    X_eval, y_eval = _fresh_samples(rng, plane)
    return {"X": X, "y": y, "delta": delta, "epochs": 8, "seed": seed, "_X_eval": X_eval, "_y_eval": y_eval}


def _public_training_case() -> dict:
    return _training_case(np.random.default_rng(2024), 1.0, 7)


#: Words in the errors a numpy or Python-branching loss raises inside a compiled training step.
_GRAPH_ERROR_WORDS = ("symbolic", "numpy", "graph", "truth value", "operatornotallowed", "__array__", "iterating over")


def _describe(obj) -> str | None:
    """Keras's own description of a loss object (what model.compile records for it), as JSON; None if it has none."""
    import keras

    try:
        return json.dumps(keras.saving.serialize_keras_object(obj), sort_keys=True)
    except Exception:  # noqa: BLE001 - an object Keras cannot describe
        return None


def _split_compile(record) -> tuple[dict | None, object]:
    """(the model's compile settings, the record without them) from a reported model.

    The model is compiled with the student's own loss, which `model_data.rebuild_model` does not rebuild
    (only Keras's own functions are), so the grader reads the compile settings as data and rebuilds the
    architecture and weights alone.
    """
    if not isinstance(record, dict) or not isinstance(record.get("keras_config"), str):
        return None, record
    try:
        config = json.loads(record["keras_config"])
    except ValueError:
        return None, record
    if not isinstance(config, dict):
        return None, record
    compiled = config.pop("compile_config", None)
    return (compiled if isinstance(compiled, dict) and compiled else None), {**record, "keras_config": json.dumps(config)}


class HuberTraining(Check):
    """Judged by behaviour: the Huber loss must work inside model.fit and the model must learn.

    The kernel reports what fit_regressor returned: the model as plain data (`report_model`), the list of
    losses it returned, and Keras's description of the loss it was given. The grader rebuilds the model,
    reads its compile settings, and judges its predictions on fresh samples of the same problem, which
    the kernel never sees ("_" keys) and which are not the arrays it trained on.
    """
    name = "huber_training"
    signature = "fit_regressor(X, y, huber_loss(delta), epochs)"
    public_cases = (Case(_public_training_case(), None, "96 noisy points with outliers, delta = 1, 8 epochs"),)

    # The test cell passes two student functions, checks.huber_training(fit_regressor, huber_loss);
    # the check treats them as one subject, the pair.
    def __call__(self, fit_regressor, huber_loss=None) -> None:
        super().__call__(fit_regressor if huber_loss is None else (fit_regressor, huber_loss))

    def hidden(self, fit_regressor, huber_loss=None) -> None:
        super().hidden(fit_regressor if huber_loss is None else (fit_regressor, huber_loss))

    def secret_inputs(self, rng):
        return [_training_case(rng)]

    def run(self, subject, inputs):
        import keras
        fit_regressor, huber_loss = subject
        try:
            loss = huber_loss(inputs["delta"])
        except NotImplementedError as exc:
            if not str(exc):
                return {"stage": "huber_missing"}
            raise
        keras.utils.set_random_seed(int(inputs["seed"]))
        X = np.asarray(inputs["X"], dtype="float32")
        y = np.asarray(inputs["y"], dtype="float32")
        try:
            result = fit_regressor(X, y, loss, int(inputs["epochs"]))
        except NotImplementedError as exc:
            if not str(exc):  # the untouched exercise: report it as not implemented
                raise
            return {"stage": "fit_error", "detail": f"NotImplementedError: {one_line(exc)}"}
        except Exception as exc:  # noqa: BLE001 - the message explains what went wrong inside model.fit
            return {"stage": "fit_error", "detail": f"{type(exc).__name__}: {one_line(exc)}"}
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return {"stage": "bad_return", "kind": type(result).__name__}
        model, losses = result
        if hasattr(losses, "history"):  # a History object instead of its list of losses
            losses = losses.history
        if isinstance(losses, dict):
            losses = losses.get("loss", [])
        # Only what fit_regressor returned, as plain data: the model itself and its list of losses; and
        # Keras's description of the loss huber_loss returned, to compare with the model's compile settings.
        return {"stage": "trained", "model": report_model(model), "given_loss": _describe(loss),
                "losses": np.asarray(losses, dtype=np.float64).ravel()}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        stage = got.get("stage")
        if stage == "huber_missing":
            return "huber_loss is not implemented yet: finish Exercise 4 first, this part trains a model with it."
        if stage == "fit_error":
            detail = str(got.get("detail")).rstrip(". ")
            if any(word in detail.lower() for word in _GRAPH_ERROR_WORDS):
                return (f"Training with your Huber loss raised {detail}. Inside model.fit a loss receives "
                        "symbolic tensors, so numpy calls (np.abs, np.where), float() and Python if/else on tensors "
                        "fail there: write huber_loss with keras.ops (ops.abs, ops.where, ops.square, ops.mean).")
            return f"{sig} raised {detail}"
        if stage == "bad_return":
            return f"{sig} should return a pair (model, losses), but returned {got.get('kind')}."
        if stage != "trained":
            return f"{sig} produced a report the check cannot read."
        record = got.get("model")
        if record is None:
            return f"{sig}: no trained model was reported, so the check cannot judge it."
        if not isinstance(record, dict) or not record.get("is_model"):
            kind = record.get("kind") if isinstance(record, dict) else type(record).__name__
            return f"{sig} returned a {kind} as its first item, not the trained keras.Model."
        compiled, architecture = _split_compile(record)
        given = got.get("given_loss")
        compiled_loss = json.dumps(compiled.get("loss"), sort_keys=True) if compiled else None
        if compiled_loss is None or not isinstance(given, str) or compiled_loss != given:
            return ("The model was not compiled with the loss passed to fit_regressor: call "
                    "model.compile(optimizer=..., loss=loss) with that argument, not a loss of your own.")
        try:
            model = rebuild_model(architecture)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        # A model many times the size of the stated network (a layer holding the training points, say) is not
        # that network, whatever its predictions. (The reference's model is compiled with its own loss too.)
        reference = expected.get("model") if isinstance(expected, dict) else None
        too_big = over_budget(model, reference, f"The model from {sig}")
        if too_big:
            return too_big
        try:
            losses = np.asarray(got.get("losses"), dtype=np.float64).ravel()
        except (TypeError, ValueError):
            return f"{sig} returned losses the check cannot read: return history.history['loss']."
        epochs = int(inputs["epochs"])
        if losses.size != epochs:
            values = "value" if losses.size == 1 else "values"
            return (f"fit_regressor returned {losses.size} loss {values} for epochs={epochs}: train with "
                    "model.fit(X, y, epochs=epochs, ...) and return history.history['loss'], one value per epoch.")
        if not np.all(np.isfinite(losses)):
            return f"The training loss became nan or inf: {fmt(losses)}. Check huber_loss for a division or a log."
        if np.any(losses < 0):
            return (f"The training loss went negative ({fmt(losses)}): a Huber loss is never negative, and "
                    "minimising a negative loss pushes predictions away from the targets. Check its sign.")
        if not losses[-1] < _TRAIN_LOSS_RATIO * losses[0]:
            return (f"The training loss did not go down: {losses[0]:.4g} in the first epoch, {losses[-1]:.4g} in "
                    "the last. Use Adam(learning_rate=0.05) as stated and fit on X and y.")
        y = np.asarray(inputs["_y_eval"], dtype=np.float64)
        try:
            predictions = predict(model, inputs["_X_eval"]).ravel()
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the inputs is the student's to fix
            return (f"The trained model cannot be called on {len(y)} samples of {np.shape(inputs['_X_eval'])[1]} "
                    f"features ({type(exc).__name__}: {one_line(exc, 160)}): build it for X.shape[1] inputs.")
        if predictions.size != y.size:
            return (f"The trained model gives {predictions.size} outputs for {y.size} samples: its last layer "
                    "should be Dense(1), one prediction per sample.")
        spread = float(np.median(np.abs(y - np.median(y))))
        error = float(np.median(np.abs(predictions - y)))
        if not error <= _TRAIN_MEDIAN_RATIO * spread:
            return (f"The loss went down ({losses[0]:.4g} → {losses[-1]:.4g}), but on {y.size} fresh points of the "
                    f"same problem the trained model's median error is {error:.3g}, more than half the median spread "
                    f"of their targets ({spread:.3g}). Build the model and optimizer stated in the exercise, train "
                    "for all epochs, and fit on X and y as given.")
        return None


mse = MSE()
binary_crossentropy = BinaryCrossentropy()
categorical_crossentropy = CategoricalCrossentropy()
huber_values = HuberValues()
huber_training = HuberTraining()

CHECKS = CheckSet("04_losses", [mse, binary_crossentropy, categorical_crossentropy, huber_values, huber_training])
