"""Student content made inert before any page shows it (COURSE.md §9 E, docs/grading.md).

formgrader and ``nbgrader generate_feedback`` render the stored autograded notebook with
nbconvert. Their templates show markdown cells without cleaning (``HTMLExporter.sanitize_html``
does not reach them) and, unless that option is set, ``text/html`` and JavaScript outputs as
they are: a ``<script>`` a student printed runs in the instructor's browser session.
``SanitizeStudentContent`` runs in ``Autograde.autograde_preprocessors`` right after the
execute step, so the notebook that is *stored* is already clean, and again in
``GenerateFeedback.preprocessors`` (for notebooks autograded before it existed):

- markdown cells (and ``text/markdown`` outputs) are rendered the way the templates render
  them; if the HTML holds anything outside the allow-list, the cell's source becomes the
  cleaned HTML, and if even that does not render clean, the source shown as a code block;
  raw cells are cleaned as HTML;
- ``text/html`` outputs are cleaned with bleach and the allow-list below; every other rich
  type but PNG and JPEG (checked to be plain base64) is dropped: JavaScript, SVG, LaTeX,
  widget views, JSON…; the notebook's widget state goes;
- every output is capped in bytes (nbgrader's ``LimitOutput`` counts lines only, so one 50 MB
  line passes it), and so is each cell's total.

Output types and stream names (stdout/stderr) are kept, so nbgrader's ``determine_grade``
reads the same verdict afterwards: an error or a stderr stream still scores 0.
"""

from __future__ import annotations

import html
import re

import bleach
import tinycss2
from bleach._vendor import html5lib  # the browser's parsing algorithm, as bleach uses it
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

#: Tags a student's HTML may keep: text structure, tables, links and images. No script,
#: style, iframe, object, embed, form, input, svg, math, base, meta, link.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol",
    "p", "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
#: Attributes per tag ("*": every tag). No on* handler, no id outside headings (markdown gives
#: headings ids; an id elsewhere could shadow the page's own elements), and only the classes
#: nbconvert's own markup uses (see CLASSES): formgrader's script finds its score and comment
#: fields by class (".score", ".comment", ".tabbable") inside a cell that shows student content.
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "table": {"border"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
#: Class names kept: pygments' short token classes (n, mi, s1…), markdown's, pandas' tables.
CLASSES = re.compile(r"([a-z]{1,3}[0-9]?|anchor-link|highlight|dataframe|task-list-item(-checkbox)?"
                     r"|contains-task-list)\Z")
ALLOWED_CSS = frozenset({"text-align", "color", "background-color", "font-weight", "font-style",
                         "text-decoration", "vertical-align", "width", "height"})
#: Link schemes; relative links and #fragments are always allowed.
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: Images: web addresses, or embedded PNG/JPEG/GIF as base64 (no SVG: it can hold script).
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*\Z")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*\Z")
#: MathJax typesets $…$ in markdown text, and its \href takes javascript: links.
MATHJAX_LINK = re.compile(r"\\+(href|url)\b")

STYLE_SHEET = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.IGNORECASE | re.DOTALL)

_CSS = CSSSanitizer(allowed_css_properties=ALLOWED_CSS)
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.\-]*)\s*:")


def _safe_url(tag: str, attribute: str, value: str) -> bool:
    # Browsers drop tabs/newlines and leading controls before reading a scheme ("java\tscript:").
    squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value))
    scheme = _SCHEME.match(squeezed)
    if scheme is None:
        return ":" not in squeezed.split("/", 1)[0] or squeezed.startswith(("/", "#", "?"))
    if tag == "img" and scheme.group(1).lower() == "data":
        return IMAGE_DATA.match(squeezed) is not None
    return scheme.group(1).lower() in LINK_SCHEMES


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name not in ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set()):
        return False
    if name in ("href", "src"):
        return _safe_url(tag, name, value)
    if name == "class":
        return all(CLASSES.match(word) for word in value.split())
    return True


# bleach checks link schemes after our filter; "data" passes it so that _safe_url decides
# (it allows data: only for PNG/JPEG/GIF images).
_CLEANER = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=_allowed_attribute,
                          protocols=frozenset(LINK_SCHEMES | {"data"}), strip=True,
                          strip_comments=True, css_sanitizer=_CSS)


def is_safe_html(fragment: str) -> bool:
    """True when ``fragment``, parsed as a browser parses it inside a ``<div>``, holds only
    allowed tags and attributes, safe link and image addresses, harmless CSS, no comments
    and no MathJax link commands."""
    if MATHJAX_LINK.search(fragment):
        return False
    tree = html5lib.parseFragment(fragment, treebuilder="etree", namespaceHTMLElements=False)
    for element in tree.iter():
        if element is tree:
            continue
        if not isinstance(element.tag, str) or element.tag not in ALLOWED_TAGS:
            return False  # comments, processing instructions, svg/math (namespaced) or others
        for name, value in element.attrib.items():
            if not isinstance(name, str) or not _allowed_attribute(element.tag, name, value):
                return False
            if name == "style" and not _safe_css(value):
                return False
    return True


def _safe_css(value: str) -> bool:
    """Only allowed properties, and no url(), expression() or CSS escapes in the values."""
    lowered = value.lower()
    if "\\" in value or "url(" in lowered or "expression" in lowered or "@" in value:
        return False
    for item in tinycss2.parse_declaration_list(value, skip_whitespace=True, skip_comments=True):
        if item.type != "declaration" or item.lower_name not in ALLOWED_CSS:
            return False
    return True


def clean_html(fragment: str) -> str:
    """``fragment`` with every tag, attribute and address outside the allow-list removed
    (the text inside a removed tag stays, as text, except a style sheet's)."""
    fragment = STYLE_SHEET.sub("", fragment)  # only spares the reader CSS shown as text
    return MATHJAX_LINK.sub(lambda m: "\\\\ " + m.group(1), _CLEANER.clean(fragment))


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown to HTML as nbconvert's HTMLExporter renders a markdown cell in the
    feedback and formgrade templates (mistune, math kept for MathJax, raw HTML passed on)."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


def as_code_block(source: str) -> str:
    """``source`` shown verbatim: a fenced block longer than any backtick run inside it."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", source)), default=0))
    return f"{fence}text\n{source}\n{fence}\n"


def safe_markdown(source: str, attachments: dict | None = None) -> str:
    """A markdown source whose rendering is safe: ``source`` itself when it already is, else
    the cleaned HTML of its rendering, else ``source`` as a code block."""
    try:
        rendered = render_markdown(source, attachments)
    except Exception:  # a missing attachment, a renderer error: show the text instead
        return as_code_block(source)
    if is_safe_html(rendered):
        return source
    cleaned = clean_html(rendered)
    try:
        if is_safe_html(render_markdown(cleaned, attachments)):
            return cleaned
    except Exception:
        pass
    return as_code_block(source)


def capped(text: str, limit: int, what: str = "output") -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, with a note saying so."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}\n… {what} cut by the grader: {len(data):,} bytes, the first {limit:,} kept …\n"


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


class SanitizeStudentContent(NbGraderPreprocessor):
    """Make every output and markdown cell safe to render, and cap outputs in bytes."""

    max_output_bytes = Integer(100_000, help="Bytes of text kept per output").tag(config=True)
    max_image_bytes = Integer(2_000_000, help="Bytes of base64 kept per image (else dropped)").tag(config=True)
    max_cell_bytes = Integer(1_000_000, help="Bytes of output kept per code cell").tag(config=True)
    max_markdown_bytes = Integer(100_000, help="Bytes of source kept per markdown cell").tag(config=True)

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # widget state: the page would load widget JS for it
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            attachments = self._safe_attachments(cell.get("attachments") or {})
            if "attachments" in cell:
                cell.attachments = attachments
            source = capped(_joined(cell.source), self.max_markdown_bytes, "markdown")
            cell.source = safe_markdown(source, attachments)
        elif cell.cell_type == "code":
            cell.outputs = self._safe_outputs(cell.outputs)
        elif cell.cell_type == "raw":  # shown as HTML when its raw_mimetype is (or is unset)
            source = capped(_joined(cell.source), self.max_markdown_bytes, "cell")
            cell.source = source if is_safe_html(source) else clean_html(source)
        return cell, resources

    def _safe_attachments(self, attachments: dict) -> dict:
        return {name: {mime: data for mime, data in bundle.items()
                       if mime in ("image/png", "image/jpeg") and self._plain_base64(data)}
                for name, bundle in attachments.items()}

    def _plain_base64(self, data) -> bool:
        data = _joined(data)
        return len(data) <= self.max_image_bytes and BASE64.match(data) is not None

    def _safe_outputs(self, outputs: list) -> list:
        kept, spent = [], 0
        for output in outputs:
            over = spent >= self.max_cell_bytes
            kind = output.get("output_type")
            if kind == "stream":
                output.name = "stderr" if output.get("name") == "stderr" else "stdout"
                if over and output.name == "stdout":
                    continue  # stdout never changes a grade; stderr and errors do, so they stay
                output.text = capped(_joined(output.get("text", "")), 1_000 if over else self.max_output_bytes)
                spent += len(output.text)
            elif kind == "error":
                self._safe_error(output, 1_000 if over else self.max_output_bytes)
                spent += sum(map(len, output.traceback))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                if over and kind != "execute_result":
                    continue  # an execute_result can carry partial credit: keep it
                output.data = self._safe_data(output.get("data", {}), 1_000 if over else self.max_output_bytes,
                                              note=kind != "execute_result")
                output.metadata = {}
                spent += sum(len(_joined(value)) for value in output.data.values())
            else:
                continue
            kept.append(output)
        if spent >= self.max_cell_bytes and len(kept) < len(outputs):
            kept.append(new_output("stream", name="stdout",
                                   text=f"… {len(outputs) - len(kept)} more outputs dropped by the grader "
                                        f"(over {self.max_cell_bytes:,} bytes in this cell) …\n"))
        return kept

    def _safe_error(self, output, limit: int) -> None:
        output.ename = capped(str(output.get("ename", "")), 1_000, "name")
        output.evalue = capped(str(output.get("evalue", "")), limit, "message")
        # The message a student needs is at the end: keep the last lines that fit.
        lines = [capped(str(line), limit // 2, "line") for line in output.get("traceback", [])]
        traceback, size = [], 0
        for line in reversed(lines):
            size += len(line.encode("utf-8", "replace"))
            if size > limit:
                traceback.insert(0, "… traceback cut by the grader …")
                break
            traceback.insert(0, line)
        output.traceback = traceback

    def _safe_data(self, data: dict, limit: int, note: bool = True) -> dict:
        safe, dropped = {}, []
        for mime, value in data.items():
            if mime == "text/plain":
                safe[mime] = capped(_joined(value), limit)
            elif mime == "text/html":
                fragment = capped(_joined(value), limit)
                safe[mime] = fragment if is_safe_html(fragment) else clean_html(fragment)
            elif mime == "text/markdown":
                safe[mime] = safe_markdown(capped(_joined(value), limit, "markdown"))
            elif mime in ("image/png", "image/jpeg") and self._plain_base64(value):
                safe[mime] = _joined(value)
            else:
                dropped.append(mime)
        if dropped and not safe and note:
            # Only where nothing is left: text added to an execute_result's text/plain would
            # change the partial credit nbgrader reads from it.
            safe["text/plain"] = f"[output removed by the grader: {', '.join(sorted(dropped))}]"
        return safe


__all__ = ["SanitizeStudentContent", "clean_html", "is_safe_html", "safe_markdown", "capped"]
