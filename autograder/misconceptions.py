"""What the class got wrong: each graded part's diagnosed mistakes, counted across the submissions.

Every failed part carries a diagnosis key (checks.core.Mistake, judge.PartVerdict.key), which
`grade` writes into details.json as `diagnoses: {grade_id: {"key", "message"}}`. This module
counts them per part, most common first, keeps one example message for each (the feedback the
student saw: it names no student), and draws the most-missed parts as stacked bars. Keys are
counted, never message texts, so rewording a message never splits a count.
"""
from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

#: Keys that say why a part could not be judged rather than what the student misunderstood.
NOT_A_MISCONCEPTION = {"not_implemented", "no_report", "unreadable_report"}
#: Keys the grader assigns itself, for failures no check diagnosed.
GENERIC_KEYS = NOT_A_MISCONCEPTION | {"other", "grader_inputs_only", "unreadable_value", "not_plain_data", "no_result",
                                     "wrong_shape", "wrong_type", "nan_or_inf", "partial"}
#: How the report names the keys the grader itself assigns (checks.core, judge.py).
KEY_LABELS = {
    "not_implemented": "not attempted (NotImplementedError)",
    "grader_inputs_only": "passes the public examples, fails the grader's inputs",
    "other": "wrong, no specific diagnosis",
    "no_report": "check did not run (kernel stopped earlier)",
    "unreadable_value": "returned a value of the wrong type or shape",
    "wrong_shape": "wrong shape", "wrong_type": "wrong type", "nan_or_inf": "nan or inf values",
    "partial": "part of the requirements met",
    "not_plain_data": "returned an object that is not plain data", "no_result": "produced no result",
}


@dataclass
class PartMistakes:
    assignment: str
    grade_id: str
    submissions: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.counts.values())

    def most_common(self) -> list[tuple[str, int, str]]:
        """(key, count, example message), most common first; on a tie a named diagnosis comes before the
        grader's own kinds (not attempted, no diagnosis, ...), then by key, so the order is stable."""
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0] in GENERIC_KEYS, item[0]))
        return [(key, count, self.examples.get(key, "")) for key, count in ranked]


def label(key: str) -> str:
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    if key.startswith("raised "):
        return key
    return key.split(":", 1)[-1].replace("_", " ")


def count_mistakes(rows: list[dict]) -> list[PartMistakes]:
    """Per (assignment, part): how many submissions failed it, and with which diagnosis."""
    parts: dict[tuple[str, str], PartMistakes] = {}
    for row in rows:
        diagnoses = row.get("diagnoses") if isinstance(row.get("diagnoses"), dict) else {}
        for grade_id, (points, maximum) in row.get("parts", {}).items():
            part = parts.setdefault((row["assignment"], grade_id), PartMistakes(row["assignment"], grade_id))
            part.submissions += 1
            if points >= maximum:
                continue
            found = diagnoses.get(grade_id) if isinstance(diagnoses.get(grade_id), dict) else {}
            key = str(found.get("key") or "other")
            part.counts[key] += 1
            part.examples.setdefault(key, str(found.get("message", ""))[:400])
    return sorted(parts.values(), key=lambda p: (p.assignment, -p.failed, p.grade_id))


def summary_line(part: PartMistakes, top: int = 3) -> str:
    """e.g. "neuron_forward: the bias b is missing, 41 students; sign flipped, 12; other, 7"."""
    ranked = part.most_common()
    pieces = [f"{label(key)}, {count}" for key, count, _ in ranked[:top]]
    rest = sum(count for _, count, _ in ranked[top:])
    if rest:
        pieces.append(f"other diagnoses, {rest}")
    if pieces:
        pieces[0] += " students" if ranked[0][1] != 1 else " student"
    return f"{part.grade_id}: " + "; ".join(pieces)


def plot_mistakes(parts: list[PartMistakes], path: Path, top_parts: int = 12, top_keys: int = 4) -> str | None:
    """Stacked bars: the most-failed parts, each split into its commonest misconceptions."""
    shown = sorted((p for p in parts if p.failed), key=lambda p: -p.failed)[:top_parts]
    if not shown:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.45 * len(shown) + 1.6))
    palette = plt.get_cmap("tab10")
    positions = list(range(len(shown)))[::-1]
    legend: dict[str, object] = {}
    for y, part in zip(positions, shown):
        left = 0
        ranked = [r for r in part.most_common() if r[0] not in NOT_A_MISCONCEPTION]
        unattempted = part.failed - sum(count for _, count, _ in ranked)
        for rank, (key, count, _) in enumerate(ranked):
            colour = palette(rank) if rank < top_keys else "#bbbbbb"
            bar = ax.barh(y, count, left=left, color=colour, edgecolor="white")
            if rank < top_keys and count:
                ax.text(left + count / 2, y, label(key)[:28], ha="center", va="center", fontsize=7, color="white")
            legend.setdefault("other diagnoses" if rank >= top_keys else f"commonest #{rank + 1}", bar)
            left += count
        if unattempted:
            bar = ax.barh(y, unattempted, left=left, color="#eeeeee", edgecolor="#bbbbbb", hatch="//")
            legend.setdefault("not attempted / not run", bar)
    ax.set_yticks(positions, [f"{p.assignment} · {p.grade_id}" for p in shown], fontsize=8)
    ax.set_xlabel("submissions that lost points on the part")
    ax.set_title("What the class got wrong: each part's diagnosed mistakes, commonest first")
    ax.legend(legend.values(), legend.keys(), fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return "Each bar is one part; its segments are the diagnoses, left to right from the most common."


def mistakes_html(parts: list[PartMistakes], top: int = 8) -> str:
    """A table per part that lost points: each diagnosis, how many, and one example message."""
    from .grading.sanitize import clean_text

    def e(text) -> str:  # lone surrogates (from a quoted student value) become U+FFFD
        return html.escape(clean_text(str(text)), quote=True)

    blocks = []
    for part in (p for p in parts if p.failed):
        rows = "".join(
            f"<tr><td>{e(label(key))}</td><td>{count}</td><td>{e(example)}</td></tr>"
            for key, count, example in part.most_common()[:top])
        hidden = len(part.counts) - top
        if hidden > 0:
            rows += f"<tr><td colspan=3>… and {hidden} more diagnoses (details.json has them all)</td></tr>"
        blocks.append(f"<h3>{e(part.assignment)} · <code>{e(part.grade_id)}</code> "
                      f"({part.failed} of {part.submissions} lost points)</h3>\n"
                      f"<p>{e(summary_line(part))}</p>\n"
                      f"<table><tr><th>diagnosis</th><th>submissions</th><th>example message</th></tr>{rows}</table>")
    return "\n".join(blocks) or "<p>No part lost points.</p>"


def counts_for_details(parts: list[PartMistakes]) -> dict:
    """{assignment: {grade_id: {key: count}}}, for details.json."""
    out: dict = defaultdict(dict)
    for part in parts:
        if part.counts:
            out[part.assignment][part.grade_id] = dict(sorted(part.counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return dict(out)
