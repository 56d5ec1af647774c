"""07_fitting: common wrong answers lose the part with a message that teaches; correct variants (float32 ones
included) pass; kernels that lie about the trained model earn nothing.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The reference namespace runs the source notebook once (its sweep and its Exercise 5 training, several
seconds); the function checks train nothing, so every answer is graded on several seeds. The trained-model
mistakes are made from the reference's own models (weights edited, layers dropped) or trained here once.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  odd_report_failures, public_message, reference_namespace, simulate_grading,
                                  wrong_cases)
from autograder.checks import fitting
from autograder.checks.core import kernel_view
from autograder.checks.model_data import report_model
from autograder.grading.judge import SECRET_FAILURE

SEEDS = (31, 32)
#: The reference must pass every part on each of these grading seeds.
REFERENCE_SEEDS = (31, 32, 34)

_SPLIT = "def split_indices(n, val_fraction, test_fraction, seed):\n"
_SIZES = "    n_test = int(round(test_fraction * n))\n    n_val = int(round(val_fraction * n))\n"
_CUT = "    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]\n"
_SHUFFLE = "    order = np.random.default_rng(seed).permutation(n)\n"

_STD = "def standardize(X_train, X_val, X_test):\n"

# ------------------------------------------------------------------------------ diagnose: the mistakes
_DIAG = ("def diagnose(history, target_loss=0.33, tolerance=0.05):\n    logs = getattr(history, 'history', history)\n"
         "    loss, val = logs['loss'], logs['val_loss']\n")


def _rule(over, under="loss[-1] > target_loss + tolerance", first="over", best="val.index(min(val))"):
    o = f"    if {over}:\n        return 'overfitting'\n"
    u = f"    if {under}:\n        return 'underfitting'\n"
    return _DIAG + f"    best = {best}\n" + (o + u if first == "over" else u + o) + "    return 'good fit'\n"


_OVER = "val[-1] > val[best] + tolerance and loss[-1] < loss[best]"

#: name -> code. Each one's answers on the public histories are in fitting._DIAGNOSE_MISTAKES, and the
#: message names the cause (fitting._DIAGNOSE_ADVICE[name before ":"]).
DIAGNOSE_MISTAKES = {
    "gap": _rule("val[-1] - loss[-1] > tolerance"),
    "gap:accuracy": _rule("logs['accuracy'][-1] - logs['val_accuracy'][-1] > 0.1"),
    "accuracy": _DIAG + "    acc, val_acc = logs['accuracy'], logs['val_accuracy']\n"
                "    best = val_acc.index(max(val_acc))\n"
                "    if val_acc[-1] < val_acc[best] - tolerance and acc[-1] > acc[best]:\n        return 'overfitting'\n"
                "    if loss[-1] > target_loss + tolerance:\n        return 'underfitting'\n    return 'good fit'\n",
    "train_falls": _rule("val[-1] > val[best] + tolerance"),
    "underfit_first": _rule(_OVER, first="under"),
    "no_tolerance": _rule("val[-1] > val[best] and loss[-1] < loss[best]"),
    "last_step": _rule("val[-1] > val[-2] and loss[-1] < loss[-2]"),
    "first_epoch": _rule("val[-1] > val[0] + tolerance and loss[-1] < loss[0]"),
    "val_underfit": _rule(_OVER, under="val[-1] > target_loss + tolerance"),
    "defaults": _rule(_OVER.replace("tolerance", "0.05"), under="loss[-1] > 0.33 + 0.05"),
    "strict_over": _rule("val[-1] >= val[best] + tolerance and loss[-1] < loss[best]"),
    "strict_under": _rule(_OVER, under="loss[-1] >= target_loss + tolerance"),
    "last_min": _rule(_OVER, best="len(val) - 1 - val[::-1].index(min(val))"),
}
#: A phrase of each cause's message.
DIAGNOSE_ADVICE = {
    "gap": "generalisation gap, not yet overfitting", "accuracy": "not the accuracies",
    "train_falls": "the run is diverging", "underfit_first": "Overfitting is checked first",
    "no_tolerance": "is noise, not overfitting", "last_step": "not with the epoch before",
    "first_epoch": "not with the first epoch", "val_underfit": "Underfitting is about the training loss",
    "defaults": "rather than fixed numbers", "strict_over": "validation loss to end strictly",
    "strict_under": "training loss strictly above", "last_min": "take the first of them",
}

# ------------------------------------------------------------------------------ choose_capacity: the mistakes
_CHOOSE = ("def choose_capacity(results, tolerance=0.05):\n"
           "    table = [(int(np.argmin(r['val_loss'])), float(np.min(r['val_loss']))) for r in results]\n")


def _choose(pick, table=None):
    head = _CHOOSE if table is None else ("def choose_capacity(results, tolerance=0.05):\n"
                                          f"    table = [{table} for r in results]\n")
    return (head + "    lowest = min(l for _, l in table)\n"
            "    band = [i for i, (_, l) in enumerate(table) if l <= lowest + tolerance]\n"
            f"    return {pick}, table\n")


_RIGHT_PICK = "min(band, key=lambda i: (results[i]['n_params'], table[i][1], i))"

WRONG = {
    "split_indices": [
        ("validation and test overlap the training split", _SPLIT + _SHUFFLE + _SIZES +
         "    return order[n_test:], order[n_test:n_test + n_val], order[:n_test]\n", "the splits overlap"),
        ("no shuffle", _SPLIT + "    order = np.arange(n)\n" + _SIZES + _CUT, "not shuffled"),
        ("seed ignored", _SPLIT + "    order = np.random.default_rng(0).permutation(n)\n" + _SIZES + _CUT,
         "seed argument is ignored"),
        ("unseeded shuffle", _SPLIT + "    order = np.random.permutation(n)\n" + _SIZES + _CUT, "not reproducible"),
        ("fractions swapped", _SPLIT + _SHUFFLE +
         "    n_test = int(round(val_fraction * n))\n    n_val = int(round(test_fraction * n))\n" + _CUT, "swapped"),
        ("sizes truncated, not rounded", _SPLIT + _SHUFFLE +
         "    n_test = int(test_fraction * n)\n    n_val = int(val_fraction * n)\n" + _CUT, "truncated, not rounded"),
        ("a boolean mask instead of indices", _SPLIT + _SHUFFLE + _SIZES +
         "    train = np.zeros(n, bool)\n    train[order[n_test + n_val:]] = True\n"
         "    return train, order[n_test:n_test + n_val], order[:n_test]\n", "A boolean mask"),
        ("the rows left over by truncation dropped", _SPLIT + _SHUFFLE +
         "    n_test, n_val = int(test_fraction * n), int(val_fraction * n)\n"
         "    n_train = int((1 - val_fraction - test_fraction) * n)\n"
         "    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:n_train + n_val + n_test]\n",
         "are in no split"),
        ("one array instead of three", _SPLIT + "    return np.random.default_rng(seed).permutation(n)\n",
         "it should return a tuple of three index arrays"),
        # Matches no named cause: the sizes are wrong in a way that is neither truncation nor a swap.
        ("one test row too many", _SPLIT + _SHUFFLE + _SIZES + "    n_test += 1\n" + _CUT,
         "Use n_test = round(test_fraction * n)"),
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
        ("two arrays returned", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
         "    std = np.where(std == 0, 1.0, std)\n    return (X_train - mean) / std, (X_val - mean) / std\n",
         "it should return three arrays"),
        ("the statistics' arrays returned", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
         "    return mean, std, np.where(std == 0, 1.0, std)\n", "the shape of X_train"),
        # Matches no named cause: multiplies by the std.
        ("multiplied by the std", _STD + "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
         "    std = np.where(std == 0, 1.0, std)\n"
         "    return (X_train - mean) * std, (X_val - mean) * std, (X_test - mean) * std\n", "relative error"),
    ],
    "diagnose": [
        *[(name, code, DIAGNOSE_ADVICE[name.split(":")[0]]) for name, code in DIAGNOSE_MISTAKES.items()],
        ("History object treated as a dict",
         "def diagnose(history, target_loss=0.33, tolerance=0.05):\n"
         "    loss, val = history['loss'], history['val_loss']\n    best = int(np.argmin(val))\n"
         "    if val[-1] > val[best] + tolerance and loss[-1] < loss[best]:\n        return 'overfitting'\n"
         "    return 'underfitting' if loss[-1] > target_loss + tolerance else 'good fit'\n", "accept both"),
        ("dict treated as a History object",
         "def diagnose(history, target_loss=0.33, tolerance=0.05):\n"
         "    loss, val = history.history['loss'], history.history['val_loss']\n    best = int(np.argmin(val))\n"
         "    if val[-1] > val[best] + tolerance and loss[-1] < loss[best]:\n        return 'overfitting'\n"
         "    return 'underfitting' if loss[-1] > target_loss + tolerance else 'good fit'\n", "accept both"),
        ("other wording", _rule(_OVER).replace("'overfitting'", "'Overfitting'").replace("'good fit'", "'good_fit'"),
         "exactly one of the strings"),
        ("a boolean instead of a label", _DIAG + "    best = int(np.argmin(val))\n"
         "    return val[-1] > val[best] + tolerance and loss[-1] < loss[best]\n", "exactly one of the strings"),
        # Two mistakes at once (the loss gap, and underfitting first): no single cause, the first wrong history.
        ("two mistakes at once", _rule("val[-1] - loss[-1] > tolerance", first="under"),
         "for the history where"),
    ],
    "choose_capacity": [
        ("the lowest validation loss, no band", _choose("int(np.argmin([l for _, l in table]))"),
         "That is the model with the lowest validation loss"),
        ("the largest model in the band", _choose("max(band, key=lambda i: results[i]['n_params'])"),
         "That is the largest model within tolerance"),
        ("the first model of the band in list order", _choose("band[0]"), "first model in the list within"),
        ("the smallest model of all", _choose("min(range(len(results)), key=lambda i: results[i]['n_params'])"),
         "smallest model of all"),
        ("the best test accuracy", _choose("max(range(len(results)), key=lambda i: results[i]['test_accuracy'])"),
         "best test accuracy"),
        ("a relative band", _choose(_RIGHT_PICK).replace("lowest + tolerance", "lowest * (1 + tolerance)"),
         "not a fraction of it"),
        ("the band's edge left out", _choose(_RIGHT_PICK).replace("l <= lowest", "l < lowest"), "(<=, not <)"),
        ("a fixed tolerance", _choose(_RIGHT_PICK).replace("lowest + tolerance", "lowest + 0.05"),
         "Use the tolerance you are given"),
        ("epochs counted from 1", _choose(_RIGHT_PICK, "(int(np.argmin(r['val_loss'])) + 1, min(r['val_loss']))"),
         "one too large"),
        ("the last epoch of a tie",
         _choose(_RIGHT_PICK, "(len(r['val_loss']) - 1 - int(np.argmin(r['val_loss'][::-1])), min(r['val_loss']))"),
         "the last of them"),
        ("the final epoch's validation loss", _choose(_RIGHT_PICK, "(len(r['val_loss']) - 1, r['val_loss'][-1])"),
         "best_val_loss is the final epoch"),
        ("training losses", _choose(_RIGHT_PICK, "(int(np.argmin(r['loss'])), min(r['loss']))"),
         "these are training losses"),
        ("validation accuracies", _choose("max(band, key=lambda i: table[i][1])",
                                          "(int(np.argmax(r['val_accuracy'])), max(r['val_accuracy']))"),
         "these are validation accuracies"),
        ("the index only", _CHOOSE + "    lowest = min(l for _, l in table)\n"
         "    band = [i for i, (_, l) in enumerate(table) if l <= lowest + tolerance]\n"
         f"    return {_RIGHT_PICK}\n", "should return a pair (index, table)"),
        ("the record instead of its index", _choose(_RIGHT_PICK).replace(f"return {_RIGHT_PICK}",
                                                                          f"return results[{_RIGHT_PICK}]"),
         "returned a record (a dict)"),
        ("a dict as the table", _choose(_RIGHT_PICK).replace("return " + _RIGHT_PICK + ", table",
                                                             "return " + _RIGHT_PICK + ", dict(enumerate(table))"),
         "as the table"),
        # Match no named cause.
        ("the last record", _choose("len(results) - 1"), "The rule: among the records"),
        ("losses rounded to one decimal", _choose(_RIGHT_PICK, "(int(np.argmin(r['val_loss'])), "
                                                               "round(min(r['val_loss']), 1))"),
         "the first epoch of the lowest validation loss, and that loss"),
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
        # Lists of Python ints, training rows first, and np.round (half to even, like round).
        _SPLIT + "    order = [int(i) for i in np.random.default_rng(seed).permutation(n)]\n"
        "    n_val, n_test = int(np.round(val_fraction * n)), int(np.round(test_fraction * n))\n"
        "    n_train = n - n_val - n_test\n"
        "    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]",
        # Half rounded up (math.floor(x + 0.5)): accepted, the statement allows either neighbour at a half.
        "import math\n" + _SPLIT + _SHUFFLE +
        "    n_test, n_val = math.floor(test_fraction * n + 0.5), math.floor(val_fraction * n + 0.5)\n" + _CUT,
    ],
    "standardize": [
        "from sklearn.preprocessing import StandardScaler\n" + _STD +
        "    scaler = StandardScaler().fit(X_train)\n"
        "    return scaler.transform(X_train), scaler.transform(X_val), scaler.transform(X_test)",
        _STD + "    mean = np.mean(X_train, axis=0, keepdims=True)\n"
        "    std = np.sqrt(np.mean((X_train - mean) ** 2, axis=0, keepdims=True))\n    std[std == 0] = 1\n"
        "    return tuple((A - mean) / std for A in (X_train, X_val, X_test))",
        # float32 throughout.
        _STD + "    A, B, C = (np.asarray(x, np.float32) for x in (X_train, X_val, X_test))\n"
        "    mean, std = A.mean(axis=0), A.std(axis=0)\n    std = np.where(std == 0, np.float32(1), std)\n"
        "    return (A - mean) / std, (B - mean) / std, (C - mean) / std",
    ],
    "diagnose": [
        # float32 arrays, and the comparisons rearranged.
        "def diagnose(history, target_loss=0.33, tolerance=0.05):\n"
        "    logs = history.history if hasattr(history, 'history') else dict(history)\n"
        "    loss = np.asarray(logs['loss'], dtype=np.float32)\n"
        "    val = np.asarray(logs['val_loss'], dtype=np.float32)\n    best = np.argmin(val)\n"
        "    if val[-1] - val[best] > tolerance and loss[best] - loss[-1] > 0:\n        return 'overfitting'\n"
        "    if loss[-1] - target_loss > tolerance:\n        return 'underfitting'\n    return 'good fit'",
        # A running minimum in a loop, keyword arguments, and the keras History class.
        "import keras\ndef diagnose(history, target_loss=0.33, tolerance=0.05):\n"
        "    if isinstance(history, keras.callbacks.History):\n        history = history.history\n"
        "    best = 0\n    for epoch, value in enumerate(history['val_loss']):\n"
        "        if value < history['val_loss'][best]:\n            best = epoch\n"
        "    rose = history['val_loss'][-1] > history['val_loss'][best] + tolerance\n"
        "    still_falling = history['loss'][-1] < history['loss'][best]\n"
        "    if rose and still_falling:\n        return 'overfitting'\n"
        "    return 'underfitting' if history['loss'][-1] > target_loss + tolerance else 'good fit'",
    ],
    "choose_capacity": [
        # float32 losses, numpy integers, and a table that is an array.
        "def choose_capacity(results, tolerance=0.05):\n"
        "    curves = [np.asarray(r['val_loss'], dtype=np.float32) for r in results]\n"
        "    table = np.array([(c.argmin(), c.min()) for c in curves], dtype=np.float32)\n"
        "    lowest = table[:, 1].min()\n"
        "    band = [i for i in range(len(results)) if table[i, 1] <= lowest + np.float32(tolerance)]\n"
        "    return np.int64(min(band, key=lambda i: (results[i]['n_params'], table[i, 1], i))), table",
        # Plain Python, sorting.
        "def choose_capacity(results, tolerance=0.05):\n    table = []\n    for r in results:\n"
        "        low = min(r['val_loss'])\n        table.append((r['val_loss'].index(low), low))\n"
        "    lowest = min(loss for _, loss in table)\n"
        "    ranked = sorted((r['n_params'], table[i][1], i) for i, r in enumerate(results)\n"
        "                    if table[i][1] <= lowest + tolerance)\n    return ranked[0][2], table",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "07_fitting")


def grade(name, answer, reference, seeds=SEEDS):
    check = fitting.CHECKS[name]
    return ([simulate_grading(fitting.CHECKS, check, answer, reference[name], s) for s in seeds],
            public_message(check, answer))


@pytest.mark.parametrize("name", ["split_indices", "standardize", "diagnose", "choose_capacity", "target_model"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[name], reference, REFERENCE_SEEDS))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


# ------------------------------------------------------------------------------ diagnose: evidence, not guesses
def _public_answers(code):
    check = fitting.diagnose
    return check.run(define(code, "diagnose", {"np": np}), check.public_cases[0].inputs)


def test_each_named_mistake_matches_its_recorded_answers_and_no_two_coincide():
    """A cause is named only on its own answers: the recorded ones are what the mistaken code gives."""
    assert set(DIAGNOSE_MISTAKES) == set(fitting._DIAGNOSE_MISTAKES)
    for name, code in DIAGNOSE_MISTAKES.items():
        assert _public_answers(code) == fitting._DIAGNOSE_MISTAKES[name], name
    answers = {name: tuple(v) for name, v in fitting._DIAGNOSE_MISTAKES.items()}
    for a, b in itertools.combinations(answers, 2):
        assert answers[a] != answers[b], (a, b)
    assert _public_answers(_rule(_OVER)) == fitting.diagnose.public_cases[0].expected


def test_the_course_criterion_is_what_the_public_histories_teach():
    """Rising validation loss with a small accuracy gap is overfitting; a large gap with a validation loss
    still falling is not."""
    labels = {run["label"]: want for run, want in fitting._PUBLIC_RUNS}
    rising = next(k for k in labels if "rises from 0.39 to 0.55" in k)
    gap = next(k for k in labels if "a large gap" in k)
    assert (labels[rising], labels[gap]) == ("overfitting", "good fit")
    runs = {run["label"]: run for run, _ in fitting._PUBLIC_RUNS}
    assert runs[rising]["logs"]["accuracy"][-1] - runs[rising]["logs"]["val_accuracy"][-1] < 0.05
    assert runs[gap]["logs"]["accuracy"][-1] - runs[gap]["logs"]["val_accuracy"][-1] > 0.15
    assert np.all(np.diff(runs[gap]["logs"]["val_loss"]) < 0)


def test_secret_histories_cover_every_kind_and_every_answer():
    for seed in SEEDS:
        for inputs in fitting.CHECKS.secret_inputs(seed)["diagnose"]:
            kinds = {run["label"] for run in inputs["runs"]}
            assert len(kinds) == len(fitting._RUN_KINDS)
            answers = fitting.diagnose.run(define(_rule(_OVER), "diagnose", {"np": np}), inputs)
            assert set(answers) == set(fitting.DIAGNOSES)


# ------------------------------------------------------------------------------ choose_capacity: partial credit
def test_a_right_table_with_a_wrong_choice_earns_half_the_points(reference):
    verdicts, public = grade("choose_capacity", define(_choose("band[0]"), "choose_capacity", reference), reference)
    assert all(not v.passed and v.credit == pytest.approx(0.5) for v in verdicts), verdicts
    assert public.startswith("The measurements are right."), public


def test_a_wrong_table_and_a_wrong_choice_earn_nothing(reference):
    code = _choose("band[0]", "(len(r['val_loss']) - 1, r['val_loss'][-1])")
    verdicts, _ = grade("choose_capacity", define(code, "choose_capacity", reference), reference)
    assert all(not v.passed and v.credit == 0 for v in verdicts), verdicts


# ------------------------------------------------------------------------------ target_model: trained models
def _sequential(layers):
    import keras

    return keras.Sequential([keras.Input(shape=(fitting.N_FEATURES,)), *layers])


def _normalization(rows):
    import keras

    layer = keras.layers.Normalization()
    layer.adapt(np.asarray(rows, dtype="float32"))
    return layer


def _with_normalization_of(model, rows):
    """The same trained network with its Normalization layer adapted on other rows."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    norm = _normalization(rows)
    copy.layers[0].set_weights(norm.get_weights())
    return copy


def _without_normalization(model):
    """The trained network's Dense layers alone: it expects standardised inputs."""
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    copy = _sequential([keras.layers.Dense(d.units, activation=d.activation) for d in dense])
    copy.set_weights([w for d in dense for w in d.get_weights()])
    return copy


def _trained(layers_of, epochs, seed=0, optimizer="adam", callbacks=(), given_statistics=False):
    import keras

    X_train, y_train, X_val, y_val = fitting.target_task()
    keras.utils.set_random_seed(seed)
    norm = (keras.layers.Normalization(mean=X_train.mean(axis=0), variance=X_train.var(axis=0))
            if given_statistics else _normalization(X_train))
    model = _sequential([norm, *layers_of()])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.tile(X_train, (5, 1)), np.tile(y_train, 5), validation_data=(X_val, y_val), epochs=epochs,
              batch_size=100, verbose=0, callbacks=list(callbacks))
    return model


def _degraded(model):
    """The reference model with noise on its first hidden layer: below the target on new points and on its own
    training rows alike, so neither underfitting nor memorising explains it. The noise is searched for, since
    the reference's weights differ a little from machine to machine."""
    import keras

    from autograder.checks.model_data import predict

    X_train, y_train, _, _ = fitting.target_task()
    X_new, y_new = fitting.rings_with_noise_features(2000, seed=4321)
    kernel = next(i for i, w in enumerate(model.get_weights()) if w.ndim == 2)
    for seed, scale in itertools.product(range(6), (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)):
        weights = [w.copy() for w in model.get_weights()]
        noise = np.random.default_rng(seed).normal(0.0, scale * np.std(weights[kernel]), weights[kernel].shape)
        weights[kernel] = weights[kernel] + noise
        copy = keras.models.clone_model(model)
        copy.set_weights(weights)
        for layer in copy.layers:
            if type(layer).__name__ == "Normalization":
                layer.finalize_state()
        new = np.mean(predict(copy, X_new).argmax(axis=1) == y_new)
        train = np.mean(predict(copy, X_train).argmax(axis=1) == y_train)
        if 0.6 < new < fitting.TARGET_ACCURACY - 0.03 and train >= 0.72 and train - new < 0.07:
            return copy
    raise AssertionError("no degraded copy of the reference model found")


def _dense(units, activation="relu"):
    import keras

    return keras.layers.Dense(units, activation=activation)


def _built(*layers):
    return _sequential(list(layers))


X5_TRAIN, _, X5_VAL, _ = fitting.target_task()

#: label -> (make(reference namespace) -> model, a phrase the message must hold, credit expected).
TARGET_WRONG = {
    "Normalization adapted on training and validation rows":
        (lambda ref: _with_normalization_of(ref["target_model"], np.concatenate([X5_TRAIN, X5_VAL])),
         "training and the validation rows together", 0.5),
    "Normalization adapted on the validation rows":
        (lambda ref: _with_normalization_of(ref["target_model"], X5_VAL), "adapted on the validation rows", 0.5),
    "no Normalization layer, trained on standardised inputs":
        (lambda ref: _without_normalization(ref["target_model"]), "On standardised inputs it would reach", 0.0),
    "a logistic regression": (lambda ref: _trained(lambda: [_dense(2, "softmax")], 10), "so it underfits", 0.5),
    "a large network trained to the end": (lambda ref: ref["candidates"][1][0], "it memorised them", 0.5),
    "over the parameter budget":
        (lambda ref: _built(_normalization(X5_TRAIN), _dense(64), _dense(64), _dense(2, "softmax")),
         "the budget is 2,000", 0.0),
    "one sigmoid output": (lambda ref: _built(_normalization(X5_TRAIN), _dense(8), _dense(1, "sigmoid")),
                           "expected (1000, 2)", 0.0),
    "no softmax on the output": (lambda ref: _built(_normalization(X5_TRAIN), _dense(8), _dense(2, None)),
                                 "not probabilities", 0.0),
    "the two ring features only": (lambda ref: __import__("keras").Sequential(
        [__import__("keras").Input(shape=(2,)), _dense(8), _dense(2, "softmax")]), "which expects inputs of shape (None, 2)", 0.0),
    "None: the training cell did not run": (lambda ref: None, "target_model is None", 0.0),
    # Matches no named cause: neither underfitting nor memorising, just not good enough.
    "a network worse for no single reason": (lambda ref: _degraded(ref["target_model"]),
                                             "Compare capacities and stopping epochs", 0.5),
}

#: label -> make(reference namespace) -> a correct model chosen differently from the reference's.
TARGET_ALTERNATIVES = {
    "16 x 1 with early stopping, and a Normalization layer given the training statistics": lambda ref: _trained(
        lambda: [_dense(16), _dense(2, "softmax")], 40, given_statistics=True,
        optimizer=__import__("keras").optimizers.Adam(learning_rate=0.01),
        callbacks=[__import__("keras").callbacks.EarlyStopping("val_loss", patience=5, restore_best_weights=True)]),
    "the reference network rebuilt with the Functional API": lambda ref: _functional_copy(ref["target_model"]),
}


def _functional_copy(model):
    import keras

    inputs = keras.Input(shape=(fitting.N_FEATURES,))
    x = inputs
    for layer in model.layers:
        x = layer.__class__.from_config(layer.get_config())(x)
    copy = keras.Model(inputs, x)
    copy.set_weights(model.get_weights())
    for layer in copy.layers:
        if hasattr(layer, "finalize_state") and type(layer).__name__ == "Normalization":
            layer.finalize_state()
    return copy


@pytest.mark.parametrize("label", list(TARGET_WRONG))
def test_target_model_mistake_loses_points_with_a_teaching_message(reference, label):
    make, advice, credit = TARGET_WRONG[label]
    verdicts, public = grade("target_model", make(reference), reference)
    expect_wrong(label, verdicts, public, advice)
    assert all(v.credit == pytest.approx(credit) for v in verdicts), [(v.credit, v.feedback) for v in verdicts]


@pytest.mark.parametrize("label", list(TARGET_ALTERNATIVES))
def test_target_model_alternative_gets_full_marks(reference, label):
    expect_correct(*grade("target_model", TARGET_ALTERNATIVES[label](reference), reference))


def test_target_threshold_separates_the_choices(reference):
    """The reference clears the target with a margin on new draws; the large network trained to the end
    and the logistic regression do not."""
    check = fitting.target_model
    for seed in SEEDS:
        inputs = fitting.CHECKS.secret_inputs(seed)["target_model"][0]
        from autograder.checks.model_data import predict

        accuracy = np.mean(predict(reference["target_model"], inputs["_X"]).argmax(axis=1) == inputs["_y"])
        assert accuracy >= fitting.TARGET_ACCURACY + 0.025, accuracy
    assert check.compare(check.public_cases[0].inputs, report_model(reference["candidates"][1][0]), None)


# ------------------------------------------------------------------------------ the notebook's own runs
def test_notebook_sweep_diagnoses_each_capacity_and_chooses_the_small_network(reference):
    diagnoses = [reference["diagnose"](record) for record in reference["results"]]
    assert diagnoses == ["underfitting", "underfitting", "good fit", "overfitting", "overfitting"], diagnoses
    index, table = reference["choose_capacity"](reference["results"])
    assert (reference["results"][index]["width"], reference["results"][index]["depth"]) == (8, 1)


# ------------------------------------------------------------------------------ attacks
# A kernel whose check `run` was replaced (or whose keras was patched) reports whatever it likes. Each attack is
# what such a kernel sends for target_model; the grader's new points are in "_" keys the forger may even read
# here (catalogue.forged_verdict gives it the grader's full inputs).
def _claims_perfect(inputs):
    return {"is_model": True, "kind": "Sequential", "accuracy": 1.0, "n_params": 42, "normalization": "X5_train",
            "outputs": np.eye(2)[np.asarray(inputs.get("_y", [0]), dtype=int)]}


def _lambda_model(reference):
    import keras

    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Lambda(lambda t: t * 2.0),
                              keras.layers.Dense(2, activation="softmax")])
    return report_model(model)


def _subclassed(reference):
    import keras

    class Rings(keras.Model):
        def __init__(self):
            super().__init__()
            self.out = keras.layers.Dense(2, activation="softmax")

        def call(self, x):
            return self.out(x)

    model = Rings()
    model(np.zeros((1, 4), dtype="float32"))
    return report_model(model)


def _labels_as_weights(inputs):
    """A config whose "model" holds the grader's labels: a Dense layer of 2,000 units is over budget anyway."""
    import keras

    model = keras.Sequential([keras.Input(shape=(4,)), _normalization(X5_TRAIN),
                              keras.layers.Dense(len(inputs["_y"]), activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    return report_model(model)


ATTACKS = [
    ("old claims, perfect facts", lambda ref: _claims_perfect, "cannot be checked"),
    ("Lambda layer", lambda ref: (lambda record: lambda inp: record)(_lambda_model(ref)), "Lambda layer"),
    ("subclassed model", lambda ref: (lambda record: lambda inp: record)(_subclassed(ref)), "not a built-in Keras"),
    ("the reference's config with another model's weights",
     lambda ref: lambda inp: {**report_model(ref["target_model"]), "weights": report_model(ref["candidates"][1][0])[
         "weights"]}, "cannot be checked"),
    ("a model sized by the grader's data", lambda ref: _labels_as_weights, "the budget is 2,000"),
    ("not a model at all", lambda ref: lambda inp: "keras.Sequential", "cannot read"),
]


@pytest.mark.parametrize("label,forge,advice", [pytest.param(*a, id=a[0]) for a in ATTACKS])
def test_lying_kernel_scores_zero(reference, label, forge, advice):
    check = fitting.target_model
    verdict = forged_verdict(fitting.CHECKS, check, reference["target_model"], forge(reference), SEEDS[0])
    assert not verdict.passed and verdict.credit == 0, f"{label} passed"
    assert advice in verdict.feedback or advice in verdict.detail, (verdict.feedback, verdict.detail)


def test_odd_reports_get_a_message_not_an_exception():
    assert odd_report_failures(fitting.CHECKS, ("target_model",), SEEDS[0]) == []


def test_new_points_stay_with_the_grader():
    """The points the model is judged on are in "_" keys, in public cases too, and differ on every run."""
    check = fitting.target_model
    cases = [c.inputs for c in check.public_cases] + [fitting.CHECKS.secret_inputs(s)["target_model"][0]
                                                      for s in SEEDS]
    for inputs in cases:
        assert kernel_view(inputs) == {}
    first, second = (fitting.CHECKS.secret_inputs(s)["target_model"][0]["_X"] for s in SEEDS)
    assert not np.allclose(first[:10], second[:10])
    X_train = fitting.target_task()[0]
    assert not any(np.any(np.all(np.isclose(X_train, row), axis=1)) for row in first[:50])


def test_a_mistake_with_no_single_cause_gets_the_first_wrong_history_and_no_cause(reference):
    code = dict((label, code) for label, code, _ in WRONG["diagnose"])["two mistakes at once"]
    verdicts, public = grade("diagnose", define(code, "diagnose", reference), reference)
    for message in [public] + [v.feedback for v in verdicts]:
        assert "for the history where" in message
        assert not any(advice in message for advice in DIAGNOSE_ADVICE.values()), message


def test_generic_secret_failure_quotes_no_grader_input(reference):
    """A function part that passes the public examples but not the grader's: the generic message."""
    code = _choose(_RIGHT_PICK).replace("    return", "    if len(results) not in (3, 4, 9):\n"
                                                      "        return 0, table\n    return")
    verdicts, public = grade("choose_capacity", define(code, "choose_capacity", reference), reference)
    assert public is None
    for verdict in verdicts:
        assert not verdict.passed
        assert verdict.feedback.startswith(SECRET_FAILURE.split("(")[0]) or \
            "one of the grader's sets of results" in verdict.feedback, verdict.feedback
        assert "parameters," not in verdict.feedback and "expected" not in verdict.feedback, verdict.feedback
