"""Markdown to safe HTML: markdown-it-py renders (raw HTML off), nh3 sanitises what comes out.

Two maintained libraries, two locks: markdown-it-py with `html` off escapes any HTML typed into the text and
refuses javascript:/vbscript:/file:/data: links; nh3 (ammonia) then keeps only the tags and attributes listed
below, links only with http, https or mailto (or relative), every link `rel="noopener noreferrer nofollow"`.
An image is kept only where PCloud serves it itself, an upload's address exactly (`core.routing.UPLOAD_PATH`: no
query, no `%` escape, no other path, host or scheme), as `<img src alt loading="lazy">` and nothing else; any other
image is shown as its alt text: a picture from another host would tell it who read the notice and when, and another
address of this site may be a GET that acts. Both locks apply it: the image rule below writes no other `<img>`, and
nh3 drops the `src` of any other.

What rendering may cost is bounded by the text, not by what markdown-it makes of it. A table row shorter than
its header is padded with empty cells (markdown-it pads up to 65,536 per table), so a 1000-column header over
short lines turned 20 KB into 680 KB of HTML and 0.9 s of CPU. Here a table has at most `TABLE_COLUMNS_MAX`
columns (a wider one stays text) and a text's tables at most `TABLE_CELLS_MAX` cells in all, header cells and
padding included (the rows past them stay text); HTML longer than `HTML_MAX` (a short reference link used
thousands of times) is shown as the escaped text instead. `markdown_problem` says which bound a text passes, for
a save to refuse it. Rendering is a pure function of the text, the same on every host, so each process keeps
the latest `CACHE_SIZE` results (functools.lru_cache, keyed by the text: at most 64 x 20,000 characters).
"""

from __future__ import annotations

import html as html_lib
from functools import cache, lru_cache
from typing import Any

import nh3
from flask_babel import gettext
from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import escapedSplit, getLine
from markdown_it.rules_block.table import table as gfm_table

from pcloud.core.routing import UPLOAD_PATH

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
})
# "*": no attribute on every tag (nh3's default gives each one title and lang)
ALLOWED_ATTRIBUTES = {"*": set(), "a": {"href", "title"}, "ol": {"start"}, "img": {"src", "alt"}}
SET_ATTRIBUTES = {"img": {"loading": "lazy"}}  # a notice's pictures load as the reader scrolls to them
# A column's alignment as Bootstrap's class, not markdown-it's style attribute: the pages' Content-Security-Policy
# refuses every style attribute (core.security.style_nonce)
ALIGN_CLASSES = {"text-align:left": "text-start", "text-align:center": "text-center", "text-align:right": "text-end"}
ALLOWED_CLASSES = {"th": set(ALIGN_CLASSES.values()), "td": set(ALIGN_CLASSES.values())}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

TABLE_COLUMNS_MAX = 50  # a wider table is no notice's
TABLE_CELLS_MAX = 5000  # every table of one text together, header cells and padded empty cells included
HTML_MAX = 256 * 1024  # characters of rendered HTML; beyond it the text is shown as typed
CACHE_SIZE = 64  # rendered texts kept per process (each at most HTML_MAX characters)

_WIDEST = "pcloud_widest_table"  # keys of markdown-it's env: what the bounds refused while parsing
_CELLS_LEFT = "pcloud_cells_left"
_CELLS_CUT = "pcloud_cells_cut"


def _header_columns(state: StateBlock, line: int) -> int:
    """The header row's cell count, as markdown-it's table rule counts it."""
    columns = escapedSplit(mdTrim(getLine(state, line)))
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    return len(columns)


def _row_follows(state: StateBlock, line: int, end: int) -> bool:
    """Would markdown-it's table rule take `line` as one more row (the same tests, in its order)?"""
    if state.sCount[line] < state.blkIndent:
        return False
    if any(rule(state, line, end, True) for rule in state.md.block.ruler.getRules("blockquote")):
        return False
    return bool(mdTrim(getLine(state, line))) and not state.is_code_block(line)


def _bounded_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's GFM table within the bounds: too wide, or no cells left, and it is no table (its lines
    stay a paragraph); otherwise only as many rows as the cells left allow."""
    if not gfm_table(state, start, end, True):
        return False
    columns = _header_columns(state, start)
    env = state.env
    left = env.get(_CELLS_LEFT, TABLE_CELLS_MAX)
    if columns > TABLE_COLUMNS_MAX:
        env[_WIDEST] = max(env.get(_WIDEST, 0), columns)
        return False
    if columns > left:
        env[_CELLS_CUT] = True
        return False
    if silent:
        return True
    last = min(end, start + 1 + left // columns)  # the header, then left // columns - 1 body rows at most
    if not gfm_table(state, start, last, False):
        return False
    env[_CELLS_LEFT] = left - columns * (state.line - start - 1)
    if state.line == last < end and _row_follows(state, last, end):
        env[_CELLS_CUT] = True
    return True


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"])
    md.block.ruler.at("table", _bounded_table, {"alt": ["paragraph", "reference"]})
    md.add_render_rule("th_open", _aligned_cell)
    md.add_render_rule("td_open", _aligned_cell)
    md.add_render_rule("image", _image)
    return md


def _image(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    """An upload PCloud serves as an <img> with its alt text (the title and anything else left out); any other image
    as its alt text, or its address as text when it has none."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = token.attrGet("src") or ""
    if UPLOAD_PATH.fullmatch(src):
        return f'<img src="{html_lib.escape(src)}" alt="{html_lib.escape(alt)}">'
    return html_lib.escape(alt or src, quote=False)


def _aligned_cell(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    if style in ALIGN_CLASSES:
        token.attrSet("class", ALIGN_CLASSES[style])
    return self.renderToken(tokens, idx, options, env)


def _own_image_only(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an <img> keeps its `src` only at an upload's address (the second lock)."""
    if tag == "img" and attribute == "src" and not UPLOAD_PATH.fullmatch(value):
        return None
    return value


def _clean(html: str) -> str:
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     attribute_filter=_own_image_only,
                     set_tag_attribute_values={k: dict(v) for k, v in SET_ATTRIBUTES.items()},
                     allowed_classes={k: set(v) for k, v in ALLOWED_CLASSES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, strip_comments=True)


# (safe HTML, what the bounds refused: ("columns", n) / ("cells", None) / ("html", None) or None)
_Rendered = tuple[str, tuple[str, int | None] | None]


@lru_cache(maxsize=CACHE_SIZE)
def _rendered(text: str) -> _Rendered:
    env: dict[str, Any] = {}
    html = _renderer().render(text, env)
    if len(html) > HTML_MAX:
        return _clean(f"<pre>{html_lib.escape(text, quote=False)}</pre>"), ("html", None)
    problem = ("columns", env[_WIDEST]) if _WIDEST in env else ("cells", None) if env.get(_CELLS_CUT) else None
    return _clean(html), problem


def clear_cache() -> None:
    _rendered.cache_clear()


def render_markdown(text: str) -> str:
    """Safe HTML for `text`, fit to be marked safe in a template; within the bounds above whatever the text."""
    return _rendered(text or "")[0]


class LazyMarkdown:
    """The safe HTML of a text, rendered the first time it is used: `str()` (a schema dumping it) or a template
    showing it (`__html__`). A list that carries it for a reader who may open it, but shows only titles, renders
    nothing."""

    __slots__ = ("_html", "_text")

    def __init__(self, text: str | None) -> None:
        self._text, self._html = text or "", None

    def __str__(self) -> str:
        if self._html is None:
            self._html = render_markdown(self._text)
        return self._html

    def __html__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyMarkdown) else other)

    __hash__ = None  # type: ignore[assignment]


def markdown_problem(text: str) -> str | None:
    """Why `text` passes a bound of rendering (a sentence for the field), or None. What passes one is still
    rendered, cheaply (the module's docstring); a save refuses it so the author sees it."""
    problem = _rendered(text or "")[1]
    if problem is None:
        return None
    kind, value = problem
    if kind == "columns":
        return gettext("表格最多 %(max)s 列（这张表有 %(n)s 列）", max=TABLE_COLUMNS_MAX, n=value)
    if kind == "cells":
        return gettext("表格最多共 %(max)s 个单元格（含表头和自动补齐的空单元格）", max=TABLE_CELLS_MAX)
    return gettext("内容显示出来超过 %(max)s 个字符（重复的链接或表格过多）", max=HTML_MAX)
