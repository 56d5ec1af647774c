"""17_training_loops: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue).
Every stated rule of autograder/checks/training_loops.py has a mistake here that breaks it and fails with that
rule's message; the alternatives include Keras's own CosineDecay and ReduceLROnPlateau (float32), and a
`fit(shuffle=False)` for the training loop.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  grader_exception_in, public_message, reference_namespace, simulate_grading,
                                  wrong_cases)
from autograder.checks import training_loops
from autograder.checks.model_data import report_model
from autograder.checks.plain import to_plain

SEEDS = (171, 172, 173)
#: The training loop trains in the kernel and again in the grader: two seeds are enough.
LOOP_SEEDS = (171, 172)


# ----------------------------------------------------------------------------- Exercise 1
def schedule(warmup="peak_lr * step / warmup_steps",
             progress="min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))",
             value="final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))"):
    return ("def warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr):\n"
            "    if step < warmup_steps:\n"
            f"        return {warmup}\n"
            f"    progress = {progress}\n"
            f"    return {value}\n")


# ----------------------------------------------------------------------------- Exercise 2
_PLATEAU = '''
def plateau_schedule(val_losses, lr, factor=0.1, patience=10, min_delta=1e-4, min_lr=0.0, cooldown=0):
    best, wait, cooldown_counter = None, 0, 0
    lrs = []
    for loss in val_losses:
        lrs.append(lr)
        COOLDOWN
        if best is None or IMPROVED:
            best = loss
            RESET
        elif OTHERWISE:
            RUNNING
            wait += 1
            if WAIT_TEST and FLOOR_TEST:
                lr = NEW_LR
                cooldown_counter = cooldown
                AFTER
    return RETURN
'''


def plateau(cooldown="if cooldown_counter > 0:\n            cooldown_counter -= 1\n            wait = 0",
            improved="loss < best - min_delta", reset="wait = 0", otherwise="cooldown_counter == 0", running="pass",
            wait_test="wait >= patience", floor_test="lr > min_lr", new_lr="max(lr * factor, min_lr)",
            after="wait = 0", ret="lrs"):
    return (_PLATEAU.replace("COOLDOWN", cooldown).replace("IMPROVED", improved).replace("RESET", reset)
            .replace("OTHERWISE", otherwise).replace("RUNNING", running).replace("WAIT_TEST", wait_test)
            .replace("FLOOR_TEST", floor_test).replace("NEW_LR", new_lr).replace("AFTER", after)
            .replace("RETURN", ret))


_PLATEAU_AFTER = plateau().replace("        lrs.append(lr)\n", "").replace("    return lrs",
                                                                           "        lrs.append(lr)\n    return lrs")
_PLATEAU_SKIP = plateau(cooldown="if cooldown_counter > 0:\n            cooldown_counter -= 1\n            continue")

# ----------------------------------------------------------------------------- Exercise 3
_LOOP = '''
def train_loop(model, X, y, epochs, batch_size, learning_rate):
    <<OPTIMIZER>>
    loss_fn = <<LOSS>>
    epoch_losses = []
    for _ in range(epochs):
        <<EPOCH_START>>
        batch_losses = []
        for start in range(0, len(X), batch_size):
            xb, yb = X[<<ORDER>>][start:start + batch_size], y[<<ORDER>>][start:start + batch_size]
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, <<FORWARD>>)
            grads = tape.gradient(loss, model.trainable_variables)
            <<BATCH_OPT>>
            <<APPLY>>
            batch_losses.append(float(loss))
        <<AFTER_EPOCH>>
        epoch_losses.append(<<EPOCH_LOSS>>)
    return <<RETURN>>
'''


def loop(optimizer="optimizer = keras.optimizers.Adam(learning_rate=learning_rate)",
         loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True)", epoch_start="order = np.arange(len(X))",
         forward="model(xb, training=True)", batch_opt="pass",
         apply="optimizer.apply_gradients(zip(grads, model.trainable_variables))", after_epoch="pass",
         epoch_loss="float(np.mean(batch_losses))", ret="epoch_losses"):
    return (_LOOP.replace("<<OPTIMIZER>>", optimizer).replace("<<LOSS>>", loss).replace("<<EPOCH_START>>", epoch_start)
            .replace("<<ORDER>>", "order").replace("<<FORWARD>>", forward).replace("<<BATCH_OPT>>", batch_opt)
            .replace("<<APPLY>>", apply).replace("<<AFTER_EPOCH>>", after_epoch).replace("<<EPOCH_LOSS>>", epoch_loss)
            .replace("<<RETURN>>", ret))


_NEW_ADAM = "optimizer = keras.optimizers.Adam(learning_rate=learning_rate)"
_FIT = '''
def train_loop(model, X, y, epochs, batch_size, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(X, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    return RETURN
'''
_GRAPH_LOOP = '''
def train_loop(model, X, y, epochs, batch_size, learning_rate):
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(yb, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    batches = tf.data.Dataset.from_tensor_slices((X, y)).batch(batch_size)
    history = []
    for epoch in range(epochs):
        total = tf.constant(0.0)
        count = 0
        for xb, yb in batches:
            total += step(xb, yb)
            count += 1
        history.append(total / count)
    return history
'''

# ----------------------------------------------------------------------------- Exercise 4
def sampler(body):
    return "def log_uniform_samples(low, high, n, seed):\n" + "".join(f"    {line}\n" for line in body.splitlines())


_RNG = "rng = np.random.default_rng(seed)\n"

WRONG = {
    "warmup_cosine": [
        ("warmup one step ahead", schedule(warmup="peak_lr * (step + 1) / warmup_steps"), "one step ahead"),
        ("warmup from final_lr", schedule(warmup="final_lr + (peak_lr - final_lr) * step / warmup_steps"),
         "starts at final_lr"),
        ("no warmup", schedule(warmup="peak_lr"), "there is no warmup"),
        ("cosine over total_steps", schedule(progress="min(1.0, (step - warmup_steps) / total_steps)"),
         "runs over total_steps steps"),
        ("cosine counted from step 0", schedule(progress="min(1.0, step / total_steps)"), "counted from step 0"),
        ("no clamp after total_steps", schedule(progress="(step - warmup_steps) / (total_steps - warmup_steps)"),
         "rises again"),
        ("decays to 0", schedule(value="peak_lr * 0.5 * (1.0 + math.cos(math.pi * progress))"),
         "decays to 0 instead of final_lr"),
        ("final_lr as Keras's alpha", schedule(
            value="peak_lr * ((1 - final_lr) * 0.5 * (1 + math.cos(math.pi * progress)) + final_lr)"),
         "passed as Keras's alpha"),
        ("Keras with final_lr as alpha",
         "def warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr):\n"
         "    schedule = keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, alpha=final_lr,\n"
         "                                                      warmup_target=peak_lr, warmup_steps=warmup_steps)\n"
         "    return float(schedule(step))\n", "passed as Keras's alpha"),
        ("cos without 0.5 (1 + cos)", schedule(value="final_lr + (peak_lr - final_lr) * math.cos(math.pi * progress)"),
         "is not rescaled"),
        ("a list for one step", schedule(value="[final_lr + (peak_lr - final_lr) * 0.5 * (1 + math.cos(math.pi * "
                                               "progress))]").replace("return peak_lr * step / warmup_steps",
                                                                      "return [peak_lr * step / warmup_steps]"),
         "should return one number"),
        # Matches no diagnosis: the formula is spelled out.
        ("linear decay", schedule(value="final_lr + (peak_lr - final_lr) * (1 - progress)"),
         "Warmup: peak_lr * step / warmup_steps"),
    ],
    "plateau_schedule": [
        ("rates after each epoch", _PLATEAU_AFTER, "one epoch ahead"),
        ("wait not reset on improvement", plateau(reset="pass"), "reset wait to 0 whenever the loss improves"),
        ("min_delta ignored", plateau(improved="loss < best"), "min_delta is ignored"),
        ("<= instead of <", plateau(improved="loss <= best - min_delta"), "exactly min_delta counts"),
        ("best is the running minimum", plateau(running="best = min(best, loss)"), "best follows every new low"),
        ("patience exceeded", plateau(wait_test="wait > patience"), "one epoch late"),
        ("no floor at min_lr", plateau(floor_test="True", new_lr="lr * factor"), "went below min_lr"),
        ("wait not reset after a cut", plateau(after="pass"), "cut again at every epoch"),
        ("cooldown ignored", plateau(cooldown="pass", otherwise="True"), "cooldown is ignored"),
        ("cooldown epochs skipped", _PLATEAU_SKIP, "skipped entirely"),
        ("one rate too many", plateau(ret="lrs + [lr]"), "learning rates for"),
        ("val_losses sorted in place", plateau().replace("    best, wait", "    val_losses.sort(reverse=True)\n"
                                                                        "    best, wait"), "changed the list"),
        ("rate multiplied by patience", plateau(new_lr="max(lr * factor * patience, min_lr)"),
         "Follow the rules in order"),
    ],
    "train_loop": [
        ("an optimizer per batch", loop(batch_opt=_NEW_ADAM), "new Adam optimizer for every batch"),
        ("an optimizer per epoch", loop(epoch_start="order = np.arange(len(X))\n        " + _NEW_ADAM),
         "new Adam optimizer at every epoch"),
        ("training=True forgotten", loop(forward="model(xb)"), "call model(xb, training=True)"),
        ("training=False", loop(forward="model(xb, training=False)"), "call model(xb, training=True)"),
        ("loss expects probabilities", loop(loss="keras.losses.SparseCategoricalCrossentropy()"),
         "from_logits=True"),
        ("one update per epoch", loop(apply="pass",
                                      after_epoch="optimizer.apply_gradients(zip(grads, model.trainable_variables))"),
         "one update per epoch"),
        ("shuffled every epoch", loop(epoch_start="order = np.random.permutation(len(X))"),
         "the batches shuffled or taken out of order"),
        ("sum reduction", loop(loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction='sum')"),
         "batch_size times too large"),
        ("last batch's loss", loop(epoch_loss="batch_losses[-1]"), "last batch's loss of each epoch"),
        ("sum of the batch losses", loop(epoch_loss="float(np.sum(batch_losses))"), "sum of each epoch's batch"),
        ("each loss recomputed after its update",
         loop(apply="optimizer.apply_gradients(zip(grads, model.trainable_variables))\n"
                    "            loss = loss_fn(yb, model(xb))"), "computed again after its update"),
        ("a History returned", _FIT.replace("RETURN", "history"), "returned a History"),
        ("nothing returned", loop(ret="None"), "train_loop returned None"),
        ("a copy trained", loop(optimizer="model = keras.models.clone_model(model)\n    " + _NEW_ADAM),
         "did not change"),
        ("SGD instead of Adam", loop(optimizer="optimizer = keras.optimizers.SGD(learning_rate=learning_rate)"),
         "Adam(learning_rate=learning_rate)"),
    ],
    "log_uniform_samples": [
        ("uniform on the linear scale", sampler(_RNG + "return rng.uniform(low, high, n)"), "linear scale"),
        ("exponent between low and high", sampler(_RNG + "return 10 ** rng.uniform(low, high, n)"),
         "outside"),
        ("log10 bounds, exp", sampler(_RNG + "return np.exp(rng.uniform(np.log10(low), np.log10(high), n))"),
         "same base"),
        ("not seeded", sampler("return 10 ** np.random.uniform(np.log10(low), np.log10(high), n)"),
         "different samples for the same seed"),
        ("seed ignored", sampler("rng = np.random.default_rng(0)\n"
                                 "return 10 ** rng.uniform(np.log10(low), np.log10(high), n)"), "two different seeds"),
        ("a log grid", sampler("return np.geomspace(low, high, n)"), "two different seeds"),
        ("integer exponents", sampler(_RNG + "return 10.0 ** rng.integers(round(np.log10(low)), "
                                             "round(np.log10(high)) + 1, n)"), "distinct values"),
        ("one sample too few", sampler(_RNG + "return 10 ** rng.uniform(np.log10(low), np.log10(high), n - 1)"),
         "it should return an array of n"),
        ("squared exponent", sampler(_RNG + "u = rng.uniform(0, 1, n) ** 2\n"
                                            "return low * (high / low) ** u"), "geometric mean"),
    ],
}

ALTERNATIVES = {
    "warmup_cosine": [
        # Keras's own schedule, float32, with the mapping the statement gives.
        "def warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr):\n"
        "    schedule = keras.optimizers.schedules.CosineDecay(\n"
        "        initial_learning_rate=0.0, decay_steps=total_steps - warmup_steps, alpha=final_lr / peak_lr,\n"
        "        warmup_target=peak_lr, warmup_steps=warmup_steps)\n"
        "    return schedule(step)\n",
        # numpy in float32, with np.clip and the alpha form.
        "def warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr):\n"
        "    step = np.float32(step)\n"
        "    if step < warmup_steps:\n"
        "        return np.float32(peak_lr) * step / np.float32(warmup_steps)\n"
        "    p = np.clip((step - warmup_steps) / np.float32(total_steps - warmup_steps), 0, 1)\n"
        "    alpha = np.float32(final_lr / peak_lr)\n"
        "    return np.float32(peak_lr) * ((1 - alpha) * np.float32(0.5) * (1 + np.cos(np.pi * p)) + alpha)\n",
        # Steps past the end handled first, and the cosine written with sin**2.
        "def warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr):\n"
        "    if step >= total_steps:\n"
        "        return final_lr\n"
        "    if step < warmup_steps:\n"
        "        return step / warmup_steps * peak_lr\n"
        "    half = math.pi / 2 * (step - warmup_steps) / (total_steps - warmup_steps)\n"
        "    return final_lr + (peak_lr - final_lr) * math.cos(half) ** 2\n",
    ],
    "plateau_schedule": [
        # Keras's own callback, run on the losses (its rates are float32).
        "def plateau_schedule(val_losses, lr, factor=0.1, patience=10, min_delta=1e-4, min_lr=0.0, cooldown=0):\n"
        "    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n"
        "    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss='mse')\n"
        "    callback = keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=factor, patience=patience,\n"
        "                                                 min_delta=min_delta, min_lr=min_lr, cooldown=cooldown)\n"
        "    callback.set_model(model)\n"
        "    callback.on_train_begin()\n"
        "    rates = []\n"
        "    for epoch, loss in enumerate(val_losses):\n"
        "        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))\n"
        "        callback.on_epoch_end(epoch, {'val_loss': loss})\n"
        "    return rates\n",
        # Keras's comparison form (loss + min_delta < best), an inf start, a numpy array returned.
        plateau(improved="loss + min_delta < best").replace("best, wait, cooldown_counter = None, 0, 0",
                                                            "best, wait, cooldown_counter = np.inf, 0, 0")
        .replace("best is None or ", "").replace("return lrs", "return np.array(lrs, dtype=np.float32)"),
    ],
    "train_loop": [
        _FIT.replace("RETURN", "history.history['loss']"),
        _GRAPH_LOOP,
        # Batch losses kept as tensors and averaged with keras.ops, an index array for the batches.
        loop(epoch_loss="float(keras.ops.mean(keras.ops.stack([keras.ops.convert_to_tensor(v) "
                        "for v in batch_losses])))"),
    ],
    "log_uniform_samples": [
        sampler(_RNG + "return np.exp(rng.uniform(np.log(low), np.log(high), size=n))"),
        sampler("from scipy.stats import loguniform\n"
                "return loguniform(low, high).rvs(size=n, random_state=seed)"),
        sampler(_RNG + "return (low * (high / low) ** rng.random(n)).astype(np.float32)"),
        sampler(_RNG + "return sorted(10 ** rng.uniform(np.log10(low), np.log10(high), n))"),
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "17_training_loops")


def grade(name, answer, reference):
    check = training_loops.CHECKS[name]
    seeds = LOOP_SEEDS if name == "train_loop" else SEEDS
    return ([simulate_grading(training_loops.CHECKS, check, answer, reference[name], s) for s in seeds],
            public_message(check, answer))


@pytest.mark.parametrize("name", [c.name for c in training_loops.CHECKS.checks])
def test_reference_passes_public_and_grading(reference, name):
    expect_correct(*grade(name, reference[name], reference))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, name, label, code, advice):
    expect_wrong(label, *grade(name, define(code, name, reference), reference), advice)


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference))


def test_train_loop_weights_and_losses_earn_half_each(reference):
    """Right weights with the wrong losses keep half the points; a loop wrong in both gets nothing."""
    wrong_losses = define(loop(epoch_loss="batch_losses[-1]"), "train_loop", reference)
    verdicts, _ = grade("train_loop", wrong_losses, reference)
    assert all(not v.passed and v.credit == 0.5 for v in verdicts), verdicts
    both = define(loop(batch_opt=_NEW_ADAM, epoch_loss="batch_losses[-1]"), "train_loop", reference)
    verdicts, _ = grade("train_loop", both, reference)
    assert all(not v.passed and v.credit == 0 for v in verdicts), verdicts


def test_train_loop_is_judged_on_the_graders_own_run(reference):
    """A kernel that reports its initial weights, or losses it made up, gets nothing for them: the grader
    compares with its own run of the loop on the same inputs."""
    def forge(inputs):
        model = training_loops.build_model(inputs)
        return {"model": report_model(model), "losses": np.full(int(inputs["epochs"]), 0.5)}

    verdict = forged_verdict(training_loops.CHECKS, training_loops.train_loop, reference["train_loop"], forge, 171)
    assert not verdict.passed and verdict.credit == 0, verdict
    assert "did not change" in verdict.feedback


def test_reference_loop_matches_fit_to_float32_precision():
    """The course's loop and fit(shuffle=False) on the same batches end at the same weights (the lesson's claim)."""
    import keras

    inputs = training_loops.CHECKS["train_loop"].public_cases[0].inputs
    weights, batch_losses = training_loops.reference_loop(inputs)
    model = training_loops.build_model(inputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=inputs["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(inputs["X"], inputs["y"], epochs=inputs["epochs"], batch_size=inputs["batch_size"],
                        shuffle=False, verbose=0)
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(weights, model.get_weights()))
    assert gap < 1e-5, gap
    assert np.allclose(history.history["loss"], batch_losses.mean(axis=1), rtol=1e-5)


def test_plateau_public_cases_agree_with_keras():
    """The public literals are what Keras 3's ReduceLROnPlateau does on the same losses."""
    import keras

    for case in training_loops.CHECKS["plateau_schedule"].public_cases:
        inp = case.inputs
        model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=inp["lr"]), loss="mse")
        callback = keras.callbacks.ReduceLROnPlateau(factor=inp["factor"], patience=inp["patience"],
                                                     min_delta=inp["min_delta"], min_lr=inp["min_lr"],
                                                     cooldown=inp["cooldown"])
        callback.set_model(model)
        callback.on_train_begin()
        rates = []
        for epoch, loss in enumerate(inp["val_losses"]):
            rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
            callback.on_epoch_end(epoch, {"val_loss": loss})
        assert np.allclose(rates, case.expected, rtol=1e-6, atol=0), (case.label, rates)


def test_schedule_public_cases_agree_with_keras():
    import keras

    for case in training_loops.CHECKS["warmup_cosine"].public_cases:
        inp = case.inputs
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, inp["total_steps"] - inp["warmup_steps"], alpha=inp["final_lr"] / inp["peak_lr"],
            warmup_target=inp["peak_lr"], warmup_steps=inp["warmup_steps"])
        rates = np.array([float(schedule(s)) for s in inp["steps"]])
        assert np.max(np.abs(rates - case.expected)) <= 1e-6 * inp["peak_lr"], case.label


ODD_REPORTS = [
    ("warmup_cosine", "not numbers"),
    ("warmup_cosine", {"not_a_number": ["a"], "step": "x"}),
    ("plateau_schedule", {"returned": 5}),
    ("plateau_schedule", [[1, 2], [3]]),
    ("train_loop", {"model": "not a record", "losses": [1.0]}),
    ("train_loop", {"model": {"is_model": True, "keras_config": "[" * 10_000, "weights": []}, "losses": "x"}),
    ("train_loop", [1, 2]),
    ("log_uniform_samples", {"first": [1, 2], "again": None}),
    ("log_uniform_samples", 3.5),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = training_loops.CHECKS[name]
    case = check.public_cases[0]
    verdict = check.judge(case.inputs, {"ok": to_plain(got)}, case.expected)
    assert not verdict.passed and verdict.message, verdict
    assert grader_exception_in(verdict.message) is None, verdict.message


#: Mistakes that match no diagnosis of their part: (part, label, the generic message's own key, the named causes
#: it must not get; None: every other catalogued mistake's advice of the part).
_GENERIC = [("warmup_cosine", "linear decay", "other", None),
            ("plateau_schedule", "rate multiplied by patience", "other", None),
            # The weights' generic message lists the usual causes (loss, optimizer, order); no diagnosis is named.
            ("train_loop", "shuffled every epoch", "weights_other",
             ["new Adam optimizer", "training=True", "one update per epoch", "times too large", "last batch's loss",
              "sum of each epoch", "did not change", "computed again after"])]


@pytest.mark.parametrize("name,label,key,named", _GENERIC, ids=[g[1] for g in _GENERIC])
def test_mistake_matching_no_diagnosis_gets_the_plain_message(reference, name, label, key, named):
    """The generic message, with its own key, and none of the part's named causes."""
    code = next(entry[1] for entry in WRONG[name] if entry[0] == label)
    named = named or [entry[2] for entry in WRONG[name] if entry[0] != label]
    verdicts, public = grade(name, define(code, name, reference), reference)
    assert all(v.key == key for v in verdicts), [v.key for v in verdicts]
    for text in [public] + [v.feedback for v in verdicts]:
        assert not any(cause in text for cause in named), (text, [c for c in named if c in text])
