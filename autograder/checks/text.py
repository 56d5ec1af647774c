"""Checks for 16_text: turning sentences into padded integer ids as TextVectorization does; causal attention
weights; a sentence classifier judged on held-out sentences; and a small causal transformer that models
characters, judged for causality and for its next-character loss against a unigram baseline.

The text is the docstrings of Python's standard library (PSF License; see `coursekit/text.py`), which the
grader and the kernel read from the same interpreter. Public expected values of Exercises 1 and 2 are literals
worked out once offline (Exercise 1's agree with `keras.layers.TextVectorization`); at grading time the expected
values are the reference notebook's results. Diagnoses work out what common mistakes produce from the inputs
(ids off by the two reserved slots, padding in front, the last words kept, a mask above the diagonal, ...), so
that a message can name the mistake. The two model parts are judged only on the model the kernel reports
(`model_data.report_model`), rebuilt by the grader, on data in grader-only keys ("_..."): held-out sentences with
a word dropped and two words swapped by the run's seed, and windows of held-out characters at the run's offsets.

Stated rules (part / rule / how it is checked). 28 rules found, 26 checked, 2 suggestions only.
  Ex1 vectorize / lowercase, then remove every character of string.punctuation / values; not-lowercased and
      punctuation-kept diagnoses (grader texts mix case and punctuation)
  Ex1 vectorize / split on whitespace (runs of spaces, tabs) / values; split(" ") diagnosis (grader texts have runs)
  Ex1 vectorize / 0 is padding, 1 an out-of-vocabulary word, vocabulary[i] is i + 2 / values; ids-from-0,
      ids-from-1, OOV-as-0 and OOV-dropped diagnoses
  Ex1 vectorize / keep the first seq_len words / values; kept-the-last diagnosis
  Ex1 vectorize / pad with 0 at the end to seq_len / values; padded-in-front and ragged-rows diagnoses
  Ex1 vectorize / an integer array of shape (len(texts), seq_len) / shape (transposed named), dtype kind message
  Ex1 vectorize / empty and punctuation-only texts give a row of zeros / a public case and hidden cases;
      "no words" diagnosis
  Ex2 causal_attention_weights / weights of the same shape as scores / shape message
  Ex2 causal_attention_weights / position i attends to 0..i, itself included / values; transposed-mask and
      diagonal-excluded diagnoses
  Ex2 causal_attention_weights / softmax over the last axis, rows sum to 1 / values; axis and no-softmax diagnoses
  Ex2 causal_attention_weights / masked before the softmax (-inf or a large negative number) / values; after-softmax
      and multiplied-by-the-mask diagnoses
  Ex2 causal_attention_weights / leading batch and head axes / public batch case, hidden 4-D case
  Ex2 causal_attention_weights / large scores / a public case near 1000; overflow message (how it is
      avoided is a suggestion only)
  Ex3 train_classifier / returns the trained keras.Model / None, History and other types named
  Ex3 train_classifier / word ids (batch, SEQ_LEN) -> probabilities (batch, 4) / grader's predictions
  Ex3 train_classifier / built-in Keras layers only, starting with keras.Input / rebuild_model refuses the rest
  Ex3 train_classifier / an Embedding layer turns ids into vectors / layer kinds of the rebuilt model
  Ex3 train_classifier / at most 50,000 parameters / count_params of the rebuilt model
  Ex3 train_classifier / >= 75% right on held-out sentences / grader-only perturbed test sentences (the
      reference: about 85%)
  Ex4 train_language_model / returns the trained keras.Model / None, History and other types named
  Ex4 train_language_model / character ids (batch, 32) -> probabilities (batch, 32, 27) / grader's predictions
  Ex4 train_language_model / causal: position t depends on characters 0..t only / later characters changed
  Ex4 train_language_model / built-in Keras layers only; the mask as use_causal_mask / rebuild_model; causality
  Ex4 train_language_model / positions mix only through attention, >= 1 MultiHeadAttention / layer kinds
  Ex4 train_language_model / at most 20,000 parameters / count_params of the rebuilt model
  Ex4 train_language_model / next-character loss >= 0.5 nats below the unigram baseline / grader's held-out
      windows, baseline from the training text's character counts
  Ex3-4 / training settings, a few seconds / suggestion only
  Ex1-4 / "about N lines", hints / suggestion only
Per exercise: Ex1 7 found, 7 checked; Ex2 6 found, 6 checked (the overflow remedy a suggestion inside a checked
rule); Ex3 6/6; Ex4 7/7; 2 course-wide suggestions (training time, "about N lines").

All-or-nothing, no partial credit, in every part. Exercises 1 and 2 compute one array, and any wrong rule (an id,
the padding, the mask, the normalisation) makes that array wrong for the model it feeds. The two trained parts
are judged on one model whose requirements are not separable: the structure rules (built-in layers, an
Embedding or attention, causality, the output shape) decide whether the model can be rebuilt and measured at
all, the parameter budget is what makes the accuracy or loss goal meaningful (a model over it can memorise the
training text), and the goal is the one outcome the exercise asks for. A model that meets the structure and the
budget but not the goal has not learned the task, and one that meets the goal by breaking a structure rule
(a future character seen, say) has not done the exercise; neither is part of a right answer.
"""
from __future__ import annotations

import string
from functools import lru_cache

import numpy as np

from .compare import compare_array, fmt, matches
from .core import Case, Check, CheckSet, Mistake, describe_value
from .model_data import ModelRejected, all_layers, is_probabilities, one_line, predict, rebuild_model, report_model

# ----------------------------------------------------------------------- Exercise 1: vectorize
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _variant(texts, vocabulary, seq_len, *, lower=True, strip=True, split=None, pad="post", trunc="post",
             drop_oov=False) -> np.ndarray:
    """What an encoder with one setting changed produces (the right one with the defaults): for diagnoses."""
    index = {word: i + 2 for i, word in enumerate(vocabulary)}
    out = np.zeros((len(texts), seq_len), dtype=np.int64)
    for row, text in enumerate(texts):
        text = text.lower() if lower else text
        text = text.translate(_PUNCTUATION) if strip else text
        ids = [index.get(word, 1) for word in (text.split(split) if split else text.split())]
        if drop_oov:
            ids = [i for i in ids if i != 1]
        ids = ids[:seq_len] if trunc == "post" else ids[-seq_len:]
        if pad == "post":
            out[row, :len(ids)] = ids
        elif ids:
            out[row, seq_len - len(ids):] = ids
    return out


_VOCAB_A = ["the", "file", "return", "a", "path", "string"]
_TEXTS_A = ["Return the path.", "A string, a FILE!", "the file"]
_IDS_A = np.array([[4, 2, 6, 0, 0], [5, 7, 5, 3, 0], [2, 3, 0, 0, 0]])
_VOCAB_B = ["of", "the", "number", "return", "seconds", "time"]
# "epoch" and "since" are not in the vocabulary; "it's" loses its apostrophe ("its", also unknown).
_TEXTS_B = ["Return the number of seconds since the epoch", "it's time:  the\ttime"]
_IDS_B = np.array([[5, 3, 4, 2], [1, 7, 3, 7]])
#: Texts with no words: an empty one and one of punctuation only (a row of zeros each), between two others.
_VOCAB_C = ["hello", "world"]
_TEXTS_C = ["Hello, world!", "", "?!...", "world"]
_IDS_C = np.array([[2, 3, 0], [0, 0, 0], [0, 0, 0], [3, 0, 0]])
_EMPTY_ADVICE = ("A text with no words (empty, or punctuation only) still got ids: its row is all zeros, "
                 "padding only, with no unknown-word id.")

_OFFSET0_ADVICE = ("Every known word's id is 2 too small: ids 0 and 1 are reserved, 0 for padding and 1 for an "
                   "out-of-vocabulary word, so vocabulary[i] gets id i + 2 (as in TextVectorization, which puts "
                   "'' and '[UNK]' in front of the vocabulary you give it).")
_OFFSET1_ADVICE = ("Every known word's id is 1 too small: you reserved 0 for padding but not 1 for an "
                   "out-of-vocabulary word. vocabulary[i] gets id i + 2.")
_OOV_ZERO_ADVICE = ("Words that are not in the vocabulary got id 0, the padding id, so the network cannot tell "
                    "an unknown word from padding (and a mask would hide it). Give them the OOV id 1.")
_OOV_DROP_ADVICE = ("Words that are not in the vocabulary were left out; each must keep its place, with the OOV "
                    "id 1, so that the later words stay where they are.")
_PRE_PAD_ADVICE = ("The padding is in front of the words. Pad at the end, as TextVectorization does: the ids of "
                   "the words first, then zeros up to seq_len.")
_KEPT_LAST_ADVICE = "Long texts kept their last seq_len words: keep the first seq_len words, ids[:seq_len]."
_NO_LOWER_ADVICE = ("Capitalised words (\"Return\", \"FILE\") were looked up as they are and counted as unknown: "
                    "lowercase the text first, text.lower().")
_PUNCT_ADVICE = ("Words with punctuation attached (\"path.\", \"a,\") were looked up with it and counted as "
                 "unknown: remove every character of string.punctuation first, "
                 "text.translate(str.maketrans('', '', string.punctuation)).")
_SPLIT_ADVICE = ("Two spaces in a row (or a tab) produced an empty word or a word with a tab in it: split on "
                 "whitespace with text.split() and no argument, which treats every run of spaces and tabs as one "
                 "separator.")
_RAGGED_ADVICE = ("The rows have different lengths: every row must have exactly seq_len ids, padded with 0 at the "
                  "end and cut after seq_len words, so that the batch is one rectangular array.")


class Vectorize(Check):
    name = "vectorize"
    signature = "vectorize(texts, vocabulary, seq_len)"
    expected_form = "an integer array of shape (len(texts), seq_len)"
    public_cases = (
        Case({"texts": _TEXTS_A, "vocabulary": _VOCAB_A, "seq_len": 5}, _IDS_A,
             "three short texts, seq_len 5: capitals, punctuation and padding"),
        Case({"texts": _TEXTS_B, "vocabulary": _VOCAB_B, "seq_len": 4}, _IDS_B,
             "unknown words, a long text cut at seq_len 4, two spaces and a tab"),
        Case({"texts": _TEXTS_C, "vocabulary": _VOCAB_C, "seq_len": 3}, _IDS_C,
             "an empty text and one of punctuation only: rows of zeros"),
    )

    @staticmethod
    def _texts(rng, words, n):
        texts = []
        for _ in range(n):
            chosen = [str(words[i]) for i in rng.integers(0, len(words), int(rng.integers(2, 12)))]
            decorated = []
            for word in chosen:
                roll = rng.random()
                word = word.capitalize() if roll < 0.15 else word.upper() if roll < 0.2 else word
                if rng.random() < 0.2:
                    word += str(rng.choice([".", ",", "!", ":", ";", "?", ")"]))
                if rng.random() < 0.05:
                    word = "(" + word
                if rng.random() < 0.05 and len(word) > 3:
                    word = word[:2] + str(rng.choice(["-", "'", "_"])) + word[2:]
                decorated.append(word)
            separators = [str(rng.choice([" ", " ", " ", "  ", "\t"])) for _ in decorated[1:]] + [""]
            texts.append("".join(w + s for w, s in zip(decorated, separators)))
        return texts

    @staticmethod
    def _words(rng, n):
        letters = np.array(list(string.ascii_lowercase))
        words = sorted({"".join(rng.choice(letters, int(rng.integers(2, 7)))) for _ in range(n)})
        return [str(w) for w in rng.permutation(words)]

    def secret_inputs(self, rng):
        cases = []
        for n_words, n_vocab, n_texts, seq_len in ((30, 20, 6, 6), (60, 45, 8, 9), (15, 14, 5, 4)):
            words = self._words(rng, n_words)
            cases.append({"texts": self._texts(rng, words, n_texts), "vocabulary": words[:n_vocab],
                          "seq_len": int(seq_len)})
        return cases

    def hidden_inputs(self, rng):
        words = self._words(rng, 12)
        return [{"texts": ["", "?!", str(words[0]).upper() + "."], "vocabulary": words[:5], "seq_len": 3},
                {"texts": self._texts(rng, words, 4), "vocabulary": words[:1], "seq_len": 1}]

    def run(self, subject, inputs):
        result = subject(list(inputs["texts"]), list(inputs["vocabulary"]), int(inputs["seq_len"]))
        if isinstance(result, (list, tuple)) and result and all(isinstance(r, (list, tuple, np.ndarray)) for r in result):
            lengths = [len(r) for r in result]
            if len(set(lengths)) > 1:
                return {"ragged": lengths}
        array = np.asarray(result)
        return {"ids": array, "kind": array.dtype.kind}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if "ragged" in got:
            return Mistake(f"{sig} returned rows of {sorted(set(got['ragged']))} ids. {_RAGGED_ADVICE}", "ragged")
        if isinstance(expected, dict):  # at grading time: the reference's own report
            expected = expected["ids"]
        ids, expected = np.asarray(got["ids"]), np.asarray(expected)
        if ids.shape != expected.shape:
            if ids.shape == expected.shape[::-1] and ids.ndim == 2 and ids.shape[0] != ids.shape[1]:
                return Mistake(f"{sig} returned shape {ids.shape}, expected (len(texts), seq_len) = {expected.shape}: "
                               "one row per text, one column per position; the array is transposed.", "transposed")
            return Mistake(f"{sig} returned {describe_value(ids)}, expected shape (len(texts), seq_len) = "
                           f"{expected.shape}: one row of seq_len ids per text.", "wrong_shape")
        if ids.dtype.kind not in "iuf" or str(got.get("kind")) not in "iu":
            if ids.dtype.kind == "f" and np.array_equal(ids, expected):
                return Mistake(f"{sig} returned the right ids as floats ({ids.dtype}): ids index rows of an "
                               "Embedding, so return integers, e.g. np.zeros((len(texts), seq_len), dtype=int).",
                               "float_ids")
            if ids.dtype.kind not in "iuf":
                return self.unreadable(got["ids"])
        if np.array_equal(ids, expected):
            return None
        texts, vocabulary, seq_len = list(inputs["texts"]), list(inputs["vocabulary"]), int(inputs["seq_len"])
        wordless = [i for i, text in enumerate(texts) if not str(text).lower().translate(_PUNCTUATION).split()]
        if ids.ndim == 2 and wordless and np.any(ids[wordless] != 0) and \
                np.array_equal(np.delete(ids, wordless, axis=0), np.delete(expected, wordless, axis=0)):
            return Mistake(f"{sig} returned {fmt(ids, 10)}, expected {fmt(expected, 10)}. {_EMPTY_ADVICE}",
                           "wordless_text")
        known = expected >= 2
        variants = [
            (lambda: known.any() and np.array_equal(ids[known], expected[known] - 2), _OFFSET0_ADVICE, "ids_from_0"),
            (lambda: known.any() and np.array_equal(ids[known], expected[known] - 1), _OFFSET1_ADVICE, "ids_from_1"),
            (lambda: np.array_equal(ids, np.where(expected == 1, 0, expected)), _OOV_ZERO_ADVICE, "oov_as_padding"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, drop_oov=True)), _OOV_DROP_ADVICE,
             "oov_dropped"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, pad="pre")), _PRE_PAD_ADVICE,
             "padded_in_front"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, trunc="pre")), _KEPT_LAST_ADVICE,
             "kept_last_words"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, lower=False)), _NO_LOWER_ADVICE,
             "not_lowercased"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, strip=False)), _PUNCT_ADVICE,
             "punctuation_kept"),
            (lambda: np.array_equal(ids, _variant(texts, vocabulary, seq_len, split=" ")), _SPLIT_ADVICE,
             "split_on_one_space"),
        ]
        for test, advice, key in variants:
            try:
                if test():
                    return Mistake(f"{sig} returned {fmt(ids, 10)}, expected {fmt(expected, 10)}. {advice}", key)
            except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
                continue
        wrong = int(np.sum(ids != expected))
        return Mistake(f"{sig} returned {fmt(ids, 10)}, expected {fmt(expected, 10)} ({wrong} of {expected.size} ids "
                       "differ). Standardise (lowercase, strip string.punctuation), split on whitespace, map "
                       "vocabulary[i] to i + 2 and other words to 1, then cut or pad with 0 at the end to seq_len.",
                       "other")


# ----------------------------------------------------------------------- Exercise 2: causal attention weights
def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        z = z - np.max(z, axis=axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)


def _tril(t: int, k: int = 0) -> np.ndarray:
    return np.tril(np.ones((t, t), dtype=bool), k)


_S_A = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [1.0, 0.0, -1.0]])
_W_A = np.array([[1.0, 0.0, 0.0], [0.2689414213699951, 0.7310585786300049, 0.0],
                 [0.6652409557748219, 0.24472847105479764, 0.09003057317038046]])
_S_B = np.array([[[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, 0.0, 3.0], [-2.0, 0.0, 2.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
                 [[2.0, 1.0, 0.0, -1.0], [0.0, -1.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0], [3.0, 1.0, 2.0, 0.0]]])
_W_B = np.array([[[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0],
                  [0.015876239976466765, 0.11731042782619837, 0.8668133321973349, 0.0], [0.25, 0.25, 0.25, 0.25]],
                 [[1.0, 0.0, 0.0, 0.0], [0.7310585786300049, 0.2689414213699951, 0.0, 0.0],
                  [0.09003057317038046, 0.24472847105479764, 0.6652409557748219, 0.0],
                  [0.6439142598879722, 0.08714431874203257, 0.23688281808991013, 0.03205860328008499]]])
_S_C = np.array([[900.0, 1000.0], [1000.0, 999.0]])
_W_C = np.array([[1.0, 0.0], [0.7310585786300049, 0.2689414213699951]])

_CAUSAL_OVERFLOW = ("np.exp overflowed to inf on large scores, and inf / inf is nan. Subtract each row's maximum "
                    "(of the allowed scores) before np.exp: softmax(s) = softmax(s - max(s)).")
_TRANSPOSED_ADVICE = ("The weights are 0 *below* the diagonal: the mask is transposed, so every position attends "
                      "to the positions after it. Position i may attend to j <= i: keep the lower triangle, "
                      "np.tril(np.ones((T, T), dtype=bool)).")
_DIAGONAL_ADVICE = ("The diagonal is blocked too: position i may attend to j <= i, itself included "
                    "(np.tril with k=0, not k=-1). Position 0 then has nothing left to attend to.")
_CAUSAL_AFTER_ADVICE = ("The rows no longer sum to 1: the mask was applied after the softmax, so the weight of the "
                        "future positions was thrown away instead of shared among the allowed ones. Set the blocked "
                        "scores to -inf (or -1e9) *before* the softmax.")
_CAUSAL_MULTIPLY_ADVICE = ("Future positions still get weight: multiplying the scores by the mask sets them to 0, "
                           "and exp(0) = 1 is not 0. Set them to -inf (or -1e9) before the softmax: "
                           "np.where(mask, scores, -np.inf).")
_CAUSAL_AXIS_ADVICE = ("The columns sum to 1 instead of the rows: the softmax ran over the queries (axis -2). Each "
                       "position's weights are a distribution over the positions it attends to: axis=-1.")
_CAUSAL_NO_SOFTMAX = ("These are not weights (rows summing to 1, between 0 and 1): after masking, apply a softmax "
                      "over the last axis.")


class CausalAttentionWeights(Check):
    name = "causal_attention_weights"
    signature = "causal_attention_weights(scores)"
    expected_form = "an array of the shape of scores"
    public_cases = (
        Case({"scores": _S_A}, _W_A, "one sequence of 3 positions"),
        Case({"scores": _S_B}, _W_B, "a batch of 2 sequences of 4 positions"),
        Case({"scores": _S_C}, _W_C, "large scores, near 1000"),
    )

    def secret_inputs(self, rng):
        t1, t2, b = int(rng.integers(3, 8)), int(rng.integers(2, 7)), int(rng.integers(2, 4))
        return [{"scores": rng.normal(0, 2, (t1, t1))}, {"scores": rng.normal(0, 1.5, (b, t2, t2))},
                {"scores": rng.normal(0, 400, (4, 4))}]

    def hidden_inputs(self, rng):
        t = int(rng.integers(3, 6))
        return [{"scores": rng.normal(0, 1, (2, 3, t, t))}, {"scores": rng.normal(0, 1, (1, 1))}]

    def run(self, subject, inputs):
        return np.asarray(subject(np.array(inputs["scores"])), dtype=np.float64)

    def error_advice(self, inputs, error, detail):
        if any(word in detail for word in ("broadcast", "shape", "size")):
            return Mistake("Build the mask for the size of the scores: T = scores.shape[-1], then "
                           "np.tril(np.ones((T, T), dtype=bool)), which broadcasts over any leading axes.",
                           "mask_of_fixed_size")
        return ""

    def compare(self, inputs, got, expected):
        what = f"{self.signature}: the weights"
        scores = np.asarray(inputs["scores"], dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        got = np.asarray(got, dtype=np.float64)
        if got.shape != expected.shape:
            return compare_array(what, got, expected, inputs)
        if matches(got, expected, 1e-5):
            return None
        t = scores.shape[-1]
        if not np.all(np.isfinite(got)):
            finite_rows = np.isfinite(got).all(axis=-1)
            strict = _softmax(np.where(_tril(t, -1), scores, -np.inf))
            if t > 1 and not finite_rows[..., 0].any() and finite_rows[..., 1:].all() and \
                    matches(got[..., 1:, :], strict[..., 1:, :], 1e-5):
                return Mistake(f"{what} are nan in the first row only. {_DIAGONAL_ADVICE}", "diagonal_excluded")
            return Mistake(f"{what} contain nan or inf: {fmt(got)}. {_CAUSAL_OVERFLOW}", "overflow")
        lower, strict = _tril(t), _tril(t, -1)
        upper = ~_tril(t, -1)
        rows_ok = np.allclose(got.sum(axis=-1), 1.0, atol=1e-5)
        diagnoses = [
            (lambda: matches(got, _softmax(np.where(upper, scores, -np.inf)), 1e-5), _TRANSPOSED_ADVICE,
             "mask_transposed"),
            (lambda: t > 1 and matches(got[..., 1:, :], _softmax(np.where(strict, scores, -np.inf))[..., 1:, :], 1e-5),
             _DIAGONAL_ADVICE, "diagonal_excluded"),
            (lambda: matches(got, _softmax(scores) * lower, 1e-5), _CAUSAL_AFTER_ADVICE, "mask_after_softmax"),
            (lambda: matches(got, _softmax(scores * lower), 1e-5), _CAUSAL_MULTIPLY_ADVICE, "scores_times_mask"),
            (lambda: matches(got, _softmax(np.where(lower, scores, -np.inf), axis=-2), 1e-5), _CAUSAL_AXIS_ADVICE,
             "softmax_over_queries"),
            (lambda: rows_ok and np.any(np.abs(got[..., ~lower]) > 1e-9), _CAUSAL_MULTIPLY_ADVICE, "future_leak"),
            (lambda: not rows_ok and (np.any(got < 0) or np.any(got > 1)), _CAUSAL_NO_SOFTMAX, "no_softmax"),
        ]
        for test, advice, key in diagnoses:
            try:
                if test():
                    return Mistake(f"{what} are {fmt(got)}, expected {fmt(expected)}. {advice}", key)
            except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
                continue
        return compare_array(what, got, expected, inputs) or Mistake(f"{what} differ from the expected ones.", "other")


# ----------------------------------------------------------------------- trained models: shared pieces
def _model_kind_message(got, function: str, cell_hint: str) -> str | None:
    """The message for a report that holds no model, or None when it holds one."""
    if not isinstance(got, dict):
        return f"{function} returned something the grader cannot read: it should return the trained keras.Model."
    if got.get("is_model"):
        return None
    kind = str(got.get("kind"))[:60]
    if kind == "NoneType":
        return (f"The model is None: {function} (or a function it uses) is not implemented yet, or {cell_hint} "
                "stopped with an error. Finish the exercise and fix any error that cell shows.")
    if kind == "History":
        return (f"{function} returned a History, what model.fit returns, instead of the model: train the model "
                "with model.fit(...) and then `return model`.")
    return f"{function} returned a {kind}, not a keras.Model: return the trained model."


def _rebuild(record, function: str):
    """(model, None) or (None, message)."""
    try:
        return rebuild_model(record, compile=False), None
    except ModelRejected as exc:
        return None, f"The model {function} returned cannot be checked: {exc}."


# ----------------------------------------------------------------------- Exercise 3: the classifier
#: The trained classifier must get at least this share of the held-out sentences right (the reference: about 0.85).
CLASSIFIER_THRESHOLD = 0.75
CLASSIFIER_BUDGET = 50_000
N_CLASSES = 4


@lru_cache(maxsize=1)
def _classifier_pieces():
    from coursekit.text import corpus_split, vocabulary

    _, test_texts, _, y_test = corpus_split()
    return list(test_texts), np.asarray(y_test), list(vocabulary())


def _classifier_case(seed: int) -> dict:
    """The held-out sentences, each perturbed with `seed`, as word ids, in grader-only keys."""
    from coursekit.text import encode_words, perturb_sentences

    texts, labels, vocabulary = _classifier_pieces()
    return {"_X": encode_words(perturb_sentences(texts, np.random.default_rng(seed)), vocabulary),
            "_labels": labels}


class _LazyCase(Case):
    """A public case whose grader-only inputs are made on first use (the corpus is read then, not at import)."""

    def __init__(self, make, label):
        object.__setattr__(self, "_make", make)
        object.__setattr__(self, "expected", None)
        object.__setattr__(self, "label", label)

    @property
    def inputs(self):
        cached = self.__dict__.get("_inputs")
        if cached is None:
            cached = self._make()
            object.__setattr__(self, "_inputs", cached)
        return cached


def _trained_model(got, function: str):
    """(the rebuilt model, None), or (None, the Mistake that says why the report is not a usable model)."""
    message = _model_kind_message(got, function, "the training cell")
    if message:
        return None, Mistake(message, "not_a_model")
    model, message = _rebuild(got, function)
    if message:
        return None, Mistake(message, "model_rejected")
    return model, None


class TrainedClassifier(Check):
    """Judged on the held-out sentences with a word dropped and two neighbours swapped by the run's seed."""
    name = "trained_classifier"
    signature = "train_classifier(X_train, y_train, vocab_size)"
    expected_form = "the trained keras.Model"
    public_cases = (_LazyCase(lambda: _classifier_case(16_000), "the held-out sentences, perturbed"),)

    def secret_inputs(self, rng):
        return [_classifier_case(int(rng.integers(20_000, 10**9)))]

    def run(self, subject, inputs):
        return report_model(subject)

    def compare(self, inputs, got, expected):
        function = "train_classifier"
        model, mistake = _trained_model(got, function)
        if mistake:
            return mistake
        X, labels = np.asarray(inputs["_X"]).astype("int32"), np.asarray(inputs["_labels"])
        kinds = [type(layer).__name__ for layer in all_layers(model)]
        if "Embedding" not in kinds:
            return Mistake("The model has no Embedding layer (rule 2): the word ids are indices, not quantities, so "
                           "a network reads them through keras.layers.Embedding(vocab_size, d), which gives every "
                           "word a learned vector.", "no_embedding")
        n_params = int(model.count_params())
        if n_params > CLASSIFIER_BUDGET:
            return Mistake(f"The model has {n_params:,} parameters, more than the budget of {CLASSIFIER_BUDGET:,} "
                           "(rule 3). Embedding(vocab_size, d) alone has vocab_size * d: a smaller d brings it "
                           "within the budget.", "over_budget")
        try:
            probabilities = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot read word ids is the student's to fix
            return Mistake(f"The model cannot read a batch of {len(X)} rows of {X.shape[1]} word ids: "
                           f"{one_line(exc, 200)}.", "cannot_run")
        if list(probabilities.shape) != [len(X), N_CLASSES]:
            return Mistake(f"The model maps {len(X)} rows of word ids to outputs of shape {list(probabilities.shape)}, "
                           f"expected {[len(X), N_CLASSES]} (rule 1): one probability per family for each sentence. "
                           "A sequence of vectors must be pooled (GlobalAveragePooling1D, say) before the output "
                           "layer, Dense(4, activation='softmax').", "wrong_output_shape")
        if not is_probabilities(probabilities):
            return Mistake("The model's outputs are not probabilities (rule 1): end with Dense(4, "
                           "activation='softmax') and train with sparse_categorical_crossentropy.", "not_probabilities")
        predicted = probabilities.argmax(axis=1)
        accuracy = float(np.mean(predicted == labels))
        if accuracy >= CLASSIFIER_THRESHOLD:
            return None
        shown = (f"The trained model gets {accuracy:.1%} of {len(X)} held-out sentences right; at least "
                 f"{CLASSIFIER_THRESHOLD:.0%} is needed (rule 4). It meets rules 1 to 3.")
        if len(np.unique(predicted)) == 1:
            return Mistake(f"{shown} It predicts the same family for every sentence, so it learned nothing from the "
                           "words: check the labels passed to fit, the learning rate and the number of epochs.",
                           "one_class")
        return Mistake(f"{shown} So what is short is what it learned: compare with the validation accuracy the "
                       "training cell printed, and train longer or with a larger learning rate.", "low_accuracy")


# ----------------------------------------------------------------------- Exercise 4: the language model
LM_BUDGET = 20_000
#: The model's held-out next-character loss must be at least this far (nats) below the unigram baseline's
#: (the reference: about 1.9 against 2.84, 0.95 below).
LM_MARGIN = 0.5
_N_CHARS = 27
_POSITION_WISE = frozenset({"InputLayer", "Embedding", "MultiHeadAttention", "LayerNormalization", "Dense",
                            "EinsumDense", "Dropout", "Add", "Subtract", "Multiply", "Average", "Activation", "ReLU",
                            "Identity", "Rescaling"})
_CAUSAL_TOLERANCE = 1e-5


def _lm_case(seed: int, n: int = 300) -> dict:
    """`n` windows of the held-out characters at offsets drawn with `seed`, and the unigram baseline's loss on
    them, in grader-only keys."""
    from coursekit.text import char_streams, char_windows, unigram_cross_entropy

    train_ids, test_ids = char_streams()
    X, y = char_windows(test_ids, n, np.random.default_rng(seed))
    return {"_X": X, "_y": y, "_unigram": unigram_cross_entropy(train_ids, y)}


def _later_changed(X: np.ndarray, cut: int) -> np.ndarray:
    changed = X.copy()
    changed[:, cut + 1:] = (changed[:, cut + 1:] + 1 + np.arange(X.shape[1] - cut - 1)) % _N_CHARS
    return changed


class TrainedLanguageModel(Check):
    """Judged on windows of held-out characters: causality, structure, budget, and the next-character loss."""
    name = "trained_language_model"
    signature = "train_language_model(X_train, y_train, vocab_size)"
    expected_form = "the trained keras.Model"
    public_cases = (_LazyCase(lambda: _lm_case(16_000), "300 windows of held-out text"),)

    def secret_inputs(self, rng):
        return [_lm_case(int(rng.integers(20_000, 10**9)))]

    def run(self, subject, inputs):
        return report_model(subject)

    def compare(self, inputs, got, expected):
        function = "train_language_model"
        model, mistake = _trained_model(got, function)
        if mistake:
            return mistake
        X, y = np.asarray(inputs["_X"]).astype("int32"), np.asarray(inputs["_y"]).astype(np.int64)
        n, t = X.shape
        kinds = [type(layer).__name__ for layer in all_layers(model)]
        mixing = sorted(set(kinds) - _POSITION_WISE)
        if mixing:
            return Mistake(f"The model uses {', '.join(mixing)}: in a transformer positions exchange information only "
                           "through attention (rule 3). Build it from Embedding, MultiHeadAttention, "
                           "LayerNormalization, Dense and Dropout layers and + between tensors.", "not_attention_only")
        if "MultiHeadAttention" not in kinds:
            return Mistake("The model has no MultiHeadAttention layer, so every position predicts from its own "
                           "character only (rule 3): add a causal self-attention block.", "no_attention")
        n_params = int(model.count_params())
        if n_params > LM_BUDGET:
            return Mistake(f"The model has {n_params:,} parameters, more than the budget of {LM_BUDGET:,} (rule 4): "
                           "a smaller d_model or feed-forward width brings it within the budget.", "over_budget")
        try:
            probabilities = predict(model, X)
        except Exception as exc:  # noqa: BLE001
            return Mistake(f"The model cannot read a batch of {n} windows of {t} character ids: {one_line(exc, 200)}.",
                           "cannot_run")
        want = [n, t, _N_CHARS]
        if list(probabilities.shape) != want:
            return Mistake(f"The model maps {n} windows of {t} characters to outputs of shape "
                           f"{list(probabilities.shape)}, expected {want} (rule 1): a softmax over the {_N_CHARS} "
                           "characters at every position, Dense(vocab_size, activation='softmax').", "wrong_output_shape")
        if not is_probabilities(probabilities.reshape(-1, _N_CHARS)):
            return Mistake("The model's outputs are not probabilities (rule 1): end with Dense(vocab_size, "
                           "activation='softmax').", "not_probabilities")
        probe = X[:100]
        base = probabilities[:len(probe)]
        worst, first = 0.0, None
        for cut in sorted({0, 1, 3, 7, 12, 18, 25, t - 2} & set(range(t - 1))):
            moved = predict(model, _later_changed(probe, cut))
            leak = float(np.max(np.abs(moved[:, :cut + 1] - base[:, :cut + 1])))
            if leak > _CAUSAL_TOLERANCE and first is None:
                first = cut
            worst = max(worst, leak)
        if first is not None:
            return Mistake(f"Changing the characters after position {first} changes the model's predictions at "
                           f"positions 0 to {first} (probabilities move by up to {worst:.2g}): the model looks ahead, "
                           "so it could read the character it must predict (rule 2). Make the attention causal, "
                           "mha(x, x, use_causal_mask=True).", "looks_ahead")
        rows = np.arange(n)[:, None], np.arange(t)[None, :]
        loss = float(-np.mean(np.log(np.clip(probabilities[rows[0], rows[1], y], 1e-7, 1.0))))
        unigram = float(inputs["_unigram"])
        if loss <= unigram - LM_MARGIN:
            return None
        return Mistake(f"The model's next-character loss on held-out text is {loss:.3f} nats; the unigram baseline, "
                       f"which predicts every character from its frequency alone, has {unigram:.3f}, and the model must "
                       f"be at least {LM_MARGIN} below it (rule 5). It meets rules 1 to 4, so what is short is what it "
                       "learned: train longer or with a larger learning rate, and give it positions (a positional "
                       "encoding added to the embeddings).", "high_loss")


CHECKS = CheckSet("16_text", [Vectorize(), CausalAttentionWeights(), TrainedClassifier(), TrainedLanguageModel()])
vectorize = CHECKS["vectorize"]
causal_attention_weights = CHECKS["causal_attention_weights"]
trained_classifier = CHECKS["trained_classifier"]
trained_language_model = CHECKS["trained_language_model"]
