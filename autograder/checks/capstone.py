"""Checks for 18_capstone: pricing diamonds, from data to a report.

The data are ggplot2's 53,940 diamonds (`coursekit.capstone`). The student explores the table (median prices per
quality grade, rows whose measurements are impossible), measures the baseline every model must beat, trains a
network of their own design to predict ln(price) from the 26 raw columns, keeps it within a parameter and a time
budget, and writes an analysis that an instructor grades by hand (an nbgrader manually graded answer cell, not
checked here).

Nothing here trains a model. The table parts are judged on row subsets the grader picks: the kernel gets the
subset's columns as plain arrays and lists of strings, and reports what the function returned; the grader works out
the right answer from the same rows. The model parts' kernel reports only the model (`model_data.report_model`:
config and weights); the grader rebuilds it and computes every fact, its RMSE included, on test diamonds that
`load_split` never returns, perturbed with the run's seed (`heldout.diamonds_heldout`) and kept in grader-only
keys. The time budget is the grader's own clock on the `train_model` cell (`grading.judge.MEASURED_SECONDS`),
never a time the kernel states.

Stated rules (part / rule / how it is checked). 28 rules found, 24 checked, 4 suggestions only.
  Ex1 median_price_by / a dict {grade: median price} / type and form messages
  Ex1 median_price_by / one entry per grade of `column` that occurs in the table, no other keys / key messages
  Ex1 median_price_by / the median (not the mean) of the price in dollars / values; mean, ln-price, count diagnoses
  Ex1 median_price_by / keys in the column's quality order, worst first / key order; alphabetical, reversed diagnoses
  Ex1 median_price_by / works for cut, color and clarity / grader cases for each column
  Ex1 median_price_by / the table is not changed / `run` compares the columns after the call
  Ex2 impossible_rows / a boolean array of shape (n,) / shape, dtype messages; count, indices diagnoses
  Ex2 impossible_rows / a row is impossible when x, y or z is 0 / values; zero-only-in-x, all-three diagnoses
  Ex2 impossible_rows / or when x, y or z is above 20 mm / values; "zeros only" diagnosis
  Ex2 impossible_rows / depth and table (percentages) are not lengths / values; diagnosis
  Ex3 baseline_rmse / one number / size and type message
  Ex3 baseline_rmse / the prediction is the median of y_train / values; mean, validation-median diagnoses
  Ex3 baseline_rmse / the RMSE on y_val, in ln price / values; MSE, MAE, dollars, std diagnoses
  Ex4 train_price_model / returns the trained keras.Model / type messages (None, History, other)
  Ex4 train_price_model / built from built-in Keras layers (Sequential or Functional) / rebuild_model
  Ex4 train_price_model / takes the 26 raw columns, carries its own scaling / grader feeds raw held-out rows
  Ex4 train_price_model / one output per diamond, ln(price) / output shape; price-in-dollars diagnosis
  Ex4 train_price_model / held-out RMSE <= 0.125 full marks, <= 0.14 half, else none / grader's held-out rows
  Ex4 train_price_model / at most 100,000 parameters to be scored at all / parameter count
  Ex4 train_price_model / (causes when it misses) squashed output, classification loss, no or unadapted
      Normalization, diverged, untrained / diagnoses from the rebuilt model
  Ex5 budget / only for a model that beats the median baseline on the held-out rows / grader's held-out rows
  Ex5 budget / at most 20,000 parameters / parameter count of the rebuilt model (half the points)
  Ex5 budget / the grader-measured time of the train_model cell at most 90 s / grader's clock (half the points)
  Ex5 budget / a cell over 120 s stops the notebook / grader's cell timeout: the cell has no time, stated
  Ex4 / train on X_train only, choose on X_val / suggestion only (the held-out score shows the effect)
  Ex4 / seeds fixed with keras.utils.set_random_seed / suggestion only (the locked cell seeds)
  Ex6 analysis / the written analysis / graded by hand in formgrader (manual answer cell, 4 points): suggestion
      of its content only
  Ex1-4 / "about N lines", hints (verbose=0, CosineDecay, batch 256) / suggestion only
Per exercise: Ex1 6 found, 6 checked; Ex2 4/4; Ex3 3/3; Ex4 9 found, 7 checked, 2 suggestions; Ex5 4/4;
Ex6 1 found, graded by hand; 1 course-wide suggestion.
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from coursekit import capstone

from .compare import close, fmt
from .core import Case, Check, CheckSet, Mistake, Partial, requirements
from .heldout import diamonds_heldout
from .model_data import ModelRejected, all_layers, call_failure, compile_summary, predict, rebuild_model, \
    rejection_text, report_model

#: The grade_id of the locked cell that trains the model: the grader times it on its own clock.
TRAIN_CELL = "train_model"
#: Where the grader's own cell timings sit in a case's inputs at judging time (`grading.judge.MEASURED_SECONDS`,
#: repeated here because the students' wheel of checks ships without the grader).
MEASURED_SECONDS = "_cell_seconds"
#: Held-out RMSE of ln(price) for full marks and for half the points of Exercise 4. Measured: the reference
#: (Normalization, Dense 64-64, 60 epochs) gets about 0.11 on the test rows with possible lengths, least squares
#: on the raw columns 0.144, least squares with ln(carat) 0.135, predicting the median 1.01.
FULL_RMSE = 0.125
HALF_RMSE = 0.14
#: Exercise 4 scores no model bigger than this: a lookup table of the test rows needs about 290,000.
MAX_SCORED_PARAMS = 100_000
#: Exercise 5: the budget. The reference has 6,006 parameters and trains in about 20 s alone.
MAX_PARAMS = 20_000
MAX_TRAIN_SECONDS = 90.0
#: The grader's per-cell timeout (grading.execute.KernelLimits.cell_timeout).
CELL_TIMEOUT = 120
#: Held-out diamonds per grading run (of the 10,783 test rows with possible lengths).
HELDOUT_ROWS = 8000
#: Exercise 2: a length, width or depth above this (in mm) is impossible; the largest real one is 10.74.
MAX_MM = 20.0
LENGTHS = ("x", "y", "z")
#: Rows per table the grader hands to the table functions.
SUBSET_ROWS = 1500


# ----------------------------------------------------------------------------- tables as plain data
def plain_table(rows) -> dict:
    """The rows of the data set as plain data: float arrays for the numbers, lists of str for the grades."""
    table = capstone.load_table(np.asarray(rows))
    return {name: (column.tolist() if column.dtype.kind == "U" else column) for name, column in table.items()}


def _as_table(plain: dict) -> dict:
    """A plain table as load_table gives it: numpy arrays of floats and of strings."""
    return {name: np.array(column) for name, column in plain.items()}  # copies: the inputs stay as they are


@lru_cache(maxsize=1)
def _impossible_everywhere() -> np.ndarray:
    table = capstone.load_table()
    return np.flatnonzero(_impossible(table))


def _impossible(table: dict, *, zeros=True, large=True, columns=LENGTHS, every=False) -> np.ndarray:
    tests = []
    for name in columns:
        column = np.asarray(table[name], dtype=np.float64)
        test = np.zeros(len(column), dtype=bool)
        if zeros:
            test |= column == 0
        if large:
            test |= column > MAX_MM
        tests.append(test)
    return np.logical_and.reduce(tests) if every else np.logical_or.reduce(tests)


def _subset_rows(rng, n=SUBSET_ROWS, impossible=6) -> np.ndarray:
    """Random rows of the whole data set, with a few impossible ones among them, shuffled."""
    everywhere = _impossible_everywhere()
    rows = np.concatenate([rng.choice(len(capstone.load_table()["price"]), n, replace=False),
                           rng.choice(everywhere, min(impossible, len(everywhere)), replace=False)])
    return rng.permutation(np.unique(rows))


def _fixed_rows(seed: int, n: int, impossible: tuple[int, ...]) -> np.ndarray:
    rows = np.random.default_rng(seed).choice(53_940, n, replace=False)
    return np.concatenate([rows[: n // 2], np.asarray(impossible, dtype=rows.dtype), rows[n // 2:]])


# ----------------------------------------------------------------------------- Exercise 1: median_price_by
def _medians(table: dict, column: str, statistic=np.median, of="price") -> dict:
    """{grade: statistic of the price (of="price") or of ln(price) (of="log")}, grades in quality order."""
    grades = [g for g in capstone.CATEGORIES[column] if np.any(np.asarray(table[column]) == g)]
    values = np.asarray(table["price"], dtype=np.float64)
    if of == "log":
        values = np.log(values)
    return {g: float(statistic(values[np.asarray(table[column]) == g])) for g in grades}


#: The public cases: (seed, rows, column) and the literal expected {grade: median price}.
_MEDIAN_CASES = (
    ((1801, 400, ()), "cut", {"Fair": 4482.5, "Good": 3082.5, "Very Good": 2671.0, "Premium": 3786.0,
                              "Ideal": 2120.0}),
    ((1802, 300, ()), "clarity", {"I1": 3655.0, "SI2": 4089.0, "SI1": 3800.0, "VS2": 1963.0, "VS1": 2041.0,
                                  "VVS2": 1827.5, "VVS1": 1006.5, "IF": 1049.5}),
    ((1815, 24, ()), "color", {"I": 2083.0, "H": 4093.0, "G": 2745.0, "F": 723.0, "E": 3520.0}),
)


class MedianPriceBy(Check):
    """The kernel reports the grades (in the order the dict holds them) and the values; the grader works out the
    medians of the same rows itself."""
    name = "median_price_by"
    signature = "median_price_by(table, column)"
    expected_form = "a dict {grade: median price}"

    @cached_property
    def public_cases(self):
        return tuple(Case({"table": plain_table(_fixed_rows(*rows)), "column": column},
                          {"grades": list(want), "medians": list(want.values())},
                          f"{rows[1] + len(rows[2])} diamonds, by {column}") for rows, column, want in _MEDIAN_CASES)

    def secret_inputs(self, rng):
        return [{"table": plain_table(_subset_rows(rng, int(rng.integers(800, 2000)))), "column": column}
                for column in ("cut", "color", "clarity")]

    def hidden_inputs(self, rng):
        # A small table in which some colours do not occur, with an even number of rows.
        rows = rng.choice(53_940, 40, replace=False)
        table = capstone.load_table(rows)
        keep = np.isin(table["color"], ["J", "G", "E", "D"])
        rows = rows[keep][: 2 * (int(keep.sum()) // 2)]
        return [{"table": plain_table(rows), "column": "color"}]

    def run(self, subject, inputs):
        table = _as_table(inputs["table"])
        before = {k: v.copy() for k, v in table.items()}
        result = subject(table, inputs["column"])
        changed = sorted(k for k in before if k not in table or not np.array_equal(before[k], table[k]))
        if not isinstance(result, dict):
            return {"kind": type(result).__name__, "changed": changed}
        return {"grades": [str(k) for k in result], "medians": [float(np.asarray(v, dtype=np.float64).reshape(()))
                                                               for v in result.values()], "changed": changed}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        column = str(inputs["column"])
        table = _as_table(inputs["table"])
        if got.get("changed"):
            return Mistake(f"{sig} changed the table's column(s) {', '.join(map(str, got['changed']))[:80]}: "
                           "compute from the table without writing to it (no sorting or assigning in place).",
                           "median_price_by:changed_table")
        if "kind" in got:
            return Mistake(f"{sig} returned a {str(got['kind'])[:40]}; it should return a dict {{grade: median "
                           "price}}, e.g. {'Fair': 3282.0, ...}.", "median_price_by:not_a_dict")
        grades, medians = list(got["grades"]), np.asarray(got["medians"], dtype=np.float64)
        want = _medians(table, column)
        order = list(want)
        if set(grades) != set(order):
            missing = [g for g in order if g not in grades]
            extra = [g for g in grades if g not in order]
            return Mistake(f"{sig} returned the grades {grades[:8]}, but the {column} grades in this table are "
                           f"{order}" + (f" (missing: {missing})" if missing else "") +
                           (f" (not grades of {column}: {extra[:4]})" if extra else "") +
                           ": one entry per grade that occurs in the table.", "median_price_by:grades")
        by_grade = dict(zip(grades, medians))
        values = np.asarray([by_grade[g] for g in order])
        if not close(values, list(want.values()), 1e-6):
            for statistic, of, advice, key in (
                    (np.mean, "price", "those are mean prices. Prices are skewed (a few large stones cost far more), "
                                       "so the median is the typical price: use np.median.", "mean"),
                    (np.median, "log", "those are medians of ln(price); the statement asks for the price in "
                                       "dollars.", "log_price"),
                    (len, "price", "those are the numbers of diamonds per grade, not their median price.", "counts")):
                if close(values, list(_medians(table, column, statistic, of=of).values()), 1e-6):
                    return Mistake(f"{sig} returned {fmt(values)} for {order}: {advice}", f"median_price_by:{key}")
            return (f"{sig} returned {fmt(values)} for the grades {order}, but their median prices are "
                    f"{fmt(list(want.values()))}: take the median of table['price'] over the rows of each grade.")
        if grades != order:
            if grades == sorted(order):
                advice = ("in alphabetical order. Grades have a quality order, which sorted() does not know: use "
                          "capstone.CUT, capstone.COLOR or capstone.CLARITY (worst first).")
                key = "alphabetical"
            elif grades == order[::-1]:
                advice = "best first; the statement asks for the quality order worst first, as in capstone.CUT."
                key = "reversed"
            else:
                advice = ("in the order they first occur in the table. Use the quality order, worst first: "
                          "capstone.CUT, capstone.COLOR or capstone.CLARITY.")
                key = "order"
            return Mistake(f"{sig} has the right medians, but the grades come {advice} Expected {order}.",
                           f"median_price_by:{key}")
        return None


# ----------------------------------------------------------------------------- Exercise 2: impossible_rows
#: The public cases: (seed, rows, impossible rows placed in the middle) and the literal expected positions.
_IMPOSSIBLE_CASES = (
    ((1803, 200, (2207, 24067, 11182, 49189)), (100, 101, 102, 103)),
    ((1804, 150, (4791, 27112, 48410)), (75, 76, 77)),
)


class ImpossibleRows(Check):
    name = "impossible_rows"
    signature = "impossible_rows(table)"
    expected_form = "a boolean array of shape (n,)"

    @cached_property
    def public_cases(self):
        return tuple(Case({"table": plain_table(_fixed_rows(*rows))}, {"positions": list(want)},
                          f"{rows[1] + len(rows[2])} diamonds, {len(want)} of them impossible")
                     for rows, want in _IMPOSSIBLE_CASES)

    def secret_inputs(self, rng):
        return [{"table": plain_table(_subset_rows(rng, int(rng.integers(800, 2000)), impossible=k))}
                for k in (8, 3)]

    def hidden_inputs(self, rng):
        return [{"table": plain_table(np.setdiff1d(rng.choice(53_940, 60, replace=False), _impossible_everywhere()))}]

    def run(self, subject, inputs):
        table = _as_table(inputs["table"])
        result = subject(table)
        return np.asarray(result) if hasattr(result, "__array__") or isinstance(result, list) else result

    def compare(self, inputs, got, expected):
        sig = self.signature
        table = _as_table(inputs["table"])
        n = len(table["price"])
        want = _impossible(table)
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iuf":
            got = got.item()
        if isinstance(got, (int, float)) and not isinstance(got, bool):
            return Mistake(f"{sig} returned the number {got:g}; it should return one True/False per row, a boolean "
                           f"array of shape ({n},) (its sum is the count).", "impossible_rows:count")
        if not isinstance(got, np.ndarray):
            return self.unreadable(got)
        if got.shape != (n,):
            if got.ndim == 1 and got.dtype.kind in "iu" and len(got) == int(want.sum()):
                return Mistake(f"{sig} returned {len(got)} integers, which look like the positions of the impossible "
                               f"rows; return the mask itself, a boolean array of shape ({n},), one entry per row.",
                               "impossible_rows:indices")
            return Mistake(f"{sig} returned an array of shape {got.shape}; expected ({n},), one True/False per row.",
                           "impossible_rows:shape")
        if got.dtype != bool:
            return Mistake(f"{sig} returned an array of dtype {got.dtype}; return booleans, True for an impossible "
                           "row: comparisons such as table['x'] == 0, combined with |.", "impossible_rows:dtype")
        if np.array_equal(got, want):
            return None
        found = f"{sig} flags {int(got.sum())} of the {n} rows; {int(want.sum())} are impossible."
        for variant, advice, key in (
                (_impossible(table, large=False), "It flags the zeros only: a width or depth above "
                 f"{MAX_MM:g} mm (58.9 mm for a one-carat stone) is a typing error too.", "zeros_only"),
                (_impossible(table, columns=("x",)), "It looks at x only: y and z can be 0 or absurd when x is not.",
                 "x_only"),
                (_impossible(table, every=True), "It flags a row only when all three lengths are wrong (and); one "
                 "wrong length is enough (or, |).", "and_not_or"),
                (_impossible(table, large=False, every=True), "It flags a row only when all three lengths are 0 "
                 "(and); one is enough (or, |), and so is a length above the limit.", "and_not_or"),
                (want | _impossible(table, columns=("depth", "table"), large=False) |
                 (np.asarray(table["depth"]) > MAX_MM) | (np.asarray(table["table"]) > MAX_MM),
                 "It tests depth and table as well, but those are percentages (depth is z over the mean of x and y; "
                 "table is the top's width relative to x): only x, y and z are lengths in mm.", "percentages"),
                (~want, "The mask is the wrong way round: True must mark the impossible rows.", "reversed")):
            if np.array_equal(got, variant):
                return Mistake(f"{found} {advice}", f"impossible_rows:{key}")
        return (f"{found} A row is impossible when any of x, y, z is 0 or above {MAX_MM:g} mm; the other columns "
                "do not count.")


# ----------------------------------------------------------------------------- Exercise 3: baseline_rmse
def _ln_prices(rng, n) -> np.ndarray:
    return capstone.log_price(capstone.load_table(rng.choice(53_940, n, replace=False))).astype(np.float64)


def _skewed(rng, n) -> np.ndarray:
    """Skewed targets, for which the mean and the median differ clearly."""
    return np.round(6.0 + rng.gamma(1.5, 0.8, n), 4)


class BaselineRmse(Check):
    name = "baseline_rmse"
    signature = "baseline_rmse(y_train, y_val)"
    expected_form = "one number"

    public_cases = (
        Case({"y_train": np.array([6.0, 7.0, 10.0]), "y_val": np.array([7.0, 8.0, 8.8])}, 1.1888369666751342,
             "median 7 of the training targets; errors 0, 1 and 1.8 on validation"),
        Case({"y_train": np.array([6.2, 6.5, 7.1, 8.9, 9.4, 9.7]), "y_val": np.array([6.0, 8.3, 9.0, 7.7])},
             1.1379806676741042, "six training targets, four validation targets"),
    )

    def secret_inputs(self, rng):
        return [{"y_train": _ln_prices(rng, 600), "y_val": _ln_prices(rng, 200)},
                {"y_train": _skewed(rng, int(rng.integers(50, 120))), "y_val": _skewed(rng, int(rng.integers(20, 60)))},
                {"y_train": _skewed(rng, 31), "y_val": _skewed(rng, 17)}]

    def run(self, subject, inputs):
        y_train = np.asarray(inputs["y_train"], dtype="float32")
        y_val = np.asarray(inputs["y_val"], dtype="float32")
        result = subject(y_train, y_val)
        return np.asarray(result) if hasattr(result, "__array__") else result

    def compare(self, inputs, got, expected):
        sig = self.signature
        try:
            value = float(np.asarray(got, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            size = np.size(got) if isinstance(got, (np.ndarray, list)) else None
            if size is not None and size == len(inputs["y_val"]):
                return Mistake(f"{sig} returned {size} values, one per validation target: take the root of their "
                               "mean squared error, one number.", "baseline_rmse:per_row")
            return self.unreadable(got)
        y_train = np.asarray(inputs["y_train"], dtype=np.float64)
        y_val = np.asarray(inputs["y_val"], dtype=np.float64)
        want = float(np.sqrt(np.mean((y_val - np.median(y_train)) ** 2)))
        if close(value, want, 1e-5):
            return None
        found = f"{sig} returned {value:.6g}; expected {want:.6g}."
        for other, advice, key in (
                (np.sqrt(np.mean((y_val - np.median(y_val)) ** 2)),
                 "That is the median of y_val: the baseline may only use the training targets, as a model does. "
                 "Predict np.median(y_train) for every validation row.", "validation_median"),
                (np.sqrt(np.mean((y_val - np.mean(y_train)) ** 2)),
                 "That predicts the mean of y_train; the statement's baseline is the median.", "mean"),
                (np.std(y_val), "That is the standard deviation of y_val, the error of predicting the validation "
                 "mean: the baseline may only use the training targets.", "std"),
                (np.mean((y_val - np.median(y_train)) ** 2), "That is the mean squared error: take its square "
                 "root.", "mse"),
                (np.mean(np.abs(y_val - np.median(y_train))), "That is the mean absolute error; the score is the "
                 "root of the mean squared error.", "mae"),
                (np.sqrt(np.mean((np.exp(y_val) - np.exp(np.median(y_train))) ** 2)),
                 "That is an error in dollars: the targets are already ln(price), and the score is the RMSE of "
                 "ln(price), so compare them as they are.", "dollars")):
            if close(value, other, 1e-5):
                return Mistake(f"{found} {advice}", f"baseline_rmse:{key}")
        return (f"{found} Predict the median of y_train for every row of y_val and take the root of the mean "
                "squared difference.")


# ----------------------------------------------------------------------------- Exercises 4-5: the model
@lru_cache(maxsize=1)
def training_median() -> float:
    """The median ln(price) of the training rows: the baseline's prediction."""
    return float(np.median(capstone.load_split()[1]))


def _model_or_message(got, what="price_model"):
    """(rebuilt model, None), or (None, the message saying why there is none)."""
    if not isinstance(got, dict):
        return None, None
    if not got.get("is_model"):
        kind = str(got.get("kind"))[:60]
        if kind == "NoneType":
            return None, Mistake(f"{what} is None: train_price_model is not implemented yet, returned None, or the "
                                 "training cell stopped with an error. Return the trained model, and fix any error "
                                 "that cell shows.", "price_model:none")
        if kind == "History":
            return None, Mistake("train_price_model returned a History, not the model: model.fit trains the model in "
                                 "place and returns its History. Return the model itself.", "price_model:history")
        return None, Mistake(f"{what} is a {kind}, not a keras.Model: train_price_model must return the trained "
                             "Keras model.", "price_model:not_a_model")
    try:
        return rebuild_model(got), None
    except ModelRejected as exc:
        return None, Mistake(f"The trained model cannot be checked: {rejection_text(exc)}.", "price_model:rejected")


def _reported_model(check, got):
    """(rebuilt model, None), or (None, the verdict: the message saying why there is none, or unreadable)."""
    model, message = _model_or_message(got)
    if message:
        return None, message
    if model is None:
        return None, check.unreadable(got)
    return model, None


def _predictions(model, X):
    """(predictions of shape (n,), None) or (None, message)."""
    try:
        outputs = predict(model, X, batch_size=2048)
    except Exception as exc:  # noqa: BLE001 - a model that cannot read the rows is the student's to fix
        return None, Mistake(f"The trained model cannot read rows of the 26 raw columns: {call_failure(exc)}. Start "
                             "it with keras.Input(shape=(26,)).", "price_model:input_shape")
    if outputs.shape not in ((len(X), 1), (len(X),)):
        return None, Mistake(f"The trained model returned outputs of shape {outputs.shape} for {len(X)} diamonds; "
                             f"expected ({len(X)}, 1), one ln(price) per diamond: end with Dense(1) and no "
                             "activation.", "price_model:output_shape")
    outputs = outputs.reshape(-1)
    if not np.all(np.isfinite(outputs)):
        return None, Mistake("The trained model returns nan or inf: training diverged. Scale the inputs inside the "
                             "model (a Normalization layer adapted on X_train) and lower the learning rate.",
                             "price_model:diverged")
    return outputs, None


def _cause(model, outputs, rmse) -> tuple[str, str]:
    """(advice, key) naming the likely build mistake behind a poor held-out RMSE; ("", "") when none is seen."""
    layers = all_layers(model)
    compiled = compile_summary(model)
    last = next((layer for layer in reversed(layers) if type(layer).__name__ == "Dense"), None)
    activation = getattr(getattr(last, "activation", None), "__name__", "") if last is not None else ""
    if compiled.get("compiled") and "crossentropy" in str(compiled.get("loss", "")).lower():
        return (f"It is compiled with {compiled.get('loss')!r}, a loss for class probabilities; predicting a number "
                "is regression: use loss='mse' (or 'mae', 'huber').", "classification_loss")
    if np.median(outputs) > 20:
        return ("Its predictions are far above any ln(price) (at most about 9.8): it was trained on the price in "
                "dollars. The target is "
                "ln(price), y_train as load_split gives it; a model fitted to dollars also weighs the expensive "
                "stones far too much.", "price_not_log")
    if activation in ("sigmoid", "softmax") or (np.all(outputs >= 0) and np.all(outputs <= 1)):
        return (f"Its outputs lie between 0 and 1 (a {activation or 'squashing'} output), but ln(price) runs from "
                "about 5.8 to 9.8: end with Dense(1) and no activation, a regression output.", "squashed_output")
    norms = [layer for layer in layers if type(layer).__name__ == "Normalization"]
    for layer in norms:
        weights = layer.get_weights()  # adapt's mean, variance and count; none when given mean= and variance=
        if len(weights) >= 2 and np.allclose(weights[0], 0) and np.allclose(weights[1], 1):
            return ("Its Normalization layer was never adapted (mean 0, variance 1 for every column), so it scales "
                    "nothing: call norm.adapt(X_train) before you build the model with it.", "unadapted")
    if not norms and not any("BatchNormalization" == type(layer).__name__ for layer in layers):
        return ("It has no Normalization layer: the raw columns range from 0-1 (the one-hot grades) to about 60 "
                "(depth and table), so the first layer's inputs have very different scales and training stalls. Put "
                "a keras.layers.Normalization, adapted on X_train, first in the model.", "no_normalization")
    if rmse >= 0.9 * 1.0:
        return ("Predicting the training median for every diamond already gives about 1.0, so the model was hardly "
                "trained. "
                "Call model.fit(X_train, y_train, ...) on the model you return.", "untrained")
    return "", ""


def heldout_rmse(model, X, y) -> tuple[float | None, str | None]:
    outputs, message = _predictions(model, X)
    if message:
        return None, message
    return _rmse(outputs, y), None


def _rmse(outputs, y) -> float:
    return float(np.sqrt(np.mean((outputs - np.asarray(y, dtype=np.float64)) ** 2)))


class PriceModel(Check):
    """Judged by thresholds on the grader's held-out diamonds: the student's own network, of their own design.

    The kernel reports only the model. The grader rebuilds it and predicts ln(price) for test diamonds perturbed
    with the run's seed (`heldout.diamonds_heldout`), in grader-only keys: the kernel sees no row."""
    name = "price_model"
    signature = "train_price_model(X_train, y_train, X_val, y_val)"
    expected_form = "a trained keras.Model"

    @cached_property
    def public_cases(self):
        X, y = diamonds_heldout(np.random.default_rng(18_000), 3000)
        return (Case({"_X": X, "_y": y}, None, f"{len(y)} test diamonds, measured again with a little noise"),)

    def secret_inputs(self, rng):
        X, y = diamonds_heldout(rng, HELDOUT_ROWS)
        return [{"_X": X, "_y": y}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped before keeping the model) is reported too

    def compare(self, inputs, got, expected):
        model, verdict = _reported_model(self, got)
        if verdict:
            return verdict
        n_params = int(model.count_params())
        if n_params > MAX_SCORED_PARAMS:
            return Mistake(f"The trained model has {n_params:,} parameters; Exercise 4 scores models of at most "
                           f"{MAX_SCORED_PARAMS:,} (and the budget of Exercise 5 is {MAX_PARAMS:,}). A model that "
                           "large can store rows of the data set instead of learning what a price depends on.",
                           "price_model:too_large")
        X, y = inputs["_X"], inputs["_y"]
        outputs, message = _predictions(model, X)
        if message:
            return message
        rmse = _rmse(outputs, y)
        if rmse <= FULL_RMSE:
            return None
        shown = (f"On {len(y)} held-out diamonds the model's RMSE of ln(price) is {rmse:.3f}; full marks need at most "
                 f"{FULL_RMSE}, half the points at most {HALF_RMSE}.")
        advice, key = _cause(model, outputs, rmse)
        if not advice:
            advice, key = ("It learned, but not enough. Compare settings on the validation split, not the held-out "
                           "rows: more epochs, a learning-rate schedule, the units spent differently (lesson 18, "
                           "section 5)."), "not_enough"
        message = Mistake(f"{shown} {advice}", f"price_model:{key}")
        if rmse <= HALF_RMSE:
            return Partial(1, 2, message)
        return message


class PriceBudget(Check):
    """The budget, in two halves: the parameter count of the rebuilt model, and the grader's own clock on the
    training cell (`_cell_seconds`, present whenever the grader judges; absent in the student's kernel, where
    the time is only reported, never judged). Points only for a model that beats the median baseline."""
    name = "price_budget"
    signature = "the budget of price_model"
    expected_form = "a trained keras.Model"

    @cached_property
    def public_cases(self):
        X, y = diamonds_heldout(np.random.default_rng(18_001), 3000)
        return (Case({"_X": X, "_y": y}, None, f"{MAX_PARAMS:,} parameters and {MAX_TRAIN_SECONDS:g} s"),)

    def secret_inputs(self, rng):
        X, y = diamonds_heldout(rng, 3000)
        return [{"_X": X, "_y": y}]

    def run(self, subject, inputs):
        model = subject[0] if isinstance(subject, tuple) else subject
        return report_model(model)

    def compare(self, inputs, got, expected):
        model, verdict = _reported_model(self, got)
        if verdict:
            return verdict
        X, y = inputs["_X"], np.asarray(inputs["_y"], dtype=np.float64)
        rmse, message = heldout_rmse(model, X, y)
        if message:
            return message
        baseline = float(np.sqrt(np.mean((y - training_median()) ** 2)))
        if not rmse < baseline:
            return Mistake(f"On held-out diamonds the model's RMSE of ln(price) is {rmse:.3f}, no better than "
                           f"predicting the training median ({baseline:.3f}): the budget earns points only for a model "
                           "that has learned something. Train it first (Exercise 4).", "price_budget:no_better")
        n_params = int(model.count_params())
        params_ok = n_params <= MAX_PARAMS
        params_msg = (f"The model has {n_params:,} parameters, more than the {MAX_PARAMS:,} allowed: fewer or narrower "
                      "Dense layers (a Dense layer of m inputs and u units has (m + 1) u).")
        if MEASURED_SECONDS not in inputs:  # the student's own kernel: the time is the grader's to measure
            return None if params_ok else Mistake(params_msg, "price_budget:parameters")
        seconds = inputs[MEASURED_SECONDS].get(TRAIN_CELL)
        if seconds is None:
            time_ok = False
            time_msg = (f"The grader has no time for the {TRAIN_CELL} cell: it did not finish (the grader stops a cell "
                        f"after {CELL_TIMEOUT} s, and the rest of the notebook with it).")
        else:
            time_ok = float(seconds) <= MAX_TRAIN_SECONDS
            time_msg = (f"The {TRAIN_CELL} cell took {float(seconds):.0f} s on the grader's clock, more than the "
                        f"{MAX_TRAIN_SECONDS:g} s allowed: fewer epochs, a larger batch or a smaller network.")
        result = requirements([(params_ok, params_msg), (time_ok, time_msg)])
        if result is None:
            return None
        key = "price_budget:" + ("parameters_and_time" if not (params_ok or time_ok) else
                                 "parameters" if not params_ok else "time")
        return Partial(result.earned, result.of, Mistake(result.message, key))

    def _check_public(self, subject):
        super()._check_public(subject)
        seconds = subject[1] if isinstance(subject, tuple) and len(subject) > 1 else None
        here = f"; here it took {float(seconds):.0f} s" if isinstance(seconds, (int, float)) else ""
        print(f"  The time budget ({MAX_TRAIN_SECONDS:g} s) is measured by the grader on its own clock, on the "
              f"{TRAIN_CELL} cell{here}. Leave a margin: the grader may run two notebooks at once.")


median_price_by = MedianPriceBy()
impossible_rows = ImpossibleRows()
baseline_rmse = BaselineRmse()
price_model = PriceModel()
price_budget = PriceBudget()

CHECKS = CheckSet("18_capstone", [median_price_by, impossible_rows, baseline_rmse, price_model, price_budget])
