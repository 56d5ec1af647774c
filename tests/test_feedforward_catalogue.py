"""03_feedforward: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
copy_weights is called by the check on models it builds itself (checks.mlp_model, three forms);
widest_mlp is judged on the model it returns, rebuilt by the grader.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (forged_verdict, odd_report_failures, grader_inputs, alternative_cases, expect_correct, expect_wrong, public_message, reference_namespace,
                                  simulate_grading, wrong_cases)
from autograder.checks import feedforward

SEEDS = (11, 12, 13)
KERAS_SEEDS = (11,)  # building Keras models is the slow part; one grading run per answer is enough

INIT = ("def init_params(layer_sizes, seed=0):\n    rng = np.random.default_rng(seed)\n    params = []\n"
        "    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):\n{body}\n    return params")


def init_answer(body: str) -> str:
    return INIT.format(body="\n".join("        " + line for line in body.splitlines()))


#: A widest_mlp answer: `fits` decides whether the next width still fits; the other fields change the network.
_WIDEST = ("def widest_mlp(n_in, n_out, n_hidden, max_params):\n"
           "    def sizes(h):\n        return [n_in] + [h] * n_hidden + [n_out]\n"
           "    width = 1\n    while {fits}:\n        width += 1\n"
           "    layers = [keras.Input(shape=(n_in,))]\n"
           "    layers += [keras.layers.Dense(width, activation={hidden}) for _ in range(n_hidden + {extra})]\n"
           "    return keras.Sequential(layers + [keras.layers.Dense(n_out, activation={out})])")


class _Widest:
    @staticmethod
    def format(fits, hidden="'relu'", out="None", extra=0):
        return _WIDEST.format(fits=fits, hidden=hidden, out=out, extra=extra)


WIDEST = _Widest()

WRONG = {
    "init_params": [
        ("W transposed", init_answer("params.append((rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in)), np.zeros(n_out)))"),
         "W is transposed"),
        ("unseeded global generator",
         "def init_params(layer_sizes, seed=0):\n    return [(np.random.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b))\n"
         "            for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]", "called twice with the same seed"),
        ("seed ignored",
         "def init_params(layer_sizes, seed=0):\n    rng = np.random.default_rng(42)\n"
         "    return [(rng.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]",
         "seed argument is ignored"),
        ("not scaled", init_answer("params.append((rng.standard_normal((n_in, n_out)), np.zeros(n_out)))"), "never scaled"),
        ("Glorot scale", init_answer("params.append((rng.normal(0, np.sqrt(2 / (n_in + n_out)), (n_in, n_out)), np.zeros(n_out)))"),
         "Glorot"),
        ("variance as std", init_answer("params.append((rng.normal(0, 2 / n_in, (n_in, n_out)), np.zeros(n_out)))"),
         "that is the variance"),
        ("fan-out scale", init_answer("params.append((rng.normal(0, np.sqrt(2 / n_out), (n_in, n_out)), np.zeros(n_out)))"),
         "follows n_out"),
        ("random biases", init_answer("params.append((rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), rng.normal(0, 0.1, n_out)))"),
         "biases start at zero"),
        ("all-zero weights", init_answer("params.append((np.zeros((n_in, n_out)), np.zeros(n_out)))"), "draw the weights at random"),
        ("uniform in [0, 1)", init_answer("params.append((rng.random((n_in, n_out)) * np.sqrt(2 / n_in), np.zeros(n_out)))"),
         "centred on 0"),
        ("bias as a column", init_answer("params.append((rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), np.zeros((n_out, 1))))"),
         "1-D array"),
        ("a generator re-made from the seed for every layer",
         "def init_params(layer_sizes, seed=0):\n    params = []\n    for a, b in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
         "        rng = np.random.default_rng(seed)\n        params.append((rng.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b)))\n"
         "    return params", "repeats one stream"),
        ("one seeded Keras initializer for every layer",
         "def init_params(layer_sizes, seed=0):\n    init = keras.initializers.HeNormal(seed=seed)\n"
         "    return [(init((a, b)), np.zeros(b)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]", "repeats one stream"),
        ("a pair for the input layer too",
         "def init_params(layer_sizes, seed=0):\n    rng = np.random.default_rng(seed)\n    sizes = [layer_sizes[0]] + list(layer_sizes)\n"
         "    return [(rng.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b)) for a, b in zip(sizes[:-1], sizes[1:])]",
         "the input layer has no parameters"),
    ],
    "forward": [
        ("ReLU on the output", "def forward(X, params):\n    A = X\n    for W, b in params:\n"
                               "        A = np.maximum(0, A @ W + b)\n    return A", "ReLU was applied to the output layer"),
        ("no biases", "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n        A = np.maximum(0, A @ W)\n"
                      "    return A @ params[-1][0]", "without the biases"),
        ("no activation", "def forward(X, params):\n    A = X\n    for W, b in params:\n        A = A @ W + b\n    return A",
         "no activation at all"),
        ("sigmoid hidden layers", "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n"
                                  "        A = 1 / (1 + np.exp(-(A @ W + b)))\n    return A @ params[-1][0] + params[-1][1]",
         "used a sigmoid"),
        ("W transposed", "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n        A = np.maximum(0, A @ W.T + b)\n"
                         "    return A @ params[-1][0].T + params[-1][1]", "do not transpose W"),
        ("output layer skipped", "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n"
                                 "        A = np.maximum(0, A @ W + b)\n    return A", "width of a hidden layer"),
        ("exactly two layers", "def forward(X, params):\n    (W1, b1), (W2, b2) = params\n"
                               "    return np.maximum(0, X @ W1 + b1) @ W2 + b2", "any number of layers"),
        ("every activation returned", "def forward(X, params):\n    A, cache = X, [X]\n    for W, b in params[:-1]:\n"
                                      "        A = np.maximum(0, A @ W + b)\n        cache.append(A)\n"
                                      "    cache.append(A @ params[-1][0] + params[-1][1])\n    return cache",
         "only the output of the last layer"),
        ("matches no diagnosis", "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n"
                                 "        A = 2 * np.maximum(0, A @ W + b)\n    return A @ params[-1][0] + params[-1][1]",
         "match none of the usual mistakes"),
    ],
    "count_params": [
        ("weights only", "def count_params(layer_sizes):\n    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))",
         "only the weights"),
        ("one bias per input", "def count_params(layer_sizes):\n"
                               "    return sum(a * b + a for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))", "counted per input"),
        ("units, not parameters", "def count_params(layer_sizes):\n    return sum(layer_sizes)", "number of units"),
        ("input layer with biases", "def count_params(layer_sizes):\n"
                                    "    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) + sum(layer_sizes)",
         "input layer got biases"),
        ("returns a list", "def count_params(layer_sizes):\n"
                           "    return [a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]", "one whole number"),
        ("the right count as a float", "def count_params(layer_sizes):\n"
                                      "    return float(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))",
         "but as a float"),
        ("matches no diagnosis", "def count_params(layer_sizes):\n"
                                 "    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) + len(layer_sizes)",
         "Add up n_in * n_out + n_out over every pair"),
    ],
    "copy_weights": [
        ("weights transposed", "def copy_weights(model, params):\n"
                               "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                               "    for layer, (W, b) in zip(dense, params):\n        layer.set_weights([W.T, b])\n"
                               "    return model", "without transposing"),
        ("never copied", "def copy_weights(model, params):\n    return model", "no Dense layer holds its W"),
        ("biases left at zero", "def copy_weights(model, params):\n"
                                "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                                "    for layer, (W, b) in zip(dense, params):\n"
                                "        layer.set_weights([W, np.zeros_like(b)])\n    return model", "but not its b"),
        ("kernel only", "def copy_weights(model, params):\n"
                        "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                        "    for layer, (W, b) in zip(dense, params):\n        layer.set_weights([W])\n    return model",
         "needs both arrays"),
        ("zip over model.layers (fails on a ReLU layer)",
         "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
         "        layer.set_weights([W, b])\n    return model", "holds no weights"),
        ("stops at the first layer without weights",
         "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
         "        if not layer.weights:\n            break\n        layer.set_weights([W, b])\n    return model",
         "only the first Dense layer holds its"),
        ("a new model without the ReLUs returned",
         "def copy_weights(model, params):\n    new = keras.Sequential([keras.Input(shape=(params[0][0].shape[0],))]\n"
         "                           + [keras.layers.Dense(W.shape[1]) for W, b in params])\n"
         "    for layer, (W, b) in zip(new.layers, params):\n        layer.set_weights([W, b])\n    return new",
         "network with no activation"),
        ("matches no diagnosis: an activation changed",
         "def copy_weights(model, params):\n"
         "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
         "    for layer, (W, b) in zip(dense, params):\n        layer.set_weights([W, b])\n"
         "    dense[-1].activation = keras.activations.get('tanh')\n    return model",
         "match none of the usual mistakes"),
    ],
    "widest_mlp": [
        ("< instead of <=", WIDEST.format(fits="count_params(sizes(width + 1)) < max_params"), "compare with <=, not <"),
        ("the first width that does not fit",
         "def widest_mlp(n_in, n_out, n_hidden, max_params):\n    width = 1\n"
         "    while count_params([n_in] + [width] * n_hidden + [n_out]) <= max_params:\n        width += 1\n"
         "    return keras.Sequential([keras.Input(shape=(n_in,))]\n"
         "                            + [keras.layers.Dense(width, activation='relu') for _ in range(n_hidden)]\n"
         "                            + [keras.layers.Dense(n_out)])", "the first that does not fit"),
        ("biases not counted", WIDEST.format(fits="sum(a * b for a, b in zip(sizes(width + 1), sizes(width + 1)[1:])) <= max_params"),
         "the biases are not counted"),
        ("one hidden layer counted", WIDEST.format(fits="count_params([n_in, width + 1, n_out]) <= max_params"),
         "would fit with one hidden layer"),
        ("ReLU on the output layer", WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params", out="'relu'"),
         "the output layer is linear"),
        ("hidden layers without activation",
         WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params", hidden="None"), "has no activation (linear)"),
        ("one hidden layer too many",
         WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params", extra=1), "is not n_hidden"),
        ("returns the width",
         "def widest_mlp(n_in, n_out, n_hidden, max_params):\n    width = 1\n"
         "    while count_params([n_in] + [width + 1] * n_hidden + [n_out]) <= max_params:\n        width += 1\n"
         "    return width", "return the model itself"),
        ("a list of layers",
         "def widest_mlp(n_in, n_out, n_hidden, max_params):\n"
         "    return [keras.layers.Dense(4, activation='relu') for _ in range(n_hidden)] + [keras.layers.Dense(n_out)]",
         "not a keras.Model"),
        ("hidden layers without biases",
         WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params").replace(
             "activation='relu')", "activation='relu', use_bias=False)"), "use_bias=False"),
        ("input of n_out features, n_in and n_out swapped",
         WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params").replace(
             "keras.Input(shape=(n_in,))", "keras.Input(shape=(n_out,))"), "does not take n_in inputs"),
        ("matches no diagnosis: two widths too wide",
         WIDEST.format(fits="count_params(sizes(width - 1)) <= max_params"), "Count them with count_params"),
    ],
}

ALTERNATIVES = {
    "init_params": [
        "def init_params(layer_sizes, seed=0):\n    np.random.seed(seed)\n"
        "    return [(np.random.randn(a, b) * np.sqrt(2 / a), np.zeros(b)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]",
        init_answer("limit = np.sqrt(6 / n_in)\n"
                    "params.append((rng.uniform(-limit, limit, (n_in, n_out)), np.zeros(n_out)))"),
        init_answer("params.append([(rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32),\n"
                    "               np.zeros(n_out, dtype=np.float32)])"),
        "def init_params(layer_sizes, seed=0):\n"
        "    return [(keras.initializers.HeNormal(seed=seed * 1000 + i)((a, b)), np.zeros(b))\n"
        "            for i, (a, b) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]))]",
        "def init_params(layer_sizes, seed=0):\n    params = []\n    for i in range(1, len(layer_sizes)):\n"
        "        rng = np.random.default_rng([seed, i])\n"
        "        params.append((rng.normal(size=(layer_sizes[i - 1], layer_sizes[i])) / np.sqrt(layer_sizes[i - 1] / 2),\n"
        "                       np.zeros(layer_sizes[i])))\n    return params",
    ],
    "forward": [
        "def forward(X, params):\n    A = X\n    for i, (W, b) in enumerate(params):\n        Z = np.dot(A, W) + b\n"
        "        A = Z if i == len(params) - 1 else np.where(Z > 0, Z, 0.0)\n    return A",
        "def forward(X, params):\n    A = X\n    for W, b in params[:-1]:\n        Z = np.einsum('mi,ij->mj', A, W) + b\n"
        "        A = Z * (Z > 0)\n    return np.einsum('mi,ij->mj', A, params[-1][0]) + params[-1][1]",
        "def forward(X, params):\n    A = X.astype(np.float32)\n    for W, b in params[:-1]:\n"
        "        A = np.maximum(A @ W.astype(np.float32) + b.astype(np.float32), 0)\n"
        "    return A @ params[-1][0].astype(np.float32) + params[-1][1].astype(np.float32)",
        # float32 through keras.ops, as a Dense layer computes it
        "def forward(X, params):\n    f32 = lambda a: keras.ops.convert_to_tensor(np.asarray(a, 'float32'))\n"
        "    A = f32(X)\n    for W, b in params[:-1]:\n        A = keras.ops.relu(keras.ops.matmul(A, f32(W)) + f32(b))\n"
        "    return keras.ops.convert_to_numpy(keras.ops.matmul(A, f32(params[-1][0])) + f32(params[-1][1]))",
        "def forward(X, params):\n    A = X\n    *hidden, (W_out, b_out) = params\n    for W, b in hidden:\n"
        "        A = np.clip(A @ W + b, 0, None)\n    return (W_out.T @ A.T).T + b_out",
    ],
    "count_params": [
        "def count_params(layer_sizes):\n    total = 0\n    for i in range(1, len(layer_sizes)):\n"
        "        total += layer_sizes[i - 1] * layer_sizes[i] + layer_sizes[i]\n    return total",
        "def count_params(layer_sizes):\n    sizes = np.array(layer_sizes)\n"
        "    return np.dot(sizes[:-1], sizes[1:]) + sizes[1:].sum()",
        "def count_params(layer_sizes):\n    return sum((a + 1) * b for a, b in zip(layer_sizes, layer_sizes[1:]))",
    ],
    "copy_weights": [
        "def copy_weights(model, params):\n    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
        "    for layer, (W, b) in zip(dense, params):\n        layer.kernel.assign(W)\n        layer.bias.assign(b)\n"
        "    return model",
        "def copy_weights(model, params):\n    model.set_weights([array for pair in params for array in pair])\n    return model",
        # float32 arrays, as Keras stores them
        "def copy_weights(model, params):\n"
        "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
        "    for layer, (W, b) in zip(dense, params):\n"
        "        layer.set_weights([np.asarray(W, 'float32'), np.asarray(b, 'float32')])\n    return model",
        "def copy_weights(model, params):\n    weights = iter(params)\n    for layer in model.layers:\n"
        "        if layer.weights:\n            layer.set_weights(list(next(weights)))\n    return model",
    ],
    "widest_mlp": [
        # the quadratic solved, then adjusted to the neighbour that fits
        "import math\n"
        "def widest_mlp(n_in, n_out, n_hidden, max_params):\n"
        "    a, b, c = n_hidden - 1, n_in + n_out + n_hidden, n_out - max_params\n"
        "    h = int(-c / b) if a == 0 else int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a))\n"
        "    while count_params([n_in] + [h + 1] * n_hidden + [n_out]) <= max_params:\n        h += 1\n"
        "    while count_params([n_in] + [h] * n_hidden + [n_out]) > max_params:\n        h -= 1\n"
        "    inputs = keras.Input(shape=(n_in,))\n    x = inputs\n"
        "    for _ in range(n_hidden):\n        x = keras.layers.Dense(h, activation='relu')(x)\n"
        "    return keras.Model(inputs, keras.layers.Dense(n_out)(x))",
        # searching down from a width that is sure to be too wide, with separate ReLU layers
        "def widest_mlp(n_in, n_out, n_hidden, max_params):\n    h = max_params\n"
        "    while count_params([n_in] + [h] * n_hidden + [n_out]) > max_params:\n        h = h // 2 if h > 4096 else h - 1\n"
        "    while count_params([n_in] + [h + 1] * n_hidden + [n_out]) <= max_params:\n        h += 1\n"
        "    model = keras.Sequential([keras.Input(shape=(n_in,))])\n"
        "    for _ in range(n_hidden):\n        model.add(keras.layers.Dense(h))\n        model.add(keras.layers.ReLU())\n"
        "    model.add(keras.layers.Dense(n_out, activation='linear'))\n    return model",
        # no keras.Input: the check builds it on n_in features
        "def widest_mlp(n_in, n_out, n_hidden, max_params):\n    h = 1\n"
        "    while count_params([n_in] + [h + 1] * n_hidden + [n_out]) <= max_params:\n        h += 1\n"
        "    return keras.Sequential([keras.layers.Dense(h, activation=keras.activations.relu) for _ in range(n_hidden)]\n"
        "                            + [keras.layers.Dense(n_out)])",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "03_feedforward")


def subject_of(name: str, code: str | None, reference: dict):
    """The function the check is called on: the answer's, or the reference's when `code` is None."""
    scope = dict(reference)
    if code is not None:
        exec(compile(code, f"<answer {name}>", "exec"), scope)
    return scope[name]


def seeds_for(name: str):
    return KERAS_SEEDS if name in ("widest_mlp", "copy_weights") else SEEDS


def grade(name, answer, reference):
    """Grading verdicts over the part's seeds, and the public message."""
    check, ref = feedforward.CHECKS[name], subject_of(name, None, reference)
    return ([simulate_grading(feedforward.CHECKS, check, answer, ref, s) for s in seeds_for(name)],
            public_message(check, answer))


@pytest.mark.parametrize("name", [c.name for c in feedforward.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, subject_of(name, None, reference), reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, subject_of(name, code, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, subject_of(name, code, reference), reference))


# ============================================================================= attacks on the Keras parts
# A Keras part is judged from the model the kernel reports (its config and weights), rebuilt by the grader and
# run on a batch in the grader-only key "_X". These attacks replace the kernel's report and must score 0 on the
# part without raising.
import json  # noqa: E402

import numpy as np  # noqa: E402

from autograder.checks.core import dump_inputs, kernel_view  # noqa: E402
from autograder.checks.model_data import report_model  # noqa: E402
from autograder.checks.plain import from_plain, to_plain  # noqa: E402
from autograder.grading.judge import judge_part  # noqa: E402

MORE_KERAS_SEEDS = (11, 14, 15)


def _grader_inputs(seed):
    return grader_inputs(feedforward.CHECKS, seed)


def judge_forged(name, forge, reference, seed=KERAS_SEEDS[0]):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(feedforward.CHECKS, feedforward.CHECKS[name], subject_of(name, None, reference), forge, seed)


def _mlp(sizes, hidden="relu"):
    import keras

    return keras.Sequential([keras.Input(shape=(sizes[0],))] + [keras.layers.Dense(n, activation=hidden)
                                                               for n in sizes[1:-1]] + [keras.layers.Dense(sizes[-1])])


def _widest_args(inp):
    return [int(inp[k]) for k in ("n_in", "n_out", "n_hidden", "max_params")]


def _widest_model(inp, extra=0, hidden="relu"):
    n_in, n_out, n_hidden, budget = _widest_args(inp)
    width = feedforward.widest_width(n_in, n_out, n_hidden, budget) + extra
    return _mlp([n_in] + [width] * n_hidden + [n_out], hidden)


def _perfect_widest_claims(inp):
    """A kernel that states the facts a right answer has, instead of reporting a model."""
    n_in, n_out, n_hidden, budget = _widest_args(inp)
    width = feedforward.widest_width(n_in, n_out, n_hidden, budget)
    return {"is_model": True, "width": width, "n_params": feedforward._mlp_params(n_in, n_out, n_hidden, width),
            "layers": [{"kind": "Dense", "units": width, "activation": "relu"}] * n_hidden}


def _too_wide_under_a_narrow_config(inp):
    """A network five units too wide, its config edited to claim the widest width; its weights stay."""
    record = report_model(_widest_model(inp, extra=5))
    right = report_model(_widest_model(inp))
    return {**record, "keras_config": right["keras_config"]}


def _numpy_forward(inp):
    A = np.asarray(inp["_X"], dtype=np.float64)
    params = inp["params"]
    for W, b in params[:-1]:
        A = np.maximum(0.0, A @ np.asarray(W) + np.asarray(b))
    return A @ np.asarray(params[-1][0]) + np.asarray(params[-1][1])


def _copied(inp, hidden="relu"):
    model = _mlp([int(v) for v in inp["layer_sizes"]], hidden)
    dense = [layer for layer in model.layers if layer.weights]
    for layer, (W, b) in zip(dense, inp["params"]):
        layer.set_weights([np.asarray(W), np.asarray(b)])
    return model


def _relu_edited_to_linear(inp):
    """A correctly copied model's record, its keras_config edited to drop the ReLUs; the weights stay."""
    record = report_model(_copied(inp))
    return {**record, "keras_config": record["keras_config"].replace('"activation": "relu"', '"activation": "linear"')}


#: part -> [(label, forge)], forge(reference) -> (inputs -> what the replaced `run` reports).
LYING_REPORTS = {
    "widest_mlp": [
        ("claims of the right width and count, no model", lambda ref: _perfect_widest_claims),
        ("a too-wide network's weights under the right config", lambda ref: _too_wide_under_a_narrow_config),
        ("the first public case's model replayed for every input",
         lambda ref: lambda inp: report_model(_mlp([4, 8, 8, 3]))),
    ],
    "copy_weights": [
        ("old claim dict with the outputs computed in numpy",
         lambda ref: lambda inp: {"is_model": True, "outputs": _numpy_forward(inp)}),
        ("an uncopied model's record, with the right outputs claimed",
         lambda ref: lambda inp: {**report_model(_mlp([int(v) for v in inp["layer_sizes"]])),
                                  "outputs": _numpy_forward(inp)}),
        ("a copied model's config edited to drop the ReLUs, weights kept", lambda ref: _relu_edited_to_linear),
        ("weights of another shape under the right config",
         lambda ref: lambda inp: {**report_model(_copied(inp)), "weights": [np.zeros(3)]}),
    ],
}


@pytest.mark.parametrize("name,label,forge", [pytest.param(n, label, forge, id=f"{n}-{label}")
                                              for n, rows in LYING_REPORTS.items() for label, forge in rows])
def test_lying_report_scores_zero(reference, name, label, forge):
    verdict = judge_forged(name, forge(reference), reference)
    assert not verdict.passed and verdict.credit == 0, f"{label} earned {verdict.credit}"
    assert verdict.feedback and "which this check cannot read" not in verdict.detail, verdict.detail


_LAMBDA_MLP = ("def widest_mlp(n_in, n_out, n_hidden, max_params):\n    layers = [keras.Input(shape=(n_in,))]\n"
               "    for _ in range(n_hidden):\n"
               "        layers += [keras.layers.Dense(4), keras.layers.Lambda(lambda z: keras.ops.maximum(z, 0.0))]\n"
               "    return keras.Sequential(layers + [keras.layers.Dense(n_out)])\n")
_SUBCLASSED_MLP = ("def widest_mlp(n_in, n_out, n_hidden, max_params):\n    class MLP(keras.Model):\n"
                   "        def __init__(self):\n            super().__init__()\n"
                   "            self.hidden = [keras.layers.Dense(4, activation='relu') for _ in range(n_hidden)]\n"
                   "            self.out = keras.layers.Dense(n_out)\n"
                   "        def call(self, x):\n            for layer in self.hidden:\n                x = layer(x)\n"
                   "            return self.out(x)\n"
                   "    model = MLP()\n    model(keras.ops.zeros((1, n_in)))\n    return model\n")
_LAMBDA_COPY = ("def copy_weights(model, params):\n"
                "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                "    for layer, (W, b) in zip(dense, params):\n        layer.set_weights([W, b])\n"
                "    return keras.Sequential([model, keras.layers.Lambda(lambda z: z)])\n")

#: label -> (part, code, what the message must say). Both Keras parts refuse them.
REJECTED_MODELS = {
    "Lambda layer": ("widest_mlp", _LAMBDA_MLP, "Lambda layer"),
    "subclassed model": ("widest_mlp", _SUBCLASSED_MLP, "subclassed models"),
    "Lambda layer around the copied model": ("copy_weights", _LAMBDA_COPY, "Lambda layer"),
}


@pytest.mark.parametrize("label", list(REJECTED_MODELS))
def test_models_the_grader_does_not_run_are_refused(reference, label):
    name, code, advice = REJECTED_MODELS[label]
    verdicts, public = grade(name, subject_of(name, code, reference), reference)
    assert public is not None and "cannot be checked" in public and advice in public, public
    assert all(not v.passed and advice in v.feedback for v in verdicts), [v.detail for v in verdicts]


def test_kernel_never_sees_the_batch_a_model_is_judged_on():
    """copy_weights's probe batch stays in "_X": the kernel gets only sizes, form and params; widest_mlp its four ints."""
    for seed in MORE_KERAS_SEEDS:
        inputs = _grader_inputs(seed)
        for key in ("widest_mlp", "widest_mlp:hidden"):
            assert all(set(kernel_view(i)) == {"n_in", "n_out", "n_hidden", "max_params"} for i in inputs[key])
        for key in ("copy_weights", "copy_weights:hidden"):
            assert all(set(kernel_view(i)) == {"layer_sizes", "form", "params"} and "_X" in i for i in inputs[key])
        assert {i["form"] for i in inputs["copy_weights"]} == set(feedforward.MLP_FORMS)
    for case in feedforward.copy_weights.public_cases:
        assert "X" not in kernel_view(case.inputs) and "_X" in case.inputs


@pytest.mark.parametrize("name", ["widest_mlp", "copy_weights"])
def test_reference_passes_on_several_seeds(reference, name):
    check, ref = feedforward.CHECKS[name], subject_of(name, None, reference)
    expect_correct([simulate_grading(feedforward.CHECKS, check, ref, ref, s) for s in MORE_KERAS_SEEDS],
                   public_message(check, ref))


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(feedforward.CHECKS, ("widest_mlp", "copy_weights"), KERAS_SEEDS[0], {"width": 1}) == []



# ============================================================================= partial credit and honest messages
#: (part, code, share earned, advice): an answer that meets some of a part's separable requirements.
PARTIAL = [
    ("count_params", "def count_params(layer_sizes):\n"
                     "    return float(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))", 1 / 2, "as a float"),
    ("copy_weights", "def copy_weights(model, params):\n"
                     "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                     "    for layer, (W, b) in zip(dense, params):\n        layer.set_weights([W, b])", 2 / 3,
     "End with `return model`"),
    ("widest_mlp", WIDEST.format(fits="count_params(sizes(width + 1)) < max_params"), 2 / 3, "not <"),
    ("widest_mlp", WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params", out="'relu'"), 2 / 3,
     "the output layer is linear"),
    ("widest_mlp", "def widest_mlp(n_in, n_out, n_hidden, max_params):\n    width = 1\n"
                   "    while count_params([n_in] + [width] * n_hidden + [n_out]) <= max_params:\n        width += 1\n"
                   "    return keras.Sequential([keras.Input(shape=(n_in,))]\n"
                   "                            + [keras.layers.Dense(width, activation='relu') for _ in range(n_hidden)]\n"
                   "                            + [keras.layers.Dense(n_out)])", 1 / 3, "the first that does not fit"),
    ("widest_mlp", WIDEST.format(fits="count_params(sizes(width + 1)) <= max_params", extra=1), 0, "is not n_hidden"),
]


@pytest.mark.parametrize("name,code,share,advice", PARTIAL, ids=[f"{p[0]}-{i}" for i, p in enumerate(PARTIAL)])
def test_separable_requirements_earn_their_share(reference, name, code, share, advice):
    verdicts, public = grade(name, subject_of(name, code, reference), reference)
    assert public is not None and advice in public, public
    for verdict in verdicts:
        assert not verdict.passed and verdict.credit == pytest.approx(share), (verdict.credit, verdict.detail)
        assert advice in verdict.feedback, verdict.feedback


def test_partial_messages_quote_no_grader_input(reference):
    """A partial answer's feedback for the grader's own inputs names settings, never their values."""
    code = WIDEST.format(fits="count_params(sizes(width + 1)) < max_params")
    check = feedforward.widest_mlp
    answer = subject_of("widest_mlp", code, reference)
    for seed in SEEDS:
        inputs = _grader_inputs(seed)["widest_mlp"]
        with_values = [str(v) for inp in inputs for k, v in inp.items()]
        for inp in inputs:
            message = check.compare(inp, check.run(answer, inp), None)
            if message is None:
                continue
            text = message.message if hasattr(message, "message") else message
            assert not any(f" {v} " in f" {text} " or f"={v}" in text for v in with_values if len(v) > 1), text


def test_widest_width_is_the_last_that_fits():
    for n_in, n_out, n_hidden, budget in ((4, 3, 2, 139), (784, 10, 1, 60_000), (2, 1, 1, 1000), (20, 5, 3, 5000)):
        h = feedforward.widest_width(n_in, n_out, n_hidden, budget)
        assert feedforward._mlp_params(n_in, n_out, n_hidden, h) <= budget
        assert feedforward._mlp_params(n_in, n_out, n_hidden, h + 1) > budget


def test_ambiguous_evidence_names_no_single_cause():
    """Where two usual mistakes give the same width, the message names both, not one of them."""
    # (20, 5, 3, 5000): the widest width is 43; both the first width over the budget and a count without
    # biases give 44.
    assert feedforward.widest_width(20, 5, 3, 5000) == 43 == feedforward.widest_width(20, 5, 3, 5000, biases=False) - 1
    message = feedforward.WidestMLP._over_budget(20, 5, 3, 5000, 44, 43)
    assert "would each give this width" in message and "first that does not fit" not in message


@pytest.mark.parametrize("name", [c.name for c in feedforward.CHECKS.checks])
def test_every_check_says_what_it_should_return(name):
    assert feedforward.CHECKS[name].expected_form
