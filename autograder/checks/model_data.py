"""Keras models as plain data: what a kernel reports for a model part, and how the grader rebuilds it.

A part about a Keras model is never judged on facts the kernel states about the model (its
units, parameter count, compile settings, accuracy). The kernel reports the model itself:

* `report_model(model)` (kernel side): the model's Keras config, compile settings included,
  as a JSON string, and its weights as arrays. Nothing else.
* `report_saved_file(path)` (kernel side): the bytes of a file the student saved.

The grader, in a process that never ran student code, rebuilds the model with
`rebuild_model(record)`: the config is walked first and refused unless every object in it is
a built-in Keras class (no Lambda layers, no custom or subclassed objects, nothing outside the
`keras` namespace), and unless its size is within `ModelLimits` (layers, parameters, per-sample
activations; measured in a `StatelessScope`, which creates no weights). Only then is it
deserialised with Keras's `safe_mode=True` and given the reported weights. Every structural fact
(`layer_summary`, `compile_summary`) and every prediction (`predict`) is then computed by the
grader, on inputs it chose (see `heldout.py` for the data sets).
"""
from __future__ import annotations

import copy
import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Keras namespaces whose built-in classes a rebuilt model may use.
ALLOWED_MODULES = frozenset({
    "keras", "keras.layers", "keras.models", "keras.optimizers", "keras.optimizers.schedules", "keras.losses",
    "keras.metrics", "keras.initializers", "keras.regularizers", "keras.constraints", "keras.activations",
    "keras.src.models.functional", "keras.src.models.sequential", "keras.src.models.model",
})
#: Built-in classes that run arbitrary code or wrap another framework's model.
FORBIDDEN_CLASSES = frozenset({"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "__lambda__"})
#: Built-in layers that read a file when their vocabulary is given as a path: allowed with a list only.
_READS_FILES = frozenset({"TextVectorization", "StringLookup", "IntegerLookup"})
#: Functions (losses, metrics, activations) may be named only from these Keras modules.
_FUNCTION_MODULES = ("losses", "metrics", "activations")
#: Keras records `a + b`, `a - b`, `a * b` and `a / b` between Keras tensors (residual connections, a
#: positional encoding) as operations of this module, not as layers. They hold no weights and run no
#: user code; these four are allowed, each between tensors and small constants only.
_OPERATOR_MODULE = "keras.src.ops.numpy"
_OPERATORS = frozenset({"Add", "Subtract", "Multiply", "TrueDivide"})
_CONSTANTS = ("__numpy__", "__tensor__")
#: All an operation node may hold: nothing else may ride along inside one.
_OPERATOR_KEYS = frozenset({"module", "class_name", "config", "registered_name", "name", "inbound_nodes"})
_OPERATOR_ADVICE = ("build the model from Keras layers and the operators +, -, * and / between tensors only "
                    "(no keras.ops functions, Lambda layers or custom layers)")


@dataclass(frozen=True)
class ModelLimits:
    """What the grader agrees to rebuild: far above every exercise, far below what hurts a worker."""
    config_chars: int = 2 * 2**20
    layers: int = 64
    params: int = 1_500_000
    #: Values one sample produces in any layer's output.
    activations_per_sample: int = 2**18
    nesting: int = 64


class ModelRejected(ValueError):
    """The reported model cannot be rebuilt; the message is safe to show the student."""


# ----------------------------------------------------------------------------- kernel side
def report_model(model: Any) -> dict:
    """What a kernel reports for a model: its config (compile settings included) and its weights."""
    try:
        import keras
    except ImportError:  # pragma: no cover - Keras is always installed with the course
        return {"is_model": False, "kind": type(model).__name__}
    if not isinstance(model, keras.Model):
        return {"is_model": False, "kind": type(model).__name__}
    record: dict = {"is_model": True, "kind": type(model).__name__}
    try:
        record["keras_config"] = json.dumps(keras.saving.serialize_keras_object(model))
        record["weights"] = [np.asarray(w) for w in model.get_weights()]
    except Exception as exc:  # noqa: BLE001 - a model the grader cannot rebuild is the student's to fix
        record.pop("keras_config", None)
        record["serialize_error"] = " ".join(str(exc).split())[:200] or "no reason given"
    return record


def report_saved_file(path: str, limit: int = 16 * 2**20) -> dict:
    """The bytes of a saved file (None when there is none or it is too large to send)."""
    if not os.path.isfile(path):
        return {"exists": False}
    size = os.path.getsize(path)
    if size > limit:
        return {"exists": True, "size": int(size), "bytes": None}
    with open(path, "rb") as handle:
        return {"exists": True, "size": int(size), "bytes": np.frombuffer(handle.read(), dtype=np.uint8).copy()}


def built_on_zeros(model: Any, input_shape: Any) -> Any:
    """A model made without keras.Input has no weights until it is called once: build it on zeros
    (nothing is reported from that call) so that its report holds its weights."""
    import keras

    if isinstance(model, keras.Model) and not model.built:
        shape = (int(input_shape),) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
        model(np.zeros((1, *shape), dtype="float32"))
    return model


# ----------------------------------------------------------------------------- grader side
def one_line(text: Any, limit: int = 160) -> str:
    """Text (an exception's, say) as one short line, without the terminal colour codes Keras puts in it."""
    import re

    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(exc: BaseException, limit: int = 160) -> str:
    """What Keras said when the grader ran a student's model, as one short line.

    The exception's class is left out: it is raised by the grader's own call, and its name (ValueError,
    TypeError, ...) reads to a student as an error in their code, which never raised it.
    """
    return one_line(exc, limit) or "no reason given"


def rejection_text(exc: Exception) -> str:
    """A ModelRejected message for a student: without any Python exception name Keras put in its own text."""
    import re

    message = str(exc)
    found = re.search(r"\b[A-Z]\w*(?:Error|Exception)\b", message)
    if not found:
        return message
    opening = message.rfind("(", 0, found.start())
    if opening < 0:
        return message[:found.start()].rstrip(" (:;,")
    closing = message.find("); ", found.start())
    rest = message[closing + 1:] if closing >= 0 else ""
    return (message[:opening].rstrip() + rest).rstrip()


def call_failure(exc: BaseException) -> str:
    """Why the grader could not run a rebuilt model on its inputs, in words, without Keras's own text."""
    text = " ".join(str(exc).split()).lower()
    if "incompatible" in text or "expected shape" in text or "expected axis" in text or "shape" in text:
        return "a layer of the model expects inputs of another shape"
    return "Keras could not compute the model's outputs"


def _check_config(config: Any, limits: ModelLimits) -> None:
    """Refuse anything that is not a built-in Keras object, without building it."""
    import keras

    stack: list[tuple[Any, int]] = [(config, 0)]
    layers = 0
    while stack:
        node, depth = stack.pop()
        if depth > limits.nesting:
            raise ModelRejected("the model's configuration is nested too deeply to rebuild")
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        if str(node.get("module", "")).startswith("keras.src.ops"):
            # Only its tensor arguments are walked further: nothing else in the node is read.
            stack.extend((tensor, depth + 1) for tensor in _operator_inputs(node, limits))
            continue
        if "class_name" in node:
            module, name = node.get("module"), node.get("class_name")
            if not isinstance(name, str):
                raise ModelRejected("the model's configuration holds an object without a class name")
            if name in FORBIDDEN_CLASSES:
                what = "a Lambda layer" if "lambda" in name.lower() else f"a {name} layer"
                raise ModelRejected(f"the model uses {what}, which the grader does not run: build it from built-in "
                                    "Keras layers (Dense, Conv2D, ...) only")
            if module is None:
                if name != "__keras_tensor__" and not name.startswith("__"):
                    raise ModelRejected(f"the model uses {name}, which is not a built-in Keras class: the grader "
                                        "rebuilds models from built-in layers only (Sequential or the Functional "
                                        "API, no subclassed models or custom layers)")
            elif module == "builtins" and name == "function":
                function = node.get("config")
                if not (isinstance(function, str) and
                        any(hasattr(getattr(keras, m), function) for m in _FUNCTION_MODULES)):
                    raise ModelRejected(f"the model is compiled with the function {str(function)[:60]!r}, which is not "
                                        "one of Keras's own: the grader can only rebuild built-in losses and metrics")
            elif module not in ALLOWED_MODULES:
                raise ModelRejected(f"the model uses {str(module)[:60]}.{name[:60]}, which is not a built-in Keras "
                                    "class: build it from keras.layers only (no custom layers or subclassed models)")
            if name in _READS_FILES and isinstance(node.get("config"), dict) and \
                    any(isinstance(node["config"].get(k), str) for k in ("vocabulary", "idf_weights")):
                raise ModelRejected(f"the model's {name} layer names its vocabulary by a file path, which the "
                                    "grader does not read: pass the vocabulary as a list")
            registered = node.get("registered_name")
            if registered not in (None, name, "function") and module != "builtins":
                raise ModelRejected(f"the model uses the registered custom object {str(registered)[:60]!r}: the "
                                    "grader rebuilds built-in Keras objects only")
            if module == "keras.layers":
                layers += 1
                if layers > limits.layers:
                    raise ModelRejected(f"the model has more than {limits.layers} layers, more than the grader rebuilds")
        stack.extend((value, depth + 1) for value in node.values())


def _operator_inputs(node: dict, limits: ModelLimits) -> list:
    """Check one operation node: one of the four operators, between tensors and small constants only;
    return its tensor arguments."""
    import re

    name = node.get("class_name")
    if node.get("module") != _OPERATOR_MODULE or name not in _OPERATORS:
        shown = re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)[:40]).lower()  # BroadcastTo -> broadcast_to
        raise ModelRejected(f"the model applies keras.ops.{shown} to a tensor, which the grader does not rebuild: "
                            f"{_OPERATOR_ADVICE}")
    unreadable = ModelRejected(f"the model holds a {name} operation the grader cannot read: {_OPERATOR_ADVICE}")
    config, inbound = node.get("config"), node.get("inbound_nodes")
    if (set(node) - _OPERATOR_KEYS or node.get("registered_name") not in (None, name) or not isinstance(config, dict)
            or set(config) - {"name"} or not isinstance(inbound, list) or len(inbound) != 1
            or not isinstance(inbound[0], dict) or set(inbound[0]) - {"args", "kwargs"}):
        raise unreadable
    args, kwargs = inbound[0].get("args"), inbound[0].get("kwargs")
    if not isinstance(args, list) or len(args) != 2 or kwargs not in ({}, None):
        raise unreadable
    tensors = []
    for arg in args:
        kind = arg.get("class_name") if isinstance(arg, dict) else None
        if kind == "__keras_tensor__":
            tensors.append(arg)
        elif kind in _CONSTANTS:
            value = arg.get("config", {}).get("value") if isinstance(arg.get("config"), dict) else None
            try:
                size = np.asarray(value, dtype=np.float64).size
            except (TypeError, ValueError, RecursionError):
                size = None
            if size is None or size > limits.activations_per_sample:
                raise ModelRejected(f"a constant used with a tensor in the model is not a small array of numbers: "
                                    f"{_OPERATOR_ADVICE}")
        elif type(arg) not in (int, float, bool):
            raise unreadable
    if not tensors:
        raise ModelRejected(f"the model holds a {name} operation between two constants: {_OPERATOR_ADVICE}")
    return tensors


def _operations_in(model) -> list:
    """Every layer and operation of a model, looking inside nested models."""
    import keras

    found = []
    for op in list(getattr(model, "operations", None) or model.layers):
        found.extend(_operations_in(op) if isinstance(op, keras.Model) else [op])
    return found


def _probe_size(config: dict, limits: ModelLimits) -> None:
    """Build the architecture without creating any weight, and check its parameters and activations."""
    import keras

    # Keras empties nested dicts while it deserialises, so it only ever sees a copy.
    architecture = copy.deepcopy({k: v for k, v in config.items() if k != "compile_config"})
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(architecture, safe_mode=True)
            if not isinstance(model, keras.Model):
                raise ModelRejected(f"the reported object is a {type(model).__name__}, not a keras.Model")
            if not model.built or not all(layer.built for layer in _layers_in(model)):
                # Weights would be made on the first call, of any size: the grader measures first.
                raise ModelRejected("the model has no input shape, so it has no weights yet: start it with "
                                    "keras.Input(shape=...) (or call it once on data) before returning it")
            params = sum(math.prod(int(d) for d in v.shape) for v in model.weights)
            widest = 0  # an operation broadcasting a constant can be as large as any layer
            for layer in _operations_in(model):
                for tensor in _symbolic_outputs(layer):
                    shape = tuple(tensor.shape)
                    # The first axis is the batch only when it is unknown: a broadcast can fix it at any size.
                    dims = [int(d) for d in (shape[1:] if shape and shape[0] is None else shape) if d is not None]
                    widest = max(widest, math.prod(dims) if dims else 1)
    except ModelRejected:
        raise
    except RecursionError:
        raise ModelRejected("the model's configuration is nested too deeply to rebuild") from None
    except Exception as exc:  # noqa: BLE001 - a config Keras cannot read is the student's to fix
        raise ModelRejected(f"the model could not be rebuilt from its configuration "
                            f"(Keras: {error_text(exc)})") from None
    if params > limits.params:
        raise ModelRejected(f"the model has {params:,} parameters, more than the {limits.params:,} the grader rebuilds")
    if widest > limits.activations_per_sample:
        raise ModelRejected(f"a layer or operation of the model produces {widest:,} values per sample, more than the "
                            f"{limits.activations_per_sample:,} the grader computes")


def _symbolic_outputs(layer) -> list:
    try:
        output = layer.output
    except Exception:  # noqa: BLE001 - a layer used more than once, or not built on a symbolic input
        return []
    return list(output) if isinstance(output, (list, tuple)) else [output]


def rebuild_model(record: Any, limits: ModelLimits = ModelLimits(), *, compile: bool = True):
    """The keras.Model a kernel reported (see `report_model`), rebuilt here; raises ModelRejected.

    `compile=False` leaves out the compile settings (for a part that judges only the trained
    network, whose loss may be the student's own function, which the grader does not rebuild).
    """
    import keras

    if not isinstance(record, dict) or not record.get("is_model"):
        raise ModelRejected("no model was reported")
    if record.get("serialize_error"):
        raise ModelRejected(f"Keras could not describe the model as a configuration ({record['serialize_error']}); "
                            "build it with keras.Sequential or the Functional API from built-in layers")
    text = record.get("keras_config")
    if not isinstance(text, str) or len(text) > limits.config_chars:
        raise ModelRejected("the model's configuration is missing or too large")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelRejected("the model's configuration is not valid JSON") from None
    if not isinstance(config, dict):
        raise ModelRejected("the model's configuration is not a Keras object")
    if not compile:
        config = {k: v for k, v in config.items() if k != "compile_config"}
    _check_config(config, limits)
    _probe_size(config, limits)
    try:
        model = keras.saving.deserialize_keras_object(copy.deepcopy(config), safe_mode=True)
    except Exception as exc:  # noqa: BLE001
        raise ModelRejected(f"the model could not be rebuilt from its configuration "
                            f"(Keras: {error_text(exc)})") from None
    weights = record.get("weights")
    expected = [tuple(int(d) for d in v.shape) for v in model.weights]
    if not isinstance(weights, list) or len(weights) != len(expected):
        raise ModelRejected(f"the model reported {len(weights) if isinstance(weights, list) else 'no'} weight arrays "
                            f"for {len(expected)} weights")
    arrays = []
    for shape, value in zip(expected, weights):
        array = np.asarray(value) if isinstance(value, np.ndarray) else None
        if array is None or tuple(array.shape) != shape or array.dtype.kind not in "fiub":
            raise ModelRejected("the reported weights do not fit the model's layers")
        arrays.append(array)
    model.set_weights(arrays)
    _refresh_preprocessing_state(model)
    return model


def _refresh_preprocessing_state(model) -> None:
    """Preprocessing layers that copy their weights into tensors (Normalization's mean and variance) refresh them.

    Keras 3's `set_weights` assigns the variables only; a Normalization layer keeps computing with the mean and
    variance it copied when it was built (zeros and ones) until `finalize_state` runs, as `load_model` does.
    """
    for layer in _layers_in(model):
        if type(layer).__name__ == "Normalization" and getattr(layer, "input_mean", 0) is None:
            layer.finalize_state()


def _layers_in(model) -> list:
    """Layers in order, looking inside nested models (a Sequential used as a layer)."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_layers_in(layer))
        else:
            found.append(layer)
    return found


all_layers = _layers_in


def predict(model, X: Any, batch_size: int = 64) -> np.ndarray:
    """The model's outputs (inference mode) on grader-chosen inputs, as float64."""
    X = np.asarray(X, dtype="float32")
    outputs = [np.asarray(to_numpy(model(X[i:i + batch_size], training=False)), dtype=np.float64)
               for i in range(0, len(X), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def to_numpy(value) -> np.ndarray:
    if hasattr(value, "numpy"):
        return np.array(value.numpy())
    import keras

    return np.array(keras.ops.convert_to_numpy(value))


def activation_name(layer) -> str:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return ""
    return str(getattr(activation, "__name__", type(activation).__name__))


def activation_layer(layer) -> str | None:
    """The activation a stand-alone activation layer applies ("relu", "softmax"), or None for any other layer."""
    kind, config = type(layer).__name__, layer.get_config()
    if kind == "Activation":
        return str(config.get("activation"))
    if kind == "ReLU" and config.get("max_value") is None and not config.get("negative_slope") \
            and not config.get("threshold"):
        return "relu"
    if kind == "Softmax" and config.get("axis") in (-1, [-1]):
        return "softmax"
    return None


def with_activations(layers) -> list[tuple]:
    """(layer, activation) pairs, a stand-alone ReLU or softmax layer folded into the linear layer before it."""
    folded: list[list] = []
    for layer in layers:
        applied = activation_layer(layer)
        if applied and folded and folded[-1][1] in ("linear", ""):
            folded[-1][1] = applied
        else:
            folded.append([layer, activation_name(layer)])
    return [tuple(pair) for pair in folded]


def activation_before_softmax(model) -> str | None:
    """The last Dense layer's own activation ("relu", "tanh") when a stand-alone softmax layer follows it, as in
    Dense(n, activation='relu') then Softmax(); None otherwise. The outputs are still probabilities, so no loss or
    probability check sees it, but the scores were bent before the softmax."""
    import keras

    folded = with_activations([layer for layer in all_layers(model) if not isinstance(layer, keras.layers.InputLayer)])
    dense_at = [i for i, (layer, _) in enumerate(folded) if isinstance(layer, keras.layers.Dense)]
    if not dense_at:
        return None
    activation = folded[dense_at[-1]][1]
    if activation in ("softmax", "linear", "") or not any(activation_layer(layer) == "softmax"
                                                           for layer, _ in folded[dense_at[-1] + 1:]):
        return None
    return activation


def layer_summary(model) -> list[dict]:
    """Each layer's kind and the settings checks look at, computed from the rebuilt model."""
    summary = []
    for layer in _layers_in(model):
        config = layer.get_config()
        entry = {"kind": type(layer).__name__, "activation": activation_name(layer),
                 "params": int(layer.count_params()) if layer.built else 0}
        for key in ("units", "filters", "kernel_size", "strides", "padding", "pool_size", "rate", "use_bias",
                    "return_sequences", "num_heads", "key_dim", "input_dim", "output_dim"):
            if key in config:
                value = config[key]
                entry[key] = list(value) if isinstance(value, tuple) else value
        summary.append(entry)
    return summary


def describe_loss(loss) -> tuple[str, bool]:
    """A compiled loss's name, and whether it was told that the outputs are logits."""
    if loss is None:
        return "none", False
    if isinstance(loss, str):
        return loss, False
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    try:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
    except Exception:  # noqa: BLE001
        config = {}
    return str(name), bool(isinstance(config, dict) and config.get("from_logits"))


def compile_summary(model) -> dict:
    """Whether the rebuilt model is compiled, and with what: optimizer, learning rate, loss, metrics."""
    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or optimizer is None:
        return {"compiled": False}
    rate = getattr(optimizer, "_learning_rate", None)
    try:
        learning_rate = float(to_numpy(optimizer.learning_rate)) if not callable(rate) or hasattr(rate, "numpy") \
            else None
    except Exception:  # noqa: BLE001 - a schedule has no single learning rate
        learning_rate = None
    loss_name, from_logits = describe_loss(getattr(model, "loss", None))
    compile_config = {}
    try:
        compile_config = model.get_compile_config() or {}
    except Exception:  # noqa: BLE001
        pass
    metrics = compile_config.get("metrics") or []
    names = []
    for metric in metrics if isinstance(metrics, list) else [metrics]:
        if isinstance(metric, str):
            names.append(metric)
        elif isinstance(metric, dict):
            names.append(str(metric.get("config", {}).get("name") if isinstance(metric.get("config"), dict)
                             else metric.get("config") or metric.get("class_name")))
        else:
            names.append(str(getattr(metric, "name", metric)))
    return {"compiled": True, "optimizer": type(optimizer).__name__, "learning_rate": learning_rate,
            "schedule": type(rate).__name__ if callable(rate) and not hasattr(rate, "numpy") else None,
            "loss": loss_name, "from_logits": from_logits, "metrics": names,
            "optimizer_config": {k: v for k, v in optimizer.get_config().items()
                                 if isinstance(v, (int, float, str, bool, type(None)))}}


def compute_loss(model, X: Any, y: Any) -> float:
    """The compiled loss (regularisation penalties included) on grader data, as fit would compute it."""
    X = np.asarray(X, dtype="float32")
    y_pred = model(X, training=False)
    return float(to_numpy(model.compute_loss(x=X, y=y, y_pred=y_pred, training=False)))


# ----------------------------------------------------------------------------- saved files
@dataclass(frozen=True)
class SavedFileLimits:
    members: int = 16
    uncompressed: int = 64 * 2**20


def load_saved_model(record: Any, limits: ModelLimits = ModelLimits(),
                     file_limits: SavedFileLimits = SavedFileLimits()):
    """The model inside the bytes of a saved `.keras` file, loaded here; raises ModelRejected."""
    import keras

    if not isinstance(record, dict) or not record.get("exists"):
        raise ModelRejected("no file was saved at the path")
    data = record.get("bytes")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise ModelRejected("the saved file is too large to check")
    raw = data.tobytes()
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ModelRejected("the saved file is not a .keras archive")
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = archive.infolist()
        if len(members) > file_limits.members or sum(m.file_size for m in members) > file_limits.uncompressed:
            raise ModelRejected("the saved file is not a .keras archive of a small model")
        names = {m.filename for m in members}
        if "config.json" not in names:
            raise ModelRejected("the saved file has no model configuration (config.json): save with model.save(path)")
        try:
            config = json.loads(archive.read("config.json"))
        except (ValueError, RecursionError):
            raise ModelRejected("the saved file's configuration is not valid JSON") from None
    if not isinstance(config, dict):
        raise ModelRejected("the saved file's configuration is not a Keras object")
    _check_config(config, limits)
    _probe_size(config, limits)
    with tempfile.TemporaryDirectory(prefix="autograder-saved-") as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as handle:
            handle.write(raw)
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as exc:  # noqa: BLE001
            raise ModelRejected(f"the saved file could not be loaded (Keras: {error_text(exc)})") from None


# ----------------------------------------------------------------------------- facts about outputs (grader side)
def rel_close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) / max(1e-8, abs(a) + abs(b)) <= tol


def is_probabilities(outputs: np.ndarray) -> bool:
    """Rows of non-negative numbers that sum to 1: what a softmax output layer produces."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return bool(outputs.ndim == 2 and np.all(outputs >= -1e-6) and np.all(outputs <= 1 + 1e-6)
                and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(outputs: np.ndarray, y: np.ndarray, *, from_logits: bool) -> float:
    """Mean categorical cross-entropy of integer labels `y`, from probabilities or from logits."""
    rows = np.arange(len(y))
    if from_logits:
        return float(np.mean(-log_softmax(outputs)[rows, y]))
    return float(np.mean(-np.log(np.clip(outputs[rows, y], 1e-7, 1.0))))


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[np.asarray(y, dtype=int)]


def centred_scores(outputs: np.ndarray) -> np.ndarray:
    """Log-probabilities (or logits) minus their row mean: affine in x when every hidden layer is linear."""
    scores = np.log(np.clip(outputs, 1e-30, None)) if is_probabilities(outputs) else outputs
    return scores - scores.mean(axis=1, keepdims=True)


def linearity_gap(outputs: np.ndarray, mid_outputs: np.ndarray) -> float:
    """How far a network is from affine: f((x1 + x2) / 2) against (f(x1) + f(x2)) / 2, for the two halves."""
    half = len(mid_outputs)
    scores = centred_scores(np.concatenate([outputs[:2 * half], mid_outputs]))
    first, second, mid = scores[:half], scores[half:2 * half], scores[2 * half:]
    return float(np.max(np.abs(mid - (first + second) / 2)) / max(1e-8, np.max(np.abs(scores))))


# ----------------------------------------------------------------------------- trained models (grader side)
#: A trained model may have at most this many times the parameters of the reference's trained model.
PARAMETER_BUDGET = 2.0


def over_budget(model, reference_record: Any, what: str) -> str | None:
    """A message when `model` is far bigger than the reference's model for the same part, else None.

    A trained-model part asks for the network its build part describes. A model many times its size
    (a layer holding the whole public data set as prototypes, say) is not that network, whatever
    its accuracy; the message names the build part as the cause.
    """
    if not isinstance(reference_record, dict) or not reference_record.get("is_model"):
        return None
    try:
        reference = rebuild_model(reference_record, compile=False)
    except ModelRejected:
        return None
    mine, theirs = int(model.count_params()), int(reference.count_params())
    if theirs and mine > PARAMETER_BUDGET * theirs:
        return (f"{what} has {mine:,} parameters, more than {PARAMETER_BUDGET:g} times the {theirs:,} of the network "
                "the exercise asks for: it is not the model the build exercise describes. Build it with that "
                "exercise's function and train it; do not add layers or widen them.")
    return None


def dense_structure(model) -> dict:
    """Layer kinds and activations, Dense units and parameter count, computed from a rebuilt model."""
    import keras

    layers = all_layers(model)
    return {"layers": [(type(layer).__name__, activation_name(layer)) for layer in layers],
            "dense_units": [int(layer.units) for layer in layers if isinstance(layer, keras.layers.Dense)],
            "n_params": int(model.count_params())}


def expected_dense_structure(expected: Any) -> dict | None:
    """Dense units and parameter count an answer must have: literal in a public case, else from the
    reference's reported model (None when it cannot be rebuilt)."""
    if isinstance(expected, dict) and "dense_units" in expected:
        return {"dense_units": list(expected["dense_units"]), "n_params": int(expected["n_params"])}
    try:
        return dense_structure(rebuild_model(expected))
    except ModelRejected:
        return None
