"""Plots that several lessons draw. Each returns the matplotlib Axes it drew on."""
from __future__ import annotations

from typing import Callable

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(4.5, 4))
    return ax


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
                           title: str = "", ax=None, padding: float = 0.5, resolution: int = 200,
                           marker_size: float = 70):
    """Shade the regions a 2-D classifier assigns to each class and draw the labelled points.

    `predict` maps an (N, 2) array to N class labels (or scores, thresholded at 0.5).
    """
    ax = _axes(ax)
    x0 = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    x1 = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    grid0, grid1 = np.meshgrid(x0, x1)
    scores = np.asarray(predict(np.c_[grid0.ravel(), grid1.ravel()])).reshape(grid0.shape)
    if scores.dtype.kind == "f" and not np.all(np.isin(scores, [0.0, 1.0])):
        scores = (scores >= 0.5).astype(int)
    ax.contourf(grid0, grid1, scores, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
    for label, marker, color in ((0, "o", "#c0392b"), (1, "s", "#2166ac")):
        mask = np.asarray(y) == label
        ax.scatter(X[mask, 0], X[mask, 1], marker=marker, s=marker_size, c=color, edgecolors="k", label=f"class {label}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_function_and_derivative(f: Callable, df: Callable, name: str, x=None, ax=None):
    """Draw an activation function and its derivative on one Axes."""
    ax = _axes(ax)
    x = np.linspace(-5, 5, 401) if x is None else x
    ax.plot(x, f(x), label=name, lw=2)
    ax.plot(x, df(x), "--", label=f"{name}'", lw=2)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("z")
    ax.set_ylabel("value")
    ax.set_title(name)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_history(history, metrics=("loss",), ax=None, title: str = ""):
    """Training and validation curves from a Keras History (or its .history dict)."""
    ax = _axes(ax)
    logs = getattr(history, "history", history)
    for metric in metrics:
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], label=f"training {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "--", label=f"validation {metric}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(", ".join(metrics))
    ax.set_title(title or ", ".join(metrics))
    ax.legend(loc="best", fontsize=8)
    return ax
