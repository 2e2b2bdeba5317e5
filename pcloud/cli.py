"""`pcloud ...` commands (also `flask pcloud ...`): init, sync, worker, create-admin, reset-password,
clean-action-log. The `pcloud` console script (`pcloud.main`) runs them on an app made by the factory."""

from __future__ import annotations

import contextlib
import os
import secrets
import string
from collections.abc import Iterator
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

pcloud_group = AppGroup("pcloud", help="PCloud setup commands.")

DEFAULT_ADMIN_PHONE = "13800000000"


@contextlib.contextmanager
def setup_lock() -> Iterator[None]:
    """One setup at a time across processes: an advisory lock on PostgreSQL, a file lock on SQLite."""
    from pcloud.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(727274)"))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(727274)"))
                conn.commit()
        return
    import fcntl

    os.makedirs(current_app.instance_path, mode=0o700, exist_ok=True)
    with open(os.path.join(current_app.instance_path, "setup.lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _generate_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def run_sync() -> dict[str, Any]:
    """Built-in roles, menus and resources, matched to this code base. Safe to repeat."""
    from pcloud.extensions import db
    from pcloud.menus.service import sync_builtin_menus
    from pcloud.roles.service import ensure_builtin_roles

    for attempt in range(3):
        try:
            roles = ensure_builtin_roles()
            menus = sync_builtin_menus()
            resources = _sync_resources()
            catalogue = _sync_open_catalogue()
            from pcloud.uploads.service import ensure_default_storage

            ensure_default_storage()

            from pcloud.dicts.service import ensure_builtin_dicts

            ensure_builtin_dicts()
            if "ROLE_ADMIN" in roles:
                _grant_everything_to_new_admin_role()
            return {"roles": roles, "menus": menus, "resources": resources, "catalogue": catalogue}
        except IntegrityError:  # another process synced the same rows first: read them and go on
            db.session.rollback()
            if attempt == 2:
                raise
    return {}


def _grant_everything_to_new_admin_role() -> None:
    """A fresh ROLE_ADMIN starts with every built-in page and route; administrators narrow it later."""
    from pcloud.jobs.service import script_resource_ids
    from pcloud.menus import service as menu_service
    from pcloud.resources import service as resource_service
    from pcloud.roles import service as role_service

    role = role_service.role_by_code("ROLE_ADMIN")
    if role is not None:
        # except the script jobs' routes (code execution): the super administrator's alone until granted
        held_back = set(script_resource_ids())
        role_service.grant(role.id, menu_service.all_live_ids(),
                           [i for i in resource_service.all_live_ids() if i not in held_back])


def _sync_resources() -> dict[str, int]:
    try:
        from pcloud.resources.service import sync_builtin_resources
    except ImportError:  # the resources module is not installed yet
        return {}
    return sync_builtin_resources()


def _sync_open_catalogue() -> dict[str, int]:
    """The interface catalogue of the open platform starts with the ID service's two routes (and keeps them)."""
    try:
        from pcloud.openplatform.service import ensure_catalogue
    except ImportError:
        return {}
    return ensure_catalogue()


def ensure_first_admin(phone: str, password: str | None, name: str | None = None) -> tuple[bool, str | None]:
    """Create the first super administrator unless one exists. Returns (created, generated password).
    The default name is said in the deployment's language (PCLOUD_DEFAULT_LANGUAGE: no request here)."""
    name = name or gettext("超级管理员")
    from pcloud.roles.service import role_by_code
    from pcloud.users import service as user_service

    super_role = role_by_code("ROLE_SUPER_ADMIN")
    assert super_role is not None
    from pcloud.extensions import db

    if db.session.execute(user_service.filtered_select({"role_ids": [super_role.id]}).limit(1)).first():
        return False, None
    generated = None
    if not password:
        password = generated = _generate_password()
    user_service.create_user({"phone": phone, "name": name, "password": password, "role_ids": [super_role.id]})
    return True, generated


def _import_uploads_from_disk() -> tuple[int, list[str]]:
    """The uploads an earlier version kept on this host's disk, into the database (each host runs init)."""
    from pathlib import Path

    from sqlalchemy import func, select

    from pcloud.extensions import db
    from pcloud.uploads.service import FILE_URL, import_folder
    from pcloud.users.models import User

    folder = Path(current_app.config["PCLOUD_UPLOAD_DIR"])
    if not folder.is_dir():
        return 0, []
    # an image shown as the avatar of one user becomes theirs; one shared by several belongs to none
    avatar_users = dict(db.session.execute(
        select(User.avatar, func.min(User.id)).where(User.avatar.like(FILE_URL + "%"))
        .group_by(User.avatar).having(func.count() == 1)).tuples().all())
    return import_folder(folder, avatar_users)


@pcloud_group.command("init")
@with_appcontext
def init_command() -> None:
    """Apply migrations, sync built-ins, create the first super administrator. Idempotent."""
    from flask_migrate import upgrade

    with setup_lock():
        upgrade()  # the directory the factory gave Flask-Migrate
        result = run_sync()
        phone = os.environ.get("PCLOUD_ADMIN_PHONE", DEFAULT_ADMIN_PHONE)
        from pcloud.core.errors import PCloudError

        try:
            created, generated = ensure_first_admin(phone, os.environ.get("PCLOUD_ADMIN_PASSWORD"))
        except PCloudError as exc:  # a weak or too long PCLOUD_ADMIN_PASSWORD, a malformed phone: one line
            raise click.ClickException(f"PCLOUD_ADMIN_PHONE / PCLOUD_ADMIN_PASSWORD: {exc.msg} "
                                       f"{exc.errors or ''}".strip()) from None
        from pcloud.jobs.service import ensure_default_executor

        executor_created = ensure_default_executor()
        from pcloud.jobs.worker.maintenance import ensure_maintenance_jobs

        maintenance_created = ensure_maintenance_jobs()
        imported, left_out = _import_uploads_from_disk()
        from pcloud.core.dbstats import refresh_statistics
        from pcloud.extensions import db

        db.session.remove()
        refresh_statistics(db.engine)  # the planner needs statistics from the first request on
        from pcloud.core.dbstats import autovacuum_status

        if autovacuum_status(db.engine).get("autovacuum") is False:
            click.echo("pcloud init: WARNING autovacuum is off on this PostgreSQL server; the planner's "
                       "statistics will go stale (turn it on, or have the worker's maintenance job run often).")
    changes = [f"built-in roles created: {', '.join(result['roles'])}"] if result.get("roles") else []
    if executor_created:
        changes.append("default job executor created")
    if maintenance_created:
        changes.append(f"maintenance jobs created: {', '.join(maintenance_created)}")
    for what in ("menus", "resources", "catalogue"):
        counts = result.get(what) or {}
        if any(counts.values()):
            changes.append(f"{what}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if created:
        changes.append(f"super administrator created: phone {phone}")
    folder = current_app.config["PCLOUD_UPLOAD_DIR"]
    if imported:
        changes.append(f"uploads imported from {folder}: {imported}")
    if left_out:
        changes.append(f"uploads left in {folder}, not acceptable images: {', '.join(left_out)}")
    click.echo(f"Database: {_safe_url()}")
    if not changes:
        click.echo("pcloud init: already set up, nothing changed.")
    for line in changes:
        click.echo(f"pcloud init: {line}")
    if generated:
        click.echo(f"Sign in with phone {phone} and password {generated} (shown once; change it on the profile page).")
    elif created:
        click.echo(f"Sign in with phone {phone} and the password from PCLOUD_ADMIN_PASSWORD.")


def _safe_url() -> str:
    from pcloud.extensions import db

    return db.engine.url.render_as_string(hide_password=True)


@pcloud_group.command("sync")
@with_appcontext
def sync_command() -> None:
    """Sync built-in roles, menus and API resources with this code base."""
    with setup_lock():
        result = run_sync()
    click.echo(f"pcloud sync: {result}")


@pcloud_group.command("worker")
@click.option("--group", "executor", default=None,
              help="executor appname whose runs this node takes (default pcloud-executor)")
@click.option("--name", default=None, help="node name, unique per executor (default host:pid)")
@with_appcontext
def worker_command(executor: str | None, name: str | None) -> None:
    """Run the job worker: node (runs its runs in child processes) and scheduler. Stops on SIGTERM."""
    from pcloud.jobs.worker.runtime import run_worker

    run_worker(executor, name)


@pcloud_group.command("create-admin")
@click.option("--phone", required=True, help="11-digit mobile number used to sign in")
@click.option("--name", default=None, help="default: 管理员 (Administrator), in PCLOUD_DEFAULT_LANGUAGE")
@click.option("--password", default=None, help="omit to be prompted; empty generates one")
@click.option("--role", type=click.Choice(["super", "admin"]), default="super", show_default=True)
@with_appcontext
def create_admin_command(phone: str, name: str | None, password: str | None, role: str) -> None:
    """Add an administrator (ROLE_SUPER_ADMIN by default)."""
    name = name or gettext("管理员")
    from pcloud.core.errors import PCloudError
    from pcloud.roles.service import role_by_code
    from pcloud.users import service as user_service

    generated = None
    if password is None and os.isatty(0):
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, default="",
                                show_default=False)
    if not password:
        password = generated = _generate_password()
    target = role_by_code("ROLE_SUPER_ADMIN" if role == "super" else "ROLE_ADMIN")
    if target is None:
        raise click.ClickException("built-in roles missing: run `pcloud init` first")
    try:
        user = user_service.create_user({"phone": phone, "name": name, "password": password,
                                         "role_ids": [target.id]})
    except PCloudError as exc:
        raise click.ClickException(f"{exc.msg} {exc.errors or ''}".strip()) from exc
    click.echo(f"Administrator {user.name} created (id {user.id}, phone {user.phone}, {target.role_code}).")
    if generated:
        click.echo(f"Password: {generated} (shown once)")


@pcloud_group.command("reset-password")
@click.option("--phone", required=True, help="the phone the user signs in with")
@click.option("--password", default=None, help="omit to be prompted (or, without a terminal, to get one generated)")
@with_appcontext
def reset_password_command(phone: str, password: str | None) -> None:
    """Give a user a new password (for an administrator who lost theirs); signs them out everywhere."""
    from pcloud.auth import service as auth_service
    from pcloud.core.errors import PCloudError

    generated = None
    if password is None and os.isatty(0):
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True, default="",
                                show_default=False)
    if not password:
        password = generated = _generate_password()
    try:
        user = auth_service.reset_password_by_phone(phone, password)
    except PCloudError as exc:
        raise click.ClickException(f"{exc.msg} {exc.errors or ''}".strip()) from exc
    click.echo(f"Password of {user.name} (phone {user.phone}) reset; their sessions were signed out.")
    if generated:
        click.echo(f"New password: {generated} (shown once)")


@pcloud_group.command("clean-action-log")
@click.option("--days", type=int, default=None, help="keep this many days (default PCLOUD_ACTION_LOG_RETENTION_DAYS)")
@with_appcontext
def clean_action_log_command(days: int | None) -> None:
    """Delete operation-log rows older than the retention period, in batches."""
    from pcloud.actionlog.service import clean_action_log, retention_days

    keep = retention_days() if days is None else days
    if keep < 1:
        raise click.ClickException("--days must be at least 1")
    deleted = clean_action_log(days=keep)
    from pcloud.loginlog.service import clean_login_log

    logins = clean_login_log(days=days)  # --days for both, else the login log's own retention parameter
    click.echo(f"pcloud clean-action-log: {deleted} rows older than {keep} days deleted "
               f"({logins} login-log rows).")

