"""Mentions of another lesson in the course's notebooks, checked against the lessons that exist.

Every "lesson 5", "Lesson 09" or "lessons 05 and 06" in a markdown cell must be a link whose text
holds the number and whose target is that lesson's notebook, e.g. ``[lesson 05](05_backprop.ipynb)``
in lessons/ or ``[lesson 05](../../lessons/05_backprop.ipynb)`` in solutions/ and exercises/. A writer
then sees the topic in the file name, and a test catches a number that names the wrong file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .notebooks import read_notebook

#: A markdown link: [text](target).
_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")
#: "lesson 5", "Lessons 05", "lesson 5's" – a lesson named by its number, outside a link.
_MENTION = re.compile(r"\blessons?\s+(\d{1,2})\b", re.I)
_NUMBER = re.compile(r"\b(\d{1,2})\b")
_LESSON_FILE = re.compile(r"^(?:\.\./)*(?:lessons/)?(\d{2})_[a-z0-9_]+\.ipynb$")


@dataclass(frozen=True)
class BadReference:
    notebook: Path
    cell: int
    text: str
    problem: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.problem}: {self.text!r}"


def _strip_code(text: str) -> str:
    """Markdown without code spans and fenced blocks, where numbers are code, not references."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", " ", text)


def check_notebook(path: Path, lessons_dir: Path) -> list[BadReference]:
    """Every lesson mention in `path`'s markdown that is not a correct link to an existing lesson."""
    bad = []
    # A lesson may name itself ("# Lesson 03 - …") without linking to itself.
    own = path.stem[:2] if path.parent.resolve() == lessons_dir.resolve() and path.stem[:2].isdigit() else None
    for index, cell in enumerate(read_notebook(path).cells):
        if cell.cell_type != "markdown":
            continue
        text = _strip_code(cell.source)
        for link in _LINK.finditer(text):
            label, target = link.groups()
            found = _LESSON_FILE.search(target)
            if not found:
                if _MENTION.search(label):
                    bad.append(BadReference(path, index, link.group(0), "links a lesson mention to no lesson"))
                continue
            if not (path.parent / target).resolve().is_file() or (path.parent / target).resolve().parent != \
                    lessons_dir.resolve():
                bad.append(BadReference(path, index, link.group(0), "links to a lesson file that does not exist"))
            numbers = {int(n) for n in _NUMBER.findall(label)}
            if numbers != {int(found.group(1))}:
                bad.append(BadReference(path, index, link.group(0),
                                        f"the link's text does not name lesson {found.group(1)}"))
        # Links were judged above; what is left must not name a lesson by number.
        outside = _LINK.sub("[link]", text)
        for mention in _MENTION.finditer(outside):
            if own is not None and int(mention.group(1)) == int(own):
                continue
            bad.append(BadReference(path, index, outside[max(0, mention.start() - 20):mention.end() + 20].strip(),
                                    "a lesson is named by number without a link to it"))
    return bad


def check_course(root: Path) -> list[BadReference]:
    """Bad lesson references in every lesson, solution and exercise notebook under `root`."""
    lessons = root / "lessons"
    notebooks = sorted(lessons.glob("*.ipynb")) + sorted((root / "solutions").glob("*/*.ipynb")) + \
        sorted((root / "exercises").glob("*/*.ipynb"))
    return [bad for nb in notebooks for bad in check_notebook(nb, lessons)]
