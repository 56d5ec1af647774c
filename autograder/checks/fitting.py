"""Checks for 07_fitting: a leak-free split, standardisation from the training split, models of growing
capacity, diagnosing a training history, and choosing a capacity by validation score.

Nothing here computes an answer the exercise asks for. The split is judged by its properties, the
model by its structure, and the other parts against literal expected values (public cases) or the
reference solution's results (grading). Public cases carry a grader-only "_mistakes" key: what each
common mistake returns on that case, worked out once by hand, so a message can name the mistake.

The model part is judged from the model itself, never from facts the kernel states about it: the kernel
reports `model_data.report_model(model)` (its Keras config and weights), and the grader rebuilds it
(built-in Keras classes only) and computes its layers, parameter count, compile settings, metric names
and its outputs on a probe batch held in grader-only "_" keys, which the kernel never sees.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from .compare import compare_array, fmt
from .core import Case, Check, CheckSet, Verdict
from .model_data import (dense_structure, expected_dense_structure, one_line, ModelRejected, activation_name, all_layers, compile_summary, is_probabilities, linearity_gap,
                         predict, rebuild_model, report_model)

DIAGNOSES = ("underfitting", "overfitting", "good fit")


def _join_advice(inputs: dict, got, advice: dict[str, str]) -> str:
    """The advice for every mistake that returns `got` on this case (from the case's "_mistakes")."""
    mistakes = inputs.get("_mistakes", {})
    found = [advice[name] for name, value in mistakes.items() if name in advice and value == got]
    return (" " + " ".join(found)) if found else ""


# ----------------------------------------------------------------------------- Exercise 1: split_indices
class SplitIndices(Check):
    """Judged by properties: any shuffle is fine, so indices are never compared with the reference's."""
    name = "split_indices"
    signature = "split_indices(n, val_fraction, test_fraction, seed)"
    public_cases = (
        Case({"n": 20, "val_fraction": 0.25, "test_fraction": 0.25, "seed": 0}, None,
             "n=20, val_fraction=0.25, test_fraction=0.25"),
        Case({"n": 50, "val_fraction": 0.2, "test_fraction": 0.1, "seed": 3}, None,
             "n=50, val_fraction=0.2, test_fraction=0.1"),
        Case({"n": 300, "val_fraction": 1 / 3, "test_fraction": 1 / 3, "seed": 0}, None,
             "n=300, thirds, as in this notebook"),
    )

    def secret_inputs(self, rng):
        fractions = [0.1, 0.15, 0.2, 0.25, 0.3]
        return [{"n": int(rng.integers(40, 400)), "val_fraction": float(rng.choice(fractions)),
                 "test_fraction": float(rng.choice(fractions)), "seed": int(rng.integers(0, 10_000))}
                for _ in range(3)]

    def hidden_inputs(self, rng):
        # A tiny data set whose sizes must be rounded, and an odd size with unequal fractions.
        return [{"n": 7, "val_fraction": 0.2, "test_fraction": 0.2, "seed": int(rng.integers(0, 100))},
                {"n": 101, "val_fraction": 0.15, "test_fraction": 0.3, "seed": int(rng.integers(0, 100))}]

    def run(self, subject, inputs):
        def call(seed):
            out = subject(inputs["n"], inputs["val_fraction"], inputs["test_fraction"], seed)
            if not isinstance(out, (tuple, list)):
                return {"kind": type(out).__name__}
            return [np.asarray(part) for part in out]

        return {"first": call(inputs["seed"]), "again": call(inputs["seed"]), "other": call(inputs["seed"] + 1)}

    def compare(self, inputs, got, expected):
        n, vf, tf, seed = inputs["n"], inputs["val_fraction"], inputs["test_fraction"], inputs["seed"]
        sig = f"split_indices({n}, {vf:.3g}, {tf:.3g}, seed={seed})"
        first = got.get("first") if isinstance(got, dict) else None
        if not isinstance(first, list):
            kind = (first or {}).get("kind", "something else") if isinstance(first, dict) else "something else"
            return f"{sig} returned {kind}; it should return a tuple of three index arrays (train, val, test)."
        if len(first) != 3:
            return f"{sig} returned {len(first)} items; expected three index arrays: (train_idx, val_idx, test_idx)."
        parts = []
        for label, part in zip(("train", "val", "test"), first):
            arr = np.asarray(part)
            if arr.ndim != 1:
                return f"{sig}: {label}_idx has shape {arr.shape}; each split is a 1-D array of row indices."
            if arr.size and (arr.dtype.kind not in "iu"):
                return (f"{sig}: {label}_idx has dtype {arr.dtype}; indices are integers (use them as X[{label}_idx]). "
                        "A boolean mask or float values are not row indices.")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                return f"{sig}: {label}_idx holds {fmt(arr)}, outside 0..{n - 1}: indices count the rows of the data."
            if len(np.unique(arr)) != arr.size:
                return f"{sig}: {label}_idx lists some rows twice; a split holds each row at most once."
            parts.append(arr.astype(np.int64))
        train, val, test = parts
        shared = (set(train) & set(val)) | (set(train) & set(test)) | (set(val) & set(test))
        if shared:
            return (f"{sig}: {len(shared)} rows appear in more than one split: the splits overlap, so the model is "
                    "validated or tested on rows it was trained on, and the scores are too optimistic. Shuffle once, "
                    "then cut the shuffled indices into three disjoint pieces.")
        missing = n - (train.size + val.size + test.size)
        if missing:
            return (f"{sig}: {missing} of the {n} rows are in no split. Every row belongs to exactly one split: "
                    "the training split gets all that remains after validation and test.")

        def allowed(fraction):
            return {math.floor(fraction * n + 1e-9), math.ceil(fraction * n - 1e-9)}

        if val.size not in allowed(vf) or test.size not in allowed(tf):
            swapped = val.size in allowed(tf) and test.size in allowed(vf)
            hint = (" The validation and test sizes are swapped: val_fraction sets the validation split, "
                    "test_fraction the test split." if swapped else
                    " Use n_test = round(test_fraction * n) and n_val = round(val_fraction * n).")
            return (f"{sig}: the splits have sizes train {train.size}, val {val.size}, test {test.size}; expected "
                    f"val {round(vf * n)} and test {round(tf * n)} (train the rest).{hint}")
        if n >= 20:
            blocks = [p for p in parts if p.size >= 2]
            if blocks and all(np.array_equal(np.sort(p), np.arange(p.min(), p.min() + p.size)) for p in blocks):
                return (f"{sig}: every split is a block of consecutive rows: the indices were not shuffled. Data "
                        "sets are often stored in order (by class, by date, by source), so unshuffled splits can "
                        "differ systematically. Shuffle first: np.random.default_rng(seed).permutation(n).")
        again = got.get("again")
        same = isinstance(again, list) and len(again) == 3 and all(
            np.array_equal(np.asarray(a), b) for a, b in zip(again, parts))
        if not same:
            return (f"{sig} gave different splits when called twice with seed={seed}: the split is not "
                    "reproducible. Draw the permutation from a generator made from the seed: "
                    "np.random.default_rng(seed).permutation(n).")
        other = got.get("other")
        if n >= 20 and isinstance(other, list) and len(other) == 3 and all(
                set(np.asarray(a).tolist()) == set(b.tolist()) for a, b in zip(other, parts)):
            return (f"{sig} gave the same splits for seed={seed} and seed={seed + 1}: the seed argument is ignored. "
                    "Build the generator from it: np.random.default_rng(seed).")
        return None


# ----------------------------------------------------------------------------- Exercise 2: standardize
_STD_A = (np.array([[1.0, 0.0], [1.0, 4.0], [3.0, 0.0], [3.0, 4.0]]),
          np.array([[5.0, 2.0], [2.0, 10.0]]),
          np.array([[7.0, -2.0], [4.0, 6.0], [3.0, 2.0]]))
_STD_A_OUT = [[[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]], [[3.0, 0.0], [0.0, 4.0]],
              [[5.0, -2.0], [2.0, 2.0], [1.0, 0.0]]]
_STD_B = (np.array([[2.0, 5.0, 1.0], [4.0, 5.0, 3.0], [6.0, 5.0, 2.0], [8.0, 5.0, 6.0], [10.0, 5.0, 3.0]]),
          np.array([[12.0, 6.0, 2.0], [9.0, 4.0, 4.0]]),
          np.array([[20.0, 5.0, 0.0], [0.0, 7.0, 3.0]]))
_STD_B_OUT = [
    [[-1.414213562373095, 0.0, -1.1952286093343936], [-0.7071067811865475, 0.0, 0.0],
     [0.0, 0.0, -0.5976143046671968], [0.7071067811865475, 0.0, 1.7928429140015905], [1.414213562373095, 0.0, 0.0]],
    [[2.1213203435596424, 1.0, -0.5976143046671968], [1.0606601717798212, -1.0, 0.5976143046671968]],
    [[4.949747468305833, 0.0, -1.7928429140015905], [-2.1213203435596424, 2.0, 0.0]],
]
_SPLITS = ("X_train", "X_val", "X_test")


def _std_case(arrays) -> dict:
    return dict(zip(_SPLITS, (np.array(a, dtype=np.float64) for a in arrays)))


class Standardize(Check):
    name = "standardize"
    signature = "standardize(X_train, X_val, X_test)"
    public_cases = (
        Case(_std_case(_STD_A), [np.array(a) for a in _STD_A_OUT],
             "training columns with mean (2, 2) and std (1, 2); validation and test lie elsewhere"),
        Case(_std_case(_STD_B), [np.array(a) for a in _STD_B_OUT],
             "the middle feature is constant (5) on the training split"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            d = int(rng.integers(2, 6))
            centre, scale = rng.normal(0, 5, d), rng.uniform(0.5, 4, d)
            shift = rng.normal(0, 3, d)  # validation and test come from elsewhere, so leaking the statistics shows
            sizes = [int(rng.integers(20, 60)), int(rng.integers(5, 20)), int(rng.integers(5, 20))]
            arrays = [centre + scale * rng.normal(size=(m, d)) + (shift if i else 0) for i, m in enumerate(sizes)]
            cases.append(_std_case(arrays))
        return cases

    def hidden_inputs(self, rng):
        # A constant training feature that varies elsewhere, and a single validation row.
        d = 3
        train = rng.normal(2, 3, (15, d))
        train[:, 1] = -4.0
        return [_std_case([train, rng.normal(0, 3, (6, d)), rng.normal(5, 3, (4, d))]),
                _std_case([rng.normal(10, 2, (30, 2)), rng.normal(12, 2, (1, 2)), rng.normal(8, 2, (5, 2))])]

    def run(self, subject, inputs):
        out = subject(*(np.array(inputs[k]) for k in _SPLITS))
        if isinstance(out, (tuple, list)):
            return [np.asarray(part, dtype=np.float64) for part in out]
        return out

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, list) or len(got) != 3:
            what = f"{len(got)} items" if isinstance(got, list) else type(got).__name__
            return f"{sig} returned {what}; it should return three arrays (train, val, test), standardised."
        train_in = np.asarray(inputs["X_train"], dtype=np.float64)
        constant = np.ptp(train_in, axis=0) == 0
        got = [np.asarray(g, dtype=np.float64) for g in got]
        for label, g, e in zip(_SPLITS, got, expected):
            if g.shape != np.shape(e):
                return f"{sig}: the standardised {label} has shape {g.shape}, expected {np.shape(e)}, the shape of {label}."
            if np.any(~np.isfinite(g)) and np.any(constant):
                return (f"{sig} returned nan or inf in the standardised {label}: a feature that is constant on the "
                        "training split has std 0, and dividing by 0 fails. Divide by 1 where the std is 0 "
                        "(np.where(std == 0, 1, std)), as scikit-learn's StandardScaler does.")
        advice = self._advice(inputs, got, expected, constant)
        for label, g, e in zip(_SPLITS, got, expected):
            message = compare_array(f"{sig} (the standardised {label})", g, e, inputs, tol=1e-6)
            if message:
                return message + (" " + advice if advice else "")
        return None

    @staticmethod
    def _advice(inputs, got, expected, constant) -> str:
        """Name the mistake from properties of what came back; no answer is computed here."""
        g_train, g_val, g_test = got
        varying = ~constant
        everything = np.concatenate(got)
        if np.allclose(everything.mean(axis=0), 0, atol=1e-6) and not np.allclose(g_train.mean(axis=0), 0, atol=1e-6):
            return ("The three splits together have mean 0: the statistics came from the whole data set. That is "
                    "leakage: validation and test rows shaped the preprocessing, so their scores are no longer "
                    "those of unseen data. Compute mean and std on X_train only and apply them to all three.")
        if (len(g_val) > 1 and np.allclose(g_val.mean(axis=0), 0, atol=1e-6)
                and not np.allclose(np.asarray(expected[1]).mean(axis=0), 0, atol=1e-6)):
            return ("Every split has mean 0 on its own: each split was standardised with its own statistics. Use the "
                    "training split's mean and std for all three, so that one input value means the same everywhere.")
        if np.any(varying) and np.allclose(g_train.mean(axis=0), 0, atol=1e-6):
            std0 = g_train[:, varying].std(axis=0)
            std1 = g_train[:, varying].std(axis=0, ddof=1)
            if np.allclose(std1, 1, atol=1e-6):
                return ("The standardised training columns have a sample std (ddof=1) of 1: the std was computed with "
                        "ddof=1. Use the population std, X_train.std(axis=0) (ddof=0), as StandardScaler does.")
            if not np.allclose(std0, 1, atol=1e-6):
                return ("The standardised training columns have mean 0 but not std 1: divide by the training std "
                        "after subtracting the training mean.")
        if np.any(constant) and np.any(np.abs(np.concatenate([g_val, g_test])[:, constant]) > 1e4):
            return ("The values of a feature that is constant on the training split exploded: dividing by std + a "
                    "tiny epsilon blows up any change. Where the training std is 0, divide by 1 instead.")
        return ""


# ----------------------------------------------------------------------------- Exercise 3: build_model
_PUBLIC_RNG = np.random.default_rng(7)


def _build_case(width: int, depth: int, n_inputs: int, n_classes: int, rng: np.random.Generator) -> dict:
    """The call's arguments, and a probe batch the grader evaluates the rebuilt model on ("_" keys: the kernel never sees it)."""
    m = 40
    return {"width": int(width), "depth": int(depth), "n_inputs": int(n_inputs), "n_classes": int(n_classes),
            "_X": rng.normal(0.0, 2.0, (m, n_inputs)), "_y": rng.integers(0, n_classes, m)}


_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU")


def _has_nonlinear_layer(layers: list) -> bool:
    """Whether any layer before the output layer declares a non-linearity. A narrow ReLU network can be
    flat on a probe batch (dead units), so the linearity test alone would wrongly call it linear."""
    return any(kind in _ACTIVATION_LAYERS or activation not in ("", "linear")
               for kind, activation in layers[:-1])


class BuildModel(Check):
    """The kernel reports the model (config and weights); the grader rebuilds it and works out every fact."""
    name = "build_model"
    signature = "build_model(width, depth, n_inputs, n_classes)"
    public_cases = (
        Case(_build_case(8, 1, 2, 2, _PUBLIC_RNG), {"dense_units": [8, 2], "n_params": 42},
             "width=8, depth=1 on 2 features, 2 classes"),
        Case(_build_case(4, 3, 5, 3, _PUBLIC_RNG), {"dense_units": [4, 4, 4, 3], "n_params": 79},
             "width=4, depth=3 on 5 features, 3 classes"),
        Case(_build_case(16, 0, 2, 2, _PUBLIC_RNG), {"dense_units": [2], "n_params": 6},
             "depth=0: no hidden layer, a logistic regression"),
    )

    def secret_inputs(self, rng):
        cases = []
        for depth in (1, 2, int(rng.integers(3, 5))):
            width = int(rng.choice([4, 6, 12, 16, 24, 32, 64]))
            cases.append(_build_case(width, depth, int(rng.integers(2, 9)), int(rng.integers(2, 5)), rng))
        return cases

    def hidden_inputs(self, rng):
        return [_build_case(int(rng.integers(5, 30)), 0, int(rng.integers(2, 6)), 2, rng),
                _build_case(3, 5, 2, 4, rng)]

    def run(self, subject, inputs):
        import keras

        model = subject(width=inputs["width"], depth=inputs["depth"], n_inputs=inputs["n_inputs"],
                        n_classes=inputs["n_classes"])
        if isinstance(model, keras.Model) and not model.built:
            # A Sequential without keras.Input is built on its first call: build it for the stated inputs,
            # so that its weights exist and travel with its config (the grader refuses an unbuilt model).
            try:
                model.build((None, int(inputs["n_inputs"])))
            except Exception:  # noqa: BLE001 - the grader says why it cannot rebuild the model
                pass
        return report_model(model)

    def compare(self, inputs, got, expected):
        width, depth, n_in, n_classes = inputs["width"], inputs["depth"], inputs["n_inputs"], inputs["n_classes"]
        sig = f"build_model(width={width}, depth={depth}, n_inputs={n_in}, n_classes={n_classes})"
        if not isinstance(got, dict) or not got.get("is_model"):
            kind = got.get("kind") if isinstance(got, dict) else "?"
            if kind == "NoneType":
                return f"{sig} returned None: end the function with `return model`."
            return f"{sig} returned a {kind}, not a keras.Model: build it with keras.Sequential([...]) and return it."
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        X = np.asarray(inputs["_X"], dtype="float32")
        m, half = len(X), len(X) // 2
        facts = dense_structure(model)
        layer_list = ", ".join(f"{kind}({act})" if act else kind for kind, act in facts["layers"])
        try:
            outputs = predict(model, X)
            mid_outputs = predict(model, (X[:half] + X[half:2 * half]) / 2)
        except Exception as exc:  # noqa: BLE001 - a model that cannot take the inputs is the student's to fix
            return (f"The model from {sig} cannot be called on a batch of shape {X.shape} ({type(exc).__name__}: "
                    f"{one_line(exc)}): give it keras.Input(shape=(n_inputs,)) (layers: {layer_list}).")
        if outputs.shape != (m, n_classes):
            return (f"The model from {sig} maps {m} samples to outputs of shape {outputs.shape}, expected "
                    f"({m}, {n_classes}): one probability per class (layers: {layer_list}).")
        want_structure = expected_dense_structure(expected)
        if want_structure is None:
            return f"The check could not read the reference model for {sig}."
        units, want = facts["dense_units"], want_structure["dense_units"]
        if units != want:
            hidden = units[:-1]
            if units[-1:] != [n_classes]:
                return (f"The last Dense layer of the model from {sig} has {units[-1:]} units, expected {n_classes}: "
                        f"the output layer is Dense(n_classes). Its Dense layers have units {units}.")
            if width != depth and len(hidden) == width and all(u == depth for u in hidden):
                return (f"The model from {sig} has Dense layers with units {units}, expected {want}: width and depth "
                        f"are swapped. depth is the number of hidden layers and width the units in each.")
            if len(hidden) == depth - 1 and all(u == width for u in hidden):
                return (f"The model from {sig} has {len(hidden)} hidden layers, expected {depth} (units {units}, "
                        f"expected {want}): depth counts the hidden layers only; the output layer comes on top.")
            if len(hidden) == depth + 1 and all(u == width for u in hidden):
                return (f"The model from {sig} has {len(hidden)} hidden layers, one too many (units {units}, "
                        f"expected {want}): add exactly depth hidden Dense(width) layers, e.g. `for _ in range(depth)`.")
            return (f"The model from {sig} has Dense layers with units {units}, expected {want}: depth hidden "
                    "Dense(width) layers, then Dense(n_classes).")
        if facts["n_params"] != want_structure["n_params"]:
            return (f"The model from {sig} has {facts['n_params']} parameters, expected {want_structure['n_params']}. "
                    "Keep the default use_bias=True and add no other layers with weights.")
        if not is_probabilities(outputs):
            return (f"The outputs of the model from {sig} are not probabilities (rows of non-negative numbers that "
                    f"sum to 1): give the output layer activation='softmax' (layers: {layer_list}).")
        if depth and not _has_nonlinear_layer(facts["layers"]) and linearity_gap(outputs, mid_outputs) < 1e-4:
            return (f"The hidden layers of the model from {sig} are linear (layers: {layer_list}): without an "
                    "activation, extra layers add parameters but no capacity, since a stack of linear layers is "
                    "one linear map. Use activation='relu'.")
        summary = compile_summary(model)
        if not summary.get("compiled"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer=keras.optimizers.Adam(0.01), "
                    "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before returning it.")
        loss_name = summary.get("loss", "")
        name = str(loss_name).lower().replace("_", "")
        if "sparsecategoricalcrossentropy" not in name or summary.get("from_logits"):
            return (f"The model from {sig} is compiled with the loss {loss_name!r}"
                    f"{' with from_logits=True' if summary.get('from_logits') else ''}; the labels are integers and "
                    "the outputs probabilities, so use loss='sparse_categorical_crossentropy'.")
        rate = summary.get("learning_rate")
        if summary.get("optimizer") != "Adam" or not isinstance(rate, float) or not math.isclose(rate, 0.01, rel_tol=1e-4):
            shown = f"{rate:.3g}" if isinstance(rate, float) else "that is not one number (a schedule)"
            return (f"The model from {sig} uses {summary.get('optimizer')} with learning rate "
                    f"{shown}; use keras.optimizers.Adam(learning_rate=0.01) "
                    "so that the short training runs of this notebook get somewhere.")
        names = self._metric_names(model, X, np.asarray(inputs["_y"]).astype("int64"))
        if "accuracy" not in names and any("acc" in n for n in names):
            return (f"The model from {sig} reports its accuracy as {', '.join(names)}, so its History would have "
                    f"the keys {names[0]!r} and 'val_{names[0]}'; this notebook reads 'accuracy' and "
                    "'val_accuracy'. Compile with metrics=['accuracy'].")
        if "accuracy" not in names:
            return (f"The model from {sig} reports no accuracy metric (found: {', '.join(names) or 'none'}): compile "
                    "with metrics=['accuracy'], so that its History holds 'accuracy' and 'val_accuracy'.")
        return None

    @staticmethod
    def _metric_names(model, X, y) -> list[str]:
        """The names fit would log for the compiled metrics, computed here on the rebuilt model."""
        try:
            model.reset_metrics()
            results = model.compute_metrics(X, y, model(X, training=False), sample_weight=None)
            return [str(k) for k in results if k != "loss"]
        except Exception as exc:  # noqa: BLE001 - a loss or metric that cannot take integer labels
            return [f"error: {type(exc).__name__}"]


# ----------------------------------------------------------------------------- Exercise 4: diagnose
def _logs(train_acc, val_acc) -> dict:
    """A History dict with the given accuracy curves, and loss curves that move the other way."""
    return {"loss": [round(1.2 - a, 4) for a in train_acc], "accuracy": list(train_acc),
            "val_loss": [round(1.2 - a, 4) for a in val_acc], "val_accuracy": list(val_acc)}


def _diag_case(train_acc, val_acc, target=0.8, gap=0.1, as_object=False, mistakes=None) -> dict:
    return {"logs": _logs(train_acc, val_acc), "target_accuracy": target, "max_gap": gap,
            "as_object": as_object, "_mistakes": mistakes or {}}


_DIAGNOSE_ADVICE = {
    "train_only": ("Training accuracy alone cannot show overfitting: here the model fits the training data well, but "
                   "validation accuracy is far below it. Compute gap = train - val from the final epoch and "
                   "check it against max_gap."),
    "overfit_first": ("The rule checks underfitting first: when final training accuracy is below target_accuracy "
                      "the answer is 'underfitting', whatever the gap. A model that cannot fit its training data "
                      "has a bias problem to fix before its variance means anything."),
    "abs_gap": ("Validation accuracy above training accuracy is not overfitting (it happens with dropout or an "
                "easy validation split): the gap is train - val, with its sign, not abs(train - val)."),
    "best_epoch": ("The rule reads the final epoch, history['accuracy'][-1] and history['val_accuracy'][-1], not "
                   "the best value of each curve: a model whose validation accuracy peaked early and then fell is "
                   "overfitting now."),
    "first_epoch": ("The final epoch is the last entry of each list, [-1], not the first, [0]."),
    "defaults": ("Use the target_accuracy and max_gap you are given rather than fixed numbers: this case passes "
                 "different thresholds."),
    "strict": ("At exactly the threshold the rule does not fire: it is overfitting only when the gap is strictly "
               "greater than max_gap, and underfitting only when training accuracy is strictly below "
               "target_accuracy."),
}
_DIAGNOSE_ADVICE["strict_target"] = _DIAGNOSE_ADVICE["strict"]


class Diagnose(Check):
    name = "diagnose"
    signature = "diagnose(history, target_accuracy, max_gap)"
    public_cases = (
        Case(_diag_case([0.70, 0.85, 0.93, 0.97, 0.99], [0.68, 0.78, 0.80, 0.79, 0.78], as_object=True,
                        mistakes={"train_only": "good fit", "first_epoch": "underfitting"}),
             "overfitting", "final train 0.99, val 0.78: a History object"),
        Case(_diag_case([0.50, 0.55, 0.60, 0.62, 0.63], [0.52, 0.56, 0.60, 0.61, 0.62]),
             "underfitting", "final train 0.63, val 0.62: a .history dict"),
        Case(_diag_case([0.60, 0.80, 0.88, 0.90, 0.91], [0.60, 0.78, 0.85, 0.87, 0.88], as_object=True,
                        mistakes={"first_epoch": "underfitting"}),
             "good fit", "final train 0.91, val 0.88"),
        Case(_diag_case([0.50, 0.60, 0.70, 0.75, 0.78], [0.50, 0.55, 0.60, 0.60, 0.58],
                        mistakes={"overfit_first": "overfitting"}),
             "underfitting", "final train 0.78 (below 0.8), val 0.58"),
        Case(_diag_case([0.60, 0.75, 0.82, 0.84, 0.85], [0.70, 0.85, 0.93, 0.96, 0.97], as_object=True,
                        mistakes={"abs_gap": "overfitting"}),
             "good fit", "final train 0.85, val 0.97: validation above training"),
        Case(_diag_case([0.70, 0.88, 0.92, 0.95, 0.96], [0.72, 0.90, 0.88, 0.86, 0.83],
                        mistakes={"best_epoch": "good fit", "train_only": "good fit"}),
             "overfitting", "val accuracy peaked at 0.90 in epoch 2 and ends at 0.83; train ends at 0.96"),
        Case(_diag_case([0.60, 0.80, 0.85, 0.87, 0.88], [0.60, 0.78, 0.84, 0.85, 0.86], target=0.9, gap=0.05,
                        mistakes={"defaults": "good fit"}),
             "underfitting", "target_accuracy=0.9, max_gap=0.05; final train 0.88, val 0.86"),
        Case(_diag_case([0.60, 0.75, 0.80, 0.84, 0.85], [0.60, 0.72, 0.76, 0.77, 0.78], target=0.7, gap=0.05,
                        as_object=True, mistakes={"defaults": "good fit"}),
             "overfitting", "target_accuracy=0.7, max_gap=0.05; final train 0.85, val 0.78"),
        Case(_diag_case([0.5, 0.75, 0.875], [0.5, 0.625, 0.75], target=0.875, gap=0.125,
                        mistakes={"strict": "overfitting", "strict_target": "underfitting"}),
             "good fit", "exactly at both thresholds: final train 0.875 = target, gap 0.125 = max_gap"),
    )

    def secret_inputs(self, rng):
        return [self._random_case(rng) for _ in range(30)]

    def hidden_inputs(self, rng):
        # Exact boundaries with numbers that are exact in binary, a one-epoch history, and a val peak.
        return [
            _diag_case([0.25, 0.5, 0.75], [0.25, 0.5, 0.75], target=0.75, gap=0.0625),
            _diag_case([0.5, 0.625], [0.5, 0.5], target=0.5, gap=0.0625, as_object=True),
            _diag_case([0.9375], [0.875], target=0.9375, gap=0.0625),
            _diag_case([0.5, 0.9, 0.95, 0.99, 1.0], [0.5, 0.92, 0.9, 0.85, 0.8], as_object=True),
        ]

    @staticmethod
    def _random_case(rng) -> dict:
        """A noisy history that rises to chosen final values, kept away from the thresholds."""
        target = float(rng.choice([0.7, 0.75, 0.8, 0.85, 0.9]))
        max_gap = float(rng.choice([0.05, 0.1, 0.15]))
        # Each kind of history in turn: poor fit, poor fit with a large gap, a large gap, close curves,
        # validation above training. The final values stay at least 0.015 away from every threshold.
        kind = int(rng.integers(0, 5))
        high = (target + 0.015, 1.0)
        final_train = float(rng.uniform(*((0.4, target - 0.015) if kind < 2 else high)))
        gap_range = {0: (-0.05, max_gap - 0.015), 1: (max_gap + 0.015, 0.35), 2: (max_gap + 0.015, 0.35),
                     3: (0.0, max_gap - 0.015), 4: (-0.15, -0.02)}[kind]
        final_gap = float(np.clip(rng.uniform(*gap_range), final_train - 1.0, final_train))
        epochs = int(rng.integers(3, 25))
        t = np.linspace(0.0, 1.0, epochs)
        final_val = final_train - final_gap
        train = final_train - (final_train - 0.45) * (1 - t) ** 2 + rng.normal(0, 0.01, epochs)
        bump = float(rng.uniform(0.0, 0.1)) * np.exp(-((t - rng.uniform(0.2, 0.9)) / 0.2) ** 2)
        val = final_val - (final_val - 0.45) * (1 - t) ** 2 + bump + rng.normal(0, 0.01, epochs)
        train[-1], val[-1] = final_train, final_val
        clip = lambda a: [float(v) for v in np.clip(a, 0.0, 1.0)]  # noqa: E731
        return _diag_case(clip(train), clip(val), target, max_gap, bool(rng.integers(0, 2)))

    def run(self, subject, inputs):
        logs = {k: list(v) for k, v in inputs["logs"].items()}
        history = logs
        if inputs.get("as_object"):
            import keras

            history = keras.callbacks.History()
            history.history = logs
            history.epoch = list(range(len(logs["accuracy"])))
        return subject(history, target_accuracy=inputs["target_accuracy"], max_gap=inputs["max_gap"])

    def judge(self, inputs, record, expected):
        verdict = super().judge(inputs, record, expected)
        if not verdict.passed and record.get("error") not in (None, "NotImplementedError"):
            detail = str(record.get("detail", ""))
            if "subscriptable" in detail:
                return Verdict(False, verdict.message + ". history may be a keras History object, whose curves are "
                                      "in history.history; accept both: logs = getattr(history, 'history', history).")
            if "has no attribute 'history'" in detail:
                return Verdict(False, verdict.message + ". history may also be the .history dict itself; accept "
                                      "both: logs = getattr(history, 'history', history).")
        return verdict

    def compare(self, inputs, got, expected):
        sig = f"diagnose(history, target_accuracy={inputs['target_accuracy']:g}, max_gap={inputs['max_gap']:g})"
        if not isinstance(got, str) or got not in DIAGNOSES:
            return (f"{sig} returned {got!r}; it must return exactly one of the strings 'underfitting', "
                    "'overfitting' or 'good fit' (lower case, with a space in 'good fit').")
        if got == expected:
            return None
        return f"{sig} returned {got!r}, expected {expected!r}.{_join_advice(inputs, got, _DIAGNOSE_ADVICE)}"


# ----------------------------------------------------------------------------- Exercise 5: choose_capacity
def _record(width, depth, n_params, train, val, test) -> dict:
    return {"width": width, "depth": depth, "n_params": n_params, "train_accuracy": train,
            "val_accuracy": val, "test_accuracy": test}


_CHOOSE_ADVICE = {
    "best_train": ("That is the model with the best training accuracy: training accuracy keeps rising with capacity "
                   "and rewards memorising the noise. Choose by val_accuracy."),
    "best_test": ("That is the model with the best test accuracy. The test split must not take part in any choice: "
                  "once it has picked the model, its score is no longer an unbiased estimate. Choose by val_accuracy, "
                  "and use the test split once, at the very end."),
    "last": ("That is the last record, the largest model: more capacity is not automatically better. Take the "
             "record with the highest val_accuracy."),
    "ties_first": ("Several models share the best val_accuracy, and this is the first of them in the list; the rule "
                   "breaks ties by the fewest parameters (n_params), whatever the order of the records."),
    "ties_larger": ("Several models share the best val_accuracy, and this is a larger one: break ties by the fewest "
                    "parameters (n_params), the simpler model."),
    "lowest_val": "That is the record with the lowest val_accuracy: take the highest.",
}


class ChooseCapacity(Check):
    name = "choose_capacity"
    signature = "choose_capacity(results)"
    public_cases = (
        Case({"results": [_record(4, 0, 6, 0.72, 0.60, 0.61), _record(8, 1, 42, 0.90, 0.86, 0.84),
                          _record(32, 2, 1218, 0.95, 0.84, 0.87), _record(128, 3, 33666, 1.0, 0.80, 0.79)],
              "_mistakes": {"best_train": 3, "best_test": 2, "last": 3, "lowest_val": 0}},
             1, "four models, smallest to largest"),
        Case({"results": [_record(16, 2, 354, 0.93, 0.85, 0.80), _record(8, 1, 42, 0.90, 0.85, 0.83),
                          _record(4, 0, 6, 0.70, 0.62, 0.60), _record(128, 3, 33666, 0.99, 0.85, 0.86)],
              "_mistakes": {"ties_first": 0, "ties_larger": 3, "best_train": 3, "best_test": 3, "last": 3}},
             1, "three models tie at val_accuracy 0.85"),
        Case({"results": [_record(32, 2, 1218, 0.97, 0.83, 0.88), _record(4, 0, 6, 0.70, 0.71, 0.69),
                          _record(8, 1, 42, 0.91, 0.89, 0.85), _record(16, 2, 354, 0.94, 0.86, 0.86)],
              "_mistakes": {"best_train": 0, "best_test": 0, "last": 3, "lowest_val": 1}},
             2, "records in no particular order"),
    )

    def secret_inputs(self, rng):
        return [self._random_case(rng, tie=bool(i % 2)) for i in range(6)]

    def hidden_inputs(self, rng):
        one = [_record(8, 1, 42, 0.9, 0.8, 0.8)]
        all_tied = [_record(w, d, p, float(rng.uniform(0.8, 1)), 0.75, float(rng.uniform(0.6, 0.9)))
                    for w, d, p in [(64, 2, 4482), (8, 1, 42), (16, 1, 82), (4, 0, 6)]]
        same_size = [_record(16, 1, 82, 0.9, 0.8, 0.9), _record(8, 2, 42, 0.95, 0.85, 0.8),
                     _record(8, 2, 42, 0.97, 0.85, 0.85), _record(64, 3, 8642, 1.0, 0.84, 0.9)]
        return [{"results": one}, {"results": all_tied}, {"results": same_size}]

    @staticmethod
    def _random_case(rng, tie: bool) -> dict:
        count = int(rng.integers(3, 8))
        sizes = sorted(rng.choice(np.arange(6, 40_000), count, replace=False))
        records = []
        for rank, n_params in enumerate(sizes):
            train = min(1.0, 0.6 + 0.4 * rank / (count - 1) + float(rng.normal(0, 0.02)))
            val = 0.55 + 0.3 * (1 - abs(rank / (count - 1) - 0.45)) + float(rng.normal(0, 0.03))
            test = val + float(rng.normal(0, 0.04))
            records.append(_record(int(rng.integers(2, 256)), int(rng.integers(0, 5)), int(n_params),
                                   round(train, 2), round(min(val, 1.0), 2), round(min(max(test, 0), 1.0), 2)))
        if tie:  # copy the best validation score onto another model, larger or smaller
            best = max(r["val_accuracy"] for r in records)
            others = [i for i, r in enumerate(records) if r["val_accuracy"] != best]
            if others:
                records[int(rng.choice(others))]["val_accuracy"] = best
        order = rng.permutation(count)
        return {"results": [records[i] for i in order]}

    def run(self, subject, inputs):
        chosen = subject(copy.deepcopy(list(inputs["results"])))
        if isinstance(chosen, np.integer):  # np.argmax gives a numpy integer: report it as an int
            return int(chosen)
        return chosen

    def compare(self, inputs, got, expected):
        sig = self.signature
        count = len(inputs["results"])
        if isinstance(got, dict):
            return (f"{sig} returned a record (a dict); return its index in results, an int from 0 to {count - 1}, "
                    "e.g. results.index(best).")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return f"{sig} returned {got!r}; it should return an int, the index of the chosen record in results."
        if got == expected:
            return None
        return (f"{sig} returned {got}, expected {expected}.{_join_advice(inputs, int(got), _CHOOSE_ADVICE)}")


split_indices = SplitIndices()
standardize = Standardize()
build_model = BuildModel()
diagnose = Diagnose()
choose_capacity = ChooseCapacity()

CHECKS = CheckSet("07_fitting", [split_indices, standardize, build_model, diagnose, choose_capacity])
