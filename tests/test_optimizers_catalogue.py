"""06_optimizers: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Each answer is a whole class; the `__init__` methods are the exercise's own, and only `update` varies.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import optimizers

SEEDS = (11, 12, 13)

#: The class each check grades.
CLASS_OF = {"sgd_update": "SGD", "momentum_update": "Momentum", "rmsprop_update": "RMSprop", "adam_update": "Adam"}

INIT = {
    "sgd_update": "    def __init__(self, learning_rate=0.01):\n        self.learning_rate = learning_rate\n",
    "momentum_update": "    def __init__(self, learning_rate=0.01, momentum=0.9):\n"
                       "        self.learning_rate, self.momentum, self.velocity = learning_rate, momentum, None\n",
    "rmsprop_update": "    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):\n"
                      "        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon\n"
                      "        self.mean_square = None\n",
    "adam_update": "    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):\n"
                   "        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon\n"
                   "        self.m = self.v = None\n        self.t = 0\n",
}


def cls(name: str, body: str) -> str:
    """A class for check `name` with the exercise's __init__ and `body` as update's body (4-space indented)."""
    update = "".join(f"        {line}\n" for line in body.strip("\n").splitlines())
    return f"class {CLASS_OF[name]}:\n{INIT[name]}    def update(self, w, grad):\n{update}"


def sgd(body): return cls("sgd_update", body)
def momentum(body): return cls("momentum_update", body)
def rmsprop(body): return cls("rmsprop_update", body)
def adam(body): return cls("adam_update", body)


_LAZY_V = "if self.velocity is None:\n    self.velocity = np.zeros_like(w)\n"
_LAZY_S = "if self.mean_square is None:\n    self.mean_square = np.zeros_like(w)\n"
_LAZY_MV = "if self.m is None:\n    self.m, self.v = np.zeros_like(w), np.zeros_like(w)\n"
_MV = ("self.m = self.beta_1 * self.m + (1 - self.beta_1) * grad\n"
       "self.v = self.beta_2 * self.v + (1 - self.beta_2) * grad**2\n")

WRONG = {
    "sgd_update": [
        ("adds the gradient", sgd("return w + self.learning_rate * grad"), "moved uphill"),
        ("no learning rate", sgd("return w - grad"), "multiply it by the learning rate"),
        ("returns the step", sgd("return -self.learning_rate * grad"), "not the new weights"),
        ("in place, no return", sgd("w -= self.learning_rate * grad"), "returned None"),
        ("learning rate twice", sgd("return w - self.learning_rate**2 * grad"), "applied twice"),
    ],
    "momentum_update": [
        ("sign flipped", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + self.learning_rate * grad\n"
                                            "return w + self.velocity"), "moved uphill"),
        ("velocity not carried", momentum("velocity = np.zeros_like(w)\n"
                                          "velocity = self.momentum * velocity - self.learning_rate * grad\n"
                                          "return w + velocity"), "not carried between updates"),
        ("fresh velocity each step", momentum("self.velocity = np.zeros_like(w)\n"
                                              "self.velocity = self.momentum * self.velocity - self.learning_rate * grad\n"
                                              "return w + self.velocity"), "not carried between updates"),
        ("averaged (dampened) form", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + "
                                                        "(1 - self.momentum) * grad\nreturn w - self.learning_rate * self.velocity"),
         "averaged form"),
        ("nesterov", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - self.learning_rate * grad\n"
                                        "return w + self.momentum * self.velocity - self.learning_rate * grad"), "Nesterov"),
        ("weights moved before the velocity", momentum(_LAZY_V + "w = w + self.velocity\n"
                                                                 "self.velocity = self.momentum * self.velocity - self.learning_rate * grad\n"
                                                                 "return w"), "previous update's velocity"),
        ("no learning rate", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - grad\n"
                                                "return w + self.velocity"), "learning rate is missing"),
    ],
    "rmsprop_update": [
        ("no square root", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                             "return w - self.learning_rate * grad / (self.mean_square + self.epsilon)"),
         "take its square root"),
        ("epsilon outside the root", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                                       "return w - self.learning_rate * grad / (np.sqrt(self.mean_square) + self.epsilon)"),
         "Epsilon is outside the square root"),
        ("fresh state each step", rmsprop("self.mean_square = np.zeros_like(w)\n"
                                          "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                          "return w - self.learning_rate * grad / np.sqrt(self.mean_square + self.epsilon)"),
         "starts afresh at every call"),
        ("no (1 - rho)", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + grad**2\n"
                                           "return w - self.learning_rate * grad / np.sqrt(self.mean_square + self.epsilon)"),
         "not weighted by (1 - rho)"),
        ("gradient not squared", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad\n"
                                                   "return w - self.learning_rate * grad / np.sqrt(self.mean_square + self.epsilon)"),
         "square root of a negative number"),
        ("adds the step", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                            "return w + self.learning_rate * grad / np.sqrt(self.mean_square + self.epsilon)"),
         "moved uphill"),
    ],
    "adam_update": [
        ("no bias correction", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                    "return w - self.learning_rate * self.m / (np.sqrt(self.v) + self.epsilon)"),
         "without bias correction"),
        ("fresh state each step", adam("self.m, self.v, self.t = np.zeros_like(w), np.zeros_like(w), 0\nself.t += 1\n" + _MV +
                                       "m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
                                       "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "starts afresh at every call"),
        ("t stuck at 1", adam(_LAZY_MV + _MV + "t = self.t + 1\n"
                              "m_hat = self.m / (1 - self.beta_1**t)\nv_hat = self.v / (1 - self.beta_2**t)\n"
                              "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "not incremented"),
        ("t never incremented from 0", adam(_LAZY_MV + _MV +
                                            "m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
                                            "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "divides by zero"),
        ("only m corrected", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                  "m_hat = self.m / (1 - self.beta_1**self.t)\n"
                                  "return w - self.learning_rate * m_hat / (np.sqrt(self.v) + self.epsilon)"),
         "Only m is bias-corrected"),
        ("no (1 - beta) weights", adam(_LAZY_MV + "self.t += 1\nself.m = self.beta_1 * self.m + grad\n"
                                       "self.v = self.beta_2 * self.v + grad**2\n"
                                       "m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
                                       "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "missing their (1 - beta) weights"),
        ("adds the step", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                               "m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
                               "return w + self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "moved uphill"),
    ],
}

ALTERNATIVES = {
    "sgd_update": [
        sgd("w -= self.learning_rate * grad\nreturn w"),
        sgd("return np.subtract(w, np.multiply(self.learning_rate, grad)).astype(np.float32)"),
    ],
    "momentum_update": [
        # The velocity without the learning rate: v = mu v + g, w -= lr v (equal when lr is constant).
        momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + grad\n"
                           "return w - self.learning_rate * self.velocity"),
        # Positive velocity, subtracted; state kept in a dict and computed in float32.
        momentum("state = self.__dict__.setdefault('state', {'v': np.zeros(w.shape, np.float32)})\n"
                 "state['v'] = np.float32(self.momentum) * state['v'] + np.float32(self.learning_rate) * grad.astype(np.float32)\n"
                 "return (w - state['v']).astype(np.float32)"),
    ],
    "rmsprop_update": [
        # Keras's own assign form, s += (1 - rho) (g^2 - s), and a power instead of sqrt.
        rmsprop(_LAZY_S + "self.mean_square += (1 - self.rho) * (np.square(grad) - self.mean_square)\n"
                          "return w - self.learning_rate * grad * np.power(self.mean_square + self.epsilon, -0.5)"),
        rmsprop("if self.mean_square is None:\n    self.mean_square = np.zeros(w.shape, dtype=np.float32)\n"
                "g = grad.astype(np.float32)\n"
                "self.mean_square = np.float32(self.rho) * self.mean_square + np.float32(1 - self.rho) * g * g\n"
                "return (w - self.learning_rate * g / np.sqrt(self.mean_square + self.epsilon)).astype(np.float32)"),
    ],
    "adam_update": [
        # Keras's form: both corrections folded into the step size, epsilon added to the uncorrected sqrt(v).
        adam(_LAZY_MV + "self.t += 1\n"
                        "alpha = self.learning_rate * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)\n"
                        "self.m += (grad - self.m) * (1 - self.beta_1)\nself.v += (grad**2 - self.v) * (1 - self.beta_2)\n"
                        "return w - alpha * self.m / (np.sqrt(self.v) + self.epsilon)"),
        # Textbook form with epsilon inside the root, in float32, and t counted from the first update.
        adam("if self.m is None:\n    self.m = np.zeros(w.shape, np.float32)\n    self.v = np.zeros(w.shape, np.float32)\n"
             "self.t = self.t + 1\ng = grad.astype(np.float32)\n"
             "self.m = np.float32(self.beta_1) * self.m + np.float32(1 - self.beta_1) * g\n"
             "self.v = np.float32(self.beta_2) * self.v + np.float32(1 - self.beta_2) * g * g\n"
             "m_hat = self.m / np.float32(1 - self.beta_1**self.t)\nv_hat = self.v / np.float32(1 - self.beta_2**self.t)\n"
             "return (w - self.learning_rate * m_hat / np.sqrt(v_hat + self.epsilon)).astype(np.float32)"),
        # Keras's own Adam, driven on a float64 variable (not what the exercise asks, but the same weights).
        "class Adam:\n" + INIT["adam_update"] +
        "    def update(self, w, grad):\n"
        "        if self.m is None:\n"
        "            self.m = keras.optimizers.Adam(self.learning_rate, self.beta_1, self.beta_2, self.epsilon)\n"
        "            self.v = keras.Variable(np.array(w, dtype='float64'), dtype='float64')\n"
        "        self.m.apply([keras.ops.convert_to_tensor(np.array(grad, dtype='float64'))], [self.v])\n"
        "        return np.array(self.v.numpy())\n",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "06_optimizers")


@pytest.mark.parametrize("name", [c.name for c in optimizers.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    ref = reference[CLASS_OF[name]]
    expect_correct([simulate_grading(optimizers.CHECKS, optimizers.CHECKS[name], ref, ref, s) for s in SEEDS],
                   public_message(optimizers.CHECKS[name], ref))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    check, answer = optimizers.CHECKS[name], define(code, CLASS_OF[name], reference)
    expect_wrong(label, [simulate_grading(optimizers.CHECKS, check, answer, reference[CLASS_OF[name]], s)
                         for s in SEEDS], public_message(check, answer), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    check, answer = optimizers.CHECKS[name], define(code, CLASS_OF[name], reference)
    expect_correct([simulate_grading(optimizers.CHECKS, check, answer, reference[CLASS_OF[name]], s) for s in SEEDS],
                   public_message(check, answer))


def test_public_expectations_are_what_keras_computes():
    """The literal public trajectories are Keras 3's (float64 variables; Keras keeps hyperparameters in float32)."""
    import keras
    import numpy as np

    makers = {"sgd_update": keras.optimizers.SGD, "momentum_update": keras.optimizers.SGD,
              "rmsprop_update": keras.optimizers.RMSprop, "adam_update": keras.optimizers.Adam}
    for check in optimizers.CHECKS.checks:
        for case in check.public_cases:
            optimizer = makers[check.name](**case.inputs["hyper"])
            variable = keras.Variable(np.array(case.inputs["w0"], dtype="float64"), dtype="float64")
            trajectory = []
            for grad in case.inputs["grads"]:
                optimizer.apply([keras.ops.convert_to_tensor(np.array(grad, dtype="float64"))], [variable])
                trajectory.append(np.array(variable.numpy()))
            assert np.max(np.abs(np.array(trajectory) - case.expected)) < 1e-6, (check.name, case.label)
