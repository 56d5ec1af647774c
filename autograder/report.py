"""`report DIR`: a class report an instructor reads after grading, and a CSV an LMS imports.

Reads the `details.json` a `grade` run writes and draws, into DIR/report/:
* the distribution of totals for each assignment,
* the pass rate of every graded part (which parts students miss most),
* the grading time per submission,
* the submissions with problems (timeouts, crashes, tampering) and their reasons,
and writes DIR/report/lms_grades.csv: one row per student, one column per assignment, with
a "Points Possible" row as Canvas's gradebook import expects (Moodle maps `student_id`). Its
scores are the rows' `score`: manually graded parts included (0 while they await formgrader,
which the page says), late penalties taken off, as in `nbgrader export`.
"""
from __future__ import annotations

import html
import json
import statistics
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from .course import CourseError
from .misconceptions import count_mistakes, mistakes_html, plot_mistakes
from .grading.outputs import atomic_write_text, write_csv_rows
from .grading.sanitize import clean_text

#: The report shows its own PNGs (next to it) and nothing else: no script, no load from anywhere.
REPORT_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; img-src 'self' data:; "
              "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")


def load_details(graded: Path) -> dict:
    path = graded / "details.json"
    if not graded.is_dir():
        raise CourseError(f"grading output folder not found: {graded}")
    if not path.is_file():
        raise CourseError(f"{path} not found: run `python -m autograder grade ... --out {graded}` first")
    try:
        details = json.loads(path.read_text(encoding="utf-8"))
        rows = details["submissions"]
        for row in rows:
            row["score"], row["max_score"], row["parts"]  # noqa: B018 - fields the report needs
    except (ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"{path} is not a grading run's details file ({type(exc).__name__}: {exc})") from None
    return details


def write_report(graded: Path) -> Path:
    """Write DIR/report/index.html (with its PNGs) and DIR/report/lms_grades.csv; return the page."""
    details = load_details(graded)
    rows = details["submissions"]
    folder = graded / "report"
    folder.mkdir(parents=True, exist_ok=True)
    by_assignment: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_assignment[row["assignment"]].append(row)
    assignments = sorted(a for a, rs in by_assignment.items() if any(r["max_score"] for r in rs))

    figures = []
    if assignments:
        figures.append(("Totals per assignment", "totals.png", _plot_totals(by_assignment, assignments, folder)))
        figures.append(("Pass rate of each graded part", "part_pass_rates.png",
                        _plot_part_pass_rates(by_assignment, assignments, folder)))
    mistakes = count_mistakes(rows)
    caption = plot_mistakes(mistakes, folder / "mistakes.png")
    if caption:
        figures.append(("What the class got wrong", "mistakes.png", caption))
    if rows:
        figures.append(("Grading time per submission", "grading_time.png", _plot_times(rows, folder)))
    lms = _write_lms_csv(rows, assignments, folder / "lms_grades.csv")
    page = folder / "index.html"
    atomic_write_text(page, _page(rows, by_assignment, assignments, figures, lms.name, mistakes_html(mistakes)))
    return page


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(count: int) -> tuple[int, int]:
    columns = min(3, count)
    return (count + columns - 1) // columns, columns


def _plot_totals(by_assignment, assignments, folder: Path) -> str:
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    n_rows, n_cols = _grid(len(assignments))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols, 3.0 * n_rows), squeeze=False)
    for ax in axes.flat[len(assignments):]:
        ax.set_visible(False)
    for ax, assignment in zip(axes.flat, assignments):
        rows = by_assignment[assignment]
        maximum = max(r["max_score"] for r in rows)
        scores = [r["score"] for r in rows]
        bins = [x - 0.5 for x in range(int(maximum) + 2)] if maximum <= 40 else 20
        ax.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
        ax.axvline(statistics.mean(scores), color="#dd8452", linestyle="--", label=f"mean {statistics.mean(scores):.1f}")
        ax.set_title(f"{assignment} (n={len(rows)})")
        ax.set_xlabel(f"total points (of {maximum:g})")
        ax.set_ylabel("submissions")
        ax.set_xlim(-0.5, maximum + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    fig.suptitle("Distribution of totals")
    fig.tight_layout()
    fig.savefig(folder / "totals.png", dpi=100)
    plt.close(fig)
    return "Each panel counts the submissions of one assignment by total points; the dashed line is the mean."


def _plot_part_pass_rates(by_assignment, assignments, folder: Path) -> str:
    plt = _pyplot()
    labels, rates, colours = [], [], []
    palette = plt.get_cmap("tab10")
    for index, assignment in enumerate(assignments):
        passed, seen = defaultdict(int), defaultdict(int)
        for row in by_assignment[assignment]:
            for grade_id, (points, maximum) in row["parts"].items():
                seen[grade_id] += 1
                passed[grade_id] += points >= maximum
        for grade_id in sorted(seen, key=lambda g: passed[g] / seen[g], reverse=True):
            labels.append(f"{assignment} · {grade_id}")
            rates.append(100 * passed[grade_id] / seen[grade_id])
            colours.append(palette(index % 10))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(labels) + 1.4))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, rates, color=colours)
    ax.set_yticks(positions, labels, fontsize=8)
    for y, rate in zip(positions, rates):
        ax.text(min(rate + 1, 92), y, f"{rate:.0f}%", va="center", fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions with full points on the part (%)")
    ax.set_title("Pass rate of each graded part (lowest last within each assignment)")
    fig.tight_layout()
    fig.savefig(folder / "part_pass_rates.png", dpi=100)
    plt.close(fig)
    return "Parts near the bottom of each colour are the ones students miss most."


def _plot_times(rows, folder: Path) -> str:
    plt = _pyplot()
    ordered = sorted(rows, key=lambda r: r.get("seconds", 0.0))
    seconds = [r.get("seconds", 0.0) for r in ordered]
    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.bar(range(len(seconds)), seconds, color=["#c44e52" if r.get("reason") else "#55a868" for r in ordered])
    ax.axhline(statistics.median(seconds), color="black", linestyle="--", linewidth=1,
               label=f"median {statistics.median(seconds):.1f} s")
    ax.set_xlabel("submissions, fastest to slowest (red: graded with a problem)")
    ax.set_ylabel("seconds in the grader")
    ax.set_title("Grading time per submission")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "grading_time.png", dpi=100)
    plt.close(fig)
    return (f"{len(seconds)} submissions, {sum(seconds):.0f} s of grading in total (workers run side by side, "
            "so the run's wall time is shorter).")


def _write_lms_csv(rows, assignments, path: Path) -> Path:
    maxima = {a: max(r["max_score"] for r in rows if r["assignment"] == a) for a in assignments}
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row["assignment"] in maxima:
            scores[row["student_id"]][row["assignment"]] = row["score"]
    table = [["student_id", *assignments, "total"],
             ["Points Possible", *(f"{maxima[a]:g}" for a in assignments), f"{sum(maxima.values()):g}"]]
    for student in sorted(scores):
        own = scores[student]
        table.append([student, *(f"{own[a]:g}" if a in own else "" for a in assignments), f"{sum(own.values()):g}"])
    write_csv_rows(table, path)  # an id such as =HYPERLINK(...) is written as text: '=HYPERLINK(...)
    return path


def _deadline_and_manual_notes(rows) -> str:
    """What the scores already include (late penalties) and what they do not yet (manual grading)."""
    notes = []
    awaiting = [r for r in rows if r.get("awaiting_manual_grading")]
    if awaiting:
        notes.append(f"<p><b>Not final:</b> {len(awaiting)} submission(s) have manually graded parts awaiting "
                     "formgrader; their scores here and in the LMS file count those parts as 0 until they are graded "
                     "and `grade` is run again.</p>")
    late = [r for r in rows if r.get("late_penalty")]
    if late:
        notes.append(f"<p>{len(late)} late submission(s) lost {sum(r['late_penalty'] for r in late):g} point(s) in "
                     "all to the course's late-submission penalty; every score here is after it.</p>")
    return "\n".join(notes)


def _page(rows, by_assignment, assignments, figures, lms_name: str, mistakes: str = "") -> str:
    def e(value) -> str:  # text and attribute values alike (quotes too); lone surrogates become U+FFFD
        return html.escape(clean_text(str(value)), quote=True)

    summary = ["<tr><th>assignment</th><th>submissions</th><th>mean</th><th>median</th><th>full marks</th>"
               "<th>with problems</th></tr>"]
    for assignment in assignments:
        group = by_assignment[assignment]
        scores = [r["score"] for r in group]
        maximum = max(r["max_score"] for r in group)
        summary.append(
            f"<tr><td>{e(assignment)}</td><td>{len(group)}</td><td>{statistics.mean(scores):.1f} / {maximum:g}</td>"
            f"<td>{statistics.median(scores):g}</td><td>{sum(s >= maximum for s in scores)}</td>"
            f"<td>{sum(bool(r['reason']) for r in group)}</td></tr>")
    problems = [r for r in rows if r.get("reason")]
    problem_rows = "".join(
        f"<tr><td>{e(r['student_id'])}</td><td>{e(r['assignment'])}</td><td>{r['score']:g} / {r['max_score']:g}</td>"
        f"<td>{e(r['reason'])}</td></tr>" for r in sorted(problems, key=lambda r: (r["assignment"], r["student_id"])))
    figure_html = "".join(
        f'<figure><img src="{e(name)}" alt="{e(title)}"><figcaption><b>{e(title)}.</b> {e(caption)}</figcaption></figure>'
        for title, name, caption in figures)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta http-equiv="Content-Security-Policy" content="{html.escape(REPORT_CSP, quote=False)}">
<meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Grading report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
th {{ background: #f3f3f3; }} figure {{ margin: 2em 0; }} img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style></head><body>
<h1>Grading report</h1>
<p>{len(rows)} submission(s) from {len({r['student_id'] for r in rows})} student(s); written {created}.
Scores for an LMS: <a href="{e(lms_name)}">{e(lms_name)}</a>.</p>
{_deadline_and_manual_notes(rows)}
<h2>Assignments</h2><table>{''.join(summary)}</table>
{figure_html}
<h2>What the class got wrong</h2>
<p>Each part that lost points, with its diagnosed mistakes counted across the class (by the checks' stable
diagnosis keys, most common first) and one example of the message students saw.</p>
{mistakes}
<h2>Submissions with problems ({len(problems)})</h2>
{'<table><tr><th>student</th><th>assignment</th><th>score</th><th>reason</th></tr>' + problem_rows + '</table>'
 if problems else '<p>None: every submission ran to the end without tampering.</p>'}
</body></html>
"""
