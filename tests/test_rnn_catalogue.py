"""11_rnn: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-forecaster part uses one seed and few trainings.

What the catalogue asserts, per the module's "Stated rules" (autograder/checks/rnn.py): each stated rule has a
mistake that breaks it and fails with that rule's message; each of the draft's five bugs, left in, fails in
build_forecaster itself and costs a fifth of its points; every numeric part has a float32 answer that passes;
and each part has a mistake that matches no diagnosis, which gets the honest message and no named cause.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (forged_verdict, grader_inputs, alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import rnn
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import predict, report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

SEEDS = (31, 32)
ONE_SEED = (33,)


def _lstm_step(z_line="    z = x_t @ W + h_prev @ U + b\n",
               split="    z_i, z_f, z_c, z_o = np.split(z, 4, axis=1)\n",
               gates="    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)\n",
               cell="    c_t = f * c_prev + i * np.tanh(z_c)\n",
               hidden="    h_t = o * np.tanh(c_t)\n",
               ret="    return h_t, c_t\n"):
    return "def lstm_cell_step(x_t, h_prev, c_prev, W, U, b):\n" + z_line + split + gates + cell + hidden + ret


def _forward(init="    h, c = np.zeros((batch, units)), np.zeros((batch, units))\n",
             body="        h, c = lstm_cell_step(X[:, t, :], h, c, W, U, b)\n        hs.append(h)\n",
             ret="    return np.stack(hs, axis=1)\n"):
    return ("def lstm_forward(X, W, U, b):\n    batch, steps, _ = X.shape\n    units = U.shape[0]\n" + init +
            "    hs = []\n    for t in range(steps):\n" + body + ret)


def _build(recurrent="        keras.layers.LSTM(units),\n",
           head="        keras.layers.Dense(1),\n",
           compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n",
           input_="        keras.Input(shape=(window, 1)),\n"):
    return ("def build_forecaster(window=24, units=16):\n    model = keras.Sequential([\n" + input_ + recurrent + head +
            "    ])\n" + compile_ + "    return model\n")


_TRAIN_HEAD = "def build_and_train_forecaster(X_train, y_train):\n"


def _train(build="    model = build_forecaster(24, 16)\n", epochs=20, ret="    return model\n"):
    return (_TRAIN_HEAD + build +
            f"    model.fit(X_train, y_train, epochs={epochs}, batch_size=32, verbose=0)\n" + ret)


def _sequential(*layers, loss="'mse'"):
    return ("    model = keras.Sequential([keras.Input(shape=(24, 1)), " + ", ".join(layers) + "])\n"
            f"    model.compile(optimizer=keras.optimizers.Adam(0.01), loss={loss})\n")


DRAFT = rnn.DRAFT_FORECASTER

WRONG = {
    "rnn_cell_step": [
        ("recurrent term forgotten", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return np.tanh(x_t @ W + b)",
         "recurrent term is missing"),
        ("sigmoid instead of tanh", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return sigmoid(x_t @ W + h_prev @ U + b)",
         "uses tanh"),
        ("no activation", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return x_t @ W + h_prev @ U + b",
         "pass it through tanh"),
        ("U transposed", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return np.tanh(x_t @ W + h_prev @ U.T + b)",
         "U is transposed"),
        ("bias forgotten", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return np.tanh(x_t @ W + h_prev @ U)",
         "bias b is missing"),
        # No diagnosis fits: what came back against what was expected, and no named cause.
        ("tanh applied twice", "def rnn_cell_step(x_t, h_prev, W, U, b):\n    return np.tanh(np.tanh(x_t @ W + h_prev @ U + b))",
         "(relative error"),
    ],
    "lstm_cell_step": [
        ("gate order f, i, c, o", _lstm_step(split="    z_f, z_i, z_c, z_o = np.split(z, 4, axis=1)\n"), "f, i, c~, o"),
        ("gate order i, f, o, c", _lstm_step(split="    z_i, z_f, z_o, z_c = np.split(z, 4, axis=1)\n"), "i, f, o, c~"),
        ("gate order i, c, f, o (TF1)", _lstm_step(split="    z_i, z_c, z_f, z_o = np.split(z, 4, axis=1)\n"),
         "i, c~, f, o"),
        ("tanh on every gate", _lstm_step(gates="    i, f, o = np.tanh(z_i), np.tanh(z_f), np.tanh(z_o)\n"),
         "The gates use tanh"),
        ("tanh on the forget gate", _lstm_step(gates="    i, f, o = sigmoid(z_i), np.tanh(z_f), sigmoid(z_o)\n"),
         "forget gate uses tanh"),
        ("tanh on the output gate", _lstm_step(gates="    i, f, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_o)\n"),
         "output gate uses tanh"),
        ("cell state not carried", _lstm_step(cell="    c_t = i * np.tanh(z_c)\n"), "old cell state is not carried"),
        ("h and c swapped", _lstm_step(ret="    return c_t, h_t\n"), "swapped"),
        ("recurrent term forgotten", _lstm_step(z_line="    z = x_t @ W + b\n"), "recurrent term is missing"),
        ("no tanh on the new cell state", _lstm_step(hidden="    h_t = o * c_t\n"), "squash the new cell state"),
        ("sigmoid on the candidate", _lstm_step(cell="    c_t = f * c_prev + i * sigmoid(z_c)\n"), "candidate"),
        ("only h returned", _lstm_step(ret="    return h_t\n"), "return the pair (h_t, c_t)"),
        ("a dict returned", _lstm_step(ret="    return {'h': h_t, 'c': c_t}\n"), "should return a pair (h_t, c_t)"),
        # No diagnosis fits: the formula, and no named cause.
        ("bias forgotten", _lstm_step(z_line="    z = x_t @ W + h_prev @ U\n"), "Compute z = x_t @ W + h_prev @ U + b"),
    ],
    "lstm_forward": [
        ("hidden state reset each step",
         _forward(init="", body="        h, c = np.zeros((batch, units)), np.zeros((batch, units))\n"
                                "        h, c = lstm_cell_step(X[:, t, :], h, c, W, U, b)\n        hs.append(h)\n"),
         "reset at every step"),
        ("cell state not carried",
         _forward(body="        h, _ = lstm_cell_step(X[:, t, :], h, c, W, U, b)\n        hs.append(h)\n"),
         "cell state is not carried"),
        ("h not carried",
         _forward(body="        h0 = np.zeros((batch, units))\n"
                       "        h, c = lstm_cell_step(X[:, t, :], h0, c, W, U, b)\n        hs.append(h)\n"),
         "hidden state is not carried"),
        ("h and c swapped",
         _forward(body="        c, h = lstm_cell_step(X[:, t, :], h, c, W, U, b)\n        hs.append(h)\n"),
         "trade places"),
        ("last state only", _forward(ret="    return h\n"), "last hidden state only"),
        ("steps first", _forward(ret="    return np.stack(hs)\n"), "steps are on the first axis"),
        ("a wrong cell (gate order f, i, c, o) inside",
         _lstm_step(split="    z_f, z_i, z_c, z_o = np.split(z, 4, axis=1)\n") + "\n" + _forward(),
         "fix that first"),
        # No diagnosis fits (the steps read newest first): what is known (the first step is already wrong), no cause.
        ("steps read in reverse",
         _forward(body="        h, c = lstm_cell_step(X[:, steps - 1 - t, :], h, c, W, U, b)\n        hs.append(h)\n"),
         "Already the first step is wrong"),
    ],
    "build_forecaster": [
        # The draft's five bugs, each left in alone: each fails in this part, with its own message.
        ("the draft unchanged", DRAFT, "reads each window backwards"),
        ("read backwards", _build(recurrent="        keras.layers.LSTM(units, go_backwards=True),\n"),
         "reads each window backwards"),
        ("every step returned", _build(recurrent="        keras.layers.LSTM(units, return_sequences=True),\n"),
         "one output per step"),
        ("every step read out through Flatten",
         _build(recurrent="        keras.layers.LSTM(units, return_sequences=True),\n        keras.layers.Flatten(),\n"),
         "sees the LSTM's hidden state after every step"),
        ("ReLU read-out", _build(head="        keras.layers.Dense(1, activation='relu'),\n"), "can never be negative"),
        ("tanh read-out", _build(head="        keras.layers.Dense(1, activation='tanh'),\n"), "between -1 and 1"),
        ("sigmoid read-out", _build(head="        keras.layers.Dense(1, activation='sigmoid'),\n"), "between 0 and 1"),
        ("binary cross-entropy", _build(compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), "
                                                 "loss='binary_crossentropy')\n"), "not on the mean squared error"),
        ("mean absolute error", _build(compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), "
                                                "loss='mae')\n"), "not on the mean squared error"),
        ("default learning rate", _build(compile_="    model.compile(optimizer='adam', loss='mse')\n"),
         "learning rate 0.001, not the learning rate 0.01"),
        ("SGD", _build(compile_="    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss='mse')\n"),
         "The optimizer is SGD"),
        # What the statement keeps from the draft.
        ("a GRU instead of the LSTM", _build(recurrent="        keras.layers.GRU(units),\n"), "keeps the draft's single"),
        ("a second LSTM", _build(recurrent="        keras.layers.LSTM(units, return_sequences=True),\n"
                                           "        keras.layers.LSTM(units),\n"), "keeps the draft's single"),
        ("units ignored", _build(recurrent="        keras.layers.LSTM(16),\n"), "give the LSTM `units` units"),
        # Accepted before models were rebuilt by the grader (the check's run called the model on data first).
        ("never built: no input shape", _build(input_=""), "keras.Input(shape="),
        ("not compiled", _build(compile_=""), "not compiled"),
        # No diagnosis fits: what came back against what was asked.
        ("two outputs per window", _build(head="        keras.layers.Dense(2),\n"), "does not give one forecast per window"),
    ],
    "build_and_train_forecaster": [
        ("History returned", _train(epochs=1, ret="").replace("    model.fit(", "    return model.fit("),
         "returned a History"),
        ("nothing returned", _train(epochs=1, ret=""), "returned None"),
        ("over the budget: LSTM(32)", _train(_sequential("keras.layers.LSTM(32)", "keras.layers.Dense(1)"), epochs=1),
         "more than the 2,000 the statement allows"),
        ("no recurrent layer", _train(_sequential("keras.layers.Flatten()", "keras.layers.Dense(16, activation='relu')",
                                                  "keras.layers.Dense(1)"), epochs=1), "no recurrent layer"),
        ("ReLU read-out", _train(_sequential("keras.layers.LSTM(16)", "keras.layers.Dense(1, activation='relu')"),
                                 epochs=3), "The cause is in the build"),
        ("fit never called", _TRAIN_HEAD + "    return build_forecaster(24, 16)\n", "hardly trained"),
        # The model's input and output, as the statement fixes them: (batch, 24, 1) in, one forecast per window out.
        ("one output per step", _train(_sequential("keras.layers.LSTM(16, return_sequences=True)",
                                                   "keras.layers.Dense(1)"), epochs=1), "one forecast per window"),
        ("trained on the last 12 steps, each step's state flattened",
         _train("    model = keras.Sequential([keras.Input(shape=(12, 1)), keras.layers.LSTM(4, return_sequences=True),\n"
                "                              keras.layers.Flatten(), keras.layers.Dense(1)])\n"
                "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse')\n", epochs=1).replace(
             "model.fit(X_train,", "model.fit(X_train[:, -12:],"), "cannot read windows"),
        # No diagnosis fits: the lesson's 6 epochs are not enough for the target, and the message names no cause.
        ("the lesson's settings: 6 epochs", _train(epochs=6), "It learned something but not enough"),
    ],
}

ALTERNATIVES = {
    "rnn_cell_step": [
        "def rnn_cell_step(x_t, h_prev, W, U, b):\n    z = np.dot(x_t, W) + np.dot(h_prev, U)\n    return np.tanh(z + b[None, :])",
        "def rnn_cell_step(x_t, h_prev, W, U, b):\n"
        "    return np.stack([np.tanh(np.einsum('i,ij->j', x, W) + np.einsum('i,ij->j', h, U) + b)\n"
        "                     for x, h in zip(x_t, h_prev)])",
        # float32 arithmetic, as Keras does it.
        "def rnn_cell_step(x_t, h_prev, W, U, b):\n"
        "    x_t, h_prev, W, U, b = (np.asarray(a, dtype=np.float32) for a in (x_t, h_prev, W, U, b))\n"
        "    return np.tanh(x_t @ W + h_prev @ U + b)",
    ],
    "lstm_cell_step": [
        # Slices instead of np.split, a list instead of a tuple, the sigmoid from exp written inline.
        "def lstm_cell_step(x_t, h_prev, c_prev, W, U, b):\n    u = h_prev.shape[1]\n"
        "    gate = lambda k: 1 / (1 + np.exp(-(x_t @ W[:, k*u:(k+1)*u] + h_prev @ U[:, k*u:(k+1)*u] + b[k*u:(k+1)*u])))\n"
        "    cand = np.tanh(x_t @ W[:, 2*u:3*u] + h_prev @ U[:, 2*u:3*u] + b[2*u:3*u])\n"
        "    c = gate(1) * c_prev + gate(0) * cand\n    return [gate(3) * np.tanh(c), c]",
        # float32 arithmetic, as Keras does it.
        "def lstm_cell_step(x_t, h_prev, c_prev, W, U, b):\n"
        "    x_t, h_prev, c_prev, W, U, b = (np.asarray(a, dtype=np.float32) for a in (x_t, h_prev, c_prev, W, U, b))\n"
        "    z = np.concatenate([x_t, h_prev], axis=1) @ np.concatenate([W, U], axis=0) + b\n"
        "    i, f, g, o = np.split(z, 4, axis=-1)\n"
        "    c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)\n    return sigmoid(o) * np.tanh(c), c",
    ],
    "lstm_forward": [
        # Preallocated output, filled in place.
        "def lstm_forward(X, W, U, b):\n    batch, steps, _ = X.shape\n    units = U.shape[0]\n"
        "    H = np.zeros((batch, steps, units))\n    h = c = np.zeros((batch, units))\n"
        "    for t in range(steps):\n        h, c = lstm_cell_step(X[:, t], h, c, W, U, b)\n        H[:, t] = h\n"
        "    return H",
        # Keras itself, given the same weights (float32 inside).
        "def lstm_forward(X, W, U, b):\n    layer = keras.layers.LSTM(U.shape[0], return_sequences=True)\n"
        "    X = np.asarray(X, dtype='float32')\n    layer(X)\n    layer.set_weights([W, U, b])\n"
        "    return np.asarray(layer(X))",
    ],
    "build_forecaster": [
        # The Functional API, the settings spelled out, a loss object.
        "def build_forecaster(window=24, units=16):\n    inputs = keras.Input(shape=(window, 1))\n"
        "    state = keras.layers.LSTM(units, return_sequences=False, go_backwards=False)(inputs)\n"
        "    outputs = keras.layers.Dense(1, activation='linear')(state)\n"
        "    model = keras.Model(inputs, outputs)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.MeanSquaredError())\n"
        "    return model",
        # The draft fixed in place: activation=None, the long loss name, a hidden Dense layer before the read-out.
        "def build_forecaster(window=24, units=16):\n"
        "    model = keras.Sequential([\n        keras.Input(shape=(window, 1)),\n"
        "        keras.layers.LSTM(units),\n        keras.layers.Dense(8, activation='relu'),\n"
        "        keras.layers.Dense(1, activation=None),\n    ])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss='mean_squared_error')\n"
        "    return model",
    ],
}

#: Other designs and trainings that must also beat the target (each trains a model: kept few).
TRAINING_ALTERNATIVES = [
    # An LSTM of 20 units (1,781 parameters), the Functional API, a validation split.
    _TRAIN_HEAD +
    "    inputs = keras.Input(shape=(24, 1))\n"
    "    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(20)(inputs)))\n"
    "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse')\n"
    "    model.fit(X_train, y_train, epochs=20, batch_size=32, validation_split=0.1, verbose=0)\n"
    "    return model",
]


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "11_rnn")


def _subject(name, reference):
    return reference["forecaster"] if name == "build_and_train_forecaster" else reference[name]


def _check(name):
    return rnn.CHECKS["trained_forecaster" if name == "build_and_train_forecaster" else name]


def _trained(reference, code):
    """The notebook's Exercise 5 cell with the given answer: seed, call it, keep what it returns."""
    import keras

    build_and_train = define(code, "build_and_train_forecaster", reference)
    keras.utils.set_random_seed(0)
    return build_and_train(reference["X_train"], reference["y_train"])


def grade(name, answer, reference, seeds):
    check = _check(name)
    return ([simulate_grading(rnn.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("build_and_train_forecaster", "build_forecaster") else SEEDS


@pytest.mark.parametrize("name", ["rnn_cell_step", "lstm_cell_step", "lstm_forward", "build_forecaster",
                                  "build_and_train_forecaster"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    if name == "build_and_train_forecaster":
        answer = _trained(reference, code)
    else:
        answer = define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("code", TRAINING_ALTERNATIVES)
def test_alternative_design_beats_the_target(reference, code):
    expect_correct(*grade("build_and_train_forecaster", _trained(reference, code), reference, ONE_SEED))


def test_each_fixed_bug_earns_a_fifth(reference):
    """Partial credit: each of the five requirements the draft breaks is a fifth of the points."""
    fixes = {", go_backwards=True": "", ", return_sequences=True": "", ', activation="relu"': "",
             'optimizer="adam"': "optimizer=keras.optimizers.Adam(learning_rate=0.01)",
             'loss="binary_crossentropy"': 'loss="mse"'}
    code = DRAFT
    for fixed, (old, new) in enumerate(fixes.items()):
        (verdict,), _ = grade("build_forecaster", define(code, "build_forecaster", reference), reference, ONE_SEED)
        assert not verdict.passed and abs(verdict.credit - fixed / 5) < 1e-9, (fixed, verdict.credit, verdict.feedback)
        assert old in code
        code = code.replace(old, new)
    (verdict,), public = grade("build_forecaster", define(code, "build_forecaster", reference), reference, ONE_SEED)
    assert verdict.passed and public is None, verdict.detail


def test_untrained_notebook_reports_not_implemented():
    """When build_and_train_forecaster still raises, forecaster stays None and the part says so."""
    message = public_message(rnn.CHECKS["trained_forecaster"], None)
    assert message is not None and "not implemented yet" in message


def test_stated_gate_order_is_keras_order():
    """The exercise states Keras's LSTM layout; the public expected values agree with keras.layers.LSTM."""
    import keras
    import numpy as np

    case = rnn.lstm_cell_step.public_cases[0]
    inp = case.inputs
    layer = keras.layers.LSTM(inp["h_prev"].shape[1])
    x = np.asarray(inp["x_t"][:, None, :], dtype="float32")
    layer(x)
    layer.set_weights([inp["W"], inp["U"], inp["b"]])
    h = np.asarray(layer(x, initial_state=[inp["h_prev"].astype("float32"), inp["c_prev"].astype("float32")]))
    assert np.allclose(h, case.expected[0], atol=1e-5)


# ----------------------------------------------------------------------------- the model parts cannot be lied to
# A model part is judged from the model the kernel reports (its config and weights), rebuilt by the grader,
# never from facts the kernel states. Each attack plays a kernel whose check `run` was replaced and reports
# forge(inputs) (the full inputs, grader-only keys included); the part must score 0 with a message.
ATTACK_SEED = 34
_NOTEBOOK_X, _NOTEBOOK_Y = (np.concatenate(arrays) for arrays in
                            zip(*(rnn.noisy_waves(n, window=24, seed=seed)
                                  for n, seed in zip((1200, 500), rnn.NOTEBOOK_SEEDS))))


def _grader_inputs(seed):
    return grader_inputs(rnn.CHECKS, seed)


def judge_forged(name, reference, forge, seed=ATTACK_SEED):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(rnn.CHECKS, _check(name), _subject(name, reference), forge, seed)


def _assert_zero(verdict, phrase):
    assert not verdict.passed, "the attack passed"
    assert phrase in verdict.detail, verdict.detail
    assert verdict.feedback


def _untrained(reference):
    import keras

    keras.utils.set_random_seed(1)
    return reference["build_forecaster"](24, 16)


def lookup_forecaster(X, y, scale=1000.0):
    """Built-in layers only: a sharp softmax over the stored windows X picks the nearest one, and a Dense layer
    answers its stored next value y. Exact on every stored window."""
    import keras

    n, window, _ = X.shape
    P = np.asarray(X, dtype="float32").reshape(n, window)
    inputs = keras.Input(shape=(window, 1))
    match, answer = keras.layers.Dense(n, activation="softmax"), keras.layers.Dense(1, use_bias=False)
    model = keras.Model(inputs, answer(match(keras.layers.Flatten()(inputs))))
    match.set_weights([scale * P.T, -scale * (P ** 2).sum(axis=1) / 2])
    answer.set_weights([np.asarray(y, dtype="float32")[:, None]])
    model.compile(optimizer="adam", loss="mse")
    return model


def _lambda_forecaster():
    """An LSTM(16) for show, and a Lambda layer that answers the last value of the window plus a trend."""
    import keras

    inputs = keras.Input(shape=(24, 1))
    lstm = keras.layers.Dense(1)(keras.layers.LSTM(16)(inputs))
    out = keras.layers.Lambda(lambda ts: 2 * ts[1][:, -1] - ts[1][:, -2] + 0 * ts[0])([lstm, inputs])
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="mse")
    return model


def _subclassed_forecaster():
    import keras

    class Forecaster(keras.Model):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = keras.layers.LSTM(16), keras.layers.Dense(1)

        def call(self, x):
            return self.head(self.lstm(x))

    model = Forecaster()
    model(np.zeros((1, 24, 1), dtype="float32"))
    model.compile(optimizer="adam", loss="mse")
    return model


def _old_build_claims(reference, inp):
    return {"is_model": True, "compiled": True, "optimizer": "Adam", "loss": "mse", "output_shape": [2, 1],
            "layers": [{"kind": "LSTM", "class": "LSTM", "units": int(inp["units"]), "return_sequences": False},
                       {"kind": "Dense", "class": "Dense"}]}


def _edited_units_record(reference, inp):
    """An LSTM(8) whatever `units` says, its config edited to claim `units`."""
    record = report_model(define(_build(recurrent="        keras.layers.LSTM(8),\n"), "build_forecaster",
                                 reference)(int(inp["window"]), int(inp["units"])))
    config = json.loads(record["keras_config"])
    config["config"]["layers"][1]["config"]["units"] = int(inp["units"])
    return {**record, "keras_config": json.dumps(config)}


#: (part, label, forge(reference, inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("build_forecaster", "the old claim dict, with the right facts", _old_build_claims, "cannot be checked"),
    ("build_forecaster", "units ignored, the config edited to claim them", _edited_units_record, "cannot be checked"),
    ("build_forecaster", "report_model of a SimpleRNN model with the old claims added",
     lambda reference, inp: {**report_model(define(_build(recurrent="        keras.layers.SimpleRNN(units),\n"),
                                                   "build_forecaster", reference)(
         int(inp["window"]), int(inp["units"]))), **_old_build_claims(reference, inp)}, "SimpleRNN"),
    ("build_and_train_forecaster", "the old claim dict: forecasts equal to the targets",
     lambda reference, inp: {"is_model": True, "outputs": np.asarray(inp["_targets"])[:, None]}, "cannot be checked"),
    ("build_and_train_forecaster", "an untrained model's record with perfect forecasts added to it",
     lambda reference, inp: {**report_model(_untrained(reference)), "outputs": np.asarray(inp["_targets"])[:, None]},
     "hardly trained"),
    ("build_and_train_forecaster", "the trained model's config with an untrained model's weights",
     lambda reference, inp: {**report_model(reference["forecaster"]),
                             "weights": report_model(_untrained(reference))["weights"]}, "hardly trained"),
]

#: (part, label, what the kernel builds, a phrase the message must contain): refused, with a message.
REJECTED_MODELS = [
    ("build_forecaster", "a Lambda layer as the read-out",
     _build(head="        keras.layers.Dense(1),\n        keras.layers.Lambda(lambda t: t * 1.0),\n"), "Lambda layer"),
    ("build_forecaster", "a subclassed keras.Model",
     "class Forecaster(keras.Model):\n    def __init__(self, units):\n        super().__init__()\n"
     "        self.lstm, self.head = keras.layers.LSTM(units), keras.layers.Dense(1)\n"
     "    def call(self, x):\n        return self.head(self.lstm(x))\n"
     "def build_forecaster(window=24, units=16):\n    model = Forecaster(units)\n"
     "    model(np.zeros((1, window, 1), dtype='float32'))\n"
     "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss='mse')\n    return model",
     "built-in"),
    ("build_and_train_forecaster", "a Lambda layer that extrapolates the last two values", _lambda_forecaster, "Lambda layer"),
    ("build_and_train_forecaster", "a subclassed keras.Model", _subclassed_forecaster, "cannot be checked"),
]


@pytest.mark.parametrize("name,label,forge,phrase", [pytest.param(*e, id=f"{e[0]}-{e[1]}") for e in LYING_REPORTS])
def test_lying_report_scores_zero(reference, name, label, forge, phrase):
    _assert_zero(judge_forged(name, reference, lambda inp: forge(reference, inp)), phrase)


@pytest.mark.parametrize("name,label,build,phrase", [pytest.param(*e, id=f"{e[0]}-{e[1]}") for e in REJECTED_MODELS])
def test_model_the_grader_does_not_rebuild_scores_zero(reference, name, label, build, phrase):
    check = _check(name)
    subject = define(build, name, reference) if name == "build_forecaster" else build()
    _assert_zero(simulate_grading(rnn.CHECKS, check, subject, _subject(name, reference), ATTACK_SEED), phrase)
    public = public_message(check, subject)
    assert public is not None and "cannot be checked" in public, public


def test_forecaster_is_judged_on_windows_the_kernel_never_sees(reference):
    """The grader's windows are grader-only (the kernel gets no input at all), drawn with seeds far from the
    notebook's, and none equals a window of the notebook's own data."""
    notebook_rows = {row.tobytes() for row in _NOTEBOOK_X.reshape(len(_NOTEBOOK_X), -1)}
    for seed in (ATTACK_SEED, ATTACK_SEED + 1):
        (inp,) = _grader_inputs(seed)["trained_forecaster"]
        assert kernel_view(inp) == {}
        X = np.asarray(inp["_X"], dtype="float32")
        assert not any(row.tobytes() in notebook_rows for row in X.reshape(len(X), -1))
    assert np.array_equal(reference["X_train"], _NOTEBOOK_X[:1200])
    assert reference["forecaster"].count_params() == 1169  # the figure the size message quotes


def test_lookup_of_the_notebooks_windows_scores_zero(reference):
    """A model that stores every window the notebook makes (training and test) answers them exactly, so it
    would pass if judged on them; it is refused by its size, and on the grader's windows it is only about
    as good as the threshold."""
    model = lookup_forecaster(_NOTEBOOK_X, _NOTEBOOK_Y)
    assert np.mean((predict(model, _NOTEBOOK_X).ravel() - _NOTEBOOK_Y) ** 2) < 1e-8
    _assert_zero(simulate_grading(rnn.CHECKS, rnn.trained_forecaster, model, reference["forecaster"], ATTACK_SEED),
                 "parameters")


@pytest.mark.parametrize("name", ["build_forecaster", "build_and_train_forecaster"])
def test_reference_passes_on_several_seeds(reference, name):
    for seed in (35, 36, 37):
        verdict = simulate_grading(rnn.CHECKS, _check(name), _subject(name, reference), _subject(name, reference), seed)
        assert verdict.passed, verdict.detail


#: (part, a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = [
    ("build_forecaster", "not a dict"),
    ("build_forecaster", {"is_model": True, "keras_config": "[" * 100_000, "weights": []}),
    ("build_and_train_forecaster", {"is_model": True, "keras_config": 10**30, "weights": "x"}),
    ("build_and_train_forecaster", {"is_model": True, "keras_config": json.dumps({"class_name": "Sequential"}), "weights": []}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    message = check.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message
