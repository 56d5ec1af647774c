"""Text that ships with Python itself: the docstrings of standard-library modules, for lesson and exercise 16.

Nothing is downloaded. The corpus is the documentation strings (``__doc__``) of the public
functions and classes (and their public methods) of a fixed list of standard-library modules,
grouped in four families: maths, text, files and time. CPython's docstrings are under the
Python Software Foundation License (PSF License Version 2), like the rest of the standard
library. Every sentence is lowercased, stripped of punctuation and kept when it has 5 to 40
words and no digits; doctest examples (paragraphs with ">>>") are left out.

The docstrings belong to the interpreter that runs the code, so the grader and a student's
kernel (the same interpreter, the course's venv) see the same corpus. Everything here is
deterministic: the modules, names and sentences are visited in sorted order, and the splits
use fixed seeds.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import re
import string
import sys
from collections import Counter

import numpy as np

#: The four families (the class labels, in this order) and the modules whose docstrings make each one.
FAMILIES: dict[str, tuple[str, ...]] = {
    "maths": ("math", "cmath", "statistics", "fractions", "decimal", "random"),
    "text": ("string", "re", "textwrap", "difflib", "unicodedata", "codecs"),
    "files": ("os", "os.path", "shutil", "pathlib", "glob", "tempfile", "filecmp"),
    "time": ("datetime", "time", "calendar"),
}
CLASS_NAMES: tuple[str, ...] = tuple(FAMILIES)
#: Where a module's public functions are really defined (C modules and the platform's path module).
_ALSO_DEFINED_IN = {"os": ("posix", "nt"), "os.path": ("posixpath", "genericpath", "ntpath")}
LICENCE = "Python Software Foundation License Version 2 (the CPython standard library's docstrings)"

#: Word-level settings of the classifier (Exercises 1 and 3): the vocabulary size (padding and OOV
#: included, as TextVectorization counts it) and the fixed sequence length.
MAX_TOKENS = 2000
SEQ_LEN = 24
PAD, OOV = "", "[UNK]"

#: Character-level settings of the language model (Exercise 4): the context length.
CONTEXT = 32

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def standardize(text: str) -> str:
    """Lowercase and remove every character of string.punctuation: TextVectorization's default,
    "lower_and_strip_punctuation", for ASCII text."""
    return text.lower().translate(_PUNCTUATION)


def _docstrings(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    homes = {module_name, "_" + module_name, *_ALSO_DEFINED_IN.get(module_name, ())}
    found = []
    for name in sorted(vars(module)):
        obj = getattr(module, name)
        if name.startswith("_") or not (inspect.isroutine(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) not in homes:
            continue  # imported from elsewhere (collections in statistics, say)
        doc = getattr(obj, "__doc__", None)
        if isinstance(doc, str):
            found.append(doc)
        if inspect.isclass(obj):
            for method_name, method in sorted(vars(obj).items()):
                method_doc = getattr(method, "__doc__", None)
                if not method_name.startswith("_") and isinstance(method_doc, str) and method_doc != doc:
                    found.append(method_doc)
    return found


def _sentences(doc: str) -> list[str]:
    kept = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        if ">>>" in paragraph:
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(paragraph.split())):
            if re.search(r"\d", sentence):
                continue
            words = standardize(sentence).split()
            if 5 <= len(words) <= 40:
                kept.append(" ".join(words))
    return kept


@functools.lru_cache(maxsize=1)
def docstring_corpus() -> tuple[tuple[str, ...], np.ndarray]:
    """(sentences, labels): every distinct sentence of the corpus and its family's index in CLASS_NAMES.

    A sentence that appears in two families is kept in the first only.
    """
    seen: set[str] = set()
    texts, labels = [], []
    for label, modules in enumerate(FAMILIES.values()):
        family = sorted({s for m in modules for doc in _docstrings(m) for s in _sentences(doc)} - seen)
        seen.update(family)
        texts.extend(family)
        labels.extend([label] * len(family))
    return tuple(texts), np.asarray(labels, dtype="int64")


def corpus_split(test_fraction: float = 0.25, seed: int = 0):
    """(train_texts, test_texts, y_train, y_test): a fixed, stratified split of the sentences."""
    texts, labels = docstring_corpus()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(texts), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test[rng.choice(members, int(round(test_fraction * len(members))), replace=False)] = True
    order_train, order_test = np.flatnonzero(~test), np.flatnonzero(test)
    return ([texts[i] for i in order_train], [texts[i] for i in order_test], labels[order_train], labels[order_test])


def build_vocabulary(texts, max_tokens: int = MAX_TOKENS) -> list[str]:
    """The `max_tokens - 2` most frequent words of `texts` (ties in alphabetical order), most frequent first.

    Given to TextVectorization(vocabulary=...), which puts the padding token "" at index 0 and the
    out-of-vocabulary token "[UNK]" at index 1 in front of them, so word i of this list gets id i + 2.
    """
    counts = Counter(word for text in texts for word in standardize(text).split())
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    return ranked[: max_tokens - 2]


def encode_words(texts, vocabulary, seq_len: int = SEQ_LEN) -> np.ndarray:
    """Integer ids as TextVectorization(vocabulary=vocabulary, output_sequence_length=seq_len) makes them:
    0 pads, 1 is an out-of-vocabulary word, vocabulary[i] is i + 2; padded and truncated at the end."""
    index = {word: i + 2 for i, word in enumerate(vocabulary)}
    out = np.zeros((len(texts), seq_len), dtype="int64")
    for row, text in enumerate(texts):
        ids = [index.get(word, 1) for word in standardize(text).split()][:seq_len]
        out[row, : len(ids)] = ids
    return out


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """The classifier's vocabulary, built on the training sentences of `corpus_split` only."""
    return tuple(build_vocabulary(corpus_split()[0]))


def classifier_data(validation_fraction: float = 0.2, seed: int = 0):
    """The data of Exercise 3: (X_train, y_train, X_val, y_val, vocabulary), the word ids of the training
    sentences of `corpus_split`, a fixed `validation_fraction` of them held apart for validation.

    The test sentences are the grader's: it judges a classifier on them, perturbed (`perturb_sentences`).
    """
    train_texts, _, y, _ = corpus_split()
    X = encode_words(train_texts, vocabulary())
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = int(round(validation_fraction * len(X)))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val], list(vocabulary())


def perturb_sentences(texts, rng: np.random.Generator) -> list[str]:
    """Each sentence with one random word dropped and two neighbouring words swapped (seeded by `rng`), both
    among the first SEQ_LEN words, which are the ones a row of ids keeps.

    What the grader judges a classifier on: the held-out sentences, but none exactly as shipped.
    """
    out = []
    for text in texts:
        words = text.split()
        del words[int(rng.integers(min(len(words), SEQ_LEN)))]  # within the words a row keeps
        i = int(rng.integers(min(len(words), SEQ_LEN) - 1))
        words[i], words[i + 1] = words[i + 1], words[i]
        out.append(" ".join(words))
    return out


# ----------------------------------------------------------------------------- characters (Exercise 4)
#: The characters of the language model: a space, then a to z (sentences are joined by a space).
CHARACTERS = " " + string.ascii_lowercase


def char_text(texts) -> str:
    """The sentences joined into one stream of characters, each followed by a space."""
    return "".join(text + " " for text in texts)


def encode_chars(text: str) -> np.ndarray:
    """Character ids: the index of each character in CHARACTERS."""
    table = {c: i for i, c in enumerate(CHARACTERS)}
    return np.asarray([table[c] for c in text], dtype="int64")


def decode_chars(ids) -> str:
    return "".join(CHARACTERS[int(i)] for i in ids)


@functools.lru_cache(maxsize=1)
def char_streams() -> tuple[np.ndarray, np.ndarray]:
    """(train_ids, test_ids): the training and test sentences of `corpus_split` as character ids."""
    train_texts, test_texts, _, _ = corpus_split()
    return encode_chars(char_text(train_texts)), encode_chars(char_text(test_texts))


def char_windows(ids: np.ndarray, n: int, rng: np.random.Generator, context: int = CONTEXT):
    """(X, y): `n` windows at random offsets, X of `context` ids and y the same window shifted by one."""
    starts = rng.integers(0, len(ids) - context - 1, n)
    windows = np.stack([ids[s: s + context + 1] for s in starts])
    return windows[:, :-1], windows[:, 1:]


def language_model_data(n: int = 6000, seed: int = 0):
    """The training data of Exercise 4: `n` windows of the training stream, next characters as targets."""
    return char_windows(char_streams()[0], n, np.random.default_rng(seed))


def unigram_cross_entropy(train_ids: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy (nats) of predicting every target with the training text's character frequencies."""
    counts = np.bincount(train_ids, minlength=len(CHARACTERS)) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-np.mean(log_p[np.asarray(targets)]))


def positional_encoding(seq_len: int, d_model: int) -> np.ndarray:
    """The sinusoidal positional encoding of lesson 12, float32: sin in even columns, cos in odd ones."""
    angles = np.arange(seq_len)[:, None] / 10000.0 ** (2 * np.arange(d_model // 2)[None, :] / d_model)
    pe = np.zeros((seq_len, d_model), dtype="float32")
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe


def generate(model, prompt: str, length: int, temperature: float = 1.0, seed: int = 0,
             context: int = CONTEXT) -> str:
    """`length` characters sampled from a character model after `prompt`, one at a time.

    The model reads the last `context` characters (the prompt is padded in front with spaces); the next
    character is drawn from its last position's probabilities, sharpened (temperature < 1) or flattened
    (temperature > 1) as p ** (1 / temperature), renormalised.
    """
    rng = np.random.default_rng(seed)
    ids = list(encode_chars(" " * context + standardize(prompt)))
    for _ in range(length):
        window = np.asarray(ids[-context:], dtype="int32")[None]
        p = np.asarray(model(window, training=False))[0, -1].astype(np.float64)
        logits = np.log(np.clip(p, 1e-12, None)) / temperature
        q = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(q), p=q / q.sum())))
    return decode_chars(ids[context:])


def python_version() -> str:
    return sys.version.split()[0]
