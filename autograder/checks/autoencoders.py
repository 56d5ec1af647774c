"""Checks for 13_autoencoders: a dense autoencoder with a given bottleneck, trained on digits; per-sample
anomaly scores; a threshold from a percentile of validation scores; and anomaly detection judged by AUC.

Nothing here builds an autoencoder or computes the exercise's answers. The expected values of the public
cases of `anomaly_scores` and `choose_threshold` are literals worked out once offline, and so are the outputs
of the common mistakes on those cases (grader-only key "_mistakes"), so that a message can name the mistake.
The trained parts are judged by thresholds on measurements of the student's own model: its mean squared
reconstruction error on held-out digits, and the ROC AUC of its scores on digits mixed with injected anomalies.
A model part's kernel reports only the model itself (`model_data.report_model`: config and weights); the
grader rebuilds it and computes every fact and every reconstruction, on data in grader-only keys ("_...")
that the kernel never sees: test digits perturbed with the run's seed (`heldout.py`), and a mix of them
with injected anomalies.

The exact conventions the exercise states:
  anomaly score of a row    = the mean over its 64 pixels of (x - x_hat) ** 2   (one number per row)
  threshold                 = np.percentile(val_scores, percentile), numpy's default linear interpolation,
                              with `percentile` in [0, 100] (95, not 0.95)
  flagged as an anomaly     = score > threshold
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet
from .heldout import digits_heldout
from .model_data import ModelRejected, compile_summary, predict, rebuild_model, report_model

#: Rows of the scaled digits' training split used for training; the rest of that split is validation.
N_FIT = 1047
#: The bottleneck the notebook's trained autoencoder is built with.
BOTTLENECK = 8
#: The trained autoencoder's mean squared reconstruction error on held-out digits must be at most this.
#: The reference (64-32-8-32-64, Adam 0.01, 20 epochs of batch 32) reaches about 0.018 over seeds; PCA with
#: 8 components gets 0.025, always answering the average digit 0.074, and an untrained network about 0.18.
RECON_MSE_THRESHOLD = 0.03
#: The detector's ROC AUC on normal test digits mixed with injected anomalies must be at least this.
#: The reference reaches about 0.99.
AUC_THRESHOLD = 0.90
#: The trained autoencoder may have at most this many parameters. The cell builds build_autoencoder(8, 32),
#: 4,744 of them; a "model" that stores the 1,797 public digits as prototypes needs over 100,000.
MAX_TRAINED_PARAMS = 10_000
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


# ----------------------------------------------------------------------------- shared helpers
def _mistake(key: str, tol: float = 1e-6):
    """A diagnosis test: the answer equals the literal output of mistake `key` (public cases carry them)."""
    def test(got, exp, inp):
        mistakes = inp.get("_mistakes") or {}
        return key in mistakes and close(got, mistakes[key], tol)
    return test


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


def _none_model_message(name: str) -> str:
    return (f"{name} is None: build_autoencoder or train_autoencoder is not implemented yet, or the training cell "
            "stopped with an error. Finish Exercises 1 and 2 and fix any error that cell shows.")


# ----------------------------------------------------------------------------- Exercise 1: build_autoencoder
#: The batch the grader runs a built model on for the public cases (three random "images").
_PROBE = np.random.default_rng(0).uniform(0, 1, (3, 64)).astype("float32")


def _build_facts(model, probe) -> dict:
    """What the build check looks at, computed here from the rebuilt model and the grader's probe batch."""
    import keras

    summary = compile_summary(model)
    facts = {"layers": _dense_and_activation_layers(model, keras), "compiled": summary["compiled"],
             "loss": str(summary.get("loss") or "") if summary["compiled"] else "", "n_params": int(model.count_params())}
    try:
        outputs = predict(model, probe)
        facts["output_shape"] = [int(d) for d in outputs.shape]
        facts["output_range"] = [float(outputs.min()), float(outputs.max())]
    except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is a finding
        facts["call_error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return facts


class BuildAutoencoder(Check):
    """The kernel reports the model build_autoencoder returns (config and weights); its layers, compile
    settings, parameter count and outputs on a grader-only probe batch are computed by the grader."""
    name = "build_autoencoder"
    signature = "build_autoencoder(bottleneck, hidden)"
    # Expected parameter counts, worked out by hand: 64*h + h, h*b + b, b*h + h, h*64 + 64.
    public_cases = (Case({"bottleneck": 8, "hidden": 32, "_probe": _PROBE}, {"n_params": 4744}, "bottleneck=8, hidden=32"),
                    Case({"bottleneck": 2, "hidden": 16, "_probe": _PROBE}, {"n_params": 2210}, "bottleneck=2, hidden=16"))

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
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return f"{sig} returned None: return the compiled model."
            return f"{sig} returned a {got.get('kind')}, not a keras.Model: build it with keras.Sequential([...])."
        try:
            facts = _build_facts(rebuild_model(got), np.asarray(inputs.get("_probe", _PROBE), dtype="float32"))
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        if isinstance(expected, dict) and expected.get("is_model"):  # the reference's report
            expected = {"n_params": int(rebuild_model(expected).count_params())}
        return self._compare_facts(inputs, facts, expected)

    def _compare_facts(self, inputs, got, expected):
        sig = self.signature
        bottleneck, hidden = int(inputs["bottleneck"]), int(inputs["hidden"])
        if "call_error" in got:
            return (f"The model from {sig} cannot read a batch of images of shape (3, 64): {got['call_error']}. "
                    "Start it with keras.Input(shape=(64,)).")
        stack = _dense_stack(got.get("layers") or [])
        others = sorted({e["kind"] for e in got.get("layers") or [] if e.get("kind") not in ("Dense", "Activation")})
        shown = " -> ".join(f"Dense({u}, {a})" for u, a in stack) or "no Dense layers"
        want = f"Dense({hidden}, relu) -> Dense({bottleneck}) -> Dense({hidden}, relu) -> Dense(64, sigmoid)"
        if got.get("output_shape") != [3, 64]:
            return (f"The model from {sig} returns shape {tuple(got.get('output_shape') or ())} for 3 images; an "
                    f"autoencoder gives back an image of the same size, (3, 64). Its layers: {shown}.")
        if not stack:
            return f"The model from {sig} has no Dense layers; expected {want}."
        if stack[-1][1] != "sigmoid":
            return (f"The output layer of {sig} is Dense(64, activation={stack[-1][1]!r}): the statement asks for a "
                    "sigmoid output, activation='sigmoid', so that every reconstructed pixel lies in [0, 1] like the "
                    "scaled digits (a linear output can go below 0 and above 1).")
        inner = [u for u, _ in stack[:-1]]
        if bottleneck not in inner or min(inner or [64]) != bottleneck:
            narrowest = min(inner) if inner else 64
            return (f"The model from {sig} squeezes each image through {narrowest} numbers, but bottleneck="
                    f"{bottleneck} was asked for: the bottleneck size is ignored. The encoder must end with "
                    f"keras.layers.Dense(bottleneck), the narrowest layer. Layers found: {shown}.")
        if others:
            return (f"The model from {sig} has layers other than Dense ({', '.join(others)}); expected exactly {want}.")
        if [u for u, _ in stack] != [hidden, bottleneck, hidden, 64]:
            return f"The model from {sig} has the layers {shown}; expected {want}."
        activations = [a for _, a in stack]
        if activations[1] != "linear":
            return (f"The bottleneck layer of {sig} uses activation {activations[1]!r}; the statement asks for a "
                    "linear code, keras.layers.Dense(bottleneck) with no activation, so that the code can take any "
                    f"value. Layers found: {shown}.")
        if activations[0] != "relu" or activations[2] != "relu":
            return f"The hidden layers of {sig} should use ReLU: expected {want}, found {shown}."
        n_params, want_params = got.get("n_params"), (expected or {}).get("n_params")
        if want_params is not None and n_params != want_params:
            return (f"The model from {sig} has {n_params} parameters (model.count_params()), expected {want_params}: "
                    "keep the biases (use_bias=True, the default) in every Dense layer.")
        low, high = got.get("output_range") or [0.0, 1.0]
        if low < -1e-6 or high > 1 + 1e-6:
            return f"The model from {sig} outputs values in [{low:.3g}, {high:.3g}]; a sigmoid output stays in [0, 1]."
        if not got.get("compiled") or not got.get("loss"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer=keras.optimizers.Adam("
                    "learning_rate=0.01), loss='mse') before returning it.")
        if str(got.get("loss")).lower() not in _MSE_LOSSES:
            return (f"The model from {sig} is compiled with loss {got.get('loss')!r}; the statement asks for the "
                    "reconstruction loss loss='mse', the mean squared difference between each image and its "
                    "reconstruction.")
        return None


# ----------------------------------------------------------------------------- Exercise 2: the trained autoencoder
class TrainedAutoencoder(Check):
    """Judged by a threshold: the mean squared reconstruction error of held-out digits.

    The kernel reports the trained model (config and weights) and sees no data; the grader rebuilds it and
    reconstructs test digits it perturbed with the run's seed (`heldout.digits_heldout`), so that no image
    it is judged on is a row of the public data set."""
    name = "trained_autoencoder"
    signature = "train_autoencoder(model, X_train)"

    @cached_property
    def public_cases(self):
        return (Case({"_X": digits_heldout(np.random.default_rng(13_000), 450)[0]}, None,
                     "450 held-out test digits, each with a little noise"),)

    def secret_inputs(self, rng):
        return [{"_X": digits_heldout(rng, 300)[0]}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped) is reported as {"is_model": False, ...}

    def compare(self, inputs, got, expected):
        import keras

        if not isinstance(got, dict):
            return "The check cannot read what the trained autoencoder reported."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return _none_model_message("autoencoder")
            return f"autoencoder is a {got.get('kind')}, not a keras.Model: train_autoencoder must train the model it is given."
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The trained autoencoder cannot be checked: {exc}."
        X = np.asarray(inputs["_X"], dtype=np.float64)
        n_params = int(model.count_params())
        if n_params > MAX_TRAINED_PARAMS:
            return (f"The trained autoencoder has {n_params:,} parameters, but the cell builds it with "
                    f"build_autoencoder({BOTTLENECK}, 32), which has 4,744: a network that large can store the "
                    "digits instead of compressing them, and its reconstruction error means nothing. Fix "
                    "build_autoencoder (Exercise 1) first.")
        units = [e["units"] for e in _dense_and_activation_layers(model, keras) if e.get("kind") == "Dense"]
        narrowest = int(min(units[:-1])) if len(units) > 1 else 64
        try:
            outputs = _reconstruct(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is the student's to fix
            return (f"The trained autoencoder cannot read a batch of images of shape {X.shape}: "
                    f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}.")
        if outputs.shape != X.shape:
            return (f"The autoencoder returned shape {outputs.shape} for {len(X)} images; expected {X.shape}: "
                    "each image comes back as 64 pixels.")
        if not np.all(np.isfinite(outputs)):
            return "The autoencoder returned nan or inf: training diverged. Use Adam with learning_rate=0.01."
        if narrowest > BOTTLENECK:
            return (f"The trained autoencoder's narrowest layer has {narrowest} units, but the cell builds "
                    f"it with bottleneck={BOTTLENECK}: with a wider bottleneck reconstruction is easy and the "
                    "threshold means nothing. Fix build_autoencoder (Exercise 1) first.")
        mse = float(np.mean((outputs - X) ** 2))
        if mse <= RECON_MSE_THRESHOLD:
            return None
        shown = (f"The trained autoencoder's mean squared reconstruction error on {len(X)} held-out digits is "
                 f"{mse:.4f}; at most {RECON_MSE_THRESHOLD} is needed (always answering the average digit gives about "
                 "0.074).")
        spread = float(np.mean(np.std(outputs, axis=0)))
        if mse >= 0.1 or spread < 0.02:
            return (f"{shown} The reconstructions hardly depend on the input, so the autoencoder was not trained to "
                    "reconstruct its input (or was trained for only a few steps): train_autoencoder must call model.fit(X_train, X_train, epochs=20, "
                    "batch_size=32, verbose=0). The target is the input itself, not noise and not the labels.")
        return (f"{shown} It learned something but not enough: train for 20 epochs with batch_size=32 on "
                "model.fit(X_train, X_train, ...), with the model compiled with Adam(learning_rate=0.01).")


# ----------------------------------------------------------------------------- Exercise 3: anomaly_scores
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


# ----------------------------------------------------------------------------- Exercise 4: choose_threshold
# (inputs, expected threshold, outputs of common mistakes), worked out once offline with
# np.percentile(val_scores, percentile), numpy's default linear interpolation.
_THRESHOLD_CASES = [
    (dict(val_scores=np.array([0.3, 0.1, 0.7, 0.2, 0.5, 0.4, 0.9]), percentile=80),
     0.66,
     {"fraction": 0.1048, "complement": 0.22, "mean_std": 0.9650190537856305, "midpoint": 0.6}),
    (dict(val_scores=np.array([0.012, 0.034, 0.008, 0.021, 0.05, 0.017, 0.029, 0.011, 0.043, 0.026]), percentile=95),
     0.04685,
     {"fraction": 0.0082565, "complement": 0.00935, "mean_std": 0.05179007306097157}),
]

_THRESHOLD_DIAGNOSES = [
    (_mistake("fraction"),
     "That is a percentile below 1, just above the smallest score: the percentile was given as a fraction "
     "(0.95 instead of 95). np.percentile takes it in [0, 100], so pass `percentile` as it is (95 means 95%); "
     "np.quantile is the function that takes fractions."),
    (_mistake("complement"),
     "That is the (100 - percentile)th percentile, a low threshold that would flag most normal data: use the "
     "`percentile`th percentile, so that only the top (100 - percentile)% of normal scores lie above it."),
    (_mistake("mean_std"),
     "That is the mean plus two standard deviations: the statement asks for a percentile, "
     "np.percentile(val_scores, percentile)."),
    (lambda got, exp, inp: close(got, np.max(inp["val_scores"]), 1e-9),
     "That is the largest validation score: the threshold is the `percentile`th percentile, which leaves the "
     "top (100 - percentile)% of the validation scores above it."),
    (_mistake("midpoint"),
     "That is the midpoint of the two neighbouring scores: use numpy's default linear interpolation, "
     "np.percentile(val_scores, percentile) with no `method`."),
    (lambda got, exp, inp: bool(np.any(np.isclose(float(got), np.asarray(inp["val_scores"], float), rtol=0, atol=1e-12))),
     "That is one of the validation scores itself, picked by its rank: the statement asks for numpy's default "
     "linear interpolation between neighbouring scores, np.percentile(val_scores, percentile) with no `method` "
     "(not 'nearest', 'lower' or 'higher', nor an index into the sorted scores)."),
]


class ChooseThreshold(Check):
    name = "choose_threshold"
    signature = "choose_threshold(val_scores, percentile)"
    public_cases = tuple(
        Case({**inputs, "_mistakes": mistakes}, expected, label)
        for (inputs, expected, mistakes), label in zip(_THRESHOLD_CASES, ("7 scores, 80th percentile",
                                                                          "10 scores, 95th percentile")))

    def secret_inputs(self, rng):
        cases = []
        for percentile in (95, 90, float(rng.choice([97.5, 99.0, 75.0]))):
            n = int(rng.integers(8, 60))
            cases.append({"val_scores": rng.gamma(2.0, 0.01, n), "percentile": percentile})
        return cases

    def hidden_inputs(self, rng):
        # The 50th percentile of an even number of scores, the 100th (the maximum), and scores that tie.
        return [{"val_scores": rng.uniform(0, 1, 6), "percentile": 50},
                {"val_scores": rng.uniform(0, 1, 9), "percentile": 100},
                {"val_scores": np.array([0.02, 0.02, 0.02, 0.05, 0.05]), "percentile": 95}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        if got is None:
            return f"{sig} returned None: return the threshold, a single number."
        if np.size(got) != 1:
            return (f"{sig} returned {np.size(got)} values ({fmt(got)}); return a single number, "
                    "np.percentile(val_scores, percentile).")
        return compare_array(sig, np.reshape(np.asarray(got, dtype=np.float64), ()), expected, inputs,
                             diagnoses=_THRESHOLD_DIAGNOSES, tol=1e-7)


# ----------------------------------------------------------------------------- Exercise 5: detect_anomalies
def _row_mse(X, X_hat):
    return np.mean((np.asarray(X, dtype=np.float64) - np.asarray(X_hat, dtype=np.float64)) ** 2, axis=1)


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
    signature = "detect_anomalies(model, X_val, X_new, percentile)"

    @cached_property
    def public_cases(self):
        X_new, _ = anomaly_test_set(300, 150, seed=0)
        X_eval, is_anomaly = heldout_anomaly_set(np.random.default_rng(13_001), 300, 150)
        return (Case({"X_val": digit_sets()[1], "X_new": X_new, "percentile": 95, "_X_eval": X_eval,
                      "_eval_is_anomaly": is_anomaly}, None,
                     "300 test digits and 150 injected anomalies, 95th percentile"),)

    def secret_inputs(self, rng):
        X_new, _ = anomaly_test_set(200, 60, seed=int(rng.integers(1, 10**6)))
        X_eval, is_anomaly = heldout_anomaly_set(rng, 200, 60)
        return [{"X_val": digit_sets()[1], "X_new": X_new, "percentile": float(rng.choice([90.0, 97.0])),
                 "_X_eval": X_eval, "_eval_is_anomaly": is_anomaly}]

    def run(self, subject, inputs):
        import keras

        detect, model = subject
        if not isinstance(model, keras.Model):
            return {"is_model": False, "kind": type(model).__name__}
        record = report_model(model)  # before the function runs: it cannot change the model it is judged by
        X_val = np.asarray(inputs["X_val"], dtype="float32")
        X_new = np.asarray(inputs["X_new"], dtype="float32")
        result = detect(model, X_val.copy(), X_new.copy(), inputs["percentile"])
        if isinstance(result, (tuple, list)):
            result = tuple(np.asarray(v) if hasattr(v, "numpy") or hasattr(v, "__array__") else v for v in result)
        return {"is_model": True, "model": record, "result": result}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"The check cannot read what {sig} reported."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return _none_model_message("autoencoder")
            return f"autoencoder is a {got.get('kind')}, not a keras.Model."
        try:
            model = rebuild_model(got.get("model"))
        except ModelRejected as exc:
            return f"The autoencoder given to {sig} cannot be checked: {exc}."
        # The model's own reconstruction errors, computed here: where the student's threshold sits among them.
        try:
            errors = {name: _row_mse(X, _reconstruct(model, X)) for name, X in
                      (("val", inputs["X_val"]), ("new", inputs["X_new"]), ("train", digit_sets()[0]),
                       ("eval", inputs["_X_eval"]))}
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is the student's to fix
            return (f"The autoencoder given to {sig} cannot read images of 64 pixels: "
                    f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}.")
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
                        "(if the check of Exercise 3 fails, fix that first).")
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
        threshold = float(np.reshape(np.asarray(threshold, dtype=np.float64), ()))
        percentile = float(inputs["percentile"])
        val, new, train = (np.asarray(errors[k], dtype=np.float64) for k in ("val", "new", "train"))
        ideal = len(val) * (100 - percentile) / 100
        above = _count_above(val, threshold)
        if abs(above - ideal) > 1.5:
            where = (f"{sig} returned the threshold {threshold:.5g}, which {above} of the {len(val)} validation "
                     f"scores exceed; the {percentile:g}th percentile of the validation scores leaves about "
                     f"{ideal:.0f} above it.")
            if abs(_count_above(train, threshold) - len(train) * (100 - percentile) / 100) <= 1.5:
                return (f"{where} Your threshold is the percentile of the training scores: the autoencoder has seen "
                        "those images, so they reconstruct too well and the threshold is too low. Choose it on the "
                        "validation scores, anomaly_scores(X_val, model.predict(X_val)).")
            if abs(_count_above(new, threshold) - n * (100 - percentile) / 100) <= 1.5:
                return (f"{where} Your threshold is the percentile of the scores of X_new, the very data that "
                        "contains the anomalies: it must come from normal data the model did not train on, the "
                        "validation scores of X_val.")
            if above >= len(val) * (1 - percentile / 10000) - 1.5:  # where np.percentile(val, percentile / 100) sits
                return (f"{where} Such a low threshold usually means the percentile was given as a fraction (0.95 "
                        "instead of 95): np.percentile takes it in [0, 100].")
            return f"{where} Use choose_threshold(anomaly_scores(X_val, model.predict(X_val)), percentile)."
        flags = np.asarray(flags)
        if flags.shape != (n,):
            return f"{sig} returned flags of shape {flags.shape}; expected ({n},), one True/False per image of X_new."
        flags = flags.astype(bool)
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
                    f"build_autoencoder({BOTTLENECK}, 32) has 4,744: a network that large can store digits instead "
                    "of compressing them, so its errors say nothing about anomalies. Check that Exercise 2 passes.")
        # The function is right, so its scores are the model's errors: measure them on the grader's own mix.
        labels = np.asarray(inputs["_eval_is_anomaly"])
        auc = float(roc_auc_score(labels, np.asarray(errors["eval"], dtype=np.float64)))
        if auc >= AUC_THRESHOLD:
            return None
        return (f"Scored the same way, the autoencoder separates {int(labels.sum())} injected anomalies from "
                f"{int(len(labels) - labels.sum())} normal test digits with ROC AUC {auc:.3f}; at least "
                f"{AUC_THRESHOLD} is needed (the reference gets about 0.99). The function is right, so the "
                "autoencoder is not: check that Exercise 2 passes.")


build_autoencoder = BuildAutoencoder()
trained_autoencoder = TrainedAutoencoder()
anomaly_scores = AnomalyScores()
choose_threshold = ChooseThreshold()
detect_anomalies = DetectAnomalies()

CHECKS = CheckSet("13_autoencoders", [build_autoencoder, trained_autoencoder, anomaly_scores, choose_threshold,
                                      detect_anomalies])
