"""Checks for 14_debugging: a diagnostic (the share of dead ReLU units per layer) and three broken training steps,
one bug each, judged by the behaviour of the fixed code on inputs and data the grader picks.

Exercise 1 runs the student's `dead_relu_fraction` on a small Keras network that the check builds in the kernel
from weights the grader chose (dead, always-active and sometimes-active units mixed, every pre-activation at least
1e-3 away from 0, so float32 and float64 agree); the grader works out the right fractions itself with numpy.
Exercise 2 calls `shuffle_split` on grader data whose rows are unique and sorted by class, and the grader finds
every returned row in its own data: pairing, partition, size, order and seed are all read from that. Exercises 3
and 4 call the fixed training function on digits the grader chooses; the kernel reports only the model
(`model_data.report_model`), and the grader rebuilds it, reads its compile settings and outputs, and measures
its accuracy on test digits perturbed with the run's seed (`heldout.py`), which the kernel never sees.

Stated rules (part / rule / how it is checked). 28 rules found, 24 checked, 4 suggestions only.
  Ex1 dead_relu_fraction / one fraction per Dense layer with activation "relu", in order / shape messages (one
      number, one per unit, the output layer counted)
  Ex1 dead_relu_fraction / a unit is dead when its output is 0 for every row of X / values; "zero share" and
      "zero for some row" diagnoses
  Ex1 dead_relu_fraction / a fraction of the layer's units, in [0, 1] / values; counts and "share alive" diagnoses
  Ex1 dead_relu_fraction / works for any model of Dense layers and any X / grader-built networks of other widths,
      depths (hidden tests) and inputs
  Ex2 shuffle_split / returns (X_train, y_train, X_val, y_val) / type and shape messages
  Ex2 shuffle_split / every row exactly once, in one of the two sets / grader finds each row; duplicates, overlap
      and lost rows diagnosed
  Ex2 shuffle_split / each row keeps its own label (the bug) / labels compared on rows the grader can identify;
      "only X shuffled" and "shuffled apart" diagnoses
  Ex2 shuffle_split / round(val_fraction * n) rows in validation (one more or fewer accepted) / row counts;
      swapped-sets diagnosis
  Ex2 shuffle_split / rows in a random order (the data come sorted by class) / validation rows not a block of
      consecutive rows in their original order
  Ex2 shuffle_split / the same seed gives the same split, another seed another split / `run` calls it 3 times
  Ex2 shuffle_split / X and y left unchanged / `run` compares them after the call
  Ex3 train_classifier / returns the trained keras.Model / type message
  Ex3 train_classifier / softmax applied exactly once: logits with from_logits=True (the bug: logits into a loss
      that expects probabilities), or a softmax output with from_logits=False (softmax twice diagnosed) / outputs
      on held-out digits and the compiled loss of the rebuilt model
  Ex3 train_classifier / the cross-entropy loss of the given code (sparse, or categorical on one-hot labels) /
      compiled loss of the rebuilt model
  Ex3 train_classifier / Adam kept / compiled optimizer of the rebuilt model
  Ex3 train_classifier / learning rate 0.01 kept (a constant) / compiled learning rate
  Ex3 train_classifier / the network of the given code, no bigger / parameter count (at most 5,000)
  Ex3 train_classifier / 10 epochs of batch 32, keras.utils.set_random_seed(seed) first / suggestion only: the
      statement says the given code does this and the grader does not require it (neither is in the model);
      too few epochs show as low accuracy
  Ex3 train_classifier / the fixed run classifies held-out digits, accuracy >= 0.85 / grader's perturbed digits
  Ex4 train_sgd / returns the trained keras.Model / type message
  Ex4 train_sgd / the loss of the given code kept / compiled loss of the rebuilt model
  Ex4 train_sgd / plain SGD kept / compiled optimizer of the rebuilt model
  Ex4 train_sgd / a constant learning rate at most 1 (the bug: 100 times too high) / compiled learning rate;
      clipping diagnosis
  Ex4 train_sgd / the network of the given code, no bigger / parameter count (at most 5,000)
  Ex4 train_sgd / the run converges: finite weights, accuracy >= 0.85 on held-out digits / grader's digits;
      "diverged" and "too low now" diagnoses
  Ex4 train_sgd / 15 epochs of batch 32 / suggestion only, as in Ex3; too few epochs show as low accuracy
  Ex1-4 / "about N lines", hints / suggestion only
Per exercise: Ex1 4 found, 4 checked; Ex2 7/7; Ex3 9 found, 7 checked, 2 suggestions; Ex4 7 found, 6 checked,
1 suggestion; 1 course-wide suggestion.

All-or-nothing, no partial credit, in every part: each rule above is one way for the whole answer to be wrong for
its purpose. A diagnostic with a wrong definition or shape gives no usable number. A split is usable only when every
requirement holds at once: a split that loses rows, overlaps, mislabels, has the wrong size, is unshuffled on sorted
data, cannot be repeated or changes the caller's data is the very bug a validation split must not have, and none of
the six is a smaller piece of the work than the others. A fixed training run is judged by the one bug it had: a run
that fixes it but changes a given setting (loss, optimizer, rate, network) or misses the accuracy has not fixed the
given code.
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from .compare import compare_array, fmt
from .core import Case, Check, CheckSet, Mistake, describe_value
from .heldout import digits_heldout
from .model_data import ModelRejected, compile_summary, is_probabilities, one_line, predict, rebuild_model, report_model

#: The trained models of Exercises 3 and 4 must classify at least this share of the grader's perturbed test
#: digits. The fixed reference runs get about 0.95.
ACCURACY_THRESHOLD = 0.85
#: The given network (64 -> 32 ReLU -> 10) has 2,410 parameters; a fix may not make it much bigger.
MAX_PARAMS = 5_000
#: Exercise 4: a learning rate above this is still too high for plain SGD on this network.
LR_MAX = 1.0
#: Exercise 4: below this the 15 epochs of the given code are too few.
LR_LOW = 0.02
#: Exercise 3: the learning rate of the given code's Adam, which the fix keeps.
CLASSIFIER_LR = 0.01
#: The losses of the given code (names without underscores, lower case): sparse or one-hot cross-entropy.
_CROSS_ENTROPIES = ("sparsecategoricalcrossentropy", "categoricalcrossentropy")
#: Held-out digits per grading run.
HELDOUT_DIGITS = 300
#: Rows of the digits' training split the training functions get.
N_TRAIN = 1000
#: Smallest distance of a pre-activation from 0 in Exercise 1's networks: float32 and float64 agree on ReLU.
_MARGIN = 1e-3


# ----------------------------------------------------------------------------- data the notebook shares
@lru_cache(maxsize=1)
def _digits():
    from coursekit.data import digits_split

    return digits_split()


def digit_sets():
    """Scaled 8x8 digits, flattened to 64 values in [0, 1]: (X_train, X_test, y_train, y_test).

    `coursekit.data.digits_split()`: 1347 training rows and 450 test rows."""
    X_train, X_test, y_train, y_test = _digits()
    return X_train.copy(), X_test.copy(), y_train.copy(), y_test.copy()


def _training_rows(rng=None):
    """N_TRAIN rows of the training split: the first ones, or a random choice of the grader's."""
    X_train, _, y_train, _ = _digits()
    rows = np.arange(N_TRAIN) if rng is None else np.sort(rng.choice(len(X_train), N_TRAIN, replace=False))
    return np.asarray(X_train[rows], dtype="float32"), np.asarray(y_train[rows]).astype("int64")


def _none_message(sig: str) -> str:
    return f"{sig} returned None: return the trained model."


# ----------------------------------------------------------------------------- Exercise 1: dead_relu_fraction
def relu_network(widths, rng, n: int, dead=None):
    """Inputs X (n, widths[0]) in [0, 1] and weights for widths[0] -> ReLU layers -> widths[-1] (softmax).

    In each hidden layer some units are dead (negative for every row), some always active and some active on
    part of the rows; every pre-activation is at least _MARGIN away from 0. `dead` may give the number of dead
    units per hidden layer. Returns {"X": X, "weights": [W1, b1, ...]} or None when no margin was found.
    """
    X = np.round(rng.uniform(0, 1, (n, widths[0])), 3)
    A, weights = X, []
    for layer, (d_in, h) in enumerate(zip(widths[:-2], widths[1:-1])):
        W = rng.normal(0, 1, (d_in, h)) / np.sqrt(d_in)
        Z = A @ W
        n_dead = int(dead[layer]) if dead is not None else int(rng.integers(1, max(2, h - 1)))
        n_mixed = 0 if n_dead >= h else int(rng.integers(1, h - n_dead + 1)) if h - n_dead > 1 else 1
        kinds = rng.permutation(["dead"] * n_dead + ["mixed"] * n_mixed + ["alive"] * (h - n_dead - n_mixed))
        b = np.zeros(h)
        for j, kind in enumerate(kinds):
            z = np.sort(Z[:, j])
            if kind == "dead" or np.ptp(z) == 0:
                b[j] = -z[-1] - 0.5 if kind == "dead" else -z[0] + 0.5
            elif kind == "alive":
                b[j] = -z[0] + 0.5
            else:
                gaps = np.diff(z)
                k = int(np.argmax(gaps[n // 4: 3 * n // 4])) + n // 4
                if gaps[k] < 2 * _MARGIN:
                    return None
                b[j] = -(z[k] + z[k + 1]) / 2
        b = np.round(b, 6)
        Z = Z + b
        if np.min(np.abs(Z)) < _MARGIN:
            return None
        weights += [W, b]
        A = np.maximum(Z, 0.0)
    weights += [rng.normal(0, 1, (widths[-2], widths[-1])) / np.sqrt(widths[-2]), np.zeros(widths[-1])]
    return {"X": X, "weights": weights}


def _network_case(widths, rng, n, dead=None) -> dict:
    for _ in range(200):
        made = relu_network(widths, rng, n, dead)
        if made is not None:
            return {"widths": list(widths), **made}
    raise RuntimeError("no network with a safe margin")  # pragma: no cover - never happens for these sizes


def _activations(inputs) -> list[np.ndarray]:
    """The ReLU outputs of every hidden layer, worked out here in float64."""
    A = np.asarray(inputs["X"], dtype=np.float64)
    weights = [np.asarray(w, dtype=np.float64) for w in inputs["weights"]]
    out = []
    for W, b in zip(weights[:-2:2], weights[1:-2:2]):
        A = np.maximum(A @ W + b, 0.0)
        out.append(A)
    return out


def dead_fractions(inputs) -> np.ndarray:
    return np.array([float(np.mean(np.all(A <= 0, axis=0))) for A in _activations(inputs)])


def build_relu_model(inputs):
    """The Keras model of an Exercise 1 input (built in the kernel from the grader's weights)."""
    import keras

    widths = [int(w) for w in inputs["widths"]]
    layers = [keras.Input(shape=(widths[0],))]
    layers += [keras.layers.Dense(h, activation="relu") for h in widths[1:-1]]
    layers.append(keras.layers.Dense(widths[-1], activation="softmax"))
    model = keras.Sequential(layers)
    model.set_weights([np.asarray(w, dtype="float32") for w in inputs["weights"]])
    return model


_PUBLIC_NETS = [
    # (widths, rows, dead units per hidden layer, seed of the weights)
    ((4, 8, 4, 3), 12, (2, 1), 1401),
    ((6, 10, 5, 3), 20, (3, 2), 1402),
]

_DEAD_DIAGNOSES = [
    (lambda got, exp, inp: np.allclose(got, [np.mean(A <= 0) for A in _activations(inp)], atol=1e-6),
     "Those are the shares of zero outputs (over every unit and every row). A unit is dead only when its output is "
     "0 for EVERY row of X: count the units whose column is all zeros, np.all(A == 0, axis=0), and divide by the "
     "number of units.", "dead_relu:zero_share"),
    (lambda got, exp, inp: np.allclose(got, [np.mean(np.any(A <= 0, axis=0)) for A in _activations(inp)], atol=1e-6),
     "Those count a unit as dead when it is 0 for SOME row: a unit that is 0 on a few inputs and positive on others "
     "still learns. Dead means 0 for every row, np.all(A == 0, axis=0), not np.any.", "dead_relu:any_zero"),
    (lambda got, exp, inp: np.allclose(got, 1 - exp, atol=1e-6),
     "Those are the shares of units that are alive (positive for some row): the question is the share that is "
     "dead, 0 for every row.", "dead_relu:alive_share"),
    (lambda got, exp, inp: np.allclose(got, exp * np.array([int(h) for h in inp["widths"][1:-1]]), atol=1e-6),
     "Those are numbers of dead units: divide each by the layer's number of units for a fraction.",
     "dead_relu:counts"),
]


class DeadReluFraction(Check):
    """The check builds the grader's network in the kernel and reports what the function returns for it; the grader
    works out the right fractions from the same weights with numpy."""
    name = "dead_relu_fraction"
    signature = "dead_relu_fraction(model, X)"
    expected_form = "a 1-D array with one fraction per ReLU layer"

    @cached_property
    def public_cases(self):
        cases = []
        for widths, n, dead, seed in _PUBLIC_NETS:
            inputs = _network_case(widths, np.random.default_rng(seed), n, dead)
            label = f"{n} rows through {' -> '.join(str(w) for w in widths)}"
            cases.append(Case(inputs, np.array([d / h for d, h in zip(dead, widths[1:-1])]), label))
        return tuple(cases)

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            d, h1, h2 = int(rng.integers(3, 9)), int(rng.integers(6, 13)), int(rng.integers(4, 9))
            cases.append(_network_case((d, h1, h2, 3), rng, int(rng.integers(16, 41))))
        return cases

    def hidden_inputs(self, rng):
        # One hidden layer with no dead unit; three hidden layers, the first of them with every unit dead.
        return [_network_case((5, 7, 4), rng, 20, dead=(0,)),
                _network_case((4, 6, 5, 4, 3), rng, 24, dead=(6, 2, 1))]

    def run(self, subject, inputs):
        model = build_relu_model(inputs)
        result = subject(model, np.asarray(inputs["X"], dtype="float32"))
        if result is None:
            return {"kind": "NoneType"}
        try:
            return np.asarray([float(np.asarray(v)) for v in result] if isinstance(result, (list, tuple))
                              else np.asarray(result), dtype=np.float64)
        except (TypeError, ValueError):
            return {"kind": describe_value(result)}

    def compare(self, inputs, got, expected):
        sig = self.signature
        want = dead_fractions(inputs)  # the grader's own answer, from the weights it chose
        if isinstance(got, dict):
            if got.get("kind") == "NoneType":
                return Mistake(f"{sig} returned None: return the fractions, np.array([...]) with one per ReLU layer.",
                               "dead_relu:none")
            return Mistake(f"{sig} returned {str(got.get('kind'))[:80]}; it should return {self.expected_form}.",
                           "dead_relu:wrong_type")
        got = np.asarray(got, dtype=np.float64)
        widths = [int(w) for w in inputs["widths"]]
        n_relu, units = len(widths) - 2, sum(widths[1:-1])
        if got.size == n_relu + 1 and n_relu > 0:
            return Mistake(f"{sig} returned {got.size} values for a model with {n_relu} ReLU layers: the output layer "
                           "uses softmax, not ReLU, so it has no dead ReLU units. Count only the Dense layers whose "
                           "activation is relu.", "dead_relu:output_layer")
        if got.size == units and units != n_relu:
            return Mistake(f"{sig} returned {got.size} values, one per unit: return one fraction per ReLU layer, the "
                           "share of that layer's units that are dead.", "dead_relu:per_unit")
        if got.size == 1 and n_relu > 1:
            return Mistake(f"{sig} returned one number, {fmt(got)}: return one fraction per ReLU layer "
                           f"({n_relu} here), in the order of the layers.", "dead_relu:one_number")
        if got.shape != want.shape and got.size == want.size:
            got = got.reshape(want.shape)
        return compare_array(sig, got, want, inputs, diagnoses=_DEAD_DIAGNOSES, tol=1e-6)


# ----------------------------------------------------------------------------- Exercise 2: shuffle_split
def sorted_dataset(rng, n: int, d: int, k: int) -> dict:
    """n unique rows of d features (3 decimals) and labels 0..k-1 sorted by class, as data sets often come."""
    while True:
        X = np.round(rng.uniform(0, 1, (n, d)), 3)
        if len(np.unique(X, axis=0)) == n:
            break
    counts = np.full(k, n // k) + (np.arange(k) < n % k)
    return {"X": X, "y": np.repeat(np.arange(k), counts).astype("int64")}


def _row_index(rows, X) -> np.ndarray:
    """For each returned row, its index in the grader's X (-1 when it is no row of X)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, X.shape[1])
    distance = np.abs(rows[:, None, :] - X[None, :, :]).max(axis=2)
    nearest = distance.argmin(axis=1)
    return np.where(distance[np.arange(len(rows)), nearest] <= 1e-5, nearest, -1)


class ShuffleSplit(Check):
    """The grader's rows are unique and sorted by class; every returned row is looked up in them, so the split's
    pairing, partition, size, order and use of the seed are all judged by the grader."""
    name = "shuffle_split"
    signature = "shuffle_split(X, y, val_fraction, seed)"
    expected_form = "a tuple (X_train, y_train, X_val, y_val)"

    @cached_property
    def public_cases(self):
        return (Case({**sorted_dataset(np.random.default_rng(1411), 12, 3, 3), "val_fraction": 0.25, "seed": 0}, None,
                     "12 rows of 3 classes, a quarter for validation"),
                Case({**sorted_dataset(np.random.default_rng(1412), 30, 4, 5), "val_fraction": 0.2, "seed": 7}, None,
                     "30 rows of 5 classes, 20% for validation"))

    def secret_inputs(self, rng):
        cases = []
        for _ in range(2):
            n, d, k = int(rng.integers(30, 70)), int(rng.integers(3, 7)), int(rng.integers(3, 6))
            cases.append({**sorted_dataset(rng, n, d, k), "val_fraction": float(rng.choice([0.2, 0.25, 0.3])),
                          "seed": int(rng.integers(0, 10**6))})
        return cases

    def run(self, subject, inputs):
        X0, y0 = np.array(inputs["X"]), np.array(inputs["y"])
        X, y = X0.copy(), y0.copy()
        seed, fraction = int(inputs["seed"]), float(inputs["val_fraction"])

        def parts(out):
            if not isinstance(out, (tuple, list)) or len(out) != 4:
                return {"kind": describe_value(out)}
            try:
                return [np.asarray(p, dtype=np.float64) for p in out]
            except (TypeError, ValueError):
                return {"kind": describe_value(out) + " that are not all arrays of numbers"}

        first = parts(subject(X, y, fraction, seed))
        mutated = not (np.array_equal(X, X0) and np.array_equal(y, y0))
        again = parts(subject(X0.copy(), y0.copy(), fraction, seed))
        other = parts(subject(X0.copy(), y0.copy(), fraction, seed + 1))
        return {"first": first, "again": again, "other": other, "mutated": mutated}

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict) or "first" not in got:
            return self.unreadable(got)
        X, y = np.asarray(inputs["X"], dtype=np.float64), np.asarray(inputs["y"]).astype(int)
        n = len(X)
        first = got["first"]
        if isinstance(first, dict):
            return Mistake(f"{sig} returned {str(first.get('kind'))[:80]}; it should return four arrays, "
                           "(X_train, y_train, X_val, y_val).", "split:wrong_type")
        X_tr, y_tr, X_val, y_val = first
        if X_tr.ndim != 2 or X_val.ndim != 2 or X_tr.shape[1:] != X.shape[1:] or X_val.shape[1:] != X.shape[1:]:
            return Mistake(f"{sig} returned X_train of shape {X_tr.shape} and X_val of shape {X_val.shape}: both should "
                           f"be rows of X, with its {X.shape[1]} columns, in the order (X_train, y_train, X_val, y_val).",
                           "split:wrong_shape")
        if y_tr.shape != (len(X_tr),) or y_val.shape != (len(X_val),):
            return Mistake(f"{sig} returned {len(X_tr)} training rows with {y_tr.size} labels and {len(X_val)} "
                           f"validation rows with {y_val.size} labels: one label per row, as 1-D arrays.",
                           "split:label_count")
        idx_tr, idx_val = _row_index(X_tr, X), _row_index(X_val, X)
        if np.any(idx_tr < 0) or np.any(idx_val < 0):
            return Mistake(f"{sig} returned rows that are not rows of X: split the rows as they are, without "
                           "changing their values.", "split:changed_rows")
        every = np.concatenate([idx_tr, idx_val])
        each_unique = len(np.unique(idx_tr)) == len(idx_tr) and len(np.unique(idx_val)) == len(idx_val)
        if len(np.intersect1d(idx_tr, idx_val)) and each_unique:
            return Mistake(f"{sig} puts some rows in both the training and the validation set: a row the model "
                           "trained on tells nothing about new data. Cut ONE permutation of the rows in two.",
                           "split:overlap")
        if len(np.unique(every)) != len(every):
            return Mistake(f"{sig} returns some rows twice and leaves others out: the order was drawn with "
                           "replacement (rng.choice's default). Use rng.permutation(len(X)), which uses every row "
                           "once.", "split:duplicates")
        if len(every) != n:
            return Mistake(f"{sig} returned {len(every)} of the {n} rows: every row goes to exactly one of the two "
                           "sets.", "split:lost_rows")
        allowed = {int(np.floor(inputs["val_fraction"] * n)), int(round(inputs["val_fraction"] * n)),
                   int(np.ceil(inputs["val_fraction"] * n))}
        if len(idx_val) not in allowed:
            if len(idx_tr) in allowed:
                return Mistake(f"{sig} returned {len(idx_val)} validation rows and {len(idx_tr)} training rows: the two "
                               "sets are swapped. val_fraction is the share of rows in the validation set.",
                               "split:swapped")
            return Mistake(f"{sig} returned {len(idx_val)} validation rows of {n}; val_fraction = "
                           f"{inputs['val_fraction']:g} asks for round(val_fraction * n) = "
                           f"{int(round(inputs['val_fraction'] * n))}.", "split:val_size")
        labels = np.concatenate([y_tr, y_val])
        if not np.array_equal(np.round(labels).astype(int), y[every]):
            if np.array_equal(np.round(labels).astype(int), y) or \
                    np.array_equal(np.round(np.concatenate([y_val, y_tr])).astype(int), y):
                return Mistake(f"{sig} shuffles the rows of X but leaves y in its order: the labels no longer belong "
                               "to their rows, and the network can only learn noise (its loss stays near ln K). "
                               "Index X and y with the same permutation.", "split:shuffled_apart")
            return Mistake(f"{sig} returns labels that no longer belong to their rows: X and y were shuffled with two "
                           "different permutations. Draw ONE permutation, order = rng.permutation(len(X)), and index "
                           "both with it: X[order], y[order].", "split:shuffled_apart")
        block = np.sort(idx_val)
        # An unshuffled cut returns a block of consecutive rows in their original order (a random permutation
        # does that with a probability below 1e-3 even for the smallest public case).
        if len(idx_val) > 1 and np.all(np.diff(idx_val) == 1) and np.all(np.diff(idx_tr) > 0):
            classes = sorted(set(int(c) for c in y[block]))
            return Mistake(f"{sig} takes the validation rows as one block of the data, without shuffling: the data "
                           f"come sorted by class, so that block holds only the classes {classes}. Shuffle X and y "
                           "with one permutation before cutting.", "split:no_shuffle")
        if got.get("mutated"):
            return Mistake(f"{sig} returns a correct split but shuffles the caller's X or y in place "
                           "(rng.shuffle(X) or X.sort()): the data outside the function change. Index with a "
                           "permutation, X[order], which makes a copy.", "split:in_place")

        def same(a, b):
            return isinstance(a, list) and isinstance(b, list) and all(
                np.shape(p) == np.shape(q) and np.allclose(p, q) for p, q in zip(a, b))

        if not same(first, got.get("again")):
            return Mistake(f"{sig} gives another split when called again with the same seed: draw the permutation "
                           "from np.random.default_rng(seed), so that a run can be repeated.", "split:not_reproducible")
        if same(first, got.get("other")):
            return Mistake(f"{sig} gives the same split for another seed: the seed argument is ignored. Draw the "
                           "permutation from np.random.default_rng(seed).", "split:seed_ignored")
        return None


# ----------------------------------------------------------------------------- Exercises 3 and 4: fixed training runs
def _training_case(rng):
    X, y = _training_rows(rng)
    X_held, y_held = digits_heldout(rng, HELDOUT_DIGITS)
    return {"X": X, "y": y, "seed": int(rng.integers(0, 1000)), "_X": X_held, "_y": y_held}


def _public_training_case(seed: int) -> dict:
    X, y = _training_rows()
    X_held, y_held = digits_heldout(np.random.default_rng(seed), HELDOUT_DIGITS)
    return {"X": X, "y": y, "seed": 0, "_X": X_held, "_y": y_held}


class _TrainingRun(Check):
    """The kernel calls the fixed function on the grader's digits and reports the model it returns; the grader
    rebuilds it and judges it (`judge_model`)."""
    public_seed = 0
    expected_form = "a trained keras.Model"

    @cached_property
    def public_cases(self):
        return (Case(_public_training_case(self.public_seed), None,
                     f"{N_TRAIN} training digits; judged on {HELDOUT_DIGITS} perturbed test digits"),)

    def secret_inputs(self, rng):
        return [_training_case(rng)]

    def run(self, subject, inputs):
        model = subject(np.array(inputs["X"], dtype="float32"), np.array(inputs["y"]), int(inputs["seed"]))
        return report_model(model)

    def compare(self, inputs, got, expected):
        sig = self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            if got.get("kind") == "NoneType":
                return Mistake(_none_message(sig), "no_model")
            return Mistake(f"{sig} returned a {str(got.get('kind'))[:60]}, not a keras.Model: return the trained "
                           "model.", "no_model")
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return Mistake(f"The model from {sig} cannot be checked: {exc}.", "rejected")
        weights = model.get_weights()
        finite = all(np.all(np.isfinite(w)) for w in weights)
        summary = compile_summary(model)
        if not summary.get("compiled"):
            return Mistake(f"The model from {sig} is not compiled: keep the model.compile(...) line of the given code.",
                           "not_compiled")
        if int(model.count_params()) > MAX_PARAMS:
            return Mistake(f"The model from {sig} has {int(model.count_params()):,} parameters: keep the network of the "
                           "given code (64 -> 32 ReLU -> 10, 2,410 parameters) and fix the bug instead.",
                           "too_big")
        outputs, accuracy = None, 0.0
        if finite:
            try:
                outputs = predict(model, inputs["_X"])
            except Exception as exc:  # noqa: BLE001 - a model that cannot read digits is the student's to fix
                return Mistake(f"The model from {sig} cannot read 64-pixel digits ({one_line(exc, 120)}).", "call_error")
            finite = bool(np.all(np.isfinite(outputs)))
            if finite:
                accuracy = float(np.mean(np.argmax(outputs, axis=1) == np.asarray(inputs["_y"]).astype(int)))
        return self.judge_model(sig, summary, outputs, finite, accuracy)

    def judge_model(self, sig, summary, outputs, finite, accuracy):
        raise NotImplementedError

    def loss_message(self, sig, summary):
        """The message for a loss that is not the given code's cross-entropy over 10 classes, else None.

        Sparse (integer labels, as given) and plain categorical cross-entropy (one-hot labels) are both right."""
        loss = str(summary.get("loss") or "none")
        if loss.replace("_", "").lower() in _CROSS_ENTROPIES:
            return None
        return Mistake(f"The model from {sig} is compiled with the loss {loss[:40]}: keep the loss of the given code, "
                       "keras.losses.SparseCategoricalCrossentropy (the cross-entropy of 10 classes; from_logits says "
                       "whether the model outputs logits).", f"{self.name}:loss")

    def low_accuracy(self, sig, accuracy, why):
        return Mistake(f"The model from {sig} classifies {accuracy:.0%} of the grader's held-out digits; at least "
                       f"{ACCURACY_THRESHOLD:.0%} is needed (the fixed reference gets about 95%). {why}",
                       f"{self.name}:low_accuracy")


class TrainClassifier(_TrainingRun):
    """Logits into a loss that expects probabilities: judged by the compiled loss, the model's outputs on held-out
    digits and its held-out accuracy. Softmax applied twice, the fix that overshoots, is diagnosed too."""
    name = "train_classifier"
    signature = "train_classifier(X, y, seed)"
    public_seed = 14_003

    def judge_model(self, sig, summary, outputs, finite, accuracy):
        from_logits = bool(summary.get("from_logits"))
        wrong_loss = self.loss_message(sig, summary)
        if wrong_loss:
            return wrong_loss
        probabilities = finite and is_probabilities(outputs)
        if finite and not probabilities and not from_logits:
            return Mistake(f"The model from {sig} outputs logits (its last layer has no softmax), but the loss treats "
                           "them as probabilities (from_logits=False, the default of 'sparse_categorical_crossentropy'): "
                           "it takes the raw scores for a probability distribution, and the run stalls with the loss "
                           "at ln 10 = 2.303, a uniform guess. Apply softmax exactly once: tell the loss it gets "
                           "logits, SparseCategoricalCrossentropy(from_logits=True), or give the last layer "
                           "activation='softmax'.", "train_classifier:logits_as_probabilities")
        if finite and probabilities and from_logits:
            return Mistake(f"The model from {sig} applies softmax twice: its last layer outputs probabilities "
                           "(softmax), and the loss, told from_logits=True, applies softmax to them again. Keras's fit "
                           "notices this one case, warns and falls back on the logits, but any other use of the loss "
                           "(a custom loop, another backend, evaluating it on model.predict) cannot go below about "
                           "1.46. Apply softmax exactly once: keep the softmax layer with from_logits=False, or remove "
                           "it and keep from_logits=True.", "train_classifier:softmax_twice")
        optimizer, rate = summary.get("optimizer"), summary.get("learning_rate")
        if optimizer != "Adam":
            return Mistake(f"The model from {sig} is compiled with {str(optimizer)[:30]}: keep the optimizer of the "
                           "given code, keras.optimizers.Adam(learning_rate=0.01). The bug is in how the outputs meet "
                           "the loss; another optimizer does not fix it.", "train_classifier:optimizer")
        if rate is None or not np.isclose(rate, CLASSIFIER_LR, rtol=1e-4):
            got_rate = "a learning-rate schedule" if rate is None else f"learning_rate={rate:g}"
            return Mistake(f"The model from {sig} is compiled with Adam and {got_rate}: keep the learning rate of the "
                           f"given code, Adam(learning_rate={CLASSIFIER_LR:g}). The bug is in how the outputs meet the "
                           "loss; a new learning rate does not fix it.", "train_classifier:learning_rate")
        if not finite:
            return Mistake(f"The model from {sig} has nan or inf in its weights or outputs: the run diverged. Keep the "
                           "learning rate of the given code and fix the loss instead.", "train_classifier:nan")
        if accuracy < ACCURACY_THRESHOLD:
            return self.low_accuracy(sig, accuracy, "Softmax is now applied once, with Adam at 0.01; train as the given "
                                                    "code does (10 epochs of batch 32).")
        return None


class TrainSGD(_TrainingRun):
    """A learning rate 100 times too high: judged by the compiled optimizer and learning rate, finite weights and the
    held-out accuracy."""
    name = "train_sgd"
    signature = "train_sgd(X, y, seed)"
    public_seed = 14_004

    def judge_model(self, sig, summary, outputs, finite, accuracy):
        optimizer, rate = summary.get("optimizer"), summary.get("learning_rate")
        config = summary.get("optimizer_config") or {}
        wrong_loss = self.loss_message(sig, summary)
        if wrong_loss:
            return wrong_loss
        if optimizer != "SGD":
            return Mistake(f"The model from {sig} is compiled with {str(optimizer)[:30]}: the exercise keeps plain SGD "
                           "and fixes its learning rate. Another optimizer hides the bug instead of fixing it.",
                           "train_sgd:optimizer")
        if rate is None:
            return Mistake(f"The model from {sig} uses a learning-rate schedule: use one constant learning rate, "
                           "keras.optimizers.SGD(learning_rate=...).", "train_sgd:schedule")
        if rate > LR_MAX:
            clipped = [k for k in ("clipnorm", "clipvalue", "global_clipnorm") if config.get(k) is not None]
            how = (f" Clipping the gradients ({', '.join(clipped)}) only hides the symptom: each step is still "
                   f"{rate:g} times the clipped gradient." if clipped else "")
            return Mistake(f"The model from {sig} is compiled with SGD(learning_rate={rate:g}): that is still far "
                           f"too high (above {LR_MAX:g}), the bug of the given code.{how} The range test of Exercise 4 "
                           "shows where the loss falls fastest: take a rate there.", "train_sgd:rate_too_high")
        if not finite:
            return Mistake(f"The model from {sig} has nan or inf in its weights or outputs: the run diverged. Lower the "
                           "learning rate to where the range test's loss falls steadily.", "train_sgd:nan")
        if accuracy < ACCURACY_THRESHOLD:
            if rate < LR_LOW:
                return self.low_accuracy(sig, accuracy, f"The learning rate {rate:g} is too low now: in the 15 epochs "
                                                        "of the given code the loss has hardly fallen. Take a rate "
                                                        "where the range test's loss falls fastest.")
            return self.low_accuracy(sig, accuracy, "Train as the given code does (15 epochs) with a learning rate "
                                                    "where the range test's loss falls fastest.")
        return None


dead_relu_fraction = DeadReluFraction()
shuffle_split = ShuffleSplit()
train_classifier = TrainClassifier()
train_sgd = TrainSGD()

CHECKS = CheckSet("14_debugging", [dead_relu_fraction, shuffle_split, train_classifier, train_sgd])
