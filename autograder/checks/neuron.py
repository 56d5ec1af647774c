"""Checks for 01_neuron: a numpy neuron, the perceptron rule, and the same neuron in Keras."""
from __future__ import annotations

import numpy as np

from .compare import close, compare_array, fmt
from .core import Case, Check, CheckSet
from .model_data import ModelRejected, all_layers, predict, rebuild_model, report_model


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# Diagnoses work back from the expected output, so the check never holds the solution itself.
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
        return compare_array(self.signature, got, expected, inputs, diagnoses=_FORWARD_DIAGNOSES)


class PerceptronUpdate(Check):
    name = "perceptron_update"
    signature = "perceptron_update(w, b, x, y, lr)"
    public_cases = (
        Case({"w": np.array([0.1, 0.2]), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 0, "lr": 0.5},
             (np.array([-0.4, -0.3]), -0.5), "predicted 1, label 0"),
        Case({"w": np.array([0.2, -0.4]), "b": -0.1, "x": np.array([1.0, 0.0]), "y": 1, "lr": 1.0},
             (np.array([0.2, -0.4]), -0.1), "predicted 1, label 1: no change"),
        Case({"w": np.array([-0.3, 0.1]), "b": 0.0, "x": np.array([2.0, 1.0]), "y": 1, "lr": 0.1},
             (np.array([-0.1, 0.2]), 0.1), "predicted 0, label 1"),
    )

    def secret_inputs(self, rng):
        cases = []
        while len(cases) < 8:
            n = int(rng.integers(2, 5))
            w, x, b = rng.normal(0, 1, n), rng.normal(0, 1, n), float(rng.normal(0, 0.5))
            z = float(w @ x + b)
            if abs(z) < 0.05:  # keep clear of the z = 0 tie, where conventions differ
                continue
            # Half the cases are mistakes (an update is due), half are already right.
            wrong = len(cases) % 2 == 0
            y = int(z < 0) if wrong else int(z >= 0)
            cases.append({"w": w, "b": b, "x": x, "y": y, "lr": float(rng.uniform(0.05, 1.0))})
        return cases

    def compare(self, inputs, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"{self.signature} should return a pair (w_new, b_new), but returned {fmt(got) if not isinstance(got, (tuple, list)) else f'{len(got)} values'}."
        w_new, b_new = got
        exp_w, exp_b = expected
        w, b, x, y, lr = (np.asarray(inputs["w"], float), inputs["b"], np.asarray(inputs["x"], float),
                          inputs["y"], inputs["lr"])
        y_hat = int(w @ x + b >= 0)
        if np.asarray(b_new).size != 1:
            return f"{self.signature} returned a bias of shape {np.shape(b_new)}; b_new is a single number."
        situation = f"(x = {fmt(x)}, label y = {y}, prediction ŷ = {y_hat})"
        if close(w_new, exp_w) and close(float(np.ravel(b_new)[0]), exp_b):
            return None
        if y == y_hat:
            return (f"{self.signature} changed the parameters although the prediction was right {situation}. "
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


_GATES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
}
_GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


class TrainPerceptron(Check):
    """Judged by behaviour: on separable data the trained perceptron must classify every point."""
    name = "train_perceptron"
    signature = "train_perceptron(X, y, lr, epochs)"
    public_cases = tuple(
        Case({"X": _GATE_X, "y": np.array(_GATES[g]), "lr": 1.0, "epochs": 20}, None, f"the {g} gate")
        for g in ("AND", "OR")
    )

    def secret_inputs(self, rng):
        gate = str(rng.choice(["NAND", "NOR", "AND", "OR"]))
        cases = [{"X": _GATE_X, "y": np.array(_GATES[gate]), "lr": float(rng.uniform(0.1, 1.0)), "epochs": 30}]
        for _ in range(2):  # separable clouds with a margin, so 100 epochs always suffice
            n, m = int(rng.integers(2, 4)), int(rng.integers(12, 24))
            normal = rng.normal(0, 1, n)
            normal /= np.linalg.norm(normal)
            X = rng.normal(0, 1, (m, n))
            side = X @ normal
            X += np.outer(np.where(side >= 0, 0.6, -0.6), normal)  # push points away from the boundary
            y = (X @ normal >= 0).astype(int)
            if y.min() == y.max():
                y[0] = 1 - y[0]
                X[0] -= 2 * (X[0] @ normal) * normal
            cases.append({"X": X, "y": y, "lr": float(rng.uniform(0.1, 1.0)), "epochs": 100})
        return cases

    def hidden_inputs(self, rng):
        # A larger problem in five dimensions, and labels given as floats.
        n, m = 5, 60
        normal = rng.normal(0, 1, n)
        normal /= np.linalg.norm(normal)
        X = rng.normal(0, 1, (m, n))
        X += np.outer(np.where(X @ normal >= 0, 0.8, -0.8), normal)
        y = (X @ normal >= 0).astype(float)
        return [{"X": X, "y": y, "lr": 0.5, "epochs": 200}]

    def compare(self, inputs, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"{self.signature} should return a pair (w, b), but returned {fmt(got) if not isinstance(got, (tuple, list)) else f'{len(got)} values'}."
        X, y = np.asarray(inputs["X"], float), np.asarray(inputs["y"], int)
        try:
            w = np.asarray(got[0], dtype=float)
            b = float(np.ravel(np.asarray(got[1], dtype=float))[0])
        except (TypeError, ValueError, IndexError):
            return f"{self.signature} should return (w, b) with w of shape ({X.shape[1]},) and b a number."
        if w.shape != (X.shape[1],):
            return f"{self.signature} returned w of shape {w.shape}, expected ({X.shape[1]},): one weight per feature."
        wrong = _perceptron_errors(w, b, X, y)
        if len(wrong) == 0:
            return None
        i = int(wrong[0])
        if not np.any(w) and b == 0:
            cause = "w and b are still all zeros: nothing was learned. Call perceptron_update for every sample in every epoch."
        else:
            cause = ("On separable data the perceptron rule ends with every training point right: loop over all "
                     "epochs, visit every sample each epoch, and keep the updated w and b between samples.")
        return (f"{self.signature} returned w = {fmt(w)}, b = {b:.4g}, which misclassifies {len(wrong)} of {len(y)} "
                f"training points, e.g. x = {fmt(X[i])} with label {y[i]}. {cause}")


def _neuron_facts(model, X) -> dict:
    """What the check looks at, computed here from the rebuilt model and the grader's inputs X."""
    import keras

    dense = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Dense)]
    return {"outputs": predict(model, X), "n_params": int(model.count_params()),
            "dense_units": [int(layer.units) for layer in dense]}


class KerasNeuron(Check):
    """The kernel reports the model keras_neuron returns (config and weights). The grader rebuilds it and
    computes its Dense layers, its parameter count and its outputs on inputs `_X` the kernel never sees."""
    name = "keras_neuron"
    signature = "keras_neuron(w, b)"
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
        if not isinstance(got, dict):
            return f"{self.signature} returned something the check cannot read."
        if not got.get("is_model"):
            return (f"{self.signature} returned a {got.get('kind')}, not a keras.Model. Wrap the layer in a model, "
                    "e.g. keras.Sequential([keras.Input(shape=(n,)), keras.layers.Dense(1, activation='sigmoid')]).")
        X = np.asarray(inputs["_X"], dtype=np.float64)
        try:
            got = _neuron_facts(rebuild_model(got), X)
        except ModelRejected as exc:
            return f"The model from {self.signature} cannot be checked: {exc}."
        except Exception as exc:  # noqa: BLE001 - a model that cannot read X is the student's to fix
            return (f"The model from {self.signature} cannot read inputs of shape {X.shape}: "
                    f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}. Start it with "
                    "keras.Input(shape=(len(w),)).")
        if isinstance(expected, dict) and expected.get("is_model"):  # the reference's report
            expected = _neuron_facts(rebuild_model(expected), X)
        if got["dense_units"] != [1]:
            return (f"{self.signature} built a model whose Dense layers have units {got['dense_units']}; "
                    "a single neuron is exactly one Dense layer with 1 unit.")
        n = len(np.ravel(inputs["w"]))
        message = compare_array(f"The model from {self.signature}", got["outputs"], expected["outputs"], inputs,
                                tol=1e-4, diagnoses=[
            (lambda g, e, i: close(g, _logit(e), 1e-3),
             "The outputs are the weighted sum z: give the Dense layer activation='sigmoid'."),
            (lambda g, e, i: close(g, _sigmoid(_logit(e) - i["b"]), 1e-3),
             "The bias is not set: layer.set_weights([w.reshape(-1, 1), np.array([b])])."),
            (lambda g, e, i: close(g, np.maximum(0, _logit(e)), 1e-3),
             "Those are ReLU outputs: a sigmoid neuron needs activation='sigmoid'."),
            (lambda g, e, i: close(g, np.tanh(_logit(e)), 1e-3),
             "Those are tanh outputs: a sigmoid neuron needs activation='sigmoid'."),
            (lambda g, e, i: True,
             "Set the layer's weights from w and b with layer.set_weights([w.reshape(-1, 1), np.array([b])]) "
             "and use activation='sigmoid'. A fresh Dense layer starts from random weights."),
        ])
        if message:
            return message
        if got["n_params"] != n + 1:
            return f"The model has {got['n_params']} parameters; one neuron with {n} inputs has {n + 1} (n weights + 1 bias)."
        return None


neuron_forward = NeuronForward()
perceptron_update = PerceptronUpdate()
train_perceptron = TrainPerceptron()
keras_neuron = KerasNeuron()

CHECKS = CheckSet("01_neuron", [neuron_forward, perceptron_update, train_perceptron, keras_neuron])
