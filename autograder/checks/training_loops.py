"""Checks for 17_training_loops: a warmup-and-cosine learning-rate schedule, ReduceLROnPlateau's rules as a
function of the validation losses, the mini-batch training loop behind `fit` written with GradientTape, and
log-uniform sampling for a random search.

Exercises 1, 2 and 4 are plain functions of numbers. Exercise 1's and 2's public expected values are literals
worked out once offline with `schedule_reference` and `plateau_reference` below, which agree with Keras 3's own
`keras.optimizers.schedules.CosineDecay(..., warmup_target=, warmup_steps=)` and `ReduceLROnPlateau` (run on the
same inputs: within 1e-7 of the peak rate for the schedule, equal in float32 for the plateau rule). Diagnoses
compute the outputs of common mistakes from the inputs, so that a message can name the mistake.

Exercise 3 trains a model the check builds. The kernel builds it from the case's architecture and initial
weights (both chosen by the grader), calls the student's `train_loop`, and reports the trained model
(`model_data.report_model`: config and weights) and the losses it returned. The grader runs nothing the kernel
says: it rebuilds the reported model and compares its weights with those it gets by running the course's own
loop (`reference_loop`) on the same inputs and the same initial weights, and compares the losses with that
loop's batch losses. A wrong answer is named by running the common mistakes' loops on the same inputs.

Exercise 4 is judged by statistics: the kernel reports the samples for one seed (twice) and for another seed;
the grader checks the range, the reproducibility and a Kolmogorov-Smirnov test of log-uniformity on the
logarithms (p >= 1e-6 on 1000-2000 samples: a correct sampler fails it once in a million gradings; sampling on
the linear scale gives p < 1e-30 on every case used).

Stated rules (part / rule / how it is checked). 28 rules found, 26 checked, 2 suggestions only.
  Ex1 warmup_cosine / returns one number for one step / run reads one number per step; message otherwise
  Ex1 warmup_cosine / linear warmup from 0 at step 0 to peak_lr at step warmup_steps / values; "off by one" and
      "warmup from final_lr" diagnoses
  Ex1 warmup_cosine / cosine from peak_lr to final_lr over the total_steps - warmup_steps steps after the warmup /
      values; diagnoses: cosine over total_steps, cosine counted from step 0, no 0.5 (1 + cos), decay to 0,
      final_lr passed as Keras's alpha
  Ex1 warmup_cosine / final_lr after total_steps (no rise) / public and secret steps past total_steps; diagnosis
  Ex1 warmup_cosine / warmup_steps = 0 means no warmup / a public and secret cases with warmup_steps = 0
  Ex1 warmup_cosine / the same convention as Keras's CosineDecay with initial_learning_rate=0, alpha =
      final_lr / peak_lr / catalogue alternative that calls Keras (float32 passes)
  Ex2 plateau_schedule / returns the learning rate in effect during each epoch, one per loss / length; "after each
      epoch" (shifted) diagnosis
  Ex2 plateau_schedule / an improvement is loss < best - min_delta, strictly / public ties; "<=" and "min_delta
      ignored" diagnoses
  Ex2 plateau_schedule / best changes only on an improvement / diagnosis "best is the running minimum"
  Ex2 plateau_schedule / wait resets on an improvement / diagnosis
  Ex2 plateau_schedule / reduce when wait reaches patience (>=) / "> patience" diagnosis
  Ex2 plateau_schedule / lr = max(lr * factor, min_lr), and only while lr > min_lr / "no floor" diagnosis
  Ex2 plateau_schedule / wait resets after a reduction / diagnosis "reduced every epoch"
  Ex2 plateau_schedule / cooldown: the counter decreases first, wait = 0 while it runs, best still tracked /
      "cooldown ignored" and "cooldown epochs skipped" diagnoses
  Ex2 plateau_schedule / val_losses left unchanged / run compares them after the call
  Ex3 train_loop / batches X[i:i + batch_size] in order, every epoch, no shuffling / weights; the generic message
      names shuffling (a shuffled order cannot be replayed)
  Ex3 train_loop / one Adam(learning_rate) created once, before the loops / weights; diagnoses: an optimizer per
      batch, an optimizer per epoch
  Ex3 train_loop / loss: SparseCategoricalCrossentropy(from_logits=True), the mean over the batch / losses
      (sum diagnosis) and weights (probabilities diagnosis)
  Ex3 train_loop / the forward pass with training=True inside the tape / weights (the model holds a
      BatchNormalization layer); diagnosis
  Ex3 train_loop / one update per batch / weights; "last batch only" diagnosis
  Ex3 train_loop / the model is trained in place / weights unchanged diagnosis
  Ex3 train_loop / returns one loss per epoch: the mean of its batch losses, each computed before its update /
      losses; diagnoses: the last batch's loss, the sum of the batch losses, a History returned, the loss
      recomputed after the update
  Ex3 train_loop / written with tf.GradientTape / suggestion only: a `fit(shuffle=False)` gives the same weights
      and passes
  Ex3 train_loop / weights and losses are separable: 2 of 4 points each (Partial)
  Ex4 log_uniform_samples / an array of n samples in [low, high] / shape and range messages
  Ex4 log_uniform_samples / log-uniform: log(x) uniform on [log low, log high] / KS test; "linear scale", "few
      distinct values (integer exponents)" diagnoses
  Ex4 log_uniform_samples / reproducible: the same seed gives the same samples, another seed others / the kernel
      calls it three times; diagnoses "not seeded" and "seed ignored"
  Ex1-4 / "about N lines", hints / suggestion only
Per exercise: Ex1 6 found, 6 checked; Ex2 9/9; Ex3 9 found, 8 checked; Ex4 3/3; 1 course-wide suggestion.
"""
from __future__ import annotations

import hashlib
import math
from functools import cached_property

import numpy as np

from .compare import fmt, matches
from .core import Case, Check, CheckSet, Mistake, Partial, describe_value
from .model_data import ModelRejected, rebuild_model, report_model


def _number(value) -> float | None:
    """A plain number from a returned value (a float, an int, a numpy or tensor scalar), else None."""
    if isinstance(value, (bool, str, dict, list, tuple)) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(())) if arr.size == 1 else None


def _floats(value) -> np.ndarray | None:
    """A 1-D float64 array from a list, tuple or array of numbers (tensors included), else None."""
    if isinstance(value, (str, dict, bytes)) or value is None:
        return None
    try:
        items = list(value) if isinstance(value, (list, tuple)) else None
        arr = np.asarray([_number(v) for v in items] if items is not None else value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr.ravel() if arr.ndim <= 1 else None


# ----------------------------------------------------------------------------- Exercise 1: warmup_cosine
def schedule_reference(step, total_steps, warmup_steps, peak_lr, final_lr) -> float:
    """Linear warmup from 0 to peak_lr over warmup_steps, then a half cosine from peak_lr to final_lr that ends
    at total_steps; final_lr from there on."""
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    progress = min(step - warmup_steps, total_steps - warmup_steps) / (total_steps - warmup_steps)
    return final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _cos_part(s, T, W, P, F, progress):
    return F + (P - F) * 0.5 * (1.0 + math.cos(math.pi * progress))


#: Common mistakes: (key, schedule(s, T, W, P, F), advice).
_SCHEDULE_MISTAKES = [
    ("warmup_off_by_one",
     lambda s, T, W, P, F: P * (s + 1) / W if s < W else schedule_reference(s, T, W, P, F),
     "The warmup is one step ahead: at step 0 the rate must be 0, and it reaches peak_lr at step warmup_steps. "
     "Use peak_lr * step / warmup_steps, not (step + 1)."),
    ("warmup_from_final",
     lambda s, T, W, P, F: F + (P - F) * s / W if s < W else schedule_reference(s, T, W, P, F),
     "The warmup starts at final_lr; it starts at 0 (Keras's initial_learning_rate=0.0) and rises linearly to "
     "peak_lr."),
    ("no_warmup",
     lambda s, T, W, P, F: P if s < W else schedule_reference(s, T, W, P, F),
     "During the warmup the rate should rise linearly from 0 to peak_lr, but it stays at peak_lr: there is no "
     "warmup."),
    ("cosine_over_total",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, F) if s < W else
     _cos_part(s, T, W, P, F, min(s - W, T) / T),
     "The cosine runs over total_steps steps, but it must fit in the total_steps - warmup_steps steps left after "
     "the warmup, so that it reaches final_lr exactly at total_steps."),
    ("cosine_from_zero",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, F) if s < W else _cos_part(s, T, W, P, F, min(s, T) / T),
     "The cosine is counted from step 0, so the rate drops at the end of the warmup; count it from the end of the "
     "warmup: progress = (step - warmup_steps) / (total_steps - warmup_steps)."),
    ("no_clamp",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, F) if s <= T else
     _cos_part(s, T, W, P, F, (s - W) / (T - W)),
     "After total_steps the rate rises again: the cosine goes on past its half period. Keep the rate at final_lr "
     "from total_steps on (clip the progress at 1)."),
    ("decay_to_zero",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, 0.0),
     "The cosine decays to 0 instead of final_lr: lr = final_lr + (peak_lr - final_lr) * 0.5 * (1 + cos(pi * "
     "progress))."),
    ("final_as_alpha",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, F * P),
     "The rate ends at final_lr * peak_lr: final_lr looks passed as Keras's alpha, which is a fraction of the peak "
     "(alpha = final_lr / peak_lr)."),
    ("no_half",
     lambda s, T, W, P, F: schedule_reference(s, T, W, P, F) if s < W else
     F + (P - F) * math.cos(math.pi * min(s - W, T - W) / (T - W)),
     "The cosine is not rescaled: 0.5 * (1 + cos(pi * progress)) goes from 1 to 0, while cos(pi * progress) "
     "alone goes from 1 to -1 and makes the rate negative."),
]


def _schedule_case(total, warmup, peak, final, steps) -> dict:
    return {"total_steps": int(total), "warmup_steps": int(warmup), "peak_lr": float(peak), "final_lr": float(final),
            "steps": [int(s) for s in steps]}


def _schedule_values(inputs: dict, schedule=schedule_reference) -> np.ndarray:
    T, W, P, F = inputs["total_steps"], inputs["warmup_steps"], inputs["peak_lr"], inputs["final_lr"]
    with np.errstate(all="ignore"):
        return np.array([schedule(s, T, W, P, F) for s in inputs["steps"]], dtype=np.float64)


#: The public cases' inputs; their expected values are the literals in WarmupCosine.public_cases.
_SCHEDULE_PUBLIC = (
    _schedule_case(100, 10, 0.1, 0.001, [0, 1, 5, 9, 10, 11, 30, 55, 99, 100, 101, 150]),
    _schedule_case(1000, 0, 0.5, 0.0, [0, 1, 250, 500, 999, 1000, 2000]),
    _schedule_case(40, 20, 1.0, 0.1, [0, 3, 10, 19, 20, 21, 25, 30, 39, 40, 44]),
)


class WarmupCosine(Check):
    name = "warmup_cosine"
    signature = "warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr)"
    expected_form = "one number, the learning rate at that step"
    public_cases = (
        Case(_SCHEDULE_PUBLIC[0],
             np.array([0.0, 0.01, 0.05, 0.09, 0.1, 0.09996984593744525, 0.08841919993438942, 0.0505,
                       0.0010301540625547597, 0.001, 0.001, 0.001]),
             "100 steps with 10 of warmup, peak 0.1, final 0.001"),
        Case(_SCHEDULE_PUBLIC[1],
             np.array([0.5, 0.4999987663004646, 0.42677669529663687, 0.25, 1.2336995354467195e-06, 0.0, 0.0]),
             "no warmup (warmup_steps=0), decay to 0"),
        Case(_SCHEDULE_PUBLIC[2],
             np.array([0.0, 0.15, 0.5, 0.95, 1.0, 0.994459753267812, 0.8681980515339464, 0.55, 0.10554024673218806,
                       0.1, 0.1]),
             "half the steps are warmup"),
    )

    def secret_inputs(self, rng):
        cases = []
        for kind in ("short", "long", "no warmup"):
            total = int(rng.integers(30, 120)) if kind == "short" else int(rng.integers(500, 3000))
            warmup = 0 if kind == "no warmup" else int(rng.integers(2, total // 3))
            peak = float(10 ** rng.uniform(-4, 0))
            final = float(peak * rng.uniform(0.001, 0.2))
            inside = rng.integers(1, total, 6)
            steps = sorted({0, max(warmup - 1, 0), warmup, warmup + 1, total - 1, total, total + int(rng.integers(1, 50)),
                            *[int(s) for s in inside], *[int(s) for s in rng.integers(0, max(warmup, 1), 2)]})
            cases.append(_schedule_case(total, warmup, peak, final, steps))
        return cases

    def run(self, subject, inputs):
        values = []
        for step in inputs["steps"]:
            value = subject(int(step), int(inputs["total_steps"]), int(inputs["warmup_steps"]),
                            float(inputs["peak_lr"]), float(inputs["final_lr"]))
            number = _number(value)
            if number is None:
                return {"not_a_number": describe_value(value), "step": int(step)}
            values.append(number)
        return np.array(values, dtype=np.float64)

    def compare(self, inputs, got, expected):
        if isinstance(got, dict) and "not_a_number" in got:
            return Mistake(f"{self.signature} returned {str(got['not_a_number'])[:80]} for step {got.get('step')}; it "
                           "should return one number, the learning rate at that step.", "not_a_number")
        got = np.asarray(got, dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        peak = float(inputs["peak_lr"])
        if got.shape != expected.shape:
            return self.unreadable(got)
        if self._same(got, expected, peak):
            return None
        for key, schedule, advice in _SCHEDULE_MISTAKES:
            variant = _schedule_values(inputs, schedule)
            if np.all(np.isfinite(variant)) and self._same(got, variant, peak):
                return Mistake(self._lead(inputs, got, expected) + " " + advice, key)
        if np.any(got < -1e-12 * peak):
            return Mistake(self._lead(inputs, got, expected) + " A learning rate is never negative: check the cosine "
                           "part, 0.5 * (1 + cos(pi * progress)) with progress from 0 to 1.", "negative")
        return Mistake(self._lead(inputs, got, expected) + " Warmup: peak_lr * step / warmup_steps while step < "
                       "warmup_steps. After it: final_lr + (peak_lr - final_lr) * 0.5 * (1 + cos(pi * progress)), "
                       "progress = (step - warmup_steps) / (total_steps - warmup_steps), clipped at 1.", "other")

    @staticmethod
    def _same(got, expected, peak) -> bool:
        # In units of the peak rate: a float32 or Keras answer is within about 1e-7 of it.
        return matches(np.asarray(got) / peak, np.asarray(expected) / peak, 1e-5, floor=2e-6)

    @staticmethod
    def _lead(inputs, got, expected) -> str:
        wrong = [i for i, (g, e) in enumerate(zip(got, expected))
                 if not matches(g / inputs["peak_lr"], e / inputs["peak_lr"], 1e-5, floor=2e-6)]
        i = wrong[0] if wrong else 0
        return (f"With total_steps={inputs['total_steps']}, warmup_steps={inputs['warmup_steps']}, "
                f"peak_lr={inputs['peak_lr']:g}, final_lr={inputs['final_lr']:g}: at step {inputs['steps'][i]} the "
                f"rate is {got[i]:.6g}, expected {expected[i]:.6g}.")


# ----------------------------------------------------------------------------- Exercise 2: plateau_schedule
def plateau_reference(val_losses, lr, factor=0.1, patience=10, min_delta=1e-4, min_lr=0.0, cooldown=0,
                      *, strict=True, use_delta=True, running_min=False, reset_wait=True, floor=True,
                      reset_after=True, use_cooldown=True, skip_cooldown=False, shifted=False,
                      patience_gt=False) -> list[float]:
    """The learning rate during each epoch under Keras 3's ReduceLROnPlateau (mode "min"), from the validation
    losses seen at the end of each epoch. The keyword flags switch on the common mistakes (all off: Keras)."""
    best, wait, cool = None, 0, 0
    during, after = [], []
    for loss in val_losses:
        during.append(lr)
        if skip_cooldown and cool > 0:
            cool -= 1
            after.append(lr)
            continue
        if use_cooldown and cool > 0:
            cool -= 1
            wait = 0
        delta = min_delta if use_delta else 0.0
        if best is None or (loss + delta < best if strict else loss + delta <= best):
            best = loss
            if reset_wait:
                wait = 0
        else:
            if running_min:
                best = min(best, loss)
            if cool == 0:
                wait += 1
                if (wait > patience if patience_gt else wait >= patience) and (lr > min_lr or not floor):
                    lr = max(lr * factor, min_lr) if floor else lr * factor
                    cool = cooldown if use_cooldown else 0
                    if reset_after:
                        wait = 0
        after.append(lr)
    return after if shifted else during


_PLATEAU_MISTAKES = [
    ("shifted", {"shifted": True},
     "The list is one epoch ahead: lrs[e] is the rate epoch e trained with, so lrs[0] is the starting lr, and "
     "epoch e's loss can change only lrs[e + 1] onwards."),
    ("wait_not_reset", {"reset_wait": False},
     "It counts every epoch without improvement since the start: reset wait to 0 whenever the loss improves."),
    ("no_min_delta", {"use_delta": False},
     "min_delta is ignored: an epoch improves only when loss < best - min_delta; a smaller decrease counts as no "
     "improvement."),
    ("not_strict", {"strict": False},
     "A decrease of exactly min_delta counts as an improvement here; Keras needs loss < best - min_delta, strictly."),
    ("running_min", {"running_min": True},
     "best follows every new low, even one within min_delta of it; Keras moves best only when the loss improves "
     "by more than min_delta, so a slow drift down still counts as a plateau."),
    ("patience_gt", {"patience_gt": True},
     "The rate is cut one epoch late: reduce when wait reaches patience (wait >= patience), not when it exceeds it."),
    ("no_floor", {"floor": False},
     "The rate went below min_lr: new_lr = max(lr * factor, min_lr), and no reduction once lr is at min_lr."),
    ("wait_not_reset_after_cut", {"reset_after": False},
     "After a reduction the rate is cut again at every epoch: reset wait to 0 when you reduce the rate."),
    ("cooldown_ignored", {"use_cooldown": False},
     "cooldown is ignored: after a reduction the counter cooldown runs down first, and while it is above 0 the "
     "epochs without improvement are not counted (wait stays 0)."),
    ("cooldown_skipped", {"skip_cooldown": True},
     "During the cooldown the epochs are skipped entirely; Keras still tracks best in them, and it decreases the "
     "counter first, so the last cooldown epoch already counts: with cooldown=c only c - 1 epochs are ignored."),
]


def _plateau_case(losses, lr, factor, patience, min_delta, min_lr, cooldown) -> dict:
    return {"val_losses": [float(v) for v in losses], "lr": float(lr), "factor": float(factor),
            "patience": int(patience), "min_delta": float(min_delta), "min_lr": float(min_lr),
            "cooldown": int(cooldown)}


def _plateau_args(inputs: dict) -> dict:
    return {k: inputs[k] for k in ("lr", "factor", "patience", "min_delta", "min_lr", "cooldown")}


# Losses are multiples of 1/1024 and min_delta of 1/64, so that loss + min_delta and best - min_delta are exact
# in float32 and float64 alike: the ties below are ties in Keras too.
_PLATEAU_PUBLIC = (
    # A plateau of 3 epochs, then a tie at exactly min_delta, a slow drift within min_delta, a floor at min_lr.
    _plateau_case([1.0, 0.75, 0.625, 0.6875, 0.65625, 0.640625, 0.5, 0.5, 0.375, 0.3671875, 0.359375, 0.3515625,
                   0.34375, 0.3359375, 0.328125, 0.3203125, 0.3125, 0.3046875],
                  0.1, 0.5, 2, 0.125, 0.02, 0),
    # cooldown=2 after each cut; an improvement inside the cooldown; a long flat tail.
    _plateau_case([2.0, 1.5, 1.5, 1.5, 1.5, 1.25, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
                  0.01, 0.1, 2, 0.0, 0.0, 2),
    # patience 1, factor 0.2, a floor that the last cut would cross.
    _plateau_case([0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25], 0.05, 0.2, 1, 0.015625, 0.0015, 0),
    # patience 3: improvements between the epochs without one, so that only a wait that resets waits long enough.
    _plateau_case([1.0, 0.875, 0.9375, 0.75, 0.8125, 0.8125, 0.625, 0.6875, 0.6875, 0.6875, 0.6875],
                  0.1, 0.5, 3, 0.0, 0.0, 0),
)


class PlateauSchedule(Check):
    name = "plateau_schedule"
    signature = "plateau_schedule(val_losses, lr, factor, patience, min_delta, min_lr, cooldown)"
    expected_form = "a list of learning rates, one per epoch"
    public_cases = (
        Case(_PLATEAU_PUBLIC[0],
             np.array([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02,
                       0.02, 0.02, 0.02]),
             "patience 2, min_delta 0.125: a tie, a slow drift, min_lr"),
        Case(_PLATEAU_PUBLIC[1],
             np.array([0.01, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001, 0.0001, 0.0001, 0.0001, 1e-05, 1e-05,
                       1e-05, 1.0000000000000002e-06, 1.0000000000000002e-06]),
             "cooldown 2, a long plateau"),
        Case(_PLATEAU_PUBLIC[2],
             np.array([0.05, 0.05, 0.010000000000000002, 0.0020000000000000005, 0.0020000000000000005, 0.0015,
                       0.0015, 0.0015]),
             "patience 1, a cut that would cross min_lr"),
        Case(_PLATEAU_PUBLIC[3],
             np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05]),
             "patience 3, improvements between flat epochs"),
    )

    def secret_inputs(self, rng):
        cases = []
        for kind in range(3):
            n = int(rng.integers(15, 30))
            level, losses = 2.0, []
            for _ in range(n):
                move = rng.choice(["drop", "flat", "up", "drift"], p=[0.35, 0.3, 0.15, 0.2])
                level += {"drop": -rng.uniform(0.05, 0.2), "flat": 0.0, "up": rng.uniform(0.0, 0.05),
                          "drift": -rng.uniform(0.0, 0.01)}[move]
                losses.append(max(round(level * 1024) / 1024, 1 / 1024))
            lr = float(rng.choice([0.1, 0.05, 0.01, 0.001]))
            factor = float(rng.choice([0.1, 0.2, 0.25, 0.5]))
            patience = int(rng.integers(1, 4))
            min_delta = float(rng.choice([0.0, 1 / 64, 1 / 32]))
            min_lr = float(lr * factor ** int(rng.integers(1, 4)) * 0.7) if kind != 1 else 0.0
            cooldown = int(rng.integers(0, 3)) if kind != 2 else 0
            cases.append(_plateau_case(losses, lr, factor, patience, min_delta, min_lr, cooldown))
        return cases

    def hidden_inputs(self, rng):
        # A loss that never improves after the first epoch, and one that only improves.
        n = int(rng.integers(8, 14))
        flat = _plateau_case([1.0] * n, 0.1, 0.5, int(rng.integers(1, 3)), 0.0, 0.0, int(rng.integers(0, 3)))
        falling = _plateau_case([1.0 - k / 16 for k in range(n)], 0.01, 0.1, 1, 1 / 64, 0.0, 0)
        return [flat, falling]

    def run(self, subject, inputs):
        losses = list(inputs["val_losses"])
        result = subject(losses, **_plateau_args(inputs))
        if losses != list(inputs["val_losses"]):
            return {"changed_input": True}
        values = _floats(result)
        if values is None:
            return {"returned": describe_value(result)}
        return values

    def compare(self, inputs, got, expected):
        if isinstance(got, dict) and got.get("changed_input"):
            return Mistake(f"{self.signature} changed the list val_losses it was given; read it without modifying it.",
                           "changed_input")
        if isinstance(got, dict) and "returned" in got:
            return Mistake(f"{self.signature} returned {str(got['returned'])[:80]}; it should return a list of "
                           "learning rates, one per epoch.", "not_a_list")
        got = np.asarray(got, dtype=np.float64).ravel()
        expected = np.asarray(expected, dtype=np.float64)
        n = len(inputs["val_losses"])
        if got.shape != expected.shape:
            return Mistake(f"{self.signature} returned {len(got)} learning rates for {n} epochs; it should return "
                           "one per epoch, the rate in effect while that epoch trained.", "wrong_length")
        if matches(got, expected, 1e-5, floor=1e-12):
            return None
        first = int(np.argmax(~np.isclose(got, expected, rtol=1e-5, atol=1e-12)))
        lead = (f"With {self._settings(inputs)}, the rate for epoch {first} is {got[first]:.6g}, expected "
                f"{expected[first]:.6g} (rates expected: {fmt(expected, 8)}).")
        for key, flags, advice in _PLATEAU_MISTAKES:
            variant = np.asarray(plateau_reference(inputs["val_losses"], **_plateau_args(inputs), **flags))
            if variant.shape == got.shape and matches(got, variant, 1e-5, floor=1e-12):
                return Mistake(f"{lead} {advice}", key)
        return Mistake(f"{lead} Follow the rules in order at the end of each epoch: cooldown, improvement "
                       "(loss < best - min_delta), wait and the reduction max(lr * factor, min_lr).", "other")

    @staticmethod
    def _settings(inputs) -> str:
        return ", ".join(f"{k}={inputs[k]:g}" for k in ("lr", "factor", "patience", "min_delta", "min_lr", "cooldown"))


# ----------------------------------------------------------------------------- Exercise 3: train_loop
def _train_case(rng, d, h, k, batch_size, batches, epochs, learning_rate) -> dict:
    """A small classification problem and initial weights for Input(d) -> Dense(h, relu) -> BatchNorm -> Dense(k)."""
    n = batch_size * batches
    X = rng.normal(0.0, 1.0, (n, d)).astype("float32")
    teacher = rng.normal(0.0, 1.0, (d, k))
    y = np.argmax(X @ teacher + rng.normal(0.0, 0.5, (n, k)), axis=1).astype("int64")
    w0 = [(rng.normal(0.0, 1.0, (d, h)) * np.sqrt(2.0 / d)).astype("float32"), np.zeros(h, "float32"),
          np.ones(h, "float32"), np.zeros(h, "float32"), np.zeros(h, "float32"), np.ones(h, "float32"),
          (rng.normal(0.0, 1.0, (h, k)) * np.sqrt(1.0 / h)).astype("float32"), np.zeros(k, "float32")]
    return {"X": X, "y": y, "hidden": int(h), "classes": int(k), "initial_weights": w0, "epochs": int(epochs),
            "batch_size": int(batch_size), "learning_rate": float(learning_rate)}


def build_model(inputs: dict):
    """The network of a train_loop case with the case's initial weights (uncompiled)."""
    import keras

    model = keras.Sequential([
        keras.Input(shape=(int(np.asarray(inputs["X"]).shape[1]),)),
        keras.layers.Dense(int(inputs["hidden"]), activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(int(inputs["classes"])),
    ])
    model.set_weights([np.asarray(w, dtype="float32") for w in inputs["initial_weights"]])
    return model


def reference_loop(inputs: dict, *, optimizer_per="run", training=True, from_logits=True, last_batch_only=False,
                   loss_after_update=False):
    """The course's loop on a case: (trained weights, batch losses of shape (epochs, batches)).

    The keyword arguments switch on common mistakes: a new optimizer per "batch" or per "epoch", the forward pass
    in inference mode, probabilities expected by the loss, one update per epoch with the last batch's gradients,
    each batch's loss recomputed after its update (model(xb), inference mode, which leaves the weights as they are).
    """
    import keras
    import tensorflow as tf

    model = build_model(inputs)
    X = np.asarray(inputs["X"], dtype="float32")
    y = np.asarray(inputs["y"], dtype="int64")
    epochs, batch_size, rate = int(inputs["epochs"]), int(inputs["batch_size"]), float(inputs["learning_rate"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    optimizer = keras.optimizers.Adam(learning_rate=rate)
    losses = []
    for _ in range(epochs):
        if optimizer_per == "epoch":
            optimizer = keras.optimizers.Adam(learning_rate=rate)
        epoch_losses = []
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=training))
            grads = tape.gradient(loss, model.trainable_variables)
            if optimizer_per == "batch":
                optimizer = keras.optimizers.Adam(learning_rate=rate)
            if not last_batch_only:
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
            if loss_after_update:
                loss = loss_fn(yb, model(xb, training=False))
            epoch_losses.append(float(loss))
        if last_batch_only:
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(epoch_losses)
    return [np.asarray(w, dtype=np.float64) for w in model.get_weights()], np.asarray(losses, dtype=np.float64)


def _case_key(inputs: dict) -> str:
    digest = hashlib.sha256()
    for key in sorted(k for k in inputs if not k.startswith("_")):
        value = inputs[key]
        parts = value if isinstance(value, list) else [value]
        for part in parts:
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(np.asarray(part, dtype=np.float64)).tobytes())
    return digest.hexdigest()


_LOOP_CACHE: dict = {}


def _loop(inputs: dict, **mistake) -> tuple[list, np.ndarray]:
    key = (_case_key(inputs), tuple(sorted(mistake.items())))
    if key not in _LOOP_CACHE:
        if len(_LOOP_CACHE) > 256:
            _LOOP_CACHE.clear()
        _LOOP_CACHE[key] = reference_loop(inputs, **mistake)
    return _LOOP_CACHE[key]


#: How close trained weights must be: each weight within this fraction of the largest distance any weight moved
#: from its initial value (plus a float32 floor). A fit() on the same batches, float32 throughout, is within 1e-5.
WEIGHT_TOL = 2e-3
LOSS_TOL = 1e-4

_LOOP_MISTAKES = [
    ({"optimizer_per": "batch"}, "optimizer_per_batch",
     "They match a loop that creates a new Adam optimizer for every batch: its moment estimates and step count "
     "start again at zero each time. Create the optimizer once, before the loops."),
    ({"optimizer_per": "epoch"}, "optimizer_per_epoch",
     "They match a loop that creates a new Adam optimizer at every epoch, which resets its moment estimates. "
     "Create the optimizer once, before the loops."),
    ({"training": False}, "training_false",
     "They match a forward pass in inference mode: call model(xb, training=True) inside the tape, so that the "
     "BatchNormalization layer normalises with the batch's statistics and updates its moving averages."),
    ({"from_logits": False}, "from_probabilities",
     "They match a loss that takes the outputs for probabilities: the model outputs logits (no softmax), so use "
     "SparseCategoricalCrossentropy(from_logits=True)."),
    ({"last_batch_only": True}, "last_batch_only",
     "They match one update per epoch, with the last batch's gradients: call apply_gradients inside the batch "
     "loop, once per batch."),
]


class TrainLoop(Check):
    """The kernel builds the case's model, lets the student's loop train it, and reports it (config and weights)
    with the losses returned. The grader reruns the course's loop on the same case and compares (core.Partial:
    2 of 4 points for the weights, 2 for the losses)."""
    name = "train_loop"
    signature = "train_loop(model, X, y, epochs, batch_size, learning_rate)"
    expected_form = "a list of floats, one mean loss per epoch"

    @cached_property
    def public_cases(self):
        return (Case(_train_case(np.random.default_rng(1700), 4, 8, 3, 16, 3, 3, 0.01), None,
                     "48 samples, batches of 16, 3 epochs, learning rate 0.01"),)

    def secret_inputs(self, rng):
        return [_train_case(rng, int(rng.integers(3, 7)), int(rng.integers(6, 13)), int(rng.integers(2, 5)),
                            int(rng.choice([8, 12, 16])), int(rng.integers(3, 6)), int(rng.integers(2, 4)),
                            float(10 ** rng.uniform(-2.5, -1.5)))
                for _ in range(2)]

    def run(self, subject, inputs):
        model = build_model(inputs)
        result = subject(model, np.asarray(inputs["X"], dtype="float32"), np.asarray(inputs["y"], dtype="int64"),
                         int(inputs["epochs"]), int(inputs["batch_size"]), float(inputs["learning_rate"]))
        report = {"model": report_model(model)}
        if hasattr(result, "history") and isinstance(getattr(result, "history"), dict):
            report["losses_kind"] = "History"
        else:
            values = _floats(result)
            if values is None:
                report["losses_kind"] = describe_value(result)
            else:
                report["losses"] = values
        return report

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict) or "model" not in got:
            return self.unreadable(got)
        weights_message = self._weights_message(inputs, got["model"])
        losses_message = self._losses_message(inputs, got)
        if weights_message is None and losses_message is None:
            return None
        messages = [m for m in (weights_message, losses_message) if m]
        key = getattr(weights_message or losses_message, "key", "other")
        earned = int(weights_message is None) + int(losses_message is None)
        return Partial(earned, 2, Mistake(" ".join(messages), key))

    def _weights_message(self, inputs, record):
        try:
            model = rebuild_model(record, compile=False)
        except ModelRejected as exc:
            return Mistake(f"The trained model cannot be checked: {exc}.", "model_rejected")
        got = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
        start = [np.asarray(w, dtype=np.float64) for w in inputs["initial_weights"]]
        if [w.shape for w in got] != [w.shape for w in start]:
            return Mistake("The model's weights no longer fit the network the check gave: train the model you are "
                           "given, without adding or replacing layers.", "model_changed")
        want, _ = _loop(inputs)
        if self._close(got, want, start):
            return None
        lead = "The trained weights are not those of the loop the statement describes."
        if max(float(np.max(np.abs(g - s))) for g, s in zip(got, start)) == 0.0:
            return Mistake("The model's weights did not change: train the model you are given in place, with "
                           "optimizer.apply_gradients(zip(grads, model.trainable_variables)).", "weights_unchanged")
        for mistake, key, advice in _LOOP_MISTAKES:
            variant, _ = _loop(inputs, **mistake)
            if self._close(got, variant, start):
                return Mistake(f"{lead} {advice}", key)
        return Mistake(f"{lead} Usual causes: the batches shuffled or taken out of order (use X[i:i + batch_size] "
                       "for i = 0, batch_size, ... in every epoch, no shuffling), a loss other than "
                       "SparseCategoricalCrossentropy(from_logits=True), an optimizer other than "
                       "Adam(learning_rate=learning_rate), or a number of epochs other than `epochs`.", "weights_other")

    @staticmethod
    def _close(got, want, start) -> bool:
        moved = max(float(np.max(np.abs(w - s))) for w, s in zip(want, start))
        error = max(float(np.max(np.abs(g - w))) for g, w in zip(got, want))
        return bool(np.isfinite(error) and error <= WEIGHT_TOL * moved + 1e-6)

    def _losses_message(self, inputs, got):
        epochs = int(inputs["epochs"])
        if got.get("losses_kind") == "History":
            return Mistake("train_loop returned a History; return the list of mean losses, one per epoch (with fit: "
                           "history.history['loss']).", "returned_history")
        if "losses" not in got:
            return Mistake(f"train_loop returned {str(got.get('losses_kind'))[:80]}; it should return a list of "
                           f"{epochs} floats, the mean loss of each epoch.", "losses_missing")
        losses = np.asarray(got["losses"], dtype=np.float64).ravel()
        _, batch_losses = _loop(inputs)
        want = batch_losses.mean(axis=1)
        if losses.shape != want.shape:
            return Mistake(f"train_loop returned {len(losses)} losses for {epochs} epochs: return one per epoch, the "
                           "mean of that epoch's batch losses.", "losses_length")
        if matches(losses, want, LOSS_TOL):
            return None
        lead = f"The losses returned are {fmt(losses)}, expected {fmt(want)}."
        if matches(losses, want * int(inputs["batch_size"]), LOSS_TOL):
            return Mistake(f"{lead} They are batch_size times too large: the loss is summed over each batch's samples; "
                           "keep the loss's default reduction, the mean over the batch.", "loss_sum")
        if matches(losses, batch_losses[:, -1], LOSS_TOL):
            return Mistake(f"{lead} They are the last batch's loss of each epoch; return the mean of all the epoch's "
                           "batch losses.", "last_batch_loss")
        if matches(losses, batch_losses.sum(axis=1), LOSS_TOL):
            return Mistake(f"{lead} They are the sum of each epoch's batch losses; return their mean.", "losses_summed")
        _, after = _loop(inputs, loss_after_update=True)
        if matches(losses, after.mean(axis=1), LOSS_TOL) and not matches(after.mean(axis=1), want, LOSS_TOL):
            return Mistake(f"{lead} They match each batch's loss computed again after its update: record the loss "
                           "computed inside the tape, before optimizer.apply_gradients, the loss the batch's step "
                           "was taken on.", "loss_after_update")
        return Mistake(f"{lead} Each epoch's loss is the mean of its batch losses, each computed inside the tape "
                       "before that batch's update.", "losses_other")


# ----------------------------------------------------------------------------- Exercise 4: log_uniform_samples
#: A correct sampler fails the test of log-uniformity with this probability.
KS_P_MIN = 1e-6


def _ks_p(u: np.ndarray) -> float:
    from scipy import stats

    return float(stats.kstest(np.clip(u, 0.0, 1.0), "uniform").pvalue)


class LogUniformSamples(Check):
    name = "log_uniform_samples"
    signature = "log_uniform_samples(low, high, n, seed)"
    expected_form = "an array of n numbers"
    public_cases = (
        Case({"low": 1e-5, "high": 1e-1, "n": 2000, "seed": 0, "other_seed": 1}, None, "learning rates, 1e-5 to 0.1"),
        Case({"low": 0.5, "high": 8.0, "n": 1000, "seed": 42, "other_seed": 7}, None, "from 0.5 to 8"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            low = float(10 ** rng.uniform(-6, 0))
            high = float(low * 10 ** rng.uniform(1.2, 4))
            seed = int(rng.integers(0, 2**31))
            cases.append({"low": low, "high": high, "n": int(rng.integers(1000, 2001)), "seed": seed,
                          "other_seed": seed + int(rng.integers(1, 1000))})
        return cases

    def run(self, subject, inputs):
        low, high, n = float(inputs["low"]), float(inputs["high"]), int(inputs["n"])
        report = {}
        for name, seed in (("first", inputs["seed"]), ("again", inputs["seed"]), ("other", inputs["other_seed"])):
            value = subject(low, high, n, int(seed))
            values = _floats(value)
            if values is None:
                return {"returned": describe_value(value)}
            report[name] = values
        return report

    def compare(self, inputs, got, expected):
        if isinstance(got, dict) and "returned" in got:
            return Mistake(f"{self.signature} returned {str(got['returned'])[:80]}; it should return an array of n "
                           "numbers.", "not_an_array")
        if not isinstance(got, dict) or not all(isinstance(got.get(k), np.ndarray) for k in ("first", "again", "other")):
            return self.unreadable(got)
        low, high, n = float(inputs["low"]), float(inputs["high"]), int(inputs["n"])
        first = got["first"]
        what = f"log_uniform_samples({low:g}, {high:g}, {n}, seed)"
        if first.shape != (n,):
            return Mistake(f"{what} returned {first.size} values; it should return an array of n = {n}.", "wrong_size")
        if not np.all(np.isfinite(first)):
            return Mistake(f"{what} returned nan or inf values.", "nan_or_inf")
        slack = 1e-6 * high
        if first.min() < low - slack or first.max() > high + slack:
            return Mistake(f"{what} returned values from {first.min():.4g} to {first.max():.4g}, outside [{low:g}, "
                           f"{high:g}]. Draw the exponent between log10(low) and log10(high) (not between low and "
                           "high), and raise 10 to it; with np.log and np.exp use the same base for both.",
                           "out_of_range")
        if got["again"].shape != first.shape or not np.array_equal(got["again"], first):
            return Mistake(f"{what} gave different samples for the same seed: create the generator from the seed, "
                           "np.random.default_rng(seed), inside the function, and draw from it (not from np.random).",
                           "not_seeded")
        if got["other"].shape == first.shape and np.array_equal(got["other"], first):
            return Mistake(f"{what} gave the same values for two different seeds: the samples must come from a "
                           "generator made from `seed` (a fixed seed, or np.geomspace, is a grid, not a random "
                           "search).", "seed_ignored")
        if len(np.unique(first)) < 0.9 * n:
            return Mistake(f"{what} returned only {len(np.unique(first))} distinct values out of {n}: draw the "
                           "exponent from a continuous uniform distribution (rng.uniform), not from integers.",
                           "few_values")
        u = (np.log(np.clip(first, low, high)) - math.log(low)) / (math.log(high) - math.log(low))
        if _ks_p(u) >= KS_P_MIN:
            return None
        if _ks_p((first - low) / (high - low)) >= KS_P_MIN:
            return Mistake(f"{what} returned samples uniform on the linear scale: most of them land in the top decade "
                           f"(median {np.median(first):.3g}). Sample the exponent uniformly: 10 ** rng.uniform("
                           "log10(low), log10(high), n).", "linear_scale")
        return Mistake(f"{what} returned samples whose logarithms are not uniform between log(low) and log(high) "
                       f"(their median is {np.median(first):.3g}; for log-uniform samples it is "
                       f"{math.sqrt(low * high):.3g}, the geometric mean of low and high).", "not_log_uniform")


warmup_cosine = WarmupCosine()
plateau_schedule = PlateauSchedule()
train_loop = TrainLoop()
log_uniform_samples = LogUniformSamples()

CHECKS = CheckSet("17_training_loops", [warmup_cosine, plateau_schedule, train_loop, log_uniform_samples])
