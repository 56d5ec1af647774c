"""Checks for 10_cnn: the output-size formula, a numpy conv2d and max_pool2d that match Keras, and a digits CNN.

Public expected values are literals, computed once offline and checked against `keras.layers.Conv2D` and
`keras.layers.MaxPooling2D` given the same weights. Nothing here convolves or pools: to recognise a common
mistake, `run` also calls the student's function on a few transformed inputs (a flipped kernel, the image
mirrored, stride 1, no padding), the reference solution reports the same probes, and the diagnoses compare
the student's main answer with the reference's probes.

The two Keras parts are judged from the model itself (see `model_data`): the kernel reports only
`report_model(model)`, and the grader rebuilds it and computes its layers, outputs, compiled loss and
accuracy on arrays in grader-only "_" keys; the trained CNN on perturbed held-out digits (`heldout`).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .compare import fmt, within_scale
from .core import Case, Check, CheckSet, Verdict
from .heldout import digits_heldout
from .model_data import (built_on_zeros, error_text, rebuild_model, ModelLimits, ModelRejected, over_budget, all_layers, compile_summary, compute_loss, cross_entropy,
                         is_probabilities, predict, rel_close, report_model)

#: The trained CNN must classify at least this share of held-out digits (the reference reaches about 0.975-0.98
#: on the test split, and about 0.97 once the grader perturbs them).
ACCURACY_THRESHOLD = 0.93


def _as_array(value):
    """The student's result as a numpy array (a tensor from Keras or TensorFlow is converted)."""
    if value is None or isinstance(value, (str, dict)):
        return value
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def _try(call):
    """A probe's result, or None when the student's function fails on it (the main call decides the verdict)."""
    try:
        return _as_array(call())
    except Exception:  # noqa: BLE001 - a failing probe only means that diagnosis is not available
        return None


def _near(a, b) -> bool:
    """Equal up to float32 round-off, measured against the size of the values.

    A convolution sums many products, so a value near zero can carry an absolute error of the size of
    the float32 round-off of its terms: an elementwise relative error would fail a float32 answer there.
    """
    return within_scale(a, b, 1e-5)


def _same_array(a, b) -> bool:
    return a is not None and b is not None and _near(a, b)



def _padding_text(padding) -> str:
    return repr(padding) if isinstance(padding, str) else str(int(padding))


# ============================================================================ literals (computed offline)
# Each EXPECTED dict holds the answer ("out") and the reference's results on the probes `run` makes.
_CONV_A = {"x": np.array([[[[3], [3], [1], [0], [3]], [[3], [2], [0], [3], [2]], [[0], [0], [1], [2], [1]],
                   [[3], [0], [1], [2], [3]], [[0], [3], [0], [1], [2]]]], dtype=float),
           "W": np.array([[[[0]], [[2]], [[1]]], [[[2]], [[2]], [[-2]]], [[[2]], [[2]], [[-2]]]], dtype=float),
           "b": np.array([0.5], dtype=float), "stride": 1, "padding": 'valid'}
_CONV_A_EXPECTED = {  # Keras's Conv2D gives the same "out" with these weights
    'out': np.array([[[[15.5], [-1.5], [9.5]], [[6.5], [-0.5], [12.5]], [[11.5], [6.5], [3.5]]]], dtype=float),
    'flipped': np.array([[[[0.5], [0.5], [19.5]], [[3.5], [10.5], [19.5]], [[4.5], [15.5], [14.5]]]], dtype=float),
    'mirrored': np.array([[[[15.5], [-1.5], [9.5]], [[6.5], [-0.5], [12.5]], [[11.5], [6.5], [3.5]]]], dtype=float),
    'stride1': np.array([[[[15.5], [-1.5], [9.5]], [[6.5], [-0.5], [12.5]], [[11.5], [6.5], [3.5]]]], dtype=float),
    'valid': np.array([[[[15.5], [-1.5], [9.5]], [[6.5], [-0.5], [12.5]], [[11.5], [6.5], [3.5]]]], dtype=float),
}
_CONV_B = {"x": np.array([[[[2, 1], [-1, -2], [-1, 2], [1, -1], [0, 2]], [[1, -1], [-2, 2], [-1, 0], [1, -1], [0, -1]],
                   [[2, 1], [-2, -1], [1, 1], [-1, -2], [-2, -1]], [[1, 2], [-1, 1], [0, -1], [0, -2], [0, -2]],
                   [[-1, -1], [-2, -1], [1, 1], [1, 2], [-2, 1]], [[-2, -1], [-2, -2], [0, 0], [-1, 0], [0, 0]]],
                  [[[1, -1], [1, 1], [0, -2], [2, -1], [-1, 1]], [[2, 2], [2, 2], [1, 2], [0, 1], [-1, 0]],
                   [[1, 1], [0, 0], [-1, 0], [-2, -1], [1, 2]], [[2, -2], [-2, 2], [1, 2], [0, 0], [-1, 2]],
                   [[-2, -1], [-2, 0], [1, 0], [0, -2], [-1, -1]], [[1, -1], [1, 0], [2, 1], [-2, 1], [-1, 0]]]], dtype=float),
           "W": np.array([[[[-1, 0, -2], [0, 0, -1]], [[0, -2, 2], [-1, 2, 1]]],
                  [[[1, -2, 1], [1, -2, -1]], [[2, -2, 2], [0, -1, -1]]],
                  [[[-2, -2, 2], [1, -2, 1]], [[1, -2, 2], [1, 1, -1]]]], dtype=float),
           "b": np.array([1, -0.5, 0.25], dtype=float), "stride": 2, "padding": 'same'}
_CONV_B_EXPECTED = {  # Keras's Conv2D gives the same "out" with these weights
    'out': np.array([[[[-9, -3.5, -10.75], [0, -7.5, 6.25], [3, 7.5, -5.75]],
                   [[-1, 3.5, -19.75], [3, -2.5, -0.75], [6, 5.5, 4.25]],
                   [[-4, 13.5, -4.75], [-4, 3.5, -0.75], [3, -0.5, 3.25]]],
                  [[[6, -18.5, 7.25], [4, -8.5, -1.75], [1, -4.5, 4.25]],
                   [[-3, 11.5, -13.75], [2, -8.5, 0.25], [2, 1.5, -9.75]],
                   [[5, 1.5, 5.25], [1, -7.5, -7.75], [1, 1.5, 2.25]]]], dtype=float),
    'flipped': np.array([[[[7, -0.5, 8.25], [-3, 5.5, 4.25], [4, 4.5, -5.75]],
                   [[12, -1.5, -1.75], [-1, 9.5, -0.75], [-3, 10.5, -3.75]],
                   [[-6, 19.5, -8.75], [2, -5.5, 4.25], [0, 4.5, -4.75]]],
                  [[[7, -21.5, 11.25], [-1, -8.5, 7.25], [-3, 6.5, -0.75]],
                   [[10, -1.5, 2.25], [5, 1.5, -2.75], [3, -0.5, -6.75]],
                   [[5, 3.5, -2.75], [3, -1.5, 0.25], [-3, 2.5, -2.75]]]], dtype=float),
    'mirrored': np.array([[[[5, -8.5, 6.25], [1, 7.5, -6.75], [-3, -3.5, 2.25]],
                   [[9, -9.5, 4.25], [4, 3.5, 0.25], [-10, 10.5, -3.75]],
                   [[-6, 7.5, 0.25], [4, 8.5, -5.75], [4, -5.5, -7.75]]],
                  [[[7, -3.5, 5.25], [4, -10.5, 8.25], [0, -1.5, -0.75]],
                   [[1, -9.5, 13.25], [4, 3.5, -5.75], [1, 7.5, -7.75]],
                   [[-1, -6.5, 2.25], [2, -1.5, 11.25], [-1, 16.5, -3.75]]]], dtype=float),
    'stride1': np.array([[[[-1, 3.5, -3.75], [1, 7.5, -6.75], [6, -4.5, 1.25], [-3, -3.5, 2.25], [2, -2.5, -2.75]],
                   [[-9, -3.5, -10.75], [3, 12.5, -5.75], [0, -7.5, 6.25], [-5, 13.5, -2.75], [3, 7.5, -5.75]],
                   [[-3, 3.5, -3.75], [4, 3.5, 0.25], [0, -4.5, 4.25], [-10, 10.5, -3.75], [-4, 9.5, -1.75]],
                   [[-1, 3.5, -19.75], [7, 5.5, 3.25], [3, -2.5, -0.75], [0, 6.5, 2.25], [6, 5.5, 4.25]],
                   [[-8, 20.5, -14.75], [4, 8.5, -5.75], [6, -10.5, -2.75], [4, -5.5, -7.75], [0, 1.5, -0.75]],
                   [[-4, 13.5, -4.75], [-2, 7.5, 8.25], [-4, 3.5, -0.75], [-2, 7.5, -7.75], [3, -0.5, 3.25]]],
                  [[[5, -13.5, 11.25], [4, -10.5, 8.25], [4, -4.5, 10.25], [0, -1.5, -0.75], [3, 1.5, -3.75]],
                   [[6, -18.5, 7.25], [7, -14.5, -6.75], [4, -8.5, -1.75], [3, 9.5, -11.75], [1, -4.5, 4.25]],
                   [[-7, 1.5, -3.75], [4, 3.5, -5.75], [-6, 2.5, -2.75], [1, 7.5, -7.75], [9, -8.5, 1.25]],
                   [[-3, 11.5, -13.75], [8, -0.5, -7.75], [2, -8.5, 0.25], [-5, 6.5, 2.25], [2, 1.5, -9.75]],
                   [[-12, 15.5, -5.75], [2, -1.5, 11.25], [-3, -1.5, -0.75], [-1, 16.5, -3.75], [2, 5.5, -1.75]],
                   [[5, 1.5, 5.25], [8, -9.5, 10.25], [1, -7.5, -7.75], [-1, 3.5, -5.75], [1, 1.5, 2.25]]]], dtype=float),
    'valid': np.array([[[[-9, -3.5, -10.75], [0, -7.5, 6.25]], [[-1, 3.5, -19.75], [3, -2.5, -0.75]]],
                  [[[6, -18.5, 7.25], [4, -8.5, -1.75]], [[-3, 11.5, -13.75], [2, -8.5, 0.25]]]], dtype=float),
}
_CONV_C = {"x": np.array([[[[1, 0, 1], [1, 0, 0], [0, -2, 1], [-2, 2, -1]], [[1, 2, 2], [-1, -1, 0], [0, -2, -2], [2, -2, -1]],
                   [[2, -1, -1], [-1, 2, 2], [2, 0, 0], [-2, -1, 2]],
                   [[2, -1, -2], [-2, 1, -1], [0, 0, 2], [2, -2, -1]]]], dtype=float),
           "W": np.array([[[[0, 0], [-2, 1], [1, 2]], [[2, 2], [-1, -1], [-1, -1]]],
                  [[[-1, 0], [2, -2], [2, 2]], [[0, 2], [2, -1], [1, 1]]]], dtype=float),
           "b": np.array([-1, 0.5], dtype=float), "stride": 1, "padding": 1}
_CONV_C_EXPECTED = {  # Keras's Conv2D gives the same "out" with these weights
    'out': np.array([[[[0, 3.5], [0, 4.5], [-5, 3.5], [0, -0.5], [3, -5.5]],
                   [[6, 3.5], [7, 3.5], [-7, 3.5], [-14, 0.5], [-14, 2.5]],
                   [[-6, 2.5], [-4, 3.5], [14, 7.5], [6, 0.5], [6, 2.5]],
                   [[1, 9.5], [-13, -16.5], [5, 8.5], [-7, 4.5], [-5, 5.5]],
                   [[6, 7.5], [-5, -8.5], [-6, -2.5], [8, 11.5], [2, -3.5]]]], dtype=float),
    'flipped': np.array([[[[0, 2.5], [0, 1.5], [6, 2.5], [-5, 1.5], [-6, -4.5]],
                   [[-2, 8.5], [-1, 0.5], [-2, 1.5], [7, -2.5], [9, 0.5]],
                   [[7, -2.5], [8, 16.5], [-17, -6.5], [-7, 9.5], [-11, 0.5]],
                   [[-7, -4.5], [9, 10.5], [1, -1.5], [4, 4.5], [6, 6.5]],
                   [[-9, -1.5], [-3, -0.5], [4, -1.5], [-7, 4.5], [-6, 5.5]]]], dtype=float),
    'mirrored': np.array([[[[0, 3.5], [0, 4.5], [-5, 3.5], [0, -0.5], [3, -5.5]],
                   [[6, 3.5], [7, 3.5], [-7, 3.5], [-14, 0.5], [-14, 2.5]],
                   [[-6, 2.5], [-4, 3.5], [14, 7.5], [6, 0.5], [6, 2.5]],
                   [[1, 9.5], [-13, -16.5], [5, 8.5], [-7, 4.5], [-5, 5.5]],
                   [[6, 7.5], [-5, -8.5], [-6, -2.5], [8, 11.5], [2, -3.5]]]], dtype=float),
    'stride1': np.array([[[[0, 3.5], [0, 4.5], [-5, 3.5], [0, -0.5], [3, -5.5]],
                   [[6, 3.5], [7, 3.5], [-7, 3.5], [-14, 0.5], [-14, 2.5]],
                   [[-6, 2.5], [-4, 3.5], [14, 7.5], [6, 0.5], [6, 2.5]],
                   [[1, 9.5], [-13, -16.5], [5, 8.5], [-7, 4.5], [-5, 5.5]],
                   [[6, 7.5], [-5, -8.5], [-6, -2.5], [8, 11.5], [2, -3.5]]]], dtype=float),
    'valid': np.array([[[[7, 3.5], [-7, 3.5], [-14, 0.5]], [[-4, 3.5], [14, 7.5], [6, 0.5]],
                   [[-13, -16.5], [5, 8.5], [-7, 4.5]]]], dtype=float),
}
_POOL_A = {"x": np.array([[[[0], [2], [3], [-1]], [[4], [3], [0], [4]], [[-1], [4], [1], [-1]], [[-2], [-3], [-2], [3]]]], dtype=float),
           "pool_size": 2, "stride": None}
_POOL_A_EXPECTED = {  # Keras's MaxPooling2D gives the same "out"
    'out': np.array([[[[4], [4]], [[4], [3]]]], dtype=float),
    'neg': np.array([[[[0], [1]], [[3], [2]]]], dtype=float),
    'stride_pool': np.array([[[[4], [4]], [[4], [3]]]], dtype=float),
    'stride1': np.array([[[[4], [3], [4]], [[4], [4], [4]], [[4], [4], [3]]]], dtype=float),
}
_POOL_B = {"x": np.array([[[[2, 4], [0, 0], [4, -2], [2, 4], [2, 3]], [[0, 0], [3, 3], [3, -1], [-4, -4], [3, -4]],
                   [[-2, 0], [-2, -2], [3, -4], [3, -3], [3, 3]], [[-3, -3], [-1, -3], [-1, 4], [3, -3], [-2, -1]],
                   [[2, -3], [-4, 2], [-3, -4], [4, 3], [-1, -3]]],
                  [[[-2, 3], [-1, 1], [-3, -1], [-3, 0], [2, -1]], [[-2, -2], [-2, 4], [-2, -1], [2, 0], [1, 3]],
                   [[0, -4], [3, -4], [1, 4], [4, 2], [2, -1]], [[3, 4], [-3, 0], [-3, 0], [-1, -3], [-3, 0]],
                   [[-2, -2], [-4, 2], [0, -2], [1, 2], [-4, -1]]]], dtype=float),
           "pool_size": 2, "stride": None}
_POOL_B_EXPECTED = {  # Keras's MaxPooling2D gives the same "out"
    'out': np.array([[[[3, 4], [4, 4]], [[-1, 0], [3, 4]]], [[[-1, 4], [2, 0]], [[3, 4], [4, 4]]]], dtype=float),
    'neg': np.array([[[[0, 0], [4, 4]], [[3, 3], [1, 4]]], [[[2, 2], [3, 1]], [[3, 4], [3, 3]]]], dtype=float),
    'stride_pool': np.array([[[[3, 4], [4, 4]], [[-1, 0], [3, 4]]], [[[-1, 4], [2, 0]], [[3, 4], [4, 4]]]], dtype=float),
    'stride1': np.array([[[[3, 4], [4, 3], [4, 4], [3, 4]], [[3, 3], [3, 3], [3, -1], [3, 3]],
                   [[-1, 0], [3, 4], [3, 4], [3, 3]], [[2, 2], [-1, 4], [4, 4], [4, 3]]],
                  [[[-1, 4], [-1, 4], [2, 0], [2, 3]], [[3, 4], [3, 4], [4, 4], [4, 3]],
                   [[3, 4], [3, 4], [4, 4], [4, 2]], [[3, 4], [0, 2], [1, 2], [1, 2]]]], dtype=float),
}
_POOL_C = {"x": np.array([[[[-2, -1], [-3, -4], [-3, -3], [4, -1], [1, 4]], [[-1, 1], [-3, -3], [-2, 0], [4, -1], [2, -4]],
                   [[-1, -1], [-2, -3], [-1, 3], [-2, 2], [3, -2]], [[2, 3], [3, -1], [-1, 4], [-4, 3], [4, -1]],
                   [[-2, 0], [4, 0], [-2, 1], [-2, -3], [0, -3]]]], dtype=float),
           "pool_size": 3, "stride": 2}
_POOL_C_EXPECTED = {  # Keras's MaxPooling2D gives the same "out"
    'out': np.array([[[[-1, 3], [4, 4]], [[4, 4], [4, 4]]]], dtype=float),
    'neg': np.array([[[[3, 4], [3, 4]], [[2, 3], [4, 3]]]], dtype=float),
    'stride_pool': np.array([[[[-1, 3]]]], dtype=float),
    'stride1': np.array([[[[-1, 3], [4, 3], [4, 4]], [[3, 4], [4, 4], [4, 4]], [[4, 4], [4, 4], [4, 4]]]], dtype=float),
}
_SIZE_ROWS = [[8, 3, 1, 'valid'], [8, 3, 1, 'same'], [8, 3, 2, 'valid'], [8, 3, 2, 'same'], [7, 3, 2, 1], [28, 5, 1, 2],
             [32, 4, 2, 1], [6, 3, 2, 0], [7, 2, 1, 'same'], [9, 4, 2, 'same'], [10, 2, 3, 'valid'], [13, 3, 3, 2]]
# Per row: the size, then the same call with padding 0, with stride 1, and with padding (k - 1) // 2 (the probes).
_SIZE_EXPECTED = [[6, 6, 6, 8], [8, 6, 8, 8], [3, 3, 6, 4], [4, 3, 8, 4], [4, 3, 7, 4], [28, 24, 28, 28], [16, 15, 31, 16],
                 [2, 2, 4, 3], [7, 6, 7, 6], [5, 3, 9, 4], [3, 3, 9, 3], [5, 4, 15, 5]]


# ============================================================================ Exercise 1: conv_output_size
def _size_row(rng, padding=None) -> list:
    n = int(rng.integers(4, 40))
    k = int(rng.integers(1, min(n, 7) + 1))
    s = int(rng.integers(1, 4))
    if padding is None:
        padding = ["valid", "same", int(rng.integers(0, 4))][int(rng.integers(0, 3))]
    return [n, k, s, padding]


class ConvOutputSize(Check):
    name = "conv_output_size"
    signature = "conv_output_size(n, kernel_size, stride, padding)"
    public_cases = (Case({"rows": _SIZE_ROWS}, _SIZE_EXPECTED,
                         "the table of sizes printed above the check, e.g. n=8, kernel_size=3, stride=2"),)

    def secret_inputs(self, rng):
        rows = [_size_row(rng) for _ in range(14)]
        # Strides that do not divide n + 2p - k, where floor and ceil differ, and 'same' with strides.
        rows += [[int(n), 3, 2, p] for n, p in zip(rng.choice([8, 10, 12, 14], 2, replace=False), [0, 1])]
        rows += [[int(rng.integers(9, 30)), int(rng.integers(2, 6)), int(rng.integers(2, 4)), "same"]]
        return [{"rows": rows}]

    def hidden_inputs(self, rng):
        # The kernel as large as the input, a 1x1 kernel, a stride larger than the kernel, an even kernel with 'same'.
        n = int(rng.integers(5, 12))
        return [{"rows": [[n, n, 1, "valid"], [n, 1, 1, "valid"], [n + 10, 2, 5, "valid"],
                          [n, 4, 1, "same"], [n, 2, 3, "same"], [n, 3, 2, int(rng.integers(1, 4))]]}]

    def run(self, subject, inputs):
        results = []
        for n, k, s, p in inputs["rows"]:
            main = subject(n, k, s, p)
            if isinstance(main, (bool, str, dict, list, tuple)) or main is None or np.ndim(main) != 0:
                results.append([main, None, None, None])
                continue
            probes = []
            for args in ((n, k, s, 0), (n, k, 1, p), (n, k, s, (k - 1) // 2)):
                try:
                    probes.append(float(subject(*args)))
                except Exception:  # noqa: BLE001 - a failing probe only disables a diagnosis
                    probes.append(None)
            results.append([float(main), *probes])
        return results

    def compare(self, inputs, got, expected):
        if not isinstance(got, list) or len(got) != len(inputs["rows"]):
            return f"{self.signature} could not be checked (the check expected one result per row)."
        for (n, k, s, p), row, want in zip(inputs["rows"], got, expected):
            call = f"conv_output_size({n}, {k}, stride={s}, padding={_padding_text(p)})"
            value, right = row[0], int(want[0])
            if isinstance(value, (bool, str, dict, list, tuple)) or value is None or np.ndim(value) != 0:
                return f"{call} should return one whole number, but returned {value!r}."
            value = float(value)
            if value == right:
                continue
            shown = f"{call} returned {fmt(value)}, expected {right}."
            if not value.is_integer():
                return (f"{shown} A size is a whole number of window positions: round down with integer "
                        "division, (n + 2p - k) // s + 1.")
            value = int(value)
            padded = p != "valid" and p != 0
            if p == "same" and value == n and s > 1:
                return (f"{shown} With stride 1, 'same' padding keeps the size n, but the stride still skips "
                        "positions: with stride s, 'same' gives ceil(n / s).")
            if p == "same" and value == int(want[3]) and k % 2 == 0:
                return (f"{shown} 'same' padding is not (k - 1) // 2 zeros on each side: with an even kernel "
                        "that is one short. 'same' is defined by its result, ceil(n / s), and Keras pads "
                        "unevenly (the extra zero at the bottom/right) to get there.")
            if s > 1 and value == int(want[2]):
                return f"{shown} That is the size for stride 1: the stride is ignored. Divide by s: (n + 2p - k) // s + 1."
            once = isinstance(p, int) and p > 0 and value == (n + p - k) // s + 1
            if padded and value == int(want[1]):
                if p == "same":
                    return (f"{shown} That is the 'valid' size: 'same' padding adds zeros around the input so "
                            "that the output has ceil(n / s) positions.")
                also = " (or counted once)" if once else ""
                return (f"{shown} The padding term is missing{also}: p zeros on each side make the input n + 2p "
                        "long, so the size is (n + 2p - k) // s + 1.")
            if value == right - 1:
                return (f"{shown} The + 1 is missing: the first window sits at position 0, and (n + 2p - k) // s "
                        "counts only the steps after it, so the size is (n + 2p - k) // s + 1.")
            if once:
                return (f"{shown} The padding was counted once: p zeros go on each side, so the padded length "
                        "is n + 2p, not n + p.")
            if value == right + 1 and p != "same" and (n + 2 * int(p if p != "valid" else 0) - k) % s:
                return (f"{shown} The division was rounded up: a window that would run past the edge does not "
                        "count, so round down (floor), (n + 2p - k) // s + 1, not ceil.")
            return (f"{shown} The size is (n + 2p - k) // s + 1 for 'valid' (p = 0) and an integer p, and "
                    "ceil(n / s) for 'same'.")
        return None


# ============================================================================ Exercise 2: conv2d
def _conv_case(rng, padding=None, stride=None, m=None) -> dict:
    H, Wd = int(rng.integers(4, 10)), int(rng.integers(4, 10))
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    kh, kw = min(kh, H), min(kw, Wd)
    if kh * kw == 1:
        kh = 2
    if padding is None:
        padding = ["valid", "same", int(rng.integers(1, 3))][int(rng.integers(0, 3))]
    return {"x": rng.normal(0, 1, (m or int(rng.integers(1, 3)), H, Wd, c_in)),
            "W": rng.normal(0, 1, (kh, kw, c_in, c_out)), "b": rng.uniform(0.5, 1.5, c_out) * rng.choice([-1, 1], c_out),
            "stride": int(stride or rng.integers(1, 4)), "padding": padding}


def _conv_description(inputs) -> str:
    x, W = np.shape(inputs["x"]), np.shape(inputs["W"])
    return f"x of shape {x}, W of shape {W}, stride={inputs['stride']}, padding={_padding_text(inputs['padding'])}"


class Conv2D(Check):
    name = "conv2d"
    signature = "conv2d(x, W, b, stride, padding)"
    public_cases = (
        Case(_CONV_A, _CONV_A_EXPECTED, "one 5x5 image, one 3x3 filter, stride 1, 'valid'"),
        Case(_CONV_B, _CONV_B_EXPECTED, "2 images of 6x5 with 2 channels, 3 filters of 3x2, stride 2, 'same'"),
        Case(_CONV_C, _CONV_C_EXPECTED, "one 4x4 image with 3 channels, 2 filters of 2x2, padding=1"),
    )

    def secret_inputs(self, rng):
        return [_conv_case(rng, "valid"), _conv_case(rng, "same", 2), _conv_case(rng, int(rng.integers(1, 3))),
                _conv_case(rng)]

    def hidden_inputs(self, rng):
        # A 1x1 kernel, a stride larger than the kernel, 'same' on an even size with stride 2 (uneven padding).
        one = _conv_case(rng, "valid", 1)
        one["W"] = rng.normal(0, 1, (1, 1, one["x"].shape[3], 2))
        one["b"] = rng.normal(0, 1, 2)
        far = _conv_case(rng, "valid", 3)
        far["W"] = rng.normal(0, 1, (2, 2, far["x"].shape[3], 1))
        far["b"] = rng.normal(0, 1, 1)
        uneven = {"x": rng.normal(0, 1, (2, 8, 6, 2)), "W": rng.normal(0, 1, (3, 4, 2, 3)),
                  "b": rng.normal(0, 1, 3), "stride": 2, "padding": "same"}
        return [one, far, uneven]

    def run(self, subject, inputs):
        x, W, b, s, p = (np.asarray(inputs["x"], dtype=float), np.asarray(inputs["W"], dtype=float),
                         np.asarray(inputs["b"], dtype=float), int(inputs["stride"]), inputs["padding"])
        flip = W[::-1, ::-1].copy()
        mirrored = _try(lambda: subject(x[:, ::-1, ::-1].copy(), flip.copy(), b.copy(), s, p))
        return {"out": _as_array(subject(x.copy(), W.copy(), b.copy(), s, p)),
                "flipped": _try(lambda: subject(x.copy(), flip.copy(), b.copy(), s, p)),
                "mirrored": None if mirrored is None or mirrored.ndim != 4 else mirrored[:, ::-1, ::-1].copy(),
                "stride1": _try(lambda: subject(x.copy(), W.copy(), b.copy(), 1, p)),
                "valid": _try(lambda: subject(x.copy(), W.copy(), b.copy(), s, "valid"))}

    def error_advice(self, inputs, error, detail):
        if "broadcast" in detail or "shape-mismatch" in detail or "shape mismatch" in detail:
            return ("A window has shape (m, kh, kw, c_in) and W has shape (kh, kw, c_in, c_out): contract the three "
                    "shared axes, np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2])), to get (m, c_out).")
        return ""

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} could not be checked."
        out, want = got.get("out"), np.asarray(expected["out"], dtype=np.float64)
        where = f"(for {_conv_description(inputs)})"
        if out is None or isinstance(out, (str, dict, list, tuple)):
            return f"{sig} should return a numpy array of shape {want.shape}, but returned {type(out).__name__}."
        out = np.asarray(out, dtype=np.float64)
        s, p = int(inputs["stride"]), inputs["padding"]
        if out.shape != want.shape:
            m, c_out = want.shape[0], want.shape[3]
            shown = f"{sig} returned shape {out.shape}, expected {want.shape} {where}."
            stride1 = expected.get("stride1")
            valid = expected.get("valid")
            if s > 1 and stride1 is not None and out.shape == np.shape(stride1):
                return (f"{shown} That is the shape for stride 1: the stride is ignored. Move the window s "
                        "positions at a time: output row i reads input rows i*s to i*s + kh - 1.")
            if p != "valid" and valid is not None and out.shape == np.shape(valid):
                return (f"{shown} That is the 'valid' shape: the padding is ignored. Pad the image with zeros "
                        "first (np.pad on the height and width axes only).")
            if out.ndim == 4 and out.shape[1] == c_out and out.shape[0] == m and out.shape[2:] == want.shape[1:3]:
                return f"{shown} The channels are first: Keras is channels-last, (m, H_out, W_out, c_out)."
            if out.ndim == 3 and out.shape == want.shape[1:]:
                return f"{shown} The batch axis is missing: x holds m images, return one feature map stack per image."
            if out.ndim == 4 and out.shape[:3] == want.shape[:3]:
                return (f"{shown} The last axis must have one feature map per filter, c_out = W.shape[3], "
                        "with each filter summing over all c_in input channels.")
            return (f"{shown} H_out = (H + 2p - kh) // s + 1 (and likewise W_out) for 'valid' (p = 0) or an integer "
                    "p; ceil(H / s) for 'same'. Use your conv_output_size.")
        if not np.all(np.isfinite(out)):
            return f"{sig} returned nan or inf values {where}."
        if _near(out, want):
            return None
        shown = f"{sig} returned {fmt(out)}, expected {fmt(want)} {where}."
        b = np.asarray(inputs["b"], dtype=np.float64)
        if _same_array(out, expected.get("flipped")):
            return (f"{shown} That is a true convolution: the kernel was flipped. A Conv2D layer computes a "
                    "cross-correlation: out[i, j] = sum over u, v, c of x[i*s + u, j*s + v, c] * W[u, v, c, :] + b, "
                    "with the kernel as it is (no [::-1]).")
        if _near(out, want - b):
            return f"{shown} The bias is missing: add b, one value per output channel, to every position."
        if p == "same" and _same_array(out, expected.get("mirrored")):
            return (f"{shown} The 'same' padding is split the wrong way. When the total padding is odd, Keras "
                    "puts the extra zero at the bottom and on the right: top = total // 2, bottom = total - top.")
        if s > 1 and expected.get("stride1") is not None:
            full = np.asarray(expected["stride1"], dtype=np.float64)
            # The same windows read one step apart; with 'same' the stride-1 padding can start one row/column later.
            shifts = [(dy, dx) for dy in (0, 1) for dx in (0, 1)
                      if full.shape[1] >= out.shape[1] + dy and full.shape[2] >= out.shape[2] + dx]
            if any(_near(out, full[:, dy:dy + out.shape[1], dx:dx + out.shape[2]]) for dy, dx in shifts):
                return (f"{shown} The windows moved one position at a time: the stride is ignored. Output (i, j) "
                        "reads the window that starts at row i*s and column j*s.")
        if _near(out, -want + 2 * b) or _near(out, want - 2 * b):
            return f"{shown} Check the sign and the number of times the bias b is added: once, with a plus."
        return (f"{shown} Each output value is sum over u, v, c of x[n, i*s + u, j*s + v, c] * W[u, v, c, k] + b[k], "
                "on the zero-padded image.")


# ============================================================================ Exercise 3: max_pool2d
def _pool_case(rng, pool_size, stride) -> dict:
    H, Wd = int(rng.integers(pool_size, 10)), int(rng.integers(pool_size, 10))
    return {"x": rng.normal(0, 1, (int(rng.integers(1, 3)), H, Wd, int(rng.integers(1, 4)))),
            "pool_size": int(pool_size), "stride": None if stride is None else int(stride)}


class MaxPool2D(Check):
    name = "max_pool2d"
    signature = "max_pool2d(x, pool_size, stride)"
    public_cases = (
        Case(_POOL_A, _POOL_A_EXPECTED, "one 4x4 image, 2x2 windows"),
        Case(_POOL_B, _POOL_B_EXPECTED, "2 images of 5x5 with 2 channels, 2x2 windows (the last row and column are dropped)"),
        Case(_POOL_C, _POOL_C_EXPECTED, "one 5x5 image with 2 channels, 3x3 windows with stride 2 (they overlap)"),
    )

    def secret_inputs(self, rng):
        return [_pool_case(rng, 2, None), _pool_case(rng, 3, None), _pool_case(rng, 2, 1), _pool_case(rng, 3, 2)]

    def hidden_inputs(self, rng):
        # 1x1 windows (the identity), and a stride larger than the window.
        return [_pool_case(rng, 1, None), _pool_case(rng, 2, 3)]

    def run(self, subject, inputs):
        x, p, s = np.asarray(inputs["x"], dtype=float), int(inputs["pool_size"]), inputs["stride"]
        return {"out": _as_array(subject(x.copy(), p, s)), "neg": _try(lambda: subject(-x, p, s)),
                "stride_pool": _try(lambda: subject(x.copy(), p, p)), "stride1": _try(lambda: subject(x.copy(), p, 1))}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} could not be checked."
        out, want = got.get("out"), np.asarray(expected["out"], dtype=np.float64)
        p, s = int(inputs["pool_size"]), inputs["stride"]
        where = f"(for x of shape {np.shape(inputs['x'])}, pool_size={p}, stride={s})"
        if out is None or isinstance(out, (str, dict, list, tuple)):
            return f"{sig} should return a numpy array of shape {want.shape}, but returned {type(out).__name__}."
        out = np.asarray(out, dtype=np.float64)
        if out.shape != want.shape:
            shown = f"{sig} returned shape {out.shape}, expected {want.shape} {where}."
            if s is None and np.shape(expected.get("stride1")) == out.shape and p > 1:
                return (f"{shown} That is the shape for stride 1. When stride is None the windows do not overlap: "
                        "the stride defaults to pool_size.")
            if s is not None and s != p and np.shape(expected.get("stride_pool")) == out.shape:
                return f"{shown} The stride argument is ignored: when it is given, the windows move stride positions."
            if out.ndim == 4 and out.shape[:3] == want.shape[:3] and out.shape[3] == 1 or out.ndim == 3 and out.shape == want.shape[:3]:
                return f"{shown} The channels were pooled together: pool each channel on its own, over height and width only."
            if out.ndim == 4 and out.shape[0] == want.shape[0] and out.shape[3] == want.shape[3] \
                    and all(a >= b for a, b in zip(out.shape[1:3], want.shape[1:3])):
                return (f"{shown} Windows that would run past the edge are dropped: the size is "
                        "(H - pool_size) // stride + 1, rounded down.")
            return f"{shown} Pool over the height and width only: the output size is (H - pool_size) // stride + 1."
        if _near(out, want):
            return None
        shown = f"{sig} returned {fmt(out)}, expected {fmt(want)} {where}."
        neg = got.get("neg")
        if neg is not None and _near(out, -np.asarray(neg, dtype=np.float64)):
            return (f"{shown} Those look like window means: that is average pooling. Max pooling keeps the largest "
                    "value of each window (.max over the window's rows and columns).")
        if _same_array(out, -np.asarray(expected["neg"], dtype=np.float64)):
            return f"{shown} That is the minimum of each window: max pooling keeps the largest value."
        if s is not None and s != p and _same_array(out, expected.get("stride_pool")):
            return f"{shown} The stride argument is ignored: the windows must move stride positions at a time."
        return (f"{shown} Each output value is the maximum of one pool_size x pool_size window of one channel; "
                "window (i, j) starts at row i*stride, column j*stride.")


# ============================================================================ Exercise 4: build_cnn
_POOLING = ("MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D")


_rebuild = rebuild_model


def _cnn_case(rng, input_shape, n_classes, m: int = 24) -> dict:
    """build_cnn's arguments, and a batch of images and labels ("_X", "_y") that only the grader sees."""
    return {"input_shape": tuple(int(d) for d in input_shape), "n_classes": int(n_classes),
            "_X": rng.uniform(0, 1, (m, *input_shape)), "_y": rng.integers(0, n_classes, m)}


def _describe_cnn(model) -> dict:
    import keras

    layers = [layer for layer in all_layers(model) if not isinstance(layer, keras.layers.InputLayer)]
    pooling = tuple(getattr(keras.layers, name) for name in _POOLING)
    return {"layers": [type(layer).__name__ for layer in layers],
            "n_conv": sum(isinstance(layer, keras.layers.Conv2D) for layer in layers),
            "n_pool": sum(isinstance(layer, pooling) for layer in layers),
            "n_params": int(model.count_params())}


class BuildCNN(Check):
    """The kernel reports the model; the grader rebuilds it, runs it on "_X" and computes its compiled loss on "_y"."""
    name = "build_cnn"
    signature = "build_cnn(input_shape, n_classes)"
    public_cases = (
        Case(_cnn_case(np.random.default_rng(7), (8, 8, 1), 10), None, "input_shape=(8, 8, 1), n_classes=10"),
        Case(_cnn_case(np.random.default_rng(8), (12, 10, 3), 4), None, "input_shape=(12, 10, 3), n_classes=4"),
    )

    def secret_inputs(self, rng):
        side = int(rng.integers(9, 17))
        return [_cnn_case(rng, (8, 8, 1), 10),
                _cnn_case(rng, (side, int(rng.integers(8, 17)), int(rng.integers(1, 4))), int(rng.integers(2, 7)))]

    def run(self, subject, inputs):
        shape = tuple(int(d) for d in inputs["input_shape"])
        return report_model(built_on_zeros(subject(input_shape=shape, n_classes=int(inputs["n_classes"])), shape))

    def error_advice(self, inputs, error, detail):
        if "incompatible" in detail or "expected shape" in detail or "expected axis" in detail:
            return (f"The model must accept images of shape input_shape = {tuple(inputs['input_shape'])}: start it "
                    "with keras.Input(shape=input_shape), not a fixed shape.")
        return ""

    def compare(self, inputs, got, expected):
        shape, n_classes = tuple(inputs["input_shape"]), int(inputs["n_classes"])
        sig = f"build_cnn(input_shape={shape}, n_classes={n_classes})"
        if not isinstance(got, dict):
            return f"{sig} could not be checked."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return f"{sig} returned None: end the function with `return model`."
            return f"{sig} returned a {got.get('kind')}, not a keras.Model."
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        facts = _describe_cnn(model)
        layers = ", ".join(facts["layers"])
        if not facts["n_conv"]:
            return (f"The model from {sig} has no Conv2D layer (layers: {layers}). This exercise asks for a "
                    "convolutional network: start with keras.layers.Conv2D(filters, 3, activation='relu').")
        if not facts["n_pool"]:
            return (f"The model from {sig} has no pooling layer (layers: {layers}). Put a "
                    "keras.layers.MaxPooling2D(2) after a convolution.")
        X = np.asarray(inputs["_X"], dtype="float32")
        y = np.asarray(inputs["_y"]).astype("int64")
        m = len(X)
        try:
            outputs = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the images is the student's to fix
            detail = error_text(exc)
            advice = self.error_advice(inputs, type(exc).__name__, detail)
            return f"The model from {sig} could not be run on a batch of {m} images of shape {shape} ({detail}). {advice}".rstrip()
        if outputs.shape != (m, n_classes):
            if outputs.ndim == 4:
                return (f"The model from {sig} maps a batch of images to outputs of shape {outputs.shape}, expected "
                        f"({m}, {n_classes}). A Dense layer on feature maps acts on the last axis only: put "
                        "keras.layers.Flatten() between the convolutional part and the Dense layers.")
            return (f"The model from {sig} maps a batch of {m} images to outputs of shape {outputs.shape}, expected "
                    f"({m}, {n_classes}): the last layer is Dense(n_classes). (Layers: {layers}.)")
        compiled = compile_summary(model)
        if not compiled.get("compiled"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer='adam', "
                    "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before returning it.")
        probabilities = is_probabilities(outputs)
        name = compiled.get("loss", "?")
        if probabilities and compiled.get("from_logits"):
            return (f"The model from {sig} ends in softmax, but its loss ({name}) was told from_logits=True, "
                    "so it would apply softmax a second time. Keep one of the two.")
        try:
            loss = compute_loss(model, X, y)
        except Exception as exc:  # noqa: BLE001 - a loss that cannot take integer labels is a finding
            return (f"The compiled loss of the model from {sig} ({name}) cannot take integer labels 0..{n_classes - 1} "
                    f"({error_text(exc)}). Use loss='sparse_categorical_crossentropy'.")
        target = cross_entropy(outputs, y.astype(int), from_logits=not probabilities)
        if not rel_close(float(loss), target, 1e-3):
            if not probabilities and not compiled.get("from_logits"):
                return (f"The outputs of the model from {sig} are not probabilities, but its loss ({name}) expects "
                        "them: end with Dense(n_classes, activation='softmax'), or give the loss from_logits=True.")
            return (f"The compiled loss of the model from {sig} ({name}) gives {float(loss):.4g} on the check's batch, "
                    f"not the cross-entropy of its outputs ({target:.4g}). Use loss='sparse_categorical_crossentropy'.")
        return None


# ============================================================================ Exercise 5: the trained CNN
def _images(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype="float32").reshape(-1, 8, 8, 1)


class TrainedCNN(Check):
    """Judged by a threshold: the CNN trained in the notebook must classify held-out digits.

    The kernel reports only the model. The grader classifies test-split digits perturbed with the
    run's seed (`heldout.digits_heldout`), in grader-only keys: the kernel sees no image, and a model
    that looks its inputs up in the public digits finds no exact match.
    """
    name = "trained_cnn"
    signature = "train_cnn(model, X_train, y_train)"

    @cached_property
    def public_cases(self):
        X, y = digits_heldout(np.random.default_rng(10), 150)
        return (Case({"_X": _images(X), "_labels": y}, None,
                     "150 test digits, each with a random brightness and a little pixel noise"),)

    def secret_inputs(self, rng):
        X, y = digits_heldout(rng, 300)
        return [{"_X": _images(X), "_labels": y}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped before keeping the model) is reported too

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return "The check cannot read what the trained model reported."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return ("digits_cnn is None: build_cnn or train_cnn is not implemented yet, or the training cell "
                        "above stopped with an error. Finish Exercises 4 and 5 and fix any error that cell shows.")
            return f"digits_cnn is a {got.get('kind')}, not a keras.Model: train_cnn must train the model it is given."
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The trained model digits_cnn cannot be checked: {exc}."
        if not _describe_cnn(model)["n_conv"]:
            return "The trained model has no Conv2D layer: build_cnn must build a convolutional network (Exercise 4)."
        too_big = over_budget(model, expected, "The trained model digits_cnn")
        if too_big:
            return too_big
        labels = np.asarray(inputs["_labels"]).astype(int)
        try:
            outputs = predict(model, inputs["_X"])
        except Exception as exc:  # noqa: BLE001
            return (f"The trained model could not classify a batch of digits of shape (m, 8, 8, 1) "
                    f"({error_text(exc)}).")
        if outputs.ndim != 2 or outputs.shape[0] != len(labels):
            return (f"The trained model returned outputs of shape {outputs.shape} for {len(labels)} digits, "
                    "expected one row of 10 class scores per digit.")
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == labels))
        if accuracy >= ACCURACY_THRESHOLD:
            return None
        shown = (f"The trained CNN classifies {accuracy:.1%} of {len(labels)} held-out digits correctly; "
                 f"at least {ACCURACY_THRESHOLD:.0%} is needed.")
        if accuracy < 0.2:
            return (f"{shown} That is close to guessing (10%), so the model was not trained: train_cnn must call "
                    "model.fit(X_train, y_train, ...) on the model it receives, for about 15 epochs.")
        return (f"{shown} It learned something but not enough: train for more epochs (about 15 with "
                "batch_size=32), and check that build_cnn's model is compiled with the Adam optimizer.")


conv_output_size = ConvOutputSize()
conv2d = Conv2D()
max_pool2d = MaxPool2D()
build_cnn = BuildCNN()
trained_cnn = TrainedCNN()

CHECKS = CheckSet("10_cnn", [conv_output_size, conv2d, max_pool2d, build_cnn, trained_cnn])
