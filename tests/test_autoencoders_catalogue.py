"""13_autoencoders: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step: the sweep's wrong answers are built from the reference's trained models with the
mistake applied to the measurement or the choice, and only one alternative trains a sweep of its own.
Issue 14's classes are covered for every part: float32 alternatives of the numeric parts, a mistake breaking each
stated rule (see the "Stated rules" list in autograder/checks/autoencoders.py) that fails with that rule's
message, every wrong build setting failing in the build part, and mistakes that match no diagnosis getting the
generic message.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  grader_exception_in, grader_inputs, public_message, reference_namespace,
                                  simulate_grading, wrong_cases)
from autograder.checks import autoencoders
from autograder.checks.core import kernel_view
from autograder.checks.model_data import predict, report_model
from autograder.checks.plain import to_plain

SEEDS = (41, 42)
ONE_SEED = (43,)
MODEL_PARTS = ("build_autoencoder", "detect_anomalies", "bottleneck_sweep")


def _build(layers=("        keras.layers.Dense(hidden, activation='relu'),\n"
                   "        keras.layers.Dense(bottleneck),\n"
                   "        keras.layers.Dense(hidden, activation='relu'),\n"
                   "        keras.layers.Dense(64, activation='sigmoid'),\n"),
           compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n"):
    return ("def build_autoencoder(bottleneck, hidden=32):\n    model = keras.Sequential([\n"
            "        keras.Input(shape=(64,)),\n" + "".join(layers) + "    ])\n" + compile_ + "    return model\n")


def _layers(first="relu", code="None", output="'sigmoid'", code_units="bottleneck", bias="", second="relu"):
    return (f"        keras.layers.Dense(hidden, activation='{first}'{bias}),\n",
            f"        keras.layers.Dense({code_units}, activation={code}{bias}),\n",
            f"        keras.layers.Dense(hidden, activation='{second}'{bias}),\n",
            f"        keras.layers.Dense(64, activation={output}{bias}),\n")


_BUGGY_COMPILE = "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='categorical_crossentropy')\n"


def _threshold(body):
    return "def choose_threshold(val_scores, max_false_alarm_rate=0.05):\n" + body


def _detect(val="    val_scores = anomaly_scores(X_val, model.predict(X_val, verbose=0))\n",
            thr="    threshold = choose_threshold(val_scores, max_false_alarm_rate)\n",
            new="    scores = anomaly_scores(X_new, model.predict(X_new, verbose=0))\n",
            flags="    flags = scores > threshold\n"):
    return ("def detect_anomalies(model, X_val, X_new, max_false_alarm_rate=0.05):\n" + val + thr + new + flags +
            "    return scores, threshold, flags\n")


def _choose(body):
    return "def choose_bottleneck(val_errors, target):\n" + body


WRONG = {
    "anomaly_scores": [
        ("per-feature instead of per-sample (axis=0)",
         "def anomaly_scores(X, X_hat):\n    return np.mean((X - X_hat) ** 2, axis=0)", "per-feature"),
        ("sum instead of mean", "def anomaly_scores(X, X_hat):\n    return np.sum((X - X_hat) ** 2, axis=1)",
         "sums over each row"),
        ("root mean squared error",
         "def anomaly_scores(X, X_hat):\n    return np.sqrt(np.mean((X - X_hat) ** 2, axis=1))", "without np.sqrt"),
        ("mean absolute error", "def anomaly_scores(X, X_hat):\n    return np.mean(np.abs(X - X_hat), axis=1)",
         "mean absolute error"),
        ("one number for everything", "def anomaly_scores(X, X_hat):\n    return np.mean((X - X_hat) ** 2)",
         "one score per image"),
        ("mean of signed differences", "def anomaly_scores(X, X_hat):\n    return np.mean(X - X_hat, axis=1)",
         "square the differences first"),
        ("squared errors not averaged", "def anomaly_scores(X, X_hat):\n    return (X - X_hat) ** 2",
         "average each row"),
        # Matches no diagnosis: the generic message.
        ("fourth powers", "def anomaly_scores(X, X_hat):\n    return np.mean((X - X_hat) ** 4, axis=1)", "relative error"),
    ],
    "build_autoencoder": [
        # The four bugs, each left alone in turn, and all of them: each fails with its own message.
        ("the buggy code as given", _build(_layers(code="'relu'", output="None", code_units="8"), _BUGGY_COMPILE),
         "Bug 1 is not fixed"),
        ("bug 1 left: the code size fixed at 8", _build(_layers(code_units="8")), "Bug 1 is not fixed"),
        ("bug 2 left: ReLU on the code", _build(_layers(code="'relu'")), "Bug 2 is not fixed"),
        ("bug 3 left: a linear output", _build(_layers(output="None")), "Bug 3 is not fixed"),
        ("bug 4 left: categorical cross-entropy", _build(compile_=_BUGGY_COMPILE), "Bug 4 is not fixed"),
        # Other wrong fixes and settings the statement fixes.
        ("a ReLU output", _build(_layers(output="'relu'")), "Bug 3 is not fixed"),
        ("a tanh code", _build(_layers(code="'tanh'")), "Bug 2 is not fixed"),
        ("binary cross-entropy", _build(compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), "
                                                 "loss='binary_crossentropy')\n"), "Bug 4 is not fixed"),
        ("Adam's default learning rate", _build(compile_="    model.compile(optimizer='adam', loss='mse')\n"),
         "Adam(learning_rate=0.01)"),
        ("SGD", _build(compile_="    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss='mse')\n"),
         "Adam(learning_rate=0.01)"),
        ("not compiled", _build(compile_=""), "not compiled"),
        ("no biases", _build(_layers(bias=", use_bias=False")), "use_bias"),
        ("tanh hidden layers", _build(_layers(first="tanh", second="tanh")), "hidden layers"),
        ("no hidden layers", _build(("        keras.layers.Dense(bottleneck),\n",
                                     "        keras.layers.Dense(64, activation='sigmoid'),\n")), "four Dense layers"),
        ("a 32-pixel output", _build(_layers(output="'sigmoid'")[:3] + ("        keras.layers.Dense(32, activation='sigmoid'),\n",)),
         "64 pixels"),
    ],
    "choose_threshold": [
        ("np.percentile, interpolated", _threshold("    return float(np.percentile(val_scores, 100 * (1 - max_false_alarm_rate)))"),
         "interpolates"),
        ("the rate quantile", _threshold("    return float(np.quantile(val_scores, max_false_alarm_rate))"), "quantile"),
        ("rate * n rounded up", _threshold("    s = np.sort(val_scores)\n    k = int(np.ceil(max_false_alarm_rate * len(s)))\n"
                                           "    return float(s[len(s) - 1 - k])"), "one score more above"),
        ("one index too high", _threshold("    s = np.sort(val_scores)\n    k = int(max_false_alarm_rate * len(s) + 1e-9)\n"
                                          "    return float(s[min(len(s) - 1, len(s) - k)])"), "one score fewer"),
        ("scores >= the threshold counted as flagged",
         _threshold("    for t in np.sort(val_scores):\n"
                    "        if np.sum(val_scores >= t) <= max_false_alarm_rate * len(val_scores) + 1e-9:\n"
                    "            return float(t)\n    return float(np.max(val_scores))"), "one score fewer"),
        ("the largest score", _threshold("    return float(np.max(val_scores))"), "largest validation score"),
        ("the position instead of the score",
         _threshold("    k = int(max_false_alarm_rate * len(val_scores) + 1e-9)\n    return float(len(val_scores) - 1 - k)"),
         "position"),
        # Stated rule: leave val_scores as it is.
        ("sorted in place", _threshold("    val_scores.sort()\n    k = int(max_false_alarm_rate * len(val_scores) + 1e-9)\n"
                                       "    return float(val_scores[len(val_scores) - 1 - k])"), "in place"),
        # Matches no diagnosis: the generic message.
        ("mean plus two standard deviations", _threshold("    return float(np.mean(val_scores) + 2 * np.std(val_scores))"),
         "relative error"),
    ],
    "detect_anomalies": [
        ("threshold from the training scores",
         _detect(val="    val_scores = anomaly_scores(X_train, model.predict(X_train, verbose=0))\n"),
         "comes from the training scores"),
        ("threshold from the new data (with its anomalies)",
         _detect(val="    val_scores = anomaly_scores(X_new, model.predict(X_new, verbose=0))\n"),
         "the very data that contains the anomalies"),
        ("an interpolated percentile",
         _detect(thr="    threshold = float(np.percentile(val_scores, 100 * (1 - max_false_alarm_rate)))\n"), "interpolated"),
        ("flags reversed", _detect(flags="    flags = scores < threshold\n"), "the flags are reversed"),
        ("flags as 0/1 floats", _detect(flags="    flags = (scores > threshold).astype(float)\n"), "boolean array"),
        ("summed scores",
         _detect(new="    scores = np.sum((X_new - model.predict(X_new, verbose=0)) ** 2, axis=1)\n"), "sums, not means"),
        ("per-feature scores",
         _detect(new="    scores = np.mean((X_new - model.predict(X_new, verbose=0)) ** 2, axis=0)\n"), "per-feature"),
        ("only the flags returned", "def detect_anomalies(model, X_val, X_new, max_false_alarm_rate=0.05):\n"
                                    "    return anomaly_scores(X_new, model.predict(X_new, verbose=0)) > 0.05",
         "three things"),
        # Matches no diagnosis: a threshold scaled by a margin gets the plain instruction.
        ("a 10% margin on the threshold",
         _detect(thr="    threshold = 1.1 * choose_threshold(val_scores, max_false_alarm_rate)\n"),
         "Use choose_threshold(anomaly_scores(X_val"),
    ],
}

ALTERNATIVES = {
    "anomaly_scores": [
        "def anomaly_scores(X, X_hat):\n    diff = np.asarray(X, dtype=float) - np.asarray(X_hat, dtype=float)\n"
        "    return (diff * diff).sum(axis=1) / diff.shape[1]",
        "def anomaly_scores(X, X_hat):\n    return np.array([np.mean(np.square(x - xh)) for x, xh in zip(X, X_hat)])",
        # In float32, as Keras computes it.
        "def anomaly_scores(X, X_hat):\n"
        "    return np.mean(np.square(np.asarray(X, 'float32') - np.asarray(X_hat, 'float32')), axis=1)",
        # keras.ops (float32 tensors), converted back.
        "def anomaly_scores(X, X_hat):\n"
        "    d = keras.ops.convert_to_tensor(np.asarray(X, 'float32')) - keras.ops.convert_to_tensor(np.asarray(X_hat, 'float32'))\n"
        "    return keras.ops.convert_to_numpy(keras.ops.mean(d * d, axis=1))",
    ],
    "build_autoencoder": [
        # Functional API: an encoder and a decoder as two models, composed; the sigmoid as its own layer.
        "def build_autoencoder(bottleneck, hidden=32):\n"
        "    encoder = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(hidden, activation='relu'),\n"
        "                                keras.layers.Dense(bottleneck)], name='encoder')\n"
        "    decoder = keras.Sequential([keras.Input(shape=(bottleneck,)), keras.layers.Dense(hidden, activation='relu'),\n"
        "                                keras.layers.Dense(64), keras.layers.Activation('sigmoid')], name='decoder')\n"
        "    inputs = keras.Input(shape=(64,))\n"
        "    model = keras.Model(inputs, decoder(encoder(inputs)))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.MeanSquaredError())\n"
        "    return model",
        # Layers added one by one, activation 'linear' spelled out, a function for the sigmoid, the long loss name.
        "def build_autoencoder(bottleneck, hidden=32):\n    model = keras.Sequential()\n"
        "    model.add(keras.Input(shape=(64,)))\n"
        "    for units, act in ((hidden, 'relu'), (bottleneck, 'linear'), (hidden, 'relu')):\n"
        "        model.add(keras.layers.Dense(units, activation=act))\n"
        "    model.add(keras.layers.Dense(64, activation=keras.activations.sigmoid))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss='mean_squared_error')\n"
        "    return model",
    ],
    "choose_threshold": [
        # np.partition instead of a full sort.
        "def choose_threshold(val_scores, max_false_alarm_rate=0.05):\n"
        "    n = len(val_scores)\n    k = int(np.floor(max_false_alarm_rate * n + 1e-9))\n"
        "    return float(np.partition(np.asarray(val_scores), n - 1 - k)[n - 1 - k])",
        # Counting, the way the rule is stated: the lowest score with at most rate * n scores above it.
        "def choose_threshold(val_scores, max_false_alarm_rate=0.05):\n"
        "    allowed = max_false_alarm_rate * len(val_scores) + 1e-9\n"
        "    for t in sorted(val_scores):\n"
        "        if np.sum(np.asarray(val_scores) > t) <= allowed:\n            return float(t)",
        # In float32, and sorted from the top.
        "def choose_threshold(val_scores, max_false_alarm_rate=0.05):\n"
        "    s = np.sort(np.asarray(val_scores, dtype=np.float32))[::-1]\n"
        "    return s[int(max_false_alarm_rate * len(s) + 1e-9)]",
    ],
    "detect_anomalies": [
        # Calling the model directly, the budget written out, >= for the flags.
        "def detect_anomalies(model, X_val, X_new, max_false_alarm_rate=0.05):\n"
        "    err = lambda X: np.mean((X - np.asarray(model(X))) ** 2, axis=1)\n"
        "    val = np.sort(err(X_val))\n    k = int(max_false_alarm_rate * len(val) + 1e-9)\n"
        "    threshold = val[len(val) - 1 - k]\n    scores = err(X_new)\n"
        "    return scores, threshold, scores >= threshold",
        # float32 end to end: inputs, reconstructions, the mean and the threshold.
        "def detect_anomalies(model, X_val, X_new, max_false_alarm_rate=0.05):\n"
        "    def err(X):\n"
        "        X = np.asarray(X, dtype=np.float32)\n"
        "        return np.mean(np.square(X - model.predict(X, verbose=0)), axis=1, dtype=np.float32)\n"
        "    val = err(X_val)\n"
        "    threshold = np.float32(choose_threshold(val, max_false_alarm_rate))\n"
        "    scores = err(X_new)\n"
        "    return scores, threshold, scores > threshold",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "13_autoencoders")


def _check(name):
    return autoencoders.CHECKS[name]


def _subject(name, reference, answer=None):
    """What the test cell passes to the check: the function, (function, model) or (choose, sweep)."""
    if name == "detect_anomalies":
        return (answer if answer is not None else reference["detect_anomalies"], reference["autoencoder"])
    if name == "bottleneck_sweep":
        return answer if answer is not None else (reference["choose_bottleneck"], reference["sweep"])
    return answer if answer is not None else reference[name]


def grade(name, answer, reference):
    check = _check(name)
    seeds = ONE_SEED if name in MODEL_PARTS else SEEDS
    subject = _subject(name, reference, answer)
    return ([simulate_grading(autoencoders.CHECKS, check, subject, _subject(name, reference), s) for s in seeds],
            public_message(check, subject))


@pytest.mark.parametrize("name", ["anomaly_scores", "build_autoencoder", "choose_threshold", "detect_anomalies",
                                  "bottleneck_sweep"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, None, reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


# ----------------------------------------------------------------------------- Exercise 5: the sweep
def _models(reference):
    return {size: model for size, (model, _) in reference["sweep"].items()}


def _errors(models, X):
    return {size: float(np.mean((predict(m, X) - X) ** 2)) for size, m in models.items()}


def _sweep_with(reference, errors=None, models=None):
    """The reference's sweep with its models or its measured errors replaced: a mistake without a new training."""
    models = models or _models(reference)
    errors = errors or _errors(models, reference["X_val"])
    return {size: (models[size], errors[size]) for size in models}


def _untrained_models(reference):
    import keras

    keras.utils.set_random_seed(3)
    return {size: reference["build_autoencoder"](size) for size in autoencoders.SWEEP_SIZES}


def _fixed_code_models(reference):
    """Every size built with a code of 8 numbers: the reference's size-8 model in every slot."""
    model = _models(reference)[8]
    return {size: model for size in autoencoders.SWEEP_SIZES}


#: (label, choose_bottleneck code or None for the reference's, sweep(reference) or None, phrase, points earned of 4).
SWEEP_WRONG = [
    ("errors measured on the training images", None,
     lambda r: _sweep_with(r, errors=_errors(_models(r), r["X_train"])), "errors on the training images", 3),
    # Wrong measurements: none meets the target, so the rule falls back on the lowest error, a model that holds.
    ("errors summed over the pixels", None,
     lambda r: _sweep_with(r, errors={s: 64 * e for s, e in _errors(_models(r), r["X_val"]).items()}),
     "64 times too large", 3),
    ("root mean squared errors", None,
     lambda r: _sweep_with(r, errors={s: e ** 0.5 for s, e in _errors(_models(r), r["X_val"]).items()}),
     "root of the mean squared error", 3),
    ("models not trained", None, lambda r: _sweep_with(r, models=_untrained_models(r)),
     "no better than the average digit", 2),
    ("the bottleneck ignored: every model has a code of 8", None, lambda r: _sweep_with(r, models=_fixed_code_models(r)),
     "not with a fixed bottleneck", 2),
    ("the size with the lowest error", _choose("    return min(val_errors, key=val_errors.get)"), None,
     "picks the size with the lowest error", 3),
    ("the largest size that meets the target",
     _choose("    ok = [s for s, e in val_errors.items() if e <= target]\n"
             "    return max(ok) if ok else min(val_errors, key=val_errors.get)"), None, "the largest size", 3),
    ("strictly below the target",
     _choose("    ok = [s for s, e in val_errors.items() if e < target]\n"
             "    return min(ok) if ok else min(val_errors, key=val_errors.get)"), None, "not <", 3),
    ("the first size that meets it, in dict order",
     _choose("    for size, error in val_errors.items():\n        if error <= target:\n            return size\n"
             "    return min(val_errors, key=val_errors.get)"), None, "no particular order", 3),
    ("None when no size meets the target",
     _choose("    ok = [s for s, e in val_errors.items() if e <= target]\n    return min(ok) if ok else None"), None,
     "returned NoneType", 3),
    ("always the smallest size", _choose("    return min(val_errors)"), None, "held-out digits", 2),
    ("a list of (model, error) pairs instead of the dict", None, lambda r: list(r["sweep"].values()),
     "should return a dict", 0),
    # Matches no diagnosis: the errors measured on other digits (the test split) get the plain instruction.
    ("errors measured on the test images", None,
     lambda r: _sweep_with(r, errors=_errors(_models(r), autoencoders.digit_sets()[2])),
     "Measure it as the mean of anomaly_scores(X_val", 3),
]


@pytest.mark.parametrize("label,choose,sweep,phrase,earned", SWEEP_WRONG, ids=[w[0] for w in SWEEP_WRONG])
def test_sweep_mistake_loses_its_requirement_with_a_teaching_message(reference, label, choose, sweep, phrase, earned):
    subject = (define(choose, "choose_bottleneck", reference) if choose else reference["choose_bottleneck"],
               sweep(reference) if sweep else reference["sweep"])
    verdicts, public = grade("bottleneck_sweep", subject, reference)
    expect_wrong(label, verdicts, public, phrase)
    for verdict in verdicts:
        assert abs(verdict.credit - earned / 4) < 1e-9, (label, verdict.credit, verdict.feedback)


#: A sweep trained another way (30 epochs of batch 64, shuffled, with validation data), and choose_bottleneck
#: written with a sorted loop.
SWEEP_ALTERNATIVE = (
    "def sweep_bottlenecks(sizes, X_train, X_val):\n"
    "    out = {}\n"
    "    for size in sizes:\n"
    "        m = build_autoencoder(size, hidden=32)\n"
    "        m.fit(X_train, X_train, epochs=30, batch_size=64, shuffle=True, validation_data=(X_val, X_val), verbose=0)\n"
    "        out[size] = (m, np.mean((X_val - m.predict(X_val, verbose=0)) ** 2))\n"
    "    return out",
    "def choose_bottleneck(val_errors, target):\n"
    "    for size in sorted(val_errors):\n        if val_errors[size] <= target:\n            return size\n"
    "    return sorted(val_errors, key=lambda s: (val_errors[s], s))[0]")


def test_sweep_trained_another_way_gets_full_marks(reference):
    import keras

    sweep_fn = define(SWEEP_ALTERNATIVE[0], "sweep_bottlenecks", reference)
    choose = define(SWEEP_ALTERNATIVE[1], "choose_bottleneck", reference)
    keras.utils.set_random_seed(0)
    sweep = sweep_fn(autoencoders.SWEEP_SIZES, reference["X_train"], reference["X_val"])
    expect_correct(*grade("bottleneck_sweep", (choose, sweep), reference))


def test_sweep_errors_measured_in_float32_get_full_marks(reference):
    """The validation errors computed in float32 (keras.ops on the model's float32 outputs) are right too."""
    import keras

    X_val = np.asarray(reference["X_val"], dtype=np.float32)

    def error32(model):
        value = keras.ops.mean(keras.ops.square(keras.ops.convert_to_tensor(X_val) - model(X_val)))
        return np.float32(keras.ops.convert_to_numpy(value))

    sweep = {size: (model, error32(model)) for size, model in _models(reference).items()}
    assert all(np.asarray(error).dtype == np.float32 for _, error in sweep.values())
    expect_correct(*grade("bottleneck_sweep", (reference["choose_bottleneck"], sweep), reference))


def test_detector_given_a_model_over_the_budget_fails_with_the_budget_message(reference):
    """Ex4's rule "at most 10,000 parameters": a right function with a much wider autoencoder loses the part."""
    import keras

    keras.utils.set_random_seed(4)
    wide = reference["build_autoencoder"](8, hidden=128)
    assert wide.count_params() > autoencoders.MAX_TRAINED_PARAMS
    subject = (reference["detect_anomalies"], wide)
    check = _check("detect_anomalies")
    verdicts = [simulate_grading(autoencoders.CHECKS, check, subject, _subject("detect_anomalies", reference), s)
                for s in ONE_SEED]
    expect_wrong("a model over the budget", verdicts, public_message(check, subject), "parameters, and")


def test_untrained_notebook_reports_not_implemented():
    """When a function the trained parts need still raises, the model stays None and the parts say so."""
    for check, subject in ((autoencoders.CHECKS["detect_anomalies"], (None, None)),
                           (autoencoders.CHECKS["bottleneck_sweep"], (None, None))):
        message = public_message(check, subject)
        assert message is not None and "not implemented yet" in message


def test_anomaly_sets_are_deterministic():
    X1, y1 = autoencoders.anomaly_test_set(50, 20, seed=3)
    X2, y2 = autoencoders.anomaly_test_set(50, 20, seed=3)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and y1.sum() == 20 and X1.shape == (70, 64)
    assert X1.min() >= 0 and X1.max() <= 1


def test_build_earns_a_quarter_per_fixed_bug(reference):
    """Each bug is a separable requirement: the buggy code earns 0, each bug left alone costs a quarter."""
    for label, earned in (("the buggy code as given", 0), ("bug 1 left: the code size fixed at 8", 3),
                          ("bug 4 left: categorical cross-entropy", 3)):
        code = next(entry[1] for entry in WRONG["build_autoencoder"] if entry[0] == label)
        verdicts, _ = grade("build_autoencoder", define(code, "build_autoencoder", reference), reference)
        assert all(abs(v.credit - earned / 4) < 1e-9 for v in verdicts), (label, [v.credit for v in verdicts])


def test_buggy_builder_in_the_notebook_shows_all_four_bugs(reference):
    """The locked cell's buggy builder is exactly the 'buggy code as given' answer: every bug is there to find."""
    verdicts, public = grade("build_autoencoder", reference["buggy_build_autoencoder"], reference)
    for bug in ("Bug 1", "Bug 2", "Bug 3", "Bug 4"):
        assert bug in public, public
    assert all(v.credit == 0 for v in verdicts)


#: Every named cause of a part: a mistake that matches none of them must not get any.
_GENERIC = [("anomaly_scores", "fourth powers", ["sums over each row", "np.sqrt", "mean absolute", "per-feature",
                                                  "mean differences"]),
            ("choose_threshold", "mean plus two standard deviations",
             ["interpolates", "quantile", "one score more", "one score fewer", "largest validation score", "position"]),
            ("detect_anomalies", "a 10% margin on the threshold",
             ["training scores", "the very data", "interpolated", "fraction"])]


@pytest.mark.parametrize("name,label,named", _GENERIC, ids=[g[1] for g in _GENERIC])
def test_mistake_matching_no_diagnosis_gets_the_generic_message(reference, name, label, named):
    code = next(entry[1] for entry in WRONG[name] if entry[0] == label)
    verdicts, public = grade(name, define(code, name, reference), reference)
    for text in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in text for cause in named), text


def test_choice_dicts_are_shuffled_and_cover_every_rule():
    """The grader's dicts for choose_bottleneck are not in size order and include a tie and a dict none meets."""
    for seed in range(20):
        cases = autoencoders._random_choices(np.random.default_rng(seed))
        kinds = []
        for case in cases:
            sizes, errors, target = case["sizes"], case["errors"], case["target"]
            kinds.append(("none" if min(errors) > target else "tie" if target in errors else "some"))
            assert len(set(errors)) == len(errors)
        assert "none" in kinds and "tie" in kinds
        assert any(case["sizes"] != sorted(case["sizes"]) for case in cases)


# ----------------------------------------------------------------------------- the model parts cannot be lied to
# A model part is judged from the model the kernel reports (its config and weights), rebuilt by the grader,
# never from facts the kernel states. The attacks below play a kernel whose check `run` was replaced: each
# entry builds the result that kernel reports for one set of inputs (the full inputs, grader-only keys
# included, as the strongest possible liar), and the part must score 0 (or lose the requirement it attacks)
# with a message, without raising.
ATTACK_SEED = 44
_PUBLIC_DIGITS = np.concatenate(autoencoders._digits()[:2])  # every digit a kernel can load: 1797 rows


def judge_forged(name, reference, forge, seed=ATTACK_SEED):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(autoencoders.CHECKS, _check(name), _subject(name, reference), forge, seed)


def _assert_zero(verdict, phrase):
    assert not verdict.passed, "the attack passed"
    assert phrase in verdict.detail, verdict.detail
    assert verdict.feedback


def _untrained(reference, seed=1):
    import keras

    keras.utils.set_random_seed(seed)
    return reference["build_autoencoder"](autoencoders.BOTTLENECK, 32)


def lookup_autoencoder(prototypes, code=autoencoders.BOTTLENECK, scale=100.0, code_scale=1e4):
    """Built-in Dense layers only, with a bottleneck of `code` numbers: a sharp softmax picks the nearest
    prototype, the code is that prototype's own random code, a second sharp softmax finds the code's
    prototype again, and the output layer writes it out. It reconstructs any image as its nearest prototype."""
    import keras

    P = np.asarray(prototypes, dtype="float32")
    n = len(P)
    codes = (10 * np.random.default_rng(0).normal(size=(n, code))).astype("float32")
    layers = [keras.layers.Dense(n, activation="softmax"), keras.layers.Dense(code),
              keras.layers.Dense(n, activation="softmax"), keras.layers.Dense(64)]
    model = keras.Sequential([keras.Input(shape=(64,)), *layers])
    layers[0].set_weights([scale * P.T, -scale * (P ** 2).sum(axis=1) / 2])
    layers[1].set_weights([codes, np.zeros(code, dtype="float32")])
    layers[2].set_weights([code_scale * codes.T, -code_scale * (codes ** 2).sum(axis=1) / 2])
    layers[3].set_weights([P, np.zeros(64, dtype="float32")])
    model.compile(optimizer="adam", loss="mse")
    return model


def _lambda_copier():
    """A Functional model with an 8-number bottleneck whose Lambda layer hands back the input: error 0."""
    import keras

    inputs = keras.Input(shape=(64,))
    decoded = keras.layers.Dense(64, activation="sigmoid")(keras.layers.Dense(8)(inputs))
    out = keras.layers.Lambda(lambda ts: ts[1] + 0.0 * ts[0])([decoded, inputs])
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="mse")
    return model


def _subclassed_copier():
    import keras

    class Copier(keras.Model):
        def __init__(self):
            super().__init__()
            self.code = keras.layers.Dense(8)

        def call(self, x):
            return x + 0.0 * keras.ops.mean(self.code(x))

    model = Copier()
    model(np.zeros((1, 64), dtype="float32"))
    model.compile(optimizer="adam", loss="mse")
    return model


_LAMBDA_BUILD = _build(_layers(output="None")[:3] + ("        keras.layers.Dense(64),\n",
                                                      "        keras.layers.Lambda(keras.activations.sigmoid),\n"))
_SUBCLASSED_BUILD = ("class AE(keras.Model):\n"
                     "    def __init__(self, bottleneck, hidden):\n        super().__init__()\n"
                     "        self.stack = [keras.layers.Dense(hidden, activation='relu'), keras.layers.Dense(bottleneck),\n"
                     "                      keras.layers.Dense(hidden, activation='relu'),\n"
                     "                      keras.layers.Dense(64, activation='sigmoid')]\n"
                     "    def call(self, x):\n        for layer in self.stack:\n            x = layer(x)\n        return x\n"
                     "def build_autoencoder(bottleneck, hidden=32):\n    model = AE(bottleneck, hidden)\n"
                     "    model(np.zeros((1, 64), dtype='float32'))\n"
                     "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n"
                     "    return model")


def _old_build_claims(reference, inp):
    """What the build check's old `run` reported: the reference model's facts."""
    b, h = int(inp["bottleneck"]), int(inp["hidden"])
    return {"is_model": True, "compiled": True, "loss": "mse", "output_shape": [3, 64], "output_range": [0.1, 0.9],
            "layers": [{"kind": "Dense", "units": h, "activation": "relu", "use_bias": True},
                       {"kind": "Dense", "units": b, "activation": "linear", "use_bias": True},
                       {"kind": "Dense", "units": h, "activation": "relu", "use_bias": True},
                       {"kind": "Dense", "units": 64, "activation": "sigmoid", "use_bias": True}],
            "n_params": 64 * h + h + h * b + b + b * h + h + h * 64 + 64}


def _edited_bottleneck_record(reference, inp):
    """A model whose code has 8 numbers whatever `bottleneck` says, its config edited to claim `bottleneck`."""
    model = define(WRONG["build_autoencoder"][1][1], "build_autoencoder", reference)(int(inp["bottleneck"]),
                                                                                    int(inp["hidden"]))
    record = report_model(model)
    config = json.loads(record["keras_config"])
    config["config"]["layers"][1]["config"]["units"] = int(inp["bottleneck"])
    return {**record, "keras_config": json.dumps(config)}


def _old_detect_claims(reference, inp):
    """What the detect check's old `run` reported, from a right function and errors the liar chose."""
    X_new, scores = np.asarray(inp["X_new"]), np.linspace(0.0, 1.0, len(inp["X_new"]))
    threshold = float(np.sort(np.linspace(0.0, 1.0, 300))[284])
    return {"is_model": True, "result": (scores, threshold, scores > threshold),
            "errors": {"val": np.linspace(0.0, 1.0, 300), "new": scores, "train": np.zeros(len(X_new))}}


def _detect_with(code, reference, inp, model=None):
    """What the new `run` reports for the given detect_anomalies (the reference's model unless told)."""
    model = reference["autoencoder"] if model is None else model
    detect = define(code, "detect_anomalies", reference)
    result = detect(model, np.asarray(inp["X_val"], dtype="float32"), np.asarray(inp["X_new"], dtype="float32"),
                    inp["max_false_alarm_rate"])
    return {"is_model": True, "model": report_model(model), "result": tuple(np.asarray(v) for v in result)}


def _sweep_report(reference, inp, models=None, errors=None):
    """What the sweep's `run` reports for the reference's functions, with models or errors swapped by a liar."""
    report = autoencoders.bottleneck_sweep.run((reference["choose_bottleneck"], reference["sweep"]), kernel_view(inp))
    for entry in report["entries"]:
        if models is not None:
            entry["model"] = report_model(models[entry["size"]])
        if errors is not None:
            entry["error"] = errors[entry["size"]]
    return report


#: (part, label, forge(reference, inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("build_autoencoder", "the old claim dict, with the right facts", _old_build_claims, "cannot be checked"),
    ("build_autoencoder", "bottleneck ignored, the config edited to claim it", _edited_bottleneck_record,
     "cannot be checked"),
    ("build_autoencoder", "report_model of an uncompiled model, not the one asked for",
     lambda reference, inp: report_model(define(WRONG["build_autoencoder"][10][1], "build_autoencoder", reference)(
         int(inp["bottleneck"]), int(inp["hidden"]))), "not compiled"),
    ("detect_anomalies", "the old claim dict, with errors the liar chose", _old_detect_claims, "cannot be checked"),
    ("detect_anomalies", "a threshold from X_new, reported with the old errors claims added",
     lambda reference, inp: {**_detect_with(WRONG["detect_anomalies"][1][1], reference, inp),
                             "errors": _old_detect_claims(reference, inp)["errors"]}, "contains the anomalies"),
    ("detect_anomalies", "an untrained autoencoder, reported by the right function",
     lambda reference, inp: _detect_with(_detect(), reference, inp, _untrained(reference)), "ROC AUC"),
    ("bottleneck_sweep", "untrained models, reported with the trained models' validation errors",
     lambda reference, inp: _sweep_report(reference, inp, models=_untrained_models(reference)),
     "no better than the average digit"),
    ("bottleneck_sweep", "the trained models, reported with errors that make size 2 good enough",
     lambda reference, inp: _sweep_report(reference, inp, errors={2: 0.02, 4: 0.019, 8: 0.018, 16: 0.011}),
     "mean squared reconstruction error on X_val"),
    ("bottleneck_sweep", "the old kind of claim: no models, only errors",
     lambda reference, inp: {"entries": [{"size": s, "model": {"is_model": True}, "error": 0.01}
                                         for s in autoencoders.SWEEP_SIZES],
                             "own_choice": {"ok": 2}, "choices": [{"ok": 8}] * 4}, "cannot be checked"),
]

#: (part, label, what the kernel builds, a phrase the message must contain): refused, with a message.
REJECTED_MODELS = [
    ("build_autoencoder", "a Lambda layer for the sigmoid", _LAMBDA_BUILD, "Lambda layer"),
    ("build_autoencoder", "a subclassed keras.Model", _SUBCLASSED_BUILD, "built-in"),
    ("detect_anomalies", "a Lambda layer that hands back the input", _lambda_copier, "Lambda layer"),
    ("detect_anomalies", "a subclassed model that hands back the input", _subclassed_copier, "cannot be checked"),
    ("bottleneck_sweep", "a Lambda layer that hands back the input, as the size-8 model", _lambda_copier, "Lambda layer"),
]


@pytest.mark.parametrize("name,label,forge,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in LYING_REPORTS])
def test_lying_report_scores_zero(reference, name, label, forge, phrase):
    verdict = judge_forged(name, reference, lambda inp: forge(reference, inp))
    _assert_zero(verdict, phrase)
    if name == "bottleneck_sweep":  # the requirement attacked is lost, whatever else the report gets right
        assert verdict.credit <= 3 / 4


@pytest.mark.parametrize("name,label,build,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in REJECTED_MODELS])
def test_model_the_grader_does_not_rebuild_scores_zero(reference, name, label, build, phrase):
    check = _check(name)
    if name == "build_autoencoder":
        subject = define(build, name, reference)
    elif name == "detect_anomalies":
        subject = (reference["detect_anomalies"], build())
    else:
        sweep = dict(reference["sweep"])
        sweep[8] = (build(), sweep[8][1])
        subject = (reference["choose_bottleneck"], sweep)
    verdict = simulate_grading(autoencoders.CHECKS, check, subject, _subject(name, reference), ATTACK_SEED)
    _assert_zero(verdict, phrase)
    public = public_message(check, subject)
    assert public is not None and "cannot be checked" in public, public


def test_trained_parts_are_judged_on_images_the_kernel_never_sees(reference):
    """Every image the trained parts are judged on is grader-only ("_" keys), and none is a row of the public
    digits (nor of the X_new the kernel is given)."""
    public_rows = {row.tobytes() for row in _PUBLIC_DIGITS.astype("float32")}
    for seed in (ATTACK_SEED, ATTACK_SEED + 1):
        inputs = grader_inputs(autoencoders.CHECKS, seed)
        (sweep,) = inputs["bottleneck_sweep"]
        (detect,) = inputs["detect_anomalies"]
        assert set(sweep) - set(kernel_view(sweep)) == {"_X"}
        assert set(detect) - set(kernel_view(detect)) == {"_X_eval", "_eval_is_anomaly"}
        seen = public_rows | {row.tobytes() for row in np.asarray(detect["X_new"], dtype="float32")}
        for X in (sweep["_X"], detect["_X_eval"]):
            assert not any(row.tobytes() in seen for row in np.asarray(X, dtype="float32"))
    # The notebook trains on digit_sets()[0]; the held-out images are test digits, perturbed.
    assert np.array_equal(reference["X_train"], autoencoders.digit_sets()[0])


def test_lookup_of_the_public_digits_loses_the_model_requirements(reference):
    """A nearest-prototype "autoencoder" over all 1797 public digits, with an 8-number code, reconstructs even
    perturbed held-out digits within the limit (a digit stays nearest to its own original). Put in the sweep
    as the size-8 model, it is refused by its size: the models requirement and the chosen model's are lost."""
    model = lookup_autoencoder(_PUBLIC_DIGITS)
    (inp,) = grader_inputs(autoencoders.CHECKS, ATTACK_SEED)["bottleneck_sweep"]
    X = np.asarray(inp["_X"], dtype=np.float64)
    assert np.mean((predict(model, X) - X) ** 2) <= autoencoders.HELDOUT_LIMIT
    sweep = dict(reference["sweep"])
    sweep[8] = (model, float(np.mean((predict(model, reference["X_val"]) - reference["X_val"]) ** 2)))
    verdict = simulate_grading(autoencoders.CHECKS, autoencoders.bottleneck_sweep,
                               (reference["choose_bottleneck"], sweep), _subject("bottleneck_sweep", reference),
                               ATTACK_SEED)
    _assert_zero(verdict, "parameters")
    assert verdict.credit <= 2 / 4


def test_lookup_of_the_kernels_own_images_scores_zero(reference):
    """A model that memorises the normal rows of X_new (which the kernel sees, and whose anomalies it could
    find from the public generator) is refused by its size, and the AUC is measured on the grader's own mix."""
    inp = autoencoders.CHECKS["detect_anomalies"].public_cases[0].inputs
    X_new, is_anomaly = autoencoders.anomaly_test_set(300, 150, seed=0)
    model = lookup_autoencoder(X_new[is_anomaly == 0])
    assert np.array_equal(X_new, inp["X_new"])
    _assert_zero(simulate_grading(autoencoders.CHECKS, autoencoders.CHECKS["detect_anomalies"],
                                  (reference["detect_anomalies"], model), _subject("detect_anomalies", reference),
                                  ATTACK_SEED), "parameters")


@pytest.mark.parametrize("name", ["build_autoencoder", "detect_anomalies", "bottleneck_sweep"])
def test_reference_passes_on_several_seeds(reference, name):
    check = _check(name)
    for seed in (45, 46, 47):
        verdict = simulate_grading(autoencoders.CHECKS, check, _subject(name, reference), _subject(name, reference), seed)
        assert verdict.passed, verdict.detail


_BAD_CONFIG = json.dumps({"module": "keras.src.models.functional", "class_name": "Functional",
                          "config": {"layers": "not a list"}})
#: (part, a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = [
    ("build_autoencoder", "not a dict"),
    ("build_autoencoder", {"is_model": True, "keras_config": "[1, 2]", "weights": []}),
    ("build_autoencoder", {"is_model": True, "keras_config": _BAD_CONFIG, "weights": [1]}),
    ("detect_anomalies", {"is_model": True, "model": "not a record", "result": (1, 2, 3)}),
    ("detect_anomalies", {"is_model": True, "model": {"is_model": True, "keras_config": _BAD_CONFIG}, "result": None}),
    ("bottleneck_sweep", {"entries": "nope"}),
    ("bottleneck_sweep", {"entries": [{"size": 2, "model": {"is_model": True, "keras_config": "[" * 100_000},
                                       "error": 0.1}], "own_choice": "x", "choices": 5}),
    ("bottleneck_sweep", {"sweep_kind": ["a", "list"]}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    verdict = check.judge(case.inputs, {"ok": to_plain(got)}, case.expected)
    assert not verdict.passed and verdict.message, verdict
    assert grader_exception_in(verdict.message) is None, verdict.message
