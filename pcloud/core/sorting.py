"""Sortable list columns: `?sort=name&dir=asc` on a page, applied by the module's service.

A page names the keys it lets users sort by; anything else falls back to the list's own order, so a
hand-edited URL never errors. The list's default order always follows as a tie-break, so pages of
equal values stay stable.
"""

from __future__ import annotations

from typing import Any

from flask import request


def sort_args(allowed: tuple[str, ...] | dict[str, Any]) -> dict[str, str]:
    """{"order_by", "order_dir"} from the query string, for a service's filters ({} when not sorting)."""
    key = request.args.get("sort", "")
    if key not in allowed:
        return {}
    return {"order_by": key, "order_dir": "desc" if request.args.get("dir") == "desc" else "asc"}


def ordered(stmt: Any, columns: dict[str, Any], filters: dict[str, Any], *default: Any) -> Any:
    """`stmt` ordered by the column `filters["order_by"]` names (if it is one of `columns`), then `default`."""
    column = columns.get(filters.get("order_by") or "")
    if column is None:
        return stmt.order_by(*default)
    first = column.desc() if filters.get("order_dir") == "desc" else column.asc()
    return stmt.order_by(first, *default)
