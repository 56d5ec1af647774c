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
