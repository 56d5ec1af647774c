"""Checks for 13_autoencoders: per-sample anomaly scores; a dense autoencoder builder with four bugs to fix; a
threshold that keeps the false-alarm rate on validation data within a budget; anomaly detection judged by its
ROC AUC on held-out data; and a bottleneck chosen by a measured validation criterion.

Nothing here builds an autoencoder or trains one. The expected values of the public cases of `anomaly_scores`,
`choose_threshold` and `choose_bottleneck` are literals worked out once offline; diagnoses work out the outputs
of common mistakes from the inputs, so that a message can name the mistake. A model part's kernel reports only
the model itself (`model_data.report_model`: config and weights); the grader rebuilds it and computes every
fact and every reconstruction, on data in grader-only keys ("_...") that the kernel never sees: test digits
perturbed with the run's seed (`heldout.py`), and a mix of them with injected anomalies.

Stated rules (part / rule / how it is checked). 32 rules found, 30 checked, 2 suggestions only.
  Ex1 anomaly_scores / one score per sample (row), shape (n,) / shape messages (per-pixel, one number, (n, d))
  Ex1 anomaly_scores / the mean (not the sum) of the squared differences / values; sum, RMSE, MAE, signed diagnoses
  Ex2 build_autoencoder / returns a compiled keras.Model / type and compile messages
  Ex2 build_autoencoder / a code of exactly `bottleneck` numbers (bug 1) / narrowest layer of the rebuilt model
  Ex2 build_autoencoder / the code can take any real value: a linear code layer (bug 2) / its activation
  Ex2 build_autoencoder / reconstructions in [0, 1]: a sigmoid output (bug 3) / output activation and range
  Ex2 build_autoencoder / trained by the mean squared error (bug 4) / compiled loss
  Ex2 build_autoencoder / Adam with learning rate 0.01 / compiled optimizer and learning rate
  Ex2 build_autoencoder / a hidden layer of `hidden` ReLU units on each side / Dense units and activations
  Ex2 build_autoencoder / 64 inputs and 64 outputs / shape of the outputs on a probe batch
  Ex3 choose_threshold / returns one number / size and type message
  Ex3 choose_threshold / at most max_false_alarm_rate * n validation scores strictly above it / values; "one too
      many" diagnosis (rounding up, or one index too low)
  Ex3 choose_threshold / the lowest such threshold / values; "one too few" and largest-score diagnoses
  Ex3 choose_threshold / one of the validation scores (no interpolation) / values; np.percentile diagnosis
  Ex3 choose_threshold / ties: a score equal to the threshold is not above it / public and hidden cases with ties
  Ex3 choose_threshold / max_false_alarm_rate is a fraction in [0, 1) / quantile-at-rate diagnosis; rate 0 case
  Ex3 choose_threshold / val_scores left unchanged (not sorted in place) / `run` compares them after the call
  Ex4 detect_anomalies / returns (scores, threshold, flags) / type and length message
  Ex4 detect_anomalies / scores of X_new with anomaly_scores and the model's reconstructions / grader recomputes them
  Ex4 detect_anomalies / threshold from the validation scores with choose_threshold / grader recomputes it; training,
      X_new and interpolation diagnoses
  Ex4 detect_anomalies / flags = scores > threshold, a boolean array of shape (n,) / shape, dtype; reversed flags
      (>= is accepted too: the two differ only on an exact tie, which these float errors do not produce)
  Ex4 detect_anomalies / the autoencoder separates anomalies, ROC AUC >= 0.9 on the grader's mix / grader's own mix
  Ex4 detect_anomalies / the model is the one the notebook trained (at most 10,000 parameters) / parameter count
  Ex5 bottleneck_sweep / sweep_bottlenecks returns {size: (model, validation error)} for every size / type messages
  Ex5 bottleneck_sweep / each model built with build_autoencoder(size): its code has `size` numbers / rebuilt model
  Ex5 bottleneck_sweep / each model trained to reconstruct / its error on the grader's held-out digits
  Ex5 bottleneck_sweep / the validation error is the mean of anomaly_scores over X_val / grader recomputes it;
      training-data, sum and RMSE diagnoses
  Ex5 bottleneck_sweep / choose_bottleneck: the smallest size whose error is <= target / grader's dicts, shuffled
  Ex5 bottleneck_sweep / if no size meets the target, the one with the lowest error / a grader dict where none does
  Ex5 bottleneck_sweep / the chosen model reconstructs held-out digits within 0.03 / grader's held-out digits
  Ex5 bottleneck_sweep / train every size the same way (20 epochs of batch 32 suggested) / suggestion only
  Ex1-5 / "about N lines", hints / suggestion only
Per exercise: Ex1 2 found, 2 checked; Ex2 8/8; Ex3 7/7; Ex4 6/6; Ex5 8 found, 7 checked; 1 course-wide suggestion.
"""
from __future__ import annotations

import math
from functools import cached_property, lru_cache

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet, Partial
from .heldout import digits_heldout
from .model_data import ModelRejected, compile_summary, one_line, predict, rebuild_model, report_model

#: Rows of the scaled digits' training split used for training; the rest of that split is validation.
N_FIT = 1047
#: The bottleneck of the autoencoder the notebook trains for the detector (Exercise 4).
BOTTLENECK = 8
#: The hidden width every autoencoder of the notebook uses.
HIDDEN = 32
#: The detector's ROC AUC on normal test digits mixed with injected anomalies must be at least this.
#: The reference reaches about 0.99.
AUC_THRESHOLD = 0.90
#: The detector's autoencoder may have at most this many parameters. The notebook builds build_autoencoder(8, 32),
#: 4,744 of them; a "model" that stores the 1,797 public digits as prototypes needs over 100,000.
MAX_TRAINED_PARAMS = 10_000
#: Exercise 5: the bottleneck sizes the notebook tries, and the validation error the chosen one must reach.
SWEEP_SIZES = (2, 4, 8, 16)
TARGET_ERROR = 0.025
#: The chosen model's error on the grader's held-out digits (perturbed, so a little above its validation error)
#: must be at most this. Over seeds the reference's size 8 gets about 0.019 and size 4 about 0.028.
HELDOUT_LIMIT = 0.03
#: A sweep model whose held-out error is this high was not trained to reconstruct (the average digit gives 0.074).
UNTRAINED_ERROR = 0.06
_MSE_LOSSES = {"mse", "mean_squared_error", "meansquarederror"}


# ----------------------------------------------------------------------------- data the notebook shares
@lru_cache(maxsize=1)
def _digits():
    from coursekit.data import digits_split

    X_all, X_test, y_all, y_test = digits_split()
    return X_all, X_test, y_all, y_test


def digit_sets():
    """Scaled 8x8 digits, flattened to 64 values in [0, 1]: (X_train, X_val, X_test, y_train, y_val, y_test).

    scikit-learn's digits split by `coursekit.data.digits_split()` (1347 training rows, 450 test rows); the
    first 1047 training rows train the autoencoder and the last 300 are the validation set.
    """
    X_all, X_test, y_all, y_test = _digits()
    return (X_all[:N_FIT].copy(), X_all[N_FIT:].copy(), X_test.copy(),
            y_all[:N_FIT].copy(), y_all[N_FIT:].copy(), y_test.copy())


def corrupt_digits(X, seed: int = 0):
    """Anomalous images made from digits X (n, 64), three kinds in turn, the same for the same seed.

    kind 0: pure noise, every pixel uniform in [0, 1];
    kind 1: the digit with a bright 4x4 block pasted at a random place;
    kind 2: the digit under heavy Gaussian noise (standard deviation 0.35), clipped to [0, 1].
    """
    rng = np.random.default_rng(seed)
    out = []
    for k, x in enumerate(np.asarray(X, dtype=np.float64)):
        kind = k % 3
        if kind == 0:
            image = rng.uniform(0.0, 1.0, 64)
        elif kind == 1:
            image = x.reshape(8, 8).copy()
            r, c = rng.integers(0, 5, 2)
            image[r:r + 4, c:c + 4] = 1.0
            image = image.ravel()
        else:
            image = np.clip(x + rng.normal(0.0, 0.35, 64), 0.0, 1.0)
        out.append(image)
    return np.asarray(out, dtype="float32").reshape(-1, 64)


def anomaly_test_set(n_normal: int = 300, n_anomalous: int = 150, seed: int = 0):
    """Held-out test digits mixed with anomalies made from other test digits, shuffled.

    Returns (X_new of shape (n_normal + n_anomalous, 64), is_anomaly of shape (n,), 1 for an anomaly).
    """
    X_test = _digits()[1]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X_test))
    normal = X_test[order[:n_normal]]
    anomalies = corrupt_digits(X_test[order[n_normal:n_normal + n_anomalous]], seed=seed + 1)
    X_new = np.concatenate([normal, anomalies]).astype("float32")
    is_anomaly = np.concatenate([np.zeros(n_normal, dtype=int), np.ones(len(anomalies), dtype=int)])
    shuffle = rng.permutation(len(X_new))
    return X_new[shuffle], is_anomaly[shuffle]


def heldout_anomaly_set(rng: np.random.Generator, n_normal: int = 200, n_anomalous: int = 60):
    """Like `anomaly_test_set`, from test digits perturbed with `rng` (see heldout.py): the grader's own mix.

    Returns (X of shape (n_normal + n_anomalous, 64), is_anomaly of shape (n,)), shuffled; no row of X is a
    row of the public data set.
    """
    X, _ = digits_heldout(rng, n_normal + n_anomalous)
    X = X[rng.permutation(len(X))]
    anomalies = corrupt_digits(X[n_normal:], seed=int(rng.integers(0, 2**31)))
    X_new = np.concatenate([X[:n_normal], anomalies]).astype("float32")
    is_anomaly = np.concatenate([np.zeros(n_normal, dtype=int), np.ones(len(anomalies), dtype=int)])
    shuffle = rng.permutation(len(X_new))
    return X_new[shuffle], is_anomaly[shuffle]


# ----------------------------------------------------------------------------- models reported by a kernel
def _reconstruct(model, X) -> np.ndarray:
    """The rebuilt model's reconstructions of X, computed here."""
    return predict(model, np.asarray(X, dtype="float32"))


# ----------------------------------------------------------------------------- models reported by a kernel
def _reconstruct(model, X) -> np.ndarray:
    """The rebuilt model's reconstructions of X, computed here."""
    return predict(model, np.asarray(X, dtype="float32"))


def _row_mse(X, X_hat):
    return np.mean((np.asarray(X, dtype=np.float64) - np.asarray(X_hat, dtype=np.float64)) ** 2, axis=1)


# ----------------------------------------------------------------------------- shared helpers
def _dense_and_activation_layers(model, keras) -> list:
    """The Dense and Activation layers of a model in call order, looking inside nested models."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_dense_and_activation_layers(layer, keras))
        elif isinstance(layer, keras.layers.Dense):
            config = layer.get_config()
            found.append({"kind": "Dense", "units": int(config["units"]), "activation": str(config.get("activation")),
                          "use_bias": bool(config.get("use_bias", True))})
        elif isinstance(layer, keras.layers.Activation):
            found.append({"kind": "Activation", "activation": str(layer.get_config().get("activation"))})
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append({"kind": type(layer).__name__})
    return found


def _dense_stack(layers: list) -> list:
    """(units, activation) of each Dense layer, with a following Activation layer folded into it."""
    stack = []
    for entry in layers:
        if entry.get("kind") == "Dense":
            stack.append([entry["units"], entry.get("activation") or "linear"])
        elif entry.get("kind") == "Activation" and stack and stack[-1][1] == "linear":
            stack[-1][1] = entry.get("activation") or "linear"
    return stack


def _autoencoder_params(bottleneck: int, hidden: int = HIDDEN) -> int:
    """Parameters of 64 -> hidden -> bottleneck -> hidden -> 64 with biases: 64h + h, hb + b, bh + h, 64h + 64."""
    return 64 * hidden + hidden + hidden * bottleneck + bottleneck + bottleneck * hidden + hidden + hidden * 64 + 64


def _rejected(exc: Exception) -> str:
    """A ModelRejected message without the exception Keras raised inside the grader while reading the config:
    the student learns that the configuration cannot be read, not the grader's traceback vocabulary."""
    import re

    text = re.sub(r" \([A-Z]\w*(?:Error|Exception): .*?\)(?=;|$)", " (Keras cannot read it)", str(exc).rstrip("."))
    return re.sub(r" \([A-Z]\w*(?:Error|Exception): [^)]*$", " (Keras cannot read it)", text)


def _none_model_message(name: str, exercise: str) -> str:
    return (f"{name} is None: a function it needs is not implemented yet, or the cell that trains it stopped with "
            f"an error. Finish {exercise} and fix any error that cell shows.")


# ----------------------------------------------------------------------------- Exercise 2: build_autoencoder
#: The batch the grader runs a built model on for the public cases (three random "images").
_PROBE = np.random.default_rng(0).uniform(0, 1, (3, 64)).astype("float32")


def _build_facts(model, probe) -> dict:
    """What the build check looks at, computed here from the rebuilt model and the grader's probe batch."""
    import keras

    summary = compile_summary(model)
    facts = {"layers": _dense_and_activation_layers(model, keras), "compiled": summary["compiled"],
             "loss": str(summary.get("loss") or "") if summary["compiled"] else "",
             "optimizer": str(summary.get("optimizer") or ""), "learning_rate": summary.get("learning_rate"),
             "n_params": int(model.count_params())}
    try:
        outputs = predict(model, probe)
        facts["output_shape"] = [int(d) for d in outputs.shape]
        facts["output_range"] = [float(outputs.min()), float(outputs.max())]
    except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is a finding
        facts["call_error"] = f"{type(exc).__name__}: {one_line(exc, 200)}"
    return facts


class BuildAutoencoder(Check):
    """The kernel reports the model build_autoencoder returns (config and weights); its layers, compile
    settings, parameter count and outputs on a grader-only probe batch are computed by the grader.

    The statement gives a builder with four bugs. Each fix is a separable requirement worth a quarter of the
    points (core.Partial): the code size, a linear code, a sigmoid output, and the compile settings. The rest
    of the structure (hidden layers, 64 inputs and outputs) is given right in the buggy code; an answer that
    breaks it is not an autoencoder of the kind asked for and gets no credit."""
    name = "build_autoencoder"
    signature = "build_autoencoder(bottleneck, hidden)"
    expected_form = "a compiled keras.Model"
    # Expected parameter counts, worked out by hand: 64*h + h, h*b + b, b*h + h, h*64 + 64.
    public_cases = (Case({"bottleneck": 4, "hidden": 32, "_probe": _PROBE, "_public": True}, {"n_params": 4484},
                         "bottleneck=4, hidden=32"),
                    Case({"bottleneck": 2, "hidden": 16, "_probe": _PROBE, "_public": True}, {"n_params": 2210},
                         "bottleneck=2, hidden=16"))

    def secret_inputs(self, rng):
        return [{"bottleneck": int(rng.integers(3, 17)), "hidden": int(rng.integers(20, 49)),
                 "_probe": rng.uniform(0, 1, (3, 64))} for _ in range(2)]

    def hidden_inputs(self, rng):
        # A one-number code, and a bottleneck as wide as the hidden layers.
        return [{"bottleneck": 1, "hidden": 4, "_probe": rng.uniform(0, 1, (3, 64))},
                {"bottleneck": 12, "hidden": 12, "_probe": rng.uniform(0, 1, (3, 64))}]

    def run(self, subject, inputs):
        return report_model(subject(int(inputs["bottleneck"]), int(inputs["hidden"])))

    def compare(self, inputs, got, expected):
        public = bool(inputs.get("_public"))
        sig = f"build_autoencoder({inputs['bottleneck']}, {inputs['hidden']})" if public else self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return f"{sig} returned None: return the compiled model."
            return (f"{sig} returned a {str(got.get('kind'))[:60]}, not a keras.Model: build it with "
                    "keras.Sequential([...]).")
        try:
            facts = _build_facts(rebuild_model(got), np.asarray(inputs.get("_probe", _PROBE), dtype="float32"))
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {_rejected(exc)}."
        if isinstance(expected, dict) and expected.get("is_model"):  # the reference's report
            expected = {"n_params": int(rebuild_model(expected).count_params())}
        return self._compare_facts(inputs, sig, public, facts, expected)

    def _compare_facts(self, inputs, sig, public, got, expected):
        bottleneck, hidden = int(inputs["bottleneck"]), int(inputs["hidden"])
        if "call_error" in got:
            return (f"The model from {sig} cannot read a batch of 64-pixel images: {got['call_error']}. "
                    "Start it with keras.Input(shape=(64,)).")
        stack = _dense_stack(got.get("layers") or [])
        others = sorted({e["kind"] for e in got.get("layers") or [] if e.get("kind") not in ("Dense", "Activation")})
        shown = " -> ".join(f"Dense({u}, {a})" for u, a in stack) or "no Dense layers"
        found = f" Layers found: {shown}." if public else ""
        if got.get("output_shape") != [3, 64]:
            return (f"The model from {sig} does not give back 64 pixels per image; an autoencoder returns an image "
                    f"of the same size as its input, so the last layer has 64 units.{found}")
        if others or len(stack) != 4:
            what = f"layers other than Dense ({', '.join(others)})" if others else f"{len(stack)} Dense layers"
            return (f"The model from {sig} has {what}; the builder has four Dense layers, as in the code given: "
                    f"hidden, code, hidden, output. Fix the four bugs and keep the rest.{found}")
        (h1, a1), (code, a_code), (h2, a2), (_, a_out) = stack
        if [h1, a1, h2, a2] != [hidden, "relu", hidden, "relu"]:
            return (f"The hidden layers of the model from {sig} should be Dense(hidden, activation='relu') on each "
                    f"side of the code, as in the code given.{found}")
        n_params, want_params = got.get("n_params"), (expected or {}).get("n_params")
        code_ok = code == bottleneck
        if code_ok and want_params is not None and n_params != want_params:
            count = f"{n_params} parameters, expected {want_params}" if public else \
                "a different number of parameters from the one asked for"
            return f"The model from {sig} has {count}: keep the biases (use_bias=True, the default) in every Dense layer."
        low, high = got.get("output_range") or [0.0, 1.0]
        sigmoid_ok = a_out == "sigmoid" and low >= -1e-6 and high <= 1 + 1e-6
        lr = got.get("learning_rate")
        compiled = bool(got.get("compiled") and got.get("loss"))
        loss_ok = compiled and str(got.get("loss")).lower() in _MSE_LOSSES
        optimizer_ok = compiled and got.get("optimizer") == "Adam" and lr is not None and abs(lr - 0.01) <= 1e-6
        messages = []
        if not code_ok:
            narrow = f" It squeezes each image through {code} numbers." if public else ""
            messages.append(f"Bug 1 is not fixed: the code layer must have `bottleneck` units, the argument, not a fixed "
                            f"number.{narrow}")
        if a_code != "linear":
            messages.append(f"Bug 2 is not fixed: the code layer uses activation {a_code!r}; a code that can take any "
                            "value (negative ones included) is linear, keras.layers.Dense(bottleneck) with no activation.")
        if not sigmoid_ok:
            where = f" (the outputs range over [{low:.3g}, {high:.3g}])" if public else ""
            messages.append(f"Bug 3 is not fixed: the output layer uses activation {a_out!r}{where}; pixels lie in "
                            "[0, 1], and a sigmoid output, activation='sigmoid', keeps every reconstructed pixel there.")
        if not compiled:
            messages.append("The model is not compiled: call model.compile(optimizer=keras.optimizers.Adam("
                            "learning_rate=0.01), loss='mse') before returning it.")
        else:
            wrong = []
            if not loss_ok:
                loss = str(got.get("loss"))[:40]
                why = (" (categorical cross-entropy treats the 64 pixels as one probability distribution, which an "
                       "image is not)" if "categorical" in loss.lower() else "")
                wrong.append(f"Bug 4 is not fixed: the loss is {loss!r}; the statement asks for the mean squared "
                             f"reconstruction error, loss='mse'{why}.")
            if not optimizer_ok:
                rate = f" with learning rate {lr:.3g}" if isinstance(lr, float) else ""
                wrong.append(f"The optimizer is {str(got.get('optimizer'))[:30]}{rate}; the statement asks for "
                             "keras.optimizers.Adam(learning_rate=0.01), as in the code given.")
            messages.extend(wrong)
        compile_ok = compiled and loss_ok and optimizer_ok
        met = [code_ok, a_code == "linear", sigmoid_ok, compile_ok]
        if all(met):
            return None
        return Partial(sum(met), 4, " ".join(messages))


# ----------------------------------------------------------------------------- Exercise 1: anomaly_scores
# (inputs, expected scores), worked out by hand: the mean over each row of the squared differences.
_SCORE_CASES = [
    (dict(X=np.array([[0.0, 0.5, 1.0, 0.25], [1.0, 1.0, 0.0, 0.0], [0.2, 0.4, 0.6, 0.8]]),
          X_hat=np.array([[0.1, 0.5, 0.7, 0.25], [0.5, 0.9, 0.2, 0.0], [0.2, 0.4, 0.6, 0.8]])),
     np.array([0.025, 0.075, 0.0])),
    (dict(X=np.array([[0.0, 0.0, 0.5, 1.0, 1.0], [0.75, 0.25, 0.0, 0.5, 1.0]]),
          X_hat=np.array([[0.2, 0.1, 0.5, 0.6, 0.9], [0.5, 0.5, 0.5, 0.5, 0.5]])),
     np.array([0.044, 0.125])),
]


def _squared(inp):
    return (np.asarray(inp["X"], dtype=np.float64) - np.asarray(inp["X_hat"], dtype=np.float64)) ** 2


_SCORE_DIAGNOSES = [
    (lambda got, exp, inp: close(got, exp * np.shape(inp["X"])[1], 1e-5),
     "Those are sums over each row: the statement asks for the mean squared error per row, so divide by the "
     "number of pixels (np.mean(..., axis=1), not np.sum)."),
    (lambda got, exp, inp: close(got, np.sqrt(exp), 1e-5),
     "That is the root of the mean squared error: the score is the mean squared error itself, without np.sqrt."),
    (lambda got, exp, inp: close(got, np.mean(np.sqrt(_squared(inp)), axis=1), 1e-5),
     "That is the mean absolute error per row: square the differences, (X - X_hat) ** 2, before averaging."),
    (lambda got, exp, inp: close(got, np.mean(_squared(inp), axis=0), 1e-5),
     "Those are per-feature (per-pixel) errors, averaged down each column (axis=0): an anomaly score belongs to "
     "a sample, so average across each row, axis=1."),
    (lambda got, exp, inp: close(got, np.mean(np.asarray(inp["X"], float) - np.asarray(inp["X_hat"], float), axis=1), 1e-5)
     or close(got, np.mean(np.asarray(inp["X_hat"], float) - np.asarray(inp["X"], float), axis=1), 1e-5),
     "Those are mean differences, where errors of opposite signs cancel: square the differences first."),
]


class AnomalyScores(Check):
    name = "anomaly_scores"
    signature = "anomaly_scores(X, X_hat)"
    expected_form = "an array of shape (n,), one score per row"
    public_cases = tuple(Case(inputs, expected, label) for (inputs, expected), label in
                         zip(_SCORE_CASES, ("3 images of 4 pixels", "2 images of 5 pixels")))

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            n, d = int(rng.integers(2, 9)), int(rng.integers(3, 70))
            while d == n:
                d += 1
            X = rng.uniform(0, 1, (n, d))
            cases.append({"X": X, "X_hat": np.clip(X + rng.normal(0, 0.2, (n, d)), 0, 1)})
        return cases

    def hidden_inputs(self, rng):
        # A single image (float32, as Keras returns it), and as many images as pixels, where the axis matters
        # but the shape cannot tell.
        X = rng.uniform(0, 1, (1, 64)).astype("float32")
        Y = rng.uniform(0, 1, (6, 6))
        return [{"X": X, "X_hat": np.clip(X + rng.normal(0, 0.1, (1, 64)), 0, 1).astype("float32")},
                {"X": Y, "X_hat": rng.uniform(0, 1, (6, 6))}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        expected = np.asarray(expected, dtype=np.float64)
        n, d = np.shape(inputs["X"])
        shape = np.shape(got) if got is not None and not isinstance(got, (str, dict)) else None
        if shape == () or shape == (1,) and n != 1:
            return (f"{sig} returned one number, {fmt(got)}: that averages over every pixel of every image. Return "
                    f"one score per image (row), an array of shape ({n},): np.mean(..., axis=1).")
        if shape == (d,) and d != n:
            return (f"{sig} returned shape ({d},), one value per feature: those are per-feature (per-pixel) errors "
                    f"(axis=0). An anomaly score belongs to a sample: average across each row, axis=1, for shape ({n},).")
        if shape == (n, d):
            return (f"{sig} returned shape ({n}, {d}), the squared error of every pixel: average each row to one "
                    f"score, np.mean(..., axis=1), for shape ({n},).")
        if shape == (n, 1):
            return f"{sig} returned shape ({n}, 1); return a 1-D array of shape ({n},) (no keepdims)."
        return compare_array(sig, got, expected, inputs, diagnoses=_SCORE_DIAGNOSES, tol=1e-5)


# ----------------------------------------------------------------------------- Exercise 3: choose_threshold
def _allowed(n: int, rate: float) -> int:
    """How many of n validation scores may lie above the threshold: the whole part of rate * n."""
    return int(math.floor(rate * n + 1e-9))


def _sorted_at(scores, index: int):
    s = np.sort(np.asarray(scores, dtype=np.float64))
    return float(s[index]) if 0 <= index < len(s) else None


def _threshold_mistakes(inp) -> list[tuple[float | None, str]]:
    """(value a common mistake returns, advice) for one input; values a mistake cannot produce are None."""
    scores = np.asarray(inp["val_scores"], dtype=np.float64)
    n, rate = len(scores), float(inp["max_false_alarm_rate"])
    k = _allowed(n, rate)
    with np.errstate(all="ignore"):
        interpolated = float(np.percentile(scores, 100 * (1 - rate))) if 0 <= rate <= 1 else None
        low_quantile = float(np.quantile(scores, rate)) if 0 <= rate <= 1 else None
    return [
        (_sorted_at(scores, n - 2 - k),
         "That threshold leaves one score more above it than max_false_alarm_rate allows: at most "
         "floor(max_false_alarm_rate * n) scores may lie above it (round rate * n down, never up), and the "
         "threshold is the score just below them, sorted_scores[n - 1 - k]."),
        (_sorted_at(scores, n - k) if k >= 1 else None,
         "That threshold leaves one score fewer above it than the budget allows: the next score down also keeps "
         "the false alarms within max_false_alarm_rate, and the lowest such threshold catches more anomalies. "
         "A score equal to the threshold is not above it."),
        (float(np.max(scores)) if k >= 1 else None,
         "That is the largest validation score, which flags no normal image at all: the budget allows "
         "floor(max_false_alarm_rate * n) of them, and the lowest threshold that stays within it catches more "
         "anomalies."),
        (interpolated,
         "That is np.percentile(val_scores, 100 * (1 - rate)), which interpolates between two neighbouring scores: "
         "the statement asks for one of the validation scores itself, the lowest that keeps the false alarms "
         "within the budget."),
        (low_quantile,
         "That is the max_false_alarm_rate quantile, a low threshold that most normal scores exceed: the rate is "
         "the share of scores allowed *above* the threshold."),
        (float(n - 1 - k),
         "That is the position of the threshold in the sorted scores, not the score: return sorted_scores[n - 1 - k]."),
    ]


# (inputs, expected threshold), worked out by hand: k = floor(rate * n) scores may lie above it, so the threshold is
# the (n - k)th smallest score.
_THRESHOLD_CASES = [
    (dict(val_scores=np.array([0.3, 0.1, 0.7, 0.2, 0.5, 0.4, 0.9, 0.6, 0.8, 0.35]), max_false_alarm_rate=0.2), 0.7,
     "10 scores, at most 20% above"),
    (dict(val_scores=np.array([0.012, 0.034, 0.008, 0.021, 0.05, 0.017, 0.029]), max_false_alarm_rate=0.4), 0.029,
     "7 scores, at most 40% above (2.8 scores: 2)"),
    (dict(val_scores=np.array([0.02, 0.02, 0.02, 0.05, 0.05, 0.01]), max_false_alarm_rate=0.25), 0.05,
     "6 scores with ties, at most 25% above"),
    (dict(val_scores=np.array([0.3, 0.1, 0.4, 0.1, 0.5]), max_false_alarm_rate=0.0), 0.5, "no false alarm allowed"),
]


def _safe_rate(rng, n: int) -> float:
    """A rate whose rate * n is not a float just below a whole number (where floor would depend on rounding)."""
    for rate in rng.permutation([0.05, 0.1, 0.02, 0.2, 0.15, 0.08]):
        product = float(rate) * n
        if not (0 < round(product) - product < 1e-6):
            return float(rate)
    return 0.1


class ChooseThreshold(Check):
    name = "choose_threshold"
    signature = "choose_threshold(val_scores, max_false_alarm_rate)"
    expected_form = "a single number, one of the validation scores"
    public_cases = tuple(Case(inputs, expected, label) for inputs, expected, label in _THRESHOLD_CASES)

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            n = int(rng.integers(20, 90))
            cases.append({"val_scores": rng.gamma(2.0, 0.01, n), "max_false_alarm_rate": _safe_rate(rng, n)})
        n = int(rng.integers(30, 60))  # scores rounded to 3 decimals: many ties
        cases.append({"val_scores": np.round(rng.gamma(2.0, 0.005, n), 3), "max_false_alarm_rate": _safe_rate(rng, n)})
        return cases

    def hidden_inputs(self, rng):
        # A single score, no false alarm allowed, and every score equal.
        return [{"val_scores": rng.uniform(0, 1, 1), "max_false_alarm_rate": 0.05},
                {"val_scores": rng.uniform(0, 1, 9), "max_false_alarm_rate": 0.0},
                {"val_scores": np.full(8, 0.03), "max_false_alarm_rate": 0.25}]

    def run(self, subject, inputs):
        scores = np.array(inputs["val_scores"])
        result = subject(scores, float(inputs["max_false_alarm_rate"]))
        return {"threshold": np.asarray(result, dtype=np.float64) if result is not None else None,
                "mutated": not np.array_equal(scores, np.asarray(inputs["val_scores"]))}

    def compare(self, inputs, got, expected):
        sig = self.signature
        expected = expected.get("threshold") if isinstance(expected, dict) else expected
        if not isinstance(got, dict):
            return self.unreadable(got)
        value = got.get("threshold")
        if value is None:
            return f"{sig} returned None: return the threshold, a single number."
        if np.size(value) != 1:
            return f"{sig} returned {np.size(value)} values ({fmt(value)}); return a single number."
        value = float(np.reshape(np.asarray(value, dtype=np.float64), ()))
        if close(value, expected, 1e-7):
            if got.get("mutated"):
                return (f"{sig} returns the right threshold but sorts val_scores in place (val_scores.sort()): the "
                        "caller's array changes order. Use np.sort(val_scores), which returns a sorted copy.")
            return None
        diagnoses = [(lambda g, e, i, wrong=wrong: wrong is not None and close(g, wrong, 1e-9), advice)
                     for wrong, advice in _threshold_mistakes(inputs)]
        return compare_array(sig, value, expected, inputs, diagnoses=diagnoses, tol=1e-7)


# ----------------------------------------------------------------------------- Exercise 4: detect_anomalies
#: Relative tolerance between an error the kernel computed and the grader's for the same model and image.
_SAME_ERROR = 5e-6


def _count_above(scores, threshold) -> int:
    return int(np.sum(np.asarray(scores) > threshold))


class DetectAnomalies(Check):
    """Judged on the student's own autoencoder: the scores the function returns, where its threshold sits
    among the model's validation scores, the flags, and the ROC AUC of the model's scores on a grader-only
    mix of perturbed test digits and injected anomalies.

    The kernel reports the model (config and weights, taken before the student's function runs) and what
    the function returned for X_val and X_new; the grader rebuilds the model and computes every
    reconstruction error itself. The AUC is measured on `_X_eval`, which the kernel never sees."""
    name = "detect_anomalies"
    signature = "detect_anomalies(model, X_val, X_new, max_false_alarm_rate)"
    expected_form = "a triple (scores, threshold, flags)"

    @cached_property
    def public_cases(self):
        X_new, _ = anomaly_test_set(300, 150, seed=0)
        X_eval, is_anomaly = heldout_anomaly_set(np.random.default_rng(13_001), 300, 150)
        return (Case({"X_val": digit_sets()[1], "X_new": X_new, "max_false_alarm_rate": 0.05, "_X_eval": X_eval,
                      "_eval_is_anomaly": is_anomaly}, None,
                     "300 test digits and 150 injected anomalies, at most 5% false alarms"),)

    def secret_inputs(self, rng):
        X_new, _ = anomaly_test_set(200, 60, seed=int(rng.integers(1, 10**6)))
        X_eval, is_anomaly = heldout_anomaly_set(rng, 200, 60)
        return [{"X_val": digit_sets()[1], "X_new": X_new, "max_false_alarm_rate": float(rng.choice([0.1, 0.03])),
                 "_X_eval": X_eval, "_eval_is_anomaly": is_anomaly}]

    def run(self, subject, inputs):
        import keras

        detect, model = subject
        if not isinstance(model, keras.Model):
            return {"is_model": False, "kind": type(model).__name__}
        record = report_model(model)  # before the function runs: it cannot change the model it is judged by
        X_val = np.asarray(inputs["X_val"], dtype="float32")
        X_new = np.asarray(inputs["X_new"], dtype="float32")
        result = detect(model, X_val.copy(), X_new.copy(), float(inputs["max_false_alarm_rate"]))
        if isinstance(result, (tuple, list)):
            result = tuple(np.asarray(v) if hasattr(v, "numpy") or hasattr(v, "__array__") else v for v in result)
        return {"is_model": True, "model": record, "result": result}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return _none_model_message("autoencoder", "Exercise 2 (build_autoencoder)")
            return f"autoencoder is a {str(got.get('kind'))[:60]}, not a keras.Model."
        try:
            model = rebuild_model(got.get("model"))
        except ModelRejected as exc:
            return f"The autoencoder given to {sig} cannot be checked: {_rejected(exc)}."
        # The model's own reconstruction errors, computed here: where the student's threshold sits among them.
        try:
            errors = {name: _row_mse(X, _reconstruct(model, X)) for name, X in
                      (("val", inputs["X_val"]), ("new", inputs["X_new"]), ("train", digit_sets()[0]),
                       ("eval", inputs["_X_eval"]))}
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is the student's to fix
            return (f"The autoencoder given to {sig} cannot read images of 64 pixels: "
                    f"{type(exc).__name__}: {one_line(exc, 200)}.")
        result = got.get("result")
        if not isinstance(result, tuple) or len(result) != 3:
            return (f"{sig} should return three things, (scores, threshold, flags), but returned "
                    f"{type(result).__name__}{'' if not isinstance(result, tuple) else f' of {len(result)} values'}.")
        scores, threshold, flags = result
        n = len(inputs["X_new"])
        if np.shape(scores) != (n,):
            if np.shape(scores) == (64,):
                return (f"{sig} returned scores of shape (64,), one per pixel: those are per-feature errors (axis=0). "
                        f"Score each image of X_new, shape ({n},): anomaly_scores(X_new, model.predict(X_new)) "
                        "(if the check of Exercise 1 fails, fix that first).")
            return f"{sig} returned scores of shape {np.shape(scores)}; expected ({n},), one score per image of X_new."
        scores = np.asarray(scores, dtype=np.float64)
        want = np.asarray(errors["new"], dtype=np.float64)
        if not np.allclose(scores, want, rtol=1e-3, atol=1e-7):
            if np.allclose(scores, want * 64, rtol=1e-3, atol=1e-6):
                return (f"{sig} returned scores 64 times too large: sums, not means. Use anomaly_scores (the mean "
                        "squared error of each image).")
            return (f"{sig} returned scores {fmt(scores)}, but the autoencoder's mean squared reconstruction errors "
                    f"of X_new are {fmt(want)}: score X_new with anomaly_scores(X_new, model.predict(X_new)).")
        if np.size(threshold) != 1:
            return f"{sig} returned a threshold with {np.size(threshold)} values; return one number."
        try:
            threshold = float(np.reshape(np.asarray(threshold, dtype=np.float64), ()))
        except (TypeError, ValueError):
            return f"{sig} returned a threshold of type {type(threshold).__name__}; return one number."
        rate = float(inputs["max_false_alarm_rate"])
        val, new, train = (np.asarray(errors[k], dtype=np.float64) for k in ("val", "new", "train"))
        k = _allowed(len(val), rate)
        want = _sorted_at(val, len(val) - 1 - k)
        # The kernel's and the grader's reconstruction errors of the same model agree to about 3e-7 (relative).
        if not (abs(threshold - want) <= _SAME_ERROR * abs(want) + 1e-12):
            above = _count_above(val, threshold)
            where = (f"{sig} returned the threshold {threshold:.5g}, which {above} of the {len(val)} validation "
                     f"scores exceed; the lowest validation score with at most {k} above it (a false-alarm rate of "
                     f"{rate:g}) is {want:.5g}.")
            if abs(threshold - (_sorted_at(train, len(train) - 1 - _allowed(len(train), rate)) or -1.0)) <= \
                    _SAME_ERROR * abs(threshold):
                return (f"{where} Your threshold comes from the training scores: the autoencoder has seen those "
                        "images, so they reconstruct too well and the threshold is too low. Choose it on the "
                        "validation scores, anomaly_scores(X_val, model.predict(X_val)).")
            if abs(threshold - (_sorted_at(new, n - 1 - _allowed(n, rate)) or -1.0)) <= _SAME_ERROR * abs(threshold):
                return (f"{where} Your threshold comes from the scores of X_new, the very data that contains the "
                        "anomalies: it must come from normal data the model did not train on, the validation "
                        "scores of X_val.")
            if above == k and not np.any(np.abs(val - threshold) <= _SAME_ERROR * abs(threshold)):
                return (f"{where} It lets the right number of scores above it, but it is not one of the validation "
                        "scores: it was interpolated (np.percentile). Use your choose_threshold from Exercise 3.")
            return (f"{where} Use choose_threshold(anomaly_scores(X_val, model.predict(X_val)), "
                    "max_false_alarm_rate), and check that Exercise 3 passes.")
        flags = np.asarray(flags)
        if flags.shape != (n,):
            return f"{sig} returned flags of shape {flags.shape}; expected ({n},), one True/False per image of X_new."
        if flags.dtype != bool:
            return (f"{sig} returned flags of dtype {flags.dtype}; the statement asks for a boolean array, True where an "
                    "image is flagged: the comparison scores > threshold gives one.")
        if np.array_equal(flags, scores < threshold) or np.array_equal(flags, scores <= threshold):
            return (f"{sig} flags the images that score below the threshold: the flags are reversed. An anomaly "
                    "reconstructs badly, so flag the scores above it: flags = scores > threshold.")
        if not (np.array_equal(flags, scores > threshold) or np.array_equal(flags, scores >= threshold)):
            return (f"{sig} returned {int(flags.sum())} flags, but {int(np.sum(scores > threshold))} scores lie "
                    "above its threshold: flags = scores > threshold.")
        from sklearn.metrics import roc_auc_score

        n_params = int(model.count_params())
        if n_params > MAX_TRAINED_PARAMS:
            return (f"{sig} is right, but the autoencoder it was given has {n_params:,} parameters, and "
                    f"build_autoencoder({BOTTLENECK}, {HIDDEN}) has {_autoencoder_params(BOTTLENECK):,}: a network that "
                    "large can store digits instead of compressing them, so its errors say nothing about anomalies. "
                    "Check that Exercise 2 passes.")
        # The function is right, so its scores are the model's errors: measure them on the grader's own mix.
        labels = np.asarray(inputs["_eval_is_anomaly"])
        auc = float(roc_auc_score(labels, np.asarray(errors["eval"], dtype=np.float64)))
        if auc >= AUC_THRESHOLD:
            return None
        return (f"Scored the same way, the autoencoder separates {int(labels.sum())} injected anomalies from "
                f"{int(len(labels) - labels.sum())} normal test digits with ROC AUC {auc:.3f}; at least "
                f"{AUC_THRESHOLD} is needed (the reference gets about 0.99). The function is right, so the "
                "autoencoder is not: check that Exercise 2 passes and that the training cell ran.")


# ----------------------------------------------------------------------------- Exercise 5: the bottleneck sweep
def _rule_choice(sizes, errors, target):
    """The rule of choose_bottleneck, for judging the notebook's own choice from the errors it measured."""
    pairs = sorted(zip((int(s) for s in sizes), (float(e) for e in errors)))
    meeting = [size for size, error in pairs if error <= target]
    return meeting[0] if meeting else min(pairs, key=lambda p: (p[1], p[0]))[0]


#: (sizes, errors, target, the right choice): public cases of choose_bottleneck, worked out by hand. The sizes
#: are not in increasing order, one error equals the target exactly, in one case no size meets it, and together
#: they tell the common wrong rules apart (see _WRONG_RULES): each gives a different list of answers.
_CHOICE_CASES = [
    ([8, 2, 16, 4], [0.018, 0.041, 0.0115, 0.024], 0.025, 4),
    ([4, 8, 2], [0.03, 0.02, 0.025], 0.025, 2),
    ([3, 12, 6], [0.05, 0.031, 0.04], 0.025, 12),
    ([2, 4, 8, 16], [0.04, 0.02, 0.01, 0.015], 0.025, 4),
]


def _lowest(by_size: dict) -> int:
    return min(by_size, key=lambda s: (by_size[s], s))


#: Common wrong rules for choose_bottleneck, each with the advice that names it. A rule is named only when it,
#: and no other, reproduces every answer the student's function gave.
_WRONG_RULES = [
    (lambda d, t: _lowest(d),
     "it picks the size with the lowest error, but the rule asks for the smallest size whose error is at most the "
     "target: a narrower code that is good enough compresses more."),
    (lambda d, t: max([s for s, e in d.items() if e <= t], default=_lowest(d)),
     "it picks the largest size that meets the target; the rule asks for the smallest."),
    (lambda d, t: min([s for s, e in d.items() if e < t], default=_lowest(d)),
     "an error equal to the target meets it: compare with <=, not <."),
    (lambda d, t: next((s for s, e in d.items() if e <= t), _lowest(d)),
     "it returns the first size in the dict that meets the target, but the dict is in no particular order: take "
     "the smallest of the sizes that meet it."),
]


def _choice_case(sizes, errors, target) -> dict:
    return {"sizes": [int(s) for s in sizes], "errors": [float(e) for e in errors], "target": float(target)}


def _random_choices(rng) -> list[dict]:
    """Dicts of the kind a sweep produces, shuffled: errors falling with the size, with some noise."""
    cases = []
    for kind in ("some meet", "none meet", "a tie", "not monotone"):
        sizes = [int(s) for s in rng.choice([1, 2, 3, 4, 6, 8, 12, 16, 24, 32], size=int(rng.integers(3, 7)),
                                            replace=False)]
        errors = [round(0.09 / (1 + s) ** 0.6 + float(rng.normal(0, 0.002)), 4) for s in sizes]
        errors = [e + 0.0001 * errors[:i].count(e) for i, e in enumerate(errors)]  # no two errors equal
        ordered = sorted(errors)
        if kind == "some meet":
            target = round((ordered[len(ordered) // 2] + ordered[len(ordered) // 2 - 1]) / 2, 5)
        elif kind == "none meet":
            target = round(ordered[0] * 0.8, 5)
        elif kind == "a tie":  # the second-lowest error equals the target exactly
            target = ordered[1]
        else:  # the smallest size meets the target, and so does the one with the lowest error; those between do not
            target = round(ordered[0] + 0.0005, 5)
            errors[sizes.index(min(sizes))] = round(target - 0.0002, 5)
        order = rng.permutation(len(sizes))
        cases.append(_choice_case([sizes[i] for i in order], [errors[i] for i in order], target))
    return cases


_TRAINING_ERROR_ADVICE = ("Those are the errors on the training images: the models have seen them, so they "
                          "reconstruct them too well. Measure each model on X_val, the validation images.")


class BottleneckSweep(Check):
    """One trained sweep (the notebook's locked cell trains it once) and choose_bottleneck on dicts the grader picks.

    The kernel reports each model of the sweep (config and weights), the validation error the student measured for
    it, the student's choice from those errors, and choose_bottleneck's answers on the grader's dicts. The grader
    rebuilds the models and judges four separable requirements (core.Partial, a quarter of the points each):
    the models (one per size, built with build_autoencoder(size) and trained), the measurement (each error is the
    mean of anomaly_scores over X_val, recomputed here), the rule of choose_bottleneck, and the chosen model's
    reconstruction error on held-out digits the kernel never sees."""
    name = "bottleneck_sweep"
    signature = "sweep_bottlenecks / choose_bottleneck"
    expected_form = "the dict {size: (model, validation error)} and a choice"

    @cached_property
    def public_cases(self):
        return (Case({"sizes": list(SWEEP_SIZES), "target": TARGET_ERROR,
                      "choices": [_choice_case(s, e, t) for s, e, t, _ in _CHOICE_CASES],
                      "_X": digits_heldout(np.random.default_rng(13_002), 300)[0]},
                     {"choices": [c for *_, c in _CHOICE_CASES]},
                     "the notebook's sweep, and three dicts for choose_bottleneck"),)

    def secret_inputs(self, rng):
        return [{"sizes": list(SWEEP_SIZES), "target": TARGET_ERROR, "choices": _random_choices(rng),
                 "_X": digits_heldout(rng, 300)[0]}]

    def run(self, subject, inputs):
        choose, sweep = subject
        report: dict = {}
        if not isinstance(sweep, dict):
            return {"sweep_kind": type(sweep).__name__}
        entries = []
        for size, value in sweep.items():
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                return {"sweep_kind": f"dict whose values are {type(value).__name__}s, not (model, error) pairs"}
            model, error = value
            try:
                entries.append({"size": int(size), "model": report_model(model),
                                "error": float(np.asarray(error, dtype=np.float64).reshape(()))})
            except (TypeError, ValueError):
                return {"sweep_kind": "dict whose sizes or validation errors are not single numbers"}
        report["entries"] = entries

        def call(errors_by_size, target):
            try:
                result = choose(errors_by_size, target)
            except Exception as exc:  # noqa: BLE001 - the student's error, reported per dict
                return {"error": f"{type(exc).__name__}: {one_line(exc, 120)}"}
            try:
                return {"ok": int(np.asarray(result).reshape(()))}
            except (TypeError, ValueError):
                return {"returned": type(result).__name__}

        report["own_choice"] = call({e["size"]: e["error"] for e in entries}, float(inputs["target"]))
        report["choices"] = [call(dict(zip(c["sizes"], c["errors"])), float(c["target"])) for c in inputs["choices"]]
        return report

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if "sweep_kind" in got:
            kind = str(got["sweep_kind"])[:60]
            if kind == "NoneType":
                return ("sweep is None: sweep_bottlenecks is not implemented yet, or the cell that runs it stopped with "
                        "an error. Finish Exercise 5 and fix any error that cell shows.")
            return (f"sweep_bottlenecks returned a {kind}; it should return a dict {{size: (model, validation "
                    "error)}}, one entry per bottleneck size.")
        entries = got.get("entries")
        if not (isinstance(entries, list) and all(isinstance(e, dict) and {"size", "model", "error"} <= set(e)
                                                  and isinstance(e["size"], int) and isinstance(e["error"], float)
                                                  for e in entries)
                and isinstance(got.get("own_choice"), dict) and isinstance(got.get("choices"), list)):
            return self.unreadable(got)
        sizes = [int(s) for s in inputs["sizes"]]
        target = float(inputs["target"])
        X_val = digit_sets()[1]
        X_train = digit_sets()[0]
        X_held = np.asarray(inputs["_X"], dtype=np.float64)
        models_msg, measure_msg = [], []
        measured = {}
        held = {}
        reported = {int(e["size"]): float(e["error"]) for e in entries}
        if sorted(reported) != sorted(sizes):
            models_msg.append(f"The sweep has the sizes {sorted(reported)}; it should have one model for each of "
                              f"{sizes}.")
        for entry in entries:
            size = int(entry["size"])
            try:
                model = rebuild_model(entry["model"], compile=False)
                units = [u for u, _ in _dense_stack(_dense_and_activation_layers(model, __import__("keras")))]
                val_rec, held_rec, train_rec = (_reconstruct(model, X) for X in (X_val, X_held, X_train))
            except ModelRejected as exc:
                models_msg.append(f"The model for size {size} cannot be checked: {_rejected(exc)}.")
                continue
            except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is the student's to fix
                models_msg.append(f"The model for size {size} cannot read 64-pixel images: {type(exc).__name__}.")
                continue
            val_err = float(np.mean((val_rec - X_val) ** 2))
            if len(units) < 2 or min(units[:-1]) != size:
                narrowest = min(units[:-1]) if len(units) > 1 else None
                models_msg.append(f"The model for size {size} has a code of {narrowest} numbers: build each one with "
                                  "build_autoencoder(size), not with a fixed bottleneck (if Exercise 2 reports bug 1, "
                                  "fix it there first).")
            elif int(model.count_params()) > MAX_TRAINED_PARAMS:
                models_msg.append(f"The model for size {size} has {int(model.count_params()):,} parameters: build it "
                                  f"with build_autoencoder(size) (hidden={HIDDEN}).")
            else:
                held[size] = float(np.mean((held_rec - X_held) ** 2))
                if held[size] >= UNTRAINED_ERROR:
                    models_msg.append(f"The model for size {size} reconstructs digits no better than the average digit "
                                      "would: train each model to reconstruct its input, model.fit(X_train, X_train, ...).")
            measured[size] = val_err
            mine = reported.get(size)
            if not (abs(mine - val_err) <= 1e-3 * val_err + 1e-7):
                train_err = float(np.mean((train_rec - X_train) ** 2))
                if abs(mine - train_err) <= 1e-3 * train_err + 1e-7:
                    why = _TRAINING_ERROR_ADVICE
                elif abs(mine - 64 * val_err) <= 1e-3 * 64 * val_err:
                    why = "That is 64 times too large: a sum over the pixels, not the mean of anomaly_scores."
                elif abs(mine - np.sqrt(val_err)) <= 1e-3 * np.sqrt(val_err):
                    why = "That is the root of the mean squared error: take the mean of anomaly_scores itself."
                else:
                    why = "Measure it as the mean of anomaly_scores(X_val, model.predict(X_val))."
                measure_msg.append(f"The validation error reported for size {size} is {mine:.5g}, but that model's "
                                   f"mean squared reconstruction error on X_val is {val_err:.5g}. {why}")
        models_ok = not models_msg
        measure_ok = not measure_msg and bool(entries) and len(measured) == len(entries)
        # The rule, on the grader's dicts and on the notebook's own errors.
        rule_msg = []
        want = (expected or {}).get("choices") or []
        answers = []
        for record, right in zip(got.get("choices") or [], want):
            right = right.get("ok", -1) if isinstance(right, dict) else right
            record = record if isinstance(record, dict) else {}
            if "error" in record:
                rule_msg.append(f"choose_bottleneck raised {str(record['error'])[:140]}.")
                break
            if "returned" in record:
                rule_msg.append(f"choose_bottleneck returned {str(record['returned'])[:40]} for one of the dicts; it "
                                "should return a size from the dict, and when no size meets the target, the one with "
                                "the lowest error.")
                break
            answers.append(int(record.get("ok", -1)))
        else:
            if answers != [int(r.get("ok", -1) if isinstance(r, dict) else r) for r in want]:
                rule_msg.append(self._rule_advice(inputs["choices"], answers))
        if len(got.get("choices") or []) != len(want):
            rule_msg.append("choose_bottleneck was not called on every dict.")
        own = got.get("own_choice") or {}
        if not rule_msg and "ok" in own and reported:
            right = _rule_choice(list(reported), list(reported.values()), target)
            if int(own["ok"]) != right:
                rule_msg.append(f"From the sweep's own errors choose_bottleneck picks {own['ok']}, but the rule picks "
                                f"{right}: the smallest size whose validation error is at most {target:g}.")
        rule_ok = not rule_msg
        # The chosen model, on the grader's held-out digits.
        chosen = int(own.get("ok", -1)) if "ok" in own else None
        if chosen is None:
            what = f"raised {str(own['error'])[:140]}" if "error" in own else \
                f"returned {str(own.get('returned', 'nothing'))[:40]}"
            chosen_msg = f"choose_bottleneck {what} on the sweep's own errors, so no model is chosen."
        elif chosen not in held:
            chosen_msg = f"The chosen size {chosen} has no usable model in the sweep."
        elif held[chosen] > HELDOUT_LIMIT:
            chosen_msg = (f"The chosen model (size {chosen}) reconstructs held-out digits with a mean squared error of "
                          f"{held[chosen]:.4f}; at most {HELDOUT_LIMIT} is needed. The choice must rest on validation "
                          "errors that say how the model does on new digits.")
        else:
            chosen_msg = None
        met = [models_ok, measure_ok, rule_ok, chosen_msg is None]
        if all(met):
            return None
        messages = models_msg[:2] + measure_msg[:2] + rule_msg[:1] + ([chosen_msg] if chosen_msg else [])
        if not measure_ok and not measure_msg:
            messages.append("The validation errors cannot be checked until every model of the sweep can be rebuilt.")
        return Partial(sum(met), 4, " ".join(messages))

    @staticmethod
    def _rule_advice(cases: list[dict], answers: list) -> str:
        """Why choose_bottleneck's answers are wrong: the one common wrong rule that gives all of them, if any."""
        lead = "choose_bottleneck does not follow the rule:"
        dicts = [(dict(zip(c["sizes"], c["errors"])), float(c["target"])) for c in cases]
        named = [advice for rule, advice in _WRONG_RULES
                 if all(int(rule(d, t)) == int(a) for (d, t), a in zip(dicts, answers))]
        if len(named) == 1:
            return f"{lead} {named[0]}"
        return (f"{lead} return the smallest size whose validation error is at most the target (an error equal to "
                "the target meets it), whatever the order of the dict; if no size meets it, the size with the "
                "lowest error.")


build_autoencoder = BuildAutoencoder()
anomaly_scores = AnomalyScores()
choose_threshold = ChooseThreshold()
detect_anomalies = DetectAnomalies()
bottleneck_sweep = BottleneckSweep()

CHECKS = CheckSet("13_autoencoders", [anomaly_scores, build_autoencoder, choose_threshold, detect_anomalies,
                                      bottleneck_sweep])
