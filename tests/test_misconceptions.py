"""The class's mistakes, counted by diagnosis key: most common first, one example each, a plot."""
from __future__ import annotations

from autograder.misconceptions import count_mistakes, counts_for_details, mistakes_html, plot_mistakes, summary_line


def _row(student, points, key=None, message=""):
    row = {"student_id": student, "assignment": "01_neuron", "parts": {"neuron_forward": [points, 3]}}
    if key:
        row["diagnoses"] = {"neuron_forward": {"key": key, "message": message}}
    return row


ROWS = ([_row(f"b{i}", 0, "neuron_forward:no_bias", "The bias b is missing.") for i in range(41)]
        + [_row(f"s{i}", 0, "neuron_forward:exp_sign", "Check the sign inside the exponential.") for i in range(12)]
        + [_row(f"o{i}", 0, "other", "returned [0.1], expected [0.2].") for i in range(7)]
        + [_row(f"p{i}", 3) for i in range(40)])


def test_counts_are_by_key_most_common_first_with_one_example_each(tmp_path):
    (part,) = count_mistakes(ROWS)
    assert part.submissions == 100 and part.failed == 60
    assert [(k, n) for k, n, _ in part.most_common()] == [("neuron_forward:no_bias", 41),
                                                         ("neuron_forward:exp_sign", 12), ("other", 7)]
    assert part.most_common()[0][2] == "The bias b is missing."
    assert summary_line(part) == ("neuron_forward: no bias, 41 students; exp sign, 12; "
                                  "wrong, no specific diagnosis, 7")
    assert counts_for_details([part]) == {"01_neuron": {"neuron_forward": {
        "neuron_forward:no_bias": 41, "neuron_forward:exp_sign": 12, "other": 7}}}
    page = mistakes_html([part])
    assert "60 of 100 lost points" in page and page.index("no bias") < page.index("exp sign")
    assert plot_mistakes([part], tmp_path / "m.png") and (tmp_path / "m.png").stat().st_size > 5000


def test_a_reworded_message_does_not_split_a_count():
    rows = [_row("a", 0, "k:no_bias", "The bias b is missing."), _row("b", 0, "k:no_bias", "You forgot b.")]
    (part,) = count_mistakes(rows)
    assert part.counts == {"k:no_bias": 2}


def test_rows_without_diagnoses_count_as_undiagnosed():
    (part,) = count_mistakes([_row("a", 0), _row("b", 3)])
    assert part.counts == {"other": 1} and part.submissions == 2
