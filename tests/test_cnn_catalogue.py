"""10_cnn: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-model part uses one seed and few, short trainings.

What the catalogue asserts, per the module's "Stated rules" (autograder/checks/cnn.py): each stated rule has a
mistake that breaks it and fails with that rule's message; every setting build_cnn's statement fixes, broken,
fails in build_cnn itself; every numeric part has a float32 answer that passes; and each part has a mistake that
matches no diagnosis, which gets the honest "expected ... came back" message and no named cause.
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (forged_verdict, odd_report_failures, grader_inputs, alternative_cases, define, expect_correct, expect_wrong, public_message,
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



# ----------------------------------------------------------------------------- build_cnn (on a budget)
_BUILD = '''
def build_cnn(input_shape=(8, 8, 1), n_classes=10, max_params=1000):
    H, W, c = input_shape
    pooled = conv_output_size(H, 2, 2) * conv_output_size(W, 2, 2)
    per_filter = (3 * 3 * c + 1) + pooled * n_classes
    filters = (max_params - n_classes) // per_filter
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''
_COMPILE = ('    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="sparse_categorical_crossentropy",\n'
            '                  metrics=["accuracy"])\n')


def _build(*replacements):
    code = _BUILD
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


def _filters(line):
    return _build(("    filters = (max_params - n_classes) // per_filter\n", line))


# ----------------------------------------------------------------------------- build_and_train_cnn (own design)
_TRAIN_HEAD = "def build_and_train_cnn(X_train, y_train):\n"
_FIT = "    model.fit(X_train, y_train, epochs={epochs}, batch_size=64, verbose=0)\n"


def _train(body, epochs=30, ret="    return model\n"):
    return _TRAIN_HEAD + body + _FIT.format(epochs=epochs) + ret


_OWN_BUDGET_CNN = ("    model = build_cnn((8, 8, 1), 10, 1000)\n"
                   "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n")
_LESSON_CNN = ("    model = keras.Sequential([keras.Input(shape=(8, 8, 1)),\n"
               "        keras.layers.Conv2D(32, 3, padding='same', activation='relu'), keras.layers.MaxPooling2D(2),\n"
               "        keras.layers.Flatten(), keras.layers.Dense(64, activation='relu'),\n"
               "        keras.layers.Dense(10, activation='softmax')])\n"
               "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n")
_SMALL_MLP = ("    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Flatten(),\n"
              "        keras.layers.Dense(13, activation='relu'), keras.layers.Dense(10, activation='softmax')])\n"
              "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n")
_LOGITS_WITH_PROBABILITY_LOSS = (
    "    model = keras.Sequential([keras.Input(shape=(8, 8, 1)),\n"
    "        keras.layers.Conv2D(5, 3, padding='same', activation='relu'), keras.layers.MaxPooling2D(2),\n"
    "        keras.layers.Flatten(), keras.layers.Dense(10)])\n"
    "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')\n")


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
        ("a float from np.ceil for 'same'", _size("    return (n + 2 * p - kernel_size) // stride + 1\n",
                                                  same="    if padding == 'same':\n        return np.ceil(n / stride)\n"),
         "a float: the statement asks for an int"),
        # No diagnosis fits: the message gives the formula, and names no cause.
        ("one too many", _size("    return (n + 2 * p - kernel_size) // stride + 2\n"),
         "The size is (n + 2p - k) // s + 1 for 'valid'"),
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
        ("bias subtracted", _conv(("    return out + b", "    return out - b")), "the sign and the number of times"),
        ("bias added twice", _conv(("    return out + b", "    return out + 2 * b")), "the sign and the number of times"),
        # No diagnosis fits (a kernel read with its rows and columns swapped): the formula, and no named cause.
        ("kernel transposed", _conv(("np.tensordot(window, W,", "np.tensordot(window, W.transpose(1, 0, 2, 3),")),
         "Each output value is sum over u, v, c"),
        ("one input channel only", _conv(("np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2]))",
                                          "np.tensordot(window[..., 0], W[:, :, 0, :], axes=([1, 2], [0, 1]))")),
         "sum over u, v, c"),
    ],
    "max_pool2d": [
        ("mean instead of max", _pool(("window.max(axis=(1, 2))", "window.mean(axis=(1, 2))")), "average pooling"),
        # No diagnosis fits (sum pooling is not average pooling, although both are linear): no named cause.
        ("sum instead of max", _pool(("window.max(axis=(1, 2))", "window.sum(axis=(1, 2))")),
         "Each output value is the maximum of one pool_size x pool_size window"),
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
        # Each setting the statement fixes, broken once: it fails in this part, with that setting's message.
        ("default padding", _build(('padding="same", ', '')), "padding='valid' (Keras's default)"),
        ("no ReLU on the convolution", _build(('3, padding="same", activation="relu"', '3, padding="same"')),
         "The Conv2D layer has no activation"),
        ("no softmax on the output", _build(('n_classes, activation="softmax"', 'n_classes')),
         "The Dense layer has no activation"),
        ("sigmoid on the output", _build(('n_classes, activation="softmax"', 'n_classes, activation="sigmoid"')),
         "activation 'sigmoid'"),
        ("default learning rate", _build(("optimizer=keras.optimizers.Adam(learning_rate=0.003)", 'optimizer="adam"')),
         "the default of optimizer='adam'"),
        ("another optimizer", _build(("optimizer=keras.optimizers.Adam(learning_rate=0.003)",
                                      "optimizer=keras.optimizers.SGD(learning_rate=0.003)")), "The optimizer is SGD"),
        ("one-hot loss for integer labels", _build(('loss="sparse_categorical_crossentropy"',
                                                    'loss="categorical_crossentropy"')), "expects one-hot labels"),
        ("mean squared error", _build(('loss="sparse_categorical_crossentropy"', 'loss="mse"')), "The loss is 'mse'"),
        ("softmax twice", _build(('loss="sparse_categorical_crossentropy"',
                                  'loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)')), "second time"),
        ("no accuracy metric", _build(('metrics=["accuracy"]', 'metrics=[]')), "accuracy metric"),
        ("not compiled", _build((_COMPILE, "")), "not compiled"),
        ("no Flatten", _build(("        keras.layers.Flatten(),\n", "")), "Flatten and Dense, in that order"),
        ("an extra hidden Dense layer", _build(("        keras.layers.Flatten(),\n",
                                                "        keras.layers.Flatten(),\n        keras.layers.Dense(4),\n")),
         "Flatten and Dense, in that order"),
        ("pooling with stride 1", _build(("keras.layers.MaxPooling2D(2)", "keras.layers.MaxPooling2D(2, strides=1)")),
         "stride 2"),
        ("5x5 filters", _build(("Conv2D(filters, 3,", "Conv2D(filters, 5,")), "not 3x3"),
        ("convolution with stride 2", _build(("Conv2D(filters, 3,", "Conv2D(filters, 3, strides=2,")),
         "keep strides=1"),
        ("pooling with padding='same'", _build(("keras.layers.MaxPooling2D(2)",
                                                "keras.layers.MaxPooling2D(2, padding='same')")),
         "Keras's default padding"),
        ("fixed input shape", _build(("keras.Input(shape=input_shape)", "keras.Input(shape=(8, 8, 1))")),
         "keras.Input(shape=input_shape)"),
        ("fixed number of classes", _build(("keras.layers.Dense(n_classes,", "keras.layers.Dense(10,")),
         "one unit per class"),
        # The filters: each common counting mistake is recognised on the public case where only it gives its answer.
        ("biases not counted", _filters("    filters = max_params // (3 * 3 * c + pooled * n_classes)\n"),
         "biases are left out"),
        ("pooling not counted", _build(("pooled = conv_output_size(H, 2, 2) * conv_output_size(W, 2, 2)", "pooled = H * W")),
         "full image size"),
        ("pooled size rounded up", _build(("pooled = conv_output_size(H, 2, 2) * conv_output_size(W, 2, 2)",
                                           "pooled = -(-H // 2) * -(-W // 2)")), "rounded up"),
        ("input channels not counted", _build(("(3 * 3 * c + 1)", "(3 * 3 + 1)")), "one input channel"),
        ("counted as a 'valid' convolution", _build(("pooled = conv_output_size(H, 2, 2) * conv_output_size(W, 2, 2)",
                                                     "pooled = ((H - 2) // 2) * ((W - 2) // 2)")), "without padding"),
        ("strictly below the budget", _filters("    filters = (max_params - n_classes - 1) // per_filter\n"),
         "use <=, not <"),
        # No diagnosis fits: the message says what came back and what was expected, and names no cause.
        ("the old fixed 32 filters", _filters("    filters = 32\n"), "A Conv2D layer has 3 * 3 * c_in * filters weights"),
    ],
    "build_and_train_cnn": [
        ("History returned", _TRAIN_HEAD + _OWN_BUDGET_CNN +
         "    return model.fit(X_train, y_train, epochs=1, batch_size=64, verbose=0)\n", "returned a History"),
        ("nothing returned", _train(_OWN_BUDGET_CNN, epochs=1, ret=""), "returned None"),
        ("the lesson's CNN, over the budget", _train(_LESSON_CNN, epochs=1), "more than the 1,000 the statement allows"),
        ("an MLP within the budget", _train(_SMALL_MLP, epochs=1), "no Conv2D layer"),
        ("11 class scores", _train(_OWN_BUDGET_CNN.replace("build_cnn((8, 8, 1), 10, 1000)",
                                                           "build_cnn((8, 8, 1), 11, 1000)"), epochs=1),
         "one row of 10 class scores"),
        ("fit never called", _TRAIN_HEAD + _OWN_BUDGET_CNN + "    return model\n", "close to guessing"),
        ("raw scores with a loss that expects probabilities", _train(_LOGITS_WITH_PROBABILITY_LOSS, epochs=5),
         "The cause is in the build"),
        # No diagnosis fits: honest about what came back, no named cause.
        ("too little training", _train(_OWN_BUDGET_CNN.replace("Adam(0.01)", "Adam(0.003)"), epochs=2),
         "It learned something but not enough"),
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
        # float32 throughout: the same windows, summed in float32.
        "def conv2d(x, W, b, stride=1, padding='valid'):\n"
        "    x, W, b = (np.asarray(a, dtype=np.float32) for a in (x, W, b))\n"
        "    kh, kw = W.shape[:2]\n"
        "    Ho, Wo = conv_output_size(x.shape[1], kh, stride, padding), conv_output_size(x.shape[2], kw, stride, padding)\n"
        "    if padding == 'same':\n"
        "        th, tw = max((Ho - 1) * stride + kh - x.shape[1], 0), max((Wo - 1) * stride + kw - x.shape[2], 0)\n"
        "        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))\n"
        "    else:\n        p = 0 if padding == 'valid' else padding\n        pads = ((p, p), (p, p))\n"
        "    xp = np.pad(x, ((0, 0), *pads, (0, 0)))\n"
        "    out = np.zeros((x.shape[0], Ho, Wo, W.shape[3]), dtype=np.float32)\n"
        "    for i in range(Ho):\n        for j in range(Wo):\n"
        "            window = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]\n"
        "            out[:, i, j, :] = np.einsum('muvc,uvck->mk', window, W)\n"
        "    return out + b",
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
        # Trying filters = 1, 2, ... with count_params until the next one no longer fits; Functional API; loss and
        # metric objects; stand-alone ReLU and Softmax layers.
        "def build_cnn(input_shape=(8, 8, 1), n_classes=10, max_params=1000):\n"
        "    def make(filters):\n"
        "        inputs = keras.Input(shape=input_shape)\n"
        "        x = keras.layers.Conv2D(filters, (3, 3), strides=(1, 1), padding='same')(inputs)\n"
        "        x = keras.layers.ReLU()(x)\n"
        "        x = keras.layers.MaxPooling2D(pool_size=(2, 2))(x)\n"
        "        x = keras.layers.Flatten()(x)\n"
        "        x = keras.layers.Dense(n_classes)(x)\n"
        "        return keras.Model(inputs, keras.layers.Softmax()(x))\n"
        "    filters = 1\n"
        "    while make(filters + 1).count_params() <= max_params:\n        filters += 1\n"
        "    model = make(filters)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "                  metrics=[keras.metrics.SparseCategoricalAccuracy()])\n"
        "    return model",
        # The count written out layer by layer with math.floor, the activation as a layer.
        "import math\n"
        "def build_cnn(input_shape=(8, 8, 1), n_classes=10, max_params=1000):\n"
        "    H, W, c = input_shape\n"
        "    conv_per_filter = 3 * 3 * c + 1\n"
        "    dense_per_filter = math.floor(H / 2) * math.floor(W / 2) * n_classes\n"
        "    filters = math.floor((max_params - n_classes) / (conv_per_filter + dense_per_filter))\n"
        "    model = keras.Sequential()\n    model.add(keras.Input(input_shape))\n"
        "    model.add(keras.layers.Conv2D(filters=filters, kernel_size=3, padding='same'))\n"
        "    model.add(keras.layers.Activation('relu'))\n"
        "    model.add(keras.layers.MaxPool2D())\n    model.add(keras.layers.Flatten())\n"
        "    model.add(keras.layers.Dense(n_classes, activation='softmax'))\n"
        "    model.compile(keras.optimizers.Adam(learning_rate=0.003), 'sparse_categorical_crossentropy', metrics=['acc'])\n"
        "    return model",
    ],
}

#: Other designs and trainings that must also clear the threshold (each trains a model: kept few).
TRAINING_ALTERNATIVES = [
    # Two conv-pool blocks (920 parameters), logits and a loss told so, the Functional API.
    _TRAIN_HEAD +
    "    inputs = keras.Input(shape=(8, 8, 1))\n"
    "    x = keras.layers.Conv2D(5, 3, padding='same')(inputs)\n    x = keras.layers.ReLU()(x)\n"
    "    x = keras.layers.MaxPooling2D()(x)\n"
    "    x = keras.layers.Conv2D(10, 3, padding='same', activation='relu')(x)\n    x = keras.layers.MaxPooling2D()(x)\n"
    "    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))\n"
    "    model.compile(optimizer=keras.optimizers.Adam(0.01),\n"
    "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
    "    model.fit(X_train, y_train, epochs=30, batch_size=64, verbose=0)\n"
    "    return model",
]


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "10_cnn")


def _subject(name, reference):
    return reference["digits_cnn"] if name == "build_and_train_cnn" else reference[name]


def _check(name):
    return cnn.CHECKS["trained_cnn" if name == "build_and_train_cnn" else name]


def _trained(reference, code):
    """The notebook's Exercise 5 cell with the given build_and_train_cnn: seed, call it, keep what it returns."""
    import keras

    build_and_train = define(code, "build_and_train_cnn", reference)
    keras.utils.set_random_seed(0)
    return build_and_train(reference["X_train_img"], reference["y_train"])


def grade(name, answer, reference, seeds):
    check = _check(name)
    return ([simulate_grading(cnn.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("build_cnn", "build_and_train_cnn") else SEEDS


@pytest.mark.parametrize("name", ["conv_output_size", "conv2d", "max_pool2d", "build_cnn", "build_and_train_cnn"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    answer = _trained(reference, code) if name == "build_and_train_cnn" else define(code, name, reference)
    expect_wrong(label, *grade(name, answer, reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    seeds = ONE_SEED if "keras.layers.Conv2D(W.shape[3]" in code else seeds_for(name)  # Keras layers are slow to build
    expect_correct(*grade(name, define(code, name, reference), reference, seeds))


@pytest.mark.parametrize("code", TRAINING_ALTERNATIVES)
def test_alternative_design_reaches_the_threshold(reference, code):
    expect_correct(*grade("build_and_train_cnn", _trained(reference, code), reference, ONE_SEED))


def test_build_mistakes_cost_their_share_of_the_points(reference):
    """Partial credit: the layers and the compile settings are a quarter of the points each, the filters half."""
    shares = {"default padding": 0.75, "default learning rate": 0.75, "biases not counted": 0.5,
              "the old fixed 32 filters": 0.5}
    table = {label: code for label, code, _ in WRONG["build_cnn"]}
    both = _build(('padding="same", ', ''), ("optimizer=keras.optimizers.Adam(learning_rate=0.003)", 'optimizer="adam"'))
    for label, code, share in [*((label, table[label], share) for label, share in shares.items()),
                               ("padding and learning rate", both, 0.5)]:
        (verdict,), _ = grade("build_cnn", define(code, "build_cnn", reference), reference, ONE_SEED)
        assert not verdict.passed and abs(verdict.credit - share) < 1e-9, (label, verdict.credit, verdict.feedback)


def test_untrained_notebook_reports_not_implemented():
    """When build_and_train_cnn still raises, digits_cnn stays None and the part says so."""
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


def test_parameter_count_agrees_with_keras(reference):
    """The budget arithmetic the check uses is what Keras counts, odd sizes and several channels included."""
    import keras

    for shape, n_classes, filters in [((8, 8, 1), 10, 5), ((9, 7, 1), 5, 7), ((12, 10, 3), 4, 13), ((7, 9, 2), 3, 20)]:
        model = keras.Sequential([keras.Input(shape), keras.layers.Conv2D(filters, 3, padding="same"),
                                  keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(n_classes)])
        assert model.count_params() == cnn.cnn_params(shape, n_classes, filters), shape
    for case in cnn.build_cnn.public_cases:
        model = reference["build_cnn"](case.inputs["input_shape"], case.inputs["n_classes"], case.inputs["max_params"])
        assert model.count_params() <= case.inputs["max_params"] < cnn.cnn_params(
            case.inputs["input_shape"], case.inputs["n_classes"], model.layers[0].filters + 1)


# ============================================================================= attacks on the Keras parts
# A Keras part is judged from the model the kernel reports (its config and weights), rebuilt by the grader and
# run on arrays in grader-only "_" keys. These attacks replace the kernel's report, or report a model that
# looks the public digits up, and must score 0 on the part without raising.
import json  # noqa: E402

import numpy as np  # noqa: E402

from autograder.checks.core import kernel_view  # noqa: E402
from autograder.checks.model_data import report_model  # noqa: E402
from autograder.checks.plain import from_plain, to_plain  # noqa: E402

KERAS_SEEDS = (33, 34, 35)


def _grader_inputs(seed):
    return grader_inputs(cnn.CHECKS, seed)


def judge_forged(name, forge, reference, seed=ONE_SEED[0]):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(cnn.CHECKS, _check(name), _subject(name, reference), forge, seed)


def _mlp(input_shape, n_classes, compiled=True):
    import keras

    model = keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(n_classes, activation="softmax")])
    if compiled:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _perfect_build_claims(inp):
    """The old kernel-side report of a correct CNN: consistent layers, outputs, compile settings and loss."""
    n_classes = int(inp["n_classes"])
    return {"is_model": True, "layers": ["Conv2D", "MaxPooling2D", "Flatten", "Dense"], "n_conv": 1,
            "n_pool": 1, "n_params": int(inp["max_params"]), "outputs": np.full((2, n_classes), 1.0 / n_classes),
            "compiled": True, "loss_name": "sparse_categorical_crossentropy", "from_logits": False,
            "filters": 5, "loss": float(np.log(n_classes)), "loss_error": ""}


def _claims(inp):
    return {k: v for k, v in _perfect_build_claims(inp).items() if k != "is_model"}


def _dense_renamed_conv(inp):
    """An MLP's record whose keras_config calls its Dense layers Conv2D; the weights stay the MLP's."""
    record = report_model(_mlp(tuple(inp["input_shape"]), int(inp["n_classes"])))
    config = json.loads(record["keras_config"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["class_name"] = "Conv2D"
    return {**record, "keras_config": json.dumps(config)}


def _untrained_cnn(reference):
    import keras

    keras.utils.set_random_seed(0)
    return reference["build_cnn"]((8, 8, 1), 10, 1000)


def _perfect_trained_claims(inp):
    """The old report of digits_cnn, claiming one-hot outputs of the grader's own labels."""
    return {"is_model": True, "outputs": np.eye(10)[np.asarray(inp["_labels"], dtype=int)], "n_conv": 1, "n_pool": 1,
            "layers": ["Conv2D", "MaxPooling2D", "Flatten", "Dense"], "n_params": 860}


#: part -> [(label, forge)], forge(reference) -> (inputs -> what the replaced `run` reports).
LYING_REPORTS = {
    "build_cnn": [
        ("old claim dict with perfect facts", lambda ref: _perfect_build_claims),
        ("an MLP's record, with claims of convolutions added",
         lambda ref: lambda inp: {**report_model(_mlp(tuple(inp["input_shape"]), int(inp["n_classes"]))), **_claims(inp)}),
        ("an uncompiled CNN's record, with claims of compile settings added",
         lambda ref: lambda inp: {**report_model(_built_cnn(ref, inp, compiled=False)), **_claims(inp)}),
        ("an MLP's config edited to call its Dense layers Conv2D", lambda ref: _dense_renamed_conv),
    ],
    "build_and_train_cnn": [
        ("old claim dict with perfect outputs", lambda ref: _perfect_trained_claims),
        ("an untrained CNN's record, with perfect outputs claimed",
         lambda ref: (lambda record: lambda inp: {**record, **{k: v for k, v in _perfect_trained_claims(inp).items()
                                                               if k != "is_model"}})(report_model(_untrained_cnn(ref)))),
        ("the trained CNN's record with a serialize_error",
         lambda ref: lambda inp: {**report_model(ref["digits_cnn"]), "serialize_error": "forged"}),
        ("not a model at all", lambda ref: lambda inp: {"is_model": True, "keras_config": 10 ** 30}),
    ],
}


_UNCOMPILED = _build((_COMPILE, ""))


def _built_cnn(reference, inp, compiled=True):
    build = reference["build_cnn"] if compiled else define(_UNCOMPILED, "build_cnn", reference)
    return build(tuple(inp["input_shape"]), int(inp["n_classes"]), int(inp["max_params"]))


@pytest.mark.parametrize("name,label,forge", [pytest.param(n, label, forge, id=f"{n}-{label}")
                                              for n, rows in LYING_REPORTS.items() for label, forge in rows])
def test_lying_report_scores_zero(reference, name, label, forge):
    verdict = judge_forged(name, forge(reference), reference)
    assert not verdict.passed, f"{label} passed"
    assert verdict.feedback and "which this check cannot read" not in verdict.detail, verdict.detail


_LAMBDA_CNN = ("def build_cnn(input_shape=(8, 8, 1), n_classes=10, max_params=1000):\n"
               "    model = keras.Sequential([keras.Input(shape=input_shape),\n"
               "        keras.layers.Conv2D(4, 3, padding='same', activation='relu'), keras.layers.MaxPooling2D(2),\n"
               "        keras.layers.Flatten(), keras.layers.Dense(n_classes),\n"
               "        keras.layers.Lambda(lambda z: keras.ops.softmax(z))])\n"
               "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n    return model\n")
_SUBCLASSED_CNN = ("def build_cnn(input_shape=(8, 8, 1), n_classes=10, max_params=1000):\n"
                   "    class Net(keras.Model):\n"
                   "        def __init__(self):\n            super().__init__()\n"
                   "            self.conv, self.pool = keras.layers.Conv2D(4, 3, activation='relu'), keras.layers.MaxPooling2D(2)\n"
                   "            self.flat, self.out = keras.layers.Flatten(), keras.layers.Dense(n_classes, activation='softmax')\n"
                   "        def call(self, x):\n            return self.out(self.flat(self.pool(self.conv(x))))\n"
                   "    model = Net()\n    model(keras.ops.zeros((1, *input_shape)))\n"
                   "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n    return model\n")

#: label -> (code defining build_cnn, what the message must say). Both Keras parts refuse them.
REJECTED_MODELS = {
    "Lambda layer": (_LAMBDA_CNN, "Lambda layer"),
    "subclassed model": (_SUBCLASSED_CNN, "subclassed models"),
}


@pytest.mark.parametrize("name", ["build_cnn", "build_and_train_cnn"])
@pytest.mark.parametrize("label", list(REJECTED_MODELS))
def test_models_the_grader_does_not_run_are_refused(reference, name, label):
    code, advice = REJECTED_MODELS[label]
    build = define(code, "build_cnn", reference)
    answer = build((8, 8, 1), 10) if name == "build_and_train_cnn" else build
    verdicts, public = grade(name, answer, reference, ONE_SEED)
    assert public is not None and "cannot be checked" in public and advice in public, public
    assert not verdicts[0].passed and advice in verdicts[0].feedback, verdicts[0].detail


def _exact_lookup_cnn(images, labels):
    """A "CNN" of built-in layers that memorises `images`: the right class when the input IS one of them, else
    class 0. A 1x1 identity Conv2D, then relu(1e4 (1e-3 - |x - p|^2)) over every prototype p, then its label."""
    import keras

    rows = np.asarray(images, dtype="float64").reshape(len(images), -1)
    n, d = rows.shape
    x = keras.Input(shape=(8, 8, 1))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)
    flat = keras.layers.Flatten()(conv(x))
    both = keras.layers.Concatenate()([flat, keras.layers.Multiply()([flat, flat])])
    match, head = keras.layers.Dense(n, activation="relu"), keras.layers.Dense(10)
    model = keras.Model(x, head(match(both)))
    conv.set_weights([np.ones((1, 1, 1, 1), "float32")])
    match.set_weights([np.vstack([2e4 * rows.T, -1e4 * np.ones((d, n))]).astype("float32"),
                       (1e4 * (1e-3 - (rows ** 2).sum(1))).astype("float32")])
    head.set_weights([np.eye(10)[np.asarray(labels, dtype=int)].astype("float32"), np.zeros(10, "float32")])
    return model


def _nearest_prototype_cnn(images, labels):
    """A nearest-neighbour "CNN" over `images`: scores 2 x.p - |p|^2 for every prototype p, a sharp softmax,
    then the prototype's label. Small noise does not fool it, so only its size gives it away."""
    import keras

    rows = np.asarray(images, dtype="float64").reshape(len(images), -1)
    x = keras.Input(shape=(8, 8, 1))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)
    match = keras.layers.Dense(len(rows), activation="softmax")
    head = keras.layers.Dense(10)
    model = keras.Model(x, head(match(keras.layers.Flatten()(conv(x)))))
    conv.set_weights([np.ones((1, 1, 1, 1), "float32")])
    match.set_weights([(200 * 2 * rows.T).astype("float32"), (-200 * (rows ** 2).sum(1)).astype("float32")])
    head.set_weights([np.eye(10)[np.asarray(labels, dtype=int)].astype("float32"), np.zeros(10, "float32")])
    return model


def _public_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0).astype("float32"), digits.target


@pytest.mark.parametrize("make", [_exact_lookup_cnn, _nearest_prototype_cnn])
def test_lookup_of_the_public_digits_is_refused_by_the_budget(reference, make):
    """A model that memorises all 1797 public digits (test split included) classifies them (the nearest-neighbour
    one even after the grader's perturbation), but it needs far more than the stated 1,000 parameters."""
    X_all, y_all = _public_digits()
    lookup = make(X_all, y_all)
    record = from_plain(json.loads(json.dumps(to_plain(report_model(lookup)))))
    (inputs,) = _grader_inputs(KERAS_SEEDS[0])["trained_cnn"]
    message = cnn.trained_cnn.compare(inputs, record, None)
    assert message is not None and "the statement allows" in message, message
    verdicts, public = grade("build_and_train_cnn", lookup, reference, ONE_SEED)
    assert not verdicts[0].passed and public is not None and "the statement allows" in public


def test_trained_cnn_is_judged_on_digits_the_kernel_never_saw():
    """The kernel gets no input at all; the digits it is judged on are not rows of the public data set."""
    X_all, _ = _public_digits()
    public = {row.tobytes() for row in X_all}
    draws = []
    for seed in KERAS_SEEDS:
        (inputs,) = _grader_inputs(seed)["trained_cnn"]
        assert kernel_view(inputs) == {}
        rows = np.asarray(inputs["_X"], dtype="float32").reshape(len(inputs["_X"]), -1)
        assert len(rows) == cnn.HELDOUT_DIGITS and not any(row.tobytes() in public for row in rows)
        draws.append(rows)
    assert not np.array_equal(draws[0], draws[1])  # a fresh perturbation per grading run
    (case,) = cnn.trained_cnn.public_cases
    assert kernel_view(case.inputs) == {}
    for inputs in _grader_inputs(ONE_SEED[0])["build_cnn"]:
        assert set(kernel_view(inputs)) == {"input_shape", "n_classes", "max_params"}


@pytest.mark.parametrize("name", ["build_cnn", "build_and_train_cnn"])
def test_reference_passes_on_several_seeds(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, KERAS_SEEDS))


def test_odd_reports_fail_with_a_message():
    """compare never raises on data of the wrong type: it says what was wrong."""
    assert odd_report_failures(cnn.CHECKS, ("build_cnn", "trained_cnn"), ONE_SEED[0], None) == []
