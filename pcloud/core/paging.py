"""One paging mechanism for every list: the API's `page` calls and the pages' tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from pcloud.extensions import db


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select[Any], page: int = 1, page_size: int = 10, scalars: bool = True) -> Page:
    """Count the matching rows, then fetch one page. `stmt` must already be ordered."""
    total = db.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size))
    items = list(rows.scalars().all() if scalars else rows.all())
    return Page(items, int(total), page, page_size)
