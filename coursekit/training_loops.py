"""Plots and a toy tuning problem shared by lesson 17 and its exercise (training loops and tuning)."""
from __future__ import annotations

import numpy as np

#: The toy tuning problem's search box: log10 of the learning rate and log10 of the weight decay.
LOG_LR_RANGE = (-5.0, -1.0)
LOG_WD_RANGE = (-6.0, -2.0)


def tuning_objective(learning_rate, weight_decay):
    """A made-up validation loss over (learning rate, weight decay), cheap to evaluate anywhere.

    The learning rate matters a lot (a narrow valley around 10**-2.7 on a log scale); the weight decay hardly
    at all (a shallow bowl around 10**-4). Both arguments may be arrays of the same shape.
    """
    log_lr = np.log10(np.asarray(learning_rate, dtype=np.float64))
    log_wd = np.log10(np.asarray(weight_decay, dtype=np.float64))
    return 0.25 + 0.9 * (1.0 - np.exp(-((log_lr + 2.7) / 0.35) ** 2)) + 0.02 * (log_wd + 4.0) ** 2


def grid_points(per_axis: int = 3):
    """A log-spaced grid: per_axis values of each hyperparameter, per_axis**2 trials."""
    lrs = np.logspace(*LOG_LR_RANGE, per_axis)
    wds = np.logspace(*LOG_WD_RANGE, per_axis)
    lr_grid, wd_grid = np.meshgrid(lrs, wds)
    return lr_grid.ravel(), wd_grid.ravel()


def plot_search(grid, random, objective=tuning_objective, ax=None, title: str = ""):
    """The objective as a filled contour over the log-scaled box, the grid's and the random search's trials on it,
    and each one's best trial. `grid` and `random` are pairs (learning rates, weight decays)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    lr = np.logspace(*LOG_LR_RANGE, 200)
    wd = np.logspace(*LOG_WD_RANGE, 200)
    LR, WD = np.meshgrid(lr, wd)
    filled = ax.contourf(LR, WD, objective(LR, WD), levels=20, cmap="viridis_r")
    plt.colorbar(filled, ax=ax, label="validation loss (toy)")
    for (lrs, wds), marker, colour, name in ((grid, "s", "white", "grid"), (random, "o", "red", "random")):
        values = objective(lrs, wds)
        best = int(np.argmin(values))
        ax.scatter(lrs, wds, marker=marker, s=40, facecolors="none", edgecolors=colour,
                   label=f"{name}: {len(lrs)} trials, {len(set(np.round(np.log10(lrs), 6)))} distinct learning rates, "
                         f"best {values[best]:.3f}")
        ax.scatter([lrs[best]], [wds[best]], marker="*", s=200, c=colour, edgecolors="k")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("weight decay (log scale)")
    ax.set_title(title or "Grid search against random search, same number of trials")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    return ax


def plot_rates(steps, rates_by_label: dict, ax=None, title: str = "", xlabel: str = "step"):
    """Learning-rate curves, one per label, against the step (or epoch)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    styles = ("-", "--", ":", "-.")
    for k, (label, rates) in enumerate(rates_by_label.items()):
        ax.plot(steps, rates, styles[k % len(styles)], lw=2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
