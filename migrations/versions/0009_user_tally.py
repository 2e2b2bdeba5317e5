"""live users per list filter (sys_user_tally), kept by triggers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 03:30:00

Counts per role, state, department and department subtree (over sys_dept_closure). The user
page's `total` for no filter, one role, one state or one department subtree is read from
these counts instead of counting users (issue 12). Triggers keep them exact for every writer:
SQLite row triggers; PostgreSQL statement triggers over transition tables behind a transaction-scoped
advisory lock, and a BEFORE DELETE row trigger that counts off a hard-deleted user's roles.
Also ix_sys_user_dead_id (deleted users by id) for the SQLite keyword count.
Frozen SQL (pcloud.users.tally builds the same statements).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

DEAD = {"sqlite_where": sa.text('deleted_at IS NOT NULL'), "postgresql_where": sa.text('deleted_at IS NOT NULL')}

SQLITE_UP = [
    "CREATE TRIGGER sys_user_tally_user_ai AFTER INSERT ON sys_user BEGIN INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'all', 0, 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'state', new.state, 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'dept', coalesce(new.dept_id, 0), 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'tree', ancestor_id, 1 FROM sys_dept_closure WHERE descendant_id = new.dept_id AND new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
    'CREATE TRIGGER sys_user_tally_user_bd BEFORE DELETE ON sys_user BEGIN DELETE FROM sys_user_role WHERE user_id = old.id; END',
    "CREATE TRIGGER sys_user_tally_user_ad AFTER DELETE ON sys_user BEGIN UPDATE sys_user_tally SET n = n - 1 WHERE old.deleted_at IS NULL AND ((kind = 'all' AND ref_id = 0) OR (kind = 'state' AND ref_id = old.state) OR (kind = 'dept' AND ref_id = coalesce(old.dept_id, 0)) OR (kind = 'tree' AND ref_id IN (SELECT ancestor_id FROM sys_dept_closure WHERE descendant_id = old.dept_id))); END",
    "CREATE TRIGGER sys_user_tally_user_au AFTER UPDATE OF deleted_at, state, dept_id ON sys_user WHEN old.deleted_at IS NOT new.deleted_at OR old.state IS NOT new.state OR old.dept_id IS NOT new.dept_id BEGIN UPDATE sys_user_tally SET n = n - 1 WHERE old.deleted_at IS NULL AND ((kind = 'all' AND ref_id = 0) OR (kind = 'state' AND ref_id = old.state) OR (kind = 'dept' AND ref_id = coalesce(old.dept_id, 0)) OR (kind = 'tree' AND ref_id IN (SELECT ancestor_id FROM sys_dept_closure WHERE descendant_id = old.dept_id))); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'all', 0, 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'state', new.state, 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'dept', coalesce(new.dept_id, 0), 1 WHERE new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'tree', ancestor_id, 1 FROM sys_dept_closure WHERE descendant_id = new.dept_id AND new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; UPDATE sys_user_tally SET n = n - 1 WHERE old.deleted_at IS NULL AND new.deleted_at IS NOT NULL AND kind = 'role' AND ref_id IN (SELECT role_id FROM sys_user_role WHERE user_id = new.id); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'role', role_id, 1 FROM sys_user_role WHERE user_id = new.id AND old.deleted_at IS NOT NULL AND new.deleted_at IS NULL ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
    "CREATE TRIGGER sys_user_tally_role_ai AFTER INSERT ON sys_user_role BEGIN INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'role', new.role_id, 1 WHERE EXISTS (SELECT 1 FROM sys_user WHERE id = new.user_id AND deleted_at IS NULL) ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
    "CREATE TRIGGER sys_user_tally_role_ad AFTER DELETE ON sys_user_role BEGIN UPDATE sys_user_tally SET n = n - 1 WHERE kind = 'role' AND ref_id = old.role_id AND EXISTS (SELECT 1 FROM sys_user WHERE id = old.user_id AND deleted_at IS NULL); END",
    "CREATE TRIGGER sys_user_tally_role_au AFTER UPDATE ON sys_user_role BEGIN UPDATE sys_user_tally SET n = n - 1 WHERE kind = 'role' AND ref_id = old.role_id AND EXISTS (SELECT 1 FROM sys_user WHERE id = old.user_id AND deleted_at IS NULL); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'role', new.role_id, 1 WHERE EXISTS (SELECT 1 FROM sys_user WHERE id = new.user_id AND deleted_at IS NULL) ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
    "CREATE TRIGGER sys_user_tally_tree_ai AFTER INSERT ON sys_dept_closure BEGIN INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'tree', new.ancestor_id, (SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = new.descendant_id) WHERE coalesce((SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = new.descendant_id), 0) <> 0 ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
    "CREATE TRIGGER sys_user_tally_tree_ad AFTER DELETE ON sys_dept_closure BEGIN UPDATE sys_user_tally SET n = n - coalesce((SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = old.descendant_id), 0) WHERE kind = 'tree' AND ref_id = old.ancestor_id; END",
    "CREATE TRIGGER sys_user_tally_tree_au AFTER UPDATE ON sys_dept_closure BEGIN UPDATE sys_user_tally SET n = n - coalesce((SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = old.descendant_id), 0) WHERE kind = 'tree' AND ref_id = old.ancestor_id; INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'tree', new.ancestor_id, (SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = new.descendant_id) WHERE coalesce((SELECT n FROM sys_user_tally WHERE kind = 'dept' AND ref_id = new.descendant_id), 0) <> 0 ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END",
]
SQLITE_DOWN = [
    'DROP TRIGGER IF EXISTS sys_user_tally_user_ai',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_bd',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_ad',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_au',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_ai',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_ad',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_au',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_ai',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_ad',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_au',
]
POSTGRES_UP = [
    "CREATE OR REPLACE FUNCTION sys_user_tally_user_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'all'::varchar AS kind, 0 AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'state'::varchar AS kind, state AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'dept'::varchar AS kind, coalesce(dept_id, 0) AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, 1 AS n FROM new_rows r JOIN sys_dept_closure c ON c.descendant_id = r.dept_id WHERE r.deleted_at IS NULL) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_user_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF EXISTS (SELECT 1 FROM new_rows nw JOIN old_rows od ON od.id = nw.id WHERE nw.deleted_at IS DISTINCT FROM od.deleted_at OR nw.state IS DISTINCT FROM od.state OR nw.dept_id IS DISTINCT FROM od.dept_id) THEN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'all'::varchar AS kind, 0 AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'state'::varchar AS kind, state AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'dept'::varchar AS kind, coalesce(dept_id, 0) AS ref_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, 1 AS n FROM new_rows r JOIN sys_dept_closure c ON c.descendant_id = r.dept_id WHERE r.deleted_at IS NULL UNION ALL SELECT 'all'::varchar AS kind, 0 AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'state'::varchar AS kind, state AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'dept'::varchar AS kind, coalesce(dept_id, 0) AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, -1 AS n FROM old_rows r JOIN sys_dept_closure c ON c.descendant_id = r.dept_id WHERE r.deleted_at IS NULL UNION ALL SELECT 'role'::varchar AS kind, ur.role_id AS ref_id, CASE WHEN nw.deleted_at IS NULL THEN 1 ELSE -1 END AS n FROM new_rows nw JOIN old_rows od ON od.id = nw.id JOIN sys_user_role ur ON ur.user_id = nw.id WHERE (od.deleted_at IS NULL) <> (nw.deleted_at IS NULL)) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; END IF; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_user_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'all'::varchar AS kind, 0 AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'state'::varchar AS kind, state AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'dept'::varchar AS kind, coalesce(dept_id, 0) AS ref_id, -1 AS n FROM old_rows WHERE deleted_at IS NULL UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, -1 AS n FROM old_rows r JOIN sys_dept_closure c ON c.descendant_id = r.dept_id WHERE r.deleted_at IS NULL) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_role_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'role'::varchar AS kind, r.role_id AS ref_id, 1 AS n FROM new_rows r JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_role_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'role'::varchar AS kind, r.role_id AS ref_id, 1 AS n FROM new_rows r JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL UNION ALL SELECT 'role'::varchar AS kind, r.role_id AS ref_id, -1 AS n FROM old_rows r JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_role_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'role'::varchar AS kind, r.role_id AS ref_id, -1 AS n FROM old_rows r JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_tree_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, 1 * t.n AS n FROM new_rows c JOIN sys_user_tally t ON t.kind = 'dept' AND t.ref_id = c.descendant_id) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_tree_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, 1 * t.n AS n FROM new_rows c JOIN sys_user_tally t ON t.kind = 'dept' AND t.ref_id = c.descendant_id UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, -1 * t.n AS n FROM old_rows c JOIN sys_user_tally t ON t.kind = 'dept' AND t.ref_id = c.descendant_id) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION sys_user_tally_tree_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(499850701945); INSERT INTO sys_user_tally (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM (SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, -1 * t.n AS n FROM old_rows c JOIN sys_user_tally t ON t.kind = 'dept' AND t.ref_id = c.descendant_id) AS d GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id ON CONFLICT (kind, ref_id) DO UPDATE SET n = sys_user_tally.n + excluded.n; RETURN NULL; END $$",
    'CREATE TRIGGER sys_user_tally_user_ins AFTER INSERT ON sys_user REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_user_ins()',
    'CREATE TRIGGER sys_user_tally_user_upd AFTER UPDATE ON sys_user REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_user_upd()',
    'CREATE TRIGGER sys_user_tally_user_del AFTER DELETE ON sys_user REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_user_del()',
    'CREATE TRIGGER sys_user_tally_role_ins AFTER INSERT ON sys_user_role REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_role_ins()',
    'CREATE TRIGGER sys_user_tally_role_upd AFTER UPDATE ON sys_user_role REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_role_upd()',
    'CREATE TRIGGER sys_user_tally_role_del AFTER DELETE ON sys_user_role REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_role_del()',
    'CREATE TRIGGER sys_user_tally_tree_ins AFTER INSERT ON sys_dept_closure REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_tree_ins()',
    'CREATE TRIGGER sys_user_tally_tree_upd AFTER UPDATE ON sys_dept_closure REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_tree_upd()',
    'CREATE TRIGGER sys_user_tally_tree_del AFTER DELETE ON sys_dept_closure REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sys_user_tally_tree_del()',
    'CREATE OR REPLACE FUNCTION sys_user_tally_user_bd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM sys_user_role WHERE user_id = OLD.id; RETURN OLD; END $$',
    'CREATE TRIGGER sys_user_tally_user_bd BEFORE DELETE ON sys_user FOR EACH ROW EXECUTE FUNCTION sys_user_tally_user_bd()',
]
POSTGRES_DOWN = [
    'DROP TRIGGER IF EXISTS sys_user_tally_user_ins ON sys_user',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_upd ON sys_user',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_del ON sys_user',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_ins ON sys_user_role',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_upd ON sys_user_role',
    'DROP TRIGGER IF EXISTS sys_user_tally_role_del ON sys_user_role',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_ins ON sys_dept_closure',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_upd ON sys_dept_closure',
    'DROP TRIGGER IF EXISTS sys_user_tally_tree_del ON sys_dept_closure',
    'DROP TRIGGER IF EXISTS sys_user_tally_user_bd ON sys_user',
    'DROP FUNCTION IF EXISTS sys_user_tally_user_ins()',
    'DROP FUNCTION IF EXISTS sys_user_tally_user_upd()',
    'DROP FUNCTION IF EXISTS sys_user_tally_user_del()',
    'DROP FUNCTION IF EXISTS sys_user_tally_role_ins()',
    'DROP FUNCTION IF EXISTS sys_user_tally_role_upd()',
    'DROP FUNCTION IF EXISTS sys_user_tally_role_del()',
    'DROP FUNCTION IF EXISTS sys_user_tally_tree_ins()',
    'DROP FUNCTION IF EXISTS sys_user_tally_tree_upd()',
    'DROP FUNCTION IF EXISTS sys_user_tally_tree_del()',
    'DROP FUNCTION IF EXISTS sys_user_tally_user_bd()',
]
REBUILD = [
    'DELETE FROM sys_user_tally',
    "INSERT INTO sys_user_tally (kind, ref_id, n) SELECT 'all' AS kind, 0 AS ref_id, count(*) AS n FROM sys_user WHERE deleted_at IS NULL UNION ALL SELECT 'state', state, count(*) FROM sys_user WHERE deleted_at IS NULL GROUP BY state UNION ALL SELECT 'dept', coalesce(dept_id, 0), count(*) FROM sys_user WHERE deleted_at IS NULL GROUP BY coalesce(dept_id, 0) UNION ALL SELECT 'role', r.role_id, count(*) FROM sys_user_role r JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL GROUP BY r.role_id UNION ALL SELECT 'tree', c.ancestor_id, count(*) FROM sys_user u JOIN sys_dept_closure c ON c.descendant_id = u.dept_id WHERE u.deleted_at IS NULL GROUP BY c.ancestor_id",
]


def upgrade():
    op.create_table(
        'sys_user_tally',
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('kind', 'ref_id', name=op.f('pk_sys_user_tally')),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in (SQLITE_UP if sqlite else POSTGRES_UP) + REBUILD:
        op.execute(sql)
    # Not a batch operation: rebuilding sys_user would drop its triggers (FTS and these).
    op.create_index('ix_sys_user_dead_id', 'sys_user', ['id'], unique=False, **DEAD)


def downgrade():
    op.drop_index('ix_sys_user_dead_id', table_name='sys_user', **DEAD)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in (SQLITE_DOWN if sqlite else POSTGRES_DOWN):
        op.execute(sql)
    op.drop_table('sys_user_tally')
