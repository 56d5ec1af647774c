"""Checks for 01_neuron: a numpy neuron, the perceptron rule, and the same neuron in Keras.

Diagnoses work back from the expected output, so the check never holds the solution itself.

Stated rules (part / rule / how it is checked). 21 rules found in the statements and docstrings,
19 checked, 2 not checked and said so in the statement (a loop is allowed; lr in train_perceptron):
- neuron_forward / returns an array of shape (m,), one value per sample / shape compared with the expected (m,)
- neuron_forward / a = sigmoid(Xw + b), the bias included / values compared with `matches` (Keras's float32
  sigmoid as the twin); diagnoses for a missing bias, no activation, the sign, tanh, a step, zeros
- neuron_forward / "you need no loop" / suggestion only (a loop over the rows passes)
- perceptron_update / returns the pair (w_new, b_new) / type and length checked, "should return a pair"
- perceptron_update / w_new has shape (n,) / shape compared
- perceptron_update / b_new is a single number / np.ndim(b_new) == 0, "b_new is a single number"
- perceptron_update / ŷ = 1 when z = w·x + b ≥ 0, so z = 0 counts as 1 / public and secret cases with z exactly 0,
  "exactly on the line"
- perceptron_update / w + lr (y − ŷ) x and b + lr (y − ŷ) / values compared; diagnoses for the sign, a frozen
  bias, a sigmoid ŷ
- perceptron_update / nothing changes when the prediction is right / half the cases are right, "zero when y == ŷ"
- perceptron_update / lr is honoured / diagnosis "The learning rate lr is missing"
- train_perceptron / returns the pair (w, b), w of shape (n,), b a number / checked, "should return a pair"
- train_perceptron / starts from w = 0 and b = 0 / (w, b) compared with the rule's own result on small problems
  with lr = 1 (a public one among them), "the perceptron rule gives"; "started from w = 1" diagnosis
- train_perceptron / ties: z = 0 predicts 1 / the same comparison; "predicted as 0" diagnosis
- train_perceptron / visits every sample, in the order given / the same comparison (a shuffled order ends elsewhere,
  with the generic message); "reverse order" diagnosis
- train_perceptron / exactly `epochs` passes / the same comparison, on a public and a secret case that 2 to 4
  epochs do not settle; "one pass fewer/more" diagnoses
- train_perceptron / separable data ends with no mistake / larger separable clouds, other learning rates,
  "misclassifies"
- train_perceptron / lr / not judged here, and the statement says so: from w = 0 the learning rate scales w and b
  together and changes no prediction, so (w, b) is compared up to a common positive factor; perceptron_update
  (Exercise 2) checks lr
- keras_neuron / returns a keras.Model of built-in layers / checked, "not a keras.Model", "cannot be checked"
- keras_neuron / exactly one Dense layer with 1 unit, len(w) inputs, n + 1 parameters / units and parameters
  computed from the rebuilt model; it is called on inputs of shape (m, len(w))
- keras_neuron / the sigmoid activation / outputs compared; diagnoses from the outputs (z, ReLU, tanh)
- keras_neuron / its weights are w and b / outputs compared; diagnoses from the rebuilt layer's own weights
  (bias left at 0, initial weights never replaced)

keras_neuron stays all-or-nothing: a neuron with the wrong weights or activation computes a different function.
"""
from __future__ import annotations

import numpy as np

from .compare import close, compare_array, fmt, matches
from .core import Case, Check, CheckSet
from .model_data import (ModelRejected, activation_name, all_layers, predict, rebuild_model, rejection_text,
                         report_model)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _keras_sigmoid(inputs: dict):
    """Keras's own float32 sigmoid of the float32 weighted sum: an answer as accurate as it passes."""
    try:
        import keras

        z = (np.asarray(inputs["X"], dtype="float32") @ np.asarray(inputs["w"], dtype="float32")
             + np.float32(inputs["b"]))
        return np.asarray(keras.ops.convert_to_numpy(keras.ops.sigmoid(z)), dtype=np.float64)
    except Exception:  # noqa: BLE001 - without Keras, the tolerance and the floor apply
        return None


_FORWARD_DIAGNOSES = [
    (lambda got, exp, inp: close(got, _logit(exp), 1e-4),
     "That is the weighted sum z = Xw + b: pass it through the sigmoid 1 / (1 + exp(-z))."),
    (lambda got, exp, inp: close(got, _sigmoid(_logit(exp) - inp["b"]), 1e-4),
     "The bias b is missing: the neuron computes sigmoid(Xw + b)."),
    (lambda got, exp, inp: close(got, 1 - exp, 1e-4),
     "The sign inside the exponential is flipped: sigmoid(z) = 1 / (1 + exp(-z))."),
    (lambda got, exp, inp: close(got, np.tanh(_logit(exp)), 1e-4),
     "That is tanh(z); this neuron uses the sigmoid 1 / (1 + exp(-z))."),
    (lambda got, exp, inp: not np.any(got),
     "Every output is 0: return sigmoid(Xw + b), not a placeholder."),
    (lambda got, exp, inp: set(np.unique(got)) <= {0.0, 1.0},
     "Only 0s and 1s came back: that is a step function. This neuron outputs sigmoid(z), between 0 and 1."),
]


class NeuronForward(Check):
    name = "neuron_forward"
    signature = "neuron_forward(X, w, b)"
    expected_form = "an array of shape (m,), one sigmoid output per row of X"
    public_cases = (
        Case({"X": np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]]), "w": np.array([0.5, -1.0]), "b": 0.1},
             np.array([0.19781611144141825, 0.52497918747894, 0.289050497374996]), "3 samples, 2 features"),
        Case({"X": np.array([[0.2, -0.4, 1.5], [3.0, 0.0, -2.0]]), "w": np.array([1.0, 2.0, -0.5]), "b": -0.25},
             np.array([0.16798161486607552, 0.9770226300899744]), "2 samples, 3 features"),
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(4):
            m, n = int(rng.integers(3, 9)), int(rng.integers(2, 6))
            cases.append({"X": rng.normal(0, 1.5, (m, n)), "w": rng.normal(0, 1, n),
                          "b": float(rng.uniform(0.3, 1.5) * rng.choice([-1, 1]))})
        return cases

    def hidden_inputs(self, rng):
        # One sample, one feature, and weighted sums far from zero (|z| up to about 30).
        return [{"X": rng.normal(0, 1, (1, 1)), "w": rng.normal(0, 1, 1), "b": float(rng.uniform(0.3, 1.0))},
                {"X": rng.normal(0, 6, (5, 3)), "w": rng.normal(0, 2, 3), "b": float(rng.uniform(-1.0, -0.3))}]

    def compare(self, inputs, got, expected):
        return compare_array(self.signature, got, expected, inputs, diagnoses=_FORWARD_DIAGNOSES,
                             twin=_keras_sigmoid(inputs))


def _pair(sig: str, got, what: str) -> str | None:
    """The message when `got` is not a pair, else None."""
    if isinstance(got, (tuple, list)) and len(got) == 2:
        return None
    shown = f"{len(got)} values" if isinstance(got, (tuple, list)) else fmt(got) if got is not None else "None"
    return f"{sig} should return a pair {what}, but returned {shown}."


def _tie_case(rng: np.random.Generator, y: int) -> dict:
    """A sample exactly on the line: values in steps of 1/4 and 1/2, so w·x + b is exactly 0 in any order."""
    n = int(rng.integers(2, 5))
    w = rng.integers(-4, 5, n) / 4.0
    x = rng.integers(-4, 5, n) / 2.0
    if not np.any(w * x):
        w[0], x[0] = 0.75, 1.5
    return {"w": w, "b": float(-(w @ x)), "x": x, "y": y, "lr": float(rng.choice([0.25, 0.5, 1.0]))}


class PerceptronUpdate(Check):
    name = "perceptron_update"
    signature = "perceptron_update(w, b, x, y, lr)"
    expected_form = "a pair (w_new, b_new): an array of shape (n,) and a number"
    public_cases = (
        Case({"w": np.array([0.1, 0.2]), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 0, "lr": 0.5},
             (np.array([-0.4, -0.3]), -0.5), "predicted 1, label 0"),
        Case({"w": np.array([0.2, -0.4]), "b": -0.1, "x": np.array([1.0, 0.0]), "y": 1, "lr": 1.0},
             (np.array([0.2, -0.4]), -0.1), "predicted 1, label 1: no change"),
        Case({"w": np.array([-0.3, 0.1]), "b": 0.0, "x": np.array([2.0, 1.0]), "y": 1, "lr": 0.1},
             (np.array([-0.1, 0.2]), 0.1), "predicted 0, label 1"),
        Case({"w": np.array([0.0, 0.0]), "b": 0.0, "x": np.array([1.0, 2.0]), "y": 0, "lr": 0.5},
             (np.array([-0.5, -1.0]), -0.5), "w = 0 and b = 0, so z = 0: the step predicts 1, label 0"),
    )

    def secret_inputs(self, rng):
        cases = []
        while len(cases) < 8:
            n = int(rng.integers(2, 5))
            w, x, b = rng.normal(0, 1, n), rng.normal(0, 1, n), float(rng.normal(0, 0.5))
            z = float(w @ x + b)
            if abs(z) < 0.05:  # the ties are the two cases below, where z is exactly 0
                continue
            # Half the cases are mistakes (an update is due), half are already right.
            wrong = len(cases) % 2 == 0
            y = int(z < 0) if wrong else int(z >= 0)
            cases.append({"w": w, "b": b, "x": x, "y": y, "lr": float(rng.uniform(0.05, 1.0))})
        # z = 0 exactly: the step gives 1, so label 0 is a mistake and label 1 is right.
        return cases + [_tie_case(rng, 0), _tie_case(rng, 1)]

    def compare(self, inputs, got, expected):
        sig = self.signature
        message = _pair(sig, got, "(w_new, b_new)")
        if message:
            return message
        w_new, b_new = got
        exp_w, exp_b = expected
        w, b, x, y, lr = (np.asarray(inputs["w"], float), float(inputs["b"]), np.asarray(inputs["x"], float),
                          int(inputs["y"]), float(inputs["lr"]))
        if np.ndim(b_new) != 0:
            return (f"{sig} returned a bias of shape {np.shape(b_new)}; b_new is a single number (a float), "
                    "like the b it is given.")
        b_new = float(b_new)
        z = float(w @ x + b)
        y_hat = int(z >= 0)
        situation = f"(x = {fmt(x)}, label y = {y}, prediction ŷ = {y_hat})"
        shape = compare_array("w_new", w_new, exp_w, inputs)
        if shape and "shape" in shape:
            return f"{shape} w_new has one weight per feature, like w."
        if matches(w_new, exp_w) and matches(b_new, exp_b):
            return None
        if z == 0.0:
            on_line = (f"This sample lies exactly on the line: z = w·x + b = 0 {situation}. The step predicts ŷ = 1 "
                       "when z ≥ 0, so z = 0 counts as a prediction of 1")
            if y == 0 and close(w_new, w) and close(b_new, b):
                return (f"{sig} left w and b unchanged. {on_line}, and with label 0 that is a mistake: the update "
                        "is due. Use `>= 0`, not `> 0`.")
            if y == 1 and close(w_new, w + lr * x) and close(b_new, b + lr):
                return (f"{sig} updated w and b. {on_line}, which is right for label 1: nothing changes. Use "
                        "`>= 0`, not `> 0`.")
        if y == y_hat:
            return (f"{sig} changed the parameters although the prediction was right {situation}. "
                    "The update is lr * (y - ŷ) * x, which is zero when y == ŷ.")
        weights = compare_array("w_new", w_new, exp_w, inputs, diagnoses=[
            (lambda g, e, i: close(g, w), "The weights did not change although the prediction was wrong."),
            (lambda g, e, i: close(g, 2 * w - e), "The update has the wrong sign: use (y - ŷ), not (ŷ - y)."),
            (lambda g, e, i: close(g, w + (e - w) / lr), "The learning rate lr is missing from the update."),
            (lambda g, e, i: close(g, w + lr * (y - _sigmoid(w @ x + b)) * x),
             "ŷ must be the perceptron's step prediction (1 if w·x + b ≥ 0, else 0), not a sigmoid probability."),
        ])
        if weights:
            return f"{weights} {situation}"
        return (f"b_new is {fmt(b_new)}, expected {fmt(exp_b)} {situation}. "
                "The bias learns like a weight whose input is always 1: b + lr * (y - ŷ).")


def _perceptron_errors(w, b, X, y):
    """Indices misclassified under both tie conventions (step(0) = 1 and step(0) = 0)."""
    z = X @ w + b
    ties_to_one = (z >= 0).astype(int) != y
    ties_to_zero = (z > 0).astype(int) != y
    return np.flatnonzero(ties_to_one) if ties_to_one.sum() <= ties_to_zero.sum() else np.flatnonzero(ties_to_zero)


def _rule_run(X, y, lr, epochs, start=0.0, order=None, tie_to_one=True) -> np.ndarray:
    """(w, b) as one array after the perceptron rule, with the knobs of the common loop mistakes."""
    w, b = np.full(X.shape[1], float(start)), float(start)
    for _ in range(epochs):
        for i in (range(len(X)) if order is None else order):
            z = X[i] @ w + b
            y_hat = int(z >= 0) if tie_to_one else int(z > 0)
            w, b = w + lr * (y[i] - y_hat) * X[i], b + lr * (y[i] - y_hat)
    return np.append(w, b)


def _loop_variants(X, y, lr, epochs):
    """(result, advice) of each loop mistake train_perceptron's stated rules name; each one is specific."""
    yield (_rule_run(X, y, lr, epochs, start=1.0),
           "That is the rule started from w = 1 and b = 1: start from w = 0 and b = 0 (np.zeros(n) and 0.0).")
    yield (_rule_run(X, y, lr, epochs, order=range(len(X) - 1, -1, -1)),
           "That is the rule with the samples visited in reverse order: visit them in the order given, X[0] first.")
    yield (_rule_run(X, y, lr, epochs, tie_to_one=False),
           "That is the rule with a sample exactly on the line (z = 0) predicted as 0: the step predicts 1 when "
           "z >= 0. Use `>= 0`, not `> 0`.")
    if epochs > 1:
        yield (_rule_run(X, y, lr, epochs - 1),
               "That is the rule after one pass fewer than `epochs`: loop over the data exactly `epochs` times.")
    yield (_rule_run(X, y, lr, epochs + 1),
           "That is the rule after one pass more than `epochs`: loop over the data exactly `epochs` times.")


def _same_up_to_scale(got: np.ndarray, expected: np.ndarray) -> bool:
    """got = s * expected for one s > 0 (within `matches`): the same perceptron, trained with another lr."""
    norm = float(expected @ expected)
    if norm == 0.0:
        return not np.any(got)
    scale = float(got @ expected) / norm
    return scale > 0 and matches(got / scale, expected)


def _separable_cloud(rng: np.random.Generator, n: int, m: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    normal = rng.normal(0, 1, n)
    normal /= np.linalg.norm(normal)
    X = rng.normal(0, 1, (m, n))
    X += np.outer(np.where(X @ normal >= 0, margin, -margin), normal)  # push points away from the boundary
    y = (X @ normal >= 0).astype(int)
    if y.min() == y.max():
        y[0] = 1 - y[0]
        X[0] -= 2 * (X[0] @ normal) * normal
    return X, y


_GATES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
}
_GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
#: What the rule learns on the public gates with lr = 1 (lesson 01 prints the same lines).
_GATE_RESULTS = {"AND": (np.array([2.0, 1.0]), -3.0), "OR": (np.array([1.0, 1.0]), -1.0)}


class TrainPerceptron(Check):
    """Judged two ways, each case by one of them (the grader-only key "_judge"):

    * "rule": (w, b) against the rule's own result, from w = 0 and b = 0, every sample in order, `epochs`
      times. These cases use lr = 1, so the part judges the loop, not the learning rate: an update that
      mishandles lr (Exercise 2's to catch) still gives the same (w, b) there. Any positive multiple is
      accepted, since from zeros lr only rescales (w, b).
    * "separates": on larger separable clouds, with other learning rates, every training point must end up
      right, which the rule guarantees.
    """
    name = "train_perceptron"
    signature = "train_perceptron(X, y, lr, epochs)"
    expected_form = "a pair (w, b): an array of shape (n,) and a number"
    public_cases = tuple(
        Case({"X": _GATE_X, "y": np.array(_GATES[g]), "lr": 1.0, "epochs": 20, "_judge": "rule"},
             _GATE_RESULTS[g], f"the {g} gate")
        for g in ("AND", "OR")
    ) + (Case({"X": np.array([[2.0, -1.0], [1.0, -2.0], [-1.0, 2.0], [0.0, 0.0], [-1.0, -2.0], [0.0, 1.0]]),
               "y": np.array([0, 1, 0, 1, 1, 1]), "lr": 1.0, "epochs": 2, "_judge": "rule"},
              (np.array([0.0, -1.0]), 1.0), "six points and 2 epochs, too few for the rule to settle"),)

    def secret_inputs(self, rng):
        gate = str(rng.choice(["NAND", "NOR", "AND", "OR"]))
        cases = [{"X": _GATE_X, "y": np.array(_GATES[gate]), "lr": 1.0, "epochs": 30, "_judge": "rule"}]
        # Overlapping classes and a few epochs: the rule has not settled, so where it stops depends on `epochs`.
        X = rng.normal(0, 1, (int(rng.integers(15, 25)), 3))
        y = (X[:, 0] + rng.normal(0, 1.0, len(X)) >= 0).astype(int)
        cases.append({"X": X, "y": y, "lr": 1.0, "epochs": int(rng.integers(2, 5)), "_judge": "rule"})
        for _ in range(2):  # separable clouds with a margin, so 100 epochs always suffice
            X, y = _separable_cloud(rng, int(rng.integers(2, 4)), int(rng.integers(12, 24)), 0.6)
            cases.append({"X": X, "y": y, "lr": float(rng.uniform(0.1, 1.0)), "epochs": 100, "_judge": "separates"})
        return cases

    def hidden_inputs(self, rng):
        # A larger problem in five dimensions, and labels given as floats.
        X, y = _separable_cloud(rng, 5, 60, 0.8)
        return [{"X": X, "y": y.astype(float), "lr": 0.5, "epochs": 200, "_judge": "separates"}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        message = _pair(sig, got, "(w, b)")
        if message:
            return message
        X, y = np.asarray(inputs["X"], float), np.asarray(inputs["y"], int)
        n = X.shape[1]
        try:
            w = np.asarray(got[0], dtype=float)
            b_arr = np.asarray(got[1], dtype=float)
        except (TypeError, ValueError):
            return f"{sig} should return (w, b) with w an array of shape ({n},) and b a number."
        if w.shape != (n,):
            return f"{sig} returned w of shape {w.shape}, expected ({n},): one weight per feature."
        if b_arr.ndim != 0:
            return f"{sig} returned b of shape {b_arr.shape}; b is a single number (a float)."
        b = float(b_arr)
        shown = f"{sig} returned w = {fmt(w)}, b = {b:.4g}"
        if not np.any(w) and b == 0:
            return (f"{shown}: w and b are still all zeros, so nothing was learned. Call perceptron_update for every "
                    "sample in every epoch, and keep the w and b it returns.")
        wrong = _perceptron_errors(w, b, X, y)
        if inputs.get("_judge") == "separates":
            if not len(wrong):
                return None
            i = int(wrong[0])
            return (f"{shown}, which misclassifies {len(wrong)} of {len(y)} training points, e.g. x = {fmt(X[i])} with "
                    f"label {y[i]}. On separable data the perceptron rule ends with every training point right: loop "
                    "over all epochs, visit every sample each epoch, and keep the updated w and b between samples.")
        exp_w, exp_b = np.asarray(expected[0], dtype=float), float(expected[1])
        if _same_up_to_scale(np.append(w, b), np.append(exp_w, exp_b)):
            return None
        epochs = int(inputs["epochs"])
        for variant, advice in _loop_variants(X, y, float(inputs["lr"]), epochs):
            if _same_up_to_scale(np.append(w, b), variant) and \
                    not _same_up_to_scale(variant, np.append(exp_w, exp_b)):
                return f"{shown}; the perceptron rule gives w = {fmt(exp_w)}, b = {exp_b:.4g}. {advice}"
        if len(wrong) and not len(_perceptron_errors(exp_w, exp_b, X, y)):
            i = int(wrong[0])
            return (f"{shown}, which misclassifies {len(wrong)} of {len(y)} training points, e.g. x = {fmt(X[i])} with "
                    f"label {y[i]}, where the perceptron rule gives w = {fmt(exp_w)}, b = {exp_b:.4g} and gets every "
                    "point right. Loop over all epochs, visit every sample each epoch, and keep the updated w and b "
                    "between samples.")
        return (f"{shown}; the perceptron rule gives w = {fmt(exp_w)}, b = {exp_b:.4g} (or any positive multiple of "
                "both, since lr only rescales them). Start from w = 0 and b = 0, visit the samples in the order "
                "given, exactly `epochs` times, and update with perceptron_update.")


def _neuron_facts(model, X) -> dict:
    """What the check looks at, computed here from the rebuilt model and the grader's inputs X."""
    import keras

    dense = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Dense)]
    return {"outputs": predict(model, X), "n_params": int(model.count_params()),
            "dense_units": [int(layer.units) for layer in dense],
            "dense_weights": [layer.get_weights() for layer in dense],
            "activations": [activation_name(layer) for layer in all_layers(model)]}


_SET_WEIGHTS = "layer.set_weights([w.reshape(-1, 1), np.array([b])])"


class KerasNeuron(Check):
    """The kernel reports the model keras_neuron returns (config and weights). The grader rebuilds it and
    computes its Dense layers, its parameter count and its outputs on inputs `_X` the kernel never sees."""
    name = "keras_neuron"
    signature = "keras_neuron(w, b)"
    expected_form = "a keras.Model holding one Dense layer with one unit"
    public_cases = (
        Case({"w": np.array([0.5, -1.0]), "b": 0.1, "_X": np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]])},
             {"outputs": np.array([[0.19781611144141825], [0.52497918747894], [0.289050497374996]]),
              "n_params": 3}, "w = [0.5, -1], b = 0.1"),
    )

    def secret_inputs(self, rng):
        n, m = int(rng.integers(2, 6)), 6
        return [{"w": rng.normal(0, 1, n), "b": float(rng.uniform(0.3, 1.5) * rng.choice([-1, 1])),
                 "_X": rng.normal(0, 1.5, (m, n))}]

    def hidden_inputs(self, rng):
        # A neuron with a single input, and one with eight.
        return [{"w": rng.normal(0, 1, n), "b": float(rng.uniform(-1, 1)), "_X": rng.normal(0, 1, (4, n))}
                for n in (1, 8)]

    def run(self, subject, inputs):
        return report_model(subject(np.array(inputs["w"]), inputs["b"]))

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            return (f"{sig} returned a {got.get('kind')}, not a keras.Model. Wrap the layer in a model, "
                    "e.g. keras.Sequential([keras.Input(shape=(n,)), keras.layers.Dense(1, activation='sigmoid')]).")
        X = np.asarray(inputs["_X"], dtype=np.float64)
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {rejection_text(exc)}."
        try:
            facts = _neuron_facts(model, X)
        except Exception:  # noqa: BLE001 - a model that cannot read X is the student's to fix
            return (f"The model from {sig} cannot read inputs of shape {X.shape}, one row of len(w) features per "
                    "sample: start it with keras.Input(shape=(len(w),)).")
        if isinstance(expected, dict) and expected.get("is_model"):  # the reference's report
            expected = _neuron_facts(rebuild_model(expected), X)
        if facts["dense_units"] != [1]:
            return (f"{sig} built a model whose Dense layers have units {facts['dense_units']}; "
                    "a single neuron is exactly one Dense layer with 1 unit.")
        w, b = np.ravel(np.asarray(inputs["w"], dtype=np.float64)), float(inputs["b"])
        n = len(w)
        what = f"The model from {sig}"
        got_out, exp_out = np.asarray(facts["outputs"]), np.asarray(expected["outputs"], dtype=np.float64)
        if got_out.shape != exp_out.shape:
            return (f"{what} maps {len(X)} samples to outputs of shape {got_out.shape}, expected {exp_out.shape}: "
                    "one output column, the neuron's activation, per sample.")
        mismatch = compare_array(what, got_out, exp_out, inputs, tol=1e-4)
        if mismatch is None:
            if facts["n_params"] != n + 1:
                return (f"The model has {facts['n_params']} parameters; one neuron with {n} inputs has {n + 1} "
                        "(n weights + 1 bias).")
            return None
        kernel, bias = (list(facts["dense_weights"][0]) + [None, None])[:2]
        kernel_set = kernel is not None and np.size(kernel) == n and matches(np.ravel(kernel), w, 1e-5)
        bias_set = bias is not None and np.size(bias) == 1 and matches(np.ravel(bias), [b], 1e-5)
        if kernel_set and bias_set:
            return compare_array(what, got_out, exp_out, inputs, tol=1e-4, diagnoses=[
                (lambda g, e, i: close(g, _logit(e), 1e-3),
                 "The outputs are the weighted sum z: give the Dense layer activation='sigmoid'."),
                (lambda g, e, i: close(g, np.maximum(0, _logit(e)), 1e-3),
                 "Those are ReLU outputs: a sigmoid neuron needs activation='sigmoid'."),
                (lambda g, e, i: close(g, np.tanh(_logit(e)), 1e-3),
                 "Those are tanh outputs: a sigmoid neuron needs activation='sigmoid'."),
            ])
        if kernel_set and bias is not None and not np.any(bias):
            return (f"{mismatch} The weights are w but the bias is not set: it is still 0. "
                    f"Set both: {_SET_WEIGHTS}.")
        if bias is None:
            return (f"{mismatch} The Dense layer has no bias (use_bias=False), but a neuron has one: keep the default "
                    f"use_bias=True and set both with {_SET_WEIGHTS}.")
        if not kernel_set and not np.any(bias) and b != 0:
            return (f"{mismatch} The Dense layer still has the weights Keras gave it. A fresh Dense layer starts from "
                    f"random weights and a zero bias: set them from w and b with {_SET_WEIGHTS}.")
        return (f"{mismatch} The layer's weights are not w and b: its kernel should be w as a column of shape "
                f"({n}, 1) and its bias [b]; {_SET_WEIGHTS} does it.")


neuron_forward = NeuronForward()
perceptron_update = PerceptronUpdate()
train_perceptron = TrainPerceptron()
keras_neuron = KerasNeuron()

CHECKS = CheckSet("01_neuron", [neuron_forward, perceptron_update, train_perceptron, keras_neuron])
