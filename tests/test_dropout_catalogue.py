"""08_dropout: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The numpy parts are cheap and use three seeds. The trained-model part trains once per answer with one
seed; answers whose mistake shows before training (dropout left on at inference) are not trained.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (forged_verdict, odd_report_failures, grader_inputs, alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import dropout

SEEDS = (81, 82, 83)
ONE_SEED = (84,)

_FWD = "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n        return x, None\n"
_KEEP = "    keep = rng.random(x.shape) >= rate\n"


def _forward(body, keep=_KEEP, head=_FWD):
    return head + keep + body


_RIGHT_FORWARD = _forward("    return x * keep / (1 - rate), keep\n")
_NO_RESCALE = _forward("    return x * keep, keep\n")
_TIMES_RATE = _forward("    return x * keep * rate, keep\n")
_KEEP_WITH_RATE = _forward("    return x * keep / (1 - rate), keep\n", keep="    keep = rng.random(x.shape) < rate\n")
_GLOBAL_RNG = _forward("    return x * keep / (1 - rate), keep\n", keep="    keep = np.random.random(x.shape) >= rate\n")
_CLASSIC_TRAIN = _forward("    return x * keep * (1 - rate), keep\n")
_ALWAYS_MASK = ("def dropout_forward(x, rate, rng, training=True):\n" + _KEEP +
                "    return x * keep / (1 - rate), keep\n")
_CLASSIC_TEST = ("def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                 "        return x * (1 - rate), None\n" + _KEEP + "    return x * keep / (1 - rate), keep\n")

_BUILD_HEAD = "def build_dropout_model(n_features, units=32, rate=0.5):\n"


def _build(layers: str, head: str = _BUILD_HEAD) -> str:
    return head + "    return keras.Sequential([keras.Input(shape=(n_features,)),\n" + layers + "])\n"


_DENSE = "        keras.layers.Dense(units, activation='relu'),\n"
_DROP = "        keras.layers.Dropout(rate),\n"
_OUT = "        keras.layers.Dense(1, activation='sigmoid'),\n"
_NO_DROPOUT = _build(_DENSE + _DENSE + _OUT)
_FIXED_RATE = _build(_DENSE + "        keras.layers.Dropout(0.5),\n" + _DENSE + "        keras.layers.Dropout(0.5),\n" + _OUT)
_INPUT_DROPOUT = _build(_DROP + _DENSE + _DENSE + _OUT)
# A subclassed model that hard-codes training=True keeps dropping units at inference.
_FORCED_TRAINING = (_BUILD_HEAD + "    class DropoutNet(keras.Model):\n"
                    "        def __init__(self):\n            super().__init__()\n"
                    "            self.h1 = keras.layers.Dense(units, activation='relu')\n"
                    "            self.h2 = keras.layers.Dense(units, activation='relu')\n"
                    "            self.d1, self.d2 = keras.layers.Dropout(rate), keras.layers.Dropout(rate)\n"
                    "            self.out = keras.layers.Dense(1, activation='sigmoid')\n"
                    "        def call(self, x, training=None):\n"
                    "            h = self.d1(self.h1(x), training=True)\n"
                    "            return self.out(self.d2(self.h2(h), training=True))\n"
                    "    model = DropoutNet()\n    return model\n")
_FUNCTIONAL = (_BUILD_HEAD + "    inputs = keras.Input(shape=(n_features,))\n    h = inputs\n"
               "    for _ in range(2):\n        h = keras.layers.Dense(units, activation='relu')(h)\n"
               "        h = keras.layers.Dropout(rate=rate)(h)\n"
               "    return keras.Model(inputs, keras.layers.Dense(1, activation='sigmoid')(h))\n")
_ADD_LOOP = (_BUILD_HEAD + "    model = keras.Sequential()\n    model.add(keras.Input(shape=(n_features,)))\n"
             "    for _ in range(2):\n        model.add(keras.layers.Dense(units, activation='relu'))\n"
             "        model.add(keras.layers.Dropout(rate))\n"
             "    model.add(keras.layers.Dense(1, activation='sigmoid'))\n    return model\n")

_BACK = "def dropout_backward(dout, keep, rate):\n"

WRONG = {
    "dropout_forward": [
        ("no rescaling", _NO_RESCALE, "Dropout without rescaling"),
        ("scaled by rate", _TIMES_RATE, "multiplied by rate"),
        ("keeps with probability rate", _KEEP_WITH_RATE, "mask is inverted"),
        ("global numpy generator", _GLOBAL_RNG, "not the ones the check expects"),
        ("classic scaling during training", _CLASSIC_TRAIN, "classic dropout's test-time scaling"),
        ("no pair", _forward("    return x * keep / (1 - rate)\n"), "should return a pair"),
    ],
    "dropout_expectation": [
        ("no rescaling", _NO_RESCALE, "without rescaling"),
        ("scaled by rate", _TIMES_RATE, "multiplied by rate"),
        ("keeps with probability rate", _KEEP_WITH_RATE, "kept with probability rate"),
    ],
    "dropout_inference": [
        ("mask applied at inference", _ALWAYS_MASK, "applied at inference"),
        ("classic scaling at test time", _CLASSIC_TEST, "classic dropout's test-time scaling"),
        ("rescaled at inference", "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                                  "        return x / (1 - rate), None\n" + _KEEP +
         "    return x * keep / (1 - rate), keep\n", "belongs to training only"),
    ],
    "dropout_backward": [
        ("not scaled", _BACK + "    return dout * keep\n", "masked but not scaled"),
        ("inverted mask", _BACK + "    return dout * ~keep / (1 - rate)\n", "SAME mask"),
        ("mask missing", _BACK + "    return dout / (1 - rate)\n", "mask is missing"),
        ("scaled by rate", _BACK + "    return dout * keep * rate\n", "multiplied by rate"),
    ],
    "build_dropout_model": [
        ("no Dropout", _NO_DROPOUT, "no Dropout layer"),
        ("hard-coded rate", _FIXED_RATE, "not the rate argument"),
        # The grader rebuilds models from built-in layers only, so a subclassed model is refused before it runs.
        ("dropout forced on at inference", _FORCED_TRAINING, "subclassed models"),
        ("dropout on the inputs", _INPUT_DROPOUT, "drops input features"),
    ],
    "dropout_gap": [
        ("no Dropout", _NO_DROPOUT, "still overfits"),
        ("dropout forced on at inference", _FORCED_TRAINING, "subclassed models"),
    ],
}

ALTERNATIVES = {
    "dropout_forward": [
        _forward("    return np.where(keep, x / (1.0 - rate), 0.0), keep\n"),
        _forward("    out = x * keep.astype(x.dtype) * (1.0 / (1.0 - rate))\n    return out, keep\n",
                 keep="    keep = rng.uniform(size=x.shape) >= rate\n"),
    ],
    "dropout_expectation": [
        _RIGHT_FORWARD,
        # Any Bernoulli(1 - rate) mask keeps the expectation, even if it is not the mask the exercise asks for.
        _forward("    return x * keep / (1 - rate), keep\n",
                 keep="    keep = rng.binomial(1, 1 - rate, size=x.shape).astype(bool)\n"),
    ],
    "dropout_inference": [
        "def dropout_forward(x, rate, rng, training=True):\n    if training:\n" + _KEEP.replace("    ", "        ", 1) +
        "        return x * keep / (1 - rate), keep\n    return x.copy(), None\n",
    ],
    "dropout_backward": [
        _BACK + "    return np.where(keep, dout / (1.0 - rate), 0.0)\n",
        _BACK + "    scale = 1.0 / (1.0 - rate)\n    return dout * keep.astype(float) * scale\n",
    ],
    "build_dropout_model": [_FUNCTIONAL, _ADD_LOOP],
}


@pytest.fixture(scope="module")
def reference():
    from autograder.course import Course

    return reference_namespace(Course.here(), "08_dropout")


_FUNCTION = {"dropout_forward": "dropout_forward", "dropout_expectation": "dropout_forward",
             "dropout_inference": "dropout_forward", "dropout_backward": "dropout_backward",
             "build_dropout_model": "build_dropout_model", "dropout_gap": "build_dropout_model"}


def _subject(name, reference):
    return reference["dropout_model"] if name == "dropout_gap" else reference[_FUNCTION[name]]


def _trained(reference, build_code, *, train=True):
    """The model the notebook's training cell would keep, built by `build_code`."""
    import keras

    build = define(build_code, "build_dropout_model", reference)
    keras.utils.set_random_seed(0)
    model = build(reference["n_features"], rate=0.5)
    if train:
        reference["fit_model"](model)
    return model


def grade(name, answer, reference, seeds):
    check = dropout.CHECKS[name]
    return ([simulate_grading(dropout.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("dropout_gap", "build_dropout_model") else SEEDS


@pytest.mark.parametrize("name", list(_FUNCTION))
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    if name == "dropout_gap":
        answer = _trained(reference, code, train="subclassed" not in advice)
    else:
        answer = define(code, _FUNCTION[name], reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, _FUNCTION[name], reference), reference, seeds_for(name)))


def test_alternative_model_closes_the_gap(reference):
    """A Functional-API build, trained as the notebook trains it, passes the threshold part."""
    expect_correct(*grade("dropout_gap", _trained(reference, _FUNCTIONAL), reference, ONE_SEED))


def test_plain_network_really_overfits(reference):
    """The task is chosen so that the gap is large without dropout: the reference's plain model fails the part."""
    verdicts, public = grade("dropout_gap", reference["plain_model"], reference, ONE_SEED)
    assert public is not None and "still overfits" in public
    assert not verdicts[0].passed


def test_untrained_notebook_reports_not_implemented():
    message = public_message(dropout.CHECKS["dropout_gap"], None)
    assert message is not None and "None" in message


# ============================================================================= attacks on the Keras parts
# A Keras part is judged from the model the kernel reports (its config and weights), rebuilt by the grader and
# run on arrays in grader-only "_" keys. These attacks replace the kernel's report, or report a model that
# looks the public data up, and must score 0 on the part without raising.
import json  # noqa: E402

import numpy as np  # noqa: E402

from autograder.checks.core import kernel_view  # noqa: E402
from autograder.checks.model_data import report_model  # noqa: E402
from autograder.checks.plain import from_plain, to_plain  # noqa: E402
from autograder.grading.judge import judge_part  # noqa: E402

KERAS_SEEDS = (84, 85, 86)


def _grader_inputs(seed):
    return grader_inputs(dropout.CHECKS, seed)


def judge_forged(name, forge, reference, seed=ONE_SEED[0]):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(dropout.CHECKS, dropout.CHECKS[name], _subject(name, reference), forge, seed)


def _dropout_net(n_features, units, rate, dropout_layers=True):
    import keras

    def drop():
        return [keras.layers.Dropout(rate)] if dropout_layers else []

    return keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(units, activation="relu"), *drop(),
                             keras.layers.Dense(units, activation="relu"), *drop(),
                             keras.layers.Dense(1, activation="sigmoid")])


def _perfect_build_claims(inp):
    """What the old kernel-side report said about a correct model: its layers and parameter count."""
    n, u, r = int(inp["n_features"]), int(inp["units"]), float(inp["rate"])
    return {"is_model": True, "layers": [["Dense", u, "relu"], ["Dropout", r], ["Dense", u, "relu"], ["Dropout", r],
                                         ["Dense", 1, "sigmoid"]],
            "n_params": n * u + u + u * u + u + u + 1, "outputs": np.full((16, 1), 0.5),
            "inference_stable": True, "training_differs": True}


def _perfect_gap_claims(inp):
    """The old report of dropout_model, claiming the labels themselves as outputs (the grader's labels!)."""
    return {"is_model": True, "layers": [["Dense", 32, "relu"], ["Dropout", 0.5], ["Dense", 32, "relu"],
                                         ["Dropout", 0.5], ["Dense", 1, "sigmoid"]], "n_params": 1441,
            "outputs": np.asarray(inp["_labels"], dtype=float)[:, None] * 0.8 + 0.1,
            "val_outputs": np.asarray(inp["_val_labels"], dtype=float)[:, None] * 0.8 + 0.1,
            "inference_stable": True, "training_differs": True}


def _plain_with_dropout_config(reference):
    """The plain (overfitting) network's record, its keras_config edited to add Dropout(0.5) layers; weights kept."""
    record = report_model(reference["plain_model"])
    config = json.loads(record["keras_config"])
    layers = config["config"]["layers"]
    rebuilt = []
    for layer in layers:
        rebuilt.append(layer)
        if layer["class_name"] == "Dense" and layer["config"]["units"] != 1:
            rebuilt.append({"module": "keras.layers", "class_name": "Dropout", "registered_name": None,
                            "config": {"name": f"forged_dropout_{len(rebuilt)}", "rate": 0.5, "seed": None,
                                       "noise_shape": None, "trainable": True, "dtype": layer["config"]["dtype"]}})
    config["config"]["layers"] = rebuilt
    return {**record, "keras_config": json.dumps(config)}


#: part -> [(label, forge)], forge(reference) -> (inputs -> what the replaced `run` reports).
LYING_REPORTS = {
    "build_dropout_model": [
        ("old claim dict with perfect facts", lambda ref: _perfect_build_claims),
        ("a plain network's record, with perfect claims added",
         lambda ref: lambda inp: {**report_model(_dropout_net(int(inp["n_features"]), int(inp["units"]),
                                                              float(inp["rate"]), dropout_layers=False)),
                                  **{k: v for k, v in _perfect_build_claims(inp).items() if k != "is_model"}}),
        ("the first public case's model replayed for every input",
         lambda ref: lambda inp: report_model(_dropout_net(10, 32, 0.5))),
    ],
    "dropout_gap": [
        ("old claim dict with perfect outputs", lambda ref: _perfect_gap_claims),
        ("the plain network's record, with perfect outputs claimed",
         lambda ref: lambda inp: {**report_model(ref["plain_model"]),
                                  **{k: v for k, v in _perfect_gap_claims(inp).items() if k != "is_model"}}),
        ("the plain network's weights under a config edited to add Dropout(0.5)",
         lambda ref: (lambda record: lambda inp: record)(_plain_with_dropout_config(ref))),
        ("a record whose weights do not fit its config",
         lambda ref: lambda inp: {**report_model(ref["dropout_model"]), "weights": [np.zeros((3, 3))] * 6}),
        ("not a model at all", lambda ref: lambda inp: "keras.Sequential"),
    ],
}


@pytest.mark.parametrize("name,label,forge", [pytest.param(n, label, forge, id=f"{n}-{label}")
                                              for n, rows in LYING_REPORTS.items() for label, forge in rows])
def test_lying_report_scores_zero(reference, name, label, forge):
    verdict = judge_forged(name, forge(reference), reference)
    assert not verdict.passed, f"{label} passed"
    assert verdict.feedback and "which this check cannot read" not in verdict.detail, verdict.detail


_LAMBDA = (_BUILD_HEAD + "    return keras.Sequential([keras.Input(shape=(n_features,)),\n"
           "        keras.layers.Dense(units, activation='relu'), keras.layers.Dropout(rate),\n"
           "        keras.layers.Dense(units, activation='relu'), keras.layers.Dropout(rate),\n"
           "        keras.layers.Dense(1), keras.layers.Lambda(lambda z: 1 / (1 + keras.ops.exp(-z)))])\n")
_SUBCLASSED = (_BUILD_HEAD + "    class Net(keras.Model):\n"
               "        def __init__(self):\n            super().__init__()\n"
               "            self.h1, self.h2 = keras.layers.Dense(units, activation='relu'), keras.layers.Dense(units, activation='relu')\n"
               "            self.d1, self.d2 = keras.layers.Dropout(rate), keras.layers.Dropout(rate)\n"
               "            self.out = keras.layers.Dense(1, activation='sigmoid')\n"
               "        def call(self, x, training=None):\n"
               "            return self.out(self.d2(self.h2(self.d1(self.h1(x), training=training)), training=training))\n"
               "    model = Net()\n    model(keras.ops.zeros((1, n_features)))\n    return model\n")

#: label -> (code defining build_dropout_model, what the message must say). Both parts refuse them.
REJECTED_MODELS = {
    "Lambda layer": (_LAMBDA, "Lambda layer"),
    "subclassed model": (_SUBCLASSED, "subclassed models"),
}


@pytest.mark.parametrize("name", ["build_dropout_model", "dropout_gap"])
@pytest.mark.parametrize("label", list(REJECTED_MODELS))
def test_models_the_grader_does_not_run_are_refused(reference, name, label):
    code, advice = REJECTED_MODELS[label]
    answer = _trained(reference, code, train=False) if name == "dropout_gap" else \
        define(code, "build_dropout_model", reference)
    verdicts, public = grade(name, answer, reference, ONE_SEED)
    assert public is not None and "cannot be checked" in public and advice in public, public
    assert not verdicts[0].passed and advice in verdicts[0].feedback, verdicts[0].detail


def _exact_lookup(rows, labels, *, sharp=False):
    """A model of built-in layers that memorises `rows`: 0 or 1 when the input IS one of them (exact lookup),
    else 0.5; with `sharp`, a softmax over prototypes instead (the label of the nearest row). Plus Dropout(0.5)."""
    import keras

    rows = np.asarray(rows, dtype="float64")
    n, d = rows.shape
    x = keras.Input(shape=(d,))
    both = keras.layers.Concatenate()([x, keras.layers.Multiply()([x, x])])
    sign = 2.0 * np.asarray(labels, dtype="float64") - 1.0
    if sharp:  # scores -1000 |x - p|^2 + 1000 |x|^2, softmax: one-hot on the nearest prototype
        match = keras.layers.Dense(n, activation="softmax")
        kernel, bias, out_scale = np.vstack([2000.0 * rows.T, np.zeros((d, n))]), -1000.0 * (rows ** 2).sum(1), 10.0
    else:  # relu(1e4 (1e-3 - |x - p|^2)): 10 on an exact match, 0 as soon as the input differs
        match = keras.layers.Dense(n, activation="relu")
        kernel, bias, out_scale = np.vstack([2e4 * rows.T, -1e4 * np.ones((d, n))]), 1e4 * (1e-3 - (rows ** 2).sum(1)), 1.0
    head = keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(x, head(keras.layers.Dropout(0.5)(match(both))))
    match.set_weights([kernel.astype("float32"), bias.astype("float32")])
    head.set_weights([(out_scale * sign[:, None]).astype("float32"), np.zeros(1, "float32")])
    return model


@pytest.mark.parametrize("sharp", [False, True], ids=["exact match", "nearest public row"])
def test_lookup_of_the_public_arrays_fails_on_held_out_samples(reference, sharp):
    """A model that memorises every public array (training and validation) would have passed when the grader
    evaluated it on the notebook's validation arrays; it fails on the grader's fresh samples."""
    X_train, y_train, X_val, y_val = dropout.overfitting_task()
    lookup = _exact_lookup(np.vstack([X_train, X_val]), np.concatenate([y_train, y_val]), sharp=sharp)
    record = from_plain(json.loads(json.dumps(to_plain(report_model(lookup)))))
    old_inputs = {"_X": X_train, "_labels": y_train, "_X_val": X_val, "_val_labels": y_val}
    assert dropout.dropout_gap.compare(old_inputs, record, None) is None  # perfect on the arrays it memorised
    for seed in KERAS_SEEDS:
        inputs = _grader_inputs(seed)["dropout_gap"][0]
        message = dropout.dropout_gap.compare(inputs, record, None)
        assert message is not None and ("must reach" in message or "still overfits" in message), message
    verdicts, _ = grade("dropout_gap", lookup, reference, ONE_SEED)
    assert not verdicts[0].passed


def test_gap_is_judged_on_samples_the_kernel_never_saw():
    """The kernel gets no input at all; the validation samples are new draws, not rows of the notebook's arrays."""
    X_train, _, X_val, _ = dropout.overfitting_task()
    public = {tuple(row) for row in np.vstack([X_train, X_val]).astype("float32")}
    seen = []
    for seed in KERAS_SEEDS:
        (inputs,) = _grader_inputs(seed)["dropout_gap"]
        assert kernel_view(inputs) == {}
        assert len(inputs["_X_val"]) >= 800 and not any(tuple(row) in public for row in inputs["_X_val"].astype("float32"))
        seen.append(inputs["_X_val"])
    assert not np.array_equal(seen[0], seen[1])  # a fresh draw per grading run
    for case in dropout.dropout_gap.public_cases + dropout.build_dropout_model.public_cases:
        assert not any(isinstance(v, np.ndarray) for v in kernel_view(case.inputs).values())
    for inputs in _grader_inputs(ONE_SEED[0])["build_dropout_model"]:
        assert set(kernel_view(inputs)) == {"n_features", "units", "rate"}


@pytest.mark.parametrize("name", ["build_dropout_model", "dropout_gap"])
def test_reference_passes_on_several_seeds(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, KERAS_SEEDS))


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(dropout.CHECKS, ("build_dropout_model", "dropout_gap"), ONE_SEED[0], None) == []
