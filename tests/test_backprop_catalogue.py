"""05_backprop: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
backward and train are checked together with the student's forward, so their subject is (forward, fn).
"""
from __future__ import annotations

import pytest

from autograder.catalogue import (alternative_cases, expect_correct, expect_wrong, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import backprop

SEEDS = (31, 32)
ONE_SEED = (33,)
PAIRED = ("backward", "train")

# ----------------------------------------------------------------------------- answers built from pieces
_FWD = "def forward(X, params):\n"
_Z1 = "    Z1 = X @ params['W1'] + params['b1']\n"
_A1 = "    A1 = np.maximum(0, Z1)\n"
_Z2 = "    Z2 = A1 @ params['W2'] + params['b2']\n"
_A2 = "    A2 = 1 / (1 + np.exp(-Z2))\n"
_RET = "    return A2, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}\n"


def _forward(z1=_Z1, a1=_A1, z2=_Z2, a2=_A2, ret=_RET):
    return _FWD + z1 + a1 + z2 + a2 + ret


_BWD = "def backward(X, y, params, cache):\n    m = X.shape[0]\n"
_DZ2 = "    dZ2 = (cache['A2'] - y) / m\n"
_DW2 = "    dW2 = cache['A1'].T @ dZ2\n    db2 = dZ2.sum(axis=0)\n"
_DZ1 = "    dZ1 = (dZ2 @ params['W2'].T) * (cache['Z1'] > 0)\n"
_DW1 = "    dW1 = X.T @ dZ1\n    db1 = dZ1.sum(axis=0)\n"
_BRET = "    return {'dW1': dW1, 'db1': db1, 'dW2': dW2, 'db2': db2}\n"


def _backward(dz2=_DZ2, dw2=_DW2, dz1=_DZ1, dw1=_DW1, ret=_BRET):
    return _BWD + dz2 + dw2 + dz1 + dw1 + ret


_NG = ("def numerical_gradient(f, x, eps=1e-5):\n    x = np.array(x, dtype=float)\n    grad = np.zeros_like(x)\n"
       "    for i in np.ndindex(x.shape):\n        old = x[i]\n")


def _tape(loss="    loss = -tf.reduce_mean(y * tf.math.log(A2) + (1 - y) * tf.math.log(1 - A2))\n",
          before="", head="    with tf.GradientTape() as tape:\n", make="tf.Variable"):
    body = ("        A1 = tf.nn.relu(X @ v['W1'] + v['b1'])\n        A2 = tf.sigmoid(A1 @ v['W2'] + v['b2'])\n"
            "    " + loss)
    return ("def tape_gradients(X, y, params):\n"
            f"    v = {{k: {make}(np.asarray(p, dtype=np.float64)) for k, p in params.items()}}\n"
            "    X = tf.constant(X, dtype=tf.float64)\n    y = tf.constant(y, dtype=tf.float64)\n"
            + before + head + body +
            "    grads = tape.gradient(loss, v)\n"
            "    return {'d' + k: (None if g is None else g.numpy()) for k, g in grads.items()}\n")


def _train(update="            params[key] = params[key] - lr * grads['d' + key]\n", epochs="epochs",
           record="        losses.append(bce_loss(A2, y))\n", init="init_params(X.shape[1], n_hidden, seed)",
           ret="    return params, losses\n"):
    return ("def train(X, y, n_hidden=16, lr=0.5, epochs=200, seed=0):\n"
            f"    params = {init}\n    losses = []\n"
            f"    for _ in range({epochs}):\n        A2, cache = forward(X, params)\n" + record +
            "        grads = backward(X, y, params, cache)\n        for key in params:\n" + update + ret)


WRONG = {
    "forward": [
        ("no sigmoid on the output", _forward(a2="    A2 = Z2\n"), "That is Z2"),
        ("ReLU on the output", _forward(a2="    A2 = np.maximum(0, Z2)\n"), "ReLU was applied to the output layer"),
        ("sigmoid hidden layer", _forward(a1="    A1 = 1 / (1 + np.exp(-Z1))\n"), "hidden layer used a sigmoid"),
        ("cache holds post-activation Z1", _forward(ret="    return A2, {'Z1': A1, 'A1': A1, 'Z2': Z2, 'A2': A2}\n"),
         "pre-activation"),
        ("no b1", _forward(z1="    Z1 = X @ params['W1']\n"), "b1 is missing"),
        ("returns A2 only", _forward(ret="    return A2\n"), "pair (A2, cache)"),
        ("cache without Z1", _forward(ret="    return A2, {'A1': A1, 'Z2': Z2, 'A2': A2}\n"), "has no Z1"),
        ("returns Z2, cache right", _forward(ret="    return Z2, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}\n"),
         "The cache is right, but the A2"),
        ("cache holds a list", _forward(ret="    return A2, [Z1, A1, Z2, A2]\n"), "cache of type list"),
        # Matches no diagnosis: the honest message says what was expected and what came back.
        ("hidden layer halved", _forward(a1="    A1 = np.maximum(0, Z1) / 2\n"), "tolerance 1e-06"),
    ],
    "backward": [
        ("missing 1/m", _backward(dz2="    dZ2 = cache['A2'] - y\n"), "factor 1/m is missing"),
        ("1/m on dW2 only", _backward(dz2="    dZ2 = cache['A2'] - y\n",
                                              dw2="    dW2 = cache['A1'].T @ dZ2 / m\n    db2 = dZ2.sum(axis=0)\n",
                                              dw1="    dW1 = X.T @ dZ1\n    db1 = dZ1.sum(axis=0)\n"),
         "factor 1/m"),
        ("1/m twice", _backward(dw2="    dW2 = cache['A1'].T @ dZ2 / m\n    db2 = dZ2.sum(axis=0) / m\n",
                                dw1="    dW1 = X.T @ dZ1 / m\n    db1 = dZ1.sum(axis=0) / m\n"), "applied twice"),
        ("ReLU mask forgotten", _backward(dz1="    dZ1 = dZ2 @ params['W2'].T\n"), "The ReLU derivative is missing"),
        ("sigmoid derivative in the hidden layer",
         _backward(dz1="    s = 1 / (1 + np.exp(-cache['Z1']))\n    dZ1 = (dZ2 @ params['W2'].T) * s * (1 - s)\n"),
         "sigmoid's derivative"),
        ("ReLU mask averaged into one number",
         _backward(dz1="    dZ1 = (dZ2 @ params['W2'].T) * (cache['Z1'] > 0).mean()\n"), "ReLU derivative"),
        ("transposed dW1", _backward(dw1="    dW1 = dZ1.T @ X\n    db1 = dZ1.sum(axis=0)\n"), "transposed"),
        ("transposed dW2", _backward(dw2="    dW2 = dZ2.T @ cache['A1']\n    db2 = dZ2.sum(axis=0)\n"), "transposed"),
        ("db1 not summed", _backward(dw1="    dW1 = X.T @ dZ1\n    db1 = dZ1\n"), "one row per sample"),
        ("sign flipped", _backward(dz2="    dZ2 = (y - cache['A2']) / m\n"), "sign is flipped"),
        ("db2 not summed", _backward(dw2="    dW2 = cache['A1'].T @ dZ2\n    db2 = dZ2\n"), "one row per sample"),
        ("returns a list", _backward(ret="    return [dW1, db1, dW2, db2]\n"), "a list of 4 items"),
        # Matches no diagnosis.
        ("dZ1 uses A1 for the mask and W2 twice",
         _backward(dz1="    dZ1 = (dZ2 @ params['W2'].T) * (cache['Z1'] > 0) * np.abs(params['W2'].T)\n"),
         "So the step through the hidden ReLU is wrong"),
    ],
    "numerical_gradient": [
        ("forward difference", "def numerical_gradient(f, x, eps=1e-5):\n    x = np.array(x, dtype=float)\n"
                               "    grad, base = np.zeros_like(x), f(x)\n    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]\n        x[i] = old + eps\n        grad[i] = (f(x) - base) / eps\n"
                               "        x[i] = old\n    return grad", "forward difference"),
        ("divides by eps", _NG + "        x[i] = old + eps\n        fp = f(x)\n        x[i] = old - eps\n"
                                 "        fm = f(x)\n        x[i] = old\n        grad[i] = (fp - fm) / eps\n    return grad",
         "twice too large"),
        ("x not restored", "def numerical_gradient(f, x, eps=1e-5):\n    grad = np.zeros_like(x)\n"
                           "    for i in np.ndindex(x.shape):\n        x[i] += eps\n        fp = f(x)\n"
                           "        x[i] -= 2 * eps\n        fm = f(x)\n        grad[i] = (fp - fm) / (2 * eps)\n"
                           "    return grad", "x was left changed"),
        ("all entries at once", "def numerical_gradient(f, x, eps=1e-5):\n"
                                "    return np.full(np.shape(x), (f(x + eps) - f(x - eps)) / (2 * eps))",
         "all the entries of x were moved at once"),
        ("1-D loop only", "def numerical_gradient(f, x, eps=1e-5):\n    x = np.array(x, dtype=float)\n"
                          "    grad = np.zeros(len(x))\n    for i in range(len(x)):\n        old = x[i].copy()\n"
                          "        x[i] = old + eps\n        fp = f(x)\n        x[i] = old - eps\n        fm = f(x)\n"
                          "        x[i] = old\n        grad[i] = np.sum(fp - fm) / (2 * eps)\n    return grad", "np.ndindex"),
        ("eps ignored", _NG + "        x[i] = old + 1e-5\n        fp = f(x)\n        x[i] = old - 1e-5\n"
                              "        fm = f(x)\n        x[i] = old\n        grad[i] = (fp - fm) / (2 * 1e-5)\n    return grad",
         "not with the eps argument"),
        ("returns nothing", "def numerical_gradient(f, x, eps=1e-5):\n    grad = np.zeros_like(x)\n", "returned nothing"),
        # Matches no diagnosis: x rounded to float32 before perturbing it.
        ("perturbs a float32 copy", "def numerical_gradient(f, x, eps=1e-5):\n    x = np.array(x, dtype=np.float32)\n"
                                    "    grad = np.zeros(x.shape)\n    for i in np.ndindex(x.shape):\n        old = x[i]\n"
                                    "        x[i] = old + eps\n        fp = f(x)\n        x[i] = old - eps\n        fm = f(x)\n"
                                    "        x[i] = old\n        grad[i] = (fp - fm) / (2 * eps)\n    return grad",
         "tolerance 1e-07"),
    ],
    "relative_error": [
        ("no floor: 0/0 is nan", "def relative_error(a, b):\n"
                                 "    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))", "max(1e-8, |a| + |b|)"),
        ("no floor, nan skipped", "def relative_error(a, b):\n    with np.errstate(invalid='ignore'):\n"
                                  "        return float(np.nanmax(np.abs(a - b) / (np.abs(a) + np.abs(b))))",
         "max(1e-8, |a| + |b|)"),
        ("absolute error", "def relative_error(a, b):\n    return float(np.max(np.abs(a - b)))", "absolute error"),
        ("mean, not max", "def relative_error(a, b):\n"
                          "    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))", "mean of"),
        ("norms of the arrays", "def relative_error(a, b):\n"
                                "    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))",
         "norms"),
        ("max(|a|, |b|) denominator", "def relative_error(a, b):\n"
                                      "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))",
         "max(|a|, |b|)"),
        ("computed in float32", "def relative_error(a, b):\n    a, b = np.float32(a), np.float32(b)\n"
                                "    return float(np.max(np.abs(a - b) / np.maximum(np.float32(1e-8), np.abs(a) + np.abs(b))))",
         "casting a and b to float32"),
        ("per-entry errors returned", "def relative_error(a, b):\n"
                                      "    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))", "one number"),
        # Matches no diagnosis.
        ("squared differences", "def relative_error(a, b):\n"
                                "    return float(np.max((a - b) ** 2 / np.maximum(1e-8, np.abs(a) + np.abs(b))))",
         "tolerance 1e-06"),
    ],
    "tape_gradients": [
        ("summed loss", _tape(loss="    loss = -tf.reduce_sum(y * tf.math.log(A2) + (1 - y) * tf.math.log(1 - A2))\n"),
         "tf.reduce_mean, not tf.reduce_sum"),
        ("loss outside the tape", _tape(before="    A1 = tf.nn.relu(X @ v['W1'] + v['b1'])\n"
                                               "    A2 = tf.sigmoid(A1 @ v['W2'] + v['b2'])\n"
                                               "    loss = -tf.reduce_mean(y * tf.math.log(A2) + (1 - y) * tf.math.log(1 - A2))\n",
                                        head="    with tf.GradientTape() as tape:\n        pass\n    if True:\n",
                                        loss="pass\n"), "returned None"),
        ("constants not watched", _tape(make="tf.constant"), "returned None"),
        ("sign flipped", _tape(loss="    loss = tf.reduce_mean(y * tf.math.log(A2) + (1 - y) * tf.math.log(1 - A2))\n"),
         "sign is flipped"),
        ("tensors returned", _tape().replace("g.numpy()", "g"), "not a numpy array"),
        ("returns a list", _tape().replace("return {'d' + k: (None if g is None else g.numpy()) for k, g in grads.items()}",
                                           "return [g.numpy() for g in grads.values()]"), "a list of 4 items"),
    ],
    "train": [
        ("gradient ascent", _train(update="            params[key] = params[key] + lr * grads['d' + key]\n"), "went up"),
        ("no update", _train(update="            new_value = params[key] - lr * grads['d' + key]\n"), "never changed"),
        ("one step only", _train(epochs="1"), "Run all `epochs`"),
        ("losses not recorded", _train(record=""), "returned 0 losses"),
        ("losses recorded after the update",
         _train(record="") .replace("    return params, losses", "    return params, losses").replace(
             "        for key in params:\n            params[key] = params[key] - lr * grads['d' + key]\n",
             "        for key in params:\n            params[key] = params[key] - lr * grads['d' + key]\n"
             "        losses.append(bce_loss(forward(X, params)[0], y))\n"), "recorded after each update"),
        ("seed ignored", _train(init="init_params(X.shape[1], n_hidden)"), "ignores its seed"),
        ("returns nothing", _train(ret=""), "returned None"),
        ("returns params only", _train(ret="    return params\n"), "should return a pair (params, losses)"),
        ("trains with a wrong backward", _backward(dz2="    dZ2 = cache['A2'] - y\n") + _train(), "fix Exercise 2 first"),
        ("trains with a wrong forward", _forward(a2="    A2 = Z2\n") + _train(), "fix Exercise 1 first"),
    ],
}

ALTERNATIVES = {
    "forward": [
        "def forward(X, params):\n    W1, b1, W2, b2 = (params[k] for k in ('W1', 'b1', 'W2', 'b2'))\n"
        "    Z1 = np.dot(X, W1) + b1\n    A1 = Z1 * (Z1 > 0)\n    Z2 = np.dot(A1, W2) + b2\n"
        "    A2 = np.exp(-np.logaddexp(0, -Z2))\n    cache = dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, X=X)\n    return (A2, cache)",
        "from scipy.special import expit\n" + _forward(a2="    A2 = expit(Z2)\n",
                                                        ret="    return [A2, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}]\n"),
        # In float32.
        _forward(z1="    Z1 = X.astype(np.float32) @ params['W1'].astype(np.float32) + params['b1'].astype(np.float32)\n",
                 z2="    Z2 = A1 @ params['W2'].astype(np.float32) + params['b2'].astype(np.float32)\n"),
    ],
    "backward": [
        _backward(dz1="    dZ1 = (dZ2 @ params['W2'].T) * (cache['A1'] > 0)\n"),
        "def backward(X, y, params, cache):\n    m = len(X)\n    dZ2 = cache['A2'] - y.reshape(-1, 1)\n"
        "    grads = {'dW2': cache['A1'].T @ dZ2 / m, 'db2': np.sum(dZ2, axis=0) / m}\n"
        "    dZ1 = np.where(cache['Z1'] > 0, dZ2 @ params['W2'].T, 0.0)\n"
        "    grads['dW1'] = np.einsum('mi,mj->ij', X, dZ1) / m\n    grads['db1'] = dZ1.mean(axis=0)\n    return grads",
        # In float32.
        "def backward(X, y, params, cache):\n    f = lambda a: np.asarray(a, dtype=np.float32)\n    m = len(X)\n"
        "    dZ2 = (f(cache['A2']) - f(y)) / m\n    dZ1 = (dZ2 @ f(params['W2']).T) * (f(cache['Z1']) > 0)\n"
        "    return {'dW1': f(X).T @ dZ1, 'db1': dZ1.sum(axis=0), 'dW2': f(cache['A1']).T @ dZ2, 'db2': dZ2.sum(axis=0)}",
    ],
    "numerical_gradient": [
        "def numerical_gradient(f, x, eps=1e-5):\n    grad = np.zeros_like(x, dtype=float)\n"
        "    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])\n    while not it.finished:\n"
        "        i = it.multi_index\n        old = x[i]\n        x[i] = old + eps\n        fp = f(x)\n"
        "        x[i] = old - eps\n        fm = f(x)\n        x[i] = old\n        grad[i] = (fp - fm) / (2 * eps)\n"
        "        it.iternext()\n    return grad",
        "def numerical_gradient(f, x, eps=1e-5):\n    x = np.asarray(x, dtype=float)\n    steps = np.eye(x.size) * eps\n"
        "    return np.array([(f(x + s.reshape(x.shape)) - f(x - s.reshape(x.shape))) / (2 * eps) for s in steps]"
        ").reshape(x.shape)",
        # The differences in float64, the gradient stored in float32.
        _NG + "        x[i] = old + eps\n        fp = f(x)\n        x[i] = old - eps\n        fm = f(x)\n"
              "        x[i] = old\n        grad[i] = (fp - fm) / (2 * eps)\n    return grad.astype(np.float32)",
    ],
    "relative_error": [
        "def relative_error(a, b):\n    a, b = np.asarray(a), np.asarray(b)\n"
        "    return np.max(np.abs(a - b) / np.clip(np.abs(a) + np.abs(b), 1e-8, None))",
        "def relative_error(a, b):\n    worst = 0.0\n    for x, y in zip(np.ravel(a), np.ravel(b)):\n"
        "        worst = max(worst, abs(x - y) / max(1e-8, abs(x) + abs(y)))\n    return worst",
        # The differences in float64, the division in float32.
        "def relative_error(a, b):\n    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)\n"
        "    diff = np.abs(a - b).astype(np.float32)\n"
        "    return np.max(diff / np.maximum(1e-8, np.abs(a) + np.abs(b)).astype(np.float32))",
    ],
    "tape_gradients": [
        "def tape_gradients(X, y, params):\n    t = {k: tf.constant(v, dtype=tf.float64) for k, v in params.items()}\n"
        "    X, y = tf.constant(X, tf.float64), tf.constant(y, tf.float64)\n    with tf.GradientTape() as tape:\n"
        "        tape.watch(t)\n        Z2 = tf.nn.relu(X @ t['W1'] + t['b1']) @ t['W2'] + t['b2']\n"
        "        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=Z2))\n"
        "    return {'d' + k: g.numpy() for k, g in tape.gradient(loss, t).items()}",
        # In float32 with keras.ops and Keras's own loss.
        "def tape_gradients(X, y, params):\n    names = ['W1', 'b1', 'W2', 'b2']\n"
        "    v = [tf.Variable(params[k], dtype='float32') for k in names]\n    with tf.GradientTape() as tape:\n"
        "        A1 = keras.ops.relu(keras.ops.matmul(keras.ops.cast(X, 'float32'), v[0]) + v[1])\n"
        "        A2 = keras.ops.sigmoid(keras.ops.matmul(A1, v[2]) + v[3])\n"
        "        loss = keras.losses.BinaryCrossentropy()(keras.ops.cast(y, 'float32'), A2)\n"
        "    return {'d' + k: g.numpy() for k, g in zip(names, tape.gradient(loss, v))}",
    ],
    "train": [
        _train(update="            params[key] -= lr * grads['d' + key]\n"),
        # A dict comprehension for the update, the loss from A2 of the same pass, losses as a numpy array.
        "def train(X, y, n_hidden=16, lr=0.5, epochs=200, seed=0):\n"
        "    params = init_params(X.shape[1], n_hidden, seed=seed)\n    losses = []\n    for epoch in range(epochs):\n"
        "        A2, cache = forward(X, params)\n        losses.append(bce_loss(A2, y))\n"
        "        grads = backward(X, y, params, cache)\n"
        "        params = {k: params[k] - lr * grads['d' + k] for k in params}\n    return params, np.array(losses)",
        # In float32 from the start.
        _train(init="{k: v.astype(np.float32) for k, v in init_params(X.shape[1], n_hidden, seed).items()}",
               update="            params[key] = (params[key] - lr * grads['d' + key]).astype(np.float32)\n"),
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "05_backprop")


def subject_of(name: str, code: str | None, reference: dict):
    """The object the check is called on: the function, (forward, backward) for backward, and
    (forward, train, backward) for train."""
    scope = dict(reference)
    if code is not None:
        exec(compile(code, f"<answer {name}>", "exec"), scope)
    if name == "train":
        return scope["forward"], scope["train"], scope["backward"]
    return (scope["forward"], scope[name]) if name in PAIRED else scope[name]


def grade(name, answer, reference):
    check = backprop.CHECKS[name]
    ref = subject_of(name, None, reference)
    seeds = ONE_SEED if name == "train" else SEEDS
    return ([simulate_grading(backprop.CHECKS, check, answer, ref, s) for s in seeds], public_message(check, answer))


@pytest.mark.parametrize("name", [c.name for c in backprop.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, subject_of(name, None, reference), reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, subject_of(name, code, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, subject_of(name, code, reference), reference))


def test_backward_waits_for_forward(reference):
    """With forward still a stub, backward's check says to finish Exercise 1 rather than blaming backward."""
    answer = subject_of("backward", "def forward(X, params):\n    raise NotImplementedError()", reference)
    message = public_message(backprop.backward, answer)
    assert message is not None and "finish Exercise 1 first" in message


def test_backward_names_a_wrong_forward(reference):
    """A wrong forward makes backward's check point at Exercise 1, not at backward."""
    answer = subject_of("backward", _forward(a1="    A1 = Z1\n"), reference)
    message = public_message(backprop.backward, answer)
    assert message is not None and "fix Exercise 1 first" in message


# ----------------------------------------------------------------------------- partial credit
def _credits(name, code, reference):
    verdicts, public = grade(name, subject_of(name, code, reference), reference)
    return [v.credit for v in verdicts], [v.passed for v in verdicts], [v.feedback for v in verdicts], public


def test_forward_scores_a2_and_the_cache_separately(reference):
    credits, passed, feedback, _ = _credits("forward", _forward(ret="    return A2, {'Z1': A1, 'A1': A1, 'Z2': Z2, 'A2': A2}\n"),
                                            reference)
    assert not any(passed) and credits == [0.5] * len(credits), credits
    assert all("A2 is right, but the cache is not" in f for f in feedback), feedback
    credits, _, _, _ = _credits("forward", _forward(a2="    A2 = Z2\n"), reference)
    assert credits == [0.0] * len(credits), credits


def test_backward_scores_the_two_layers_separately(reference):
    for code in (_backward(dz1="    dZ1 = dZ2 @ params['W2'].T\n"),
                 _backward(dw2="    dW2 = cache['A1'].T @ dZ2\n    db2 = dZ2\n")):
        credits, passed, _, _ = _credits("backward", code, reference)
        assert not any(passed) and credits == [0.5] * len(credits), credits
    credits, _, _, _ = _credits("backward", _backward(dz2="    dZ2 = (y - cache['A2']) / m\n"), reference)
    assert credits == [0.0] * len(credits), credits


def test_partial_messages_quote_no_grader_values(reference):
    """A partial-credit message may concern the grader's own inputs, so it holds no numbers or shapes of them."""
    import re

    for name, code in (("forward", _forward(ret="    return A2, {'Z1': A1, 'A1': A1, 'Z2': Z2, 'A2': A2}\n")),
                       ("backward", _backward(dz1="    dZ1 = dZ2 @ params['W2'].T\n")),
                       ("backward", _backward(dw1="    dW1 = dZ1.T @ X\n    db1 = dZ1.sum(axis=0)\n")),
                       ("train", _train(init="init_params(X.shape[1], n_hidden)"))):
        check = backprop.CHECKS[name]
        inputs = backprop.CHECKS.secret_inputs(31)[name]
        ref, answer = subject_of(name, None, reference), subject_of(name, code, reference)
        for case in inputs:
            got = check.run(answer, {k: v for k, v in case.items() if not k.startswith("_")})
            expected = check.run(ref, {k: v for k, v in case.items() if not k.startswith("_")})
            from autograder.checks.plain import from_plain, to_plain
            message = check.compare(case, from_plain(to_plain(got)), from_plain(to_plain(expected)))
            assert isinstance(message, backprop.Partial), (name, message)
            assert not re.search(r"\d\.\d|\(\d+, \d+\)", message.message), message.message


def test_train_settings_are_used_as_given(reference):
    """The public check uses the stated settings; grading varies them. A train that writes them into its code
    passes the public check and loses points in grading, with the rule's own message where points remain."""
    cases = {
        "lr hard-coded": (_train(update="            params[key] = params[key] - 0.5 * grads['d' + key]\n"),
                          "with the lr argument", 2 / 3),
        "epochs hard-coded": (_train(epochs="200"), "losses for", 2 / 3),
        "n_hidden hard-coded": (_train(init="init_params(X.shape[1], 16, seed)"), "ignores its n_hidden argument",
                                2 / 3),
    }
    from autograder.grading.judge import SECRET_FAILURE
    for label, (code, advice, credit) in cases.items():
        verdicts, public = grade("train", subject_of("train", code, reference), reference)
        assert public is None, (label, public)
        for verdict in verdicts:
            assert not verdict.passed and abs(verdict.credit - credit) < 1e-9, (label, verdict)
            if advice is None:
                assert verdict.feedback.startswith(SECRET_FAILURE.split("(")[0]), (label, verdict.feedback)
            else:
                assert advice in verdict.feedback, (label, verdict.feedback)


def test_train_rules_cost_a_point_each(reference):
    for code, credit in ((_train(init="init_params(X.shape[1], n_hidden)"), 2 / 3),
                         (_train(record="").replace(
                             "            params[key] = params[key] - lr * grads['d' + key]\n",
                             "            params[key] = params[key] - lr * grads['d' + key]\n"
                             "        losses.append(bce_loss(forward(X, params)[0], y))\n"), 2 / 3)):
        credits, passed, _, _ = _credits("train", code, reference)
        assert not any(passed) and all(abs(c - credit) < 1e-9 for c in credits), credits
