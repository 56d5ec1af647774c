"""14_debugging: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue). The two
training parts fit models, so they are graded on one seed with the reference's report cached
(catalogue.grade_trained_part); the diagnostic and the split are graded on two seeds, hidden tests included.
Every stated rule of autograder/checks/debugging.py has a mistake that breaks it here, and each part has a
mistake that matches no diagnosis, which must get the plain message.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, grade_trained_part,
                                  public_message, reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import debugging

SEEDS = (41, 42)
ONE_SEED = (43,)
TRAINED_PARTS = ("train_classifier", "train_sgd")
_REFERENCE_REPORTS: dict = {name: {} for name in TRAINED_PARTS}


def _dead(body):
    return "def dead_relu_fraction(model, X):\n" + body


#: The ReLU outputs of each layer, as the reference computes them; a wrong answer changes what it does with them.
_OUTPUTS = ("    outs, h = [], np.asarray(X, dtype='float32')\n"
            "    for layer in model.layers:\n        h = layer(h)\n"
            "        if layer.activation.__name__ == 'relu':\n"
            "            outs.append(keras.ops.convert_to_numpy(h))\n")


def _split(body):
    return "def shuffle_split(X, y, val_fraction=0.2, seed=0):\n" + body


def _classifier(output="keras.layers.Dense(10)", loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
                rate="0.01", epochs="10", hidden="32", extra=""):
    return ("def train_classifier(X, y, seed=0):\n    keras.utils.set_random_seed(seed)\n"
            f"    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense({hidden}, activation='relu'),\n"
            f"                              {output}{extra}])\n"
            f"    model.compile(optimizer=keras.optimizers.Adam(learning_rate={rate}), loss={loss}, metrics=['accuracy'])\n"
            f"    model.fit(X, y, epochs={epochs}, batch_size=32, verbose=0)\n    return model")


def _sgd(optimizer="keras.optimizers.SGD(learning_rate=0.1)", epochs="15", output="keras.layers.Dense(10)",
         hidden="32", loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True)"):
    return ("def train_sgd(X, y, seed=0):\n    keras.utils.set_random_seed(seed)\n"
            f"    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense({hidden}, activation='relu'),\n"
            f"                              {output}])\n"
            f"    model.compile(optimizer={optimizer},\n"
            f"                  loss={loss}, metrics=['accuracy'])\n"
            f"    model.fit(X, y, epochs={epochs}, batch_size=32, verbose=0)\n    return model")


_SOFTMAX = "keras.layers.Dense(10, activation='softmax')"
_PROBABILITY_LOSS = "keras.losses.SparseCategoricalCrossentropy(from_logits=False)"

WRONG = {
    "dead_relu_fraction": [
        ("share of zero outputs", _dead(_OUTPUTS + "    return np.array([np.mean(a == 0) for a in outs])"), "EVERY row"),
        ("zero for some row counts as dead",
         _dead(_OUTPUTS + "    return np.array([np.mean(np.any(a == 0, axis=0)) for a in outs])"), "not np.any"),
        ("share alive", _dead(_OUTPUTS + "    return np.array([np.mean(np.any(a > 0, axis=0)) for a in outs])"),
         "units that are alive"),
        ("counts, not fractions", _dead(_OUTPUTS + "    return np.array([np.sum(np.all(a == 0, axis=0)) for a in outs])"),
         "numbers of dead units"),
        ("the softmax layer counted too",
         _dead("    outs, h = [], np.asarray(X, dtype='float32')\n    for layer in model.layers:\n"
               "        h = layer(h)\n        outs.append(keras.ops.convert_to_numpy(h))\n"
               "    return np.array([np.mean(np.all(a == 0, axis=0)) for a in outs])"), "output layer uses softmax"),
        ("one flag per unit", _dead(_OUTPUTS + "    return np.concatenate([np.all(a == 0, axis=0) for a in outs]).astype(float)"),
         "one per unit"),
        ("one number for the whole network",
         _dead(_OUTPUTS + "    return float(np.mean(np.concatenate([np.all(a == 0, axis=0) for a in outs])))"),
         "returned one number"),
        # Matches no diagnosis: the first row only.
        ("the first row only", _dead(_OUTPUTS + "    return np.array([np.mean(a[0] == 0) for a in outs])"),
         "relative error"),
    ],
    "shuffle_split": [
        ("the bug as given: two permutations",
         _split("    rng = np.random.default_rng(seed)\n    X = X[rng.permutation(len(X))]\n    y = y[rng.permutation(len(y))]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"),
         "two different permutations"),
        ("only X shuffled",
         _split("    X = X[np.random.default_rng(seed).permutation(len(X))]\n    n_val = int(round(val_fraction * len(X)))\n"
                "    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"), "leaves y in its order"),
        ("the shuffle removed",
         _split("    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"),
         "without shuffling"),
        ("drawn with replacement",
         _split("    order = np.random.default_rng(seed).choice(len(X), len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"),
         "with replacement"),
        ("validation rows kept in training too",
         _split("    order = np.random.default_rng(seed).permutation(len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X, y, X[:n_val], y[:n_val]"), "in both"),
        ("the two sets swapped",
         _split("    order = np.random.default_rng(seed).permutation(len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[:n_val], y[:n_val], X[n_val:], y[n_val:]"),
         "swapped"),
        ("the seed not used",
         _split("    order = np.random.permutation(len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"),
         "same seed"),
        ("a fixed seed",
         _split("    order = np.random.default_rng(0).permutation(len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"),
         "seed argument is ignored"),
        ("shuffled in place",
         _split("    order = np.random.default_rng(seed).permutation(len(X))\n    X[:] = X[order]\n    y[:] = y[order]\n"
                "    n_val = int(round(val_fraction * len(X)))\n    return X[n_val:].copy(), y[n_val:].copy(), X[:n_val].copy(), "
                "y[:n_val].copy()"), "in place"),
        # Matches no diagnosis: val_fraction of the training part.
        ("validation size from the rest",
         _split("    order = np.random.default_rng(seed).permutation(len(X))\n    X, y = X[order], y[order]\n"
                "    n_val = int(round(val_fraction * (1 - val_fraction) * len(X)))\n"
                "    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]"), "asks for round(val_fraction * n)"),
    ],
    "train_classifier": [
        ("the bug as given: logits into a probability loss", _classifier(loss="'sparse_categorical_crossentropy'"),
         "treats them as probabilities"),
        ("a higher learning rate, the loss still expecting probabilities",
         _classifier(loss=_PROBABILITY_LOSS, rate="0.05"), "treats them as probabilities"),
        ("softmax added and from_logits=True: softmax twice", _classifier(output=_SOFTMAX), "applies softmax twice"),
        ("softmax as its own layer and from_logits=True",
         _classifier(extra=", keras.layers.Activation('softmax')"), "applies softmax twice"),
        ("never trained", _classifier(epochs="0"), "held-out digits"),
        ("a much wider network", _classifier(hidden="512"), "keep the network"),
        # The given settings the model shows: loss, optimizer, learning rate.
        ("mean squared error on one-hot labels", _classifier(loss="'mse'").replace(
            "model.fit(X, y,", "model.fit(X, keras.utils.to_categorical(y, 10),"), "keep the loss of the given code"),
        ("RMSprop instead of Adam, the loss fixed",
         _classifier().replace("keras.optimizers.Adam(", "keras.optimizers.RMSprop("), "keep the optimizer"),
        ("Adam's default rate 0.001, the loss fixed", _classifier(rate="0.001"), "keep the learning rate"),
        ("a schedule instead of the rate 0.01, the loss fixed",
         _classifier(rate="keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)"), "a learning-rate schedule"),
    ],
    "train_sgd": [
        ("the bug as given: learning rate 10", _sgd("keras.optimizers.SGD(learning_rate=10.0)"), "still far too high"),
        ("gradients clipped, the rate left at 10", _sgd("keras.optimizers.SGD(learning_rate=10.0, clipnorm=1.0)"),
         "Clipping"),
        ("Adam instead", _sgd("keras.optimizers.Adam(learning_rate=0.01)"), "plain SGD"),
        ("100 times too low now", _sgd("keras.optimizers.SGD(learning_rate=0.001)"), "too low now"),
        ("a decaying schedule from 10",
         _sgd("keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(10.0, 100, 0.5))"),
         "schedule"),
        ("a rate of 3", _sgd("keras.optimizers.SGD(learning_rate=3.0)"), "still far too high"),
        ("a much wider network", _sgd(hidden="512"), "keep the network"),
        ("mean squared error on one-hot labels", _sgd(loss="'mse'").replace(
            "model.fit(X, y,", "model.fit(X, keras.utils.to_categorical(y, 10),"), "keep the loss of the given code"),
        # Matches no specific diagnosis: a good rate, but one epoch.
        ("one epoch", _sgd(epochs="1"), "Train as the given code does"),
    ],
}

ALTERNATIVES = {
    "dead_relu_fraction": [
        # Intermediate outputs with a Functional model, max <= 0 as the test.
        "def dead_relu_fraction(model, X):\n"
        "    relus = [l for l in model.layers if getattr(l, 'activation', None) is keras.activations.relu]\n"
        "    probe = keras.Model(model.inputs, [l.output for l in relus])\n"
        "    outs = probe.predict(X, verbose=0)\n"
        "    outs = outs if isinstance(outs, list) else [outs]\n"
        "    return [float((o.max(axis=0) <= 0).mean()) for o in outs]",
        # numpy in float64 from the weights.
        "def dead_relu_fraction(model, X):\n"
        "    h, out = np.asarray(X, dtype=float), []\n"
        "    for layer in model.layers:\n"
        "        W, b = layer.get_weights()\n        h = h @ W + b\n"
        "        if layer.get_config()['activation'] == 'relu':\n"
        "            h = np.maximum(h, 0)\n            out.append(np.mean(~np.any(h > 0, axis=0)))\n"
        "    return np.array(out)",
        # float32 tensors end to end.
        "def dead_relu_fraction(model, X):\n"
        "    h = keras.ops.convert_to_tensor(np.asarray(X, 'float32'))\n    out = []\n"
        "    for layer in model.layers:\n        h = layer(h)\n"
        "        if layer.activation.__name__ == 'relu':\n"
        "            out.append(keras.ops.mean(keras.ops.cast(keras.ops.all(h == 0, axis=0), 'float32')))\n"
        "    return np.array([float(v) for v in out], dtype='float32')",
    ],
    "shuffle_split": [
        # scikit-learn's train_test_split (it rounds the validation size up).
        "def shuffle_split(X, y, val_fraction=0.2, seed=0):\n"
        "    from sklearn.model_selection import train_test_split\n"
        "    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=val_fraction, random_state=seed)\n"
        "    return X_tr, y_tr, X_val, y_val",
        # Index arrays, the validation rows at the end, float32 rows.
        "def shuffle_split(X, y, val_fraction=0.2, seed=0):\n"
        "    idx = np.random.default_rng(seed).permutation(len(X))\n    n_val = round(val_fraction * len(X))\n"
        "    tr, va = idx[:len(X) - n_val], idx[len(X) - n_val:]\n"
        "    return X[tr].astype('float32'), y[tr], X[va].astype('float32'), y[va]",
        # The legacy RandomState, and rows shuffled together as one array.
        "def shuffle_split(X, y, val_fraction=0.2, seed=0):\n"
        "    both = np.column_stack([X, y])\n    np.random.RandomState(seed).shuffle(both)\n"
        "    n_val = int(np.floor(val_fraction * len(X) + 0.5))\n"
        "    return both[n_val:, :-1], both[n_val:, -1].astype(int), both[:n_val, :-1], both[:n_val, -1].astype(int)",
    ],
    "train_classifier": [
        # A softmax layer added, the loss left expecting probabilities.
        _classifier(output=_SOFTMAX, loss=_PROBABILITY_LOSS),
        # The loss by name (probabilities), the softmax as its own layer.
        _classifier(extra=", keras.layers.Activation('softmax')", loss="'sparse_categorical_crossentropy'"),
        # The Functional API with logits.
        "def train_classifier(X, y, seed=0):\n    keras.utils.set_random_seed(seed)\n"
        "    inputs = keras.Input(shape=(64,))\n"
        "    logits = keras.layers.Dense(10)(keras.layers.Dense(32, activation='relu')(inputs))\n"
        "    model = keras.Model(inputs, logits)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
        "    model.fit(X, y, epochs=10, batch_size=32, verbose=0)\n    return model",
        # One-hot labels with categorical cross-entropy on logits, and the rate written as 1e-2.
        _classifier(loss="keras.losses.CategoricalCrossentropy(from_logits=True)", rate="1e-2").replace(
            "model.fit(X, y,", "model.fit(X, keras.utils.to_categorical(y, 10),"),
    ],
    "train_sgd": [
        _sgd("keras.optimizers.SGD(learning_rate=0.3)"),
        _sgd("keras.optimizers.SGD(0.05, momentum=0.9)"),
        # Softmax output with a probability loss, and the rate where the range test's loss falls fastest.
        _sgd("keras.optimizers.SGD(learning_rate=0.5)", output=_SOFTMAX).replace(
            "from_logits=True", "from_logits=False"),
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "14_debugging")


def grade(name, answer, reference):
    check = debugging.CHECKS[name]
    subject = answer if answer is not None else reference[name]
    if name in TRAINED_PARTS:
        results = [grade_trained_part(debugging.CHECKS, check, subject, reference[name], seed,
                                      _REFERENCE_REPORTS[name]) for seed in ONE_SEED]
        return [v for v, _ in results], results[0][1]
    return ([simulate_grading(debugging.CHECKS, check, subject, reference[name], s) for s in SEEDS],
            public_message(check, subject))


@pytest.mark.parametrize("name", ["dead_relu_fraction", "shuffle_split", "train_classifier", "train_sgd"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, None, reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


@pytest.mark.parametrize("name,buggy", [("shuffle_split", "buggy_shuffle_split"),
                                        ("train_classifier", "buggy_train_classifier"),
                                        ("train_sgd", "buggy_train_sgd")])
def test_the_buggy_code_of_the_notebook_fails_with_its_bug_named(reference, name, buggy):
    """The locked cell's buggy function is the first catalogued mistake of its part: the message names that bug."""
    advice = WRONG[name][0][2]
    expect_wrong(buggy, *grade(name, reference[buggy], reference), advice)


#: Every named cause of a part: the mistake that matches none of them must not get any.
_GENERIC = [("dead_relu_fraction", "the first row only", ["EVERY row", "np.any", "alive", "numbers of dead"]),
            ("shuffle_split", "validation size from the rest", ["swapped", "permutation", "shuffling", "replacement"]),
            ("train_sgd", "one epoch", ["too low now", "too high", "diverged", "keep the loss", "plain SGD",
                                        "schedule", "keep the network"])]


@pytest.mark.parametrize("name,label,named", _GENERIC, ids=[g[1] for g in _GENERIC])
def test_mistake_matching_no_diagnosis_gets_the_plain_message(reference, name, label, named):
    code = next(entry[1] for entry in WRONG[name] if entry[0] == label)
    verdicts, public = grade(name, define(code, name, reference), reference)
    for text in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in text for cause in named), text


def test_exercise_1_networks_mix_dead_live_and_partly_active_units():
    """Every grader network has, in some layer, a unit that is zero on some rows only, and margins that make
    float32 and float64 agree; the zero share and the dead share then differ."""
    for seed in range(10):
        for inputs in debugging.CHECKS.secret_inputs(seed)["dead_relu_fraction"]:
            outputs = debugging._activations(inputs)
            assert any(np.any(np.any(a == 0, axis=0) & np.any(a > 0, axis=0)) for a in outputs)
            dead = debugging.dead_fractions(inputs)
            assert not np.allclose(dead, [np.mean(a == 0) for a in outputs])


def test_split_data_have_unique_rows_sorted_by_class():
    for seed in range(10):
        for inputs in debugging.CHECKS.secret_inputs(seed)["shuffle_split"]:
            X, y = inputs["X"], inputs["y"]
            assert len(np.unique(X, axis=0)) == len(X) and np.all(np.diff(y) >= 0) and len(set(y)) >= 3


def test_untrained_notebook_reports_not_implemented():
    """The exercise's stubs raise NotImplementedError; the checks say so instead of crashing."""
    def stub(*args):
        raise NotImplementedError()

    for name in ("dead_relu_fraction", "shuffle_split", "train_classifier", "train_sgd"):
        message = public_message(debugging.CHECKS[name], stub)
        assert message is not None and "not implemented yet" in message
