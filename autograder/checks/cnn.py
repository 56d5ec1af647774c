"""Checks for 10_cnn: the output-size formula, a numpy conv2d and max_pool2d that match Keras, a CNN sized to a
parameter budget, and a CNN of the student's own design within a budget, trained to a held-out accuracy.

Public expected values are literals, computed once offline and checked against `keras.layers.Conv2D` and
`keras.layers.MaxPooling2D` given the same weights. The expected values never come from here (only the average
pooling of one diagnosis is computed here): to recognise a common mistake, `run` also calls the student's
function on a few transformed inputs (a flipped kernel, the image mirrored, stride 1, no padding), the
reference solution reports the same probes, and the diagnoses compare the student's main answer with the
reference's probes.

The two Keras parts are judged from the model itself (see `model_data`): the kernel reports only
`report_model(model)`, and the grader rebuilds it and computes its layers, compile settings, parameter count and
outputs; the trained CNN is judged on perturbed held-out digits in grader-only "_" keys (`heldout`).

Stated rules (part / rule / how it is checked). Found 45, checked 40, 5 suggestions only
(found/checked: Ex1 7/6, Ex2 9/8, Ex3 5/5, Ex4 15/15, Ex5 9/6).
  Ex1 conv_output_size / returns an int / a float, even a whole one, fails: "a float: the statement asks for an int"
  Ex1 / "valid" means p = 0 / values; the "+ 1 is missing" and generic formula messages
  Ex1 / "same" gives ceil(n / s) / values; "'same' keeps n whatever the stride", "(k - 1) // 2" messages
  Ex1 / an int p pads p zeros on each side / values; "padding term is missing", "counted once" messages
  Ex1 / windows past the edge do not count (floor) / values; "rounded up" when every row is the ceil formula
  Ex1 / the stride is honoured / values; "the stride is ignored" when the student's own stride-1 call agrees
  Ex1 / use integer arithmetic (// and -(-n // s)) / suggestion only (the int rule checks the result)
  Ex2 conv2d / returns (m, H_out, W_out, c_out) / shape messages (stride 1, 'valid', channels first, no batch)
  Ex2 / a cross-correlation, kernel not flipped / the "true convolution" message from the flipped-kernel probe
  Ex2 / sums over all input channels / values; the generic formula message
  Ex2 / adds b, one value per output channel / "the bias is missing", "sign and number of times" messages
  Ex2 / honours the stride / "the stride is ignored" (shape or subsampled stride-1 output)
  Ex2 / 'valid', 'same' (odd extra zero at the bottom and right) and an int p / values; "split the wrong way",
        "the padding is ignored" messages
  Ex2 / channels-last / "the channels are first"
  Ex2 / equals Keras's Conv2D with the same weights (float32 too) / within_scale; Keras and float32 alternatives
  Ex2 / pad once with np.pad, loop over output positions, np.tensordot / suggestion only (hint)
  Ex3 max_pool2d / the maximum of each window, channel by channel / "average pooling", "minimum",
        "pooled together" messages
  Ex3 / stride None means stride = pool_size / "defaults to pool_size"
  Ex3 / a given stride is honoured / "the stride argument is ignored"
  Ex3 / windows past the edge are dropped / "dropped"
  Ex3 / returns (m, H_out, W_out, c) / shape messages
  Ex4 build_cnn / returns a compiled keras.Model / "returned None", "not a keras.Model", "not compiled"
  Ex4 / an input of shape input_shape / built at other shapes: "keras.Input(shape=input_shape)"
  Ex4 / the layers are exactly Conv2D, MaxPooling2D, Flatten, Dense, in that order / "in that order"
  Ex4 / 3x3 filters / "not 3x3"
  Ex4 / stride 1 / "keep strides=1"
  Ex4 / keeps the height and width (padding='same') / "padding='valid' (Keras's default)"
  Ex4 / a ReLU on the convolution (activation or a ReLU layer) / "has no activation", "activation '...'"
  Ex4 / 2x2 max pooling, stride 2, default padding / "not 2x2 max pooling with stride 2"
  Ex4 / one Dense unit per class / "one unit per class"
  Ex4 / softmax output / "The Dense layer has no activation" or "activation '...'"
  Ex4 / Adam / "The optimizer is ..."
  Ex4 / learning rate 0.003 / "learning rate 0.001 (the default of optimizer='adam')"
  Ex4 / sparse categorical cross-entropy, not from logits / "The loss is ...", "second time"
  Ex4 / metrics=["accuracy"] / "accuracy metric"
  Ex4 / filters: the largest for which the model has at most max_params parameters, weights and biases together,
        exact budgets included / computed here from the arguments; named counting mistakes (biases, pooling,
        rounding up, channels, 'valid', < for <=) when only one of them gives the student's filters
  Ex5 build_and_train_cnn / returns the trained model / "returned a History", "is None"
  Ex5 / at least one Conv2D / "no Conv2D layer"
  Ex5 / Keras's own layers, Sequential or Functional / the grader's rebuild refuses anything else
  Ex5 / at most 1,000 parameters / "more than the 1,000 the statement allows"
  Ex5 / takes (m, 8, 8, 1), gives 10 class scores / "could not classify", "one row of 10 class scores"
  Ex5 / at least 93% of the grader's held-out digits / accuracy on perturbed test digits, with the build named as
        the cause when the model itself shows it (raw scores with a probability loss, softmax twice)
  Ex5 / learns only from the arrays it is given; the test split is the grader's / suggestion only: cannot be
        observed, but the grader judges on perturbed test digits and the budget defeats a stored copy of them
  Ex5 / compare choices with validation_split=0.2 / suggestion only
  Ex5 / training under about 30 s / suggestion only (the grader's cell timeout is 120 s)
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .compare import fmt, within_scale
from .core import Case, Check, CheckSet, Partial
from .heldout import digits_heldout
from .model_data import (ModelRejected, all_layers, built_on_zeros, call_failure, compile_summary,
                         is_probabilities, predict, rebuild_model, rel_close, report_model, with_activations)


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


def _rounds_up(rows, got) -> bool:
    """Every answer for 'valid' or an integer padding is ceil((n + 2p - k) / s) + 1, and one of them differs
    from the floor: the student rounded up, whatever else the rows show."""
    differs = False
    for (n, k, s, p), row in zip(rows, got):
        if p == "same":
            continue
        span = n + 2 * (0 if p == "valid" else int(p)) - k
        try:
            value = float(row[0])
        except (TypeError, ValueError):
            return False
        if value != -(-span // s) + 1:
            return False
        differs = differs or span % s != 0
    return differs


class ConvOutputSize(Check):
    name = "conv_output_size"
    signature = "conv_output_size(n, kernel_size, stride, padding)"
    expected_form = "one int for each call"
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
            # Integers travel as ints and anything else as a float: the statement asks for an int.
            whole = isinstance(main, (int, np.integer)) or isinstance(main, np.ndarray) and main.dtype.kind in "iu"
            results.append([int(main) if whole else float(main), *probes])
        return results

    def compare(self, inputs, got, expected):
        if not isinstance(got, list) or len(got) != len(inputs["rows"]) or \
                not all(isinstance(row, list) and len(row) == 4 for row in got):
            return self.unreadable(got)
        rounded_up = _rounds_up(inputs["rows"], got)
        float_call = None  # a right size returned as a float: said only when every size is right
        for (n, k, s, p), row, want in zip(inputs["rows"], got, expected):
            call = f"conv_output_size({n}, {k}, stride={s}, padding={_padding_text(p)})"
            value, right = row[0], int(want[0])
            if isinstance(value, (bool, str, dict, list, tuple)) or value is None or np.ndim(value) != 0:
                return f"{call} should return one whole number, but returned {value!r}."
            integer = type(value) is int
            value = float(value)
            if value == right:
                if not integer and float_call is None:
                    float_call = (call, value)
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
            # A probe is the student's own result for a changed argument: an answer that does not move when that
            # argument changes, and equals the right size for the changed call, ignores the argument.
            same_as = [probe is not None and float(probe) == value for probe in row[1:]]
            if p == "same" and value == int(want[3]) and same_as[2] and k % 2 == 0:
                return (f"{shown} 'same' padding is not (k - 1) // 2 zeros on each side: with an even kernel "
                        "that is one short. 'same' is defined by its result, ceil(n / s), and Keras pads "
                        "unevenly (the extra zero at the bottom/right) to get there.")
            if s > 1 and value == int(want[2]) and same_as[1]:
                return f"{shown} That is the size for stride 1: the stride is ignored. Divide by s: (n + 2p - k) // s + 1."
            once = isinstance(p, int) and p > 0 and value == (n + p - k) // s + 1
            if padded and value == int(want[1]) and same_as[0]:
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
            if rounded_up and value == right + 1:
                return (f"{shown} The division was rounded up: a window that would run past the edge does not "
                        "count, so round down (floor), (n + 2p - k) // s + 1, not ceil.")
            return (f"{shown} The size is (n + 2p - k) // s + 1 for 'valid' (p = 0) and an integer p, and "
                    "ceil(n / s) for 'same'.")
        if float_call is not None:
            call, value = float_call
            return (f"{call} returned {value!r}, a float: the statement asks for an int. A size is used in "
                    "range() and np.zeros(), so return an int: // on ints, or int(...) around math.ceil.")
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
    expected_form = "a numpy array of shape (m, H_out, W_out, c_out)"
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
            return self.unreadable(got)
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
        if _near(out, -want + 2 * b) or _near(out, want - 2 * b) or _near(out, want + b):
            return f"{shown} Check the sign and the number of times the bias b is added: once, with a plus."
        return (f"{shown} Each output value is sum over u, v, c of x[n, i*s + u, j*s + v, c] * W[u, v, c, k] + b[k], "
                "on the zero-padded image.")


# ============================================================================ Exercise 3: max_pool2d
def _pool_case(rng, pool_size, stride) -> dict:
    H, Wd = int(rng.integers(pool_size, 10)), int(rng.integers(pool_size, 10))
    return {"x": rng.normal(0, 1, (int(rng.integers(1, 3)), H, Wd, int(rng.integers(1, 4)))),
            "pool_size": int(pool_size), "stride": None if stride is None else int(stride)}


def _mean_pool(x, pool_size: int, stride: int) -> np.ndarray:
    """Average pooling of x, for one diagnosis only (the expected values come from the reference)."""
    x = np.asarray(x, dtype=np.float64)
    rows, cols = (x.shape[1] - pool_size) // stride + 1, (x.shape[2] - pool_size) // stride + 1
    return np.array([[x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size].mean(axis=(1, 2))
                      for j in range(cols)] for i in range(rows)]).transpose(2, 0, 1, 3)


class MaxPool2D(Check):
    name = "max_pool2d"
    signature = "max_pool2d(x, pool_size, stride)"
    expected_form = "a numpy array of shape (m, H_out, W_out, c)"
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
            return self.unreadable(got)
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
        if _near(out, _mean_pool(inputs["x"], p, p if s is None else int(s))):
            return (f"{shown} Those look like window means: that is average pooling. Max pooling keeps the largest "
                    "value of each window (.max over the window's rows and columns).")
        if _same_array(out, -np.asarray(expected["neg"], dtype=np.float64)):
            return f"{shown} That is the minimum of each window: max pooling keeps the largest value."
        if s is not None and s != p and _same_array(out, expected.get("stride_pool")):
            return f"{shown} The stride argument is ignored: the windows must move stride positions at a time."
        return (f"{shown} Each output value is the maximum of one pool_size x pool_size window of one channel; "
                "window (i, j) starts at row i*stride, column j*stride.")


# ============================================================================ Exercise 4: build_cnn on a budget
#: What the statement fixes for build_cnn (the filters are the student's to compute).
BUILD_LEARNING_RATE = 0.003
_SCCE = {"sparse_categorical_crossentropy", "sparsecategoricalcrossentropy"}
_ACCURACY = {"accuracy", "acc", "sparse_categorical_accuracy"}


def cnn_params(input_shape, n_classes: int, filters: int, *, padding: str = "same", pool: str = "floor",
               biases: bool = True, channels: bool = True) -> int:
    """Parameters of Conv2D(filters, 3, padding) -> MaxPooling2D(2) -> Flatten -> Dense(n_classes).

    The keyword arguments give the counts a common mistake makes (a 'valid' convolution, rounding the
    pooled size up, forgetting the biases), so that a message can recognise them.
    """
    H, W, c = (int(d) for d in input_shape)
    c = c if channels else 1
    if padding == "valid":
        H, W = H - 2, W - 2
    if pool == "floor":
        h, w = H // 2, W // 2
    elif pool == "ceil":
        h, w = -(-H // 2), -(-W // 2)
    else:  # "none": pooling left out of the count
        h, w = H, W
    bias = 1 if biases else 0
    return filters * (9 * c + bias) + (h * w * filters + bias) * n_classes


def largest_filters(input_shape, n_classes: int, max_params: int, **mistake) -> int:
    """The largest number of filters whose model (counted by `cnn_params`) has at most max_params parameters."""
    base = cnn_params(input_shape, n_classes, 0, **mistake)
    per_filter = cnn_params(input_shape, n_classes, 1, **mistake) - base
    return (int(max_params) - base) // per_filter if per_filter > 0 else 0


#: Mistakes in the count, recognised when a model's filters equal what the mistaken count gives, and only
#: that mistake gives it: (name, keyword arguments for largest_filters, advice).
_COUNT_MISTAKES = (
    ("no_bias", {"biases": False},
     "That is the number you get when the biases are left out of the count: each filter has one bias, and so "
     "does each unit of the Dense layer."),
    ("no_pool", {"pool": "none"},
     "That is the count for feature maps of the full image size: MaxPooling2D(2) halves the height and the "
     "width before Flatten, so the Dense layer sees (H // 2) * (W // 2) * filters values."),
    ("ceil_pool", {"pool": "ceil"},
     "That is the count with the pooled size rounded up: 2x2 pooling with Keras's 'valid' padding drops an odd "
     "last row or column, so the pooled size is H // 2 (rounded down)."),
    ("no_channels", {"channels": False},
     "That is the count for one input channel: each 3x3 filter has a weight for every input channel, "
     "3 * 3 * c_in of them."),
    ("valid", {"padding": "valid"},
     "That is the count for a convolution without padding: the statement's convolution keeps the height and "
     "width (padding='same'), so the maps are H x W before pooling."),
)


def _build_case(rng, input_shape, n_classes, *, exact: bool = False, filters: int | None = None) -> dict:
    """build_cnn's arguments; the budget lies between two filter counts, or on one exactly when `exact`."""
    shape = tuple(int(d) for d in input_shape)
    f = int(filters or rng.integers(3, 25))
    low, high = cnn_params(shape, n_classes, f), cnn_params(shape, n_classes, f + 1)
    budget = low if exact else int(rng.integers(low + 1, high))
    return {"input_shape": shape, "n_classes": int(n_classes), "max_params": int(budget)}


def _layers(model) -> list:
    import keras

    return [layer for layer in all_layers(model) if not isinstance(layer, keras.layers.InputLayer)]


def _pair(value) -> tuple:
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value), int(value))


def _architecture_problems(layers, n_classes: int) -> list[str]:
    """What differs from the stated Conv2D -> MaxPooling2D -> Flatten -> Dense(softmax), one message each."""
    folded = with_activations(layers)
    kinds = [type(layer).__name__ for layer, _ in folded]
    if kinds != ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]:
        return [f"The layers are {', '.join(kinds) or 'none'}; the statement asks for exactly Conv2D, MaxPooling2D, "
                "Flatten and Dense, in that order."]
    (conv, conv_activation), (pool, _), _, (dense, dense_activation) = folded
    conv_config, pool_config = conv.get_config(), pool.get_config()
    problems = []
    if _pair(conv_config["kernel_size"]) != (3, 3):
        problems.append("The Conv2D filters are not 3x3: kernel_size=3.")
    if _pair(conv_config["strides"]) != (1, 1):
        problems.append("The Conv2D layer moves more than one pixel at a time: keep strides=1.")
    if conv_config["padding"] != "same":
        problems.append("The Conv2D layer uses padding='valid' (Keras's default), which shrinks the maps by 2 "
                        "pixels: a convolution that keeps the height and width uses padding='same'.")
    activation = conv_activation
    if activation != "relu":
        shown = "no activation (linear)" if activation in ("linear", "") else f"activation {activation!r}"
        problems.append(f"The Conv2D layer has {shown}: the statement asks for a ReLU, activation='relu'.")
    pool_strides = pool_config["strides"] or pool_config["pool_size"]  # None means strides = pool_size
    if _pair(pool_config["pool_size"]) != (2, 2) or _pair(pool_strides) != (2, 2) or pool_config["padding"] != "valid":
        problems.append("The pooling is not 2x2 max pooling with stride 2 and Keras's default padding: "
                        "keras.layers.MaxPooling2D(2).")
    if int(dense.units) != n_classes:
        problems.append("The Dense layer must have one unit per class: Dense(n_classes), using the argument.")
    activation = dense_activation
    if activation != "softmax":
        shown = "no activation (it gives raw scores)" if activation in ("linear", "") else f"activation {activation!r}"
        problems.append(f"The Dense layer has {shown}: the statement asks for class probabilities, "
                        "activation='softmax'.")
    return problems


def _compile_problems(model) -> list[str]:
    compiled = compile_summary(model)
    if not compiled.get("compiled"):
        return ["The model is not compiled: call model.compile(...) with the statement's optimizer, loss and metric "
                "before returning it."]
    problems = []
    rate = compiled.get("learning_rate")
    if compiled.get("optimizer") != "Adam":
        problems.append(f"The optimizer is {compiled.get('optimizer')}: the statement asks for Adam, "
                        f"keras.optimizers.Adam(learning_rate={BUILD_LEARNING_RATE:g}).")
    elif rate is None or not rel_close(float(rate), BUILD_LEARNING_RATE, 1e-3):
        default = (" (the default of optimizer='adam')" if rate is not None and rel_close(float(rate), 1e-3, 1e-3)
                   else "")
        shown = "a schedule" if rate is None else f"learning rate {float(rate):.3g}{default}"
        problems.append(f"Adam has {shown}: the statement asks for learning_rate={BUILD_LEARNING_RATE:g}, "
                        f"keras.optimizers.Adam(learning_rate={BUILD_LEARNING_RATE:g}).")
    loss = str(compiled.get("loss", "")).lower()
    if loss not in _SCCE:
        hint = (" categorical_crossentropy expects one-hot labels; the labels here are integers."
                if "categorical" in loss else "")
        problems.append(f"The loss is {compiled.get('loss')!r}: integer labels and probabilities take "
                        f"loss='sparse_categorical_crossentropy'.{hint}")
    elif compiled.get("from_logits"):
        problems.append("The loss is told from_logits=True, but the model ends in softmax, so the loss would apply "
                        "softmax a second time: keep from_logits=False (the default).")
    if not any(str(name).lower() in _ACCURACY for name in compiled.get("metrics") or []):
        problems.append("The model is not compiled with the accuracy metric: metrics=['accuracy'].")
    return problems


def _filters_problem(layers, inputs) -> str | None:
    """None when the model's filters are the largest for which the statement's network fits the budget, else what
    is wrong, with its cause when one counting mistake, and only one, gives the model's filters."""
    shape, n_classes, budget = tuple(inputs["input_shape"]), int(inputs["n_classes"]), int(inputs["max_params"])
    shown = bool(inputs.get("_public"))
    right = largest_filters(shape, n_classes, budget)
    convs = [layer for layer in layers if type(layer).__name__ == "Conv2D"]
    if len(convs) != 1:
        return "The filters cannot be judged without exactly one Conv2D layer."
    got = int(convs[0].filters)
    if got == right:  # other layers that cost more than the statement's are the layers requirement's to name
        return None
    if shown:
        head = (f"With filters={got} the statement's network has {cnn_params(shape, n_classes, got):,} parameters "
                f"(max_params={budget:,}); the largest number of filters that fits is {right}.")
    elif got > right:
        head = "The model has too many filters: with them, the statement's network has more than max_params parameters."
    else:
        head = ("The model has too few filters: one more would still fit within max_params, and filters must be the "
                "largest that fits.")
    matches = [advice for _, mistake, advice in _COUNT_MISTAKES
               if largest_filters(shape, n_classes, budget, **mistake) == got]
    if len(matches) == 1:
        return f"{head} {matches[0]}"
    if got == right - 1 and cnn_params(shape, n_classes, right) == budget:
        return (f"{head} The budget is 'at most' max_params: a model with exactly max_params parameters fits, "
                "so use <=, not <.")
    return (f"{head} A Conv2D layer has 3 * 3 * c_in * filters weights and filters biases; the Dense layer has "
            "(H // 2) * (W // 2) * filters weights per class and one bias per class.")


class BuildCNN(Check):
    """The kernel reports the model; the grader rebuilds it and checks every stated setting and the budget.

    Three separable requirements (`Partial`): the stated layers and activations (a quarter of the points), the
    stated compile settings (a quarter), and the filters (half: the largest count within max_params, computed
    here from the arguments, never taken from the reference's report)."""
    name = "build_cnn"
    signature = "build_cnn(input_shape, n_classes, max_params)"
    expected_form = "a compiled keras.Model"
    public_cases = (
        Case({"input_shape": (8, 8, 1), "n_classes": 10, "max_params": 1000, "_public": True}, None,
             "input_shape=(8, 8, 1), n_classes=10, max_params=1000"),
        Case({"input_shape": (9, 7, 1), "n_classes": 5, "max_params": 552, "_public": True}, None,
             "input_shape=(9, 7, 1), n_classes=5, max_params=552 (odd sizes)"),
        Case({"input_shape": (12, 10, 3), "n_classes": 4, "max_params": 2000, "_public": True}, None,
             "input_shape=(12, 10, 3), n_classes=4, max_params=2000 (3 channels)"),
        Case({"input_shape": (7, 9, 2), "n_classes": 3, "max_params": 1103, "_public": True}, None,
             "input_shape=(7, 9, 2), n_classes=3, max_params=1103 (20 filters fit exactly)"),
    )

    def secret_inputs(self, rng):
        odd = (int(rng.choice([7, 9, 11, 13])), int(rng.integers(6, 15)), int(rng.integers(1, 4)))
        even = (int(rng.choice([8, 10, 12, 14, 16])), int(rng.choice([8, 10, 12])), int(rng.integers(1, 4)))
        return [_build_case(rng, (8, 8, 1), 10), _build_case(rng, odd, int(rng.integers(2, 8))),
                _build_case(rng, even, int(rng.integers(2, 8)))]

    def hidden_inputs(self, rng):
        # A budget the model fits exactly, and one that leaves room for a single filter.
        shape = (int(rng.integers(6, 14)), int(rng.integers(6, 14)), int(rng.integers(1, 4)))
        return [_build_case(rng, shape, int(rng.integers(2, 8)), exact=True),
                _build_case(rng, (8, 8, 1), int(rng.integers(2, 11)), filters=1)]

    def run(self, subject, inputs):
        shape = tuple(int(d) for d in inputs["input_shape"])
        model = subject(input_shape=shape, n_classes=int(inputs["n_classes"]), max_params=int(inputs["max_params"]))
        return report_model(built_on_zeros(model, shape))

    def error_advice(self, inputs, error, detail):
        if "incompatible" in detail or "expected shape" in detail or "expected axis" in detail:
            return ("The model must accept images of shape input_shape: start it with keras.Input(shape=input_shape), "
                    "not a fixed shape.")
        return ""

    def compare(self, inputs, got, expected):
        shape, n_classes = tuple(int(d) for d in inputs["input_shape"]), int(inputs["n_classes"])
        sig = f"build_cnn(input_shape={shape}, n_classes={n_classes}, ...)" if inputs.get("_public") \
            else "build_cnn(input_shape, n_classes, max_params)"
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return f"{sig} returned None: end the function with `return model`."
            return f"{sig} returned a {got.get('kind')}, not a keras.Model."
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        try:
            outputs = predict(model, np.zeros((2, *shape), dtype="float32"))
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the images is the student's to fix
            advice = self.error_advice(inputs, type(exc).__name__, str(exc))
            return (f"The model from {sig} could not be run on a batch of images of shape input_shape: "
                    f"{call_failure(exc)}. {advice}").rstrip()
        layers = _layers(model)
        architecture = _architecture_problems(layers, n_classes)
        if not architecture and outputs.shape != (2, n_classes):
            shown = f" (shape {outputs.shape} for 2 images)" if inputs.get("_public") else ""
            architecture = [f"The model does not give one row of n_classes probabilities per image{shown}."]
        compiling = _compile_problems(model)
        filters = _filters_problem(layers, inputs)
        # Half the points are for the stated layers and compile settings (a quarter each), half for the filters.
        weighted = [(not architecture, 1, " ".join(architecture)), (not compiling, 1, " ".join(compiling)),
                    (filters is None, 2, filters or "")]
        earned = sum(weight for met, weight, _ in weighted if met)
        if earned == 4:
            return None
        unmet = " ".join(message for met, _, message in weighted if not met)
        return Partial(earned, 4, f"The model from {sig}: {unmet}")


# ============================================================================ Exercise 5: a CNN of your own design
#: The stated budget of Exercise 5's CNN, and the held-out accuracy it must reach.
MAX_TRAINED_PARAMS = 1000
ACCURACY_THRESHOLD = 0.93
#: How many perturbed test digits the grader classifies (the whole test split: a tighter estimate).
HELDOUT_DIGITS = 450


def _images(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype="float32").reshape(-1, 8, 8, 1)


def _build_cause(model, outputs) -> str:
    """A build mistake that keeps a classifier from learning, named only on evidence in the model itself."""
    compiled = compile_summary(model)
    if not compiled.get("compiled"):
        return ""
    loss, from_logits = str(compiled.get("loss", "")).lower(), bool(compiled.get("from_logits"))
    probabilities = is_probabilities(outputs)
    if "crossentropy" not in loss.replace("_", ""):
        return (f" The cause is in the build, not the training: the model is compiled with loss "
                f"{compiled.get('loss')!r}; a classifier with integer labels learns with "
                "loss='sparse_categorical_crossentropy'.")
    if not probabilities and not from_logits:
        return (" The cause is in the build, not the training: the last layer gives raw scores (no softmax), but the "
                "loss expects probabilities. End with Dense(10, activation='softmax'), or give the loss "
                "from_logits=True.")
    if probabilities and from_logits:
        return (" The cause is in the build, not the training: the model ends in softmax and its loss is told "
                "from_logits=True, so softmax is applied twice. Keep one of the two.")
    return ""


class TrainedCNN(Check):
    """Judged by a threshold: the student's own CNN, within the stated budget, must classify held-out digits.

    The kernel reports only the model. The grader classifies test-split digits perturbed with the
    run's seed (`heldout.digits_heldout`), in grader-only keys: the kernel sees no image, and a model
    that looks its inputs up in the public digits finds no exact match. The budget, stated in the
    exercise, also refuses a model that stores the public digits as prototypes.
    """
    name = "trained_cnn"
    signature = "build_and_train_cnn(X_train, y_train)"
    expected_form = "a trained keras.Model"

    @cached_property
    def public_cases(self):
        X, y = digits_heldout(np.random.default_rng(10), HELDOUT_DIGITS)
        return (Case({"_X": _images(X), "_labels": y}, None,
                     f"{len(y)} test digits, each with a random brightness and a little pixel noise"),)

    def secret_inputs(self, rng):
        X, y = digits_heldout(rng, HELDOUT_DIGITS)
        return [{"_X": _images(X), "_labels": y}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped before keeping the model) is reported too

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            kind = got.get("kind")
            if kind == "NoneType":
                return ("digits_cnn is None: build_and_train_cnn is not implemented yet, returned None, or the "
                        "training cell above stopped with an error. Return the trained model, and fix any error "
                        "that cell shows.")
            if kind == "History":
                return ("build_and_train_cnn returned a History, not the model: model.fit trains the model in place "
                        "and returns its History. Return the model itself.")
            return f"digits_cnn is a {kind}, not a keras.Model: build_and_train_cnn must return the trained model."
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The trained model digits_cnn cannot be checked: {exc}."
        if not any(type(layer).__name__ == "Conv2D" for layer in all_layers(model)):
            return ("The trained model has no Conv2D layer: the statement asks for a convolutional network, with at "
                    "least one keras.layers.Conv2D.")
        n_params = int(model.count_params())
        if n_params > MAX_TRAINED_PARAMS:
            return (f"The trained model has {n_params:,} parameters, more than the {MAX_TRAINED_PARAMS:,} the "
                    "statement allows. Most of a small CNN's parameters sit in the Dense layer after Flatten: fewer filters, "
                    "or more pooling before Flatten, shrink it.")
        labels = np.asarray(inputs["_labels"]).astype(int)
        try:
            outputs = predict(model, inputs["_X"])
        except Exception as exc:  # noqa: BLE001
            return (f"The trained model could not classify a batch of digits of shape (m, 8, 8, 1): "
                    f"{call_failure(exc)}. Start it with keras.Input(shape=(8, 8, 1)).")
        if outputs.shape != (len(labels), 10):
            return (f"The trained model returned outputs of shape {outputs.shape} for {len(labels)} digits, "
                    "expected one row of 10 class scores per digit: end with Dense(10).")
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == labels))
        if accuracy >= ACCURACY_THRESHOLD:
            return None
        shown = (f"The trained CNN classifies {accuracy:.1%} of {len(labels)} held-out digits correctly; "
                 f"at least {ACCURACY_THRESHOLD:.0%} is needed.")
        cause = _build_cause(model, outputs)
        if cause:
            return shown + cause
        if accuracy < 0.2:
            return (f"{shown} That is close to guessing (10%), so the model was hardly trained: call "
                    "model.fit(X_train, y_train, ...) on the model you return.")
        return (f"{shown} It learned something but not enough. Compare your choices on a validation split "
                "(validation_split=0.2): more epochs, a larger learning rate, or the budget spent differently.")


conv_output_size = ConvOutputSize()
conv2d = Conv2D()
max_pool2d = MaxPool2D()
build_cnn = BuildCNN()
trained_cnn = TrainedCNN()

CHECKS = CheckSet("10_cnn", [conv_output_size, conv2d, max_pool2d, build_cnn, trained_cnn])
