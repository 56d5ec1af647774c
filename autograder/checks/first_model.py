"""Checks for 00_first_model: build, size, train, save and reload a Keras classifier for the digits.

Every check reports plain data from the kernel (outputs, layer sizes, losses, metric values) and
judges it here. Nothing in this module builds the model the exercise asks for: the loss and
activation checks work back from the model's own outputs.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from functools import cached_property

import numpy as np

from .compare import fmt
from .core import Case, Check, CheckSet

#: The trained classifier must reach this accuracy on held-out digits (the reference reaches about 0.96).
ACCURACY_THRESHOLD = 0.90


# ----------------------------------------------------------------------------- helpers (grader side)
def _rel_close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) / max(1e-8, abs(a) + abs(b)) <= tol


def _is_probabilities(outputs: np.ndarray) -> bool:
    """Rows of non-negative numbers that sum to 1: what a softmax output layer produces."""
    return bool(np.all(outputs >= -1e-6) and np.all(outputs <= 1 + 1e-6)
                and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _cross_entropy(outputs: np.ndarray, y: np.ndarray, *, from_logits: bool) -> float:
    """Mean categorical cross-entropy of integer labels `y`, from probabilities or from logits."""
    rows = np.arange(len(y))
    if from_logits:
        return float(np.mean(-_log_softmax(outputs)[rows, y]))
    return float(np.mean(-np.log(np.clip(outputs[rows, y], 1e-7, 1.0))))


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[y]


def _centred_scores(outputs: np.ndarray) -> np.ndarray:
    """Log-probabilities (or logits) minus their row mean: affine in x when every hidden layer is linear."""
    scores = np.log(np.clip(outputs, 1e-30, None)) if _is_probabilities(outputs) else outputs
    return scores - scores.mean(axis=1, keepdims=True)


def _linearity_gap(outputs: np.ndarray, mid_outputs: np.ndarray) -> float:
    """How far the network is from affine: compare f((x1 + x2) / 2) with (f(x1) + f(x2)) / 2."""
    half = len(mid_outputs)
    scores = _centred_scores(np.concatenate([outputs[:2 * half], mid_outputs]))
    first, second, mid = scores[:half], scores[half:2 * half], scores[2 * half:]
    return float(np.max(np.abs(mid - (first + second) / 2)) / max(1e-8, np.max(np.abs(scores))))


def _digits_test_split():
    from coursekit.data import digits_split

    _, X_test, _, y_test = digits_split()
    return X_test, y_test


# ----------------------------------------------------------------------------- kernel-side helpers
def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "numpy"):  # an eager tensor (TensorFlow, or PyTorch on the CPU)
        return np.array(value.numpy())
    import keras

    return np.array(keras.ops.convert_to_numpy(value))


def _all_layers(model) -> list:
    """Layers in order, looking inside nested models (a Sequential used as a layer)."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
        else:
            found.append(layer)
    return found


def _activation_name(layer) -> str:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return ""
    return str(getattr(activation, "__name__", type(activation).__name__))


def _describe_loss(loss) -> tuple[str, bool]:
    """The compiled loss's name, and whether it was told that the outputs are logits."""
    if loss is None:
        return "none", False
    if isinstance(loss, str):
        return loss, False
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    try:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
    except Exception:  # noqa: BLE001 - a custom loss without a config is still a loss
        config = {}
    return str(name), bool(isinstance(config, dict) and config.get("from_logits"))


# ----------------------------------------------------------------------------- Exercise 1: build_model
_PUBLIC_RNG = np.random.default_rng(2024)


def _probe_batch(rng: np.random.Generator, n_inputs: int, n_classes: int, m: int = 40) -> dict:
    """Inputs far enough from zero that any non-linear activation bends the outputs."""
    return {"X": rng.normal(0.0, 2.0, (m, n_inputs)), "y": rng.integers(0, n_classes, m)}


def _build_case(hidden_units: tuple, n_inputs: int, n_classes: int, rng: np.random.Generator) -> dict:
    return {"hidden_units": tuple(int(u) for u in hidden_units), "n_inputs": int(n_inputs),
            "n_classes": int(n_classes), **_probe_batch(rng, n_inputs, n_classes)}


class BuildModel(Check):
    name = "build_model"
    signature = "build_model(hidden_units, n_inputs, n_classes)"
    public_cases = (
        Case(_build_case((64, 32), 64, 10, _PUBLIC_RNG), {"dense_units": [64, 32, 10], "n_params": 6570},
             "hidden_units=(64, 32) for the 64-pixel digits"),
        Case(_build_case((16,), 4, 3, _PUBLIC_RNG), {"dense_units": [16, 3], "n_params": 131},
             "hidden_units=(16,), n_inputs=4, n_classes=3"),
    )

    def secret_inputs(self, rng):
        sizes = [8, 12, 16, 24, 32, 48, 64, 96]
        cases = []
        # Two digit-sized models, and one of another size (which catches hard-coded 64 inputs or 10 classes).
        shapes = [(2, 64, 10), (3, 64, 10), (int(rng.integers(1, 4)), int(rng.integers(5, 30)), int(rng.integers(3, 8)))]
        for depth, n_inputs, n_classes in shapes:
            hidden = tuple(int(u) for u in rng.choice(sizes, depth))
            cases.append(_build_case(hidden, n_inputs, n_classes, rng))
        return cases

    def hidden_inputs(self, rng):
        # A single hidden layer with two classes, and a deeper stack of four narrow layers.
        return [_build_case((int(rng.integers(10, 40)),), int(rng.integers(3, 9)), 2, rng),
                _build_case(tuple(int(u) for u in rng.integers(6, 20, 4)), 64, 10, rng)]

    def run(self, subject, inputs):
        import keras

        model = subject(hidden_units=tuple(inputs["hidden_units"]), n_inputs=inputs["n_inputs"],
                        n_classes=inputs["n_classes"])
        if not isinstance(model, keras.Model):
            return {"is_model": False, "kind": type(model).__name__}
        X = np.asarray(inputs["X"], dtype="float32")
        y = np.asarray(inputs["y"]).astype("int64")
        half = len(X) // 2
        y_pred = model(X, training=False)
        outputs = _to_numpy(y_pred)
        mid_outputs = _to_numpy(model((X[:half] + X[half:2 * half]) / 2, training=False))
        layers = _all_layers(model)
        report = {
            "is_model": True,
            "compiled": bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None,
            "outputs": outputs,
            "mid_outputs": mid_outputs,
            "layers": [[type(layer).__name__, _activation_name(layer)] for layer in layers],
            "dense_units": [int(layer.units) for layer in layers if isinstance(layer, keras.layers.Dense)],
            "n_params": int(model.count_params()),
            "loss_name": _describe_loss(getattr(model, "loss", None))[0],
            "from_logits": _describe_loss(getattr(model, "loss", None))[1],
            "losses": {}, "loss_errors": {}, "metrics": None,
            "regularization": float(sum(float(_to_numpy(v)) for v in model.losses)),
        }
        if not report["compiled"]:
            return report
        # The loss exactly as fit/evaluate compute it, on the model's own outputs, for both label encodings.
        labels = {"integer": y, "one-hot": _one_hot(y, int(inputs["n_classes"])).astype("float32")}
        for encoding, y_true in labels.items():
            try:
                report["losses"][encoding] = float(_to_numpy(
                    model.compute_loss(x=X, y=y_true, y_pred=y_pred, training=False)))
            except Exception as exc:  # noqa: BLE001 - a mismatched encoding is expected to fail
                report["loss_errors"][encoding] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        for encoding, y_true in labels.items():
            if encoding not in report["losses"]:
                continue
            try:
                model.reset_metrics()
                results = model.compute_metrics(X, y_true, y_pred, sample_weight=None)
                report["metrics"] = {str(k): float(_to_numpy(v)) for k, v in results.items() if k != "loss"}
            except Exception as exc:  # noqa: BLE001
                report["metrics"] = {"__error__": f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"}
            break
        return report

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        if not got.get("is_model"):
            kind = got.get("kind")
            if kind == "NoneType":
                return f"{sig} returned None: end the function with `return model`."
            return (f"{sig} returned a {kind}, not a keras.Model. Build the model with keras.Sequential([...]) "
                    "(or the Functional API), compile it, and return it.")
        if not got.get("compiled"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer='adam', "
                    "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before returning it.")
        n_classes, n_hidden = inputs["n_classes"], len(inputs["hidden_units"])
        outputs = np.asarray(got["outputs"], dtype=np.float64)
        m = len(inputs["X"])
        layer_list = ", ".join(f"{kind}({act})" if act else kind for kind, act in got.get("layers", []))
        if outputs.shape != (m, n_classes):
            if outputs.ndim == 2 and outputs.shape[1] == 1:
                return (f"The model from {sig} has 1 output unit, expected {n_classes}: a classifier needs one output "
                        f"per class, so the last layer is Dense(n_classes, activation='softmax').")
            return (f"The model from {sig} maps {m} samples to outputs of shape {outputs.shape}, expected "
                    f"({m}, {n_classes}): one row per sample, one column per class (layers: {layer_list}).")
        if got["dense_units"] != list(expected["dense_units"]):
            hidden = list(expected["dense_units"])[:-1]
            if got["dense_units"][-1:] != [n_classes]:
                return (f"The last Dense layer of the model from {sig} has units {got['dense_units'][-1:]}, "
                        f"expected {n_classes} (n_classes). Its Dense layers have units {got['dense_units']}.")
            return (f"The model from {sig} has Dense layers with units {got['dense_units']}, expected {expected['dense_units']}: "
                    f"one hidden Dense layer per entry of hidden_units = {tuple(hidden)}, in order, then "
                    f"Dense({n_classes}). Loop over hidden_units instead of writing fixed sizes.")
        if got["n_params"] != expected["n_params"]:
            return (f"The model from {sig} has {got['n_params']} parameters, expected {expected['n_params']}. "
                    "Keep the default use_bias=True and add no layers with weights besides the Dense layers.")
        gap = _linearity_gap(outputs, np.asarray(got["mid_outputs"], dtype=np.float64))
        if n_hidden and gap < 1e-4:
            return (f"The hidden layers of the model from {sig} are linear (layers: {layer_list}). A stack of "
                    "linear layers is no better than one linear layer: give each hidden Dense layer a non-linear "
                    "activation such as activation='relu'.")
        message = self._compare_loss(inputs, got, outputs)
        if message:
            return message
        return self._compare_metric(inputs, got, outputs)

    def _compare_loss(self, inputs, got, outputs):
        sig = self.signature
        y = np.asarray(inputs["y"]).astype(int)
        probabilities = _is_probabilities(outputs)
        name = got.get("loss_name", "?")
        if probabilities and got.get("from_logits"):
            # Keras on TensorFlow quietly recovers the logits behind a softmax output; other backends apply
            # softmax a second time. Either way the model and its loss disagree about what the outputs are.
            return (f"The output layer of the model from {sig} already applies softmax, but the loss ({name}) was "
                    "told from_logits=True, so it expects raw scores and would apply softmax a second time. Either "
                    "keep the softmax output with the default from_logits=False, or use a linear output layer "
                    "with from_logits=True.")
        target = _cross_entropy(outputs, y, from_logits=not probabilities)
        penalty = float(got.get("regularization") or 0.0)
        losses = {k: v - penalty for k, v in (got.get("losses") or {}).items() if isinstance(v, (int, float))}
        if any(_rel_close(value, target) for value in losses.values()):
            return None
        if not losses:
            errors = "; ".join(f"{k} labels: {v}" for k, v in (got.get("loss_errors") or {}).items())
            return (f"The compiled loss of the model from {sig} ({name}) could not be computed for integer labels "
                    f"0..{inputs['n_classes'] - 1} nor for one-hot labels ({errors}). Use "
                    "loss='sparse_categorical_crossentropy' for integer labels.")
        one_hot = _one_hot(y, outputs.shape[1])
        mse = float(np.mean((one_hot - outputs) ** 2))
        clipped = np.clip(outputs, 1e-7, 1 - 1e-7)
        bce = float(np.mean(-(one_hot * np.log(clipped) + (1 - one_hot) * np.log(1 - clipped))))
        value = next(iter(losses.values()))
        shown = f"the compiled loss ({name}) gives {value:.4g} on the check's batch, while the cross-entropy of the model's own outputs is {target:.4g}"
        lowered = name.lower()
        if any(_rel_close(v, mse, 1e-3) for v in losses.values()) or lowered in ("mse", "mean_squared_error"):
            return (f"The model from {sig} is compiled with the mean squared error: {shown}. Classification is "
                    "trained with cross-entropy: loss='sparse_categorical_crossentropy' for integer labels.")
        if "binary" in lowered or (probabilities and any(_rel_close(v, bce, 1e-3) for v in losses.values())):
            return (f"The model from {sig} is compiled with binary cross-entropy: {shown}. Binary cross-entropy "
                    "treats each output as a separate yes/no question; for one label out of n_classes use "
                    "loss='sparse_categorical_crossentropy'.")
        if not probabilities:
            return (f"The outputs of the model from {sig} are not probabilities (each row should be non-negative and "
                    f"sum to 1), but the loss ({name}) expects probabilities: {shown}. Give the last Dense layer "
                    "activation='softmax', or keep it linear and compile with "
                    "keras.losses.SparseCategoricalCrossentropy(from_logits=True).")
        return (f"The loss of the model from {sig} is not the cross-entropy of its outputs: {shown}. Use "
                "loss='sparse_categorical_crossentropy' with integer labels (or 'categorical_crossentropy' "
                "with one-hot labels).")

    def _compare_metric(self, inputs, got, outputs):
        y = np.asarray(inputs["y"]).astype(int)
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == y))
        metrics = got.get("metrics") or {}
        if any(k != "__error__" and isinstance(v, (int, float)) and abs(v - accuracy) < 1e-6
               for k, v in metrics.items()):
            return None
        found = ", ".join(k for k in metrics if k != "__error__") or "none"
        error = f" (computing them failed: {metrics['__error__']})" if "__error__" in metrics else ""
        return (f"The model from {self.signature} reports no accuracy metric (metrics found: {found}){error}. "
                "Compile it with metrics=['accuracy'] so that fit and evaluate report the fraction of digits "
                "classified correctly.")


# ----------------------------------------------------------------------------- Exercise 2: count_model_params
class CountModelParams(Check):
    name = "count_model_params"
    signature = "count_model_params(hidden_units, n_inputs, n_classes)"
    public_cases = (
        Case({"hidden_units": (64, 32), "n_inputs": 64, "n_classes": 10}, 6570, "hidden_units=(64, 32), 64 inputs, 10 classes"),
        Case({"hidden_units": (100,), "n_inputs": 64, "n_classes": 10}, 7510, "hidden_units=(100,), 64 inputs, 10 classes"),
        Case({"hidden_units": (16, 8, 4), "n_inputs": 4, "n_classes": 3}, 267, "hidden_units=(16, 8, 4), 4 inputs, 3 classes"),
    )

    def secret_inputs(self, rng):
        cases = []
        for depth in (1, 2, 3, 2):
            cases.append({"hidden_units": tuple(int(u) for u in rng.integers(5, 130, depth)),
                          "n_inputs": int(rng.choice([64, int(rng.integers(2, 50))])),
                          "n_classes": int(rng.integers(2, 12))})
        return cases

    def hidden_inputs(self, rng):
        # Five hidden layers, and a binary problem with a single wide layer.
        return [{"hidden_units": tuple(int(u) for u in rng.integers(3, 40, 5)), "n_inputs": 64, "n_classes": 10},
                {"hidden_units": (int(rng.integers(200, 600)),), "n_inputs": int(rng.integers(2, 10)), "n_classes": 2}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        try:
            value = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return f"{sig} should return a whole number, but returned {type(got).__name__}."
        if value.size != 1:
            return (f"{sig} returned {value.size} numbers ({fmt(value)}); return one total, the sum over "
                    "all layers.")
        value = float(value.ravel()[0])
        if value == expected:
            return None
        hidden = [int(u) for u in inputs["hidden_units"]]
        n_in, n_classes = int(inputs["n_inputs"]), int(inputs["n_classes"])
        sizes = [n_in] + hidden + [n_classes]
        shown = f"{sig} returned {value:g}, expected {expected:g} for hidden_units={tuple(hidden)}, {n_in} inputs, {n_classes} classes."
        if value == expected - sum(hidden) - n_classes:
            return f"{shown} The biases are missing: every unit of a Dense layer has one bias as well as its weights."
        if value in (n_in * hidden[0], n_in * hidden[0] + hidden[0]):
            return (f"{shown} That is only the first layer. Add up (inputs + 1) * units for every Dense layer, "
                    "including the output layer.")
        if value == expected - (hidden[-1] + 1) * n_classes:
            return f"{shown} The output layer is missing: it has (last hidden units + 1) * n_classes parameters too."
        if value in (sum(hidden) + n_classes, sum(sizes)):
            return (f"{shown} That counts units (neurons), not parameters: a Dense layer with n inputs and u units "
                    "has n * u weights and u biases.")
        if value == expected - sum(hidden) - n_classes + len(hidden) + 1:
            return f"{shown} Each unit has its own bias, not one bias per layer: a Dense layer has u biases."
        if value == float(np.prod(sizes)):
            return f"{shown} Multiply within a layer, then add the layers up: sum of (inputs + 1) * units."
        return (f"{shown} A Dense layer with n inputs and u units has n * u weights plus u biases; add that up "
                "for every hidden layer and the output layer.")


# ----------------------------------------------------------------------------- Exercise 3: the trained model
class TrainedModel(Check):
    """Judged by a threshold: the model trained in the notebook must classify held-out digits."""
    name = "trained_model"
    signature = "train_model(model, X_train, y_train)"

    @cached_property
    def public_cases(self):
        X_test, y_test = _digits_test_split()
        return (Case({"X": X_test[:150], "_labels": y_test[:150]}, None, "the first 150 test digits"),)

    def secret_inputs(self, rng):
        X_test, y_test = _digits_test_split()
        chosen = np.sort(rng.choice(len(X_test), 300, replace=False))
        return [{"X": X_test[chosen], "_labels": y_test[chosen]}]

    def run(self, subject, inputs):
        import keras

        if not isinstance(subject, keras.Model):  # None: the training cell stopped before keeping the model
            return {"is_model": False, "kind": type(subject).__name__}
        outputs = _to_numpy(subject(np.asarray(inputs["X"], dtype="float32"), training=False))
        return {"is_model": True, "outputs": outputs}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return "The check cannot read what the trained model reported."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return ("digits_model is None: build_model or train_model is not implemented yet, or the training "
                        "cell above stopped with an error. Finish Exercises 1 and 3 and fix any error that cell shows.")
            return f"digits_model is a {got.get('kind')}, not a keras.Model: train_model must train the model it is given."
        labels = np.asarray(inputs["_labels"]).astype(int)
        outputs = np.asarray(got["outputs"], dtype=np.float64)
        if outputs.ndim != 2 or outputs.shape[0] != len(labels) or outputs.shape[1] < 2:
            return (f"The trained model returned outputs of shape {outputs.shape} for {len(labels)} digits, "
                    "expected one row of 10 class scores per digit.")
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == labels))
        if accuracy >= ACCURACY_THRESHOLD:
            return None
        shown = (f"The trained model classifies {accuracy:.1%} of {len(labels)} held-out digits correctly; "
                 f"at least {ACCURACY_THRESHOLD:.0%} is needed.")
        if accuracy < 0.25:
            return (f"{shown} That is close to guessing (10%), so the model was not trained: train_model must call "
                    "model.fit(X_train, y_train, ...) on the model it receives (fit trains it in place), "
                    "for about 20 epochs.")
        return (f"{shown} It learned something but not enough: train for more epochs (about 20 with batch_size=32), "
                "and keep the labels and the loss consistent (integer labels with sparse_categorical_crossentropy).")


# ----------------------------------------------------------------------------- Exercise 4: save_and_reload
def _model_to_save(inputs):
    """A small trained-looking model with weights fixed by the grader's seed."""
    import keras

    n_inputs, units, n_classes = int(inputs["n_inputs"]), int(inputs["units"]), int(inputs["n_classes"])
    rng = np.random.default_rng(int(inputs["seed"]))
    features = keras.Input(shape=(n_inputs,), name="features")
    hidden = keras.layers.Dense(units, activation="tanh", name="hidden")(features)
    scores = keras.layers.Dense(n_classes, activation="softmax", name="scores")(hidden)
    model = keras.Model(features, scores, name="model_to_save")
    model.set_weights([rng.normal(0, 0.6, (n_inputs, units)), rng.normal(0, 0.2, units),
                       rng.normal(0, 0.6, (units, n_classes)), rng.normal(0, 0.2, n_classes)])
    return model


def _save_case(rng, filename: str) -> dict:
    n_inputs, n_classes = int(rng.integers(3, 12)), int(rng.integers(2, 6))
    return {"n_inputs": n_inputs, "units": int(rng.integers(4, 16)), "n_classes": n_classes,
            "seed": int(rng.integers(0, 2**31)), "X": rng.normal(0, 1.5, (8, n_inputs)), "filename": filename}


class SaveAndReload(Check):
    name = "save_and_reload"
    signature = "save_and_reload(model, path)"
    public_cases = (Case({"n_inputs": 5, "units": 6, "n_classes": 3, "seed": 7,
                          "X": np.random.default_rng(5).normal(0, 1.5, (6, 5)), "filename": "example_model.keras"},
                         None, "a model with 5 inputs saved to example_model.keras"),)

    def secret_inputs(self, rng):
        return [_save_case(rng, f"digits_{int(rng.integers(1000, 9999))}.keras"),
                _save_case(rng, f"run{int(rng.integers(10, 99))}_mlp.keras")]

    def hidden_inputs(self, rng):
        # A file name with a space and an extra dot in it.
        return [_save_case(rng, f"final model.v{int(rng.integers(2, 9))}.keras")]

    def run(self, subject, inputs):
        import keras

        model = _model_to_save(inputs)
        X = np.asarray(inputs["X"], dtype="float32")
        original = _to_numpy(model(X, training=False))
        # A fresh folder inside the working directory, also made the current directory during the call,
        # so that even a file saved under a hard-coded name lands there and is removed afterwards.
        home = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="autograder-save-", dir=home) as folder:
            path = os.path.join(folder, inputs["filename"])
            os.chdir(folder)
            try:
                reloaded = subject(model, path)
            finally:
                os.chdir(home)
            files = sorted(os.path.relpath(os.path.join(root, name), folder)
                           for root, _, names in os.walk(folder) for name in names)
            report = {"saved_at_path": os.path.isfile(path), "is_keras_zip": zipfile.is_zipfile(path) if
                      os.path.isfile(path) else False, "files": files, "original": original,
                      "same_object": reloaded is model, "is_model": isinstance(reloaded, keras.Model),
                      "kind": type(reloaded).__name__}
            if report["is_model"] and not report["same_object"]:
                report["reloaded"] = _to_numpy(reloaded(X, training=False))
        return report

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        files = got.get("files") or []
        if not got.get("saved_at_path"):
            if any(str(f).endswith((".h5", ".hdf5")) for f in files):
                return (f"{sig} saved the model in the legacy HDF5 format (.h5). Keras 3 saves a whole model, "
                        "architecture, weights and optimizer, in the native .keras format: model.save(path) with the "
                        "path you are given, which ends in .keras.")
            if files:
                return (f"{sig} saved a file, but not at `path` (found: {', '.join(files)}). Save to exactly the "
                        "path you are given: model.save(path).")
            return f"{sig} saved nothing at `path`: call model.save(path), then load it back from the same path."
        if not got.get("is_keras_zip"):
            return (f"The file {sig} wrote at `path` is not a .keras archive. Use model.save(path) (or "
                    "keras.saving.save_model(model, path)).")
        if got.get("same_object"):
            return (f"{sig} returned the model it was given, not the reloaded one. Return the model that "
                    "keras.models.load_model(path) gives back: that is the test that the file holds the whole model.")
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return f"{sig} returned None: return keras.models.load_model(path)."
            return f"{sig} returned a {got.get('kind')}, not a keras.Model: return keras.models.load_model(path)."
        original = np.asarray(got["original"], dtype=np.float64)
        reloaded = np.asarray(got.get("reloaded"), dtype=np.float64)
        targets = [original] + ([np.asarray(expected["reloaded"], dtype=np.float64)]
                                if isinstance(expected, dict) and expected.get("reloaded") is not None else [])
        if reloaded.shape != original.shape or not all(np.allclose(reloaded, t, rtol=1e-5, atol=1e-6) for t in targets):
            return (f"The model {sig} returned predicts differently from the model that was saved (e.g. "
                    f"{fmt(reloaded)} instead of {fmt(original)}). Load the file you saved with "
                    "keras.models.load_model(path) rather than building or cloning a new model.")
        return None


build_model = BuildModel()
count_model_params = CountModelParams()
trained_model = TrainedModel()
save_and_reload = SaveAndReload()

CHECKS = CheckSet("00_first_model", [build_model, count_model_params, trained_model, save_and_reload])
