"""The home page after sign-in: a few figures and shortcuts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, send_from_directory
from sqlalchemy import func, select

from pcloud.actionlog.models import ActionLog
from pcloud.auth.models import UserSession
from pcloud.auth.service import live_session_filter
from pcloud.core.security import public, signed_in_only
from pcloud.core.timefmt import local_day_bounds_utc, local_today
from pcloud.extensions import db
from pcloud.users.models import User

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@signed_in_only
def index() -> Any:
    start, end = local_day_bounds_utc(local_today())
    figures = {
        "users": db.session.execute(select(func.count()).select_from(User).where(User.deleted_at.is_(None))).scalar(),
        "online": db.session.execute(select(func.count(func.distinct(UserSession.user_id)))
                                     .where(live_session_filter(), UserSession.user_id.is_not(None))).scalar(),
        "actions_today": db.session.execute(select(func.count()).select_from(ActionLog).where(
            ActionLog.gmt_created_date >= start, ActionLog.gmt_created_date < end)).scalar(),
    }
    return render_template("dashboard.html", figures=figures)


@bp.route("/favicon.ico")
@public
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page links; answer with the same icon."""
    return send_from_directory(current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)
