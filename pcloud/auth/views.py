"""Sign-in page (password and SMS-code tabs), sign-out and my profile."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import login_user, logout_user

from pcloud.auth import service
from pcloud.auth.forms import ChangePasswordForm, PasswordLoginForm, ProfileForm, SmsLoginForm, SmsSendForm, UnlockForm
from pcloud.core import recorder
from pcloud.core.clientip import client_ip
from pcloud.core.errors import PCloudError
from pcloud.core.forms import confirmed_action, form_status, mark_failed
from pcloud.core.messages import N_
from pcloud.core.recorder import action
from pcloud.core.security import (
    AFTER_PASSWORD_CHANGE,
    SIGNED_OUT,
    allowed_before_password_change,
    current_principal,
    mirrors,
    public,
    signed_in_only,
)
from pcloud.core.views import require_unchanged_since_shown, watch_record
from pcloud.uploads import service as uploads
from pcloud.users import service as user_service

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target) and not urlsplit(target).netloc):
        return target
    return url_for("dashboard.index")


def _render_login(pw: PasswordLoginForm, sms: SmsLoginForm, tab: str, status: int = 200) -> Any:
    return render_template("auth/login.html", pw_form=pw, sms_form=sms, send_form=SmsSendForm(),
                           tab=tab), status


@bp.route("/login", methods=["GET", "POST"])
@public
@action(N_("登录"))
def login() -> Any:
    tab = request.values.get("tab", "password")
    pw_form = PasswordLoginForm(prefix="pw")
    sms_form = SmsLoginForm(prefix="sms")
    if request.method == "GET":
        if current_principal():
            return redirect(_safe_next(request.args.get("next")))
        pw_form.next.data = sms_form.next.data = request.args.get("next", "")
        return _render_login(pw_form, sms_form, tab)
    form: PasswordLoginForm | SmsLoginForm = sms_form if tab == "sms" else pw_form
    if not form.validate_on_submit():
        recorder.refused()
        recorder.as_principal(*service.user_for_phone_hint(form.phone.data or ""))
        return _render_login(pw_form, sms_form, tab, 422)
    recorder.as_principal(*service.user_for_phone_hint(form.phone.data or ""))
    data = {"phone": form.phone.data}
    if tab == "sms":
        data["verify_code"] = sms_form.verify_code.data
    else:
        data["password"] = pw_form.password.data
    try:
        token, _ttl, _profile, _must_change = service.sign_in("SMS" if tab == "sms" else "ADMIN", data,
                                                              client_ip(), request.user_agent.string, kind="web")
    except PCloudError as exc:
        recorder.refused(exc)
        flash(exc.msg, "danger")
        return _render_login(pw_form, sms_form, tab, exc.code)
    principal = service.load_principal(token, "web")
    if principal is None:  # disabled, deleted or forced offline in the instant since its session was stored
        msg = service.session_end_message(token, "web") or gettext(service.END_DEFAULT)
        recorder.refused(msg)
        flash(msg, "danger")
        return _render_login(pw_form, sms_form, tab, 401)
    session.clear()  # nothing from before sign-in survives into the signed-in session
    login_user(principal)
    recorder.outcome_message(N_("登录成功"))
    flash(gettext("欢迎回来，%(name)s", name=principal.name), "success")
    return redirect(_safe_next(form.next.data))


def sign_in_page_expired() -> Any:
    """The CSRF check refused a sign-in (its page outlived its cookie: the browser restarted, cookies cleared):
    the sign-in page again, the phone, the code and next kept, with a fresh token and the reason; never a bare
    400 that loses them."""
    flash(gettext("页面已过期，请重新登录"), "warning")
    return _render_login(PasswordLoginForm(prefix="pw"), SmsLoginForm(prefix="sms"),
                         request.values.get("tab", "password"), 400)


@bp.route("/login/sms-code", methods=["POST"])
@public
@action(N_("发送短信验证码"))
def send_sms_code() -> Any:
    """Ask for a code from the SMS tab; answers JSON for the page's script (countdown) or redirects."""
    form = SmsSendForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    message, ok, status = gettext("验证码已发送，请查收短信"), True, 200
    if not form.validate_on_submit():
        message, ok, status = gettext("请输入手机号"), False, 422
    else:
        try:
            service.send_sms_code(form.phone.data, client_ip())
        except PCloudError as exc:
            message, ok, status = exc.msg, False, exc.code  # the refusal's own status (429 when too frequent)
    if not ok:  # the operation log records the refusal, whatever the page answers
        recorder.refused(message)
    if wants_json:
        return {"ok": ok, "msg": message}, status
    flash(message, "success" if ok else "danger")
    return redirect(url_for("auth.login", tab="sms"))


@bp.route("/logout", methods=["POST"])
@public
@action(N_("退出登录"))
def logout() -> Any:
    principal = current_principal()
    if principal is not None:
        recorder.as_principal(principal.user_id, principal.name, principal.phone)
        service.sign_out(principal.token, principal, client_ip(), request.user_agent.string)
    logout_user()
    if principal is not None:  # the other tabs of this browser: their next page says why they are signed out
        session[SIGNED_OUT] = True
    flash(gettext("您已安全退出"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@signed_in_only
@allowed_before_password_change
@action(N_("修改个人信息"))
def profile() -> Any:
    principal = current_principal()
    assert principal is not None
    if principal.kind != "user":
        return redirect(url_for("dashboard.index"))
    user = user_service.get_user(principal.id)
    watch_record(user)  # the profile form carries its fingerprint: an administrator's change meanwhile is no loss
    form = ProfileForm(obj=user, prefix="profile")
    pw_form = ChangePasswordForm(prefix="pw")
    if request.method == "POST":
        which = request.form.get("which")
        if which == "password":
            if pw_form.validate_on_submit():
                try:
                    service.change_own_password(user.id, pw_form.old_password.data, pw_form.new_password.data,
                                                keep_session_id=principal.session_id, ip=client_ip())
                    flash(gettext("密码已修改"), "success")
                    wanted = session.pop(AFTER_PASSWORD_CHANGE, None)  # held here on the way to it: go on there
                    if principal.password_change_required and wanted:
                        return redirect(_safe_next(wanted))
                    return redirect(url_for("auth.profile"))
                except PCloudError as exc:  # a wrong old password, a weak new one, or the sign-in lock (429)
                    new_one = "newPassword" in (exc.errors or {})
                    (pw_form.new_password if new_one else pw_form.old_password).errors = [exc.msg]
                    mark_failed(exc)
        elif form.validate_on_submit():
            avatar = form.avatar.data
            try:
                require_unchanged_since_shown(form)
                if form.avatar_file.data:  # saved with the profile in one transaction: a refusal keeps neither
                    avatar = uploads.add_image(form.avatar_file.data.stream, principal, field="avatarFile")
                user_service.modify_user({"id": user.id, "name": form.name.data, "avatar": avatar}, principal)
                flash(gettext("个人信息已保存"), "success")
                return redirect(url_for("auth.profile"))
            except PCloudError as exc:
                errors = exc.errors or {}
                if "avatarFile" in errors:
                    form.avatar_file.errors = [exc.msg]
                elif "avatar" in errors:
                    form.avatar.errors = list(errors["avatar"])
                else:
                    flash(exc.msg, "danger")
                mark_failed(exc)
    return render_template("auth/profile.html", form=form, pw_form=pw_form, user=user,
                           item=user, must_change=principal.password_change_required), form_status()


# Unlock buttons: on the user page (a user's phone) and on the login log (a row's phone or address).


@bp.route("/system/user/<int:user_id>/unlock", methods=["POST"])
@action(N_("用户解锁"))
@mirrors("auth_api.unlock_user")
def unlock_user(user_id: int) -> Any:
    def run() -> str:
        name, had = service.unlock_user(user_id)
        if had:
            return gettext("已解除「%(name)s」的登录锁定", name=name)
        return gettext("「%(name)s」没有登录锁定或失败记录", name=name)

    return confirmed_action(run, "/system/user", url_for("users.index"))


@bp.route("/monitor/loginlog/unlock", methods=["POST"])
@action(N_("登录解锁"))
@mirrors("auth_api.unlock")
def unlock() -> Any:
    form = UnlockForm()

    def run() -> str:
        phone, ip = (form.phone.data or "").strip(), (form.client_ip.data or "").strip()
        had = service.unlock(phone=phone or None, client_ip=ip or None)
        if phone:
            if had:
                return gettext("已解除手机号「%(phone)s」的登录锁定", phone=phone)
            return gettext("手机号「%(phone)s」没有登录锁定或失败记录", phone=phone)
        if had:
            return gettext("已解除地址「%(ip)s」的登录锁定", ip=ip)
        return gettext("地址「%(ip)s」没有登录锁定或失败记录", ip=ip)

    return confirmed_action(run, "/monitor/loginlog", url_for("loginlog.index"), form=form)


@bp.app_template_global()
def locked_phones(phones: list[str]) -> set[str]:
    """Which of a list page's phones have failures counted or a lock (their rows show 解锁): one query."""
    return service.phones_with_failures(phones)


@bp.app_template_global()
def unlock_offers(rows: list[Any]) -> set[tuple[str, str]]:
    """Which of a list page's rows' phones and client addresses the caller may unlock: ("phone" | "client_ip",
    value) pairs, as auth.service.unlock decides."""
    return service.unlock_offers([r.phone for r in rows if r.phone], [r.client_ip for r in rows if r.client_ip])
