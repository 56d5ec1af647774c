"""07_fitting: common wrong answers lose the part with a message that teaches; correct variants pass;
kernels that lie about the model earn nothing.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The reference namespace trains the notebook's three small models once (a few seconds); the checks
themselves train nothing, so every answer is graded on several seeds.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import fitting
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (31, 32)
ONE_SEED = (33,)
#: The reference must pass every part on each of these grading seeds.
REFERENCE_SEEDS = (31, 32, 34)

_SPLIT = "def split_indices(n, val_fraction, test_fraction, seed):\n"
_SIZES = "    n_test = int(round(test_fraction * n))\n    n_val = int(round(val_fraction * n))\n"

_STD = "def standardize(X_train, X_val, X_test):\n"

_BUILD = "def build_model(width, depth, n_inputs=2, n_classes=2):\n"
_ADAM = "keras.optimizers.Adam(learning_rate=0.01)"


def _build(hidden="keras.layers.Dense(width, activation='relu')", count="depth",
           output="keras.layers.Dense(n_classes, activation='softmax')", optimizer=_ADAM, compile_=True):
    code = (_BUILD + "    model = keras.Sequential([keras.Input(shape=(n_inputs,))])\n"
            f"    for _ in range({count}):\n        model.add({hidden})\n    model.add({output})\n")
    if compile_:
        code += (f"    model.compile(optimizer={optimizer}, loss='sparse_categorical_crossentropy', "
                 "metrics=['accuracy'])\n")
    return code + "    return model\n"


_DIAG = "def diagnose(history, target_accuracy=0.8, max_gap=0.1):\n    logs = getattr(history, 'history', history)\n"

_CHOOSE = "def choose_capacity(results):\n"

WRONG = {
    "split_indices": [
        ("validation and test overlap the training split",
         _SPLIT + "    order = np.random.default_rng(seed).permutation(n)\n" + _SIZES +
         "    return order[n_test:], order[n_test:n_test + n_val], order[:n_test]\n", "the splits overlap"),
        ("no shuffle", _SPLIT + "    order = np.arange(n)\n" + _SIZES +
         "    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]\n", "not shuffled"),
        ("seed ignored", _SPLIT + "    order = np.random.default_rng(0).permutation(n)\n" + _SIZES +
         "    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]\n", "seed argument is ignored"),
        ("unseeded shuffle", _SPLIT + "    order = np.random.permutation(n)\n" + _SIZES +
         "    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]\n", "not reproducible"),
        ("fractions swapped", _SPLIT + "    order = np.random.default_rng(seed).permutation(n)\n"
         "    n_test = int(round(val_fraction * n))\n    n_val = int(round(test_fraction * n))\n"
         "    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]\n", "swapped"),
    ],
    "standardize": [
        ("statistics of the whole data set (leakage)",
         _STD + "    everything = np.concatenate([X_train, X_val, X_test])\n"
         "    mean, std = everything.mean(axis=0), everything.std(axis=0)\n    std = np.where(std == 0, 1.0, std)\n"
         "    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std\n", "whole data set"),
        ("each split with its own statistics",
         _STD + "    def scale(A):\n        std = A.std(axis=0)\n        return (A - A.mean(axis=0)) / np.where(std == 0, 1.0, std)\n"
         "    return scale(X_train), scale(X_val), scale(X_test)\n", "its own statistics"),
        ("division by a zero std", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
         "    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std\n", "has std 0"),
        ("sample std (ddof=1)", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)\n"
         "    std = np.where(std == 0, 1.0, std)\n"
         "    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std\n", "ddof=1"),
        ("std plus epsilon", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8\n"
         "    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std\n", "tiny epsilon"),
        ("centred only", _STD + "    mean = X_train.mean(axis=0)\n"
         "    return X_train - mean, X_val - mean, X_test - mean\n", "not std 1"),
    ],
    "build_model": [
        ("width and depth swapped", _build(hidden="keras.layers.Dense(depth, activation='relu')", count="width"),
         "width and depth are swapped"),
        ("depth counts the output layer", _build(count="depth - 1"), "depth counts the hidden layers only"),
        ("one hidden layer too many", _build(count="depth + 1"), "one too many"),
        ("linear hidden layers", _build(hidden="keras.layers.Dense(width)"), "are linear"),
        ("no softmax", _build(output="keras.layers.Dense(n_classes)"), "not probabilities"),
        ("default learning rate", _build(optimizer="'adam'"), "learning rate 0.001"),
        ("not compiled", _build(compile_=False), "not compiled"),
        ("metric named acc", _build().replace("metrics=['accuracy']", "metrics=['acc']"), "'val_accuracy'. Compile with"),
        # Built-in Keras only: a Lambda layer or a subclassed model is refused, whatever it computes.
        ("Lambda layer", _build(output="keras.layers.Dense(n_classes, activation='softmax')); "
                                "model.add(keras.layers.Lambda(lambda t: t * 1.0)"), "Lambda layer"),
    ],
    "diagnose": [
        ("training accuracy alone", _DIAG + "    return 'good fit' if logs['accuracy'][-1] >= target_accuracy "
         "else 'underfitting'\n", "Training accuracy alone"),
        ("overfitting checked first", _DIAG + "    train, val = logs['accuracy'][-1], logs['val_accuracy'][-1]\n"
         "    if train - val > max_gap:\n        return 'overfitting'\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n    return 'good fit'\n",
         "checks underfitting first"),
        ("absolute gap", _DIAG + "    train, val = logs['accuracy'][-1], logs['val_accuracy'][-1]\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n"
         "    if abs(train - val) > max_gap:\n        return 'overfitting'\n    return 'good fit'\n",
         "not abs(train - val)"),
        ("best epoch instead of the last", _DIAG + "    train, val = max(logs['accuracy']), max(logs['val_accuracy'])\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n"
         "    if train - val > max_gap:\n        return 'overfitting'\n    return 'good fit'\n", "not the best value"),
        ("first epoch", _DIAG + "    train, val = logs['accuracy'][0], logs['val_accuracy'][0]\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n"
         "    if train - val > max_gap:\n        return 'overfitting'\n    return 'good fit'\n", "not the first, [0]"),
        ("fixed thresholds", _DIAG + "    train, val = logs['accuracy'][-1], logs['val_accuracy'][-1]\n"
         "    if train < 0.8:\n        return 'underfitting'\n"
         "    if train - val > 0.1:\n        return 'overfitting'\n    return 'good fit'\n", "rather than fixed numbers"),
        ("not strict at the thresholds", _DIAG + "    train, val = logs['accuracy'][-1], logs['val_accuracy'][-1]\n"
         "    if train <= target_accuracy:\n        return 'underfitting'\n"
         "    if train - val >= max_gap:\n        return 'overfitting'\n    return 'good fit'\n", "strictly greater"),
        ("History object treated as a dict",
         "def diagnose(history, target_accuracy=0.8, max_gap=0.1):\n"
         "    train, val = history['accuracy'][-1], history['val_accuracy'][-1]\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n"
         "    if train - val > max_gap:\n        return 'overfitting'\n    return 'good fit'\n", "accept both"),
        ("dict treated as a History object",
         "def diagnose(history, target_accuracy=0.8, max_gap=0.1):\n"
         "    train, val = history.history['accuracy'][-1], history.history['val_accuracy'][-1]\n"
         "    if train < target_accuracy:\n        return 'underfitting'\n"
         "    if train - val > max_gap:\n        return 'overfitting'\n    return 'good fit'\n", "accept both"),
        ("other wording", _DIAG + "    train, val = logs['accuracy'][-1], logs['val_accuracy'][-1]\n"
         "    if train < target_accuracy:\n        return 'Underfitting'\n"
         "    if train - val > max_gap:\n        return 'Overfitting'\n    return 'good_fit'\n", "exactly one of the strings"),
    ],
    "choose_capacity": [
        ("best training score", _CHOOSE + "    return max(range(len(results)), key=lambda i: results[i]['train_accuracy'])\n",
         "best training accuracy"),
        ("best test score", _CHOOSE + "    return max(range(len(results)), key=lambda i: results[i]['test_accuracy'])\n",
         "best test accuracy"),
        ("last model", _CHOOSE + "    return len(results) - 1\n", "last record"),
        ("ties go to the first in the list",
         _CHOOSE + "    return int(np.argmax([r['val_accuracy'] for r in results]))\n", "first of them in the list"),
        ("ties go to the larger model", _CHOOSE + "    best = 0\n    for i, r in enumerate(results):\n"
         "        if r['val_accuracy'] >= results[best]['val_accuracy']:\n            best = i\n    return best\n",
         "this is a larger one"),
        ("returns the record", _CHOOSE + "    best = max(r['val_accuracy'] for r in results)\n"
         "    return min((r for r in results if r['val_accuracy'] == best), key=lambda r: r['n_params'])\n",
         "returned a record"),
    ],
}

ALTERNATIVES = {
    "split_indices": [
        # scikit-learn, twice, with integer sizes.
        "from sklearn.model_selection import train_test_split\n" + _SPLIT + _SIZES +
        "    rest, test = train_test_split(np.arange(n), test_size=n_test, random_state=seed)\n"
        "    if n_val == 0:\n        return rest, np.array([], dtype=int), test\n"
        "    train, val = train_test_split(rest, test_size=n_val, random_state=seed)\n    return train, val, test",
        # The legacy RandomState, np.split, and each split sorted.
        _SPLIT + _SIZES + "    order = np.random.RandomState(seed).permutation(n)\n"
        "    test, val, train = np.split(order, [n_test, n_test + n_val])\n"
        "    return np.sort(train), np.sort(val), np.sort(test)",
        # Lists of Python ints, training rows first.
        _SPLIT + "    order = [int(i) for i in np.random.default_rng(seed).permutation(n)]\n"
        "    n_train = n - int(round(test_fraction * n)) - int(round(val_fraction * n))\n"
        "    n_val = int(round(val_fraction * n))\n"
        "    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]",
    ],
    "standardize": [
        "from sklearn.preprocessing import StandardScaler\n" + _STD +
        "    scaler = StandardScaler().fit(X_train)\n"
        "    return scaler.transform(X_train), scaler.transform(X_val), scaler.transform(X_test)",
        _STD + "    mean = np.mean(X_train, axis=0, keepdims=True)\n"
        "    std = np.sqrt(np.mean((X_train - mean) ** 2, axis=0, keepdims=True))\n    std[std == 0] = 1\n"
        "    return tuple((A - mean) / std for A in (X_train, X_val, X_test))",
    ],
    "build_model": [
        # The Functional API.
        _BUILD + "    inputs = keras.Input(shape=(n_inputs,))\n    x = inputs\n"
        "    for _ in range(depth):\n        x = keras.layers.Dense(width, activation='relu')(x)\n"
        "    outputs = keras.layers.Dense(n_classes, activation='softmax')(x)\n    model = keras.Model(inputs, outputs)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy(name='accuracy')])\n    return model",
        # Separate activation layers, no Input (built on first call).
        _BUILD + "    layers = []\n    for _ in range(depth):\n"
        "        layers += [keras.layers.Dense(width), keras.layers.ReLU()]\n"
        "    layers += [keras.layers.Dense(n_classes), keras.layers.Softmax()]\n"
        "    model = keras.Sequential(layers)\n    model.build((None, n_inputs))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n    return model",
    ],
    "diagnose": [
        "def diagnose(history, target_accuracy=0.8, max_gap=0.1):\n"
        "    logs = history.history if hasattr(history, 'history') else dict(history)\n"
        "    gap = logs['accuracy'][-1] - logs['val_accuracy'][-1]\n"
        "    return ('underfitting' if logs['accuracy'][-1] < target_accuracy\n"
        "            else 'overfitting' if gap > max_gap else 'good fit')",
        "import keras\ndef diagnose(history, target_accuracy=0.8, max_gap=0.1):\n"
        "    if isinstance(history, keras.callbacks.History):\n        history = history.history\n"
        "    *_, train = history['accuracy']\n    *_, val = history['val_accuracy']\n"
        "    if not train >= target_accuracy:\n        return 'underfitting'\n"
        "    return 'good fit' if val + max_gap >= train else 'overfitting'",
    ],
    "choose_capacity": [
        "def choose_capacity(results):\n"
        "    return min(range(len(results)), key=lambda i: (-results[i]['val_accuracy'], results[i]['n_params']))",
        "def choose_capacity(results):\n    order = np.lexsort(([r['n_params'] for r in results],\n"
        "                        [-r['val_accuracy'] for r in results]))\n    return order[0]",
        "def choose_capacity(results):\n    best = None\n    for i, r in enumerate(results):\n"
        "        if best is None or r['val_accuracy'] > results[best]['val_accuracy'] or (\n"
        "                r['val_accuracy'] == results[best]['val_accuracy'] and r['n_params'] < results[best]['n_params']):\n"
        "            best = i\n    return best",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "07_fitting")


def seeds_for(name):
    return ONE_SEED if name == "build_model" else SEEDS


def grade(name, answer, reference, seeds):
    check = fitting.CHECKS[name]
    return ([simulate_grading(fitting.CHECKS, check, answer, reference[name], s) for s in seeds],
            public_message(check, answer))


@pytest.mark.parametrize("name", ["split_indices", "standardize", "build_model", "diagnose", "choose_capacity"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[name], reference, REFERENCE_SEEDS))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference, seeds_for(name)))


def test_notebook_sweep_diagnoses_each_capacity(reference):
    """The notebook's three trained models show the three diagnoses, and the middle one is chosen."""
    diagnoses = [reference["diagnose"](h) for h in reference["histories"].values()]
    assert diagnoses == ["underfitting", "good fit", "overfitting"], diagnoses
    assert reference["choose_capacity"](reference["results"]) == 1


# ------------------------------------------------------------------------------------------ attacks
# A kernel whose check `run` was replaced (or whose keras was patched) reports whatever it likes. Each
# attack is what such a kernel sends for build_model: `forge(namespace, kernel_inputs)` sees only what a
# kernel sees (the four arguments, never the "_" probe batch) and returns the report.
def _model(namespace, inputs, code=None):
    build = define(code, "build_model", namespace) if code else namespace["build_model"]
    return build(inputs["width"], inputs["depth"], inputs["n_inputs"], inputs["n_classes"])


def _old_claims(namespace, inputs):
    """What the old protocol's run reported for a perfect model: facts, with outputs made up."""
    width, depth, n_in, k = (int(inputs[key]) for key in ("width", "depth", "n_inputs", "n_classes"))
    sizes = [n_in] + [width] * depth + [k]
    outputs = np.full((40, k), 1.0 / k)
    return {"is_model": True, "outputs": outputs, "mid_outputs": outputs,
            "layers": [["Dense", "relu"]] * depth + [["Dense", "softmax"]], "dense_units": sizes[1:],
            "n_params": sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])), "compiled": True,
            "loss_name": "sparse_categorical_crossentropy", "from_logits": False, "learning_rate": 0.01,
            "optimizer": "Adam", "metric_names": ["accuracy"]}


def _learning_rate_claimed(namespace, inputs):
    """A model compiled with the default learning rate, its report claiming 0.01."""
    record = report_model(_model(namespace, inputs, _build(optimizer="'adam'")))
    return {**record, "learning_rate": 0.01, "optimizer": "Adam"}


def _weights_of_another_width(namespace, inputs):
    """The config of the asked model, with the weights of a model twice as wide."""
    record = report_model(_model(namespace, inputs))
    wider = report_model(_model(namespace, {**inputs, "width": 2 * inputs["width"]}))
    return {**record, "weights": wider["weights"]}


def _unbuilt_giant(namespace, inputs):
    """No input shape, so its size cannot be measured; its first call would allocate 10^9 weights."""
    import keras

    model = keras.Sequential([keras.layers.Dense(10**7, activation="relu"),
                              keras.layers.Dense(inputs["n_classes"], activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return report_model(model)


def _subclassed(namespace, inputs):
    import keras

    class Probabilities(keras.Model):
        def __init__(self):
            super().__init__()
            self.out = keras.layers.Dense(inputs["n_classes"], activation="softmax")

        def call(self, x):
            return self.out(x)

    model = Probabilities()
    model(np.zeros((1, inputs["n_inputs"]), dtype="float32"))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return report_model(model)


def _lambda_model(namespace, inputs):
    import keras

    model = keras.Sequential([keras.Input(shape=(inputs["n_inputs"],)), keras.layers.Lambda(lambda t: t * 2.0),
                              keras.layers.Dense(inputs["n_classes"], activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return report_model(model)


ATTACKS = {
    "build_model": [
        ("old claims, perfect facts", _old_claims, "cannot be checked"),
        ("default learning rate, 0.01 claimed", _learning_rate_claimed, "learning rate 0.001"),
        ("the asked config with another model's weights", _weights_of_another_width, "weights do not fit"),
        ("one correct model replayed for every call",
         lambda ns, inp: report_model(ns["build_model"](8, 1, 2, 2)), "cannot be called on a batch"),
        ("unbuilt model of 10^9 weights", _unbuilt_giant, "no input shape"),
        ("Lambda layer", _lambda_model, "Lambda layer"),
        ("subclassed model", _subclassed, "not a built-in Keras class"),
    ],
}


def grader_inputs(seed):
    """The grader's inputs for one run, decoded as the grader decodes them."""
    return {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(fitting.CHECKS.secret_inputs(seed))).items()}


def forged_verdict(name, reference, forge, seed):
    """Grade a kernel whose `check.run` was replaced by `forge`: the reference reports honestly, the forger
    reports `forge(namespace, kernel_view(inputs))` for every input and public case."""
    check = fitting.CHECKS[name]
    inputs = grader_inputs(seed)
    keys = [k for k in (check.name, check.hidden_name) if k in inputs]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = {k: check.report_payload(reference[name], k, inputs[k]) for k in keys}
    reported = {}
    for key in keys:
        reported[key] = {"check": key,
                         "results": [probe(lambda inp=inp: forge(reference, kernel_view(inp))) for inp in inputs[key]]}
        if key == check.name:
            reported[key]["public"] = [probe(lambda case=case: forge(reference, kernel_view(case.inputs)))
                                       for case in check.public_cases]
    return judge_part(fitting.CHECKS, inputs, expected, reported)


@pytest.mark.parametrize("part,label,forge,advice",
                         [pytest.param(part, label, forge, advice, id=f"{part}-{label}")
                          for part, entries in ATTACKS.items() for label, forge, advice in entries])
def test_lying_kernel_scores_zero(reference, part, label, forge, advice):
    verdict = forged_verdict(part, reference, forge, ONE_SEED[0])
    assert not verdict.passed, f"{label} passed"
    assert advice in verdict.feedback or advice in verdict.detail, (verdict.feedback, verdict.detail)


def test_probe_batch_stays_with_the_grader():
    """The batch the grader evaluates the model on is in "_" keys, in public cases too."""
    check = fitting.CHECKS["build_model"]
    for inputs in [c.inputs for c in check.public_cases] + grader_inputs(31)["build_model"]:
        assert set(inputs) - set(kernel_view(inputs)) == {"_X", "_y"}
        assert all(not isinstance(v, np.ndarray) for v in kernel_view(inputs).values())
