"""基础服务 JSON API: /api/oauth/token, /sms/code, /password, /logout and /api/admin/system/adminInfo."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.access import service as access_service
from pcloud.auth import service
from pcloud.auth.schemas import AdminInfoOut, PasswordChangeArgs, SmsCodeArgs, TokenArgs, TokenOut, UnlockArgs
from pcloud.core import recorder
from pcloud.core.clientip import client_ip
from pcloud.core.envelope import respond
from pcloud.core.errors import Forbidden, PCloudError
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.recorder import action
from pcloud.core.security import allowed_before_password_change, current_principal, public, signed_in_only

blp = Blueprint("auth_api", __name__, url_prefix="/api", description="基础服务：登录、短信验证码、退出、当前用户信息")


@blp.route("/oauth/token", methods=["POST"])
@public
@action(N_("登录"))
@respond(blp, "Token", TokenOut)
@blp.arguments(TokenArgs)
def token(args: dict[str, Any]) -> dict[str, Any]:
    """登录（获取令牌）"""
    if service.grant_of(args.get("grant_type")) == "OPEN":
        recorder.as_principal(None, f"开放平台 {args.get('secure_id') or ''}".strip(), None)
    else:
        recorder.as_principal(*service.user_for_phone_hint(args.get("phone") or ""))
    try:
        tok, ttl, profile, must_change = service.sign_in(args.get("grant_type"), args, client_ip(),
                                                         request.user_agent.string)
    except PCloudError as exc:
        recorder.outcome_message(exc)  # its source and values, read in each reader's language
        raise
    return {"token": tok, "token_head": "Bearer ", "expires_in": ttl, "profile": profile,
            "password_change_required": must_change}


@blp.route("/oauth/sms/code", methods=["POST"])
@public
@action(N_("发送短信验证码"))
@respond(blp, "SmsCode")
@blp.arguments(SmsCodeArgs)
def sms_code(args: dict[str, Any]) -> None:
    """发送短信验证码"""
    service.send_sms_code(args["phone"], client_ip())
    return None


@blp.route("/oauth/password", methods=["POST"])
@signed_in_only
@allowed_before_password_change
@action(N_("修改密码"))
@respond(blp, "PasswordChange")
@blp.arguments(PasswordChangeArgs)
def change_password(args: dict[str, Any]) -> None:
    """修改本人密码（原密码 + 新密码）；本人的其他会话与令牌随之失效，当前令牌保留"""
    principal = current_principal()
    assert principal is not None
    if principal.kind != "user":
        raise Forbidden(gettext("开放平台账号没有密码"))
    service.change_own_password(principal.id, args["old_password"], args["new_password"],
                                keep_session_id=principal.session_id, ip=client_ip())
    return None


@blp.route("/oauth/logout", methods=["POST"])
@signed_in_only
@allowed_before_password_change
@action(N_("退出登录"))
@respond(blp, "Logout")
def logout() -> None:
    """退出登录（吊销当前令牌）"""
    principal = current_principal()
    assert principal is not None
    recorder.as_principal(principal.user_id, principal.name, principal.phone)
    service.sign_out(principal.token, principal, client_ip(), request.user_agent.string)
    return None


@blp.route("/admin/system/adminInfo", methods=["POST"])
@signed_in_only
@allowed_before_password_change
@respond(blp, "AdminInfo", AdminInfoOut)
def admin_info() -> dict[str, Any]:
    """当前登录用户信息（菜单树、角色编码、资源编码）"""
    principal = current_principal()
    assert principal is not None
    return access_service.admin_info(principal)


# Unlock (登录日志 and 用户管理): lift a sign-in lock at once. Here, beside the lock they lift.


@operation(blp, "/admin/system/user/<int:id>/unlock", "UserUnlock", fields.Boolean(), title=N_("用户解锁"))
def unlock_user(id: int) -> bool:  # noqa: A002 - the documented path parameter
    """解除用户手机号的登录锁定；data 为是否存在锁定或失败计数"""
    return service.unlock_user(id)[1]


@operation(blp, "/admin/log/login/unlock", "LoginUnlock", fields.Boolean(), title=N_("登录解锁"), args=UnlockArgs)
def unlock(args: dict[str, Any]) -> bool:
    """按手机号（或 secureId）或 IP 地址解除登录锁定；data 为是否存在锁定或失败计数"""
    return service.unlock(phone=args.get("phone"), client_ip=args.get("client_ip"))
