"""13_autoencoders: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained parts use one seed and few trainings.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import autoencoders

SEEDS = (41, 42)
ONE_SEED = (43,)
MODEL_PARTS = ("build_autoencoder", "train_autoencoder", "detect_anomalies")


def _build(layers=("        keras.layers.Dense(hidden, activation='relu'),\n"
                   "        keras.layers.Dense(bottleneck),\n"
                   "        keras.layers.Dense(hidden, activation='relu'),\n"
                   "        keras.layers.Dense(64, activation='sigmoid'),\n"),
           compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n"):
    return ("def build_autoencoder(bottleneck, hidden=32):\n    model = keras.Sequential([\n"
            "        keras.Input(shape=(64,)),\n" + "".join(layers) + "    ])\n" + compile_ + "    return model\n")


def _layers(first="relu", code="None", output="'sigmoid'", code_units="bottleneck", bias=""):
    return (f"        keras.layers.Dense(hidden, activation='{first}'{bias}),\n",
            f"        keras.layers.Dense({code_units}, activation={code}{bias}),\n",
            f"        keras.layers.Dense(hidden, activation='relu'{bias}),\n",
            f"        keras.layers.Dense(64, activation={output}{bias}),\n")


def _detect(val="    val_scores = anomaly_scores(X_val, model.predict(X_val, verbose=0))\n",
            thr="    threshold = choose_threshold(val_scores, percentile)\n",
            new="    scores = anomaly_scores(X_new, model.predict(X_new, verbose=0))\n",
            flags="    flags = scores > threshold\n"):
    return ("def detect_anomalies(model, X_val, X_new, percentile=95):\n" + val + thr + new + flags +
            "    return scores, threshold, flags\n")


WRONG = {
    "build_autoencoder": [
        ("bottleneck size ignored (always 8)", _build(_layers(code_units="8")), "bottleneck size is ignored"),
        ("linear output instead of sigmoid", _build(_layers(output="None")), "sigmoid output"),
        ("ReLU output", _build(_layers(output="'relu'")), "sigmoid output"),
        ("no hidden layers", _build(("        keras.layers.Dense(bottleneck),\n",
                                     "        keras.layers.Dense(64, activation='sigmoid'),\n")), "expected Dense("),
        ("ReLU on the code", _build(_layers(code="'relu'")), "linear code"),
        ("no biases", _build(_layers(bias=", use_bias=False")), "use_bias"),
        ("not compiled", _build(compile_=""), "not compiled"),
        ("cross-entropy loss", _build(compile_="    model.compile(optimizer='adam', loss='binary_crossentropy')\n"),
         "reconstruction loss"),
    ],
    "train_autoencoder": [
        ("not trained", "def train_autoencoder(model, X_train):\n    return None", "not trained to reconstruct"),
        ("trained on noise targets",
         "def train_autoencoder(model, X_train):\n"
         "    noise = np.random.default_rng(0).uniform(0, 1, X_train.shape)\n"
         "    return model.fit(X_train, noise, epochs=5, batch_size=32, verbose=0)",
         "not trained to reconstruct"),
        ("two epochs only",
         "def train_autoencoder(model, X_train):\n"
         "    return model.fit(X_train, X_train, epochs=2, batch_size=32, verbose=0)",
         "learned something but not enough"),
    ],
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
    ],
    "choose_threshold": [
        ("percentile given as a fraction",
         "def choose_threshold(val_scores, percentile=95):\n    return float(np.percentile(val_scores, percentile / 100))",
         "given as a fraction"),
        ("the maximum score", "def choose_threshold(val_scores, percentile=95):\n    return float(np.max(val_scores))",
         "largest validation score"),
        ("the complementary percentile",
         "def choose_threshold(val_scores, percentile=95):\n    return float(np.percentile(val_scores, 100 - percentile))",
         "(100 - percentile)th percentile"),
        ("method='nearest'",
         "def choose_threshold(val_scores, percentile=95):\n"
         "    return float(np.percentile(val_scores, percentile, method='nearest'))", "linear interpolation"),
        ("an index into the sorted scores",
         "def choose_threshold(val_scores, percentile=95):\n"
         "    s = np.sort(val_scores)\n    return float(s[min(len(s) - 1, int(percentile / 100 * len(s)))])",
         "picked by its rank"),
        ("mean plus two standard deviations",
         "def choose_threshold(val_scores, percentile=95):\n    return float(np.mean(val_scores) + 2 * np.std(val_scores))",
         "mean plus two standard deviations"),
        ("midpoint interpolation",
         "def choose_threshold(val_scores, percentile=95):\n"
         "    return float(np.percentile(val_scores, percentile, method='midpoint'))", "midpoint"),
    ],
    "detect_anomalies": [
        ("threshold from the training scores",
         _detect(val="    val_scores = anomaly_scores(X_train, model.predict(X_train, verbose=0))\n"),
         "percentile of the training scores"),
        ("threshold from the new data (with its anomalies)",
         _detect(val="    val_scores = anomaly_scores(X_new, model.predict(X_new, verbose=0))\n"),
         "the very data that contains the anomalies"),
        ("percentile given as a fraction",
         _detect(thr="    threshold = float(np.percentile(val_scores, percentile / 100))\n"), "as a fraction"),
        ("flags reversed", _detect(flags="    flags = scores < threshold\n"), "the flags are reversed"),
        ("summed scores",
         _detect(new="    scores = np.sum((X_new - model.predict(X_new, verbose=0)) ** 2, axis=1)\n"), "sums, not means"),
        ("per-feature scores",
         _detect(new="    scores = np.mean((X_new - model.predict(X_new, verbose=0)) ** 2, axis=0)\n"), "per-feature"),
    ],
}

ALTERNATIVES = {
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
        # Layers added one by one, activation given as a function, the long loss name.
        "def build_autoencoder(bottleneck, hidden=32):\n    model = keras.Sequential()\n"
        "    model.add(keras.Input(shape=(64,)))\n"
        "    for units, act in ((hidden, 'relu'), (bottleneck, 'linear'), (hidden, 'relu')):\n"
        "        model.add(keras.layers.Dense(units, activation=act))\n"
        "    model.add(keras.layers.Dense(64, activation=keras.activations.sigmoid))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mean_squared_error')\n"
        "    return model",
    ],
    "anomaly_scores": [
        "def anomaly_scores(X, X_hat):\n    diff = np.asarray(X, dtype=float) - np.asarray(X_hat, dtype=float)\n"
        "    return (diff * diff).sum(axis=1) / diff.shape[1]",
        "def anomaly_scores(X, X_hat):\n    return np.array([np.mean(np.square(x - xh)) for x, xh in zip(X, X_hat)])",
    ],
    "choose_threshold": [
        "def choose_threshold(val_scores, percentile=95):\n    return np.quantile(val_scores, percentile / 100)",
        # Linear interpolation between order statistics, written out.
        "def choose_threshold(val_scores, percentile=95):\n    s = np.sort(np.asarray(val_scores, dtype=float))\n"
        "    pos = percentile / 100 * (len(s) - 1)\n    lo = int(np.floor(pos))\n    hi = min(lo + 1, len(s) - 1)\n"
        "    return s[lo] + (pos - lo) * (s[hi] - s[lo])",
    ],
    "detect_anomalies": [
        # Calling the model directly, np.quantile, >= for the flags, a list instead of a tuple is not allowed:
        # the statement asks for a triple.
        "def detect_anomalies(model, X_val, X_new, percentile=95):\n"
        "    err = lambda X: np.mean((X - np.asarray(model(X))) ** 2, axis=1)\n"
        "    threshold = np.quantile(err(X_val), percentile / 100)\n    scores = err(X_new)\n"
        "    return scores, threshold, scores >= threshold",
    ],
}

#: A functional autoencoder trained with validation data and shuffling: (build code, train code).
TRAINING_ALTERNATIVE = (ALTERNATIVES["build_autoencoder"][0],
                        "def train_autoencoder(model, X_train):\n"
                        "    return model.fit(x=X_train, y=X_train, epochs=20, batch_size=32, shuffle=True,\n"
                        "                     validation_data=(X_val, X_val), verbose=0)")


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "13_autoencoders")


def _check(name):
    return autoencoders.CHECKS["trained_autoencoder" if name == "train_autoencoder" else name]


def _subject(name, reference, answer=None):
    """What the test cell passes to the check: the function, the trained model, or (function, model)."""
    if name == "train_autoencoder":
        return answer if answer is not None else reference["autoencoder"]
    if name == "detect_anomalies":
        return (answer if answer is not None else reference["detect_anomalies"], reference["autoencoder"])
    return answer if answer is not None else reference[name]


def _trained(reference, build_code, train_code):
    """The notebook's Exercise 2 cell with the given answers: seed, build, train, keep the model."""
    import keras

    build = define(build_code, "build_autoencoder", reference) if build_code else reference["build_autoencoder"]
    train = define(train_code, "train_autoencoder", reference)
    keras.utils.set_random_seed(0)
    model = build(8, 32)
    train(model, reference["X_train"])
    return model


def grade(name, answer, reference):
    check = _check(name)
    seeds = ONE_SEED if name in MODEL_PARTS else SEEDS
    subject = _subject(name, reference, answer)
    return ([simulate_grading(autoencoders.CHECKS, check, subject, _subject(name, reference), s) for s in seeds],
            public_message(check, subject))


@pytest.mark.parametrize("name", ["build_autoencoder", "train_autoencoder", "anomaly_scores", "choose_threshold",
                                  "detect_anomalies"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, None, reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    if name == "train_autoencoder":
        answer = _trained(reference, None, code)
    else:
        answer = define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


def test_alternative_training_reaches_the_error(reference):
    expect_correct(*grade("train_autoencoder", _trained(reference, *TRAINING_ALTERNATIVE), reference))


def test_untrained_notebook_reports_not_implemented():
    """When build_autoencoder or train_autoencoder still raises, autoencoder stays None and the parts say so."""
    for check, subject in ((autoencoders.CHECKS["trained_autoencoder"], None),
                           (autoencoders.CHECKS["detect_anomalies"], (None, None))):
        message = public_message(check, subject)
        assert message is not None and "not implemented yet" in message


def test_anomaly_sets_are_deterministic():
    import numpy as np

    X1, y1 = autoencoders.anomaly_test_set(50, 20, seed=3)
    X2, y2 = autoencoders.anomaly_test_set(50, 20, seed=3)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and y1.sum() == 20 and X1.shape == (70, 64)
    assert X1.min() >= 0 and X1.max() <= 1
