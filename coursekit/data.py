"""Small datasets that ship with the course or with scikit-learn: nothing is downloaded."""
from __future__ import annotations

import numpy as np

#: Truth tables of two-input logic gates, indexed like GATE_INPUTS.
GATE_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATE_LABELS = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "XOR": np.array([0, 1, 1, 0]),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (4, 2) and labels (4,) of a two-input logic gate: AND, OR, NAND or XOR."""
    return GATE_INPUTS.copy(), GATE_LABELS[name.upper()].copy()


def digits_split(test_size: float = 0.25, seed: int = 0):
    """scikit-learn's 8x8 digits, scaled to [0, 1] and split: (X_train, X_test, y_train, y_test)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data.astype("float32") / 16.0
    return train_test_split(X, digits.target, test_size=test_size, random_state=seed, stratify=digits.target)
