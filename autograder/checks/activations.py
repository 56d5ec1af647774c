"""Checks for 02_activations: ReLU, sigmoid, tanh and softmax with their slopes, and output-layer choices.

The numeric parts are judged by value only. A RuntimeWarning from numpy (an overflow in a
branch whose result is thrown away, say) costs nothing when every value is right; nan or
inf where the true value is finite fails the part with advice on why it overflowed.

Stated rules (part / rule / how it is checked). Found 27, checked 20, suggestions only 7.
- all numeric parts / the result has the shape of z, for a vector, a batch or more axes / `compare` (shape
  message), public batches and hidden 3-D inputs
- all numeric parts / values within float32 accuracy / `compare.matches` with Keras's float32 result as twin
- all numeric parts / a numpy RuntimeWarning alone costs nothing / right values pass, with a printed note
- all parts / no loops are needed / suggestion only
- relu / max(0, z) entry by entry / values, diagnoses (abs, min, leaky, clip, identity)
- relu / one line; use np.maximum / suggestion only
- relu_grad / 1 where z > 0, 0 where z < 0 / values, diagnoses
- relu_grad / return 0 at z = 0 / suggestion only (the statement says any value in [0, 1] is accepted there)
- relu_grad / a boolean array also works / accepted (catalogue alternative)
- sigmoid / 1 / (1 + exp(-z)), values in [0, 1] / values, diagnoses
- sigmoid / no nan or inf for |z| up to 1000 and beyond / public case, secret and hidden inputs up to 1e4;
  right values everywhere else earn 1 of 2 points (Partial)
- sigmoid / the e = exp(-|z|) method / suggestion only (scipy's expit and others pass)
- sigmoid_grad / s * (1 - s) of the score z, not of the activation / values, diagnosis "z is the input"
- sigmoid_grad / no nan for large |z| / public case and secret inputs
- sigmoid_grad / compute s with your sigmoid / suggestion only
- tanh / tanh(z), values in [-1, 1] / values, diagnoses (tanh(z/2), sigmoid(2z), sigmoid, sign)
- tanh / no nan for |z| up to 1000 / public case, secret and hidden inputs
- tanh / written with the identity 2 sigmoid(2z) - 1 / suggestion only (np.tanh passes; the statement says so)
- tanh_grad / 1 - tanh(z)**2 of the score z / values, diagnoses
- tanh_grad / no nan for large |z| / public case and secret inputs
- tanh_grad / compute t = tanh(z) first / suggestion only
- softmax / along the last axis, for (K,), (m, K) and (..., K) / 1-D, 2-D public cases, hidden 3-D and (m, 1)
- softmax / positive and summing to 1 per row / values, diagnoses (wrong axis, whole array, not normalised)
- softmax / no overflow for scores near +1000 (subtract the row maximum) / public case, secret rows near
  +-800; right values elsewhere keep the other points (Partial, 1 of 3 lost)
- softmax / each row's own maximum, not one for the batch / public case, secret rows far below the batch
  maximum (Partial, 1 of 3 lost)
- output_activation / return "linear", "sigmoid" or "softmax" for every task in OUTPUT_TASKS / a public case
  over every task (names read case-insensitively; None and "identity" read as linear)
- output_activation / the right choice per task / the four public tasks, then all eleven others by the grader

Partial credit: sigmoid (2 points) and softmax (3 points) state their stability separately from the
formula, so an answer whose values are right wherever float64 cannot overflow keeps those points
(`core.Partial`). The one-point parts and the choice table are all-or-nothing.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .compare import close, compare_array, fmt, matches, matches_mask
from .core import INPUTS_ENV, Case, Check, CheckSet, Partial, Verdict

#: exp(z) overflows a float64 above z = 709.78 and underflows to 0 below about -745: "about 700" either way.
_EXP_RANGE = 700.0


def _sig(z):
    """A sigmoid for describing wrong answers (never the graded reference: expected values come from it)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _first(mask: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _error_hint(record: dict) -> str:
    """Advice for the errors these functions usually raise."""
    detail = record.get("detail", "")
    if "truth value of an array" in detail:
        return ("Python's max(), min(), `if` and `and` look at a whole array at once. Use elementwise numpy "
                "functions instead, such as np.maximum(z, 0) or np.where(z > 0, a, b).")
    if "could not be broadcast" in detail:
        return ("A reduction such as z.max(axis=-1) or e.sum(axis=-1) drops the last axis, so it no longer lines "
                "up with z. Pass keepdims=True to keep it as an axis of length 1.")
    if record.get("error") == "AxisError" or "out of bounds for array of dimension" in detail:
        return ("Use axis=-1, the last axis: it is the right axis for a single vector (1-D) as well as for a "
                "batch (2-D or more).")
    if record.get("error") == "OverflowError" or "overflow" in detail:
        return "An exponential overflowed: only ever call np.exp on numbers that are at most 0."
    return ""


class _ArrayFunctionCheck(Check):
    """A function of one array z (elementwise, or along the last axis), judged by its values."""

    #: Why nan or inf usually comes back from this function, and how to avoid it.
    overflow_advice = ""
    #: Why the shape may have changed.
    shape_advice = ("An activation acts on each entry of z on its own, so the result has the shape of z; "
                    "a reduction (np.max, np.sum, max()) changes it.")
    #: Printed after a pass when numpy warned: the values are right, so the part still passes.
    warning_tip = ""
    tol = 1e-5
    expected_form = "a numpy array of the same shape as z"

    def stability_rules(self, z: np.ndarray) -> list[tuple[np.ndarray, str, str, str]]:
        """The statement's no-overflow rules that earn their own share of the points (core.Partial).

        Each is (mask of the entries of z the rule is about, which entries they are, the cause when they
        came back as nan or inf, how to meet the rule). The entries
        outside every mask carry the formula itself: when any of them is wrong the whole part fails.
        Empty (the default): the part is all-or-nothing.
        """
        return []

    def diagnoses(self, z: np.ndarray) -> list:
        return []

    def run(self, subject, inputs):
        # Positional, so a student may name the argument x instead of z.
        return subject(np.array(inputs["z"], dtype=float))

    def judge(self, inputs, record, expected):
        verdict = super().judge(inputs, record, expected)
        if not verdict.passed and "error" in record and record["error"] != "NotImplementedError":
            hint = _error_hint(record)
            if hint:
                return Verdict(False, f"{verdict.message.rstrip('.')}. {hint}")
        return verdict

    def prepare(self, z: np.ndarray, got: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """Adjust an answer before comparing (e.g. accept any subgradient where a slope is undefined)."""
        return got

    #: The same function in Keras, as a name of keras.ops (None: no float32 twin to measure against).
    keras_twin: str | None = None

    def float32_twin(self, z: np.ndarray):
        """Keras's own float32 result on z, so that an answer as accurate as Keras's passes (see matches)."""
        if self.keras_twin is None:
            return None
        try:
            import keras

            value = keras.ops.convert_to_numpy(getattr(keras.ops, self.keras_twin)(np.asarray(z, dtype="float32")))
        except Exception:  # noqa: BLE001 - without Keras, only the tolerance and the floor apply
            return None
        value = np.asarray(value, dtype=np.float64)
        return self.from_twin(z, value)

    def from_twin(self, z: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Turn Keras's function value into this check's quantity (a derivative, say)."""
        return value

    def compare(self, inputs, got, expected):
        z = np.asarray(inputs["z"], dtype=float)
        expected = np.asarray(expected, dtype=float)
        if isinstance(got, (str, dict, tuple)) or got is None:
            return compare_array(self.signature, got, expected, inputs)
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return compare_array(self.signature, got, expected, inputs)
        if got_arr.shape != expected.shape:
            return (f"{self.signature} returned shape {got_arr.shape} for z of shape {z.shape}; expected "
                    f"{expected.shape}. {self.shape_advice}")
        with np.errstate(all="ignore"):
            twin = self.float32_twin(z)
            prepared = self.prepare(z, got_arr, expected)
            if matches(prepared, expected, self.tol, twin=twin):
                return None
            right = matches_mask(prepared, expected, self.tol, twin=twin)
            partial = self.partial_credit(z, got_arr, right)
            if partial is not None:
                return partial
            bad = ~np.isfinite(got_arr) & np.isfinite(expected)
            if bad.any():
                return self.nonfinite_message(z, got_arr, expected, bad)
            # Describe the answer as it came back, not as prepared.
            where = _first(~right) if (~right).any() else _first(np.ones(z.shape, bool))
            index = ", ".join(str(i) for i in where)
            generic = (f"The first wrong entry is z[{index}] = {z[where]:g}: expected {expected[where]:.6g}, got "
                       f"{got_arr[where]:.6g}. Those values match none of the usual mistakes: compare your code "
                       "with the formula in the statement, on that one number.")
            return compare_array(self.signature, got_arr, expected, inputs, tol=self.tol,
                                 diagnoses=[*self.diagnoses(z), (lambda g, e, i: True, generic)], twin=twin)

    def partial_credit(self, z: np.ndarray, got: np.ndarray, right: np.ndarray) -> Partial | None:
        """A Partial when the formula is right and only some stated no-overflow rules fail, else None."""
        rules = self.stability_rules(z)
        if not rules:
            return None
        covered = np.zeros(z.shape, bool)
        for mask, *_ in rules:
            covered |= mask
        if not np.all(right[~covered]):
            return None  # the formula itself is wrong: all-or-nothing, with the usual diagnoses
        unmet = []
        for mask, what, cause, how in rules:
            if np.all(right[mask]):
                continue
            if np.any(~np.isfinite(got[mask & ~right])):
                unmet.append(f"{what} come back as nan or inf: {cause} {how}")
            else:
                unmet.append(f"{what} come back wrong. {how}")
        if not unmet:
            return None
        return Partial(len(rules) + 1 - len(unmet), len(rules) + 1,
                       f"{self.signature} is right for ordinary scores, but " + " Also, ".join(
                           m[0].lower() + m[1:] for m in unmet))

    def nonfinite_message(self, z, got, expected, bad) -> str:
        where = _first(bad)
        return (f"{self.signature} returned {got[where]} for z = {z[where]:g}, where the right value is "
                f"{expected[where]:.4g}. {self.overflow_advice}")

    def __call__(self, subject):
        if os.environ.get(INPUTS_ENV):  # grading: only report, warnings or not
            return super().__call__(subject)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            super().__call__(subject)
        numpy_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if numpy_warnings and self.warning_tip:
            print(f"  Note: numpy warned \"{numpy_warnings[0].message}\". The values are right, so this part "
                  f"passes, but {self.warning_tip}")


# ----------------------------------------------------------------------------------------- ReLU
class Relu(_ArrayFunctionCheck):
    name = "relu"
    signature = "relu(z)"
    shape_advice = ("ReLU acts on every entry of z on its own and keeps its shape. np.max(z, 0) and max(z) find "
                    "the largest entry; the elementwise maximum is np.maximum(z, 0).")
    public_cases = (
        Case({"z": np.array([-2.0, -0.5, 0.0, 0.5, 3.0])}, np.array([0.0, 0.0, 0.0, 0.5, 3.0]), "a vector"),
        Case({"z": np.array([[1.5, -1.0, 0.0], [-3.0, 2.0, -0.25]])},
             np.array([[1.5, 0.0, 0.0], [0.0, 2.0, 0.0]]), "a batch of shape (2, 3)"),
    )

    def secret_inputs(self, rng):
        m = int(rng.integers(2, 5))
        return [{"z": rng.normal(0, 3, int(rng.integers(5, 10)))},
                {"z": rng.normal(0, 3, (m, m + int(rng.integers(1, 4))))}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 5, (2, 3, 4))}, {"z": np.array([-1e6, -1e-9, 0.0, 1e-9, 1e6])}]

    def diagnoses(self, z):
        def leaky(got, exp, inp):
            neg = z < 0
            ratio = got[neg] / z[neg]
            return close(got[~neg], exp[~neg]) and ratio.size > 0 and 0 < ratio.min() and \
                np.allclose(ratio, ratio[0]) and ratio[0] < 1
        return [
            (lambda got, exp, inp: close(got, np.abs(z)),
             "Negative inputs came back as their absolute value: ReLU sends every negative z to 0."),
            (lambda got, exp, inp: close(got, z - exp),
             "That is min(z, 0), the negative part. ReLU keeps the positive part: max(z, 0)."),
            (leaky, "Negative inputs came back multiplied by a small slope: that is leaky ReLU. "
                    "Plain ReLU returns exactly 0 for every z < 0."),
            (lambda got, exp, inp: close(got, np.minimum(exp, 1.0)),
             "The outputs stop at 1, but ReLU has no upper limit: max(z, 0), not a clip to [0, 1]."),
            (lambda got, exp, inp: close(got, z),
             "The outputs equal z: negative entries must become 0."),
        ]


class ReluGrad(_ArrayFunctionCheck):
    name = "relu_grad"
    signature = "relu_grad(z)"
    public_cases = (
        Case({"z": np.array([-2.0, -0.5, 0.0, 0.5, 3.0])}, np.array([0.0, 0.0, 0.0, 1.0, 1.0]), "a vector"),
        Case({"z": np.array([[1.5, -1.0, 0.25], [-3.0, 2.0, -0.25]])},
             np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), "a batch of shape (2, 3)"),
    )

    def secret_inputs(self, rng):
        cases = []
        for shape in ((int(rng.integers(6, 11)),), (int(rng.integers(2, 4)), int(rng.integers(4, 7)))):
            z = rng.normal(0, 2, shape)
            z.flat[rng.choice(z.size, 2, replace=False)] = 0.0  # the corner, where any slope in [0, 1] is accepted
            cases.append({"z": z})
        return cases

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 5, (2, 2, 3))}, {"z": np.array([-1e-12, 1e-12, -1000.0, 1000.0])}]

    def prepare(self, z, got, expected):
        # ReLU has no derivative at z = 0: every value in [0, 1] is a valid subgradient there.
        corner = (z == 0) & (got >= 0) & (got <= 1)
        return np.where(corner, expected, got)

    def diagnoses(self, z):
        off_corner = z != 0
        return [
            (lambda got, exp, inp: close(got, exp * z),
             "That is relu(z) itself. Its slope is 1 where z > 0 and 0 where z < 0."),
            (lambda got, exp, inp: close(got[off_corner], np.sign(z[off_corner])),
             "Negative inputs got slope -1. For z < 0 ReLU is the constant 0, so its slope there is 0 "
             "(np.sign(z) is not the slope)."),
            (lambda got, exp, inp: close(got[off_corner], 1 - exp[off_corner]),
             "The slopes are the wrong way round: 1 for z > 0 and 0 for z < 0."),
            (lambda got, exp, inp: close(got[off_corner], np.ones(int(off_corner.sum()))),
             "Every slope is 1, which is the slope of the identity f(z) = z. For z < 0 ReLU is flat: slope 0."),
        ]


# -------------------------------------------------------------------------------------- sigmoid
_SIGMOID_OVERFLOW = ("Somewhere an exponential of a large number overflowed to inf (np.exp(1000) = inf), and "
                     "inf / inf is nan. Only ever call np.exp on -|z|, which is at most 0: with e = np.exp(-np.abs(z)), "
                     "the sigmoid is 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0.")


def _large_inputs(rng, shape):
    """Values far beyond exp's range (|z| up to 1000) mixed with ordinary ones, both signs."""
    z = rng.normal(0, 2, shape)
    big = rng.random(shape) < 0.5
    z[big] = rng.uniform(100, 1000, int(big.sum())) * rng.choice([-1, 1], int(big.sum()))
    z.flat[0], z.flat[-1] = 1000.0, -1000.0
    return z


class Sigmoid(_ArrayFunctionCheck):
    name = "sigmoid"
    keras_twin = "sigmoid"
    signature = "sigmoid(z)"
    overflow_advice = _SIGMOID_OVERFLOW

    def stability_rules(self, z):
        return [(np.abs(z) > _EXP_RANGE, "the values where |z| is larger than about 700, beyond the range of np.exp,",
                 "an exponential of a large number overflowed to inf (np.exp(1000) = inf), and inf / inf is nan.",
                 "Only ever call np.exp on -|z|, which is at most 0: with e = np.exp(-np.abs(z)), the sigmoid is "
                 "1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0.")]
    warning_tip = ("the stable form with e = np.exp(-np.abs(z)) computes it without any overflow, so numpy "
                   "has nothing to warn about.")
    public_cases = (
        Case({"z": np.array([-2.0, -1.0, 0.0, 1.0, 2.0])},
             np.array([0.11920292202211755, 0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823]),
             "a vector"),
        Case({"z": np.array([[-1000.0, -30.0], [30.0, 1000.0]])},
             np.array([[0.0, 9.357622968839299e-14], [0.9999999999999065, 1.0]]), "large |z|, up to 1000"),
    )

    def secret_inputs(self, rng):
        m = int(rng.integers(2, 5))
        return [{"z": rng.normal(0, 3, int(rng.integers(5, 10)))},
                {"z": rng.normal(0, 4, (m, m + 2))},
                {"z": _large_inputs(rng, (3, 4))}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 6, (2, 3, 2))}, {"z": np.array([-1e4, -745.0, -709.0, 709.0, 745.0, 1e4])}]

    def diagnoses(self, z):
        return [
            (lambda got, exp, inp: close(got, 1 - exp),
             "The outputs are 1 - sigmoid(z): the sign inside the exponential is flipped. "
             "sigmoid(z) = 1 / (1 + exp(-z)) rises from 0 to 1 as z grows."),
            (lambda got, exp, inp: close(got, np.tanh(z)),
             "Those are tanh(z) values, between -1 and 1. The sigmoid lies between 0 and 1."),
            (lambda got, exp, inp: set(np.unique(got)) <= {0.0, 1.0},
             "Only 0s and 1s came back: that is a step function. The sigmoid changes smoothly from 0 to 1."),
            (lambda got, exp, inp: close(got, z),
             "The outputs equal z: apply 1 / (1 + exp(-z))."),
        ]


class SigmoidGrad(_ArrayFunctionCheck):
    name = "sigmoid_grad"
    keras_twin = "sigmoid"

    def from_twin(self, z, value):
        return (value * (1 - value)).astype(np.float32).astype(np.float64)

    signature = "sigmoid_grad(z)"
    overflow_advice = ("An exponential of a large number overflowed (np.exp(1000) = inf), and inf / inf is nan, "
                       "as in exp(-z) / (1 + exp(-z))**2 at z = -1000. Compute s = sigmoid(z) with your stable "
                       "sigmoid and return s * (1 - s): it never exponentiates a large number.")
    warning_tip = "s = sigmoid(z) from a stable sigmoid, then s * (1 - s), never overflows."
    public_cases = (
        Case({"z": np.array([-2.0, 0.0, 0.5, 3.0])},
             np.array([0.10499358540350649, 0.25, 0.2350037122015945, 0.04517665973091214]), "a vector"),
        Case({"z": np.array([[-1000.0, -10.0], [10.0, 1000.0]])},
             np.array([[0.0, 4.5395807735951673e-05], [4.5395807735951673e-05, 0.0]]), "large |z|, up to 1000"),
    )

    def secret_inputs(self, rng):
        return [{"z": rng.normal(0, 3, int(rng.integers(5, 10)))},
                {"z": rng.normal(0, 4, (int(rng.integers(2, 4)), 5))},
                {"z": _large_inputs(rng, (2, 5))}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 3, (2, 2, 3))}]

    def diagnoses(self, z):
        return [
            (lambda got, exp, inp: close(got, z * (1 - z)),
             "That is z * (1 - z): the formula s * (1 - s) needs s = sigmoid(z) first. z is the input, "
             "not the activation."),
            (lambda got, exp, inp: close(got, _sig(z)),
             "That is sigmoid(z) itself. Its slope is sigmoid(z) * (1 - sigmoid(z))."),
            (lambda got, exp, inp: close(got, 1 - _sig(z) ** 2),
             "1 - sigmoid(z)**2 has the shape of tanh's slope. The sigmoid's slope is sigmoid(z) * (1 - sigmoid(z))."),
            (lambda got, exp, inp: close(got, -exp),
             "The sign is flipped: the sigmoid only ever rises, so its slope is positive."),
        ]


# ----------------------------------------------------------------------------------------- tanh
class Tanh(_ArrayFunctionCheck):
    name = "tanh"
    keras_twin = "tanh"
    signature = "tanh(z)"
    overflow_advice = ("For large |z|, exp(z) or exp(-z) overflows to inf, and (exp(z) - exp(-z)) / (exp(z) + exp(-z)) "
                       "becomes inf / inf = nan (np.sinh(z) / np.cosh(z) does the same). Write tanh(z) = "
                       "2 * sigmoid(2 * z) - 1 with your stable sigmoid, or use np.tanh.")
    warning_tip = "2 * sigmoid(2 * z) - 1 with a stable sigmoid computes it without any overflow."
    public_cases = (
        Case({"z": np.array([-2.0, -0.5, 0.0, 0.5, 2.0])},
             np.array([-0.9640275800758169, -0.46211715726000974, 0.0, 0.46211715726000974, 0.9640275800758169]),
             "a vector"),
        Case({"z": np.array([[-1000.0, -3.0], [3.0, 1000.0]])},
             np.array([[-1.0, -0.9950547536867305], [0.9950547536867305, 1.0]]), "large |z|, up to 1000"),
    )

    def secret_inputs(self, rng):
        return [{"z": rng.normal(0, 2, int(rng.integers(5, 10)))},
                {"z": rng.normal(0, 2, (int(rng.integers(2, 4)), 4))},
                {"z": _large_inputs(rng, (3, 3))}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 3, (2, 3, 2))}, {"z": np.array([-1e4, -400.0, -1e-8, 1e-8, 400.0, 1e4])}]

    def diagnoses(self, z):
        return [
            (lambda got, exp, inp: close(got, np.tanh(z / 2)),
             "That is 2 * sigmoid(z) - 1, which equals tanh(z / 2). The sigmoid needs 2z: tanh(z) = 2 * sigmoid(2 * z) - 1."),
            (lambda got, exp, inp: close(got, (exp + 1) / 2),
             "That is sigmoid(2 * z), still between 0 and 1. Stretch it to (-1, 1): 2 * sigmoid(2 * z) - 1."),
            (lambda got, exp, inp: close(got, _sig(z)),
             "Those are sigmoid values, between 0 and 1. tanh lies between -1 and 1: tanh(z) = 2 * sigmoid(2 * z) - 1."),
            (lambda got, exp, inp: close(got, -exp),
             "The sign is flipped: tanh(z) has the sign of z."),
        ]


class TanhGrad(_ArrayFunctionCheck):
    name = "tanh_grad"
    keras_twin = "tanh"

    def from_twin(self, z, value):
        return (1 - value.astype(np.float32) ** 2).astype(np.float64)

    signature = "tanh_grad(z)"
    overflow_advice = ("An exponential or cosh of a large number overflowed, and the division gave nan. Compute "
                       "t = tanh(z) with a stable tanh and return 1 - t**2.")
    warning_tip = "t = tanh(z) from a stable tanh, then 1 - t**2, never overflows."
    public_cases = (
        Case({"z": np.array([-2.0, 0.0, 0.5, 3.0])},
             np.array([0.07065082485316447, 1.0, 0.7864477329659275, 0.009866037165440192]), "a vector"),
        Case({"z": np.array([[-1000.0, -5.0], [5.0, 1000.0]])},
             np.array([[0.0, 0.00018158323094380667], [0.00018158323094380667, 0.0]]), "large |z|, up to 1000"),
    )

    def secret_inputs(self, rng):
        return [{"z": rng.normal(0, 2, int(rng.integers(5, 10)))},
                {"z": rng.normal(0, 2, (int(rng.integers(2, 4)), 5))},
                {"z": _large_inputs(rng, (2, 4))}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 2, (3, 2, 2))}]

    def diagnoses(self, z):
        return [
            (lambda got, exp, inp: close(got, 1 - z ** 2),
             "That is 1 - z**2: the formula 1 - t**2 needs t = tanh(z) first. z is the input, not the activation."),
            (lambda got, exp, inp: close(got, 1 - np.tanh(z)),
             "1 - tanh(z) is missing the square: the slope is 1 - tanh(z)**2."),
            (lambda got, exp, inp: close(got, _sig(z) * (1 - _sig(z))),
             "That is the sigmoid's slope. tanh's slope is 1 - tanh(z)**2."),
            (lambda got, exp, inp: close(got, np.tanh(z)),
             "That is tanh(z) itself. Its slope is 1 - tanh(z)**2."),
        ]


# -------------------------------------------------------------------------------------- softmax
class Softmax(_ArrayFunctionCheck):
    name = "softmax"
    keras_twin = "softmax"
    signature = "softmax(z)"

    def stability_rules(self, z):
        row_max = np.max(z, axis=-1, keepdims=True)
        high = np.broadcast_to(row_max > _EXP_RANGE, z.shape)
        low = np.broadcast_to((row_max < -_EXP_RANGE) | (row_max - np.max(z) < -_EXP_RANGE), z.shape)
        return [
            (high, "the rows whose scores go above about 700, where np.exp overflows,",
             "np.exp of such a score is inf, and inf / inf is nan.",
             "Subtract each row's maximum before exp: softmax(z) = softmax(z - max(z)), so the largest exponent "
             "becomes exp(0) = 1. Use np.max(z, axis=-1, keepdims=True)."),
            (low, "the rows whose scores all lie far below 0, or far below the largest score of the batch,",
             "every exp of such a row underflowed to 0, and 0 / 0 is nan.",
             "Subtract each row's own maximum (np.max(z, axis=-1, keepdims=True)): with no maximum, or one maximum "
             "for the whole batch, a row far below it is exponentiated at around exp(-2000) = 0."),
        ]
    shape_advice = ("softmax keeps the shape of z: one probability per entry. Reduce with keepdims=True, and "
                    "return exp(z - max) divided by its sum, not the sum itself.")
    warning_tip = ("subtracting each row's maximum first (np.max(z, axis=-1, keepdims=True)) leaves nothing "
                   "to overflow.")
    public_cases = (
        Case({"z": np.array([1.0, 2.0, 3.0])},
             np.array([0.09003057317038046, 0.24472847105479764, 0.6652409557748218]), "one vector of 3 scores"),
        Case({"z": np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])},
             np.array([[0.09003057317038046, 0.24472847105479764, 0.6652409557748218],
                       [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]),
             "a batch of 2 samples with 3 scores each"),
        Case({"z": np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -999.0]])},
             np.array([[0.09003057317038046, 0.24472847105479764, 0.6652409557748218],
                       [0.21194155761708544, 0.21194155761708544, 0.5761168847658291]]),
             "large scores: rows near 1000 and near -1000"),
    )

    def secret_inputs(self, rng):
        m = int(rng.integers(2, 5))
        k = m + int(rng.integers(1, 4))
        far = rng.normal(0, 2, (4, k)) + np.array([[800.0], [-800.0], [300.0], [-300.0]]) * rng.uniform(0.8, 1.2)
        return [{"z": rng.normal(0, 2, int(rng.integers(3, 8)))},
                {"z": rng.normal(0, 2, (m, k))},
                {"z": rng.permutation(far)}]

    def hidden_inputs(self, rng):
        return [{"z": rng.normal(0, 3, (2, 3, 4))},          # a batch of sequences: still the last axis
                {"z": rng.normal(0, 1, (1, 5))},             # one sample in a batch
                {"z": np.full((3, 4), 7.5)},                 # ties: a uniform distribution
                {"z": rng.normal(0, 1, (4, 1))}]             # a single class: always probability 1

    def nonfinite_message(self, z, got, expected, bad):
        z2 = z.reshape(-1, z.shape[-1])
        rows = bad.reshape(-1, z.shape[-1]).any(axis=1)
        row_max = z2.max(axis=1)
        if np.any(rows & (row_max > 700)):
            row = z2[np.argmax(rows & (row_max > 700))]
            return (f"{self.signature} returned nan or inf for the scores {fmt(row)}. np.exp({row.max():g}) "
                    "overflows to inf, and inf / inf is nan. Subtract each row's maximum before exp: "
                    "softmax(z) = softmax(z - max(z)), so the largest exponent becomes exp(0) = 1. Use "
                    "np.max(z, axis=-1, keepdims=True).")
        row = z2[np.argmax(rows)]
        if row.max() < -700:
            return (f"{self.signature} returned nan for the scores {fmt(row)}: every exp in that row underflowed "
                    "to 0, and 0 / 0 is nan. Subtract each row's own maximum (np.max(z, axis=-1, keepdims=True)); "
                    "one maximum for the whole batch leaves rows far below it at exp(-2000) = 0.")
        return (f"{self.signature} returned nan or inf for the scores {fmt(row)}. Subtract each row's own "
                "maximum before exp and divide by the row's sum.")

    def diagnoses(self, z):
        def other_axis(got, exp, inp):
            return got.ndim >= 2 and any(close(got.sum(axis=a), np.ones(np.delete(got.shape, a)), 1e-6)
                                         for a in range(got.ndim - 1))
        return [
            (other_axis, "Each column sums to 1 instead of each row: the softmax was normalised over the wrong "
                         "axis. Every sample is a row (the last axis holds its scores), so reduce along axis=-1 "
                         "with keepdims=True."),
            (lambda got, exp, inp: got.ndim >= 2 and close(got.sum(), 1.0, 1e-6),
             "All the entries of the batch add up to 1 together: the sum ran over the whole array. Each "
             "sample's row must sum to 1 on its own: sum along axis=-1 with keepdims=True."),
            (lambda got, exp, inp: close(got / got.sum(axis=-1, keepdims=True), exp),
             "The ratios between the entries are right but the rows do not sum to 1: divide by each row's sum."),
            (lambda got, exp, inp: close(got, _sig(z)),
             "Those are sigmoid values, one per score. softmax divides exp(z) by the row's total, so the "
             "probabilities of a row add up to 1."),
        ]


# ---------------------------------------------------------------------------- output activations
#: The tasks of Exercise 5: what the network predicts, and how many output units it has.
OUTPUT_TASKS = {
    "house_price": {"units": 1, "description": "Predict the sale price of a house, in euros, from its size and location."},
    "spam": {"units": 1, "description": "Decide whether an email is spam. The unit gives the probability that it is."},
    "digit": {"units": 10, "description": "Read a handwritten digit 0-9; each image shows exactly one digit. One unit per digit."},
    "photo_tags": {"units": 20, "description": "Tag a photo with any of 20 labels (beach, dog, sunset, ...); a photo can carry several tags, or none. One unit per tag."},
    "temperature": {"units": 1, "description": "Forecast tomorrow's noon temperature in degrees Celsius (it can be below zero)."},
    "fraud": {"units": 1, "description": "Flag a card payment as fraudulent or not. The unit gives the probability of fraud."},
    "news_section": {"units": 8, "description": "File a news article under exactly one of 8 sections (sport, politics, science, ...). One unit per section."},
    "cat_or_dog": {"units": 2, "description": "Tell cats from dogs (each photo shows exactly one of the two) with two units, one per class, giving the probability of each class."},
    "chest_xray": {"units": 14, "description": "Screen a chest X-ray for 14 findings; a patient can have several at once. One unit per finding."},
    "bounding_box": {"units": 4, "description": "Predict the pixel coordinates (left, top, right, bottom) of a box around the object in an image."},
    "review_stars": {"units": 5, "description": "Predict the star rating (1 to 5) of a review, treated as 5 classes of which exactly one is right. One unit per rating."},
    "next_word": {"units": 10000, "description": "Predict the next word of a sentence from a vocabulary of 10,000 words. One unit per word."},
    "energy_demand": {"units": 24, "description": "Predict a city's electricity demand, in megawatts, for each of the next 24 hours."},
    "movie_genres": {"units": 12, "description": "Mark which of 12 genres a film belongs to; a film can be both a comedy and a romance. One unit per genre."},
    "ad_click": {"units": 1, "description": "Predict whether a user clicks on an advert. The unit gives the click probability."},
}
ACTIVATION_CHOICES = ("linear", "sigmoid", "softmax")
_PUBLIC_TASKS = ("house_price", "spam", "digit", "photo_tags")


def _activation_name(answer) -> str | None:
    """The answer as one of the choices' spelling: case and spaces ignored; None and 'identity' mean linear."""
    if answer is None:
        return "linear"
    if not isinstance(answer, str):
        return None
    name = answer.strip().lower()
    return {"identity": "linear", "none": "linear"}.get(name, name)


def _plain_answer(value):
    if isinstance(value, str):
        return str(value)
    name = getattr(value, "__name__", None) if callable(value) else None
    return name if isinstance(name, str) else value  # e.g. keras.activations.sigmoid -> "sigmoid"


def _choice_advice(task: str, got: str, expected: str) -> str:
    units = OUTPUT_TASKS[task]["units"]
    if expected == "linear":
        if got == "sigmoid":
            return ("A sigmoid squeezes every output into (0, 1), but this target is a quantity on an open scale "
                    "(a price, a temperature, a coordinate). Regression outputs keep the weighted sum as it is: 'linear'.")
        return ("Softmax turns the outputs into class probabilities that add up to 1. This target is a quantity, "
                "not a class: regression uses 'linear'.")
    if expected == "sigmoid":
        if got == "linear":
            return ("The output is a probability, so it must stay between 0 and 1, and a linear unit can output "
                    "-3 or 7. A sigmoid maps any score into (0, 1).")
        if units == 1:
            return ("Softmax over a single unit always outputs exactly 1.0 (exp(z) / exp(z)), whatever the input. "
                    "One yes/no probability needs a sigmoid.")
        return ("Several labels can be true at once here, so each unit needs its own independent probability: a "
                "sigmoid per unit. Softmax would make the labels compete for a total of 1.")
    if got == "sigmoid":
        return (f"Exactly one of the {units} classes is right, so the {units} probabilities must add up to 1: "
                "softmax. Independent sigmoids can say yes to several classes, or to none.")
    return (f"Raw scores (logits) are not probabilities. With exactly one right class among {units}, softmax "
            "turns them into probabilities that add up to 1.")


class OutputActivation(Check):
    name = "output_activation"
    signature = "output_activation(task)"
    expected_form = 'one of the strings "linear", "sigmoid" or "softmax"'
    public_cases = (
        Case({"task": "house_price"}, "linear", "house_price"),
        Case({"task": "spam"}, "sigmoid", "spam"),
        Case({"task": "digit"}, "softmax", "digit"),
        Case({"task": "photo_tags"}, "sigmoid", "photo_tags"),
        # Names only, no answers: every task of the table gets one of the three choices.
        Case({"tasks": list(OUTPUT_TASKS)}, None, "an answer for every task in OUTPUT_TASKS"),
    )

    def secret_inputs(self, rng):
        # Every other task of the table, in an order the grader draws. Checking all of them (not a random
        # few) keeps the score independent of the draw: the same answers always earn the same marks.
        others = [t for t in OUTPUT_TASKS if t not in _PUBLIC_TASKS]
        return [{"task": t} for t in rng.permutation(others).tolist()]

    def run(self, subject, inputs):
        if "tasks" in inputs:
            return [_plain_answer(subject(task)) for task in inputs["tasks"]]
        return _plain_answer(subject(inputs["task"]))

    def judge(self, inputs, record, expected):
        verdict = super().judge(inputs, record, expected)
        if not verdict.passed and record.get("error") in ("KeyError", "IndexError", "ValueError"):
            return Verdict(False, f"{verdict.message}. Give an answer for every task in checks.OUTPUT_TASKS (the "
                                  "table above), not only for the four examples.")
        return verdict

    def compare(self, inputs, got, expected):
        choices = "'linear', 'sigmoid' or 'softmax'"
        if "tasks" in inputs:
            if not isinstance(got, list) or len(got) != len(inputs["tasks"]):
                return f"{self.signature} did not give one answer per task."
            for task, answer in zip(inputs["tasks"], got):
                if _activation_name(answer) not in ACTIVATION_CHOICES:
                    return (f"output_activation({task!r}) returned {answer!r}: every answer must be one of "
                            f"{choices}.")
            return None
        task = inputs["task"]
        name = _activation_name(got)
        call = f"output_activation({task!r})"
        if name not in ACTIVATION_CHOICES:
            extra = (" ReLU and tanh are hidden-layer activations; an output layer here is one of the three."
                     if name in ("relu", "tanh", "leaky_relu") else "")
            return f"{call} returned {got!r}, which is not one of {choices}.{extra}"
        expected = _activation_name(expected)
        if name == expected:
            return None
        return f"{call} returned {got!r}, expected {expected!r}. {_choice_advice(task, name, expected)}"


relu = Relu()
relu_grad = ReluGrad()
sigmoid = Sigmoid()
sigmoid_grad = SigmoidGrad()
tanh = Tanh()
tanh_grad = TanhGrad()
softmax = Softmax()
output_activation = OutputActivation()

CHECKS = CheckSet("02_activations", [relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad, softmax,
                                     output_activation])
