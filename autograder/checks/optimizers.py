"""Checks for 06_optimizers: SGD, momentum, RMSprop and Adam update steps in numpy.

Each subject is a class. The check builds one instance with the case's hyperparameters, feeds it a
fixed sequence of gradients through ``update(w, grad)``, and reports the weights after every update:
a trajectory of shape (steps, *w.shape). The public trajectories were computed once offline with the
formulas Keras 3 uses, and `keras.optimizers` (run in float64 on the same gradients) gives the same
values within 2e-7.

Trajectories are compared relative to how far the weights moved: an answer passes when every weight is
within TOLERANCE x (largest displacement from w0) of the expected one. That accepts float32 arithmetic
and the ways of writing each update that are equal in exact arithmetic (e.g. Adam's bias correction
applied to m and v, or folded into the step size), and rejects every mistake the messages describe.

Diagnoses work back from the expected trajectory: most mistakes rescale each expected step by a factor
that depends only on the hyperparameters and the step number, so the check never needs the optimizer's
own state.
"""
from __future__ import annotations

import numpy as np

from .compare import fmt
from .core import Case, Check, CheckSet

#: Largest error allowed, as a fraction of the largest distance the weights moved from w0.
TOLERANCE = 1e-3
#: How close a wrong answer must be to a diagnosed mistake for its message to name that mistake.
_DIAGNOSIS_TOL = 5e-3

#: Keras 3's defaults, used when a case builds the optimizer without hyperparameters.
SGD_DEFAULTS = {"learning_rate": 0.01}
MOMENTUM_DEFAULTS = {"learning_rate": 0.01, "momentum": 0.9}
RMSPROP_DEFAULTS = {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}
ADAM_DEFAULTS = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


# ------------------------------------------------------------------------------ helpers
def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


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


_ASCENT = ("The weights moved uphill, by exactly the opposite of each expected step: an optimizer subtracts "
           "its step, w_new = w - (step), to go down the gradient.")
_RETURNS_STEP = ("update returned the change in w (the step), not the new weights: return w plus that change.")
_NO_CHANGE = "update returned w unchanged: the weights must move by the step every time update is called."
_STATE_ADVICE = {
    "momentum": "self.velocity",
    "rmsprop": "self.mean_square",
    "adam": "self.m, self.v and the step count self.t",
}


def _compare_trajectory(check: "OptimizerCheck", inputs: dict, got, expected) -> str | None:
    """Compare the weights after each update with the expected ones; None when right, else a message."""
    sig = check.signature
    expected = _f(expected)
    if isinstance(got, (str, dict, tuple)) or got is None:
        return f"{sig} should return the new weights as a numpy array, but the check got {type(got).__name__}."
    try:
        got = _f(got)
    except (TypeError, ValueError):
        return f"{sig} should return numbers: the new weights, an array shaped like w."
    w0 = _f(inputs["w0"])
    if got.shape != expected.shape:
        per_step = got.shape[1:] if got.ndim else ()
        return (f"{sig} returned weights of shape {per_step}, but w has shape {w0.shape}: the update must "
                "keep the shape of w (no reshaping or stacking; grad has the same shape as w).")
    if not np.all(np.isfinite(got)):
        k = int(np.argmax(~np.all(np.isfinite(got).reshape(len(got), -1), axis=1)))
        return (f"{sig} returned nan or inf values after update {k + 1}: w = {fmt(got[k])}. "
                f"{check.nonfinite_advice}")
    scale = _scale(expected, w0)
    errors = np.max(np.abs(got - expected).reshape(len(got), -1), axis=1) / scale
    if float(np.max(errors)) <= TOLERANCE:
        return None
    k = int(np.argmax(errors > TOLERANCE))
    lead = (f"After update {k + 1} of {len(expected)}, {sig} gave w = {fmt(got[k])}, "
            f"expected {fmt(expected[k])}.")
    for test, advice in check.diagnoses():
        try:
            if test(got, expected, inputs):
                return f"{lead} {advice}"
        except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
            continue
    if k > 0:
        state = _STATE_ADVICE.get(check.kind)
        carry = (f" Check that {state} carries over from one update to the next (create it once, when it is "
                 "still None, then keep updating it) and that each update uses the new gradient.") if state else ""
        return (f"{lead} The first {k} update{'s were' if k > 1 else ' was'} right, so the formula is nearly "
                f"there.{carry} The formula is: {check.formula}")
    return f"{lead} Re-read the formula: {check.formula}"


class OptimizerCheck(Check):
    """Drives `subject(**hyper)` through a sequence of gradients and reports the weights after each update."""

    kind = ""
    formula = ""
    defaults: dict = {}
    nonfinite_advice = "Look for a division by zero or a square root of a negative number."

    def run(self, subject, inputs):
        optimizer = subject(**dict(inputs.get("hyper", {})))
        w = np.array(inputs["w0"], dtype=np.float64)
        trajectory = []
        for step, grad in enumerate(np.asarray(inputs["grads"], dtype=np.float64), start=1):
            w = optimizer.update(w, np.array(grad, dtype=np.float64))
            if w is None:
                raise TypeError(f"update returned None at update {step}: return the new weights "
                                "(a numpy array shaped like w)")
            if isinstance(w, tuple):
                raise TypeError(f"update returned a tuple of {len(w)} values: return only the new weights, "
                                "and keep the optimizer's state on self")
            trajectory.append(np.array(w, dtype=np.float64, copy=True))
        return np.stack(trajectory)

    def diagnoses(self):
        return []

    def compare(self, inputs, got, expected):
        return _compare_trajectory(self, inputs, got, expected)

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


# ------------------------------------------------------------------------------ Exercise 1: SGD
_W0 = np.array([1.0, -2.0])
_GRADS = np.array([[0.5, -1.0], [0.4, -0.2], [-0.3, 0.6], [0.2, 0.1]])
_W0_3 = np.array([0.5, 0.0, -1.0])
_GRADS_3 = np.array([[2.0, 0.1, -0.5], [1.5, 0.2, -0.4], [1.0, -0.1, 0.3]])


class SGDUpdate(OptimizerCheck):
    name = "sgd_update"
    signature = "SGD(learning_rate).update(w, grad)"
    kind = "sgd"
    defaults = SGD_DEFAULTS
    formula = "w_new = w - learning_rate * grad."
    public_cases = (
        Case({"hyper": {"learning_rate": 0.1}, "w0": _W0, "grads": _GRADS[:3]},
             np.array([[0.95, -1.9], [0.91, -1.88], [0.94, -1.94]]), "learning_rate 0.1, 3 updates"),
        Case({"hyper": {"learning_rate": 0.5}, "w0": _W0_3, "grads": _GRADS_3[:2]},
             np.array([[-0.5, -0.05, -0.75], [-1.25, -0.15, -0.55]]), "learning_rate 0.5, 2 updates"),
    )

    def diagnoses(self):
        lr = lambda e, i: _hyper(i, self.defaults)["learning_rate"]
        return [
            (_looks_like(_ascent), _ASCENT + " Use w - learning_rate * grad, not w + learning_rate * grad."),
            (_looks_like(_rescaled(lambda e, i: 1 / lr(e, i))),
             "Each step is the whole gradient: multiply it by the learning rate, w - learning_rate * grad."),
            (_looks_like(_rescaled(lambda e, i: lr(e, i))),
             "Each step is learning_rate² * grad: the learning rate is applied twice."),
            (_looks_like(_returns_step), _RETURNS_STEP),
            (_looks_like(_stuck_at_w0), _NO_CHANGE),
        ]

    def secret_inputs(self, rng):
        return [{"hyper": {"learning_rate": float(rng.uniform(0.01, 0.5))}, **self._problem(rng)} for _ in range(3)]

    def hidden_inputs(self, rng):
        # Keras's default learning rate, and weights stored as a matrix.
        return [{"hyper": {}, **self._problem(rng, steps=6, shape=(3, 2))}]


# ------------------------------------------------------------------------------ Exercise 2: momentum
class MomentumUpdate(OptimizerCheck):
    name = "momentum_update"
    signature = "Momentum(learning_rate, momentum).update(w, grad)"
    kind = "momentum"
    defaults = MOMENTUM_DEFAULTS
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
            (_looks_like(_ascent), _ASCENT + " With Keras's sign convention: velocity = momentum * velocity - "
                                             "learning_rate * grad, then w + velocity."),
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
            (_looks_like(_rescaled(lambda e, i: 1 / h(i)["learning_rate"])),
             "The learning rate is missing: velocity = momentum * velocity - learning_rate * grad."),
            (_looks_like(_rescaled(lambda e, i: h(i)["learning_rate"])),
             "The learning rate is applied twice: it goes into the velocity, and w + velocity adds no more."),
            (_looks_like(_returns_step), _RETURNS_STEP),
            (_looks_like(_stuck_at_w0), _NO_CHANGE),
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
            (_looks_like(_ascent), _ASCENT + " w_new = w - learning_rate * grad / sqrt(mean_square + epsilon)."),
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
            (_looks_like(_returns_step), _RETURNS_STEP),
            (_looks_like(_stuck_at_w0), _NO_CHANGE),
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
    formula = ("t = t + 1; m = beta_1 * m + (1 - beta_1) * grad; v = beta_2 * v + (1 - beta_2) * grad ** 2; "
               "m_hat = m / (1 - beta_1 ** t); v_hat = v / (1 - beta_2 ** t); "
               "w_new = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon), with m, v starting at zeros and t at 0 "
               "(Keras folds the two corrections into the step size; both forms pass).")
    nonfinite_advice = ("With t = 0, 1 - beta ** t is 0 and the bias correction divides by zero: add 1 to self.t "
                        "at the start of every update, so that t = 1 at the first one. A square root of a negative "
                        "number also gives nan: v averages grad ** 2, not grad.")
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
            (_looks_like(_ascent), _ASCENT + " w_new = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)."),
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
            (_looks_like(_returns_step), _RETURNS_STEP),
            (_looks_like(_stuck_at_w0), _NO_CHANGE),
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


sgd_update = SGDUpdate()
momentum_update = MomentumUpdate()
rmsprop_update = RMSpropUpdate()
adam_update = AdamUpdate()

CHECKS = CheckSet("06_optimizers", [sgd_update, momentum_update, rmsprop_update, adam_update])
