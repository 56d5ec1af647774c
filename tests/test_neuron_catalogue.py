"""01_neuron: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import neuron

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
        ("sigmoid prediction", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 / (1 + np.exp(-(w @ x + b)))\n"
                               "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)", "step prediction"),
        ("weights only", "def perceptron_update(w, b, x, y, lr):\n    y_hat = 1 if w @ x + b >= 0 else 0\n"
                         "    return w + lr * (y - y_hat) * x", "should return a pair"),
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
    ],
    "perceptron_update": [
        "def perceptron_update(w, b, x, y, lr):\n    y_hat = int(np.dot(w, x) + b > 0)\n"
        "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)",
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
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    rng = np.random.default_rng(0)\n"
        "    w, b = np.zeros(X.shape[1]), 0.0\n    for _ in range(epochs):\n"
        "        for i in rng.permutation(len(X)):\n            w, b = perceptron_update(w, b, X[i], y[i], lr)\n"
        "    return w, b",
        "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w, b = np.zeros(X.shape[1]), 0.0\n"
        "    for _ in range(epochs):\n        for x_i, y_i in zip(X, y):\n"
        "            y_hat = int(x_i @ w + b > 0)\n            w = w + lr * (y_i - y_hat) * x_i\n"
        "            b = b + lr * (y_i - y_hat)\n    return w, b",
    ],
    "keras_neuron": [
        "def keras_neuron(w, b):\n    inputs = keras.Input(shape=(len(w),))\n"
        "    dense = keras.layers.Dense(1, activation=keras.activations.sigmoid)\n"
        "    model = keras.Model(inputs, dense(inputs))\n    dense.set_weights([w[:, None], np.array([b])])\n"
        "    return model",
        "def keras_neuron(w, b):\n    model = keras.Sequential([keras.Input(shape=(len(w),)), keras.layers.Dense(1),\n"
        "                              keras.layers.Activation('sigmoid')])\n"
        "    model.layers[0].set_weights([w.reshape(-1, 1), np.array([b])])\n    return model",
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
