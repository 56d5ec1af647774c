"""Checks for 15_transfer: a transfer model built on a frozen pretrained encoder; fine-tuning it (unfrozen,
recompiled at a tenth of the learning rate); the whole recipe trained on a few labels per class, judged on held-out
digits; and a comparison with a network trained from scratch, whose accuracies the grader measures again.

Every encoder a part is judged with comes from the grader: the course's pretrained encoder
(`coursekit.transfer.pretrain_encoder`, an autoencoder's first half), its weights jittered with the run's seed so that they are
never exactly the ones a kernel can compute, and sent in the inputs. The kernel builds the encoder from those
arrays, calls the student's function and reports the resulting model (`model_data.report_model`: config and
weights). The grader rebuilds it and computes every fact itself: which weights are frozen (the rebuilt model's
`trainable_weights`), whether the encoder's weights are exactly, nearly or not at all the given ones, the compile
settings, and the accuracy on digits 5-9 of the test split perturbed with the run's seed (`heldout.py`), which
the kernel never sees. The public cases carry no weights: the kernel pretrains the encoder itself (once per
process) and reports the weights it used with the result, so that the public verdict compares the model with the
encoder it was really given.

Stated rules (part / rule / how it is checked). 28 rules found, 25 checked, 3 suggestions only.
  Ex1 build_transfer_model / returns a compiled keras.Model / type and compile messages
  Ex1 build_transfer_model / the encoder given comes first, reused as it is: its weights exactly the given ones /
      first Dense layers of the rebuilt model compared with the grader's arrays; fresh-encoder diagnosis
  Ex1 build_transfer_model / the encoder is frozen / its weights are not among the rebuilt model's trainable weights
  Ex1 build_transfer_model / a new head: one Dense layer after the encoder / number of Dense layers after it
  Ex1 build_transfer_model / n_classes outputs, a softmax / outputs on a grader probe batch (shape, probabilities);
      a head Dense with its own activation under a Softmax layer is named (model_data.activation_before_softmax)
  Ex1 build_transfer_model / the head is trainable / its kernel is among the trainable weights
  Ex1 build_transfer_model / Adam(learning_rate=1e-2) / compiled optimizer and learning rate
  Ex1 build_transfer_model / sparse categorical cross-entropy (integer labels) / compiled loss, from_logits
  Ex2 fine_tune / every layer trainable afterwards / the rebuilt model's trainable weights
  Ex2 fine_tune / recompiled after unfreezing / the encoder's weights moved during the fit (they do not without it)
  Ex2 fine_tune / Adam at a tenth of the learning rate the model was compiled with / compiled optimizer and rate;
      same-rate, higher-rate and fixed-1e-3 diagnoses (the grader's models come with several rates)
  Ex2 fine_tune / the same loss / compiled loss
  Ex2 fine_tune / trained for `epochs` epochs on (X, y), batch_size=16 / the weights moved, and the optimizer's
      update count (saved with the model, as model.save keeps it) is epochs x ceil(n / 16); another number of
      epochs and Keras's default batches of 32 are named when the count fits them
  Ex2 fine_tune / returns the model it was given / None and other-model diagnoses (the encoder's layers, one head)
  Ex2 fine_tune / the pretrained features are kept, not destroyed / relative change of the encoder's weights and
      the accuracy on the grader's held-out digits
  Ex3 train_transfer / built with build_transfer_model(encoder, 5): the encoder reused / the model's encoder
      weights are near the given ones (trained-from-scratch diagnosis)
  Ex3 train_transfer / the head trained first, then fine_tune / all layers trainable and the encoder moved
  Ex3 train_transfer / 40 head epochs and 20 fine-tuning epochs, batches of 16 / suggestion only
  Ex3 train_transfer / held-out accuracy of at least TRANSFER_THRESHOLD / grader's perturbed test digits 5-9
  Ex4 compare_with_scratch / returns {"transfer": (model, acc), "scratch": (model, acc)} / type messages
  Ex4 compare_with_scratch / the transfer model from train_transfer / its encoder near the given one, trained
  Ex4 compare_with_scratch / the scratch model from build_scratch_model, no pretrained weights / its first layers
      far from the given encoder's, same architecture
  Ex4 compare_with_scratch / the scratch model trained on the same labelled set / held-out accuracy above chance
  Ex4 compare_with_scratch / 60 epochs, batches of 16, for the scratch model / suggestion only
  Ex4 compare_with_scratch / each accuracy is the model's on X_val, y_val / grader recomputes it; training-data,
      percent and error-rate diagnoses
  Ex4 compare_with_scratch / accuracy = share of argmax(probabilities) equal to the label / same recomputation
  Ex1-4 / the caller passes a copy of the encoder (fine-tuning changes it in place) / the checks and locked cells
      do; the statement explains it
  Ex1-4 / "about N lines", hints / suggestion only
Per exercise: Ex1 8 found, 8 checked; Ex2 7/7; Ex3 4 found, 3 checked; Ex4 7 found, 6 checked; 2 course-wide
(1 checked by construction, 1 suggestion).
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from .core import Case, Check, CheckSet, Mistake, Partial
from .heldout import digits_heldout
from .model_data import (ModelRejected, activation_before_softmax, all_layers, built_on_zeros, compile_summary,
                         is_probabilities, one_line, predict, rebuild_model, rejection_text, report_model, to_numpy)

N_CLASSES = 5
#: The learning rate build_transfer_model compiles with, and the share of it fine_tune uses.
HEAD_RATE = 1e-2
FINE_TUNE_SHARE = 0.1
#: Relative change of the encoder's weights (all kernels and biases together) allowed for a model that still
#: reuses the pretrained encoder. Fine-tuning as asked moves them by 4-12% (measured); at a rate of 0.1 they move
#: by about 250%; training from scratch gives
#: an unrelated encoder, over 100% away.
MAX_CHANGE = 0.5
#: Below this relative change the encoder counts as not fine-tuned at all (float32 noise is far smaller).
MOVED = 1e-6
#: The batch size the statement fixes for fine_tune, and the one Keras uses when none is given.
FIT_BATCH = 16
DEFAULT_BATCH = 32
#: A scratch model whose first layers are this close to the pretrained encoder's started from it.
SCRATCH_MIN_DISTANCE = 0.5
#: Held-out accuracy (perturbed test digits 5-9) the trained parts need. Measured: fine-tuned models of the
#: grader's kind get 0.96-0.97, the recipe on 8-12 labels per class 0.92-0.96, on 5 labels 0.82-0.92.
FINE_TUNE_FLOOR = 0.85
TRANSFER_THRESHOLD = 0.85
COMPARE_THRESHOLD = 0.7
#: A scratch model at this accuracy or below was not trained (chance is 0.2).
SCRATCH_FLOOR = 0.35
_SPARSE_LOSSES = {"sparse_categorical_crossentropy", "sparsecategoricalcrossentropy"}
#: The seed the kernel sets before calling a training part. Not the pretraining seed (0): a network built from
#: scratch right after set_random_seed(0) would start from the very weights pretraining started from, and sit
#: closer to the pretrained encoder than an independent start does.
KERNEL_SEED = 15


# ----------------------------------------------------------------------------- data
@lru_cache(maxsize=1)
def _target():
    from coursekit.transfer import target_task

    return target_task()


def target_heldout(rng: np.random.Generator):
    """(X, y): the test split's digits 5-9 (labels 0-4), perturbed with `rng`; the kernel never sees them."""
    X, y = digits_heldout(rng, 450)
    keep = y >= 5
    return X[keep], (y[keep] - 5).astype("int64")


@lru_cache(maxsize=1)
def _pretrained() -> tuple:
    from coursekit.transfer import pretrained_weights

    return tuple(pretrained_weights(0))


@lru_cache(maxsize=1)
def _head() -> tuple:
    """A head trained on the pretrained encoder's features of 10 labelled images per class (seed 0)."""
    from coursekit.transfer import fit_head, labelled_subset

    X_pool, y_pool = _target()[:2]
    X, y = labelled_subset(X_pool, y_pool, 10, seed=0)
    return tuple(fit_head(list(_pretrained()), X, y))


def _grader_encoder(rng) -> list:
    from coursekit.transfer import jittered

    return jittered(list(_pretrained()), int(rng.integers(1, 2**31)))


def _labelled(rng, per_class: int):
    from coursekit.transfer import labelled_subset

    X_pool, y_pool = _target()[:2]
    return labelled_subset(X_pool, y_pool, per_class, seed=int(rng.integers(0, 2**31)))


def _kernel_data(inputs: dict):
    """(encoder weights, X, y) for one set of inputs, in the kernel: given by the grader, or for a public case
    made here from its seeds (the encoder pretrained in this process)."""
    from coursekit.transfer import jittered, labelled_subset, pretrained_weights

    if "encoder_weights" in inputs:
        weights = [np.asarray(w, dtype="float32") for w in inputs["encoder_weights"]]
    else:
        weights = jittered(pretrained_weights(0), int(inputs["jitter_seed"]))
    if "X" in inputs:
        X, y = np.asarray(inputs["X"], dtype="float32"), np.asarray(inputs["y"]).astype("int64")
    else:
        X_pool, y_pool = _target()[:2]
        X, y = labelled_subset(X_pool, y_pool, int(inputs["per_class"]), seed=int(inputs["subset_seed"]))
    return weights, X, y


def _given(inputs: dict, got: dict):
    """The encoder weights the model was built from: the grader's own, or (public cases) those the kernel used."""
    weights = inputs.get("encoder_weights")
    if weights is None:
        weights = got.get("given") if isinstance(got, dict) else None
    if not isinstance(weights, list) or not weights or len(weights) % 2 or \
            not all(isinstance(w, np.ndarray) for w in weights):
        raise ModelRejected("the encoder the model was given is not in the report")
    return [np.asarray(w, dtype=np.float32) for w in weights]


# ----------------------------------------------------------------------------- facts about a rebuilt model
def _dense_layers(model) -> list:
    import keras

    return [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Dense)]


def _encoder_part(model, given) -> tuple[list, list] | None:
    """(encoder Dense layers, Dense layers after them) when the model starts with layers shaped like the given
    encoder's, else None."""
    dense = _dense_layers(model)
    k = len(given) // 2
    if len(dense) < k:
        return None
    for layer, kernel, bias in zip(dense[:k], given[::2], given[1::2]):
        if not layer.use_bias or tuple(layer.kernel.shape) != kernel.shape or tuple(layer.bias.shape) != bias.shape:
            return None
    return dense[:k], dense[k:]


def _weights_of(layers) -> list:
    out = []
    for layer in layers:
        out.extend([np.asarray(to_numpy(layer.kernel), dtype=np.float32),
                    np.asarray(to_numpy(layer.bias), dtype=np.float32)])
    return out


def _relative_change(weights, given) -> float:
    """|W - G| / |G| over all the arrays together (Frobenius norms)."""
    diff = sum(float(np.sum((np.asarray(w, np.float64) - np.asarray(g, np.float64)) ** 2)) for w, g in zip(weights, given))
    size = sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in given)
    return float(np.sqrt(diff / max(size, 1e-30)))


def _head_unchanged(head, before) -> bool:
    """Whether the head layer holds exactly the weights reported from before fine_tune (False when unknown)."""
    if not isinstance(before, list) or len(before) != 2 or not all(isinstance(w, np.ndarray) for w in before):
        return False
    now = _weights_of([head])
    return all(w.shape == np.shape(b) and np.array_equal(w, np.asarray(b, dtype=np.float32))
               for w, b in zip(now, before))


def _trainable_ids(model) -> set:
    return {id(v) for v in model.trainable_weights}


def _is_trainable(layer, ids) -> bool:
    return id(layer.kernel) in ids


def _accuracy(model, X, y) -> float:
    return float(np.mean(np.argmax(predict(model, X), axis=1) == np.asarray(y)))


def _model_or_message(got, what: str, none_advice: str):
    """(rebuilt model, None) or (None, message) for a reported model record."""
    if not isinstance(got, dict):
        return None, f"{what} is not a model the grader can read."
    if not got.get("is_model"):
        if got.get("kind") == "NoneType":
            return None, Mistake(f"{what} is None: {none_advice}", "returned_none")
        return None, Mistake(f"{what} is a {str(got.get('kind'))[:60]}, not a keras.Model.", "not_a_model")
    try:
        return rebuild_model(got), None
    except ModelRejected as exc:
        return None, Mistake(f"{what} cannot be checked: {rejection_text(exc)}.", "model_rejected")


def _model_and_encoder(check, inputs: dict, got, what: str, none_advice: str):
    """(rebuilt model, the encoder weights it was given, None) or (None, None, the verdict) for a report
    {"model": ..., ["given": ...]}."""
    if not isinstance(got, dict) or "model" not in got:
        return None, None, check.unreadable(got)
    model, problem = _model_or_message(got["model"], what, none_advice)
    if problem:
        return None, None, problem
    try:
        return model, _given(inputs, got), None
    except ModelRejected:
        return None, None, check.unreadable(got)


def _partial(items) -> Partial | None:
    """Like core.requirements, keeping the diagnosis key of the first unmet requirement."""
    unmet = [(message, key) for met, message, key in items if not met]
    if not unmet:
        return None
    return Partial(len(items) - len(unmet), len(items), Mistake(" ".join(m for m, _ in unmet), unmet[0][1]))


def _loss_problem(summary) -> tuple[str, str] | None:
    loss = str(summary.get("loss") or "")
    if loss.lower().replace("_", "") in {s.replace("_", "") for s in _SPARSE_LOSSES} and not summary.get("from_logits"):
        return None
    if summary.get("from_logits"):
        return ("The loss is told that the outputs are logits (from_logits=True), but the head ends in a softmax: "
                "use loss='sparse_categorical_crossentropy' without from_logits.", "loss_from_logits")
    if "categorical" in loss.lower():
        return (f"The loss is {loss[:40]!r}, which expects one-hot labels; the labels here are integers 0-4, so "
                "use loss='sparse_categorical_crossentropy'.", "loss_one_hot")
    return (f"The loss is {loss[:40]!r}; a classifier with integer labels is trained with "
            "loss='sparse_categorical_crossentropy'.", "loss")


# ----------------------------------------------------------------------------- Exercise 1: build_transfer_model
def _random_encoder(rng, widths) -> list:
    weights, fan_in = [], 64
    for units in widths:
        weights += [rng.normal(0, 1 / np.sqrt(fan_in), (fan_in, units)).astype("float32"),
                    rng.normal(0, 0.05, units).astype("float32")]
        fan_in = units
    return weights


class BuildTransferModel(Check):
    """The grader gives an encoder (Dense ReLU layers with weights it drew); the kernel builds it, calls the
    student's builder and reports the model. Three separable requirements (core.Partial, a third each): the
    encoder reused exactly and frozen; a fresh trainable softmax head of n_classes; the compile settings."""
    name = "build_transfer_model"
    signature = "build_transfer_model(encoder, n_classes)"
    expected_form = "a compiled keras.Model"

    @cached_property
    def public_cases(self):
        rng = np.random.default_rng(15_001)
        return (Case({"encoder_weights": _random_encoder(rng, (64, 32)), "n_classes": 5,
                      "_probe": rng.uniform(0, 1, (3, 64)), "_public": True}, None,
                     "the course's encoder shape (64 -> 32), 5 classes"),
                Case({"encoder_weights": _random_encoder(rng, (16, 8)), "n_classes": 3,
                      "_probe": rng.uniform(0, 1, (3, 64)), "_public": True}, None,
                     "a smaller encoder (64 -> 16 -> 8), 3 classes"))

    def secret_inputs(self, rng):
        return [{"encoder_weights": _random_encoder(rng, (int(rng.integers(20, 70)), int(rng.integers(8, 40)))),
                 "n_classes": int(rng.choice([4, 6, 7])), "_probe": rng.uniform(0, 1, (3, 64))}]

    def hidden_inputs(self, rng):
        # A one-layer encoder and two classes.
        return [{"encoder_weights": _random_encoder(rng, (12,)), "n_classes": 2, "_probe": rng.uniform(0, 1, (3, 64))}]

    def run(self, subject, inputs):
        from coursekit.transfer import encoder_from_weights

        encoder = encoder_from_weights(inputs["encoder_weights"])
        # keras.Sequential([encoder]) is not built until called, although the encoder inside it is.
        return report_model(built_on_zeros(subject(encoder, int(inputs["n_classes"])), (64,)))

    def compare(self, inputs, got, expected):
        public = bool(inputs.get("_public"))
        n = int(inputs["n_classes"])
        sig = f"build_transfer_model(encoder, {n})" if public else self.signature
        model, problem = _model_or_message(got, f"The model from {sig}", "return the compiled model.")
        if problem:
            return problem
        given = [np.asarray(w, dtype=np.float32) for w in inputs["encoder_weights"]]
        ids = _trainable_ids(model)
        parts = _encoder_part(model, given)
        # 1. The encoder, reused as it is, and frozen.
        if parts is None:
            enc = (False, "The model does not start with the encoder's layers: put the `encoder` you were given first, "
                          "e.g. keras.Sequential([encoder, head]).", "no_encoder")
            head_layers = []
        else:
            enc_layers, head_layers = parts
            if not all(np.array_equal(w, g) for w, g in zip(_weights_of(enc_layers), given)):
                enc = (False, "The encoder layers of the model do not hold the weights of the encoder you were given: "
                              "it was built or cloned afresh (keras.models.clone_model copies the architecture, not "
                              "the weights), so the pretrained features are lost. Reuse `encoder` itself.",
                       "fresh_encoder")
            elif any(_is_trainable(layer, ids) for layer in enc_layers):
                some = not all(_is_trainable(layer, ids) for layer in enc_layers)
                enc = (False, ("Only some of the encoder's layers are frozen: set encoder.trainable = False, which "
                               "freezes all of them." if some else
                               "The encoder is not frozen: its weights would be trained together with the new head, "
                               "and the large gradients of a random head would wreck the pretrained features. Set "
                               "encoder.trainable = False before compiling."), "not_frozen")
            else:
                enc = (True, "", "")
        # 2. A fresh, trainable softmax head of n_classes.
        try:
            outputs = predict(model, np.asarray(inputs.get("_probe"), dtype="float32"))
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the images is the student's to fix
            return Mistake(f"The model from {sig} cannot read a batch of 64-pixel images ({one_line(exc, 120)}).",
                           "call_error")
        if parts is not None and not head_layers:
            head = (False, "The model has no new layer after the encoder: add the head, "
                           "keras.layers.Dense(n_classes, activation='softmax').", "no_head")
        elif parts is not None and len(head_layers) > 1:
            head = (False, f"The model has {len(head_layers)} Dense layers after the encoder; the head asked for is "
                           "one Dense(n_classes, activation='softmax') layer.", "deep_head")
        elif outputs.ndim != 2 or outputs.shape[1] != n:
            width = outputs.shape[1] if outputs.ndim == 2 else None
            fixed = " (5, the number of classes of the notebook)" if width == 5 else ""
            head = (False, f"The model gives {width} outputs per image{fixed}; the head must have n_classes units, the "
                           "argument: keras.layers.Dense(n_classes, activation='softmax').", "head_units")
        elif not is_probabilities(outputs):
            head = (False, "The model's outputs are not probabilities: give the head activation='softmax'.",
                    "no_softmax")
        elif squashed := activation_before_softmax(model):
            head = (False, f"The head's Dense layer applies activation='{squashed}' before the softmax, so the class "
                           f"scores are bent by {squashed} first: the head is Dense(n_classes, activation='softmax'), "
                           "or a linear Dense followed by a softmax.", "squashed_before_softmax")
        elif head_layers and not _is_trainable(head_layers[-1], ids):
            head = (False, "The new head is frozen too, so nothing would be trained: model.trainable = False freezes "
                           "every layer, the head included. Freeze the encoder only (encoder.trainable = False).",
                    "head_frozen")
        else:
            head = (True, "", "")
        # 3. The compile settings.
        summary = compile_summary(model)
        if not summary.get("compiled"):
            comp = (False, "The model is not compiled: call model.compile(optimizer=keras.optimizers.Adam("
                           "learning_rate=1e-2), loss='sparse_categorical_crossentropy') after freezing the encoder.",
                    "not_compiled")
        elif _loss_problem(summary):
            comp = (False, *_loss_problem(summary))
        elif summary.get("optimizer") != "Adam" or summary.get("learning_rate") is None or \
                abs(summary["learning_rate"] - HEAD_RATE) > 1e-6 * HEAD_RATE + 1e-12:
            rate = summary.get("learning_rate")
            shown = f" with learning rate {rate:.3g}" if isinstance(rate, float) else ""
            comp = (False, f"The optimizer is {str(summary.get('optimizer'))[:30]}{shown}; the statement asks for "
                           "keras.optimizers.Adam(learning_rate=1e-2).", "optimizer")
        else:
            comp = (True, "", "")
        return _partial([enc, head, comp])


# ----------------------------------------------------------------------------- Exercise 2: fine_tune
class FineTune(Check):
    """The grader gives a transfer model (its jittered pretrained encoder, frozen, under a trained head, compiled
    with Adam at a rate it picks); the kernel builds it, trains its head for one epoch as the notebook does (so the
    model has a training step built with the encoder frozen), calls fine_tune and reports the result. Three
    separable requirements (a third each): unfrozen and really trained; recompiled with Adam at a tenth of the rate
    and the same loss; the pretrained features kept (small relative change, held-out accuracy)."""
    name = "fine_tune"
    signature = "fine_tune(model, X, y, epochs)"
    expected_form = "the fine-tuned keras.Model"

    @cached_property
    def public_cases(self):
        X, y = target_heldout(np.random.default_rng(15_002))
        return (Case({"jitter_seed": 1, "per_class": 10, "subset_seed": 1, "learning_rate": 1e-2, "epochs": 10,
                      "_X": X, "_y": y, "_public": True}, None, "the notebook's model, 10 labels per class"),)

    def secret_inputs(self, rng):
        X_small, y_small = _labelled(rng, int(rng.choice([8, 10, 12])))
        X, y = target_heldout(rng)
        return [{"encoder_weights": _grader_encoder(rng), "head_weights": list(_head()), "X": X_small, "y": y_small,
                 "learning_rate": float(rng.choice([2e-2, 5e-3, 3e-2])), "epochs": int(rng.integers(8, 13)),
                 "_X": X, "_y": y}]

    def run(self, subject, inputs):
        import keras
        from coursekit.transfer import fit_head, frozen_transfer_model

        weights, X, y = _kernel_data(inputs)
        head = inputs.get("head_weights") or fit_head(weights, X, y)
        model = frozen_transfer_model(weights, head, float(inputs["learning_rate"]))
        keras.utils.set_random_seed(1)
        model.fit(X, y, epochs=1, batch_size=16, verbose=0)  # the head's training, as in the notebook
        head_before = [w.copy() for w in model.layers[-1].get_weights()]
        result = subject(model, X.copy(), y.copy(), int(inputs["epochs"]))
        # The head as fine_tune got it: only used to tell "never fitted" from "fitted without recompiling". The
        # optimizer's step counter is part of the model's saved state (model.save keeps it): epochs x batches.
        report = {"model": report_model(result), "head_before": head_before, "steps": _optimizer_steps(result),
                  "n": int(len(X))}
        if "encoder_weights" not in inputs:
            report["given"] = weights
        return report

    def error_advice(self, inputs, error, detail):
        if "same rank" in detail:
            return Mistake("The labels are integers 0-4, one per image, but the loss expects one-hot rows: compile "
                           "again with loss='sparse_categorical_crossentropy', the loss the model had.", "loss_one_hot")
        return ""

    def compare(self, inputs, got, expected):
        model, given, verdict = _model_and_encoder(self, inputs, got, "The model fine_tune returned",
                                                   "return the model after fitting it.")
        if verdict:
            return verdict
        parts = _encoder_part(model, given)
        if parts is None or len(parts[1]) != 1:
            return Mistake("The model fine_tune returned is not the model it was given (the encoder's layers and one "
                           "head): fine-tune that model itself and return it.", "other_model")
        enc_layers, head_layers = parts
        ids = _trainable_ids(model)
        change = _relative_change(_weights_of(enc_layers), given)
        moved = change > MOVED
        frozen = [layer for layer in enc_layers + head_layers if not _is_trainable(layer, ids)]
        if frozen:
            what = "The encoder is" if all(layer in frozen for layer in enc_layers) else "Some layers are"
            unfrozen = (False, f"{what} still frozen after fine_tune: set trainable = True on every layer of the "
                               "model, the encoder included (for layer in model.layers: layer.trainable = True; "
                               "model.trainable = True alone leaves a frozen encoder inside it frozen), before "
                               "compiling again.", "still_frozen")
        elif not moved and _head_unchanged(head_layers[0], got.get("head_before")):
            unfrozen = (False, "fine_tune did not train the model: every weight, the head's included, is as it was. "
                               "After compiling again, call model.fit(X, y, epochs=epochs, batch_size=16, "
                               "verbose=0).", "not_trained")
        elif not moved:
            unfrozen = (False, "Every layer is trainable, but fitting did not change the encoder's weights: after "
                               "changing `trainable` you must compile again. The training step was built at the "
                               "earlier fit with the weights that were trainable then, and it keeps updating only "
                               "those.", "not_recompiled")
        else:
            unfrozen = _epochs_problem(inputs, got) or (True, "", "")
        rate = float(inputs["learning_rate"])
        want = FINE_TUNE_SHARE * rate
        summary = compile_summary(model)
        got_rate = summary.get("learning_rate")
        if not summary.get("compiled") or _loss_problem(summary):
            problem = _loss_problem(summary) if summary.get("compiled") else None
            recompiled = (False, problem[0] if problem else "The model is not compiled.", problem[1] if problem else
                          "not_compiled")
        elif summary.get("optimizer") != "Adam" or not isinstance(got_rate, float):
            recompiled = (False, f"The model is compiled with {str(summary.get('optimizer'))[:30]}; fine-tune with "
                                 "keras.optimizers.Adam at a tenth of the model's learning rate.", "optimizer")
        elif abs(got_rate - want) <= 1e-4 * want:
            recompiled = (True, "", "")
        elif abs(got_rate - rate) <= 1e-4 * rate:
            recompiled = (False, "The model is compiled with the same learning rate as for training the head: "
                                 "recompile with Adam at a tenth of it, "
                                 "keras.optimizers.Adam(learning_rate=0.1 * old_rate). (If you did not recompile at "
                                 "all, that is the cause.)", "same_rate")
        elif got_rate > rate:
            recompiled = (False, "The model is fine-tuned at a higher learning rate than the head was trained with: "
                                 "large steps on a few labels destroy the pretrained features. Use a tenth of the "
                                 "model's rate.", "higher_rate")
        elif abs(got_rate - FINE_TUNE_SHARE * HEAD_RATE) <= 1e-4 * FINE_TUNE_SHARE * HEAD_RATE:
            recompiled = (False, "The model is fine-tuned at 1e-3 whatever it was compiled with: read the model's rate, "
                                 "float(model.optimizer.learning_rate), and use a tenth of that.", "fixed_rate")
        else:
            recompiled = (False, "The model is not fine-tuned at a tenth of the learning rate it was compiled with: "
                                 "read it with float(model.optimizer.learning_rate) before compiling again.",
                          "wrong_rate")
        accuracy = _accuracy(model, inputs["_X"], inputs["_y"])
        if not moved:
            kept = (False, "The pretrained features were not fine-tuned at all, so there is nothing to keep yet.",
                    "not_moved")
        elif change > MAX_CHANGE:
            kept = (False, f"Fine-tuning moved the encoder's weights by {change:.0%} of their size: it replaced the "
                           "pretrained features instead of adjusting them. Fine-tune the model you were given, at a "
                           "tenth of its learning rate.", "destroyed")
        elif accuracy < FINE_TUNE_FLOOR:
            kept = (False, f"After fine-tuning the model classifies {accuracy:.0%} of the grader's held-out digits "
                           f"correctly; at least {FINE_TUNE_FLOOR:.0%} is expected from a model that keeps its "
                           "pretrained features.", "accuracy")
        else:
            kept = (True, "", "")
        return _partial([unfrozen, recompiled, kept])


def _batches(n: int, batch_size: int) -> int:
    return -(-int(n) // int(batch_size))


def _optimizer_steps(model) -> int | None:
    """The number of updates the model's optimizer has applied (None for anything without a counter)."""
    try:
        return int(np.asarray(model.optimizer.iterations))
    except Exception:  # noqa: BLE001 - not a compiled model: the model checks say so
        return None


def _epochs_problem(inputs: dict, got: dict) -> tuple | None:
    """The `epochs` argument and batches of 16, from the optimizer's step count: fit(X, y, epochs=epochs,
    batch_size=16) applies epochs x ceil(n / 16) updates. Several fits that add up to it pass; a count that one
    mistake alone explains (another number of epochs, Keras's default batches of 32) is named, any other is
    reported as it is."""
    epochs = int(inputs["epochs"])
    n = len(inputs["X"]) if "X" in inputs else got.get("n")
    steps = got.get("steps")
    if not isinstance(n, int) or n <= 0 or isinstance(steps, bool) or not isinstance(steps, int):
        # Every compiled Keras model has the counter: a report without one confirms no training.
        return (False, "The returned model's optimizer reports no update count, so the training asked for cannot be "
                       "confirmed: compile it with Adam and call model.fit(X, y, epochs=epochs, batch_size=16, "
                       "verbose=0).", "steps")
    want = epochs * _batches(n, FIT_BATCH)
    # A new optimizer starts at 0 (compiling with the head's optimizer again fails: it knows only the head's
    # variables), so a count of exactly `want` is the only one that fits.
    if steps == want:
        return None
    causes, named_default = [], "in batches of 32 (Keras's default when fit is given no batch_size)"
    for batch_size, named in ((DEFAULT_BATCH, named_default), (FIT_BATCH, "in batches of 16")):
        per_epoch = _batches(n, batch_size)
        k = steps // per_epoch
        # Batches of 32 are named only with the right epochs, another number of epochs only with batches of 16:
        # each breaks one rule, where any count at all is some number of epochs of some batch size.
        if steps > 0 and steps % per_epoch == 0 and (batch_size == FIT_BATCH or k == epochs):
            causes.append(f"{k} epoch{'s' if k != 1 else ''} {named}")
    default_batches = f"{epochs} epoch{'s' if epochs != 1 else ''} {named_default}"
    causes.sort(key=lambda cause: cause != default_batches)  # the one that honours `epochs` first
    told = (f"fine_tune applied {steps} updates to the model, as {' or '.join(causes)} would"
            if causes else f"fine_tune applied {steps} updates to the model")
    advice = (f"training for `epochs` epochs (here {epochs}) in batches of 16 on these {n} images is {want}: call "
              "model.fit(X, y, epochs=epochs, batch_size=16, verbose=0): the `epochs` argument, batches of 16, all of (X, y).")
    key = "batch_size" if default_batches in causes else "epochs" if causes else "steps"
    return False, f"{told}; {advice}", key


# ----------------------------------------------------------------------------- Exercise 3: train_transfer
class TrainTransfer(Check):
    """The grader gives the encoder (its jittered pretrained weights) and a small labelled set; the kernel calls
    train_transfer and reports the model. Three requirements (a third each), all computed from the rebuilt model:
    the encoder reused (near the given weights), fine-tuned (unfrozen, moved), and accurate on held-out digits."""
    name = "train_transfer"
    signature = "train_transfer(encoder, X_small, y_small)"
    expected_form = "the trained keras.Model"

    @cached_property
    def public_cases(self):
        X, y = target_heldout(np.random.default_rng(15_003))
        return (Case({"jitter_seed": 2, "per_class": 10, "subset_seed": 2, "_X": X, "_y": y, "_public": True}, None,
                     "the pretrained encoder, 10 labels per class"),)

    def secret_inputs(self, rng):
        X_small, y_small = _labelled(rng, int(rng.choice([8, 10, 12])))
        X, y = target_heldout(rng)
        return [{"encoder_weights": _grader_encoder(rng), "X": X_small, "y": y_small, "_X": X, "_y": y}]

    def run(self, subject, inputs):
        from coursekit.transfer import encoder_from_weights

        import keras

        weights, X, y = _kernel_data(inputs)
        encoder = encoder_from_weights(weights)
        keras.utils.set_random_seed(KERNEL_SEED)
        report = {"model": report_model(subject(encoder, X.copy(), y.copy()))}
        if "encoder_weights" not in inputs:
            report["given"] = weights
        return report

    def compare(self, inputs, got, expected):
        model, given, verdict = _model_and_encoder(self, inputs, got, "The model train_transfer returned",
                                                   "return the trained model.")
        if verdict:
            return verdict
        try:
            outputs = predict(model, inputs["_X"])
        except Exception:  # noqa: BLE001
            return Mistake("The model train_transfer returned cannot read 64-pixel images.", "call_error")
        if outputs.ndim != 2 or outputs.shape[1] != N_CLASSES:
            return Mistake(f"The model train_transfer returned gives {outputs.shape[-1]} outputs per image; it should "
                           "give the 5 class probabilities: build it with build_transfer_model(encoder, 5).",
                           "head_units")
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == np.asarray(inputs["_y"])))
        parts = _encoder_part(model, given)
        change = _relative_change(_weights_of(parts[0]), given) if parts else None
        if parts is None or change > MAX_CHANGE:
            moved = f" (they are {change:.0%} away from them)" if change is not None else ""
            reused = (False, "The model's encoder layers do not hold the pretrained weights you were given"
                             f"{moved}: it was trained from scratch. Build it with build_transfer_model(encoder, 5), "
                             "which reuses the encoder.", "from_scratch")
            tuned = (False, "Fine-tuning cannot be checked on a model that does not reuse the encoder.", "from_scratch")
        else:
            reused = (True, "", "")
            ids = _trainable_ids(model)
            if change <= MOVED:
                tuned = (False, "The encoder's weights are exactly the pretrained ones: the head was trained, but the "
                                "model was never fine-tuned. Call fine_tune(model, X_small, y_small, 20) after "
                                "training the head.", "not_fine_tuned")
            elif not all(_is_trainable(layer, ids) for layer in parts[0] + parts[1]):
                tuned = (False, "Some layers of the returned model are frozen: fine_tune leaves every layer "
                                "trainable (check Exercise 2).", "still_frozen")
            else:
                tuned = (True, "", "")
        if accuracy >= TRANSFER_THRESHOLD:
            good = (True, "", "")
        else:
            good = (False, f"The model classifies {accuracy:.0%} of the grader's held-out digits 5-9 correctly; at "
                           f"least {TRANSFER_THRESHOLD:.0%} is needed (the reference gets about 93%). Train the "
                           "head for 40 epochs, then fine-tune for 20.", "accuracy")
        return _partial([reused, tuned, good])


# ----------------------------------------------------------------------------- Exercise 4: compare_with_scratch
class CompareWithScratch(Check):
    """The grader gives the encoder, a small labelled set and a validation set (rows of the public validation
    digits it picks); the kernel calls compare_with_scratch and reports both models and both accuracies. Three
    requirements (a third each): the accuracies are the models' own on X_val (recomputed here); the right
    models (transfer from the encoder, scratch not); both trained (held-out accuracies, computed here)."""
    name = "compare_with_scratch"
    signature = "compare_with_scratch(encoder, X_small, y_small, X_val, y_val)"
    expected_form = 'a dict {"transfer": (model, accuracy), "scratch": (model, accuracy)}'

    @cached_property
    def public_cases(self):
        X, y = target_heldout(np.random.default_rng(15_004))
        return (Case({"jitter_seed": 3, "per_class": 5, "subset_seed": 3, "_X": X, "_y": y, "_public": True}, None,
                     "the pretrained encoder, 5 labels per class, the notebook's validation set"),)

    def secret_inputs(self, rng):
        X_small, y_small = _labelled(rng, int(rng.choice([8, 10])))
        X_val, y_val = _target()[2:]
        rows = np.sort(rng.choice(len(X_val), 100, replace=False))
        X, y = target_heldout(rng)
        return [{"encoder_weights": _grader_encoder(rng), "X": X_small, "y": y_small, "X_val": X_val[rows],
                 "y_val": y_val[rows], "_X": X, "_y": y}]

    def run(self, subject, inputs):
        from coursekit.transfer import encoder_from_weights

        weights, X, y = _kernel_data(inputs)
        if "X_val" in inputs:
            X_val, y_val = np.asarray(inputs["X_val"], dtype="float32"), np.asarray(inputs["y_val"]).astype("int64")
        else:
            X_val, y_val = _target()[2:]
        import keras

        encoder = encoder_from_weights(weights)
        keras.utils.set_random_seed(KERNEL_SEED)
        result = subject(encoder, X.copy(), y.copy(), X_val.copy(), y_val.copy())
        report: dict = {}
        if not isinstance(result, dict):
            return {"kind": type(result).__name__}
        for name in ("transfer", "scratch"):
            value = result.get(name)
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                return {"kind": f"dict whose {name!r} entry is not a (model, accuracy) pair"}
            try:
                report[name] = {"model": report_model(value[0]),
                                "accuracy": float(np.asarray(value[1], dtype=np.float64).reshape(()))}
            except (TypeError, ValueError):
                return {"kind": f"dict whose {name!r} accuracy is not a single number"}
        if "encoder_weights" not in inputs:
            report["given"] = weights
            report["train"] = [X, y]
        return report

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if "kind" in got:
            kind = str(got["kind"])[:80]
            if kind == "NoneType":
                return Mistake("compare_with_scratch returned None: return the dict "
                               '{"transfer": (model, accuracy), "scratch": (model, accuracy)}.', "returned_none")
            return Mistake(f"compare_with_scratch returned a {kind}; it should return the dict "
                           '{"transfer": (model, accuracy), "scratch": (model, accuracy)}.', "wrong_type")
        try:
            given = _given(inputs, got)
        except ModelRejected:
            return self.unreadable(got)
        if "X_val" in inputs:
            X_val, y_val = inputs["X_val"], inputs["y_val"]
            X_train, y_train = inputs["X"], inputs["y"]
        else:
            X_val, y_val = _target()[2:]
            X_train, y_train = got.get("train") or (np.zeros((0, 64)), np.zeros(0))
        models = {}
        for name in ("transfer", "scratch"):
            entry = got.get(name)
            if not isinstance(entry, dict) or not isinstance(entry.get("accuracy"), float):
                return self.unreadable(got)
            model, problem = _model_or_message(entry.get("model"), f"The {name} model",
                                               "return the trained model with its accuracy.")
            if problem:
                return problem
            models[name] = model
        # 1. The accuracies, measured here on X_val.
        measure = []
        for name, model in models.items():
            mine = float(got[name]["accuracy"])
            try:
                right = _accuracy(model, X_val, y_val)
                on_train = _accuracy(model, X_train, y_train) if len(X_train) else None
            except Exception:  # noqa: BLE001
                return Mistake(f"The {name} model cannot read 64-pixel images.", "call_error")
            tol = 0.5 / len(y_val)
            if abs(mine - right) <= tol:
                continue
            said = f"The {name} model's accuracy is reported as {mine:.4g}, but it classifies {right:.4g} of X_val."
            if on_train is not None and abs(mine - on_train) <= 1e-6 and abs(on_train - right) > tol:
                measure.append((f"{said} That is its accuracy on the training images, which it has learned: a model "
                                "is judged on images it has not seen. Measure it on X_val, y_val.", "training_accuracy"))
            elif abs(mine - 100 * right) <= 100 * tol:
                measure.append((f"{said} Report a share between 0 and 1, not a percentage.", "percent"))
            elif abs(mine - (1 - right)) <= tol:
                measure.append((f"{said} That is the error rate: report the share classified correctly.", "error_rate"))
            else:
                measure.append((f"{said} Measure it as np.mean(np.argmax(model.predict(X_val), axis=1) == y_val).",
                                "measure"))
        measured = (not measure, " ".join(m for m, _ in measure), measure[0][1] if measure else "")
        # 2. The right models: the transfer one reuses the encoder, the scratch one does not.
        wrong = []
        parts = _encoder_part(models["transfer"], given)
        change = _relative_change(_weights_of(parts[0]), given) if parts else None
        if parts is None or change > MAX_CHANGE:
            wrong.append(("The transfer model's encoder layers do not hold the pretrained weights: build it with "
                          "train_transfer(encoder, X_small, y_small), which reuses the encoder.",
                          "transfer_from_scratch"))
        scratch_parts = _encoder_part(models["scratch"], given)
        if scratch_parts is None:
            wrong.append(("The scratch model does not have the transfer model's architecture: build it with "
                          "build_scratch_model(5), so that only the starting weights differ.", "scratch_architecture"))
        else:
            first = _weights_of(scratch_parts[0][:1])
            if _relative_change(first, given[:2]) < SCRATCH_MIN_DISTANCE:
                wrong.append(("The scratch model's first layer holds (nearly) the pretrained weights: it started from "
                              "the encoder, so the comparison compares transfer with itself. Build it with "
                              "build_scratch_model(5), whose weights are all fresh.", "scratch_reused_encoder"))
        models_ok = (not wrong, " ".join(m for m, _ in wrong), wrong[0][1] if wrong else "")
        # 3. Both trained, judged on the grader's held-out digits.
        held = {name: _accuracy(model, inputs["_X"], inputs["_y"]) for name, model in models.items()}
        trained = []
        if held["scratch"] <= SCRATCH_FLOOR:
            trained.append((f"The scratch model classifies {held['scratch']:.0%} of the grader's held-out digits "
                            "correctly, about chance (20%): it was not trained. Fit it on X_small, y_small for 60 "
                            "epochs.", "scratch_untrained"))
        if held["transfer"] < COMPARE_THRESHOLD:
            trained.append((f"The transfer model classifies {held['transfer']:.0%} of the grader's held-out digits "
                            f"correctly; at least {COMPARE_THRESHOLD:.0%} is expected (check Exercise 3).",
                            "transfer_accuracy"))
        trained_ok = (not trained, " ".join(m for m, _ in trained), trained[0][1] if trained else "")
        return _partial([measured, models_ok, trained_ok])


build_transfer_model = BuildTransferModel()
fine_tune = FineTune()
train_transfer = TrainTransfer()
compare_with_scratch = CompareWithScratch()

CHECKS = CheckSet("15_transfer", [build_transfer_model, fine_tune, train_transfer, compare_with_scratch])
