"""02_activations: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import activations

SEEDS = (21, 22, 23)

_ALL_TASKS = ("    choices = {'house_price': 'linear', 'spam': 'sigmoid', 'digit': 'softmax', 'photo_tags': 'sigmoid',\n"
              "               'temperature': 'linear', 'fraud': 'sigmoid', 'news_section': 'softmax',\n"
              "               'cat_or_dog': 'softmax', 'chest_xray': 'sigmoid', 'bounding_box': 'linear',\n"
              "               'review_stars': 'softmax', 'next_word': 'softmax', 'energy_demand': 'linear',\n"
              "               'movie_genres': 'sigmoid', 'ad_click': 'sigmoid'}\n")


def _choices_with(**changes):
    """output_activation with the reference table, except for `changes` (task -> answer)."""
    code = "def output_activation(task):\n" + _ALL_TASKS
    for task, answer in changes.items():
        code += f"    choices[{task!r}] = {answer!r}\n"
    return code + "    return choices[task]"


WRONG = {
    "relu": [
        ("np.max reduces", "def relu(z):\n    return np.max(z, 0)", "np.maximum(z, 0)"),
        ("builtin max", "def relu(z):\n    return max(0, z)", "elementwise numpy functions"),
        ("absolute value", "def relu(z):\n    return np.abs(z)", "absolute value"),
        ("leaky", "def relu(z):\n    return np.where(z > 0, z, 0.01 * z)", "leaky ReLU"),
        ("clipped at 1", "def relu(z):\n    return np.clip(z, 0, 1)", "no upper limit"),
        ("negative part", "def relu(z):\n    return np.minimum(z, 0)", "negative part"),
    ],
    "relu_grad": [
        ("returns relu", "def relu_grad(z):\n    return np.maximum(z, 0)", "relu(z) itself"),
        ("sign", "def relu_grad(z):\n    return np.sign(z)", "slope -1"),
        ("inverted", "def relu_grad(z):\n    return (z < 0).astype(float)", "wrong way round"),
        ("all ones", "def relu_grad(z):\n    return np.ones_like(z)", "slope of the identity"),
        ("a scalar", "def relu_grad(z):\n    return float(np.mean(z > 0))", "shape"),
    ],
    "sigmoid": [
        ("exp(z) / (1 + exp(z)) overflows",
         "def sigmoid(z):\n    return np.exp(z) / (1 + np.exp(z))", "overflowed to inf"),
        ("sign flipped", "def sigmoid(z):\n    return 1 / (1 + np.exp(np.clip(z, -500, 500)))", "sign inside the exponential"),
        ("tanh", "def sigmoid(z):\n    return np.tanh(z)", "tanh(z)"),
        ("step", "def sigmoid(z):\n    return (z >= 0).astype(float)", "step function"),
        ("stable split the wrong way round",
         "def sigmoid(z):\n    return np.where(z >= 0, np.exp(z) / (1 + np.exp(z)), 1 / (1 + np.exp(-z)))",
         "overflowed to inf"),
    ],
    "sigmoid_grad": [
        ("z(1 - z)", "def sigmoid_grad(z):\n    return z * (1 - z)", "z is the input"),
        ("textbook formula overflows", "def sigmoid_grad(z):\n    return np.exp(-z) / (1 + np.exp(-z)) ** 2",
         "overflowed"),
        ("sigmoid itself", "def sigmoid_grad(z):\n    return sigmoid(z)", "sigmoid(z) itself"),
        ("tanh-style slope", "def sigmoid_grad(z):\n    return 1 - sigmoid(z) ** 2", "tanh's slope"),
    ],
    "tanh": [
        ("exponential formula", "def tanh(z):\n    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))",
         "inf / inf = nan"),
        ("sinh / cosh", "def tanh(z):\n    return np.sinh(z) / np.cosh(z)", "np.sinh(z) / np.cosh(z)"),
        ("sigmoid of z, not 2z", "def tanh(z):\n    return 2 * sigmoid(z) - 1", "tanh(z / 2)"),
        ("not stretched", "def tanh(z):\n    return sigmoid(2 * z)", "still between 0 and 1"),
        ("sigmoid", "def tanh(z):\n    return sigmoid(z)", "sigmoid values"),
    ],
    "tanh_grad": [
        ("1 - z**2", "def tanh_grad(z):\n    return 1 - z ** 2", "z is the input"),
        ("no square", "def tanh_grad(z):\n    return 1 - tanh(z)", "missing the square"),
        ("sigmoid slope", "def tanh_grad(z):\n    return sigmoid(z) * (1 - sigmoid(z))", "sigmoid's slope"),
        ("textbook formula overflows",
         "def tanh_grad(z):\n    return 4 * np.exp(-2 * z) / (1 + np.exp(-2 * z)) ** 2", "overflowed"),
    ],
    "softmax": [
        ("no max subtracted", "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)",
         "Subtract each row's maximum before exp"),
        ("wrong axis", "def softmax(z):\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
                       "    return e / e.sum(axis=0, keepdims=True)", "wrong axis"),
        ("summed over everything", "def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()",
         "the whole array"),
        ("one maximum for the batch",
         "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum(axis=-1, keepdims=True)",
         "own maximum"),
        ("no keepdims", "def softmax(z):\n    e = np.exp(z - z.max(axis=-1))\n    return e / e.sum(axis=-1)",
         "keepdims=True"),
        ("axis=1 hard-coded", "def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
                              "    return e / e.sum(axis=1, keepdims=True)", "axis=-1"),
        ("not normalised", "def softmax(z):\n    return np.exp(z - z.max(axis=-1, keepdims=True))",
         "divide by each row's sum"),
    ],
    "output_activation": [
        ("softmax for every classifier", _choices_with(spam="softmax", photo_tags="softmax", fraud="softmax",
                                                       chest_xray="softmax", movie_genres="softmax",
                                                       ad_click="softmax"),
         "single unit always outputs exactly 1.0"),
        ("sigmoid for multi-class", _choices_with(digit="sigmoid", news_section="sigmoid"), "add up to 1"),
        ("softmax for multi-label", _choices_with(photo_tags="softmax"), "Several labels can be true at once"),
        ("relu for regression", _choices_with(house_price="relu"), "not one of 'linear', 'sigmoid' or 'softmax'"),
        ("sigmoid for regression", _choices_with(house_price="sigmoid"), "open scale"),
        ("only the four examples",
         "def output_activation(task):\n    return {'house_price': 'linear', 'spam': 'sigmoid', 'digit': 'softmax',\n"
         "            'photo_tags': 'sigmoid'}[task]", "every task in checks.OUTPUT_TASKS"),
        ("two classes as sigmoid (public examples right)", _choices_with(cat_or_dog="sigmoid"), None),
        ("regression guessed from the word 'probability'",
         "def output_activation(task):\n    text = checks.OUTPUT_TASKS[task]['description']\n"
         "    if 'probabilit' in text:\n        return 'sigmoid'\n"
         "    return 'softmax' if checks.OUTPUT_TASKS[task]['units'] > 1 else 'linear'",
         "Several labels can be true at once"),
    ],
}

#: Mistakes whose values match none of the diagnoses: the message must say so honestly, show the first wrong
#: entry of the public input, and name no cause.
GENERIC = "match none of the usual mistakes"
UNDIAGNOSED = {
    "relu": "def relu(z):\n    return np.maximum(z, 0) ** 2",
    "relu_grad": "def relu_grad(z):\n    return np.where(z > 0, 2.0, 0.0)",
    "sigmoid": "def sigmoid(z):\n    e = np.exp(-2 * np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
    "sigmoid_grad": "def sigmoid_grad(z):\n    s = sigmoid(z)\n    return 2 * s * (1 - s)",
    "tanh": "def tanh(z):\n    return 0.5 * np.tanh(z)",
    "tanh_grad": "def tanh_grad(z):\n    return 1 - np.tanh(z) ** 4",
    "softmax": "def softmax(z):\n    e = np.exp(2 * (z - z.max(axis=-1, keepdims=True)))\n    return e / e.sum(axis=-1, keepdims=True)",
}
for _name, _code in UNDIAGNOSED.items():
    WRONG[_name].append(("matches no diagnosis", _code, GENERIC))

ALTERNATIVES = {
    "relu": [
        "def relu(z):\n    return np.where(z > 0, z, 0.0)",
        "def relu(z):\n    return z * (z > 0)",
        "def relu(x):\n    return np.clip(x, 0, None)",
        "def relu(z):\n    return (z + np.abs(z)) / 2",
        "def relu(z):\n    return keras.activations.relu(z)",
        "def relu(z):\n    out = z.copy()\n    out[out < 0] = 0\n    return out",
    ],
    "relu_grad": [
        "def relu_grad(z):\n    return z > 0",
        "def relu_grad(z):\n    return np.heaviside(z, 0.0)",
        "def relu_grad(z):\n    return np.where(z >= 0, 1, 0)",
        "def relu_grad(z):\n    return np.heaviside(z, 0.5).astype(np.float32)",
    ],
    "sigmoid": [
        "from scipy.special import expit\ndef sigmoid(z):\n    return expit(z)",
        # Right values; numpy warns about the overflow in exp(1000), which the statement allows.
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))",
        "def sigmoid(z):\n    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))",
        "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(z / 2))",
        "def sigmoid(z):\n    return np.exp(-np.logaddexp(0, -z))",
        "def sigmoid(z):\n    return keras.activations.sigmoid(z).numpy()",
        "def sigmoid(x):\n    x = np.clip(x, -500, 500)\n    return 1 / (1 + np.exp(-x))",
    ],
    "sigmoid_grad": [
        "from scipy.special import expit\ndef sigmoid_grad(z):\n    return expit(z) * expit(-z)",
        "def sigmoid_grad(z):\n    e = np.exp(-np.abs(z))\n    return e / (1 + e) ** 2",
        "def sigmoid_grad(z):\n    s = 1 / (1 + np.exp(-z))\n    return s - s ** 2",
    ],
    "tanh": [
        "def tanh(z):\n    return np.tanh(z)",
        "def tanh(z):\n    return keras.activations.tanh(z).numpy()",
        "def tanh(z):\n    e = np.exp(-2 * np.abs(z))\n    return np.sign(z) * (1 - e) / (1 + e)",
    ],
    "tanh_grad": [
        "def tanh_grad(z):\n    return 1 / np.cosh(z) ** 2",
        "def tanh_grad(z):\n    t = np.tanh(z)\n    return (1 - t) * (1 + t)",
        "def tanh_grad(z):\n    return 4 * sigmoid_grad(2 * z)",
    ],
    "softmax": [
        "from scipy.special import softmax as scipy_softmax\ndef softmax(z):\n    return scipy_softmax(z, axis=-1)",
        "from scipy.special import logsumexp\ndef softmax(z):\n    return np.exp(z - logsumexp(z, axis=-1, keepdims=True))",
        "def softmax(z):\n    return keras.activations.softmax(z).numpy()",
        "def softmax(z):\n    def one(v):\n        e = np.exp(v - v.max())\n        return e / e.sum()\n"
        "    return np.apply_along_axis(one, -1, z)",
        "def softmax(logits):\n    shifted = logits - logits.max(axis=-1)[..., None]\n"
        "    return np.exp(shifted) / np.exp(shifted).sum(axis=-1)[..., None]",
    ],
    "output_activation": [
        _ALL_TASKS.replace("    choices = ", "ANSWERS = ").replace("\n    ", "\n") +
        "def output_activation(task):\n    return ANSWERS[task].upper().center(11)",
        "def output_activation(task):\n"
        "    if task in ('house_price', 'temperature', 'bounding_box', 'energy_demand'):\n        return None\n"
        "    if task in ('digit', 'news_section', 'cat_or_dog', 'review_stars', 'next_word'):\n"
        "        return keras.activations.softmax\n    return keras.activations.sigmoid",
        "def output_activation(task):\n"
        "    groups = {'identity': ['house_price', 'temperature', 'bounding_box', 'energy_demand'],\n"
        "              'softmax': ['digit', 'news_section', 'cat_or_dog', 'review_stars', 'next_word'],\n"
        "              'sigmoid': ['spam', 'photo_tags', 'fraud', 'chest_xray', 'movie_genres', 'ad_click']}\n"
        "    return next(name for name, tasks in groups.items() if task in tasks)",
    ],
}


#: Right answers computed in float32 (Keras's own precision): each must pass, near 0 and near +-1000 too.
FLOAT32_ALTERNATIVES = {
    "relu": ["def relu(z):\n    return np.maximum(z.astype(np.float32), np.float32(0))"],
    "relu_grad": ["def relu_grad(z):\n    return (z.astype(np.float32) > 0).astype(np.float32)"],
    "sigmoid": [
        "def sigmoid(z):\n    z = z.astype(np.float32)\n    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "def sigmoid(z):\n    return keras.ops.convert_to_numpy(keras.ops.sigmoid(z.astype('float32')))",
    ],
    "sigmoid_grad": [
        # A stable float32 sigmoid, then s * (1 - s): about 2e-8 off in absolute terms far from 0.
        "def sigmoid_grad(z):\n    z = z.astype(np.float32)\n    e = np.exp(-np.abs(z))\n"
        "    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n    return s * (1 - s)",
        "def sigmoid_grad(z):\n    s = keras.ops.convert_to_numpy(keras.ops.sigmoid(z.astype('float32')))\n"
        "    return s * (1 - s)",
    ],
    "tanh": ["def tanh(z):\n    return np.tanh(z.astype(np.float32))",
             "def tanh(z):\n    z = z.astype(np.float32)\n    e = np.exp(-2 * np.abs(z))\n"
             "    return np.sign(z) * (1 - e) / (1 + e)"],
    "tanh_grad": ["def tanh_grad(z):\n    t = np.tanh(z.astype(np.float32))\n    return 1 - t * t"],
    "softmax": [
        # Keras's own float32 softmax: a relative error of about 4e-5 on scores near +-1000.
        "def softmax(z):\n    return keras.ops.convert_to_numpy(keras.ops.softmax(z.astype('float32'), axis=-1))",
        "def softmax(z):\n    z = z.astype(np.float32)\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)",
    ],
}
for _name, _codes in FLOAT32_ALTERNATIVES.items():
    ALTERNATIVES[_name] = ALTERNATIVES[_name] + _codes


@pytest.fixture(scope="module")
def reference(course):
    namespace = reference_namespace(course, "02_activations")
    namespace["checks"] = activations
    return namespace


def quietly(function):
    """Run with warnings silenced: numpy's overflow warnings are part of some answers (and allowed), and
    Keras warns about a softmax over an axis of length 1, which one hidden input is on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function()


@pytest.mark.parametrize("name", [c.name for c in activations.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    check = activations.CHECKS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the reference never overflows
        assert public_message(check, reference[name]) is None
        for seed in SEEDS:
            assert simulate_grading(activations.CHECKS, check, reference[name], reference[name], seed).passed


def grade(name, answer, reference):
    """Grading verdicts over the seeds, and the public message, with warnings silenced."""
    check = activations.CHECKS[name]
    verdicts = quietly(lambda: [simulate_grading(activations.CHECKS, check, answer, reference[name], s) for s in SEEDS])
    return verdicts, quietly(lambda: public_message(check, answer))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


def test_an_answer_that_overflows_with_right_values_passes_with_a_note(reference, capsys):
    naive = define("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))", "sigmoid", reference)
    activations.sigmoid(naive)
    printed = capsys.readouterr().out
    assert "✓" in printed and "numpy warned" in printed and "overflow" in printed
    activations.sigmoid(reference["sigmoid"])
    assert "numpy warned" not in capsys.readouterr().out


#: Answers right on ordinary scores that break one stated no-overflow rule: (part, code, share earned, advice).
PARTIAL = [
    ("sigmoid", "def sigmoid(z):\n    return np.exp(z) / (1 + np.exp(z))", 1 / 2, "overflowed to inf"),
    ("sigmoid", "def sigmoid(z):\n    return np.where(z >= 0, np.exp(z) / (1 + np.exp(z)), 1 / (1 + np.exp(-z)))",
     1 / 2, "Only ever call np.exp on -|z|"),
    ("softmax", "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)", 1 / 3,
     "Subtract each row's maximum before exp"),
    ("softmax", "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum(axis=-1, keepdims=True)", 2 / 3,
     "one maximum for the whole batch"),
]


@pytest.mark.parametrize("name,code,share,advice", PARTIAL, ids=[f"{p[0]}-{i}" for i, p in enumerate(PARTIAL)])
def test_a_stated_stability_rule_broken_alone_keeps_the_other_points(reference, name, code, share, advice):
    verdicts, public = grade(name, define(code, name, reference), reference)
    assert public is not None and advice in public and "right for ordinary scores" in public, public
    for verdict in verdicts:
        assert not verdict.passed and verdict.credit == pytest.approx(share), (verdict.credit, verdict.detail)
        assert advice in verdict.feedback, verdict.feedback


def test_a_wrong_formula_earns_no_partial_credit(reference):
    """The stability share is only for a right formula: wrong values on ordinary scores score 0."""
    code = "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=0, keepdims=True)"
    verdicts, public = grade("softmax", define(code, "softmax", reference), reference)
    assert public is not None and all(not v.passed and v.credit == 0 for v in verdicts)


@pytest.mark.parametrize("name", list(UNDIAGNOSED))
def test_an_undiagnosed_mistake_names_no_cause(reference, name):
    """The honest message quotes the first wrong public entry and none of the diagnoses' causes."""
    check = activations.CHECKS[name]
    public = quietly(lambda: public_message(check, define(UNDIAGNOSED[name], name, reference)))
    assert public is not None and GENERIC in public and "The first wrong entry is z[" in public, public
    causes = [advice for _, advice in check.diagnoses(np.array([-1.0, 0.5, 2.0]))]
    assert not any(cause in public for cause in causes), public


@pytest.mark.parametrize("name", [c.name for c in activations.CHECKS.checks])
def test_every_check_says_what_it_should_return(name):
    assert activations.CHECKS[name].expected_form
