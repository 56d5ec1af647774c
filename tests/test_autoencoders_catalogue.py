"""13_autoencoders: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained parts use one seed and few trainings.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (forged_verdict, grader_inputs, alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import autoencoders
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import predict, report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

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
    X1, y1 = autoencoders.anomaly_test_set(50, 20, seed=3)
    X2, y2 = autoencoders.anomaly_test_set(50, 20, seed=3)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and y1.sum() == 20 and X1.shape == (70, 64)
    assert X1.min() >= 0 and X1.max() <= 1


# ----------------------------------------------------------------------------- the model parts cannot be lied to
# A model part is judged from the model the kernel reports (its config and weights), rebuilt by the grader,
# never from facts the kernel states. The attacks below play a kernel whose check `run` was replaced: each
# entry builds the result that kernel reports for one set of inputs (the full inputs, grader-only keys
# included, as the strongest possible liar), and the part must score 0 with a message, without raising.
ATTACK_SEED = 44
_PUBLIC_DIGITS = np.concatenate(autoencoders._digits()[:2])  # every digit a kernel can load: 1797 rows


def _grader_inputs(seed):
    return grader_inputs(autoencoders.CHECKS, seed)


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
    model = define(WRONG["build_autoencoder"][0][1], "build_autoencoder", reference)(int(inp["bottleneck"]),
                                                                                    int(inp["hidden"]))
    record = report_model(model)
    config = json.loads(record["keras_config"])
    config["config"]["layers"][1]["config"]["units"] = int(inp["bottleneck"])
    return {**record, "keras_config": json.dumps(config)}


def _old_detect_claims(reference, inp):
    """What the detect check's old `run` reported, from a right function and errors the liar chose."""
    X_new, scores = np.asarray(inp["X_new"]), np.linspace(0.0, 1.0, len(inp["X_new"]))
    threshold = float(np.percentile(np.linspace(0.0, 1.0, 300), inp["percentile"]))
    return {"is_model": True, "result": (scores, threshold, scores > threshold),
            "errors": {"val": np.linspace(0.0, 1.0, 300), "new": scores, "train": np.zeros(len(X_new))}}


def _detect_with(code, reference, inp, model=None):
    """What the new `run` reports for the given detect_anomalies (the reference's model unless told)."""
    model = reference["autoencoder"] if model is None else model
    detect = define(code, "detect_anomalies", reference)
    result = detect(model, np.asarray(inp["X_val"], dtype="float32"), np.asarray(inp["X_new"], dtype="float32"),
                    inp["percentile"])
    return {"is_model": True, "model": report_model(model), "result": tuple(np.asarray(v) for v in result)}


#: (part, label, forge(reference, inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("build_autoencoder", "the old claim dict, with the right facts", _old_build_claims, "cannot be checked"),
    ("build_autoencoder", "bottleneck ignored, the config edited to claim it", _edited_bottleneck_record,
     "cannot be checked"),
    ("build_autoencoder", "report_model of an uncompiled model, not the one asked for",
     lambda reference, inp: report_model(define(WRONG["build_autoencoder"][6][1], "build_autoencoder", reference)(
         int(inp["bottleneck"]), int(inp["hidden"]))), "not compiled"),
    ("train_autoencoder", "the old claim dict: reconstructions equal to the images",
     lambda reference, inp: {"is_model": True, "outputs": np.asarray(inp["_X"]), "narrowest": 8}, "cannot be checked"),
    ("train_autoencoder", "an untrained model's record with perfect reconstructions added to it",
     lambda reference, inp: {**report_model(_untrained(reference)), "outputs": np.asarray(inp["_X"]), "narrowest": 8},
     "not trained to reconstruct"),
    ("train_autoencoder", "the trained model's config with an untrained model's weights",
     lambda reference, inp: {**report_model(reference["autoencoder"]),
                             "weights": report_model(_untrained(reference))["weights"]}, "not trained to reconstruct"),
    ("detect_anomalies", "the old claim dict, with errors the liar chose", _old_detect_claims, "cannot be checked"),
    ("detect_anomalies", "a threshold from X_new, reported with the old errors claims added",
     lambda reference, inp: {**_detect_with(WRONG["detect_anomalies"][1][1], reference, inp),
                             "errors": _old_detect_claims(reference, inp)["errors"]}, "contains the anomalies"),
    ("detect_anomalies", "an untrained autoencoder, reported by the right function",
     lambda reference, inp: _detect_with(_detect(), reference, inp, _untrained(reference)), "ROC AUC"),
]

#: (part, label, what the kernel builds, a phrase the message must contain): refused, with a message.
REJECTED_MODELS = [
    ("build_autoencoder", "a Lambda layer for the sigmoid", _LAMBDA_BUILD, "Lambda layer"),
    ("build_autoencoder", "a subclassed keras.Model", _SUBCLASSED_BUILD, "built-in"),
    ("train_autoencoder", "a Lambda layer that hands back the input", _lambda_copier, "Lambda layer"),
    ("train_autoencoder", "a subclassed model that hands back the input", _subclassed_copier, "cannot be checked"),
    ("detect_anomalies", "a Lambda layer that hands back the input", _lambda_copier, "Lambda layer"),
    ("detect_anomalies", "a subclassed model that hands back the input", _subclassed_copier, "cannot be checked"),
]


@pytest.mark.parametrize("name,label,forge,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in LYING_REPORTS])
def test_lying_report_scores_zero(reference, name, label, forge, phrase):
    _assert_zero(judge_forged(name, reference, lambda inp: forge(reference, inp)), phrase)


@pytest.mark.parametrize("name,label,build,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in REJECTED_MODELS])
def test_model_the_grader_does_not_rebuild_scores_zero(reference, name, label, build, phrase):
    check = _check(name)
    if name == "build_autoencoder":
        subject = define(build, name, reference)
    elif name == "train_autoencoder":
        subject = build()
    else:
        subject = (reference["detect_anomalies"], build())
    verdict = simulate_grading(autoencoders.CHECKS, check, subject, _subject(name, reference), ATTACK_SEED)
    _assert_zero(verdict, phrase)
    public = public_message(check, subject)
    assert public is not None and "cannot be checked" in public, public


def test_trained_parts_are_judged_on_images_the_kernel_never_sees(reference):
    """Every image the trained parts are judged on is grader-only ("_" keys), and none is a row of the public
    digits (nor of the X_new the kernel is given); the kernel of trained_autoencoder gets no input at all."""
    public_rows = {row.tobytes() for row in _PUBLIC_DIGITS.astype("float32")}
    for seed in (ATTACK_SEED, ATTACK_SEED + 1):
        inputs = _grader_inputs(seed)
        (trained,) = inputs["trained_autoencoder"]
        (detect,) = inputs["detect_anomalies"]
        assert kernel_view(trained) == {}
        assert set(detect) - set(kernel_view(detect)) == {"_X_eval", "_eval_is_anomaly"}
        seen = public_rows | {row.tobytes() for row in np.asarray(detect["X_new"], dtype="float32")}
        for X in (trained["_X"], detect["_X_eval"]):
            assert not any(row.tobytes() in seen for row in np.asarray(X, dtype="float32"))
    # The notebook trains on digit_sets()[0]; the held-out images are test digits, perturbed.
    assert np.array_equal(reference["X_train"], autoencoders.digit_sets()[0])


def test_lookup_of_the_public_digits_scores_zero(reference):
    """A nearest-prototype "autoencoder" over all 1797 public digits, with an 8-number code, reconstructs even
    perturbed held-out digits within the threshold (a digit stays nearest to its own original), and would
    have passed before: the size rule, not the data alone, is what stops it."""
    model = lookup_autoencoder(_PUBLIC_DIGITS)
    (inp,) = _grader_inputs(ATTACK_SEED)["trained_autoencoder"]
    X = np.asarray(inp["_X"], dtype=np.float64)
    assert np.mean((predict(model, X) - X) ** 2) <= autoencoders.RECON_MSE_THRESHOLD
    _assert_zero(simulate_grading(autoencoders.CHECKS, autoencoders.trained_autoencoder, model,
                                  reference["autoencoder"], ATTACK_SEED), "parameters")


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


@pytest.mark.parametrize("name", ["build_autoencoder", "train_autoencoder", "detect_anomalies"])
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
    ("train_autoencoder", {"is_model": True, "keras_config": 10**30, "weights": "x"}),
    ("train_autoencoder", {"is_model": True, "keras_config": "[" * 100_000, "weights": []}),
    ("detect_anomalies", {"is_model": True, "model": "not a record", "result": (1, 2, 3)}),
    ("detect_anomalies", {"is_model": True, "model": {"is_model": True, "keras_config": _BAD_CONFIG}, "result": None}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    message = check.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message
