"""Plain data: the only thing that crosses from a student's kernel to the grader.

`to_plain` turns a value into JSON-able data built only from exact builtin types,
so an object with a rigged ``__eq__`` (or an ndarray subclass) cannot reach the
grader: it is either converted to real numbers or rejected with a message.
`from_plain` is its inverse, run in the grader.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

ARRAY_KEY = "__ndarray__"
_ALLOWED_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                   "uint64", "float16", "float32", "float64"}


class NotPlainData(TypeError):
    """A value that cannot be reported as plain numbers, arrays or strings."""


def describe_type(value: Any) -> str:
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _array_to_plain(value: Any) -> dict:
    # np.array(..., copy=True) always yields a base-class ndarray, whatever subclass came in.
    arr = np.array(value, copy=True)
    if type(arr) is not np.ndarray or arr.dtype.name not in _ALLOWED_DTYPES:
        raise NotPlainData(f"an array of {arr.dtype} (expected numbers), built from {describe_type(value)}")
    data = arr.astype(np.float64).tolist() if arr.dtype.kind == "f" else arr.tolist()
    return {ARRAY_KEY: _floats_to_json(data), "dtype": arr.dtype.name, "shape": list(arr.shape)}


def _floats_to_json(data: Any) -> Any:
    if isinstance(data, list):
        return [_floats_to_json(x) for x in data]
    if type(data) is float and not math.isfinite(data):
        return repr(data)  # "nan", "inf", "-inf": valid JSON, decoded back in from_plain
    return data


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a value into JSON-able plain data, or raise NotPlainData."""
    if _depth > 20:
        raise NotPlainData("a value nested more than 20 levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {ARRAY_KEY: repr(value), "dtype": "float64", "shape": []}
    if isinstance(value, (np.ndarray, np.generic)):
        return _array_to_plain(value)
    if kind in (list, tuple):
        return {"__tuple__": [to_plain(v, _depth + 1) for v in value]} if kind is tuple \
            else [to_plain(v, _depth + 1) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise NotPlainData("a dict whose keys are not all strings")
        return {"__dict__": {k: to_plain(v, _depth + 1) for k, v in value.items()}}
    # Tensors from TensorFlow/Keras expose .numpy(); anything else is not plain data.
    if hasattr(value, "numpy") and callable(getattr(value, "numpy")) and \
            type(value).__module__.split(".")[0] in {"tensorflow", "keras", "tf_keras"}:
        return _array_to_plain(value.numpy())
    raise NotPlainData(describe_type(value))


def from_plain(data: Any) -> Any:
    """Decode what `to_plain` produced (in the grader, from JSON)."""
    if isinstance(data, list):
        return [from_plain(x) for x in data]
    if isinstance(data, dict):
        if ARRAY_KEY in data:
            dtype = data.get("dtype", "float64")
            if dtype not in _ALLOWED_DTYPES:
                raise ValueError(f"unexpected dtype {dtype!r} in a report")
            raw = data[ARRAY_KEY]
            arr = np.array(_json_to_floats(raw), dtype=dtype)
            return arr.reshape(data.get("shape", arr.shape))
        if "__tuple__" in data:
            return tuple(from_plain(x) for x in data["__tuple__"])
        if "__dict__" in data:
            return {str(k): from_plain(v) for k, v in data["__dict__"].items()}
        raise ValueError("unexpected object in a report")
    return data


def _json_to_floats(data: Any) -> Any:
    if isinstance(data, list):
        return [_json_to_floats(x) for x in data]
    if isinstance(data, str) and data in ("nan", "inf", "-inf"):
        return float(data)
    return data
