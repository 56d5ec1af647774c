"""06_optimizers: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Exercise 1 is a function; Exercises 2-4 are whole classes whose `__init__` methods are the exercise's own,
and only `update` varies.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import optimizers

SEEDS = (11, 12, 13)

#: The function or class each check grades.
SUBJECT_OF = {"learning_rate_sweep": "sweep_learning_rates", "momentum_update": "Momentum",
              "rmsprop_update": "RMSprop", "adam_update": "Adam"}

INIT = {
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
    return f"class {SUBJECT_OF[name]}:\n{INIT[name]}    def update(self, w, grad):\n{update}"


def momentum(body): return cls("momentum_update", body)
def rmsprop(body): return cls("rmsprop_update", body)
def adam(body): return cls("adam_update", body)


_SWEEP = '''
def sweep_learning_rates(grad_fn, loss_fn, w0, learning_rates, steps):
    start = loss_fn(w0)
    final_losses = []
    OUTER
    with np.errstate(over="ignore", invalid="ignore"):
        for lr in learning_rates:
            START
            for _ in range(STEPS):
                UPDATE
            loss = float(loss_fn(w))
            RECORD
    CHOOSE
    return RETURN
'''
_CHOOSE = ("lowest = min(final_losses)\n"
           "    best_lr = min(lr for lr, loss in zip(learning_rates, final_losses) if loss == lowest)")


def sweep(outer="", start="w = np.array(w0, dtype=float)", steps="steps", update="w = w - lr * grad_fn(w)",
          record="final_losses.append(loss if np.isfinite(loss) and loss <= start else float('inf'))",
          choose=_CHOOSE, ret="best_lr, final_losses"):
    """A sweep_learning_rates that differs from the reference in one place."""
    return (_SWEEP.replace("OUTER", outer).replace("START", start).replace("STEPS", steps).replace("UPDATE", update)
            .replace("RECORD", record).replace("CHOOSE", choose).replace("RETURN", ret))


_LAZY_V = "if self.velocity is None:\n    self.velocity = np.zeros_like(w)\n"
_LAZY_S = "if self.mean_square is None:\n    self.mean_square = np.zeros_like(w)\n"
_LAZY_MV = "if self.m is None:\n    self.m, self.v = np.zeros_like(w), np.zeros_like(w)\n"
_MV = ("self.m = self.beta_1 * self.m + (1 - self.beta_1) * grad\n"
       "self.v = self.beta_2 * self.v + (1 - self.beta_2) * grad**2\n")
_ADAM_STEP = ("m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
              "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)")
_KERAS_V = "self.velocity = self.momentum * self.velocity - self.learning_rate * grad\n"

WRONG = {
    "learning_rate_sweep": [
        # Rules about the runs.
        ("one w for every run", sweep(outer="w = np.array(w0, dtype=float)", start="pass"),
         "started where the previous one stopped"),
        ("in place on w0", sweep(start="w = w0", update="w -= lr * grad_fn(w)"), "changed the caller's w0"),
        ("steps - 1 updates", sweep(steps="steps - 1"), "steps - 1 updates"),
        ("steps + 1 updates", sweep(steps="steps + 1"), "steps + 1 updates"),
        ("the weights never move", sweep(update="w = w - 0 * grad_fn(w)"), "the weights never moved"),
        # Rules about diverged runs.
        ("nan kept: nan > start is False", sweep(record="final_losses.append(float('inf') if loss > start else loss)"),
         "is nan"),
        ("only non-finite runs count as diverged",
         sweep(record="final_losses.append(loss if np.isfinite(loss) else float('inf'))"), "ended above where it"),
        ("a finite run counted as diverged",
         sweep(record="final_losses.append(loss if np.isfinite(loss) and loss < 1e-3 else float('inf'))"),
         "did not diverge"),
        # Rules about the decision.
        ("ties go to the first listed", sweep(choose="best_lr = learning_rates[int(np.argmin(final_losses))]"),
         "ties go to the smallest learning rate"),
        ("position returned", sweep(choose="best_lr = int(np.argmin(final_losses))"), "a position in the list"),
        ("highest loss chosen", sweep(
            choose="best_lr = max((loss, lr) for lr, loss in zip(learning_rates, final_losses) if np.isfinite(loss))[1]"),
         "highest final loss"),
        # Return values.
        ("losses only", sweep(ret="final_losses"), "should return a pair (best_lr, final_losses)"),
        ("pair in the wrong order", sweep(ret="final_losses, best_lr"), "for 4 learning rates"),
        # Matches no diagnosis: the honest message says what was expected and what came back.
        ("half steps", sweep(update="w = w - 0.5 * lr * grad_fn(w)"), "final_losses[i] is loss_fn(w)"),
    ],
    "momentum_update": [
        ("sign flipped", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + self.learning_rate * grad\n"
                                            "return w + self.velocity"), "moved uphill"),
        ("velocity not carried", momentum("velocity = np.zeros_like(w)\n"
                                          "velocity = self.momentum * velocity - self.learning_rate * grad\n"
                                          "return w + velocity"), "not carried between updates"),
        ("fresh velocity each step", momentum("self.velocity = np.zeros_like(w)\n" + _KERAS_V +
                                              "return w + self.velocity"), "not carried between updates"),
        ("averaged (dampened) form", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + "
                                                        "(1 - self.momentum) * grad\nreturn w - self.learning_rate * self.velocity"),
         "averaged form"),
        ("nesterov", momentum(_LAZY_V + _KERAS_V + "return w + self.momentum * self.velocity - self.learning_rate * grad"),
         "Nesterov"),
        ("weights moved before the velocity", momentum(_LAZY_V + "w = w + self.velocity\n" + _KERAS_V + "return w"),
         "previous update's velocity"),
        # The learning rate, probed with the rate doubled: a rate written into the code is named as such, never as
        # "applied twice".
        ("no learning rate", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - grad\n"
                                                "return w + self.velocity"), "does not use self.learning_rate"),
        ("hard-coded learning rate 0.1", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - 0.1 * grad\n"
                                                            "return w + self.velocity"),
         "fixed rate instead of self.learning_rate"),
        ("learning rate twice", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - "
                                                   "self.learning_rate**2 * grad\nreturn w + self.velocity"),
         "applied twice"),
        # What update returns, and where the state lives.
        ("in place, no return", momentum(_LAZY_V + _KERAS_V + "w += self.velocity"), "returned None"),
        ("returns the velocity", momentum(_LAZY_V + _KERAS_V + "return self.velocity"), "not the new weights"),
        ("returns (w, velocity)", momentum(_LAZY_V + _KERAS_V + "return w + self.velocity, self.velocity"),
         "a tuple of 2 items"),
        ("velocity kept elsewhere", momentum("if not hasattr(self, 'vel'):\n    self.vel = np.zeros_like(w)\n"
                                             "self.vel = self.momentum * self.vel - self.learning_rate * grad\n"
                                             "return w + self.vel"), "self.velocity is None"),
        # Matches no diagnosis.
        ("gradient squared", momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity - "
                                                "self.learning_rate * grad * np.abs(grad)\nreturn w + self.velocity"),
         "The formula is: velocity = momentum"),
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
        ("hard-coded learning rate", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                                       "return w - 0.001 * grad / np.sqrt(self.mean_square + self.epsilon)"),
         "does not use self.learning_rate"),
        ("state kept as self.s", rmsprop("if not hasattr(self, 's'):\n    self.s = np.zeros_like(w)\n"
                                         "self.s = self.rho * self.s + (1 - self.rho) * grad**2\n"
                                         "return w - self.learning_rate * grad / np.sqrt(self.s + self.epsilon)"),
         "self.mean_square is None"),
        ("epsilon ignored", rmsprop(_LAZY_S + "self.mean_square = self.rho * self.mean_square + (1 - self.rho) * grad**2\n"
                                              "return w - self.learning_rate * grad / np.sqrt(self.mean_square + 1e-7)"),
         "The formula is: mean_square"),
    ],
    "adam_update": [
        ("no bias correction", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                    "return w - self.learning_rate * self.m / (np.sqrt(self.v) + self.epsilon)"),
         "without bias correction"),
        ("fresh state each step", adam("self.m, self.v, self.t = np.zeros_like(w), np.zeros_like(w), 0\nself.t += 1\n"
                                       + _MV + _ADAM_STEP), "starts afresh at every call"),
        ("t stuck at 1", adam(_LAZY_MV + _MV + "t = self.t + 1\n"
                              "m_hat = self.m / (1 - self.beta_1**t)\nv_hat = self.v / (1 - self.beta_2**t)\n"
                              "return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "not incremented"),
        ("t never incremented from 0", adam(_LAZY_MV + _MV + _ADAM_STEP), "divides by zero"),
        ("only m corrected", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                  "m_hat = self.m / (1 - self.beta_1**self.t)\n"
                                  "return w - self.learning_rate * m_hat / (np.sqrt(self.v) + self.epsilon)"),
         "Only m is bias-corrected"),
        ("no (1 - beta) weights", adam(_LAZY_MV + "self.t += 1\nself.m = self.beta_1 * self.m + grad\n"
                                       "self.v = self.beta_2 * self.v + grad**2\n" + _ADAM_STEP),
         "missing their (1 - beta) weights"),
        ("adds the step", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                               "m_hat = self.m / (1 - self.beta_1**self.t)\nv_hat = self.v / (1 - self.beta_2**self.t)\n"
                               "return w + self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)"),
         "moved uphill"),
        ("Keras's default learning rate hard-coded", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                                          _ADAM_STEP.replace("self.learning_rate", "0.001")),
         "does not use self.learning_rate"),
        ("step count kept elsewhere", adam(_LAZY_MV + "self.count = getattr(self, 'count', 0) + 1\n" + _MV +
                                           _ADAM_STEP.replace("self.t", "self.count")), "self.t counts the updates"),
        ("in place, no return", adam(_LAZY_MV + "self.t += 1\n" + _MV +
                                     _ADAM_STEP.replace("return w - ", "w -= ")), "returned None"),
        ("beta_2 in place of beta_1 for m", adam(_LAZY_MV + "self.t += 1\n"
                                                 "self.m = self.beta_2 * self.m + (1 - self.beta_2) * grad\n"
                                                 "self.v = self.beta_2 * self.v + (1 - self.beta_2) * grad**2\n"
                                                 + _ADAM_STEP), "The formula is: t = t + 1"),
    ],
}

ALTERNATIVES = {
    "learning_rate_sweep": [
        # In float32 throughout, a numpy array of losses, and the choice by sorting (loss, rate) pairs.
        sweep(start="w = np.array(w0, dtype=np.float32)",
              update="w = (w - np.float32(lr) * grad_fn(w)).astype(np.float32)",
              record="final_losses.append(loss if np.isfinite(loss) and loss <= start else np.inf)",
              choose="best_lr = sorted(zip(final_losses, learning_rates))[0][1]",
              ret="best_lr, np.array(final_losses, dtype=np.float32)"),
        # A while loop, w0.copy(), and np.nan_to_num for the diverged runs, then a stable argmin over sorted rates.
        "def sweep_learning_rates(grad_fn, loss_fn, w0, learning_rates, steps):\n"
        "    start, losses = loss_fn(w0), []\n"
        "    for lr in learning_rates:\n"
        "        w, k = w0.copy(), 0\n"
        "        with np.errstate(all='ignore'):\n"
        "            while k < steps:\n"
        "                w, k = w - lr * grad_fn(w), k + 1\n"
        "            end = loss_fn(w)\n"
        "        losses.append(float('inf') if np.isnan(end) or end > start else float(end))\n"
        "    order = np.argsort(learning_rates, kind='stable')\n"
        "    best = order[np.argmin(np.asarray(losses)[order])]\n"
        "    return float(learning_rates[best]), losses",
    ],
    "momentum_update": [
        # The velocity without the learning rate: v = mu v + g, w -= lr v (equal when lr is constant).
        momentum(_LAZY_V + "self.velocity = self.momentum * self.velocity + grad\n"
                           "return w - self.learning_rate * self.velocity"),
        # Positive velocity, subtracted, computed in float32.
        momentum("if self.velocity is None:\n    self.velocity = np.zeros(w.shape, np.float32)\n"
                 "self.velocity = np.float32(self.momentum) * self.velocity + "
                 "np.float32(self.learning_rate) * grad.astype(np.float32)\n"
                 "return (w - self.velocity).astype(np.float32)"),
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
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "06_optimizers")


def grade(name, answer, reference):
    check = optimizers.CHECKS[name]
    return ([simulate_grading(optimizers.CHECKS, check, answer, reference[SUBJECT_OF[name]], s) for s in SEEDS],
            public_message(check, answer))


@pytest.mark.parametrize("name", [c.name for c in optimizers.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[SUBJECT_OF[name]], reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, SUBJECT_OF[name], reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, SUBJECT_OF[name], reference), reference))


def test_sweep_measurement_and_decision_earn_a_point_each(reference):
    """A sweep that measures right but breaks the tie rule keeps 1 of 2 points, and the reverse too."""
    decision_wrong = define(sweep(choose="best_lr = learning_rates[int(np.argmin(final_losses))]"),
                            "sweep_learning_rates", reference)
    verdicts, _ = grade("learning_rate_sweep", decision_wrong, reference)
    assert all(not v.passed and v.credit == 0.5 for v in verdicts), verdicts
    measurement_wrong = define(sweep(steps="steps + 1"), "sweep_learning_rates", reference)
    verdicts, _ = grade("learning_rate_sweep", measurement_wrong, reference)
    assert all(not v.passed and v.credit == 0.5 for v in verdicts), verdicts
    both_wrong = define(sweep(steps="steps + 1", choose="best_lr = int(np.argmin(final_losses))"),
                        "sweep_learning_rates", reference)
    verdicts, _ = grade("learning_rate_sweep", both_wrong, reference)
    assert all(not v.passed and v.credit == 0 for v in verdicts), verdicts


def test_public_expectations_are_what_keras_computes():
    """The literal public trajectories are Keras 3's (float64 variables; Keras keeps hyperparameters in float32),
    and the sweep's public final losses are what keras.optimizers.SGD reaches on each valley."""
    import keras

    makers = {"momentum_update": keras.optimizers.SGD, "rmsprop_update": keras.optimizers.RMSprop,
              "adam_update": keras.optimizers.Adam}
    for check in optimizers.CHECKS.checks:
        for case in check.public_cases:
            if check.name == "learning_rate_sweep":
                c, w0 = np.asarray(case.inputs["curvature"]), np.asarray(case.inputs["w0"])
                start = 0.5 * np.sum(c * w0**2)
                for lr, expected in zip(case.inputs["learning_rates"], case.expected["losses"]):
                    optimizer = keras.optimizers.SGD(learning_rate=lr)
                    variable = keras.Variable(w0.astype("float64"), dtype="float64")
                    with np.errstate(all="ignore"):
                        for _ in range(case.inputs["steps"]):
                            optimizer.apply([keras.ops.convert_to_tensor(c * variable.numpy())], [variable])
                        loss = 0.5 * np.sum(c * variable.numpy() ** 2)
                    if np.isinf(expected):
                        assert not (np.isfinite(loss) and loss <= start), (case.label, lr, loss)
                    else:
                        # Keras keeps the learning rate in float32: about 1e-8 relative per step.
                        assert abs(loss - expected) <= 1e-4 * expected, (case.label, lr, loss, expected)
                continue
            optimizer = makers[check.name](**case.inputs["hyper"])
            variable = keras.Variable(np.array(case.inputs["w0"], dtype="float64"), dtype="float64")
            trajectory = []
            for grad in case.inputs["grads"]:
                optimizer.apply([keras.ops.convert_to_tensor(np.array(grad, dtype="float64"))], [variable])
                trajectory.append(np.array(variable.numpy()))
            assert np.max(np.abs(np.array(trajectory) - case.expected)) < 1e-6, (check.name, case.label)
