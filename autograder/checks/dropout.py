"""Checks for 08_dropout: inverted dropout in numpy (forward, expectation, inference, backward),
a Keras network with Dropout layers, and the overfitting gap it closes.

The numpy parts fix how the mask is drawn (``keep = rng.random(x.shape) >= rate``) so that a
correct answer is reproducible from the generator's seed. Diagnoses work back from the expected
mask and output; nothing here computes dropout the way the exercise asks.

The Keras parts are judged from the model itself (see `model_data`): the kernel reports only
`report_model(model)`, and the grader rebuilds it and computes every fact (layers, parameters,
outputs with dropout on and off, accuracies) on arrays in grader-only "_" keys. The trained
network's validation accuracy is measured on fresh samples of the same task drawn with the run's
seed (`heldout_validation`), never on the validation arrays the notebook has.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet
from .model_data import built_on_zeros, error_text, rebuild_model, ModelLimits, ModelRejected, all_layers, predict, report_model, to_numpy

#: The trained dropout network must have train accuracy minus validation accuracy below this.
#: Measured over training seeds 0-3: with Dropout(0.5) the gap is 0.14-0.16; without dropout 0.32-0.34.
GAP_THRESHOLD = 0.23
#: ... and still learn something: a constant guess scores about 0.5 (the reference reaches 0.72-0.74).
VAL_ACCURACY_FLOOR = 0.65


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

    The grader judges the trained network on these, drawn with the run's own generator: they are
    not the validation arrays the notebook trained next to, and no kernel can know them.
    """
    _, _, w = _task_rule(seed, n_train + n_val, n_features, n_informative)
    X = rng.normal(0.0, 1.0, (n, n_features)).astype("float32")
    return X, _noisy_labels(X, w, rng, label_noise)


# ----------------------------------------------------------------------------- shared helpers
_MASK_RULE = "keep = rng.random(x.shape) >= rate"


def _pair(result) -> dict:
    """Plain data for an (out, keep) pair returned by dropout_forward."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"pair": False, "kind": type(result).__name__,
                "length": len(result) if isinstance(result, (tuple, list)) else None}
    out, keep = result
    report = {"pair": True, "out": np.asarray(out, dtype=np.float64), "keep_none": keep is None}
    if keep is not None:
        report["keep"] = np.asarray(keep) != 0
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
def _forward_diagnoses(inputs: dict, keep: np.ndarray) -> list:
    x, rate = np.asarray(inputs["x"], dtype=np.float64), float(inputs["rate"])
    drop = ~keep
    return [
        (lambda g, e, i: close(g, x * keep),
         "Dropout without rescaling: the kept units must be divided by (1 - rate), so that the expected "
         "activation stays equal to x. Inverted dropout does that scaling during training."),
        (lambda g, e, i: close(g, x * keep * rate),
         "The kept units were multiplied by rate. Scale them by 1 / (1 - rate): rate is the fraction dropped, "
         "(1 - rate) the fraction kept."),
        (lambda g, e, i: close(g, x * keep / rate),
         "The kept units were divided by rate. Divide by (1 - rate), the probability of keeping a unit."),
        (lambda g, e, i: close(g, x * keep * (1 - rate)),
         "The kept units were multiplied by (1 - rate): that is classic dropout's test-time scaling. Inverted "
         "dropout divides by (1 - rate) during training instead."),
        (lambda g, e, i: any(close(g, x * drop * s) for s in (1.0, 1 / (1 - rate), 1 / max(rate, 1e-12), rate)),
         f"The mask is inverted: a unit is kept with probability rate. rate is the probability of DROPPING a "
         f"unit, so keep it when the random number is at least rate: {_MASK_RULE}."),
        (lambda g, e, i: close(g, x) or close(g, x / (1 - rate)),
         "Nothing was dropped: with training=True, multiply x by the random mask."),
        (lambda g, e, i: not np.array_equal(g == 0, e == 0) and close(g[g != 0], (x / (1 - rate))[g != 0]),
         f"The kept units are scaled correctly, but the dropped units are not the ones the check expects. Draw the mask "
         f"exactly as {_MASK_RULE}, once, from the generator `rng` you are given (not np.random), so that the "
         "same seed always gives the same mask."),
    ]


class DropoutForward(Check):
    name = "dropout_forward"
    signature = "dropout_forward(x, rate, rng, training=True)"
    public_cases = (
        Case({"x": np.array([[1.0, -2.0, 3.0, 0.5], [0.25, 4.0, -1.5, 2.0]]), "rate": 0.4, "seed": 0},
             {"pair": True, "keep_none": False,
              "out": np.array([[1.6666666666666667, -0.0, 0.0, 0.0],
                               [0.4166666666666667, 6.666666666666667, -2.5, 3.3333333333333335]]),
              "keep": np.array([[True, False, False, False], [True, True, True, True]])},
             "x of shape (2, 4), rate=0.4, rng = np.random.default_rng(0)"),
        Case({"x": np.array([0.5, 1.0, 1.5, 2.0, -0.5, -1.0, -1.5, -2.0]), "rate": 0.2, "seed": 42},
             {"pair": True, "keep_none": False,
              "out": np.array([0.625, 1.25, 1.875, 2.5, -0.0, -1.25, -1.875, -2.5]),
              "keep": np.array([True, True, True, True, False, True, True, True])},
             "x of shape (8,), rate=0.2, rng = np.random.default_rng(42)"),
        Case({"x": np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]]),
              "rate": 0.3, "seed": 7},
             {"pair": True, "keep_none": False,
              "out": np.array([[[1.4285714285714286, 2.857142857142857], [4.285714285714286, 0.0],
                                [7.142857142857143, 8.571428571428571]],
                               [[-0.0, -2.857142857142857], [-4.285714285714286, -5.714285714285714],
                                [-7.142857142857143, -0.0]]]),
              "keep": np.array([[[True, True], [True, False], [True, True]],
                                [[False, True], [True, True], [True, False]]])},
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
        return None


# ----------------------------------------------------------------------------- Exercise 1b: expectation
class DropoutExpectation(Check):
    """Judged by statistics: averaged over many draws, inverted dropout gives back x."""
    name = "dropout_expectation"
    signature = "dropout_forward(x, rate, rng, training=True)"
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
        ratio = float(np.mean(mean / row))
        # Each column's mean has a relative standard error of sqrt(rate / ((1 - rate) * draws)).
        tol = 5 * np.sqrt(rate / ((1 - rate) * draws)) + 1e-9
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
    name = "dropout_inference"
    signature = "dropout_forward(x, rate, rng, training=False)"
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
        return _pair(subject(np.array(inputs["x"], dtype=np.float64), inputs["rate"], rng, training=False))

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
        if not close(out, x, 1e-9):
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
        if not got.get("keep_none") and not np.all(np.asarray(got.get("keep"))):
            return (f"{sig}'s out is right, but it returned a keep mask that drops units. At inference return "
                    f"keep=None.{where}")
        return None


# ----------------------------------------------------------------------------- Exercise 2: backward
def _backward_case(rng: np.random.Generator, shape: tuple, rate: float) -> dict:
    return {"dout": rng.normal(0.0, 1.0, shape), "keep": rng.random(shape) >= rate, "rate": float(rate)}


class DropoutBackward(Check):
    name = "dropout_backward"
    signature = "dropout_backward(dout, keep, rate)"
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


# ----------------------------------------------------------------------------- Exercise 3: the Keras model
_rebuild = rebuild_model


def _reported_model(what: str, got):
    """(the rebuilt keras.Model, None), or (None, the message) when there is no model to check."""
    if not isinstance(got, dict):
        return None, f"{what} reported something the check cannot read."
    if not got.get("is_model"):
        if got.get("kind") == "NoneType":
            return None, (f"{what} is None: build_dropout_model is not implemented yet, or the training cell above "
                          "stopped with an error. Finish Exercise 3 (end it with `return model`) and rerun that cell.")
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


def _model_facts(what: str, model, X: np.ndarray):
    """(facts, None) or (None, message): structure, and whether dropout is off at inference and on in
    training, computed by the grader on its own batch X (which the kernel never saw)."""
    X = np.asarray(X, dtype="float32")
    try:
        first = predict(model, X)
        second = predict(model, X)
        trained = np.asarray(to_numpy(model(X, training=True)), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - a model that cannot take the batch is the student's to fix
        return None, (f"{what} could not be run on a batch of shape {X.shape} ({error_text(exc)}). "
                      "Start it with keras.Input(shape=(n_features,)).")
    return {"layers": [_describe(layer) for layer in _layers(model)], "n_params": int(model.count_params()),
            "outputs": first, "inference_stable": bool(np.array_equal(first, second)),
            "training_differs": bool(first.shape != trained.shape or not np.allclose(first, trained))}, None


def _checked_model(what: str, got, X) -> tuple:
    """(model, facts, "") for a reported model that rebuilds, runs on X and has the stated structure;
    (None, None, message) at the first thing that fails."""
    model, problem = _reported_model(what, got)
    if problem:
        return None, None, problem
    facts, problem = _model_facts(what, model, X)
    if problem:
        return None, None, problem
    return model, facts, _structure_problem(what, facts) or ""


def _structure_problem(what: str, facts: dict) -> str | None:
    if not facts.get("inference_stable"):
        return (f"{what} gives different outputs on two calls with training=False: dropout is still active at "
                "inference. Do not call the Dropout layers with training=True; Keras switches them off by "
                "itself in predict, evaluate and model(x, training=False).")
    return None


def _layer_text(layers) -> str:
    return ", ".join("(".join([str(entry[0]), ", ".join(str(v) for v in entry[1:])]) + ")" if len(entry) > 1
                     else str(entry[0]) for entry in layers)


def _probe(rng: np.random.Generator, n_features: int) -> np.ndarray:
    return rng.normal(0.0, 1.0, (16, n_features))


class BuildDropoutModel(Check):
    """The kernel reports the model; the grader rebuilds it and runs it on "_X", a batch the kernel never sees."""
    name = "build_dropout_model"
    signature = "build_dropout_model(n_features, units, rate)"
    public_cases = (
        Case({"n_features": 10, "units": 32, "rate": 0.5, "_X": _probe(np.random.default_rng(11), 10)},
             {"layers": [["Dense", 32, "relu"], ["Dropout", 0.5], ["Dense", 32, "relu"], ["Dropout", 0.5],
                         ["Dense", 1, "sigmoid"]], "n_params": 1441},
             "n_features=10, units=32, rate=0.5"),
        Case({"n_features": 4, "units": 8, "rate": 0.3, "_X": _probe(np.random.default_rng(12), 4)},
             {"layers": [["Dense", 8, "relu"], ["Dropout", 0.3], ["Dense", 8, "relu"], ["Dropout", 0.3],
                         ["Dense", 1, "sigmoid"]], "n_params": 121},
             "n_features=4, units=8, rate=0.3"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            n = int(rng.integers(3, 20))
            cases.append({"n_features": n, "units": int(rng.choice([8, 16, 24, 48, 64])),
                          "rate": float(round(rng.uniform(0.2, 0.5), 2)), "_X": _probe(rng, n)})
        return cases

    def hidden_inputs(self, rng):
        return [{"n_features": 1, "units": 4, "rate": 0.2, "_X": _probe(rng, 1)}]

    def run(self, subject, inputs):
        model = subject(n_features=int(inputs["n_features"]), units=int(inputs["units"]), rate=float(inputs["rate"]))
        return report_model(built_on_zeros(model, (int(inputs["n_features"]),)))

    def compare(self, inputs, got, expected):
        sig = self.signature
        what = f"The model from {sig}"
        model, facts, problem = _checked_model(what, got, inputs["_X"])
        if problem:
            return problem
        want = _expected_structure(expected, inputs["_X"])
        layers = facts["layers"]
        call = f"n_features={inputs['n_features']}, units={inputs['units']}, rate={inputs['rate']:g}"
        shown = f"{what} with {call} has layers {_layer_text(layers)}; expected {_layer_text(want['layers'])}."
        rates = [entry[1] for entry in layers if entry[0] == "Dropout"]
        if layers == want["layers"] or _same_layers(layers, want["layers"]):
            if facts["n_params"] != want["n_params"]:
                return (f"{what} with {call} has {facts['n_params']} parameters, expected {want['n_params']}: "
                        "keep use_bias=True and add no other layers with weights.")
            if inputs["rate"] > 0 and not facts["training_differs"]:
                return (f"{what} gives the same outputs with training=True as with training=False: its Dropout "
                        "layers never drop anything.")
            return None
        if not rates:
            return f"{shown} There is no Dropout layer: add keras.layers.Dropout(rate) after each hidden Dense layer."
        if any(abs(r - inputs["rate"]) > 1e-6 for r in rates):
            return (f"{shown} The Dropout rate is {rates[0]:g}, not the rate argument {inputs['rate']:g}: pass "
                    "`rate` to keras.layers.Dropout instead of a fixed number.")
        if layers and layers[0][0] == "Dropout":
            return (f"{shown} The first layer drops input features: put each Dropout AFTER a hidden Dense layer "
                    "(and none on the inputs or the output).")
        if layers and layers[-1][0] == "Dropout":
            return (f"{shown} A Dropout layer after the output layer drops predictions: dropout belongs between "
                    "hidden layers, never after the last Dense layer.")
        return (f"{shown} Build Dense(units, relu), Dropout(rate), Dense(units, relu), Dropout(rate), "
                "Dense(1, sigmoid), in that order.")


def _expected_structure(expected, X) -> dict:
    """The layers and parameter count expected: a public case's literal, or the reference's reported model."""
    if isinstance(expected, dict) and "layers" in expected:
        return expected
    model = _rebuild(expected)
    return {"layers": [_describe(layer) for layer in _layers(model)], "n_params": int(model.count_params())}


def _same_layers(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x[0] != y[0] or len(x) != len(y):
            return False
        if x[0] == "Dropout" and abs(float(x[1]) - float(y[1])) > 1e-6:
            return False
        if x[0] == "Dense" and list(x[1:]) != list(y[1:]):
            return False
    return True


# ----------------------------------------------------------------------------- Exercise 4: the trained gap
class DropoutGap(Check):
    """Judged by thresholds: the trained dropout network overfits much less than the plain one.

    The kernel reports only the model. The grader measures training accuracy on the task's training
    set ("_X") and validation accuracy on `heldout_validation` samples drawn with the run's seed
    ("_X_val"), all in grader-only keys: the kernel sees no input at all.
    """
    name = "dropout_gap"
    signature = "dropout_model (build_dropout_model(n_features, rate=0.5), trained by fit_model)"

    @cached_property
    def public_cases(self):
        X_train, y_train, X_val, y_val = overfitting_task()
        return (Case({"_X": X_train, "_labels": y_train, "_X_val": X_val[:500], "_val_labels": y_val[:500]}, None,
                     "the 200 training samples and the first 500 validation samples"),)

    def secret_inputs(self, rng):
        X_train, y_train, _, _ = overfitting_task()
        X_val, y_val = heldout_validation(rng, 1000)
        return [{"_X": X_train, "_labels": y_train, "_X_val": X_val, "_val_labels": y_val}]

    def run(self, subject, inputs):
        return report_model(subject)

    def compare(self, inputs, got, expected):
        what = "dropout_model"
        model, facts, problem = _checked_model(what, got, inputs["_X"])
        if problem:
            return problem
        rates = [entry[1] for entry in facts["layers"] if entry[0] == "Dropout"]
        if not rates or max(rates) <= 0:
            dropout_note = " It has no Dropout layer with a rate above 0."
        else:
            dropout_note = ""
        try:
            val_outputs = predict(model, inputs["_X_val"])
        except Exception as exc:  # noqa: BLE001
            return f"{what} could not be run on the validation samples ({error_text(exc)})."
        train = np.asarray(facts["outputs"], dtype=np.float64).reshape(-1)
        val = np.asarray(val_outputs, dtype=np.float64).reshape(-1)
        labels, val_labels = np.asarray(inputs["_labels"]), np.asarray(inputs["_val_labels"])
        if train.shape != labels.shape or val.shape != val_labels.shape:
            return (f"{what} returned outputs of shape {np.shape(facts['outputs'])} for {len(labels)} samples; "
                    "expected one probability per sample, from Dense(1, activation='sigmoid').")
        train_acc = float(np.mean((train > 0.5) == labels))
        val_acc = float(np.mean((val > 0.5) == val_labels))
        gap = train_acc - val_acc
        shown = (f"{what} reaches {train_acc:.1%} on the training set and {val_acc:.1%} on validation: a gap of "
                 f"{gap:.3f}.")
        if val_acc < VAL_ACCURACY_FLOOR:
            return (f"{shown} Validation accuracy must reach {VAL_ACCURACY_FLOOR:.0%}: the model hardly learned. "
                    "Check the activations (relu hidden, sigmoid output) and that the rate is 0.5, not 0.95.")
        if gap >= GAP_THRESHOLD or dropout_note:
            return (f"{shown} The gap must be below {GAP_THRESHOLD:.2f}. The network still overfits (memorises the "
                    f"noisy training labels).{dropout_note} Put Dropout(rate) after each hidden Dense layer, and "
                    "train the model build_dropout_model(n_features, rate=0.5) returns.")
        return None


build_dropout_model = BuildDropoutModel()
dropout_forward = DropoutForward()
dropout_expectation = DropoutExpectation()
dropout_inference = DropoutInference()
dropout_backward = DropoutBackward()
dropout_gap = DropoutGap()

CHECKS = CheckSet("08_dropout", [dropout_forward, dropout_expectation, dropout_inference, dropout_backward,
                                 build_dropout_model, dropout_gap])
