"""03_feedforward: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
copy_weights is checked on the pair (keras_mlp, copy_weights): an answer may redefine keras_mlp too,
otherwise the reference keras_mlp builds the model.
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


FUNCTIONAL_MLP = ("def keras_mlp(layer_sizes):\n    inputs = keras.Input(shape=(layer_sizes[0],))\n    x = inputs\n"
                  "    for n in layer_sizes[1:-1]:\n        x = keras.layers.Dense(n, activation='relu')(x)\n"
                  "    return keras.Model(inputs, keras.layers.Dense(layer_sizes[-1])(x))\n")

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
    ],
    "keras_mlp": [
        ("hidden layers without activation",
         "def keras_mlp(layer_sizes):\n    return keras.Sequential([keras.Input(shape=(layer_sizes[0],))]\n"
         "                            + [keras.layers.Dense(n) for n in layer_sizes[1:]])", "has no activation (linear)"),
        ("ReLU on the output layer",
         "def keras_mlp(layer_sizes):\n    return keras.Sequential([keras.Input(shape=(layer_sizes[0],))]\n"
         "                            + [keras.layers.Dense(n, activation='relu') for n in layer_sizes[1:]])",
         "output layer of this network is linear"),
        ("a Dense layer for the inputs",
         "def keras_mlp(layer_sizes):\n    layers = [keras.Input(shape=(layer_sizes[0],))]\n"
         "    layers += [keras.layers.Dense(n, activation='relu') for n in layer_sizes[:-1]]\n"
         "    return keras.Sequential(layers + [keras.layers.Dense(layer_sizes[-1])])", "input layer is not a Dense layer"),
        ("sigmoid hidden layers",
         "def keras_mlp(layer_sizes):\n    layers = [keras.Input(shape=(layer_sizes[0],))]\n"
         "    layers += [keras.layers.Dense(n, activation='sigmoid') for n in layer_sizes[1:-1]]\n"
         "    return keras.Sequential(layers + [keras.layers.Dense(layer_sizes[-1])])", "uses activation 'sigmoid'"),
        ("no biases",
         "def keras_mlp(layer_sizes):\n    layers = [keras.Input(shape=(layer_sizes[0],))]\n"
         "    layers += [keras.layers.Dense(n, activation='relu', use_bias=False) for n in layer_sizes[1:-1]]\n"
         "    return keras.Sequential(layers + [keras.layers.Dense(layer_sizes[-1], use_bias=False)])", "use_bias=False"),
        ("a list of layers",
         "def keras_mlp(layer_sizes):\n    return [keras.layers.Dense(n, activation='relu') for n in layer_sizes[1:-1]]"
         " + [keras.layers.Dense(layer_sizes[-1])]", "not a keras.Model"),
    ],
    "copy_weights": [
        ("weights transposed", "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
                               "        layer.set_weights([W.T, b])\n    return model", "without transposing"),
        ("never copied", "def copy_weights(model, params):\n    return model", "do not seem to be copied"),
        ("biases left at zero", "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
                                "        layer.set_weights([W, np.zeros_like(b)])\n    return model", "without the biases"),
        ("kernel only", "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
                        "        layer.set_weights([W])\n    return model", "needs both arrays"),
        ("InputLayer of a functional model", FUNCTIONAL_MLP + "def copy_weights(model, params):\n"
                                             "    for layer, (W, b) in zip(model.layers, params):\n"
                                             "        layer.set_weights([W, b])\n    return model", "InputLayer"),
        ("hidden layers without activation in keras_mlp",
         "def keras_mlp(layer_sizes):\n    return keras.Sequential([keras.Input(shape=(layer_sizes[0],))]\n"
         "                            + [keras.layers.Dense(n) for n in layer_sizes[1:]])\n"
         "def copy_weights(model, params):\n    for layer, (W, b) in zip(model.layers, params):\n"
         "        layer.set_weights([W, b])\n    return model", "no activation at all"),
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
        "def init_params(layer_sizes, seed=0):\n    init = keras.initializers.HeNormal(seed=seed)\n"
        "    return [(init((a, b)), np.zeros(b)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]",
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
    "keras_mlp": [
        FUNCTIONAL_MLP,
        "def keras_mlp(layer_sizes):\n    model = keras.Sequential()\n    model.add(keras.Input(shape=(layer_sizes[0],)))\n"
        "    for n in layer_sizes[1:-1]:\n        model.add(keras.layers.Dense(n))\n"
        "        model.add(keras.layers.Activation('relu'))\n    model.add(keras.layers.Dense(layer_sizes[-1]))\n    return model",
        "def keras_mlp(layer_sizes):\n    layers = [keras.Input(shape=(layer_sizes[0],))]\n    for n in layer_sizes[1:-1]:\n"
        "        layers += [keras.layers.Dense(n), keras.layers.ReLU()]\n"
        "    return keras.Sequential(layers + [keras.layers.Dense(layer_sizes[-1], activation='linear')])",
        "def keras_mlp(layer_sizes):\n    return keras.Sequential([keras.layers.Dense(n, activation=keras.activations.relu)\n"
        "                             for n in layer_sizes[1:-1]] + [keras.layers.Dense(layer_sizes[-1])])",
    ],
    "copy_weights": [
        "def copy_weights(model, params):\n    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
        "    for layer, (W, b) in zip(dense, params):\n        layer.kernel.assign(W)\n        layer.bias.assign(b)\n"
        "    return model",
        "def copy_weights(model, params):\n    model.set_weights([array for pair in params for array in pair])\n    return model",
        FUNCTIONAL_MLP + "def copy_weights(model, params):\n"
                         "    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]\n"
                         "    for layer, (W, b) in zip(dense, params):\n"
                         "        layer.set_weights([np.asarray(W, 'float32'), np.asarray(b, 'float32')])",
        "def keras_mlp(layer_sizes):\n    model = keras.Sequential()\n    model.add(keras.Input(shape=(layer_sizes[0],)))\n"
        "    for n in layer_sizes[1:-1]:\n        model.add(keras.layers.Dense(n))\n"
        "        model.add(keras.layers.Activation('relu'))\n    model.add(keras.layers.Dense(layer_sizes[-1]))\n    return model\n"
        "def copy_weights(model, params):\n    weights = iter(params)\n    for layer in model.layers:\n"
        "        if layer.weights:\n            layer.set_weights(list(next(weights)))\n    return model",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "03_feedforward")


def subject_of(name: str, code: str | None, reference: dict):
    """The object the check is called on: the answer's function, or for copy_weights the pair (keras_mlp, copy_weights)."""
    scope = dict(reference)
    if code is not None:
        exec(compile(code, f"<answer {name}>", "exec"), scope)
    if name == "copy_weights":
        return scope["keras_mlp"], scope["copy_weights"]
    return scope[name]


def seeds_for(name: str):
    return KERAS_SEEDS if name in ("keras_mlp", "copy_weights") else SEEDS


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


def test_copy_weights_waits_for_keras_mlp(reference):
    """With keras_mlp still a stub, copy_weights says to finish Exercise 4 rather than blaming copy_weights."""
    answer = subject_of("copy_weights", "def keras_mlp(layer_sizes):\n    raise NotImplementedError()", reference)
    message = public_message(feedforward.copy_weights, answer)
    assert message is not None and "finish Exercise 4 first" in message


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


def _perfect_mlp_claims(inp):
    """What the old kernel-side report said about a correct keras_mlp."""
    sizes = [int(v) for v in inp["layer_sizes"]]
    layers = [{"kind": "Dense", "units": n, "activation": "relu", "use_bias": True} for n in sizes[1:-1]]
    return {"is_model": True, "layers": layers + [{"kind": "Dense", "units": sizes[-1], "activation": "linear",
                                                   "use_bias": True}],
            "n_params": sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])), "output_shape": [3, sizes[-1]]}


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


def _claims(inp):
    return {k: v for k, v in _perfect_mlp_claims(inp).items() if k != "is_model"}


#: part -> [(label, forge)], forge(reference) -> (inputs -> what the replaced `run` reports).
LYING_REPORTS = {
    "keras_mlp": [
        ("old claim dict with perfect facts", lambda ref: _perfect_mlp_claims),
        ("a linear network's record, with perfect claims added",
         lambda ref: lambda inp: {**report_model(_mlp([int(v) for v in inp["layer_sizes"]], None)), **_claims(inp)}),
        ("the first public case's model replayed for every input", lambda ref: lambda inp: report_model(_mlp([4, 8, 6, 3]))),
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
    assert not verdict.passed, f"{label} passed"
    assert verdict.feedback and "which this check cannot read" not in verdict.detail, verdict.detail


_LAMBDA_MLP = ("def keras_mlp(layer_sizes):\n    layers = [keras.Input(shape=(layer_sizes[0],))]\n"
               "    for n in layer_sizes[1:-1]:\n"
               "        layers += [keras.layers.Dense(n), keras.layers.Lambda(lambda z: keras.ops.maximum(z, 0.0))]\n"
               "    return keras.Sequential(layers + [keras.layers.Dense(layer_sizes[-1])])\n")
_SUBCLASSED_MLP = ("def keras_mlp(layer_sizes):\n    class MLP(keras.Model):\n"
                   "        def __init__(self):\n            super().__init__()\n"
                   "            self.hidden = [keras.layers.Dense(n, activation='relu') for n in layer_sizes[1:-1]]\n"
                   "            self.out = keras.layers.Dense(layer_sizes[-1])\n"
                   "        def call(self, x):\n            for layer in self.hidden:\n                x = layer(x)\n"
                   "            return self.out(x)\n"
                   "    model = MLP()\n    model(keras.ops.zeros((1, layer_sizes[0])))\n    return model\n")

#: label -> (code defining keras_mlp, what the message must say). Both Keras parts refuse them.
REJECTED_MODELS = {
    "Lambda layer": (_LAMBDA_MLP, "Lambda layer"),
    "subclassed model": (_SUBCLASSED_MLP, "subclassed models"),
}


@pytest.mark.parametrize("name", ["keras_mlp", "copy_weights"])
@pytest.mark.parametrize("label", list(REJECTED_MODELS))
def test_models_the_grader_does_not_run_are_refused(reference, name, label):
    code, advice = REJECTED_MODELS[label]
    verdicts, public = grade(name, subject_of(name, code, reference), reference)
    assert public is not None and "cannot be checked" in public and advice in public, public
    assert all(not v.passed and advice in v.feedback for v in verdicts), [v.detail for v in verdicts]


def test_kernel_never_sees_the_batch_a_model_is_judged_on():
    """keras_mlp's and copy_weights's probe batches stay in "_X": the kernel gets only sizes and params."""
    for seed in MORE_KERAS_SEEDS:
        inputs = _grader_inputs(seed)
        for key in ("keras_mlp", "keras_mlp:hidden"):
            assert all(set(kernel_view(i)) == {"layer_sizes"} for i in inputs[key])
        for key in ("copy_weights", "copy_weights:hidden"):
            assert all(set(kernel_view(i)) == {"layer_sizes", "params"} and "_X" in i for i in inputs[key])
    for case in feedforward.keras_mlp.public_cases + feedforward.copy_weights.public_cases:
        assert "X" not in kernel_view(case.inputs) and "_X" in case.inputs


@pytest.mark.parametrize("name", ["keras_mlp", "copy_weights"])
def test_reference_passes_on_several_seeds(reference, name):
    check, ref = feedforward.CHECKS[name], subject_of(name, None, reference)
    expect_correct([simulate_grading(feedforward.CHECKS, check, ref, ref, s) for s in MORE_KERAS_SEEDS],
                   public_message(check, ref))


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(feedforward.CHECKS, ("keras_mlp", "copy_weights"), KERAS_SEEDS[0], {"n_params": 1}) == []
