"""Checks for 00_first_model: build, size, train, save and reload a Keras classifier for the digits.

A model part is judged from the model itself, never from facts the kernel states about it. The
kernel reports the model as plain data (`model_data.report_model`: its Keras config and weights) or,
for the save part, the bytes of the saved file; the grader rebuilds it with `model_data.rebuild_model`
(built-in Keras classes only, size limits) and computes every fact here: layers, parameter count,
compile settings, the compiled loss and metric, and the outputs on inputs that only the grader holds
(keys starting with "_", which the kernel never sees). The trained model is judged on held-out digits
perturbed with the run's seed (`heldout.digits_heldout`). Nothing in this module builds the model the
exercise asks for: the loss and activation checks work back from the model's own outputs.
"""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from functools import cached_property

import numpy as np

from .compare import fmt
from .core import Case, Check, CheckSet
from .heldout import digits_heldout
from .model_data import (dense_structure, expected_dense_structure, one_line, ModelRejected, activation_name, all_layers, compile_summary, compute_loss, cross_entropy,
                         is_probabilities, linearity_gap, load_saved_model, one_hot, over_budget, predict, rebuild_model,
                         rel_close, report_model, report_saved_file, to_numpy)

#: The trained classifier must reach this accuracy on held-out digits (the reference reaches about 0.96).
ACCURACY_THRESHOLD = 0.90


# ----------------------------------------------------------------------------- helpers (grader side)
def _outputs(model, X) -> tuple[np.ndarray | None, str]:
    """The rebuilt model's outputs on grader data, or None and what went wrong."""
    try:
        return predict(model, X), ""
    except Exception as exc:  # noqa: BLE001 - a model that cannot take the inputs is the student's to fix
        return None, f"{type(exc).__name__}: {one_line(exc)}"


def _not_a_model(sig: str, kind) -> str:
    if kind == "NoneType":
        return f"{sig} returned None: end the function with `return model`."
    return (f"{sig} returned a {kind}, not a keras.Model. Build the model with keras.Sequential([...]) "
            "(or the Functional API), compile it, and return it.")


# ----------------------------------------------------------------------------- Exercise 1: build_model
_PUBLIC_RNG = np.random.default_rng(2024)


def _probe_batch(rng: np.random.Generator, n_inputs: int, n_classes: int, m: int = 40) -> dict:
    """Inputs far enough from zero that any non-linear activation bends the outputs (grader-only keys)."""
    return {"_X": rng.normal(0.0, 2.0, (m, n_inputs)), "_y": rng.integers(0, n_classes, m)}


def _build_case(hidden_units: tuple, n_inputs: int, n_classes: int, rng: np.random.Generator) -> dict:
    return {"hidden_units": tuple(int(u) for u in hidden_units), "n_inputs": int(n_inputs),
            "n_classes": int(n_classes), **_probe_batch(rng, n_inputs, n_classes)}


class BuildModel(Check):
    """The kernel reports the model (config and weights); the grader rebuilds it and works out every fact."""
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
        if isinstance(model, keras.Model) and not model.built:
            # A Sequential without keras.Input is built on its first call: build it for the stated inputs,
            # so that its weights exist and travel with its config (the grader refuses an unbuilt model).
            try:
                model.build((None, int(inputs["n_inputs"])))
            except Exception:  # noqa: BLE001 - the grader says why it cannot rebuild the model
                pass
        return report_model(model)

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        if not got.get("is_model"):
            return _not_a_model(sig, got.get("kind"))
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        if not compile_summary(model).get("compiled"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer='adam', "
                    "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before returning it.")
        n_classes, n_hidden = int(inputs["n_classes"]), len(inputs["hidden_units"])
        X = np.asarray(inputs["_X"], dtype="float32")
        m, half = len(X), len(X) // 2
        facts = dense_structure(model)
        layer_list = ", ".join(f"{kind}({act})" if act else kind for kind, act in facts["layers"])
        outputs, error = _outputs(model, X)
        if outputs is None:
            return (f"The model from {sig} cannot be called on a batch of shape {X.shape} ({error}): give it "
                    f"keras.Input(shape=(n_inputs,)) with the n_inputs it is given (layers: {layer_list}).")
        if outputs.shape != (m, n_classes):
            if outputs.ndim == 2 and outputs.shape[1] == 1:
                return (f"The model from {sig} has 1 output unit, expected {n_classes}: a classifier needs one output "
                        f"per class, so the last layer is Dense(n_classes, activation='softmax').")
            return (f"The model from {sig} maps {m} samples to outputs of shape {outputs.shape}, expected "
                    f"({m}, {n_classes}): one row per sample, one column per class (layers: {layer_list}).")
        want = expected_dense_structure(expected)
        if want is None:
            return f"The check could not read the reference model for {sig}."
        units = facts["dense_units"]
        if units != want["dense_units"]:
            hidden = want["dense_units"][:-1]
            if units[-1:] != [n_classes]:
                return (f"The last Dense layer of the model from {sig} has units {units[-1:]}, "
                        f"expected {n_classes} (n_classes). Its Dense layers have units {units}.")
            return (f"The model from {sig} has Dense layers with units {units}, expected {want['dense_units']}: "
                    f"one hidden Dense layer per entry of hidden_units = {tuple(hidden)}, in order, then "
                    f"Dense({n_classes}). Loop over hidden_units instead of writing fixed sizes.")
        if facts["n_params"] != want["n_params"]:
            return (f"The model from {sig} has {facts['n_params']} parameters, expected {want['n_params']}. "
                    "Keep the default use_bias=True and add no layers with weights besides the Dense layers.")
        mid_outputs, error = _outputs(model, (X[:half] + X[half:2 * half]) / 2)
        if mid_outputs is None:
            return f"The model from {sig} cannot be called on a second batch ({error})."
        gap = linearity_gap(outputs, mid_outputs)
        if n_hidden and gap < 1e-4:
            return (f"The hidden layers of the model from {sig} are linear (layers: {layer_list}). A stack of "
                    "linear layers is no better than one linear layer: give each hidden Dense layer a non-linear "
                    "activation such as activation='relu'.")
        y = np.asarray(inputs["_y"]).astype("int64")
        labels = {"integer": y, "one-hot": one_hot(y, n_classes).astype("float32")}
        losses, errors = self._losses(model, X, labels)
        message = self._compare_loss(inputs, model, outputs, losses, errors)
        if message:
            return message
        return self._compare_metric(model, X, labels, outputs, losses)

    @staticmethod
    def _losses(model, X, labels) -> tuple[dict, dict]:
        """The compiled loss exactly as fit/evaluate compute it, for both label encodings, minus the penalties."""
        losses, errors = {}, {}
        for encoding, y_true in labels.items():
            try:
                losses[encoding] = compute_loss(model, X, y_true)
            except Exception as exc:  # noqa: BLE001 - a mismatched encoding is expected to fail
                errors[encoding] = f"{type(exc).__name__}: {one_line(exc)}"
        try:
            penalty = float(sum(float(to_numpy(v)) for v in model.losses))
        except Exception:  # noqa: BLE001
            penalty = 0.0
        return {k: v - penalty for k, v in losses.items()}, errors

    def _compare_loss(self, inputs, model, outputs, losses, errors):
        sig = self.signature
        y = np.asarray(inputs["_y"]).astype(int)
        probabilities = is_probabilities(outputs)
        summary = compile_summary(model)
        name = summary.get("loss", "?")
        if probabilities and summary.get("from_logits"):
            # Keras on TensorFlow quietly recovers the logits behind a softmax output; other backends apply
            # softmax a second time. Either way the model and its loss disagree about what the outputs are.
            return (f"The output layer of the model from {sig} already applies softmax, but the loss ({name}) was "
                    "told from_logits=True, so it expects raw scores and would apply softmax a second time. Either "
                    "keep the softmax output with the default from_logits=False, or use a linear output layer "
                    "with from_logits=True.")
        target = cross_entropy(outputs, y, from_logits=not probabilities)
        if any(rel_close(value, target) for value in losses.values()):
            return None
        if not losses:
            shown = "; ".join(f"{k} labels: {v}" for k, v in errors.items())
            return (f"The compiled loss of the model from {sig} ({name}) could not be computed for integer labels "
                    f"0..{inputs['n_classes'] - 1} nor for one-hot labels ({shown}). Use "
                    "loss='sparse_categorical_crossentropy' for integer labels.")
        encoded = one_hot(y, outputs.shape[1])
        mse = float(np.mean((encoded - outputs) ** 2))
        clipped = np.clip(outputs, 1e-7, 1 - 1e-7)
        bce = float(np.mean(-(encoded * np.log(clipped) + (1 - encoded) * np.log(1 - clipped))))
        value = next(iter(losses.values()))
        shown = f"the compiled loss ({name}) gives {value:.4g} on the check's batch, while the cross-entropy of the model's own outputs is {target:.4g}"
        lowered = str(name).lower()
        if any(rel_close(v, mse, 1e-3) for v in losses.values()) or lowered in ("mse", "mean_squared_error"):
            return (f"The model from {sig} is compiled with the mean squared error: {shown}. Classification is "
                    "trained with cross-entropy: loss='sparse_categorical_crossentropy' for integer labels.")
        if "binary" in lowered or (probabilities and any(rel_close(v, bce, 1e-3) for v in losses.values())):
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

    def _compare_metric(self, model, X, labels, outputs, losses):
        """The compiled metrics, computed here on the rebuilt model, must include the accuracy of its outputs."""
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == labels["integer"]))
        metrics: dict = {}
        for encoding in losses:
            try:
                model.reset_metrics()
                results = model.compute_metrics(X, labels[encoding], model(X, training=False), sample_weight=None)
                metrics = {str(k): float(to_numpy(v)) for k, v in results.items() if k != "loss"}
            except Exception as exc:  # noqa: BLE001
                metrics = {"__error__": f"{type(exc).__name__}: {one_line(exc)}"}
            break
        if any(k != "__error__" and abs(v - accuracy) < 1e-6 for k, v in metrics.items()):
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
    """Judged by a threshold: the model trained in the notebook must classify held-out digits.

    The kernel reports digits_model itself (config and weights); the grader rebuilds it and classifies
    test-split digits perturbed with the run's seed, which the kernel never sees ("_" keys) and which
    match no row of the public data set exactly. A model far larger than the reference's (one holding the
    public digits as prototypes, which would find each perturbed digit's original) is refused.
    """
    name = "trained_model"
    signature = "train_model(model, X_train, y_train)"

    @cached_property
    def public_cases(self):
        X, y = digits_heldout(np.random.default_rng(2024), 150)
        return (Case({"_X": X, "_labels": y}, None,
                     "150 test digits, each with a random brightness and a little pixel noise"),)

    def secret_inputs(self, rng):
        X, y = digits_heldout(rng, 300)
        return [{"_X": X, "_labels": y}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped before keeping the model) reports its kind

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return "The check cannot read what the trained model reported."
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return ("digits_model is None: build_model or train_model is not implemented yet, or the training "
                        "cell above stopped with an error. Finish Exercises 1 and 3 and fix any error that cell shows.")
            return f"digits_model is a {got.get('kind')}, not a keras.Model: train_model must train the model it is given."
        try:
            model = rebuild_model(got, compile=False)
        except ModelRejected as exc:
            return f"The trained model digits_model cannot be checked: {exc}."
        # A model many times the size of the reference's (a layer holding the public digits as prototypes,
        # say) is not the network build_model describes, whatever its accuracy. (No reference: public case.)
        too_big = over_budget(model, expected, "The trained model digits_model")
        if too_big:
            return too_big
        labels = np.asarray(inputs["_labels"]).astype(int)
        outputs, error = _outputs(model, inputs["_X"])
        if outputs is None:
            return (f"The trained model cannot classify a batch of {len(labels)} digits of 64 pixels ({error}): "
                    "build it with build_model((64, 32)) as the training cell does.")
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
    """A small trained-looking model with weights fixed by the grader's seed (built in the kernel and in the grader)."""
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
            "seed": int(rng.integers(0, 2**31)), "_X": rng.normal(0, 1.5, (8, n_inputs)), "filename": filename}


def _same_predictions(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-6))


class SaveAndReload(Check):
    """The kernel reports the saved file's bytes and the returned model; the grader loads and compares both.

    The reference for both is the model to save, which the grader builds itself from the inputs' seed,
    and the predictions are compared on inputs only the grader holds.
    """
    name = "save_and_reload"
    signature = "save_and_reload(model, path)"
    public_cases = (Case({"n_inputs": 5, "units": 6, "n_classes": 3, "seed": 7,
                          "_X": np.random.default_rng(5).normal(0, 1.5, (6, 5)), "filename": "example_model.keras"},
                         None, "a model with 5 inputs saved to example_model.keras"),)

    def secret_inputs(self, rng):
        return [_save_case(rng, f"digits_{int(rng.integers(1000, 9999))}.keras"),
                _save_case(rng, f"run{int(rng.integers(10, 99))}_mlp.keras")]

    def hidden_inputs(self, rng):
        # A file name with a space and an extra dot in it.
        return [_save_case(rng, f"final model.v{int(rng.integers(2, 9))}.keras")]

    def run(self, subject, inputs):
        model = _model_to_save(inputs)
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
            # What was written where (for the messages), the file's bytes and the returned model, as plain data.
            files = sorted(os.path.relpath(os.path.join(root, name), folder)
                           for root, _, names in os.walk(folder) for name in names)
            return {"saved": report_saved_file(path), "files": files, "same_object": reloaded is model,
                    "reloaded": report_model(reloaded)}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return f"{sig} returned something the check cannot read."
        files = got.get("files")
        files = [str(f) for f in files] if isinstance(files, list) else []
        saved = got.get("saved")
        if not isinstance(saved, dict) or not saved.get("exists"):
            if any(f.endswith((".h5", ".hdf5")) for f in files):
                return (f"{sig} saved the model in the legacy HDF5 format (.h5). Keras 3 saves a whole model, "
                        "architecture, weights and optimizer, in the native .keras format: model.save(path) with the "
                        "path you are given, which ends in .keras.")
            if files:
                return (f"{sig} saved a file, but not at `path` (found: {', '.join(files)}). Save to exactly the "
                        "path you are given: model.save(path).")
            return f"{sig} saved nothing at `path`: call model.save(path), then load it back from the same path."
        data = saved.get("bytes")
        if isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1:
            if not zipfile.is_zipfile(io.BytesIO(data.tobytes())):
                return (f"The file {sig} wrote at `path` is not a .keras archive. Use model.save(path) (or "
                        "keras.saving.save_model(model, path)).")
        if got.get("same_object") is True:
            return (f"{sig} returned the model it was given, not the reloaded one. Return the model that "
                    "keras.models.load_model(path) gives back: that is the test that the file holds the whole model.")
        reloaded_record = got.get("reloaded")
        if not isinstance(reloaded_record, dict) or not reloaded_record.get("is_model"):
            kind = reloaded_record.get("kind") if isinstance(reloaded_record, dict) else "?"
            if kind == "NoneType":
                return f"{sig} returned None: return keras.models.load_model(path)."
            return f"{sig} returned a {kind}, not a keras.Model: return keras.models.load_model(path)."
        X = np.asarray(inputs["_X"], dtype="float32")
        original = predict(_model_to_save(inputs), X)
        try:
            from_file = load_saved_model(saved)
        except ModelRejected as exc:
            return f"The file {sig} saved at `path` cannot be checked: {exc}."
        file_outputs, error = _outputs(from_file, X)
        if file_outputs is None or not _same_predictions(file_outputs, original):
            shown = error or f"e.g. {fmt(file_outputs)} instead of {fmt(original)}"
            return (f"The file {sig} saved at `path` does not hold the model it was given: loaded back, it "
                    f"predicts differently ({shown}). Save the model you are given with model.save(path).")
        try:
            reloaded = rebuild_model(reloaded_record, compile=False)
        except ModelRejected as exc:
            return f"The model {sig} returned cannot be checked: {exc}."
        outputs, error = _outputs(reloaded, X)
        if outputs is None or not _same_predictions(outputs, original):
            shown = error or f"e.g. {fmt(outputs)} instead of {fmt(original)}"
            return (f"The model {sig} returned predicts differently from the model that was saved ({shown}). "
                    "Load the file you saved with keras.models.load_model(path) rather than building or cloning "
                    "a new model.")
        return None


build_model = BuildModel()
count_model_params = CountModelParams()
trained_model = TrainedModel()
save_and_reload = SaveAndReload()

CHECKS = CheckSet("00_first_model", [build_model, count_model_params, trained_model, save_and_reload])
