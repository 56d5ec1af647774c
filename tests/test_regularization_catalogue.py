"""09_regularization: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Every part is cheap: the callback part drives the student's callback through fit's calls on scripted
losses, without training anything.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  public_message, reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import regularization

SEEDS = (31, 32, 33)

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


# ----------------------------------------------------------------------------- Exercise 4: the callback
_STOPPER = '''
class PatienceStopper(keras.callbacks.Callback):
    def __init__(self, patience):
        super().__init__()
        self.patience = patience

    def on_train_begin(self, logs=None):
        self.best = float("inf")
        self.wait = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        val_loss = logs["val_loss"]
        if val_loss < self.best:
            self.best = val_loss
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def make_patience_stopper(patience):
    return PatienceStopper(patience)
'''


def stopper(*replacements):
    """A repaired callback that still differs from the fix in the given places."""
    code = _STOPPER
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


_BEST_ZERO = ('self.best = float("inf")', "self.best = 0.0")
_NO_RESET = ("            self.wait = 0\n            self.best_weights", "            self.best_weights")
_LIVE_WEIGHTS = ("self.best_weights = self.model.get_weights()", "self.best_weights = self.model.weights")
_THE_DRAFT = stopper(_BEST_ZERO, _NO_RESET, _LIVE_WEIGHTS)

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
        ("an array of one value", "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
                                  "    return np.array([sum(l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2) for w in weights)])",
         "not a float"),
        ("a list", "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
                   "    return [l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2) for w in weights]",
         "should return one float"),
        # Squares summed with the L1 factor too: no diagnosis matches, so the message only says what came back.
        ("matches no diagnosis", penalty(l1_term="l1 * np.sum(np.abs(w) + w ** 2)"), "relative error"),
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
        ("the statistics as one (1, d) row", bn(replace=[("return out, new_mean, new_var",
                                                          "return out, new_mean[None, :], new_var[None, :]")]),
         "returned shape (1, 3), expected (3,)"),
        ("matches no diagnosis", bn(replace=[("+ beta\n", "+ beta + 0.1\n")]), "relative error"),
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
        ("matches no diagnosis", bn(inference_stats="moving_mean, moving_var + 0.5"), "relative error"),
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
        ("min_delta ignored", rule(("loss < best_loss - min_delta", "loss < best_loss")),
         "a gain of min_delta or less counted"),
        ("epochs numbered from 1", rule(("enumerate(val_losses)", "enumerate(val_losses, start=1)"),
                                        ("best_epoch, wait = None, 0, 0", "best_epoch, wait = None, 1, 0"),
                                        ("return len(val_losses) - 1", "return len(val_losses)")),
         "numbered from 0"),
        ("never stops", rule(("if wait >= patience:\n                return epoch, best_epoch",
                              "if wait >= patience:\n                pass")), "never fired"),
        ("the count is not reset", rule(("best_loss, best_epoch, wait = loss, epoch, 0",
                                         "best_loss, best_epoch = loss, epoch")), "not reset to 0"),
        ("the best loss starts at 0", rule(("best_loss, best_epoch, wait = None, 0, 0",
                                            "best_loss, best_epoch, wait = 0.0, 0, 0"),
                                           ("best_loss is None or ", "")), "started at 0"),
        ("best = inf, scan from epoch 1", rule(("best_loss, best_epoch, wait = None, 0, 0",
                                                "best_loss, best_epoch, wait = float('inf'), 0, 0"),
                                               ("enumerate(val_losses)", "enumerate(val_losses[1:], start=1)"),
                                               ("best_loss is None or ", "")), "epoch 0 was never the first best"),
        ("nan counts as an improvement", rule(("best_loss is None or loss < best_loss - min_delta",
                                               "best_loss is None or not loss >= best_loss - min_delta")),
         "a nan loss counted as an improvement"),
        ("the stop as len(val_losses)", rule(("return len(val_losses) - 1, best_epoch",
                                              "return len(val_losses), best_epoch")), "the length of the list"),
        ("floats returned", rule(("return epoch, best_epoch", "return float(epoch), float(best_epoch)"),
                                 ("return len(val_losses) - 1, best_epoch",
                                  "return float(len(val_losses) - 1), float(best_epoch)")), "return two ints"),
        # The pair in the wrong order: no broken rule of the statement gives it, so no cause is named.
        ("matches no diagnosis", rule(("return epoch, best_epoch", "return best_epoch, epoch")),
         "Walk through the rules of the statement"),
    ],
    "patience_stopper": [
        ("the draft itself", _THE_DRAFT, "best loss starts at 0"),
        ("the count is not reset", stopper(_NO_RESET), "not reset to 0"),
        ("the best loss starts at 0", stopper(_BEST_ZERO), "best loss starts at 0"),
        ("live weights, not a copy", stopper(_LIVE_WEIGHTS), "not a copy"),
        ("weights never set back", stopper(("            self.model.set_weights(self.best_weights)",
                                            "            pass")), "never set back"),
        ("restores only when it stopped", stopper(("        if self.best_weights is not None:",
                                                   "        if self.best_weights is not None and self.model.stop_training:")),
         "when training runs to its end"),
        ("watches the training loss", stopper(('val_loss = logs["val_loss"]', 'val_loss = logs["loss"]')),
         "watches the training loss"),
        ("ties count as improvements", stopper(("if val_loss < self.best:", "if val_loss <= self.best:")),
         "a tie counts as an improvement"),
        ("stops one epoch late", stopper(("if self.wait >= self.patience:", "if self.wait > self.patience:")),
         "one epoch late"),
        ("Keras's EarlyStopping instead", "def make_patience_stopper(patience):\n"
                                          "    return keras.callbacks.EarlyStopping(patience=patience, "
                                          "restore_best_weights=True)", "Keras's own EarlyStopping"),
        ("the class, not an instance", stopper(("    return PatienceStopper(patience)", "    return PatienceStopper")),
         "not a Keras callback object"),
        # Compares with the previous epoch instead of the best so far: no broken rule of the list gives its stops.
        ("matches no diagnosis", stopper(("            self.wait += 1", "            self.best = val_loss\n"
                                                                        "            self.wait += 1")),
         "Compare the draft with the rule of Exercise 3"),
    ],
}

ALTERNATIVES = {
    "l1_l2_penalty": [
        "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
        "    flat = np.concatenate([np.ravel(w) for w in weights])\n"
        "    return l1 * np.linalg.norm(flat, 1) + l2 * flat @ flat",
        # Keras's own regularizer, in float32.
        "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
        "    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2)\n"
        "    return sum(float(regularizer(keras.ops.convert_to_tensor(w, 'float32'))) for w in weights)",
        # The same sums in numpy float32.
        "def l1_l2_penalty(weights, l1=0.0, l2=0.0):\n"
        "    total = np.float32(0)\n"
        "    for w in weights:\n"
        "        w = np.asarray(w, dtype=np.float32)\n"
        "        total += np.float32(l1) * np.abs(w).sum() + np.float32(l2) * (w * w).sum()\n"
        "    return float(total)",
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
        # numpy in float32 throughout.
        "def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):\n"
        "    f = lambda a: np.asarray(a, dtype=np.float32)\n"
        "    x, gamma, beta, moving_mean, moving_var = map(f, (x, gamma, beta, moving_mean, moving_var))\n"
        "    momentum, epsilon = np.float32(momentum), np.float32(epsilon)\n"
        "    if training:\n"
        "        mean, var = x.mean(axis=0), x.var(axis=0)\n"
        "        moving_mean = momentum * moving_mean + (1 - momentum) * mean\n"
        "        moving_var = momentum * moving_var + (1 - momentum) * var\n"
        "    else:\n"
        "        mean, var = moving_mean, moving_var\n"
        "    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, moving_mean, moving_var",
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
        # numpy integers are ints too.
        rule(("return epoch, best_epoch", "return np.int64(epoch), np.int32(best_epoch)")),
    ],
    "patience_stopper": [
        # Epoch 0 taken as the first best explicitly, and the weights kept as copies of the variables.
        stopper(('self.best = float("inf")', "self.best = None"),
                ("if val_loss < self.best:", "if self.best is None or val_loss < self.best:"),
                ("self.best_weights = self.model.get_weights()",
                 "self.best_weights = [v.numpy() for v in self.model.weights]")),
        # A subclass of the draft that overrides the two methods with bugs.
        '''
class DraftStopper(keras.callbacks.Callback):
    def __init__(self, patience):
        super().__init__()
        self.patience = patience

    def on_train_begin(self, logs=None):
        self.best = 0.0
        self.wait = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        val_loss = logs["val_loss"]
        if val_loss < self.best:
            self.best = val_loss
            self.best_weights = self.model.weights
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class Fixed(DraftStopper):
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_loss"] < self.best:
            self.best, self.wait, self.best_weights = logs["val_loss"], 0, self.model.get_weights()
            return
        super().on_epoch_end(epoch, logs)


def make_patience_stopper(patience):
    return Fixed(patience)
''',
    ],
}

# batchnorm_inference shares the function of batchnorm_training: its alternatives are the same code.
ALTERNATIVES["batchnorm_inference"] = ALTERNATIVES["batchnorm_training"]

FUNCTIONS = {"batchnorm_training": "batchnorm_forward", "batchnorm_inference": "batchnorm_forward",
             "patience_stopper": "make_patience_stopper"}

#: Callbacks that break one of the two separable requirements: (code, share earned, advice).
PARTIAL = [
    (stopper(_NO_RESET), 1 / 2, "not reset to 0"),
    (stopper(_LIVE_WEIGHTS), 1 / 2, "not a copy"),
    (stopper(("        if self.best_weights is not None:",
              "        if self.best_weights is not None and self.model.stop_training:")), 1 / 2,
     "when training runs to its end"),
    (stopper(_BEST_ZERO), 0, "best loss starts at 0"),
    (_THE_DRAFT, 0, "best loss starts at 0"),
]


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "09_regularization")


def subject(name, code, namespace):
    return define(code, FUNCTIONS.get(name, name), namespace)


def grade(name, answer, correct, seed):
    check = regularization.CHECKS[name]
    return simulate_grading(regularization.CHECKS, check, answer, correct, seed), public_message(check, answer)


@pytest.fixture(scope="module")
def correct(reference):
    """The reference answer of every part, built once, so that `answer is correct` spots it."""
    return {c.name: subject(c.name, "", reference) for c in regularization.CHECKS.checks}


@pytest.mark.parametrize("name", [c.name for c in regularization.CHECKS.checks])
def test_reference_passes_public_and_grading(correct, name):
    results = [grade(name, correct[name], correct[name], seed) for seed in SEEDS]
    expect_correct([v for v, _ in results], results[0][1])


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, correct, name, label, code, advice):
    answer = subject(name, code, reference)
    results = [grade(name, answer, correct[name], seed) for seed in SEEDS]
    expect_wrong(label, [v for v, _ in results], results[0][1], advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, correct, name, code):
    answer = subject(name, code, reference)
    results = [grade(name, answer, correct[name], seed) for seed in SEEDS]
    expect_correct([v for v, _ in results], results[0][1])


@pytest.mark.parametrize("code,share,advice", PARTIAL, ids=[f"stopper-{i}" for i in range(len(PARTIAL))])
def test_when_it_stops_and_whose_weights_it_keeps_are_graded_separately(reference, correct, code, share, advice):
    answer = subject("patience_stopper", code, reference)
    results = [grade("patience_stopper", answer, correct["patience_stopper"], seed) for seed in SEEDS]
    assert results[0][1] is not None and advice in results[0][1], results[0][1]
    for verdict, _ in results:
        assert not verdict.passed and verdict.credit == pytest.approx(share), (verdict.credit, verdict.detail)
        assert advice in verdict.feedback, verdict.feedback


@pytest.mark.parametrize("name", [c.name for c in regularization.CHECKS.checks])
def test_every_check_says_what_it_should_return(name):
    assert regularization.CHECKS[name].expected_form


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
        assert regularization.stopping_rule(losses, patience, min_delta) == (stop, callback.best_epoch)


def test_each_broken_rule_is_told_apart_on_the_public_sequences():
    """A cause is named only on evidence specific to it: over the public sequences, each broken rule gives answers
    that differ from the right ones and from those of every other broken rule."""
    for variants, runs, rule in [(regularization._RULE_VARIANTS, regularization._PUBLIC_RUNS, regularization._rule_of),
                                 (regularization._STOP_VARIANTS, regularization._STOPPER_PUBLIC_RUNS,
                                  regularization._stop_of)]:
        answers = [tuple(rule(run, **kwargs) for run in runs) for kwargs, _ in variants]
        right = tuple(rule(run) for run in runs)
        assert right not in answers
        assert len(set(answers)) == len(answers), answers


def test_keras_early_stopping_passes_the_callback_rules_it_is_refused_for_by_name(reference):
    """The EarlyStopping refusal is the statement's rule, not a wrong behaviour: Keras's callback behaves right."""
    import keras

    for inputs in regularization.patience_stopper.public_cases[0].inputs["runs"]:
        got = regularization.drive_callback(keras.callbacks.EarlyStopping(patience=inputs["patience"],
                                                                          restore_best_weights=True),
                                            inputs["val_losses"], inputs["train_losses"])
        stop, best = regularization.stopping_rule(inputs["val_losses"], inputs["patience"])
        assert got["stop"] == stop and got["final_weight"] == best + 1, (got, stop, best)


def test_the_replay_of_the_diverging_run_is_what_keras_records():
    """The example's numpy curve of the run without a callback agrees with Keras's own history."""
    for seed in range(3):
        inp = regularization.diverging_run_inputs(np.random.default_rng(seed))
        _, history = regularization.fit_diverging_run([], inp)
        assert np.allclose(history.history["val_loss"], regularization.replay_diverging_run(inp), rtol=1e-4)


# ----------------------------------------------------------------------------- the callback part cannot be lied to
def _claims(inputs):
    """A kernel that claims the right stop and weights for every run without running any callback."""
    reports = []
    for run in inputs["runs"]:
        losses = run["val_losses"]
        stop, _ = regularization.stopping_rule(losses, run["patience"])
        _, best_run = regularization.stopping_rule(losses[:stop + 1], len(losses) + 1)
        _, best_all = regularization.stopping_rule(losses, len(losses) + 1)
        reports.append({"stop": stop, "final_weight": best_run + 1.0, "final_weight_unstopped": best_all + 1.0})
    return {"stage": "ran", "runs": reports}


def _changed_first(inputs, **change):
    claim = _claims(inputs)
    claim["runs"][0] = {**claim["runs"][0], **change}
    return claim


#: (label, forge(inputs) -> the reported result, passes): reports of the wrong shape must fail with a message;
#: a report of the right facts is what any correct callback reports (the part is code the kernel runs).
ODD_REPORTS = [
    ("not a dict", lambda inp: "ran", False),
    ("no stage", lambda inp: {"stop": 1}, False),
    ("a stop that is not an int", lambda inp: _changed_first(inp, stop="4"), False),
    ("weights that are not numbers", lambda inp: _changed_first(inp, final_weight=[1.0]), False),
    ("runs missing", lambda inp: {"stage": "ran", "runs": _claims(inp)["runs"][:1]}, False),
    ("an unknown stage", lambda inp: {"stage": "elsewhere"}, False),
]


@pytest.mark.parametrize("label,forge,passes", ODD_REPORTS, ids=[r[0] for r in ODD_REPORTS])
def test_odd_report_gets_a_message_not_an_exception(correct, label, forge, passes):
    check = regularization.patience_stopper
    verdict = forged_verdict(regularization.CHECKS, check, correct[check.name], forge, SEEDS[0])
    assert verdict.passed == passes and (passes or verdict.feedback), verdict.detail
    for case in check.public_cases:
        message = check.compare(case.inputs, forge(case.inputs), None)
        assert isinstance(message, str) and message, message
