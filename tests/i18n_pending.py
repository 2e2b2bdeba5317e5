"""English pages of roles, menus and resources while the other groups' translations are on their own branches.

Issue 24 item 10 was split among six branches (i18n-core, i18n-people, ...). A page of this group also shows text
owned by another group: the layouts and macros (i18n-core), the sign-in flash (auth, i18n-core), the data scope
names (datascope, i18n-people), the open platform's catalogue group (openplatform). Until the owner's file marks
its strings, those few exact strings are left out of `chinese_on_page`; once the owner's branch is merged (its
file marks strings) nothing is left out and the tests are the strict check the issue asks for.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import chinese_on_page

ROOT = Path(__file__).resolve().parent.parent

# owner file, the sign that its strings are marked, the Chinese it puts on this group's pages
_OWNED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("templates/macros.html", "_(", (
        "筛选", "查询", "重置", "关闭", "取消", "编辑", "保存中…", "保存", "分页", "上一页", "下一页", "每页条数",
        "条/页", "跳至", "页码", "跳转", "暂无可选项", "暂无数据", "请确认", "确定", "知道了", "全部",
        "为安全起见，已输入的密码没有保留：请修正后重新输入密码。")),
    ("templates/layouts/form.html", "_(", ("保存中…", "保存", "取消", "：")),
    ("templates/layouts/list.html", "_(", ()),
    ("pcloud/auth/views.py", "gettext", ("欢迎回来，",)),
    ("pcloud/datascope/service.py", "gettext", ("全部数据", "自定义部门", "本部门及以下", "本部门", "仅本人")),
    ("pcloud/openplatform/service.py", "N_(", ("开放平台接口目录", "号段取号（单个）", "号段取号（批量）")),
)


def _pending() -> list[str]:
    left: list[str] = []
    for path, marked, strings in _OWNED:
        if marked not in (ROOT / path).read_text(encoding="utf-8"):
            left.extend(strings)
    return sorted(set(left), key=len, reverse=True)


def english_leftovers(html: str) -> list[str]:
    """`chinese_on_page`, less the other groups' strings not yet marked on this branch (see above)."""
    import re

    for text in _pending():
        html = html.replace(text, "")
    if _pending():  # the pager's and the filter button's counts (macros.html)
        html = re.sub(r"共 \d+ 条，第 \d+ / \d+ 页|约 [\d,]+ 条（估算）|（\d+）", "", html)
    return chinese_on_page(html)
