"""What every page template shares: the sidebar, paging links, time and state filters."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import Flask, Response, after_this_request, flash, g, redirect, request, url_for
from flask_babel import gettext, ngettext
from markupsafe import Markup
from marshmallow import fields as ma_fields

from pcloud.core.forms import back_to
from pcloud.core.schemas import NUL, is_blank, refused_character_message
from pcloud.core.security import Principal, access_rules, current_principal, mirrored_endpoints, query_set_aside
from pcloud.core.timefmt import display_local
from pcloud.core.views import seen_input

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


# A number as a query string carries it: ASCII digits, an optional minus. Anything else ("١٢٣", " 12 ",
# "1_0", "+5", "1e3") is not an integer to a filter, as it is not to the API's JSON.
_PLAIN_INT = re.compile(r"^-?[0-9]{1,30}$")


@dataclass(frozen=True)
class Filter:
    """One filter of a list page: the schema field it is (its wire name) and how the page labels it."""

    field: str
    label: str


def page_filters(schema: type[ma.Schema], filters: Mapping[str, Filter]) -> dict[str, Any]:
    """A list page's filters, read from the query string through the API's schema of the same list (or a
    page's subclass of it): the same fields, ranges and messages as the API, one mechanism for both doors.

    `filters` maps each query parameter the page's filter bar sends to its schema field. A blank input is
    no filter. The query string carries text: an integer field takes ASCII digits only (then as a JSON
    integer, so the strict id rule applies as it does to the API's body). A filter the schema refuses is
    left out, the page says which and why in a red flash, and answers 422 (`refuse_filters`): the list
    is still shown, with the filter bar as typed, so the user can correct it.
    """
    fields_by_wire = {f.data_key or name: f for name, f in schema().load_fields.items()}
    data: dict[str, Any] = {}
    labels: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    set_aside = query_set_aside()  # held a NUL: left out of the query by the guard, refused here as the API does
    for param, spec in filters.items():
        field = fields_by_wire[spec.field]
        labels[spec.field] = spec.label
        if param in set_aside:
            refused[spec.field] = [refused_character_message(NUL)]
            continue
        values = [v for v in request.args.getlist(param) if not is_blank(v)]
        if not values:
            continue
        if isinstance(field, ma_fields.List):
            value: Any = [_query_value(field.inner, v) for v in values]
        else:
            value = _query_value(field, values[-1])
        if _NOT_AN_INTEGER in (value if isinstance(value, list) else [value]):
            refused[spec.field] = [gettext("必须是整数")]
        else:
            data[spec.field] = value
    loaded: dict[str, Any] = {}
    for _ in range(len(data) + 1):  # each round drops what the schema refused; a clean load ends it
        try:
            loaded = schema().load(data)
            break
        except ma.ValidationError as exc:
            messages = exc.normalized_messages()
            bad = {key for key in messages if key in data} or set(data)
            for key in bad:
                refused.setdefault(key, []).extend(_flat(messages.get(key) or messages.get("_schema") or []))
                data.pop(key, None)
    if refused:
        conditions = gettext("；").join(
            gettext("筛选条件「%(label)s」%(reasons)s", label=str(labels.get(key, key)),
                    reasons=gettext("、").join(dict.fromkeys(str(m) for m in msgs)))
            for key, msgs in refused.items())
        # each refused filter named, then the closing words counting them: 该条件 / 这 2 个条件
        refuse_filters(ngettext("%(conditions)s，已忽略该条件", "%(conditions)s，已忽略这 %(num)d 个条件",
                                len(refused), conditions=conditions))
    return loaded


_NOT_AN_INTEGER = object()


def _query_value(field: ma_fields.Field, text: str) -> Any:
    if isinstance(field, ma_fields.Integer):
        return int(text) if _PLAIN_INT.fullmatch(text) else _NOT_AN_INTEGER
    return text


def _flat(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flat(v)]
    if isinstance(messages, list | tuple):
        return [m for v in messages for m in _flat(v)]
    return [str(messages)]


def refuse_filters(msg: str) -> None:
    """A list page shown with some of its filters refused: the message as a red flash, and the page's
    status 422, as the API answers the same filters (UX.md, "Filter bars")."""
    flash(msg, "danger")

    @after_this_request
    def _refused(response: Response) -> Response:
        if response.status_code == 200:
            response.status_code = 422
        return response


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


def may(target: str, method: str = "POST", **values: Any) -> bool:
    """Would the guard let the signed-in user perform this page action? For templates: show a button
    only when its click would pass (`may('users.delete', user_id=u.id)`, `may('/system/user/5/delete')`,
    or an API endpoint `may('users_api.delete', user_id=5)`).

    A page endpoint or URL needs what `security.enforce_access` asks of its `method` request: the menu
    owning the page, and every API operation its view `@mirrors`. A link to a form (新增, 编辑) is
    checked as the POST that saves it, since a form one may not submit is no use.
    """
    from flask import current_app
    from werkzeug.exceptions import HTTPException

    permissions = access_rules()  # the installed permission check (core knows only its shape)
    principal = current_principal()
    if principal is None:
        return False
    if principal.is_super_admin:
        return True
    if not target.startswith("/"):
        rule = next(iter(current_app.url_map.iter_rules(target)))
        if rule.rule.startswith("/api/"):
            return permissions.may_call_endpoint(principal, target, values)
        target = url_for(target, **values)
    path = target.split("?")[0]
    try:
        rule, view_args = current_app.url_map.bind("localhost").match(path, method=method.upper(),
                                                                      return_rule=True)
    except HTTPException:
        return False
    if not permissions.may_open_page(principal, path):
        return False
    view = current_app.view_functions.get(rule.endpoint)
    return all(permissions.may_call_endpoint(principal, e, view_args)
               for e in mirrored_endpoints(view, method, rule.methods))


def time_cell(value: datetime | None) -> Markup:
    """A time in a list's cell marked `wrap`: its date and its time each unbroken, so that where the table would not
    fit its card the time takes two lines between them, never inside either (a date breaks at its hyphens)."""
    return Markup(" ").join(Markup('<span class="text-nowrap">{}</span>').format(part)
                            for part in display_local(value).split())


def init_app(app: Flask, menu_tree: Callable[[Principal], list[dict[str, Any]]],
             is_link: Callable[[str], bool]) -> None:
    """Template helpers. The factory hands in what core cannot know: the principal's menu tree (the
    sidebar) and the test a menu path must pass to be rendered as a link."""
    app.jinja_env.filters["dt"] = display_local
    app.jinja_env.filters["dt_cell"] = time_cell
    app.jinja_env.globals.update(page_url=page_url, sort_url=sort_url, may=may, seen_input=seen_input, back_to=back_to)
    app.jinja_env.tests["icon_name"] = is_icon_name
    app.jinja_env.tests["site_path"] = is_link  # links are rendered only from site paths

    def sidebar() -> list[dict[str, Any]]:
        """The principal's visible menu tree, read once per request: the sidebar and the breadcrumbs both walk it."""
        if "sidebar_nodes" not in g:
            principal = current_principal()
            g.sidebar_nodes = [n for n in menu_tree(principal) if not n["hidden"]] if principal else []
        return g.sidebar_nodes

    def menu_trail() -> list[dict[str, Any]]:
        """The sidebar's menus leading to the page the request is on (the deepest menu whose path the request's
        lies under, as the sidebar marks it current), root first: the breadcrumbs name them as the menu tree
        does, so a menu renamed is renamed there too (docs/UX.md). Empty when no menu of the principal's leads
        there (the page's own crumbs are used then), and on the 503 page. A global, not a context variable, so
        that the `crumbs` macro of templates/macros.html, imported without the page's context, reads it."""
        if g.get("db_unavailable"):  # the 503 page: nothing that needs the database
            return []
        here = request.path.rstrip("/")
        best: list[dict[str, Any]] = []

        def walk(nodes: list[dict[str, Any]], trail: list[dict[str, Any]]) -> None:
            nonlocal best
            for node in nodes:
                if node.get("hidden"):
                    continue
                path = (node.get("path") or "").rstrip("/")
                if path and is_link(node["path"]) and (here == path or here.startswith(path + "/")) \
                        and len(trail) + 1 > len(best):
                    best = [*trail, node]
                walk(node.get("children") or [], [*trail, node])

        walk(sidebar(), [])
        return best

    app.jinja_env.globals["menu_trail"] = menu_trail

    @app.context_processor
    def _globals() -> dict[str, Any]:
        if g.get("db_unavailable"):  # the 503 page: nothing that needs the database
            return {"principal": None, "sidebar": lambda: []}
        return {"principal": current_principal(), "sidebar": sidebar}
