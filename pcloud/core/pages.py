"""What every page template shares: the sidebar, paging links, time and state filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, redirect, request, url_for

from pcloud.core.security import Principal, current_principal
from pcloud.core.timefmt import display_local

_ICON_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_icon_name(value: Any) -> bool:
    """A Bootstrap Icons name (`person`, `bar-chart-steps`): safe inside an SVG `<use>` reference."""
    return isinstance(value, str) and len(value) <= 64 and bool(_ICON_NAME.match(value))


def list_args(default_size: int = 20) -> tuple[int, int]:
    """(page, page size) from the query string, clamped like the API's."""
    def _int(name: str, default: int, lo: int, hi: int) -> int:
        try:
            return min(max(int(request.args.get(name, default)), lo), hi)
        except ValueError:
            return default

    return _int("page", 1, 1, 10_000_000), _int("size", default_size, 1, 200)


def past_the_end(result: Any) -> Response | None:
    """A page number beyond the last page goes to the last page (a bookmark after deletes, a typo)."""
    if result.page > 1 and result.page > result.pages:
        return redirect(page_url(page=result.pages))
    return None


def int_arg(name: str, default: int | None = None) -> int | None:
    """An integer from the query string (or form): absent or not a number gives `default`; a number beyond
    any id (20 digits, say) is a 400, never an overflow in the database."""
    from flask import abort

    from pcloud.core.routing import MAX_ID

    raw = (request.values.get(name) or "").strip()
    try:
        value = int(raw)
    except ValueError:
        return default
    if not -MAX_ID <= value <= MAX_ID:
        abort(400)
    return value


def page_url(**changes: Any) -> str:
    """The current list URL with some query arguments changed (page, sort...)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "dashboard.index", **(request.view_args or {}), **args)


def sort_url(column: str) -> str:
    current = request.args.get("sort")
    direction = "asc" if current == column and request.args.get("dir") != "asc" else "desc"
    if current != column:
        direction = "asc"
    return page_url(sort=column, dir=direction, page=1)


def init_app(app: Flask, menu_tree: Callable[[Principal], list[dict[str, Any]]],
             is_link: Callable[[str], bool]) -> None:
    """Template helpers. The factory hands in what core cannot know: the caller's menu tree (the
    sidebar) and the test a menu path must pass to be rendered as a link."""
    app.jinja_env.filters["dt"] = display_local
    app.jinja_env.globals.update(page_url=page_url, sort_url=sort_url)
    app.jinja_env.tests["icon_name"] = is_icon_name
    app.jinja_env.tests["site_path"] = is_link  # links are rendered only from site paths

    def sidebar() -> list[dict[str, Any]]:
        principal = current_principal()
        return [n for n in menu_tree(principal) if not n["hidden"]] if principal else []

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from flask import g

        if g.get("db_unavailable"):  # the 503 page: nothing that needs the database
            return {"principal": None, "sidebar": lambda: []}
        return {"principal": current_principal(), "sidebar": sidebar}
