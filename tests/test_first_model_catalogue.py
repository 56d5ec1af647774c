"""00_first_model: common wrong answers lose the part with a message that teaches; correct variants pass;
kernels that lie about the models, and models that look the data up, earn nothing.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step: each compare_networks answer trains its three candidates once, and is
graded on one seed.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, odd_report_failures,
                                  public_message, reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import first_model
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import predict, report_model
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
_OPTIMIZER = "keras.optimizers.Adam(learning_rate=0.01)"
_COMPILE = (f"    model.compile(optimizer={_OPTIMIZER}, loss='sparse_categorical_crossentropy', "
            "metrics=['accuracy'])\n")
_RETURN = "    return model\n"


def _build(input_=_INPUT, hidden=_HIDDEN, output=_SOFTMAX, compile_=_COMPILE, return_=_RETURN):
    return _HEAD + input_ + hidden + output + compile_ + return_


def _compile(optimizer=_OPTIMIZER, loss="'sparse_categorical_crossentropy'", metrics="['accuracy']"):
    return f"    model.compile(optimizer={optimizer}, loss={loss}, metrics={metrics})\n"


_ACC_HEAD = "def accuracy(model, X, y):\n"
_CHOOSE_HEAD = "def choose_network(val_accuracies, n_params, tolerance=0.01):\n"


def _compare(fit="model.fit(X_fit, y_fit, epochs=epochs, verbose=0)",
             measure="accuracy(model, X_val, y_val)", build="build_model(hidden_units)", seed=True,
             returns="models, val_accuracies"):
    """A compare_networks answer: the reference's loop with one piece replaced."""
    return ("def compare_networks(candidates, X_fit, y_fit, X_val, y_val, epochs=10):\n"
            "    models, val_accuracies = [], []\n"
            "    for hidden_units in candidates:\n"
            + ("        keras.utils.set_random_seed(0)\n" if seed else "")
            + f"        model = {build}\n"
            f"        history = {fit}\n"
            "        models.append(model)\n"
            f"        val_accuracies.append({measure})\n"
            f"    return {returns}\n")


WRONG = {
    "build_model": [
        ("no softmax, loss expects probabilities", _build(output="    model.add(keras.layers.Dense(n_classes))\n"),
         "not probabilities"),
        # Stated rule: the output layer is Dense(n_classes, activation='softmax'); a softmax layer after a ReLU or
        # tanh output still gives probabilities, so only the layers can show it.
        ("relu output Dense, then a Softmax layer",
         _build(output="    model.add(keras.layers.Dense(n_classes, activation='relu'))\n    model.add(keras.layers.Softmax())\n"),
         "before the softmax"),
        ("tanh layer between the output Dense and the softmax",
         _build(output="    model.add(keras.layers.Dense(n_classes))\n    model.add(keras.layers.Activation('tanh'))\n"
                       "    model.add(keras.layers.Activation('softmax'))\n"), "bent by tanh"),
        ("linear hidden layers", _build(hidden="    for units in hidden_units:\n"
                                               "        model.add(keras.layers.Dense(units))\n"), "are linear"),
        ("mse loss", _build(compile_=_compile(loss="'mse'")), "mean squared error"),
        ("one output unit", _build(output="    model.add(keras.layers.Dense(1, activation='sigmoid'))\n"),
         "1 output unit"),
        ("not compiled", _build(compile_=""), "not compiled"),
        ("no accuracy metric", _build(compile_=f"    model.compile(optimizer={_OPTIMIZER}, "
                                               "loss='sparse_categorical_crossentropy')\n"), "metrics=['accuracy']"),
        ("softmax twice", _build(compile_=_compile(loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True)")),
         "second time"),
        ("binary cross-entropy", _build(compile_=_compile(loss="'binary_crossentropy'")), "binary cross-entropy"),
        ("fixed hidden sizes", _build(hidden="    model.add(keras.layers.Dense(64, activation='relu'))\n"
                                             "    model.add(keras.layers.Dense(32, activation='relu'))\n"),
         "Loop over hidden_units"),
        ("no return", _build(return_=""), "return model"),
        # Stated settings: Adam at learning_rate=0.01, integer labels, the n_inputs given, biases kept.
        ("default learning rate", _build(compile_=_compile(optimizer="'adam'")), "Keras's default, 0.001"),
        ("SGD", _build(compile_=_compile(optimizer="keras.optimizers.SGD(learning_rate=0.01)")), "SGD optimizer"),
        ("RMSprop", _build(compile_=_compile(optimizer="'rmsprop'")), "RMSprop optimizer"),
        ("one-hot loss", _build(compile_=_compile(loss="'categorical_crossentropy'")), "expects one-hot"),
        ("64 inputs hard-coded", _build(input_="    model = keras.Sequential([keras.Input(shape=(64,))])\n"),
         "keras.Input(shape=(n_inputs,))"),
        ("no biases", _build(hidden="    for units in hidden_units:\n"
                                    "        model.add(keras.layers.Dense(units, activation='relu', use_bias=False))\n"),
         "use_bias=True"),
        # Two settings wrong at once: both are named, and the part keeps the share of the three that are right.
        ("linear and SGD", _build(hidden="    for units in hidden_units:\n        model.add(keras.layers.Dense(units))\n",
                                  compile_=_compile(optimizer="'sgd'")), "are linear"),
        # Matches no diagnosis: the message names the setting and says what it should be, without a guessed cause.
        ("Poisson loss", _build(compile_=_compile(loss="'poisson'")),
         "is not the cross-entropy of its outputs for integer labels"),
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
                             f"    model.compile(optimizer={_OPTIMIZER}, loss='sparse_categorical_crossentropy', "
                             "metrics=['accuracy'])\n    return model", "keras.Sequential or the Functional API"),
    ],
    "accuracy": [
        ("evaluate on an uncompiled model", _ACC_HEAD + "    return model.evaluate(X, y, verbose=0)[1]",
         "may come uncompiled"),
        ("percentage", _ACC_HEAD + "    return 100 * float(np.mean(model.predict(X, verbose=0).argmax(axis=1) == y))",
         "percentage"),
        ("count", _ACC_HEAD + "    return int(np.sum(model.predict(X, verbose=0).argmax(axis=1) == y))",
         "number of rows classified correctly"),
        ("error rate", _ACC_HEAD + "    return float(np.mean(model.predict(X, verbose=0).argmax(axis=1) != y))",
         "error rate"),
        ("per-row results", _ACC_HEAD + "    return model.predict(X, verbose=0).argmax(axis=1) == y", "one value per row"),
        ("argmax over the rows", _ACC_HEAD + "    return model.predict(X, verbose=0).argmax(axis=0) == y[0]",
         "one float for the whole batch"),
        ("trains the model", _ACC_HEAD + "    model.fit(X, y, epochs=1, verbose=0)\n"
                                          "    return float(np.mean(model.predict(X, verbose=0).argmax(axis=1) == y))",
         "changed the model's weights"),
        # Matches no diagnosis: the mean confidence is not the accuracy.
        ("mean confidence", _ACC_HEAD + "    return float(np.mean(keras.ops.softmax(model(X)).numpy().max(axis=1)))",
         "argmax over axis 1"),
        ("no return", _ACC_HEAD + "    np.mean(model.predict(X, verbose=0).argmax(axis=1) == y)", "returned None"),
    ],
    "choose_network": [
        ("most accurate", _CHOOSE_HEAD + "    return int(np.argmax(val_accuracies))", "most accurate"),
        ("smallest", _CHOOSE_HEAD + "    return int(np.argmin(n_params))", "smallest network"),
        ("tolerance ignored", _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                                             "    near = [i for i, v in enumerate(val_accuracies) if v >= best - 0.01]\n"
                                             "    return min(near, key=lambda i: n_params[i])", "most accurate"),
        ("strict boundary", _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                                           "    near = [i for i, v in enumerate(val_accuracies) if v > best - tolerance]\n"
                                           "    return min(near, key=lambda i: n_params[i])", ">=, not >"),
        ("strict boundary, best kept", _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                                                      "    near = [i for i, v in enumerate(val_accuracies)\n"
                                                      "            if v > best - tolerance or v == best]\n"
                                                      "    return min(near, key=lambda i: n_params[i])", None),
        ("last of equal sizes", _CHOOSE_HEAD + "    best = max(val_accuracies)\n    chosen = None\n"
                                               "    for i, v in enumerate(val_accuracies):\n"
                                               "        if v >= best - tolerance and (chosen is None or n_params[i] <= n_params[chosen]):\n"
                                               "            chosen = i\n    return chosen", "the first of them"),
        ("parameter count", _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                                           "    return min(p for v, p in zip(val_accuracies, n_params) if v >= best - tolerance)",
         "parameter count"),
        ("float index", _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                                       "    near = [i for i, v in enumerate(val_accuracies) if v >= best - tolerance]\n"
                                       "    return float(min(near, key=lambda i: n_params[i]))", "an int"),
        # Matches no diagnosis: the rank in size order instead of the index. The public lists happen to be
        # sorted by size, so only the grader's lists, in random order, show it: the generic message.
        ("rank instead of index", _CHOOSE_HEAD + "    order = sorted(range(len(n_params)), key=lambda i: n_params[i])\n"
                                                 "    best = max(val_accuracies)\n"
                                                 "    for rank, i in enumerate(order):\n"
                                                 "        if val_accuracies[i] >= best - tolerance:\n"
                                                 "            return rank", None),
    ],
}

#: compare_networks answers, each run in the notebook's flow (the locked cell's split, epochs=10).
COMPARE_WRONG = [
    ("measured on the training rows", _compare(measure="accuracy(model, X_fit, y_fit)"), "accuracy on the training rows"),
    ("measured on the test split", _compare(measure="accuracy(model, X_test, y_test)"), "test split"),
    ("percentage", _compare(measure="100 * accuracy(model, X_val, y_val)"), "percentage"),
    ("history's training accuracy", _compare(measure="history.history['accuracy'][-1]"),
     "measure it after training with your accuracy"),
    ("epochs ignored", _compare(fit="model.fit(X_fit, y_fit, epochs=5, verbose=0)"), "Pass epochs=epochs"),
    ("trained on the validation rows too",
     _compare(fit="model.fit(np.concatenate([X_fit, X_val]), np.concatenate([y_fit, y_val]), epochs=epochs, verbose=0)"),
     "trained on the validation rows too"),
    ("validation_split inside",
     _compare(fit="model.fit(X_fit, y_fit, epochs=epochs, validation_split=0.2, verbose=0)"), "validation_split inside"),
    ("batch size 64", _compare(fit="model.fit(X_fit, y_fit, epochs=epochs, batch_size=64, verbose=0)"),
     "default batch_size=32"),
    ("never trained", _compare(fit="None"), "never trained"),
    ("one model for every candidate",
     "def compare_networks(candidates, X_fit, y_fit, X_val, y_val, epochs=10):\n    model = build_model(candidates[-1])\n"
     "    models, val_accuracies = [], []\n    for hidden_units in candidates:\n"
     "        model.fit(X_fit, y_fit, epochs=epochs, verbose=0)\n        models.append(model)\n"
     "        val_accuracies.append(accuracy(model, X_val, y_val))\n    return models, val_accuracies",
     "the same model object as models[0]"),
    ("default hidden_units", _compare(build="build_model()"),
     "build each candidate's model with build_model(candidates[i])"),
    ("only the models", _compare(returns="models"), "return the pair (models, val_accuracies)"),
]

#: A wrong build_model under a correct compare_networks: the message names the build as the cause.
BUILD_THEN_COMPARE_WRONG = [
    ("linear hidden layers", _build(hidden="    for units in hidden_units:\n        model.add(keras.layers.Dense(units))\n"),
     "fix Exercise 1 first"),
    ("default learning rate", _build(compile_=_compile(optimizer="'adam'")), "fix Exercise 1 first"),
    # SGD at 0.01 learns too little in 10 epochs: the held-out requirement fails too, and names the build as the cause.
    ("SGD", _build(compile_=_compile(optimizer="keras.optimizers.SGD(learning_rate=0.01)")),
     "The build named above is the likely cause"),
]

ALTERNATIVES = {
    "build_model": [
        # Functional API, with a linear output and a loss that knows it gets logits.
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    inputs = keras.Input(shape=(n_inputs,))\n    x = inputs\n"
        "    for units in hidden_units:\n        x = keras.layers.Dense(units, activation='relu')(x)\n"
        "    logits = keras.layers.Dense(n_classes)(x)\n    model = keras.Model(inputs, logits)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(1e-2),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy()])\n    return model",
        # tanh units, separate activation layers and dropout, a Softmax layer, metrics=['acc'].
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    layers = [keras.Input(shape=(n_inputs,))]\n    for units in hidden_units:\n"
        "        layers += [keras.layers.Dense(units), keras.layers.Activation('tanh'), keras.layers.Dropout(0.1)]\n"
        "    layers += [keras.layers.Dense(n_classes), keras.layers.Softmax()]\n"
        "    model = keras.Sequential(layers)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='sparse_categorical_crossentropy',"
        " metrics=['acc'])\n    return model",
        # No Input layer: the model is built on its first call.
        "def build_model(hidden_units=(64, 32), n_inputs=64, n_classes=10):\n"
        "    model = keras.Sequential([keras.layers.Dense(u, activation='elu') for u in hidden_units]\n"
        "                             + [keras.layers.Dense(n_classes, activation='softmax')])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=['sparse_categorical_accuracy'])\n    return model",
    ],
    "accuracy": [
        _ACC_HEAD + "    scores = model(X, training=False).numpy()\n    return (scores.argmax(axis=-1) == y).mean()",
        # float32 throughout, in keras.ops: a 0-d float32 tensor.
        _ACC_HEAD + "    predicted = keras.ops.argmax(model(X.astype('float32')), axis=1)\n"
                    "    right = keras.ops.equal(predicted, keras.ops.cast(y, predicted.dtype))\n"
                    "    return keras.ops.mean(keras.ops.cast(right, 'float32'))",
        _ACC_HEAD + "    probabilities = model.predict(X, verbose=0)\n    right = 0\n"
                    "    for row, label in zip(probabilities, y):\n        right += int(np.argmax(row) == label)\n"
                    "    return right / len(y)",
    ],
    "choose_network": [
        _CHOOSE_HEAD + "    best = max(val_accuracies)\n    chosen = None\n"
                       "    for i, (v, p) in enumerate(zip(val_accuracies, n_params)):\n"
                       "        if v >= best - tolerance and (chosen is None or p < n_params[chosen]):\n"
                       "            chosen = i\n    return chosen",
        _CHOOSE_HEAD + "    val, size = np.asarray(val_accuracies), np.asarray(n_params)\n"
                       "    near = np.flatnonzero(val >= val.max() - tolerance)\n"
                       "    return near[np.argmin(size[near])]",
        _CHOOSE_HEAD + "    best = max(val_accuracies)\n"
                       "    return min((p, i) for i, (v, p) in enumerate(zip(val_accuracies, n_params)) if v >= best - tolerance)[1]",
    ],
}

COMPARE_ALTERNATIVES = [
    # Keras's own float32 validation accuracy, measured by fit at the end of the last epoch; no seeding.
    _compare(fit="model.fit(X_fit, y_fit, epochs=epochs, validation_data=(X_val, y_val), verbose=0)",
             measure="history.history['val_accuracy'][-1]", seed=False),
    # validation_split=0.2 on the whole training split trains on exactly X_fit and holds back exactly X_val.
    _compare(fit="model.fit(np.concatenate([X_fit, X_val]), np.concatenate([y_fit, y_val]), epochs=epochs, "
                 "validation_split=0.2, verbose=0)", measure="model.evaluate(X_val, y_val, verbose=0)[1]"),
    # One epoch at a time, with the batch size spelled out.
    "def compare_networks(candidates, X_fit, y_fit, X_val, y_val, epochs=10):\n    results = []\n"
    "    for hidden_units in candidates:\n        keras.utils.set_random_seed(1)\n        model = build_model(hidden_units)\n"
    "        for _ in range(epochs):\n            model.fit(X_fit, y_fit, epochs=1, batch_size=32, verbose=0)\n"
    "        results.append((model, accuracy(model, X_val, y_val)))\n"
    "    return [m for m, _ in results], np.array([a for _, a in results])",
]

#: A different build_model under the reference compare_networks: logits and from_logits=True pass too.
BUILD_THEN_COMPARE_ALTERNATIVE = ALTERNATIVES["build_model"][0]


def _code(name, label):
    return next(code for entry_label, code, _ in WRONG[name] if entry_label == label)


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "00_first_model")


def grade(name, answer, reference, seeds):
    """Grading verdicts over `seeds`, and the public message."""
    check = first_model.CHECKS[name]
    return ([simulate_grading(first_model.CHECKS, check, answer, reference[name], s) for s in seeds],
            public_message(check, answer))


def _comparison(reference, compare_code=None, build_code=None):
    """The notebook's Exercise 4 cell with the given answers: the same split and epochs, the comparison kept."""
    namespace = dict(reference)
    if build_code:
        namespace["build_model"] = define(build_code, "build_model", reference)
    # Defined in `namespace`, so that it calls the build_model given here.
    compare = define(compare_code or _compare(), "compare_networks", namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        return compare(list(first_model.CANDIDATES), reference["X_fit"], reference["y_fit"], reference["X_val"],
                       reference["y_val"], epochs=first_model.EPOCHS)


def grade_comparison(comparison, reference, seeds=ONE_SEED):
    check = first_model.compare_networks
    return ([simulate_grading(first_model.CHECKS, check, comparison, reference["comparison"], s) for s in seeds],
            public_message(check, comparison))


@pytest.mark.parametrize("name", ["build_model", "accuracy", "choose_network"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[name], reference, REFERENCE_SEEDS))


def test_reference_comparison_passes_public_and_grading(reference):
    expect_correct(*grade_comparison(reference["comparison"], reference, REFERENCE_SEEDS))


def test_the_notebook_runs_the_comparison_the_check_judges(reference):
    """The locked cell's candidates, split and epochs are the check module's constants."""
    X_fit, y_fit, X_val, y_val = first_model.fit_and_validation_rows()
    assert [tuple(c) for c in reference["candidates"]] == list(first_model.CANDIDATES)
    assert np.array_equal(reference["X_fit"], X_fit) and np.array_equal(reference["y_val"], y_val)
    assert len(X_fit) == 1077 and len(X_val) == 270
    models, _ = reference["comparison"]
    assert all(int(m.optimizer.iterations) == first_model.EPOCHS * 34 for m in models)


def seeds_for(name):
    """Two grading seeds for the pure choice, one for the parts that build Keras models."""
    return SEEDS if name == "choose_network" else ONE_SEED


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    answer = define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("label,code,advice", [pytest.param(*e, id=e[0]) for e in COMPARE_WRONG])
def test_wrong_comparison_loses_points_with_a_teaching_message(reference, label, code, advice):
    expect_wrong(label, *grade_comparison(_comparison(reference, code), reference), advice)


@pytest.mark.parametrize("label,code,advice", [pytest.param(*e, id=e[0]) for e in BUILD_THEN_COMPARE_WRONG])
def test_a_wrong_build_is_named_as_the_cause_in_the_comparison(reference, label, code, advice):
    verdicts, public = grade_comparison(_comparison(reference, build_code=code), reference)
    expect_wrong(label, verdicts, public, advice)
    assert all(v.credit > 0 for v in verdicts), "the parts of the comparison that are right keep their share"


@pytest.mark.parametrize("code", [pytest.param(c, id=f"compare_networks-{i}") for i, c in enumerate(COMPARE_ALTERNATIVES)])
def test_alternative_comparison_gets_full_marks(reference, code):
    expect_correct(*grade_comparison(_comparison(reference, code), reference))


def test_comparison_with_a_logits_build_gets_full_marks(reference):
    expect_correct(*grade_comparison(_comparison(reference, build_code=BUILD_THEN_COMPARE_ALTERNATIVE), reference))


def test_partial_credit_counts_the_requirements_met(reference):
    """build_model scores per setting (5) and compare_networks per requirement (4)."""
    linear_sgd = define(_code("build_model", "linear and SGD"), "build_model", reference)
    (verdict,), _ = grade("build_model", linear_sgd, reference, ONE_SEED)
    assert verdict.credit == pytest.approx(3 / 5) and "SGD" in verdict.feedback
    on_fit_rows = _comparison(reference, COMPARE_WRONG[0][1])
    (verdict,), _ = grade_comparison(on_fit_rows, reference)
    assert verdict.credit == pytest.approx(3 / 4)


def test_unfinished_notebook_reports_not_implemented():
    """When an exercise still raises, comparison stays None and the part says so."""
    message = public_message(first_model.compare_networks, None)
    assert message is not None and "not implemented yet" in message


# ------------------------------------------------------------------------------------------ stated rules in the inputs
def test_choose_network_cases_cover_each_rule():
    """The grader's cases: a smaller network wins, the smallest is out, a tie in size, the best alone, in random
    order; the hidden ones sit exactly on best - tolerance (exact in floating point) and hold one network."""
    check = first_model.choose_network
    for seed in SEEDS:
        cases = check.secret_inputs(np.random.default_rng(seed))
        kinds = [kind for kind in ("smaller wins", "smallest is out", "tie", "only the best")
                 if any(check._is(kind, case) for case in cases)]
        assert kinds == ["smaller wins", "smallest is out", "tie", "only the best"]
    boundary, single = check.hidden_inputs(np.random.default_rng(1))
    best = max(boundary["val_accuracies"])
    assert best - boundary["tolerance"] in boundary["val_accuracies"] and len(single["n_params"]) == 1


def test_accuracy_cases_include_uncompiled_and_logit_models():
    cases = first_model.accuracy.secret_inputs(np.random.default_rng(3)) + \
        [c.inputs for c in first_model.accuracy.public_cases]
    assert {(c["compiled"], c["logits"]) for c in cases} >= {(True, False), (False, True), (True, True), (False, False)}


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
    record = report_model(_call_build(namespace, inputs, _code("build_model", "fixed hidden sizes")))
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


def _lambda_model(n_inputs, n_classes):
    import keras

    return keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Lambda(lambda t: t * 2.0),
                             keras.layers.Dense(n_classes, activation="softmax")])


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


def _comparison_report(models, accuracies, steps=None):
    """What a kernel reports for a comparison of these models, with the step counts it claims."""
    records = []
    for model in models:
        record = first_model._trained_record(model)
        if steps is not None:
            record["optimizer_steps"] = steps
        records.append(record)
    return {"kind": "tuple", "length": 2, "models_kind": "list", "accuracies_kind": "list", "models": records,
            "accuracies": [float(a) for a in accuracies]}


def _lookup_comparison(model_for):
    """Every candidate replaced by the same look-up model, with perfect claims: accuracy 1, the right steps."""
    def forge(namespace, inputs):
        model = model_for()
        return _comparison_report([model] * 3, [1.0] * 3, steps=first_model.EPOCHS * 34)
    return forge


def _untrained_comparison(namespace, inputs):
    """Fresh, untrained candidates reported with the steps and accuracies of a trained comparison."""
    import keras

    keras.utils.set_random_seed(5)
    models = [namespace["build_model"](hidden) for hidden in first_model.CANDIDATES]
    return _comparison_report(models, namespace["comparison"][1], steps=first_model.EPOCHS * 34)


ATTACKS = {
    "build_model": [
        ("old claims, perfect facts", _old_build_claims, "cannot be checked"),
        ("wrong model with the perfect claims attached", _linear_model_with_claims, "are linear"),
        ("config edited to claim the asked units, weights kept", _units_edited, "cannot be checked"),
        ("uncompiled model claiming its compile settings", _compile_claimed, "not compiled"),
        ("compile config naming a function of its own", _compile_config_edited, "not one of Keras's own"),
        ("one correct model replayed for every call", _replayed, "Dense layers do not follow hidden_units"),
        ("unbuilt model of 10^9 weights", _unbuilt_giant, "no input shape"),
        ("Lambda layer", lambda ns, inp: report_model(_lambda_model(inp["n_inputs"], inp["n_classes"])),
         "Lambda layer"),
        ("subclassed model", lambda ns, inp: report_model(_Subclassed.make(inp["n_inputs"], inp["n_classes"])),
         "not a built-in Keras class"),
    ],
    "compare_networks": [
        ("old claims: accuracies, no models", lambda ns, inp: {"kind": "tuple", "length": 2, "accuracies": [1.0] * 3},
         "should be a list of 3 trained models"),
        ("untrained models with a trained comparison's claims", _untrained_comparison, "held-out digits"),
        ("exact lookup of the 1797 public digits",
         _lookup_comparison(lambda: exact_lookup_model(*_public_digits(), classes=10)), "Dense layers with units"),
        ("nearest of the 1797 public digits",
         _lookup_comparison(lambda: nearest_prototype_model(*_public_digits())), "Dense layers with units"),
        ("a lookup model in place of each candidate", lambda ns, inp: _comparison_report(
            [exact_lookup_model(*_public_digits(), classes=10), *ns["comparison"][0][1:]], [1.0, *ns["comparison"][1][1:]],
            steps=first_model.EPOCHS * 34), "Dense layers with units"),
        ("Lambda layer", lambda ns, inp: _comparison_report([_lambda_model(64, 10)] * 3, [1.0] * 3), "Lambda layer"),
        ("subclassed model", lambda ns, inp: _comparison_report([_Subclassed.make(64, 10)] * 3, [1.0] * 3),
         "not a built-in Keras class"),
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
def test_lying_kernel_earns_nothing_for_what_it_lies_about(reference, part, label, forge, advice):
    check = first_model.CHECKS[part]
    subject = reference["comparison"] if part == "compare_networks" else reference[part]
    verdict = forged_verdict(check, subject, forge, reference, ONE_SEED[0])
    assert not verdict.passed, f"{label} passed"
    assert verdict.credit < 1
    assert advice in verdict.feedback or advice in verdict.detail, (verdict.feedback, verdict.detail)


def test_held_out_digits_are_hidden_from_the_kernel_and_match_no_public_row(reference):
    """The trained models are judged on data the kernel never sees, and an exact lookup of the public digits
    (which would have scored 100% on the unperturbed test split) finds nothing there."""
    X_public, y_public = _public_digits()
    for seed in REFERENCE_SEEDS:
        (case,) = grader_inputs(seed)["compare_networks"]
        assert set(case) == {"_X", "_labels"} and kernel_view(case) == {}
        distances = ((case["_X"][:, None, :] - X_public[None, :, :]) ** 2).sum(axis=2)
        assert distances.min() > 1e-3, "a held-out row is a row of the public data set"
        train = reference["X_train"]
        assert not any((train == row).all(axis=1).any() for row in case["_X"])
    lookup = exact_lookup_model(X_public, y_public, classes=10)
    _, X_test, _, y_test = __import__("coursekit.data", fromlist=["digits_split"]).digits_split()
    assert np.mean(predict(lookup, X_test).argmax(axis=1) == y_test) == 1.0
    (case,) = grader_inputs(ONE_SEED[0])["compare_networks"]
    assert np.mean(predict(lookup, case["_X"]).argmax(axis=1) == case["_labels"]) < first_model.HELDOUT_THRESHOLD


def test_probe_batches_stay_with_the_grader():
    """Every array the grader evaluates a built model on is in a "_" key, in public cases too."""
    check = first_model.build_model
    for inputs in [c.inputs for c in check.public_cases] + grader_inputs(21)["build_model"]:
        assert all(not isinstance(v, np.ndarray) for v in kernel_view(inputs).values()), kernel_view(inputs)


def test_odd_reports_get_a_message_not_an_exception():
    assert odd_report_failures(first_model.CHECKS, ("build_model", "compare_networks"), 21) == []
