"""Checks for 11_rnn: one step of a SimpleRNN and of an LSTM cell in numpy, an LSTM over a whole sequence, a
Keras forecaster whose draft has five bugs to fix, and a recurrent forecaster of the student's own design, within
a parameter budget, that must beat the naive "repeat the last value" forecast by a stated margin.

Nothing here computes an RNN or an LSTM. The expected values of the public cases are literals, worked out
once offline (and checked against keras.layers.SimpleRNN and keras.layers.LSTM given the same weights);
so are the outputs of the common mistakes on those cases, kept under the grader-only key "_mistakes" so
that a message can name the mistake. At grading time the expected values come from the reference notebook.

Keras's weight layout, which the exercise states:
  SimpleRNN: kernel W (n_in, units), recurrent_kernel U (units, units), bias b (units,)
  LSTM:      kernel W (n_in, 4*units), recurrent_kernel U (units, 4*units), bias b (4*units,),
             the columns in four blocks of `units`: input gate i, forget gate f, candidate c~, output gate o.

Stated rules (part / rule / how it is checked). Found 33, checked 29, 4 suggestions only
(found/checked: Ex1 4/4, Ex2 7/7, Ex3 4/3, Ex4 9/9, Ex5 9/6).
  Ex1 rnn_cell_step / returns (batch, units) / compare_array's shape message
  Ex1 / h_t = tanh(x_t W + h_prev U + b) / values; "pass it through tanh", "uses tanh" messages
  Ex1 / the recurrent term h_prev @ U, U as Keras stores it / "recurrent term is missing", "U is transposed"
  Ex1 / the bias b / "bias b is missing"
  Ex2 lstm_cell_step / returns the pair (h_t, c_t), in that order / "return the pair", "swapped", "exactly two"
  Ex2 / the blocks in the order i, f, c~, o / "wrong order ... matches the order ..."
  Ex2 / sigmoid gates / "The gates use tanh", "The ... gate uses tanh"
  Ex2 / tanh candidate / "The candidate c~ went through a sigmoid"
  Ex2 / c_t = f * c_prev + i * c~ / "old cell state is not carried"
  Ex2 / h_t = o * tanh(c_t) / "squash the new cell state", "c_t is right but h_t is not"
  Ex2 / the gates see h_prev too / "recurrent term is missing"
  Ex3 lstm_forward / starts from h = c = 0 / values; "Already the first step is wrong"
  Ex3 / carries h and c from step to step / "reset at every step", "not carried", "trade places"
  Ex3 / returns every hidden state, (batch, steps, units) / "last hidden state only", "steps are on the first axis"
  Ex3 / call lstm_cell_step at each step / suggestion only
  Ex4 build_forecaster / returns a compiled keras.Model / "returned None", "not a keras.Model", "not compiled"
  Ex4 / keeps the draft's Input: windows (batch, window, 1) / "cannot read a batch of windows", "keras.Input(shape="
  Ex4 / keeps the draft's single LSTM layer / "keeps the draft's single keras.layers.LSTM(units)"
  Ex4 / the LSTM has units units / "give the LSTM `units` units"
  Ex4 / reads in time order (bug: go_backwards) / "reads each window backwards" (a fifth of the points)
  Ex4 / one forecast per window from the last state (bug: return_sequences) / "one output per step", "after every
        step" (a fifth)
  Ex4 / any real number: a linear read-out (bug: relu) / "can never be negative", "between ..." (a fifth)
  Ex4 / the mean squared error (bug: binary cross-entropy) / "not on the mean squared error" (a fifth)
  Ex4 / Adam at learning rate 0.01 (bug: optimizer="adam") / "learning rate 0.001", "The optimizer is" (a fifth)
  Ex5 build_and_train_forecaster / returns the trained model / "returned a History", "is None"
  Ex5 / a recurrent layer (LSTM, GRU or SimpleRNN) / "no recurrent layer" (its presence; which layer reads the
        input is not traced)
  Ex5 / Keras's own layers, Sequential or Functional / the grader's rebuild refuses anything else
  Ex5 / at most 2,000 parameters / "more than the 2,000 the statement allows"
  Ex5 / takes (batch, 24, 1), gives one forecast per window / "cannot read windows", "one forecast per window"
  Ex5 / MSE at most 25% of the naive forecast's on fresh windows / the grader's windows from a seed of the run; the
        build named as the cause when the model itself shows it (a bounded read-out, a cross-entropy loss)
  Ex5 / learns only from the arrays it is given / suggestion only: judged on fresh windows, which it cannot see
  Ex5 / compare choices on the validation windows / suggestion only
  Ex5 / training under about 30 s / suggestion only (the grader's cell timeout is 120 s)
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .compare import close, compare_array, fmt, within_scale
from .core import Case, Check, CheckSet, Partial
from .core import requirements as core_requirements
from .model_data import (ModelRejected, activation_name, all_layers, call_failure, compile_summary, predict,
                         rebuild_model, rel_close, report_model)


# ----------------------------------------------------------------------------- data for Exercise 5
def noisy_waves(n_series: int, window: int = 24, seed: int = 0, noise: float = 0.1):
    """Windows of noisy waves and the value that follows each: X of shape (n, window, 1), y of shape (n,).

    Each series is its own sum of two sines (random amplitude, frequency and phase) plus Gaussian noise,
    so a model must read the rhythm of the window rather than memorise one curve.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(window + 1)
    amp1, amp2 = rng.uniform(0.5, 1.5, (n_series, 1)), rng.uniform(0.0, 0.5, (n_series, 1))
    freq = rng.uniform(0.25, 0.6, (n_series, 1))  # radians per step: a period of 10 to 25 steps
    phase1, phase2 = rng.uniform(0, 2 * np.pi, (n_series, 1)), rng.uniform(0, 2 * np.pi, (n_series, 1))
    series = (amp1 * np.sin(freq * t + phase1) + amp2 * np.sin(2.3 * freq * t + phase2)
              + noise * rng.normal(size=(n_series, window + 1)))
    return series[:, :window, None].astype("float32"), series[:, window].astype("float32")


# ----------------------------------------------------------------------------- shared helpers
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _atanh(values):
    return np.arctanh(np.clip(values, -1 + 1e-12, 1 - 1e-12))


def _mistake(key: str):
    """A diagnosis test: the answer equals the literal output of mistake `key` (public cases carry them)."""
    def test(got, exp, inp):
        mistakes = inp.get("_mistakes") or {}
        return key in mistakes and close(got, mistakes[key], 1e-4)
    return test


def _pair_mistake(key: str):
    def test(got_h, got_c, inp):
        mistakes = inp.get("_mistakes") or {}
        if key not in mistakes:
            return False
        h, c = mistakes[key]
        return close(got_h, h, 1e-4) and close(got_c, c, 1e-4)
    return test


def _near(got, expected, tol: float = 1e-5) -> bool:
    """Equal up to float32 rounding (hidden and cell states are bounded): see within_scale."""
    return within_scale(got, expected, tol)


def _case_inputs(case: dict, mistakes: dict) -> dict:
    return {**case, "_mistakes": mistakes}


# Public cases: (inputs, expected output, outputs of common mistakes), worked out once offline; the expected
# values agree with keras.layers.SimpleRNN / keras.layers.LSTM given the same weights (initial_state = h_prev, c_prev).
_RNN_CASES = [
    (dict(x_t=np.array([[1.0, -0.5], [0.0, 2.0]]), h_prev=np.array([[0.1, -0.2, 0.3], [0.5, 0.0, -0.4]]), W=np.array([[0.5, -0.3, 0.8], [0.2, 0.4, -0.6]]), U=np.array([[0.3, -0.1, 0.2], [0.6, 0.5, -0.4], [-0.7, 0.2, 0.1]]), b=np.array([0.1, -0.2, 0.05])),
     np.array([[0.19737532022490403, -0.6351489523872873, 0.8564849154724974], [0.7305938960959438, 0.43819931483276775, -0.7968781442047266]]),
     {'no_recurrent': np.array([[0.46211715726000974, -0.6043677771171634, 0.8177540779702878], [0.46211715726000974, 0.5370495669980353, -0.8177540779702877]]), 'no_bias': np.array([[0.09966799462495585, -0.5005202111902353, 0.8425793256589296], [0.6804760061126619, 0.5849798828807288, -0.814414093765686]]), 'U_transposed': np.array([[0.5441270988535675, -0.6962576726866815, 0.7894612209549805], [0.5153592780074097, 0.7856638590269437, -0.9121203692077173]])}),
    (dict(x_t=np.array([[0.3, -1.2, 0.7]]), h_prev=np.array([[-0.6, 0.9]]), W=np.array([[0.4, -0.5], [0.1, 0.3], [-0.8, 0.6]]), U=np.array([[0.5, -0.7], [0.9, 0.2]]), b=np.array([-0.3, 0.25])),
     np.array([[-0.33637554433633227, 0.6410769611853463]]),
     {'no_recurrent': np.array([[-0.6962576726866815, 0.15864850429749885]]), 'no_bias': np.array([[-0.04995837495788001, 0.4699451989330375]]), 'U_transposed': np.array([[-0.9457605655964739, -0.19737532022490406]])}),
]

_LSTM_CASES = [
    (dict(x_t=np.array([[1.0, -0.5], [0.2, 0.8]]), h_prev=np.array([[0.3, -0.4], [-0.1, 0.6]]), c_prev=np.array([[0.5, -1.0], [1.2, 0.2]]), W=np.array([[0.0, 0.8, 0.7, -0.3, -0.2, -0.3, 0.3, -0.0], [0.4, -1.1, 0.9, -0.1, 0.4, -0.1, -0.2, 0.3]]), U=np.array([[0.5, -0.1, -0.1, 0.4, -0.5, -0.9, 0.2, -0.4], [-1.2, -0.5, -0.3, -0.7, -0.9, 0.0, 0.5, -0.1]]), b=np.array([-0.3, 0.2, 0.3, -0.1, 0.2, 0.4, -0.1, -0.3])),
     (np.array([[0.1732833819291839, -0.20259398945407112], [0.3651549796723334, 0.08079171201184582]]), np.array([[0.3327010958893631, -0.6137871322178078], [0.871697400747078, 0.16992927865283594]])),
     {'order_fico': (np.array([[0.1437278211759707, -0.2670733635774024], [0.18756221880878368, 0.08231246711838737]]), np.array([[0.2727744695572987, -0.909335015911356], [0.3776949247856221, 0.1731916178940266]])),
      'order_ifoc': (np.array([[0.19599619914377947, -0.34212079674490253], [0.35648330027093833, 0.02449675065979712]]), np.array([[0.4118498096182699, -0.9241630960424057], [0.900516597189929, 0.041783618383266746]])),
      'order_icfo': (np.array([[0.27106021496323235, -0.14945462301544354], [0.35660733993081145, -0.03295150285028381]]), np.array([[0.5520331891726807, -0.4276648098167972], [0.8399779910504438, -0.06875557869716378]])),
      'tanh_gates': (np.array([[0.04384493541709806, 0.07793437747035561], [0.05776578728059873, 0.026576833119871156]]), np.array([[0.28374245917003543, -0.16196482322677094], [0.9151860668758554, -0.34610734348500277]])),
      'tanh_i': (np.array([[0.17132831746876664, -0.20536123809227644], [0.3676576180631311, -0.07562474717584834]]), np.array([[0.3286694130500825, -0.6245038447531014], [0.8812567846351916, -0.1588713424952033]])),
      'tanh_f': (np.array([[0.15122197897656228, -0.055616530245445946], [0.37388615341585363, -0.008306581888829686]]), np.array([[0.287774142009316, -0.15124811069147737], [0.9056266829877417, -0.017306722336963523]])),
      'tanh_o': (np.array([[0.050917561543625145, 0.2654002954452558], [0.05605929865466167, -0.013436334347427028]]), np.array([[0.3327010958893631, -0.6137871322178078], [0.871697400747078, 0.16992927865283594]])),
      'sigmoid_candidate': (np.array([[0.28800983761331944, -0.04200069673810172], [0.4033622209344272, 0.11619827195069597]]), np.array([[0.5949350081701001, -0.11384635466775789], [1.0345141106631202, 0.24697642272450843]])),
      'no_carry': (np.array([[0.0028746770662436134, -0.03740173599283916], [-0.0016681752366567086, 0.04953620050796907]]), np.array([[0.005324365586203514, -0.10128973573359745], [-0.003208106072089892, 0.10356683308646916]])),
      'no_recurrent': (np.array([[0.1366618463856987, -0.11005471246942071], [0.36646257255029513, 0.08771805405112554]]), np.array([[0.24255058510344202, -0.29056511238193633], [1.138952206616166, 0.182871927502887]]))}),
    (dict(x_t=np.array([[0.3, 0.2, 1.1]]), h_prev=np.array([[-0.6, -0.3, -0.4]]), c_prev=np.array([[-1.7, 0.1, 0.5]]), W=np.array([[-0.4, 0.8, 0.5, 0.4, 0.2, 0.6, -0.8, 0.4, 0.4, -1.1, 0.2, -0.2], [0.5, -0.3, -0.0, 0.2, -0.5, 0.4, -0.1, 0.3, -0.3, 0.7, 0.4, -0.1], [0.4, 0.8, 1.1, -0.9, 0.5, 0.3, -0.1, -0.6, 0.8, -0.8, 0.3, 0.8]]), U=np.array([[-1.0, -0.2, -0.8, 0.1, 0.9, 1.2, -1.1, -0.3, 0.4, 0.9, 0.3, -0.4], [0.2, -0.0, -0.1, -0.4, 0.2, 0.2, -0.1, -0.1, -0.8, -0.3, 0.7, -0.1], [-0.9, 0.8, 0.3, 1.3, 0.0, -0.3, -0.9, 0.8, 1.5, -0.5, -0.4, 0.4]]), b=np.array([-0.3, -0.1, -0.1, 0.1, 0.4, 0.0, 0.4, -0.2, 0.1, -0.9, -0.6, 0.3])),
     (np.array([[0.018056516668632533, -0.1529401975113653, 0.4072110547239263]]), np.array([[0.18643941146647908, -0.39092092889533847, 0.5882561917749785]])),
     {'order_fico': (np.array([[-0.07713617652151039, -0.12409941929519015, 0.4240138585810142]]), np.array([[-1.0644326418525039, -0.3116910952598413, 0.6190319229536023]])),
      'order_ifoc': (np.array([[-0.6013782754280527, -0.0548426255437848, 0.44808009465221427]]), np.array([[-1.114375556836058, -0.1775243450014046, 0.943136506626177]])),
      'order_icfo': (np.array([[-0.09350602646553045, 0.09519430233448625, 0.18540067992460257]]), np.array([[-1.879492481745748, 0.23592080485200634, 0.2455028674359327]])),
      'tanh_gates': (np.array([[-0.9430782246475365, 0.12880754434171515, 0.2808995743086117]]), np.array([[2.0226415176732404, -0.39204715427240044, 0.3492738475396956]])),
      'tanh_i': (np.array([[0.020662013640382063, -0.14346015880124482, 0.4274583956740854]]), np.array([[0.2141172503462651, -0.3644023378739612, 0.6254703638647152]])),
      'tanh_f': (np.array([[0.09440960027044049, -0.1626255202962697, 0.23286884406304859]]), np.array([[1.9949636787934546, -0.41856574529377766, 0.31205967544995883]])),
      'tanh_o': (np.array([[-0.1800113414609516, 0.1284727426734693, 0.44230248221750046]]), np.array([[0.18643941146647908, -0.39092092889533847, 0.5882561917749785]])),
      'sigmoid_candidate': (np.array([[0.014788389827191792, 0.10848666793471459, 0.48995086495113294]]), np.array([[0.15211243260832047, 0.2703858145925383, 0.7515166283992767]])),
      'no_carry': (np.array([[0.05141674154296611, -0.17291341764213936, 0.25706003575793185]]), np.array([[0.5829796022779564, -0.4486094550085431, 0.3470026206081733]])),
      'no_recurrent': (np.array([[-0.060052041244902585, -0.15993566296236447, 0.5473217389396015]]), np.array([[-0.5369368830171374, -0.35644055671551467, 0.9276776856411887]]))}),
]

_FORWARD_CASES = [
    (dict(X=np.array([[[1.0, 0.0], [0.5, -1.0], [-0.5, 0.5], [0.0, 1.0]], [[0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [0.5, 0.5]]]), W=np.array([[-0.4, 0.3, 0.3, 0.8, 0.5, 0.6, -0.1, -0.4], [-0.4, -0.3, -0.7, -0.3, -0.1, 0.2, -0.2, -1.2]]), U=np.array([[-0.0, 0.1, 0.7, 0.3, -0.4, -0.4, 1.2, 0.5], [1.1, 1.3, -0.5, 0.2, 0.3, 0.3, 0.3, 0.1]]), b=np.array([0.1, -0.6, -0.1, -0.3, 0.1, -0.2, 0.2, 0.3])),
     np.array([[[0.11793535233126698, 0.07614376794340771], [0.2358209505269885, 0.030362948965110385], [0.003772103473878903, -0.06236320894905774], [-0.0031272929114997284, -0.014152831306089153]], [[0.0, 0.0], [0.07227231440344785, 0.040270676969442906], [-0.11051520901216903, -0.10369890300950801], [0.019951686416366715, -0.002045119018175598]]]),
     {'reset': np.array([[[0.11793535233126698, 0.07614376794340771], [0.139451045969197, -0.036204048483412056], [-0.05548892403571635, -0.0519601566582181], [0.0, 0.0]], [[0.0, 0.0], [0.07227231440344785, 0.040270676969442906], [-0.1333796741747475, -0.12669995639541265], [0.06321094610690049, 0.026361735471112945]]]),
      'c_reset': np.array([[[0.11793535233126698, 0.07614376794340771], [0.14674163510439678, -0.048256103244211784], [-0.07826400233724379, -0.06027468115917141], [0.0025554111613923895, 0.001005275893566792]], [[0.0, 0.0], [0.07227231440344785, 0.040270676969442906], [-0.1462720902190533, -0.13556428143994576], [0.054678449411270716, 0.02387669892034957]]]),
      'h_reset': np.array([[[0.11793535233126698, 0.07614376794340771], [0.22166891541249056, 0.03980651013676128], [0.02001645198921153, -0.044823951042464456], [0.005775829731226074, -0.009690075693121412]], [[0.0, 0.0], [0.07227231440344785, 0.040270676969442906], [-0.09949530710446353, -0.09583080850553059], [0.02535390524830521, -0.00017510548478510976]]]),
      'swap': np.array([[[0.2285454620790722, 0.16169012411735548], [0.32035763428153774, -0.026506047710831475], [-0.08354655234450471, -0.1482164063797866], [-0.02068782095902783, -0.02863567762505226]], [[0.0, 0.0], [0.15333612346975775, 0.19030012730992096], [-0.22787658328144755, -0.21977907994431106], [0.05701812772953265, -0.0048545907174709635]]])}),
    (dict(X=np.array([[[0.3], [0.3], [0.1], [-0.4], [-0.2], [-0.5]]]), W=np.array([[0.3, 0.0, 0.4, -0.9, 0.6, -0.5, -0.5, -0.1, -0.4, 0.2, -0.4, -0.7]]), U=np.array([[-0.5, 0.8, 0.0, -0.7, 0.0, -0.9, 1.1, -0.9, 0.3, 0.3, -0.9, 0.2], [0.6, 0.3, 0.2, 0.6, 0.1, 0.2, -0.1, 0.4, -0.6, 0.5, -0.3, -0.7], [0.2, 1.0, 0.6, -0.3, 0.4, -0.3, -0.1, 0.1, -1.4, 0.1, -0.6, -0.4]]), b=np.array([-0.6, -0.6, -0.4, 0.3, 0.7, -0.0, 0.4, -0.1, -0.8, 0.1, 0.2, -0.2])),
     np.array([[[0.049474624409684406, -0.02380246688327623, -0.12074200017988708], [0.08401543355325317, -0.050942771635966576, -0.1576963931727553], [0.11961459702249995, -0.0744113619583312, -0.17023643928755325], [0.16327104115283983, -0.08914832491912515, -0.16729915686226238], [0.18761980559694436, -0.10437751775116658, -0.14528558473705433], [0.20878958417476443, -0.1170815794707521, -0.13562101814321445]]]),
     {'reset': np.array([[[0.049474624409684406, -0.02380246688327623, -0.12074200017988708], [0.049474624409684406, -0.02380246688327623, -0.12074200017988708], [0.06408150830638518, -0.020949702976724025, -0.11887931689187138], [0.08788840666154923, -0.012506479562842497, -0.1053126585562727], [0.0804284041753739, -0.016106558120193574, -0.11229739043640352], [0.09068740680669408, -0.010597122519905843, -0.10105601747215609]]]),
      'c_reset': np.array([[[0.049474624409684406, -0.02380246688327623, -0.12074200017988708], [0.059547778835846485, -0.03419151707496484, -0.10385515223508313], [0.07319385882382118, -0.03422914100122166, -0.10090708406019046], [0.09288057479689955, -0.029995408130146665, -0.07963081388520743], [0.09013964158590454, -0.035827122118228104, -0.09367862408281338], [0.0959420286587812, -0.03169636142643446, -0.07481505573141914]]]),
      'h_reset': np.array([[[0.049474624409684406, -0.02380246688327623, -0.12074200017988708], [0.07431800594064572, -0.04057235435094507, -0.17058995628621873], [0.10359337974016872, -0.0495820229918981, -0.20162662608866902], [0.15005280506105947, -0.04567020802794711, -0.23321910194713427], [0.1717336556439019, -0.04438633610634815, -0.22002391276480743], [0.19799784060788195, -0.03853485476412375, -0.23348590148813658]]]),
      'swap': np.array([[[0.09189189641572419, -0.04580692477870539, -0.3124652832545387], [0.15192860669712666, -0.09280394119218709, -0.21036243530526774], [0.20307769467158227, -0.1306517130366463, -0.19954974130696257], [0.2604692469581323, -0.14456867270061088, -0.12018348501106146], [0.26523431347222104, -0.18608240047737779, -0.16429363300083638], [0.2810716946065918, -0.18519958792248636, -0.1013880487131503]]])}),
]

# ----------------------------------------------------------------------------- Exercise 1: rnn_cell_step
_RNN_DIAGNOSES = [
    (_mistake("no_recurrent"),
     "The recurrent term is missing: a recurrent cell mixes the new input with its previous state, "
     "h_t = tanh(x_t @ W + h_prev @ U + b). Without h_prev @ U it is a Dense layer that forgets everything."),
    (_mistake("no_bias"), "The bias b is missing: h_t = tanh(x_t @ W + h_prev @ U + b)."),
    (_mistake("U_transposed"),
     "U is transposed: Keras multiplies the row vector of states from the left, h_prev @ U, with U of shape "
     "(units, units) whose column j feeds unit j."),
    (lambda got, exp, inp: close(got, _atanh(exp), 1e-4),
     "That is the pre-activation x_t @ W + h_prev @ U + b: pass it through tanh."),
    (lambda got, exp, inp: close(got, _sigmoid(_atanh(exp)), 1e-4),
     "That is the sigmoid of the pre-activation: keras.layers.SimpleRNN uses tanh, which lets states be negative."),
    (lambda got, exp, inp: close(got, np.maximum(0.0, _atanh(exp)), 1e-4),
     "That is the ReLU of the pre-activation: keras.layers.SimpleRNN uses tanh."),
    (lambda got, exp, inp: not np.any(got), "Every value is 0: return the new hidden state, not a placeholder."),
]


class RnnCellStep(Check):
    name = "rnn_cell_step"
    signature = "rnn_cell_step(x_t, h_prev, W, U, b)"
    expected_form = "an array of shape (batch, units)"
    public_cases = tuple(
        Case(_case_inputs(case, mistakes), expected, label)
        for (case, expected, mistakes), label in zip(_RNN_CASES, ("batch of 2, 2 inputs, 3 units",
                                                                  "batch of 1, 3 inputs, 2 units"))
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(4):
            batch, n_in, units = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
            cases.append({"x_t": rng.normal(0, 1, (batch, n_in)), "h_prev": rng.uniform(-0.9, 0.9, (batch, units)),
                          "W": rng.normal(0, 0.6, (n_in, units)), "U": rng.normal(0, 0.5, (units, units)),
                          "b": rng.normal(0, 0.3, units)})
        return cases

    def hidden_inputs(self, rng):
        # One unit and one input; and a wide cell whose units saturate near ±1.
        return [{"x_t": rng.normal(0, 1, (3, 1)), "h_prev": rng.uniform(-0.9, 0.9, (3, 1)),
                 "W": rng.normal(0, 1, (1, 1)), "U": rng.normal(0, 1, (1, 1)), "b": rng.normal(0, 0.3, 1)},
                {"x_t": rng.normal(0, 3, (2, 5)), "h_prev": rng.uniform(-1, 1, (2, 8)),
                 "W": rng.normal(0, 2, (5, 8)), "U": rng.normal(0, 1, (8, 8)), "b": rng.normal(0, 1, 8)}]

    def compare(self, inputs, got, expected):
        if _near(got, expected):
            return None
        return compare_array(self.signature, got, expected, inputs, diagnoses=_RNN_DIAGNOSES)


# ----------------------------------------------------------------------------- Exercise 2: lstm_cell_step
_GATE_ORDER_ADVICE = ("The four blocks of columns are read in the wrong order: Keras stores them as "
                      "[i | f | c~ | o] (input gate, forget gate, candidate, output gate), each `units` columns "
                      "wide, so i = z[:, :units], f = z[:, units:2*units], c~ = z[:, 2*units:3*units], "
                      "o = z[:, 3*units:]. Your result matches the order {order}.")

_LSTM_PAIR_DIAGNOSES = [
    (_pair_mistake("order_fico"), _GATE_ORDER_ADVICE.format(order="f, i, c~, o")),
    (_pair_mistake("order_ifoc"), _GATE_ORDER_ADVICE.format(order="i, f, o, c~")),
    (_pair_mistake("order_icfo"), _GATE_ORDER_ADVICE.format(order="i, c~, f, o")),
    (_pair_mistake("tanh_gates"),
     "The gates use tanh: the input, forget and output gates use the sigmoid, so that each is a fraction "
     "between 0 and 1 of what to let through. Only the candidate c~ and the final tanh(c_t) use tanh."),
    *[(_pair_mistake(f"tanh_{gate}"),
       f"The {name} gate uses tanh: the input, forget and output gates all use the sigmoid, so that each is a "
       "fraction between 0 and 1 of what to let through (tanh would let it go negative). Only the candidate c~ "
       "and the final tanh(c_t) use tanh.") for gate, name in (("i", "input"), ("f", "forget"), ("o", "output"))],
    (_pair_mistake("sigmoid_candidate"),
     "The candidate c~ went through a sigmoid: it uses tanh, so that the cell can be pushed down as well as up."),
    (_pair_mistake("no_carry"),
     "The old cell state is not carried: c_t = f * c_prev + i * c~. Without the f * c_prev term the cell "
     "forgets everything at every step, which is the very thing the LSTM is built to avoid."),
    (_pair_mistake("no_recurrent"),
     "The recurrent term is missing: the gates see the previous hidden state too, "
     "z = x_t @ W + h_prev @ U + b."),
]


class LstmCellStep(Check):
    name = "lstm_cell_step"
    signature = "lstm_cell_step(x_t, h_prev, c_prev, W, U, b)"
    expected_form = "a pair (h_t, c_t) of arrays of shape (batch, units)"
    public_cases = tuple(
        Case(_case_inputs(case, mistakes), expected, label)
        for (case, expected, mistakes), label in zip(_LSTM_CASES, ("batch of 2, 2 inputs, 2 units",
                                                                   "batch of 1, 3 inputs, 3 units"))
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(4):
            batch, n_in, units = int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(2, 6))
            cases.append({"x_t": rng.normal(0, 1, (batch, n_in)), "h_prev": rng.uniform(-0.8, 0.8, (batch, units)),
                          "c_prev": rng.normal(0, 1, (batch, units)), "W": rng.normal(0, 0.6, (n_in, 4 * units)),
                          "U": rng.normal(0, 0.5, (units, 4 * units)), "b": rng.normal(0, 0.4, 4 * units)})
        return cases

    def hidden_inputs(self, rng):
        # A single unit (each gate one column), and a large cell state with a strongly open forget gate.
        b = rng.normal(0, 0.3, 16)
        b[4:8] += 3.0
        return [{"x_t": rng.normal(0, 1, (2, 1)), "h_prev": rng.uniform(-0.8, 0.8, (2, 1)),
                 "c_prev": rng.normal(0, 1, (2, 1)), "W": rng.normal(0, 0.8, (1, 4)), "U": rng.normal(0, 0.8, (1, 4)),
                 "b": rng.normal(0, 0.4, 4)},
                {"x_t": rng.normal(0, 1, (3, 2)), "h_prev": rng.uniform(-0.8, 0.8, (3, 4)),
                 "c_prev": rng.normal(0, 4, (3, 4)), "W": rng.normal(0, 0.6, (2, 16)), "U": rng.normal(0, 0.5, (4, 16)),
                 "b": b}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        exp_h, exp_c = (np.asarray(v, dtype=np.float64) for v in expected)
        if not isinstance(got, (list, tuple)):
            shape = np.shape(got) if not isinstance(got, (str, dict)) or got is None else None
            if shape == exp_h.shape:
                return f"{sig} returned one array of shape {shape}; return the pair (h_t, c_t): the new hidden state and the new cell state."
            return f"{sig} should return a pair (h_t, c_t) of arrays of shape {exp_h.shape}, but returned {type(got).__name__}."
        if len(got) != 2:
            return f"{sig} returned {len(got)} values; return exactly two, (h_t, c_t)."
        got_h, got_c = got
        for what, value in (("h_t", got_h), ("c_t", got_c)):
            if np.shape(value) != exp_h.shape:
                return f"{sig} returned {what} of shape {np.shape(value)}, expected {exp_h.shape}: (batch, units)."
        if _near(got_h, exp_h) and _near(got_c, exp_c):
            return None
        if close(got_h, exp_c, 1e-4) and close(got_c, exp_h, 1e-4):
            return (f"{sig} returned (c_t, h_t): h_t and c_t are swapped. Return the hidden state first, "
                    "(h_t, c_t), the order Keras uses for its states [h, c].")
        shown = f"{sig} returned h_t = {fmt(got_h)}, c_t = {fmt(got_c)}; expected h_t = {fmt(exp_h)}, c_t = {fmt(exp_c)}."
        for test, advice in _LSTM_PAIR_DIAGNOSES:
            try:
                if test(got_h, got_c, inputs):
                    return f"{shown} {advice}"
            except Exception:  # noqa: BLE001 - a diagnosis that cannot apply says nothing
                continue
        if close(got_c, exp_c):
            if close(got_h, np.divide(exp_h, np.tanh(exp_c)) * exp_c, 1e-4):
                return f"{shown} c_t is right; h_t = o * tanh(c_t): squash the new cell state with tanh before the output gate."
            return (f"{shown} c_t is right but h_t is not: h_t = o * tanh(c_t), with o = sigmoid of the last block "
                    "of columns (z[:, 3*units:]) and the NEW cell state c_t.")
        return (f"{shown} Compute z = x_t @ W + h_prev @ U + b, split its columns into [i | f | c~ | o], "
                "apply sigmoid to i, f, o and tanh to c~, then c_t = f * c_prev + i * c~ and h_t = o * tanh(c_t).")


# ----------------------------------------------------------------------------- Exercise 3: lstm_forward
_FORWARD_DIAGNOSES = [
    (_mistake("reset"),
     "The state is reset at every step: each h_t only depends on x_t, so the network has no memory. Set "
     "h and c to zeros once, before the loop, and feed each step's new (h, c) into the next step."),
    (_mistake("c_reset"),
     "The cell state is not carried from step to step (c_prev is zeros at every step). Keep the c that "
     "lstm_cell_step returns and pass it to the next step, as you do with h."),
    (_mistake("h_reset"),
     "The hidden state is not carried from step to step (h_prev is zeros at every step). Keep the h that "
     "lstm_cell_step returns and pass it to the next step."),
    (_mistake("swap"),
     "h and c trade places between steps: lstm_cell_step returns (h_t, c_t), so unpack it as "
     "h, c = lstm_cell_step(...), and store h in H."),
    (lambda got, exp, inp: exp.shape[1] > 1 and close(got[:, 0], exp[:, 0], 1e-4),
     "The first step is right but later steps are not: check that the new h and c are carried into the next "
     "step, and that step t reads X[:, t, :]."),
    (lambda got, exp, inp: not close(got[:, 0], exp[:, 0], 1e-4),
     "Already the first step is wrong, where h and c start at zero: if the check of lstm_cell_step (Exercise 2) "
     "does not pass yet, fix that first; otherwise start from h = c = np.zeros((batch, units)) and read X[:, 0, :]."),
]


class LstmForward(Check):
    name = "lstm_forward"
    signature = "lstm_forward(X, W, U, b)"
    expected_form = "an array of shape (batch, steps, units)"
    public_cases = tuple(
        Case(_case_inputs(case, mistakes), expected, label)
        for (case, expected, mistakes), label in zip(_FORWARD_CASES, ("batch of 2, 4 steps, 2 inputs, 2 units",
                                                                      "batch of 1, 6 steps, 1 input, 3 units"))
    )

    def secret_inputs(self, rng):
        cases = []
        for _ in range(3):
            batch, steps = int(rng.integers(1, 5)), int(rng.integers(2, 9))
            n_in, units = int(rng.integers(1, 4)), int(rng.integers(1, 5))
            cases.append({"X": rng.normal(0, 1, (batch, steps, n_in)), "W": rng.normal(0, 0.6, (n_in, 4 * units)),
                          "U": rng.normal(0, 0.6, (units, 4 * units)), "b": rng.normal(0, 0.4, 4 * units)})
        return cases

    def hidden_inputs(self, rng):
        # A single step, and a long sequence of 30 steps with a forget gate held open.
        b = rng.normal(0, 0.3, 12)
        b[3:6] += 2.0
        return [{"X": rng.normal(0, 1, (3, 1, 2)), "W": rng.normal(0, 0.6, (2, 8)), "U": rng.normal(0, 0.6, (2, 8)),
                 "b": rng.normal(0, 0.4, 8)},
                {"X": rng.normal(0, 1, (2, 30, 1)), "W": rng.normal(0, 0.6, (1, 12)), "U": rng.normal(0, 0.5, (3, 12)),
                 "b": b}]

    def compare(self, inputs, got, expected):
        sig = self.signature
        expected = np.asarray(expected, dtype=np.float64)
        if isinstance(got, (list, tuple)) and len(got) in (2, 3) and np.shape(got[0]) == expected.shape:
            return (f"{sig} returned {len(got)} values; return only H, the array of all hidden states of "
                    f"shape {expected.shape}.")
        shape = np.shape(got) if not isinstance(got, (str, dict)) and got is not None else None
        batch, steps, units = expected.shape
        if shape == (batch, units) and close(got, expected[:, -1], 1e-4):
            return (f"{sig} returned shape {shape}: that is the last hidden state only (what "
                    f"LSTM(return_sequences=False) gives). Return every step's h, stacked into shape "
                    f"{expected.shape} (batch, steps, units).")
        if shape == (steps, batch, units) and steps != batch:
            values = ("The values are right once the axes are swapped. " if close(np.transpose(got, (1, 0, 2)),
                                                                                   expected, 1e-4) else "")
            return (f"{sig} returned shape {shape}: the steps are on the first axis. {values}Keras puts the batch "
                    f"first: np.stack(hs, axis=1) gives {expected.shape} (batch, steps, units).")
        if _near(got, expected):
            return None
        return compare_array(sig, got, expected, inputs, diagnoses=_FORWARD_DIAGNOSES)


# ----------------------------------------------------------------------------- Exercise 4: fix build_forecaster
#: What the statement fixes for build_forecaster: Adam at this learning rate, on the mean squared error.
FORECASTER_LEARNING_RATE = 0.01
_MSE = {"mse", "mean_squared_error", "meansquarederror"}
_RECURRENT = ("LSTM", "GRU", "SimpleRNN")
#: The draft the exercise gives, with its five bugs (the statement shows this code).
DRAFT_FORECASTER = '''def build_forecaster(window=24, units=16):
    model = keras.Sequential([
        keras.Input(shape=(window, 1)),
        keras.layers.LSTM(units, return_sequences=True, go_backwards=True),
        keras.layers.Dense(1, activation="relu"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
'''
_BOUNDED_READOUT = {
    "relu": "its forecasts can never be negative",
    "sigmoid": "its forecasts stay between 0 and 1",
    "tanh": "its forecasts stay between -1 and 1",
    "softmax": "its forecast is always 1",
}


def _recurrent_layers(model) -> list:
    return [layer for layer in all_layers(model) if type(layer).__name__ in _RECURRENT]


def _readout_problem(model) -> str | None:
    """The last layer must be a linear Dense(1): a forecast can be any real number."""
    last = all_layers(model)[-1]
    if type(last).__name__ != "Dense" or int(last.units) != 1:
        return (f"The last layer is {type(last).__name__}, not a Dense(1) read-out: one number per window comes from "
                "keras.layers.Dense(1).")
    activation = activation_name(last)
    if activation in ("linear", ""):
        return None
    bounded = _BOUNDED_READOUT.get(activation, f"its read-out applies {activation!r}")
    return (f"The forecasts must be able to take any real value (the waves go from about -2 to 2), but "
            f"{bounded}.")


def _loss_problem(compiled: dict) -> str | None:
    loss = str(compiled.get("loss", "")).lower()
    if loss in _MSE:
        return None
    hint = (" Cross-entropy compares probabilities with labels in [0, 1]; the next value of a wave is a real number."
            if "crossentropy" in loss.replace("_", "") else "")
    return (f"It trains on the loss {compiled.get('loss')!r}, not on the mean squared error the statement asks "
            f"for.{hint}")


def _optimizer_problem(compiled: dict) -> str | None:
    rate = compiled.get("learning_rate")
    if compiled.get("optimizer") == "Adam" and rate is not None and \
            rel_close(float(rate), FORECASTER_LEARNING_RATE, 1e-3):
        return None
    if compiled.get("optimizer") != "Adam":
        return (f"The optimizer is {compiled.get('optimizer')}: the statement asks for Adam at learning rate "
                f"{FORECASTER_LEARNING_RATE:g}.")
    shown = "a schedule" if rate is None else f"learning rate {float(rate):.3g}"
    return (f"Its Adam optimizer has {shown}, not the learning rate {FORECASTER_LEARNING_RATE:g} the statement asks "
            "for.")


class BuildForecaster(Check):
    """Find and fix the five bugs of a draft forecaster. The kernel reports the model build_forecaster returns
    (config and weights); its layers, compile settings and output shape are computed by the grader from the
    rebuilt model. Five separable requirements (`Partial`): time order, one forecast per window, a linear
    read-out, the loss, and the optimizer's learning rate. A model that ignores window or units, or has no
    LSTM layer, is wrong for every input and earns nothing."""
    name = "build_forecaster"
    signature = "build_forecaster(window, units)"
    expected_form = "a compiled keras.Model"
    public_cases = (Case({"window": 24, "units": 16, "_public": True}, None, "window=24, units=16"),
                    Case({"window": 10, "units": 4, "_public": True}, None, "window=10, units=4"))

    def secret_inputs(self, rng):
        return [{"window": int(rng.integers(8, 40)), "units": int(rng.integers(3, 33))} for _ in range(2)]

    def hidden_inputs(self, rng):
        # The smallest model: one unit, and a window of 3 steps.
        return [{"window": 3, "units": 1}]

    def run(self, subject, inputs):
        return report_model(subject(int(inputs["window"]), int(inputs["units"])))

    def compare(self, inputs, got, expected):
        window, units = int(inputs["window"]), int(inputs["units"])
        public = bool(inputs.get("_public"))
        sig = f"build_forecaster({window}, {units})" if public else self.signature
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            kind = got.get("kind")
            if kind == "NoneType":
                return f"{sig} returned None: return the compiled model."
            return f"{sig} returned a {kind}, not a keras.Model: build it with keras.Sequential([...])."
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The model from {sig} cannot be checked: {exc}."
        recurrent = _recurrent_layers(model)
        lstms = [layer for layer in recurrent if type(layer).__name__ == "LSTM"]
        if len(lstms) != 1 or len(recurrent) != 1:
            kinds = ", ".join(type(layer).__name__ for layer in all_layers(model)) or "none"
            return (f"The model from {sig} has the layers {kinds}: the statement keeps the draft's single "
                    "keras.layers.LSTM(units) layer. Fix the bugs around it; do not replace it.")
        if int(lstms[0].units) != units:
            shown = f"LSTM({int(lstms[0].units)}), but units={units}" if public else "an LSTM whose size is not units"
            return f"The model from {sig} has {shown}: give the LSTM `units` units, keras.layers.LSTM(units)."
        try:
            shape = tuple(predict(model, np.zeros((2, window, 1))).shape)
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the windows is a finding, not a crash
            return (f"The model from {sig} cannot read a batch of windows of shape (batch, window, 1): "
                    f"{call_failure(exc)}. Keep the draft's keras.Input(shape=(window, 1)).")
        config = lstms[0].get_config()
        shown = f", shape {shape} for 2 windows" if public else ""  # a secret window length is not quoted
        if config.get("return_sequences"):
            per_window = (f"It gives one output per step{shown}: the statement asks for one forecast per window, "
                          "(batch, 1), from the LSTM's last hidden state." if len(shape) == 3 else
                          "Its read-out sees the LSTM's hidden state after every step: the statement asks for a "
                          "forecast from the last hidden state only.")
        elif shape != (2, 1):
            per_window = f"It does not give one forecast per window, (batch, 1){shown}."
        else:
            per_window = ""
        compiled = compile_summary(model)
        uncompiled = "The model is not compiled: compile it with Adam and the mean squared error before returning it."
        if not compiled.get("compiled"):
            loss_problem, optimizer_problem = uncompiled, uncompiled
        else:
            loss_problem, optimizer_problem = _loss_problem(compiled), _optimizer_problem(compiled)
        found = core_requirements([
            (not config.get("go_backwards"),
             "It reads each window backwards, newest step first, so the last step it reads is the oldest one: the "
             "statement asks for time order, oldest step first."),
            (not per_window, per_window),
            ((readout := _readout_problem(model)) is None, readout or ""),
            (loss_problem is None, loss_problem or ""),
            (optimizer_problem is None, optimizer_problem or ""),
        ])
        if found is None:
            return None
        # An uncompiled model fails two requirements with one message: say it once.
        message = found.message.replace(f"{uncompiled} {uncompiled}", uncompiled)
        return Partial(found.earned, found.of, f"The model from {sig}: {message}")


# ----------------------------------------------------------------------------- Exercise 5: a forecaster of your own
#: The seeds of the notebook's own windows: noisy_waves(1200, seed=1) to train, noisy_waves(500, seed=2) to compare.
NOTEBOOK_SEEDS = (1, 2)
#: The stated budget: at most this many parameters (a "model" that stores the 1,200 training windows needs 30,000).
MAX_TRAINED_PARAMS = 2_000
#: A trained forecaster's mean squared error must be at most this fraction of the naive forecast's. The lesson's
#: settings (16 units, 6 epochs) give about 0.32; the reference (an LSTM with 16 units, 20 epochs) about 0.2.
MSE_RATIO_THRESHOLD = 0.25


def _test_windows(n: int, seed: int):
    X, y = noisy_waves(n, seed=seed)
    return X, y


def _forecaster_build_cause(model) -> str:
    """A build mistake that keeps a forecaster from fitting, named only on evidence in the model itself."""
    readout = _readout_problem(model)
    if readout and "any real value" in readout:
        return f" The cause is in the build, not the training: {readout[0].lower()}{readout[1:]}"
    compiled = compile_summary(model)
    loss = str(compiled.get("loss", "")).lower().replace("_", "")
    if compiled.get("compiled") and "crossentropy" in loss:
        return (f" The cause is in the build, not the training: the model trains on {compiled.get('loss')!r}, a loss "
                "for probabilities; a forecast is a real number, so use loss='mse'.")
    return ""


class TrainedForecaster(Check):
    """Judged by a threshold: the student's own forecaster, within the stated budget, must forecast far better
    than repeating the last value.

    The kernel reports the trained model (config and weights) and sees no data. The grader rebuilds it and
    asks it for forecasts on fresh windows drawn with a seed from the run's rng, out of a range of 2**62 seeds
    (so neither the notebook's windows nor any enumerable set of them), kept in grader-only keys."""
    name = "trained_forecaster"
    signature = "build_and_train_forecaster(X_train, y_train)"
    expected_form = "a trained keras.Model"

    @cached_property
    def public_cases(self):
        X, y = _test_windows(300, seed=3)
        return (Case({"_X": X, "_targets": y}, None, "300 fresh windows"),)

    def secret_inputs(self, rng):
        seed = int(rng.integers(10**6, 2**62))
        X, y = _test_windows(300, seed=seed)
        return [{"_X": X, "_targets": y}]

    def run(self, subject, inputs):
        return report_model(subject)  # None (the training cell stopped) is reported as {"is_model": False, ...}

    def compare(self, inputs, got, expected):
        if not isinstance(got, dict):
            return self.unreadable(got)
        if not got.get("is_model"):
            kind = got.get("kind")
            if kind == "NoneType":
                return ("forecaster is None: build_and_train_forecaster is not implemented yet, returned None, or the "
                        "training cell above stopped with an error. Return the trained model, and fix any error that "
                        "cell shows.")
            if kind == "History":
                return ("build_and_train_forecaster returned a History, not the model: model.fit trains the model in "
                        "place and returns its History. Return the model itself.")
            return (f"forecaster is a {kind}, not a keras.Model: build_and_train_forecaster must return the trained "
                    "model.")
        X = np.asarray(inputs["_X"], dtype=np.float64)
        try:
            model = rebuild_model(got)
        except ModelRejected as exc:
            return f"The trained forecaster cannot be checked: {exc}."
        n_params = int(model.count_params())
        if n_params > MAX_TRAINED_PARAMS:
            return (f"The trained forecaster has {n_params:,} parameters, more than the {MAX_TRAINED_PARAMS:,} the "
                    "statement allows. An LSTM with u units on one input has 4u(u + 2) parameters, a GRU 3u(u + 3): "
                    "fewer units shrink it.")
        if not any(type(layer).__name__ in _RECURRENT for layer in all_layers(model)):
            return ("The trained forecaster has no recurrent layer: the statement asks for a recurrent network, with "
                    "a keras.layers.LSTM, GRU or SimpleRNN layer reading the window.")
        try:
            outputs = predict(model, X)
        except Exception as exc:  # noqa: BLE001 - a model that cannot read the windows is the student's to fix
            return (f"The trained forecaster cannot read windows of shape (batch, 24, 1): {call_failure(exc)}. "
                    "Start it with keras.Input(shape=(24, 1)).")
        targets = np.asarray(inputs["_targets"], dtype=np.float64)
        if outputs.shape not in ((len(targets), 1), (len(targets),)):
            return (f"The trained forecaster returned outputs of shape {outputs.shape} for {len(targets)} windows; "
                    f"expected ({len(targets)}, 1), one forecast per window.")
        if not np.all(np.isfinite(outputs)):
            return ("The trained forecaster returned nan or inf: training diverged. Try a smaller learning rate, and "
                    "check the loss.")
        mse = float(np.mean((outputs.ravel() - targets) ** 2))
        naive = float(np.mean((X[:, -1, 0] - targets) ** 2))
        ratio = mse / naive
        if ratio <= MSE_RATIO_THRESHOLD:
            return None
        shown = (f"The trained forecaster's mean squared error on {len(targets)} fresh windows is {mse:.4f}, "
                 f"{ratio:.0%} of the naive forecast's ({naive:.4f}, repeating each window's last value); "
                 f"at most {MSE_RATIO_THRESHOLD:.0%} is needed.")
        cause = _forecaster_build_cause(model)
        if cause:
            return shown + cause
        if ratio >= 0.9:
            return (f"{shown} That is no better than the naive forecast, so the model was hardly trained: call "
                    "model.fit(X_train, y_train, ...) on the model you return.")
        return (f"{shown} It learned something but not enough. Compare your choices on the validation windows: "
                "more epochs, the learning rate, or the units spent differently.")


rnn_cell_step = RnnCellStep()
lstm_cell_step = LstmCellStep()
lstm_forward = LstmForward()
build_forecaster = BuildForecaster()
trained_forecaster = TrainedForecaster()

CHECKS = CheckSet("11_rnn", [rnn_cell_step, lstm_cell_step, lstm_forward, build_forecaster, trained_forecaster])
