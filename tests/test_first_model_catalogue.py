"""00_first_model: common wrong answers lose the part with a message that teaches; correct variants pass;
kernels that lie about the model, and models that look the data up, earn nothing.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-model part uses one seed and few trainings.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import first_model
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import predict, report_model, report_saved_file
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (21, 22)
ONE_SEED = (23,)
#: The reference must pass every part on each of these grading seeds.
REFERENCE_SEEDS = (21, 22, 24)

_HEAD = "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
_INPUT = "    model = keras.Sequential([keras.Input(shape=(n_inputs,))])\n"
_HIDDEN = "    for units in hidden_units:\n        model.add(keras.layers.Dense(units, activation='relu'))\n"
_SOFTMAX = "    model.add(keras.layers.Dense(n_classes, activation='softmax'))\n"
_COMPILE = "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
_RETURN = "    return model\n"


def _build(input_=_INPUT, hidden=_HIDDEN, output=_SOFTMAX, compile_=_COMPILE, return_=_RETURN):
    return _HEAD + input_ + hidden + output + compile_ + return_


WRONG = {
    "build_model": [
        ("no softmax, loss expects probabilities", _build(output="    model.add(keras.layers.Dense(n_classes))\n"),
         "not probabilities"),
        ("linear hidden layers", _build(hidden="    for units in hidden_units:\n"
                                               "        model.add(keras.layers.Dense(units))\n"), "are linear"),
        ("mse loss", _build(compile_="    model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])\n"),
         "mean squared error"),
        ("one output unit", _build(output="    model.add(keras.layers.Dense(1, activation='sigmoid'))\n"),
         "1 output unit"),
        ("not compiled", _build(compile_=""), "not compiled"),
        ("no accuracy metric", _build(compile_="    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"),
         "metrics=['accuracy']"),
        ("softmax twice", _build(compile_="    model.compile(optimizer='adam', loss=keras.losses.SparseCategoricalCrossentropy("
                                          "from_logits=True), metrics=['accuracy'])\n"), "second time"),
        ("binary cross-entropy", _build(compile_="    model.compile(optimizer='adam', loss='binary_crossentropy', "
                                                 "metrics=['accuracy'])\n"), "binary cross-entropy"),
        ("fixed hidden sizes", _build(hidden="    model.add(keras.layers.Dense(64, activation='relu'))\n"
                                             "    model.add(keras.layers.Dense(32, activation='relu'))\n"),
         "Loop over hidden_units"),
        ("no return", _build(return_=""), "return model"),
        # Built-in Keras only: a Lambda layer or a subclassed model is refused, whatever it computes.
        ("Lambda layer", _build(hidden="    for units in hidden_units:\n"
                                       "        model.add(keras.layers.Dense(units, activation='relu'))\n"
                                       "    model.add(keras.layers.Lambda(lambda t: t * 1.0))\n"), "Lambda layer"),
        ("subclassed model", "class Classifier(keras.Model):\n"
                             "    def __init__(self, hidden_units, n_classes):\n        super().__init__()\n"
                             "        self.stack = [keras.layers.Dense(u, activation='relu') for u in hidden_units]\n"
                             "        self.out = keras.layers.Dense(n_classes, activation='softmax')\n"
                             "    def call(self, x):\n        for layer in self.stack:\n            x = layer(x)\n"
                             "        return self.out(x)\n"
                             "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
                             "    model = Classifier(hidden_units, n_classes)\n    model(np.zeros((1, n_inputs)))\n"
                             "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                             "metrics=['accuracy'])\n    return model", "keras.Sequential or the Functional API"),
    ],
    "count_model_params": [
        ("no biases", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                      "    sizes = [n_inputs, *hidden_units, n_classes]\n"
                      "    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))", "biases are missing"),
        ("first layer only", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                             "    return (n_inputs + 1) * hidden_units[0]", "only the first layer"),
        ("output layer forgotten", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                                   "    sizes = [n_inputs, *hidden_units]\n"
                                   "    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))",
         "output layer is missing"),
        ("units, not parameters", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                                  "    return sum(hidden_units) + n_classes", "counts units"),
        ("one bias per layer", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                               "    sizes = [n_inputs, *hidden_units, n_classes]\n"
                               "    return sum(a * b + 1 for a, b in zip(sizes[:-1], sizes[1:]))", "not one bias per layer"),
        # Judged on the grader's own sizes: the public answers alone earn nothing.
        ("hard-coded public answers", "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
                                      "    return {(64, 32): 6570, (100,): 7510, (16, 8, 4): 267}.get(tuple(hidden_units), 0)",
         None),
    ],
    "train_model": [
        ("fit never called", "def train_model(model, X_train, y_train):\n    return None", "not trained"),
        ("one epoch", "def train_model(model, X_train, y_train):\n"
                      "    return model.fit(X_train, y_train, epochs=1, batch_size=32, verbose=0)", "more epochs"),
    ],
    "save_and_reload": [
        ("returns the original model", "def save_and_reload(model, path):\n    model.save(path)\n"
                                       "    keras.models.load_model(path)\n    return model", "not the reloaded one"),
        ("legacy HDF5", "def save_and_reload(model, path):\n    h5_path = path[:-len('.keras')] + '.h5'\n"
                        "    model.save(h5_path)\n    return keras.models.load_model(h5_path)", "HDF5"),
        ("path ignored", "def save_and_reload(model, path):\n    model.save('my_model.keras')\n"
                         "    return keras.models.load_model('my_model.keras')", "not at `path`"),
        ("fresh copy instead of the file", "def save_and_reload(model, path):\n    model.save(path)\n"
                                           "    return keras.models.clone_model(model)", "predicts differently"),
        ("nothing returned", "def save_and_reload(model, path):\n    model.save(path)", "returned None"),
    ],
}

ALTERNATIVES = {
    "build_model": [
        # Functional API, with a linear output and a loss that knows it gets logits.
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    inputs = keras.Input(shape=(n_inputs,))\n    x = inputs\n"
        "    for units in hidden_units:\n        x = keras.layers.Dense(units, activation='relu')(x)\n"
        "    logits = keras.layers.Dense(n_classes)(x)\n    model = keras.Model(inputs, logits)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(1e-3),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy()])\n    return model",
        # One-hot labels: categorical cross-entropy, tanh units, separate activation layers and dropout.
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    layers = [keras.Input(shape=(n_inputs,))]\n    for units in hidden_units:\n"
        "        layers += [keras.layers.Dense(units), keras.layers.Activation('tanh'), keras.layers.Dropout(0.1)]\n"
        "    layers += [keras.layers.Dense(n_classes), keras.layers.Softmax()]\n"
        "    model = keras.Sequential(layers)\n"
        "    model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['acc'])\n    return model",
        # No Input layer: the model is built on its first call.
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    model = keras.Sequential([keras.layers.Dense(u, activation='elu') for u in hidden_units]\n"
        "                             + [keras.layers.Dense(n_classes, activation='softmax')])\n"
        "    model.compile(optimizer='rmsprop', loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=['sparse_categorical_accuracy'])\n    return model",
    ],
    "count_model_params": [
        "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
        "    return build_model(hidden_units, n_inputs, n_classes).count_params()",
        "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n    total, previous = 0, n_inputs\n"
        "    for units in list(hidden_units) + [n_classes]:\n"
        "        total += previous * units + units\n        previous = units\n    return total",
        "def count_model_params(hidden_units, n_inputs=64, n_classes=10):\n"
        "    sizes = np.array([n_inputs, *hidden_units, n_classes])\n"
        "    return np.int64(np.sum((sizes[:-1] + 1) * sizes[1:]))",
    ],
    "save_and_reload": [
        "import pathlib\ndef save_and_reload(model, path):\n    path = pathlib.Path(path)\n"
        "    keras.saving.save_model(model, path)\n    return keras.saving.load_model(path, compile=False)",
        "def save_and_reload(model, path):\n    model.save(filepath=path, overwrite=True)\n"
        "    restored = keras.models.load_model(path)\n    assert restored is not model\n    return restored",
    ],
}

#: Training answers run inside the notebook's flow: a build_model, then train_model on the digits.
TRAINING_ALTERNATIVES = [
    # One-hot labels throughout: the model's loss is categorical cross-entropy, so train_model encodes the labels.
    (ALTERNATIVES["build_model"][1].replace("'sgd'", "'adam'"),
     "def train_model(model, X_train, y_train):\n"
     "    return model.fit(X_train, keras.utils.to_categorical(y_train, 10), epochs=12, batch_size=32, verbose=0)"),
    # The Functional API with logits and from_logits=True, smaller batches and fewer epochs.
    (ALTERNATIVES["build_model"][0],
     "def train_model(model, X_train, y_train):\n"
     "    history = model.fit(X_train, y_train, epochs=8, batch_size=16, verbose=0)\n    return history"),
]


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "00_first_model")


def _subject(name, reference):
    return reference["digits_model"] if name == "train_model" else reference[name]


def _check(name):
    return first_model.CHECKS["trained_model" if name == "train_model" else name]


def _trained(reference, build_code, train_code):
    """The notebook's Exercise 3 cell with the given answers: seed, build, train, keep the model."""
    import keras

    build = define(build_code, "build_model", reference) if build_code else reference["build_model"]
    train = define(train_code, "train_model", reference)
    keras.utils.set_random_seed(0)
    model = build((64, 32))
    train(model, reference["X_train"], reference["y_train"])
    return model


def grade(name, answer, reference, seeds):
    """Grading verdicts over `seeds`, and the public message."""
    check = _check(name)
    return ([simulate_grading(first_model.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return SEEDS if name == "count_model_params" else ONE_SEED


@pytest.mark.parametrize("name", ["build_model", "count_model_params", "train_model", "save_and_reload"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, REFERENCE_SEEDS))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    if name == "train_model":
        answer = _trained(reference, None, code)
    else:
        answer = define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("build_code,train_code", [pytest.param(b, t, id=f"train_model-{i}")
                                                   for i, (b, t) in enumerate(TRAINING_ALTERNATIVES)])
def test_alternative_training_reaches_the_threshold(reference, build_code, train_code):
    check = first_model.CHECKS["trained_model"]
    answer = _trained(reference, build_code, train_code)
    assert public_message(check, answer) is None
    verdict = simulate_grading(first_model.CHECKS, check, answer, reference["digits_model"], ONE_SEED[0])
    assert verdict.passed, verdict.detail


def test_untrained_notebook_reports_not_implemented():
    """When build_model or train_model still raises, digits_model stays None and the part says so."""
    check = first_model.CHECKS["trained_model"]
    message = public_message(check, None)
    assert message is not None and "not implemented yet" in message


# ------------------------------------------------------------------------------------------ attacks
# A kernel whose check `run` was replaced (or whose keras was patched) reports whatever it likes. Each
# attack below is what such a kernel sends for one part: `forge(namespace, kernel_inputs)` sees only what
# a kernel sees (no "_" keys) and returns the report. Every one must score 0 on its part, with a message.
def _old_build_claims(namespace, inputs):
    """What the old protocol's run reported for a perfect model: facts, with outputs made up (no probe batch now)."""
    hidden, n_classes = list(inputs["hidden_units"]), int(inputs["n_classes"])
    sizes = [int(inputs["n_inputs"]), *hidden, n_classes]
    outputs = np.full((40, n_classes), 1.0 / n_classes)
    return {"is_model": True, "compiled": True, "outputs": outputs, "mid_outputs": outputs * 0.9,
            "layers": [["Dense", "relu"]] * len(hidden) + [["Dense", "softmax"]], "dense_units": hidden + [n_classes],
            "n_params": sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])),
            "loss_name": "sparse_categorical_crossentropy", "from_logits": False,
            "losses": {"integer": float(np.log(n_classes))}, "loss_errors": {}, "metrics": {"accuracy": 0.1},
            "regularization": 0.0}


def _call_build(namespace, inputs, code=None):
    build = define(code, "build_model", namespace) if code else namespace["build_model"]
    return build(tuple(inputs["hidden_units"]), inputs["n_inputs"], inputs["n_classes"])


def _linear_model_with_claims(namespace, inputs):
    """report_model of a model that is not what the statement asks, with the perfect claims attached."""
    code = _build(hidden="    for units in hidden_units:\n        model.add(keras.layers.Dense(units))\n")
    return {**report_model(_call_build(namespace, inputs, code)), **_old_build_claims(namespace, inputs)}


def _units_edited(namespace, inputs):
    """A model with fixed sizes (64, 32), its config edited to claim the asked units; its weights stay."""
    record = report_model(_call_build(namespace, inputs, WRONG["build_model"][8][1]))
    config = json.loads(record["keras_config"])
    dense = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]
    for layer, units in zip(dense, [*inputs["hidden_units"], inputs["n_classes"]]):
        layer["config"]["units"] = int(units)
    return {**record, "keras_config": json.dumps(config)}


def _compile_claimed(namespace, inputs):
    """An uncompiled model whose report claims it was compiled with the right loss and metric."""
    record = report_model(_call_build(namespace, inputs, _build(compile_="")))
    return {**record, "compiled": True, "loss_name": "sparse_categorical_crossentropy", "metrics": {"accuracy": 1.0}}


def _compile_config_edited(namespace, inputs):
    """The config's compile settings edited to name a loss function that is not one of Keras's own."""
    record = report_model(_call_build(namespace, inputs))
    config = json.loads(record["keras_config"])
    config["compile_config"]["loss"] = {"module": "builtins", "class_name": "function", "config": "os.system",
                                        "registered_name": "function"}
    return {**record, "keras_config": json.dumps(config)}


def _replayed(namespace, inputs):
    """The same correct model for every call: the first public case's, whatever the grader asks for."""
    return report_model(namespace["build_model"]((64, 32), 64, 10))


def _unbuilt_giant(namespace, inputs):
    """A model without an input shape, so that its size cannot be measured, whose first call would allocate 10^9 weights."""
    import keras

    model = keras.Sequential([keras.layers.Dense(10**7, activation="relu"), keras.layers.Dense(inputs["n_classes"],
                                                                                         activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return report_model(model)


def _old_save_claims(namespace, inputs):
    """The old protocol's claims for a perfect save: no file, no model."""
    X = np.zeros((8, inputs["n_inputs"]))
    return {"saved_at_path": True, "is_keras_zip": True, "files": [], "original": X[:, :inputs["n_classes"]],
            "same_object": False, "is_model": True, "kind": "Functional", "reloaded": X[:, :inputs["n_classes"]]}


def _saved_bytes(model, name="forged.keras"):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        model.save(path)
        return report_saved_file(path)


def _fresh_model_like(inputs, seed=123):
    import keras

    model = first_model._model_to_save(inputs)
    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def _file_of_another_model(namespace, inputs):
    """A real .keras file of a model with other weights, and the original reported as the reloaded model."""
    return {"saved": _saved_bytes(_fresh_model_like(inputs)), "files": [inputs["filename"]], "same_object": False,
            "reloaded": report_model(first_model._model_to_save(inputs))}


def _not_an_archive(namespace, inputs):
    return {"saved": {"exists": True, "size": 5, "bytes": np.frombuffer(b"hello", dtype=np.uint8).copy()},
            "files": [inputs["filename"]], "same_object": False,
            "reloaded": report_model(first_model._model_to_save(inputs))}


def _lambda_model(n_inputs, n_classes):
    import keras

    return keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Lambda(lambda t: t * 2.0),
                             keras.layers.Dense(n_classes, activation="softmax")])


def _file_with_lambda(namespace, inputs):
    """A .keras file holding a Lambda layer (code the grader would run if it loaded it unsafely)."""
    return {"saved": _saved_bytes(_lambda_model(inputs["n_inputs"], inputs["n_classes"])),
            "files": [inputs["filename"]], "same_object": False,
            "reloaded": report_model(first_model._model_to_save(inputs))}


class _Subclassed:
    """A subclassed keras.Model, made on first use (keras is imported lazily)."""

    @staticmethod
    def make(n_inputs, n_classes):
        import keras

        class Scores(keras.Model):
            def __init__(self):
                super().__init__()
                self.dense = keras.layers.Dense(n_classes, activation="softmax")

            def call(self, x):
                return self.dense(x)

        model = Scores()
        model(np.zeros((1, n_inputs), dtype="float32"))
        return model


def _subclassed_reloaded(namespace, inputs):
    """A correct file, and a subclassed model returned as the reloaded one."""
    return {"saved": _saved_bytes(first_model._model_to_save(inputs)), "files": [inputs["filename"]],
            "same_object": False, "reloaded": report_model(_Subclassed.make(inputs["n_inputs"], inputs["n_classes"]))}


def _public_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0).astype("float32"), digits.target.astype("int64")


def exact_lookup_model(prototypes, targets, *, sharpness=1e3, classes=None):
    """A model of built-in layers that answers by exact lookup: for an input equal to a prototype row it
    returns that row's target (its class, or its value), and for any other input nothing useful.

    match_j = relu(1 - sharpness * |x - p_j|^2), computed as one Dense layer on [x, x * x]; then a Dense
    layer maps the matches to the targets (one-hot scores with a sharp softmax for classes).
    """
    import keras

    P = np.asarray(prototypes, dtype=np.float64)
    n = P.shape[1]
    x = keras.Input(shape=(n,))
    both = keras.layers.Concatenate()([x, keras.layers.Multiply()([x, x])])
    match_layer = keras.layers.Dense(len(P), activation="relu")
    out_layer = keras.layers.Dense(classes, activation="softmax") if classes else keras.layers.Dense(1)
    model = keras.Model(x, out_layer(match_layer(both)))
    match_layer.set_weights([np.concatenate([2 * sharpness * P.T, -sharpness * np.ones((n, len(P)))]),
                             1.0 - sharpness * (P ** 2).sum(axis=1)])
    targets = np.asarray(targets)
    kernel = 30.0 * np.eye(classes)[targets] if classes else targets.reshape(-1, 1).astype(np.float64)
    out_layer.set_weights([kernel, np.zeros(kernel.shape[1])])
    return model


def _digits_lookup(namespace, inputs):
    """Every public digit (all 1797 rows of scikit-learn's data set, test split included) looked up exactly."""
    X, y = _public_digits()
    return report_model(exact_lookup_model(X, y, classes=10))


def nearest_prototype_model(prototypes, labels, sharpness=200.0):
    """1-nearest-neighbour over the prototypes, in built-in layers: a sharp softmax over 2 x.p - |p|^2, then
    a Dense layer mapping each prototype to its label. A perturbed test digit's nearest public row is itself."""
    import keras

    P = np.asarray(prototypes, dtype=np.float64)
    x = keras.Input(shape=(P.shape[1],))
    nearest = keras.layers.Dense(len(P), activation="softmax")
    out = keras.layers.Dense(10)
    model = keras.Model(x, out(nearest(x)))
    nearest.set_weights([2 * sharpness * P.T, -sharpness * (P ** 2).sum(axis=1)])
    out.set_weights([np.eye(10)[np.asarray(labels)], np.zeros(10)])
    return model


def _digits_nearest(namespace, inputs):
    """The nearest of all 1797 public digits: not an exact lookup, so the perturbation alone does not stop it."""
    return report_model(nearest_prototype_model(*_public_digits()))


def _untrained(namespace, inputs):
    import keras

    keras.utils.set_random_seed(5)
    return report_model(namespace["build_model"]((64, 32)))


ATTACKS = {
    "build_model": [
        ("old claims, perfect facts", _old_build_claims, "cannot be checked"),
        ("wrong model with the perfect claims attached", _linear_model_with_claims, "are linear"),
        ("config edited to claim the asked units, weights kept", _units_edited, "cannot be checked"),
        ("uncompiled model claiming its compile settings", _compile_claimed, "not compiled"),
        ("compile config naming a function of its own", _compile_config_edited, "not one of Keras's own"),
        ("one correct model replayed for every call", _replayed, "Dense layers with units"),
        ("unbuilt model of 10^9 weights", _unbuilt_giant, "no input shape"),
        ("Lambda layer", lambda ns, inp: report_model(_lambda_model(inp["n_inputs"], inp["n_classes"])),
         "Lambda layer"),
        ("subclassed model", lambda ns, inp: report_model(_Subclassed.make(inp["n_inputs"], inp["n_classes"])),
         "not a built-in Keras class"),
    ],
    "trained_model": [
        ("old claims: outputs, no model", lambda ns, inp: {"is_model": True, "outputs": np.eye(10)[np.zeros(300, int)]},
         "cannot be checked"),
        ("an untrained model reported as the trained one", _untrained, "close to guessing"),
        ("exact lookup of the 1797 public digits", _digits_lookup, "held-out digits correctly"),
        ("nearest of the 1797 public digits", _digits_nearest, "not the model the build exercise describes"),
        ("Lambda layer", lambda ns, inp: report_model(_lambda_model(64, 10)), "Lambda layer"),
        ("subclassed model", lambda ns, inp: report_model(_Subclassed.make(64, 10)), "not a built-in Keras class"),
    ],
    "save_and_reload": [
        ("old claims, no file", _old_save_claims, "saved nothing at `path`"),
        ("a real file of another model", _file_of_another_model, "does not hold the model it was given"),
        ("bytes that are not an archive", _not_an_archive, "not a .keras archive"),
        ("a file holding a Lambda layer", _file_with_lambda, "Lambda layer"),
        ("a subclassed model returned", _subclassed_reloaded, "not a built-in Keras class"),
    ],
}


def grader_inputs(seed):
    """The grader's inputs for one run, decoded as the grader decodes them."""
    return {k: [from_plain(i) for i in lst]
            for k, lst in json.loads(dump_inputs(first_model.CHECKS.secret_inputs(seed))).items()}


def forged_verdict(check, reference_subject, forge, namespace, seed):
    """Grade a kernel whose `check.run` was replaced by `forge`: the reference reports honestly, the forger
    reports `forge(namespace, kernel_view(inputs))` for every input and public case."""
    inputs = grader_inputs(seed)
    keys = [k for k in (check.name, check.hidden_name) if k in inputs]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = {k: check.report_payload(reference_subject, k, inputs[k]) for k in keys}
    reported = {}
    for key in keys:
        reported[key] = {"check": key,
                         "results": [probe(lambda inp=inp: forge(namespace, kernel_view(inp))) for inp in inputs[key]]}
        if key == check.name:
            reported[key]["public"] = [probe(lambda case=case: forge(namespace, kernel_view(case.inputs)))
                                       for case in check.public_cases]
    return judge_part(first_model.CHECKS, inputs, expected, reported)


@pytest.mark.parametrize("part,label,forge,advice",
                         [pytest.param(part, label, forge, advice, id=f"{part}-{label}")
                          for part, entries in ATTACKS.items() for label, forge, advice in entries])
def test_lying_kernel_scores_zero(reference, part, label, forge, advice):
    check = first_model.CHECKS[part]
    verdict = forged_verdict(check, _subject("train_model" if part == "trained_model" else part, reference),
                             forge, reference, ONE_SEED[0])
    assert not verdict.passed, f"{label} passed"
    assert advice in verdict.feedback or advice in verdict.detail, (verdict.feedback, verdict.detail)


def test_held_out_digits_are_hidden_from_the_kernel_and_match_no_public_row(reference):
    """The trained model is judged on data the kernel never sees, and an exact lookup of the public digits
    (which would have scored 100% on the unperturbed test split, as judged before) finds nothing there."""
    X_public, y_public = _public_digits()
    for seed in REFERENCE_SEEDS:
        (case,) = grader_inputs(seed)["trained_model"]
        assert set(case) == {"_X", "_labels"} and kernel_view(case) == {}
        distances = ((case["_X"][:, None, :] - X_public[None, :, :]) ** 2).sum(axis=2)
        assert distances.min() > 1e-3, "a held-out row is a row of the public data set"
        train = reference["X_train"]
        assert not any((train == row).all(axis=1).any() for row in case["_X"])
    lookup = exact_lookup_model(X_public, y_public, classes=10)
    _, X_test, _, y_test = __import__("coursekit.data", fromlist=["digits_split"]).digits_split()
    assert np.mean(predict(lookup, X_test).argmax(axis=1) == y_test) == 1.0  # what it scored before
    (case,) = grader_inputs(ONE_SEED[0])["trained_model"]
    assert np.mean(predict(lookup, case["_X"]).argmax(axis=1) == case["_labels"]) < first_model.ACCURACY_THRESHOLD
    # What does pass is a model trained on the training split only: the reference, on several seeds.
    assert all(simulate_grading(first_model.CHECKS, first_model.CHECKS["trained_model"], reference["digits_model"],
                                reference["digits_model"], seed).passed for seed in REFERENCE_SEEDS)


def test_probe_batches_and_save_inputs_stay_with_the_grader():
    """Every array the grader evaluates a model on is in a "_" key, in public cases too."""
    for name in ("build_model", "save_and_reload"):
        check = first_model.CHECKS[name]
        for inputs in [c.inputs for c in check.public_cases] + grader_inputs(21)[name]:
            assert all(not isinstance(v, np.ndarray) for v in kernel_view(inputs).values()), kernel_view(inputs)
