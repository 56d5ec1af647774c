"""Only plain data crosses from a kernel to the grader."""
import json

import numpy as np
import pytest

from autograder.checks.core import probe
from autograder.checks.plain import NotPlainData, from_plain, to_plain


class AlwaysEqual:
    def __eq__(self, other):
        return True


class RiggedArray(np.ndarray):
    def __eq__(self, other):
        return True


def roundtrip(value):
    return from_plain(json.loads(json.dumps(to_plain(value))))


def test_numbers_arrays_and_containers_roundtrip():
    value = {"a": np.arange(6, dtype="float32").reshape(2, 3), "b": (1, 2.5, "x"), "c": [True, None]}
    back = roundtrip(value)
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert np.array_equal(back["a"], value["a"])
    assert back["b"] == (1, 2.5, "x") and back["c"] == [True, None]


def test_non_finite_values_survive():
    back = roundtrip(np.array([np.nan, np.inf, -np.inf, 1.0]))
    assert np.isnan(back[0]) and back[1] == np.inf and back[2] == -np.inf and back[3] == 1.0
    assert np.isnan(roundtrip(float("nan")))


def test_always_equal_object_is_rejected():
    with pytest.raises(NotPlainData, match="AlwaysEqual"):
        to_plain(AlwaysEqual())
    record = probe(lambda: AlwaysEqual())
    assert "unplain" in record and "AlwaysEqual" in record["unplain"]


def test_ndarray_subclass_becomes_a_plain_array():
    rigged = np.zeros(3).view(RiggedArray)
    back = roundtrip(rigged)
    assert type(back) is np.ndarray
    assert not np.array_equal(back, np.ones(3))


def test_float_subclass_and_object_arrays_are_rejected():
    class SneakyFloat(float):
        def __eq__(self, other):
            return True

    with pytest.raises(NotPlainData):
        to_plain(SneakyFloat(1.0))
    with pytest.raises(NotPlainData):
        to_plain(np.array([AlwaysEqual()], dtype=object))


def test_probe_captures_errors_without_raising():
    def boom():
        raise ZeroDivisionError("division by zero")

    assert probe(boom) == {"error": "ZeroDivisionError", "detail": "division by zero"}
    assert probe(lambda: (_ for _ in ()).throw(SystemExit(3)))["error"] == "SystemExit"
    assert probe(lambda: (_ for _ in ()).throw(NotImplementedError()))["error"] == "NotImplementedError"


def test_a_diagnosed_mistake_keeps_its_key_through_pickle_and_copies():
    """Verdicts travel from grading workers by pickle; the class report counts the keys."""
    import copy
    import pickle

    from autograder.checks.compare import compare_array
    from autograder.checks.core import Mistake, mistake_key

    found = compare_array("f(x)", [1.0, 2.0], [1.0, 3.0], {},
                          diagnoses=[(lambda got, expected, inputs: got[1] == 2, "The bias b is missing.", "no_bias")])
    assert isinstance(found, Mistake) and found.key == "no_bias" and "bias b is missing" in found
    for again in (pickle.loads(pickle.dumps(found)), copy.deepcopy(found)):
        assert again == found and mistake_key(again) == "no_bias"
    assert compare_array("f(x)", [1.0, 2.0], [1.0, 3.0], {}).key == "other"
    assert compare_array("f(x)", [1.0], [1.0, 3.0], {}).key == "wrong_shape"
    assert mistake_key("a plain message") == "other"


def test_an_infinite_expected_value_does_not_make_every_entry_close():
    """The absolute floor's scale is the largest finite expected value, not inf's stand-in 1.8e308."""
    import numpy as np

    from autograder.checks.compare import matches

    assert not matches([1.0, np.inf], [2.0, np.inf])
    assert matches([2.0, np.inf], [2.0, np.inf]) and not matches([2.0, 5.0], [2.0, np.inf])


def test_matches_keeps_signs_and_magnitudes_near_the_float64_limits():
    from autograder.checks.compare import matches, matches_mask

    big = 1.7e308
    assert matches([big], [big]) and matches([big * (1 + 1e-7)], [big])
    assert not matches([-big], [big])            # |a| + |b| used to overflow to inf and accept anything
    assert not matches([-np.inf], [np.inf]) and not matches([np.inf], [-np.inf])
    assert matches([-np.inf, np.nan], [-np.inf, np.nan]) and not matches([np.nan], [np.inf])
    assert not matches([big], [-big], twin=[big])  # a twin far away at the limit does not widen it to inf
    assert list(matches_mask([1.0, -big, np.inf], [1.0, big, np.inf])) == [True, False, True]
