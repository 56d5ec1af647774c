"""Numeric comparisons with messages that say what was expected, what came back and why."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

#: (test, advice): when test(got, expected, inputs) is true, advice explains the likely mistake.
Diagnosis = tuple[Callable[[np.ndarray, np.ndarray, dict], bool], str]


def rel_error(a: Any, b: Any) -> float:
    """CS231n's relative error: max |a-b| / max(1e-8, |a|+|b|), elementwise then the max."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def close(a: Any, b: Any, tol: float = 1e-5) -> bool:
    """True when a and b have the same shape and a relative error under `tol`."""
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a) == np.isfinite(b))) and rel_error(
        np.nan_to_num(a), np.nan_to_num(b)) <= tol


def fmt(value: Any, limit: int = 6) -> str:
    """A short printout of a value for a message."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if arr.dtype.kind == "f" else str(arr.item())
    flat = arr.ravel()
    text = np.array2string(flat[:limit], precision=4, separator=", ")
    if flat.size > limit:
        text = text[:-1] + ", …]"
    return text if arr.ndim <= 1 else f"{text} (shape {arr.shape})"


def compare_array(what: str, got: Any, expected: Any, inputs: dict, *, tol: float = 1e-5,
                  diagnoses: Sequence[Diagnosis] = (), exact_shape: bool = True) -> str | None:
    """Compare an array-like result; None when right, else a teaching message."""
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(got, (str, dict, tuple)) or got is None:
        return f"{what} should return a numpy array of shape {expected.shape}, but returned {type(got).__name__}."
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{what} should return numbers, but returned {fmt(got)}."
    if got_arr.shape != expected.shape:
        if exact_shape or got_arr.size != expected.size:
            hint = ""
            if got_arr.size == expected.size:
                hint = " The values may be right: reshape or use 1-D vectors so the shape matches."
            elif got_arr.ndim == 2 and expected.ndim == 1 and got_arr.shape[0] == got_arr.shape[1] == expected.shape[0]:
                hint = " A square result usually means a (m,) vector was broadcast against a (m, 1) one."
            return f"{what} returned shape {got_arr.shape}, expected {expected.shape}.{hint}"
        got_arr = got_arr.reshape(expected.shape)
    if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(expected)):
        return f"{what} returned nan or inf values: {fmt(got_arr)}. Expected {fmt(expected)}."
    if close(got_arr, expected, tol):
        return None
    for test, advice in diagnoses:
        try:
            if test(got_arr, expected, inputs):
                return f"{what} returned {fmt(got_arr)}, expected {fmt(expected)}. {advice}"
        except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
            continue
    return (f"{what} returned {fmt(got_arr)}, expected {fmt(expected)} "
            f"(relative error {rel_error(got_arr, expected):.2g}, tolerance {tol:g}).")


def within_scale(got: Any, expected: Any, tol: float, floor: float = 1.0) -> bool:
    """Same shape, all finite, and |got - expected| <= tol * max(floor, max|expected|) everywhere.

    An absolute band scaled by the largest expected value: answers computed in float32 pass at
    values near 0, where an elementwise relative error would blow up.
    """
    try:
        got = np.asarray(got, dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return False
    scale = max(floor, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.all(np.abs(got - expected) <= tol * scale))
