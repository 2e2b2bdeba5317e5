"""One paging mechanism for every list: the API's `page` calls and the pages' tables.

`total` never counts a million rows: the count stops after `TOTAL_EXACT_LIMIT` rows (so it costs the
same at ten thousand and at a million rows). At or below the limit it is exact; above it the page answers
the planner's estimate (PostgreSQL) or the statistics' row count of the table (SQLite; never below the
limit) and says so: `Page.total_exact` is False and the API envelope carries `"totalExact": false`
(docs/API.md, Conventions).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, case, func, literal, select, text

from pcloud.extensions import db

# Counted exactly up to here (API.md: "at least 10,000").
TOTAL_EXACT_LIMIT = 10_000


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def capped_count(stmt: Select[Any], limit: int | None = None, in_order: bool = False) -> int:
    """The number of rows `stmt` matches, counting at most `limit + 1` (default TOTAL_EXACT_LIMIT + 1).
    `stmt` must not be DISTINCT (its columns are replaced): a semi-join (IN, EXISTS) lists each row once.
    `in_order`: counted in `stmt`'s order, so the plan reads the index of that order (the rows checked one
    by one, stopping at the limit), not the whole table."""
    limit = TOTAL_EXACT_LIMIT if limit is None else limit
    rows = stmt if in_order else stmt.order_by(None)
    inner = rows.with_only_columns(literal(1), maintain_column_froms=True).limit(limit + 1).subquery()
    return int(db.session.execute(select(func.count()).select_from(inner)).scalar_one())


def _table_rows(table: str, conn: Any = None) -> int:
    """Rows in `table` according to the planner statistics (0 when there are none), read on `conn`
    (default the session)."""
    conn = conn if conn is not None else db.session
    if db.engine.dialect.name == "postgresql":
        value = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                             {"t": table}).scalar()
        return max(0, int(value or 0))
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None:
        return 0  # never analysed yet
    stats = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}).scalars()
    return max((int(s.split()[0]) for s in stats if s), default=0)


def estimate_count(stmt: Select[Any], table: str | None = None) -> int:
    """A cheap estimate of the rows `stmt` matches: the planner's on PostgreSQL; on SQLite (which has no
    row estimates) the table's row count from its statistics when the list is unfiltered (`table` given),
    else 0 (the calling code then answers its lower bound)."""
    if db.engine.dialect.name == "postgresql":
        sql = stmt.order_by(None).compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])
    return _table_rows(table) if table else 0


def count_total(stmt: Select[Any], unfiltered_table: str | None = None, in_order: bool = False
                ) -> tuple[int, bool]:
    """(total, exact) for `stmt`, bounded in cost whatever the table's size (`in_order`: see capped_count)."""
    counted = capped_count(stmt, in_order=in_order)
    if counted <= TOTAL_EXACT_LIMIT:
        return counted, True
    try:
        estimate = estimate_count(stmt, unfiltered_table)
    except Exception:  # noqa: BLE001 - an estimate is a nicety; the lower bound is still true
        estimate = 0
    return max(estimate, TOTAL_EXACT_LIMIT + 1), False


SAMPLE_ROWS = 2000


def sample_estimate(base: Select[Any], match: Any, table: str) -> int | None:
    """For a keyword: whether the matches are plainly more than TOTAL_EXACT_LIMIT, judged on the first
    SAMPLE_ROWS rows of `base` (the list in page order, keyword left out), without asking the trigram
    index (whose cost grows with the table for keywords made of common trigrams). Returns the
    extrapolated estimate, or None when the matches may be few (then they are counted).

    `match(subquery)` is the keyword condition on the sampled rows' columns."""
    sample = base.limit(SAMPLE_ROWS).subquery()
    seen, hits = db.session.execute(select(func.count(), func.coalesce(
        func.sum(case((match(sample), 1), else_=0)), 0)).select_from(sample)).one()
    rows = _table_rows(table)
    if seen < SAMPLE_ROWS or hits < 20 or not rows:
        return None
    estimate = int(hits) * rows // int(seen)
    return estimate if estimate > 2 * TOTAL_EXACT_LIMIT else None


def scan_is_cheaper(matches: int, exact: bool, rows_needed: int, table: str, conn: Any = None) -> bool:
    """Whether reading the table in the page's order and checking the filter per row (about
    rows_needed * table_rows / matches rows) reads fewer rows than starting from the `matches` rows
    the filter's index gives and sorting them. More matches than the exact limit: always. `conn`: where
    to read the statistics (default the session)."""
    if not exact:
        return True
    if matches == 0:
        return False
    table_rows = _table_rows(table, conn)
    return table_rows > 0 and rows_needed * table_rows < matches * matches


def paginate(stmt: Select[Any], page: int = 1, page_size: int = 10, scalars: bool = True,
             unfiltered_table: str | None = None) -> Page:
    """Count the matching rows (capped, see above), then fetch one page. `stmt` must already be ordered.

    `unfiltered_table`: the list's table when `stmt` has no filter beyond the live rows, so an estimate
    can come from that table's statistics on SQLite."""
    total, exact = count_total(stmt, unfiltered_table)
    rows = db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size))
    items = list(rows.scalars().all() if scalars else rows.all())
    if not exact:
        # An estimate may be below what the pager has just shown: never claim fewer pages than seen.
        total = max(total, (page - 1) * page_size + len(items) + (1 if len(items) == page_size else 0))
    return Page(items, int(total), page, page_size, exact)


# ---------------------------------------------------------------------------------------------
# A list whose right plan must not depend on the statistics (SQLite has none until ANALYZE) writes the terms
# it must not be read through as expressions, which SQLite's planner does not answer from an index (its
# documented way: "disqualifying WHERE clause terms"). PostgreSQL plans by its statistics: left as is.


def unindexed(column: Any, dialect: str) -> Any:
    """`column` as a SQLite expression of the same value and order that no index answers (a WHERE term, an
    ORDER BY); `column` itself on PostgreSQL."""
    if dialect != "sqlite":
        return column
    if isinstance(column.type, Integer):
        return column + 0
    return column.op("||")(literal(""))  # text, and datetimes stored as fixed-width text: the same order


def newest_first_page(model: Any, newest: Any, counted: Select[Any], scanned: Any, *, keyword: bool,
                      estimate: int | None, unfiltered_table: str | None, page: int, page_size: int,
                      rows_of: Callable[[list[int]], dict[int, Any]] | None = None) -> Page:
    """A list's page, newest first (the operation log, the login log, the mail, the notices): a capped count
    through the filter's index (or a keyword's sampled estimate), then the page's ids read in time order, or (a
    keyword with few matches) the trigram index's matches sorted, written so that no statistics can change the
    plan; then those rows. `counted`: the filter's ids (`select(model.id)`); `scanned()`: the same ids checked
    row by row in time order; `newest`: the time column; `rows_of(ids)`: the page's items by id (default: the
    model's rows)."""
    table = model.__table__.name
    if estimate is not None:
        total, exact = estimate, False
    else:
        total, exact = count_total(counted, unfiltered_table=unfiltered_table)
    columns = (newest, model.id)
    if keyword and scan_is_cheaper(total, exact, page * page_size, table):
        ids = scanned()
    else:
        ids = counted
        if keyword:  # the trigram index's matches, sorted: not the time index read in order instead
            columns = tuple(unindexed(c, db.engine.dialect.name) for c in columns)
    rows = list(db.session.execute(ids.order_by(*(c.desc() for c in columns)).limit(page_size)
                                   .offset((page - 1) * page_size)).scalars())
    if not exact:
        total = max(total, (page - 1) * page_size + len(rows) + (1 if len(rows) == page_size else 0))
    if rows_of is None:
        def rows_of(ids: list[int]) -> dict[int, Any]:
            return {r.id: r for r in db.session.execute(select(model).where(model.id.in_(ids))).scalars()}
    found = rows_of(rows) if rows else {}
    return Page([found[i] for i in rows if i in found], total, page, page_size, exact)
