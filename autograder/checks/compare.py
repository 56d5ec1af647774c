"""Numeric comparisons with messages that say what was expected, what came back and why."""
from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from .core import Mistake, mistake_key

#: (test, advice) or (test, advice, key): when test(got, expected, inputs) is true, advice explains
#: the likely mistake; `key` names it for the class report (see core.Mistake; default: the advice's
#: first words as a slug, which changes if the advice is reworded, so give a key where it matters).
Diagnosis = tuple


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


#: float32 holds about 7 significant digits. An answer is accepted within this absolute band of the
#: values' scale (max(1, max|expected|)), so values near 0 are not judged by a relative error alone.
FLOAT32_ABS_FLOOR = 1e-6
#: An answer no further from the exact value than this many times Keras's own float32 result is accepted.
TWIN_SLACK = 4.0


def matches_mask(got: Any, expected: Any, tol: float = 1e-5, *, floor: float = FLOAT32_ABS_FLOOR,
                 twin: Any = None) -> np.ndarray:
    """Which entries `matches` accepts, entry by entry (same shapes required; see `matches`).

    The scale of the absolute floor is the whole array's, so that a subset of the entries is judged
    exactly as it is inside the whole answer; partial credit counts entries with it.
    """
    raw_a = np.asarray(got, dtype=np.float64)
    raw_b = np.asarray(expected, dtype=np.float64)
    finite = np.isfinite(raw_b)
    finite_ok = np.isfinite(raw_a) == finite
    # A non-finite expected entry is matched only by the same value: +inf by +inf, -inf by -inf, nan by nan.
    same_special = (raw_a == raw_b) | (np.isnan(raw_a) & np.isnan(raw_b))
    # The floor's scale is the largest *finite* expected value: an inf must not make every entry "close".
    scale = max(1.0, float(np.max(np.abs(raw_b[finite]), initial=0.0)))
    a, b = np.where(finite, raw_a, 0.0), np.where(finite, raw_b, 0.0)
    a = np.where(np.isfinite(a), a, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        # tol * (|a| + |b|), halved first so that values near the largest float64 cannot overflow to inf.
        allowed = np.maximum(2 * tol * np.maximum(5e-9, np.abs(a) / 2 + np.abs(b) / 2), floor * scale)
    if twin is not None:
        try:
            t = np.asarray(twin, dtype=np.float64)
            if t.shape == b.shape and np.all(np.isfinite(t) == finite):
                with np.errstate(over="ignore", invalid="ignore"):
                    gap = np.where(finite, np.abs(np.where(finite, t, 0.0) - b), 0.0)
                allowed = np.maximum(allowed, TWIN_SLACK * np.where(np.isfinite(gap), gap, 0.0))
        except (TypeError, ValueError):
            pass
    with np.errstate(over="ignore", invalid="ignore"):
        close = np.abs(a - b) <= allowed  # a difference that overflows is inf: never close
    return finite_ok & np.where(finite, close, same_special)


def matches(got: Any, expected: Any, tol: float = 1e-5, *, floor: float = FLOAT32_ABS_FLOOR,
            twin: Any = None) -> bool:
    """The acceptance test for a numeric answer, shared by every check.

    Same shape, finite exactly where `expected` is, and each entry right in at least one way:
    within `tol` relative error (CS231n's), within `floor` * max(1, max|expected|) absolute, or,
    when `twin` (Keras's or TensorFlow's own float32 result for the same inputs) is given, no
    further from `expected` than TWIN_SLACK times the twin is. A correct float32 answer passes
    wherever the library's own float32 implementation would.
    """
    try:
        a = np.asarray(got, dtype=np.float64)
        b = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    return bool(np.all(matches_mask(a, b, tol, floor=floor, twin=twin)))


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
                  diagnoses: Sequence[Diagnosis] = (), exact_shape: bool = True, twin: Any = None) -> str | None:
    """Compare an array-like result; None when right (see `matches`), else a teaching message
    (a core.Mistake, whose key names the diagnosis, or the kind of failure when none applied)."""
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(got, (str, dict, tuple)) or got is None:
        return Mistake(f"{what} should return a numpy array of shape {expected.shape}, but returned "
                       f"{type(got).__name__}.", "wrong_type")
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return Mistake(f"{what} should return numbers, but returned {fmt(got)}.", "wrong_type")
    if got_arr.shape != expected.shape:
        if exact_shape or got_arr.size != expected.size:
            hint = ""
            if got_arr.size == expected.size:
                hint = " The values may be right: reshape or use 1-D vectors so the shape matches."
            elif got_arr.ndim == 2 and expected.ndim == 1 and got_arr.shape[0] == got_arr.shape[1] == expected.shape[0]:
                hint = " A square result usually means a (m,) vector was broadcast against a (m, 1) one."
            return Mistake(f"{what} returned shape {got_arr.shape}, expected {expected.shape}.{hint}", "wrong_shape")
        got_arr = got_arr.reshape(expected.shape)
    if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(expected)):
        return Mistake(f"{what} returned nan or inf values: {fmt(got_arr)}. Expected {fmt(expected)}.", "nan_or_inf")
    if matches(got_arr, expected, tol, twin=twin):
        return None
    for test, advice, *key in diagnoses:
        try:
            if test(got_arr, expected, inputs):
                return Mistake(f"{what} returned {fmt(got_arr)}, expected {fmt(expected)}. {advice}",
                               key[0] if key else mistake_key(advice, slug(advice)))
        except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
            continue
    return Mistake(f"{what} returned {fmt(got_arr)}, expected {fmt(expected)} "
                   f"(relative error {rel_error(got_arr, expected):.2g}, tolerance {tol:g}).", "other")


def slug(text: str, words: int = 6) -> str:
    """A short key from the first words of a piece of advice: "the bias b is missing" -> "the_bias_b_is_missing"."""
    return "_".join(re.findall(r"[a-z0-9]+", str(text).lower())[:words]) or "other"


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
