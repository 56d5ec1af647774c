"""Models as plain data (autograder/checks/model_data.py): what the grader agrees to rebuild.

Each refusal is tested with more than one variant of its attack, and every refusal is a ModelRejected
whose message a student can act on, never another exception.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from autograder.checks.model_data import (ModelLimits, ModelRejected, load_saved_model, predict,  # noqa: E402
                                          rebuild_model, report_model, report_saved_file)
from autograder.checks.plain import from_plain, to_plain  # noqa: E402


def over_the_wire(record):
    """What the grader receives: the kernel's record through plain data and JSON."""
    return from_plain(json.loads(json.dumps(to_plain(record))))


def mlp():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def residual():
    x = keras.Input((6, 4))
    a = keras.layers.MultiHeadAttention(2, 2)(x, x)
    out = keras.layers.LayerNormalization()(x + a * 0.5)
    return keras.Model(x, out)


def edited(model, change):
    record = over_the_wire(report_model(model))
    config = json.loads(record["keras_config"])
    change(config)
    record["keras_config"] = json.dumps(config)
    return record


def adapted_normalization():
    """Scaling inside the model, adapted on data far from 0 and 1: wrong outputs if the rebuilt layer kept its
    build-time mean and variance (Keras 3's set_weights alone leaves them at zeros and ones)."""
    data = np.random.default_rng(1).normal(50.0, 20.0, size=(200, 4)).astype("float32")
    norm = keras.layers.Normalization()
    norm.adapt(data)
    functional_input = keras.Input((4,))
    inner = keras.Sequential([keras.Input((4,)), norm, keras.layers.Dense(3)])
    return keras.Model(functional_input, keras.layers.Dense(1)(inner(functional_input)))


@pytest.mark.parametrize("build", [mlp, residual, adapted_normalization])
def test_a_built_in_model_comes_back_identical(build):
    model = build()
    X = np.random.default_rng(0).normal(size=(5, *model.input_shape[1:]))
    rebuilt = rebuild_model(over_the_wire(report_model(model)))
    assert np.array_equal(predict(rebuilt, X), predict(model, X))


def _subclassed():
    class Sneaky(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Sneaky()
    model(np.ones((1, 3)))
    return model


def _layer(config_change):
    return lambda: edited(mlp(), config_change)


REFUSED = {
    "a Lambda layer": (lambda: over_the_wire(report_model(keras.Sequential([keras.Input((3,)),
                                                                             keras.layers.Lambda(lambda t: t * 2)]))),
                       "Lambda"),
    "a subclassed model": (lambda: over_the_wire(report_model(_subclassed())), "not a built-in Keras class"),
    "a layer from another module": (_layer(lambda c: c["config"]["layers"][1].update(module="os")), "not a built-in"),
    "a registered custom object": (_layer(lambda c: c["config"]["layers"][1].update(registered_name="mine>Dense")),
                                   "registered custom object"),
    "a loss that is not Keras's": (_layer(lambda c: c["compile_config"].update(
        loss={"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function"})),
        "not one of Keras's own"),
    "a forbidden wrapper layer": (_layer(lambda c: c["config"]["layers"][1].update(class_name="TFSMLayer")),
                                  "does not run"),
    "9 M parameters": (lambda: over_the_wire(report_model(keras.Sequential([keras.Input((3000,)),
                                                                           keras.layers.Dense(3000)]))), "parameters"),
    "2.5 M values per sample": (lambda: over_the_wire(report_model(keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.UpSampling2D(200)]))), "values per sample"),
    "an operation that broadcasts a constant": (lambda: over_the_wire(report_model(_big_constant())), "values"),
    "an operation other than + - * /": (lambda: over_the_wire(report_model(_other_operation())), "keras.ops"),
    "a model with no input shape": (lambda: over_the_wire(report_model(keras.Sequential([keras.layers.Dense(10**6)]))),
                                    "no input shape"),
    "JSON nested 100,000 deep": (lambda: {**over_the_wire(report_model(mlp())), "keras_config": "[" * 100_000},
                                 "not valid JSON"),
    "weights that do not fit": (lambda: {**over_the_wire(report_model(mlp())), "weights": [np.zeros(3)] * 4},
                                "do not fit"),
    "a vocabulary read from a file": (lambda: _vocabulary_file(), "file path"),
}


def _big_constant():
    x = keras.Input((4,))
    return keras.Model(x, x + np.ones((300, 300, 1), "float32"))  # broadcast to 360,000 values


def _other_operation():
    x = keras.Input((4,))
    return keras.Model(x, keras.ops.maximum(x, 0.0) + x)


def _vocabulary_file():
    x = keras.Input((1,), dtype="string")
    model = keras.Model(x, keras.layers.StringLookup(vocabulary=["a", "b"])(x))
    record = over_the_wire(report_model(model))
    config = json.loads(record["keras_config"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "StringLookup":
            layer["config"]["vocabulary"] = "/etc/passwd"
    record["keras_config"] = json.dumps(config)
    return record


@pytest.mark.parametrize("label", list(REFUSED))
def test_what_the_grader_refuses_to_rebuild(label):
    make, needle = REFUSED[label]
    with pytest.raises(ModelRejected) as refused:
        rebuild_model(make())
    assert needle in str(refused.value), str(refused.value)


def test_limits_are_settings():
    record = over_the_wire(report_model(mlp()))
    rebuild_model(record)
    with pytest.raises(ModelRejected, match="parameters"):
        rebuild_model(record, ModelLimits(params=10))
    with pytest.raises(ModelRejected, match="layers"):
        rebuild_model(record, ModelLimits(layers=1))


def _zip(members: dict[str, bytes]) -> dict:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return {"exists": True, "size": len(buffer.getvalue()),
            "bytes": np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()}


def test_a_saved_file_is_loaded_only_after_the_same_checks(tmp_path):
    model = mlp()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_saved_model(over_the_wire(report_saved_file(str(path))))
    X = np.ones((2, 4))
    assert np.allclose(predict(loaded, X), predict(model, X))
    lambda_config = json.loads(json.loads(json.dumps(report_model(keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda t: t)]))))["keras_config"])
    for record, needle in (
            (_zip({"config.json": json.dumps(lambda_config).encode()}), "Lambda"),
            (_zip({"config.json": b"{" * 10}), "not valid JSON"),
            (_zip({"weights.h5": b"x"}), "no model configuration"),
            (_zip({"config.json": b"{}", "big": b"\0" * (80 * 2**20)}), "small model"),  # a zip bomb
            (_zip({f"f{i}": b"" for i in range(40)}), "small model"),
            ({"exists": True, "bytes": np.frombuffer(b"not a zip", dtype=np.uint8).copy()}, "not a .keras archive"),
            ({"exists": False}, "no file")):
        with pytest.raises(ModelRejected, match=needle):
            load_saved_model(record)
