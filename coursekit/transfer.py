"""Transfer learning on scikit-learn's 8x8 digits, shared by lesson 15 and exercise 15.

An encoder (two Dense layers, 64 -> 64 -> 32) is pretrained inside the course without labels, as the first
half of an autoencoder trained on every image of the training split, in a few seconds and without downloading
anything. The *target* task is digits 5-9 (relabelled 0-4) with only a handful of labels per class; the
exercise reuses the encoder for it. `source_task` (digits 0-4 with all their labels) serves the lesson's
supervised pretraining, whose features transfer worse.

Everything here is deterministic for a given seed, so the lesson, the exercise and the checks all
start from the same encoder.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Digits of the source task (pretraining) and of the target task (transfer), as in the data set.
SOURCE_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)
N_CLASSES = 5
#: Units of the encoder's Dense layers (ReLU): 64 pixels -> 64 -> 32 features.
ENCODER_WIDTHS = (64, 32)
#: Rows of the target digits of the training split kept apart as validation data.
N_VAL = 150
#: Pretraining: an autoencoder on every image of the training split (no labels), Adam(3e-3), batches of 64.
PRETRAIN_EPOCHS = 15
#: The learning rate a transfer model's head is trained with; fine-tuning uses a tenth of it.
HEAD_RATE = 1e-2


@lru_cache(maxsize=1)
def _split():
    from coursekit.data import digits_split

    return digits_split()


def source_task():
    """(X, y): the training split's images of digits 0-4 (flattened, 64 pixels in [0, 1]) and their labels."""
    X_train, _, y_train, _ = _split()
    keep = y_train < 5
    return X_train[keep].copy(), np.asarray(y_train[keep]).astype("int64")


def target_task():
    """(X_pool, y_pool, X_val, y_val): the training split's images of digits 5-9, labels 0-4 (digit - 5).

    The last N_VAL of them are the validation set; the others are the pool the small labelled sets are
    drawn from. The test split is never handed out: the checks judge models on perturbed test digits.
    """
    X_train, _, y_train, _ = _split()
    keep = y_train >= 5
    X, y = X_train[keep], np.asarray(y_train[keep]).astype("int64") - 5
    return X[:-N_VAL].copy(), y[:-N_VAL].copy(), X[-N_VAL:].copy(), y[-N_VAL:].copy()


def labelled_subset(X_pool, y_pool, per_class: int, seed: int = 0):
    """(X, y): `per_class` images of each class drawn from the pool, in a shuffled order, the same per seed."""
    rng = np.random.default_rng(seed)
    y_pool = np.asarray(y_pool)
    rows = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), per_class, replace=False)
                           for c in range(N_CLASSES)])
    rows = rng.permutation(rows)
    return np.asarray(X_pool)[rows].astype("float32"), y_pool[rows].astype("int64")


def build_encoder(widths=ENCODER_WIDTHS, name: str = "encoder"):
    """A fresh (untrained) encoder: keras.Sequential of Dense ReLU layers from 64 pixels."""
    import keras

    return keras.Sequential([keras.Input(shape=(64,))] +
                            [keras.layers.Dense(units, activation="relu") for units in widths], name=name)


def build_scratch_model(n_classes: int = N_CLASSES, learning_rate: float = 1e-3):
    """The transfer model's architecture with every weight fresh: encoder layers and a softmax head, compiled."""
    import keras

    model = keras.Sequential([build_encoder(name="fresh_encoder"),
                              keras.layers.Dense(n_classes, activation="softmax", name="head")], name="scratch")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def pretrain_encoder(seed: int = 0, epochs: int = PRETRAIN_EPOCHS):
    """(encoder, autoencoder): an encoder pretrained without labels, as the first half of an autoencoder.

    The autoencoder (the encoder, then Dense(64, relu) and Dense(64, sigmoid)) learns to rebuild every image of
    the training split, all ten digits, from its 32 features, with the mean squared error; no label is used.
    Takes a few seconds on a CPU.
    """
    import keras

    X_train = _split()[0]
    keras.utils.set_random_seed(seed)
    encoder = build_encoder()
    decoder = keras.Sequential([keras.Input(shape=(ENCODER_WIDTHS[-1],)), keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dense(64, activation="sigmoid")], name="decoder")
    autoencoder = keras.Sequential([encoder, decoder], name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    autoencoder.fit(X_train, X_train, epochs=epochs, batch_size=64, verbose=0)
    _PRETRAINED[(seed, epochs)] = [w.copy() for w in encoder.get_weights()]
    return encoder, autoencoder


#: Weights of the encoders pretrain_encoder has trained in this process, by (seed, epochs).
_PRETRAINED: dict = {}


def pretrained_weights(seed: int = 0, epochs: int = PRETRAIN_EPOCHS) -> list:
    """The weights of pretrain_encoder(seed)'s encoder, trained once per process and then remembered."""
    if (seed, epochs) not in _PRETRAINED:
        pretrain_encoder(seed, epochs)
    return [w.copy() for w in _PRETRAINED[(seed, epochs)]]


def jittered(weights, seed: int, scale: float = 0.01) -> list:
    """Weights each multiplied by (1 + scale * standard normal noise): an encoder as good, but not the same."""
    rng = np.random.default_rng(seed)
    return [(np.asarray(w) * (1.0 + scale * rng.standard_normal(np.shape(w)))).astype("float32") for w in weights]


def copy_encoder(encoder):
    """A copy of a model with the same architecture and the same weights (fine-tuning the copy leaves the
    original as it was)."""
    import keras

    copy = keras.models.clone_model(encoder)
    copy.set_weights(encoder.get_weights())
    copy.trainable = encoder.trainable
    return copy


def encoder_from_weights(weights, name: str = "encoder"):
    """An encoder of Dense ReLU layers holding `weights` ([kernel, bias, kernel, bias, ...], as get_weights gives)."""
    encoder = build_encoder([int(np.shape(w)[1]) for w in weights[::2]], name=name)
    encoder.set_weights([np.asarray(w, dtype="float32") for w in weights])
    return encoder


def frozen_transfer_model(encoder_weights, head_weights, learning_rate: float = HEAD_RATE):
    """An encoder holding `encoder_weights`, frozen, under a softmax head holding `head_weights`, compiled with
    Adam(learning_rate) and the sparse categorical cross-entropy: a model whose head has been trained."""
    import keras

    encoder = encoder_from_weights(encoder_weights)
    encoder.trainable = False
    head = keras.layers.Dense(int(np.shape(head_weights[0])[1]), activation="softmax", name="head")
    model = keras.Sequential([encoder, head], name="transfer")
    head.set_weights([np.asarray(w, dtype="float32") for w in head_weights])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit_head(encoder_weights, X, y, epochs: int = 40, seed: int = 0) -> list:
    """Head weights [kernel, bias] trained on the frozen encoder's features of (X, y) (Adam 1e-2, batch 16)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = frozen_transfer_model(encoder_weights, [np.zeros((int(np.shape(encoder_weights[-1])[0]), N_CLASSES),
                                                            dtype="float32"), np.zeros(N_CLASSES, dtype="float32")])
    model.fit(np.asarray(X, dtype="float32"), np.asarray(y), epochs=epochs, batch_size=16, verbose=0)
    return [w.copy() for w in model.layers[-1].get_weights()]


def accuracy_of(model, X, y) -> float:
    """The share of images whose most probable class is the label."""
    probabilities = np.asarray(model.predict(np.asarray(X, dtype="float32"), verbose=0))
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(y)))
