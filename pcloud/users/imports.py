"""用户导入: users from an .xlsx, checked row by row, then written all or nothing.

The rules are the users' own (users.service: the phone rule, the password rule, the reach rule of the roles
one hands out and of the users one changes); what this file adds is doing them for a file: the places and
roles are read once into maps, rows are streamed from the workbook (core.xlsx.read_rows) and handled in
batches, and a phone seen earlier in the file is looked up in a temporary table of the transaction, so
neither the file nor its phones are held in memory (issue 21: 100,000 rows in bounded memory).
"""

from __future__ import annotations

import json
import secrets
import tempfile
import unicodedata
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from pcloud.core import recorder
from pcloud.core.errors import Conflict, Invalid
from pcloud.core.i18n import LANGUAGES, said
from pcloud.core.messages import N_
from pcloud.core.passwords import generate_password, hash_generated_password, hash_passwords
from pcloud.core.schemas import limit_of, refused_character, refused_character_message
from pcloud.core.security import SUPER_ADMIN, Principal, current_principal_id_name
from pcloud.core.timefmt import utcnow
from pcloud.core.xlsx import BadWorkbook, read_rows
from pcloud.datascope import service as datascope
from pcloud.depts.models import Dept
from pcloud.extensions import db
from pcloud.grades.models import Grade
from pcloud.posts.models import Post
from pcloud.roles.models import Role
from pcloud.sessions import service as sessions
from pcloud.users import service
from pcloud.users.lookups import phone_is_valid
from pcloud.users.models import User, user_role

# The template's columns, in order (API.md, Users: Import), and the rule each one's comment states. The
# titles are source strings: the template is written in the request's language, and a file's header is
# accepted in either language (a template downloaded in one language may be filled in by someone in the other).
COLUMNS = ["用户名*", "手机号码*", "部门", "岗位", "职级", "角色", "状态", "初始密码"]
TITLES = [N_("用户名"), N_("手机号码"), N_("部门"), N_("岗位"), N_("职级"), N_("角色"), N_("状态"), N_("初始密码")]
NOTES = [
    N_("必填，不超过 %(max)s 个字符"),
    N_("必填，11 位手机号码（请按文本填写），在文件内和系统中都不能重复"),
    N_("部门的完整路径，用 / 分隔上下级，例如：总部/研发中心；可不填"),
    N_("岗位编码或岗位名称；可不填"),
    N_("职级名称；可不填"),
    N_("角色编码或角色名称，多个用 、 分隔，例如：ROLE_ADMIN、财务；只能分配您有权分配的角色；可不填"),
    N_("正常 或 禁用；不填为正常"),
    None,  # the password's column has no comment: what is typed there is read by whoever opens the file
]
NAME, PHONE, DEPT, POST, GRADE, ROLES, STATE, PASSWORD = range(len(COLUMNS))
REQUIRED = (NAME, PHONE)
# A state cell in either language (the English compared without regard to case).
STATES = {"正常": 0, "启用": 0, "0": 0, "停用": 1, "禁用": 1, "1": 1, "active": 0, "enabled": 0, "disabled": 1}
ROLE_SEPARATORS = ("、", ",", "，", ";", "；")
BATCH = 500
_NAME_MAX, _PHONE_MAX = limit_of(User.__table__.c.name), limit_of(User.__table__.c.phone)
# A cell said back in an error message is cut to this many characters: 1,000 errors each echoing a 32,767-character
# cell (Excel's most) made a 38 KB file answer 32 MB, and a file made by hand may hold 1 MiB in a cell (core.xlsx):
# cells of 900,000 characters answered 72 MB for 20 rows of a 0.7 MB file.
SHOWN_MAX = 100


@dataclass
class ImportResult:
    """What the import answers (API.md): counts, the errors by row and column (the first ERROR_LIST_MAX of
    `error_count`), and the generated passwords, listed once."""

    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = True
    # The generated passwords are derived from this key and the phone (core.passwords.generate_password), and only
    # the new users' ids and rows are kept (8 + 4 bytes each), so the list is written from the database after the
    # commit (passwords()) instead of being held in memory; the key dies with the request.
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    generated_ids: array = field(default_factory=lambda: array("q"), repr=False)
    generated_rows: array = field(default_factory=lambda: array("l"), repr=False)

    def error(self, row: int, column: int | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < int(current_app.config.get("PCLOUD_IMPORT_ERROR_LIST_MAX", 1000)):
            self.errors.append({"row": row, "column": gettext(TITLES[column]) if column is not None else "",
                                "message": message})

    def note_outcome(self) -> None:
        """The operation log's sentence (its source string and values, read in each reader's language): an import
        with errors wrote nothing and is logged `fail`."""
        if self.error_count:
            recorder.refused(said(N_("发现 %(errors)s 处错误，未导入任何数据"), errors=self.error_count))
        elif not self.dry_run:
            recorder.outcome_message(said(N_("导入用户：新增 %(created)s 个，更新 %(updated)s 个"),
                                          created=self.created, updated=self.updated))
        else:
            recorder.outcome_message(said(N_("检查导入文件：%(total)s 行，无错误"), total=self.total))

    def as_dict(self) -> dict[str, Any]:
        """Keyed as users.schemas.UserImportOut reads it, the passwords left out (see passwords())."""
        return {"total": self.total, "created": self.created, "updated": self.updated, "skipped": self.skipped,
                "error_count": self.error_count, "errors": self.errors, "dry_run": self.dry_run}

    def passwords(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """{row, phone, name, password} of each generated password, in the file's order, read back in batches
        from the committed users (empty after a dry run or an error)."""
        for start in range(0, len(self.generated_ids), batch):
            ids = list(self.generated_ids[start:start + batch])
            found = {r.id: r for r in db.session.execute(select(User.id, User.phone, User.name).where(
                User.id.in_(ids))).all()}
            for user_id, number in zip(ids, self.generated_rows[start:start + batch], strict=True):
                user = found.get(user_id)
                if user is not None:
                    yield {"row": number, "phone": user.phone, "name": user.name,
                           "password": generate_password(self.key, user.phone)}
            db.session.rollback()  # a read per batch: no transaction held while the answer is sent


@dataclass
class _Row:
    number: int
    name: str
    phone: str
    dept_id: int | None
    post_id: int | None
    grade_id: int | None
    role_ids: list[int] | None
    state: int | None
    password: str


def template_headers() -> list[str]:
    """The template's header row in the request's language (a required column's title ends in *)."""
    return [gettext(title) + ("*" if column in REQUIRED else "") for column, title in enumerate(TITLES)]


def header_titles() -> list[list[str]]:
    """The header rows a file may start with (the * of required columns dropped): one per language, the
    English in lower case (compared without regard to case)."""
    accepted = [list(TITLES)]
    for code in LANGUAGES[1:]:
        with force_locale(code):
            accepted.append([gettext(title).lower() for title in TITLES])
    return accepted


def template_path() -> str:
    from pcloud.core.xlsx import write_template

    notes = [None if note is None else gettext(note, max=_NAME_MAX) if "%(max)s" in note else gettext(note)
             for note in NOTES]
    return write_template(template_headers(), notes, gettext("用户导入"))


# ---------------------------------------------------------------------------------------------
# The maps a row is checked against, read once per import


def _unique_map(pairs: Iterable[tuple[str | None, int]]) -> dict[str, int | None]:
    """key -> id, None where two records share the key (the cell is then ambiguous)."""
    out: dict[str, int | None] = {}
    for key, ident in pairs:
        if key:
            out[key] = None if key in out and out[key] != ident else ident
    return out


def _dept_paths() -> dict[str, int | None]:
    rows = db.session.execute(select(Dept.id, Dept.parent_id, Dept.name).where(Dept.deleted_at.is_(None))).all()
    by_id = {r.id: r for r in rows}

    def path(dept_id: int) -> str | None:
        names, seen, node = [], set(), by_id.get(dept_id)
        while node is not None:
            if node.id in seen:
                return None
            seen.add(node.id)
            names.append(node.name.strip())
            if not node.parent_id:
                return "/".join(reversed(names))
            node = by_id.get(node.parent_id)
        return None  # below a deleted department: not reachable by a path

    return _unique_map((path(r.id), r.id) for r in rows)


class _Lookups:
    def __init__(self, principal: Principal | None) -> None:
        self.depts = _dept_paths()
        posts = db.session.execute(select(Post.id, Post.code, Post.name).where(Post.deleted_at.is_(None))).all()
        self.posts = _unique_map([(p.code, p.id) for p in posts])
        self.posts.update({k: v for k, v in _unique_map([(p.name, p.id) for p in posts]).items()
                           if k not in self.posts})
        self.grades = _unique_map(db.session.execute(select(Grade.name, Grade.id)
                                                     .where(Grade.deleted_at.is_(None))).all())
        roles = service.role_choices()
        self.roles = _unique_map([(r.role_code, r.id) for r in roles])
        # a role's name as stored, and a built-in one's as the pages and the export show it in this language
        self.roles.update({k: v for k, v in _unique_map([(r.name, r.id) for r in roles] + [
            (r.shown_name, r.id) for r in roles if r.shown_name != r.name]).items() if k not in self.roles})
        # within reach: grants, executors and a data scope no wider than the principal's own (the rule users.service
        # applies to one user)
        self.assignable = {r.id for r in service.assignable_roles(principal)}
        self.super_admin_ids = {r.id for r in roles if r.role_code == SUPER_ADMIN}
        self.in_scope = _scope_check(principal)
        self.typed_passwords = 0
        self.max_typed_passwords = int(current_app.config.get("PCLOUD_IMPORT_MAX_TYPED_PASSWORDS", 500))


def _scope_check(principal: Principal | None) -> Callable[[int | None], bool]:
    """Whether the members of a department lie within the principal's data scope (datascope: its departments read
    once, then one set lookup per row). No principal (the command line) reaches everyone."""
    if principal is None:
        return lambda dept_id: True
    return datascope.scope_of(principal).covers_dept


def _shown(value: str, limit: int = SHOWN_MAX) -> str:
    """A cell's value as an error message says it: cut to `limit` characters (… marks the cut), and every control or
    format character written as [U+XXXX]. Invisible, such a character is often why a name did not match; and a
    right-to-left override (U+202E) would otherwise turn the rest of the message around."""
    cut = value[:limit]
    shown = "".join(f"[U+{ord(ch):04X}]" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in cut)
    return shown + ("…" if len(value) > limit else "")


def _lookup(table: dict[str, int | None], key: str) -> tuple[bool, int | None]:
    """(found, id): found False for an unknown key; id None for an ambiguous one."""
    if key not in table:
        return False, None
    return True, table[key]


# ---------------------------------------------------------------------------------------------
# One row


def _check_row(number: int, cells: list[str], look: _Lookups, result: ImportResult) -> _Row | None:
    """The row's values, or None after reporting each wrong cell."""
    before = result.error_count
    name, phone = cells[NAME], cells[PHONE]
    if not name:
        result.error(number, NAME, gettext("用户名不能为空"))
    elif len(name) > _NAME_MAX:
        result.error(number, NAME, gettext("用户名不能超过 %(max)s 个字符", max=_NAME_MAX))
    elif (found := refused_character(name)) is not None:  # the rule of every other door (core.schemas)
        result.error(number, NAME, refused_character_message(found))
    if not phone:
        result.error(number, PHONE, gettext("手机号码不能为空"))
    elif len(phone) > _PHONE_MAX or not phone_is_valid(phone):
        result.error(number, PHONE, gettext("手机号格式不正确：%(phone)s", phone=_shown(phone, _PHONE_MAX)))
    dept_id = post_id = grade_id = None
    if cells[DEPT]:
        path = "/".join(part.strip() for part in cells[DEPT].split("/"))
        found, dept_id = _lookup(look.depts, path)
        if not found:
            result.error(number, DEPT, gettext("部门不存在：%(path)s（请填写完整路径，如 总部/研发中心）",
                                               path=_shown(path)))
        elif dept_id is None:
            result.error(number, DEPT, gettext("部门路径「%(path)s」对应多个部门，请先修改重名部门", path=_shown(path)))
        elif not look.in_scope(dept_id):
            result.error(number, DEPT, gettext("部门「%(path)s」不在您的数据权限范围内", path=_shown(path)))
    if cells[POST]:
        found, post_id = _lookup(look.posts, cells[POST])
        if not found:
            result.error(number, POST, gettext("岗位不存在：%(post)s", post=_shown(cells[POST])))
        elif post_id is None:
            result.error(number, POST, gettext("岗位名称「%(post)s」对应多个岗位，请填写岗位编码",
                                               post=_shown(cells[POST])))
    if cells[GRADE]:
        found, grade_id = _lookup(look.grades, cells[GRADE])
        if not found:
            result.error(number, GRADE, gettext("职级不存在：%(grade)s", grade=_shown(cells[GRADE])))
        elif grade_id is None:
            result.error(number, GRADE, gettext("职级名称「%(grade)s」对应多个职级", grade=_shown(cells[GRADE])))
    role_ids = None
    if cells[ROLES]:
        text_ = cells[ROLES]
        for sep in ROLE_SEPARATORS[1:]:
            text_ = text_.replace(sep, ROLE_SEPARATORS[0])
        role_ids = []
        for key in dict.fromkeys(k.strip() for k in text_.split(ROLE_SEPARATORS[0]) if k.strip()):
            found, role_id = _lookup(look.roles, key)
            if not found:
                result.error(number, ROLES, gettext("角色不存在：%(role)s", role=_shown(key)))
            elif role_id is None:
                result.error(number, ROLES, gettext("角色名称「%(role)s」对应多个角色，请填写角色编码",
                                                    role=_shown(key)))
            elif role_id not in look.assignable:
                result.error(number, ROLES, gettext("角色「%(role)s」超出了您的权限范围，不能分配",
                                                    role=_shown(key)))
            else:
                role_ids.append(role_id)
    state = None
    if cells[STATE]:
        state = STATES.get(cells[STATE], STATES.get(cells[STATE].lower()))
        if state is None:
            result.error(number, STATE, gettext("状态只能填写 正常 或 禁用：%(state)s", state=_shown(cells[STATE])))
    password = cells[PASSWORD]
    if password:
        problem = service.password_problem(password)
        look.typed_passwords += 1
        if problem:
            result.error(number, PASSWORD, problem)
        elif look.typed_passwords > look.max_typed_passwords:
            # each typed password is hashed at the configured bcrypt cost (~0.25 s): a file full of them would
            # hold the request for hours; generated ones cost microseconds (core.passwords)
            result.error(number, PASSWORD,
                         gettext("一次导入最多填写 %(max)s 个初始密码（每个都要按安全强度加密，耗时较长），"
                                                   "其余请留空，由系统生成随机密码", max=look.max_typed_passwords))
    if result.error_count > before:
        return None
    return _Row(number, name, phone, dept_id, post_id, grade_id, role_ids, state, password)


# ---------------------------------------------------------------------------------------------
# The file


def import_users(stream: IO[bytes], principal: Principal | None, dry_run: bool = True,
                 update_existing: bool = False) -> ImportResult:
    """Read the whole file, report every wrong cell, and unless `dry_run` or any error, write every row in one
    transaction. A phone taken meanwhile by someone else (a parallel create) fails the write as a whole: the
    unique index refuses it, the transaction is rolled back, and the principal answers 409."""
    result = ImportResult(dry_run=dry_run)
    rows = read_rows(stream, len(COLUMNS))
    header = next(rows, None)
    if header is None or not _is_template_header(header[1]):
        raise Invalid(gettext("文件第一行不是导入模板的表头，请下载模板后按模板填写：%(titles)s",
                              titles=gettext("、").join(gettext(title) for title in TITLES)))
    spooling = not dry_run and db.engine.dialect.name == "sqlite"
    with tempfile.TemporaryFile("w+", encoding="utf-8") if spooling else nullcontext() as spool:
        if spool is not None:
            rows = _spool(rows, spool)
        if not dry_run:
            _take_write_lock()
            _plan_each_lookup()
        _check_and_write(rows, principal, result, dry_run, update_existing)
    return result


def _check_and_write(rows: Iterator[tuple[int, list[str]]], principal: Principal | None, result: ImportResult,
                     dry_run: bool, update_existing: bool) -> None:
    look = _Lookups(principal)
    seen = _SeenPhones()
    writer = _Writer(principal, result, update_existing)
    try:
        batch: list[tuple[int, list[str]]] = []
        for item in rows:
            batch.append(item)
            if len(batch) >= BATCH:
                _handle(batch, look, seen, writer, result, dry_run)
                batch = []
        if batch:
            _handle(batch, look, seen, writer, result, dry_run)
        if result.total == 0:
            raise Invalid(gettext("文件中没有可导入的数据行"))
        result.errors.sort(key=lambda e: e["row"])  # a duplicate is found when its second row is read
        if dry_run or result.error_count:
            db.session.rollback()
            del result.generated_ids[:], result.generated_rows[:]
            if not dry_run:  # nothing was written: say so (a dry run's counts are what it would write)
                result.created = result.updated = 0
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        seen.drop()


def _is_template_header(cells: list[str]) -> bool:
    titles = [cell.replace("*", "").strip() for cell in cells]
    accepted = header_titles()
    return titles == accepted[0] or any([title.lower() for title in titles] == other for other in accepted[1:])


def _take_write_lock() -> None:
    """SQLite: the write lock before the first read of the database (BEGIN IMMEDIATE; the file is already read,
    `_spool`), so that a create committed before makes the import see its phone, and one after waits for the
    import, instead of the import failing to upgrade its read snapshot ("database is locked"); a delete of a
    department, post, grade or role waits alike. PostgreSQL: the phone's unique index decides between an import
    and a create; the departments, posts, grades and roles a row may name are shared (FOR SHARE, in id order)
    until the commit, before the lookups read them, so a delete of one waits for the import and then counts its
    new users (409), or went first and the rows naming it are refused: no user is left in a deleted one."""
    if db.engine.dialect.name != "sqlite":
        for model in (Dept, Post, Grade, Role):
            db.session.execute(select(model.id).where(model.deleted_at.is_(None)).order_by(model.id)
                               .with_for_update(read=True))
        return
    db.session.rollback()  # nothing is written before the import: end any read transaction this request opened
    conn = db.session.connection()
    if not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _plan_each_lookup() -> None:
    """PostgreSQL: the users table grows by up to the whole file inside this one transaction, so the lookups
    repeated per batch get a plan made for each call (`plan_cache_mode`, this transaction only). A generic plan
    cached while the table was small scans it whole on every later batch: 100,000 rows took 142 s, not 20.

    And no bitmap scans (this transaction only): the only index a bitmap scan adds for these lookups is the phone's
    trigram index (pg_trgm answers `=` too), which the planner, reading the statistics of the table before the
    import, takes for cheap; but every phone shares its digit trigrams with the others, and the rows this transaction
    added sit in the index's unsorted pending list, read whole at every lookup: 3.5-4.8 s per batch of 500 at 100,000
    rows (auto_explain). The phone's unique btree index answers each lookup with a plain index scan."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        db.session.execute(text("SET LOCAL enable_bitmapscan = off"))


def import_file(stream: IO[bytes], principal: Principal | None, dry_run: bool, update_existing: bool) -> ImportResult:
    """import_users with a bad file (not an .xlsx, a zip bomb, a formula, broken XML) as a 422."""
    try:
        return import_users(stream, principal, dry_run, update_existing)
    except BadWorkbook as exc:
        raise Invalid(str(exc), field="file") from exc
    except IntegrityError as exc:  # a phone taken by a parallel create between the check and the write
        raise Conflict(gettext("导入时有手机号刚被其他用户占用，未导入任何数据，请重新检查后再导入")) from exc


def run_import(stream: IO[bytes], principal: Principal | None, dry_run: bool, update_existing: bool) -> ImportResult:
    """Both doors' import, with the operation log's outcome noted."""
    result = import_file(stream, principal, dry_run, update_existing)
    result.note_outcome()
    return result


def _spool(rows: Iterator[tuple[int, list[str]]], spool: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """SQLite: the file's rows read whole into a temporary file (a JSON line each) now, before the import takes the
    write lock, so that other writers wait for the checks and the writes only, not for the workbook's parsing
    (about a third of a large import); memory stays flat. Returns the rows read back in order. PostgreSQL takes no
    lock for an import, and reads the workbook as it goes."""
    for number, cells in rows:
        spool.write(json.dumps([number, cells], ensure_ascii=False) + "\n")
    spool.seek(0)
    return ((number, cells) for number, cells in map(json.loads, spool))


class _SeenPhones:
    """The phones of the rows read so far, with their row, in a temporary table of this connection: the file's
    own duplicates are found without keeping its phones in memory."""

    def __init__(self) -> None:
        self.table = f"pcloud_import_{uuid.uuid4().hex[:12]}"
        suffix = " ON COMMIT DROP" if db.engine.dialect.name == "postgresql" else ""
        db.session.execute(text(f"CREATE TEMPORARY TABLE {self.table} (phone VARCHAR(32) PRIMARY KEY, "
                                f"line_no INTEGER NOT NULL){suffix}"))

    def earlier(self, phones: list[str]) -> dict[str, int]:
        stmt = text(f"SELECT phone, line_no FROM {self.table} WHERE phone IN :phones").bindparams(
            bindparam("phones", expanding=True))
        return dict(db.session.execute(stmt, {"phones": phones}).all()) if phones else {}

    def add(self, pairs: list[dict[str, Any]]) -> None:
        if pairs:
            db.session.execute(text(f"INSERT INTO {self.table} (phone, line_no) VALUES (:phone, :line_no)"),
                               pairs)

    def drop(self) -> None:
        """On PostgreSQL the table went with the transaction; SQLite keeps a temporary table until it is dropped."""
        if db.engine.dialect.name != "postgresql":
            db.session.execute(text(f"DROP TABLE IF EXISTS temp.{self.table}"))
            db.session.commit()


def _handle(batch: list[tuple[int, list[str]]], look: _Lookups, seen: _SeenPhones, writer: _Writer,
            result: ImportResult, dry_run: bool) -> None:
    result.total += len(batch)
    checked = [_check_row(number, cells, look, result) for number, cells in batch]
    phones = [cells[PHONE] for _, cells in batch if cells[PHONE]]
    earlier = seen.earlier(phones)
    in_batch: dict[str, int] = {}
    fresh = []
    for number, cells in batch:
        phone = cells[PHONE]
        if not phone:
            continue
        first = earlier.get(phone) or in_batch.get(phone)
        if first is not None:
            result.error(number, PHONE, gettext("手机号 %(phone)s 与文件第 %(row)s 行重复", phone=phone, row=first))
        else:
            in_batch[phone] = number
            fresh.append({"phone": phone, "line_no": number})
    seen.add(fresh)
    dup = {number for number, cells in batch if cells[PHONE] and in_batch.get(cells[PHONE]) != number}
    valid = [r for r in checked if r is not None and r.number not in dup]
    writer.rows(valid, write=not dry_run and result.error_count == 0)


class _Writer:
    """Creates and updates rows, a batch at a time, with Core statements (no ORM unit of work for 100,000 rows);
    the audit columns and the kept counts as every writer keeps them (users.tally's triggers run on these)."""

    def __init__(self, principal: Principal | None, result: ImportResult, update_existing: bool) -> None:
        self.principal, self.result, self.update_existing = principal, result, update_existing
        self.principal_id, self.principal_name = current_principal_id_name()
        scope = datascope.scope_of(principal) if principal is not None else None
        self.in_scope: Callable[[int, int | None], bool] = (
            scope.covers_user if scope is not None else (lambda user_id, dept_id: True))

    def rows(self, rows: list[_Row], write: bool) -> None:
        if not rows:
            return
        known = {u.phone: u for u in db.session.execute(
            User.live().where(User.phone.in_([r.phone for r in rows]))).scalars()}
        creates, updates = [], []
        for row in rows:
            user = known.get(row.phone)
            if user is None:
                if row.dept_id is None and not self.in_scope(0, None):
                    self.result.error(row.number, DEPT, gettext("请填写部门：您的数据权限不包括没有部门的用户"))
                else:
                    creates.append(row)
            elif not self.update_existing:
                self.result.error(row.number, PHONE, self._taken(row, user))
            elif self._may_update(row, user):
                updates.append((row, user))
        if write and self.result.error_count == 0:
            self._create(creates)
            self._update(updates)
        else:
            self.result.created += len(creates)
            self.result.updated += len(updates)
        db.session.expunge_all()  # the batch's users are not kept: memory stays flat

    def _taken(self, row: _Row, user: User) -> str:
        """A known phone on a row that may not update: its owner named only within the importer's data scope;
        beyond it, what users.service.create says (PHONE_TAKEN), so the file does not tell who has a phone
        the importer cannot see (a user beyond the scope is 404 on modify)."""
        if self.in_scope(user.id, user.dept_id):
            return gettext("手机号 %(phone)s 已被用户「%(name)s」使用", phone=row.phone, name=user.name)
        return gettext(service.PHONE_TAKEN)

    def _may_update(self, row: _Row, user: User) -> bool:
        """The scope and reach rules of users.service for a user the row would change; the scope first, so that
        nothing is said of a user beyond it (their roles, whether they are a super administrator)."""
        refusal = None if self.in_scope(user.id, user.dept_id) else gettext("该用户不在您的数据权限范围内")
        if refusal is None:
            roles = None if row.role_ids is None else [r for r in service.role_choices() if r.id in row.role_ids]
            refusal = service.import_refusal(self.principal, user, roles)
        if refusal is None and row.state == 1 and user.state != 1 and any(
                r.role_code == SUPER_ADMIN and r.deleted_at is None for r in user.roles):
            refusal = gettext("不能通过导入禁用超级管理员")
        if refusal:
            self.result.error(row.number, PHONE, gettext("手机号 %(phone)s：%(refusal)s", phone=row.phone,
                                                         refusal=refusal))
            return False
        return True

    def _create(self, rows: list[_Row]) -> None:
        if not rows:
            return
        generated = {row.number: generate_password(self.result.key, row.phone) for row in rows if not row.password}
        chosen = [row for row in rows if row.password]
        hashes = dict(zip((r.number for r in chosen), hash_passwords([r.password for r in chosen]), strict=True))
        now = utcnow()
        forced = service.must_change_admin_set_password()
        # A generated password is known to whoever opens the list: always changed at first sign-in (to bcrypt).
        values = [{"phone": row.phone, "name": row.name, "state": row.state or 0, "dept_id": row.dept_id,
                   "post_id": row.post_id, "grade_id": row.grade_id,
                   "password_hash": hashes.get(row.number) or hash_generated_password(generated[row.number]),
                   "password_change_required": forced or row.number in generated,
                   "gmt_created_date": now, "gmt_modified_date": now, "gmt_created_id": self.principal_id,
                   "gmt_created_name": self.principal_name, "gmt_modified_name": self.principal_name} for row in rows]
        ids = dict(db.session.execute(insert(User.__table__).returning(User.__table__.c.phone, User.__table__.c.id),
                                      values).all())
        links = [{"user_id": ids[row.phone], "role_id": role_id} for row in rows for role_id in row.role_ids or []]
        if links:
            # one multi-row statement: the kept counts' statement-level trigger runs once per batch, not per row
            db.session.execute(insert(user_role).values(links))
        self.result.created += len(rows)
        for row in rows:
            if row.number in generated:
                self.result.generated_ids.append(ids[row.phone])
                self.result.generated_rows.append(row.number)

    def _update(self, pairs: list[tuple[_Row, User]]) -> None:
        if not pairs:
            return
        hashes = hash_passwords([row.password for row, _ in pairs if row.password])
        forced = service.must_change_admin_set_password()
        now = utcnow()
        for row, user in pairs:
            values: dict[str, Any] = {"name": row.name}
            for key in ("dept_id", "post_id", "grade_id", "state"):
                if getattr(row, key) is not None:
                    values[key] = getattr(row, key)
            if row.password:
                values["password_hash"] = hashes.pop(0)
                if forced:
                    values["password_change_required"] = True
            held = sorted(r.id for r in user.roles if r.deleted_at is None)
            changes_roles = row.role_ids is not None and sorted(set(row.role_ids)) != held
            if not changes_roles and "password_hash" not in values and all(
                    getattr(user, k) == v for k, v in values.items()):
                self.result.skipped += 1
                continue
            values.update(gmt_modified_date=now, gmt_modified_name=self.principal_name)
            db.session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(**values))
            if changes_roles:
                db.session.execute(delete(user_role).where(user_role.c.user_id == user.id))
                if row.role_ids:
                    db.session.execute(insert(user_role).values([{"user_id": user.id, "role_id": r}
                                                                 for r in row.role_ids]))
            if row.password or (values.get("state") == 1 and user.state != 1):
                sessions.revoke_user_sessions(user.id, "password" if row.password else "disabled")
            self.result.updated += 1
