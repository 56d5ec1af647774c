"""Plain data: the only thing that crosses from a student's kernel to the grader.

`to_plain` turns a value into JSON-able data built only from exact builtin types,
so an object with a rigged ``__eq__`` (or an ndarray subclass) cannot reach the
grader: it is either converted to real numbers or rejected with a message.
`from_plain` is its inverse, run in the grader.
"""
from __future__ import annotations

import base64
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


#: Arrays with more entries than this travel as base64 of their bytes (weights: 4 bytes a value, not 20).
PACKED_MIN_SIZE = 256
PACKED_KEY = "__packed__"


def _array_to_plain(value: Any) -> dict:
    # np.array(..., copy=True) always yields a base-class ndarray, whatever subclass came in.
    arr = np.array(value, copy=True)
    if type(arr) is not np.ndarray or arr.dtype.name not in _ALLOWED_DTYPES:
        raise NotPlainData(f"an array of {arr.dtype} (expected numbers), built from {describe_type(value)}")
    if arr.size > PACKED_MIN_SIZE:
        raw = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        return {PACKED_KEY: base64.b64encode(raw).decode("ascii"), "dtype": arr.dtype.name, "shape": list(arr.shape)}
    data = arr.astype(np.float64).tolist() if arr.dtype.kind == "f" else arr.tolist()
    return {ARRAY_KEY: _floats_to_json(data), "dtype": arr.dtype.name, "shape": list(arr.shape)}


def _packed_from_plain(data: dict) -> np.ndarray:
    """An array sent as base64 bytes, checked against its stated dtype and shape before it is built."""
    dtype, shape, text = data.get("dtype"), data.get("shape"), data.get(PACKED_KEY)
    if dtype not in _ALLOWED_DTYPES or not isinstance(text, str):
        raise ValueError("unexpected packed array in a report")
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(d) is int and 0 <= d < 2**31 for d in shape):
        raise ValueError("unexpected array shape in a report")
    item = np.dtype(dtype).newbyteorder("<")
    if math.prod(shape) * item.itemsize != len(text) // 4 * 3 - text[-2:].count("="):
        raise ValueError("a packed array whose size does not match its shape")
    raw = base64.b64decode(text, validate=True)
    return np.frombuffer(raw, dtype=item).astype(np.dtype(dtype)).reshape(shape)


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
        if PACKED_KEY in data:
            return _packed_from_plain(data)
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
