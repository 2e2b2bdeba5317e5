"""Keyword search through a trigram index, with exactly the results of `column LIKE '%kw%'`.

SQLite: an FTS5 table with the `trigram` tokenizer per searched table (`<table>_fts`, external content,
kept in step by triggers; both made by migration 0008 for the users and the operation log, 0033 for the mail's
and the notices' titles). PostgreSQL: `pg_trgm` GIN indexes (`ix_<table>_<column>_trgm`) that serve
`LIKE '%kw%'` directly.

The LIKE condition is always kept: on SQLite the FTS match only narrows the candidates (its trigram
match is a superset of LIKE's: both ignore ASCII case), so the answer is LIKE's by construction.

Keywords shorter than three characters have no trigram. Where one is typed often and matches few rows (a
two-character Chinese name: 张伟), the column's characters and character pairs are kept in a table of their
own (`<table>_<column>_gram`: SHORT_SEARCHED, migration 0035), a lower-cased gram per row, kept in step by
triggers on both databases, whose primary key (gram, row_id) gives the rows holding a gram. Elsewhere a short
keyword is LIKE alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    any_,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy import column as sa_column

from pcloud.core import paging

MIN_TRIGRAM = 3

# table -> its searched columns (the FTS table's columns, the GIN indexes)
SEARCHED: dict[str, tuple[str, ...]] = {
    "sys_user": ("name", "phone"),
    "sys_action_log": ("name", "path"),
    "sys_mail": ("name",),  # the title
    "sys_notice": ("title",),
}


# table -> its columns whose 1-2 character keywords are answered by a gram table (a name: a two-character Chinese name)
SHORT_SEARCHED: dict[str, tuple[str, ...]] = {
    "sys_user": ("name",),
    "sys_action_log": ("name",),  # the operator's
}
GRAM_MAX = 2  # the longest gram kept: a longer keyword is the trigram index's


def gram_table_name(table: str, column: str) -> str:
    return f"{table}_{column}_gram"


def gram_table(metadata: MetaData, table: str, column: str) -> Table:
    """The model of a column's gram table (SHORT_SEARCHED): (gram, row_id), kept by triggers (migration 0035), never
    written by the application."""
    return Table(gram_table_name(table, column), metadata, Column("gram", Text, primary_key=True),
                 Column("row_id", Integer, primary_key=True), sqlite_with_rowid=False)


def uses_grams(column: Any, keyword: str) -> bool:
    return 0 < len(keyword) <= GRAM_MAX and column.name in SHORT_SEARCHED.get(column.table.name, ())


def starts_from_an_index(column: Any, keyword: str) -> bool:
    """Whether `join_matches` starts `keyword` in `column` from an index's matches (three characters or more: the
    trigram index; one or two in a SHORT_SEARCHED column: its grams) rather than checking every row."""
    return len(keyword) >= MIN_TRIGRAM or uses_grams(column, keyword)


def fts_table(table: str) -> str:
    return f"{table}_fts"


def trgm_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def _fts_phrase(keyword: str) -> str:
    return '"' + keyword.replace('"', '""') + '"'


def uses_fts(column: Any, keyword: str, dialect: str) -> bool:
    return dialect == "sqlite" and len(keyword) >= MIN_TRIGRAM and column.name in SEARCHED.get(column.table.name, ())


def holds_gram(column: Any, keyword: str, dialect: str) -> ColumnElement[bool]:
    """The row's `column` holds `keyword` (one or two characters, `uses_grams`) as a gram, lower-cased by the
    database as kept: a superset of LIKE's rows, read from the gram table's key."""
    grams = table(gram_table_name(column.table.name, column.name), sa_column("gram"), sa_column("row_id"))
    rows = select(grams.c.row_id).where(grams.c.gram == func.lower(literal(keyword)))
    if dialect == "postgresql":
        # the gram's rows as an array made first (an InitPlan), then looked up by id, whatever the statistics say: a
        # table of few distinct grams makes any gram's estimate thousands of rows, and reading every row (probing the
        # gram's key for each) the cheaper plan
        return column.table.c.id == any_(func.array(rows.scalar_subquery()))
    return column.table.c.id.in_(rows)


def contains(column: Any, keyword: str, dialect: str) -> ColumnElement[bool]:
    """`column LIKE '%keyword%'` (escaped), narrowed through the trigram index where one exists, or for one or two
    characters through the column's grams where it has some, unless a sample of the table's rows shows the matches
    plainly many (every row holding a common gram costs more to read than the table)."""
    if uses_grams(column, keyword) and paging.sample_estimate(
            select(column), lambda rows: rows.c[column.name].contains(keyword, autoescape=True),
            column.table.name) is not None:
        return column.contains(keyword, autoescape=True)
    return _narrowed(column, keyword, dialect)


def _narrowed(column: Any, keyword: str, dialect: str) -> ColumnElement[bool]:
    if uses_grams(column, keyword):
        return holds_gram(column, keyword, dialect) & contains_per_row(column, keyword)
    like = column.contains(keyword, autoescape=True)
    if not uses_fts(column, keyword, dialect):
        return like  # PostgreSQL: the GIN trigram index serves the LIKE itself
    fts = fts_table(column.table.name)
    rowids = select(literal_column("rowid")).select_from(text(fts)).where(_match(column, keyword))
    return column.table.c.id.in_(rowids) & like


def contains_per_row(column: Any, keyword: str) -> ColumnElement[bool]:
    """`column LIKE '%keyword%'`, written so that no trigram index can answer it: for a plan that reads the
    rows in the page's order and checks each (many matches: the page fills after a few rows). PostgreSQL
    misjudges how many rows a LIKE matches and would otherwise start from the GIN index, fetch every match
    and sort them (issue 12's plan tests show the difference at a million users)."""
    return (column + "").contains(keyword, autoescape=True)


def contains_any(columns: Sequence[Any], keyword: str, dialect: str, in_order: Select[Any]) -> ColumnElement[bool]:
    """Any of `columns` (of one searched table) contains `keyword`, exactly LIKE's rows, for a list read in the order
    of one of the table's indexes (a picker by name, a list newest first). `in_order` is that list over the table's
    live rows, `columns` selected, no other filter; a sample of its first rows (core.paging.sample_estimate) decides:
    where the matches are plainly many, each row is checked in the list's order (`contains_per_row`: a page fills
    within a few rows, while every match read from the trigram index and sorted costs more the larger the table);
    else the trigram index (or for one or two characters the grams) narrows the candidates (`contains`). A keyword
    of one or two characters in a column without grams (a phone) is LIKE, checked on every row in the list's order."""
    def matched(rows: Any) -> Any:
        return or_(*(rows.c[c.name].contains(keyword, autoescape=True) for c in columns))

    if not all(starts_from_an_index(c, keyword) for c in columns):
        return or_(*(c.contains(keyword, autoescape=True) for c in columns))
    if paging.sample_estimate(in_order, matched, columns[0].table.name) is not None:
        return or_(*(contains_per_row(c, keyword) for c in columns))
    return or_(*(_narrowed(c, keyword, dialect) for c in columns))


def _match(column: Any, keyword: str) -> Any:
    fts = fts_table(column.table.name)
    name = f"fts_{column.name}"
    return text(f"{fts}.{fts} MATCH :{name}").bindparams(**{name: f"{column.name} : {_fts_phrase(keyword)}"})


def join_matches(stmt: Select[Any], words: list[tuple[Any, str]], dialect: str) -> Select[Any]:
    """`stmt` restricted to rows whose each `column` contains its `keyword`, starting from the trigram
    index's matches (a join, so a LIMIT stops reading them early; `IN (subquery)` would read them all
    first). Every keyword of one table goes into one MATCH (`name : "a" AND phone : "b"`): the FTS
    table is joined once."""
    indexed = [(c, kw) for c, kw in words if uses_fts(c, kw, dialect)]
    for column, keyword in words:
        if uses_grams(column, keyword):
            # the rows holding the gram, each checked; the LIKE written so that PostgreSQL does not read it through
            # the GIN index, every entry of which a short keyword matches
            if dialect == "postgresql":
                stmt = stmt.where(holds_gram(column, keyword, dialect))
            else:  # a join, so that a LIMIT stops reading the gram's rows early
                grams = table(gram_table_name(column.table.name, column.name), sa_column("gram"), sa_column("row_id"))
                stmt = stmt.join(grams, grams.c.row_id == column.table.c.id).where(
                    grams.c.gram == func.lower(literal(keyword)))
            stmt = stmt.where(contains_per_row(column, keyword))
        else:
            stmt = stmt.where(column.contains(keyword, autoescape=True))
    if not indexed:
        return stmt
    table_name = indexed[0][0].table.name
    fts = table(fts_table(table_name), sa_column("rowid"))
    match = text(f"{fts_table(table_name)}.{fts_table(table_name)} MATCH :fts_query").bindparams(
        fts_query=_fts_query(indexed))
    return stmt.join(fts, fts.c.rowid == indexed[0][0].table.c.id).where(match)


def _fts_query(words: list[tuple[Any, str]]) -> str:
    """The FTS5 query matching rows whose each column contains its keyword (a phrase per column)."""
    return " AND ".join(f"{c.name} : {_fts_phrase(kw)}" for c, kw in words)


def agrees_with_like(keyword: str) -> bool:
    """Whether the trigram index's phrase match of `keyword` is exactly LIKE's: both fold ASCII case, but
    the tokenizer also folds other letters' case, which LIKE does not."""
    return len(keyword) >= MIN_TRIGRAM and all(ord(ch) < 128 or ch.lower() == ch.upper() for ch in keyword)


def index_agrees(words: list[tuple[Any, str]], dialect: str) -> bool:
    """Whether the trigram index alone gives exactly LIKE's rows for these words: not on PostgreSQL, nor
    for a keyword shorter than three characters or with a cased non-ASCII letter."""
    return bool(words) and dialect == "sqlite" and all(uses_fts(c, kw, dialect) and agrees_with_like(kw)
                                                       for c, kw in words)


def matching_rowids(words: list[tuple[Any, str]], dialect: str) -> Select[Any] | None:
    """SELECT rowid of every row (live or deleted) whose each `column` contains its `keyword`, answered by
    the trigram index alone (no table row read), or None where `index_agrees` does not hold."""
    if not index_agrees(words, dialect):
        return None
    fts = fts_table(words[0][0].table.name)
    return select(literal_column("rowid")).select_from(text(fts)).where(
        text(f"{fts} MATCH :fts_count_query").bindparams(fts_count_query=_fts_query(words)))


def row_matches(words: list[tuple[Any, str]], dialect: str) -> Any | None:
    """EXISTS: the current row of the searched table matches (one trigram-index lookup by its rowid), for a
    few rows, where listing every match would cost more; None where `index_agrees` does not hold."""
    if not index_agrees(words, dialect):
        return None
    table = words[0][0].table.name
    fts = fts_table(table)
    return text(f"EXISTS (SELECT 1 FROM {fts} WHERE {fts} MATCH :fts_probe_query AND {fts}.rowid = {table}.id)"
                ).bindparams(fts_probe_query=_fts_query(words))


# ---------------------------------------------------------------------------------------------
# DDL, as migrations 0008 and 0033 write it (they hold frozen copies), and for the benches' bulk loads.


def sqlite_create_sql(table: str) -> list[str]:
    cols = SEARCHED[table]
    fts = fts_table(table)
    col_list = ", ".join(cols)
    new_vals = ", ".join(f"new.{c}" for c in cols)
    old_vals = ", ".join(f"old.{c}" for c in cols)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({col_list}, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {col_list}) VALUES (new.id, {new_vals}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {col_list}) VALUES ('delete', old.id, {old_vals}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {col_list} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {col_list}) VALUES ('delete', old.id, {old_vals}); "
        f"INSERT INTO {fts}(rowid, {col_list}) VALUES (new.id, {new_vals}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop_sql(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def postgres_create_sql(table: str) -> list[str]:
    return [f"CREATE INDEX IF NOT EXISTS {trgm_index(table, c)} ON {table} USING gin ({c} gin_trgm_ops)"
            for c in SEARCHED[table]]


def postgres_drop_sql(table: str) -> list[str]:
    return [f"DROP INDEX IF EXISTS {trgm_index(table, c)}" for c in SEARCHED[table]]


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic autogenerate: the FTS tables (and their shadow tables) and the trigram indexes are made
    by hand in migrations 0008 and 0033, not from the models; leave them out of the comparison."""
    if type_ == "table" and name and any(name.startswith(fts_table(t)) for t in SEARCHED):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))
