"""12_attention: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-transformer part uses one seed and one training per answer.
Issue 14's classes are covered for every part: float32 alternatives of the numeric parts, a mistake breaking each
stated rule (see the "Stated rules" list in autograder/checks/attention.py) that fails with that rule's message,
every wrong build setting failing in the build part, and mistakes that match no diagnosis getting the generic message.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from autograder.catalogue import (forged_verdict, grader_inputs, alternative_cases, define, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import attention
from autograder.checks.core import kernel_view, probe
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain

SEEDS = (31, 32)
ONE_SEED = (33,)

_SDPA = "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
_SCORES = "    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])\n"
_MASK = "    if mask is not None:\n        scores = np.where(mask, scores, -np.inf)\n"
_SOFTMAX = ("    e = np.exp(scores - scores.max(axis=-1, keepdims=True))\n"
            "    weights = e / e.sum(axis=-1, keepdims=True)\n")
_RETURN = "    return weights @ V, weights\n"


def _sdpa(scores=_SCORES, mask=_MASK, softmax=_SOFTMAX, after="", return_=_RETURN):
    return _SDPA + scores + mask + softmax + after + return_


_PE_HEAD = ("def positional_encoding(seq_len, d_model):\n"
            "    pos = np.arange(seq_len)[:, None]\n    i = np.arange(d_model // 2)[None, :]\n")


def _pe(angles="    angles = pos / 10000 ** (2 * i / d_model)\n", even="np.sin", odd="np.cos", start=""):
    return (_PE_HEAD + start + angles + "    pe = np.zeros((seq_len, d_model))\n"
            f"    pe[:, 0::2] = {even}(angles)\n    pe[:, 1::2] = {odd}(angles)\n    return pe\n")


_BLOCK_HEAD = "def encoder_block(x, num_heads, ff_dim):\n    d_model = x.shape[-1]\n"
_ATT = "    a = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)(x, x)\n"
_NORM1 = "    h = keras.layers.LayerNormalization()(x + a)\n"
_FFN = ("    f = keras.layers.Dense(ff_dim, activation='relu')(h)\n"
        "    f = keras.layers.Dense(d_model)(f)\n")
_NORM2 = "    return keras.layers.LayerNormalization()(h + f)\n"


def _block(att=_ATT, norm1=_NORM1, ffn=_FFN, norm2=_NORM2):
    return _BLOCK_HEAD + att + norm1 + ffn + norm2


_TF_HEAD = ("def train_transformer(X_train, y_train, vocab_size):\n    seq_len = X_train.shape[1]\n"
            "    d_model, num_heads, ff_dim = {sizes}\n")
_TF_EMBED = ("    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
             "    x = keras.layers.Embedding(vocab_size, d_model)(tokens)\n")
_TF_PE = "    x = x + positional_encoding(seq_len, d_model).astype('float32')\n"
_TF_BLOCK = ("    mha = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)\n"
             "    h = keras.layers.LayerNormalization()(x + mha(x, x{mask}))\n"
             "    f = keras.layers.Dense(d_model)(keras.layers.Dense(ff_dim, activation='relu')(h))\n"
             "    x = keras.layers.LayerNormalization()(h + f)\n")
_TF_OUT = "    outputs = keras.layers.Dense(vocab_size, activation='softmax')(x)\n"
_TF_FIT = ("    model = keras.Model(tokens, outputs)\n"
           "    model.compile(optimizer=keras.optimizers.Adam(learning_rate={lr}), loss='sparse_categorical_crossentropy',\n"
           "                  metrics=['accuracy'])\n"
           "    history = model.fit(X_train, y_train, epochs={epochs}, batch_size=64, verbose=0)\n"
           "    return {returned}\n")


def _transformer(pe=_TF_PE, mask=", use_causal_mask=True", sizes="16, 2, 32", out=_TF_OUT, lr="0.01", epochs=8,
                 returned="model", block=None):
    return (_TF_HEAD.format(sizes=sizes) + _TF_EMBED + pe + (block if block is not None else _TF_BLOCK.format(mask=mask))
            + out + _TF_FIT.format(lr=lr, epochs=epochs, returned=returned))


WRONG = {
    "scaled_dot_product_attention": [
        ("no sqrt(d_k) scaling", _sdpa(scores="    scores = Q @ np.swapaxes(K, -1, -2)\n"), "without the scaling"),
        ("divided by d_k", _sdpa(scores="    scores = Q @ np.swapaxes(K, -1, -2) / Q.shape[-1]\n"),
         "not by d_k itself"),
        ("mask applied after the softmax", _sdpa(mask="", after="    if mask is not None:\n"
                                                                 "        weights = weights * mask\n"),
         "applied after the softmax"),
        ("softmax over the queries", _sdpa(softmax="    e = np.exp(scores - scores.max(axis=-2, keepdims=True))\n"
                                                   "    weights = e / e.sum(axis=-2, keepdims=True)\n"),
         "ran over the queries"),
        ("mask polarity inverted", _sdpa(mask="    if mask is not None:\n"
                                              "        scores = np.where(mask, -1e9, scores)\n"), "inverted"),
        ("scores multiplied by the mask", _sdpa(mask="    if mask is not None:\n        scores = scores * mask\n"),
         "exp(0) = 1 is not 0"),
        ("no max subtraction", _sdpa(softmax="    e = np.exp(scores)\n    weights = e / e.sum(axis=-1, keepdims=True)\n"),
         "overflowed"),
        ("K.T on a batch", _sdpa(scores="    scores = Q @ K.T / np.sqrt(Q.shape[-1])\n"), "np.swapaxes(K, -1, -2)"),
        ("weights returned first", _sdpa(return_="    return weights, weights @ V\n"), "(output, weights)"),
        ("only the output returned", _sdpa(return_="    return weights @ V\n"), "pair (output, weights)"),
        # `~mask` is right for booleans but not for a 0/1 mask, which only the hidden tests use.
        ("~ on an integer mask", _sdpa(mask="    if mask is not None:\n"
                                            "        scores = np.where(~mask, -np.inf, scores)\n"), None),
        # Stated rule: the mask defaults to None.
        ("mask without a default", _sdpa().replace("mask=None", "mask"), "missing 1 required positional argument"),
        # Stated rule: leave the inputs unchanged.
        ("Q scaled in place", _SDPA + "    Q /= np.sqrt(Q.shape[-1])\n    scores = Q @ np.swapaxes(K, -1, -2)\n"
         + _MASK + _SOFTMAX + _RETURN, "in place"),
        # Matches no diagnosis: the generic message, which names no cause (see test_generic_messages).
        ("divided by sqrt(d_v)", _sdpa(scores="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(V.shape[-1])\n"),
         "relative error"),
    ],
    "positional_encoding": [
        ("sin and cos swapped", _pe(even="np.cos", odd="np.sin"), "swapped"),
        ("exponent i instead of 2i/d", _pe(angles="    angles = pos / 10000 ** i\n"), "exponent is i instead of 2i"),
        ("column index in the exponent", _PE_HEAD + "    j = np.arange(d_model)[None, :]\n"
                                         "    angles = pos / 10000 ** (j / d_model)\n"
                                         "    pe = np.where(j % 2 == 0, np.sin(angles), np.cos(angles))\n"
                                         "    return pe\n", "its own index"),
        ("sines first, then cosines", _PE_HEAD + "    angles = pos / 10000 ** (2 * i / d_model)\n"
                                      "    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)\n",
         "Interleave"),
        ("positions start at 1", _pe(start="    pos = pos + 1\n"), "start at 0"),
        ("multiplied instead of divided", _pe(angles="    angles = pos * 10000 ** (2 * i / d_model)\n"),
         "instead of divided"),
        ("transposed", _PE_HEAD + "    angles = pos / 10000 ** (2 * i / d_model)\n"
                       "    pe = np.zeros((seq_len, d_model))\n"
                       "    pe[:, 0::2] = np.sin(angles)\n    pe[:, 1::2] = np.cos(angles)\n    return pe.T\n",
         "transposed"),
        # Matches no diagnosis: a base of 1000 instead of 10000 gets the generic message.
        ("base 1000", _pe(angles="    angles = pos / 1000 ** (2 * i / d_model)\n"), "relative error"),
    ],
    "encoder_block": [
        ("no residual connections", _block(norm1="    h = keras.layers.LayerNormalization()(a)\n",
                                           norm2="    return keras.layers.LayerNormalization()(f)\n"),
         "residual connection is missing"),
        ("attention residual missing", _block(norm1="    h = keras.layers.LayerNormalization()(a)\n"),
         "residual connection is missing"),
        ("pre-norm", _BLOCK_HEAD + "    n = keras.layers.LayerNormalization()(x)\n"
                     "    h = x + keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)(n, n)\n"
                     "    n = keras.layers.LayerNormalization()(h)\n"
                     "    f = keras.layers.Dense(d_model)(keras.layers.Dense(ff_dim, activation='relu')(n))\n"
                     "    return h + f\n", "pre-norm"),
        ("key_dim = d_model", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model)(x, x)\n"),
         "d_model // num_heads"),
        ("one LayerNormalization reused", _BLOCK_HEAD + "    norm = keras.layers.LayerNormalization()\n" + _ATT
         + "    h = norm(x + a)\n" + _FFN + "    return norm(h + f)\n", "expected 2"),
        ("ReLU on the second Dense", _block(ffn="    f = keras.layers.Dense(ff_dim, activation='relu')(h)\n"
                                                "    f = keras.layers.Dense(d_model, activation='relu')(f)\n"),
         "no activation"),
        ("feed-forward on x instead of h", _block(ffn="    f = keras.layers.Dense(ff_dim, activation='relu')(x)\n"
                                                      "    f = keras.layers.Dense(d_model)(f)\n"), "not their order"),
        # Matches no layer or residual diagnosis: the evidence (no output moves when a later position changes) is a mask's.
        ("a causal mask in the encoder block", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, "
                                                          "key_dim=d_model // num_heads)(x, x, use_causal_mask=True)\n"),
         "the attention is masked"),
        ("attention called with one argument", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, "
                                                          "key_dim=d_model // num_heads)(x)\n"), "mha(x, x)"),
        # Stated rule: return the block's output tensor.
        ("the Model returned instead of the tensor", _BLOCK_HEAD + _ATT + _NORM1 + _FFN +
         "    return keras.Model(x, keras.layers.LayerNormalization()(h + f))\n", "it should return the output tensor"),
        # Every setting the statement fixes, wrong, fails in this part with that setting's message.
        ("num_heads fixed at 1", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=1, "
                                            "key_dim=d_model // num_heads)(x, x)\n"), "num_heads=num_heads and key_dim"),
        ("feed-forward with d_model units", _block(ffn="    f = keras.layers.Dense(d_model, activation='relu')(h)\n"
                                                       "    f = keras.layers.Dense(d_model)(f)\n"), "the units are wrong"),
        ("tanh in the feed-forward layer", _block(ffn="    f = keras.layers.Dense(ff_dim, activation='tanh')(h)\n"
                                                      "    f = keras.layers.Dense(d_model)(f)\n"),
         "the activations are wrong"),
        ("no bias in the attention", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, "
                                                "key_dim=d_model // num_heads, use_bias=False)(x, x)\n"),
         "different number of parameters"),
        ("one LayerNormalization missing", _block(norm2="    return h + f\n"), "expected 2"),
    ],
    "train_transformer": [
        # One mistake per stated rule, each failing with that rule's message.
        ("attention not causal", _transformer(mask=""), "looks ahead"),
        ("the sizes of Exercise 3's example, over the budget", _transformer(sizes="32, 2, 64"), "budget of 3,000"),
        ("a Flatten and a Dense layer instead of attention",
         _TF_HEAD.format(sizes="8, 1, 8") + _TF_EMBED +
         "    flat = keras.layers.Flatten()(x)\n"
         "    outputs = keras.layers.Reshape((seq_len, vocab_size))(keras.layers.Dense(seq_len * vocab_size)(flat))\n"
         "    outputs = keras.layers.Activation('softmax')(outputs)\n" + _TF_FIT.format(lr="0.01", epochs=2, returned="model"),
         "only through attention"),
        ("linear outputs, no softmax", _transformer(out="    outputs = keras.layers.Dense(vocab_size)(x)\n"),
         "not probabilities"),
        ("the History returned", _transformer(returned="history"), "returned a History"),
        ("attention output not used", _transformer(block="    h = keras.layers.LayerNormalization()(x)\n"
                                                         "    x = keras.layers.Dense(d_model, activation='relu')(h)\n"),
         "no MultiHeadAttention layer"),
        # The diagnosis with evidence of its own: no positional encoding, so the order of earlier tokens is lost.
        ("no positional encoding", _transformer(pe=""), "cannot tell the order"),
        # Matches no diagnosis: a structurally right model trained far too little gets the plain accuracy message.
        ("one epoch at a tiny learning rate", _transformer(lr="1e-4", epochs=1), "what it learned from training"),
    ],
}

ALTERNATIVES = {
    "scaled_dot_product_attention": [
        # einsum, a large negative number instead of -inf, scipy's softmax.
        "from scipy.special import softmax\n"
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        "    scores = np.einsum('...qd,...kd->...qk', Q, K) / np.sqrt(K.shape[-1])\n"
        "    if mask is not None:\n        scores = np.where(np.asarray(mask).astype(bool), scores, -1e9)\n"
        "    weights = softmax(scores, axis=-1)\n"
        "    return np.einsum('...qk,...kv->...qv', weights, V), weights",
        # An additive mask, Keras-style, and the division by the row sum written with np.divide.
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        "    scores = np.matmul(Q / np.sqrt(Q.shape[-1]), np.moveaxis(K, -1, -2))\n"
        "    if mask is not None:\n        scores = scores + (1.0 - np.asarray(mask, dtype=float)) * -1e30\n"
        "    scores -= np.max(scores, axis=-1, keepdims=True)\n"
        "    weights = np.divide(np.exp(scores), np.sum(np.exp(scores), axis=-1, keepdims=True))\n"
        "    output = np.matmul(weights, V)\n    return (output, weights)",
        # Everything in float32, as Keras computes it.
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        "    Q, K, V = (np.asarray(a, dtype=np.float32) for a in (Q, K, V))\n"
        "    scores = Q @ np.swapaxes(K, -1, -2) / np.float32(np.sqrt(Q.shape[-1]))\n"
        "    if mask is not None:\n        scores = np.where(np.asarray(mask) != 0, scores, np.float32(-np.inf))\n"
        "    e = np.exp(scores - scores.max(axis=-1, keepdims=True))\n"
        "    weights = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)\n"
        "    return (weights @ V).astype(np.float32), weights",
        # keras.ops in float32 (the backend's own matmul and softmax), converted back to numpy.
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        "    ops = keras.ops\n"
        "    q, k, v = (ops.convert_to_tensor(np.asarray(a, dtype='float32')) for a in (Q, K, V))\n"
        "    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / np.sqrt(Q.shape[-1]).astype('float32')\n"
        "    if mask is not None:\n        scores = ops.where(ops.convert_to_tensor(np.asarray(mask) != 0), scores, -1e9)\n"
        "    weights = ops.softmax(scores, axis=-1)\n"
        "    return ops.convert_to_numpy(ops.matmul(weights, v)), ops.convert_to_numpy(weights)",
    ],
    "positional_encoding": [
        # Loops, as in the paper's definition.
        "import math\ndef positional_encoding(seq_len, d_model):\n    pe = np.zeros((seq_len, d_model))\n"
        "    for pos in range(seq_len):\n        for i in range(d_model // 2):\n"
        "            angle = pos / math.pow(10000, 2 * i / d_model)\n"
        "            pe[pos, 2 * i] = math.sin(angle)\n            pe[pos, 2 * i + 1] = math.cos(angle)\n"
        "    return pe",
        # TensorFlow's tutorial: the angle of column j uses 2 * (j // 2), then sin/cos on alternate columns.
        "def positional_encoding(seq_len, d_model):\n"
        "    j = np.arange(d_model)[None, :]\n"
        "    rates = 1 / np.power(10000, (2 * (j // 2)) / np.float32(d_model))\n"
        "    angles = np.arange(seq_len)[:, None] * rates\n"
        "    angles[:, 0::2] = np.sin(angles[:, 0::2])\n    angles[:, 1::2] = np.cos(angles[:, 1::2])\n"
        "    return angles.astype(np.float32)",
        # Everything in float32.
        "def positional_encoding(seq_len, d_model):\n"
        "    pos = np.arange(seq_len, dtype=np.float32)[:, None]\n"
        "    rates = np.power(np.float32(10000), -np.arange(0, d_model, 2, dtype=np.float32) / np.float32(d_model))\n"
        "    pe = np.zeros((seq_len, d_model), dtype=np.float32)\n"
        "    pe[:, 0::2], pe[:, 1::2] = np.sin(pos * rates), np.cos(pos * rates)\n    return pe",
        # exp/log form of the frequencies, stacked and reshaped.
        "def positional_encoding(seq_len, d_model):\n"
        "    freq = np.exp(-np.log(10000.0) * np.arange(0, d_model, 2) / d_model)\n"
        "    angles = np.outer(np.arange(seq_len), freq)\n"
        "    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(seq_len, d_model)",
    ],
    "encoder_block": [
        # Add layers, a Sequential feed-forward network, dropout, epsilon 1e-6 as in many tutorials.
        "def encoder_block(x, num_heads, ff_dim):\n    d_model = x.shape[-1]\n"
        "    a = keras.layers.MultiHeadAttention(num_heads, d_model // num_heads, dropout=0.1)(query=x, value=x, key=x)\n"
        "    a = keras.layers.Dropout(0.1)(a)\n"
        "    h = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, a]))\n"
        "    ffn = keras.Sequential([keras.layers.Dense(ff_dim, activation='relu'), keras.layers.Dense(d_model)])\n"
        "    return keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([h, ffn(h)]))",
        # keras.ops instead of the operators, the attention's arguments by keyword, layers created first.
        "def encoder_block(x, num_heads, ff_dim):\n    d_model = x.shape[-1]\n"
        "    norm1, norm2 = keras.layers.LayerNormalization(), keras.layers.LayerNormalization()\n"
        "    ff1, ff2 = keras.layers.Dense(ff_dim, activation='relu'), keras.layers.Dense(d_model)\n"
        "    mha = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)\n"
        "    h = norm1(keras.ops.add(x, mha(query=x, value=x)))\n"
        "    return norm2(keras.ops.add(h, ff2(ff1(h))))",
        # The ReLU as a layer of its own after a linear Dense: an Activation layer, and a ReLU layer in a Sequential.
        _block(ffn="    f = keras.layers.Activation('relu')(keras.layers.Dense(ff_dim)(h))\n"
                   "    f = keras.layers.Dense(d_model)(f)\n"),
        _block(ffn="    f = keras.Sequential([keras.layers.Dense(ff_dim), keras.layers.ReLU(), keras.layers.Dense(d_model)])(h)\n"),
        # (A custom keras.layers.Layer, as in the Keras examples, was accepted here before the grader rebuilt
        # models from their configuration; it is now refused with a message: see REJECTED_MODELS.)
    ],
    "train_transformer": [
        # Keras layers throughout (Add, Dropout), d_model 12 with three heads, a narrower feed-forward layer,
        # a causal encoder block written as its own function, and a loss object.
        "def causal_block(x, num_heads, ff_dim):\n"
        "    d_model = x.shape[-1]\n"
        "    a = keras.layers.MultiHeadAttention(num_heads, d_model // num_heads, dropout=0.1)(x, x, use_causal_mask=True)\n"
        "    h = keras.layers.LayerNormalization()(keras.layers.Add()([x, a]))\n"
        "    f = keras.layers.Dense(d_model)(keras.layers.Dropout(0.1)(keras.layers.Dense(ff_dim, activation='relu')(h)))\n"
        "    return keras.layers.LayerNormalization()(keras.layers.Add()([h, f]))\n"
        "def train_transformer(X_train, y_train, vocab_size):\n"
        "    tokens = keras.Input(shape=(X_train.shape[1],), dtype='int32')\n"
        "    x = keras.layers.Embedding(vocab_size, 12)(tokens)\n"
        "    x = x + positional_encoding(X_train.shape[1], 12).astype('float32')\n"
        "    probs = keras.layers.Dense(vocab_size, activation='softmax')(causal_block(x, num_heads=3, ff_dim=24))\n"
        "    model = keras.Model(inputs=tokens, outputs=probs)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=['accuracy'])\n"
        "    model.fit(X_train, y_train, epochs=12, batch_size=32, verbose=0)\n"
        "    return model",
        # Two small causal blocks (d_model 8), the positional encoding scaled down, RMSprop.
        "def train_transformer(X_train, y_train, vocab_size):\n"
        "    seq_len = X_train.shape[1]\n"
        "    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
        "    x = keras.layers.Embedding(vocab_size, 8)(tokens) + 0.5 * positional_encoding(seq_len, 8).astype('float32')\n"
        "    for _ in range(2):\n"
        "        a = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)\n"
        "        h = keras.layers.LayerNormalization()(x + a)\n"
        "        x = keras.layers.LayerNormalization()(h + keras.layers.Dense(8)(keras.layers.Dense(16, activation='relu')(h)))\n"
        "    model = keras.Model(tokens, keras.layers.Dense(vocab_size, activation='softmax')(x))\n"
        "    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.005), loss='sparse_categorical_crossentropy')\n"
        "    model.fit(X_train, y_train, epochs=15, batch_size=64, verbose=0)\n"
        "    return model",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "12_attention")


def _check(name):
    return {"scaled_dot_product_attention": attention.attention, "positional_encoding": attention.positional_encoding,
            "encoder_block": attention.encoder_block, "train_transformer": attention.trained_transformer}[name]


def _subject(name, reference):
    return reference["transformer_model"] if name == "train_transformer" else reference[name]


def _trained(reference, train_code):
    """The notebook's Exercise 4 training cell with the given train_transformer: seed, call, keep the result."""
    import keras

    train = define(train_code, "train_transformer", reference)
    keras.utils.set_random_seed(0)
    return train(reference["X_train"], reference["y_train"], reference["VOCAB_SIZE"])


def _answer(name, code, reference):
    return _trained(reference, code) if name == "train_transformer" else define(code, name, reference)


def grade(name, answer, reference, seeds):
    """Grading verdicts over `seeds`, and the public message."""
    check = _check(name)
    return ([simulate_grading(attention.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("train_transformer", "encoder_block") else SEEDS


@pytest.mark.parametrize("name", ["scaled_dot_product_attention", "positional_encoding", "encoder_block",
                                  "train_transformer"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, _answer(name, code, reference), reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, _answer(name, code, reference), reference, seeds_for(name)))


def test_untrained_notebook_reports_not_implemented():
    """When train_transformer (or a function it uses) still raises, transformer_model stays None and the part says so."""
    message = public_message(attention.trained_transformer, None)
    assert message is not None and "not implemented yet" in message


# ----------------------------------------------------------------------------- the model parts cannot be lied to
# A model part is judged from the model the kernel reports (its config and weights), rebuilt by the grader,
# never from facts the kernel states. The attacks below play a kernel whose check `run` was replaced: each
# entry builds the result that kernel reports for one set of inputs (the full inputs, grader-only keys
# included, as the strongest possible liar), and the part must score 0 with a message, without raising.

ATTACK_SEED = 34
#: The notebook's Exercise 4 data: what the kernel trains on (and could look up).
_TRAIN_X, _TRAIN_Y = attention.window_max_data(attention.N_TRAINING, attention.TRAINING_SEED)


def _grader_inputs(seed):
    return grader_inputs(attention.CHECKS, seed)


def judge_forged(name, reference, forge, seed=ATTACK_SEED):
    """The verdict on a kernel whose check `run` reports forge(inputs) (see catalogue.forged_verdict)."""
    return forged_verdict(attention.CHECKS, _check(name), _subject(name, reference), forge, seed)


def _block_model(code, reference, inp):
    """keras.Model(tokens, encoder_block(tokens, ...)) for one set of inputs, with the given encoder_block."""
    import keras

    block = define(code, "encoder_block", reference)
    tokens = keras.Input(shape=(int(inp["seq_len"]), int(inp["d_model"])))
    return keras.Model(tokens, block(tokens, num_heads=int(inp["num_heads"]), ff_dim=int(inp["ff_dim"])))


def _old_block_claims(reference, inp):
    """What the check's old `run` reported: the reference block's facts, computed here from its true model."""
    model = _block_model(_block(), reference, inp)
    facts = attention._block_facts(model, np.asarray(inp["_x"]))
    return {"is_tensor": True, **facts}


def _edited_block_record(reference, inp):
    """A block whose attention has key_dim = d_model, reported with the config edited to the right key_dim."""
    wrong = _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model)(x, x)\n")
    record = report_model(_block_model(wrong, reference, inp))
    config = json.loads(record["keras_config"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "MultiHeadAttention":
            layer["config"]["key_dim"] = layer["config"]["value_dim"] = int(inp["d_model"]) // int(inp["num_heads"])
    return {"is_tensor": True, "model": {**record, "keras_config": json.dumps(config)}}


def _trained_reference_facts(inp):
    """What an old-style `run` would report for a perfect model: predictions equal to the labels."""
    labels = np.asarray(inp["_labels"]).astype(np.int64)
    return {"is_model": True, "output_shape": [len(labels), attention.TASK_SEQ_LEN, attention.TASK_VOCAB],
            "pred": labels, "pred_changed": labels, "pred_rolled": np.roll(labels, 3, axis=1), "shift": 3}


def _untrained_transformer(reference):
    """The reference's architecture, trained for no epoch at all."""
    import keras

    keras.utils.set_random_seed(1)
    return define(_transformer(epochs=0), "train_transformer", reference)(reference["X_train"], reference["y_train"],
                                                                           reference["VOCAB_SIZE"])


def lookup_transformer(X, y, scale=60.0):
    """Built-in layers only: a one-hot Embedding, a Dense layer whose units are the rows of X (a softmax that
    is sharp on an exact match), and a Dense layer mapping each row to its one-hot target y. It answers every
    row of X perfectly and knows nothing else."""
    import keras

    n, t = X.shape
    vocab = attention.TASK_VOCAB
    tokens = keras.Input(shape=(t,), dtype="int32")
    embedding = keras.layers.Embedding(vocab, vocab)
    match = keras.layers.Dense(n, activation="softmax")
    answer = keras.layers.Dense(t * vocab, use_bias=False)
    out = keras.layers.Reshape((t, vocab))(answer(match(keras.layers.Flatten()(embedding(tokens)))))
    model = keras.Model(tokens, out)
    embedding.set_weights([np.eye(vocab, dtype="float32")])
    prototypes = np.eye(vocab, dtype="float32")[X].reshape(n, t * vocab)
    match.set_weights([scale * prototypes.T, np.full(n, -scale * t, dtype="float32")])
    answer.set_weights([np.eye(vocab, dtype="float32")[y].reshape(n, t * vocab)])
    return model


def _window_max(tokens):
    """The answer computed with keras.ops: the largest of the last three tokens, one-hot."""
    import keras

    t = keras.ops.cast(tokens, "int32")
    previous = keras.ops.concatenate([t[:, :1], t[:, :-1]], axis=1)
    before = keras.ops.concatenate([previous[:, :1], previous[:, :-1]], axis=1)
    return keras.ops.one_hot(keras.ops.maximum(keras.ops.maximum(t, previous), before), attention.TASK_VOCAB)


def _lambda_answer():
    """A Lambda layer that computes the answer."""
    import keras

    tokens = keras.Input(shape=(attention.TASK_SEQ_LEN,), dtype="int32")
    return keras.Model(tokens, keras.layers.Lambda(_window_max)(tokens))


def _subclassed_answer():
    import keras

    class WindowMax(keras.Model):
        def call(self, tokens):
            return _window_max(tokens)

    model = WindowMax()
    model(np.zeros((1, attention.TASK_SEQ_LEN), dtype="int32"))
    return model


_CUSTOM_BLOCK = (
    "class TransformerBlock(keras.layers.Layer):\n"
    "    def __init__(self, d_model, num_heads, ff_dim):\n        super().__init__()\n"
    "        self.norm1 = keras.layers.LayerNormalization()\n        self.norm2 = keras.layers.LayerNormalization()\n"
    "        self.ff2 = keras.layers.Dense(d_model)\n"
    "        self.ff1 = keras.layers.Dense(ff_dim, activation='relu')\n"
    "        self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)\n"
    "    def call(self, x):\n        h = self.norm1(x + self.att(x, x))\n"
    "        return self.norm2(h + self.ff2(self.ff1(h)))\n"
    "def encoder_block(x, num_heads, ff_dim):\n    return TransformerBlock(x.shape[-1], num_heads, ff_dim)(x)")
_LAMBDA_BLOCK = ("def encoder_block(x, num_heads, ff_dim):\n"
                 "    return keras.layers.Lambda(lambda t: t - keras.ops.mean(t, axis=-1, keepdims=True))(x)")
_KERAS_OPS_BLOCK = _block(norm1="    h = keras.layers.LayerNormalization()(keras.ops.maximum(x + a, x))\n")

#: (part, label, forge(reference, inputs) -> the reported result, a phrase the message must contain).
LYING_REPORTS = [
    ("encoder_block", "the old claim dict, with the reference block's true facts",
     _old_block_claims, "cannot be checked"),
    ("encoder_block", "a block with key_dim = d_model, its config edited to the right key_dim",
     _edited_block_record, "cannot be checked"),
    ("encoder_block", "report_model of a pre-norm block, not the one asked for",
     lambda reference, inp: {"is_tensor": True, "model": report_model(_block_model(WRONG["encoder_block"][2][1],
                                                                                   reference, inp))}, "pre-norm"),
    ("train_transformer", "the old claim dict: predictions equal to the labels",
     lambda reference, inp: _trained_reference_facts(inp), "cannot be checked"),
    ("train_transformer", "an untrained model's record with perfect predictions added to it",
     lambda reference, inp: {**report_model(_untrained_transformer(reference)), **_trained_reference_facts(inp)},
     "at least 90%"),
    ("train_transformer", "the trained model's record with every weight but the output layer's swapped for an "
                          "untrained model's",
     lambda reference, inp: {**report_model(reference["transformer_model"]),
                             "weights": report_model(_untrained_transformer(reference))["weights"][:-2]
                             + report_model(reference["transformer_model"])["weights"][-2:]}, "at least 90%"),
]

#: (part, label, the model or code the kernel builds, a phrase the message must contain): models the grader
#: refuses to rebuild, with a message and no exception.
REJECTED_MODELS = [
    ("encoder_block", "a custom keras.layers.Layer (accepted before models were rebuilt)", _CUSTOM_BLOCK,
     "not a built-in Keras class"),
    ("encoder_block", "a Lambda layer", _LAMBDA_BLOCK, "Lambda layer"),
    ("encoder_block", "a keras.ops function other than + - * /", _KERAS_OPS_BLOCK, "keras.ops.maximum"),
    ("train_transformer", "a Lambda layer that computes the answer", _lambda_answer, "Lambda layer"),
    ("train_transformer", "a subclassed keras.Model that computes the answer", _subclassed_answer,
     "cannot be checked"),
]


def _assert_zero(verdict, phrase):
    assert not verdict.passed, "the attack passed"
    assert phrase in verdict.detail, verdict.detail
    assert verdict.feedback


@pytest.mark.parametrize("name,label,forge,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in LYING_REPORTS])
def test_lying_report_scores_zero(reference, name, label, forge, phrase):
    _assert_zero(judge_forged(name, reference, lambda inp: forge(reference, inp)), phrase)


@pytest.mark.parametrize("name,label,build,phrase", [pytest.param(*entry, id=f"{entry[0]}-{entry[1]}")
                                                     for entry in REJECTED_MODELS])
def test_model_the_grader_does_not_rebuild_scores_zero(reference, name, label, build, phrase):
    if name == "encoder_block":
        verdict = simulate_grading(attention.CHECKS, attention.encoder_block, define(build, "encoder_block", reference),
                                   reference["encoder_block"], ATTACK_SEED)
        public = public_message(attention.encoder_block, define(build, "encoder_block", reference))
    else:
        model = build()
        verdict = simulate_grading(attention.CHECKS, attention.trained_transformer, model, reference["transformer_model"],
                                   ATTACK_SEED)
        public = public_message(attention.trained_transformer, model)
    _assert_zero(verdict, phrase)
    assert public is not None and "cannot be checked" in public, public


def test_transformer_is_judged_on_sequences_the_kernel_never_sees(reference):
    """The grader's sequences are grader-only ("_" keys: the kernel gets no input at all) and none of them is
    a training row; a model judged on its own training data would have passed, one that learned passes here."""
    check = attention.trained_transformer
    for seed in (ATTACK_SEED, ATTACK_SEED + 1):
        for inp in check.secret_inputs(np.random.default_rng(seed)) + [c.inputs for c in check.public_cases]:
            assert kernel_view(inp) == {} and set(inp) == {"_X", "_labels"}
            train_rows = {row.tobytes() for row in _TRAIN_X}
            assert not any(row.tobytes() in train_rows for row in np.asarray(inp["_X"]))
    # The notebook's own arrays are what the kernel trains on: reference["X_train"] is make_window_max_data(2000, 0).
    assert np.array_equal(reference["X_train"], _TRAIN_X) and np.array_equal(reference["y_train"], _TRAIN_Y)


def test_lookup_of_the_training_data_scores_zero(reference):
    """A model that memorises the training arrays (and the public case) answers them perfectly, but it is built
    with Flatten and Reshape, and far over the budget: it is refused whatever it answers."""
    from autograder.checks.model_data import predict

    public = attention.trained_transformer.public_cases[0].inputs
    X = np.concatenate([_TRAIN_X, public["_X"]])
    y = np.concatenate([_TRAIN_Y, public["_labels"]])
    model = lookup_transformer(X, y)
    assert np.mean(predict(model, _TRAIN_X).argmax(-1) == _TRAIN_Y) == 1.0
    assert "only through attention" in public_message(attention.trained_transformer, model)
    verdict = simulate_grading(attention.CHECKS, attention.trained_transformer, model, reference["transformer_model"],
                               ATTACK_SEED)
    _assert_zero(verdict, "only through attention")


@pytest.mark.parametrize("name", ["encoder_block", "train_transformer"])
def test_reference_passes_on_several_seeds(reference, name):
    check = _check(name)
    for seed in (35, 36, 37):
        verdict = simulate_grading(attention.CHECKS, check, _subject(name, reference), _subject(name, reference), seed)
        assert verdict.passed, verdict.detail


_BAD_CONFIG = json.dumps({"module": "keras.src.models.functional", "class_name": "Functional",
                          "config": {"layers": "not a list"}})
#: (part, a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = [
    ("encoder_block", "not a dict"),
    ("encoder_block", {"is_tensor": True, "model": "not a record"}),
    ("encoder_block", {"is_tensor": True, "model": {"is_model": True, "keras_config": "[1, 2]", "weights": []}}),
    ("encoder_block", {"is_tensor": True, "model": {"is_model": True, "keras_config": _BAD_CONFIG, "weights": [1]}}),
    ("encoder_block", {"is_tensor": True, "model": {"is_model": True, "keras_config": "[" * 100_000, "weights": []}}),
    ("train_transformer", {"is_model": True, "keras_config": 10**30, "weights": "x"}),
    ("train_transformer", {"is_model": True, "keras_config": _BAD_CONFIG, "weights": None}),
    ("train_transformer", {"is_model": "yes", "kind": ["a", "list"]}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    message = check.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message


# ----------------------------------------------------------------------------- issue 14: messages and credit
#: Every named cause the attention check can give: a mistake that matches none of them must not get any.
_NAMED_CAUSES = [attention._OVERFLOW_ADVICE, attention._AXIS_ADVICE, attention._AFTER_ADVICE,
                 attention._POLARITY_ADVICE, attention._LEAK_ADVICE, attention._UNSCALED_ADVICE, attention._BY_D_ADVICE,
                 attention._NO_SOFTMAX_ADVICE, "The weights are right, so the last step is off"]
_GENERIC = [("scaled_dot_product_attention", "divided by sqrt(d_v)", _NAMED_CAUSES),
            ("positional_encoding", "base 1000", ["swapped", "Interleave", "start at 0", "exponent", "multiplied"]),
            ("train_transformer", "one epoch at a tiny learning rate",
             ["looks ahead", "cannot tell the order", "budget", "only through attention", "no MultiHeadAttention"])]


@pytest.mark.parametrize("name,label,named", _GENERIC, ids=[g[1] for g in _GENERIC])
def test_mistake_matching_no_diagnosis_gets_the_generic_message(reference, name, label, named):
    """The honest message says what was expected and what came back, and names no cause it has no evidence for."""
    code = next(entry[1] for entry in WRONG[name] if entry[0] == label)
    verdicts, public = grade(name, _answer(name, code, reference), reference, seeds_for(name))
    for text in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in text for cause in named), text


def test_encoder_block_earns_partial_credit_for_separable_requirements(reference):
    """Layers, residual connections and outputs are judged separately: a block whose feed-forward part reads x
    instead of h has the right layers and residuals (2 of 3); one without residuals has only the right layers."""
    order = define(_block(ffn="    f = keras.layers.Dense(ff_dim, activation='relu')(x)\n"
                              "    f = keras.layers.Dense(d_model)(f)\n"), "encoder_block", reference)
    no_residual = define(_block(norm1="    h = keras.layers.LayerNormalization()(a)\n",
                                norm2="    return keras.layers.LayerNormalization()(f)\n"), "encoder_block", reference)
    for answer, credit, phrase in ((order, 2 / 3, "not their order"), (no_residual, 1 / 3, "residual connection")):
        verdict = simulate_grading(attention.CHECKS, attention.encoder_block, answer, reference["encoder_block"],
                                   ONE_SEED[0])
        assert not verdict.passed and abs(verdict.credit - credit) < 1e-9, (verdict.credit, verdict.feedback)
        assert phrase in verdict.feedback, verdict.feedback


def test_partial_messages_quote_no_grader_input(reference):
    """For the grader's own sizes a partial message names settings, never the sizes themselves."""
    answer = define(WRONG["encoder_block"][3][1], "encoder_block", reference)  # key_dim = d_model
    inputs = grader_inputs(attention.CHECKS, ONE_SEED[0])["encoder_block"][0]
    with contextlib.redirect_stdout(io.StringIO()):
        got = from_plain(json.loads(json.dumps(probe(lambda: attention.encoder_block.run(answer, kernel_view(inputs))))
                                    )["ok"])
        expected = from_plain(json.loads(json.dumps(probe(lambda: attention.encoder_block.run(
            reference["encoder_block"], kernel_view(inputs)))))["ok"])
    message = attention.encoder_block.compare(inputs, got, expected)
    assert "d_model // num_heads" in message.message
    assert f"num_heads={inputs['num_heads']}" not in message.message and f"= {inputs['d_model']}" not in message.message
