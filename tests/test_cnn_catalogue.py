"""10_cnn: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-model part uses one seed and few, short trainings.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import cnn

SEEDS = (31, 32)
ONE_SEED = (33,)

# ----------------------------------------------------------------------------- conv_output_size
_SIZE_HEAD = "def conv_output_size(n, kernel_size, stride=1, padding='valid'):\n"
_SAME = "    if padding == 'same':\n        return -(-n // stride)\n"
_P = "    p = 0 if padding == 'valid' else int(padding)\n"


def _size(body, same=_SAME):
    return _SIZE_HEAD + same + _P + body


# ----------------------------------------------------------------------------- conv2d
_CONV = '''
def conv2d(x, W, b, stride=1, padding="valid"):
    m, H, W_in, c_in = x.shape
    kh, kw, _, c_out = W.shape
    H_out, W_out = conv_output_size(H, kh, stride, padding), conv_output_size(W_in, kw, stride, padding)
    if padding == "same":
        pad_h = max((H_out - 1) * stride + kh - H, 0)
        pad_w = max((W_out - 1) * stride + kw - W_in, 0)
        pads = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    else:
        p = 0 if padding == "valid" else int(padding)
        pads = ((p, p), (p, p))
    x_pad = np.pad(x, ((0, 0), *pads, (0, 0)))
    out = np.zeros((m, H_out, W_out, c_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))
    return out + b
'''


def _conv(*replacements):
    code = _CONV
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


# ----------------------------------------------------------------------------- max_pool2d
_POOL = '''
def max_pool2d(x, pool_size=2, stride=None):
    stride = pool_size if stride is None else stride
    m, H, W_in, c = x.shape
    H_out, W_out = (H - pool_size) // stride + 1, (W_in - pool_size) // stride + 1
    out = np.zeros((m, H_out, W_out, c))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out
'''


def _pool(*replacements):
    code = _POOL
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


# ----------------------------------------------------------------------------- build_cnn
_BUILD = '''
def build_cnn(input_shape=(8, 8, 1), n_classes=10):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def _build(*replacements):
    code = _BUILD
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


WRONG = {
    "conv_output_size": [
        ("missing + 1", _size("    return (n + 2 * p - kernel_size) // stride\n"), "The + 1 is missing"),
        ("missing padding term", _size("    return (n - kernel_size) // stride + 1\n"), "padding term is missing"),
        ("padding counted once", _size("    return (n + p - kernel_size) // stride + 1\n"), "counted once"),
        ("ceil instead of floor", "import math\n" + _size("    return math.ceil((n + 2 * p - kernel_size) / stride) + 1\n"),
         "rounded up"),
        ("stride ignored", _size("    return n + 2 * p - kernel_size + 1\n", same="    if padding == 'same':\n        return n\n"),
         "stride is ignored"),
        ("'same' as (k - 1) // 2 zeros", _size("    return (n + 2 * p - kernel_size) // stride + 1\n",
                                               same="    if padding == 'same':\n        padding = (kernel_size - 1) // 2\n"),
         "(k - 1) // 2"),
        ("'same' keeps n whatever the stride", _size("    return (n + 2 * p - kernel_size) // stride + 1\n",
                                                     same="    if padding == 'same':\n        return n\n"), "ceil(n / s)"),
        ("float division", _size("    return (n + 2 * p - kernel_size) / stride + 1\n"), "whole number"),
    ],
    "conv2d": [
        ("convolution: flipped kernel", _conv(("np.tensordot(window, W,", "np.tensordot(window, W[::-1, ::-1],")),
         "true convolution"),
        ("bias forgotten", _conv(("    return out + b", "    return out")), "bias is missing"),
        ("stride ignored", _conv(("    H_out, W_out = conv_output_size(H, kh, stride, padding), "
                                  "conv_output_size(W_in, kw, stride, padding)",
                                  "    stride = 1\n    H_out, W_out = conv_output_size(H, kh, 1, padding), "
                                  "conv_output_size(W_in, kw, 1, padding)")), "stride is ignored"),
        ("stride only in the size", _conv(("x_pad[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]",
                                           "x_pad[:, i:i + kh, j:j + kw, :]")), "stride is ignored"),
        ("'same' padding split the wrong way",
         _conv(("(pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)",
                "(pad_h - pad_h // 2, pad_h // 2), (pad_w - pad_w // 2, pad_w // 2)")), "split the wrong way"),
        ("integer padding ignored", _conv(("p = 0 if padding == \"valid\" else int(padding)", "p = 0"),
                                          ("    H_out, W_out = conv_output_size(H, kh, stride, padding), "
                                           "conv_output_size(W_in, kw, stride, padding)",
                                           "    H_out, W_out = conv_output_size(H, kh, stride, padding if padding == 'same' else 0), "
                                           "conv_output_size(W_in, kw, stride, padding if padding == 'same' else 0)")),
         "padding is ignored"),
        ("channels first", _conv(("    return out + b", "    return (out + b).transpose(0, 3, 1, 2)")), "channels are first"),
        ("one input channel only", _conv(("np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))",
                                          "np.tensordot(window[..., 0], W[:, :, 0, :], axes=([1, 2], [0, 1]))")),
         "sum over u, v, c"),
    ],
    "max_pool2d": [
        ("mean instead of max", _pool(("window.max(axis=(1, 2))", "window.mean(axis=(1, 2))")), "average pooling"),
        ("min instead of max", _pool(("window.max(axis=(1, 2))", "window.min(axis=(1, 2))")), "minimum"),
        ("stride ignored", _pool(("    stride = pool_size if stride is None else stride", "    stride = pool_size")),
         "stride argument is ignored"),
        ("stride 1 by default", _pool(("    stride = pool_size if stride is None else stride",
                                       "    stride = 1 if stride is None else stride")), "defaults to pool_size"),
        ("channels pooled together", _pool(("out = np.zeros((m, H_out, W_out, c))", "out = np.zeros((m, H_out, W_out, 1))"),
                                           ("window.max(axis=(1, 2))", "window.max(axis=(1, 2, 3))[:, None]")),
         "pooled together"),
        ("partial windows kept", _pool(("(H - pool_size) // stride + 1, (W_in - pool_size) // stride + 1",
                                        "-(-(H - pool_size) // stride) + 1, -(-(W_in - pool_size) // stride) + 1")),
         "dropped"),
    ],
    "build_cnn": [
        ("an MLP, no convolution", _build(('        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),\n'
                                           '        keras.layers.MaxPooling2D(2),\n', "")), "no Conv2D layer"),
        ("no pooling", _build(("        keras.layers.MaxPooling2D(2),\n", "")), "no pooling layer"),
        ("no Flatten", _build(("        keras.layers.Flatten(),\n", "")), "Flatten"),
        ("not compiled", _build(('    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", '
                                 'metrics=["accuracy"])\n', "")), "not compiled"),
        ("fixed input shape", _build(("keras.Input(shape=input_shape)", "keras.Input(shape=(8, 8, 1))")),
         "keras.Input(shape=input_shape)"),
        ("fixed number of classes", _build(("keras.layers.Dense(n_classes,", "keras.layers.Dense(10,")),
         "Dense(n_classes)"),
        ("softmax twice", _build(('loss="sparse_categorical_crossentropy"',
                                  'loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)')), "second time"),
        ("one-hot loss for integer labels", _build(('loss="sparse_categorical_crossentropy"',
                                                    'loss="categorical_crossentropy"')), "sparse_categorical_crossentropy"),
    ],
    "train_cnn": [
        ("fit never called", "def train_cnn(model, X_train, y_train):\n    return None", "close to guessing"),
        ("too little training", "def train_cnn(model, X_train, y_train):\n"
                                "    return model.fit(X_train, y_train, epochs=1, batch_size=256, verbose=0)", "more epochs"),
    ],
}

ALTERNATIVES = {
    "conv_output_size": [
        "import math\ndef conv_output_size(n, kernel_size, stride=1, padding='valid'):\n"
        "    if isinstance(padding, str) and padding.lower() == 'same':\n        return math.ceil(n / stride)\n"
        "    pad = {'valid': 0}.get(padding, padding)\n"
        "    return math.floor((n + 2 * pad - kernel_size) / stride) + 1",
        "def conv_output_size(n, kernel_size, stride=1, padding='valid'):\n"
        "    if padding == 'same':\n        return np.int64(np.ceil(n / stride))\n"
        "    p = 0 if padding == 'valid' else padding\n"
        "    return np.int64(len(range(0, n + 2 * p - kernel_size + 1, stride)))",
    ],
    "conv2d": [
        # Every window at once with sliding_window_view, one einsum, keras's padding rule written out.
        "from numpy.lib.stride_tricks import sliding_window_view\n"
        "def conv2d(x, W, b, stride=1, padding='valid'):\n"
        "    kh, kw = W.shape[:2]\n"
        "    if padding == 'same':\n"
        "        pads = []\n"
        "        for n, k in ((x.shape[1], kh), (x.shape[2], kw)):\n"
        "            total = max((-(-n // stride) - 1) * stride + k - n, 0)\n"
        "            pads.append((total // 2, total - total // 2))\n"
        "    else:\n"
        "        p = 0 if padding == 'valid' else padding\n        pads = [(p, p), (p, p)]\n"
        "    xp = np.pad(x, [(0, 0), *pads, (0, 0)])\n"
        "    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]\n"
        "    return np.einsum('mijcuv,uvck->mijk', windows, W) + b",
        # Four plain loops, one output number at a time.
        "def conv2d(x, W, b, stride=1, padding='valid'):\n"
        "    m, H, Wi, C = x.shape\n    kh, kw, _, K = W.shape\n"
        "    Ho, Wo = conv_output_size(H, kh, stride, padding), conv_output_size(Wi, kw, stride, padding)\n"
        "    if padding == 'same':\n"
        "        th, tw = max((Ho - 1) * stride + kh - H, 0), max((Wo - 1) * stride + kw - Wi, 0)\n"
        "        top, left = th // 2, tw // 2\n"
        "    else:\n        top = left = 0 if padding == 'valid' else padding\n"
        "    xp = np.zeros((m, max(H + 2 * top + 1, (Ho - 1) * stride + kh), max(Wi + 2 * left + 1, (Wo - 1) * stride + kw), C))\n"
        "    xp[:, top:top + H, left:left + Wi, :] = x\n"
        "    out = np.empty((m, Ho, Wo, K), dtype=np.float32)\n"
        "    for n in range(m):\n        for i in range(Ho):\n            for j in range(Wo):\n"
        "                for k in range(K):\n"
        "                    patch = xp[n, i * stride:i * stride + kh, j * stride:j * stride + kw, :]\n"
        "                    out[n, i, j, k] = np.sum(patch * W[:, :, :, k]) + b[k]\n"
        "    return out",
        # Keras itself, with the same weights.
        "def conv2d(x, W, b, stride=1, padding='valid'):\n"
        "    layers = [keras.layers.ZeroPadding2D(padding)] if not isinstance(padding, str) else []\n"
        "    conv = keras.layers.Conv2D(W.shape[3], W.shape[:2], strides=stride,\n"
        "                               padding=padding if isinstance(padding, str) else 'valid')\n"
        "    net = keras.Sequential([keras.Input(x.shape[1:]), *layers, conv])\n"
        "    conv.set_weights([W, b])\n    return net(x.astype('float32'))",
    ],
    "max_pool2d": [
        "from numpy.lib.stride_tricks import sliding_window_view\n"
        "def max_pool2d(x, pool_size=2, stride=None):\n    s = stride or pool_size\n"
        "    return sliding_window_view(x, (pool_size, pool_size), axis=(1, 2))[:, ::s, ::s].max(axis=(-2, -1))",
        "def max_pool2d(x, pool_size=2, stride=None):\n    s = pool_size if stride is None else stride\n"
        "    H_out, W_out = conv_output_size(x.shape[1], pool_size, s), conv_output_size(x.shape[2], pool_size, s)\n"
        "    rows = []\n    for i in range(H_out):\n        row = []\n        for j in range(W_out):\n"
        "            best = x[:, i * s, j * s, :]\n"
        "            for u in range(pool_size):\n                for v in range(pool_size):\n"
        "                    best = np.maximum(best, x[:, i * s + u, j * s + v, :])\n"
        "            row.append(best)\n        rows.append(np.stack(row, axis=1))\n"
        "    return np.stack(rows, axis=1).astype(np.float32)",
    ],
    "build_cnn": [
        # The Functional API with logits and a loss told so; two convolutions and average pooling.
        "def build_cnn(input_shape=(8, 8, 1), n_classes=10):\n"
        "    inputs = keras.Input(shape=input_shape)\n"
        "    x = keras.layers.Conv2D(16, (3, 3), padding='same')(inputs)\n    x = keras.layers.ReLU()(x)\n"
        "    x = keras.layers.Conv2D(16, 3, padding='same', activation='relu')(x)\n"
        "    x = keras.layers.AveragePooling2D(2)(x)\n    x = keras.layers.Flatten()(x)\n"
        "    logits = keras.layers.Dense(n_classes)(x)\n    model = keras.Model(inputs, logits)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(1e-3),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy()])\n    return model",
        # Global pooling instead of Flatten, built without an Input layer.
        "def build_cnn(input_shape=(8, 8, 1), n_classes=10):\n"
        "    model = keras.Sequential([keras.layers.Conv2D(24, 3, activation='relu', padding='same'),\n"
        "                              keras.layers.MaxPooling2D(pool_size=(2, 2), strides=1),\n"
        "                              keras.layers.GlobalAveragePooling2D(),\n"
        "                              keras.layers.Dense(n_classes, activation='softmax')])\n"
        "    model.compile('rmsprop', keras.losses.SparseCategoricalCrossentropy(), metrics=['acc'])\n"
        "    return model",
    ],
}

#: A different training that must also clear the threshold: bigger batches, fewer epochs, a validation split.
TRAINING_ALTERNATIVE = ("def train_cnn(model, X_train, y_train):\n"
                        "    history = model.fit(X_train, y_train, epochs=12, batch_size=64, validation_split=0.1, verbose=0)\n"
                        "    return history")


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "10_cnn")


def _subject(name, reference):
    return reference["digits_cnn"] if name == "train_cnn" else reference[name]


def _check(name):
    return cnn.CHECKS["trained_cnn" if name == "train_cnn" else name]


def _trained(reference, train_code):
    """The notebook's Exercise 5 cell with the given train_cnn: seed, build with the reference, train."""
    import keras

    train = define(train_code, "train_cnn", reference)
    keras.utils.set_random_seed(0)
    model = reference["build_cnn"]((8, 8, 1), 10)
    train(model, reference["X_train_img"], reference["y_train"])
    return model


def grade(name, answer, reference, seeds):
    check = _check(name)
    return ([simulate_grading(cnn.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("build_cnn", "train_cnn") else SEEDS


@pytest.mark.parametrize("name", ["conv_output_size", "conv2d", "max_pool2d", "build_cnn", "train_cnn"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    answer = _trained(reference, code) if name == "train_cnn" else define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    seeds = ONE_SEED if "keras.layers.Conv2D(W.shape[3]" in code else seeds_for(name)  # Keras layers are slow to build
    expect_correct(*grade(name, define(code, name, reference), reference, seeds))


def test_alternative_training_reaches_the_threshold(reference):
    check = cnn.CHECKS["trained_cnn"]
    answer = _trained(reference, TRAINING_ALTERNATIVE)
    assert public_message(check, answer) is None
    verdict = simulate_grading(cnn.CHECKS, check, answer, reference["digits_cnn"], ONE_SEED[0])
    assert verdict.passed, verdict.detail


def test_untrained_notebook_reports_not_implemented():
    """When build_cnn or train_cnn still raises, digits_cnn stays None and the part says so."""
    message = public_message(cnn.CHECKS["trained_cnn"], None)
    assert message is not None and "not implemented yet" in message


def test_public_cases_agree_with_keras():
    """The literal expected values are what Keras's Conv2D and MaxPooling2D give with the same weights."""
    import keras
    import numpy as np

    for case in cnn.conv2d.public_cases:
        x, W, b, s, p = (case.inputs[k] for k in ("x", "W", "b", "stride", "padding"))
        layers = [keras.layers.ZeroPadding2D(p)] if isinstance(p, int) else []
        conv = keras.layers.Conv2D(W.shape[3], W.shape[:2], strides=s, padding="valid" if isinstance(p, int) else p)
        net = keras.Sequential([keras.Input(x.shape[1:]), *layers, conv])
        conv.set_weights([W, b])
        assert np.allclose(np.asarray(net(x.astype("float32"))), case.expected["out"], atol=1e-4), case.label
    for case in cnn.max_pool2d.public_cases:
        x, p, s = case.inputs["x"], case.inputs["pool_size"], case.inputs["stride"]
        pooled = keras.layers.MaxPooling2D(p, strides=s)(x.astype("float32"))
        assert np.allclose(np.asarray(pooled), case.expected["out"]), case.label
