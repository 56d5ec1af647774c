"""12_attention: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the trained-transformer part uses one seed and one training per answer.
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
from autograder.checks.core import dump_inputs, kernel_view, probe
from autograder.checks.model_data import report_model
from autograder.checks.plain import from_plain
from autograder.grading.judge import judge_part

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


_TF_HEAD = "def build_transformer(seq_len, vocab_size, d_model=32, num_heads=2, ff_dim=64):\n"
_TF_EMBED = ("    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
             "    x = keras.layers.Embedding(vocab_size, d_model)(tokens)\n")
_TF_PE = "    x = x + positional_encoding(seq_len, d_model).astype('float32')\n"
_TF_BLOCK = "    x = encoder_block(x, num_heads, ff_dim)\n"
_TF_TAIL = ("    model = keras.Model(tokens, keras.layers.Dense(vocab_size, activation='softmax')(x))\n"
            "    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss='sparse_categorical_crossentropy',\n"
            "                  metrics=['accuracy'])\n    return model\n")


def _transformer(pe=_TF_PE, block=_TF_BLOCK):
    return _TF_HEAD + _TF_EMBED + pe + block + _TF_TAIL


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
        ("attention called with one argument", _block(att="    a = keras.layers.MultiHeadAttention(num_heads=num_heads, "
                                                          "key_dim=d_model // num_heads)(x)\n"), "mha(x, x)"),
    ],
    "build_transformer": [
        ("no positional encoding", _transformer(pe=""), "cannot tell positions apart"),
        ("no encoder block", _transformer(block=""), "do not exchange information"),
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
        # (A custom keras.layers.Layer, as in the Keras examples, was accepted here before the grader rebuilt
        # models from their configuration; it is now refused with a message: see REJECTED_MODELS.)
    ],
    "build_transformer": [
        # Keras layers throughout (Add), three heads and a wider feed-forward layer.
        "def build_transformer(seq_len, vocab_size, d_model=32, num_heads=2, ff_dim=64):\n"
        "    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
        "    embedded = keras.layers.Embedding(vocab_size, d_model)(tokens)\n"
        "    pe = keras.ops.convert_to_tensor(positional_encoding(seq_len, d_model)[None], dtype='float32')\n"
        "    x = keras.layers.Add()([embedded, pe + 0 * embedded])\n"
        "    x = encoder_block(x, num_heads=4, ff_dim=96)\n"
        "    probs = keras.layers.Dense(vocab_size, activation='softmax')(x)\n"
        "    model = keras.Model(inputs=tokens, outputs=probs)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-3),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=['accuracy'])\n"
        "    return model",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "12_attention")


def _check(name):
    return {"scaled_dot_product_attention": attention.attention, "positional_encoding": attention.positional_encoding,
            "encoder_block": attention.encoder_block, "build_transformer": attention.trained_transformer}[name]


def _subject(name, reference):
    return reference["reversal_model"] if name == "build_transformer" else reference[name]


def _trained(reference, build_code):
    """The notebook's Exercise 4 cells with the given build_transformer: seed, build, train, keep the model."""
    import keras

    build = define(build_code, "build_transformer", reference)
    keras.utils.set_random_seed(0)
    model = build(reference["SEQ_LEN"], reference["VOCAB_SIZE"])
    model.fit(reference["X_train"], reference["y_train"], epochs=5, batch_size=64, verbose=0)
    return model


def _answer(name, code, reference):
    return _trained(reference, code) if name == "build_transformer" else define(code, name, reference)


def grade(name, answer, reference, seeds):
    """Grading verdicts over `seeds`, and the public message."""
    check = _check(name)
    return ([simulate_grading(attention.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


def seeds_for(name):
    return ONE_SEED if name in ("build_transformer", "encoder_block") else SEEDS


@pytest.mark.parametrize("name", ["scaled_dot_product_attention", "positional_encoding", "encoder_block",
                                  "build_transformer"])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference, seeds_for(name)))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, _answer(name, code, reference), reference, seeds_for(name)), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, _answer(name, code, reference), reference, seeds_for(name)))


def test_untrained_notebook_reports_not_implemented():
    """When build_transformer (or a function it uses) still raises, reversal_model stays None and the part says so."""
    message = public_message(attention.trained_transformer, None)
    assert message is not None and "not implemented yet" in message


# ----------------------------------------------------------------------------- the model parts cannot be lied to
# A model part is judged from the model the kernel reports (its config and weights), rebuilt by the grader,
# never from facts the kernel states. The attacks below play a kernel whose check `run` was replaced: each
# entry builds the result that kernel reports for one set of inputs (the full inputs, grader-only keys
# included, as the strongest possible liar), and the part must score 0 with a message, without raising.

ATTACK_SEED = 34
#: The notebook's Exercise 4 data: what the kernel trains on (and could look up).
_TRAIN_X, _TRAIN_Y = attention.reversal_data(attention.N_TRAINING, attention.TRAINING_SEED)


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
    """What the old `run` reported for a perfect reversal model: predictions equal to the labels."""
    labels = np.asarray(inp["_labels"]).astype(np.int64)
    return {"is_model": True, "output_shape": [len(labels), attention.REVERSAL_SEQ_LEN, attention.REVERSAL_VOCAB],
            "pred": labels, "pred_changed": labels, "pred_rolled": np.roll(labels, 3, axis=1), "shift": 3}


def _untrained_transformer(reference):
    import keras

    keras.utils.set_random_seed(1)
    return reference["build_transformer"](reference["SEQ_LEN"], reference["VOCAB_SIZE"])


def lookup_transformer(X, y, scale=60.0):
    """Built-in layers only: a one-hot Embedding, a Dense layer whose units are the rows of X (a softmax that
    is sharp on an exact match), and a Dense layer mapping each row to its one-hot target y. It answers every
    row of X perfectly and knows nothing else."""
    import keras

    n, t = X.shape
    vocab = attention.REVERSAL_VOCAB
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


def _lambda_reverser():
    """A Lambda layer that computes the answer: reverse the tokens and one-hot them."""
    import keras

    tokens = keras.Input(shape=(attention.REVERSAL_SEQ_LEN,), dtype="int32")
    out = keras.layers.Lambda(lambda t: keras.ops.one_hot(keras.ops.flip(t, axis=1), attention.REVERSAL_VOCAB))(tokens)
    return keras.Model(tokens, out)


def _subclassed_reverser():
    import keras

    class Reverser(keras.Model):
        def call(self, tokens):
            return keras.ops.one_hot(keras.ops.flip(keras.ops.cast(tokens, "int32"), axis=1), attention.REVERSAL_VOCAB)

    model = Reverser()
    model(np.zeros((1, attention.REVERSAL_SEQ_LEN), dtype="int32"))
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
    ("build_transformer", "the old claim dict: predictions equal to the labels",
     lambda reference, inp: _trained_reference_facts(inp), "cannot be checked"),
    ("build_transformer", "an untrained model's record with perfect predictions added to it",
     lambda reference, inp: {**report_model(_untrained_transformer(reference)), **_trained_reference_facts(inp)},
     "at least 90%"),
    ("build_transformer", "the trained model's record with every weight but the output layer's swapped for an "
                          "untrained model's",
     lambda reference, inp: {**report_model(reference["reversal_model"]),
                             "weights": report_model(_untrained_transformer(reference))["weights"][:-2]
                             + report_model(reference["reversal_model"])["weights"][-2:]}, "at least 90%"),
]

#: (part, label, the model or code the kernel builds, a phrase the message must contain): models the grader
#: refuses to rebuild, with a message and no exception.
REJECTED_MODELS = [
    ("encoder_block", "a custom keras.layers.Layer (accepted before models were rebuilt)", _CUSTOM_BLOCK,
     "not a built-in Keras class"),
    ("encoder_block", "a Lambda layer", _LAMBDA_BLOCK, "Lambda layer"),
    ("encoder_block", "a keras.ops function other than + - * /", _KERAS_OPS_BLOCK, "keras.ops.maximum"),
    ("build_transformer", "a Lambda layer that reverses and one-hots the tokens", _lambda_reverser, "Lambda layer"),
    ("build_transformer", "a subclassed keras.Model that reverses the tokens", _subclassed_reverser,
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
        verdict = simulate_grading(attention.CHECKS, attention.trained_transformer, model, reference["reversal_model"],
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
    # The notebook's own arrays are what the kernel trains on: reference["X_train"] is make_reversal_data(2000, 0).
    assert np.array_equal(reference["X_train"], _TRAIN_X)


def test_lookup_of_the_training_data_scores_zero(reference):
    """A model that memorises the training arrays (and the public case) answers them perfectly, so it would
    pass on data the kernel has seen, and fails on the grader's fresh sequences."""
    from autograder.checks.model_data import predict

    public = attention.trained_transformer.public_cases[0].inputs
    X = np.concatenate([_TRAIN_X, public["_X"]])
    model = lookup_transformer(X, X[:, ::-1])
    assert np.mean(predict(model, _TRAIN_X).argmax(-1) == _TRAIN_Y) == 1.0
    assert public_message(attention.trained_transformer, model) is None  # memorised: the public case passes
    verdict = simulate_grading(attention.CHECKS, attention.trained_transformer, model, reference["reversal_model"],
                               ATTACK_SEED)
    _assert_zero(verdict, "at least 90%")


@pytest.mark.parametrize("name", ["encoder_block", "build_transformer"])
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
    ("build_transformer", {"is_model": True, "keras_config": 10**30, "weights": "x"}),
    ("build_transformer", {"is_model": True, "keras_config": _BAD_CONFIG, "weights": None}),
    ("build_transformer", {"is_model": "yes", "kind": ["a", "list"]}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    message = check.compare(case.inputs, got, case.expected)
    assert isinstance(message, str) and message, message
