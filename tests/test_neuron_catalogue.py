"""01_neuron: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import neuron
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (11, 12, 13)

WRONG = {
    "neuron_forward": [
        ("no bias", "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(X @ w)))", "bias b is missing"),
        ("no activation", "def neuron_forward(X, w, b):\n    return X @ w + b", "weighted sum z"),
        ("exp sign", "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(X @ w + b))", "sign inside the exponential"),
        ("tanh", "def neuron_forward(X, w, b):\n    return np.tanh(X @ w + b)", "tanh"),
        ("step", "def neuron_forward(X, w, b):\n    return (X @ w + b >= 0).astype(float)", "step function"),
        ("column vector", "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(X @ w.reshape(-1, 1) + b)))",
         "shape"),
        ("placeholder", "def neuron_forward(X, w, b):\n    return np.zeros(len(X))", "Every output is 0"),
        # Matches no diagnosis: the message says what came back and what was expected, and names no cause.
        ("bias counted twice", "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(X @ w + 2 * b)))",
         "relative error"),
        ("hard-coded public answer",
         "def neuron_forward(X, w, b):\n    if len(X) == 3:\n"
         "        return np.array([0.19781611144141825, 0.52497918747894, 0.289050497374996])\n"
         "    return np.array([0.16798161486607552, 0.9770226300899744])",
         None),
    ],
    "perceptron_update": [
        ("update sign", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                        "    return w + lr * (y_hat - y) * x, b + lr * (y_hat - y)", "wrong sign"),
        ("no learning rate", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                             "    return w + (y - y_hat) * x, b + (y - y_hat)", "learning rate lr is missing"),
        ("bias frozen", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                        "    return w + lr * (y - y_hat) * x, b", "bias learns like a weight"),
        ("label not error", "def perceptron_update(w, b, x, y, lr):\n    return w + lr * y * x, b + lr * y",
         "did not change although the prediction was wrong"),
        # Stated rule: nothing changes when the prediction is right.
        ("pushed towards the label every time", "def perceptron_update(w, b, x, y, lr):\n    step = 2 * y - 1\n"
                                                "    return w + lr * step * x, b + lr * step", "zero when y == ŷ"),
        ("sigmoid prediction", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 / (1 + np.exp(-(w @ x + b)))\n"
                               "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)", "step prediction"),
        ("weights only", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                         "    return w + lr * (y - y_hat) * x", "should return a pair"),
        # Stated rule: ŷ = 1 when z >= 0, so a sample exactly on the line counts as 1.
        ("tie counted as 0", "def perceptron_update(w, b, x, y, lr):\n    y_hat = int(np.dot(w, x) + b > 0)\n"
                             "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)", "exactly on the line"),
        # Stated rule: b_new is a single number.
        ("bias as a 1-element array", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                                      "    return w + lr * (y - y_hat) * x, np.array([b + lr * (y - y_hat)])",
         "single number"),
        ("weights as a column", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                                "    return (w + lr * (y - y_hat) * x).reshape(-1, 1), b + lr * (y - y_hat)",
         "one weight per feature"),
        # Matches no diagnosis: half the step size.
        ("half the update", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                            "    return w + 0.5 * lr * (y - y_hat) * x, b + 0.5 * lr * (y - y_hat)", "expected"),
    ],
    "train_perceptron": [
        ("update discarded", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                             "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
                             "            perceptron_update(w, b, x_i, y_i, lr)\n    return w, b", "still all zeros"),
        ("reset every epoch", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    for _ in range(epochs):\n"
                              "        w, b = np.zeros(X.shape[1]), 0.0\n        for x_i, y_i in zip(X, y):\n"
                              "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return w, b", "misclassifies"),
        ("swapped return", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                           "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
                           "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return b, w", "shape"),
        # Stated rules: in the order given, from zeros, exactly `epochs` passes, (w, b) with b a number.
        ("shuffled order", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    rng = np.random.default_rng(0)\n"
                           "    w, b = np.zeros(X.shape[1]), 0.0\n    for _ in range(epochs):\n"
                           "        for i in rng.permutation(len(X)):\n            w, b = perceptron_update(w, b, X[i], y[i], lr)\n"
                           "    return w, b", "the perceptron rule gives"),
        ("reversed order", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                           "    for _ in range(epochs):\n        for x_i, y_i in zip(X[::-1], y[::-1]):\n"
                           "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return w, b", "reverse order"),
        ("starts from ones", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.ones(X.shape[1]), 1.0\n"
                             "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
                             "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return w, b", "started from w = 1"),
        ("tie counted as 0", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                             "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
                             "            y_hat = int(x_i @ w + b > 0)\n            w = w + lr * (y_i - y_hat) * x_i\n"
                             "            b = b + lr * (y_i - y_hat)\n    return w, b", "predicted as 0"),
        ("bias as a 1-element array", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), np.zeros(1)\n"
                                      "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
                                      "            y_hat = int(x_i @ w + b[0] >= 0)\n            w = w + lr * (y_i - y_hat) * x_i\n"
                                      "            b = b + lr * (y_i - y_hat)\n    return w, b", "single number"),
        ("epochs ignored", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                           "    for _ in range(10):\n        for x_i, y_i in zip(X, y):\n"
                           "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return w, b", "exactly `epochs` times"),
        ("one pass too many", "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
                              "    for _ in range(epochs + 1):\n        for x_i, y_i in zip(X, y):\n"
                              "            w, b = perceptron_update(w, b, x_i, y_i, lr)\n    return w, b",
         "one pass more than `epochs`"),
    ],
    "keras_neuron": [
        ("weights never set", "def keras_neuron(w, b):\n    return keras.Sequential([keras.Input(shape=(len(w),)), "
                              "keras.layers.Dense(1, activation='sigmoid')])", "set_weights"),
        ("no activation", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1)\n"
                          "    model = keras.Sequential([keras.Input(shape=(len(w),)), layer])\n"
                          "    layer.set_weights([w.reshape(-1, 1), np.array([b])])\n    return model", "activation='sigmoid'"),
        ("relu", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1, activation='relu')\n"
                 "    model = keras.Sequential([keras.Input(shape=(len(w),)), layer])\n"
                 "    layer.set_weights([w.reshape(-1, 1), np.array([b])])\n    return model", "ReLU"),
        ("bias left at zero", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1, activation='sigmoid')\n"
                              "    model = keras.Sequential([keras.Input(shape=(len(w),)), layer])\n"
                              "    layer.set_weights([w.reshape(-1, 1), np.zeros(1)])\n    return model", "bias is not set"),
        ("layer not model", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1, activation='sigmoid')\n"
                            "    layer.build((None, len(w)))\n    layer.set_weights([w.reshape(-1, 1), np.array([b])])\n"
                            "    return layer", "not a keras.Model"),
        ("too many units", "def keras_neuron(w, b):\n    return keras.Sequential([keras.Input(shape=(len(w),)), "
                           "keras.layers.Dense(len(w), activation='sigmoid')])", "exactly one Dense layer with 1 unit"),
        ("no bias", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1, activation='sigmoid', use_bias=False)\n"
                    "    model = keras.Sequential([keras.Input(shape=(len(w),)), layer])\n"
                    "    layer.set_weights([w.reshape(-1, 1)])\n    return model", "use_bias=False"),
        ("weights of another neuron", "def keras_neuron(w, b):\n    layer = keras.layers.Dense(1, activation='sigmoid')\n"
                                      "    model = keras.Sequential([keras.Input(shape=(len(w),)), layer])\n"
                                      "    layer.set_weights([-w.reshape(-1, 1), np.array([b])])\n    return model",
         "weights are not w and b"),
    ],
}

ALTERNATIVES = {
    "neuron_forward": [
        "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(np.dot(X, w) + b)))",
        "from scipy.special import expit\ndef neuron_forward(X, w, b):\n    return expit(X @ w + b)",
        "def neuron_forward(X, w, b):\n    return np.array([1 / (1 + np.exp(-(x @ w + b))) for x in X])",
        "def neuron_forward(X, w, b):\n    return (1 / (1 + np.exp(-(w @ X.T + b)))).astype(np.float32)",
        "def neuron_forward(X, w, b):\n    return list(1 / (1 + np.exp(-(X @ w + b))))",
        "def neuron_forward(X, w, b):\n    return keras.activations.sigmoid(X @ w + b)",
        # float32 throughout, through keras.ops.
        "def neuron_forward(X, w, b):\n    z = keras.ops.matmul(X.astype('float32'), w.astype('float32')) + np.float32(b)\n"
        "    return keras.ops.convert_to_numpy(keras.ops.sigmoid(z))",
    ],
    "perceptron_update": [
        "def perceptron_update(w, b, x, y, lr):\n    y_hat = int(np.dot(w, x) + b >= 0)\n"
        "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)",
        # float32 throughout.
        "def perceptron_update(w, b, x, y, lr):\n    w32, x32 = w.astype(np.float32), x.astype(np.float32)\n"
        "    error = np.float32(y - (1 if w32 @ x32 + np.float32(b) >= 0 else 0))\n"
        "    return w32 + np.float32(lr) * error * x32, np.float32(b) + np.float32(lr) * error",
        "def perceptron_update(w, b, x, y, lr):\n    error = y - (1 if w @ x + b >= 0 else 0)\n    if error:\n"
        "        w += lr * error * x\n        b += lr * error\n    return w, b",
        "def perceptron_update(w, b, x, y, lr):\n    y_hat = np.heaviside(w @ x + b, 1)\n"
        "    return [w + lr * (y - y_hat) * x, np.float32(b + lr * (y - y_hat))]",
    ],
    "train_perceptron": [
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
        "    for _ in range(epochs):\n        mistakes = 0\n        for x_i, y_i in zip(X, y):\n"
        "            w_new, b_new = perceptron_update(w, b, x_i, y_i, lr)\n"
        "            mistakes += int(not np.array_equal(w_new, w))\n            w, b = w_new, b_new\n"
        "        if mistakes == 0:\n            break\n    return w, b",
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
        "    for _ in range(epochs):\n        for i in range(len(X)):\n"
        "            y_hat = int(X[i] @ w + b >= 0)\n            w = w + lr * (y[i] - y_hat) * X[i]\n"
        "            b = b + lr * (y[i] - y_hat)\n    return w, float(b)",
        # float32 throughout.
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    X32 = np.asarray(X, dtype=np.float32)\n"
        "    w, b = np.zeros(X32.shape[1], dtype=np.float32), np.float32(0)\n    for _ in range(epochs):\n"
        "        for x_i, y_i in zip(X32, y):\n            w, b = perceptron_update(w, b, x_i, y_i, np.float32(lr))\n"
        "    return w, b",
        # The learning rate left out: from zeros it only rescales (w, b), which the statement says is accepted.
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
        "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
        "            w, b = perceptron_update(w, b, x_i, y_i, 1.0)\n    return w, b",
    ],
    "keras_neuron": [
        "def keras_neuron(w, b):\n    inputs = keras.Input(shape=(len(w),))\n"
        "    dense = keras.layers.Dense(1, activation=keras.activations.sigmoid)\n"
        "    model = keras.Model(inputs, dense(inputs))\n    dense.set_weights([w[:, None], np.array([b])])\n"
        "    return model",
        "def keras_neuron(w, b):\n    model = keras.Sequential([keras.Input(shape=(len(w),)), keras.layers.Dense(1),\n"
        "                              keras.layers.Activation('sigmoid')])\n"
        "    model.layers[0].set_weights([w.reshape(-1, 1), np.array([b])])\n    return model",
        "def keras_neuron(w, b):\n    model = keras.Sequential([keras.Input(shape=(len(w),)), keras.layers.Dense(1, activation='sigmoid')])\n"
        "    model.set_weights([w.reshape(-1, 1).astype(np.float32), np.array([b], dtype=np.float32)])\n    return model",
        "def keras_neuron(w, b):\n    model = keras.Sequential([keras.layers.Dense(1, activation='sigmoid')])\n"
        "    model.build((None, len(w)))\n    model.layers[0].kernel.assign(w.reshape(-1, 1).astype('float32'))\n"
        "    model.layers[0].bias.assign(np.array([b], dtype='float32'))\n    return model",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "01_neuron")


@pytest.mark.parametrize("name", [c.name for c in neuron.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    ref = reference[name]
    expect_correct([simulate_grading(neuron.CHECKS, neuron.CHECKS[name], ref, ref, s) for s in SEEDS],
                   public_message(neuron.CHECKS[name], ref))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    check, answer = neuron.CHECKS[name], define(code, name, reference)
    expect_wrong(label, [simulate_grading(neuron.CHECKS, check, answer, reference[name], s) for s in SEEDS],
                 public_message(check, answer), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    check, answer = neuron.CHECKS[name], define(code, name, reference)
    expect_correct([simulate_grading(neuron.CHECKS, check, answer, reference[name], s) for s in SEEDS],
                   public_message(check, answer))


# ----------------------------------------------------------------------------- the model part cannot be lied to
# keras_neuron is judged from the model the kernel reports (config and weights), rebuilt by the grader and run
# on inputs `_X` the kernel never sees. Each attack plays a kernel whose check `run` was replaced and reports
# forge(inputs) (the full inputs, grader-only keys included); the part must score 0 with a message.
ATTACK_SEED = 14


def judge_forged(reference, forge, seed=ATTACK_SEED):
    check = neuron.keras_neuron
    inputs = {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(neuron.CHECKS.secret_inputs(seed))).items()}
    keys = [k for k in (check.name, check.hidden_name) if k in inputs]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = {k: check.report_payload(reference["keras_neuron"], k, inputs[k]) for k in keys}
    reported = {k: {"check": k, "results": [probe(lambda inp=inp: forge(inp)) for inp in inputs[k]]} for k in keys}
    reported[check.name]["public"] = [probe(lambda case=case: forge(case.inputs)) for case in check.public_cases]
    return judge_part(neuron.CHECKS, inputs, expected, reported)


def _true_outputs(inp):
    X, w = np.asarray(inp["_X"], dtype=np.float64), np.ravel(inp["w"])
    return 1 / (1 + np.exp(-(X @ w + float(inp["b"]))))[:, None]


def _unset_neuron(inp):
    import keras

    return keras.Sequential([keras.Input(shape=(len(np.ravel(inp["w"])),)), keras.layers.Dense(1, activation="sigmoid")])


def _two_unit_weights_record(reference, inp):
    """The reference neuron's config, reported with the weights of a two-unit layer."""
    import keras

    wide = keras.Sequential([keras.Input(shape=(len(np.ravel(inp["w"])),)), keras.layers.Dense(2, activation="sigmoid")])
    return {**report_model(reference["keras_neuron"](np.asarray(inp["w"]), inp["b"])),
            "weights": report_model(wide)["weights"]}


#: (label, forge(reference, inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("the old claim dict, with the true outputs",
     lambda reference, inp: {"is_model": True, "outputs": _true_outputs(inp), "n_params": len(np.ravel(inp["w"])) + 1,
                             "dense_units": [1]}, "cannot be checked"),
    ("an untouched neuron's record with the old claims added",
     lambda reference, inp: {**report_model(_unset_neuron(inp)), "outputs": _true_outputs(inp), "dense_units": [1]},
     "set_weights"),
    ("the right config with another layer's weights", _two_unit_weights_record, "cannot be checked"),
]

#: (label, keras_neuron code, a phrase the message must contain): models the grader refuses to rebuild.
REJECTED_MODELS = [
    ("a Lambda layer that computes the neuron",
     "def keras_neuron(w, b):\n    model = keras.Sequential([keras.Input(shape=(len(w),)), keras.layers.Dense(1),\n"
     "        keras.layers.Lambda(lambda t: keras.ops.sigmoid(t))])\n"
     "    model.layers[0].set_weights([np.reshape(w, (-1, 1)), np.array([b])])\n    return model", "Lambda layer"),
    ("a subclassed keras.Model",
     "class Neuron(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
     "        self.dense = keras.layers.Dense(1, activation='sigmoid')\n"
     "    def call(self, x):\n        return self.dense(x)\n"
     "def keras_neuron(w, b):\n    model = Neuron()\n    model(np.zeros((1, len(w)), dtype='float32'))\n"
     "    model.dense.set_weights([np.reshape(w, (-1, 1)), np.array([b])])\n    return model", "built-in"),
]


def _assert_zero(verdict, phrase):
    assert not verdict.passed, "the attack passed"
    assert phrase in verdict.detail, verdict.detail
    assert verdict.feedback


@pytest.mark.parametrize("label,forge,phrase", [pytest.param(*e, id=e[0]) for e in LYING_REPORTS])
def test_lying_report_scores_zero(reference, label, forge, phrase):
    _assert_zero(judge_forged(reference, lambda inp: forge(reference, inp)), phrase)


@pytest.mark.parametrize("label,code,phrase", [pytest.param(*e, id=e[0]) for e in REJECTED_MODELS])
def test_model_the_grader_does_not_rebuild_scores_zero(reference, label, code, phrase):
    answer = define(code, "keras_neuron", reference)
    verdict = simulate_grading(neuron.CHECKS, neuron.keras_neuron, answer, reference["keras_neuron"], ATTACK_SEED)
    _assert_zero(verdict, phrase)
    public = public_message(neuron.keras_neuron, answer)
    assert public is not None and "cannot be checked" in public, public


def test_neuron_is_run_on_inputs_the_kernel_never_sees():
    check = neuron.keras_neuron
    for inp in (check.secret_inputs(np.random.default_rng(ATTACK_SEED)) + check.hidden_inputs(np.random.default_rng(1))
                + [case.inputs for case in check.public_cases]):
        assert set(kernel_view(inp)) == {"w", "b"} and "_X" in inp


#: (a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = ["not a dict", {"is_model": True, "keras_config": "[" * 100_000, "weights": []},
               {"is_model": True, "keras_config": 10**30, "weights": "x"},
               {"is_model": True, "keras_config": json.dumps({"class_name": "Sequential", "config": {}}), "weights": []}]


@pytest.mark.parametrize("got", [pytest.param(g, id=str(i)) for i, g in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(got):
    case = neuron.keras_neuron.public_cases[0]
    message = neuron.keras_neuron.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message


# ----------------------------------------------------------------------------- stated rules the inputs must exercise
def test_the_tie_rule_is_tried_with_samples_exactly_on_the_line():
    """ŷ = 1 when z ≥ 0: the grader's cases include z = 0 exactly, in float64 and float32 and in any order of
    summation, once with label 0 (an update is due) and once with label 1 (nothing changes)."""
    for seed in SEEDS:
        cases = neuron.perceptron_update.secret_inputs(np.random.default_rng(seed))
        ties = [c for c in cases if float(c["w"] @ c["x"] + c["b"]) == 0.0]
        assert sorted(c["y"] for c in ties) == [0, 1]
        for c in ties:
            w32, x32 = c["w"].astype(np.float32), c["x"].astype(np.float32)
            assert float(w32 @ x32 + np.float32(c["b"])) == 0.0
            assert float(sum(wi * xi for wi, xi in zip(c["w"][::-1], c["x"][::-1])) + c["b"]) == 0.0


def test_train_perceptron_is_judged_on_the_rule_with_lr_one_and_on_separation_otherwise():
    """The rule's (w, b) is compared only where lr = 1, so a wrong lr in Exercise 2 costs points there only."""
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        cases = neuron.train_perceptron.secret_inputs(rng) + neuron.train_perceptron.hidden_inputs(rng)
        cases += [case.inputs for case in neuron.train_perceptron.public_cases]
        assert {c["_judge"] for c in cases} == {"rule", "separates"}
        assert all(c["lr"] == 1.0 for c in cases if c["_judge"] == "rule")
        assert any(c["epochs"] <= 4 for c in cases if c["_judge"] == "rule")
