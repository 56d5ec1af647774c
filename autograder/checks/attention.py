"""Checks for 12_attention: scaled dot-product attention, sinusoidal positional encoding,
a transformer encoder block, and a causal transformer of the student's own design, trained
to output the largest of the last three tokens at every position.

Nothing here computes attention or the positional encoding the exercise asks for. Public
expected values are literals worked out once, offline (and checked against
`keras.layers.MultiHeadAttention` with one head and identity projections); at grading time
the expected values are the reference notebook's results. Diagnoses work back from the
expected values: for instance the weights of unscaled attention are softmax(sqrt(d_k) *
log(weights)), because scaling the scores by a constant is the same as scaling the
log-weights by it, up to a shift per row that the softmax removes.

Stated rules (part / rule / how it is checked). 30 rules found, 27 checked, 3 suggestions only.
  Ex1 attention / returns the pair (output, weights) / `not_pair` message; (weights, output) named
  Ex1 attention / output (..., T_q, d_v), weights (..., T_q, T_k) / shapes compared, message names them
  Ex1 attention / scores scaled by sqrt(d_k) / values; unscaled and divided-by-d_k diagnoses
  Ex1 attention / softmax over the keys (rows sum to 1) / values; "ran over the queries" diagnosis
  Ex1 attention / True (or 1) = may attend, False (or 0) = blocked / values; inverted-mask diagnosis
  Ex1 attention / blocked scores set to -inf before the softmax / values; after-softmax and leak diagnoses
  Ex1 attention / a boolean, 0/1 integer or 0/1 float mask / hidden cases with an int and a float mask
  Ex1 attention / mask=None by default / cases without a mask call the function without it
  Ex1 attention / leading batch axes / a public batch case and a hidden 4-D case; K.T advice
  Ex1 attention / large scores (subtract the row maximum) / a public case in the thousands; overflow
      message (how the overflow is avoided is a suggestion only)
  Ex1 attention / the input arrays are left unchanged / `run` compares them after the call; message
  Ex2 positional_encoding / shape (seq_len, d_model) / shape; transposed diagnosis
  Ex2 positional_encoding / sin in even columns, cos in odd ones / values; swapped and concatenated diagnoses
  Ex2 positional_encoding / angle pos / 10000 ** (2i / d_model), one frequency per pair / values; four diagnoses
  Ex2 positional_encoding / positions start at 0 / values; shifted-by-one diagnosis
  Ex2 positional_encoding / "no loops needed" / suggestion only
  Ex3 encoder_block / returns the output tensor, shape (batch, seq_len, d_model) / `is_tensor`; shape
  Ex3 encoder_block / one MultiHeadAttention(num_heads, key_dim=d_model // num_heads) / config of the rebuilt model
  Ex3 encoder_block / self-attention mha(x, x) / outputs under fixed weights; error advice for mha(x); a mask
      (no output moves when a later position changes) is named
  Ex3 encoder_block / residual + LayerNormalization after each sub-layer (post-norm) / zeroed-weights run
  Ex3 encoder_block / Dense(ff_dim, relu) then Dense(d_model) without activation / config of the rebuilt model
      (a linear Dense followed by an Activation('relu') or ReLU layer counts as Dense(..., activation='relu'))
  Ex3 encoder_block / d_model read from x.shape[-1] / secret inputs of several widths
  Ex3 encoder_block / everything else (dropout, epsilon) / suggestion only (accepted either way)
  Ex4 trained_transformer / returns the trained keras.Model / None, History and other types named
  Ex4 trained_transformer / int tokens (batch, 8) -> probabilities (batch, 8, vocab) / grader's predictions
  Ex4 trained_transformer / causal: position t depends on tokens 0..t only / later tokens changed by the grader
  Ex4 trained_transformer / positions exchange information only through attention / layer kinds of the rebuilt model
  Ex4 trained_transformer / at most 3,000 parameters / count_params of the rebuilt model
  Ex4 trained_transformer / >= 90% of tokens right on fresh sequences / grader-only sequences, none a training row
  Ex4 trained_transformer / training settings, about half a minute / suggestion only
Per exercise: Ex1 11 found, 11 checked; Ex2 5 found, 4 checked; Ex3 7 found, 6 checked; Ex4 7 found, 6 checked.
"""
from __future__ import annotations


import numpy as np

from .compare import compare_array, fmt, within_scale
from .core import Case, Check, CheckSet, Partial
from .model_data import (ModelRejected, all_layers, is_probabilities, one_line, predict,
                         rebuild_model, report_model, with_activations)

#: Exercise 4's task: sequences of TASK_SEQ_LEN tokens drawn from 0..TASK_VOCAB-1; the target at position t is
#: the largest of the last WINDOW tokens (of those there are at the start).
TASK_SEQ_LEN, TASK_VOCAB, WINDOW = 8, 10, 3
#: The trained model must get at least this fraction of output tokens right (the reference gets about 0.99).
ACCURACY_THRESHOLD = 0.90
#: The trained model may have at most this many parameters (the reference has 2,554).
PARAM_BUDGET = 3_000



def _near(got, expected, atol: float) -> bool:
    """Same shape, finite, and equal within `atol` relative to the size of the expected values."""
    return within_scale(got, expected, atol)


def _row_softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis that accepts -inf entries (rows keep at least one finite entry)."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = z - np.max(z, axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def _log(w: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(w)


# ----------------------------------------------------------------------- Exercise 1: attention
_Q_A = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
_K_A = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
_V_A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
# Q K^T / sqrt(4) = [[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 1, 0]]: small enough to check by hand.
_W_A = np.array([[0.36552928931500245, 0.13447071068499755, 0.36552928931500245, 0.13447071068499755],
                 [0.17487770452710943, 0.4753668864186717, 0.17487770452710943, 0.17487770452710943],
                 [0.2969227424756547, 0.2969227424756547, 0.2969227424756547, 0.10923177257303593]])
_OUT_A = np.array([[0.7310585786300049, 0.5], [0.34975540905421887, 0.6502445909457811],
                   [0.5938454849513094, 0.5938454849513094]])
_MASK_B = np.array([[True, True, False, True], [True, False, True, True], [False, True, True, False]])
_W_B = np.array([[0.5761168847658291, 0.21194155761708544, 0.0, 0.21194155761708544],
                 [0.3333333333333333, 0.0, 0.3333333333333333, 0.3333333333333333], [0.0, 0.5, 0.5, 0.0]])
_OUT_B = np.array([[0.5761168847658291, 0.21194155761708544], [0.6666666666666666, 0.3333333333333333], [0.5, 1.0]])
_Q_C = np.array([[[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 0.0, -1.0], [-1.0, 2.0, 1.0, 0.0]],
                 [[0.0, 1.0, 1.0, 1.0], [2.0, -1.0, 0.0, 0.5], [1.0, 1.0, -2.0, 0.0]]])
_K_C = np.array([[[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 2.0], [-1.0, 1.0, 0.5, 0.0]],
                 [[2.0, 0.0, 1.0, -1.0], [0.0, -1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]])
_V_C = np.array([[[1.0, 2.0, 0.0, -1.0], [0.0, 1.0, 1.0, 0.0], [2.0, 0.0, -1.0, 1.0]],
                 [[0.5, 0.5, 1.0, 0.0], [-1.0, 0.0, 2.0, 1.0], [0.0, 1.0, 0.0, 2.0]]])
# Batch 0: a causal mask (query t sees keys 0..t). Batch 1: the last key is padding.
_MASK_C = np.array([[[True, False, False], [True, True, False], [True, True, True]],
                    [[True, True, False], [True, True, False], [True, True, False]]])
_W_C = np.array([[[1.0, 0.0, 0.0], [0.679178699175393, 0.32082130082460697, 0.0],
                  [0.413332331979794, 0.055938448219335045, 0.530729219800871]],
                 [[0.37754066879814546, 0.6224593312018546, 0.0], [0.7310585786300049, 0.2689414213699951, 0.0],
                  [0.8175744761936437, 0.18242552380635632, 0.0]]])
_OUT_C = np.array([[[1.0, 2.0, 0.0, -1.0],
                    [0.679178699175393, 1.679178699175393, 0.32082130082460697, -0.679178699175393],
                    [1.474790771581536, 0.8826031121789231, -0.47479077158153593, 0.11739688782107693]],
                   [[-0.43368899680278183, 0.18877033439907273, 1.6224593312018547, 0.6224593312018546],
                    [0.09658786794500734, 0.36552928931500245, 1.2689414213699952, 0.2689414213699951],
                    [0.2263617142904655, 0.4087872380968218, 1.1824255238063563, 0.18242552380635632]]])
# Scores in the thousands: exp overflows unless each row's maximum is subtracted first.
_Q_D = np.array([[30.0, 40.0], [-40.0, 30.0]])
_K_D = np.array([[40.0, 30.0], [30.0, -40.0], [0.0, 0.0]])
_V_D = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
_W_D = np.array([[1.0, 0.0, 0.0], [1.0844231245280909e-215, 0.0, 1.0]])
_OUT_D = np.array([[1.0, 0.0], [0.5, 0.5]])

_OVERFLOW_ADVICE = ("np.exp overflowed to inf on large scores, and inf / inf is nan. Subtract each row's maximum "
                    "score before np.exp: softmax(s) = softmax(s - max(s)), so nothing changes except that the "
                    "largest exponent is exp(0) = 1.")
_AXIS_ADVICE = ("Each column of the weights sums to 1 instead of each row: the softmax ran over the queries. "
                "Every query's weights are a distribution over the keys, so normalise over the last axis: "
                "axis=-1 (with keepdims=True).")
_AFTER_ADVICE = ("The rows of the weights no longer sum to 1: the mask was applied after the softmax, so the "
                 "weight of the blocked keys was thrown away instead of shared among the others. Apply the mask "
                 "to the scores before the softmax: set blocked scores to -inf (or a large negative number "
                 "such as -1e9).")
_POLARITY_ADVICE = ("The weights are 0 exactly where the mask is True: the mask's meaning is inverted. As in "
                    "Keras, True (or 1) means *may attend* and False (or 0) means blocked: keep the scores "
                    "where mask is True, np.where(mask, scores, -np.inf).")
_LEAK_ADVICE = ("Keys the mask blocks still get some weight. A blocked score must become -inf (or -1e9) before "
                "the softmax; multiplying the scores by the mask sets them to 0, and exp(0) = 1 is not 0.")
_UNSCALED_ADVICE = ("These are the weights of softmax(Q K^T), without the scaling: divide the scores by "
                    "sqrt(d_k), the square root of the last dimension of Q and K.")
_BY_D_ADVICE = ("These are the weights of softmax(Q K^T / d_k): divide by the square root of d_k, "
                "np.sqrt(d_k), not by d_k itself.")
_NO_SOFTMAX_ADVICE = ("The weights look like raw scores: turn each row of Q K^T / sqrt(d_k) into a distribution "
                      "with a softmax, exp(s) / sum(exp(s)) over the keys.")


def _attention_case(Q, K, V, mask, weights, output, label):
    inputs = {"Q": Q, "K": K, "V": V}
    if mask is not None:
        inputs["mask"] = mask
    return Case(inputs, {"output": output, "weights": weights}, label)


def _random_mask(rng, shape) -> np.ndarray:
    mask = rng.random(shape) < 0.65
    rows = np.argwhere(~mask.any(axis=-1))
    for row in rows:  # every query may attend to at least one key
        mask[tuple(row)][int(rng.integers(0, shape[-1]))] = True
    return mask


class Attention(Check):
    name = "attention"
    signature = "scaled_dot_product_attention(Q, K, V, mask)"
    expected_form = "a pair (output, weights) of arrays"
    public_cases = (
        _attention_case(_Q_A, _K_A, _V_A, None, _W_A, _OUT_A, "3 queries, 4 keys, d_k = 4, no mask"),
        _attention_case(_Q_A, _K_A, _V_A, _MASK_B, _W_B, _OUT_B, "the same with a mask"),
        _attention_case(_Q_C, _K_C, _V_C, _MASK_C, _W_C, _OUT_C,
                        "a batch of 2 with masks of shape (2, 3, 3); Keras's MultiHeadAttention with one head "
                        "and identity projections gives the same"),
        _attention_case(_Q_D, _K_D, _V_D, None, _W_D, _OUT_D, "large scores, in the thousands"),
    )

    def secret_inputs(self, rng):
        cases = []
        tq, tk, dk, dv = (int(v) for v in (rng.integers(2, 7), rng.integers(2, 8), rng.integers(2, 10),
                                           rng.integers(1, 6)))
        cases.append({"Q": rng.normal(0, 1, (tq, dk)), "K": rng.normal(0, 1, (tk, dk)), "V": rng.normal(0, 1, (tk, dv))})
        b, tq, tk, dk = (int(v) for v in (rng.integers(2, 5), rng.integers(2, 6), rng.integers(3, 7), rng.integers(3, 9)))
        cases.append({"Q": rng.normal(0, 1.5, (b, tq, dk)), "K": rng.normal(0, 1.5, (b, tk, dk)),
                      "V": rng.normal(0, 1, (b, tk, 3)), "mask": _random_mask(rng, (b, tq, tk))})
        t = int(rng.integers(3, 7))
        cases.append({"Q": rng.normal(0, 2, (t, 16)), "K": rng.normal(0, 2, (t, 16)), "V": rng.normal(0, 1, (t, 4)),
                      "mask": np.tril(np.ones((t, t), dtype=bool))})
        return cases

    def hidden_inputs(self, rng):
        # A 0/1 integer mask, a 0/1 float mask, large scores with a mask, a single query, and 4-D
        # (batch, heads, T, d) inputs.
        t = int(rng.integers(3, 6))
        int_mask = _random_mask(rng, (t, t + 1)).astype(np.int64)
        return [
            {"Q": rng.normal(0, 1, (t, 5)), "K": rng.normal(0, 1, (t + 1, 5)), "V": rng.normal(0, 1, (t + 1, 2)),
             "mask": int_mask},
            {"Q": rng.normal(0, 1, (t + 1, 3)), "K": rng.normal(0, 1, (t, 3)), "V": rng.normal(0, 1, (t, 4)),
             "mask": _random_mask(rng, (t + 1, t)).astype(np.float64)},
            {"Q": rng.normal(0, 30, (3, 4)), "K": rng.normal(0, 30, (5, 4)), "V": rng.normal(0, 1, (5, 3)),
             "mask": _random_mask(rng, (3, 5))},
            {"Q": rng.normal(0, 1, (1, 6)), "K": rng.normal(0, 1, (4, 6)), "V": rng.normal(0, 1, (4, 6))},
            {"Q": rng.normal(0, 1, (2, 3, 4, 5)), "K": rng.normal(0, 1, (2, 3, 6, 5)), "V": rng.normal(0, 1, (2, 3, 6, 2)),
             "mask": _random_mask(rng, (2, 3, 4, 6))},
        ]

    def run(self, subject, inputs):
        args = {k: np.array(inputs[k]) for k in ("Q", "K", "V")}
        if "mask" in inputs:
            args["mask"] = np.array(inputs["mask"])
        given = {k: v.copy() for k, v in args.items()}
        if "mask" in args:
            result = subject(args["Q"], args["K"], args["V"], mask=args["mask"])
        else:
            result = subject(args["Q"], args["K"], args["V"])  # the mask defaults to None
        # Which inputs the call changed in place (Q /= np.sqrt(d_k), say): the statement asks to leave them.
        mutated = [k for k in given if args[k].shape != given[k].shape or not np.array_equal(args[k], given[k])]
        if isinstance(result, (tuple, list)) and len(result) == 2:
            return {"output": np.asarray(result[0], dtype=np.float64), "weights": np.asarray(result[1], dtype=np.float64),
                    "mutated": mutated}
        return {"not_pair": type(result).__name__ if not isinstance(result, (tuple, list)) else f"{len(result)} values"}

    def error_advice(self, inputs, error, detail):
        if np.ndim(inputs["K"]) > 2 and any(w in detail for w in ("mismatch", "matmul", "broadcast", "shape")):
            return ("For a batch, K.T reverses every axis, batch included. Swap only the last two axes: "
                    "np.swapaxes(K, -1, -2) (or K.transpose(0, 2, 1) for 3-D arrays).")
        if "ambiguous" in detail or "bad operand type for unary ~" in detail:
            return ("Test the mask with `if mask is not None`, and use it with np.where(mask, scores, -np.inf): "
                    "the mask may also be a 0/1 integer array.")
        return ""

    def compare(self, inputs, got, expected):
        sig = self.signature if "mask" in inputs else "scaled_dot_product_attention(Q, K, V)"
        if not isinstance(got, dict) or "not_pair" in got:
            kind = got.get("not_pair") if isinstance(got, dict) else "something else"
            return (f"{sig} returned {kind}; it should return a pair (output, weights): "
                    "`return output, weights`.")
        w_exp = np.asarray(expected["weights"], dtype=np.float64)
        o_exp = np.asarray(expected["output"], dtype=np.float64)
        w_got, o_got = np.asarray(got["weights"]), np.asarray(got["output"])
        if w_got.shape == o_exp.shape and o_got.shape == w_exp.shape and w_exp.shape != o_exp.shape:
            return f"{sig} returned (weights, output); return them in the order (output, weights)."
        message = self._compare_weights(sig, inputs, w_got, w_exp)
        if message:
            return message
        if _near(o_got, o_exp, 1e-5):
            mutated = [str(k) for k in got.get("mutated") or []]
            if mutated:
                return (f"{sig} returns the right values but changes its input{'s' if len(mutated) > 1 else ''} "
                        f"{', '.join(mutated)} in place (an in-place operation such as Q /= np.sqrt(d_k) or "
                        "scores[...] = on a view of the input writes into the caller's array). Leave the arrays you are "
                        "given unchanged: compute new ones, e.g. scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k).")
            return None
        message = compare_array(f"{sig}: the output", o_got, o_exp, inputs, tol=1e-12) or \
            f"{sig}: the output differs from the expected one by more than 1e-5."
        return (f"{message} The weights are right, so the last step is off: the output is weights @ V, "
                "one weighted average of the rows of V for each query.")

    def _compare_weights(self, sig, inputs, got, expected):
        what = f"{sig}: the attention weights"
        if got.shape != expected.shape:
            return compare_array(what, got, expected, inputs)
        if _near(got, expected, 1e-6):
            return None
        if not np.all(np.isfinite(got)):
            return f"{what} contain nan or inf: {fmt(got)}. {_OVERFLOW_ADVICE}"
        mask = np.asarray(inputs["mask"]).astype(bool) if "mask" in inputs else None
        rows_ok = np.allclose(got.sum(axis=-1), 1.0, atol=1e-6)
        cols_sum_one = got.shape[-2] > 1 and np.allclose(got.sum(axis=-2), 1.0, atol=1e-6)
        log_w = _log(expected)
        d_k = np.shape(inputs["Q"])[-1]
        diagnoses = [
            (lambda: cols_sum_one and not rows_ok, _AXIS_ADVICE),
            (lambda: mask is not None and not rows_ok and np.all(got[~mask] == 0) and np.all(got.sum(axis=-1) <= 1 + 1e-6),
             _AFTER_ADVICE),
            (lambda: mask is not None and (~mask).any() and np.allclose(got[mask], 0, atol=1e-9), _POLARITY_ADVICE),
            (lambda: mask is not None and rows_ok and np.any(got[~mask] > 1e-9), _LEAK_ADVICE),
            (lambda: _near(got, _row_softmax(np.sqrt(d_k) * log_w), 1e-6), _UNSCALED_ADVICE),
            (lambda: _near(got, _row_softmax(log_w / np.sqrt(d_k)), 1e-6), _BY_D_ADVICE),
            (lambda: not rows_ok and (np.any(got < 0) or np.any(got > 1)), _NO_SOFTMAX_ADVICE),
        ]
        for test, advice in diagnoses:
            try:
                if test():
                    return f"{what} are {fmt(got)}, expected {fmt(expected)}. {advice}"
            except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
                continue
        return (compare_array(what, got, expected, inputs, tol=1e-12) or f"{what} differ by more than 1e-6.") + (
            " The weights are softmax(Q K^T / sqrt(d_k)) over the keys (the last axis), with blocked scores set "
            "to -inf before the softmax.")


# ----------------------------------------------------------------------- Exercise 2: positional encoding
_PE_4_4 = np.array([[0.0, 1.0, 0.0, 1.0],
                    [0.8414709848078965, 0.5403023058681398, 0.009999833334166664, 0.9999500004166653],
                    [0.9092974268256817, -0.4161468365471424, 0.01999866669333308, 0.9998000066665778],
                    [0.1411200080598672, -0.9899924966004454, 0.02999550020249566, 0.9995500337489875]])
_PE_3_6 = np.array([[0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
                    [0.8414709848078965, 0.5403023058681398, 0.046399223464731285, 0.9989229760406304,
                     0.0021544330233656045, 0.9999976792064809],
                    [0.9092974268256817, -0.4161468365471424, 0.09269850077872725, 0.9956942241237399,
                     0.0043088560467428125, 0.9999907168366957]])


def _interleave(sin_part: np.ndarray, cos_part: np.ndarray) -> np.ndarray:
    out = np.empty((sin_part.shape[0], 2 * sin_part.shape[1]))
    out[:, 0::2], out[:, 1::2] = sin_part, cos_part
    return out


def _pe_mistakes(seq_len: int, d_model: int) -> list[tuple[np.ndarray, str]]:
    """Encodings that common mistakes produce, each with its advice (every one is a *wrong* formula)."""
    pos = np.arange(seq_len)[:, None].astype(np.float64)
    pair = np.arange(d_model // 2)[None, :].astype(np.float64)
    col = np.arange(d_model)[None, :].astype(np.float64)
    found = []
    with np.errstate(over="ignore", under="ignore"):
        angles = pos / 10000.0 ** pair  # the exponent is i, not 2i / d_model
        found.append((_interleave(np.sin(angles), np.cos(angles)),
                      "The exponent is i instead of 2i / d_model: the frequencies fall far too fast, so every "
                      "pair after the first is almost constant. Use pos / 10000 ** (2 * i / d_model)."))
        angles = pos / 10000.0 ** (col / d_model)  # each column uses its own index j / d_model
        found.append((_interleave(np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])),
                      "Each column used its own index in the exponent, 10000 ** (j / d_model). The sin and cos "
                      "of a pair share one frequency: columns 2i and 2i + 1 both use 10000 ** (2i / d_model)."))
        angles = pos / 10000.0 ** (2 * col / d_model)
        found.append((_interleave(np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])),
                      "The exponent used the column index j as if it were the pair index i, 10000 ** (2j / d_model). "
                      "Columns 2i and 2i + 1 form pair i and share the frequency 1 / 10000 ** (2i / d_model)."))
        angles = pos * 10000.0 ** (2 * pair / d_model)
        found.append((_interleave(np.sin(angles), np.cos(angles)),
                      "The position was multiplied by 10000 ** (2i / d_model) instead of divided by it: the "
                      "angle is pos / 10000 ** (2i / d_model), so the frequencies get slower along d_model."))
    return found


#: Absolute tolerance: an encoding computed in float32 is off by about 1e-5 at position 200.
_PE_TOL = 1e-4


class PositionalEncoding(Check):
    name = "positional_encoding"
    signature = "positional_encoding(seq_len, d_model)"
    expected_form = "an array of shape (seq_len, d_model)"
    public_cases = (
        Case({"seq_len": 3, "d_model": 6}, _PE_3_6, "seq_len = 3, d_model = 6"),
        Case({"seq_len": 4, "d_model": 4}, _PE_4_4, "seq_len = 4, d_model = 4"),
    )

    def secret_inputs(self, rng):
        return [{"seq_len": int(rng.integers(5, 30)), "d_model": 2 * int(rng.integers(2, 17))},
                {"seq_len": int(rng.integers(40, 100)), "d_model": 2 * int(rng.integers(8, 33))}]

    def hidden_inputs(self, rng):
        # One position, one sin/cos pair, and a long sequence with a wide model.
        return [{"seq_len": 1, "d_model": 2 * int(rng.integers(2, 9))},
                {"seq_len": int(rng.integers(5, 20)), "d_model": 2},
                {"seq_len": 200, "d_model": 128}]

    def run(self, subject, inputs):
        return np.asarray(subject(int(inputs["seq_len"]), int(inputs["d_model"])), dtype=np.float64)

    def compare(self, inputs, got, expected):
        seq_len, d_model = int(inputs["seq_len"]), int(inputs["d_model"])
        sig = f"positional_encoding({seq_len}, {d_model})"
        expected = np.asarray(expected, dtype=np.float64)
        shape = np.shape(got)
        if shape == (d_model, seq_len) and seq_len != d_model:
            return (f"{sig} returned shape {shape}, expected ({seq_len}, {d_model}): the encoding is transposed. "
                    "It has one row per position and one column per feature.")
        if _near(got, expected, _PE_TOL):
            return None
        got = np.asarray(got, dtype=np.float64)
        diagnoses = [
            (lambda g, e, i: _near(g, _interleave(e[:, 1::2], e[:, 0::2]), _PE_TOL),
             "sin and cos are swapped: sin goes in the even columns (0, 2, 4, ...) and cos in the odd ones."),
            (lambda g, e, i: _near(g, np.concatenate([e[:, 0::2], e[:, 1::2]], axis=1), _PE_TOL),
             "All the sines came first and all the cosines after. Interleave them: column 2i holds "
             "sin(angle_i) and column 2i + 1 holds cos(angle_i), e.g. pe[:, 0::2] = sin, pe[:, 1::2] = cos."),
            (lambda g, e, i: seq_len > 1 and _near(g[:-1], e[1:], _PE_TOL),
             "Positions start at 0, not 1: the first row is sin(0) = 0 and cos(0) = 1. Use np.arange(seq_len)."),
            *[(lambda g, e, i, wrong=wrong: _near(g, wrong, _PE_TOL), advice)
              for wrong, advice in _pe_mistakes(seq_len, d_model)],
        ]
        return compare_array(sig, got, expected, inputs, tol=_PE_TOL, diagnoses=diagnoses) or (
            f"{sig} differs from the expected encoding by more than 1e-4.")


# ----------------------------------------------------------------------- Exercise 3: encoder block
_X_E1 = np.array([[[0.5, -1.2, 0.3, 2.0], [1.1, 0.4, -0.7, -0.2], [-1.5, 0.8, 0.9, 0.1]]])
_X_E2 = np.array([[[0.2, -0.4, 1.3, 0.7, -1.1, 0.5], [-0.8, 1.6, 0.1, -0.3, 0.9, -1.2],
                   [1.4, 0.3, -0.6, 0.8, 0.0, -0.9], [-0.5, -1.3, 0.4, 1.9, 0.6, 0.2]]])
# The outputs below come from the reference block with every weight set by `_set_pattern_weights`.
_OUT_E1 = np.array([[[-0.15647906064987183, -1.4543914794921875, 0.27648845314979553, 1.3343819379806519],
                     [1.4656074047088623, 0.2045990228652954, -1.2878037691116333, -0.38240253925323486],
                     [-1.6153671741485596, 0.533117413520813, 1.0498020648956299, 0.03244771063327789]]])
_ZERO_E1 = np.array([[[0.08817210793495178, -1.4107537269592285, -0.0881720781326294, 1.4107537269592285],
                      [1.411551833152771, 0.3714609444141388, -1.2629673480987549, -0.5200454592704773],
                      [-1.6395597457885742, 0.7547180652618408, 0.8588171005249023, 0.02602474018931389]]])
_OUT_E2 = np.array([[[0.46978649497032166, -1.1754285097122192, 1.3721505403518677, 0.9453719854354858,
                      -1.204258918762207, -0.4076215326786041],
                     [-0.27843189239501953, 0.9485190510749817, 0.45545023679733276, 0.362021803855896,
                      0.5927090048789978, -2.080267906188965],
                     [1.755110740661621, -0.5404266715049744, -0.17046529054641724, 0.7419068217277527,
                      -0.41941383481025696, -1.3667118549346924],
                     [-0.12963426113128662, -1.6716442108154297, 0.36256545782089233, 1.7031595706939697,
                      0.10930126905441284, -0.3737477958202362]]])
_ZERO_E2 = np.array([[[1.4906108347645386e-08, -0.7742089629173279, 1.41938316822052, 0.6451741456985474,
                       -1.6774529218673706, 0.3871045410633087],
                      [-0.8845420479774475, 1.6129883527755737, 0.05203188955783844, -0.3642231822013855,
                       0.8845419883728027, -1.3007971048355103],
                      [1.5711925029754639, 0.16985870897769928, -0.9766873121261597, 0.8068286776542664,
                       -0.21232329308986664, -1.3588693141937256],
                      [-0.7267807722091675, -1.5380709171295166, 0.18592064082622528, 1.7070896625518799,
                       0.38874322175979614, -0.016901886090636253]]])


# ----------------------------------------------------------------------- models reported by a kernel
#: The operators + - * / between tensors are rebuilt by model_data.rebuild_model (see its _OPERATORS).
_rebuild = rebuild_model


def _rejected(exc: Exception) -> str:
    """A ModelRejected message without the exception Keras raised inside the grader while reading the config:
    the student learns that the configuration cannot be read, not the grader's traceback vocabulary."""
    import re

    text = re.sub(r" \([A-Z]\w*(?:Error|Exception): .*?\)(?=;|$)", " (Keras cannot read it)", str(exc).rstrip("."))
    return re.sub(r" \([A-Z]\w*(?:Error|Exception): [^)]*$", " (Keras cannot read it)", text)


def _pattern(tag: int, shape: tuple) -> np.ndarray:
    """The same weights for the same tag and shape, in every process: no dependence on creation order."""
    rng = np.random.default_rng([tag, *[int(s) for s in shape]])
    return (rng.normal(0.0, 1.0, shape) * 0.6 / np.sqrt(max(1, shape[0]))).astype("float32")


def _set_pattern_weights(layers, keras, zero: bool = False) -> None:
    for layer in layers:
        if isinstance(layer, keras.layers.MultiHeadAttention):
            weights = layer.get_weights()
            layer.set_weights([np.zeros_like(w) if zero else _pattern(100 + k, w.shape) for k, w in enumerate(weights)])
        elif isinstance(layer, keras.layers.Dense):
            weights = layer.get_weights()
            layer.set_weights([np.zeros_like(w) if zero else _pattern(200 + w.ndim, w.shape) for w in weights])


def _block_facts(model, x: np.ndarray) -> dict:
    """What the encoder-block check looks at, computed here from a rebuilt model and the grader's x."""
    import keras

    layers = all_layers(model)
    facts = {
        "mha": [[int(layer.get_config()["num_heads"]), int(layer.get_config()["key_dim"])]
                for layer in layers if isinstance(layer, keras.layers.MultiHeadAttention)],
        "n_layernorm": sum(isinstance(layer, keras.layers.LayerNormalization) for layer in layers),
        # Dense(ff_dim) followed by an Activation("relu") or ReLU layer is Dense(ff_dim, activation="relu").
        "dense": [[int(layer.units), activation] for layer, activation in with_activations(layers)
                  if isinstance(layer, keras.layers.Dense)],
        "n_params": int(model.count_params()),
    }
    _set_pattern_weights(layers, keras)
    facts["outputs"] = predict(model, x)
    facts["output_shape"] = [int(s) for s in facts["outputs"].shape]
    # Self-attention over the whole sequence: a change at the last position reaches every earlier output.
    later = x.copy()
    later[:, -1, :] += 1.0
    moved = predict(model, later)
    facts["sees_later_positions"] = bool(moved.shape == facts["outputs"].shape and x.shape[1] > 1 and not np.allclose(
        moved[:, :-1], facts["outputs"][:, :-1], atol=1e-6))
    _set_pattern_weights(layers, keras, zero=True)
    facts["zeroed"] = predict(model, x)
    return facts


def _block_inputs(x: np.ndarray, num_heads: int, ff_dim: int, public: bool = False) -> dict:
    """The kernel sees the block's sizes; the batch `_x` the grader runs the block on stays with the grader."""
    x = np.asarray(x, dtype=np.float64)
    inputs = {"seq_len": int(x.shape[1]), "d_model": int(x.shape[2]), "num_heads": num_heads, "ff_dim": ff_dim, "_x": x}
    if public:
        inputs["_public"] = True  # messages may quote these sizes; the grader's own sizes are never quoted
    return inputs


class EncoderBlock(Check):
    """The kernel wraps the student's block in a keras.Model and reports the model (config and weights).
    Its layers, parameter count and outputs under the check's fixed weights are computed by the grader.

    Three separable requirements, each a third of the points: the layers and their settings; the residual
    connections in the post-norm places (seen with the sub-layers' weights set to zero); and the outputs under
    the check's fixed weights, which only match when the layers are also wired in the right order."""
    name = "encoder_block"
    signature = "encoder_block(x, num_heads, ff_dim)"
    expected_form = "the block's output tensor, a Keras tensor of shape (batch, seq_len, d_model)"
    public_cases = (
        Case(_block_inputs(_X_E1, 2, 8, public=True),
             {"output_shape": [1, 3, 4], "n_params": 172, "outputs": _OUT_E1, "zeroed": _ZERO_E1},
             "d_model = 4, num_heads = 2, ff_dim = 8"),
        Case(_block_inputs(_X_E2, 3, 10, public=True),
             {"output_shape": [1, 4, 6], "n_params": 328, "outputs": _OUT_E2, "zeroed": _ZERO_E2},
             "d_model = 6, num_heads = 3, ff_dim = 10"),
    )

    def secret_inputs(self, rng):
        heads = int(rng.integers(1, 4))
        d_model = heads * int(rng.integers(2, 5))
        ff_dim = d_model * 2 + int(rng.integers(1, 5))
        return [_block_inputs(rng.normal(0, 1, (2, int(rng.integers(3, 7)), d_model)), heads, ff_dim)]

    def hidden_inputs(self, rng):
        # One head, and a wide feed-forward layer with four heads.
        return [_block_inputs(rng.normal(0, 1, (1, 5, 6)), 1, 9), _block_inputs(rng.normal(0, 2, (3, 4, 8)), 4, 32)]

    def run(self, subject, inputs):
        import keras

        tokens = keras.Input(shape=(int(inputs["seq_len"]), int(inputs["d_model"])))
        out = subject(tokens, num_heads=int(inputs["num_heads"]), ff_dim=int(inputs["ff_dim"]))
        if not isinstance(out, keras.KerasTensor):
            return {"is_tensor": False, "kind": type(out).__name__}
        return {"is_tensor": True, "model": report_model(keras.Model(tokens, out))}

    def error_advice(self, inputs, error, detail):
        if "value" in detail and ("missing" in detail or "required" in detail):
            return ("A MultiHeadAttention layer is called with a query and a value: for self-attention both are "
                    "x, mha(x, x).")
        if "key_dim" in detail:
            return "Create the layer with keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=d_model // num_heads)."
        return ""

    def compare(self, inputs, got, expected):
        x = np.asarray(inputs["_x"], dtype=np.float64)
        d_model, heads, ff_dim = x.shape[-1], int(inputs["num_heads"]), int(inputs["ff_dim"])
        public = bool(inputs.get("_public"))
        sig = (f"encoder_block(x, num_heads={heads}, ff_dim={ff_dim}) with d_model = {d_model}" if public
               else "encoder_block(x, num_heads, ff_dim)")
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_tensor"):
            return (f"{sig} returned a {str(got.get('kind'))[:60]}; it should return the output tensor of the block, "
                    "the result of calling the last LayerNormalization on h + ffn.")
        try:
            facts = _block_facts(_rebuild(got.get("model")), x)
        except ModelRejected as exc:
            return f"The block built by {sig} cannot be checked: {_rejected(exc)}."
        except Exception as exc:  # noqa: BLE001 - a rebuilt block that cannot run on x is the student's to fix
            shape = f" of shape {list(x.shape)}" if public else ""
            return f"The block built by {sig} cannot run on a batch{shape}: {type(exc).__name__}: {one_line(exc, 200)}."
        if isinstance(expected, dict) and "model" in expected:  # the reference's report: measured the same way
            expected = _block_facts(_rebuild(expected["model"]), x)
        return self._compare_facts(sig, public, x, heads, ff_dim, facts, expected)

    @staticmethod
    def _layers_message(sig, public, d_model, heads, ff_dim, got, expected) -> str | None:
        """What is wrong with the block's layers and their settings, or None."""
        mha = got["mha"]
        if len(mha) != 1:
            return (f"{sig} contains {len(mha)} MultiHeadAttention layers; the block has exactly one, used for "
                    "self-attention: mha(x, x).")
        if mha[0] != [heads, d_model // heads]:
            found = (f" It has num_heads={mha[0][0]}, key_dim={mha[0][1]}; expected num_heads={heads}, "
                     f"key_dim={d_model // heads}." if public else "")
            return (f"{sig}: the MultiHeadAttention must have num_heads=num_heads and key_dim=d_model // num_heads."
                    f"{found} Each head works in d_model // num_heads dimensions, so the heads together cost about as "
                    "much as one full-width head.")
        if got["n_layernorm"] != 2:
            return (f"{sig} contains {got['n_layernorm']} LayerNormalization layers, expected 2: one after "
                    "the attention's residual addition and one after the feed-forward's.")
        dense = got["dense"]
        if sorted(dense) != sorted([[ff_dim, "relu"], [d_model, "linear"]]):  # the order is judged by the outputs
            activations = sorted(a for _, a in dense)
            units = sorted(u for u, _ in dense)
            if len(dense) == 2 and units == sorted([ff_dim, d_model]) and activations != ["linear", "relu"]:
                what = "the activations are wrong"
            elif len(dense) == 2 and activations == ["linear", "relu"]:
                what = "the units are wrong"
            else:
                what = f"it has {len(dense)} Dense layers" if len(dense) != 2 else "their units and activations differ"
            found = f" Found [units, activation]: {dense}." if public else ""
            return (f"{sig}: the feed-forward part is Dense(ff_dim, activation='relu') followed by Dense(d_model) with "
                    f"no activation, and {what}.{found}")
        if got["n_params"] != expected["n_params"]:
            found = f" ({got['n_params']}, expected {expected['n_params']})" if public else ""
            return (f"{sig} has a different number of parameters from the block asked for{found}, with the right "
                    "layer types and sizes: keep the biases (use_bias=True, the default) and MultiHeadAttention's "
                    "default value_dim and output_shape.")
        return None

    @staticmethod
    def _residual_message(sig, x, got, expected) -> str | None:
        """What is wrong with the residual connections (seen with the sub-layers' weights at zero), or None."""
        zeroed = got["zeroed"]
        if zeroed.shape == x.shape and np.allclose(zeroed, 0.0, atol=1e-5):
            return (f"{sig}: with the attention and feed-forward weights set to zero the block outputs all zeros, "
                    "so the input never reaches the output: a residual connection is missing. Add each "
                    "sub-layer's input to its output before normalising, LayerNormalization()(x + attention) "
                    "and LayerNormalization()(h + ffn).")
        if zeroed.shape == x.shape and np.allclose(zeroed, x, atol=1e-5):
            return (f"{sig}: with the attention and feed-forward weights set to zero the block returns x "
                    "unchanged, which means the normalisation sits inside the residual branches (pre-norm). This "
                    "exercise builds the original post-norm block: h = LayerNorm(x + attention(x)), then "
                    "LayerNorm(h + ffn(h)).")
        if not _near(zeroed, expected["zeroed"], 5e-3):
            return (f"{sig}: with the attention and feed-forward weights set to zero, the post-norm block outputs "
                    "LayerNorm(LayerNorm(x)), and this one does not: each sub-layer's input must be added to its "
                    "output, and the sum normalised, h = LayerNorm(x + attention), out = LayerNorm(h + ffn).")
        return None

    def _compare_facts(self, sig, public, x, heads, ff_dim, got, expected):
        d_model = x.shape[-1]
        if got["output_shape"] != list(expected["output_shape"]):
            shapes = f" maps inputs of shape {list(x.shape)} to {got['output_shape']};" if public else \
                " changes the shape of its input;"
            return (f"{sig}{shapes} the block must keep the shape (batch, seq_len, d_model), so the second Dense "
                    "layer has d_model units.")
        layers = self._layers_message(sig, public, d_model, heads, ff_dim, got, expected)
        residual = self._residual_message(sig, x, got, expected)
        # LayerNormalization's epsilon (1e-3 in Keras, 1e-6 in many tutorials) moves the outputs by about 1e-3.
        outputs_ok = _near(got["outputs"], expected["outputs"], 5e-3)
        if outputs_ok and layers is None and residual is None:
            return None
        if outputs_ok:
            outputs = None
        elif layers is None and residual is None and not got.get("sees_later_positions", True):
            outputs = (f"{sig}: with the check's fixed weights its outputs differ from the reference block's, and the "
                       "output at a position never changes when a later position changes: the attention is masked "
                       "(use_causal_mask=True or an attention_mask). An encoder block attends over the whole "
                       "sequence: call mha(x, x) with no mask.")
        elif layers is None and residual is None:
            outputs = (f"{sig}: with the check's fixed weights its outputs differ from the reference block's although "
                       "its layers and residual connections are right, so the layers are right but not their order: "
                       "attention on the block's input, mha(x, x), add x, normalise; then the feed-forward layers on "
                       "that result, add their input, normalise.")
        else:
            outputs = "(With those differences its outputs under the check's fixed weights cannot match the reference block's.)"
        return Partial(sum(m is None for m in (layers, residual, outputs)), 3,
                       " ".join(m for m in (layers, residual, outputs) if m))


# ----------------------------------------------------------------------- Exercise 4: the trained transformer
#: The notebook's training data: make_window_max_data(2000, seed=0) in the exercise's data cell.
TRAINING_SEED, N_TRAINING = 0, 2000
#: Layers that work on each position separately (or, for MultiHeadAttention, mix positions by attention):
#: anything else (Flatten, Reshape, Conv1D, pooling, recurrent layers) would let positions mix another way.
_POSITION_WISE = frozenset({"InputLayer", "Embedding", "MultiHeadAttention", "LayerNormalization", "Dense",
                            "EinsumDense", "Dropout", "Add", "Subtract", "Multiply", "Average", "Activation", "ReLU",
                            "Identity", "Rescaling"})
#: How far an earlier prediction may move when later tokens change (float noise of a causal model is 0).
_CAUSAL_TOLERANCE = 1e-5


def window_max_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The task of Exercise 4: random token sequences and, at each position, the largest of the last WINDOW tokens."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, TASK_VOCAB, (n, TASK_SEQ_LEN))
    y = np.stack([X[:, max(0, t - WINDOW + 1):t + 1].max(axis=1) for t in range(TASK_SEQ_LEN)], axis=1)
    return X, y


def _task_case(n: int, seed: int) -> dict:
    """`n` sequences none of which the notebook trains on, in grader-only keys: the kernel sees no input at all."""
    X, y = window_max_data(n + 64, seed)
    seen = {row.tobytes() for row in window_max_data(N_TRAINING, TRAINING_SEED)[0]}
    keep = np.array([row.tobytes() not in seen for row in X])
    return {"_X": X[keep][:n], "_labels": y[keep][:n]}


def _later_tokens_changed(X: np.ndarray, cut: int) -> np.ndarray:
    """X with every token after position `cut` replaced by another one (so each sequence really changes)."""
    changed = X.copy()
    changed[:, cut + 1:] = (changed[:, cut + 1:] + 1 + np.arange(X.shape[1] - cut - 1)) % TASK_VOCAB
    return changed


class TrainedTransformer(Check):
    """Judged on sequences the kernel never sees: the model train_transformer returned must follow the
    statement's rules (layers, budget, outputs, causality) and get 90% of the tokens right.

    The kernel reports the model (config and weights); the grader rebuilds it and computes every fact and
    every prediction on sequences drawn here, none of them in the notebook's training data."""
    name = "trained_transformer"
    signature = "train_transformer(X_train, y_train, vocab_size)"
    expected_form = "the trained keras.Model"
    public_cases = (Case(_task_case(200, 12_000), None, "200 new sequences"),)

    def secret_inputs(self, rng):
        return [_task_case(400, int(rng.integers(20_000, 10**9)))]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped) is reported as {"is_model": False, ...}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            kind = str(got.get("kind"))[:60]
            if kind == "NoneType":
                return ("transformer_model is None: train_transformer (or a function it uses) is not implemented yet, "
                        "or the training cell stopped with an error. Finish Exercises 2 to 4 and fix any error that "
                        "cell shows.")
            if kind == "History":
                return ("train_transformer returned a History, what model.fit returns, instead of the model: "
                        "train the model with model.fit(...) and then `return model`.")
            return f"train_transformer returned a {kind}, not a keras.Model: return the trained model."
        X = np.asarray(inputs["_X"]).astype("int32")
        labels = np.asarray(inputs["_labels"])
        n, t = X.shape
        try:
            model = _rebuild(got)
        except ModelRejected as exc:
            return f"The model train_transformer returned cannot be checked: {_rejected(exc)}."
        kinds = [type(layer).__name__ for layer in all_layers(model)]
        mixing = sorted(set(kinds) - _POSITION_WISE)
        if mixing:
            return (f"The model uses {', '.join(mixing)}: positions may exchange information only through attention "
                    "(rule 3). Build it from Embedding, MultiHeadAttention, LayerNormalization, Dense and Dropout "
                    "layers and + between tensors; a Dense layer on a (batch, seq_len, d) tensor works on each "
                    "position separately, so no Flatten or Reshape is needed.")
        if "MultiHeadAttention" not in kinds:
            return ("The model has no MultiHeadAttention layer, so its positions never exchange information: the "
                    "largest of the last three tokens needs each position to look at its neighbours, through "
                    "causal self-attention.")
        n_params = int(model.count_params())
        if n_params > PARAM_BUDGET:
            return (f"The model has {n_params:,} parameters, more than the budget of {PARAM_BUDGET:,} (rule 4). Count "
                    "each part: Embedding(V, d) has V * d; a MultiHeadAttention with num_heads * key_dim = d has "
                    "4 * (d * d + d); Dense(u) on d inputs has d * u + u; each LayerNormalization 2 * d. A smaller "
                    "d_model or ff_dim brings it within the budget.")
        try:
            probabilities = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot read token sequences is the student's to fix
            return (f"The model cannot read a batch of {n} sequences of {t} integer tokens: "
                    f"{type(exc).__name__}: {one_line(exc, 200)}.")
        want = [n, t, TASK_VOCAB]
        if list(probabilities.shape) != want:
            return (f"The model maps {n} sequences of {t} tokens to outputs of shape {list(probabilities.shape)}, "
                    f"expected {want} (rule 1): one softmax over the {TASK_VOCAB} tokens at every position, "
                    "Dense(vocab_size, activation='softmax') on a (batch, seq_len, d) tensor.")
        if not is_probabilities(probabilities.reshape(-1, TASK_VOCAB)):
            return ("The model's outputs are not probabilities: at each position they should be non-negative and sum "
                    "to 1 (rule 1). End with Dense(vocab_size, activation='softmax'), and train it with "
                    "sparse_categorical_crossentropy.")
        probe = X[: min(n, 100)]
        base = probabilities[: len(probe)]
        leaks = []
        for cut in range(t - 1):
            moved = predict(model, _later_tokens_changed(probe, cut))
            leaks.append(float(np.max(np.abs(moved[:, : cut + 1] - base[:, : cut + 1]))))
        if max(leaks) > _CAUSAL_TOLERANCE:
            first = int(np.argmax(np.asarray(leaks) > _CAUSAL_TOLERANCE))
            return (f"Changing the tokens after position {first} changes the model's predictions at positions 0 to "
                    f"{first} (probabilities move by up to {max(leaks):.2g}): the model looks ahead, and rule 2 asks "
                    "for a causal model. Make the attention causal, mha(x, x, use_causal_mask=True), so that position "
                    "t attends only to positions 0 .. t.")
        pred = probabilities.argmax(axis=-1).astype(np.int64)
        accuracy = float(np.mean(pred == labels))
        if accuracy >= ACCURACY_THRESHOLD:
            return None
        shown = (f"The trained model gets {accuracy:.1%} of the output tokens right on {n} new sequences; at least "
                 f"{ACCURACY_THRESHOLD:.0%} is needed (rule 5). It meets rules 1 to 4.")
        swapped = X.copy()
        swapped[:, [0, 1]] = X[:, [1, 0]]
        differ = X[:, 0] != X[:, 1]
        if differ.any():
            moved = predict(model, swapped[differ])
            if np.max(np.abs(moved[:, 2:] - probabilities[differ][:, 2:])) <= _CAUSAL_TOLERANCE:
                return (f"{shown} Swapping the first two tokens never changes anything the model predicts at later "
                        "positions, so it cannot tell the order of the earlier tokens, and the window of the last "
                        "three is a question of order: attention alone ignores it. Add a positional encoding to the "
                        "token embeddings.")
        return (f"{shown} So what is short is what it learned from training: compare with the validation accuracy "
                "the training cell printed.")


CHECKS = CheckSet("12_attention", [Attention(), PositionalEncoding(), EncoderBlock(), TrainedTransformer()])
attention = CHECKS["attention"]
positional_encoding = CHECKS["positional_encoding"]
encoder_block = CHECKS["encoder_block"]
trained_transformer = CHECKS["trained_transformer"]
