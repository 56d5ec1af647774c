"""Make student-controlled notebook content inert before it becomes a feedback page.

A feedback page shows the student's own notebook: markdown, code, and outputs whose content
is whatever the .ipynb file says. Instructors and students open these pages, so nothing in
them may run, load or submit anything. Three layers, all allowlists (what may stay), none a
list of known-bad examples:

1. `inert_notebook` rebuilds the notebook from the fields it knows (allowlist). Outputs keep
   only `text/plain` and PNG/JPEG/GIF images; every other MIME type (HTML, JavaScript, SVG,
   Markdown, widgets, `application/vnd.*`, ...) is replaced by a plain-text note. Attachments
   keep PNG/JPEG/GIF only, raw cells become literal text, notebook metadata keeps only the
   kernel and language, and lone surrogates (from JSON "\\ud800") become U+FFFD.
2. `safe_page` keeps nothing of what nbconvert writes in `<head>`: the page's CSS comes from
   rendering an *empty* notebook with the same template (no student content reaches it), and
   nbconvert's scripts (MathJax and require.js from a CDN, mermaid) are dropped. Each Markdown
   cell's HTML, then the whole body, is cleaned with nh3 (ammonia): allowlisted tags and
   attributes, no `style`, no event handlers, `href` only to in-page `#anchors`, `src` only
   `data:image/png|jpeg|gif;base64`. (Per cell first, so one cell's broken tags end there.)
3. A Content-Security-Policy meta tag, first in `<head>`, forbids every script and every load
   but inline CSS and data: images, should anything slip through.

Maths is typeset on the grader as MathML (`typeset.py`): the page loads no MathJax, nor anything
else, and still shows `$a=\\sigma(Xw+b)$` as a formula, online or off.
"""
from __future__ import annotations

import functools
import html
import re
import threading
from html.parser import HTMLParser

import nbformat
import nh3

from .typeset import MathsOnPage

#: Feedback pages need nothing from anywhere: inline CSS and data: images only, no script at all.
#: (Only directives a <meta> CSP may carry: frame-ancestors, sandbox and report-uri would be
#: ignored with a console warning.)
FEEDBACK_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; img-src data:; "
                "style-src 'unsafe-inline'; font-src 'none'; connect-src 'none'; media-src 'none'; "
                "frame-src 'none'; child-src 'none'; worker-src 'none'; manifest-src 'none'; "
                "base-uri 'none'; form-action 'none'")

SAFE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
SAFE_OUTPUT_TYPES = ("text/plain", *SAFE_IMAGE_TYPES)

_SURROGATES = re.compile("[\ud800-\udfff]")
#: Characters that have no business in an HTML page: C0/C1 controls (but tab, LF, FF, CR),
#: noncharacters and surrogates. ANSI escapes are turned into classes by nbconvert before this.
_ODD = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*")
_FRAGMENT = re.compile(r"#[^\s\"'<>`\\]*")
_LENGTH = re.compile(r"\d{1,5}(?:\.\d{1,3})?(?:px|%)?")
_COUNT = re.compile(r"\d{1,4}")


def clean_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, so that it can be written as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


def _clean_tree(value):
    """A JSON-like value with every string (keys too) passed through `clean_text`; other types dropped."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean_text(str(value))


def _joined(value) -> str:
    """A notebook multiline string (a str or a list of str) as one clean str."""
    if isinstance(value, (list, tuple)):
        value = "".join(str(v) for v in value)
    elif not isinstance(value, str):
        value = "" if value is None else str(value)
    return clean_text(value)


def _dict(value) -> dict:
    return _clean_tree(value) if isinstance(value, dict) else {}


def _literal_markdown(text: str) -> str:
    """Markdown that shows `text` verbatim: an indented code block (nothing in it is parsed)."""
    return "\n".join("    " + line for line in text.splitlines())


def _output(output) -> dict | None:
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_joined(output.get("text", "")))
    if kind == "error":
        traceback = output.get("traceback")
        return nbformat.v4.new_output(
            "error", ename=_joined(output.get("ename", "")), evalue=_joined(output.get("evalue", "")),
            traceback=[_joined(line) for line in traceback] if isinstance(traceback, list) else [])
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept, dropped = {}, []
    for mime, value in data.items():
        value = _joined(value)
        if mime in SAFE_IMAGE_TYPES and _BASE64.fullmatch(value):
            kept[mime] = value
        elif mime == "text/plain":
            kept[mime] = value
        else:
            dropped.append(clean_text(str(mime)))
    if not kept:
        shown = ", ".join(dropped[:5]) or "no data"
        kept["text/plain"] = f"[output not shown in the feedback page: {shown}]"
    metadata = _dict(output.get("metadata"))
    metadata = {k: v for k, v in metadata.items() if k in kept and isinstance(v, dict)}
    if kind == "execute_result":
        count = output.get("execution_count")
        return nbformat.v4.new_output(kind, data=kept, metadata=metadata,
                                      execution_count=count if type(count) is int else None)
    return nbformat.v4.new_output(kind, data=kept, metadata=metadata)


#: A 1x1 transparent GIF, in place of an attachment that is not PNG/JPEG/GIF or is missing.
_BLANK_GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_ATTACHMENT_REFERENCE = re.compile(r"attachment:([^\s()<>\"'\]\[]+)")


def _attachments(value, source: str) -> dict:
    """The PNG/JPEG/GIF attachments, and a blank image for every other one the markdown names
    (nbconvert refuses to render a markdown cell naming an attachment it does not have)."""
    kept = {}
    for name, bundle in (value.items() if isinstance(value, dict) else ()):
        if not isinstance(bundle, dict):
            continue
        images = {m: _joined(d) for m, d in bundle.items() if m in SAFE_IMAGE_TYPES}
        images = {m: d for m, d in images.items() if _BASE64.fullmatch(d)}
        if images:
            kept[clean_text(str(name))] = images
    for name in _ATTACHMENT_REFERENCE.findall(source):
        kept.setdefault(name, {"image/gif": _BLANK_GIF})
    return kept


def inert_notebook(nb) -> nbformat.NotebookNode:
    """A copy of `nb` rebuilt from known fields only, with no active content left in its outputs.

    Markdown keeps its text (its HTML is cleaned after rendering, by `safe_page`). Never raises for
    odd content: a cell that is not a dict is dropped, a malformed output is dropped.
    """
    cells = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict):
            continue
        kind, source, metadata = cell.get("cell_type"), _joined(cell.get("source", "")), _dict(cell.get("metadata"))
        if kind == "code":
            outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
            count = cell.get("execution_count")
            new = nbformat.v4.new_code_cell(source, metadata=metadata,
                                            execution_count=count if type(count) is int else None,
                                            outputs=[o for o in map(_output, outputs) if o is not None])
        elif kind == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=metadata)
            attachments = _attachments(cell.get("attachments"), source)
            if attachments:
                new.attachments = nbformat.from_dict(attachments)
        else:  # raw cells (nbconvert copies text/html ones into the page as they are) and unknown types
            new = nbformat.v4.new_markdown_cell(_literal_markdown(source), metadata=metadata)
        if isinstance(cell.get("id"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell["id"]):
            new.id = cell["id"]
        cells.append(new)
    metadata = _dict(nb.get("metadata")) if isinstance(nb, dict) else {}
    metadata = {k: metadata[k] for k in ("kernelspec", "language_info") if isinstance(metadata.get(k), dict)}
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


# ------------------------------------------------------------------ the HTML page

#: What nbconvert's lab template and Markdown need for a readable page. No form, media, frame,
#: SVG/MathML, link, meta, base or style elements; no `style` or event attributes.
ALLOWED_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "ol",
    "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var", "wbr",
}
#: Elements removed with everything inside them (the others not allowed lose the tag, keep the text).
DROPPED_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "frame", "frameset",
                        "object", "embed", "applet", "svg", "math", "textarea", "select", "title",
                        "xmp", "noembed", "noframes", "head", "audio", "video", "canvas"}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "div": {"data-mime-type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "details": {"open"},
}


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Last word on an attribute nh3 kept: links stay in the page, images are embedded PNG/JPEG/GIF."""
    if name == "href":
        return value if _FRAGMENT.fullmatch(value) else None
    if name == "src":
        return value if tag == "img" and _DATA_IMAGE.fullmatch(value) else None
    if name in ("width", "height"):
        return value if _LENGTH.fullmatch(value) else None
    if name in ("colspan", "rowspan", "start"):
        return value if _COUNT.fullmatch(value) else None
    if name == "rel":  # nh3 adds rel="noopener noreferrer" to links itself
        return value
    return value if name in ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set()) else None


def clean_fragment(fragment: str) -> str:
    """An HTML fragment with nothing active left: allowlisted tags and attributes only."""
    cleaned = nh3.clean(clean_text(fragment), tags=ALLOWED_TAGS, clean_content_tags=DROPPED_WITH_CONTENT,
                        attributes=ALLOWED_ATTRIBUTES, attribute_filter=_attribute, url_schemes={"data"},
                        strip_comments=True, link_rel="noopener noreferrer")
    return _ODD.sub("\ufffd", cleaned)


class _TemplateParts(HTMLParser):
    """The `<style>` blocks and the `<body>` attributes of a page nbconvert rendered."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.styles: list[str] = []
        self.body_attrs: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._in_style = True
            self.styles.append("")
        elif tag == "body":
            self.body_attrs = [(k, v or "") for k, v in attrs]

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles[-1] += data


@functools.lru_cache(maxsize=1)
def _exporter_class():
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class InertHTMLExporter(HTMLExporter):
        """nbconvert's lab template with each Markdown cell's HTML cleaned on its own, so that a
        cell's unclosed or malformed tags end at the cell (the whole body is cleaned again later)."""

        #: The TeX of this page's Markdown cells, held aside until the page is finished (typeset.py).
        maths: MathsOnPage

        def from_notebook_node(self, nb, resources=None, **kw):
            self.maths = MathsOnPage()
            return super().from_notebook_node(nb, resources, **kw)

        @pass_context
        def markdown2html(self, context, source):
            return clean_fragment(super().markdown2html(context, self.maths.take_out(source)))

    return InertHTMLExporter


_EXPORTERS = threading.local()


def exporter():
    """This thread's HTML exporter: built once, as compiling nbconvert's templates costs 0.1 s a page."""
    made = getattr(_EXPORTERS, "exporter", None)
    if made is None:
        made = _EXPORTERS.exporter = _exporter_class()(template_name="lab")
    return made


@functools.lru_cache(maxsize=1)
def template_parts() -> tuple[str, str]:
    """(CSS, body attributes) of nbconvert's lab template, from an empty notebook: no student input."""
    page, _ = exporter().from_notebook_node(nbformat.v4.new_notebook())
    parts = _TemplateParts()
    parts.feed(page)
    parts.close()
    css = "\n".join(s for s in parts.styles if "</" not in s)
    # Only data: URLs in the template's CSS (its icons); a load from anywhere else would be blocked
    # by the CSP and logged in the console, so drop it here.
    css = re.sub(r"url\(\s*(?!['\"]?data:)[^)]*\)", "none", css)
    attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in parts.body_attrs
                    if re.fullmatch(r"class|data-jp-[a-z-]+", k))
    return css, attrs


_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def body_of(page: str) -> str:
    """What lies between nbconvert's `<body ...>` and the last `</body>` (everything, if none)."""
    start = _BODY_OPEN.search(page)
    end = page.lower().rfind("</body>")
    if start is None:
        return page
    return page[start.end():end if end > start.end() else len(page)]


def safe_page(body_html: str, title: str, csp: str = FEEDBACK_CSP, maths: MathsOnPage | None = None) -> str:
    """A complete page: the CSP first in <head>, the template's CSS, `body_html` cleaned by nh3,
    then the `maths` its Markdown held put back as clean MathML."""
    css, body_attrs = template_parts()
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n'
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp, quote=False)}">\n'
            f'<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f'<title>{html.escape(_ODD.sub(chr(0xFFFD), title))}</title>\n'
            f'<style type="text/css">\n{css}\n</style>\n</head>\n'
            f'<body{body_attrs}>\n{typeset(clean_fragment(body_html), maths)}\n</body>\n</html>\n')


def typeset(body: str, maths: MathsOnPage | None) -> str:
    return maths.put_back(body) if maths is not None else body
