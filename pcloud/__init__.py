"""PCloud: a Flask application factory with one blueprint per module.

Packages depend in one direction. Each may import only those listed before it in PACKAGE_ORDER (lowest
first); `tests/test_architecture.py` parses every import, function-local ones included, and fails otherwise.
The models (every module's `models.py`, and `pcloud/models.py`) form the lowest layer above core: any service
may query any table through them (how many users hold a role, post or grade). Core's request guard, recorder
sink and sidebar are plugged in by the factory (`register_request_hooks`, `register_template_helpers`).

    core          shared mechanisms, no module (with config.py and extensions.py)
    models        every module's models.py, and models.py gathering them for the mappers and Alembic
    datascope     数据权限: whose users a principal reaches (from the principal's roles, through the models)
    params        参数设置: run-time settings every service below may read (sign-in lock, password policy...)
    dicts         字典管理: dictionary types and items, the labels and badges of the console's coded values
    uploads       stored images (avatars)
    actionlog     the operation log (the recorder's sink)
    loginlog      the login log (written by auth and users, in its own transaction)
    depts, posts, grades   the organisation
    resources, menus       what can be granted (they reach access through `core.security.access_rules()`)
    access        grant tables, the permission check and its cache, grants, the principal's menu tree
    roles         named sets of grants
    sessions      the session store: tokens, browser sessions, online, revoke (below users and auth)
    users         people, their roles and places in the organisation; composes the pickers
    openplatform  accounts of other systems
    smstemplates  短信模板: the wording of the SMS the sender sends
    auth          sign-in (password, SMS, open platform), SMS codes, the login lock and its unlock
    online        the online sessions list and kick (sessions with their users and departments)
    segments      the ID service
    jobs          executors, jobs, runs, report
    mail          站内信 (in-site mail)
    notices       通知公告 (notices, read receipts) and the top bar's one bell (unread mail and notices)
    dashboard     the home page
    jobs.worker   the worker process (its own small app)
    cli           `pcloud ...` commands
    factory       this file: create_app
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from pcloud.config import load_config
from pcloud.core.database import lost_a_race
from pcloud.core.routing import IdConverter, id_param_schema
from pcloud.core.security import LazyCookieSessionInterface, style_sources
from pcloud.extensions import api, bootstrap, csrf, db, login_manager, migrate


def _shipped_dir(name: str) -> str:
    """`templates/` and `migrations/` sit beside the package in a checkout and inside it when installed
    from a wheel (pyproject maps them to `pcloud.templates` / `pcloud.migrations`)."""
    here = Path(__file__).resolve().parent
    inside = here / name
    return str(inside if inside.is_dir() else here.parent / name)


# config.py and extensions.py belong to the core's level.
PACKAGE_ORDER = ("core", "models", "datascope", "params", "dicts",
                 "uploads", "actionlog", "loginlog", "depts", "posts", "grades", "resources",
                 "menus", "access", "roles", "sessions", "users", "openplatform", "smstemplates", "auth", "online",
                 "segments", "jobs", "mail", "notices", "dashboard", "jobs.worker", "cli", "factory")
MIGRATIONS_DIR = _shipped_dir("migrations")
TEMPLATES_DIR = _shipped_dir("templates")
# style-src is filled per answer (core.security.style_sources): the site's stylesheets and this answer's nonce;
# img-src has blob: for the avatar fields' preview of the chosen file (static/js/avatar.js), made by our own script
CSP = ("default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data: blob: https:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
CACHEABLE_ENDPOINTS = frozenset({"static", "bootstrap.static", "docs.docs_assets", "uploads_api.served"})
HSTS_SECONDS = 365 * 24 * 3600  # Strict-Transport-Security: a year, what browsers' preload lists ask at least


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["PCLOUD_INSTANCE_DIR"], template_folder=TEMPLATES_DIR)
    app.config.update(settings)
    app.json.sort_keys = False  # envelope fields in the documented order
    app.url_map.converters["int"] = IdConverter
    # `/api//admin/x` is no route (404 in the envelope), not a redirect to another URL.
    app.url_map.merge_slashes = False
    app.session_interface = LazyCookieSessionInterface()
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    import pcloud.models  # noqa: F401 - every model, before mappers configure

    db.init_app(app)
    from pcloud.core.search import include_object

    # include_object: the hand-made FTS tables and trigram indexes are not in the models.
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, include_object=include_object)
    from pcloud.core.security import apply_body_limit

    app.before_request(apply_body_limit)  # before the CSRF check's hook: it reaches for the body
    csrf.init_app(app)
    bootstrap.init_app(app)
    from pcloud.core import i18n
    from pcloud.core.i18n import lazy_gettext

    i18n.init_app(app)
    # no `current_user` in the templates (they read `principal`, core.pages): Flask-Login's context processor would
    # load the user for every page rendered, the 503 page of a database that failed included
    login_manager.init_app(app, add_context_processor=False)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("请先登录")
    login_manager.login_message_category = "warning"
    from pcloud.core.docs import API_DESCRIPTION, ApiDocLabels

    api.init_app(app, spec_kwargs={
        "info": {"description": API_DESCRIPTION},
        "extra_plugins": [ApiDocLabels(app)],  # the sections and locks of /api/docs
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    api.register_converter(IdConverter, id_param_schema)
    with app.app_context():
        from pcloud.core.database import ping_when_idle

        ping_when_idle(db.engine, float(app.config.get("PCLOUD_DB_PING_IDLE_SECONDS", 10)))
        if db.engine.dialect.name == "sqlite":
            from pcloud.core.dbstats import attach_sqlite_pragmas, create_private_file, keep_sqlite_statistics

            attach_sqlite_pragmas(app, db.engine)  # this app's engine only, once
            create_private_file(db.engine.url.database)

            keep_sqlite_statistics(db.engine)  # after the pragmas above: PRAGMA optimize at open/close
    from pcloud.auth import loaders  # noqa: F401 - registers the Flask-Login loaders
    from pcloud.auth.service import install_principal_cache

    install_principal_cache(app)
    from pcloud.core.settingscache import install_settings_signal

    install_settings_signal(app)  # dictionaries and parameters kept per process (params, dicts)


# Every module and its front doors, listed (not discovered): a missing one fails loudly at start.
# "api" is a flask-smorest `blp` in `api.py`, "views" a pages `bp` in `views.py`.
MODULES: dict[str, tuple[str, ...]] = {
    "auth": ("api", "views"), "users": ("api", "views"), "roles": ("api", "views"),
    "menus": ("api", "views"), "resources": ("api", "views"), "depts": ("api", "views"),
    "posts": ("api", "views"), "grades": ("api", "views"), "actionlog": ("api", "views"),
    "loginlog": ("api", "views"), "online": ("api", "views"),
    "uploads": ("api", "views"), "openplatform": ("api", "views"), "segments": ("api", "views"),
    "jobs": ("api", "views"), "mail": ("api", "views"), "smstemplates": ("api", "views"),
    "notices": ("api", "views"),
    "params": ("api", "views"), "dicts": ("api", "views"),
}


def register_blueprints(app: Flask) -> None:
    from pcloud.core.docs import bp as docs_bp
    from pcloud.dashboard import api_blp as dashboard_api_blp
    from pcloud.dashboard import bp as dashboard_bp

    for name, doors in MODULES.items():
        if "api" in doors:
            blp = importlib.import_module(f"pcloud.{name}.api").blp
            api.register_blueprint(blp)
            csrf.exempt(blp)  # token-authenticated: a cookie can never drive the API
        if "views" in doors:
            app.register_blueprint(importlib.import_module(f"pcloud.{name}.views").bp)
    app.register_blueprint(dashboard_bp)
    api.register_blueprint(dashboard_api_blp)
    csrf.exempt(dashboard_api_blp)
    app.register_blueprint(docs_bp)
    from pcloud.core.docs import label_api_doc

    label_api_doc(app, api.spec)


def register_request_hooks(app: Flask) -> None:
    from pcloud.access import permissions
    from pcloud.actionlog.service import write_action
    from pcloud.auth.loaders import say_signed_out
    from pcloud.auth.service import must_change_password
    from pcloud.core import assets
    from pcloud.core.envelope import envelope, is_api_request
    from pcloud.core.recorder import init_recorder, readable_only_with
    from pcloud.core.security import install_access_guard
    from pcloud.jobs.service import SCRIPT_LOG_KEYS, SCRIPT_LOG_MASK, may_edit_scripts

    init_recorder(app, sink=write_action)
    readable_only_with(app, SCRIPT_LOG_KEYS, may_edit_scripts, SCRIPT_LOG_MASK)
    install_access_guard(app, permissions, must_change_password, say_signed_out)
    assets.init_app(app)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS (PCLOUD_SECURE_COOKIES): never over HTTP again
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
        if response.mimetype == "text/html":
            # Every page, Swagger UI's included (templates/swagger_ui.html), runs only scripts from /static.
            response.headers.setdefault("Content-Security-Policy", CSP.format(style=style_sources()))
        if request.method == "OPTIONS" and is_api_request() and response.status_code == 200 \
                and not response.get_data():
            allow = response.headers.get("Allow")
            response = jsonify(envelope(None))
            if allow:
                response.headers["Allow"] = allow
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # pages, API answers and downloads may hold personal data: never kept by a browser or proxy
            response.headers["Cache-Control"] = "no-store"
        return response


def register_errorhandlers(app: Flask) -> None:
    from pcloud.core.envelope import error_page, error_response, is_api_request, json_error_for_unexpected

    log = logging.getLogger("pcloud")

    def _conflict(error: Exception) -> Any:
        db.session.rollback()
        log.info("concurrent change on %s %s: %s", request.method, request.path,
                 type(getattr(error, "orig", None) or error).__name__)
        msg = gettext("数据已被其他请求修改或已存在，请刷新后重试")
        return error_response(409, msg) if is_api_request() else error_page(409, msg)

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def _concurrent_change(error: Exception) -> Any:
        """A constraint a concurrent request won (same phone, same code...), wherever it surfaced, even in
        an autoflush before the service's own check, or rows a concurrent request changed under the ORM's
        feet: 409, never 500. Parameters are hidden by the engine."""
        return _conflict(error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database_down(error: Exception) -> Any:
        from flask import g

        if lost_a_race(error):
            return _conflict(error)
        log.exception("database error on %s %s", request.method, request.path)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone with the database
            log.warning("rollback failed after a database error")
        unavailable = isinstance(error, OperationalError) or getattr(error, "connection_invalidated", False)
        if unavailable:
            # The answer must not touch the database again: no signed-in chrome on the page, and no
            # action-log write that would wait (a SQLite lock: busy_timeout) a second time.
            g.db_unavailable = True  # core.security.current_principal: nobody is signed in on this answer
        code = 503 if unavailable else 500
        return error_response(code) if is_api_request() else error_page(code)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        from pcloud.auth.views import sign_in_page_expired
        from pcloud.core.security import current_principal, return_address

        msg = gettext("表单已过期或缺少安全令牌，请刷新页面后重试")
        if is_api_request():
            return error_response(400, msg)
        if request.accept_mimetypes.best == "application/json":  # a page's script (获取验证码): it shows msg
            return {"ok": False, "msg": gettext("页面已过期，请刷新后重试")}, 400
        if request.endpoint == "auth.login":
            return sign_in_page_expired()
        if current_principal() is None:  # its cookie gone: signed out, as the access guard would answer
            flash(gettext("页面已过期，请重新登录"), "warning")
            return redirect(url_for("auth.login", next=return_address()))
        # Signed in, with a token of another session (the form opened before a sign-in elsewhere): a form page shows
        # its form again with what was typed, saying to submit again (core.views.reshow_expired_form); a button's
        # action, where a reload would post the stale token again, leads back to the page it was on (its Referer,
        # when it is this site).
        from pcloud.core.views import reshow_expired_form

        if (reshown := reshow_expired_form()) is not None:
            return reshown
        return render_template("errors/error.html", code=400, back=return_address(), back_label=gettext("返回"),
                               msg=gettext("页面已过期，未能提交：请返回该页面重新填写后提交")), 400

    app.register_error_handler(Exception, json_error_for_unexpected)


def register_template_helpers(app: Flask) -> None:
    from pcloud.access.service import menu_tree_for
    from pcloud.core import pages
    from pcloud.menus.service import is_site_path

    pages.init_app(app, menu_tree=menu_tree_for, is_link=is_site_path)
    from pcloud.core.security import current_principal
    from pcloud.notices.service import bell_counts

    def bell() -> dict[str, int]:
        """The top bar's one bell: the signed-in user's unread mail and notices, one statement (called by
        base.html only when signed in)."""
        return bell_counts(current_principal())

    app.jinja_env.globals["bell"] = bell
    from pcloud.dicts.service import badge, options

    # 字典管理: a coded value's label and colour (`{% set label, colour = dict_badge('sys_user_state', 0) %}`)
    app.jinja_env.globals["dict_badge"] = badge
    app.jinja_env.globals["dict_options"] = options  # a filter's or form's (value, label) choices


def register_commands(app: Flask) -> None:
    from pcloud.cli import pcloud_group

    app.cli.add_command(pcloud_group)


def main() -> None:
    """The `pcloud` console script: the commands of `pcloud.cli` on an app made by create_app."""
    from flask.cli import FlaskGroup

    from pcloud.cli import pcloud_group

    group = FlaskGroup(create_app=create_app, help="PCloud back office.")
    for command in pcloud_group.commands.values():
        group.add_command(command)
    group(prog_name="pcloud")
