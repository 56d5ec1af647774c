"""Checks for 08_dropout: inverted dropout in numpy (forward, expectation, inference, backward), a network
trained with classic dropout converted to Keras's inverted Dropout, and a dropout rate chosen by validation.

The numpy parts fix how the mask is drawn (``keep = rng.random(x.shape) >= rate``) so that a
correct answer is reproducible from the generator's seed. Diagnoses work back from the expected
mask and output; nothing here computes dropout the way the exercise asks.

The Keras parts are judged from the models themselves (see `model_data`): the kernel reports only
`report_model(model)` for each network, and the grader rebuilds them and computes every fact (layers,
Dropout rates, compile settings, predictions, accuracies) on arrays in grader-only "_" keys. The chosen
rate is judged on fresh samples of the same task drawn with the run's seed (`heldout_validation`),
never on the validation arrays the notebook has.

Stated rules (part / rule / how it is checked). Found 27, checked 23, suggestions only 4.
- dropout_forward / return the pair (out, keep) / `_pair_problem` (None, one value, other lengths)
- dropout_forward / out has the shape of x / `compare_array` shape message
- dropout_forward / draw the mask as rng.random(x.shape) >= rate / exact mask values; diagnoses for a mask
  kept with probability rate, for the global np.random generator (the kernel seeds it, so its mask is known)
- dropout_forward / draw the mask once / diagnosis "the generator's second draw"
- dropout_forward / divide the kept units by 1 - rate / values; diagnoses (no rescaling, times rate, / rate,
  times 1 - rate)
- dropout_forward / keep is the boolean mask of the kept units / inverted-mask message; dtype must be bool
  ("a float mask" message), shape of x
- dropout_forward / rate in [0, 1): rate 0 keeps everything / hidden case rate=0
- dropout_forward / about 5 lines / suggestion only
- dropout_expectation / the mean over many draws comes back to x, a share 1 - rate survives / statistics
  over 4000-6000 draws, diagnoses by ratio and share
- dropout_inference / with training=False, out is x unchanged / values (float32 accuracy); diagnoses
  (classic scaling, 1 / (1 - rate), units dropped)
- dropout_inference / with training=False, keep is None / "a mask instead of None" message (Partial, 1 of 3)
- dropout_inference / with training=False, do not touch rng / the kernel draws the generator's next number
  after the call; it must be the seed's first (Partial, 1 of 3)
- dropout_backward / dout * keep / (1 - rate), the shape of dout / values, diagnoses (not scaled, inverted
  mask, no mask, times rate, times 1 - rate, / rate)
- dropout_backward / one line / suggestion only
- to_inverted_dropout / return a keras.Model of built-in layers / `_reported_model` (None, not a model,
  refused configs)
- to_inverted_dropout / two hidden ReLU layers and a sigmoid output, the colleague's units / the predictions
  (a linear output gets its own message); Activation or Rescaling layers are allowed
- to_inverted_dropout / Dropout(rate) after each hidden layer, none elsewhere / structure requirement
  (Partial, 1 of 3): missing, misplaced, 1 - rate (keep probability), other rates
- to_inverted_dropout / at inference the colleague's test-time predictions / predictions on a grader-only
  batch (Partial, 1 of 3); diagnoses by variant (unscaled, W1 and W2, biases too, divided, times rate,
  W2 only, W3 only, all kernels), named only when one variant alone matches
- to_inverted_dropout / do not change the arrays in classic_weights / the kernel compares them after the call
  (Partial, 1 of 3)
- to_inverted_dropout / about 12 lines; Sequential or Functional / suggestion only
- select_rate / return (best_rate, models), models a dict rate -> network / shape messages
- select_rate / one network per rate of RATES / the dict's keys
- select_rate / each built with dropout_net(n_features, rate) / structure of each rebuilt model (Dense 32 relu,
  Dropout(rate), Dense 32 relu, Dropout(rate), Dense 1 sigmoid); a wrong network scores 0
- select_rate / each trained with fit_model, one network per rate / each rebuilt model compiled with Adam,
  learning rate 0.005, binary cross-entropy; no two networks with the same weights; else 0
- select_rate / best_rate has the highest validation accuracy, dropout off / judged on fresh samples: the
  chosen network within CHOICE_MARGIN of the best of the student's own networks (Partial, 1 of 2 kept);
  "training accuracy", "smallest gap" and "lowest accuracy" named only when one of them alone explains it
- select_rate / best_rate is one of RATES / message
- select_rate / call keras.utils.set_random_seed(0) before each build; print the table / suggestion only
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .compare import close, compare_array, fmt, matches
from .core import Case, Check, CheckSet, Partial, requirements
from .model_data import (built_on_zeros, compile_summary, error_text, rebuild_model, ModelRejected, all_layers,
                         predict, report_model)

#: The rates select_rate tries (the notebook passes the same list).
RATES = (0.0, 0.5, 0.9)
#: The chosen network's validation accuracy may trail the best of the student's networks by this much on the
#: grader's fresh samples (HELDOUT_SIZE of them). Measured on the reference's networks over 40 draws: the rate-0.5
#: network beats the better of the two others by 0.037 to 0.07 (mean 0.055, standard deviation 0.007).
CHOICE_MARGIN = 0.015
HELDOUT_SIZE = 3000


def overfitting_task(seed: int = 0, n_train: int = 200, n_val: int = 1000, n_features: int = 10,
                     n_informative: int = 5, label_noise: float = 0.15):
    """A small noisy task that a 2x32 ReLU network overfits: (X_train, y_train, X_val, y_val).

    The label is the sign of a linear function of the first `n_informative` features, and
    `label_noise` of the labels are flipped, so a network can only reach 100% on the training
    set by memorising noise. 200 training samples make that memorising quick.
    """
    rng, X, w = _task_rule(seed, n_train + n_val, n_features, n_informative)
    y = _noisy_labels(X, w, rng, label_noise)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _task_rule(seed: int, n: int, n_features: int, n_informative: int):
    """The task's generator after drawing its n samples and its rule w (the order overfitting_task draws them)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, n_features)).astype("float32")
    w = np.zeros(n_features)
    w[:n_informative] = rng.normal(0.0, 1.0, n_informative)
    return rng, X, w


def _noisy_labels(X: np.ndarray, w: np.ndarray, rng: np.random.Generator, label_noise: float) -> np.ndarray:
    y = (X @ w > 0).astype("int64")
    flip = rng.random(len(X)) < label_noise
    y[flip] = 1 - y[flip]
    return y


def heldout_validation(rng: np.random.Generator, n: int = 1000, seed: int = 0, n_train: int = 200,
                       n_val: int = 1000, n_features: int = 10, n_informative: int = 5,
                       label_noise: float = 0.15):
    """(X, y): `n` new samples of overfitting_task(seed)'s task (same rule w, same label noise), drawn from `rng`.

    The grader judges the trained networks on these, drawn with the run's own generator: they are
    not the validation arrays the notebook trained next to, and no kernel can know them.
    """
    _, _, w = _task_rule(seed, n_train + n_val, n_features, n_informative)
    X = rng.normal(0.0, 1.0, (n, n_features)).astype("float32")
    return X, _noisy_labels(X, w, rng, label_noise)


# ----------------------------------------------------------------------------- shared helpers
_MASK_RULE = "keep = rng.random(x.shape) >= rate"


def _global_seed(inputs: dict) -> int:
    """The seed the kernel gives numpy's global generator before a call, so that a mask drawn from
    np.random instead of `rng` can be recognised."""
    return (int(inputs["seed"]) + 1) % 2**32


def _pair(result) -> dict:
    """Plain data for an (out, keep) pair returned by dropout_forward."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"pair": False, "kind": type(result).__name__,
                "length": len(result) if isinstance(result, (tuple, list)) else None}
    out, keep = result
    report = {"pair": True, "out": np.asarray(out, dtype=np.float64), "keep_none": keep is None}
    if keep is not None:
        keep = np.asarray(keep)
        report["keep"] = keep != 0
        report["keep_dtype"] = str(keep.dtype)
    return report


def _pair_problem(sig: str, got) -> str | None:
    if not isinstance(got, dict):
        return f"{sig} returned something the check cannot read."
    if not got.get("pair"):
        if got.get("kind") == "NoneType":
            return f"{sig} returned None: end the function with `return out, keep`."
        if got.get("length") is not None:
            return f"{sig} should return a pair (out, keep), but returned {got['length']} values."
        return f"{sig} should return a pair (out, keep), but returned a single {got.get('kind')}."
    return None


def _forward_case(rng: np.random.Generator, shape: tuple, rate: float) -> dict:
    return {"x": rng.normal(0.0, 2.0, shape), "rate": float(rate), "seed": int(rng.integers(0, 2**31))}


def _rate(rng: np.random.Generator) -> float:
    """A rate in the usual range, kept away from 0.5 so that "keep with probability rate" shows."""
    return float(round(rng.choice([rng.uniform(0.15, 0.4), rng.uniform(0.6, 0.75)]), 3))


# ----------------------------------------------------------------------------- Exercise 1: forward
def _second_draw(inputs: dict) -> np.ndarray:
    """The mask of the generator's second draw of x's shape (an answer that drew twice)."""
    rng = np.random.default_rng(int(inputs["seed"]))
    shape = np.shape(inputs["x"])
    rng.random(shape)
    return rng.random(shape) >= float(inputs["rate"])


def _global_draw(inputs: dict) -> np.ndarray:
    """The mask np.random.random(x.shape) >= rate gives after the kernel seeded numpy's global generator."""
    return np.random.RandomState(_global_seed(inputs)).random_sample(np.shape(inputs["x"])) >= float(inputs["rate"])


def _forward_diagnoses(inputs: dict, keep: np.ndarray) -> list:
    x, rate = np.asarray(inputs["x"], dtype=np.float64), float(inputs["rate"])
    drop = ~keep
    scaled = x / (1 - rate)
    return [
        (lambda g, e, i: close(g, x * keep),
         "Dropout without rescaling: the kept units must be divided by (1 - rate), so that the expected "
         "activation stays equal to x. Inverted dropout does that scaling during training."),
        (lambda g, e, i: close(g, x * keep * rate),
         "The kept units were multiplied by rate. Scale them by 1 / (1 - rate): rate is the fraction dropped, "
         "(1 - rate) the fraction kept."),
        (lambda g, e, i: close(g, x * keep / max(rate, 1e-12)),
         "The kept units were divided by rate. Divide by (1 - rate), the probability of keeping a unit."),
        (lambda g, e, i: close(g, x * keep * (1 - rate)),
         "The kept units were multiplied by (1 - rate): that is classic dropout's test-time scaling. Inverted "
         "dropout divides by (1 - rate) during training instead."),
        (lambda g, e, i: any(close(g, x * drop * s) for s in (1.0, 1 / (1 - rate), 1 / max(rate, 1e-12), rate)),
         f"The mask is inverted: a unit is kept with probability rate. rate is the probability of DROPPING a "
         f"unit, so keep it when the random number is at least rate: {_MASK_RULE}."),
        (lambda g, e, i: close(g, x) or close(g, scaled),
         "Nothing was dropped: with training=True, multiply x by the random mask."),
        (lambda g, e, i: close(g, scaled * _global_draw(i)),
         f"The mask comes from numpy's global generator (np.random), not from the generator `rng` the function "
         f"is given: draw it as {_MASK_RULE}, so that the same seed always gives the same mask."),
        (lambda g, e, i: close(g, scaled * _second_draw(i)),
         f"The mask is the generator's second draw: the function drew from rng twice. Draw it once, "
         f"{_MASK_RULE}, and use that one mask for out and for keep."),
        (lambda g, e, i: not np.array_equal(g == 0, e == 0) and close(g[g != 0], scaled[g != 0]),
         f"The kept units are scaled correctly, but the dropped units are not the ones the check expects. Draw the mask "
         f"exactly as {_MASK_RULE}, once, from the generator `rng` you are given, so that the same seed always "
         "gives the same mask."),
    ]


class DropoutForward(Check):
    name = "dropout_forward"
    signature = "dropout_forward(x, rate, rng, training=True)"
    expected_form = "a pair (out, keep) of arrays with the shape of x"
    public_cases = (
        Case({"x": np.array([[1.0, -2.0, 3.0, 0.5], [0.25, 4.0, -1.5, 2.0]]), "rate": 0.4, "seed": 0},
             {"pair": True, "keep_none": False,
              "out": np.array([[1.6666666666666667, -0.0, 0.0, 0.0],
                               [0.4166666666666667, 6.666666666666667, -2.5, 3.3333333333333335]]),
              "keep": np.array([[True, False, False, False], [True, True, True, True]]), "keep_dtype": "bool"},
             "x of shape (2, 4), rate=0.4, rng = np.random.default_rng(0)"),
        Case({"x": np.array([0.5, 1.0, 1.5, 2.0, -0.5, -1.0, -1.5, -2.0]), "rate": 0.2, "seed": 42},
             {"pair": True, "keep_none": False,
              "out": np.array([0.625, 1.25, 1.875, 2.5, -0.0, -1.25, -1.875, -2.5]),
              "keep": np.array([True, True, True, True, False, True, True, True]), "keep_dtype": "bool"},
             "x of shape (8,), rate=0.2, rng = np.random.default_rng(42)"),
        Case({"x": np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]]),
              "rate": 0.3, "seed": 7},
             {"pair": True, "keep_none": False,
              "out": np.array([[[1.4285714285714286, 2.857142857142857], [4.285714285714286, 0.0],
                                [7.142857142857143, 8.571428571428571]],
                               [[-0.0, -2.857142857142857], [-4.285714285714286, -5.714285714285714],
                                [-7.142857142857143, -0.0]]]),
              "keep": np.array([[[True, True], [True, False], [True, True]],
                                [[False, True], [True, True], [True, False]]]), "keep_dtype": "bool"},
             "x of shape (2, 3, 2), rate=0.3, rng = np.random.default_rng(7)"),
    )

    def secret_inputs(self, rng):
        shapes = [(int(rng.integers(3, 7)), int(rng.integers(4, 9))), (int(rng.integers(10, 30)),),
                  (2, int(rng.integers(2, 5)), int(rng.integers(3, 6))), (int(rng.integers(20, 40)), 16)]
        return [_forward_case(rng, shape, _rate(rng)) for shape in shapes]

    def hidden_inputs(self, rng):
        # rate=0 keeps everything (no division by zero needed), and a very high rate of 0.9.
        return [_forward_case(rng, (4, 5), 0.0), _forward_case(rng, (30, 8), 0.9)]

    def run(self, subject, inputs):
        rng = np.random.default_rng(int(inputs["seed"]))
        np.random.seed(_global_seed(inputs))  # a mask drawn from np.random instead of rng is then recognisable
        return _pair(subject(np.array(inputs["x"], dtype=np.float64), inputs["rate"], rng, training=True))

    def compare(self, inputs, got, expected):
        sig = self.signature
        problem = _pair_problem(sig, got)
        if problem:
            return problem
        keep = np.asarray(expected["keep"], dtype=bool)
        where = f" (x of shape {np.shape(inputs['x'])}, rate={inputs['rate']:g})"
        message = compare_array(f"{sig}'s out", got["out"], expected["out"], inputs, tol=1e-6,
                                diagnoses=_forward_diagnoses(inputs, keep))
        if message:
            return message + where
        if got.get("keep_none"):
            return (f"{sig} returned keep=None in training mode. Return the boolean mask you drew "
                    f"({_MASK_RULE}): the backward pass needs it.")
        got_keep = np.asarray(got["keep"])
        if got_keep.shape != keep.shape:
            return f"{sig} returned a keep mask of shape {got_keep.shape}, expected {keep.shape}, the shape of x."
        if not np.array_equal(got_keep, keep):
            if np.array_equal(got_keep, ~keep):
                return (f"{sig}'s out is right but keep is inverted: return the mask of the units KEPT "
                        f"(True where out is not dropped).{where}")
            return (f"{sig}'s out is right but keep is {fmt(got_keep)}, expected {fmt(keep)}: return the same "
                    f"mask you applied ({_MASK_RULE}).{where}")
        if got.get("keep_dtype") != "bool":
            return (f"{sig}'s out is right and keep marks the right units, but keep is an array of "
                    f"{got.get('keep_dtype')}, not the boolean mask the statement asks for. Return the comparison "
                    f"itself ({_MASK_RULE}), not a float or integer copy of it.")
        return None


# ----------------------------------------------------------------------------- Exercise 1b: expectation
class DropoutExpectation(Check):
    """Judged by statistics: averaged over many draws, inverted dropout gives back x."""
    name = "dropout_expectation"
    signature = "dropout_forward(x, rate, rng, training=True)"
    expected_form = "a pair (out, keep) whose out has the shape of x"
    public_cases = (
        Case({"x_row": np.array([1.0, -2.0, 0.5, 3.0]), "rate": 0.3, "seed": 1, "draws": 4000}, None,
             "4000 rows of x = [1, -2, 0.5, 3], rate=0.3"),
        Case({"x_row": np.array([2.0, 2.0, -1.0]), "rate": 0.7, "seed": 2, "draws": 4000}, None,
             "4000 rows of x = [2, 2, -1], rate=0.7"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            row = rng.uniform(0.5, 3.0, int(rng.integers(3, 9))) * rng.choice([-1.0, 1.0], 1)
            cases.append({"x_row": row, "rate": _rate(rng), "seed": int(rng.integers(0, 2**31)), "draws": 4000})
        return cases

    def hidden_inputs(self, rng):
        # A light rate of 0.1, where forgetting the rescaling costs only 10%.
        row = rng.uniform(0.5, 3.0, 6)
        return [{"x_row": row, "rate": 0.1, "seed": int(rng.integers(0, 2**31)), "draws": 6000}]

    def run(self, subject, inputs):
        row = np.asarray(inputs["x_row"], dtype=np.float64)
        X = np.tile(row, (int(inputs["draws"]), 1))
        result = subject(X, inputs["rate"], np.random.default_rng(int(inputs["seed"])), training=True)
        out = np.asarray(result[0] if isinstance(result, (tuple, list)) else result, dtype=np.float64)
        if out.shape != X.shape:
            return {"shape": list(out.shape)}
        return {"mean": out.mean(axis=0), "kept": float(np.mean(out != 0))}

    def compare(self, inputs, got, expected):
        sig = self.signature
        row, rate, draws = np.asarray(inputs["x_row"], dtype=np.float64), float(inputs["rate"]), int(inputs["draws"])
        if not isinstance(got, dict) or "mean" not in got:
            shape = got.get("shape") if isinstance(got, dict) else None
            return f"{sig}'s out has shape {shape}, expected {(draws, len(row))}, the shape of x."
        mean = np.asarray(got["mean"], dtype=np.float64)
        kept = float(got["kept"])
        if mean.shape != row.shape:
            return f"{sig}'s out has {mean.size} columns, expected {row.size}, the shape of x."
        ratio = float(np.mean(mean / row))
        # Each column's mean has a relative standard error of sqrt(rate / ((1 - rate) * draws)).
        tol = 5 * np.sqrt(rate / ((1 - rate) * draws)) + 1e-6
        shown = (f"Over {draws} draws with rate={rate:g}, the mean of out was {fmt(mean)} for x = {fmt(row)} "
                 f"(ratio {ratio:.3f}), and {kept:.1%} of the units were kept.")
        if np.all(np.abs(mean / row - 1) <= tol) and abs(kept - (1 - rate)) <= 5 * np.sqrt(rate * (1 - rate) / mean.size / draws) + 0.01:
            return None
        near = lambda a, b: abs(a - b) <= 0.03  # noqa: E731
        if near(kept, 1.0) and rate > 0:
            return f"{shown} Nothing was dropped: each unit must be dropped with probability rate."
        if near(kept, rate) and not near(rate, 1 - rate):
            return (f"{shown} A unit is kept with probability rate instead of (1 - rate): rate is the probability "
                    f"of DROPPING a unit. Use {_MASK_RULE}.")
        if near(ratio, 1 - rate):
            return (f"{shown} Dropout without rescaling shrinks the expected activation to (1 - rate) * x. "
                    "Divide the kept units by (1 - rate) so that the expectation stays x.")
        if near(ratio, rate * (1 - rate)):
            return (f"{shown} The kept units were multiplied by rate: scale them by 1 / (1 - rate) instead, "
                    "so that E[out] = (1 - rate) * x / (1 - rate) = x.")
        if near(ratio, (1 - rate) ** 2):
            return (f"{shown} The kept units were multiplied by (1 - rate), classic dropout's test-time factor; "
                    "inverted dropout divides by (1 - rate) during training.")
        if near(ratio, (1 - rate) / max(rate, 1e-12)):
            return f"{shown} The kept units were divided by rate: divide by (1 - rate), the probability of keeping."
        return (f"{shown} Inverted dropout keeps each unit with probability (1 - rate) and divides it by (1 - rate), "
                "so the mean over many draws must come back to x.")


# ----------------------------------------------------------------------------- Exercise 1c: inference
class DropoutInference(Check):
    """x unchanged is the part's point; keep=None and an untouched generator are one point each (Partial)."""
    name = "dropout_inference"
    signature = "dropout_forward(x, rate, rng, training=False)"
    expected_form = "the pair (x, None)"
    public_cases = (
        Case({"x": np.array([[1.0, -2.0, 3.0, 0.5], [0.25, 4.0, -1.5, 2.0]]), "rate": 0.5, "seed": 0}, None,
             "x of shape (2, 4), rate=0.5, training=False"),
        Case({"x": np.array([0.5, 1.0, 1.5, 2.0, -0.5, -1.0]), "rate": 0.2, "seed": 3}, None,
             "x of shape (6,), rate=0.2, training=False"),
    )

    def secret_inputs(self, rng):
        return [_forward_case(rng, (int(rng.integers(3, 8)), int(rng.integers(3, 8))), _rate(rng)),
                _forward_case(rng, (int(rng.integers(10, 30)),), _rate(rng))]

    def hidden_inputs(self, rng):
        return [_forward_case(rng, (2, 3, 4), 0.9)]

    def run(self, subject, inputs):
        rng = np.random.default_rng(int(inputs["seed"]))
        report = _pair(subject(np.array(inputs["x"], dtype=np.float64), inputs["rate"], rng, training=False))
        # The generator's next number tells whether the call drew from it (it must not, at inference).
        report["rng_next"] = float(rng.random())
        return report

    def compare(self, inputs, got, expected):
        sig = self.signature
        problem = _pair_problem(sig, got)
        if problem:
            return problem
        x, rate = np.asarray(inputs["x"], dtype=np.float64), float(inputs["rate"])
        out = np.asarray(got["out"], dtype=np.float64)
        where = f" (x of shape {x.shape}, rate={rate:g})"
        if out.shape != x.shape:
            return f"{sig} returned out of shape {out.shape}, expected {x.shape}, the shape of x.{where}"
        if not matches(out, x, 1e-6):
            head = f"{sig} returned {fmt(out)}, expected x itself, {fmt(x)}{where}."
            if close(out, x * (1 - rate)):
                return (f"{head} That is classic dropout's test-time scaling by (1 - rate). Inverted dropout already "
                        "scaled the kept units by 1 / (1 - rate) during training, so at inference it returns x "
                        "unchanged.")
            if close(out, x / (1 - rate)):
                return f"{head} At inference nothing is scaled: the 1 / (1 - rate) factor belongs to training only."
            if np.any((out == 0) & (x != 0)):
                return (f"{head} Some units were dropped although training=False: the mask is applied at inference. "
                        "With training=False, return x unchanged (and keep=None).")
            return f"{head} With training=False dropout is the identity: return x unchanged."
        untouched = np.random.default_rng(int(inputs["seed"])).random()
        problem = requirements([
            (bool(got.get("keep_none")),
             "With training=False out is right, but keep is a mask, not None: at inference nothing is dropped, so "
             "return (x, None), as the statement asks."),
            (isinstance(got.get("rng_next"), float) and got["rng_next"] == untouched,
             "With training=False out is right, but the function drew from rng: at inference return (x, None) "
             "before drawing anything, so that the generator's stream is left as it was."),
        ])
        if problem is None:
            return None
        return Partial(problem.earned + 1, problem.of + 1, problem.message)


# ----------------------------------------------------------------------------- Exercise 2: backward
def _backward_case(rng: np.random.Generator, shape: tuple, rate: float) -> dict:
    return {"dout": rng.normal(0.0, 1.0, shape), "keep": rng.random(shape) >= rate, "rate": float(rate)}


class DropoutBackward(Check):
    name = "dropout_backward"
    signature = "dropout_backward(dout, keep, rate)"
    expected_form = "an array with the shape of dout"
    public_cases = (
        Case({"dout": np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]),
              "keep": np.array([[True, False, True], [True, True, False]]), "rate": 0.25},
             np.array([[0.13333333333333333, -0.0, 0.39999999999999997], [0.5333333333333333, 0.6666666666666666, -0.0]]),
             "dout of shape (2, 3), rate=0.25"),
    )

    def secret_inputs(self, rng):
        return [_backward_case(rng, (int(rng.integers(3, 7)), int(rng.integers(3, 7))), _rate(rng)),
                _backward_case(rng, (int(rng.integers(8, 20)),), _rate(rng)),
                _backward_case(rng, (2, 3, int(rng.integers(2, 5))), _rate(rng))]

    def hidden_inputs(self, rng):
        return [_backward_case(rng, (3, 4), 0.0), _backward_case(rng, (5, 6), 0.9)]

    def run(self, subject, inputs):
        return subject(np.array(inputs["dout"], dtype=np.float64), np.array(inputs["keep"], dtype=bool),
                       float(inputs["rate"]))

    def compare(self, inputs, got, expected):
        dout, rate = np.asarray(inputs["dout"], dtype=np.float64), float(inputs["rate"])
        keep = np.asarray(inputs["keep"], dtype=bool)
        diagnoses = [
            (lambda g, e, i: close(g, dout * keep),
             "The gradient is masked but not scaled. The forward pass multiplied the kept units by "
             "1 / (1 - rate), so by the chain rule the gradient is dout * keep / (1 - rate)."),
            (lambda g, e, i: close(g, dout * keep * rate),
             "The gradient was multiplied by rate: the forward factor is 1 / (1 - rate), and so is the backward one."),
            (lambda g, e, i: close(g, dout * keep * (1 - rate)),
             "The gradient was multiplied by (1 - rate): divide by it, as the forward pass did."),
            (lambda g, e, i: close(g, dout * keep / max(rate, 1e-12)),
             "The gradient was divided by rate: divide by (1 - rate), as the forward pass did."),
            (lambda g, e, i: any(close(g, dout * ~keep * s) for s in (1.0, 1 / (1 - rate))),
             "The gradient flows through the dropped units: use the SAME mask as the forward pass, where keep is "
             "True for the units that were kept."),
            (lambda g, e, i: close(g, dout) or close(g, dout / (1 - rate)),
             "The mask is missing: a dropped unit did not affect the output, so its gradient is 0. Multiply by "
             "the forward pass's keep mask."),
        ]
        message = compare_array(self.signature, got, expected, inputs, tol=1e-6, diagnoses=diagnoses)
        return message and f"{message} (shape {dout.shape}, rate={rate:g})"


# ----------------------------------------------------------------------------- models reported by the kernel
_rebuild = rebuild_model


def _reported_model(what: str, got, not_written: str):
    """(the rebuilt keras.Model, None), or (None, the message) when there is no model to check."""
    if not isinstance(got, dict):
        return None, f"{what} reported something the check cannot read."
    if not got.get("is_model"):
        if got.get("kind") == "NoneType":
            return None, f"{what} is None: {not_written}"
        return None, f"{what} is a {got.get('kind')}, not a keras.Model."
    try:
        return _rebuild(got), None
    except ModelRejected as exc:
        return None, f"{what} cannot be checked: {exc}."


def _layers(model) -> list:
    import keras

    return [layer for layer in all_layers(model) if not isinstance(layer, keras.layers.InputLayer)]


def _describe(layer) -> list:
    import keras

    if isinstance(layer, keras.layers.Dropout):
        return ["Dropout", float(layer.get_config()["rate"])]
    if isinstance(layer, keras.layers.Dense):
        activation = layer.get_config().get("activation")
        return ["Dense", int(layer.units), str(activation if isinstance(activation, str) else "custom")]
    return [type(layer).__name__]


def _layer_text(layers) -> str:
    return ", ".join("(".join([str(entry[0]), ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                                                          for v in entry[1:])]) + ")" if len(entry) > 1
                     else str(entry[0]) for entry in layers)


def _outputs(what: str, model, X):
    """(outputs with dropout off, None) or (None, message), computed by the grader on its own batch."""
    try:
        return predict(model, X), None
    except Exception as exc:  # noqa: BLE001 - a model that cannot take the batch is the student's to fix
        return None, f"{what} could not be run on a batch of shape {np.shape(X)} ({error_text(exc)})."


# ----------------------------------------------------------------------------- Exercise 3: classic -> inverted
def _relu(z):
    return np.maximum(z, 0.0)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _forward(weights, X, factors=None, logits=False) -> np.ndarray:
    """The 2-hidden-layer network of `weights` at inference, with weights[i] multiplied by factors[i]."""
    factors = factors or {}
    W1, b1, W2, b2, W3, b3 = (np.asarray(w, dtype=np.float64) * factors.get(i, 1.0) for i, w in enumerate(weights))
    h1 = _relu(np.asarray(X, dtype=np.float64) @ W1 + b1)
    h2 = _relu(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    return z if logits else _sigmoid(z)


def classic_test_predictions(weights, rate, X) -> np.ndarray:
    """The colleague's network at test time: classic dropout multiplies each hidden layer's output by 1 - rate."""
    q = 1.0 - float(rate)
    W1, b1, W2, b2, W3, b3 = (np.asarray(w, dtype=np.float64) for w in weights)
    h1 = _relu(np.asarray(X, dtype=np.float64) @ W1 + b1)
    h2 = _relu(q * h1 @ W2 + b2)
    return _sigmoid(q * h2 @ W3 + b3)


def _conversion_variants(rate: float) -> list:
    """(factors, logits, advice) of the conversions students get wrong, as they would compute at inference."""
    p, q = float(rate), 1.0 - float(rate)
    return [
        ({}, False, "The weights were copied unchanged. At inference Keras's Dropout is the identity, while the "
                    "colleague's network multiplies each hidden layer's output by (1 - rate): fold that factor into "
                    "the weights that read those outputs."),
        ({0: q, 2: q}, False, "W1 and W2 were scaled: they are the kernels of the layers BEFORE the Dropout layers. "
                              "The factor multiplies h1 and h2, so it belongs to the kernels that read them, W2 and W3."),
        ({0: q, 2: q, 4: q}, False, "W1 was scaled too: the inputs are not dropped, so only the kernels that read "
                                    "h1 and h2 (W2 and W3) take the factor (1 - rate)."),
        ({2: q, 3: q, 4: q, 5: q}, False, "The biases were scaled too: the factor multiplies h, and "
                                          "(1 - rate) h W + b = h ((1 - rate) W) + b, so b2 and b3 stay as they are."),
        ({2: 1 / q, 4: 1 / q}, False, "W2 and W3 were divided by (1 - rate): at test time the colleague's network "
                                      "multiplies by (1 - rate); the division by (1 - rate) is what Keras's Dropout "
                                      "does during training."),
        ({2: p, 4: p}, False, "W2 and W3 were multiplied by rate: rate is the probability of dropping a unit; the "
                              "classic network scales by the probability of keeping one, 1 - rate."),
        ({2: q}, False, "Only W2 was scaled: the output layer reads the second hidden layer's dropped output h2 "
                        "too, so W3 takes the factor (1 - rate) as well."),
        ({4: q}, False, "Only W3 was scaled: the second hidden layer reads the first one's dropped output h1, so "
                        "W2 takes the factor (1 - rate) as well."),
        ({2: q, 4: q}, True, "The predictions are the right scores before the sigmoid: the output layer needs "
                             "activation='sigmoid', so that the model gives probabilities like the colleague's."),
    ]


def _classic_case(rng: np.random.Generator, n: int, units: tuple, rate: float, m: int = 32) -> dict:
    u1, u2 = units
    weights = [rng.normal(0.0, 1.2, (n, u1)), rng.normal(0.0, 0.4, u1), rng.normal(0.0, 1.0, (u1, u2)),
               rng.normal(0.0, 0.4, u2), rng.normal(0.0, 1.5, (u2, 1)), rng.normal(0.0, 0.3, 1)]
    return {"classic_weights": weights, "rate": float(rate), "_X": rng.normal(0.0, 1.2, (m, n))}


def _conversion_rate(rng: np.random.Generator) -> float:
    """A rate kept away from 0.5, so that rate and 1 - rate (and their variants) are told apart."""
    return float(round(rng.choice([rng.uniform(0.2, 0.4), rng.uniform(0.6, 0.7)]), 2))


def _public_classic_case(seed: int, n: int, units: tuple, rate: float) -> dict:
    case = _classic_case(np.random.default_rng(seed), n, units, rate, m=8)
    case["classic_weights"] = [np.round(w, 2) for w in case["classic_weights"]]
    return {**case, "_public": True}


def example_classic_weights() -> tuple[list, float]:
    """The first public case's weights and rate, for the notebook's example cell."""
    case = ToInvertedDropout.public_cases[0].inputs
    return [w.copy() for w in case["classic_weights"]], case["rate"]


class ToInvertedDropout(Check):
    """Three separable requirements (Partial): the Dropout layers, the predictions at inference, and the
    colleague's arrays left untouched. The kernel reports the model and whether the arrays changed; the
    grader rebuilds the model and computes its predictions on "_X", a batch the kernel never sees."""
    name = "to_inverted_dropout"
    signature = "to_inverted_dropout(classic_weights, rate)"
    expected_form = "a keras.Model"
    public_cases = (
        Case(_public_classic_case(53, 3, (4, 3), 0.4), None, "3 features, hidden layers of 4 and 3 units, rate=0.4"),
        Case(_public_classic_case(85, 5, (6, 2), 0.25), None, "5 features, hidden layers of 6 and 2 units, rate=0.25"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            u1 = int(rng.integers(3, 12))
            u2 = int(rng.choice([u for u in range(3, 12) if u != u1]))
            cases.append(_classic_case(rng, int(rng.integers(2, 9)), (u1, u2), _conversion_rate(rng)))
        return cases

    def hidden_inputs(self, rng):
        # rate 0: nothing to scale and Dropout(0.0); a heavy rate of 0.8; one feature.
        return [_classic_case(rng, 4, (5, 3), 0.0), _classic_case(rng, 1, (7, 4), 0.8)]

    def run(self, subject, inputs):
        weights = [np.array(w, dtype=np.float64) for w in inputs["classic_weights"]]
        before = [w.copy() for w in weights]
        model = subject(weights, float(inputs["rate"]))
        changed = len(weights) != len(before) or any(
            not (isinstance(w, np.ndarray) and w.shape == b.shape and np.array_equal(w, b))
            for w, b in zip(weights, before))
        n_features = int(np.shape(inputs["classic_weights"][0])[0])
        return {"model": report_model(built_on_zeros(model, (n_features,))), "changed": bool(changed)}

    def compare(self, inputs, got, expected):
        sig, what = self.signature, f"The model from {self.signature}"
        if not isinstance(got, dict) or "model" not in got:
            return f"{sig} reported something the check cannot read."
        model, problem = _reported_model(what, got["model"], "end the function with `return model`.")
        if problem:
            return problem
        rate = float(inputs["rate"])
        X = np.asarray(inputs["_X"], dtype=np.float64)
        outputs, problem = _outputs(what, model, X)
        if problem:
            return problem
        weights = inputs["classic_weights"]
        want = classic_test_predictions(weights, rate, X)
        public = bool(inputs.get("_public"))
        predictions_ok = outputs.shape == want.shape and matches(outputs, want, 1e-4)
        return requirements([
            (self._dropout_problem(what, model, rate) is None, self._dropout_problem(what, model, rate) or ""),
            (predictions_ok, "" if predictions_ok else self._prediction_problem(what, outputs, want, weights, rate, X,
                                                                               public)),
            (not got.get("changed"),
             f"{sig} changed the arrays in classic_weights (scaled them in place, with *= or out=): copy before you "
             "scale (W2 * (1 - rate) makes a new array), so that the colleague's weights stay as they were."),
        ])

    @staticmethod
    def _dropout_problem(what, model, rate) -> str | None:
        layers = [_describe(layer) for layer in _layers(model)]
        kinds = [entry for entry in layers if entry[0] in ("Dense", "Dropout")]
        rates = [entry[1] for entry in kinds if entry[0] == "Dropout"]
        shown = f"{what} has the layers {_layer_text(layers)}."
        if [entry[0] for entry in kinds] == ["Dense", "Dropout", "Dense", "Dropout", "Dense"] and \
                all(abs(r - rate) <= 1e-6 for r in rates):
            return None
        if not rates:
            return (f"{shown} It has no Dropout layer: the colleague's network dropped units after each hidden layer, "
                    "so add keras.layers.Dropout(rate) after each of the two hidden Dense layers.")
        if len(rates) == 2 and [entry[0] for entry in kinds] == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]:
            if all(abs(r - (1 - rate)) <= 1e-6 for r in rates) and abs(rate - 0.5) > 1e-6:
                return (f"{shown} Its Dropout layers drop a share {1 - rate:g} = 1 - rate of the units: "
                        "keras.layers.Dropout takes the probability of DROPPING a unit, which is rate itself (1 - rate "
                        "is the keep probability of older APIs).")
            return f"{shown} Both Dropout layers must drop a share rate = {rate:g} of the units."
        return (f"{shown} It needs exactly one Dropout(rate) after each of the two hidden Dense layers, and none on "
                "the inputs or after the output layer.")

    @staticmethod
    def _prediction_problem(what, outputs, want, weights, rate, X, public) -> str:
        if outputs.shape != want.shape:
            return (f"{what} gives outputs of shape {outputs.shape} for a batch of {len(X)} rows; expected "
                    f"{want.shape}: one probability per row, from a last layer Dense(1, activation='sigmoid').")
        found = [advice for factors, logits, advice in _conversion_variants(rate)
                 if matches(outputs, _forward(weights, X, factors, logits), 1e-4)]
        if len(found) == 1:
            return f"At inference the model does not give the colleague's test-time predictions. {found[0]}"
        row = int(np.argmax(np.abs(outputs - want).ravel()))
        if public:
            return (f"At inference the model gives {outputs.ravel()[row]:.6g} for row {row} of the check's "
                    f"batch, where the colleague's network gives {want.ravel()[row]:.6g}. Compare your weights with "
                    "the forward pass in the statement: which arrays must carry the factor (1 - rate)?")
        return (f"At inference the model does not give the colleague's test-time predictions (largest "
                f"difference {float(np.max(np.abs(outputs - want))):.3g}). Compare your weights with the forward pass "
                "in the statement: which arrays must carry the factor (1 - rate)?")


# ----------------------------------------------------------------------------- Exercise 4: choosing the rate
#: What fit_model compiles every network with.
FIT_OPTIMIZER, FIT_LEARNING_RATE, FIT_LOSS = "Adam", 0.005, "binary_crossentropy"


def _accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(outputs).reshape(-1) > 0.5) == np.asarray(labels).reshape(-1)))


def _net_problem(key: str, model, rate: float) -> str | None:
    """Why models[rate] is not dropout_net(n_features, rate) trained by fit_model, or None."""
    layers = [_describe(layer) for layer in _layers(model)]
    want = [["Dense", 32, "relu"], ["Dropout", rate], ["Dense", 32, "relu"], ["Dropout", rate],
            ["Dense", 1, "sigmoid"]]
    if len(layers) != len(want) or any(a[0] != b[0] or (a[0] == "Dense" and a[1:] != b[1:]) or
                                       (a[0] == "Dropout" and abs(a[1] - b[1]) > 1e-6) for a, b in zip(layers, want)):
        rates = [entry[1] for entry in layers if entry[0] == "Dropout"]
        if [entry[0] for entry in layers] == [entry[0] for entry in want] and rates:
            return (f"models[{key}] has Dropout rate {rates[0]:g}, not {rate:g}: build each network with "
                    "dropout_net(n_features, rate) for its own rate.")
        return (f"models[{key}] has the layers {_layer_text(layers)}, not those of dropout_net(n_features, {rate:g}): "
                "build each network with dropout_net.")
    settings = compile_summary(model)
    if not settings.get("compiled") or settings.get("optimizer") != FIT_OPTIMIZER or \
            settings.get("learning_rate") is None or abs(settings["learning_rate"] - FIT_LEARNING_RATE) > 1e-9 or \
            settings.get("loss") != FIT_LOSS:
        return (f"models[{key}] is not compiled the way fit_model compiles it (Adam, learning rate 0.005, "
                "binary cross-entropy): train each network with fit_model(model).")
    return None


def _selection(result) -> dict:
    """Plain data for the (best_rate, models) pair select_rate returned: the rate and each model's report."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"pair": False, "kind": type(result).__name__,
                "length": len(result) if isinstance(result, (tuple, list)) else None}
    best, models = result
    report = {"pair": True, "best_kind": type(best).__name__, "models_kind": type(models).__name__}
    if isinstance(best, (int, float, np.integer, np.floating)) and not isinstance(best, bool):
        report["best_rate"] = float(best)
    if isinstance(models, dict):
        report["rates"] = [float(k) if isinstance(k, (int, float, np.integer, np.floating)) else str(k) for k in models]
        report["models"] = [report_model(m) for m in models.values()]
    return report


class SelectRate(Check):
    """Judged on the student's own networks: the chosen one must be the best of them on fresh samples.

    The kernel reports the rate and every network; the grader rebuilds each, checks that it is the
    notebook's dropout_net trained by fit_model, and measures training accuracy on the task's training set
    ("_X") and validation accuracy on `heldout_validation` samples drawn with the run's seed ("_X_val").
    Networks that are not the ones asked for score 0; right networks with a wrong choice keep half the
    points (Partial).
    """
    name = "select_rate"
    signature = "select_rate(RATES)"
    expected_form = "a pair (best_rate, models): a float and a dict mapping each rate to its trained network"

    @cached_property
    def public_cases(self):
        X_train, y_train, X_val, y_val = overfitting_task()
        return (Case({"_X": X_train, "_labels": y_train, "_X_val": X_val, "_val_labels": y_val}, None,
                     "the notebook's training and validation sets"),)

    def secret_inputs(self, rng):
        X_train, y_train, _, _ = overfitting_task()
        X_val, y_val = heldout_validation(rng, HELDOUT_SIZE)
        return [{"_X": X_train, "_labels": y_train, "_X_val": X_val, "_val_labels": y_val}]

    def run(self, subject, inputs):
        return _selection(subject)

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} reported something the check cannot read."
        if not got.get("pair"):
            if got.get("kind") == "NoneType":
                return ("selection is None: select_rate is not implemented yet, or it stopped with an error. Finish "
                        "Exercise 4 (end it with `return best_rate, models`) and rerun the cell that calls it.")
            return (f"{sig} should return a pair (best_rate, models), but returned "
                    f"{got.get('length') or 'a single'} {'values' if got.get('length') else got.get('kind')}.")
        if not isinstance(got.get("models"), list) or not isinstance(got.get("rates"), list):
            return (f"{sig} returned models as a {got.get('models_kind')}: return a dict that maps each rate to its "
                    "trained network, e.g. models[0.5].")
        rates, records = got["rates"], got["models"]
        if len(rates) != len(records) or not all(isinstance(r, float) for r in rates) or \
                sorted(round(r, 6) for r in rates) != sorted(RATES):
            return (f"{sig} returned networks for the rates {rates}; models must hold one trained network for each "
                    f"rate of RATES = {list(RATES)}, with the rate as its key.")
        if "best_rate" not in got:
            return f"{sig} returned best_rate as a {got.get('best_kind')}: return the chosen rate itself, a float."
        best = float(got["best_rate"])
        if not any(abs(best - r) <= 1e-6 for r in rates):
            return f"{sig} returned best_rate = {best:g}, which is not one of RATES = {list(RATES)}."
        X, labels = inputs["_X"], inputs["_labels"]
        X_val, val_labels = inputs["_X_val"], inputs["_val_labels"]
        table, problems, weights = {}, [], {}
        for rate, record in sorted(zip(rates, records)):
            key = f"{rate:g}"
            model, problem = _reported_model(f"models[{key}]", record, "train every network and store it.")
            if problem:
                return problem
            train_out, problem = _outputs(f"models[{key}]", model, X)
            if problem:
                return problem
            val_out, problem = _outputs(f"models[{key}]", model, X_val)
            if problem:
                return problem
            if train_out.size != len(labels) or val_out.size != len(val_labels):
                return (f"models[{key}] gives outputs of shape {train_out.shape} for {len(labels)} samples: expected "
                        "one probability per sample, as dropout_net's last layer gives.")
            table[rate] = (_accuracy(train_out, labels), _accuracy(val_out, val_labels))
            problems.append(_net_problem(key, model, rate))
            weights[rate] = model.get_weights()
        copies = [(a, b) for a in weights for b in weights if a < b and len(weights[a]) == len(weights[b]) and
                  all(np.array_equal(u, v) for u, v in zip(weights[a], weights[b]))]
        if copies:
            problems.append(f"models[{copies[0][0]:g}] and models[{copies[0][1]:g}] hold the same trained weights: "
                            "train a separate network for each rate.")
        built = next((p for p in problems if p), None)
        if built:
            # The networks are the measurement: a choice among networks that are not the ones asked for means nothing.
            return built
        chosen = min(table, key=lambda r: abs(r - best))
        top = max(acc for _, acc in table.values())
        if table[chosen][1] >= top - CHOICE_MARGIN:
            return None
        return Partial(1, 2, self._choice_problem(table, chosen))

    @staticmethod
    def _choice_problem(table: dict, chosen: float) -> str:
        shown = "; ".join(f"rate {r:g}: training {t:.1%}, validation {v:.1%}" for r, (t, v) in sorted(table.items()))
        head = (f"best_rate = {chosen:g} is not the rate with the highest validation accuracy. Measured by the grader "
                f"with dropout off, on the training set and on fresh validation samples: {shown}.")
        gaps = {r: t - v for r, (t, v) in table.items()}
        explanations = [
            (chosen == max(table, key=lambda r: table[r][0]),
             "That is the network with the highest TRAINING accuracy, which rewards memorising the noisy labels: "
             "choose by validation accuracy."),
            (chosen == min(gaps, key=gaps.get),
             "That is the network with the smallest gap; a rate that is too high makes the gap small by lowering "
             "both accuracies (underfitting): choose by validation accuracy."),
            (chosen == min(table, key=lambda r: table[r][1]),
             "That is the network with the LOWEST validation accuracy: take the maximum, not the minimum."),
        ]
        found = [text for applies, text in explanations if applies]
        if len(found) == 1:
            return f"{head} {found[0]}"
        return f"{head} Choose the rate whose network has the highest validation accuracy, measured with dropout off."


dropout_forward = DropoutForward()
dropout_expectation = DropoutExpectation()
dropout_inference = DropoutInference()
dropout_backward = DropoutBackward()
to_inverted_dropout = ToInvertedDropout()
select_rate = SelectRate()

CHECKS = CheckSet("08_dropout", [dropout_forward, dropout_expectation, dropout_inference, dropout_backward,
                                 to_inverted_dropout, select_rate])
