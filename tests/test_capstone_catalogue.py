"""18_capstone: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step: every trained model (the reference, the alternative designs, the build mistakes)
is trained once per module and judged by both model parts (Exercise 4, the held-out RMSE; Exercise 5, the
budget). Build mistakes train for a few epochs only: they fail whatever the epochs. The time budget is judged on
timings that stand for the grader's own clock (`cell_seconds`), as in tests/test_cell_timing.py.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  grade_trained_part, grader_exception_in, grader_inputs, odd_report_failures,
                                  public_message, reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import capstone
from autograder.checks.core import kernel_view
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain, to_plain

SEEDS = (41, 42)
ONE_SEED = (43,)
FAST = {capstone.TRAIN_CELL: 25.0}


def _median(body):
    return "def median_price_by(table, column):\n" + body


def _impossible(body):
    return "def impossible_rows(table):\n" + body


def _baseline(body):
    return "def baseline_rmse(y_train, y_val):\n" + body


_GRADES = "    g = np.asarray(table[column])\n    p = np.asarray(table['price'])\n"
_XYZ = "    x, y, z = (np.asarray(table[k]) for k in ('x', 'y', 'z'))\n"

WRONG = {
    "median_price_by": [
        ("the mean price", _median(_GRADES + "    return {k: float(np.mean(p[g == k])) for k in capstone.CATEGORIES[column]"
                                             " if np.any(g == k)}"), "mean prices"),
        ("the median of ln(price)", _median(_GRADES + "    return {k: float(np.median(np.log(p[g == k]))) for k in "
                                                      "capstone.CATEGORIES[column] if np.any(g == k)}"), "ln(price)"),
        ("the count per grade", _median(_GRADES + "    return {k: float(np.sum(g == k)) for k in capstone.CATEGORIES[column]"
                                                  " if np.any(g == k)}"), "numbers of diamonds"),
        ("alphabetical order", _median(_GRADES + "    return {k: float(np.median(p[g == k])) for k in sorted(set(g))}"),
         "alphabetical"),
        ("best first", _median(_GRADES + "    return {k: float(np.median(p[g == k])) for k in "
                                         "capstone.CATEGORIES[column][::-1] if np.any(g == k)}"), "best first"),
        ("the order of first occurrence", _median(_GRADES + "    _, first = np.unique(g, return_index=True)\n"
                                                            "    order = g[np.sort(first)]\n"
                                                            "    return {k: float(np.median(p[g == k])) for k in order}"),
         "first occur"),
        ("every grade, absent ones as nan", _median(_GRADES + "    return {k: float(np.median(p[g == k])) if np.any(g == k) "
                                                              "else float('nan') for k in capstone.CATEGORIES[column]}"),
         "one entry per grade that occurs"),
        ("a list instead of a dict", _median(_GRADES + "    return [float(np.median(p[g == k])) for k in "
                                                       "capstone.CATEGORIES[column] if np.any(g == k)]"), "a dict"),
        ("sorts the price column in place", _median(_GRADES + "    table['price'].sort()\n"
                                                              "    return {k: float(np.median(p[g == k])) for k in "
                                                              "capstone.CATEGORIES[column] if np.any(g == k)}"),
         "changed the table"),
        # Matches no diagnosis: the generic message.
        ("the largest price", _median(_GRADES + "    return {k: float(np.max(p[g == k])) for k in "
                                                "capstone.CATEGORIES[column] if np.any(g == k)}"), "median of table['price']"),
    ],
    "impossible_rows": [
        ("zeros only", _impossible(_XYZ + "    return (x == 0) | (y == 0) | (z == 0)"), "zeros only"),
        ("x only", _impossible("    x = np.asarray(table['x'])\n    return (x == 0) | (x > 20)"), "x only"),
        ("all three lengths (and)", _impossible(_XYZ + "    return ((x == 0) | (x > 20)) & ((y == 0) | (y > 20)) & "
                                                       "((z == 0) | (z > 20))"), "all three"),
        ("all three zero", _impossible(_XYZ + "    return (x == 0) & (y == 0) & (z == 0)"), "all three"),
        ("the count", _impossible(_XYZ + "    return int(np.sum((x == 0) | (y == 0) | (z == 0) | (x > 20) | (y > 20) | "
                                         "(z > 20)))"), "(its sum is the count)"),
        ("the positions", _impossible(_XYZ + "    return np.flatnonzero((x == 0) | (y == 0) | (z == 0) | (x > 20) | "
                                             "(y > 20) | (z > 20))"), "positions"),
        ("0/1 integers", _impossible(_XYZ + "    return ((x == 0) | (y == 0) | (z == 0) | (x > 20) | (y > 20) | "
                                            "(z > 20)).astype(int)"), "dtype"),
        ("reversed", _impossible(_XYZ + "    return ~((x == 0) | (y == 0) | (z == 0) | (x > 20) | (y > 20) | (z > 20))"),
         "wrong way round"),
        # Matches no diagnosis: the generic message.
        ("a limit of 8 mm", _impossible(_XYZ + "    return (x == 0) | (y == 0) | (z == 0) | (x > 8) | (y > 8) | "
                                               "(z > 8)"), "any of x, y, z is 0 or above 20 mm"),
    ],
    "baseline_rmse": [
        ("the validation median", _baseline("    return float(np.sqrt(np.mean((y_val - np.median(y_val)) ** 2)))"),
         "median of y_val"),
        ("the training mean", _baseline("    return float(np.sqrt(np.mean((y_val - np.mean(y_train)) ** 2)))"),
         "mean of y_train"),
        ("the std of y_val", _baseline("    return float(np.std(y_val))"), "standard deviation"),
        ("the mean squared error", _baseline("    return float(np.mean((y_val - np.median(y_train)) ** 2))"),
         "square root"),
        ("the mean absolute error", _baseline("    return float(np.mean(np.abs(y_val - np.median(y_train))))"),
         "mean absolute error"),
        ("in dollars", _baseline("    return float(np.sqrt(np.mean((np.exp(y_val) - np.exp(np.median(y_train))) ** 2)))"),
         "in dollars"),
        ("no mean: one error per row", _baseline("    return np.abs(y_val - np.median(y_train))"), "one number"),
        # Matches no diagnosis: the generic message.
        ("the 90th percentile", _baseline("    return float(np.sqrt(np.mean((y_val - np.percentile(y_train, 90)) ** 2)))"),
         "Predict the median of y_train"),
    ],
}

ALTERNATIVES = {
    "median_price_by": [
        # A loop, numpy medians as float32, grades from CATEGORIES through a set.
        _median("    out = {}\n    for grade in capstone.CATEGORIES[column]:\n"
                "        rows = [i for i, g in enumerate(table[column]) if g == grade]\n"
                "        if rows:\n            out[grade] = np.float32(np.median(np.asarray(table['price'])[rows]))\n"
                "    return out"),
        # np.unique, then the quality order.
        _median(_GRADES + "    present = set(np.unique(g))\n"
                "    order = {'cut': capstone.CUT, 'color': capstone.COLOR, 'clarity': capstone.CLARITY}[column]\n"
                "    return {k: np.median(p[g == k]) for k in order if k in present}"),
        # statistics.median over lists.
        _median("    import statistics\n    rows = list(zip(table[column], table['price']))\n"
                "    return {k: statistics.median([p for g, p in rows if g == k]) for k in capstone.CATEGORIES[column]\n"
                "            if any(g == k for g, _ in rows)}"),
    ],
    "impossible_rows": [
        _impossible("    lengths = np.stack([table['x'], table['y'], table['z']], axis=1)\n"
                    "    return ((lengths <= 0) | (lengths > 20)).any(axis=1)"),
        _impossible(_XYZ + "    bad = np.zeros(len(x), dtype=bool)\n    for v in (x, y, z):\n"
                    "        bad |= (v == 0) | (v > 20.0)\n    return bad"),
        # A list of Python bools.
        _impossible("    return [bool(min(a, b, c) == 0 or max(a, b, c) > 20) for a, b, c in "
                    "zip(table['x'], table['y'], table['z'])]"),
    ],
    "baseline_rmse": [
        _baseline("    return np.sqrt(np.mean(np.square(y_val - np.median(y_train))))"),
        _baseline("    import math\n    m = float(np.median(y_train))\n"
                  "    return math.sqrt(sum((float(v) - m) ** 2 for v in y_val) / len(y_val))"),
        # float32 throughout.
        _baseline("    y_val = np.asarray(y_val, np.float32)\n"
                  "    return np.float32(np.sqrt(np.mean((y_val - np.float32(np.median(y_train))) ** 2)))"),
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "18_capstone")


def grade(name, answer, reference, seeds=SEEDS):
    check = capstone.CHECKS[name]
    return ([simulate_grading(capstone.CHECKS, check, answer, reference[name], s) for s in seeds],
            public_message(check, answer))


@pytest.mark.parametrize("name", ["median_price_by", "impossible_rows", "baseline_rmse"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[name], reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


def test_public_literals_agree_with_the_data():
    """The literal expected values of the public cases are what the rows give."""
    for case in capstone.median_price_by.public_cases:
        table = capstone._as_table(case.inputs["table"])
        want = capstone._medians(table, case.inputs["column"])
        assert list(want) == case.expected["grades"] and np.allclose(list(want.values()), case.expected["medians"])
    for case in capstone.impossible_rows.public_cases:
        mask = capstone._impossible(capstone._as_table(case.inputs["table"]))
        assert list(np.flatnonzero(mask)) == case.expected["positions"]
    for case in capstone.baseline_rmse.public_cases:
        y_train, y_val = case.inputs["y_train"], case.inputs["y_val"]
        assert np.isclose(np.sqrt(np.mean((y_val - np.median(y_train)) ** 2)), case.expected)


def test_grader_tables_hold_impossible_rows_and_every_grade():
    for seed in SEEDS:
        inputs = grader_inputs(capstone.CHECKS, seed)
        for case in inputs["impossible_rows"]:
            assert capstone._impossible(capstone._as_table(case["table"])).sum() >= 3
        columns = [case["column"] for case in inputs["median_price_by"]]
        assert columns == ["cut", "color", "clarity"]
        for case in inputs["median_price_by"]:
            grades = set(case["table"][case["column"]])
            assert grades == set(capstone.capstone.CATEGORIES[case["column"]])
        (hidden,) = inputs["median_price_by:hidden"]
        assert len(set(hidden["table"]["color"])) < 7  # some colours absent


def test_untouched_functions_report_not_implemented(reference):
    stub = define("def median_price_by(table, column):\n    raise NotImplementedError()", "median_price_by", reference)
    assert "not implemented yet" in public_message(capstone.median_price_by, stub)


# ============================================================================= Exercises 4 and 5: the model
_HEAD = "def train_price_model(X_train, y_train, X_val, y_val):\n"
_NORM = "    norm = keras.layers.Normalization()\n    norm.adapt(X_train)\n"


def _sequential(layers, compile_="    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss='mse')\n",
                fit="    model.fit(X_train, y_train, epochs=3, batch_size=256, verbose=0)\n", norm=_NORM,
                first="norm, "):
    return (_HEAD + norm + f"    model = keras.Sequential([keras.Input(shape=(26,)), {first}{layers}])\n" + compile_ + fit +
            "    return model\n")


_DENSE = "keras.layers.Dense(64, activation='relu'), keras.layers.Dense(64, activation='relu'), keras.layers.Dense(1)"

#: label -> (code, phrase of the message). Each trains a few epochs and must fail Exercise 4 with the phrase.
MODEL_MISTAKES = {
    "no Normalization": (_sequential(_DENSE, norm="", first="", fit="    model.fit(X_train, y_train, epochs=2, "
                                                                    "batch_size=256, verbose=0)\n"),
                         "no Normalization layer"),
    "a sigmoid output": (_sequential(_DENSE.replace("Dense(1)", "Dense(1, activation='sigmoid')")), "between 0 and 1"),
    "a softmax output": (_sequential(_DENSE.replace("Dense(1)", "Dense(1, activation='softmax')")), "between 0 and 1"),
    "trained on the price in dollars": (_sequential(_DENSE, compile_="    model.compile(optimizer=keras.optimizers."
                                                                     "Adam(0.05), loss='mse')\n",
                                                    fit="    model.fit(X_train, np.exp(y_train), epochs=4, "
                                                        "batch_size=256, verbose=0)\n"), "in dollars"),
    "a classification loss": (_sequential(_DENSE, compile_="    model.compile(optimizer='adam', "
                                                           "loss='binary_crossentropy')\n"), "class probabilities"),
    "Normalization never adapted": (_sequential(_DENSE, norm="    norm = keras.layers.Normalization()\n"),
                                    "never adapted"),
    "never trained": (_sequential(_DENSE, fit=""), "hardly trained"),
    "returns the History": (_HEAD + _NORM + f"    model = keras.Sequential([keras.Input(shape=(26,)), norm, {_DENSE}])\n"
                            "    model.compile(optimizer='adam', loss='mse')\n"
                            "    return model.fit(X_train[:512], y_train[:512], epochs=1, verbose=0)\n", "History"),
    "a Lambda layer": (_sequential(_DENSE + ", keras.layers.Lambda(lambda t: t * 1.0)", fit=""), "Lambda layer"),
    "a model for 25 columns": (_HEAD + "    model = keras.Sequential([keras.Input(shape=(25,)), keras.layers.Dense(1)])\n"
                               "    return model\n", "26 raw columns"),
}

#: Other designs and trainings that must earn full marks on both model parts (each trains for real).
MODEL_ALTERNATIVES = {
    "functional, AdamW, Huber loss": (
        _HEAD + _NORM +
        "    inputs = keras.Input(shape=(26,))\n    h = norm(inputs)\n"
        "    h = keras.layers.Dense(96, activation='relu')(h)\n    h = keras.layers.Dense(48, activation='relu')(h)\n"
        "    model = keras.Model(inputs, keras.layers.Dense(1)(h))\n"
        "    steps = 50 * int(np.ceil(len(X_train) / 256))\n"
        "    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps)\n"
        "    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4), loss=keras.losses.Huber(0.5))\n"
        "    model.fit(X_train, y_train, epochs=50, batch_size=256, verbose=0)\n    return model\n"),
    "impossible rows dropped, three layers, Nadam, early stopping on validation": (
        _HEAD +
        "    keep = np.all((X_train[:, 3:6] > 0) & (X_train[:, 3:6] <= 20), axis=1)\n"
        "    X, y = X_train[keep], y_train[keep]\n"
        "    norm = keras.layers.Normalization()\n    norm.adapt(X)\n"
        "    model = keras.Sequential([keras.Input(shape=(26,)), norm, keras.layers.Dense(64, activation='relu'),\n"
        "                              keras.layers.Dense(64, activation='relu'), keras.layers.Dense(32, activation='relu'),\n"
        "                              keras.layers.Dense(1)])\n"
        "    steps = 50 * int(np.ceil(len(X) / 512))\n"
        "    schedule = keras.optimizers.schedules.CosineDecay(4e-3, decay_steps=steps)\n"
        "    model.compile(optimizer=keras.optimizers.Nadam(schedule), loss='mse')\n"
        "    stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)\n"
        "    model.fit(X, y, validation_data=(X_val, y_val), epochs=50, batch_size=512, callbacks=[stop], verbose=0)\n"
        "    return model\n"),
    "float64 rows, swish, RMSprop, the output bias started at the mean": (
        _HEAD +
        "    X = np.asarray(X_train, dtype='float64')\n    norm = keras.layers.Normalization()\n    norm.adapt(X)\n"
        "    start = keras.initializers.Constant(float(np.mean(y_train)))\n"
        "    model = keras.Sequential([keras.Input(shape=(26,)), norm, keras.layers.Dense(80, activation='swish'),\n"
        "                              keras.layers.Dense(40, activation='swish'),\n"
        "                              keras.layers.Dense(1, bias_initializer=start)])\n"
        "    steps = 40 * int(np.ceil(len(X) / 256))\n"
        "    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)\n"
        "    model.compile(optimizer=keras.optimizers.RMSprop(schedule), loss='mse')\n"
        "    model.fit(X, y_train, epochs=40, batch_size=256, verbose=0)\n    return model\n"),
}


def _train(reference, code):
    """The notebook's training cell with the given train_price_model: seed, call it, keep what it returns."""
    import keras

    train = define(code, "train_price_model", reference)
    keras.utils.set_random_seed(0)
    return train(reference["X_train"], reference["y_train"], reference["X_val"], reference["y_val"])


@pytest.fixture(scope="module")
def trained(reference):
    """Every model of this module, trained once: {label: model}."""
    models = {"reference": reference["price_model"]}
    for label, (code, _) in MODEL_MISTAKES.items():
        try:
            models[label] = _train(reference, code)
        except ValueError as exc:  # the Lambda layer trains; only the grader refuses it
            raise AssertionError(f"{label}: {exc}") from None
    for label, code in MODEL_ALTERNATIVES.items():
        models[label] = _train(reference, code)
    return models


_CACHE: dict = {}


def grade_model(reference, model, seed=ONE_SEED[0]):
    return grade_trained_part(capstone.CHECKS, capstone.price_model, model, reference["price_model"], seed,
                              _CACHE.setdefault("price_model", {}), FAST)


def grade_budget(reference, model, cell_seconds=FAST, seed=ONE_SEED[0], seconds=20.0):
    check = capstone.price_budget
    subject = (model, seconds)
    verdict = simulate_grading(capstone.CHECKS, check, subject, (reference["price_model"], 20.0), seed, cell_seconds)
    return verdict, public_message(check, subject)


def test_reference_model_earns_both_parts(reference):
    verdict, public = grade_model(reference, reference["price_model"])
    expect_correct([verdict], public)
    verdict, public = grade_budget(reference, reference["price_model"])
    expect_correct([verdict], public)


@pytest.mark.parametrize("label", list(MODEL_MISTAKES))
def test_model_mistake_loses_the_part_with_a_teaching_message(reference, trained, label):
    verdict, public = grade_model(reference, trained[label])
    expect_wrong(label, [verdict], public, MODEL_MISTAKES[label][1])
    assert verdict.credit == 0 or "Normalization" in verdict.feedback, (label, verdict.credit)


@pytest.mark.parametrize("label", list(MODEL_ALTERNATIVES))
def test_alternative_design_earns_full_marks(reference, trained, label):
    verdict, public = grade_model(reference, trained[label])
    expect_correct([verdict], public)
    verdict, public = grade_budget(reference, trained[label])
    expect_correct([verdict], public)


def test_reference_passes_on_several_seeds(reference):
    for seed in (33, 34, 35):
        verdict, public = grade_model(reference, reference["price_model"], seed)
        expect_correct([verdict], public)


def _shifted(model, offset):
    """The same network with `offset` added to its output: every prediction off by that much in ln(price)."""
    import keras

    copy = keras.models.clone_model(model)
    weights = model.get_weights()
    weights[-1] = weights[-1] + np.float32(offset)
    copy.set_weights(weights)
    return copy


def test_between_the_thresholds_earns_half(reference):
    """A model whose held-out RMSE lies between 0.125 and 0.14 earns half of Exercise 4, and the message says why;
    above 0.14 it earns nothing. (The reference's predictions shifted by a constant: RMSE^2 = base^2 + shift^2.)"""
    X, y = capstone.diamonds_heldout(np.random.default_rng(1), 8000)
    base = capstone.heldout_rmse(reference["price_model"], X, y)[0]
    for target, credit in ((0.132, 0.5), (0.16, 0.0)):
        model = _shifted(reference["price_model"], float(np.sqrt(target ** 2 - base ** 2)))
        verdict, public = grade_model(reference, model)
        assert not verdict.passed and verdict.credit == credit, (target, verdict.credit, verdict.feedback)
        assert verdict.key == "price_model:not_enough" and "half the points at most 0.14" in verdict.feedback
        assert public is not None and "It learned, but not enough" in public
    # The budget does not care how good the model is, once it beats the median.
    verdict, _ = grade_budget(reference, _shifted(reference["price_model"], 0.3))
    assert verdict.passed, verdict.detail


# ----------------------------------------------------------------------------- the budget
def test_time_budget_is_judged_on_the_grader_s_clock(reference):
    model = reference["price_model"]
    slow = {capstone.TRAIN_CELL: capstone.MAX_TRAIN_SECONDS + 10}
    verdict, _ = grade_budget(reference, model, slow)
    assert not verdict.passed and verdict.credit == 0.5 and "on the grader's clock" in verdict.feedback
    assert verdict.key == "price_budget:time"
    # The cell never finished (stopped after 120 s): no time, no time point.
    verdict, _ = grade_budget(reference, model, {})
    assert not verdict.passed and verdict.credit == 0.5 and "did not finish" in verdict.feedback
    # What the kernel says about its own time changes nothing.
    verdict, _ = grade_budget(reference, model, slow, seconds=1.0)
    assert not verdict.passed and verdict.credit == 0.5
    verdict, _ = grade_budget(reference, model, {capstone.TRAIN_CELL: capstone.MAX_TRAIN_SECONDS}, seconds=500.0)
    assert verdict.passed


def test_the_check_reads_the_grader_s_timings_where_the_grader_puts_them():
    from autograder.grading.judge import MEASURED_SECONDS

    assert capstone.MEASURED_SECONDS == MEASURED_SECONDS


def test_time_is_reported_not_judged_in_the_student_s_kernel(reference, capsys):
    capstone.price_budget((reference["price_model"], 500.0))
    out = capsys.readouterr().out
    assert "✓" in out and "measured by the grader" in out and "here it took 500 s" in out


def test_budget_counts_parameters(reference, trained):
    import keras

    code = _sequential("keras.layers.Dense(128, activation='relu'), keras.layers.Dense(128, activation='relu'), "
                       "keras.layers.Dense(1)", fit="    model.fit(X_train, y_train, epochs=2, batch_size=256, "
                                                    "verbose=0)\n")
    model = _train(reference, code)
    assert model.count_params() > capstone.MAX_PARAMS
    verdict, public = grade_budget(reference, model)
    assert not verdict.passed and verdict.credit == 0.5 and "20,000 allowed" in verdict.feedback
    assert public is not None and "20,000 allowed" in public
    verdict, _ = grade_budget(reference, model, {capstone.TRAIN_CELL: 200.0})
    assert not verdict.passed and verdict.credit == 0 and verdict.key == "price_budget:parameters_and_time"
    keras.backend.clear_session(free_memory=False)


def test_budget_earns_nothing_for_a_model_no_better_than_the_median(reference, trained):
    verdict, public = grade_budget(reference, trained["never trained"])
    assert not verdict.passed and verdict.credit == 0 and "no better than" in verdict.feedback
    assert public is not None and "no better than" in public
    verdict, _ = grade_budget(reference, None)
    assert not verdict.passed and "is None" in verdict.feedback


# ----------------------------------------------------------------------------- attacks on what a kernel reports
def _lookup_of_test_rows():
    """A "model" of built-in layers that stores every test diamond: nearest prototype by a sharp softmax over
    scores 2 x.p - |p|^2 of the normalised rows, then that row's ln(price)."""
    import keras

    from coursekit import capstone as data

    table = data.load_table()
    test = data.split_rows()[2]
    X, y = data.encode(table)[test].astype("float64"), data.log_price(table)[test]
    mean, std = X.mean(0), X.std(0) + 1e-6
    P = (X - mean) / std
    inputs = keras.Input(shape=(26,))
    norm = keras.layers.Normalization(mean=mean, variance=std ** 2)
    match = keras.layers.Dense(len(P), activation="softmax")
    head = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(inputs, head(match(norm(inputs))))
    match.set_weights([(50 * 2 * P.T).astype("float32"), (-50 * (P ** 2).sum(1)).astype("float32")])
    head.set_weights([y.reshape(-1, 1).astype("float32")])
    return model


def test_lookup_of_the_test_rows_is_refused_by_the_budget(reference):
    lookup = _lookup_of_test_rows()
    assert lookup.count_params() > capstone.MAX_SCORED_PARAMS
    record = from_plain(json.loads(json.dumps(to_plain(report_model(lookup)))))
    (inputs,) = grader_inputs(capstone.CHECKS, ONE_SEED[0])["price_model"]
    message = capstone.price_model.compare(inputs, record, None)
    assert message is not None and "store rows of the data set" in message, message
    verdict, public = grade_model(reference, lookup)
    assert not verdict.passed and verdict.credit == 0 and public is not None and "store rows" in public
    verdict, _ = grade_budget(reference, lookup)
    assert not verdict.passed and "20,000 allowed" in verdict.feedback


def _forged(name, reference, forge, seed=ONE_SEED[0]):
    check = capstone.CHECKS[name]
    subject = reference["price_model"] if name == "price_model" else (reference["price_model"], 20.0)
    return forged_verdict(capstone.CHECKS, check, subject, forge, seed)


#: (label, forge(reference) -> (inputs -> report)): lies a kernel might tell about its model.
LYING_REPORTS = [
    ("claims of a perfect model", lambda ref: lambda inp: {"is_model": True, "rmse": 0.0, "n_params": 10,
                                                           "seconds": 1.0}),
    ("predictions of the grader's own targets", lambda ref: lambda inp: {"is_model": True,
                                                                        "predictions": inp.get("_y")}),
    ("an untrained model's record, with claims added",
     lambda ref: (lambda record: lambda inp: {**record, "rmse": 0.0})(report_model(_train(ref, MODEL_MISTAKES[
         "never trained"][0])))),
    ("the trained model's record with a serialize_error",
     lambda ref: lambda inp: {**report_model(ref["price_model"]), "serialize_error": "forged"}),
    ("the trained model's config with weights of the wrong shape",
     lambda ref: lambda inp: {**report_model(ref["price_model"]), "weights": [np.zeros(3)]}),
]


@pytest.mark.parametrize("name", ["price_model", "price_budget"])
@pytest.mark.parametrize("label,forge", [pytest.param(label, forge, id=label) for label, forge in LYING_REPORTS])
def test_lying_report_scores_zero(reference, name, label, forge):
    verdict = _forged(name, reference, forge(reference))
    assert not verdict.passed and verdict.credit == 0, f"{label} passed"
    assert verdict.feedback and grader_exception_in(verdict.feedback) is None, verdict.feedback


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(capstone.CHECKS, ("price_model", "price_budget"), ONE_SEED[0], None) == []


def test_models_are_judged_on_test_rows_the_kernel_never_sees():
    """The kernel gets no input at all; the rows are perturbed test rows, fresh for every run."""
    from coursekit import capstone as data

    X_train, _, X_val, _ = data.load_split()
    known = {row.tobytes() for row in np.concatenate([X_train, X_val])}
    everything = data.encode(data.load_table())
    exact = {row.tobytes() for row in everything}
    draws = []
    for seed in (33, 34):
        (inputs,) = grader_inputs(capstone.CHECKS, seed)["price_model"]
        assert kernel_view(inputs) == {}
        X = np.asarray(inputs["_X"], dtype="float32")
        assert len(X) == capstone.HELDOUT_ROWS
        assert not any(row.tobytes() in known or row.tobytes() in exact for row in X)
        draws.append(X)
    assert not np.array_equal(draws[0], draws[1])
    for case in (*capstone.price_model.public_cases, *capstone.price_budget.public_cases):
        assert kernel_view(case.inputs) == {}
    # The data set repeats some diamonds: a test row as it is may equal a training row, which is one more reason
    # the grader perturbs them. Perturbed, none is an exact row of the data set (checked above).
    raw_test = data.encode(data.load_table(data.split_rows()[2]))
    assert any(row.tobytes() in known for row in raw_test)


def test_a_model_without_keras_input_is_refused_with_a_message(reference):
    """A model that was never built has no weights to report; the part says what to do, not the grader's error."""
    import keras

    model = keras.Sequential([keras.layers.Dense(1)])
    verdict, public = grade_model(reference, model)
    assert not verdict.passed and grader_exception_in(verdict.feedback) is None, verdict.feedback
    assert public is not None and grader_exception_in(public) is None, public
