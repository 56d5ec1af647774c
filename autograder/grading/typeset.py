"""Maths in feedback pages, typeset on the grader as MathML: no script, nothing fetched.

A feedback page may run no script at all (its Content-Security-Policy says so), so MathJax
cannot typeset it. Instead the TeX in each Markdown cell (`$…$`, `$$…$$`, `\\begin{equation}…`)
is taken out before the Markdown is rendered and cleaned, held aside
behind a token that carries a random per-page nonce, converted with `latex2mathml`, cleaned
with an allowlist of MathML Core elements and attributes, and put back into the finished page.
Browsers draw MathML Core natively (Chromium since version 109, Firefox, Safari). TeX that
does not convert stays as its text.
"""
from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field

import nh3

#: MathML Core presentation elements (what latex2mathml writes); no `href`, no `style`, no events.
MATHML_TAGS = {
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "mstyle",
    "merror", "mpadded", "mphantom", "msub", "msup", "msubsup", "munder", "mover", "munderover",
    "mmultiscripts", "mprescripts", "mtable", "mtr", "mtd", "semantics", "annotation", "menclose",
}
MATHML_ATTRIBUTES = {
    "*": {"display", "displaystyle", "scriptlevel", "mathvariant", "dir"},
    "math": {"xmlns"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "form", "minsize", "maxsize",
           "movablelimits", "symmetric", "largeop"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "mfrac": {"linethickness"},
    "mover": {"accent"}, "munder": {"accentunder"}, "munderover": {"accent", "accentunder"},
    "mtable": {"columnalign", "rowspacing", "columnspacing", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan"},
    "menclose": {"notation"},
    "annotation": {"encoding"},
}
_MATH_NS = "http://www.w3.org/1998/Math/MathML"

#: Display maths first, so that `$$` is never read as two empty `$`. `\\(…\\)` and `\\[…\\]` are not
#: maths here: in Markdown they are escaped brackets, which the feedback's own summary writes.
_MATHS = re.compile(
    r"(?P<display>\$\$(?P<d>.+?)\$\$|(?P<env>\\begin\{(?P<name>equation\*?|align\*?|gather\*?)\}"
    r".+?\\end\{(?P=name)\}))"
    r"|(?<![\\$])\$(?P<i>[^\s$](?:[^$\n]|\n(?!\s*\n))*?)(?<![\s\\])\$(?!\$)", re.S)
#: Code spans and fenced blocks keep their dollars.
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_PRIVATE = re.compile("[\ue000\ue001]")


@dataclass
class MathsOnPage:
    """The TeX held aside for one page, and the nonce its tokens carry."""
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    tex: list[tuple[str, bool]] = field(default_factory=list)

    def token(self, index: int) -> str:
        return f"\ue000{self.nonce}:{index}\ue001"

    def take_out(self, markdown: str) -> str:
        """`markdown` with each maths span replaced by a token (code spans and blocks left alone)."""
        markdown = _PRIVATE.sub("", markdown)
        pieces = _CODE.split(markdown)
        for i in range(0, len(pieces), 2):  # even pieces are prose, odd ones code
            pieces[i] = _MATHS.sub(self._hold, pieces[i])
        return "".join(pieces)

    def _hold(self, match: re.Match) -> str:
        if match.group("display"):
            tex = match.group("d") or match.group("env")
            self.tex.append((tex, True))
        else:
            self.tex.append((match.group("i"), False))
        return self.token(len(self.tex) - 1)

    def put_back(self, page: str) -> str:
        """`page` with every token replaced by its maths as clean MathML (or its TeX as text)."""
        if not self.tex:
            return page
        pattern = re.compile("\ue000" + re.escape(self.nonce) + r":(\d+)\ue001")
        return pattern.sub(lambda m: self._mathml(int(m.group(1))), page)

    def _mathml(self, index: int) -> str:
        if index >= len(self.tex):
            return ""
        tex, display = self.tex[index]
        return to_mathml(tex, display)


def to_mathml(tex: str, display: bool = False) -> str:
    """One TeX formula as clean MathML; its TeX as escaped text if it does not convert."""
    from latex2mathml.converter import convert

    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - a formula the converter cannot read is shown as written
        delimiter = "$$" if display else "$"
        return f'<code class="tex">{html.escape(delimiter + tex + delimiter)}</code>'
    cleaned = nh3.clean(markup, tags=MATHML_TAGS, attributes=MATHML_ATTRIBUTES, url_schemes=set(),
                        strip_comments=True, link_rel=None,
                        attribute_filter=lambda tag, name, value: (
                            value if name != "xmlns" or value == _MATH_NS else None))
    return cleaned if cleaned.startswith("<math") else html.escape(tex)
