"""Checks for 00_first_model: build a Keras classifier, measure its accuracy, choose between networks by a
rule, and run the comparison that the rule decides.

A model part is judged from the model itself, never from facts the kernel states about it. The kernel
reports the model as plain data (`model_data.report_model`: its Keras config and weights); the grader
rebuilds it with `model_data.rebuild_model` (built-in Keras classes only, size limits) and computes every
fact here: layers, parameter count, compile settings, the compiled loss and metric, its accuracy on the
validation rows, and its outputs on inputs that only the grader holds (keys starting with "_"). The trained
models are judged on held-out digits perturbed with the run's seed (`heldout.digits_heldout`). Nothing in
this module builds the model the exercise asks for: the loss and activation checks work back from the
model's own outputs.

Stated rules (part / rule / how it is checked). 29 rules found in the statements and docstrings, 26 checked,
3 suggestions only (and the statements word them so):
- build_model / returns a compiled keras.Model / rebuilt from its config, "not compiled", "not a keras.Model"
- build_model / an input of n_inputs features / called on a batch of shape (m, n_inputs), "keras.Input"
- build_model / one hidden Dense layer per entry of hidden_units, in order (none for ()) / Dense units and the
  parameter count against the reference's model, "Loop over hidden_units"
- build_model / hidden layers non-linear / linearity of the outputs on a probe batch, "are linear"
- build_model / "relu" is a good default / suggestion only (any non-linear activation passes)
- build_model / output Dense(n_classes) with softmax (or linear with from_logits=True) / output shape, the
  compiled loss against the cross-entropy of the model's own outputs, "second time"; a Dense with another
  activation followed by a Softmax layer, "before the softmax"
- build_model / optimizer Adam with learning_rate=0.01 / compile settings of the rebuilt model, "Adam"
- build_model / loss sparse_categorical_crossentropy, integer labels / the compiled loss on integer labels,
  "one-hot", "mean squared error", "binary cross-entropy"
- build_model / metrics=["accuracy"] / the compiled metrics computed on the rebuilt model, "metrics=['accuracy']"
- build_model / Sequential or Functional API of built-in layers / rebuild refuses subclasses and Lambda layers
- accuracy / returns one number / the value's shape, "one float"
- accuracy / a fraction between 0 and 1 / value against the reference's; diagnoses for a percentage, a count,
  the error rate
- accuracy / the predicted class is the highest-scoring output / value against the reference's on softmax and
  linear (logit) models alike
- accuracy / the model may be uncompiled / public and secret uncompiled models; advice when compile() is asked for
- accuracy / the model is left unchanged / its weights after the call against the grader's own copy, "changed"
- choose_network / returns an int index / type and range checked, "an int"
- choose_network / best = the highest validation accuracy / value against the reference's
- choose_network / within tolerance means val_accuracy >= best - tolerance (inclusive) / a hidden case exactly
  on the boundary, ">="
- choose_network / among those, the fewest n_params / cases where the most accurate is not the answer,
  "most accurate"; cases where the smallest overall is outside the tolerance, "smallest network"
- choose_network / a tie in n_params goes to the first in the list / a public and a secret tie, "the first"
- choose_network / tolerance is honoured / the public cases differ only in tolerance
- choose_network / the lists come in any order / secret cases in random order
- compare_networks / returns the pair (models, val_accuracies), one per candidate, in order / checked
- compare_networks / each model is build_model(candidate) / its Dense units per candidate, and Exercise 1's
  settings (a wrong build is named as the cause, "fix Exercise 1 first")
- compare_networks / trained on X_fit only, exactly `epochs` epochs, fit's default batch_size 32 / the
  optimizer's step count, epochs × ceil(len(X_fit) / 32); diagnoses for other epochs, validation rows, batch sizes
- compare_networks / val_accuracies[i] is models[i]'s accuracy on (X_val, y_val) / recomputed by the grader on
  the same rows; diagnoses for the training rows, the test split, a percentage
- compare_networks / the models are trained / each classifies >= HELDOUT_THRESHOLD of held-out digits
- compare_networks / keras.utils.set_random_seed(0) before each model / suggestion only (said so)
- compare_networks / verbose=0 keeps the notebook quiet / suggestion only

The step count is the optimizer's own counter, reported with each model as its weights are. A forged count can
hide a shorter training, not a weaker model: the held-out requirement judges the models themselves.

compare_networks gives a share of its points per requirement (models, training budget, measurement, held-out
accuracy) and build_model per setting (layers, activations, loss, optimizer, metric): they are separable.
"""
from __future__ import annotations

import math
from functools import cached_property, lru_cache

import numpy as np

from .core import Case, Check, CheckSet, Partial, describe_value, requirements
from .heldout import digits_heldout
from .model_data import (ModelRejected, activation_before_softmax, activation_name, all_layers, compile_summary,
                         compute_loss, cross_entropy, dense_structure, expected_dense_structure, is_probabilities,
                         linearity_gap, one_hot, predict, rebuild_model, rejection_text, rel_close, report_model,
                         to_numpy)

#: Exercise 1's fixed optimizer setting.
LEARNING_RATE = 0.01
#: What Exercise 4's locked cell runs; the grader rebuilds the same rows to judge it.
CANDIDATES = ((), (16,), (64, 32))
EPOCHS = 10
VALIDATION_FRACTION = 0.2
BATCH_SIZE = 32  # model.fit's default
#: How a message names a wrong build as the cause of a comparison's trouble.
EXERCISE_1 = "compare_networks trains what build_model builds, so fix Exercise 1 first."
#: Every trained candidate must classify at least this share of held-out digits (the reference's reach about 0.94).
HELDOUT_THRESHOLD = 0.85


# ----------------------------------------------------------------------------- helpers (grader side)
def _outputs(model, X) -> tuple[np.ndarray | None, str]:
    """The rebuilt model's outputs on grader data, or None and a few words on why.

    Keras's own error text is not passed on: it names Keras's exceptions, which the student's code did not raise.
    """
    try:
        return predict(model, X), ""
    except Exception:  # noqa: BLE001 - a model that cannot take the inputs is the student's to fix
        return None, f"Keras refuses inputs of shape {tuple(np.shape(X))}"


def _not_a_model(sig: str, kind) -> str:
    if kind == "NoneType":
        return f"{sig} returned None: end the function with `return model`."
    return (f"{sig} returned a {kind}, not a keras.Model. Build the model with keras.Sequential([...]) "
            "(or the Functional API), compile it, and return it.")


def _layer_list(model) -> str:
    facts = dense_structure(model)
    return ", ".join(f"{kind}({act})" if act else kind for kind, act in facts["layers"])


def _optimizer_problem(model) -> str | None:
    """The message when the compiled optimizer is not Adam with learning_rate=0.01, else None."""
    summary = compile_summary(model)
    optimizer, rate = summary.get("optimizer"), summary.get("learning_rate")
    fix = f"optimizer=keras.optimizers.Adam(learning_rate={LEARNING_RATE:g})"
    if optimizer != "Adam":
        return f"It is compiled with the {optimizer} optimizer; the statement fixes Adam with learning_rate=0.01: {fix}."
    if summary.get("schedule") or rate is None:
        return f"Its Adam optimizer follows a learning-rate schedule; the statement fixes a constant 0.01: {fix}."
    if not rel_close(rate, LEARNING_RATE, 1e-5):
        default = " (optimizer='adam' alone gives Keras's default, 0.001)" if rel_close(rate, 1e-3, 1e-5) else ""
        return f"Its Adam optimizer has learning rate {rate:g}; the statement fixes 0.01{default}: {fix}."
    return None


def _loss_problem(model, X, y, outputs) -> str | None:
    """The message when the compiled loss is not the cross-entropy of the outputs for integer labels, else None."""
    probabilities = is_probabilities(outputs)
    summary = compile_summary(model)
    name = summary.get("loss", "?")
    if probabilities and summary.get("from_logits"):
        # Keras on TensorFlow quietly recovers the logits behind a softmax output; other backends apply
        # softmax a second time. Either way the model and its loss disagree about what the outputs are.
        return (f"The output layer already applies softmax, but the loss ({name}) was told from_logits=True, so it "
                "expects raw scores and would apply softmax a second time. Either keep the softmax output with the "
                "default from_logits=False, or use a linear output layer with from_logits=True.")
    if probabilities:
        # Keras on TensorFlow computes the loss of a softmax output from the logits behind it, which float32
        # probabilities near 0 no longer hold: judge on the rows whose true class is not that unlikely.
        usable = outputs[np.arange(len(y)), y] > 1e-5
        if usable.sum() >= 5:
            X, y, outputs = X[usable], y[usable], outputs[usable]
    target = cross_entropy(outputs, y, from_logits=not probabilities)
    penalty = _penalty(model)
    try:
        value = compute_loss(model, X, y) - penalty
    except Exception:  # noqa: BLE001 - a loss that cannot take integer labels
        value = None
    if value is not None and rel_close(value, target):
        return None
    lowered = str(name).lower()
    encoded = one_hot(y, outputs.shape[1]).astype("float32")
    try:
        one_hot_value = compute_loss(model, X, encoded) - penalty
    except Exception:  # noqa: BLE001
        one_hot_value = None
    if one_hot_value is not None and rel_close(one_hot_value, target) or lowered in (
            "categorical_crossentropy", "categoricalcrossentropy"):
        return (f"The loss ({name}) expects one-hot label vectors, but the digits' labels are the integers 0..9, "
                "which is what fit gets in Exercise 4: use loss='sparse_categorical_crossentropy'.")
    mse = float(np.mean((encoded - outputs) ** 2))
    if lowered in ("mse", "mean_squared_error", "meansquarederror") or (value is not None and rel_close(value, mse, 1e-3)):
        return ("It is compiled with the mean squared error. Classification is trained with cross-entropy: "
                "loss='sparse_categorical_crossentropy' for integer labels.")
    if "binary" in lowered:
        return ("It is compiled with binary cross-entropy, which treats each output as a separate yes/no question; "
                "for one label out of n_classes use loss='sparse_categorical_crossentropy'.")
    if not probabilities:
        return (f"Its outputs are not probabilities (each row should be non-negative and sum to 1), but the loss "
                f"({name}) expects probabilities. Give the last Dense layer activation='softmax', or keep it linear "
                "and compile with keras.losses.SparseCategoricalCrossentropy(from_logits=True).")
    return (f"Its compiled loss ({name}) is not the cross-entropy of its outputs for integer labels: use "
            "loss='sparse_categorical_crossentropy'.")


def _penalty(model) -> float:
    try:
        return float(sum(float(to_numpy(v)) for v in model.losses))
    except Exception:  # noqa: BLE001
        return 0.0


def _metric_problem(model, X, y, outputs) -> str | None:
    """The message when the compiled metrics, computed on the rebuilt model, hold no accuracy of its outputs."""
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == y))
    found = {}
    # Keras picks the accuracy for the loss's label encoding: one-hot labels are the loss's requirement, not this one.
    for labels in (y, one_hot(y, outputs.shape[1]).astype("float32")):
        try:
            model.reset_metrics()
            results = model.compute_metrics(X, labels, model(X, training=False), sample_weight=None)
            metrics = {str(k): float(to_numpy(v)) for k, v in results.items() if k != "loss"}
        except Exception:  # noqa: BLE001 - a metric that cannot take this encoding
            continue
        if any(abs(v - accuracy) < 1e-6 for v in metrics.values()):
            return None
        found.update(metrics)
    found = ", ".join(found) or "none"
    return (f"It reports no accuracy metric (metrics found: {found}). Compile it with metrics=['accuracy'] so that "
            "fit and evaluate report the fraction of digits classified correctly.")


def _linear_problem(model, X, outputs, n_hidden) -> str | None:
    if not n_hidden:
        return None
    half = len(X) // 2
    mid_outputs, _ = _outputs(model, (X[:half] + X[half:2 * half]) / 2)
    if mid_outputs is None or linearity_gap(outputs, mid_outputs) >= 1e-4:
        return None
    return (f"Its hidden layers are linear (layers: {_layer_list(model)}). A stack of linear layers is no better than "
            "one linear layer: give each hidden Dense layer a non-linear activation such as activation='relu'.")


#: Layers that keep a stack of Dense layers affine at inference: with only these between two Dense layers,
#: the first of them adds no non-linearity.
_AFFINE_LAYERS = frozenset({"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D",
                            "BatchNormalization", "Identity", "InputLayer"})


def _structurally_linear(model, hidden) -> str | None:
    """Like _linear_problem, read from the layers themselves: for a trained network, whose float32
    probabilities saturate on real inputs, the outputs no longer show it."""
    import keras

    if not hidden:
        return None
    layers = all_layers(model)
    dense_at = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Dense)]
    for start, end in zip(dense_at[:-1], dense_at[1:]):
        chain = layers[start:end]
        if activation_name(chain[0]) not in ("linear", ""):
            continue
        if all(type(layer).__name__ in _AFFINE_LAYERS or
               (type(layer).__name__ == "Activation" and activation_name(layer) == "linear") for layer in chain[1:]):
            return (f"Its hidden layers are linear (layers: {_layer_list(model)}). A stack of linear layers is no "
                    "better than one linear layer: give each hidden Dense layer a non-linear activation such as "
                    "activation='relu'.")
    return None


def _squashed_before_softmax(model) -> str | None:
    """The message for an output Dense layer with its own activation under a softmax layer (Dense(relu), Softmax())."""
    activation = activation_before_softmax(model)
    if activation is None:
        return None
    return (f"Its output Dense layer applies activation='{activation}' before the softmax, so the class scores are "
            f"bent by {activation} first: the output layer is Dense(n_classes, activation='softmax'), or a linear "
            "Dense followed by a softmax.")


# ----------------------------------------------------------------------------- Exercise 1: build_model
_PUBLIC_RNG = np.random.default_rng(2024)


def _probe_batch(rng: np.random.Generator, n_inputs: int, n_classes: int, m: int = 40) -> dict:
    """Inputs far enough from zero that any non-linear activation bends the outputs (grader-only keys)."""
    return {"_X": rng.normal(0.0, 2.0, (m, n_inputs)), "_y": rng.integers(0, n_classes, m)}


def _build_case(hidden_units: tuple, n_inputs: int, n_classes: int, rng: np.random.Generator) -> dict:
    return {"hidden_units": tuple(int(u) for u in hidden_units), "n_inputs": int(n_inputs),
            "n_classes": int(n_classes), **_probe_batch(rng, n_inputs, n_classes)}


class BuildModel(Check):
    """The kernel reports the model (config and weights); the grader rebuilds it and works out every fact.

    A model that cannot be rebuilt, compiled or called on the inputs fails outright; otherwise each setting
    the statement fixes earns its share: layers, hidden activations, loss, optimizer, metric.
    """
    name = "build_model"
    signature = "build_model(hidden_units, n_inputs, n_classes)"
    expected_form = "a compiled keras.Model"
    public_cases = (
        Case(_build_case((64, 32), 64, 10, _PUBLIC_RNG), {"dense_units": [64, 32, 10], "n_params": 6570},
             "hidden_units=(64, 32) for the 64-pixel digits"),
        Case(_build_case((16,), 4, 3, _PUBLIC_RNG), {"dense_units": [16, 3], "n_params": 131},
             "hidden_units=(16,), n_inputs=4, n_classes=3"),
        Case(_build_case((), 4, 3, _PUBLIC_RNG), {"dense_units": [3], "n_params": 15},
             "hidden_units=(): no hidden layer, n_inputs=4, n_classes=3"),
    )

    def secret_inputs(self, rng):
        sizes = [8, 12, 16, 24, 32, 48, 64, 96]
        cases = []
        # Two digit-sized models, and one of another size (which catches hard-coded 64 inputs or 10 classes).
        shapes = [(2, 64, 10), (1, 64, 10), (int(rng.integers(1, 4)), int(rng.integers(5, 30)), int(rng.integers(3, 8)))]
        for depth, n_inputs, n_classes in shapes:
            hidden = tuple(int(u) for u in rng.choice(sizes, depth))
            cases.append(_build_case(hidden, n_inputs, n_classes, rng))
        return cases

    def hidden_inputs(self, rng):
        # No hidden layer with two classes, and a deeper stack of four narrow layers.
        return [_build_case((), int(rng.integers(3, 9)), 2, rng),
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
            return self.unreadable(got)
        if not got.get("is_model"):
            return _not_a_model(sig, got.get("kind"))
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {rejection_text(exc)}."
        if not compile_summary(model).get("compiled"):
            return (f"The model from {sig} is not compiled: call model.compile(optimizer=keras.optimizers.Adam("
                    "learning_rate=0.01), loss='sparse_categorical_crossentropy', metrics=['accuracy']) before "
                    "returning it.")
        n_classes, n_hidden = int(inputs["n_classes"]), len(inputs["hidden_units"])
        X = np.asarray(inputs["_X"], dtype="float32")
        y = np.asarray(inputs["_y"]).astype("int64")
        outputs, error = _outputs(model, X)
        if outputs is None:
            return (f"The model from {sig} cannot be called on a batch of n_inputs features ({error}): give it "
                    f"keras.Input(shape=(n_inputs,)) with the n_inputs it is given (layers: {_layer_list(model)}).")
        if outputs.ndim != 2 or outputs.shape != (len(X), n_classes):
            if outputs.ndim == 2 and outputs.shape[1] == 1:
                return (f"The model from {sig} has 1 output unit: a classifier needs one output per class, so the "
                        "last layer is Dense(n_classes, activation='softmax').")
            return (f"The model from {sig} gives outputs of another shape than (samples, n_classes): one row per "
                    f"sample, one column per class (layers: {_layer_list(model)}).")
        want = expected_dense_structure(expected)
        if want is None:
            return f"The check could not read the reference model for {sig}."
        facts = dense_structure(model)
        if facts["dense_units"] == want["dense_units"] and facts["n_params"] == want["n_params"]:
            layers = None
        elif facts["dense_units"] == want["dense_units"]:
            layers = ("It has more parameters than its Dense layers account for: keep the default use_bias=True and "
                      "add no layers with weights besides the Dense layers.")
        elif facts["dense_units"][-1:] != want["dense_units"][-1:]:
            layers = "Its last Dense layer must have n_classes units, one per class."
        else:
            layers = ("Its Dense layers do not follow hidden_units: one hidden Dense layer per entry of hidden_units, "
                      "in order (none for hidden_units=()), then Dense(n_classes). Loop over hidden_units instead "
                      "of writing fixed sizes.")
        layers = layers or _squashed_before_softmax(model)
        unmet = requirements([
            (layers is None, layers or ""),
            (not (linear := _linear_problem(model, X, outputs, n_hidden)), linear or ""),
            (not (loss := _loss_problem(model, X, y, outputs)), loss or ""),
            (not (optimizer := _optimizer_problem(model)), optimizer or ""),
            (not (metric := _metric_problem(model, X, y, outputs)), metric or ""),
        ])
        if unmet is None:
            return None
        return Partial(unmet.earned, unmet.of, f"The model from {sig} does not meet the statement. {unmet.message}")


# ----------------------------------------------------------------------------- Exercise 2: accuracy
def _classifier(inputs: dict):
    """A small classifier with weights fixed by the inputs' seed (built in the kernel and in the grader alike)."""
    import keras

    n_inputs, units, n_classes = int(inputs["n_inputs"]), int(inputs["units"]), int(inputs["n_classes"])
    features = keras.Input(shape=(n_inputs,))
    hidden = keras.layers.Dense(units, activation="tanh")(features)
    scores = keras.layers.Dense(n_classes, activation=None if inputs["logits"] else "softmax")(hidden)
    model = keras.Model(features, scores)
    model.set_weights(_classifier_weights(inputs))
    if inputs["compiled"]:
        model.compile(optimizer="adam", metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=bool(inputs["logits"])))
    return model


def _classifier_weights(inputs: dict) -> list[np.ndarray]:
    """The classifier's weights, drawn from the inputs' seed (float32, as Keras stores them)."""
    n_inputs, units, n_classes = int(inputs["n_inputs"]), int(inputs["units"]), int(inputs["n_classes"])
    rng = np.random.default_rng(int(inputs["seed"]))
    return [w.astype("float32") for w in (rng.normal(0, 1.0, (n_inputs, units)), rng.normal(0, 0.3, units),
                                          rng.normal(0, 1.0, (units, n_classes)), rng.normal(0, 0.3, n_classes))]


def _accuracy_case(rng, m: int, n_classes: int, *, logits: bool, compiled: bool) -> dict:
    n_inputs = int(rng.integers(3, 9))
    return {"n_inputs": n_inputs, "units": int(rng.integers(4, 12)), "n_classes": int(n_classes),
            "seed": int(rng.integers(0, 2**31)), "logits": bool(logits), "compiled": bool(compiled),
            "X": rng.normal(0, 1.5, (m, n_inputs)), "y": rng.integers(0, n_classes, m)}


_ACC_RNG = np.random.default_rng(7)
#: Public cases and their accuracies, worked out once: 4 of 12 rows right, and 1 of 8.
_PUBLIC_ACCURACY = (
    (_accuracy_case(_ACC_RNG, 12, 3, logits=False, compiled=True), 4 / 12,
     "12 rows, 3 classes, a compiled model with a softmax output"),
    (_accuracy_case(_ACC_RNG, 8, 4, logits=True, compiled=False), 1 / 8,
     "8 rows, 4 classes, an uncompiled model with a linear (logit) output"),
)


class Accuracy(Check):
    """The kernel builds the classifier from the inputs' seed, calls accuracy on it, and reports the value and
    the model afterwards; the grader compares the value with the reference's and the weights with its own copy."""
    name = "accuracy"
    signature = "accuracy(model, X, y)"
    expected_form = "one float between 0 and 1"
    public_cases = tuple(Case(inputs, value, label) for inputs, value, label in _PUBLIC_ACCURACY)

    def secret_inputs(self, rng):
        return [_accuracy_case(rng, int(rng.integers(20, 60)), int(rng.integers(2, 6)), logits=bool(i % 2),
                               compiled=i < 2) for i in range(4)]

    def hidden_inputs(self, rng):
        # A single row, and a two-class model with logits and many rows.
        return [_accuracy_case(rng, 1, 3, logits=False, compiled=False),
                _accuracy_case(rng, 200, 2, logits=True, compiled=True)]

    def run(self, subject, inputs):
        model = _classifier(inputs)
        value = subject(model, np.array(inputs["X"]), np.array(inputs["y"]))
        return {"value": value, "model": report_model(model)}

    def error_advice(self, inputs, error, detail):
        if "compile" in detail.lower():
            return ("The model may come uncompiled, as the statement says: compute the accuracy from the model's "
                    "outputs, model.predict(X) or model(X), which need no compile().")
        return ""

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or "value" not in got:
            return self.unreadable(got)
        value = got["value"]
        if value is None:
            return f"{sig} returned None: return the fraction of rows classified correctly, one float."
        if isinstance(value, (str, dict, list, tuple)):
            return self.unreadable(value)
        arr = np.asarray(value, dtype=np.float64)
        m = len(np.asarray(inputs["y"]))
        if arr.ndim != 0:
            per_row = " one value per row: that is whether each row is right; return their mean," if arr.size == m else ""
            return f"{sig} returned an array of shape {arr.shape}:{per_row} one float for the whole batch."
        value = float(arr)
        want = float(expected["value"]) if isinstance(expected, dict) else float(expected)
        changed = self._weights_changed(inputs, got.get("model"))
        if changed:
            return changed
        if abs(value - want) <= 1e-6:
            return None
        shown = f"{sig} returned {value:.6g}, expected {want:.6g}"
        if want and abs(value - 100 * want) <= 1e-4:
            return f"{shown}. That is a percentage: return the fraction, between 0 and 1."
        if abs(value - m * want) <= 1e-6 and m > 1:
            return f"{shown}. That is the number of rows classified correctly: divide by the number of rows."
        if abs(value - (1 - want)) <= 1e-6:
            return f"{shown}. That is the error rate, the fraction wrong: return the fraction right."
        return (f"{shown}: the fraction of rows whose predicted class, the highest-scoring column of the model's "
                "outputs (argmax over axis 1), equals the label.")

    def _weights_changed(self, inputs, record) -> str | None:
        """The message when the model's weights after the call are not the ones it was given, else None."""
        after = record.get("weights") if isinstance(record, dict) else None
        before = _classifier_weights(inputs)
        if not isinstance(after, list):
            return None
        if len(after) == len(before) and all(isinstance(a, np.ndarray) and a.shape == b.shape and
                                             np.allclose(a, b, rtol=0, atol=1e-7) for a, b in zip(after, before)):
            return None
        return (f"{self.signature} changed the model's weights: measuring must leave the model as it is. Do not "
                "call fit; use the model's outputs, model.predict(X).")


# ----------------------------------------------------------------------------- Exercise 3: choose_network
def _choice(val, n_params, tolerance) -> dict:
    return {"val_accuracies": [float(v) for v in val], "n_params": [int(p) for p in n_params],
            "tolerance": float(tolerance)}


_CHOICE_VAL = [255 / 270, 254 / 270, 259 / 270]
_CHOICE_PARAMS = [650, 1210, 6570]


class ChooseNetwork(Check):
    name = "choose_network"
    signature = "choose_network(val_accuracies, n_params, tolerance)"
    expected_form = "an int, the index of the chosen network"
    public_cases = (
        Case(_choice(_CHOICE_VAL, _CHOICE_PARAMS, 0.02), 0,
             "val_accuracies=[0.9444, 0.9407, 0.9593], n_params=[650, 1210, 6570], tolerance=0.02"),
        Case(_choice(_CHOICE_VAL, _CHOICE_PARAMS, 0.01), 2,
             "the same networks with tolerance=0.01"),
        Case(_choice([0.90, 0.95, 0.95, 0.94], [100, 300, 300, 5000], 0.0), 1,
             "val_accuracies=[0.9, 0.95, 0.95, 0.94], n_params=[100, 300, 300, 5000], tolerance=0"),
    )

    def secret_inputs(self, rng):
        kinds = ["smaller wins", "smallest is out", "tie", "only the best"]
        cases = []
        for kind in kinds:
            for _ in range(1000):
                case = self._random_case(rng)
                if self._is(kind, case):
                    cases.append(case)
                    break
        order = rng.permutation(len(cases))
        return [cases[i] for i in order]

    @staticmethod
    def _random_case(rng) -> dict:
        n = int(rng.integers(3, 7))
        val = rng.integers(230, 271, n) / 270  # accuracies on 270 validation rows
        n_params = rng.choice(np.arange(200, 20000, 10), n, replace=False)
        if rng.random() < 0.4:  # two networks of the same size
            i, j = rng.choice(n, 2, replace=False)
            n_params[j] = n_params[i]
        tolerance = float(rng.choice([0.005, 0.01, 0.02, 0.03]))
        best = val.max()
        if np.any(np.abs(val - (best - tolerance)) < 1e-6):  # clear of the boundary; a hidden case sits on it
            val = np.where(np.abs(val - (best - tolerance)) < 1e-6, val + 1 / 270, val)
        return _choice(val, n_params, tolerance)

    @staticmethod
    def _is(kind, case) -> bool:
        val, n_params = np.array(case["val_accuracies"]), np.array(case["n_params"])
        near = val >= val.max() - case["tolerance"]
        most_accurate, smallest = int(np.argmax(val)), int(np.argmin(n_params))
        fewest = n_params[near].min()
        sizes_tied = int(np.sum(n_params[near] == fewest)) > 1
        if kind == "smaller wins":
            return near.sum() >= 2 and n_params[most_accurate] > fewest and not sizes_tied and not near[smallest]
        if kind == "smallest is out":
            return not near[smallest] and near.sum() >= 2 and not sizes_tied
        if kind == "tie":
            return sizes_tied
        return near.sum() == 1 and most_accurate != smallest

    def error_advice(self, inputs, error, detail):
        if error == "ValueError" and "empty" in detail:
            return ("No network was a candidate, yet the best one always is one: val_accuracy >= best - tolerance "
                    "holds for the best network itself (>=, not >).")
        return ""

    def hidden_inputs(self, rng):
        # Exactly on the boundary (values in powers of two, so best - tolerance is exact), and one network alone.
        return [_choice([0.75, 0.5, 0.625, 0.875], [900, 100, 300, 5000], 0.25),
                _choice([float(rng.integers(200, 271)) / 270], [int(rng.integers(100, 9000))], 0.01)]

    def compare(self, inputs, got, expected):
        sig = self.signature
        val, n_params = np.asarray(inputs["val_accuracies"], float), np.asarray(inputs["n_params"])
        tolerance, want = float(inputs["tolerance"]), int(expected)
        if got is None:
            return f"{sig} returned None: return the index of the chosen network, an int."
        if isinstance(got, (str, dict, list, tuple)):
            return self.unreadable(got)
        arr = np.asarray(got)
        if arr.ndim != 0 or arr.dtype.kind not in "iu":
            if arr.ndim == 0 and arr.dtype.kind == "f" and float(arr) == n_params[want]:
                return f"{sig} returned a parameter count; return the index of the network, an int."
            shown = f"the float {float(arr):g}" if arr.ndim == 0 and arr.dtype.kind == "f" else describe_value(got)
            return f"{sig} returned {shown}; return the index of the chosen network, an int (e.g. int(i))."
        index = int(arr)
        if index == want:
            return None
        best = float(val.max())
        if index == int(n_params[want]):
            return f"{sig} returned {index}, a parameter count; return the index of the network in the lists."
        if not 0 <= index < len(val):
            return (f"{sig} returned {index}, which is not an index of the lists: count from 0 up to "
                    f"len(val_accuracies) - 1.")
        shown = f"{sig} returned {index}, expected {want}"
        rule = ("among the networks whose validation accuracy is at least best - tolerance, the one with the fewest "
                "parameters")
        if abs(val[want] - (best - tolerance)) < 1e-12 and n_params[want] < n_params[index]:
            return (f"{shown}. Network {want} sits exactly at best - tolerance, and the rule includes it: keep "
                    "val_accuracy >= best - tolerance (>=, not >).")
        if index == int(np.argmax(val)):
            return (f"{shown}. Network {index} is the most accurate, but the rule prefers a smaller one when it is "
                    f"within tolerance: {rule}.")
        if val[index] < best - tolerance and n_params[index] < n_params[want]:
            return (f"{shown}. Network {index} is the smallest network, but its validation accuracy is more than "
                    f"tolerance below the best, so it is not a candidate: {rule}.")
        if n_params[index] == n_params[want] and index > want:
            return (f"{shown}. Networks {want} and {index} have the same number of parameters and both are within "
                    "tolerance: the rule takes the first of them in the list.")
        return f"{shown}: {rule} (the first of them on a tie)."


# ----------------------------------------------------------------------------- Exercise 4: compare_networks
@lru_cache(maxsize=1)
def fit_and_validation_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_fit, y_fit, X_val, y_val): the digits' training split with its last 20% held back, as Exercise 4
    and fit(validation_split=0.2) split it."""
    from coursekit.data import digits_split

    X_train, _, y_train, _ = digits_split()
    n_fit = int(len(X_train) * (1 - VALIDATION_FRACTION))
    return X_train[:n_fit], np.asarray(y_train[:n_fit]), X_train[n_fit:], np.asarray(y_train[n_fit:])


@lru_cache(maxsize=1)
def _test_split() -> tuple[np.ndarray, np.ndarray]:
    from coursekit.data import digits_split

    _, X_test, _, y_test = digits_split()
    return X_test, np.asarray(y_test)


def _trained_record(model) -> dict:
    """A trained model as plain data, and how many optimizer steps it took (0 for a model never fitted)."""
    record = report_model(model)
    steps = None
    try:
        steps = int(np.asarray(to_numpy(model.optimizer.iterations)))
    except Exception:  # noqa: BLE001 - not a compiled keras.Model
        pass
    return {**record, "optimizer_steps": steps}


def _plainish(value):
    """A reported accuracy as a float where it is one number, else left for the plain-data check."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return str(type(value).__name__)
    return float(arr) if arr.ndim == 0 else arr


class CompareNetworks(Check):
    """The notebook's comparison, judged from the models themselves.

    The locked cell calls compare_networks(CANDIDATES, X_fit, y_fit, X_val, y_val, epochs=EPOCHS) and keeps the
    result as `comparison`; the check reports it (each model's config, weights and optimizer step count, and
    the reported accuracies). The grader rebuilds the models and recomputes everything on the same rows, then
    classifies held-out digits perturbed with the run's seed, which the kernel never sees.
    """
    name = "compare_networks"
    signature = "compare_networks(candidates, X_fit, y_fit, X_val, y_val, epochs)"
    expected_form = "a pair (models, val_accuracies)"

    @cached_property
    def public_cases(self):
        X, y = digits_heldout(np.random.default_rng(2024), 150)
        return (Case({"_X": X, "_labels": y}, None,
                     "the comparison above; held out: 150 test digits with a random brightness and pixel noise"),)

    def secret_inputs(self, rng):
        X, y = digits_heldout(rng, 300)
        return [{"_X": X, "_labels": y}]

    def run(self, subject, inputs):
        if not isinstance(subject, (tuple, list)):
            return {"kind": type(subject).__name__}
        report = {"kind": type(subject).__name__, "length": len(subject)}
        if len(subject) != 2:
            return report
        models, accuracies = subject
        report["models_kind"], report["accuracies_kind"] = type(models).__name__, type(accuracies).__name__
        if isinstance(models, (list, tuple)):
            models = list(models)[:8]
            # Which models are one object listed twice: it only words a message, and earns nothing.
            report["models"] = [{**_trained_record(m), "same_object_as": next(j for j, o in enumerate(models) if o is m)}
                                for m in models]
        if isinstance(accuracies, (list, tuple, np.ndarray)):
            report["accuracies"] = [_plainish(a) for a in list(accuracies)[:8]]
        return report

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        kind = got.get("kind")
        if kind == "NoneType":
            return ("comparison is None: compare_networks is not implemented yet, or the cell that calls it stopped "
                    "with an error. Finish Exercises 1 to 4 and fix any error that cell shows.")
        if got.get("length") != 2:
            return (f"{sig} returned a {kind}{' of ' + str(got.get('length')) + ' items' if 'length' in got else ''}: "
                    "return the pair (models, val_accuracies).")
        n = len(CANDIDATES)
        models, accuracies = got.get("models"), got.get("accuracies")
        if not isinstance(models, list) or len(models) != n:
            return (f"The first item {sig} returned is a {got.get('models_kind')}"
                    f"{' of ' + str(len(models)) if isinstance(models, list) else ''}: it should be a list of {n} "
                    "trained models, one per candidate, in the order of candidates.")
        if not isinstance(accuracies, list) or len(accuracies) != n:
            return (f"The second item {sig} returned is a {got.get('accuracies_kind')}"
                    f"{' of ' + str(len(accuracies)) if isinstance(accuracies, list) else ''}: it should be a list "
                    f"of {n} validation accuracies, one per candidate, in the order of candidates.")
        rebuilt = []
        for i, record in enumerate(models):
            if not isinstance(record, dict) or not record.get("is_model"):
                kind_i = record.get("kind") if isinstance(record, dict) else "?"
                return f"models[{i}] is a {kind_i}, not a keras.Model: return the models build_model made and fit trained."
            try:
                rebuilt.append(rebuild_model(record))
            except ModelRejected as exc:
                return f"models[{i}] cannot be checked: {rejection_text(exc)}."
        X_fit, y_fit, X_val, y_val = fit_and_validation_rows()
        outputs = []
        for i, model in enumerate(rebuilt):
            out, error = _outputs(model, X_val)
            if out is None or out.ndim != 2 or out.shape != (len(X_val), 10):
                return (f"models[{i}] cannot classify the validation digits into 10 classes "
                        f"({error or 'outputs of another shape'}): build it with build_model(candidates[{i}]).")
            outputs.append(out)
        models_met = self._models_requirement(rebuilt, models)
        return requirements([
            models_met,
            self._budget_requirement(models, len(X_fit), len(X_val)),
            self._measurement_requirement(rebuilt, outputs, accuracies, y_val),
            self._heldout_requirement(rebuilt, inputs, build_wrong=EXERCISE_1 in models_met[1]),
        ])

    @staticmethod
    def _models_requirement(rebuilt, records) -> tuple[bool, str]:
        for i, record in enumerate(records):
            first = record.get("same_object_as")
            if isinstance(first, int) and 0 <= first < i:
                return False, (f"models[{i}] is the same model object as models[{first}]: build a fresh one for every "
                               "candidate, build_model(candidates[i]), inside the loop.")
        for i, (model, hidden) in enumerate(zip(rebuilt, CANDIDATES)):
            units = dense_structure(model)["dense_units"]
            if units != [*hidden, 10]:
                return False, (f"models[{i}] has Dense layers with units {units}, but candidates[{i}] = {hidden} asks "
                               f"for {[*hidden, 10]}: build each candidate's model with build_model(candidates[i]).")
        # Exercise 1's settings, judged on the validation digits: on inputs far from any digit a trained network
        # is so sure of itself that float32 rounding alone would separate its loss from its cross-entropy.
        _, _, X_probe, y_probe = fit_and_validation_rows()
        for i, (model, hidden) in enumerate(zip(rebuilt, CANDIDATES)):
            out, _ = _outputs(model, X_probe)
            problems = [p for p in (_structurally_linear(model, hidden), _optimizer_problem(model),
                                    _loss_problem(model, X_probe, y_probe, out),
                                    _metric_problem(model, X_probe, y_probe, out)) if p]
            if problems:
                return False, (f"models[{i}] is not the network Exercise 1 describes. {problems[0]} {EXERCISE_1}")
        return True, ""

    @staticmethod
    def _budget_requirement(records, n_fit, n_val) -> tuple[bool, str]:
        per_epoch = math.ceil(n_fit / BATCH_SIZE)
        want = EPOCHS * per_epoch
        for i, record in enumerate(records):
            steps = record.get("optimizer_steps")
            if steps == want:
                continue
            shown = f"models[{i}] took {steps} optimizer steps"
            explained = (f"{EPOCHS} epochs × {per_epoch} batches of {BATCH_SIZE} from the {n_fit} rows of X_fit "
                         f"make {want}")
            if not isinstance(steps, int):
                return False, (f"models[{i}] has no optimizer that fit has run: train every model with "
                               f"model.fit(X_fit, y_fit, epochs=epochs).")
            if steps == 0:
                return False, f"{shown}: it was never trained. Call model.fit(X_fit, y_fit, epochs=epochs) on it."
            other_epochs = steps % per_epoch == 0 and steps // per_epoch != EPOCHS
            other_batches = steps % EPOCHS == 0 and steps // EPOCHS != per_epoch
            if other_epochs and other_batches:
                return False, (f"{shown}, which is {steps // per_epoch} epochs of {per_epoch} batches or {EPOCHS} epochs "
                               f"of {steps // EPOCHS}; {explained}. Pass epochs=epochs to fit and keep fit's default "
                               f"batch_size={BATCH_SIZE}.")
            if other_epochs:
                return False, (f"{shown}, {steps // per_epoch} epochs of {per_epoch} batches; {explained}. Pass "
                               "epochs=epochs to fit: the epochs argument says how long to train, the same for "
                               "every candidate.")
            if steps == EPOCHS * math.ceil((n_fit + n_val) / BATCH_SIZE):
                return False, (f"{shown}; {explained}. It trained on the validation rows too: fit on X_fit only, so "
                               "that X_val stays rows the model has never seen.")
            if steps == EPOCHS * math.ceil(int(n_fit * (1 - VALIDATION_FRACTION)) / BATCH_SIZE):
                return False, (f"{shown}; {explained}. validation_split inside compare_networks held back part of "
                               "X_fit: X_val already is the validation part, so train on all of X_fit.")
            if other_batches:
                return False, (f"{shown}, {steps // EPOCHS} per epoch; {explained}. Keep fit's default "
                               f"batch_size={BATCH_SIZE} and train on X_fit only.")
            return False, f"{shown}; {explained}: fit once per model on X_fit, y_fit with epochs=epochs."
        return True, ""

    @staticmethod
    def _measurement_requirement(rebuilt, outputs, accuracies, y_val) -> tuple[bool, str]:
        X_fit, y_fit, _, _ = fit_and_validation_rows()
        tolerance = 1.01 / len(y_val)  # one validation row
        for i, (model, out, value) in enumerate(zip(rebuilt, outputs, accuracies)):
            if not isinstance(value, float):
                return False, (f"val_accuracies[{i}] is not a number: report each model's accuracy on X_val, y_val, "
                               "one float.")
            truth = float(np.mean(np.argmax(out, axis=1) == y_val))
            if abs(value - truth) <= tolerance:
                continue
            shown = (f"val_accuracies[{i}] is {value:.4f}, but models[{i}] classifies {truth:.4f} of the validation "
                     "rows correctly")
            if abs(value - 100 * truth) <= 100 * tolerance:
                return False, f"{shown}. That is a percentage: report the fraction, between 0 and 1."
            fit_out, _ = _outputs(model, X_fit)
            if fit_out is not None and abs(value - float(np.mean(np.argmax(fit_out, axis=1) == y_fit))) <= 1.01 / len(y_fit):
                return False, (f"{shown}. {value:.4f} is its accuracy on the training rows X_fit: measure on X_val, "
                               "y_val, rows the model never trained on.")
            X_test, y_test = _test_split()
            test_out, _ = _outputs(model, X_test)
            if test_out is not None and abs(value - float(np.mean(np.argmax(test_out, axis=1) == y_test))) <= 1.01 / len(y_test):
                return False, (f"{shown}. {value:.4f} is its accuracy on the test split: choices are made on the "
                               "validation rows, and the test split is kept for one final score.")
            return False, f"{shown}: measure it after training with your accuracy(model, X_val, y_val)."
        return True, ""

    @staticmethod
    def _heldout_requirement(rebuilt, inputs, build_wrong: bool = False) -> tuple[bool, str]:
        labels = np.asarray(inputs["_labels"]).astype(int)
        for i, model in enumerate(rebuilt):
            out, error = _outputs(model, inputs["_X"])
            if out is None:
                return False, f"models[{i}] cannot classify held-out digits ({error})."
            share = float(np.mean(np.argmax(out, axis=1) == labels))
            if share < HELDOUT_THRESHOLD:
                shown = (f"models[{i}] classifies {share:.1%} of {len(labels)} held-out digits correctly, below the "
                         f"{HELDOUT_THRESHOLD:.0%} every trained candidate reaches")
                if build_wrong:
                    return False, (f"{shown}. The build named above is the likely cause: fix build_model, then run "
                                   "the comparison again.")
                return False, f"{shown}: train it on X_fit, y_fit for epochs epochs."
        return True, ""


build_model = BuildModel()
accuracy = Accuracy()
choose_network = ChooseNetwork()
compare_networks = CompareNetworks()

CHECKS = CheckSet("00_first_model", [build_model, accuracy, choose_network, compare_networks])
