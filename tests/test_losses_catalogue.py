"""04_losses: common wrong answers lose the part with a message that teaches; correct variants pass;
kernels that lie about the trained model, and models that look their training data up, earn nothing.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The training part fits small Keras models, so it runs with one seed (the reference with three).
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong,
                                  grade_trained_part, public_message, reference_namespace, simulate_grading,
                                  wrong_cases)
from autograder.checks import losses
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import predict, report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (11, 12, 13)
TRAINING_SEEDS = (11,)

_CHOOSE = '''
def choose_loss(X_train, y_train, X_val, y_val, losses):
    models, val_errors = {}, {}
    for name, loss in losses.items():
        model = keras.Sequential([keras.Input(shape=(X_train.shape[1],)), HIDDEN keras.layers.Dense(OUT)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss=LOSS)
        FIT
        predictions = PREDICT
        models[name] = model
        val_errors[name] = MEASURE
    best_name = CHOOSE
    return RETURN
'''


def choose(hidden="keras.layers.Dense(16, activation='relu'),", out="1", lr="0.05", loss="loss",
           fit="model.fit(X_train, y_train, epochs=8, batch_size=32, verbose=0)",
           predict="np.asarray(model(X_val)).ravel()",
           measure="float(np.median(np.abs(predictions - y_val)))", choose_by="min(val_errors, key=val_errors.get)",
           ret="best_name, models, val_errors"):
    """A choose_loss that differs from the reference in one place."""
    return (_CHOOSE.replace("HIDDEN", hidden).replace("OUT", out).replace("LR", lr).replace("LOSS", loss)
            .replace("FIT", fit).replace("PREDICT", predict).replace("MEASURE", measure)
            .replace("CHOOSE", choose_by).replace("RETURN", ret))


WRONG = {
    "mse": [
        ("sum", "def mse(y_true, y_pred):\n    return np.sum((y_true - y_pred) ** 2)", "sum of the squared errors"),
        ("root", "def mse(y_true, y_pred):\n    return np.sqrt(np.mean((y_true - y_pred) ** 2))", "square root"),
        ("absolute", "def mse(y_true, y_pred):\n    return np.mean(np.abs(y_true - y_pred))", "mean absolute error"),
        ("half", "def mse(y_true, y_pred):\n    return 0.5 * np.mean((y_true - y_pred) ** 2)", "half the MSE"),
        ("not squared", "def mse(y_true, y_pred):\n    return np.mean(y_true - y_pred)", "cancel out"),
        ("per sample", "def mse(y_true, y_pred):\n    return np.mean((y_true - y_pred) ** 2, axis=-1)",
         "one MSE per sample"),
        ("axis 0", "def mse(y_true, y_pred):\n    return np.mean((y_true - y_pred) ** 2, axis=0)",
         "mean over the samples only"),
        # Matches no diagnosis: the honest message says what was expected and what came back.
        ("cubed errors", "def mse(y_true, y_pred):\n    return np.mean(np.abs(y_true - y_pred) ** 3)", "tolerance 1e-05"),
    ],
    "binary_crossentropy": [
        ("no clipping", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                        "    p = 1 / (1 + np.exp(-y_pred)) if from_logits else y_pred\n"
                        "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))",
         "need clipping"),
        ("sign", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                 "    if from_logits:\n        return -np.mean(np.logaddexp(0, y_pred) - y_true * y_pred)\n"
                 "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                 "    return np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))", "sign is flipped"),
        ("sum", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                "    if from_logits:\n        return np.sum(np.logaddexp(0, y_pred) - y_true * y_pred)\n"
                "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                "    return -np.sum(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))", "sum over the batch"),
        ("per sample", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                       "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                       "    return -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))", "one loss per sample"),
        ("labels swapped", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                           "    if from_logits:\n        return np.mean(np.logaddexp(0, y_pred) - y_true * y_pred)\n"
                           "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                           "    return -np.mean((1 - y_true) * np.log(p) + y_true * np.log(1 - p))",
         "y*log(p) + (1 - y)*log(1 - p)"),
        ("sigmoid then clip", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                              "    p = 1 / (1 + np.exp(-y_pred)) if from_logits else y_pred\n"
                              "    p = np.clip(p, EPSILON, 1 - EPSILON)\n"
                              "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))",
         "capped at -log(1e-7)"),
        ("naive softplus", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                           "    if from_logits:\n        return np.mean(np.log(1 + np.exp(y_pred)) - y_true * y_pred)\n"
                           "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                           "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))",
         "exp(z) overflows"),
        ("from_logits ignored", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                                "    p = np.clip(y_pred, EPSILON, 1 - EPSILON)\n"
                                "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))",
         "y_pred holds logits"),
        ("epsilon 1e-15", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                          "    if from_logits:\n        return np.mean(np.logaddexp(0, y_pred) - y_true * y_pred)\n"
                          "    p = np.clip(y_pred, 1e-15, 1 - 1e-15)\n"
                          "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))", "EPSILON = 1e-7"),
        ("hard-coded public answers", "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
                                      "    return {4: 0.3375388286260044, 5: 6.585867736600591}[len(y_true)] "
                                      "if not from_logits else (260.0 if np.max(y_pred) > 100 else 1.115713508578761)",
         None),
    ],
    "categorical_crossentropy": [
        ("no clipping", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                        "    return np.mean(-np.sum(y_true * np.log(y_pred), axis=-1))", "0 * log(0) = nan"),
        ("sum", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                "    if from_logits:\n        y_pred = scipy.special.softmax(y_pred, axis=-1)\n"
                "    return np.sum(-np.sum(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON)), axis=-1))",
         "sum over the batch"),
        ("mean over entries", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                              "    if from_logits:\n        y_pred = scipy.special.log_softmax(y_pred, axis=-1)\n"
                              "        return -np.mean(y_true * y_pred)\n"
                              "    return -np.mean(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON)))",
         "mean over every entry"),
        ("axes swapped", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                         "    if from_logits:\n        log_p = scipy.special.log_softmax(y_pred, axis=-1)\n"
                         "    else:\n        log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))\n"
                         "    return np.mean(-np.sum(y_true * log_p, axis=0))", "axes are swapped"),
        ("sign", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                 "    if from_logits:\n        log_p = scipy.special.log_softmax(y_pred, axis=-1)\n"
                 "    else:\n        log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))\n"
                 "    return np.mean(np.sum(y_true * log_p, axis=-1))", "sign is flipped"),
        ("softmax over the batch", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                                   "    if from_logits:\n        log_p = y_pred - scipy.special.logsumexp(y_pred, axis=0, keepdims=True)\n"
                                   "    else:\n        log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))\n"
                                   "    return np.mean(-np.sum(y_true * log_p, axis=-1))", "wrong axis"),
        ("exp without max shift", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                                  "    if from_logits:\n        e = np.exp(y_pred)\n"
                                  "        y_pred = e / e.sum(axis=-1, keepdims=True)\n"
                                  "    return np.mean(-np.sum(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON)), axis=-1))",
         "Subtract each row's maximum"),
        ("softmax then clip", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                              "    if from_logits:\n        y_pred = scipy.special.softmax(y_pred, axis=-1)\n"
                              "    return np.mean(-np.sum(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON)), axis=-1))",
         "capped at -log(1e-7)"),
        ("from_logits ignored", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                                "    return np.mean(-np.sum(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON)), axis=-1))",
         "y_pred holds logits"),
        ("per-class terms", "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
                            "    return -y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))", "per-class terms"),
    ],
    "huber_values": [
        ("branches swapped", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                             "        r = ops.abs(ops.cast(y_true, 'float32') - y_pred)\n"
                             "        return ops.mean(ops.where(r <= delta, delta * (r - 0.5 * delta), 0.5 * r ** 2))\n"
                             "    return loss", "branches are swapped"),
        ("no half", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                    "        r = ops.abs(y_true - y_pred)\n"
                    "        return ops.mean(ops.where(r <= delta, r ** 2, delta * (r - 0.5 * delta)))\n"
                    "    return loss", "factor 0.5"),
        ("no offset", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                      "        r = ops.abs(y_true - y_pred)\n"
                      "        return ops.mean(ops.where(r <= delta, 0.5 * r ** 2, delta * r))\n"
                      "    return loss", "missing its offset"),
        ("sum", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                "        r = ops.abs(y_true - y_pred)\n"
                "        return ops.sum(ops.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))\n"
                "    return loss", "sum over the batch"),
        ("quadratic only", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                           "        return ops.mean(0.5 * ops.square(y_true - y_pred))\n"
                           "    return loss", "need the linear branch"),
        ("mae", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                "        return ops.mean(ops.abs(y_true - y_pred))\n    return loss", "mean absolute error"),
        ("value, not a function", "def huber_loss(delta=1.0):\n    return delta", "not a function"),
        # The stated rules beyond the values: one number, and keras.ops (a point each).
        ("one value per sample", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                                 "        r = ops.abs(y_true - y_pred)\n"
                                 "        return ops.mean(ops.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)), axis=-1)\n"
                                 "    return loss", "one value per sample"),
        ("numpy inside", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                         "        r = np.abs(np.asarray(y_true) - np.asarray(y_pred))\n"
                         "        return np.mean(np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))\n"
                         "    return loss", "traced into a graph"),
        ("float() on a tensor", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                                "        r = ops.abs(y_true - y_pred)\n"
                                "        big = float(ops.max(r)) > delta\n"
                                "        return ops.mean(ops.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))\n"
                                "    return loss", "traced into a graph"),
        # Matches no diagnosis.
        ("quadratic branch cubed", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                                   "        r = ops.abs(y_true - y_pred)\n"
                                   "        return ops.mean(ops.where(r <= delta, 0.5 * r ** 3, delta * (r - 0.5 * delta)))\n"
                                   "    return loss", "tolerance 0.0001"),
    ],
    "choose_loss": [
        ("numpy huber", "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
                        "        r = np.abs(y_true - y_pred)\n"
                        "        return np.mean(np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))\n"
                        "    return loss", "write huber_loss with keras.ops"),
        # The stated rules about each model.
        ("every model compiled with mse", choose(loss="'mse'"), "was not compiled with losses['huber']"),
        ("relu output", choose(out="1, activation='relu'"), "activation='relu'"),
        # Two outputs per sample: the student's own fit fails on the shapes, with its own error.
        ("two outputs", choose(out="2"), "Dimensions must be equal"),
        # Two outputs trained on a column of targets and averaged: the fit runs, and the rule's own message names it.
        ("two outputs, averaged", choose(out="2", fit="model.fit(X_train, y_train[:, None], epochs=8, batch_size=32, "
                                                      "verbose=0)",
                                         predict="np.asarray(model(X_val)).mean(axis=1)"),
         "its last layer is Dense(1)"),
        ("too big", choose(hidden="keras.layers.Dense(64, activation='relu'), keras.layers.Dense(64, activation='relu'),"),
         "at most 2,000 parameters"),
        # The stated rules about the measurement.
        ("measured on the training data", choose(predict="np.asarray(model(X_train)).ravel()",
                                                 measure="float(np.median(np.abs(predictions - y_train)))"),
         "on the training data"),
        ("mean absolute error", choose(measure="float(np.mean(np.abs(predictions - y_val)))"), "the mean absolute error"),
        ("(m, 1) against (m,)", choose(predict="model.predict(X_val, verbose=0)"), "broadcast"),
        # The stated rules about the choice and the return value.
        ("the highest error chosen", choose(choose_by="max(val_errors, key=val_errors.get)"), "best_name is 'mse'"),
        ("no training", choose(fit="pass"), "has not learned the plane"),
        ("only the name returned", choose(ret="best_name"), "should return a triple"),
        ("the chosen model only", choose(ret="best_name, models[best_name], val_errors"), "models should be a dict"),
        ("one model for every loss", choose(ret="best_name, {n: models[best_name] for n in models}, val_errors"),
         "not compiled with losses"),
        # Built-in Keras only: a Lambda layer or a subclassed model is refused, however well it trains.
        ("Lambda layer", choose(hidden="keras.layers.Dense(16, activation='relu'), keras.layers.Lambda(lambda t: t * 1.0),"),
         "Lambda layer"),
        ("subclassed model", "class Regressor(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
                             "        self.hidden = keras.layers.Dense(16, activation='relu')\n"
                             "        self.out = keras.layers.Dense(1)\n"
                             "    def call(self, x):\n        return self.out(self.hidden(x))\n" +
         choose().replace("model = keras.Sequential([keras.Input(shape=(X_train.shape[1],)), "
                          "keras.layers.Dense(16, activation='relu'), keras.layers.Dense(1)])", "model = Regressor()"),
         "not a built-in Keras class"),
        # Matches no diagnosis: the honest message names the rule and shows both numbers on the public case.
        ("median squared error", choose(measure="float(np.median((predictions - y_val) ** 2))"),
         "it reports"),
    ],
}

ALTERNATIVES = {
    "mse": [
        "def mse(y_true, y_pred):\n    return np.square(np.subtract(y_true, y_pred)).mean()",
        "def mse(y_true, y_pred):\n    d = np.ravel(y_true) - np.ravel(y_pred)\n    return float(d @ d / d.size)",
        "def mse(y_true, y_pred):\n    return ops.mean(ops.square(ops.convert_to_tensor(y_true, 'float32') - y_pred))",
    ],
    "binary_crossentropy": [
        "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    if from_logits:\n        return np.mean(np.logaddexp(0, y_pred) - y_true * y_pred)\n"
        "    p = np.minimum(np.maximum(y_pred, EPSILON), 1 - EPSILON)\n"
        "    return np.mean(np.where(y_true == 1, -np.log(p), -np.log(1 - p)))",
        "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    if from_logits:\n        z = y_pred\n        m = np.maximum(z, 0)\n"
        "        return np.mean(m + np.log(np.exp(-m) + np.exp(z - m)) - y_true * z)\n"
        "    return -np.mean(y_true * np.log(y_pred + EPSILON) + (1 - y_true) * np.log(1 - y_pred + EPSILON))",
        "def binary_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    return float(keras.losses.BinaryCrossentropy(from_logits=from_logits)(y_true, y_pred))",
    ],
    "categorical_crossentropy": [
        "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    if from_logits:\n        log_p = scipy.special.log_softmax(y_pred, axis=1)\n"
        "    else:\n        log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))\n"
        "    return -np.sum(y_true * log_p) / len(y_true)",
        "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    rows, labels = np.arange(len(y_true)), np.argmax(y_true, axis=1)\n"
        "    if from_logits:\n"
        "        lse = scipy.special.logsumexp(y_pred, axis=1)\n"
        "        return np.mean(lse - y_pred[rows, labels])\n"
        "    return np.mean(-np.log(np.clip(y_pred[rows, labels], EPSILON, 1 - EPSILON)))",
        "def categorical_crossentropy(y_true, y_pred, from_logits=False):\n"
        "    return float(keras.losses.CategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred))",
    ],
    "huber_values": [
        "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
        "        r = ops.abs(ops.cast(y_true, 'float32') - ops.cast(y_pred, 'float32'))\n"
        "        small = ops.minimum(r, delta)\n"
        "        return ops.mean(0.5 * small ** 2 + delta * (r - small))\n    return loss",
        "def huber_loss(delta=1.0):\n    return keras.losses.Huber(delta=delta)",
        "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
        "        r = y_pred - y_true\n"
        "        quadratic = 0.5 * ops.square(r)\n"
        "        return ops.mean(ops.where(ops.abs(r) > delta, delta * ops.abs(r) - 0.5 * delta ** 2, quadratic))\n"
        "    return loss",
        # From the identity delta (r - delta/2) + max(delta - r, 0)**2 / 2, in float32 end to end.
        "def huber_loss(delta=1.0):\n    def loss(y_true, y_pred):\n"
        "        r = ops.abs(ops.cast(y_true, 'float32') - ops.cast(y_pred, 'float32'))\n"
        "        return ops.mean(delta * (r - 0.5 * delta) + 0.5 * ops.square(ops.maximum(delta - r, 0.0)))\n"
        "    return loss",
    ],
    "choose_loss": [
        # A linear model (no hidden layer), trained longer; Keras's own Huber as huber_loss.
        "def huber_loss(delta=1.0):\n    return keras.losses.Huber(delta=delta)\n" +
        choose(hidden="", lr="0.1", fit="model.fit(X_train, y_train, epochs=40, batch_size=32, verbose=0)"),
        # The Functional API, model.predict and a sort, in float32 throughout.
        "def choose_loss(X_train, y_train, X_val, y_val, losses):\n"
        "    results = []\n"
        "    for name in sorted(losses):\n"
        "        inputs = keras.Input(shape=(X_train.shape[1],))\n"
        "        hidden = keras.layers.Dense(12, activation='tanh')(inputs)\n"
        "        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))\n"
        "        model.compile(optimizer='adam', loss=losses[name])\n"
        "        model.optimizer.learning_rate = 0.05\n"
        "        model.fit(X_train.astype('float32'), y_train.reshape(-1, 1).astype('float32'), epochs=10, verbose=0)\n"
        "        error = np.median(np.abs(model.predict(X_val, verbose=0)[:, 0] - y_val.astype('float32')))\n"
        "        results.append((np.float32(error), name, model))\n"
        "    best = min(results, key=lambda r: r[0])\n"
        "    return best[1], {n: m for _, n, m in results}, {n: e for e, n, _ in results}",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    namespace = reference_namespace(course, "04_losses")
    import scipy.special  # for answers written with scipy, as students may
    namespace["scipy"] = scipy
    return namespace


def subject(name, code, namespace):
    """What a test cell hands the check: the function, or for the choice the pair (choose_loss, huber_loss)."""
    if name == "choose_loss":
        return define(code, "choose_loss", namespace), define(code, "huber_loss", namespace)
    function = {"huber_values": "huber_loss"}.get(name, name)
    return define(code, function, namespace)


def reference_subject(name, namespace):
    return subject(name, "", namespace)


def seeds(name):
    return TRAINING_SEEDS if name == "choose_loss" else SEEDS


_TRAINING_REFERENCE: dict[int, dict] = {}


def grade(name, answer, correct, seed):
    """(grading verdict, public message) for one answer.

    Most parts go through autograder.catalogue as they are. The training part fits Keras models, so it
    follows the same steps (simulate_grading, then the public cases) with each model fitted once: the
    reference's report is cached per seed, and the public message comes from the public results that
    the answer's report already holds, judged by the same Check.judge that the Jupyter check uses.
    """
    check = losses.CHECKS[name]
    if name != "choose_loss":
        return simulate_grading(losses.CHECKS, check, answer, correct, seed), public_message(check, answer)
    return grade_trained_part(losses.CHECKS, check, answer, correct, seed, _TRAINING_REFERENCE)


@pytest.fixture(scope="module")
def correct(reference):
    """The reference answer of every part, built once, so that `answer is correct` spots it."""
    return {c.name: reference_subject(c.name, reference) for c in losses.CHECKS.checks}


@pytest.mark.parametrize("name", [c.name for c in losses.CHECKS.checks])
def test_reference_passes_public_and_grading(correct, name):
    results = [grade(name, correct[name], correct[name], seed) for seed in SEEDS]
    expect_correct([v for v, _ in results], results[0][1])


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, correct, name, label, code, advice):
    answer = subject(name, code, reference)
    results = [grade(name, answer, correct[name], seed) for seed in seeds(name)]
    expect_wrong(label, [v for v, _ in results], results[0][1], advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, correct, name, code):
    answer = subject(name, code, reference)
    results = [grade(name, answer, correct[name], seed) for seed in seeds(name)]
    expect_correct([v for v, _ in results], results[0][1])


# ------------------------------------------------------------------------------------------ attacks
# A kernel whose check `run` was replaced (or whose keras was patched) reports whatever it likes. Each
# attack is what such a kernel sends: `forge(namespace, kernel_inputs)` sees only what a kernel sees
# (the training and validation data, delta, the candidates' names and the seed, never the "_" keys).
def _small_model(X, units=1):
    import keras

    return keras.Sequential([keras.Input(shape=(X.shape[1],)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(units)])


def _candidates(namespace, inputs):
    huber = namespace["huber_loss"](inputs["delta"])
    return {name: ("mse" if name == "mse" else huber) for name in inputs["candidates"]}


def _report_as_chosen(namespace, inputs, make_model, errors=None, best="huber"):
    """The report a forger sends: one model per candidate from `make_model`, compiled with its loss, and the
    validation errors `errors` (made up) or, when None, those the models really have."""
    import keras

    candidates = _candidates(namespace, inputs)
    models, measured = {}, {}
    for name, loss in candidates.items():
        model = make_model(inputs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss=loss)
        models[name] = report_model(model)
        if errors is None:
            measured[name] = float(np.median(np.abs(predict(model, inputs["X_val"]).ravel() - inputs["y_val"])))
    return {"stage": "chosen", "described": {n: losses._describe(l) for n, l in candidates.items()}, "best": best,
            "best_kind": "a str", "models": models, "errors": errors or measured}


def lookup_regressor(X, y, sharpness=1e3):
    """Built-in layers that return y[j] for an input equal to X[j] and 0 for anything else:
    relu(1 - sharpness * |x - X_j|^2), as one Dense layer on [x, x * x], then a Dense layer holding y."""
    import keras

    X = np.asarray(X, dtype=np.float64)
    x = keras.Input(shape=(X.shape[1],))
    match = keras.layers.Dense(len(X), activation="relu")
    out = keras.layers.Dense(1)
    model = keras.Model(x, out(match(keras.layers.Concatenate()([x, keras.layers.Multiply()([x, x])]))))
    match.set_weights([np.concatenate([2 * sharpness * X.T, -sharpness * np.ones(X.T.shape)]),
                       1.0 - sharpness * (X ** 2).sum(axis=1)])
    out.set_weights([np.asarray(y, dtype=np.float64).reshape(-1, 1), np.zeros(1)])
    return model


def _lookup_of_all_data(inputs):
    """A lookup of every public row, training and validation: perfect on the validation data."""
    return lookup_regressor(np.concatenate([inputs["X_train"], inputs["X_val"]]),
                            np.concatenate([inputs["y_train"], inputs["y_val"]]))


def _lambda_regressor(inputs):
    import keras

    return keras.Sequential([keras.Input(shape=(np.shape(inputs["X_train"])[1],)),
                             keras.layers.Lambda(lambda t: t[:, :1] * 2.0)])


def _subclassed_regressor(inputs):
    import keras

    class Regressor(keras.Model):
        def __init__(self):
            super().__init__()
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(x)

    model = Regressor()
    model(np.zeros((1, np.shape(inputs["X_train"])[1]), dtype="float32"))
    return model


ATTACKS = {
    "choose_loss": [
        ("claims only: a choice and perfect errors, no models",
         lambda ns, inp: {"stage": "chosen", "best": "huber", "errors": {"mse": 1.0, "huber": 0.0}},
         "models should be a dict"),
        ("untrained models with made-up errors",
         lambda ns, inp: _report_as_chosen(ns, inp, lambda i: _small_model(i["X_train"]), {"mse": 1.0, "huber": 0.1}),
         "not the median absolute error"),
        ("untrained models, honestly measured",
         lambda ns, inp: _report_as_chosen(ns, inp, lambda i: _small_model(i["X_train"])), "fresh points"),
        ("exact lookup of every public row",
         lambda ns, inp: _report_as_chosen(ns, inp, _lookup_of_all_data), "fresh points"),
        ("compile settings claimed for a model compiled with mse",
         lambda ns, inp: {**_report_as_chosen(ns, inp, lambda i: _small_model(i["X_train"])),
                          "described": {"mse": json.dumps("mse"), "huber": json.dumps("mse")}},
         "was not compiled with losses"),
        ("two outputs per sample",
         lambda ns, inp: _report_as_chosen(ns, inp, lambda i: _small_model(i["X_train"], units=2), {"mse": 1.0, "huber": 0.5}),
         "ends with 2 units"),
        ("Lambda layer", lambda ns, inp: _report_as_chosen(ns, inp, _lambda_regressor), "Lambda layer"),
        ("subclassed model", lambda ns, inp: _report_as_chosen(ns, inp, _subclassed_regressor),
         "not a built-in Keras class"),
    ],
}


def grader_inputs(seed):
    """The grader's inputs for one run, decoded as the grader decodes them."""
    return {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(losses.CHECKS.secret_inputs(seed))).items()}


def forged_verdict(name, correct, forge, namespace, seed):
    """Grade a kernel whose `check.run` was replaced by `forge`; the reference's honest report is cached per seed."""
    check = losses.CHECKS[name]
    inputs = grader_inputs(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        if seed not in _TRAINING_REFERENCE:
            _TRAINING_REFERENCE[seed] = check.report_payload(correct[name], name, inputs[name])
    reported = {"check": name, "results": [probe(lambda inp=inp: forge(namespace, kernel_view(inp))) for inp in inputs[name]],
                "public": [probe(lambda c=c: forge(namespace, kernel_view(c.inputs))) for c in check.public_cases]}
    return judge_part(losses.CHECKS, inputs, {name: _TRAINING_REFERENCE[seed]}, {name: reported})


@pytest.mark.parametrize("part,label,forge,advice",
                         [pytest.param(part, label, forge, advice, id=f"{part}-{label}")
                          for part, entries in ATTACKS.items() for label, forge, advice in entries])
def test_lying_kernel_scores_zero(reference, correct, part, label, forge, advice):
    verdict = forged_verdict(part, correct, forge, reference, TRAINING_SEEDS[0])
    assert not verdict.passed and verdict.credit == 0, f"{label} earned {verdict.credit}"
    assert advice in verdict.feedback or advice in verdict.detail, (verdict.feedback, verdict.detail)


def test_chosen_model_is_judged_on_fresh_samples_the_kernel_never_sees():
    """The grader's evaluation data are fresh points of the same problem, in "_" keys, sharing no row with the
    public arrays; a lookup of those arrays, perfect on them (so it would pass if judged on them), is far off on
    the fresh points."""
    check = losses.CHECKS["choose_loss"]
    for case in [c.inputs for c in check.public_cases] + [grader_inputs(seed)["choose_loss"][0] for seed in SEEDS]:
        assert set(case) - set(kernel_view(case)) <= {"_X_eval", "_y_eval", "_public"}
        public_rows = np.concatenate([case["X_train"], case["X_val"]])
        assert not any((public_rows == row).all(axis=1).any() for row in case["_X_eval"])
        lookup = _lookup_of_all_data(case)
        assert np.median(np.abs(predict(lookup, case["X_val"]).ravel() - case["y_val"])) < 1e-3
        y_eval = np.asarray(case["_y_eval"])
        assert np.median(np.abs(predict(lookup, case["_X_eval"]).ravel() - y_eval)) > losses.QUALITY_THRESHOLD


def test_a_measurement_that_misses_the_rule_keeps_the_other_points(reference, correct):
    """With a well-trained Huber model chosen, a measurement by the mean instead of the median still earns the
    quality point and the choice point: 2 of 3."""
    answer = subject("choose_loss", choose(measure="float(np.mean(np.abs(predictions - y_val)))"), reference)
    verdict, _ = grade("choose_loss", answer, correct["choose_loss"], TRAINING_SEEDS[0])
    assert not verdict.passed and abs(verdict.credit - 2 / 3) < 1e-9, verdict
    assert "the mean absolute error" in verdict.feedback, verdict.feedback


@pytest.mark.parametrize("label,phrase", [("one value per sample", "one value per sample"),
                                          ("numpy inside", "traced into a graph")])
def test_huber_with_right_values_keeps_the_values_point(reference, correct, label, phrase):
    """huber_values checks two separable requirements: right values earn 1 of 2 points when the loss returns one
    value per sample, or cannot be traced into a graph."""
    code = next(entry[1] for entry in WRONG["huber_values"] if entry[0] == label)
    answer = subject("huber_values", code, reference)
    for seed in seeds("huber_values"):
        verdict, _ = grade("huber_values", answer, correct["huber_values"], seed)
        assert not verdict.passed and abs(verdict.credit - 1 / 2) < 1e-9, (label, verdict.credit, verdict.feedback)
        assert phrase in verdict.feedback, verdict.feedback
