"""09_regularization: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The diverging-run part fits small Keras models, so it runs with one seed and the reference's report is cached.
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
from autograder.checks import regularization
from autograder.checks.core import dump_inputs, probe
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (31, 32, 33)
TRAINING_SEEDS = (31,)

_PENALTY = ("def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
            "    return float(sum(L1 + L2 for w in weights))\n")


def penalty(l1_term="l1 * np.sum(np.abs(w))", l2_term="l2 * np.sum(w ** 2)"):
    """An l1_l2_penalty that differs from the statement in its L1 or L2 term."""
    return _PENALTY.replace("L1", l1_term).replace("L2", l2_term)


_BN = '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_var = momentum * moving_var + (1 - momentum) * VAR_UPDATE
    else:
        mean, var = INFERENCE_STATS
        new_mean, new_var = moving_mean, moving_var
    out = gamma * (x - mean) / DENOMINATOR + beta
    return out, new_mean, new_var
'''


def bn(var_update="var", inference_stats="moving_mean, moving_var", denominator="np.sqrt(var + epsilon)",
       replace=()):
    """A batchnorm_forward that differs from the statement in one place."""
    code = (_BN.replace("VAR_UPDATE", var_update).replace("INFERENCE_STATS", inference_stats)
            .replace("DENOMINATOR", denominator))
    for old, new in replace:
        assert old in code, old
        code = code.replace(old, new)
    return code


_RULE = '''
def early_stopping_epochs(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        if best_loss is None or loss < best_loss - min_delta:
            best_loss, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(val_losses) - 1, best_epoch
'''


def rule(*replacements):
    code = _RULE
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


def stopper(arguments):
    return f"def make_early_stopping():\n    return keras.callbacks.EarlyStopping({arguments})\n"


WRONG = {
    "l1_l2_penalty": [
        ("L2 with a factor 1/2", penalty(l2_term="0.5 * l2 * np.sum(w ** 2)"), "factor 1/2"),
        ("L2 as the norm", penalty(l2_term="l2 * np.sqrt(np.sum(w ** 2))"), "squared norm"),
        ("L2 as the norm of everything", "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
                                         "    flat = np.concatenate([np.ravel(w) for w in weights])\n"
                                         "    return l1 * np.sum(np.abs(flat)) + l2 * np.linalg.norm(flat)",
         "squared norm"),
        ("L1 without abs", penalty(l1_term="l1 * np.sum(w)"), "np.abs"),
        ("mean instead of sum", penalty("l1 * np.mean(np.abs(w))", "l2 * np.mean(w ** 2)"), "mean over the weights"),
        ("l1 and l2 swapped", penalty("l2 * np.sum(np.abs(w))", "l1 * np.sum(w ** 2)"), "swapped"),
        ("first array only", "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
                             "    w = weights[0]\n    return l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2)",
         "one weight array only"),
        ("one value per array", "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
                                "    return np.array([l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2) for w in weights])",
         "one value per weight array"),
    ],
    "batchnorm_training": [
        ("variance with ddof=1", bn(replace=[("x.var(axis=0)", "x.var(axis=0, ddof=1)")]), "ddof=1"),
        ("epsilon outside the sqrt", bn(denominator="(np.sqrt(var) + epsilon)"), "inside the square root"),
        ("no epsilon", bn(denominator="np.sqrt(var)"), "epsilon is missing"),
        ("moving statistics in training", bn(replace=[("mean, var = x.mean(axis=0), x.var(axis=0)\n",
                                                       "mean, var = moving_mean, moving_var\n"
                                                       "        batch_mean, batch_var = x.mean(axis=0), x.var(axis=0)\n"),
                                                      ("(1 - momentum) * mean", "(1 - momentum) * batch_mean"),
                                                      ("(1 - momentum) * var", "(1 - momentum) * batch_var")]),
         "batch's own mean and variance"),
        ("statistics per sample", bn(replace=[("x.mean(axis=0), x.var(axis=0)",
                                               "x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)"),
                                              ("(1 - momentum) * mean", "(1 - momentum) * x.mean(axis=0)")]),
         "axis=0"),
        ("no scale and shift", bn(replace=[("out = gamma * (x - mean) / np.sqrt(var + epsilon) + beta",
                                            "out = (x - mean) / np.sqrt(var + epsilon)")]), "without its scale and shift"),
        ("divides by the variance", bn(denominator="(var + epsilon)"), "standard deviation"),
        ("momentum swapped", bn(replace=[("momentum * moving_mean + (1 - momentum) * mean",
                                          "(1 - momentum) * moving_mean + momentum * mean")]),
         "momentum weights are swapped"),
        ("moving stats not updated", bn(replace=[("new_mean = momentum * moving_mean + (1 - momentum) * mean",
                                                  "new_mean = moving_mean"),
                                                 ("new_var = momentum * moving_var + (1 - momentum) * var",
                                                  "new_var = moving_var")]), "came back unchanged"),
        ("moving variance with ddof=1", bn(var_update="x.var(axis=0, ddof=1)"), "updated with ddof=1"),
    ],
    "batchnorm_inference": [
        ("batch statistics at inference", bn(inference_stats="x.mean(axis=0), x.var(axis=0)"),
         "batch's own mean and variance at inference"),
        ("epsilon outside the sqrt", bn(denominator="(np.sqrt(var) + epsilon)"), "inside the square root"),
        ("moving_var used as a std", bn(inference_stats="moving_mean, np.sqrt(moving_var)"),
         "treats moving_var as a standard deviation"),
        ("divides by moving_var", bn(denominator="(var + epsilon)"), "divides by moving_var + epsilon"),
        ("moving stats updated at inference", bn(replace=[("new_mean, new_var = moving_mean, moving_var",
                                                           "new_mean = momentum * moving_mean + (1 - momentum) * x.mean(axis=0)\n"
                                                           "        new_var = momentum * moving_var + (1 - momentum) * x.var(axis=0)")]),
         "must come back unchanged"),
        ("returns only the output", bn(replace=[("return out, new_mean, new_var", "return out")]),
         "should return a tuple"),
    ],
    "early_stopping_epochs": [
        ("patience off by one (late)", rule(("if wait >= patience", "if wait > patience")), "one epoch late"),
        ("patience off by one (early)", rule(("if wait >= patience", "if wait >= patience - 1")), "one epoch early"),
        ("returns the last epoch as best", rule(("return epoch, best_epoch", "return epoch, epoch"),
                                                ("return len(val_losses) - 1, best_epoch",
                                                 "return len(val_losses) - 1, len(val_losses) - 1")),
         "restore_best_weights goes back to it"),
        ("best over the whole list", rule(("return epoch, best_epoch", "return epoch, int(np.argmin(val_losses))")),
         "never saw the lower loss"),
        ("ties count as improvements", rule(("loss < best_loss - min_delta", "loss <= best_loss - min_delta")),
         "a tie counted as an improvement"),
        ("min_delta ignored", rule(("loss < best_loss - min_delta", "loss < best_loss")), "smaller than min_delta"),
        ("epochs numbered from 1", rule(("enumerate(val_losses)", "enumerate(val_losses, start=1)"),
                                        ("best_epoch, wait = None, 0, 0", "best_epoch, wait = None, 1, 0"),
                                        ("return len(val_losses) - 1", "return len(val_losses)")),
         "numbered from 0"),
        ("never stops", rule(("if wait >= patience:\n                return epoch, best_epoch",
                              "if wait >= patience:\n                pass")), "never fired"),
    ],
    "stops_diverging_run": [
        ("no restore_best_weights", stopper("monitor='val_loss', patience=3"), "restore_best_weights=True"),
        ("patience too large", stopper("monitor='val_loss', patience=30, restore_best_weights=True"),
         "never stopped"),
        ("mode max", stopper("monitor='val_loss', patience=3, mode='max', restore_best_weights=True"),
         "still falling"),
        ("the class, not an instance", "def make_early_stopping():\n    return keras.callbacks.EarlyStopping",
         "not a Keras callback object"),
    ],
}

ALTERNATIVES = {
    "l1_l2_penalty": [
        "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
        "    flat = np.concatenate([np.ravel(w) for w in weights])\n"
        "    return l1 * np.linalg.norm(flat, 1) + l2 * flat @ flat",
        "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
        "    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2)\n"
        "    return sum(float(regularizer(keras.ops.convert_to_tensor(w, 'float32'))) for w in weights)",
    ],
    "batchnorm_training": [
        "def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):\n"
        "    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)\n"
        "    layer.build((None, x.shape[1]))\n"
        "    layer.set_weights([gamma, beta, moving_mean, moving_var])\n"
        "    out = layer(x.astype('float32'), training=training)\n"
        "    weights = layer.get_weights()\n"
        "    return np.asarray(out), weights[2], weights[3]",
        "def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):\n"
        "    if not training:\n"
        "        return (x - moving_mean) * gamma / np.sqrt(moving_var + epsilon) + beta, moving_mean, moving_var\n"
        "    mu = np.sum(x, axis=0) / len(x)\n"
        "    var = np.sum((x - mu) ** 2, axis=0) / len(x)\n"
        "    x_hat = (x - mu) / np.sqrt(var + epsilon)\n"
        "    return (gamma * x_hat + beta, moving_mean + (1 - momentum) * (mu - moving_mean),\n"
        "            moving_var + (1 - momentum) * (var - moving_var))",
    ],
    "early_stopping_epochs": [
        "def early_stopping_epochs(val_losses, patience, min_delta=0.0):\n"
        "    best_epoch = 0\n"
        "    for epoch in range(1, len(val_losses)):\n"
        "        if val_losses[epoch] < val_losses[best_epoch] - min_delta:\n"
        "            best_epoch = epoch\n"
        "        elif epoch - best_epoch >= patience:\n"
        "            return epoch, best_epoch\n"
        "    return len(val_losses) - 1, best_epoch",
        "def early_stopping_epochs(val_losses, patience, min_delta=0.0):\n"
        "    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n"
        "    callback = keras.callbacks.EarlyStopping(patience=patience, min_delta=min_delta)\n"
        "    callback.set_model(model)\n"
        "    model.stop_training = False\n"
        "    callback.on_train_begin()\n"
        "    for epoch, loss in enumerate(val_losses):\n"
        "        callback.on_epoch_end(epoch, {'val_loss': loss})\n"
        "        if model.stop_training:\n"
        "            return epoch, callback.best_epoch\n"
        "    return len(val_losses) - 1, callback.best_epoch",
    ],
    "stops_diverging_run": [
        stopper("monitor='val_loss', patience=2, mode='min', restore_best_weights=True"),
        "class StopWhenWorse(keras.callbacks.Callback):\n"
        "    def on_train_begin(self, logs=None):\n"
        "        self.best, self.best_weights, self.bad = float('inf'), None, 0\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        if logs['val_loss'] < self.best:\n"
        "            self.best, self.best_weights, self.bad = logs['val_loss'], self.model.get_weights(), 0\n"
        "        else:\n"
        "            self.bad += 1\n"
        "            if self.bad >= 3:\n"
        "                self.model.stop_training = True\n"
        "    def on_train_end(self, logs=None):\n"
        "        self.model.set_weights(self.best_weights)\n"
        "def make_early_stopping():\n    return [StopWhenWorse()]",
    ],
}

# batchnorm_inference shares the function of batchnorm_training: its alternatives are the same code.
ALTERNATIVES["batchnorm_inference"] = ALTERNATIVES["batchnorm_training"]

FUNCTIONS = {"batchnorm_training": "batchnorm_forward", "batchnorm_inference": "batchnorm_forward",
             "stops_diverging_run": "make_early_stopping"}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "09_regularization")


def subject(name, code, namespace):
    return define(code, FUNCTIONS.get(name, name), namespace)


def seeds(name):
    return TRAINING_SEEDS if name == "stops_diverging_run" else SEEDS


_TRAINING_REFERENCE: dict[int, dict] = {}


def grade(name, answer, correct, seed):
    """(grading verdict, public message) for one answer.

    The diverging-run part fits Keras models, so it follows the steps of simulate_grading and public_message
    with each model fitted once: the reference's report is cached per seed, and the public message comes from
    the public results that the answer's report already holds, judged by the check's own Check.judge.
    """
    check = regularization.CHECKS[name]
    if name != "stops_diverging_run":
        return simulate_grading(regularization.CHECKS, check, answer, correct, seed), public_message(check, answer)
    return grade_trained_part(regularization.CHECKS, check, answer, correct, seed, _TRAINING_REFERENCE)


@pytest.fixture(scope="module")
def correct(reference):
    """The reference answer of every part, built once, so that `answer is correct` spots it."""
    return {c.name: subject(c.name, "", reference) for c in regularization.CHECKS.checks}


@pytest.mark.parametrize("name", [c.name for c in regularization.CHECKS.checks])
def test_reference_passes_public_and_grading(correct, name):
    results = [grade(name, correct[name], correct[name], seed) for seed in seeds(name)]
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


def test_early_stopping_rule_matches_keras_on_random_curves(reference):
    """The rule the exercise states is Keras's: drive keras.callbacks.EarlyStopping with the same losses."""
    import keras

    rule_fn = reference["early_stopping_epochs"]
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    rng = np.random.default_rng(5)
    for _ in range(60):
        losses = np.round(np.cumsum(rng.normal(-0.02, 0.05, int(rng.integers(2, 20)))) + 1, 2).tolist()
        patience, min_delta = int(rng.integers(1, 5)), float(rng.choice([0.0, 0.015, 0.035]))
        callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta)
        callback.set_model(model)
        model.stop_training = False
        callback.on_train_begin()
        stop = len(losses) - 1
        for epoch, loss in enumerate(losses):
            callback.on_epoch_end(epoch, {"val_loss": loss})
            if model.stop_training:
                stop = epoch
                break
        assert rule_fn(losses, patience, min_delta) == (stop, callback.best_epoch), (losses, patience, min_delta)


# ----------------------------------------------------------------------------- the diverging run cannot be lied to
# The callback is student code, so the kernel must run the fit; it reports the trained model (config and
# weights) and the val_loss history. The grader rebuilds the model, computes its final val_loss itself and
# replays the run in numpy, so the history must be what the training gives. Each attack plays a kernel whose
# check `run` was replaced and reports forge(inputs); the part must score 0 with a message, without raising.
ATTACK_SEED = 34


def judge_forged(correct, forge, seed=ATTACK_SEED):
    check = regularization.stops_diverging_run
    inputs = {k: [from_plain(i) for i in lst]
              for k, lst in json.loads(dump_inputs(regularization.CHECKS.secret_inputs(seed))).items()}
    with contextlib.redirect_stdout(io.StringIO()):
        if seed not in _TRAINING_REFERENCE:
            _TRAINING_REFERENCE[seed] = check.report_payload(correct[check.name], check.name, inputs[check.name])
    reported = {check.name: {"check": check.name, "results": [probe(lambda inp=inp: forge(inp)) for inp in inputs[check.name]],
                             "public": [probe(lambda case=case: forge(case.inputs)) for case in check.public_cases]}}
    return judge_part(regularization.CHECKS, inputs, {check.name: _TRAINING_REFERENCE[seed]}, reported)


def _weights_after(inp, epochs):
    """The check's Dense(1) after `epochs` epochs of the run, without a callback."""
    model, _ = regularization.fit_diverging_run([], {**inp, "epochs": epochs})
    return model


def _stopped_right(inp):
    """(history a correct callback records, its best epoch): stopped 3 epochs after the lowest val_loss."""
    replay = regularization.replay_diverging_run(inp)
    best = int(np.argmin(replay))
    return replay[:best + 4], best


def _old_claims(inp):
    history, best = _stopped_right(inp)
    return {"stage": "trained", "val_losses": history, "final_val_loss": float(history[best])}


def _last_weights_claiming_a_stop(inp):
    """All epochs run, no callback, with the history cut where a correct callback would stop."""
    return {"stage": "trained", "model": report_model(_weights_after(inp, int(inp["epochs"]))),
            "val_losses": _stopped_right(inp)[0]}


def _invented_curve(inp):
    """A made-up curve that falls and rises, with a model that really has the best weights of the real run."""
    history, best = _stopped_right(inp)
    curve = np.concatenate([np.linspace(1.0, 0.5, 6), [0.6, 0.7, 0.8]])
    return {"stage": "trained", "model": report_model(_weights_after(inp, best + 1)), "val_losses": curve}


def _other_model(inp):
    """The right history, with a bigger model (whatever its weights) in place of the check's Dense(1)."""
    import keras

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    return {"stage": "trained", "model": report_model(model), "val_losses": _stopped_right(inp)[0]}


def _lambda_model(inp):
    import keras

    best = _stopped_right(inp)[1]
    dense = _weights_after(inp, best + 1).layers[-1]
    kernel, bias = (w.astype("float32") for w in dense.get_weights())
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t @ kernel + bias)(inputs))
    return {"stage": "trained", "model": report_model(model), "val_losses": _stopped_right(inp)[0]}


def _subclassed_model(inp):
    import keras

    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Linear()
    model(np.zeros((1, 2), dtype="float32"))
    return {"stage": "trained", "model": report_model(model), "val_losses": _stopped_right(inp)[0]}


#: (label, forge(inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("the old claim dict: a right-looking history and final loss", _old_claims, "cannot be checked"),
    ("the last epoch's weights, the history cut where a stop belongs", _last_weights_claiming_a_stop,
     "restore_best_weights=True"),
    ("an invented curve with the best weights", _invented_curve, "is not what its training gives"),
    ("the right history with another model", _other_model, "other than the check's Dense(1)"),
    ("a Lambda model with the best weights", _lambda_model, "Lambda layer"),
    ("a subclassed model", _subclassed_model, "cannot be checked"),
]


@pytest.mark.parametrize("label,forge,phrase", [pytest.param(*e, id=e[0]) for e in LYING_REPORTS])
def test_lying_report_scores_zero(correct, label, forge, phrase):
    verdict = judge_forged(correct, forge)
    assert not verdict.passed, "the attack passed"
    assert phrase in verdict.detail, verdict.detail


def test_replay_is_what_keras_records():
    """The grader's numpy replay of the run agrees with Keras's own history, on several runs."""
    for seed in range(4):
        inp = regularization.diverging_run_inputs(np.random.default_rng(seed))
        _, history = regularization.fit_diverging_run([], inp)
        assert np.allclose(history.history["val_loss"], regularization.replay_diverging_run(inp),
                           rtol=regularization.REPLAY_RTOL / 10)


def test_reference_passes_on_several_seeds(correct):
    for seed in (35, 36):
        verdict, public = grade("stops_diverging_run", correct["stops_diverging_run"], correct["stops_diverging_run"],
                                seed)
        assert verdict.passed and public is None, verdict.detail


#: (a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = ["not a dict", {"stage": "trained"}, {"stage": "trained", "model": "x", "val_losses": [1.0]},
               {"stage": "elsewhere"}, {"stage": "trained", "model": {"is_model": True, "keras_config": "[" * 10**5}}]


@pytest.mark.parametrize("got", [pytest.param(g, id=str(i)) for i, g in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(got):
    case = regularization.stops_diverging_run.public_cases[0]
    message = regularization.stops_diverging_run.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message
