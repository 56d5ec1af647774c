"""08_dropout: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The numpy parts are cheap and use three seeds. The conversion part builds small Keras models. The rate
choice judges the reference's three trained networks (trained once, when the reference notebook runs);
wrong choices are made from those networks, and only one alternative answer trains networks of its own.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  grader_inputs, odd_report_failures, public_message, reference_namespace,
                                  simulate_grading, wrong_cases)
from autograder.checks import dropout
from autograder.checks.core import kernel_view
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain, to_plain

SEEDS = (81, 82, 83)
ONE_SEED = (84,)
KERAS_SEEDS = (84, 85, 86)

_FWD = "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n        return x, None\n"
_KEEP = "    keep = rng.random(x.shape) >= rate\n"


def _forward(body, keep=_KEEP, head=_FWD):
    return head + keep + body


_RIGHT_FORWARD = _forward("    return x * keep / (1 - rate), keep\n")
_NO_RESCALE = _forward("    return x * keep, keep\n")
_TIMES_RATE = _forward("    return x * keep * rate, keep\n")
_KEEP_WITH_RATE = _forward("    return x * keep / (1 - rate), keep\n", keep="    keep = rng.random(x.shape) < rate\n")
_GLOBAL_RNG = _forward("    return x * keep / (1 - rate), keep\n", keep="    keep = np.random.random(x.shape) >= rate\n")
_TWO_DRAWS = _forward("    keep = rng.random(x.shape) >= rate\n    return x * keep / (1 - rate), keep\n")
_FLOAT_MASK = _forward("    keep = keep.astype(float)\n    return x * keep / (1 - rate), keep\n")
_CLASSIC_TRAIN = _forward("    return x * keep * (1 - rate), keep\n")
_ALWAYS_MASK = ("def dropout_forward(x, rate, rng, training=True):\n" + _KEEP +
                "    return x * keep / (1 - rate), keep\n")
_CLASSIC_TEST = ("def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                 "        return x * (1 - rate), None\n" + _KEEP + "    return x * keep / (1 - rate), keep\n")
_ONES_AT_INFERENCE = ("def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                      "        return x, np.ones(x.shape, dtype=bool)\n" + _KEEP + "    return x * keep / (1 - rate), keep\n")
_DRAWS_AT_INFERENCE = ("def dropout_forward(x, rate, rng, training=True):\n" + _KEEP +
                       "    if not training:\n        return x, None\n    return x * keep / (1 - rate), keep\n")
_ALL_WRONG_AT_INFERENCE = ("def dropout_forward(x, rate, rng, training=True):\n" + _KEEP +
                           "    if not training:\n        return x, keep\n    return x * keep / (1 - rate), keep\n")
# A shift of every kept unit matches no diagnosis: the message must say what came back, not guess a cause.
_SHIFTED = _forward("    return x * keep / (1 - rate) + 0.5 * keep, keep\n")

_BACK = "def dropout_backward(dout, keep, rate):\n"

# ----------------------------------------------------------------------------- Exercise 3 answers
_CONVERT = '''
def to_inverted_dropout(classic_weights, rate):
    W1, b1, W2, b2, W3, b3 = classic_weights
    model = keras.Sequential([
        keras.Input(shape=(W1.shape[0],)),
        keras.layers.Dense(W1.shape[1], activation="relu"),
        DROPOUT1
        keras.layers.Dense(W2.shape[1], activation="relu"),
        DROPOUT2
        keras.layers.Dense(1, activation=OUTPUT),
    ])
    model.set_weights(WEIGHTS)
    return model
'''
_RIGHT_WEIGHTS = "[W1, b1, W2 * (1 - rate), b2, W3 * (1 - rate), b3]"


def convert(weights=_RIGHT_WEIGHTS, dropout1="keras.layers.Dropout(rate),", dropout2="keras.layers.Dropout(rate),",
            output='"sigmoid"', before=""):
    """A to_inverted_dropout that differs from the reference in one place."""
    code = (_CONVERT.replace("WEIGHTS", weights).replace("DROPOUT1", dropout1).replace("DROPOUT2", dropout2)
            .replace("OUTPUT", output))
    return code.replace("    model.set_weights", before + "    model.set_weights") if before else code


_IN_PLACE = convert(weights="[W1, b1, W2, b2, W3, b3]", before="    W2 *= 1 - rate\n    W3 *= 1 - rate\n")
_NO_DROPOUT = convert(dropout1="", dropout2="")
_KEEP_PROBABILITY = convert(dropout1="keras.layers.Dropout(1 - rate),", dropout2="keras.layers.Dropout(1 - rate),")
_UNSCALED = convert(weights="[W1, b1, W2, b2, W3, b3]")

WRONG = {
    "dropout_forward": [
        ("no rescaling", _NO_RESCALE, "Dropout without rescaling"),
        ("scaled by rate", _TIMES_RATE, "multiplied by rate"),
        ("keeps with probability rate", _KEEP_WITH_RATE, "mask is inverted"),
        ("global numpy generator", _GLOBAL_RNG, "numpy's global generator"),
        ("the mask drawn twice", _TWO_DRAWS, "second draw"),
        ("classic scaling during training", _CLASSIC_TRAIN, "classic dropout's test-time scaling"),
        ("no pair", _forward("    return x * keep / (1 - rate)\n"), "should return a pair"),
        ("a float mask", _FLOAT_MASK, "not the boolean mask"),
        ("the dropped units as keep", _forward("    return x * keep / (1 - rate), ~keep\n"), "keep is inverted"),
        ("out flattened", _forward("    return (x * keep / (1 - rate)).ravel(), keep\n"), "returned shape"),
        ("matches no diagnosis", _SHIFTED, "relative error"),
    ],
    "dropout_expectation": [
        ("no rescaling", _NO_RESCALE, "without rescaling"),
        ("scaled by rate", _TIMES_RATE, "multiplied by rate"),
        ("keeps with probability rate", _KEEP_WITH_RATE, "kept with probability rate"),
        ("matches no diagnosis", _SHIFTED, "so the mean over many draws must come back to x"),
    ],
    "dropout_inference": [
        ("mask applied at inference", _ALWAYS_MASK, "applied at inference"),
        ("classic scaling at test time", _CLASSIC_TEST, "classic dropout's test-time scaling"),
        ("rescaled at inference", "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                                  "        return x / (1 - rate), None\n" + _KEEP +
         "    return x * keep / (1 - rate), keep\n", "belongs to training only"),
        ("matches no diagnosis", "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
                                 "        return x + 1.0, None\n" + _KEEP + "    return x * keep / (1 - rate), keep\n",
         "dropout is the identity"),
    ],
    "dropout_backward": [
        ("not scaled", _BACK + "    return dout * keep\n", "masked but not scaled"),
        ("inverted mask", _BACK + "    return dout * ~keep / (1 - rate)\n", "SAME mask"),
        ("mask missing", _BACK + "    return dout / (1 - rate)\n", "mask is missing"),
        ("scaled by rate", _BACK + "    return dout * keep * rate\n", "multiplied by rate"),
        ("matches no diagnosis", _BACK + "    return dout * keep / (1 - rate) ** 2\n", "relative error"),
    ],
    "to_inverted_dropout": [
        ("weights copied unchanged", _UNSCALED, "copied unchanged"),
        ("W1 and W2 scaled", convert(weights="[W1 * (1 - rate), b1, W2 * (1 - rate), b2, W3, b3]"), "BEFORE the Dropout"),
        ("biases scaled too", convert(weights="[W1, b1, W2 * (1 - rate), b2 * (1 - rate), W3 * (1 - rate), "
                                              "b3 * (1 - rate)]"), "biases were scaled too"),
        ("divided by 1 - rate", convert(weights="[W1, b1, W2 / (1 - rate), b2, W3 / (1 - rate), b3]"), "divided by"),
        ("times rate", convert(weights="[W1, b1, W2 * rate, b2, W3 * rate, b3]"), "multiplied by rate"),
        ("output layer forgotten", convert(weights="[W1, b1, W2 * (1 - rate), b2, W3, b3]"), "Only W2 was scaled"),
        ("linear output", convert(output="None"), "activation='sigmoid'"),
        ("no Dropout layers", _NO_DROPOUT, "no Dropout layer"),
        ("Dropout(1 - rate)", _KEEP_PROBABILITY, "probability of DROPPING"),
        ("Dropout on the output", convert(dropout1="", dropout2="keras.layers.Dropout(rate),").replace(
            'keras.layers.Dense(1, activation="sigmoid"),', 'keras.layers.Dense(1, activation="sigmoid"), '
                                                           'keras.layers.Dropout(rate),'), "none on"),
        ("arrays scaled in place", _IN_PLACE, "changed the arrays in classic_weights"),
        ("returns None", convert().replace("    return model\n", "    return None\n"), "is None"),
        ("matches no diagnosis", convert(weights="[W1, b1, W2 * (1 - rate) ** 2, b2, W3 * (1 - rate) ** 2, b3]"),
         "which arrays must carry the factor"),
    ],
}

ALTERNATIVES = {
    "dropout_forward": [
        _forward("    return np.where(keep, x / (1.0 - rate), 0.0), keep\n"),
        _forward("    out = x * keep.astype(x.dtype) * (1.0 / (1.0 - rate))\n    return out, keep\n",
                 keep="    keep = rng.uniform(size=x.shape) >= rate\n"),
        # The same computation in float32.
        _forward("    return (x.astype(np.float32) * keep / np.float32(1 - rate)), keep\n"),
    ],
    "dropout_expectation": [
        _RIGHT_FORWARD,
        # Any Bernoulli(1 - rate) mask keeps the expectation, even if it is not the mask the exercise asks for.
        _forward("    return x * keep / (1 - rate), keep\n",
                 keep="    keep = rng.binomial(1, 1 - rate, size=x.shape).astype(bool)\n"),
        _forward("    return (x.astype(np.float32) * keep / np.float32(1 - rate)), keep\n"),
    ],
    "dropout_inference": [
        "def dropout_forward(x, rate, rng, training=True):\n    if training:\n" + _KEEP.replace("    ", "        ", 1) +
        "        return x * keep / (1 - rate), keep\n    return x.copy(), None\n",
        "def dropout_forward(x, rate, rng, training=True):\n    if not training:\n"
        "        return x.astype(np.float32), None\n" + _KEEP + "    return x * keep / (1 - rate), keep\n",
    ],
    "dropout_backward": [
        _BACK + "    return np.where(keep, dout / (1.0 - rate), 0.0)\n",
        _BACK + "    scale = 1.0 / (1.0 - rate)\n    return dout * keep.astype(float) * scale\n",
        _BACK + "    return (dout.astype(np.float32) * keep / np.float32(1 - rate))\n",
    ],
    "to_inverted_dropout": [
        # The Functional API, and the factor applied to copies in float32.
        '''
def to_inverted_dropout(classic_weights, rate):
    W1, b1, W2, b2, W3, b3 = (np.array(w, dtype="float32") for w in classic_weights)
    inputs = keras.Input(shape=(W1.shape[0],))
    h = keras.layers.Dropout(rate)(keras.layers.Dense(W1.shape[1], activation="relu")(inputs))
    h = keras.layers.Dropout(rate)(keras.layers.Dense(W2.shape[1], activation="relu")(h))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    keep = np.float32(1 - rate)
    model.set_weights([W1, b1, keep * W2, b2, keep * W3, b3])
    return model
''',
        # The weights unchanged and the factor as a Rescaling layer after each Dropout: the colleague's network
        # in both modes (classic dropout, written with Keras's inverted layer). Activation layers apart.
        '''
def to_inverted_dropout(classic_weights, rate):
    W1, b1, W2, b2, W3, b3 = classic_weights
    model = keras.Sequential([keras.Input(shape=(W1.shape[0],)),
                              keras.layers.Dense(W1.shape[1]), keras.layers.Activation("relu"),
                              keras.layers.Dropout(rate), keras.layers.Rescaling(1 - rate),
                              keras.layers.Dense(W2.shape[1]), keras.layers.Activation("relu"),
                              keras.layers.Dropout(rate), keras.layers.Rescaling(1 - rate),
                              keras.layers.Dense(1), keras.layers.Activation("sigmoid")])
    model.set_weights(classic_weights)
    return model
''',
    ],
}

#: Answers that break one separable requirement and keep the others' points: (part, code, share, advice).
PARTIAL = [
    ("dropout_inference", _ONES_AT_INFERENCE, 2 / 3, "keep is a mask, not None"),
    ("dropout_inference", _DRAWS_AT_INFERENCE, 2 / 3, "drew from rng"),
    ("dropout_inference", _ALL_WRONG_AT_INFERENCE, 1 / 3, "keep is a mask, not None"),
    ("to_inverted_dropout", _IN_PLACE, 2 / 3, "changed the arrays in classic_weights"),
    ("to_inverted_dropout", _NO_DROPOUT, 2 / 3, "no Dropout layer"),
    ("to_inverted_dropout", _UNSCALED, 2 / 3, "copied unchanged"),
    ("to_inverted_dropout", convert(weights="[W1, b1, W2, b2, W3, b3]", dropout1="", dropout2=""), 1 / 3,
     "no Dropout layer"),
]


@pytest.fixture(scope="module")
def reference():
    from autograder.course import Course

    return reference_namespace(Course.here(), "08_dropout")


_FUNCTION = {"dropout_forward": "dropout_forward", "dropout_expectation": "dropout_forward",
             "dropout_inference": "dropout_forward", "dropout_backward": "dropout_backward",
             "to_inverted_dropout": "to_inverted_dropout"}


def _subject(name, reference):
    return reference["selection"] if name == "select_rate" else reference[_FUNCTION[name]]


def grade(name, answer, reference, seeds):
    check = dropout.CHECKS[name]
    return ([simulate_grading(dropout.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return {"select_rate": ONE_SEED, "to_inverted_dropout": SEEDS[:2]}.get(name, SEEDS)


@pytest.mark.parametrize("name", [c.name for c in dropout.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, _FUNCTION[name], reference), reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, _FUNCTION[name], reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,code,share,advice", PARTIAL, ids=[f"{p[0]}-{i}" for i, p in enumerate(PARTIAL)])
def test_a_broken_requirement_alone_keeps_the_other_points(reference, name, code, share, advice):
    verdicts, public = grade(name, define(code, _FUNCTION[name], reference), reference, seeds_for(name))
    assert public is not None and advice in public, public
    for verdict in verdicts:
        assert not verdict.passed and verdict.credit == pytest.approx(share), (verdict.credit, verdict.detail)
        assert advice in verdict.feedback, verdict.feedback


def test_wrong_values_earn_no_partial_credit_at_inference(reference):
    """keep=None and an untouched generator only count when out is x: a wrong out scores 0."""
    verdicts, public = grade("dropout_inference", define(_CLASSIC_TEST, "dropout_forward", reference), reference, SEEDS)
    assert public is not None and all(not v.passed and v.credit == 0 for v in verdicts)


@pytest.mark.parametrize("name", [c.name for c in dropout.CHECKS.checks])
def test_every_check_says_what_it_should_return(name):
    assert dropout.CHECKS[name].expected_form


def test_conversion_diagnoses_name_a_cause_only_when_one_variant_alone_matches():
    """On every public and grader case the wrong conversions differ from the right one and from each other."""
    cases = [c.inputs for c in dropout.to_inverted_dropout.public_cases] + \
        [inp for seed in SEEDS for inp in grader_inputs(dropout.CHECKS, seed)["to_inverted_dropout"]]
    for inputs in cases:
        w, rate, X = inputs["classic_weights"], inputs["rate"], inputs["_X"]
        right = dropout.classic_test_predictions(w, rate, X)
        outputs = [dropout._forward(w, X, factors, logits) for factors, logits, _ in dropout._conversion_variants(rate)]
        for i, out in enumerate(outputs):
            assert np.max(np.abs(out - right)) > 1e-3, i
            assert all(np.max(np.abs(out - other)) > 1e-3 for other in outputs[i + 1:]), i


# ============================================================================= Exercise 4: the rate chosen
def _selection_of(reference, best, rates=None, replace=None):
    """A (best_rate, models) answer made from the reference's trained networks."""
    models = dict(reference["selection"][1])
    if rates is not None:
        models = {r: models[r] for r in rates}
    models.update(replace or {})
    return best, models


def _relabelled(reference, model, rate):
    """The same trained weights in a dropout_net of another rate, compiled as fit_model compiles."""
    import keras

    clone = reference["dropout_net"](reference["n_features"], rate)
    clone.set_weights(model.get_weights())
    clone.compile(optimizer=keras.optimizers.Adam(0.005), loss="binary_crossentropy", metrics=["accuracy"])
    return clone


def _uncompiled_net(reference, rate):
    return reference["dropout_net"](reference["n_features"], rate)


#: label -> (answer built from the reference, what the message must say).
WRONG_CHOICES = {
    "chosen by training accuracy": (lambda ref: _selection_of(ref, 0.0), "highest TRAINING accuracy"),
    # The 0.9 network has both the smallest gap and the lowest validation accuracy: no single cause is named.
    "the underfitting network": (lambda ref: _selection_of(ref, 0.9), "Choose the rate whose network has the highest"),
    "a rate missing": (lambda ref: _selection_of(ref, 0.5, rates=[0.0, 0.5]), "one trained network for each rate"),
    "best_rate not in RATES": (lambda ref: _selection_of(ref, 0.25), "not one of RATES"),
    "best_rate as a string": (lambda ref: _selection_of(ref, "0.5"), "return the chosen rate itself"),
    "models as a list": (lambda ref: (0.5, list(ref["selection"][1].values())), "return a dict"),
    "not a pair": (lambda ref: 0.5, "should return a pair"),
    "nothing selected": (lambda ref: None, "select_rate is not implemented yet"),
    "one network under every rate": (lambda ref: _selection_of(ref, 0.5, replace={0.0: ref["selection"][1][0.5],
                                                                                  0.9: ref["selection"][1][0.5]}),
                                     "has Dropout rate 0.5, not 0"),
    "one network claimed under every rate": (lambda ref: _selection_of(ref, 0.5, replace={
        0.0: _relabelled(ref, ref["selection"][1][0.5], 0.0), 0.9: _relabelled(ref, ref["selection"][1][0.5], 0.9)}),
        "hold the same trained weights"),
    "an untrained network": (lambda ref: _selection_of(ref, 0.5, replace={0.9: _uncompiled_net(ref, 0.9)}),
                             "not compiled the way fit_model compiles it"),
}


@pytest.mark.parametrize("label", list(WRONG_CHOICES))
def test_wrong_choice_loses_the_part_with_a_teaching_message(reference, label):
    build, advice = WRONG_CHOICES[label]
    expect_wrong(label, *grade("select_rate", build(reference), reference, ONE_SEED), advice)


@pytest.mark.parametrize("label,share", [("chosen by training accuracy", 1 / 2), ("the underfitting network", 1 / 2),
                                         ("one network under every rate", 0), ("an untrained network", 0)])
def test_a_wrong_choice_among_the_right_networks_keeps_half_the_points(reference, label, share):
    """The networks are the measurement: without them the choice earns nothing; with them, a wrong choice
    loses half the points."""
    build, _ = WRONG_CHOICES[label]
    verdicts, _ = grade("select_rate", build(reference), reference, ONE_SEED)
    assert verdicts[0].credit == pytest.approx(share), verdicts[0].detail


def test_a_choice_with_other_seeds_and_measured_by_predict_passes(reference):
    """Networks trained with another seed, validation accuracy computed from predict: the choice is the student's."""
    code = '''
def select_rate(rates):
    models, scores = {}, []
    for i, rate in enumerate(rates):
        keras.utils.set_random_seed(10 + i)
        net = dropout_net(n_features, rate)
        fit_model(net)
        models[rate] = net
        scores.append(np.mean((net.predict(X_val, verbose=0).ravel() > 0.5) == y_val))
    return rates[int(np.argmax(scores))], models
'''
    answer = define(code, "select_rate", reference)(list(dropout.RATES))
    expect_correct(*grade("select_rate", answer, reference, ONE_SEED))
    numpy_keys = (np.float64(answer[0]), {np.float32(r): m for r, m in answer[1].items()})
    expect_correct(*grade("select_rate", numpy_keys, reference, ONE_SEED))


def test_the_plain_network_really_overfits_and_the_heavy_rate_underfits(reference):
    """The task is chosen so that the choice matters: on fresh samples the rate-0.5 network beats both others."""
    models = reference["selection"][1]
    for seed in KERAS_SEEDS:
        (inputs,) = grader_inputs(dropout.CHECKS, seed)["select_rate"]
        val = {r: dropout._accuracy(dropout.predict(m, inputs["_X_val"]), inputs["_val_labels"])
               for r, m in models.items()}
        assert val[0.5] - max(val[0.0], val[0.9]) > 2 * dropout.CHOICE_MARGIN, val  # no wrong choice within the margin
    assert reference["selection"][0] == 0.5


# ============================================================================= attacks on the Keras parts
# A Keras part is judged from the models the kernel reports (config and weights), rebuilt by the grader and
# run on arrays in grader-only "_" keys. These attacks replace the kernel's report, or report a model that
# looks the public data up, and must score 0 on the part (or keep only what they really did) without raising.
def judge_forged(name, forge, reference, seed=ONE_SEED[0]):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(dropout.CHECKS, dropout.CHECKS[name], _subject(name, reference), forge, seed)


def _converted_public_model(reference):
    """The right conversion of the first public case, replayed for every input."""
    weights, rate = dropout.example_classic_weights()
    return report_model(reference["to_inverted_dropout"](weights, rate))


def _plain_with_dropout_config(reference, rate):
    """The plain (overfitting) network's record, its keras_config edited to claim Dropout(rate); weights kept."""
    record = report_model(reference["selection"][1][0.0])
    config = json.loads(record["keras_config"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dropout":
            layer["config"]["rate"] = rate
    return {**record, "keras_config": json.dumps(config)}


def _claimed_selection(reference):
    """What a kernel might claim: the right rate, each network replaced by the plain one under an edited config."""
    records = [_plain_with_dropout_config(reference, r) for r in dropout.RATES]
    return {"pair": True, "best_kind": "float", "models_kind": "dict", "best_rate": 0.5,
            "rates": list(dropout.RATES), "models": records}


#: part -> [(label, forge)], forge(reference) -> (inputs -> what the replaced `run` reports).
LYING_REPORTS = {
    "to_inverted_dropout": [
        ("the first public case's model replayed for every input",
         lambda ref: (lambda record: lambda inp: {"model": record, "changed": False})(_converted_public_model(ref))),
        ("a claim of perfect predictions", lambda ref: lambda inp: {
            "model": {"is_model": True, "outputs": dropout.classic_test_predictions(
                inp["classic_weights"], inp["rate"], inp["_X"])}, "changed": False}),
        ("not a model at all", lambda ref: lambda inp: {"model": "keras.Sequential", "changed": False}),
    ],
    "select_rate": [
        ("the plain network under configs edited to claim each rate", lambda ref: (
            lambda claim: lambda inp: claim)(_claimed_selection(ref))),
        ("a record whose weights do not fit its config", lambda ref: lambda inp: {
            **_selection(ref), "models": [{**report_model(ref["selection"][1][0.5]), "weights": [np.zeros((3, 3))] * 6}
                                          for _ in dropout.RATES]}),
        ("accuracies claimed instead of models", lambda ref: lambda inp: {
            "pair": True, "best_rate": 0.5, "rates": list(dropout.RATES), "models": [{"val_accuracy": 0.99}] * 3}),
    ],
}


def _selection(reference):
    return dropout._selection(reference["selection"])


@pytest.mark.parametrize("name,label,forge", [pytest.param(n, label, forge, id=f"{n}-{label}")
                                              for n, rows in LYING_REPORTS.items() for label, forge in rows])
def test_lying_report_scores_zero(reference, name, label, forge):
    verdict = judge_forged(name, forge(reference), reference)
    assert not verdict.passed, f"{label} passed"
    assert verdict.feedback and "which this check cannot read" not in verdict.detail, verdict.detail
    if name == "select_rate":
        assert verdict.credit == 0, verdict.detail


_LAMBDA = convert().replace('keras.layers.Dense(1, activation="sigmoid"),',
                            'keras.layers.Dense(1), keras.layers.Lambda(lambda z: 1 / (1 + keras.ops.exp(-z))),')
_SUBCLASSED = '''
def to_inverted_dropout(classic_weights, rate):
    W1, b1, W2, b2, W3, b3 = classic_weights
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.h1, self.h2 = keras.layers.Dense(W1.shape[1], activation="relu"), keras.layers.Dense(W2.shape[1], activation="relu")
            self.d1, self.d2 = keras.layers.Dropout(rate), keras.layers.Dropout(rate)
            self.out = keras.layers.Dense(1, activation="sigmoid")
        def call(self, x, training=None):
            return self.out(self.d2(self.h2(self.d1(self.h1(x), training=training)), training=training))
    model = Net()
    model(keras.ops.zeros((1, W1.shape[0])))
    model.set_weights([W1, b1, W2 * (1 - rate), b2, W3 * (1 - rate), b3])
    return model
'''


@pytest.mark.parametrize("code,advice", [(_LAMBDA, "Lambda layer"), (_SUBCLASSED, "subclassed models")],
                         ids=["Lambda layer", "subclassed model"])
def test_models_the_grader_does_not_run_are_refused(reference, code, advice):
    verdicts, public = grade("to_inverted_dropout", define(code, "to_inverted_dropout", reference), reference, ONE_SEED)
    assert public is not None and "cannot be checked" in public and advice in public, public
    assert not verdicts[0].passed and verdicts[0].credit == 0 and advice in verdicts[0].feedback, verdicts[0].detail


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
    """A 'network' that memorises every public array, offered as the chosen one, is not dropout_net: the part
    scores 0 (and on the grader's fresh samples it would be no better than chance)."""
    X_train, y_train, X_val, y_val = dropout.overfitting_task()
    lookup = _exact_lookup(np.vstack([X_train, X_val]), np.concatenate([y_train, y_val]), sharp=sharp)
    answer = _selection_of(reference, 0.5, replace={0.5: lookup})
    record = from_plain(json.loads(json.dumps(to_plain(dropout._selection(answer)))))
    for seed in KERAS_SEEDS:
        inputs = grader_inputs(dropout.CHECKS, seed)["select_rate"][0]
        message = dropout.select_rate.compare(inputs, record, None)
        assert isinstance(message, str) and "not those of dropout_net" in message, message
    verdicts, _ = grade("select_rate", answer, reference, ONE_SEED)
    assert not verdicts[0].passed and verdicts[0].credit == 0


def test_the_choice_is_judged_on_samples_the_kernel_never_saw():
    """The kernel gets no input at all; the validation samples are new draws, not rows of the notebook's arrays."""
    X_train, _, X_val, _ = dropout.overfitting_task()
    public = {tuple(row) for row in np.vstack([X_train, X_val]).astype("float32")}
    seen = []
    for seed in KERAS_SEEDS:
        (inputs,) = grader_inputs(dropout.CHECKS, seed)["select_rate"]
        assert kernel_view(inputs) == {}
        assert len(inputs["_X_val"]) >= 800 and not any(tuple(row) in public for row in inputs["_X_val"].astype("float32"))
        seen.append(inputs["_X_val"])
    assert not np.array_equal(seen[0], seen[1])  # a fresh draw per grading run
    for case in dropout.select_rate.public_cases + dropout.to_inverted_dropout.public_cases:
        assert "_X" not in kernel_view(case.inputs)
    for inputs in grader_inputs(dropout.CHECKS, ONE_SEED[0])["to_inverted_dropout"]:
        assert set(kernel_view(inputs)) == {"classic_weights", "rate"}


@pytest.mark.parametrize("name", ["to_inverted_dropout", "select_rate"])
def test_reference_passes_on_several_seeds(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, KERAS_SEEDS))


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(dropout.CHECKS, ("to_inverted_dropout", "select_rate"), ONE_SEED[0], None) == []
