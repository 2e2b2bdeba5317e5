"""Sortable list columns: `?sort=name&dir=asc` on a page, applied by the module's service.

A page names the keys it lets users sort by; anything else falls back to the list's own order, so a
hand-edited URL never errors. The list's default order always follows as a tie-break, so pages of
equal values stay stable. A list whose own order is itself one of its sort keys (用户管理: newest
first) names it as the default, so that a missing or unknown `sort` (or `dir`) reads as that order.
"""

from __future__ import annotations

from typing import Any

from flask import request


def sort_args(allowed: tuple[str, ...] | dict[str, Any], default: tuple[str, str] | None = None) -> dict[str, str]:
    """{"order_by", "order_dir"} from the query string, for a service's filters ({} when not sorting).

    `default`: the list's own order as (key, "asc" or "desc"); it then stands for a missing or unknown `sort`
    key, and its direction for a missing or unknown `dir` (otherwise ascending)."""
    key, direction = request.args.get("sort", ""), request.args.get("dir")
    if default is None:
        if key not in allowed:
            return {}
        return {"order_by": key, "order_dir": "desc" if direction == "desc" else "asc"}
    return {"order_by": key if key in allowed else default[0],
            "order_dir": direction if direction in ("asc", "desc") else default[1]}


def ordered(stmt: Any, columns: dict[str, Any], filters: dict[str, Any], *default: Any) -> Any:
    """`stmt` ordered by the column `filters["order_by"]` names (if it is one of `columns`), then `default`."""
    column = columns.get(filters.get("order_by") or "")
    if column is None:
        return stmt.order_by(*default)
    first = column.desc() if filters.get("order_dir") == "desc" else column.asc()
    return stmt.order_by(first, *default)
