"""Who is calling, and the one guard every request passes: authentication, then the permission check.

API calls authenticate only by `Authorization: Bearer`, pages only by the session cookie, so a
cookie can never drive the CSRF-exempt API. Both kinds of session are rows of one table (auth).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict

from pcloud.core.envelope import error_page, error_response, is_api_request
from pcloud.core.routing import is_back_path
from pcloud.core.schemas import NUL, refused_character_message

SUPER_ADMIN = "ROLE_SUPER_ADMIN"
# Framework endpoints open to everyone: static files and the OpenAPI document with its UI.
PUBLIC_ENDPOINTS = frozenset({"static", "bootstrap.static", "docs.docs_assets", "api-docs.openapi_json",
                              "api-docs.openapi_swagger_ui"})


@dataclass
class Principal:
    """The signed-in principal: a user, or an open-platform account (kind 'open')."""

    kind: str
    id: int
    name: str
    phone: str | None
    avatar: str | None
    role_ids: frozenset[int]
    role_codes: frozenset[str]
    session_id: int
    token: str = field(repr=False)
    perm_version: int = 0
    password_change_required: bool = False

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.token

    @property
    def is_super_admin(self) -> bool:
        return SUPER_ADMIN in self.role_codes

    @property
    def user_id(self) -> int | None:
        """The user's id; None for an open-platform account, whose `id` numbers accounts, not users (account 2
        is not user 2: never compare its id with a user id, nor write it where a user id goes)."""
        return self.id if self.kind == "user" else None


def current_principal() -> Principal | None:
    """The signed-in principal; None when nobody is, and outside a request (the command line, the worker: trusted
    callers, which every rule reading this treats as reaching everything). None on the answer to a request the
    database failed (`g.db_unavailable`: the 503 page), which must not read it again to load the principal."""
    if not has_request_context() or g.get("db_unavailable"):
        return None
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, Principal) else None


def current_principal_id_name() -> tuple[int | None, str | None]:
    """(user id, name) of the signed-in principal for audit columns: an open-platform account by its name alone
    (no user id); (None, None) outside a request (CLI, worker)."""
    principal = current_principal()
    if principal:
        return principal.user_id, principal.name
    return None, None


def public(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as open to visitors who are not signed in."""
    fn._public = True  # type: ignore[attr-defined]
    return fn


def reads_own_upload(limit_key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view that reads its body itself, up to `app.config[limit_key]` bytes instead of the site's
    MAX_CONTENT_LENGTH (a file import). The limit is set before any other hook reaches for the body
    (`apply_body_limit`, installed first by the factory), and the guard's input check leaves a form body
    unparsed, so it is read only after the principal is known and allowed; the view checks every field it reads."""
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._reads_own_upload = limit_key  # type: ignore[attr-defined]
        return fn

    return decorator


def apply_body_limit() -> None:
    """before_request, ahead of the CSRF check (which touches the body's stream): the size limit of a view
    marked with reads_own_upload. Nothing is read here."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = getattr(view, "_reads_own_upload", None)
    if key:
        request.max_content_length = int(current_app.config[key])


def signed_in_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view any signed-in principal may use (own profile, sign-out, adminInfo)."""
    fn._signed_in_only = True  # type: ignore[attr-defined]
    return fn


def allowed_before_password_change(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view a user who must change the password may still use: the change itself, sign-out, and the
    profile read a client needs after sign-in. Every other view refuses that user (`enforce_access`)."""
    fn._before_password_change = True  # type: ignore[attr-defined]
    return fn


# Where the guard sends a page request of a user who must change the password first (the own-profile page).
PASSWORD_CHANGE_PAGE = "auth.profile"
# The page a user asked for while held on PASSWORD_CHANGE_PAGE: their change of password goes on to it.
AFTER_PASSWORD_CHANGE = "after_password_change"
# Set in the browser's cookie, which all its tabs share, by its 退出登录: the next page another tab asks for lands
# on the sign-in page saying why, as for a session that expired (the cookie names no session any more, so nothing
# else could say it). A mark, not the ended session's token: nothing of a credential outlives the sign-out. A
# sign-in clears it with the rest of the cookie.
SIGNED_OUT = "signed_out"
PASSWORD_CHANGE_FIRST = lazy_gettext("首次登录请先修改密码：管理员设置的密码须由本人修改后才能使用其他功能")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def mirrors(*endpoints: str, methods: tuple[str, ...] = ("POST",), read_only_view: bool = False) -> Decorator:
    """A page action that performs the same operation as an API route requires that route's grant too.

    One permission per operation: `@mirrors("users_api.delete")` on the page that deletes a user
    means its POST needs the resource of `DELETE /api/admin/system/user/{id}/delete` on top of the
    menu that opens the page. An endpoint may name its method (`"users_api.offline:GET"`); without
    one, the API route's only method is meant. Listed for `methods` of the page (POST by default:
    submitting a form is governed by the resource). A form page (GET and POST) asks on GET what its save
    asks (`mirrored_endpoints`), unless its GET shows a read-only view to whoever may not save
    (`read_only_view=True`: the role grant page's 查看权限, a resource's 查看).
    """
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._mirrors = (tuple(endpoints), frozenset(m.upper() for m in methods))  # type: ignore[attr-defined]
        fn._read_only_view = read_only_view  # type: ignore[attr-defined]
        return fn

    return decorator


def mirrored_endpoints(view: Any, method: str, route_methods: set[str] | frozenset[str] | None) -> tuple[str, ...]:
    """The API endpoints whose grants a page request needs on top of its menu (its `@mirrors` for `method`).

    A form page (GET shows it, POST saves it) asks on GET what its save asks: a form one may not save is
    never shown, so nobody types into a page that can only answer 403 (issue 24.2)."""
    mirrored = getattr(view, "_mirrors", None)
    if not mirrored:
        return ()
    endpoints, methods = mirrored
    method = method.upper()
    if method in methods:
        return endpoints
    if method in ("GET", "HEAD") and "POST" in methods and route_methods and "POST" in route_methods \
            and not getattr(view, "_read_only_view", False):
        return endpoints
    return ()


def _view_flag(name: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, name, False))


MAX_JSON_DEPTH = 64


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bad_json(value: Any) -> bool:
    """Too deep, or a string (key or value) no database can store (a lone UTF-16 surrogate)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "application/x-url-encoded"})


def malformed_input() -> str | None:
    """Why the request cannot be processed at all (None: it can). Checked before anything else runs, so
    neither a service nor the action log ever sees input it cannot store."""
    environ = request.environ
    if not environ.get("QUERY_STRING") and not request.content_length \
            and "HTTP_TRANSFER_ENCODING" not in environ:
        return None  # nothing sent but the path (most GETs, the ID service's): nothing to parse
    values = [*request.args.values()]
    if request.mimetype in FORM_MIMETYPES and not _view_flag("_reads_own_upload"):
        # the only bodies werkzeug parses into `form` (otherwise the parser is skipped)
        values += request.form.values()
    if any("\x00" in v or _has_lone_surrogate(v) for v in values):
        return gettext("请求包含非法字符")
    if request.is_json and request.content_length != 0:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            return gettext("JSON 嵌套过深")
        if body is not None and bad_json(body):
            return gettext("JSON 嵌套过深或包含无法识别的字符")
    return None


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session for pages only. Under /api the cookie is never read and never written
    (the bearer token alone authenticates, so a cookie can never drive the CSRF-exempt API, and an answer
    carries no `Vary: Cookie`): Flask-Login then finds no user in the session and asks the request loader.
    A request without the cookie gets an empty session without building the signing serializer first,
    which Flask does on every request."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_request() or not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if is_api_request():
            return
        super().save_session(app, session, response)


class AccessRules(Protocol):
    """What the guard (and the modules below access) ask of the permission check; `pcloud.access.permissions`
    provides it, installed by the application factory."""

    def may_call(self, principal: Principal, method: str, rule: str, path: str) -> bool: ...

    def may_open_page(self, principal: Principal, path: str) -> bool: ...

    def may_call_endpoint(self, principal: Principal, endpoint: str,
                          values: dict[str, object] | None = None) -> bool: ...

    # What modules below access (menus, resources) ask of it when their rows change: they call these through
    # `access_rules()`, since access, which reads their rows, sits above them.
    def bump_version(self) -> None: ...

    def forget_grants(self, *, menu_id: int | None = None, resource_id: int | None = None) -> None: ...

    def require_page_reach(self, new_path: str, principal: Principal | None = None) -> None: ...

    def require_page_release(self, old_path: str | None, principal: Principal | None = None) -> None: ...

    def require_resource_reach(self, old_method: str | None, old_url: str | None, new_method: str | None,
                               new_url: str | None, principal: Principal | None = None) -> None: ...

    def beyond_reach(self, menu_ids: Iterable[int] = (), resource_ids: Iterable[int] = (),
                     principal: Principal | None = None) -> tuple[set[int], set[int]]: ...

    def require_holders_within_executors(self, *, menu_id: int | None = None, resource_id: int | None = None,
                                         principal: Principal | None = None) -> None: ...


def install_access_guard(app: Flask, rules: AccessRules, must_change_password: Callable[[Principal], bool],
                         say_signed_out: Callable[[], None]) -> None:
    """The application factory hands the permission check in, the rule saying whether a principal must change
    the password before anything else, and what tells a browser signed out in another tab why it is (auth's); core only
    knows their shapes."""
    app.extensions["pcloud.access_rules"] = rules
    app.extensions["pcloud.must_change_password"] = must_change_password
    app.extensions["pcloud.say_signed_out"] = say_signed_out
    app.before_request(enforce_access)


def access_rules() -> AccessRules:
    return current_app.extensions["pcloud.access_rules"]


def return_address() -> str | None:
    """Where the sign-in page sends a signed-out request back to: a page asked for (GET) is its own address; a
    button or form posted after the session ended goes back to the page it was on (the Referer, when it is this
    site and its path passes the allow-list of a way back, core.routing.is_back_path: never `//host`), never to the
    POST's address, which a GET would answer 405."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    came_from = urlsplit(request.referrer or "")
    back = came_from.path + (f"?{came_from.query}" if came_from.query else "")
    if came_from.scheme in ("http", "https") and came_from.netloc == request.host and is_back_path(back, ""):
        return back
    return None


_SET_ASIDE = "pcloud_query_set_aside"


def set_aside_nul_query() -> Any:
    """A NUL in the query string (`?phone=%00`), which no database stores: the API answers 422 naming the
    parameter, as it answers a NUL in a body (docs/API.md); a page asked for (GET) is shown without those
    parameters, which `query_set_aside` names, so that a list says which filter it left out and why
    (core.pages.page_filters), as it does for any filter it refuses, instead of an error page. None: nothing to
    answer here (a POST's query keeps the 400 of `malformed_input`)."""
    if not request.environ.get("QUERY_STRING"):
        return None
    with_nul = [name for name, values in request.args.lists() if any("\x00" in v for v in values)]
    if not with_nul:
        return None
    if is_api_request():
        return error_response(422, errors={name: [refused_character_message(NUL)] for name in with_nul})
    if request.method in ("GET", "HEAD"):
        request.args = ImmutableMultiDict([(k, v) for k, v in request.args.items(multi=True) if k not in with_nul])
        request.values = CombinedMultiDict([request.args])  # a GET's values are its args (werkzeug), the ones kept
        setattr(g, _SET_ASIDE, frozenset(with_nul))
    return None


def query_set_aside() -> frozenset[str]:
    """The query parameters of this page request left out for holding a NUL (`set_aside_nul_query`)."""
    return g.get(_SET_ASIDE, frozenset())


def enforce_access() -> Any:
    """before_request: 400 for input nothing can process (a NUL in a page's query: left out, see
    `set_aside_nul_query`), 401 without a live session, 403 (a page: the change-password page) while the password
    must be changed first, 403 outside the principal's grants."""
    refused = set_aside_nul_query()
    if refused is not None:
        return refused
    problem = malformed_input()
    if problem:
        return error_response(400, problem) if is_api_request() else error_page(400, problem)
    if request.endpoint is None:  # 404/405: the error handlers answer
        return None
    if request.endpoint in PUBLIC_ENDPOINTS or _view_flag("_public"):
        return None
    if request.method == "OPTIONS":  # runs no view: answers only which methods the route has (Allow)
        return None
    principal = current_principal()
    if principal is None:
        if is_api_request():
            return error_response(401, g.get("unauthorized_msg"))  # the bearer loader's reason, if it had one
        if session.pop(SIGNED_OUT, None) is True:
            current_app.extensions["pcloud.say_signed_out"]()
        return redirect(url_for("auth.login", next=return_address()))
    if not _view_flag("_before_password_change") and current_app.extensions["pcloud.must_change_password"](principal):
        if is_api_request():
            return error_response(403, PASSWORD_CHANGE_FIRST)
        flash(str(PASSWORD_CHANGE_FIRST), "warning")
        if request.method in ("GET", "HEAD"):
            session[AFTER_PASSWORD_CHANGE] = return_address()
        return redirect(url_for(PASSWORD_CHANGE_PAGE))
    if _view_flag("_signed_in_only"):
        return None
    permissions = access_rules()
    if is_api_request():
        rule = request.url_rule.rule if request.url_rule else request.path
        if not permissions.may_call(principal, request.method, rule, request.path):
            return error_response(403)
    elif not permissions.may_open_page(principal, request.path):
        return error_page(403)
    else:
        view = current_app.view_functions.get(request.endpoint or "")
        route_methods = request.url_rule.methods if request.url_rule else None
        if not all(permissions.may_call_endpoint(principal, e, request.view_args)
                   for e in mirrored_endpoints(view, request.method, route_methods)):
            return error_page(403)
    return None


def style_nonce() -> str:
    """This answer's nonce for an inline <style> element the server writes (a chart's): the Content-Security-Policy
    allows those elements and no others, and no style attribute, so markup that got into a page cannot restyle or
    cover it."""
    if "pcloud_style_nonce" not in g:
        g.pcloud_style_nonce = secrets.token_urlsafe(16)
    return g.pcloud_style_nonce


def style_sources() -> str:
    """The CSP's style-src: the site's stylesheets, and the <style> elements of this answer's `style_nonce`."""
    nonce = g.get("pcloud_style_nonce") if has_request_context() else None
    return "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
