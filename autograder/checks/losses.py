"""Checks for 04_losses: MSE, binary and categorical cross-entropy on probabilities and on logits, a Huber
loss written with keras.ops, and a choice between MSE and that Huber loss made by a validation measurement.

Every loss here is reduced to one number, the mean over the batch, as Keras's loss classes do by default.

The choice part is judged from the trained models themselves, never from facts the kernel states about them:
the kernel reports what choose_loss returned (the chosen name, every candidate's model as
`model_data.report_model` plain data, and the validation errors it measured), and the grader rebuilds each
model, reads its compile settings, measures it on the validation rows itself, and judges the chosen one on
fresh samples of the same problem, held in grader-only "_" keys: never the arrays it was trained or
validated on.

Stated rules (part / rule / how it is checked). Found 26, checked 23, suggestions only 3 (the last line is
how the points are split, not a rule).
- mse, bce, cce / one number, the mean over the batch (Keras's reduction) / shape messages (per sample, per
  class, axis 0), diagnoses (sum, mean over every entry)
- mse, bce, cce / numpy only, not keras.losses / suggestion only (the statement says so)
- mse / the mean of (y_true - y_pred) ** 2 over every entry, (m,) or (m, k) / values; diagnoses (sum, root,
  MAE, half, raw errors, square of the mean)
- bce / -mean(y log p + (1 - y) log(1 - p)) / values; diagnoses (sign, sum, labels swapped)
- bce / probabilities clipped to [EPSILON, 1 - EPSILON], EPSILON = 1e-7 / public and secret p of exactly 0
  and 1, at a 5% tolerance there; message for nan and for another epsilon
- bce / from_logits honoured / logit cases; diagnosis "y_pred holds logits"
- bce / logits: the stable softplus form, no sigmoid first / logits up to 1e4; diagnoses (capped at 16.1,
  overflow)
- cce / sum over the classes (axis=-1), mean over the samples / m != k in every case; diagnoses (axes
  swapped, softmax over the batch)
- cce / clipping as in bce; log-softmax with the row maximum / edge and large-logit cases; diagnoses
- all numeric parts / answers in float32 pass / `compare.matches` (absolute floor), catalogue alternatives
- huber_values / huber_loss(delta) returns a function loss(y_true, y_pred) / `compare`: callable
- huber_values / 0.5 r**2 for |r| <= delta, delta (|r| - delta / 2) beyond / values, Keras's float32 Huber as
  twin; diagnoses (branches swapped, no 0.5, no offset, MSE, MAE, sum, sign)
- huber_values / the mean over every entry, one number / the returned shape (Partial, 1 of 2)
- huber_values / written with keras.ops: works traced into a graph / the kernel runs it in tf.function too
  (Partial, 1 of 2)
- huber_values / cast y_true to y_pred's dtype / suggestion only (the hint says so)
- choose_loss / return (best_name, models, val_errors): a name, a dict of models, a dict of floats / type and
  key messages for each
- choose_loss / one model per candidate, compiled with that candidate's loss / compile settings read from each
  model's config and compared with Keras's description of the loss the kernel handed in
- choose_loss / a regression model: last layer Dense(1), no activation / from the rebuilt model's layers
- choose_loss / a small network, at most 2,000 parameters / counted on the rebuilt model
- choose_loss / built-in Keras layers only / `rebuild_model` (Lambda, subclassed models refused)
- choose_loss / trained on X_train, y_train / the chosen model judged on fresh points (below)
- choose_loss / val_errors[name] = median |prediction - y_val| of that name's model / the grader measures
  every model itself; diagnoses (training data, mean, squared, an (m, m) broadcast)
- choose_loss / best_name is the name with the lowest validation error / against the grader's measurement
- choose_loss / the chosen model predicts fresh points of the problem within a median error of 0.55 /
  200 fresh points without outliers, in "_" keys
- choose_loss / huber_loss from Exercise 4 trains inside model.fit / a graph error names keras.ops
- choose_loss / quality first, then a point each for the measurement and the choice (Partial)
- choose_loss / the same network and settings for every candidate / suggestion only
"""
from __future__ import annotations

import json

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet, Partial, describe_value, requirements
from .model_data import ModelRejected, layer_summary, one_line, predict, rebuild_model, report_model

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


#: Words in the errors a numpy or Python-branching loss raises inside a compiled graph (tf.function, model.fit).
_GRAPH_ERROR_WORDS = ("symbolic", "numpy", "graph", "truth value", "operatornotallowed", "__array__", "iterating over")
_KERAS_OPS_ADVICE = ("Inside model.fit a loss receives symbolic tensors, so numpy calls (np.abs, np.where), float() "
                     "and Python if/else on tensors fail there: write huber_loss with keras.ops (ops.abs, ops.where, "
                     "ops.square, ops.mean).")


def _keras_huber(inputs: dict) -> float | None:
    """Keras's own float32 Huber loss on the case (the float32 twin a correct answer may match)."""
    try:
        import keras

        y_true = np.asarray(inputs["y_true"], dtype="float32")
        y_pred = np.asarray(inputs["y_pred"], dtype="float32")
        return float(keras.losses.Huber(delta=float(inputs["delta"]))(y_true, y_pred))
    except Exception:  # noqa: BLE001 - without Keras there is simply no twin
        return None


class HuberValues(Check):
    """Two requirements, a point each: the values, and a loss Keras can use as stated (one number, keras.ops)."""
    name = "huber_values"
    signature = "huber_loss(delta)(y_true, y_pred)"
    expected_form = "a function loss(y_true, y_pred) that returns one number"
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
        import tensorflow as tf

        loss_fn = subject(inputs["delta"])
        if not callable(loss_fn):
            return {"callable": False, "kind": describe_value(loss_fn)}
        y_true = keras.ops.convert_to_tensor(np.asarray(inputs["y_true"], dtype="float32"))
        y_pred = keras.ops.convert_to_tensor(np.asarray(inputs["y_pred"], dtype="float32"))
        out = np.asarray(keras.ops.convert_to_numpy(loss_fn(y_true, y_pred)), dtype=np.float64)
        # The same call traced into a graph, as model.fit runs a loss: numpy and Python branches fail there.
        try:
            tf.function(loss_fn)(y_true, y_pred)
            graph = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - the student's loss failing in a graph is what is checked
            graph = {"ok": False, "error": type(exc).__name__, "detail": one_line(exc, 160)}
        return {"callable": True, "value": float(np.mean(out)) if out.size else float("nan"),
                "shape": list(out.shape), "graph": graph}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("callable"):
            return (f"huber_loss(delta) returned {got.get('kind')}, not a function. It should build and return "
                    "an inner function loss(y_true, y_pred), which is what model.compile(loss=...) receives.")
        value = got.get("value")
        message = compare_array(self.signature, value, expected["value"], inputs, tol=1e-4,
                                diagnoses=_HUBER_DIAGNOSES, twin=_keras_huber(inputs))
        if message and not np.isfinite(value):
            return message + " Check for a division or a log on the errors: the Huber loss needs neither."
        if message:
            return message
        shape = tuple(got.get("shape") or ())
        if shape not in ((), (1,)):
            return Partial(1, 2, "The values are right, but the loss returns an array (one value per sample), not "
                                 "one number: the statement asks for the mean over every entry, ops.mean(...) with no "
                                 "axis, as keras.losses.Huber(delta) returns.")
        graph = got.get("graph") or {}
        if not graph.get("ok"):
            return Partial(1, 2, f"The values are right, but traced into a graph, as model.fit runs it, the loss "
                                 f"raised {one_line(graph.get('error'), 60)}. {_KERAS_OPS_ADVICE}")
        return None


# ----------------------------------------------------------------------------------- choosing a loss by validation
#: The chosen model's median absolute error on fresh points of the same problem (without outliers) must be at
#: most this. The noise alone gives about 0.13. Over 30 problems (delta in [0.5, 1.2]) the reference's Huber
#: model stayed below 0.40 and the same network trained with MSE above 0.70: outliers on one side pull a
#: squared-error fit towards them.
QUALITY_THRESHOLD = 0.55
#: A small network: the models of this part may have at most this many parameters (the reference has 81 or 97).
MAX_PARAMS = 2000
#: Fresh points the grader judges the chosen model on: never the arrays it was trained or validated on.
_EVAL_SAMPLES = 200
#: How close a reported validation error must be to the grader's own measurement of the same model.
_MEASURE_RTOL, _MEASURE_ATOL = 1e-3, 1e-4


def _regression_problem(rng: np.random.Generator, m_train: int = 96, m_val: int = 32) -> dict:
    """Noisy points on a plane in 2 or 3 dimensions, one target in ten moved far to one side (a sensor that reads
    high, or low), split into training and validation rows; and fresh points of the plane without outliers."""
    n = int(rng.integers(2, 4))
    w = rng.normal(0, 1, n)
    w *= rng.uniform(2.0, 3.0) / np.linalg.norm(w)  # a clear signal: the targets spread well beyond the noise
    bias = rng.uniform(-1, 1)
    side = float(rng.choice([-1.0, 1.0]))
    m = m_train + m_val
    X = rng.normal(0, 1, (m, n))
    y = X @ w + bias + rng.normal(0, 0.2, m)
    outliers = rng.choice(m, m // 10, replace=False)
    y[outliers] += side * rng.uniform(12, 20, len(outliers))
    X_eval = rng.normal(0, 1, (_EVAL_SAMPLES, n))
    y_eval = X_eval @ w + bias + rng.normal(0, 0.2, _EVAL_SAMPLES)
    return {"X_train": X[:m_train], "y_train": y[:m_train], "X_val": X[m_train:], "y_val": y[m_train:],
            "_X_eval": X_eval, "_y_eval": y_eval}


def _choice_case(rng: np.random.Generator, delta=None, seed=None, order=("mse", "huber")) -> dict:
    delta = float(rng.uniform(0.5, 1.2)) if delta is None else float(delta)
    seed = int(rng.integers(0, 10_000)) if seed is None else int(seed)
    return {**_regression_problem(rng), "delta": delta, "candidates": list(order), "seed": seed}


def _public_choice_case() -> dict:
    return {**_choice_case(np.random.default_rng(2024), 1.0, 7), "_public": True}


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


def _number(value) -> float | None:
    if isinstance(value, (bool, str, dict)) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(())) if arr.size == 1 else None


def _median_error(predictions: np.ndarray, y) -> float:
    return float(np.median(np.abs(np.asarray(predictions, dtype=np.float64).ravel() - _floats(y).ravel())))


class ChooseLoss(Check):
    """Judged by behaviour: every candidate model, every reported measurement and the choice are checked.

    The kernel reports what choose_loss returned: the name it chose, each candidate's trained model as plain
    data (`report_model`), the validation errors it measured, and Keras's description of each loss it was
    given. The grader rebuilds every model, checks its compile settings and output layer, measures its median
    absolute error on the validation rows itself, and judges the chosen model on fresh points of the same
    problem that the kernel never sees ("_" keys). The chosen model must predict those fresh points well (or
    the part earns nothing); then the measurement and the choice are a point each on top.
    """
    name = "choose_loss"
    signature = "choose_loss(X_train, y_train, X_val, y_val, losses)"
    expected_form = "a triple (best_name, models, val_errors): a name, a dict of trained models, a dict of floats"
    public_cases = (Case(_public_choice_case(), None,
                         "96 training and 32 validation points with outliers on one side; MSE against Huber (delta 1)"),)

    # The test cell passes two student functions, checks.choose_loss(choose_loss, huber_loss);
    # the check treats them as one subject, the pair.
    def __call__(self, choose_loss, huber_loss=None) -> None:
        super().__call__(choose_loss if huber_loss is None else (choose_loss, huber_loss))

    def hidden(self, choose_loss, huber_loss=None) -> None:
        super().hidden(choose_loss if huber_loss is None else (choose_loss, huber_loss))

    def secret_inputs(self, rng):
        return [_choice_case(rng, order=tuple(str(name) for name in rng.permutation(["mse", "huber"])))]

    def run(self, subject, inputs):
        import keras
        choose_loss, huber_loss = subject
        try:
            huber = huber_loss(inputs["delta"])
        except NotImplementedError as exc:
            if not str(exc):
                return {"stage": "huber_missing"}
            raise
        candidates = {name: ("mse" if name == "mse" else huber) for name in inputs["candidates"]}
        described = {name: _describe(loss) for name, loss in candidates.items()}
        keras.utils.set_random_seed(int(inputs["seed"]))
        arrays = [np.asarray(inputs[key], dtype="float32") for key in ("X_train", "y_train", "X_val", "y_val")]
        try:
            result = choose_loss(*arrays, dict(candidates))
        except NotImplementedError as exc:
            if not str(exc):  # the untouched exercise: report it as not implemented
                raise
            return {"stage": "fit_error", "detail": f"NotImplementedError: {one_line(exc)}"}
        except Exception as exc:  # noqa: BLE001 - the message explains what went wrong inside model.fit
            return {"stage": "fit_error", "detail": f"{type(exc).__name__}: {one_line(exc)}"}
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return {"stage": "bad_return", "kind": describe_value(result)}
        best, models, errors = result
        record = {"stage": "chosen", "described": described, "best": best if isinstance(best, str) else None,
                  "best_kind": describe_value(best)}
        # Only what choose_loss returned, as plain data: each model itself and each measured error.
        if isinstance(models, dict):
            record["models"] = {name: report_model(models[name]) for name in candidates if name in models}
        else:
            record["models_kind"] = describe_value(models)
        if isinstance(errors, dict):
            record["errors"] = {name: _number(errors[name]) for name in candidates if name in errors}
        else:
            record["errors_kind"] = describe_value(errors)
        return record

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        stage = got.get("stage")
        if stage == "huber_missing":
            return "huber_loss is not implemented yet: finish Exercise 4 first, this part trains a model with it."
        if stage == "fit_error":
            detail = one_line(got.get("detail"), 200).rstrip(". ")
            if any(word in detail.lower() for word in _GRAPH_ERROR_WORDS):
                return f"Training with your Huber loss raised {detail}. {_KERAS_OPS_ADVICE}"
            return f"{sig} raised {detail}"
        if stage == "bad_return":
            return (f"{sig} returned {got.get('kind')}; it should return a triple (best_name, models, val_errors): "
                    "the chosen name, a dict of the trained models and a dict of their validation errors.")
        if stage != "chosen":
            return f"{sig} produced a report the check cannot read."
        names = [str(name) for name in inputs["candidates"]]
        structure, models = self._structure(got, names)
        if structure:
            return structure
        public = bool(inputs.get("_public"))
        try:
            measured = {name: _median_error(predict(models[name], inputs["X_val"]), inputs["y_val"]) for name in names}
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the inputs is the student's to fix
            return (f"A returned model cannot be called on the validation data ({one_line(exc, 120)}): build each "
                    "model for X_train.shape[1] inputs.")
        measurement = self._measurement_message(inputs, models, got["errors"], measured, public)
        best = got["best"]
        lowest = min(measured.values())
        winners = [name for name in names if measured[name] <= lowest * (1 + 1e-6) + 1e-9]
        if best in winners:
            decision = None
        else:
            decision = (f"best_name is '{best}', but the returned models' own validation errors are lowest for "
                        f"'{winners[0]}': choose the name whose model has the lowest median absolute error on the "
                        "validation data.")
        fresh = _median_error(predict(models[best], inputs["_X_eval"]), inputs["_y_eval"])
        quality = None
        if not fresh <= QUALITY_THRESHOLD:
            shown = f" ({fresh:.3g})" if public else ""
            quality = (f"The chosen model ('{best}') misses fresh points of the same problem, which have no outliers, by "
                       f"a median of more than {QUALITY_THRESHOLD:g}{shown}; the noise alone gives about 0.13.")
            if best == "mse":
                quality += (" Squared errors let the outliers, which all lie on one side, pull the fit towards them: "
                            "that is what a robust loss is for.")
            else:
                quality += (" The model has not learned the plane well: check its training (for example "
                            "Adam(learning_rate=0.05), 8 epochs, batches of 32, for a network with one hidden layer "
                            "of 16 ReLU units).")
        if quality:
            # A chosen model that has not learned the problem earns nothing, whatever was measured: the
            # measurement and the choice count only for models that were trained.
            return " ".join(filter(None, [measurement, decision, quality]))
        return requirements([(True, ""), (measurement is None, measurement or ""), (decision is None, decision or "")])

    def _structure(self, got, names) -> tuple[str | None, dict]:
        """(what stops the check from judging the models, or None; the rebuilt models by name).

        A wrong return value, or a model against a stated rule, fails the whole part: there is nothing to measure.
        """
        sig = self.signature
        best = got.get("best")
        if best is None:
            return f"best_name should be the name of a loss, one of {names}, but {sig} returned {got.get('best_kind')}.", {}
        if best not in names:
            return f"best_name is '{one_line(best, 40)}', which is not one of the losses' names {names}.", {}
        if "models" not in got:
            return (f"models should be a dict of the trained models, one per name in losses, but {sig} returned "
                    f"{got.get('models_kind')}."), {}
        if "errors" not in got:
            return (f"val_errors should be a dict of floats, one per name in losses, but {sig} returned "
                    f"{got.get('errors_kind')}."), {}
        missing = [name for name in names if name not in got["models"]]
        if missing:
            return (f"models has no entry for {', '.join(repr(m) for m in missing)}: train one model per loss and "
                    "return them all, models[name] for every name in losses."), {}
        missing = [name for name in names if got["errors"].get(name) is None]
        if missing:
            return (f"val_errors has no number for {', '.join(repr(m) for m in missing)}: measure every candidate, "
                    "val_errors[name] a float for every name in losses."), {}
        models = {}
        for name in names:
            message, model = self._model(got, name)
            if message:
                return message, {}
            models[name] = model
        return None, models

    @staticmethod
    def _model(got, name) -> tuple[str | None, object]:
        """(a message about models[name] against the stated rules, or None; the rebuilt model)."""
        described = got.get("described") or {}
        record = got["models"][name]
        if not isinstance(record, dict) or not record.get("is_model"):
            kind = record.get("kind") if isinstance(record, dict) else type(record).__name__
            return f"models['{name}'] is a {kind}, not a trained keras.Model.", None
        compiled, architecture = _split_compile(record)
        compiled_loss = json.dumps(compiled.get("loss"), sort_keys=True) if compiled else None
        if compiled_loss is None or compiled_loss != described.get(name):
            return (f"models['{name}'] was not compiled with losses['{name}']: compile each candidate's model with "
                    "its own loss, model.compile(optimizer=..., loss=losses[name])."), None
        try:
            model = rebuild_model(architecture)
        except ModelRejected as exc:
            return f"models['{name}'] cannot be checked: {exc}.", None
        params = int(model.count_params())
        if params > MAX_PARAMS:
            return (f"models['{name}'] has {params:,} parameters: the statement asks for a small network, at most "
                    f"{MAX_PARAMS:,} parameters."), None
        summary = layer_summary(model)
        last = summary[-1] if summary else {}
        if last.get("kind") != "Dense" or last.get("units") != 1:
            what = f"{last.get('units')} units" if last.get("kind") == "Dense" else f"a {last.get('kind')} layer"
            return (f"models['{name}'] ends with {what}: a regression model predicts one number per sample, so "
                    "its last layer is Dense(1)."), None
        if last.get("activation") not in ("linear", ""):
            return (f"models['{name}'] ends with activation='{last.get('activation')}': a regression target can be "
                    "any real number, of either sign, so the output layer has no activation, Dense(1)."), None
        return None, model

    @staticmethod
    def _measurement_message(inputs, models, reported, measured, public) -> str | None:
        """None when every reported validation error is the grader's own measurement of that model."""
        for name, model in models.items():
            value = float(reported[name])
            if abs(value - measured[name]) <= _MEASURE_RTOL * abs(measured[name]) + _MEASURE_ATOL:
                continue
            val = np.asarray(predict(model, inputs["X_val"]), dtype=np.float64).ravel()
            y_val = _floats(inputs["y_val"]).ravel()
            train = _median_error(predict(model, inputs["X_train"]), inputs["y_train"])
            variants = [
                (train, "that is its median absolute error on the training data: measure on X_val and y_val, data "
                        "the model did not train on."),
                (float(np.mean(np.abs(val - y_val))),
                 "that is the mean absolute error: the outliers in the validation rows dominate a mean. Use the "
                 "median, np.median(np.abs(predictions - y_val))."),
                (float(np.mean((val - y_val) ** 2)),
                 "that is the mean squared error on the validation data, which the outliers dominate: use the "
                 "median absolute error."),
                (float(np.median(np.abs(val[:, None] - y_val[None, :]))),
                 "the predictions of shape (m, 1) were broadcast against y_val of shape (m,), which makes an (m, m) "
                 "table of differences: flatten them first, model.predict(X_val).ravel()."),
            ]
            for candidate, advice in variants:
                if abs(value - candidate) <= _MEASURE_RTOL * abs(candidate) + _MEASURE_ATOL:
                    return f"val_errors['{name}'] is not the median absolute error of models['{name}'] on the validation data: {advice}"
            shown = f" (it reports {value:.4g}; the model's is {measured[name]:.4g})" if public else ""
            return (f"val_errors['{name}'] is not the median absolute error of models['{name}'] on the validation "
                    f"data{shown}: val_errors[name] = np.median(np.abs(prediction - y_val)) for that name's model.")
        return None


mse = MSE()
binary_crossentropy = BinaryCrossentropy()
categorical_crossentropy = CategoricalCrossentropy()
huber_values = HuberValues()
choose_loss = ChooseLoss()

CHECKS = CheckSet("04_losses", [mse, binary_crossentropy, categorical_crossentropy, huber_values, choose_loss])
