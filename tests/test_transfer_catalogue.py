"""15_transfer: common wrong answers lose the part with a message that teaches; correct variants pass.

Runs in one process against the checks directly, as the grader judges them (see autograder.catalogue). Every
part is a model part, judged from the model the kernel reports, rebuilt here; the trained parts fit small models
on a few dozen images, so each answer is graded on one seed, with the reference's report kept per seed
(catalogue.grade_trained_part). The build part, which trains nothing, is graded on two seeds. Each stated rule of
autograder/checks/transfer.py has a mistake that breaks it and fails with that rule's message, and each part has
alternatives that must get full marks.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.catalogue import (alternative_cases, define, expect_correct, expect_wrong, forged_verdict,
                                  grade_trained_part, grader_exception_in, grader_inputs, public_message,
                                  reference_namespace, simulate_grading, wrong_cases)
from autograder.checks import transfer
from autograder.checks.core import kernel_view
from autograder.checks.plain import to_plain

BUILD_SEEDS = (41, 42)
TRAINED_SEED = 43
TRAINED_PARTS = ("fine_tune", "train_transfer", "compare_with_scratch")


def _build(freeze="    encoder.trainable = False\n",
           layers="[encoder, keras.layers.Dense(n_classes, activation='softmax')]",
           after="",
           compile_="    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), "
                    "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"):
    return ("def build_transfer_model(encoder, n_classes):\n" + freeze + f"    model = keras.Sequential({layers})\n"
            + after + compile_ + "    return model\n")


def _fine_tune(unfreeze="    for layer in model.layers:\n        layer.trainable = True\n", rate="float(model.optimizer.learning_rate) / 10",
               compile_=True, loss="'sparse_categorical_crossentropy'", epochs="epochs"):
    body = "def fine_tune(model, X, y, epochs):\n    old = float(model.optimizer.learning_rate)\n" + unfreeze
    if compile_:
        body += f"    model.compile(optimizer=keras.optimizers.Adam(learning_rate={rate}), loss={loss})\n"
    return body + f"    model.fit(X, y, epochs={epochs}, batch_size=16, verbose=0)\n    return model\n"


def _train(body):
    return "def train_transfer(encoder, X_small, y_small):\n" + body


def _compare(transfer="    transfer = train_transfer(encoder, X_small, y_small)\n",
             scratch="    scratch = build_scratch_model(5)\n"
                     "    scratch.fit(X_small, y_small, epochs=60, batch_size=16, verbose=0)\n",
             measure="    acc = lambda m: float(np.mean(np.argmax(m.predict(X_val, verbose=0), axis=1) == y_val))\n",
             result='    return {"transfer": (transfer, acc(transfer)), "scratch": (scratch, acc(scratch))}\n'):
    return "def compare_with_scratch(encoder, X_small, y_small, X_val, y_val):\n" + transfer + scratch + measure + result


WRONG = {
    "build_transfer_model": [
        ("forgot to freeze the encoder", _build(freeze=""), "The encoder is not frozen"),
        ("froze the whole model, head included", _build(after="    model.trainable = False\n"), "head is frozen too"),
        ("froze only the first encoder layer", _build(freeze="    encoder.layers[0].trainable = False\n"),
         "Only some of the encoder's layers"),
        ("a fresh encoder of the same shape",
         _build(freeze="    fresh = build_scratch_model(n_classes).layers[0]\n    fresh.trainable = False\n",
                layers="[fresh, keras.layers.Dense(n_classes, activation='softmax')]"), "do not hold the weights"),
        ("clone_model without the weights",
         _build(freeze="    clone = keras.models.clone_model(encoder)\n    clone.trainable = False\n",
                layers="[clone, keras.layers.Dense(n_classes, activation='softmax')]"), "clone_model"),
        ("five classes hard-coded", _build(layers="[encoder, keras.layers.Dense(5, activation='softmax')]"),
         "n_classes units"),
        ("no softmax on the head", _build(layers="[encoder, keras.layers.Dense(n_classes)]"), "not probabilities"),
        ("a relu head under a Softmax layer",
         _build(layers="[encoder, keras.layers.Dense(n_classes, activation='relu'), keras.layers.Softmax()]"),
         "bent by relu"),
        ("a head of two layers",
         _build(layers="[encoder, keras.layers.Dense(32, activation='relu'), "
                       "keras.layers.Dense(n_classes, activation='softmax')]"), "Dense layers after the encoder"),
        ("the encoder alone, no head", _build(layers="[encoder]"), "no new layer after the encoder"),
        ("not compiled", _build(compile_=""), "not compiled"),
        ("categorical cross-entropy for integer labels",
         _build(compile_="    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss='categorical_crossentropy')\n"),
         "one-hot labels"),
        ("from_logits on a softmax head",
         _build(compile_="    model.compile(optimizer=keras.optimizers.Adam(1e-2), "
                         "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"), "from_logits"),
        ("Adam's default learning rate (1e-3)",
         _build(compile_="    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"),
         "Adam(learning_rate=1e-2)"),
    ],
    "fine_tune": [
        ("recompiled at a tenth, never unfrozen", _fine_tune(unfreeze=""), "still frozen"),
        ("model.trainable = True on the model only", _fine_tune(unfreeze="    model.trainable = True\n"),
         "model.trainable = True alone"),
        ("unfroze the head's layer only", _fine_tune(unfreeze="    model.layers[-1].trainable = True\n"),
         "still frozen"),
        ("unfrozen but not recompiled", _fine_tune(compile_=False), "compile again"),
        ("recompiled at the same rate", _fine_tune(rate="old"), "same learning rate"),
        ("ten times the rate", _fine_tune(rate="old * 10"), "higher learning rate"),
        ("a rate of 0.1 everywhere", _fine_tune(rate="0.1"), "higher learning rate"),
        ("one-hot loss on recompiling", _fine_tune(loss="'categorical_crossentropy'"), "one-hot rows"),
        ("no epochs of training", _fine_tune(epochs="0"), "did not train the model"),
        ("a fixed 20 epochs instead of the argument", _fine_tune(epochs="20"), "20 epochs in batches of 16"),
        ("Keras's default batch size",
         _fine_tune().replace(", batch_size=16", ""), "in batches of 32 (Keras's default"),
        ("validation split off the few labels",
         _fine_tune().replace("verbose=0)", "verbose=0, validation_split=0.25)"), "all of (X, y)"),
        ("a new model from scratch instead",
         "def fine_tune(model, X, y, epochs):\n    fresh = build_scratch_model(5)\n"
         "    fresh.compile(optimizer=keras.optimizers.Adam(float(model.optimizer.learning_rate) / 10),\n"
         "                  loss='sparse_categorical_crossentropy')\n"
         "    fresh.fit(X, y, epochs=epochs, batch_size=16, verbose=0)\n    return fresh\n", "replaced the pretrained"),
        ("returned nothing", _fine_tune().replace("    return model\n", ""), "is None"),
    ],
    "train_transfer": [
        ("trained from scratch",
         _train("    model = build_scratch_model(5)\n    model.fit(X_small, y_small, epochs=60, batch_size=16, verbose=0)\n"
                "    return model\n"), "trained from scratch"),
        ("head trained, never fine-tuned",
         _train("    model = build_transfer_model(encoder, 5)\n"
                "    model.fit(X_small, y_small, epochs=40, batch_size=16, verbose=0)\n    return model\n"),
         "never fine-tuned"),
        ("returned the encoder",
         _train("    model = build_transfer_model(encoder, 5)\n"
                "    model.fit(X_small, y_small, epochs=40, batch_size=16, verbose=0)\n"
                "    fine_tune(model, X_small, y_small, 20)\n    return encoder\n"), "outputs per image"),
        ("the head not trained before a short fine-tuning",
         _train("    model = build_transfer_model(encoder, 5)\n    return fine_tune(model, X_small, y_small, 1)\n"),
         "held-out digits 5-9 correctly"),
    ],
    "compare_with_scratch": [
        ("accuracies on the training images",
         _compare(measure="    acc = lambda m: float(np.mean(np.argmax(m.predict(X_small, verbose=0), axis=1) == y_small))\n"),
         "accuracy on the training images"),
        ("accuracies in percent",
         _compare(measure="    acc = lambda m: 100 * float(np.mean(np.argmax(m.predict(X_val, verbose=0), axis=1) == y_val))\n"),
         "not a percentage"),
        ("the scratch model started from a copy of the encoder",
         _compare(scratch="    scratch = build_transfer_model(copy_encoder(encoder), 5)\n    scratch.trainable = True\n"
                          "    scratch.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
                          "    scratch.fit(X_small, y_small, epochs=60, batch_size=16, verbose=0)\n"),
         "started from the encoder"),
        ("the same model twice", _compare(scratch="    scratch = transfer\n"), "started from the encoder"),
        ("the scratch model never trained", _compare(scratch="    scratch = build_scratch_model(5)\n"),
         "it was not trained"),
        ("a list of pairs instead of the dict",
         _compare(result="    return [(transfer, acc(transfer)), (scratch, acc(scratch))]\n"), "should return the dict"),
    ],
}

#: The diagnosis key each wrong answer must get (the first unmet requirement's), so that a message that happens to
#: contain the advice for another reason does not pass.
KEYS = {
    "build_transfer_model": {
        "forgot to freeze the encoder": "not_frozen", "froze the whole model, head included": "head_frozen",
        "froze only the first encoder layer": "not_frozen", "a fresh encoder of the same shape": "fresh_encoder",
        "clone_model without the weights": "fresh_encoder", "five classes hard-coded": "head_units",
        "no softmax on the head": "no_softmax", "a head of two layers": "deep_head",
        "a relu head under a Softmax layer": "squashed_before_softmax",
        "the encoder alone, no head": "no_head", "not compiled": "not_compiled",
        "categorical cross-entropy for integer labels": "loss_one_hot", "from_logits on a softmax head": "loss_from_logits",
        "Adam's default learning rate (1e-3)": "optimizer"},
    "fine_tune": {
        "recompiled at a tenth, never unfrozen": "still_frozen", "model.trainable = True on the model only": "still_frozen",
        "unfroze the head's layer only": "still_frozen", "unfrozen but not recompiled": "not_recompiled",
        "recompiled at the same rate": "same_rate", "ten times the rate": "higher_rate",
        "a rate of 0.1 everywhere": "higher_rate", "one-hot loss on recompiling": "loss_one_hot",
        "no epochs of training": "not_trained", "a new model from scratch instead": "destroyed",
        "a fixed 20 epochs instead of the argument": "epochs", "Keras's default batch size": "batch_size",
        "validation split off the few labels": "steps",
        "returned nothing": "returned_none"},
    "train_transfer": {
        "trained from scratch": "from_scratch", "head trained, never fine-tuned": "not_fine_tuned",
        "returned the encoder": "head_units", "the head not trained before a short fine-tuning": "accuracy"},
    "compare_with_scratch": {
        "accuracies on the training images": "training_accuracy", "accuracies in percent": "percent",
        "the scratch model started from a copy of the encoder": "scratch_reused_encoder",
        "the same model twice": "scratch_reused_encoder", "the scratch model never trained": "scratch_untrained",
        "a list of pairs instead of the dict": "wrong_type"},
}

ALTERNATIVES = {
    "build_transfer_model": [
        # Each layer frozen in a loop; the Functional API with the encoder called in inference mode; a separate
        # softmax layer; the loss as an object.
        "def build_transfer_model(encoder, n_classes):\n"
        "    for layer in encoder.layers:\n        layer.trainable = False\n"
        "    inputs = keras.Input(shape=(64,))\n"
        "    features = encoder(inputs, training=False)\n"
        "    outputs = keras.layers.Activation('softmax')(keras.layers.Dense(n_classes)(features))\n"
        "    model = keras.Model(inputs, outputs)\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy())\n"
        "    return model",
        # The encoder's own layers listed in a new Sequential, frozen one by one.
        "def build_transfer_model(encoder, n_classes):\n"
        "    layers = list(encoder.layers)\n"
        "    for layer in layers:\n        layer.trainable = False\n"
        "    model = keras.Sequential([keras.Input(shape=(64,))] + layers +\n"
        "                             [keras.layers.Dense(n_classes, activation='softmax')])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss='sparse_categorical_crossentropy')\n"
        "    return model",
        # Frozen after compiling, before any training: Keras builds the training step at the first fit.
        "def build_transfer_model(encoder, n_classes):\n"
        "    model = keras.Sequential([encoder, keras.layers.Dense(n_classes, activation='softmax')])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss='sparse_categorical_crossentropy')\n"
        "    encoder.trainable = False\n"
        "    return model",
        # A copy of the encoder with the same weights (copy_encoder), frozen.
        "def build_transfer_model(encoder, n_classes):\n"
        "    base = copy_encoder(encoder)\n    base.trainable = False\n"
        "    model = keras.Sequential([base, keras.layers.Dense(n_classes, activation=keras.activations.softmax)])\n"
        "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy',\n"
        "                  metrics=['accuracy'])\n"
        "    return model",
    ],
    "fine_tune": [
        # The rate read through keras.ops, each layer unfrozen in a loop, the loss as an object, the epochs in two
        # fits that add up to `epochs`.
        "def fine_tune(model, X, y, epochs):\n"
        "    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))\n"
        "    for layer in model.layers:\n        layer.trainable = True\n"
        "    model.compile(optimizer=keras.optimizers.Adam(rate * 0.1),\n"
        "                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=['accuracy'])\n"
        "    model.fit(X, y, epochs=epochs // 2, batch_size=16, verbose=0)\n"
        "    model.fit(X, y, epochs=epochs - epochs // 2, batch_size=16, verbose=0)\n    return model",
        # The rate in float32, the encoder (the first layer) unfrozen by itself, a shuffled copy of the data.
        "def fine_tune(model, X, y, epochs):\n"
        "    rate = np.float32(model.optimizer.learning_rate.numpy()) / np.float32(10)\n"
        "    model.layers[0].trainable = True\n"
        "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=float(rate)),\n"
        "                  loss='sparse_categorical_crossentropy')\n"
        "    order = np.random.default_rng(0).permutation(len(X))\n"
        "    model.fit(X[order], y[order], epochs=epochs, batch_size=16, verbose=0)\n    return model",
    ],
    "train_transfer": [
        # Longer head training in batches of 32, a longer fine-tuning.
        "def train_transfer(encoder, X_small, y_small):\n"
        "    model = build_transfer_model(encoder, 5)\n"
        "    model.fit(X_small, y_small, epochs=60, batch_size=32, verbose=0)\n"
        "    fine_tune(model, X_small, y_small, 30)\n    return model",
        # Fine-tuning written out instead of calling fine_tune: the encoder unfrozen, recompiled at 1e-3.
        "def train_transfer(encoder, X_small, y_small):\n"
        "    model = build_transfer_model(encoder, 5)\n"
        "    model.fit(X_small, y_small, epochs=40, batch_size=16, verbose=0)\n"
        "    encoder.trainable = True\n"
        "    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss='sparse_categorical_crossentropy')\n"
        "    model.fit(X_small, y_small, epochs=20, batch_size=16, verbose=0)\n    return model",
    ],
    "compare_with_scratch": [
        # Accuracies from model.evaluate, the scratch model trained in batches of 8.
        _compare(scratch="    scratch = build_scratch_model(5)\n"
                         "    scratch.fit(X_small, y_small, epochs=60, batch_size=8, verbose=0)\n",
                 measure="    acc = lambda m: m.evaluate(X_val, y_val, verbose=0, return_dict=True)['accuracy']\n"),
        # The scratch network built by hand (the same layers) and trained first; accuracies from accuracy_of.
        "def compare_with_scratch(encoder, X_small, y_small, X_val, y_val):\n"
        "    scratch = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(64, activation='relu'),\n"
        "                                keras.layers.Dense(32, activation='relu'),\n"
        "                                keras.layers.Dense(5, activation='softmax')])\n"
        "    scratch.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
        "    scratch.fit(X_small, y_small, epochs=60, batch_size=16, verbose=0)\n"
        "    transfer = train_transfer(encoder, X_small, y_small)\n"
        "    return {'transfer': (transfer, accuracy_of(transfer, X_val, y_val)),\n"
        "            'scratch': (scratch, accuracy_of(scratch, X_val, y_val))}",
    ],
}


@pytest.fixture(scope="module")
def reference(course):
    return reference_namespace(course, "15_transfer")


@pytest.fixture(scope="module")
def reference_reports():
    """The reference's report per trained part, computed once (grade_trained_part's cache)."""
    return {name: {} for name in TRAINED_PARTS}


def _check(name):
    return transfer.CHECKS[name]


def grade(name, answer, reference, caches=None):
    check = _check(name)
    subject = answer if answer is not None else reference[name]
    if name in TRAINED_PARTS:
        verdict, public = grade_trained_part(transfer.CHECKS, check, subject, reference[name], TRAINED_SEED,
                                             caches[name] if caches is not None else {})
        return [verdict], public
    return ([simulate_grading(transfer.CHECKS, check, subject, reference[name], s) for s in BUILD_SEEDS],
            public_message(check, subject))


@pytest.mark.parametrize("name", ["build_transfer_model", *TRAINED_PARTS])
def test_reference_passes_public_and_grading(reference, reference_reports, name):
    expect_correct(*grade(name, None, reference, reference_reports))


@pytest.mark.parametrize("name,label,code,advice", wrong_cases(WRONG))
def test_wrong_answer_loses_the_part_with_a_teaching_message(reference, reference_reports, name, label, code, advice):
    verdicts, public = grade(name, define(code, name, reference), reference, reference_reports)
    expect_wrong(label, verdicts, public, advice)
    assert all(v.key == KEYS[name][label] for v in verdicts), (label, [v.key for v in verdicts])


def test_every_mistake_has_its_diagnosis_key():
    assert {name: {entry[0] for entry in entries} for name, entries in WRONG.items()} == \
        {name: set(keys) for name, keys in KEYS.items()}


@pytest.mark.parametrize("name,code", alternative_cases(ALTERNATIVES))
def test_alternative_correct_answer_gets_full_marks(reference, reference_reports, name, code):
    expect_correct(*grade(name, define(code, name, reference), reference, reference_reports))


def test_a_fixed_fine_tuning_rate_passes_the_example_but_not_the_grader(reference, reference_reports):
    """1e-3 is a tenth of the public model's rate, not of the grader's: the secret verdict names the mistake."""
    code = _fine_tune(rate="1e-3")
    verdicts, public = grade("fine_tune", define(code, "fine_tune", reference), reference, reference_reports)
    assert public is None, public
    (verdict,) = verdicts
    assert not verdict.passed and abs(verdict.credit - 2 / 3) < 1e-9, verdict
    assert "whatever it was compiled with" in verdict.feedback and verdict.key == "fixed_rate", verdict


def test_partial_credit_counts_the_requirements_met(reference, reference_reports):
    """A third per requirement: forgetting to freeze keeps the head and the compile settings (2 of 3); fine-tuning
    at the head's own rate loses the rate and the kept-features requirement (1 of 3)."""
    for name, label, earned in (("build_transfer_model", "forgot to freeze the encoder", 2),
                                ("build_transfer_model", "not compiled", 2),
                                ("fine_tune", "recompiled at the same rate", 1),
                                ("train_transfer", "head trained, never fine-tuned", 2),
                                ("compare_with_scratch", "accuracies on the training images", 2)):
        code = next(entry[1] for entry in WRONG[name] if entry[0] == label)
        verdicts, _ = grade(name, define(code, name, reference), reference, reference_reports)
        assert all(abs(v.credit - earned / 3) < 1e-9 for v in verdicts), (label, [v.credit for v in verdicts])


def test_the_notebooks_encoder_is_left_unchanged(reference):
    """The locked cells pass copies: after the recipe and the comparison the pretrained encoder is intact."""
    from coursekit.transfer import pretrained_weights

    assert all(np.array_equal(a, b) for a, b in zip(reference["encoder"].get_weights(), pretrained_weights()))


def test_trained_parts_are_judged_on_images_the_kernel_never_sees():
    """The held-out images are grader-only ("_" keys) and none of them is a row of the public digits."""
    from coursekit.data import digits_split

    X_train, X_test, _, _ = digits_split()
    public_rows = {row.tobytes() for row in np.concatenate([X_train, X_test]).astype("float32")}
    inputs = grader_inputs(transfer.CHECKS, TRAINED_SEED)
    for name in TRAINED_PARTS:
        (inp,) = inputs[name]
        assert {"_X", "_y"} <= set(inp) - set(kernel_view(inp))
        assert not any(row.tobytes() in public_rows for row in np.asarray(inp["_X"], dtype="float32"))


def test_grader_encoders_are_jittered_per_run():
    """The encoder a part is judged with is never the one a kernel can pretrain itself."""
    from coursekit.transfer import pretrained_weights

    first = grader_inputs(transfer.CHECKS, 1)["train_transfer"][0]["encoder_weights"]
    second = grader_inputs(transfer.CHECKS, 2)["train_transfer"][0]["encoder_weights"]
    own = pretrained_weights()
    assert not np.array_equal(first[0], own[0]) and not np.array_equal(first[0], second[0])
    assert 0.002 < np.linalg.norm(first[0] - own[0]) / np.linalg.norm(own[0]) < 0.05


# ----------------------------------------------------------------------------- reports a kernel cannot lie with
ATTACK_SEED = 44


def _lambda_model():
    import keras

    inputs = keras.Input(shape=(64,))
    out = keras.layers.Lambda(lambda x: keras.ops.softmax(x[:, :5]))(inputs)
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_claimed_accuracies_are_measured_again(reference):
    """A kernel reporting the reference's models with perfect accuracies loses the measurement requirement."""
    from autograder.checks.model_data import report_model

    check = transfer.CHECKS["compare_with_scratch"]

    def forge(inp):
        report = check.run(reference["compare_with_scratch"], kernel_view(inp))
        for name in ("transfer", "scratch"):
            report[name]["accuracy"] = 1.0
        return report

    verdict = forged_verdict(transfer.CHECKS, check, reference["compare_with_scratch"], forge, ATTACK_SEED)
    assert not verdict.passed and "classifies" in verdict.detail, verdict.detail
    assert verdict.credit <= 2 / 3
    assert report_model  # the forge reports real models: only the claims are false


def test_a_lambda_model_is_refused(reference):
    def forge(inp):
        from autograder.checks.model_data import report_model

        return {"model": report_model(_lambda_model()), "given": None}

    for name in ("train_transfer", "fine_tune"):
        verdict = forged_verdict(transfer.CHECKS, _check(name), reference[name], forge, ATTACK_SEED)
        assert not verdict.passed and "Lambda" in verdict.detail, verdict.detail
        assert grader_exception_in(verdict.feedback) is None, verdict.feedback


#: (part, a result no honest kernel reports): compare says what is wrong and never raises.
ODD_REPORTS = [
    ("build_transfer_model", "not a dict"),
    ("build_transfer_model", {"is_model": True, "keras_config": "[1, 2]", "weights": []}),
    ("fine_tune", {"model": "nope"}),
    ("fine_tune", {"model": {"is_model": True, "keras_config": "{"}, "given": [1, 2, 3]}),
    ("train_transfer", {"model": {"is_model": False, "kind": "NoneType"}}),
    ("train_transfer", {"nothing": 1}),
    ("compare_with_scratch", {"transfer": "x", "scratch": None}),
    ("compare_with_scratch", {"kind": ["a", "list"]}),
    ("compare_with_scratch", {"transfer": {"model": {"is_model": True}, "accuracy": 0.5},
                              "scratch": {"model": {"is_model": True}, "accuracy": 0.5}, "given": "x"}),
]


@pytest.mark.parametrize("name,got", [pytest.param(n, g, id=f"{n}-{i}") for i, (n, g) in enumerate(ODD_REPORTS)])
def test_odd_report_gets_a_message_not_an_exception(name, got):
    check = _check(name)
    case = check.public_cases[0]
    verdict = check.judge(case.inputs, {"ok": to_plain(got)}, case.expected)
    assert not verdict.passed and verdict.message, verdict
    assert grader_exception_in(verdict.message) is None, verdict.message


def test_untouched_exercise_functions_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for name in ("build_transfer_model", *TRAINED_PARTS):
        message = public_message(_check(name), stub)
        assert message is not None and "not implemented yet" in message, message
