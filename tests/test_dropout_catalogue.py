"""08_dropout: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
The numpy parts are cheap and use three seeds. The trained-model part trains once per answer with one
seed; answers whose mistake shows before training (dropout left on at inference) are not trained.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
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
        ("dropout forced on at inference", _FORCED_TRAINING, "still active at inference"),
        ("dropout on the inputs", _INPUT_DROPOUT, "drops input features"),
    ],
    "dropout_gap": [
        ("no Dropout", _NO_DROPOUT, "still overfits"),
        ("dropout forced on at inference", _FORCED_TRAINING, "still active at inference"),
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
        answer = _trained(reference, code, train="inference" not in advice)
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
