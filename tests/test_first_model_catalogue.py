"""00_first_model: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-model part uses one seed and few trainings.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import first_model

SEEDS = (21, 22)
ONE_SEED = (23,)

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
    expect_correct(*grade(name, _subject(name, reference), reference, SEEDS))


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
