"""Server-rendered SVG charts (pygal), drawn without pygal's scripts: no CDN, nothing for a CSP to block.

A chart is always shown with a table of the same numbers (UX.md), so the SVG carries no tooltips.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from pcloud.core.security import style_nonce

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_STYLE_ELEMENT = re.compile(r"<style\b")
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')
# pygal names an untitled chart "Pygal": the tooltip over the whole chart, and its name to a screen reader
_UNTITLED = "<title>Pygal</title>"

PALETTE = ("#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1")


def bar_svg(labels: list[str], series: dict[str, list[int]], height: int = 260,
            colors: tuple[str, ...] = PALETTE, *, stacked: bool = False, width: int = 640,
            max_x_labels: int | None = None) -> Markup:
    """Bars of counts, one group per label (side by side, or `stacked`), one bar per series; scales to its
    container's width. The y axis counts in whole numbers (the run report read 0, 0.2 ... 2 for two runs);
    past 10 labels the x labels slant, past 31 only every seventh is named. `max_x_labels`: a chart drawn for a
    narrow screen names at most that many, evenly spaced and level (the caller's number fits its width)."""
    # imported here: only pages that draw pay for it, and every worker boots faster without it
    import pygal
    from pygal.style import Style

    every = 7 if len(labels) > 31 else 1
    if max_x_labels is not None:
        every = max(1, -(-len(labels) // max_x_labels))
    style = Style(background="transparent", plot_background="transparent", colors=colors,
                  font_family="sans-serif", label_font_size=12, legend_font_size=12, major_label_font_size=12)
    chart = (pygal.StackedBar if stacked else pygal.Bar)(
        height=height, width=width, style=style, js=[], legend_at_bottom=True, print_values=False,
        explicit_size=False, truncate_label=-1, show_y_guides=True, min_scale=1, max_scale=6,
        y_labels_major_every=None, order_min=0,
        x_label_rotation=30 if len(labels) > 10 and max_x_labels is None else 0, show_minor_x_labels=every == 1)
    chart.x_labels = labels
    if every > 1:
        chart.x_labels_major = labels[::every]
    for name, values in series.items():
        chart.add(name, values)
    return svg_markup(chart.render(is_unicode=True))


def svg_markup(rendered: str) -> Markup:
    """pygal's output ready to inline in a page under its Content-Security-Policy: from `<svg`, without the
    `<script>` pygal adds even with js=[] (inline scripts are refused) nor its tooltip's `style="opacity: 0"` (style
    attributes are refused; with js=[] the tooltip stays empty, and app.css hides it), nor the <title> pygal gives an
    untitled chart (the page's heading names it); its <style> element carries this answer's nonce
    (core.security.style_nonce)."""
    svg = _SCRIPT.sub("", rendered[rendered.index("<svg"):])
    svg = _STYLE_ATTRIBUTE.sub("", svg)
    svg = svg.replace(_UNTITLED, "", 1)
    svg = _STYLE_ELEMENT.sub(f'<style nonce="{style_nonce()}"', svg)
    return Markup(svg)  # noqa: S704 - pygal's own SVG; labels are our dates and words
