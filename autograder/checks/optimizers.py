"""Checks for 06_optimizers: a learning-rate sweep for plain gradient descent, then momentum, RMSprop and
Adam update steps in numpy.

Exercise 1 is judged on the measurement and on the decision: the kernel reports what
sweep_learning_rates returned for a quadratic valley whose curvatures only the check knows (the student's
function gets the gradient and the loss as functions), and whether it changed w0.

Exercises 2-4 are classes. The check builds one instance with the case's hyperparameters, feeds it a
fixed sequence of gradients through ``update(w, grad)``, and reports the weights after every update (a
trajectory of shape (steps, *w.shape)), the optimizer's state attributes afterwards, and a second
trajectory for the same gradients with the learning rate doubled (every step of these optimizers is
proportional to the learning rate when the gradients are fixed, so that probe shows whether
self.learning_rate is used, and how). The public trajectories were computed once offline with the
formulas Keras 3 uses, and `keras.optimizers` (run in float64 on the same gradients) gives the same
values within 2e-7.

Trajectories are compared relative to how far the weights moved: an answer passes when every weight is
within TOLERANCE x (largest displacement from w0) of the expected one. That accepts float32 arithmetic
and the ways of writing each update that are equal in exact arithmetic (e.g. Adam's bias correction
applied to m and v, or folded into the step size), and rejects every mistake the messages describe.
Diagnoses work back from the expected trajectory: most mistakes rescale each expected step by a factor
that depends only on the hyperparameters and the step number, so the check never needs the optimizer's
own state. A mistake that matches none of them gets the formula and the first update that went wrong.

Stated rules (part / rule / how it is checked). Found 27, checked 25, suggestions only 2 (a line about points
is how they are split, not a rule).
- sweep / return a pair (best_lr, final_losses) / `compare`: the pair, a number, a list of numbers
- sweep / final_losses holds one float per learning rate, in the given order / length and entry by entry
- sweep / every run starts from w0 / values; diagnosis "each run started where the previous one stopped"
- sweep / exactly `steps` updates w <- w - lr * grad_fn(w) per run / values; diagnoses steps - 1 and steps + 1
- sweep / the final loss is loss_fn at the end of the run / values, entry by entry (float32 passes)
- sweep / a diverged run (loss not finite, or above loss_fn(w0)) counts as inf / public and secret runs that
  end at nan, at inf and at a finite loss above the start; messages for nan and for a finite value kept
- sweep / best_lr is the learning rate with the lowest final loss / compared with the reference's choice;
  diagnoses: an index returned, a diverged run chosen, the highest loss chosen
- sweep / ties go to the smallest learning rate / a public and a hidden case with an exact tie, listed with
  the larger rate first
- sweep / w0 is left unchanged / the kernel compares w0 before and after the call
- sweep / measurement and decision are separate: 1 of 2 points for either alone (Partial)
- momentum, rmsprop, adam / update returns the new weights, an array shaped like w (not None, not a tuple,
  not the step) / the kernel records what each update returned; messages for None, tuple, shape, the step
- momentum / v = momentum * v - learning_rate * grad, w + v (the form v = mu v + g, w - lr v passes too) /
  trajectory; diagnoses (sign, averaged form, Nesterov, lagged velocity)
- momentum / v starts at zeros, created once in self.velocity / trajectory ("not carried"), and
  self.velocity must be an array shaped like w after the updates
- momentum / learning_rate honoured / the doubled-rate probe (ignored, applied twice)
- momentum / momentum honoured / secret momenta in [0.5, 0.95], a hidden 0.99; the formula message
- rmsprop / s = rho s + (1 - rho) grad**2, w - lr grad / sqrt(s + epsilon) / trajectory; diagnoses
- rmsprop / epsilon inside the square root / a public and secret cases with a large epsilon
- rmsprop / s starts at zeros in self.mean_square and carries over / trajectory, and the attribute
- rmsprop / learning_rate, rho, epsilon honoured / the probe; secret rho and epsilon vary
- adam / m, v moving averages with (1 - beta) weights / trajectory; diagnosis
- adam / bias correction by 1 - beta ** t, either form / trajectory; diagnoses (none, only m, only v)
- adam / t incremented before use, starting at 0; self.t is the number of updates / trajectory (t stuck,
  t = 0 divides by zero) and self.t after the updates
- adam / m, v start at zeros in self.m and self.v and carry over / trajectory, and the attributes
- adam / learning_rate, beta_1, beta_2, epsilon honoured / the probe; secret betas and epsilons vary
- all classes / w of any shape / hidden cases with matrices of weights
- all classes / float32 or float64 both pass / catalogue alternatives in float32
- all classes / state created when still None (lazily) / suggestion only: checked only through its effects
- all classes / numpy only inside update / suggestion only (any update that gives Keras's weights passes)
"""
from __future__ import annotations

import numpy as np

from .compare import fmt, matches
from .core import Case, Check, CheckSet, describe_value, requirements

#: Largest error allowed, as a fraction of the largest distance the weights moved from w0.
TOLERANCE = 1e-3
#: How close a wrong answer must be to a diagnosed mistake for its message to name that mistake.
_DIAGNOSIS_TOL = 5e-3
#: Relative tolerance on a final loss of the sweep (float32 weights give about 1e-7).
_LOSS_TOL = 1e-5

#: Keras 3's defaults, used when a case builds the optimizer without hyperparameters.
MOMENTUM_DEFAULTS = {"learning_rate": 0.01, "momentum": 0.9}
RMSPROP_DEFAULTS = {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}
ADAM_DEFAULTS = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


# ------------------------------------------------------------------------------ helpers
def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _ordinal(i: int) -> str:
    n = i + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _number(value) -> float | None:
    """A plain number from a returned value (a float, an int, a numpy scalar or a 1-element array), else None."""
    if isinstance(value, (bool, str, dict)) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(())) if arr.size == 1 else None


# ------------------------------------------------------------------------------ Exercise 1: the sweep
def _valley_loss(curvature: np.ndarray, w) -> float:
    return float(0.5 * np.sum(curvature * _f(w) ** 2))


def _closed_form(inputs: dict, steps: int | None = None, chained: bool = False) -> np.ndarray:
    """Final losses of the sweep, from w_T = w0 (1 - lr c)^T on the diagonal valley: the shape of a mistake."""
    c, w0 = _f(inputs["curvature"]), _f(inputs["w0"])
    steps = int(inputs["steps"]) if steps is None else steps
    start, w, out = _valley_loss(c, w0), w0, []
    with np.errstate(all="ignore"):
        for lr in _f(inputs["learning_rates"]):
            end = (w if chained else w0) * (1.0 - lr * c) ** steps
            loss = _valley_loss(c, end)
            out.append(loss if np.isfinite(loss) and loss <= start else np.inf)
            if chained:
                w = end
    return np.array(out)


def _same_losses(got: np.ndarray, expected: np.ndarray, tol: float = _LOSS_TOL) -> np.ndarray:
    """Entry by entry: both inf, or both finite and equal within tol (relative, with the float32 floor)."""
    same = np.zeros(expected.shape, dtype=bool)
    for i, (g, e) in enumerate(zip(got, expected)):
        if np.isinf(e):
            same[i] = bool(np.isinf(g) and g > 0)
        else:
            same[i] = bool(np.isfinite(g) and matches(g, e, tol, floor=1e-12))
    return same


_DIVERGED_RULE = ("a run whose final loss is not finite, or larger than loss_fn(w0), diverged and counts as "
                  "float('inf')")


class LearningRateSweep(Check):
    name = "learning_rate_sweep"
    signature = "sweep_learning_rates(grad_fn, loss_fn, w0, learning_rates, steps)"
    expected_form = "a pair (best_lr, final_losses): a float, and a list of floats, one per learning rate"
    public_cases = (
        Case({"curvature": np.array([1.0, 25.0]), "w0": np.array([-4.0, 1.5]),
              "learning_rates": [0.01, 0.03, 0.07, 0.09], "steps": 40, "_public": True},
             {"best_lr": 0.07, "losses": np.array([3.5801857129549064, 0.6995660553506186, 0.024083850496090426,
                                                   np.inf])},
             "the valley 0.5 (w1² + 25 w2²) of the lesson, 4 learning rates, 40 steps"),
        Case({"curvature": np.array([1.0]), "w0": np.array([2.0]), "learning_rates": [1.5, 0.5, 3.5], "steps": 10,
              "_public": True},
             {"best_lr": 0.5, "losses": np.array([1.9073486328125e-06, 1.9073486328125e-06, np.inf])},
             "f(w) = 0.5 w², where lr 1.5 and 0.5 tie exactly and lr 3.5 ends far above the start"),
        Case({"curvature": np.array([2.0, 40.0]), "w0": np.array([1.0, 1.0]), "learning_rates": [0.01, 0.8, 0.04],
              "steps": 250, "_public": True},
             {"best_lr": 0.04, "losses": np.array([4.102398514547256e-05, np.inf, 7.832739314078828e-19])},
             "a run that overflows to nan (lr 0.8), 250 steps"),
    )

    def secret_inputs(self, rng):
        return [self._valley_case(rng) for _ in range(3)]

    def hidden_inputs(self, rng):
        # Powers of two and small integers keep every product exact, so the tie is exact in float32 and float64.
        scale = float(rng.choice([1.0, 2.0, 3.0]))
        c = float(rng.choice([1.0, 2.0, 4.0]))
        tie = {"curvature": np.array([c]), "w0": np.array([scale]), "steps": int(rng.integers(5, 15)),
               # 1 - lr c = -0.5 and +0.5: the same distance to 0 after every step, bit for bit.
               "learning_rates": [1.5 / c, 0.25 / c, 0.5 / c]}
        steep = float(rng.uniform(20, 60))
        everything_diverges = {"curvature": np.array([1.0, steep]), "w0": rng.uniform(0.5, 2.0, 2) *
                               rng.choice([-1.0, 1.0], 2), "steps": 30,
                               "learning_rates": [float(v) / steep for v in rng.permutation([3.0, 4.0, 6.0])]}
        return [tie, everything_diverges, self._valley_case(rng, dims=int(rng.integers(4, 7)))]

    @staticmethod
    def _valley_case(rng, dims: int | None = None) -> dict:
        """A valley with one steep direction, 4-6 learning rates in random order: slow, good, and diverging ones.

        Every diverging rate multiplies the steep coordinate by at least 1.5 per step, so its loss ends far above
        the start (float32 and float64 agree); every other run ends below the start, and the best run is at least
        1% below the runner-up, so the choice never rests on rounding.
        """
        while True:
            dims = dims or int(rng.integers(2, 5))
            steep = float(rng.uniform(10, 60))
            c = np.concatenate([[1.0, steep], rng.uniform(1.0, steep, dims - 2)])[rng.permutation(dims)]
            w0 = rng.uniform(0.3, 2.0, dims) * rng.choice([-1.0, 1.0], dims)
            limit = 2.0 / steep
            stable = list(limit * rng.uniform([0.02, 0.2, 0.6], [0.1, 0.5, 0.95]))
            diverging = list(limit * rng.uniform(1.3, 2.5, int(rng.integers(1, 3))))
            rates = [float(v) for v in rng.permutation(stable + diverging)]
            case = {"curvature": c, "w0": w0, "learning_rates": rates, "steps": int(rng.integers(20, 61))}
            losses = _closed_form(case)
            finite = np.sort(losses[np.isfinite(losses)])
            margin_ok = len(finite) >= 2 and finite[0] < 0.99 * finite[1] and finite[0] > 1e-30
            # A diverging rate may still end below the start if the steep coordinate began tiny: draw again then.
            if margin_ok and int(np.sum(np.isinf(losses))) == len(diverging):
                return case

    def run(self, subject, inputs):
        c = _f(inputs["curvature"])

        def grad_fn(w):
            return c * np.asarray(w, dtype=np.float64)

        def loss_fn(w):
            return _valley_loss(c, w)

        w0 = np.array(inputs["w0"], dtype=np.float64)
        before = w0.copy()
        with np.errstate(all="ignore"):  # diverging runs overflow on purpose
            reply = subject(grad_fn, loss_fn, w0, [float(v) for v in inputs["learning_rates"]], int(inputs["steps"]))
        changed = not (w0.shape == before.shape and np.array_equal(w0, before, equal_nan=True))
        if not isinstance(reply, (tuple, list)) or len(reply) != 2:
            return {"pair": False, "kind": describe_value(reply), "w0_changed": changed}
        best, losses = reply
        record = {"pair": True, "w0_changed": changed, "best_lr": _number(best), "best_kind": describe_value(best)}
        try:
            record["losses"] = np.array(losses, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            record["losses"], record["losses_kind"] = None, describe_value(losses)
        return record

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        public = bool(inputs.get("_public"))
        if not got.get("pair"):
            return (f"{sig} returned {got.get('kind')}; it should return a pair (best_lr, final_losses): the best "
                    "learning rate and the list of final losses, one per learning rate.")
        rates = [float(v) for v in inputs["learning_rates"]]
        if got.get("losses") is None:
            return (f"final_losses should be a list of floats, one per learning rate, but {sig} returned "
                    f"{got.get('losses_kind')} in its place.")
        losses = _f(got["losses"])
        if losses.size != len(rates):
            entries = "entry" if losses.size == 1 else "entries"
            return (f"final_losses has {losses.size} {entries} for {len(rates)} learning rates: measure one final loss "
                    "per learning rate, in the order of learning_rates.")
        if got.get("w0_changed"):
            return (f"{sig} changed the caller's w0: `w -= lr * g` on w = w0 writes into w0 itself, so every run after "
                    "the first starts where the previous one stopped. Start each run from a copy, "
                    "w = np.array(w0, dtype=float), and leave w0 unchanged.")
        exp_losses, exp_best = _f(expected["losses"]), float(expected["best_lr"])
        measured = self._measurement_message(inputs, losses, exp_losses, public)
        best = got.get("best_lr")
        if measured is None or best is None or np.isclose(best, exp_best):
            decided = self._decision_message(inputs, best, got.get("best_kind"), exp_losses, exp_best, public)
        else:
            # The measurement is wrong too: judge the choice by the student's own final losses, so that a choice
            # that follows from them is not blamed for a mistake it did not make.
            own = np.where(np.isnan(losses), np.inf, losses)
            own_best = min(r for r, loss in zip(rates, own) if loss == np.min(own))
            decided = ("(best_lr is the lowest of the final_losses returned, as it should be.)"
                       if np.isclose(best, own_best) else
                       self._decision_message(inputs, best, got.get("best_kind"), own, own_best, public=False))
        if measured and decided:
            return f"{measured} {decided}"
        return requirements([(measured is None, measured or ""), (decided is None, decided or "")])

    # -- the measurement ----------------------------------------------------------------------------
    def _measurement_message(self, inputs, losses, expected, public) -> str | None:
        same = _same_losses(losses, expected)
        if same.all():
            return None
        for test, advice in (
            (lambda: _same_losses(losses, _closed_form(inputs, chained=True)).all(),
             "Each run after the first started where the previous one stopped: start every run from w0 (a fresh "
             "copy, w = np.array(w0, dtype=float))."),
            (lambda: _same_losses(losses, _closed_form(inputs, steps=int(inputs["steps"]) - 1)).all(),
             "These are the losses after steps - 1 updates: run exactly `steps` updates for each learning rate, "
             "then measure loss_fn(w)."),
            (lambda: _same_losses(losses, _closed_form(inputs, steps=int(inputs["steps"]) + 1)).all(),
             "These are the losses after steps + 1 updates: run exactly `steps` updates for each learning rate, "
             "then measure loss_fn(w)."),
            (lambda: np.all(np.isfinite(losses)) and matches(losses, np.full(losses.shape, _valley_loss(
                _f(inputs["curvature"]), inputs["w0"])), 1e-9),
             "Every final loss equals loss_fn(w0): the weights never moved. Update w = w - lr * grad_fn(w) "
             "`steps` times in each run, then measure loss_fn(w)."),
        ):
            if test():
                return f"final_losses is wrong. {advice}"
        i = int(np.argmin(same))
        where = f"final_losses[{i}] (the run at the {_ordinal(i)} learning rate)"
        got, exp = float(losses[i]), float(expected[i])
        if np.isinf(exp):
            if np.isnan(got):
                return (f"{where} is nan. That run diverged, so it counts as float('inf'), never nan ({_DIVERGED_RULE}): "
                        "min() and np.argmin do not treat nan as large, and np.argmin even picks it. Test "
                        "np.isfinite(loss) first.")
            shown = f" ({got:.4g})" if public else ""
            return (f"{where}{shown} should count as float('inf'): {_DIVERGED_RULE}. This run ended above where it "
                    "started.")
        if not np.isfinite(got):
            shown = f" It ended at {exp:.6g}." if public else ""
            return (f"{where} is {got}, but that run did not diverge: it ended below loss_fn(w0), so report its final "
                    f"loss.{shown} Only {_DIVERGED_RULE}.")
        if public:
            return (f"{where} is {got:.6g}, expected {exp:.6g}: after `steps` updates w = w - lr * grad_fn(w) from w0, "
                    "final_losses[i] is loss_fn(w).")
        return ("final_losses does not hold loss_fn(w) after `steps` updates w = w - lr * grad_fn(w) from w0 for every "
                f"learning rate: {where} is off.")

    # -- the decision -------------------------------------------------------------------------------
    def _decision_message(self, inputs, best, best_kind, expected, exp_best, public) -> str | None:
        """None when best is exp_best, the choice `expected` (final losses) leads to; else what went wrong."""
        rates = [float(v) for v in inputs["learning_rates"]]
        if best is None:
            return f"best_lr should be one of the learning rates (a float), but {self.signature} returned {best_kind}."
        if np.isclose(best, exp_best):
            return None
        lowest = float(np.min(expected))
        tied = [r for r, loss in zip(rates, expected) if loss == lowest]
        diverged = [r for r, loss in zip(rates, expected) if np.isinf(loss)]
        finite = [(loss, r) for r, loss in zip(rates, expected) if np.isfinite(loss)]
        index = int(round(best))
        if best == index and 0 <= index < len(rates) and not any(np.isclose(best, r) for r in rates):
            return ("best_lr is a position in the list, not a learning rate: return learning_rates[i] for the "
                    "best i, not i.")
        if any(np.isclose(best, r) for r in tied) and len(tied) > 1:
            return ("best_lr is one of several learning rates whose final losses tie exactly, but not the smallest "
                    "of them: ties go to the smallest learning rate (the safer choice), whatever their order in "
                    "the list.")
        if any(np.isclose(best, r) for r in diverged) and finite:
            return ("best_lr is a learning rate whose run diverged: its final loss counts as inf, so it can only "
                    "be chosen when every run diverged.")
        if finite and np.isclose(best, max(finite)[1]) and len(finite) > 1:
            return "best_lr is the run with the highest final loss: choose the lowest (min, not max)."
        if not any(np.isclose(best, r) for r in rates):
            return "best_lr is not one of the learning rates: return the one whose run ended with the lowest loss."
        if public:
            return (f"best_lr is {best:g}, but the lowest final loss is the run at {exp_best:g}: choose the learning "
                    "rate whose final loss is lowest (the smallest such rate if several tie).")
        return ("best_lr is not the learning rate whose final loss is lowest: choose by final_losses (the smallest "
                "such rate if several tie).")


# ------------------------------------------------------------------------------ Exercises 2-4: helpers
def _hyper(inputs: dict, defaults: dict) -> dict:
    return {**defaults, **inputs.get("hyper", {})}


def _steps(traj: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Per-update displacement: d[t] = w[t] - w[t-1], with w[-1] = w0."""
    return np.diff(np.concatenate([w0[None], traj]), axis=0)


def _rebuild(w0: np.ndarray, steps: np.ndarray) -> np.ndarray:
    return w0[None] + np.cumsum(steps, axis=0)


def _scale(expected: np.ndarray, w0: np.ndarray) -> float:
    return max(float(np.max(np.abs(expected - w0[None]))), 1e-12)


def _per_step(values, like: np.ndarray) -> np.ndarray:
    """A factor per update t = 1..T, shaped to broadcast against a (T, ...) trajectory."""
    return np.asarray(values, dtype=np.float64).reshape((-1,) + (1,) * (like.ndim - 1))


def _step_numbers(expected: np.ndarray) -> np.ndarray:
    return np.arange(1, len(expected) + 1, dtype=np.float64)


def _looks_like(candidate):
    """A diagnosis test: `got` is the trajectory that `candidate(expected, inputs)` predicts for a mistake."""
    def test(got, expected, inputs):
        w0 = _f(inputs.get("w0"))
        cand = _f(candidate(expected, inputs))
        if cand.shape != got.shape or not np.all(np.isfinite(cand)):
            return False
        return float(np.max(np.abs(got - cand))) <= _DIAGNOSIS_TOL * _scale(expected, w0)
    return test


def _any(*tests):
    """A diagnosis test that holds when any of `tests` does."""
    return lambda got, expected, inputs: any(test(got, expected, inputs) for test in tests)


def _rescaled(factor):
    """Candidate: every expected step multiplied by factor(expected, inputs) (a number or one per step)."""
    def candidate(expected, inputs):
        w0 = _f(inputs["w0"])
        d = _steps(expected, w0)
        return _rebuild(w0, d * _per_step(np.broadcast_to(factor(expected, inputs), (len(d),)), d))
    return candidate


def _ascent(expected, inputs):
    w0 = _f(inputs["w0"])
    return 2 * w0[None] - expected


def _returns_step(expected, inputs):
    return _steps(expected, _f(inputs["w0"]))


def _stuck_at_w0(expected, inputs):
    w0 = _f(inputs["w0"])
    return np.broadcast_to(w0, expected.shape)


def _lagged(expected, inputs):
    """The weights move by the previous update's step (the state was used before it was updated)."""
    w0 = _f(inputs["w0"])
    d = _steps(expected, w0)
    return _rebuild(w0, np.concatenate([np.zeros_like(d[:1]), d[:-1]]))


def _rate_ratio(got: np.ndarray, probe, w0: np.ndarray) -> float | None:
    """How much further the weights moved with the learning rate doubled: 2 when it is used once, as it should be."""
    if probe is None:
        return None
    probe = _f(probe)
    if probe.shape != got.shape or not np.all(np.isfinite(probe)):
        return None
    d_got, d_probe = (got - w0[None]).ravel(), (probe - w0[None]).ravel()
    norm = float(d_got @ d_got)
    if norm < 1e-24:
        return None
    ratio = float(d_probe @ d_got) / norm
    # Only a clean multiple counts: the probe must be that multiple of the run, not merely correlated.
    if np.max(np.abs(d_probe - ratio * d_got)) > _DIAGNOSIS_TOL * np.max(np.abs(d_got)):
        return None
    return ratio


_ASCENT = ("The weights moved uphill, by exactly the opposite of each expected step: an optimizer subtracts "
           "its step, w_new = w - (step), to go down the gradient.")
_RETURNS_STEP = "update returned the change in w (the step), not the new weights: return w plus that change."
_NO_CHANGE = "update returned w unchanged: the weights must move by the step every time update is called."
_RATE_IGNORED = ("The check ran update again on the same gradients with learning_rate doubled, and the weights "
                 "moved exactly as far: update does not use self.learning_rate (a number written into the code, or "
                 "no rate at all). Scale the step by self.learning_rate.")
_RATE_TWICE = ("The check ran update again on the same gradients with learning_rate doubled, and the weights moved "
               "4 times as far: the step is proportional to learning_rate², so the rate is applied twice. Use it "
               "once.")


class OptimizerCheck(Check):
    """Drives `subject(**hyper)` through a sequence of gradients and reports the weights after each update."""

    kind = ""
    formula = ""
    defaults: dict = {}
    #: The attributes that must hold the state (arrays shaped like w) after the updates.
    state_attrs: tuple = ()
    expected_form = "the new weights from every update: an array shaped like w"
    ascent_advice = _ASCENT
    nonfinite_advice = "Look for a division by zero or a square root of a negative number."

    def run(self, subject, inputs):
        hyper = dict(inputs.get("hyper", {}))
        w0 = np.array(inputs["w0"], dtype=np.float64)
        grads = np.asarray(inputs["grads"], dtype=np.float64)
        record = self._drive(subject, hyper, w0, grads, keep_state=True)
        if "trajectory" in record:
            rate = float(_hyper(inputs, self.defaults)["learning_rate"])
            record["probe"] = self._drive(subject, {**hyper, "learning_rate": 2 * rate}, w0, grads).get("trajectory")
        return record

    def _drive(self, subject, hyper: dict, w0: np.ndarray, grads: np.ndarray, keep_state: bool = False) -> dict:
        optimizer = subject(**hyper)
        w, trajectory = w0.copy(), []
        for step, grad in enumerate(grads, start=1):
            new = optimizer.update(w, np.array(grad, dtype=np.float64))
            if new is None or isinstance(new, (tuple, list, dict, str)):
                return {"bad_return": describe_value(new), "at": step}
            try:
                value = np.array(new, dtype=np.float64, copy=True)
            except (TypeError, ValueError):
                return {"bad_return": describe_value(new), "at": step}
            if value.shape != w0.shape:
                return {"wrong_shape": list(value.shape), "at": step}
            trajectory.append(value)
            w = new
        record = {"trajectory": np.stack(trajectory)}
        if keep_state:
            record["state"] = {attr: self._state(getattr(optimizer, attr, None)) for attr in self.state_attrs}
            if self.kind == "adam":
                record["t"] = _number(getattr(optimizer, "t", None))
        return record

    @staticmethod
    def _state(value) -> dict:
        if value is None:
            return {"kind": "None"}
        if isinstance(value, np.ndarray) or type(value).__module__.split(".")[0] in {"tensorflow", "keras"}:
            try:
                return {"kind": "array", "shape": list(np.shape(value))}
            except Exception:  # noqa: BLE001 - an odd object is described by its type
                pass
        return {"kind": describe_value(value)}

    def diagnoses(self):
        return []

    def nonfinite_message(self, got: np.ndarray, k: int) -> str:
        """Advice for weights that became nan or inf first at update k + 1."""
        return self.nonfinite_advice

    def compare(self, inputs, got, expected):
        sig = self.signature
        exp = _f(expected["trajectory"] if isinstance(expected, dict) else expected)
        if not isinstance(got, dict):
            return self.unreadable(got)
        if "bad_return" in got:
            what = got["bad_return"]
            if what == "None":
                return (f"update returned None at update {got['at']}: return the new weights, an array shaped like w. "
                        "Changing w in place is not enough, the caller uses what update returns.")
            if what.startswith("a tuple"):
                return (f"update returned {what} at update {got['at']}: return only the new weights, and keep the "
                        "optimizer's state on self.")
            return f"update returned {what} at update {got['at']}, not the new weights: return an array shaped like w."
        if "wrong_shape" in got:
            return (f"update returned weights of shape {tuple(got['wrong_shape'])} at update {got['at']}, but w has shape "
                    f"{np.shape(inputs['w0'])}: the update must keep the shape of w (no reshaping or stacking; grad "
                    "has the same shape as w).")
        message = _compare_trajectory(self, inputs, got.get("trajectory"), exp, got.get("probe"))
        if message:
            return message
        w0 = _f(inputs["w0"])
        probe = got.get("probe")
        wanted = w0[None] + 2 * (exp - w0[None])
        if probe is None or _f(probe).shape != exp.shape or \
                float(np.max(np.abs(_f(probe) - wanted))) > TOLERANCE * 2 * _scale(exp, w0):
            ratio = _rate_ratio(_f(got["trajectory"]), probe, w0)
            if ratio is not None and abs(ratio - 1) < 0.01:
                return ("update gives the right weights for this learning rate, but the same weights again when the "
                        "check reruns it with learning_rate doubled: it uses a fixed rate instead of self.learning_rate.")
            if ratio is not None and abs(ratio - 4) < 0.04:
                return f"update gives the right weights here, but not for other learning rates. {_RATE_TWICE}"
            return ("update gives the right weights here, but not when the check reruns it with learning_rate "
                    "doubled, where every step should double: use self.learning_rate, exactly once, in the step.")
        return self._state_message(got, len(exp), w0.shape)

    def _state_message(self, got: dict, updates: int, shape) -> str | None:
        for attr, state in (got.get("state") or {}).items():
            kind = state.get("kind") if isinstance(state, dict) else None
            if kind == "array" and tuple(state.get("shape", ())) == tuple(shape):
                continue
            if kind == "array":
                found = f"an array of shape {tuple(state.get('shape', ()))}"
            else:
                found = kind or "something the check cannot read"
            return (f"The weights are right, but after {updates} updates self.{attr} is {found}: the statement keeps "
                    f"this state in self.{attr}, an array shaped like w (created with np.zeros_like(w) at the first "
                    "update, while it is still None).")
        if self.kind == "adam" and got.get("t") != updates:
            t = got.get("t")
            shown = f"{t:g}" if isinstance(t, float) else "not a number"
            return (f"The weights are right, but after {updates} updates self.t is {shown}: self.t counts the "
                    "updates so far (0 at the start, 1 after the first update), as the statement says.")
        return None

    # -- shared input makers -------------------------------------------------------------
    @staticmethod
    def _problem(rng, steps=None, shape=None):
        """A start w0 and gradients whose components have different scales (an ill-conditioned problem).

        Every gradient entry is at least 0.05 in size, so Adam's epsilon (1e-7 or 1e-8) never decides a step
        and both ways of writing its bias correction agree within the tolerance.
        """
        shape = shape or (int(rng.integers(2, 6)),)
        steps = steps or int(rng.integers(4, 9))
        scales = np.exp(rng.uniform(np.log(0.1), np.log(5.0), shape))
        signs = rng.choice([-1.0, 1.0], (steps,) + shape, p=[0.35, 0.65])
        grads = signs * rng.uniform(0.5, 1.5, (steps,) + shape) * scales
        return {"w0": rng.normal(0, 1, shape), "grads": grads}


def _compare_trajectory(check: OptimizerCheck, inputs: dict, got, expected: np.ndarray, probe=None) -> str | None:
    """Compare the weights after each update with the expected ones; None when right, else a message."""
    sig = check.signature
    if got is None:
        return f"{sig} reported no weights."
    got = _f(got)
    w0 = _f(inputs["w0"])
    if got.shape != expected.shape:
        return f"{sig} returned {got.shape[0] if got.ndim else 0} updates' weights for {len(expected)} gradients."
    if not np.all(np.isfinite(got)):
        k = int(np.argmax(~np.all(np.isfinite(got).reshape(len(got), -1), axis=1)))
        return (f"{sig} returned nan or inf values after update {k + 1}: w = {fmt(got[k])}. "
                f"{check.nonfinite_message(got, k)}")
    scale = _scale(expected, w0)
    errors = np.max(np.abs(got - expected).reshape(len(got), -1), axis=1) / scale
    if float(np.max(errors)) <= TOLERANCE:
        return None
    k = int(np.argmax(errors > TOLERANCE))
    lead = (f"After update {k + 1} of {len(expected)}, {sig} gave w = {fmt(got[k])}, "
            f"expected {fmt(expected[k])}.")
    ratio = _rate_ratio(got, probe, w0)
    # The shape of the trajectory first (uphill, the step, no move), then what the doubled-rate probe shows,
    # then the optimizer's own diagnoses.
    first = [(_looks_like(_ascent), None), (_looks_like(_returns_step), _RETURNS_STEP),
             (_looks_like(_stuck_at_w0), _NO_CHANGE)]
    for test, advice in first:
        if test(got, expected, inputs):
            return f"{lead} {advice or check.ascent_advice}"
    if ratio is not None and abs(ratio - 1) < 0.01:
        return f"{lead} {_RATE_IGNORED}"
    if ratio is not None and abs(ratio - 4) < 0.04:
        return f"{lead} {_RATE_TWICE}"
    for test, advice in check.diagnoses():
        try:
            if test(got, expected, inputs):
                return f"{lead} {advice}"
        except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
            continue
    if k > 0:
        return (f"{lead} The first {k} update{'s match' if k > 1 else ' matches'} and update {k + 1} does not. "
                f"The formula is: {check.formula}")
    return f"{lead} The formula is: {check.formula}"


# ------------------------------------------------------------------------------ Exercise 2: momentum
_W0 = np.array([1.0, -2.0])
_GRADS = np.array([[0.5, -1.0], [0.4, -0.2], [-0.3, 0.6], [0.2, 0.1]])
_W0_3 = np.array([0.5, 0.0, -1.0])
_GRADS_3 = np.array([[2.0, 0.1, -0.5], [1.5, 0.2, -0.4], [1.0, -0.1, 0.3]])


class MomentumUpdate(OptimizerCheck):
    name = "momentum_update"
    signature = "Momentum(learning_rate, momentum).update(w, grad)"
    kind = "momentum"
    defaults = MOMENTUM_DEFAULTS
    state_attrs = ("velocity",)
    ascent_advice = (_ASCENT + " With Keras's sign convention: velocity = momentum * velocity - learning_rate * grad, "
                     "then w + velocity.")
    formula = ("velocity = momentum * velocity - learning_rate * grad, then w_new = w + velocity, with the "
               "velocity starting at zeros (keras.optimizers.SGD(learning_rate, momentum)).")
    public_cases = (
        Case({"hyper": {"learning_rate": 0.1, "momentum": 0.9}, "w0": _W0, "grads": _GRADS},
             np.array([[0.95, -1.9], [0.865, -1.79], [0.8185, -1.751], [0.75665, -1.7259]]),
             "learning_rate 0.1, momentum 0.9, 4 updates"),
        Case({"hyper": {"learning_rate": 0.05, "momentum": 0.5}, "w0": _W0_3, "grads": _GRADS_3},
             np.array([[0.4, -0.005, -0.975], [0.275, -0.0175, -0.9425], [0.1625, -0.01875, -0.94125]]),
             "learning_rate 0.05, momentum 0.5, 3 updates"),
    )

    def diagnoses(self):
        h = lambda i: _hyper(i, self.defaults)

        def plain_sgd(expected, inputs):
            return _rebuild(_f(inputs["w0"]), -h(inputs)["learning_rate"] * _f(inputs["grads"]))

        def nesterov(expected, inputs):
            w0 = _f(inputs["w0"])
            v = _steps(expected, w0)
            return _rebuild(w0, h(inputs)["momentum"] * v - h(inputs)["learning_rate"] * _f(inputs["grads"]))

        return [
            (_looks_like(plain_sgd),
             "Every step is -learning_rate * grad, plain SGD: the velocity is not carried between updates. Create "
             "self.velocity once (zeros, when it is still None) and update it from its previous value each time."),
            (_looks_like(_rescaled(lambda e, i: 1 - h(i)["momentum"])),
             "That is the averaged form, velocity = momentum * velocity + (1 - momentum) * grad. Keras does not "
             "scale the gradient by (1 - momentum): velocity = momentum * velocity - learning_rate * grad."),
            (_looks_like(nesterov),
             "That is Nesterov momentum (w + momentum * velocity - learning_rate * grad). Plain momentum adds the "
             "velocity itself: w_new = w + velocity."),
            (_looks_like(_lagged),
             "The weights moved by the previous update's velocity: update the velocity first, then add the new "
             "velocity to w."),
        ]

    def secret_inputs(self, rng):
        return [{"hyper": {"learning_rate": float(rng.uniform(0.01, 0.2)), "momentum": float(rng.uniform(0.5, 0.95))},
                 **self._problem(rng)} for _ in range(3)]

    def hidden_inputs(self, rng):
        # Keras's defaults (0.01, 0.9) over a long run, and a momentum close to 1 on a matrix of weights.
        return [{"hyper": {}, **self._problem(rng, steps=25)},
                {"hyper": {"learning_rate": 0.02, "momentum": 0.99}, **self._problem(rng, steps=10, shape=(2, 3))}]


# ------------------------------------------------------------------------------ Exercise 3: RMSprop
class RMSpropUpdate(OptimizerCheck):
    name = "rmsprop_update"
    signature = "RMSprop(learning_rate, rho, epsilon).update(w, grad)"
    kind = "rmsprop"
    defaults = RMSPROP_DEFAULTS
    state_attrs = ("mean_square",)
    ascent_advice = _ASCENT + " w_new = w - learning_rate * grad / sqrt(mean_square + epsilon)."
    formula = ("mean_square = rho * mean_square + (1 - rho) * grad ** 2, then "
               "w_new = w - learning_rate * grad / sqrt(mean_square + epsilon), with mean_square starting at zeros "
               "and epsilon inside the square root (keras.optimizers.RMSprop).")
    nonfinite_advice = ("A square root of a negative number gives nan: the running average is over grad ** 2, "
                        "the squared gradient, which is never negative.")
    public_cases = (
        Case({"hyper": {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-7}, "w0": _W0, "grads": _GRADS},
             np.array([[0.9683772866436797, -1.9683772392096925], [0.9479914254613019, -1.9618539619489854],
                       [0.9623505721856171, -1.979131323297529], [0.9527375314408281, -1.9821527595340966]]),
             "learning_rate 0.01, rho 0.9, epsilon 1e-7, 4 updates"),
        Case({"hyper": {"learning_rate": 0.1, "rho": 0.5, "epsilon": 0.5}, "w0": _W0_3, "grads": _GRADS_3},
             np.array([[0.37350889359326483, -0.01407195089460584, -0.9367544467966324],
                       [0.2809268836160097, -0.04174052944924883, -0.886851817872488],
                       [0.21129582123373056, -0.027822749436464407, -0.9250676031903969]]),
             "a large epsilon (0.5), where its place in the formula shows; rho 0.5, 3 updates"),
    )

    def diagnoses(self):
        h = lambda i: _hyper(i, self.defaults)

        def denominator(expected, inputs):
            """mean_square + epsilon at each update, recovered from the expected steps."""
            d = _steps(expected, _f(inputs["w0"]))
            return (h(inputs)["learning_rate"] * _f(inputs["grads"]) / d) ** 2

        def from_denominator(new_step):
            def candidate(expected, inputs):
                hp = h(inputs)
                q = denominator(expected, inputs)
                return _rebuild(_f(inputs["w0"]), new_step(hp, _f(inputs["grads"]), q))
            return candidate

        no_sqrt = from_denominator(lambda hp, g, q: -hp["learning_rate"] * g / q)
        eps_outside = from_denominator(
            lambda hp, g, q: -hp["learning_rate"] * g / (np.sqrt(q - hp["epsilon"]) + hp["epsilon"]))
        no_one_minus_rho = from_denominator(
            lambda hp, g, q: -hp["learning_rate"] * g / np.sqrt((q - hp["epsilon"]) / (1 - hp["rho"]) + hp["epsilon"]))

        def fresh(expected, inputs):
            hp = h(inputs)
            g = _f(inputs["grads"])
            return _rebuild(_f(inputs["w0"]), -hp["learning_rate"] * g / np.sqrt((1 - hp["rho"]) * g**2 + hp["epsilon"]))

        return [
            (_looks_like(fresh),
             "Each update used only the current gradient: mean_square starts afresh at every call. Create "
             "self.mean_square once (zeros, when it is still None) and keep the running average between updates."),
            (_looks_like(no_sqrt),
             "The step divides by mean_square + epsilon itself: take its square root, "
             "grad / sqrt(mean_square + epsilon), so the step has the units of w."),
            (_looks_like(eps_outside),
             "Epsilon is outside the square root, sqrt(mean_square) + epsilon. Keras's RMSprop puts it inside: "
             "sqrt(mean_square + epsilon). With a small epsilon the two agree, with a large one they do not."),
            (_looks_like(no_one_minus_rho),
             "The new squared gradient is not weighted by (1 - rho): "
             "mean_square = rho * mean_square + (1 - rho) * grad ** 2."),
        ]

    def secret_inputs(self, rng):
        cases = []
        for epsilon in (1e-7, float(rng.uniform(0.2, 1.0)), 1e-7):
            cases.append({"hyper": {"learning_rate": float(np.exp(rng.uniform(np.log(1e-3), np.log(0.1)))),
                                    "rho": float(rng.uniform(0.5, 0.99)), "epsilon": epsilon},
                          **self._problem(rng)})
        return cases

    def hidden_inputs(self, rng):
        # Keras's defaults over a long run on a matrix, and a gradient that keeps the same size and sign.
        constant = {"w0": rng.normal(0, 1, 3), "grads": np.tile(rng.uniform(0.2, 2.0, 3), (8, 1))}
        return [{"hyper": {}, **self._problem(rng, steps=20, shape=(2, 2))},
                {"hyper": {"learning_rate": 0.05, "rho": 0.95, "epsilon": 1e-7}, **constant}]


# ------------------------------------------------------------------------------ Exercise 4: Adam
class AdamUpdate(OptimizerCheck):
    name = "adam_update"
    signature = "Adam(learning_rate, beta_1, beta_2, epsilon).update(w, grad)"
    kind = "adam"
    defaults = ADAM_DEFAULTS
    state_attrs = ("m", "v")
    ascent_advice = _ASCENT + " w_new = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)."
    formula = ("t = t + 1; m = beta_1 * m + (1 - beta_1) * grad; v = beta_2 * v + (1 - beta_2) * grad ** 2; "
               "m_hat = m / (1 - beta_1 ** t); v_hat = v / (1 - beta_2 ** t); "
               "w_new = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon), with m, v starting at zeros and t at 0 "
               "(Keras folds the two corrections into the step size; both forms pass).")
    nonfinite_advice = ("A square root of a negative number gives nan: v averages grad ** 2, the squared gradient, "
                        "which is never negative.")

    def nonfinite_message(self, got, k):
        if k == 0 and not np.any(np.isfinite(got[0])):
            # Every weight at the very first update: a division by zero, not a sign.
            return ("Every weight is nan or inf at the first update: with t = 0, 1 - beta ** t is 0 and the bias "
                    "correction divides by zero. Add 1 to self.t at the start of every update, so that t = 1 at "
                    "the first one.")
        return self.nonfinite_advice
    public_cases = (
        Case({"hyper": {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
              "w0": _W0, "grads": _GRADS},
             np.array([[0.9900000632451532, -1.9900000316226767], [0.9801188540186213, -1.9819696467515138],
                       [0.9759152008614385, -1.9798625228633258], [0.9710187700225008, -1.9786326363622293]]),
             "learning_rate 0.01, beta_1 0.9, beta_2 0.999, 4 updates"),
        Case({"hyper": {"learning_rate": 0.1, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7},
              "w0": _W0_3, "grads": _GRADS_3},
             np.array([[0.40000004999997496, -0.09999900000999992, -0.9000001999996],
                       [0.3025078765292707, -0.19823255191994243, -0.8017848127778843],
                       [0.21057188653709957, -0.23416764173558624, -0.767597620589233]]),
             "learning_rate 0.1, beta_1 0.8, beta_2 0.99, 3 updates"),
    )

    def diagnoses(self):
        h = lambda i: _hyper(i, self.defaults)

        def correction(inputs, t):
            """Keras's step-size factor sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)."""
            hp = h(inputs)
            return np.sqrt(1 - hp["beta_2"] ** t) / (1 - hp["beta_1"] ** t)

        def fresh(expected, inputs):
            g = _f(inputs["grads"])
            return _rebuild(_f(inputs["w0"]), -h(inputs)["learning_rate"] * g / (np.abs(g) + h(inputs)["epsilon"]))

        t = lambda e: _step_numbers(e)
        return [
            (_looks_like(_rescaled(lambda e, i: 1 / correction(i, t(e)))),
             "That is Adam without bias correction. m and v start at zero, so early on they are too small: divide "
             "them by (1 - beta_1 ** t) and (1 - beta_2 ** t) (or scale the step size by "
             "sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t), as Keras does)."),
            (_looks_like(fresh),
             "Every step is -learning_rate * sign(grad), as at a first update: the state starts afresh at every "
             "call. Create self.m and self.v once (zeros, when still None), keep them and self.t between updates, "
             "and add 1 to t each time."),
            (_looks_like(_rescaled(lambda e, i: correction(i, 1.0) / correction(i, t(e)))),
             "The bias correction always uses t = 1: the step count t is not incremented. Add 1 to self.t at the "
             "start of every update and use it in beta_1 ** t and beta_2 ** t."),
            (_looks_like(_rescaled(lambda e, i: 1 / np.sqrt(1 - h(i)["beta_2"] ** t(e)))),
             "Only m is bias-corrected: divide v by (1 - beta_2 ** t) as well."),
            (_looks_like(_rescaled(lambda e, i: 1 - h(i)["beta_1"] ** t(e))),
             "Only v is bias-corrected: divide m by (1 - beta_1 ** t) as well."),
            (_any(_looks_like(_rescaled(lambda e, i: np.sqrt(1 - h(i)["beta_2"]) / (1 - h(i)["beta_1"]))),
                  _looks_like(_rescaled(lambda e, i: 1 / (1 - h(i)["beta_1"]))),
                  _looks_like(_rescaled(lambda e, i: np.sqrt(1 - h(i)["beta_2"])))),
             "The moving averages are missing their (1 - beta) weights: m = beta_1 * m + (1 - beta_1) * grad and "
             "v = beta_2 * v + (1 - beta_2) * grad ** 2."),
        ]

    def secret_inputs(self, rng):
        return [{"hyper": {"learning_rate": float(np.exp(rng.uniform(np.log(1e-3), np.log(0.1)))),
                           "beta_1": float(rng.uniform(0.8, 0.95)), "beta_2": float(rng.uniform(0.99, 0.9999)),
                           "epsilon": float(rng.choice([1e-7, 1e-8]))},
                 **self._problem(rng)} for _ in range(3)]

    def hidden_inputs(self, rng):
        # Keras's defaults over a long run on a matrix, and gradients whose sign flips at every update.
        flips = np.outer(np.where(np.arange(12) % 2 == 0, 1.0, -1.0), rng.uniform(0.1, 3.0, 4))
        return [{"hyper": {}, **self._problem(rng, steps=30, shape=(3, 2))},
                {"hyper": {"learning_rate": 0.05, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
                 "w0": rng.normal(0, 1, 4), "grads": flips}]


learning_rate_sweep = LearningRateSweep()
momentum_update = MomentumUpdate()
rmsprop_update = RMSpropUpdate()
adam_update = AdamUpdate()

CHECKS = CheckSet("06_optimizers", [learning_rate_sweep, momentum_update, rmsprop_update, adam_update])
