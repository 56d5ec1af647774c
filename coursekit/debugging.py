"""Diagnostics for training runs, shared by lesson 14 and its exercise: a learning-rate range test, gradient norms
per layer, dead ReLU units, a confusion matrix, and their plots. Each plot returns the matplotlib Axes it drew on."""
from __future__ import annotations

import math

import numpy as np

from .plotting import _axes


def lr_range_test(model, X, y, lr_min: float = 1e-4, lr_max: float = 10.0, steps: int = 60, batch_size: int = 32,
                  seed: int = 0, stop_factor: float = 4.0):
    """Leslie Smith's learning-rate range test: one mini-batch step per learning rate, the rate growing
    geometrically from lr_min to lr_max, on a compiled `model` (its weights change: pass a fresh one).

    Returns (rates, losses), the training loss of each step; it stops early once the loss is nan or more than
    `stop_factor` times the lowest loss so far (the rate is then far too high).
    """
    rng = np.random.default_rng(seed)
    rates = lr_min * (lr_max / lr_min) ** (np.arange(steps) / max(1, steps - 1))
    seen, losses = [], []
    for rate in rates:
        rows = rng.choice(len(X), batch_size, replace=False)
        model.optimizer.learning_rate = float(rate)
        result = model.train_on_batch(X[rows], y[rows])
        loss = float(result[0] if isinstance(result, (list, tuple)) else result)
        seen.append(float(rate))
        losses.append(loss)
        if not math.isfinite(loss) or loss > stop_factor * min(losses):
            break
    return np.array(seen), np.array(losses)


def smoothed(values, weight: float = 0.8) -> np.ndarray:
    """Exponential moving average with bias correction (as TensorBoard smooths curves)."""
    out, average = [], 0.0
    for k, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** k))
    return np.array(out)


def plot_lr_range(rates, losses, ax=None, title: str = "Learning-rate range test", mark=None):
    """The loss of each range-test step against its learning rate (log scale), raw and smoothed."""
    ax = _axes(ax)
    finite = np.isfinite(losses)
    ax.semilogx(np.asarray(rates)[finite], np.asarray(losses)[finite], ".", alpha=0.4, label="loss of each step")
    ax.semilogx(np.asarray(rates)[finite], smoothed(np.asarray(losses)[finite]), lw=2, label="smoothed")
    if mark is not None:
        ax.axvline(mark, color="k", ls="--", lw=1, label=f"chosen rate {mark:.2g}")
    if finite.any():  # the last steps explode: keep the scale of the start, where the fall is
        ax.set_ylim(0, 2 * float(np.asarray(losses)[finite][0]))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def gradient_norms(model, X, y, loss_fn) -> dict[str, float]:
    """The L2 norm of the loss gradient with respect to each kernel (weight matrix) of `model`, on one batch.

    `loss_fn(y, outputs)` is a Keras loss, e.g. keras.losses.SparseCategoricalCrossentropy(from_logits=True).
    Keys are the layer names, in order.
    """
    import tensorflow as tf

    X = tf.convert_to_tensor(np.asarray(X, dtype="float32"))
    kernels = [(layer.name, layer.kernel) for layer in model.layers if getattr(layer, "kernel", None) is not None]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(X, training=True))
    grads = tape.gradient(loss, [kernel for _, kernel in kernels])
    return {name: float(tf.norm(g)) if g is not None else 0.0 for (name, _), g in zip(kernels, grads)}


def plot_gradient_norms(norms: dict[str, dict[str, float]], ax=None, title: str = "Gradient norm per layer"):
    """Grouped bars: for each run (outer key), the gradient norm of each layer (the inner dict, in layer order;
    layers are matched by position, since two models name their layers differently), on a log scale."""
    ax = _axes(ax)
    runs = list(norms)
    n_layers = max(len(norms[run]) for run in runs)
    width = 0.8 / len(runs)
    for k, run in enumerate(runs):
        values = [max(v, 1e-12) for v in norms[run].values()]
        ax.bar(np.arange(len(values)) + (k - (len(runs) - 1) / 2) * width, values, width, label=run)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(n_layers))
    ax.set_xticklabels([str(i + 1) for i in range(n_layers - 1)] + ["output"], fontsize=8)
    ax.set_xlabel("Dense layer (input side on the left)")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def relu_outputs(model, X) -> list[np.ndarray]:
    """The outputs of every Dense layer with a ReLU activation, for the rows of X, in order."""
    outputs, h = [], np.asarray(X, dtype="float32")
    for layer in model.layers:
        h = layer(h)
        if getattr(getattr(layer, "activation", None), "__name__", "") == "relu":
            outputs.append(np.asarray(h))
    return outputs


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """counts[i, j]: how many samples of true class i were predicted as class j."""
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return counts


def plot_confusion_matrix(counts, ax=None, title: str = "Confusion matrix"):
    """The confusion matrix as an image, with each count written in its cell."""
    ax = _axes(ax)
    counts = np.asarray(counts)
    ax.imshow(counts, cmap="Blues")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(counts.shape[1]))
    ax.set_yticks(range(counts.shape[0]))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return ax
