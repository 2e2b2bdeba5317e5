"""开放平台 pages: accounts under /open/account (key shown once, status, reset key, delete, grants) and the
interface catalogue under /open/resource."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm, is_gone
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.sorting import sort_args
from pcloud.core.views import RecordPages
from pcloud.openplatform import service
from pcloud.openplatform.forms import AccountForm, EntryForm, EntryNameForm, GrantForm
from pcloud.openplatform.schemas import AccountPageArgs, EntryPageArgs

bp = Blueprint("openplatform", __name__, url_prefix="/open")
account_pages = RecordPages(bp, lazy_gettext("开放账号"), "openplatform/account_form.html", index="accounts")
entry_pages = RecordPages(bp, lazy_gettext("接口"), "openplatform/entry_form.html", index="entries")


# The filter bars' inputs, read through the API's page schemas (core.pages.page_filters).
ACCOUNT_FILTERS = {"name": Filter("name", lazy_gettext("账号名称")), "status": Filter("status", lazy_gettext("状态"))}
ENTRY_FILTERS = {"name": Filter("name", lazy_gettext("接口名称"))}


@bp.route("/account/")
def accounts() -> Any:
    page, page_size = list_args()
    loaded = page_filters(AccountPageArgs, ACCOUNT_FILTERS)
    name, status = (loaded.get("name") or "").strip(), loaded.get("status")
    result = service.page_accounts({"name": name, "status": status, **sort_args(service.ACCOUNT_SORTS)}, page,
                                   page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("openplatform/accounts.html", page=result, name=name, status=status,
                           states=service.state_names(), page_url=page_url,
                           beyond=service.account_refusals([a["id"] for a in result.items]))


def _key_page(account: Any, key: str, created: bool) -> Any:
    resp = render_template("openplatform/key.html", account=account, key=key, created=created)
    return resp, 200, {"Cache-Control": "no-store"}


@bp.route("/account/new", methods=["GET", "POST"])
@action(N_("开放账号新增"))
@mirrors("openplatform_api.account_create")
def create_account() -> Any:
    form = AccountForm()

    def save() -> Any:  # the key is shown once, on its own page, instead of going back to the list
        account, key = service.create_account({"name": form.name.data, "remark": form.remark.data})
        return _key_page(account, key, created=True)

    return account_pages.form(form, save, account=None, refusal=None)


@bp.route("/account/<int:account_id>/edit", methods=["GET", "POST"])
@action(N_("开放账号修改"))
@mirrors("openplatform_api.account_modify")
def edit_account(account_id: int) -> Any:
    account = account_pages.record(service.get_account, account_id)
    refusal = None if is_gone(account) else service.account_refusal(account)
    if refusal:  # beyond the editor's reach: shown read-only; a save is the service's refusal (403)
        return account_pages.form(ConfirmForm(), lambda: service.modify_account({"id": account.id}).name,
                                  account=account, refusal=refusal, states=service.state_names())
    form = account_pages.edit_form(AccountForm, account)

    def save() -> str:
        data = {"id": account.id, "name": form.name.data, "remark": form.remark.data}
        return gettext("开放账号「%(name)s」已保存", name=service.modify_account(data).name)

    return account_pages.form(form, save, account=account, refusal=None)


_STATUS_WORDS = {"enable": (0, N_("开放账号「%(name)s」已启用")),
                 "disable": (1, N_("开放账号「%(name)s」已禁用，其令牌已全部失效")),
                 "freeze": (2, N_("开放账号「%(name)s」已冻结，其令牌已全部失效"))}


def _change_status(account_id: int, change: str) -> Any:
    status, done = _STATUS_WORDS[change]
    return account_pages.confirm(lambda: gettext(done, name=service.set_status(account_id, status).name))


# One operation (the account's status), three buttons: each its own URL so each is logged and audited alone.
@bp.route("/account/<int:account_id>/enable", methods=["POST"])
@action(N_("开放账号状态"))
@mirrors("openplatform_api.account_status")
def enable(account_id: int) -> Any:
    return _change_status(account_id, "enable")


@bp.route("/account/<int:account_id>/disable", methods=["POST"])
@action(N_("开放账号状态"))
@mirrors("openplatform_api.account_status")
def disable(account_id: int) -> Any:
    return _change_status(account_id, "disable")


@bp.route("/account/<int:account_id>/freeze", methods=["POST"])
@action(N_("开放账号状态"))
@mirrors("openplatform_api.account_status")
def freeze(account_id: int) -> Any:
    return _change_status(account_id, "freeze")


@bp.route("/account/<int:account_id>/reset-key", methods=["POST"])
@action(N_("开放账号重置密钥"))
@mirrors("openplatform_api.account_reset_key")
def reset_key(account_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    account = service.get_account(account_id)
    key = service.reset_key(account.id)
    return _key_page(account, key, created=False)


@bp.route("/account/<int:account_id>/delete", methods=["POST"])
@action(N_("开放账号删除"))
@mirrors("openplatform_api.account_delete")
def delete_account(account_id: int) -> Any:
    return account_pages.confirm(
        lambda: gettext("开放账号「%(name)s」已删除，其令牌已全部失效", name=service.delete_account(account_id).name))


@bp.route("/account/<int:account_id>/grant", methods=["GET", "POST"])
@action(N_("开放接口授权"))
@mirrors("openplatform_api.resource_grant")
def grant(account_id: int) -> Any:
    account = account_pages.record(service.get_account, account_id)
    entries = service.list_entries()
    form = GrantForm()
    form.entry_ids.choices = [(e.id, translated(e.name)) for e in entries]
    if request.method == "GET":
        form.entry_ids.data = sorted(service.granted_entry_ids(account))

    def save() -> str:
        service.grant(account.id, form.entry_ids.data or [])
        return gettext("开放账号「%(name)s」的接口授权已保存，下一次请求即生效", name=account.name)

    granted = None if is_gone(account) else {"entry_ids": service.granted_entry_ids(account)}
    return account_pages.form(form, save, template="openplatform/grant.html", account=account, stored=granted,
                              entries={e.id: e for e in entries},
                              locked=set() if is_gone(account) else service.locked_entry_ids(
                                  account, [e.id for e in entries]),
                              refusal=None if is_gone(account) else service.account_refusal(account))


# ---------------------------------------------------------------------------------------------
# The interface catalogue


@bp.route("/resource/")
def entries() -> Any:
    page, page_size = list_args()
    name = (page_filters(EntryPageArgs, ENTRY_FILTERS).get("name") or "").strip()
    result = service.page_entries({"name": name}, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("openplatform/entries.html", page=result, name=name, page_url=page_url,
                           beyond=service.beyond_reach_entry_ids([e["id"] for e in result.items]))


def _entry_data(form: EntryForm) -> dict[str, Any]:
    return {"name": form.name.data, "resource_url": form.resource_url.data, "method": form.method.data}


@bp.route("/resource/new", methods=["GET", "POST"])
@action(N_("开放接口新增"))
@mirrors("openplatform_api.resource_create")
def create_entry() -> Any:
    form = EntryForm()
    return entry_pages.form(form, lambda: gettext("接口「%(name)s」已加入接口目录",
                                                  name=service.create_entry(_entry_data(form)).name), entry=None,
                           refusal=None, built_in=False)


@bp.route("/resource/<int:entry_id>/edit", methods=["GET", "POST"])
@action(N_("开放接口修改"))
@mirrors("openplatform_api.resource_modify")
def edit_entry(entry_id: int) -> Any:
    entry = entry_pages.record(service.get_entry, entry_id)
    refusal = None if is_gone(entry) else service.entry_refusal(entry)
    built_in = service.is_builtin_entry(entry)  # its path and method are fixed: shown, not in the form
    if refusal:  # beyond the editor's reach: shown read-only; a save is the service's refusal (403)
        return entry_pages.form(ConfirmForm(), lambda: service.modify_entry({"id": entry.id}).name, entry=entry,
                                refusal=refusal, built_in=built_in)
    form = entry_pages.edit_form(EntryNameForm if built_in else EntryForm, entry)

    def save() -> str:
        data = {"name": form.name.data} if built_in else _entry_data(form)
        return gettext("接口「%(name)s」已保存", name=service.modify_entry({"id": entry.id, **data}).name)

    return entry_pages.form(form, save, entry=entry, refusal=None, built_in=built_in)


@bp.route("/resource/<int:entry_id>/delete", methods=["POST"])
@action(N_("开放接口删除"))
@mirrors("openplatform_api.resource_delete")
def delete_entry(entry_id: int) -> Any:
    return entry_pages.confirm(lambda: gettext("接口「%(name)s」已从接口目录删除",
                                               name=translated(service.delete_entry(entry_id).name)),
                               gettext("不能删除："))
