"""a keyword of one or two characters in a user's or an operation log operator's name, through the name's grams

Revision ID: 0035_name_grams
Revises: 0034_notice_cell_align
Create Date: 2026-12-06 15:30:00

The user list's keyword and the operation log's 操作人 go through the trigram index of 0008, which has nothing to say
about a keyword of one or two characters: a two-character Chinese name (张伟), among the commonest searches of both,
read every row (about a second at a million users on either database). A gram table per column keeps, per row, every
character and pair of adjacent characters of the name, lower-cased by the database (gram, row_id: the primary key
gives a gram's rows), so such a keyword starts from its rows (pcloud.core.search.SHORT_SEARCHED). LIKE is still
applied to the rows found, so the answer is LIKE's: the lower-cased grams find a superset.

Kept in step by triggers on insert, delete and a change of the name (SQLite: row triggers, one statement each over
the positions 1..64, the columns' length; PostgreSQL: statement triggers over the transition tables, as 0009's),
and filled here from the rows already there. Frozen SQL.

A later SQLite batch migration that rebuilds sys_user or sys_action_log drops these triggers with the table: re-run
the SQL sqlite_master held for them, as 0011 does for the others.
"""
import sqlalchemy as sa
from alembic import op

revision = '0035_name_grams'
down_revision = '0034_notice_cell_align'
branch_labels = None
depends_on = None

# (table, column): both columns are VARCHAR(64)
GRAMMED = (("sys_user", "name"), ("sys_action_log", "name"))
POSITIONS = ", ".join(f"({i})" for i in range(1, 64 + 1))


def _sqlite_grams(name: str, row_id: str, source: str = "") -> str:
    """SELECT (gram, row_id) of every character and adjacent pair of `name`."""
    return (f"SELECT lower(substr({name}, k.column1, n.column1)) AS gram, {row_id} AS row_id "
            f"FROM {source}(VALUES {POSITIONS}) AS k, (VALUES (1), (2)) AS n "
            f"WHERE k.column1 + n.column1 - 1 <= length({name})")


def _sqlite_up(table: str, column: str) -> list[str]:
    grams = f"{table}_{column}_gram"
    add = f"INSERT OR IGNORE INTO {grams} (gram, row_id) {_sqlite_grams(f'new.{column}', 'new.id')};"
    remove = (f"DELETE FROM {grams} WHERE row_id = old.id AND gram IN "
              f"(SELECT g.gram FROM ({_sqlite_grams(f'old.{column}', 'old.id')}) AS g);")
    return [
        f"CREATE TRIGGER {grams}_ai AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {grams}_ad AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {grams}_au AFTER UPDATE OF {column} ON {table} WHEN old.{column} IS NOT new.{column} "
        f"BEGIN {remove} {add} END",
        f"INSERT OR IGNORE INTO {grams} (gram, row_id) {_sqlite_grams(f't.{column}', 't.id', f'{table} AS t, ')}",
    ]


def _postgres_up(table: str, column: str) -> list[str]:
    grams = f"{table}_{column}_gram"
    select_grams = (f"SELECT DISTINCT lower(substr(r.{column}, k, n)) AS gram, r.id AS row_id FROM {{rows}} AS r, "
                    f"generate_series(1, char_length(r.{column})) AS k, (VALUES (1), (2)) AS v(n) "
                    f"WHERE k + n - 1 <= char_length(r.{column})")
    renamed = (f"(SELECT o.id, {{side}}.{column} FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
               f"WHERE o.{column} IS DISTINCT FROM n.{column})")
    add = f"INSERT INTO {grams} (gram, row_id) {{grams}} ON CONFLICT DO NOTHING;"
    remove = f"DELETE FROM {grams} AS g USING ({{grams}}) AS gone WHERE g.gram = gone.gram AND g.row_id = gone.row_id;"
    bodies = {
        "ins": add.format(grams=select_grams.format(rows="new_rows")),
        "del": remove.format(grams=select_grams.format(rows="old_rows")),
        "upd": remove.format(grams=select_grams.format(rows=renamed.format(side="o"))) + " "
               + add.format(grams=select_grams.format(rows=renamed.format(side="n"))),
    }
    transitions = {"ins": ("INSERT", "NEW TABLE AS new_rows"), "del": ("DELETE", "OLD TABLE AS old_rows"),
                   "upd": ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows")}
    statements = []
    for kind, body in bodies.items():
        event, tables = transitions[kind]
        statements += [
            f"CREATE FUNCTION {grams}_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$",
            f"CREATE TRIGGER {grams}_{kind} AFTER {event} ON {table} REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {grams}_{kind}()"]
    return statements + [f"INSERT INTO {grams} (gram, row_id) {select_grams.format(rows=table)}"]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in GRAMMED:
        grams = f"{table}_{column}_gram"
        op.create_table(
            grams,
            sa.Column('gram', sa.Text(), nullable=False),
            sa.Column('row_id', sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint('gram', 'row_id', name=op.f(f'pk_{grams}')),
            sqlite_with_rowid=False,
        )
        for statement in _postgres_up(table, column) if postgres else _sqlite_up(table, column):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in GRAMMED:
        grams = f"{table}_{column}_gram"
        if postgres:
            for kind in ("ins", "del", "upd"):
                op.execute(f"DROP TRIGGER IF EXISTS {grams}_{kind} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {grams}_{kind}()")
        else:
            for kind in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {grams}_{kind}")
        op.drop_table(grams)
