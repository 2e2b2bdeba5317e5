"""Flask-Login loaders: cookie sessions for pages, Bearer tokens for /api, never the other way round."""

from __future__ import annotations

from flask import Request, flash, g, session
from flask_babel import gettext

from pcloud.auth import service
from pcloud.core.envelope import is_api_request
from pcloud.core.security import Principal
from pcloud.extensions import login_manager


@login_manager.user_loader
def load_from_cookie(token: str) -> Principal | None:
    if is_api_request():
        return None
    principal = service.load_principal(token, "web")
    if principal is None:
        # A cookie whose session has ended: say why once on the sign-in page the guard sends the user
        # to, and forget the cookie's session so the next request does not ask again.
        session.pop("_user_id", None)
        flash(service.session_end_message(token, "web") or str(service.END_DEFAULT), "warning")
    return principal


def say_signed_out() -> None:
    """Why a browser whose 退出登录 was pressed in another tab lands on the sign-in page (the guard, when its cookie
    carries core.security.SIGNED_OUT), said as a session ended by a sign-out is."""
    flash(gettext(service.END_MESSAGES["logout"]), "warning")


@login_manager.request_loader
def load_from_bearer(request: Request) -> Principal | None:
    if not is_api_request():
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        if header.strip():  # a header sent, but not as the guard reads one (a bare token, another scheme)
            g.unauthorized_msg = gettext("Authorization 请求头须为 Bearer <token>")
        return None
    principal = service.load_principal(token.strip(), "api")
    if principal is None:
        # A token that no longer signs anyone in: the guard's 401 says why (expired, the key reset, the account
        # disabled...), so the calling system knows whether signing in again will do
        g.unauthorized_msg = service.session_end_message(token.strip(), "api")
    return principal
