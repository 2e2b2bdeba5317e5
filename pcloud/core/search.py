"""Keyword search through a trigram index, with exactly the results of `column LIKE '%kw%'`.

SQLite: an FTS5 table with the `trigram` tokenizer per searched table (`<table>_fts`, external content,
kept in step by triggers; both made by migration 0008). PostgreSQL: `pg_trgm` GIN indexes
(`ix_<table>_<column>_trgm`) that serve `LIKE '%kw%'` directly.

The LIKE condition is always kept: on SQLite the FTS match only narrows the candidates (its trigram
match is a superset of LIKE's: both ignore ASCII case), so the answer is LIKE's by construction.
Keywords shorter than three characters have no trigram and fall back to LIKE alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal_column, select, text

MIN_TRIGRAM = 3

# table -> its searched columns (the FTS table's columns, the GIN indexes)
SEARCHED: dict[str, tuple[str, ...]] = {
    "sys_user": ("name", "phone"),
    "sys_action_log": ("name", "path"),
}


def fts_table(table: str) -> str:
    return f"{table}_fts"


def trgm_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def _fts_phrase(keyword: str) -> str:
    return '"' + keyword.replace('"', '""') + '"'


def contains(column: Any, keyword: str, dialect: str) -> ColumnElement[bool]:
    """`column LIKE '%keyword%'` (escaped), narrowed through the trigram index where one exists."""
    like = column.contains(keyword, autoescape=True)
    table = column.table.name
    if dialect != "sqlite" or len(keyword) < MIN_TRIGRAM or column.name not in SEARCHED.get(table, ()):
        return like  # PostgreSQL: the GIN trigram index serves the LIKE itself
    fts = fts_table(table)
    match = f"{column.name} : {_fts_phrase(keyword)}"
    rowids = select(literal_column("rowid")).select_from(text(fts)).where(
        text(f"{fts} MATCH :fts_{column.name}").bindparams(**{f"fts_{column.name}": match}))
    pk = column.table.c.id
    return pk.in_(rowids) & like


# ---------------------------------------------------------------------------------------------
# DDL, used by migration 0008 (frozen copies would be safer; these names never change meaning).


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
    by hand in migration 0008, not from the models; leave them out of the comparison."""
    if type_ == "table" and name and any(name.startswith(fts_table(t)) for t in SEARCHED):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))
