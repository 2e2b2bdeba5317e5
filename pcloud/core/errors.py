"""Domain errors raised by services; both front doors turn them into an envelope or a flash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext

from pcloud.core.messages import N_, said_now

T = TypeVar("T")


class PCloudError(Exception):
    code = 500
    default_msg: str = N_("系统异常")
    # The `code` in PCLOUD_API_ERRORS=body when it is not the usual mapping of `code` (core.envelope.body_code).
    body_code: int | None = None
    # What a log stores of the message (core.i18n.stored: the operation log's `msg`, a login-log reason), read
    # later in its reader's language by the `translated` filter: its source string and values (core.i18n.said);
    # None: the message's own, as `gettext` said it (a core.messages.Said remembers them).
    source_msg: str | None = None

    def __init__(self, msg: str | None = None, errors: dict[str, Any] | None = None):
        # said now, in the request's language (the class's default too, remembering its source)
        self.msg = said_now(msg) if msg else gettext(self.default_msg)
        super().__init__(self.msg)
        self.errors = errors


class Invalid(PCloudError):
    """A field is wrong (422). `errors` maps field names (camelCase, as on the wire) to messages."""

    code = 422
    default_msg: str = N_("参数校验失败")

    def __init__(self, msg: str | None = None, errors: dict[str, Any] | None = None, field: str | None = None):
        if field and errors is None:
            errors = {field: [msg or gettext(self.default_msg)]}
        super().__init__(msg, errors)


class Unauthorized(PCloudError):
    code = 401
    default_msg: str = N_("未登录或登录已失效")


class BadCredentials(Unauthorized):
    """A sign-in refused for its phone, password, key or SMS code: 401, but in body mode 1000, since
    the original clients read a 401 as "signed out" and would not show why (issue 25)."""

    body_code = 1000


class Forbidden(PCloudError):
    code = 403
    default_msg: str = N_("没有权限")


class NotFound(PCloudError):
    code = 404
    default_msg: str = N_("数据不存在")


class Conflict(PCloudError):
    code = 409
    default_msg: str = N_("操作与现有数据冲突")


class TooManyRequests(PCloudError):
    code = 429
    default_msg: str = N_("尝试次数过多，请稍后再试")


class Unavailable(PCloudError):
    code = 503
    default_msg: str = N_("服务暂不可用，请稍后再试")


class FieldErrors:
    """Collect the field errors of several checks and raise them once, so a form or an API principal
    sees every wrong field together (a bad phone no longer hides a weak password).

        errors = FieldErrors()
        phone = errors.run(_clean_phone, data["phone"])
        errors.run(_check_password, data["password"])
        errors.raise_if_any()

    Only errors naming fields are collected (Invalid, or a Conflict such as a taken phone); any other
    refusal (403, 404) propagates at once, since the other fields no longer matter.
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.caught: list[PCloudError] = []

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """The check's result, or None after recording its field error."""
        try:
            return check(*args, **kwargs)
        except (Invalid, Conflict) as exc:
            if not exc.errors:
                raise
            self.add(exc)
            return None

    def check(self, ok: bool, field: str, msg: str) -> bool:
        """Record `msg` against `field` unless `ok`; returns `ok`."""
        if not ok:
            self.add(Invalid(msg, field=field))
        return ok

    def add(self, exc: PCloudError) -> None:
        self.caught.append(exc)
        for key, messages in (exc.errors or {}).items():
            self.errors.setdefault(key, []).extend(messages if isinstance(messages, list) else [messages])

    def __bool__(self) -> bool:
        return bool(self.caught)

    def raise_if_any(self) -> None:
        """One error: raised as it was (a taken phone stays a 409); several: one 422 naming them all."""
        if len(self.caught) == 1:
            raise self.caught[0]
        if self.caught:
            msg = gettext("；").join(dict.fromkeys(exc.msg for exc in self.caught))
            raise Invalid(msg, errors=self.errors)
