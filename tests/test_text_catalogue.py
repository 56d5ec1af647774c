"""16_text: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Training is the expensive step, so the two model parts use one seed and one training per answer. Every stated
rule of autograder/checks/text.py has a mistake that breaks it here and fails with that rule's message;
Keras-built and float32 answers are among the alternatives, and a mistake matching no diagnosis gets the generic
message.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  odd_report_failures, public_message, reference_namespace, simulate_grading,
                                  wrong_cases)
from autograder.checks import text
from autograder.checks.core import kernel_view
from autograder.checks.model_data import report_model

SEEDS = (61, 62)
ONE_SEED = (63,)
MODEL_PARTS = ("train_classifier", "train_language_model")

_V_HEAD = ("def vectorize(texts, vocabulary, seq_len):\n"
           "    index = {index}\n"
           "    strip = str.maketrans('', '', string.punctuation)\n"
           "    ids = np.zeros((len(texts), seq_len), dtype={dtype})\n"
           "    for row, text in enumerate(texts):\n")
_V_WORDS = "        words = text.lower().translate(strip).split()\n"
_V_TOKENS = "        tokens = [index.get(word, 1) for word in words][:seq_len]\n"
_V_FILL = "        ids[row, :len(tokens)] = tokens\n"
_V_RETURN = "    return ids\n"


def _vec(index="{w: i + 2 for i, w in enumerate(vocabulary)}", dtype="np.int64", words=_V_WORDS, tokens=_V_TOKENS,
         fill=_V_FILL, return_=_V_RETURN):
    return _V_HEAD.format(index=index, dtype=dtype) + words + tokens + fill + return_


_C_HEAD = "def causal_attention_weights(scores):\n    T = scores.shape[-1]\n"
_C_MASK = "    allowed = np.tril(np.ones((T, T), dtype=bool))\n"
_C_WHERE = "    masked = np.where(allowed, scores, -np.inf)\n"
_C_SOFTMAX = ("    weights = np.exp(masked - masked.max(axis=-1, keepdims=True))\n"
              "    return weights / weights.sum(axis=-1, keepdims=True)\n")


def _causal(mask=_C_MASK, where=_C_WHERE, softmax=_C_SOFTMAX):
    return _C_HEAD + mask + where + softmax


_CL_HEAD = "def train_classifier(X_train, y_train, vocab_size):\n"
_CL_FIT = ("    model.compile(optimizer=keras.optimizers.Adam(learning_rate={lr}), "
           "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
           "    history = model.fit(X_train, y_train, epochs={epochs}, batch_size=32, verbose=0)\n"
           "    return {returned}\n")


def _classifier(layers="keras.layers.Embedding(vocab_size, 16, mask_zero=True), keras.layers.GlobalAveragePooling1D(),"
                       " keras.layers.Dense(4, activation='softmax')", lr="0.01", epochs=12, returned="model"):
    return (_CL_HEAD + f"    model = keras.Sequential([keras.Input(shape=(X_train.shape[1],), dtype='int32'), {layers}])\n"
            + _CL_FIT.format(lr=lr, epochs=epochs, returned=returned))


_LM_HEAD = ("def train_language_model(X_train, y_train, vocab_size):\n    seq_len = X_train.shape[1]\n"
            "    d_model, num_heads, ff_dim = {sizes}\n"
            "    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
            "    x = keras.layers.Embedding(vocab_size, d_model)(tokens)\n")
_LM_PE = "    x = x + corpus.positional_encoding(seq_len, d_model)\n"
_LM_BLOCK = ("    mha = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)\n"
             "    h = keras.layers.LayerNormalization()(x + mha(x, x{mask}))\n"
             "    f = keras.layers.Dense(d_model)(keras.layers.Dense(ff_dim, activation='relu')(h))\n"
             "    x = keras.layers.LayerNormalization()(h + f)\n")
_LM_OUT = "    outputs = keras.layers.Dense(vocab_size, activation='softmax')(x)\n"
_LM_FIT = ("    model = keras.Model(tokens, outputs)\n"
           "    model.compile(optimizer=keras.optimizers.Adam(learning_rate={lr}), loss='sparse_categorical_crossentropy')\n"
           "    history = model.fit(X_train, y_train, epochs={epochs}, batch_size=64, verbose=0)\n"
           "    return {returned}\n")


def _lm(sizes="32, 2, 64", pe=_LM_PE, mask=", use_causal_mask=True", block=None, out=_LM_OUT, lr="0.005", epochs=4,
        returned="model"):
    return (_LM_HEAD.format(sizes=sizes) + pe + (block if block is not None else _LM_BLOCK.format(mask=mask)) + out
            + _LM_FIT.format(lr=lr, epochs=epochs, returned=returned))


WRONG = {
    "vectorize": [
        ("ids from 0", _vec(index="{w: i for i, w in enumerate(vocabulary)}"), "2 too small"),
        ("ids from 1: no OOV slot", _vec(index="{w: i for i, w in enumerate(vocabulary, start=1)}"), "1 too small"),
        ("OOV words as padding", _vec(tokens="        tokens = [index.get(word, 0) for word in words][:seq_len]\n"),
         "the padding id"),
        ("OOV words dropped", _vec(tokens="        tokens = [index[w] for w in words if w in index][:seq_len]\n"),
         "keep its place"),
        ("padding in front", _vec(fill="        if tokens:\n            ids[row, seq_len - len(tokens):] = tokens\n"),
         "in front of the words"),
        ("the last words kept", _vec(tokens="        tokens = [index.get(word, 1) for word in words][-seq_len:]\n"),
         "keep the first seq_len words"),
        ("not lowercased", _vec(words="        words = text.translate(strip).split()\n"), "lowercase the text first"),
        ("punctuation kept", _vec(words="        words = text.lower().split()\n"), "string.punctuation first"),
        ("split on one space", _vec(words="        words = text.lower().translate(strip).split(' ')\n"),
         "split on whitespace"),
        ("rows not padded", "def vectorize(texts, vocabulary, seq_len):\n"
                            "    index = {w: i + 2 for i, w in enumerate(vocabulary)}\n"
                            "    strip = str.maketrans('', '', string.punctuation)\n"
                            "    return [[index.get(w, 1) for w in t.lower().translate(strip).split()][:seq_len]\n"
                            "            for t in texts]\n", "different lengths"),
        ("float ids", _vec(dtype="float"), "as floats"),
        ("transposed", _vec(return_="    return ids.T\n"), "transposed"),
        ("an empty text given one unknown word",
         _vec(tokens="        tokens = ([index.get(word, 1) for word in words] or [1])[:seq_len]\n"), "no words"),
        # Matches no diagnosis: only full stops and commas removed.
        ("only . and , removed", _vec(words="        words = text.lower().replace('.', '').replace(',', '').split()\n"),
         "ids differ"),
    ],
    "causal_attention_weights": [
        ("mask transposed", _causal(mask="    allowed = np.triu(np.ones((T, T), dtype=bool))\n"), "mask is transposed"),
        ("diagonal excluded, -inf", _causal(mask="    allowed = np.tril(np.ones((T, T), dtype=bool), k=-1)\n"),
         "diagonal is blocked"),
        ("diagonal excluded, -1e9", _causal(mask="    allowed = np.tril(np.ones((T, T), dtype=bool), k=-1)\n",
                                            where="    masked = np.where(allowed, scores, -1e9)\n"),
         "diagonal is blocked"),
        ("mask after the softmax", _causal(where="    masked = scores\n",
                                           softmax="    weights = np.exp(masked - masked.max(axis=-1, keepdims=True))\n"
                                                   "    return allowed * weights / weights.sum(axis=-1, keepdims=True)\n"),
         "after the softmax"),
        ("scores multiplied by the mask", _causal(where="    masked = scores * allowed\n"), "exp(0) = 1 is not 0"),
        ("softmax over the queries", _causal(softmax="    weights = np.exp(masked - masked.max(axis=-2, keepdims=True))\n"
                                                     "    return weights / weights.sum(axis=-2, keepdims=True)\n"),
         "over the queries"),
        ("no max subtraction", _causal(softmax="    weights = np.exp(masked)\n"
                                               "    return weights / weights.sum(axis=-1, keepdims=True)\n"), "overflowed"),
        ("masked scores returned", _causal(softmax="    return np.where(allowed, scores, 0.0)\n"), "apply a softmax"),
        ("mask of a fixed size", _C_HEAD + "    allowed = np.tril(np.ones((3, 3), dtype=bool))\n" + _C_WHERE + _C_SOFTMAX,
         "scores.shape[-1]"),
        # Matches no diagnosis: the scores scaled once more.
        ("scores divided by sqrt(T)", _causal(where="    masked = np.where(allowed, scores / np.sqrt(T), -np.inf)\n"),
         "relative error"),
    ],
    "train_classifier": [
        ("no Embedding: ids fed to Dense", _classifier(layers="keras.layers.Dense(32, activation='relu'), "
                                                              "keras.layers.Dense(4, activation='softmax')"),
         "no Embedding layer"),
        ("over the budget", _classifier(layers="keras.layers.Embedding(vocab_size, 64), "
                                               "keras.layers.GlobalAveragePooling1D(), "
                                               "keras.layers.Dense(4, activation='softmax')", epochs=1),
         "budget of 50,000"),
        ("labels shuffled apart from the sentences",
         _CL_HEAD.replace("):\n", "):\n    y_train = np.random.default_rng(0).permutation(y_train)\n")
         + _classifier()[len(_CL_HEAD):], "needed (rule 4)"),
        ("linear outputs", _classifier(layers="keras.layers.Embedding(vocab_size, 16), "
                                              "keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4)", epochs=1),
         "not probabilities"),
        ("the History returned", _classifier(epochs=1, returned="history"), "returned a History"),
        ("hardly trained", _classifier(lr="1e-4", epochs=1), "needed (rule 4)"),
    ],
    "train_language_model": [
        ("attention not causal", _lm(mask="", epochs=1), "looks ahead"),
        ("over the budget", _lm(sizes="64, 4, 128", epochs=1), "budget of 20,000"),
        ("a causal Conv1D instead of attention",
         _LM_HEAD.format(sizes="32, 2, 64") + "    x = keras.layers.Conv1D(d_model, 4, padding='causal', "
                                              "activation='relu')(x)\n" + _LM_OUT + _LM_FIT.format(lr="0.005", epochs=1,
                                                                                                  returned="model"),
         "only through attention"),
        ("no attention at all", _lm(block="    x = keras.layers.Dense(d_model, activation='relu')(x)\n", epochs=1),
         "no MultiHeadAttention layer"),
        ("linear outputs", _lm(out="    outputs = keras.layers.Dense(vocab_size)(x)\n", epochs=1), "not probabilities"),
        ("the History returned", _lm(returned="history", epochs=1), "returned a History"),
        ("hardly trained", _lm(lr="1e-4", epochs=1), "0.5 below it"),
    ],
}

ALTERNATIVES = {
    "vectorize": [
        # Keras's own layer, given the vocabulary.
        "def vectorize(texts, vocabulary, seq_len):\n"
        "    layer = keras.layers.TextVectorization(vocabulary=vocabulary, output_sequence_length=seq_len)\n"
        "    return np.asarray(layer(texts))",
        # A regular expression for the punctuation, a list of rows padded by concatenation, int32.
        "import re\n"
        "def vectorize(texts, vocabulary, seq_len):\n"
        "    rows = []\n"
        "    for text in texts:\n"
        "        words = re.sub('[' + re.escape(string.punctuation) + ']', '', text.lower()).split()\n"
        "        ids = [vocabulary.index(w) + 2 if w in vocabulary else 1 for w in words[:seq_len]]\n"
        "        rows.append(ids + [0] * (seq_len - len(ids)))\n"
        "    return np.array(rows, dtype=np.int32).reshape(len(texts), seq_len)",
        # A lookup table with the reserved tokens in front, like TextVectorization.get_vocabulary().
        "def vectorize(texts, vocabulary, seq_len):\n"
        "    table = {w: i for i, w in enumerate(['', '[UNK]'] + list(vocabulary))}\n"
        "    out = np.zeros((len(texts), seq_len), dtype=int)\n"
        "    for r, t in enumerate(texts):\n"
        "        for c, w in enumerate(''.join(ch for ch in t.lower() if ch not in string.punctuation).split()[:seq_len]):\n"
        "            out[r, c] = table.get(w, table['[UNK]'])\n"
        "    return out",
    ],
    "causal_attention_weights": [
        # A large negative number, scipy's softmax.
        "from scipy.special import softmax\n"
        "def causal_attention_weights(scores):\n"
        "    T = scores.shape[-1]\n"
        "    return softmax(np.where(np.tri(T, dtype=bool), scores, -1e9), axis=-1)",
        # An additive mask built from the upper triangle, float32 throughout.
        "def causal_attention_weights(scores):\n"
        "    s = np.asarray(scores, dtype=np.float32)\n"
        "    future = np.triu(np.ones(s.shape[-2:], dtype=np.float32), k=1)\n"
        "    s = s - 1e9 * future\n"
        "    e = np.exp(s - s.max(axis=-1, keepdims=True))\n"
        "    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)",
        # Keras's Softmax layer with a mask, as MultiHeadAttention applies it.
        "def causal_attention_weights(scores):\n"
        "    T = scores.shape[-1]\n"
        "    mask = np.broadcast_to(np.tril(np.ones((T, T), dtype=bool)), scores.shape)\n"
        "    return np.asarray(keras.layers.Softmax()(scores.astype('float32'), mask=mask))",
        # keras.ops in float32: where and softmax.
        "def causal_attention_weights(scores):\n"
        "    T = scores.shape[-1]\n"
        "    s = keras.ops.where(np.tri(T, dtype=bool), scores.astype('float32'), float('-inf'))\n"
        "    return keras.ops.convert_to_numpy(keras.ops.softmax(s, axis=-1))",
    ],
    "train_classifier": [
        # The Functional API, no mask, a hidden layer, RMSprop and a loss object.
        "def train_classifier(X_train, y_train, vocab_size):\n"
        "    ids = keras.Input(shape=(X_train.shape[1],), dtype='int32')\n"
        "    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(vocab_size, 20)(ids))\n"
        "    x = keras.layers.Dense(16, activation='relu')(x)\n"
        "    model = keras.Model(ids, keras.layers.Dense(4, activation='softmax')(x))\n"
        "    model.compile(optimizer=keras.optimizers.RMSprop(0.005),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy())\n"
        "    model.fit(X_train, y_train, epochs=15, batch_size=32, verbose=0)\n"
        "    return model",
        # A sequence model: a convolution over the word vectors, max-pooled.
        "def train_classifier(X_train, y_train, vocab_size):\n"
        "    model = keras.Sequential([keras.Input(shape=(X_train.shape[1],), dtype='int32'),\n"
        "                              keras.layers.Embedding(vocab_size, 16),\n"
        "                              keras.layers.Conv1D(32, 3, activation='relu', padding='same'),\n"
        "                              keras.layers.GlobalMaxPooling1D(), keras.layers.Dropout(0.2),\n"
        "                              keras.layers.Dense(4, activation='softmax')])\n"
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
        "    model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)\n"
        "    return model",
    ],
    "train_language_model": [
        # Add layers for the residuals, dropout, three heads of 8 and a narrower feed-forward layer, a loss object.
        "def train_language_model(X_train, y_train, vocab_size):\n"
        "    seq_len, d = X_train.shape[1], 24\n"
        "    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
        "    x = keras.layers.Embedding(vocab_size, d)(tokens) + corpus.positional_encoding(seq_len, d)\n"
        "    a = keras.layers.MultiHeadAttention(3, 8, dropout=0.1)(x, x, use_causal_mask=True)\n"
        "    h = keras.layers.LayerNormalization()(keras.layers.Add()([x, a]))\n"
        "    f = keras.layers.Dense(d)(keras.layers.Dropout(0.1)(keras.layers.Dense(48, activation='relu')(h)))\n"
        "    x = keras.layers.LayerNormalization()(keras.layers.Add()([h, f]))\n"
        "    model = keras.Model(tokens, keras.layers.Dense(vocab_size, activation='softmax')(x))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.005), loss=keras.losses.SparseCategoricalCrossentropy())\n"
        "    model.fit(X_train, y_train, epochs=5, batch_size=64, verbose=0)\n"
        "    return model",
        # A pre-norm block, as in GPT-2.
        "def train_language_model(X_train, y_train, vocab_size):\n"
        "    seq_len, d = X_train.shape[1], 32\n"
        "    tokens = keras.Input(shape=(seq_len,), dtype='int32')\n"
        "    x = keras.layers.Embedding(vocab_size, d)(tokens) + corpus.positional_encoding(seq_len, d)\n"
        "    n = keras.layers.LayerNormalization()(x)\n"
        "    x = x + keras.layers.MultiHeadAttention(num_heads=2, key_dim=16)(n, n, use_causal_mask=True)\n"
        "    n = keras.layers.LayerNormalization()(x)\n"
        "    x = x + keras.layers.Dense(d)(keras.layers.Dense(64, activation='gelu')(n))\n"
        "    x = keras.layers.LayerNormalization()(x)\n"
        "    model = keras.Model(tokens, keras.layers.Dense(vocab_size, activation='softmax')(x))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.005), loss='sparse_categorical_crossentropy')\n"
        "    model.fit(X_train, y_train, epochs=4, batch_size=64, verbose=0)\n"
        "    return model",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "16_text")


_CHECKS = {"vectorize": text.vectorize, "causal_attention_weights": text.causal_attention_weights,
           "train_classifier": text.trained_classifier, "train_language_model": text.trained_language_model}


def _subject(name, reference):
    return {"train_classifier": reference.get("classifier"),
            "train_language_model": reference.get("language_model")}.get(name, reference.get(name))


def _answer(name, code, reference):
    import keras

    answer = define(code, name, reference)
    if name == "train_classifier":
        keras.utils.set_random_seed(0)
        return answer(reference["X_train"], reference["y_train"], reference["VOCAB_SIZE"])
    if name == "train_language_model":
        keras.utils.set_random_seed(0)
        return answer(reference["X_chars"], reference["y_chars"], reference["N_CHARS"])
    return answer


def grade(name, answer, reference):
    check = _CHECKS[name]
    seeds = ONE_SEED if name in MODEL_PARTS else SEEDS
    return ([simulate_grading(text.CHECKS, check, answer, _subject(name, reference), s) for s in seeds],
            public_message(check, answer))


@pytest.mark.parametrize("name", list(_CHECKS))
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, _subject(name, reference), reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, _answer(name, code, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, _answer(name, code, reference), reference))


@pytest.mark.parametrize("name", MODEL_PARTS)
def test_untrained_notebook_reports_not_implemented(name):
    message = public_message(_CHECKS[name], None)
    assert message is not None and "not implemented yet" in message


def test_generic_message_names_no_cause(reference):
    """Mistakes that match no diagnosis get the plain comparison, without a cause they show no evidence of."""
    causes = ["2 too small", "1 too small", "padding id", "keep its place", "in front of the words",
              "keep the first seq_len", "lowercase the text first", "string.punctuation first", "treats every run",
              "transposed", "as floats"]
    code = next(c for label, c, _ in WRONG["vectorize"] if label == "only . and , removed")
    verdicts, public = grade("vectorize", _answer("vectorize", code, reference), reference)
    for message in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in message for cause in causes), message
    causal = ["transposed", "diagonal", "after the softmax", "exp(0)", "queries", "overflowed"]
    code = next(c for label, c, _ in WRONG["causal_attention_weights"] if label == "scores divided by sqrt(T)")
    verdicts, public = grade("causal_attention_weights", _answer("causal_attention_weights", code, reference), reference)
    for message in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in message for cause in causal), message


# ----------------------------------------------------------------------------- the corpus and the held-out data
def test_corpus_is_deterministic_and_labelled():
    from coursekit import text as corpus

    corpus.docstring_corpus.cache_clear()
    first = corpus.docstring_corpus()
    corpus.docstring_corpus.cache_clear()
    again = corpus.docstring_corpus()
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    texts, labels = first
    assert len(texts) == len(set(texts)) > 1000 and set(np.unique(labels)) == {0, 1, 2, 3}
    assert all(set(t) <= set(corpus.CHARACTERS) for t in texts)


def test_model_parts_are_judged_on_data_the_kernel_never_sees(reference):
    """Grader-only keys only; the classifier's sentences are perturbed test sentences, none a corpus sentence,
    and the language model's windows come from the test stream."""
    from coursekit import text as corpus

    train_rows = {row.tobytes() for row in corpus.encode_words(corpus.corpus_split()[0], corpus.vocabulary())}
    all_rows = {row.tobytes() for row in corpus.encode_words(corpus.docstring_corpus()[0], corpus.vocabulary())}
    for check in (text.trained_classifier, text.trained_language_model):
        for inp in check.secret_inputs(np.random.default_rng(64)) + [c.inputs for c in check.public_cases]:
            assert kernel_view(inp) == {}
    inp = text.trained_classifier.secret_inputs(np.random.default_rng(64))[0]
    rows = [row.tobytes() for row in np.asarray(inp["_X"])]
    assert sum(r in train_rows for r in rows) <= 0.01 * len(rows)
    assert sum(r in all_rows for r in rows) <= 0.02 * len(rows)
    assert reference["X_train"].shape[1] == corpus.SEQ_LEN and reference["X_chars"].shape[1] == corpus.CONTEXT


# ----------------------------------------------------------------------------- the model parts cannot be lied to
ATTACK_SEED = 65


def _lambda_model():
    import keras

    tokens = keras.Input(shape=(24,), dtype="int32")
    return keras.Model(tokens, keras.layers.Lambda(lambda t: keras.ops.one_hot(t[:, 0] % 4, 4))(tokens))


def test_lambda_model_scores_zero(reference):
    model = _lambda_model()
    verdict = simulate_grading(text.CHECKS, text.trained_classifier, model, reference["classifier"], ATTACK_SEED)
    assert not verdict.passed and "Lambda layer" in verdict.detail


def test_untrained_weights_in_a_trained_record_score_zero(reference):
    """The trained classifier's config with an untrained model's weights: judged on what the weights do."""
    import keras

    keras.utils.set_random_seed(3)
    untrained = define(_classifier(epochs=0), "train_classifier", reference)(
        reference["X_train"], reference["y_train"], reference["VOCAB_SIZE"])
    record = {**report_model(reference["classifier"]), "weights": report_model(untrained)["weights"],
              "accuracy": 1.0}
    verdict = forged_verdict(text.CHECKS, text.trained_classifier, reference["classifier"], lambda inp: record,
                             ATTACK_SEED)
    assert not verdict.passed and "needed (rule 4)" in verdict.detail


def test_odd_reports_get_a_message():
    assert odd_report_failures(text.CHECKS, ("trained_classifier", "trained_language_model"), ATTACK_SEED) == []


@pytest.mark.parametrize("name", MODEL_PARTS)
def test_reference_passes_on_several_seeds(reference, name):
    for seed in (66, 67):
        verdict = simulate_grading(text.CHECKS, _CHECKS[name], _subject(name, reference), _subject(name, reference), seed)
        assert verdict.passed, verdict.detail
