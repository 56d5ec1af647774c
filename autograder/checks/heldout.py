"""Data the grader judges trained models on: never the data a student trained on, never an exact public row.

`coursekit.data.digits_split()` hands out a training and a test split of scikit-learn's digits,
and scikit-learn ships every row with its label, so a kernel can reach all of them. A model part
is therefore judged on test rows the grader *perturbs with the run's seed*: each image gets a
random brightness scale and a little Gaussian noise. A classifier that learned digits hardly
notices (the course's reference models lose about one point of accuracy); a "model" that looks
its inputs up in the public data set finds no exact match. These arrays live in grader-only
input keys (starting with "_"), so the kernel never sees them either.
"""
from __future__ import annotations

import numpy as np

#: Noise added to each pixel (pixels are in [0, 1]) and the range of the brightness scale.
PIXEL_NOISE = 0.04
BRIGHTNESS = (0.9, 1.1)


def perturb_images(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images in [0, 1] with a per-image brightness scale and per-pixel noise, clipped back to [0, 1]."""
    X = np.asarray(X, dtype=np.float64)
    scale = rng.uniform(*BRIGHTNESS, size=(len(X),) + (1,) * (X.ndim - 1))
    noisy = X * scale + rng.normal(0.0, PIXEL_NOISE, X.shape)
    return np.clip(noisy, 0.0, 1.0).astype("float32")


def digits_heldout(rng: np.random.Generator, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): `n` rows of the digits test split, perturbed with `rng` (flattened, 64 pixels in [0, 1])."""
    from coursekit.data import digits_split

    _, X_test, _, y_test = digits_split()
    chosen = np.sort(rng.choice(len(X_test), min(n, len(X_test)), replace=False))
    return perturb_images(X_test[chosen], rng), np.asarray(y_test[chosen]).astype("int64")


#: The capstone's perturbation of a held-out diamond: relative noise on the weight and the three lengths,
#: absolute noise (in percentage points) on depth and table. Far below what changes a price.
DIAMOND_RELATIVE_NOISE = 0.002
DIAMOND_PERCENT_NOISE = 0.05


def diamonds_heldout(rng: np.random.Generator, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): `n` of the capstone's test diamonds (all of them by default), perturbed with `rng`.

    Rows come from `coursekit.capstone.split_rows()[2]`, which `load_split` never returns, less the few with an
    impossible length (an x, y or z of 0 or above 20 mm): a model is judged on diamonds that can exist, so
    keeping or dropping those rows in training is the student's choice and costs nothing here. Carat, x, y and
    z are multiplied by 1 + N(0, 0.002), depth and table get + N(0, 0.05); the rows are then encoded with
    `coursekit.capstone.encode` (26 raw columns). The targets, ln(price), are left as they are.
    """
    from coursekit import capstone

    test = capstone.split_rows()[2]
    lengths = capstone.encode(capstone.load_table(test))[:, 3:6]
    test = test[np.all((lengths > 0) & (lengths <= 20), axis=1)]
    chosen = np.sort(rng.choice(len(test), len(test) if n is None else min(n, len(test)), replace=False))
    table = capstone.load_table(test[chosen])
    for name in ("carat", "x", "y", "z"):
        table[name] = table[name] * (1.0 + rng.normal(0.0, DIAMOND_RELATIVE_NOISE, len(chosen)))
    for name in ("depth", "table"):
        table[name] = table[name] + rng.normal(0.0, DIAMOND_PERCENT_NOISE, len(chosen))
    return capstone.encode(table), capstone.log_price(table)
