"""a user's name's characters and character pairs (sys_user_name_gram): a one- or two-character keyword finds its users

Revision ID: 0035_user_name_grams
Revises: 0034_notice_cell_align
Create Date: 2026-12-06 15:30:00

The user list's keyword goes through the trigram index of 0008, which has nothing to say about a keyword of one or two
characters: a two-character Chinese name (张伟), among the commonest searches of the list, read every user
(about a second at a million users on either database). sys_user_name_gram keeps, per user, every character and
pair of adjacent characters of the name, lower-cased by the database (gram, row_id: the primary key gives a gram's
users), so such a keyword starts from its users (pcloud.core.search.SHORT_SEARCHED). LIKE is still applied to the
rows found, so the answer is LIKE's: the lower-cased grams find a superset.

Kept in step by triggers on insert, delete and a change of the name (SQLite: row triggers, one statement each over
the positions 1..64, the column's length; PostgreSQL: statement triggers over the transition tables, as 0009's),
and filled here from the users already there.
Frozen SQL.

A later SQLite batch migration that rebuilds sys_user drops these triggers with the table: re-run the SQL
sqlite_master held for them, as 0011 does for the others.
"""
import sqlalchemy as sa
from alembic import op

revision = '0035_user_name_grams'
down_revision = '0034_notice_cell_align'
branch_labels = None
depends_on = None

NAME_MAX = 64  # sys_user.name's length
POSITIONS = ", ".join(f"({i})" for i in range(1, NAME_MAX + 1))


def _sqlite_grams(name: str, row_id: str, source: str = "") -> str:
    """SELECT (gram, row_id) of every character and adjacent pair of `name`."""
    return (f"SELECT lower(substr({name}, k.column1, n.column1)) AS gram, {row_id} AS row_id "
            f"FROM {source}(VALUES {POSITIONS}) AS k, (VALUES (1), (2)) AS n "
            f"WHERE k.column1 + n.column1 - 1 <= length({name})")


SQLITE_UP = [
    "CREATE TRIGGER sys_user_name_gram_ai AFTER INSERT ON sys_user BEGIN "
    f"INSERT OR IGNORE INTO sys_user_name_gram (gram, row_id) {_sqlite_grams('new.name', 'new.id')}; END",
    "CREATE TRIGGER sys_user_name_gram_ad AFTER DELETE ON sys_user BEGIN "
    "DELETE FROM sys_user_name_gram WHERE row_id = old.id AND gram IN "
    f"(SELECT g.gram FROM ({_sqlite_grams('old.name', 'old.id')}) AS g); END",
    "CREATE TRIGGER sys_user_name_gram_au AFTER UPDATE OF name ON sys_user WHEN old.name IS NOT new.name BEGIN "
    "DELETE FROM sys_user_name_gram WHERE row_id = old.id AND gram IN "
    f"(SELECT g.gram FROM ({_sqlite_grams('old.name', 'old.id')}) AS g); "
    f"INSERT OR IGNORE INTO sys_user_name_gram (gram, row_id) {_sqlite_grams('new.name', 'new.id')}; END",
    f"INSERT OR IGNORE INTO sys_user_name_gram (gram, row_id) {_sqlite_grams('u.name', 'u.id', 'sys_user AS u, ')}",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS sys_user_name_gram_{s}" for s in ("ai", "ad", "au")]

# PostgreSQL: statement-level triggers over the transition tables, as 0009's kept counts (a bulk insert of users
# writes their grams in one statement)
_PG_GRAMS = ("SELECT DISTINCT lower(substr(r.name, k, n)) AS gram, r.id AS row_id FROM {rows} AS r, "
             "generate_series(1, char_length(r.name)) AS k, (VALUES (1), (2)) AS v(n) "
             "WHERE k + n - 1 <= char_length(r.name)")
_PG_RENAMED = ("(SELECT o.id, {side}.name FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
               "WHERE o.name IS DISTINCT FROM n.name)")
_PG_ADD = "INSERT INTO sys_user_name_gram (gram, row_id) {grams} ON CONFLICT DO NOTHING;"
_PG_REMOVE = ("DELETE FROM sys_user_name_gram AS g USING ({grams}) AS gone "
              "WHERE g.gram = gone.gram AND g.row_id = gone.row_id;")
POSTGRES_UP = [
    "CREATE FUNCTION sys_user_name_gram_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_PG_ADD.format(grams=_PG_GRAMS.format(rows='new_rows'))} RETURN NULL; END $$",
    "CREATE FUNCTION sys_user_name_gram_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_PG_REMOVE.format(grams=_PG_GRAMS.format(rows='old_rows'))} RETURN NULL; END $$",
    "CREATE FUNCTION sys_user_name_gram_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_PG_REMOVE.format(grams=_PG_GRAMS.format(rows=_PG_RENAMED.format(side='o')))} "
    f"{_PG_ADD.format(grams=_PG_GRAMS.format(rows=_PG_RENAMED.format(side='n')))} RETURN NULL; END $$",
    "CREATE TRIGGER sys_user_name_gram_ins AFTER INSERT ON sys_user REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION sys_user_name_gram_ins()",
    "CREATE TRIGGER sys_user_name_gram_del AFTER DELETE ON sys_user REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION sys_user_name_gram_del()",
    "CREATE TRIGGER sys_user_name_gram_upd AFTER UPDATE ON sys_user REFERENCING NEW TABLE AS new_rows "
    "OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_name_gram_upd()",
    f"INSERT INTO sys_user_name_gram (gram, row_id) {_PG_GRAMS.format(rows='sys_user')}",
]
POSTGRES_DOWN = [statement for kind in ("ins", "del", "upd") for statement in (
    f"DROP TRIGGER IF EXISTS sys_user_name_gram_{kind} ON sys_user",
    f"DROP FUNCTION IF EXISTS sys_user_name_gram_{kind}()")]


def upgrade() -> None:
    op.create_table(
        'sys_user_name_gram',
        sa.Column('gram', sa.Text(), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('gram', 'row_id', name=op.f('pk_sys_user_name_gram')),
        sqlite_with_rowid=False,
    )
    for statement in POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table('sys_user_name_gram')
